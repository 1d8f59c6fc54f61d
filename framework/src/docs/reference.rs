//! The reference sections of a page (arguments, attributes, identity) from a
//! schema, with the notes a template adds to entries.

use std::collections::{BTreeMap, BTreeSet};

use super::PageKind;
use super::text::{WIDTH, anchor, hcl_literal, sentence, type_label, wrap};
use crate::schema::{Attribute, Block, IdentitySchema, NestedBlock, Nesting};
use crate::value::Type;

/// The block's rules over several attributes, a paragraph after its
/// entries; nothing for a block without rules.
fn rules_text(block: &Block) -> String {
    if block.rules.is_empty() {
        return String::new();
    }
    let lines: Vec<String> = block.rules.iter().map(|r| r.description()).collect();
    format!("\n{}\n", lines.join(" "))
}

/// Prose for entries, keyed by dotted path; records which were used.
#[derive(Debug, Default)]
pub(super) struct Notes {
    pub(super) text: BTreeMap<String, String>,
    pub(super) used: BTreeSet<String>,
}

impl Notes {
    pub(super) fn take(&mut self, path: &str) -> Option<String> {
        let t = self.text.get(path)?.clone();
        self.used.insert(path.to_string());
        Some(t)
    }
}

/// The validators' descriptions as one sentence.
pub(super) fn checks(a: &Attribute) -> Option<String> {
    let all: Vec<String> = a
        .behaviour
        .validators
        .0
        .iter()
        .map(|v| v.description())
        .collect();
    (!all.is_empty()).then(|| format!("Checked at plan: {}.", all.join("; ")))
}

/// Whether an attribute's type holds objects (it gets its own subsection).
pub(super) fn object_fields(ty: &Type) -> Option<&BTreeMap<String, Type>> {
    match ty {
        Type::Object(f) => Some(f),
        Type::List(t) | Type::Set(t) | Type::Map(t) => object_fields(t),
        _ => None,
    }
}

/// The block an object attribute's subsection documents: its declared one,
/// or one made from the type (without descriptions).
pub(super) fn object_block(a: &Attribute) -> Option<Block> {
    let fields = object_fields(&a.ty)?;
    Some(a.nested.as_deref().cloned().unwrap_or_else(|| {
        Block {
            attributes: fields
                .iter()
                .map(|(n, t)| Attribute::computed(n, t.clone(), ""))
                .collect(),
            ..Block::default()
        }
    }))
}

pub(super) fn join_path(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

/// A subsection still to render: its path, its block and how its elements nest.
pub(super) struct Sub {
    pub(super) path: String,
    pub(super) block: Block,
    pub(super) lead: String,
    /// Inside an object attribute: only types, no Required/Optional.
    pub(super) in_object: bool,
}

pub(super) struct Renderer<'a> {
    pub(super) kind: PageKind,
    pub(super) notes: &'a mut Notes,
}

impl Renderer<'_> {
    /// An entry: its description, then the template's note on it, then
    /// what the schema declares besides (`rest`).
    pub(super) fn bullet(
        &mut self,
        path: &str,
        name: &str,
        label: &[String],
        description: &str,
        rest: Vec<String>,
    ) -> String {
        let mut text = vec![sentence(description)];
        text.extend(self.notes.take(path));
        text.extend(rest);
        text.retain(|t| !t.is_empty());
        let head = format!("* `{name}` - ({}) ", label.join(", "));
        wrap(&head, &text.join(" "), 2, WIDTH)
            .trim_end()
            .to_string()
            + "\n"
    }

    pub(super) fn see_below(path: &str) -> String {
        format!("See [`{path}`](#{}) below.", anchor(path))
    }

    /// One attribute's entry; queues its object subsection.
    pub(super) fn attribute(
        &mut self,
        prefix: &str,
        a: &Attribute,
        in_object: bool,
        subs: &mut Vec<Sub>,
    ) -> String {
        let path = join_path(prefix, &a.name);
        let mut label = vec![];
        if !in_object {
            if a.required {
                label.push("Required".to_string());
            } else if a.optional {
                label.push("Optional".to_string());
            }
        }
        label.push(type_label(&a.ty));
        if a.sensitive {
            label.push("Sensitive".into());
        }
        let mut parts = vec![];
        let b = &a.behaviour;
        if b.requires_replace
            && !a
                .description
                .to_lowercase()
                .contains("forces a new resource")
        {
            parts.push("Changing it forces a new resource.".into());
        }
        match &b.default {
            Some(d) => parts.push(format!("Default: `{}`.", hcl_literal(d))),
            None if a.optional && a.computed && !in_object => {
                parts.push("When not set, the provider computes it.".into())
            }
            None => {}
        }
        parts.extend(checks(a));
        if let Some(block) = object_block(a) {
            parts.push(Self::see_below(&path));
            let lead = match &a.ty {
                Type::List(_) | Type::Set(_) => format!("Each element of `{path}` has:"),
                Type::Map(_) => format!("Each value of `{path}` has:"),
                _ => format!("`{path}` has:"),
            };
            subs.push(Sub {
                path: path.clone(),
                block,
                lead,
                in_object: true,
            });
        }
        self.bullet(&path, &a.name, &label, &a.description, parts)
    }

    pub(super) fn nested_block(
        &mut self,
        prefix: &str,
        nb: &NestedBlock,
        subs: &mut Vec<Sub>,
    ) -> String {
        let path = join_path(prefix, &nb.type_name);
        let (label, lead) = match nb.nesting {
            Nesting::Single | Nesting::Group => ("Block", format!("The `{path}` block takes:")),
            Nesting::List => ("Block List", format!("Each `{path}` block takes:")),
            Nesting::Set => ("Block Set", format!("Each `{path}` block takes:")),
            Nesting::Map => ("Block Map", format!("Each `{path}` block takes:")),
        };
        let mut label = vec![
            if nb.min_items > 0 {
                "Required"
            } else {
                "Optional"
            }
            .to_string(),
            label.to_string(),
        ];
        if nb.max_items > 0 && nb.nesting != Nesting::Single {
            label.push(format!("Max: {}", nb.max_items));
        }
        let parts = vec![Self::see_below(&path)];
        subs.push(Sub {
            path: path.clone(),
            block: nb.block.clone(),
            lead,
            in_object: false,
        });
        self.bullet(&path, &nb.type_name, &label, &nb.block.description, parts)
    }

    /// The subsections queued, each followed by its own.
    pub(super) fn subsections(&mut self, mut subs: Vec<Sub>) -> String {
        let mut out = String::new();
        let mut i = 0;
        while i < subs.len() {
            let mut more = vec![];
            let sub = &subs[i];
            out.push_str(&format!("\n### `{}`\n\n", sub.path));
            out.push_str(&sub.lead);
            out.push_str("\n\n");
            let (path, block, in_object) = (sub.path.clone(), sub.block.clone(), sub.in_object);
            for a in &block.attributes {
                out.push_str(&self.attribute(&path, a, in_object, &mut more));
            }
            for nb in &block.blocks {
                out.push_str(&self.nested_block(&path, nb, &mut more));
            }
            out.push_str(&rules_text(&block));
            // Depth first: a subsection's own subsections follow it.
            subs.splice(i + 1..i + 1, more);
            i += 1;
        }
        out
    }

    pub(super) fn arguments(&mut self, block: &Block) -> String {
        let mut out = String::from("## Argument Reference\n\n");
        match self.kind {
            PageKind::Provider => {
                out.push_str("The `provider` block takes:\n\n");
            }
            PageKind::ListResource => {
                out.push_str("The `config` block of a `list` block is optional and takes:\n\n");
            }
            PageKind::Action => {
                out.push_str("The `config` block of an `action` block takes:\n\n");
            }
            _ => {}
        }
        let args: Vec<&Attribute> = block
            .attributes
            .iter()
            .filter(|a| a.required || a.optional)
            .collect();
        if args.is_empty() && block.blocks.is_empty() {
            out.push_str(&format!("This {} takes no arguments.\n", self.kind.what()));
            return out;
        }
        let mut subs = vec![];
        for a in args {
            out.push_str(&self.attribute("", a, false, &mut subs));
        }
        for nb in &block.blocks {
            out.push_str(&self.nested_block("", nb, &mut subs));
        }
        out.push_str(&rules_text(block));
        out.push_str(&self.subsections(subs));
        out
    }

    pub(super) fn attributes(&mut self, block: &Block) -> String {
        let mut out = String::from("## Attribute Reference\n\n");
        let computed: Vec<&Attribute> = block
            .attributes
            .iter()
            .filter(|a| !(a.required || a.optional))
            .collect();
        let has_args = block.attributes.len() > computed.len() || !block.blocks.is_empty();
        if computed.is_empty() {
            out.push_str("No attributes besides the arguments above.\n");
            return out;
        }
        out.push_str(if has_args {
            "In addition to the arguments above, these attributes are exported:\n\n"
        } else {
            "These attributes are exported:\n\n"
        });
        let mut subs = vec![];
        for a in computed {
            out.push_str(&self.attribute("", a, false, &mut subs));
        }
        out.push_str(&self.subsections(subs));
        out
    }

    pub(super) fn identity(&mut self, identity: &IdentitySchema) -> String {
        let mut out = String::new();
        for a in &identity.attributes {
            let label = vec![
                if a.required_for_import {
                    "Required for import"
                } else {
                    "Optional for import"
                }
                .to_string(),
                type_label(&a.ty),
            ];
            let path = format!("identity.{}", a.name);
            out.push_str(&self.bullet(&path, &a.name, &label, &a.description, vec![]));
        }
        out
    }
}

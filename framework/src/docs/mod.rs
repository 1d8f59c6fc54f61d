//! Registry docs generated from the live schema.
//!
//! A provider keeps one template per page (`templates/index.md.tmpl`,
//! `templates/resources/<type>.md.tmpl`, `templates/data-sources/<type>.md.tmpl`,
//! `templates/list-resources/<type>.md.tmpl`, `templates/actions/<type>.md.tmpl`,
//! and any `templates/guides/*.md.tmpl`)
//! holding the prose; [`generate`] renders the schema of every type the
//! [`Provider`] serves into its template and returns the pages of `docs/`.
//! A type without a template, a template without a type and a note about an
//! attribute the schema does not have are errors, so nothing ships
//! undocumented and no page documents what is gone.
//!
//! Placeholders, each `{{...}}` (anything else in `{{ }}` is an error):
//!
//! - `{{name}}`: the type's name (the provider's name on the index and guides);
//! - `{{arguments}}`: `## Argument Reference`, each argument with its type,
//!   Required/Optional, Sensitive, default, whether it forces a new resource,
//!   what its validators check, and a subsection per nested block or object;
//! - `{{attributes}}`: `## Attribute Reference`, the computed attributes;
//! - `{{schema}}`: both;
//! - `{{identity}}`: the identity attributes (a resource with an identity);
//! - `{{example "examples/.../file.tf"}}`: the file (relative to the
//!   repository), fenced;
//! - `{{note path}}` text `{{end}}`: prose added to the entry of `path`
//!   (`phone_ids`, `timeouts.create`, `jobs.job_id`) wherever it is rendered;
//!   the note itself is not output where it is written.
//!
//! The output is deterministic: the schema's declaration order, no clock.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::resource::Provider;
use crate::schema::{IdentitySchema, Schema};

mod reference;
mod text;

use reference::{Notes, Renderer};
pub use text::{anchor, hcl_literal, type_label};

/// Where a page sits and what it documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageKind {
    Provider,
    Resource,
    DataSource,
    ListResource,
    /// An action type (its `config` block's schema).
    Action,
    /// An ephemeral resource type (Terraform 1.10+).
    EphemeralResource,
    /// Prose only (`templates/guides/`).
    Guide,
}

impl PageKind {
    /// The folder under `docs/` (and `templates/`).
    pub fn dir(self) -> &'static str {
        match self {
            PageKind::Provider => "",
            PageKind::Resource => "resources",
            PageKind::DataSource => "data-sources",
            PageKind::ListResource => "list-resources",
            PageKind::Action => "actions",
            PageKind::EphemeralResource => "ephemeral-resources",
            PageKind::Guide => "guides",
        }
    }

    fn what(self) -> &'static str {
        match self {
            PageKind::Provider => "provider",
            PageKind::Resource => "resource",
            PageKind::DataSource => "data source",
            PageKind::ListResource => "list resource",
            PageKind::Action => "action",
            PageKind::EphemeralResource => "ephemeral resource",
            PageKind::Guide => "guide",
        }
    }
}

/// What a page documents.
pub struct PageSchema<'a> {
    pub kind: PageKind,
    /// The type's name, or the provider's on the index and guides.
    pub name: &'a str,
    pub schema: Option<&'a Schema>,
    pub identity: Option<&'a IdentitySchema>,
}

/// Why docs could not be generated; each names the template or type at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocsErrors(pub Vec<String>);

impl std::fmt::Display for DocsErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for e in &self.0 {
            writeln!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for DocsErrors {}

/// Splits the `{{note path}} ... {{end}}` blocks out of a template.
fn take_notes(template: &str, errors: &mut Vec<String>, at: &str) -> (String, Notes) {
    let mut notes = Notes::default();
    let mut rest = template;
    let mut out = String::new();
    while let Some(start) = rest.find("{{note ") {
        out.push_str(&rest[..start]);
        let after = &rest[start + "{{note ".len()..];
        let Some(close) = after.find("}}") else {
            errors.push(format!("{at}: `{{{{note` without `}}}}`"));
            return (out, notes);
        };
        let path = after[..close].trim().trim_matches('"').to_string();
        let body_start = &after[close + 2..];
        let Some(end) = body_start.find("{{end}}") else {
            errors.push(format!("{at}: `{{{{note {path}}}}}` without `{{{{end}}}}`"));
            return (out, notes);
        };
        let text = body_start[..end]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if notes.text.insert(path.clone(), text).is_some() {
            errors.push(format!("{at}: two notes for `{path}`"));
        }
        rest = &body_start[end + "{{end}}".len()..];
        // A note on lines of its own leaves no blank lines behind.
        if out.ends_with('\n') || out.is_empty() {
            rest = rest.strip_prefix('\n').unwrap_or(rest);
        }
    }
    out.push_str(rest);
    (out, notes)
}

/// The fenced code block of an example file.
fn example_block(root: &Path, rel: &str) -> Result<String, String> {
    let text =
        std::fs::read_to_string(root.join(rel)).map_err(|e| format!("cannot read {rel}: {e}"))?;
    let lang = match Path::new(rel).extension().and_then(|e| e.to_str()) {
        Some("tf" | "hcl") => "terraform",
        Some("sh") => "shell",
        Some("json") => "json",
        _ => "text",
    };
    Ok(format!("```{lang}\n{}\n```", text.trim_end()))
}

/// What a rendered page is missing: its schema (arguments, and attributes
/// when it has computed ones), and notes that documented nothing.
fn check_complete(
    page: &PageSchema<'_>,
    at: &str,
    (rendered_args, rendered_attrs): (bool, bool),
    notes: &Notes,
    errors: &mut Vec<String>,
) {
    if let Some(s) = page.schema {
        if !rendered_args {
            errors.push(format!(
                "{at}: the page of {} must render its schema: add `{{{{schema}}}}` (or `{{{{arguments}}}}`)",
                page.name
            ));
        }
        let has_computed = s
            .block
            .attributes
            .iter()
            .any(|a| !(a.required || a.optional));
        if has_computed && !rendered_attrs {
            errors.push(format!(
                "{at}: {} has computed attributes: add `{{{{attributes}}}}` (or `{{{{schema}}}}`)",
                page.name
            ));
        }
    }
    for path in notes.text.keys().filter(|p| !notes.used.contains(*p)) {
        errors.push(format!(
            "{at}: `{{{{note {path}}}}}` documents nothing in the schema of {}",
            page.name
        ));
    }
}

/// Renders one template. `at` names it in errors.
pub fn render(
    template: &str,
    page: &PageSchema<'_>,
    root: &Path,
    at: &str,
) -> Result<String, DocsErrors> {
    let mut errors = vec![];
    let (template, mut notes) = take_notes(template, &mut errors, at);
    let mut out = String::new();
    let mut rest = template.as_str();
    let mut rendered_args = false;
    let mut rendered_attrs = false;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(close) = after.find("}}") else {
            errors.push(format!("{at}: `{{{{` without `}}}}`"));
            rest = "";
            break;
        };
        let inner = after[..close].trim();
        rest = &after[close + 2..];
        let (word, arg) = inner.split_once(' ').unwrap_or((inner, ""));
        let arg = arg.trim().trim_matches('"');
        let mut r = Renderer {
            kind: page.kind,
            notes: &mut notes,
        };
        match (word, page.schema) {
            ("name", _) => out.push_str(page.name),
            ("arguments", Some(s)) => {
                rendered_args = true;
                out.push_str(r.arguments(&s.block).trim_end());
            }
            ("attributes", Some(s)) => {
                rendered_attrs = true;
                out.push_str(r.attributes(&s.block).trim_end());
            }
            ("schema", Some(s)) => {
                rendered_args = true;
                rendered_attrs = true;
                let args = r.arguments(&s.block);
                let attrs = r.attributes(&s.block);
                out.push_str(args.trim_end());
                out.push_str("\n\n");
                out.push_str(attrs.trim_end());
            }
            ("identity", _) => match page.identity {
                Some(id) => out.push_str(r.identity(id).trim_end()),
                None => errors.push(format!(
                    "{at}: `{{{{identity}}}}` but {} has no identity",
                    page.name
                )),
            },
            ("example", _) if !arg.is_empty() => match example_block(root, arg) {
                Ok(b) => out.push_str(&b),
                Err(e) => errors.push(format!("{at}: {e}")),
            },
            _ => errors.push(format!(
                "{at}: unknown placeholder `{{{{{inner}}}}}` (known: name, arguments, attributes, schema, identity, example \"path\", note path ... end)"
            )),
        }
    }
    out.push_str(rest);
    check_complete(
        page,
        at,
        (rendered_args, rendered_attrs),
        &notes,
        &mut errors,
    );
    if !errors.is_empty() {
        return Err(DocsErrors(errors));
    }
    Ok(with_generated_mark(&out, at))
}

/// Says, after the front matter, where the page comes from.
fn with_generated_mark(page: &str, template: &str) -> String {
    let mark = format!(
        "<!-- Generated by `make docs` from {template} and the provider's schema: edit those, not this file. -->\n"
    );
    let page = page.trim_end().to_string() + "\n";
    match page
        .strip_prefix("---\n")
        .and_then(|rest| rest.find("\n---\n").map(|i| i + 4 + "\n---\n".len()))
    {
        Some(end) => format!("{}\n{mark}{}", &page[..end], &page[end..]),
        None => format!("{mark}\n{page}"),
    }
}

fn template_path(kind: PageKind, name: &str) -> String {
    match kind {
        PageKind::Provider => "templates/index.md.tmpl".into(),
        _ => format!("templates/{}/{name}.md.tmpl", kind.dir()),
    }
}

fn page_path(kind: PageKind, name: &str) -> String {
    match kind {
        PageKind::Provider => "index.md".into(),
        _ => format!("{}/{name}.md", kind.dir()),
    }
}

/// The names `templates/<dir>/*.md.tmpl` hold templates for.
fn template_names(root: &Path, dir: &str) -> BTreeSet<String> {
    let Ok(entries) = std::fs::read_dir(root.join("templates").join(dir)) else {
        return BTreeSet::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".md.tmpl").map(str::to_string)
        })
        .collect()
}

/// Every page of `docs/` (path relative to `docs/` to its text), from the
/// templates under `root/templates` and the schemas `provider` serves.
pub fn generate(
    provider: &dyn Provider,
    provider_name: &str,
    root: &Path,
) -> Result<BTreeMap<String, String>, DocsErrors> {
    let wanted = wanted_pages(provider, provider_name);
    let mut errors = vec![];
    let mut pages = BTreeMap::new();
    for (kind, name, schema, identity) in &wanted {
        let tmpl = template_path(*kind, name);
        let text = match std::fs::read_to_string(root.join(&tmpl)) {
            Ok(t) => t,
            Err(_) => {
                errors.push(format!(
                    "{tmpl}: missing: the {} {name} needs a page template (its prose and `{{{{schema}}}}`)",
                    kind.what()
                ));
                continue;
            }
        };
        let page = PageSchema {
            kind: *kind,
            name: if *kind == PageKind::Provider {
                provider_name
            } else {
                name
            },
            schema: Some(schema),
            identity: identity.as_ref(),
        };
        match render(&text, &page, root, &tmpl) {
            Ok(p) => {
                pages.insert(page_path(*kind, name), p);
            }
            Err(e) => errors.extend(e.0),
        }
    }
    orphan_templates(root, &wanted, &mut errors);
    guides(root, provider_name, &mut pages, &mut errors);
    if errors.is_empty() {
        Ok(pages)
    } else {
        Err(DocsErrors(errors))
    }
}

/// A page the provider's types call for: its kind, name, schema and identity.
type Wanted = (PageKind, String, Schema, Option<IdentitySchema>);

/// The pages of the provider and of every type it serves, in that order.
fn wanted_pages(provider: &dyn Provider, provider_name: &str) -> Vec<Wanted> {
    let provider_schema = provider.schema();
    let resources = provider.resources();
    let data_sources = provider.data_sources();
    let lists = provider.list_resources();
    let actions = provider.actions();
    let mut wanted: Vec<Wanted> = vec![(
        PageKind::Provider,
        provider_name.to_string(),
        provider_schema,
        None,
    )];
    wanted.extend(resources.iter().map(|r| {
        (
            PageKind::Resource,
            r.type_name().to_string(),
            r.schema(),
            r.identity_schema(),
        )
    }));
    wanted.extend(data_sources.iter().map(|d| {
        (
            PageKind::DataSource,
            d.type_name().to_string(),
            d.schema(),
            None,
        )
    }));
    wanted.extend(lists.iter().map(|l| {
        (
            PageKind::ListResource,
            l.type_name().to_string(),
            l.schema(),
            None,
        )
    }));
    wanted.extend(actions.iter().map(|a| {
        (
            PageKind::Action,
            a.type_name().to_string(),
            a.schema(),
            None,
        )
    }));
    let ephemerals = provider.ephemeral_resources();
    wanted.extend(ephemerals.iter().map(|e| {
        (
            PageKind::EphemeralResource,
            e.type_name().to_string(),
            e.schema(),
            None,
        )
    }));
    wanted
}

/// Templates of types the provider does not serve.
fn orphan_templates(root: &Path, wanted: &[Wanted], errors: &mut Vec<String>) {
    for kind in [
        PageKind::Resource,
        PageKind::DataSource,
        PageKind::ListResource,
        PageKind::Action,
        PageKind::EphemeralResource,
    ] {
        let served: BTreeSet<&str> = wanted
            .iter()
            .filter(|w| w.0 == kind)
            .map(|w| w.1.as_str())
            .collect();
        for name in template_names(root, kind.dir()) {
            if !served.contains(name.as_str()) {
                errors.push(format!(
                    "{}: the provider serves no {} {name}",
                    template_path(kind, &name),
                    kind.what()
                ));
            }
        }
    }
}

/// The guides: templates without a type, rendered without a schema.
fn guides(
    root: &Path,
    provider_name: &str,
    pages: &mut BTreeMap<String, String>,
    errors: &mut Vec<String>,
) {
    for name in template_names(root, PageKind::Guide.dir()) {
        let tmpl = template_path(PageKind::Guide, &name);
        let page = PageSchema {
            kind: PageKind::Guide,
            name: provider_name,
            schema: None,
            identity: None,
        };
        match std::fs::read_to_string(root.join(&tmpl))
            .map_err(|e| DocsErrors(vec![format!("{tmpl}: {e}")]))
            .and_then(|t| render(&t, &page, root, &tmpl))
        {
            Ok(p) => {
                pages.insert(page_path(PageKind::Guide, &name), p);
            }
            Err(e) => errors.extend(e.0),
        }
    }
}

/// The `.md` files under `docs`, relative to it.
fn existing_pages(docs: &Path) -> BTreeSet<String> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else if p.extension().is_some_and(|x| x == "md")
                && let Ok(rel) = p.strip_prefix(base)
            {
                out.insert(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(docs, docs, &mut out);
    out
}

/// How `docs` differs from `pages`: one line per page that is missing,
/// different (with its first differing line) or not generated.
pub fn differences(docs: &Path, pages: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = vec![];
    for (rel, want) in pages {
        match std::fs::read_to_string(docs.join(rel)) {
            Err(_) => out.push(format!("docs/{rel}: missing")),
            Ok(have) if &have != want => {
                let line = have
                    .lines()
                    .zip(want.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or_else(|| have.lines().count().min(want.lines().count()));
                out.push(format!(
                    "docs/{rel}: differs from the generated page from line {}:\n      on disk:   {:?}\n      generated: {:?}",
                    line + 1,
                    have.lines().nth(line).unwrap_or("<end of file>"),
                    want.lines().nth(line).unwrap_or("<end of file>")
                ));
            }
            Ok(_) => {}
        }
    }
    for rel in existing_pages(docs) {
        if !pages.contains_key(&rel) {
            out.push(format!("docs/{rel}: not generated by any template"));
        }
    }
    out
}

/// Writes `pages` into `docs` and removes the `.md` files no template
/// generates. Returns the paths changed.
pub fn write(docs: &Path, pages: &BTreeMap<String, String>) -> std::io::Result<Vec<PathBuf>> {
    let mut changed = vec![];
    for (rel, text) in pages {
        let path = docs.join(rel);
        if std::fs::read_to_string(&path).is_ok_and(|t| &t == text) {
            continue;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, text)?;
        changed.push(path);
    }
    for rel in existing_pages(docs) {
        if !pages.contains_key(&rel) {
            let path = docs.join(&rel);
            std::fs::remove_file(&path)?;
            changed.push(path);
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::text::wrap;
    use super::*;
    use crate::declare::{self, Behaviour, Validators};
    use crate::schema::{Attribute, Block};
    use crate::value::{Type, Value};
    use std::sync::Arc;

    fn attr(a: Attribute, b: Behaviour) -> Attribute {
        Attribute { behaviour: b, ..a }
    }

    fn schema() -> Schema {
        let job = Block {
            attributes: vec![
                Attribute::computed("job_id", Type::String, "Its job."),
                Attribute::computed("status", Type::String, "How it ended."),
            ],
            ..Block::default()
        };
        let jobs = Attribute {
            nested: Some(Box::new(job.clone())),
            ..Attribute::computed("jobs", Type::list(job.value_type()), "The jobs.")
        };
        Schema {
            version: 0,
            block: Block {
                description: String::new(),
                rules: vec![],
                attributes: vec![
                    Attribute::computed("id", Type::String, "The id."),
                    attr(
                        Attribute::required("server_id", Type::String, "The server"),
                        Behaviour {
                            requires_replace: true,
                            validators: Validators(vec![Arc::new(declare::not_blank())]),
                            ..Behaviour::default()
                        },
                    ),
                    attr(
                        Attribute::optional_computed("mode", Type::String, "The mode."),
                        Behaviour {
                            default: Some(Value::string("fast")),
                            validators: Validators(vec![Arc::new(declare::one_of(&[
                                ("fast", ""),
                                ("slow", "careful"),
                            ]))]),
                            ..Behaviour::default()
                        },
                    ),
                    Attribute::optional("secret", Type::set(Type::String), "A secret.").sensitive(),
                    jobs,
                ],
                blocks: <WithTimeouts as crate::Model>::block().blocks,
            },
        }
    }

    crate::model! {
        struct Timeouts {
            create: String = optional("How long to wait for create, e.g. \"30m\".")
                .validate(duration()),
        }
    }

    crate::model! {
        struct WithTimeouts {
            timeouts: Timeouts = block(),
        }
    }

    fn page(s: &Schema) -> PageSchema<'_> {
        PageSchema {
            kind: PageKind::Resource,
            name: "x_thing",
            schema: Some(s),
            identity: None,
        }
    }

    #[test]
    fn an_action_page_says_where_its_arguments_go() {
        let s = Schema {
            version: 0,
            block: Block {
                attributes: vec![Attribute::required(
                    "phone_ids",
                    Type::set(Type::String),
                    "Phones.",
                )],
                ..Default::default()
            },
        };
        let page = PageSchema {
            kind: PageKind::Action,
            name: "x_restart",
            schema: Some(&s),
            identity: None,
        };
        let out = render(
            "# {{name}}\n\n{{arguments}}\n",
            &page,
            Path::new("."),
            "a.md.tmpl",
        )
        .expect("renders");
        assert!(
            out.contains("The `config` block of an `action` block takes:"),
            "{out}"
        );
        assert!(out.contains("`phone_ids`"), "{out}");
        assert_eq!(PageKind::Action.dir(), "actions");
    }

    #[test]
    fn block_rules_are_documented_after_the_arguments() {
        let s = Schema {
            version: 0,
            block: Block {
                attributes: ["token", "user"]
                    .map(|n| Attribute::optional(n, Type::String, "X."))
                    .to_vec(),
                rules: vec![crate::rules::exactly_one_of(&["token", "user"])],
                ..Default::default()
            },
        };
        let page = PageSchema {
            kind: PageKind::Provider,
            name: "x",
            schema: Some(&s),
            identity: None,
        };
        let out = render("{{arguments}}\n", &page, Path::new("."), "p.md.tmpl").expect("renders");
        let rule = out
            .find("Exactly one of `token` and `user` must be set.")
            .expect(&out);
        assert!(out.find("`user`").expect(&out) < rule, "{out}");
    }

    #[test]
    fn the_schema_renders_with_its_declared_behaviour() {
        let s = schema();
        let out = render(
            "---\npage_title: x\n---\n\n# {{name}}\n\n{{note jobs.status}}\n`ok` or `failed`.\n{{end}}\n{{schema}}\n",
            &page(&s),
            Path::new("."),
            "t.md.tmpl",
        )
        .unwrap();
        let want = "---
page_title: x
---

<!-- Generated by `make docs` from t.md.tmpl and the provider's schema: edit those, not this file. -->

# x_thing

## Argument Reference

* `server_id` - (Required, String) The server. Changing it forces a new resource.
  Checked at plan: must not be empty.
* `mode` - (Optional, String) The mode. Default: `\"fast\"`. Checked at plan: one of
  `fast` or `slow` (careful).
* `secret` - (Optional, Set of String, Sensitive) A secret.
* `timeouts` - (Optional, Block) See [`timeouts`](#timeouts) below.

### `timeouts`

The `timeouts` block takes:

* `create` - (Optional, String) How long to wait for create, e.g. \"30m\". Checked at
  plan: a duration such as `\"30s\"`, `\"10m\"` or `\"1h30m\"`.

## Attribute Reference

In addition to the arguments above, these attributes are exported:

* `id` - (String) The id.
* `jobs` - (List of Object) The jobs. See [`jobs`](#jobs) below.

### `jobs`

Each element of `jobs` has:

* `job_id` - (String) Its job.
* `status` - (String) How it ended. `ok` or `failed`.
";
        assert_eq!(out, want, "\n{out}");
    }

    #[test]
    fn mistakes_in_a_template_are_named() {
        let s = schema();
        let err = render(
            "{{note nope}}x{{end}}{{arguments}} {{bogus}} {{example \"no/such.tf\"}} {{identity}}",
            &page(&s),
            Path::new("."),
            "t.md.tmpl",
        )
        .unwrap_err()
        .0;
        let all = err.join("\n");
        for want in [
            "unknown placeholder `{{bogus}}`",
            "cannot read no/such.tf",
            "x_thing has no identity",
            "add `{{attributes}}`",
            "`{{note nope}}` documents nothing",
        ] {
            assert!(all.contains(want), "{want:?} not in:\n{all}");
        }
    }

    #[test]
    fn long_entries_wrap_without_starting_a_list() {
        let w = wrap("* `a` - ", &"word ".repeat(30), 2, 40);
        assert!(
            w.lines()
                .skip(1)
                .all(|l| l.starts_with("  ") && l.len() <= 40),
            "{w}"
        );
        let w = wrap("x", "aaaa - bbbb", 2, 6);
        assert!(!w.lines().any(|l| l.trim_start().starts_with("- ")), "{w}");
        assert_eq!(anchor("`jobs.phone_id`"), "jobsphone_id");
        assert_eq!(
            type_label(&Type::list(Type::set(Type::String))),
            "List of Set of String"
        );
    }
}

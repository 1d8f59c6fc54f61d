//! The docs cannot drift from the schema: every page under `docs/` documents
//! exactly the arguments and attributes the provider declares (nested ones
//! too, such as `timeouts.create` or `jobs.phone_id`), with the right
//! Required/Optional label, and every resource page has an `## Import`
//! section. The schema is read from the Rust declarations always, and from
//! Terraform itself (`terraform providers schema -json`) when `TF_ACC=1`.
//! A second test runs `terraform fmt -check` and `terraform validate` on
//! every folder under `examples/` when `TF_ACC=1`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;
use terraform_provider_cph::resources::schemas;
use tf_framework::schema::{Block, Schema};
use tf_framework::value::Type;

const PROVIDER_SOURCE: &str = "registry.terraform.io/cloudphone/cph";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

// ---------------------------------------------------------------------------
// A schema reduced to what the docs must say about it.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// An argument the user must set.
    Required,
    /// An argument the user may set (a nested block counts as one).
    Optional,
    /// An attribute only the provider sets.
    Computed,
    /// A field inside a computed attribute or a nested block.
    Nested,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    kind: Kind,
    sensitive: bool,
}

/// Dotted name (`jobs.phone_id`, `timeouts.create`) to what it is.
type Flat = BTreeMap<String, Entry>;

/// The fields of an object type, looking through list/set/map.
fn object_fields(ty: &Type) -> Option<&BTreeMap<String, Type>> {
    match ty {
        Type::Object(fields) => Some(fields),
        Type::List(t) | Type::Set(t) | Type::Map(t) => object_fields(t),
        _ => None,
    }
}

fn flatten_type_fields(prefix: &str, ty: &Type, out: &mut Flat) {
    if let Some(fields) = object_fields(ty) {
        for (name, t) in fields {
            let full = format!("{prefix}.{name}");
            out.insert(
                full.clone(),
                Entry {
                    kind: Kind::Nested,
                    sensitive: false,
                },
            );
            flatten_type_fields(&full, t, out);
        }
    }
}

fn flatten_block(prefix: Option<&str>, block: &Block, out: &mut Flat) {
    let name_of = |n: &str| match prefix {
        Some(p) => format!("{p}.{n}"),
        None => n.to_string(),
    };
    for a in &block.attributes {
        let kind = if prefix.is_some() {
            Kind::Nested
        } else if a.required {
            Kind::Required
        } else if a.optional {
            Kind::Optional
        } else {
            Kind::Computed
        };
        let full = name_of(&a.name);
        out.insert(
            full.clone(),
            Entry {
                kind,
                sensitive: a.sensitive,
            },
        );
        flatten_type_fields(&full, &a.ty, out);
    }
    for b in &block.blocks {
        let full = name_of(&b.type_name);
        let kind = match (prefix, b.min_items > 0) {
            (Some(_), _) => Kind::Nested,
            (None, true) => Kind::Required,
            (None, false) => Kind::Optional,
        };
        out.insert(
            full.clone(),
            Entry {
                kind,
                sensitive: false,
            },
        );
        flatten_block(Some(&full), &b.block, out);
    }
}

fn flatten_rust(schema: &Schema) -> Flat {
    let mut out = Flat::new();
    flatten_block(None, &schema.block, &mut out);
    out
}

/// The same reduction of a block in `terraform providers schema -json` form.
fn flatten_json_block(prefix: Option<&str>, block: &Json, out: &mut Flat) {
    let name_of = |n: &str| match prefix {
        Some(p) => format!("{p}.{n}"),
        None => n.to_string(),
    };
    let flag = |v: &Json, k: &str| v.get(k).and_then(Json::as_bool).unwrap_or(false);
    if let Some(attrs) = block.get("attributes").and_then(Json::as_object) {
        for (name, a) in attrs {
            let kind = if prefix.is_some() {
                Kind::Nested
            } else if flag(a, "required") {
                Kind::Required
            } else if flag(a, "optional") {
                Kind::Optional
            } else {
                Kind::Computed
            };
            let full = name_of(name);
            out.insert(
                full.clone(),
                Entry {
                    kind,
                    sensitive: flag(a, "sensitive"),
                },
            );
            if let Some(ty) = a.get("type") {
                flatten_json_type_fields(&full, ty, out);
            }
        }
    }
    if let Some(blocks) = block.get("block_types").and_then(Json::as_object) {
        for (name, b) in blocks {
            let full = name_of(name);
            let min_items = b.get("min_items").and_then(Json::as_i64).unwrap_or(0);
            let kind = match (prefix, min_items > 0) {
                (Some(_), _) => Kind::Nested,
                (None, true) => Kind::Required,
                (None, false) => Kind::Optional,
            };
            out.insert(
                full.clone(),
                Entry {
                    kind,
                    sensitive: false,
                },
            );
            if let Some(inner) = b.get("block") {
                flatten_json_block(Some(&full), inner, out);
            }
        }
    }
}

/// cty type JSON: `"string"`, `["list", T]`, `["object", {name: T}]`, ...
fn flatten_json_type_fields(prefix: &str, ty: &Json, out: &mut Flat) {
    let Some(parts) = ty.as_array() else { return };
    match (parts.first().and_then(Json::as_str), parts.get(1)) {
        (Some("list" | "set" | "map"), Some(inner)) => flatten_json_type_fields(prefix, inner, out),
        (Some("object"), Some(Json::Object(fields))) => {
            for (name, t) in fields {
                let full = format!("{prefix}.{name}");
                out.insert(
                    full.clone(),
                    Entry {
                        kind: Kind::Nested,
                        sensitive: false,
                    },
                );
                flatten_json_type_fields(&full, t, out);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------
// The docs pages.

/// One documented name: `* \`name\` - (Required) text`.
#[derive(Debug, Clone)]
struct Documented {
    name: String,
    section: String,
    /// Text after ` - `, continuation lines included.
    text: String,
    line: usize,
}

#[derive(Debug)]
struct Page {
    text: String,
    headings: Vec<String>,
    documented: Vec<Documented>,
}

/// Sections whose bullets name schema entries, and the prefix their names get.
fn section_prefix(heading: &str) -> Option<&'static str> {
    match heading {
        "Argument Reference" | "Attribute Reference" => Some(""),
        "Timeouts" => Some("timeouts."),
        _ => None,
    }
}

/// Parses a bullet line `<indent>* \`name\` - text` into (indent, name, text).
fn parse_bullet(line: &str) -> Option<(usize, String, String)> {
    let indent = line.len() - line.trim_start().len();
    let rest = line.trim_start();
    let rest = rest
        .strip_prefix("* ")
        .or_else(|| rest.strip_prefix("- "))?;
    let rest = rest.strip_prefix('`')?;
    let end = rest.find('`')?;
    let name = &rest[..end];
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    let after = rest[end + 1..].trim_start();
    let text = after
        .strip_prefix("- ")
        .or_else(|| after.strip_prefix("-"))?;
    Some((indent, name.to_string(), text.trim().to_string()))
}

fn parse_page(path: &Path) -> Page {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut headings = Vec::new();
    let mut documented: Vec<Documented> = Vec::new();
    let mut section: Option<(String, &'static str)> = None;
    // (indent, full name) of the open bullets, outermost first.
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut in_code = false;
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        if let Some(h) = line.strip_prefix("## ") {
            let h = h.trim().to_string();
            headings.push(h.clone());
            section = section_prefix(&h).map(|p| (h, p));
            stack.clear();
            continue;
        }
        if line.starts_with('#') {
            section = None;
            stack.clear();
            continue;
        }
        let Some((heading, prefix)) = &section else {
            continue;
        };
        if let Some((indent, name, rest)) = parse_bullet(line) {
            while stack.last().is_some_and(|(ind, _)| *ind >= indent) {
                stack.pop();
            }
            let full = match stack.last() {
                Some((_, parent)) => format!("{parent}.{name}"),
                None => format!("{prefix}{name}"),
            };
            stack.push((indent, full.clone()));
            documented.push(Documented {
                name: full,
                section: heading.clone(),
                text: rest,
                line: i + 1,
            });
        } else if line.trim().is_empty() {
            // A blank line ends nesting only if the next bullet is less indented;
            // the indentation rule above handles that.
        } else if line.starts_with("  ") || line.starts_with('\t') {
            // Continuation of the last bullet.
            if let Some(d) = documented.last_mut() {
                d.text.push(' ');
                d.text.push_str(line.trim());
            }
        } else {
            // A paragraph at the margin closes every open bullet.
            stack.clear();
        }
    }
    Page {
        text,
        headings,
        documented,
    }
}

/// Every docs page with the schema it documents, keyed by the page's path
/// relative to `docs/`.
fn rust_schemas() -> BTreeMap<&'static str, (&'static str, Schema)> {
    BTreeMap::from([
        ("index.md", ("provider", schemas::provider())),
        (
            "resources/cph_server_flavor.md",
            ("cph_server_flavor", schemas::server_flavor()),
        ),
        (
            "resources/cph_phone_route.md",
            ("cph_phone_route", schemas::phone_route()),
        ),
        (
            "data-sources/cph_server.md",
            ("cph_server", schemas::server_data()),
        ),
        (
            "data-sources/cph_phones.md",
            ("cph_phones", schemas::phones_data()),
        ),
        (
            "data-sources/cph_server_flavor_options.md",
            (
                "cph_server_flavor_options",
                schemas::server_flavor_options_data(),
            ),
        ),
    ])
}

fn docs_pages() -> Vec<String> {
    let docs = repo().join("docs");
    let mut pages = vec![];
    for dir in ["", "resources", "data-sources"] {
        let d = docs.join(dir);
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "md") {
                let rel = p.strip_prefix(&docs).unwrap_or(&p);
                pages.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    pages.sort();
    pages
}

/// Everything wrong with one page measured against one flattened schema.
fn check_page(rel: &str, page: &Page, schema: &Flat) -> Vec<String> {
    let mut errors = Vec::new();
    let where_ = format!("docs/{rel}");

    // Frontmatter.
    let front = page
        .text
        .strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n"))
        .map(|(f, _)| f);
    match front {
        None => errors.push(format!("{where_}: no frontmatter (--- ... ---) at the top")),
        Some(f) => {
            for key in ["page_title:", "subcategory:", "description:"] {
                if !f.lines().any(|l| l.starts_with(key)) {
                    errors.push(format!("{where_}: frontmatter has no `{key}`"));
                }
            }
        }
    }
    for h in ["Example Usage", "Argument Reference"] {
        if !page.headings.iter().any(|x| x == h) {
            errors.push(format!("{where_}: no `## {h}` section"));
        }
    }
    if rel.starts_with("resources/") {
        for h in ["Attribute Reference", "Timeouts", "Import"] {
            if !page.headings.iter().any(|x| x == h) {
                errors.push(format!("{where_}: resource page without `## {h}`"));
            }
        }
        if !page.text.contains("terraform import ") {
            errors.push(format!(
                "{where_}: `## Import` shows no `terraform import` command"
            ));
        }
    }
    if rel.starts_with("data-sources/") && !page.headings.iter().any(|x| x == "Attribute Reference")
    {
        errors.push(format!(
            "{where_}: data source page without `## Attribute Reference`"
        ));
    }

    // Names: each documented once, and exactly the schema's.
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for d in &page.documented {
        if let Some(first) = seen.insert(&d.name, d.line) {
            errors.push(format!(
                "{where_}:{}: `{}` documented twice (first on line {first})",
                d.line, d.name
            ));
        }
    }
    let documented: BTreeSet<&str> = seen.keys().copied().collect();
    let declared: BTreeSet<&str> = schema.keys().map(String::as_str).collect();
    let missing: Vec<&str> = declared.difference(&documented).copied().collect();
    let extra: Vec<&str> = documented.difference(&declared).copied().collect();
    if !missing.is_empty() {
        errors.push(format!(
            "{where_}: not documented but in the schema: {}",
            missing.join(", ")
        ));
    }
    if !extra.is_empty() {
        errors.push(format!(
            "{where_}: documented but not in the schema: {}",
            extra.join(", ")
        ));
    }

    // Labels and sections of the top-level names.
    for d in &page.documented {
        let Some(entry) = schema.get(&d.name) else {
            continue;
        };
        let at = format!("{where_}:{}: `{}`", d.line, d.name);
        let label = d
            .text
            .strip_prefix('(')
            .and_then(|t| t.split_once(')'))
            .map(|(l, _)| l.to_string());
        let label_words: Vec<String> = label
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(|w| w.trim().to_ascii_lowercase())
            .collect();
        let has = |w: &str| label_words.iter().any(|x| x == w);
        match entry.kind {
            Kind::Required | Kind::Optional => {
                if d.section != "Argument Reference" && d.section != "Timeouts" {
                    errors.push(format!(
                        "{at} is an argument but documented under `## {}`",
                        d.section
                    ));
                }
                let want = if entry.kind == Kind::Required {
                    "required"
                } else {
                    "optional"
                };
                if !has(want) {
                    errors.push(format!(
                        "{at} must be labelled ({}), found {:?}",
                        if want == "required" {
                            "Required"
                        } else {
                            "Optional"
                        },
                        label.unwrap_or_default()
                    ));
                }
                if entry.sensitive != has("sensitive") {
                    errors.push(format!(
                        "{at}: the label must say `Sensitive` exactly when the schema marks it sensitive ({})",
                        entry.sensitive
                    ));
                }
            }
            Kind::Computed => {
                if d.section != "Attribute Reference" {
                    errors.push(format!(
                        "{at} is computed but documented under `## {}`",
                        d.section
                    ));
                }
                if has("required") || has("optional") {
                    errors.push(format!("{at} is computed but labelled as an argument"));
                }
            }
            Kind::Nested => {
                if d.name.starts_with("timeouts.") && !has("optional") {
                    errors.push(format!("{at} must be labelled (Optional)"));
                }
            }
        }
    }
    errors
}

fn check_all(schemas_by_page: &BTreeMap<String, Flat>) -> Vec<String> {
    let mut errors = Vec::new();
    let pages = docs_pages();
    for rel in &pages {
        if !schemas_by_page.contains_key(rel) {
            errors.push(format!(
                "docs/{rel}: a page for something the provider does not declare"
            ));
        }
    }
    for (rel, schema) in schemas_by_page {
        let path = repo().join("docs").join(rel);
        if !path.exists() {
            errors.push(format!("docs/{rel}: missing page"));
            continue;
        }
        errors.extend(check_page(rel, &parse_page(&path), schema));
    }
    errors
}

fn fail_on(errors: Vec<String>, source: &str) {
    assert!(
        errors.is_empty(),
        "docs drifted from the schema ({source}):\n  - {}",
        errors.join("\n  - ")
    );
}

#[test]
fn docs_match_the_rust_schema() {
    let by_page: BTreeMap<String, Flat> = rust_schemas()
        .into_iter()
        .map(|(rel, (_, s))| (rel.to_string(), flatten_rust(&s)))
        .collect();
    fail_on(check_all(&by_page), "src/resources/schemas.rs");
}

/// Guards the parser itself: nesting, continuation lines and the Timeouts prefix.
#[test]
fn parser_reads_nested_bullets() {
    let dir = tempfile::tempdir().expect("temp dir");
    let p = dir.path().join("page.md");
    std::fs::write(
        &p,
        "---\npage_title: x\n---\n\n## Argument Reference\n\n* `a` - (Required) A.\n  more text\n* `timeouts` - (Optional) T.\n\n## Attribute Reference\n\n* `jobs` - J. Each entry has:\n  * `phone_id` - P.\n    * `deep` - D.\n  * `status` - S.\n* `id` - I.\n\n```terraform\n* `not_me` - x\n```\n\n## Timeouts\n\n* `create` - (Optional) C.\n\n## Import\n\n* `nope` - x\n",
    )
    .expect("write page");
    let page = parse_page(&p);
    let names: Vec<&str> = page.documented.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "a",
            "timeouts",
            "jobs",
            "jobs.phone_id",
            "jobs.phone_id.deep",
            "jobs.status",
            "id",
            "timeouts.create"
        ]
    );
    assert_eq!(page.documented[0].text, "(Required) A. more text");
}

/// Guards the reader of `terraform providers schema -json`: a block in
/// Terraform's JSON form flattens like the Rust declaration it came from.
#[test]
fn json_schema_reader_matches_the_rust_reader() {
    let json: Json = serde_json::from_str(
        r#"{
          "attributes": {
            "id": {"type": "string", "description_kind": "plain", "computed": true},
            "phone_ids": {"type": ["set", "string"], "description_kind": "plain", "required": true},
            "traffic_type": {"type": "string", "description_kind": "plain", "required": true},
            "jobs": {
              "type": ["list", ["object", {
                "error_code": "string", "error_msg": "string", "job_id": "string",
                "phone_id": "string", "status": "string"
              }]],
              "description_kind": "plain",
              "computed": true
            }
          },
          "block_types": {
            "timeouts": {
              "nesting_mode": "single",
              "block": {
                "attributes": {
                  "create": {"type": "string", "description_kind": "plain", "optional": true},
                  "delete": {"type": "string", "description_kind": "plain", "optional": true},
                  "update": {"type": "string", "description_kind": "plain", "optional": true}
                },
                "description_kind": "plain"
              }
            }
          },
          "description_kind": "plain"
        }"#,
    )
    .expect("JSON");
    let mut flat = Flat::new();
    flatten_json_block(None, &json, &mut flat);
    assert_eq!(flat, flatten_rust(&schemas::phone_route()));
}

// ---------------------------------------------------------------------------
// Terraform's view (TF_ACC=1).

fn tf_acc() -> bool {
    std::env::var("TF_ACC").is_ok_and(|v| !v.is_empty() && v != "0")
}

fn terraform_path() -> PathBuf {
    match std::env::var_os("TF_ACC_TERRAFORM_PATH") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => repo().join(".tools/bin/terraform"),
    }
}

/// A terraform binary, or a failure that says how to get one (TF_ACC=1 only).
fn terraform() -> PathBuf {
    let tf = terraform_path();
    assert!(
        tf.is_file(),
        "TF_ACC=1 but terraform was not found at {} (set TF_ACC_TERRAFORM_PATH or run `make tools`)",
        tf.display()
    );
    tf
}

/// A CLI config whose dev_overrides point `cloudphone/cph` at this build.
fn dev_overrides_config(dir: &Path) -> PathBuf {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-cph"));
    let bin_dir = exe.parent().expect("binary has a directory");
    let path = dir.join("terraform.rc");
    let body = format!(
        "provider_installation {{\n  dev_overrides {{\n    \"cloudphone/cph\" = {:?}\n  }}\n  direct {{}}\n}}\n",
        bin_dir.display().to_string()
    );
    std::fs::write(&path, body).expect("write CLI config");
    path
}

fn terraform_command(tf: &Path, cli_config: &Path, dir: &Path) -> Command {
    let mut cmd = Command::new(tf);
    cmd.current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", cli_config)
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .env_remove("TF_LOG")
        .env_remove("TF_CLI_ARGS");
    cmd
}

#[test]
fn docs_match_the_schema_terraform_reads() {
    if !tf_acc() {
        eprintln!("skipped: set TF_ACC=1 to read the schema through terraform");
        return;
    }
    let tf = terraform();
    let tmp = tempfile::tempdir().expect("temp dir");
    let cli = dev_overrides_config(tmp.path());
    let work = tmp.path().join("work");
    std::fs::create_dir(&work).expect("work dir");
    std::fs::write(
        work.join("main.tf"),
        "terraform {\n  required_providers {\n    cph = {\n      source = \"cloudphone/cph\"\n    }\n  }\n}\n",
    )
    .expect("write main.tf");
    let out = terraform_command(&tf, &cli, &work)
        .args(["providers", "schema", "-json"])
        .output()
        .expect("run terraform providers schema");
    assert!(
        out.status.success(),
        "terraform providers schema -json failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Json = serde_json::from_slice(&out.stdout).expect("schema JSON");
    let provider = json
        .get("provider_schemas")
        .and_then(|p| p.get(PROVIDER_SOURCE))
        .unwrap_or_else(|| panic!("no schema for {PROVIDER_SOURCE} in {json}"));

    let mut by_page: BTreeMap<String, Flat> = BTreeMap::new();
    let mut errors = Vec::new();
    for (rel, (name, rust)) in rust_schemas() {
        let block = if name == "provider" {
            provider.get("provider").and_then(|p| p.get("block"))
        } else {
            let kind = if rel.starts_with("resources/") {
                "resource_schemas"
            } else {
                "data_source_schemas"
            };
            provider
                .get(kind)
                .and_then(|k| k.get(name))
                .and_then(|s| s.get("block"))
        };
        let Some(block) = block else {
            errors.push(format!("terraform reports no schema for {name}"));
            continue;
        };
        let mut flat = Flat::new();
        flatten_json_block(None, block, &mut flat);
        if flat != flatten_rust(&rust) {
            errors.push(format!(
                "{name}: terraform's schema differs from src/resources/schemas.rs:\n    terraform: {flat:?}\n    rust:      {:?}",
                flatten_rust(&rust)
            ));
        }
        by_page.insert(rel.to_string(), flat);
    }
    // Everything Terraform knows has a page.
    for (kind, dir) in [
        ("resource_schemas", "resources"),
        ("data_source_schemas", "data-sources"),
    ] {
        if let Some(all) = provider.get(kind).and_then(Json::as_object) {
            for name in all.keys() {
                let rel = format!("{dir}/{name}.md");
                if !by_page.contains_key(&rel) {
                    errors.push(format!("{name} has no page docs/{rel}"));
                }
            }
        }
    }
    errors.extend(check_all(&by_page));
    fail_on(errors, "terraform providers schema -json");
}

// ---------------------------------------------------------------------------
// Examples (TF_ACC=1).

/// Every folder under `examples/` that holds `.tf` files.
fn example_dirs() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut has_tf = false;
        let mut subdirs = vec![];
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                if !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                {
                    subdirs.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "tf") {
                has_tf = true;
            }
        }
        if has_tf {
            out.push(dir.to_path_buf());
        }
        subdirs.sort();
        for d in subdirs {
            walk(&d, out);
        }
    }
    let mut out = vec![];
    walk(&repo().join("examples"), &mut out);
    out
}

#[test]
fn examples_are_formatted_and_valid() {
    let dirs = example_dirs();
    let names: Vec<String> = dirs
        .iter()
        .map(|d| {
            d.strip_prefix(repo().join("examples"))
                .unwrap_or(d)
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    for want in [
        "quickstart",
        "fleet",
        "resources/cph_server_flavor",
        "resources/cph_phone_route",
        "data-sources/cph_server",
        "data-sources/cph_phones",
        "data-sources/cph_server_flavor_options",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "no example folder examples/{want}; found {names:?}"
        );
    }
    if !tf_acc() {
        eprintln!("skipped: set TF_ACC=1 to run terraform fmt and validate on examples/");
        return;
    }
    let tf = terraform();
    let tmp = tempfile::tempdir().expect("temp dir");
    let cli = dev_overrides_config(tmp.path());
    let mut errors = Vec::new();
    for (dir, name) in dirs.iter().zip(&names) {
        let out = terraform_command(&tf, &cli, dir)
            .args(["fmt", "-check", "-diff", "-no-color", "."])
            .output()
            .expect("run terraform fmt");
        if !out.status.success() {
            errors.push(format!(
                "examples/{name}: not `terraform fmt` clean:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        // Validate a copy, so that nothing is written into the repository.
        let copy = tmp.path().join(name.replace('/', "__"));
        std::fs::create_dir_all(&copy).expect("copy dir");
        for e in std::fs::read_dir(dir).expect("read example").flatten() {
            let p = e.path();
            if p.is_file() && p.extension().is_some_and(|x| x == "tf") {
                std::fs::copy(&p, copy.join(e.file_name())).expect("copy .tf");
            }
        }
        let out = terraform_command(&tf, &cli, &copy)
            .args(["validate", "-no-color"])
            .output()
            .expect("run terraform validate");
        if !out.status.success() {
            errors.push(format!(
                "examples/{name}: `terraform validate` failed:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

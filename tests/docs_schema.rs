//! The docs are generated: `docs/` must be exactly what `make docs` writes
//! from `templates/` and the provider's live schema (so no page can drift
//! from the schema, and a type without a page template fails). Besides:
//! every generated page has its front matter and, for a resource, its import
//! instructions; every link between pages resolves; the index's table of
//! `HW_*` variables names every provider setting; every type has an example
//! folder. When `TF_ACC=1`: the schema Terraform itself reads (`terraform
//! providers schema -json`) is the one the docs were generated from, and
//! every folder under `examples/` passes `terraform fmt -check` and
//! `terraform validate`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;
use terraform_provider_cph::resources::{provider, schemas};
use tf_framework::schema::{Block, Schema};
use tf_framework::value::Type;

const PROVIDER_SOURCE: &str = "registry.terraform.io/cloudphone/cph";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The pages `make docs` writes, relative to `docs/`.
fn generated() -> BTreeMap<String, String> {
    terraform_provider_cph::docs(&repo()).unwrap_or_else(|e| panic!("`make docs` fails:\n{e}"))
}

// ---------------------------------------------------------------------------
// docs/ is generated.

#[test]
fn docs_are_what_make_docs_writes() {
    let diffs = tf_framework::docs::differences(&repo().join("docs"), &generated());
    assert!(
        diffs.is_empty(),
        "docs/ is not what `make docs` writes (edit templates/ or the schema, then run `make docs`):\n  - {}",
        diffs.join("\n  - ")
    );
}

/// The (kind folder, type name) of every type the provider serves.
fn served_types() -> Vec<(&'static str, String)> {
    let p = provider();
    let mut out: Vec<(&'static str, String)> = vec![];
    out.extend(
        p.resources()
            .iter()
            .map(|r| ("resources", r.type_name().to_string())),
    );
    out.extend(
        p.data_sources()
            .iter()
            .map(|d| ("data-sources", d.type_name().to_string())),
    );
    out.extend(
        p.list_resources()
            .iter()
            .map(|l| ("list-resources", l.type_name().to_string())),
    );
    out.extend(
        p.ephemeral_resources()
            .iter()
            .map(|e| ("ephemeral-resources", e.type_name().to_string())),
    );
    out
}

#[test]
fn every_page_has_front_matter_and_every_resource_its_import() {
    let pages = generated();
    let mut errors = vec![];
    for (rel, text) in &pages {
        let front = text
            .strip_prefix("---\n")
            .and_then(|rest| rest.split_once("\n---\n"))
            .map(|(f, _)| f);
        match front {
            None => errors.push(format!(
                "docs/{rel}: no front matter (--- ... ---) at the top"
            )),
            Some(f) => {
                for key in ["page_title:", "subcategory:", "description:"] {
                    let has = f.lines().any(|l| l.starts_with(key));
                    // tfplugindocs: the provider's index.md has no subcategory.
                    let wanted = !(rel == "index.md" && key == "subcategory:");
                    if has != wanted {
                        let what = if wanted { "has no" } else { "must not have" };
                        errors.push(format!("docs/{rel}: front matter {what} `{key}`"));
                    }
                }
            }
        }
    }
    for (dir, name) in served_types() {
        let rel = format!("{dir}/{name}.md");
        let Some(text) = pages.get(&rel) else {
            errors.push(format!("{name}: no page docs/{rel}"));
            continue;
        };
        if !text.contains("## Example Usage") {
            errors.push(format!("docs/{rel}: no `## Example Usage`"));
        }
        if dir == "resources" && !(text.contains("## Import") && text.contains("terraform import "))
        {
            errors.push(format!(
                "docs/{rel}: a resource page needs `## Import` with a `terraform import` command"
            ));
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

/// The anchors of a page's headings.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut in_code = false;
    let mut out = BTreeSet::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            out.insert(tf_framework::docs::anchor(line.trim_start_matches('#')));
        }
    }
    out
}

/// The targets of `[text](target)` links outside code.
fn links(text: &str) -> Vec<String> {
    let mut in_code = false;
    let mut out = vec![];
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        let mut rest = line;
        while let Some(i) = rest.find("](") {
            let after = &rest[i + 2..];
            let Some(end) = after.find(')') else { break };
            out.push(after[..end].to_string());
            rest = &after[end..];
        }
    }
    out
}

#[test]
fn links_between_pages_resolve() {
    let pages = generated();
    let mut errors = vec![];
    for (rel, text) in &pages {
        let dir = Path::new(rel).parent().unwrap_or(Path::new(""));
        for target in links(text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let (page, page_text) = if path.is_empty() {
                (rel.clone(), Some(text))
            } else {
                // Normalise `../x/y.md` against the page's folder.
                let mut parts: Vec<String> = dir
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                for c in path.split('/') {
                    match c {
                        ".." => {
                            parts.pop();
                        }
                        "." | "" => {}
                        c => parts.push(c.to_string()),
                    }
                }
                let joined = parts.join("/");
                let found = pages.get(&joined);
                (joined, found)
            };
            let Some(page_text) = page_text else {
                errors.push(format!("docs/{rel}: link to {target}: no page docs/{page}"));
                continue;
            };
            if !anchor.is_empty() && !anchors(page_text).contains(anchor) {
                errors.push(format!(
                    "docs/{rel}: link to {target}: docs/{page} has no heading #{anchor}"
                ));
            }
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn the_index_names_the_variable_of_every_setting() {
    let index = generated().remove("index.md").expect("docs/index.md");
    let mut errors = vec![];
    for a in &schemas::provider().block.attributes {
        let name = &a.name;
        match a.behaviour.env {
            None => errors.push(format!(
                "`{name}` declares no HW_* variable (`.env(...)` in ProviderModel)"
            )),
            Some(var) => {
                let row = format!("| `{var}` | `{name}` |");
                if !index.contains(&row) {
                    errors.push(format!(
                        "templates/index.md.tmpl: the table of environment variables has no row {row}"
                    ));
                }
            }
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
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

/// Dotted name (`failed.job_id`, `timeouts.create`) to what it is.
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
            "failed": {
              "type": ["map", ["object", {
                "error_code": "string", "error_msg": "string", "job_id": "string"
              }]],
              "description_kind": "plain",
              "computed": true
            },
            "running": {
              "type": ["map", ["object", {"job_id": "string", "request_id": "string"}]],
              "description_kind": "plain",
              "computed": true
            },
            "summary": {
              "type": ["object", {
                "failed": "number", "request_ids": ["set", "string"],
                "running": "number", "succeeded": "number"
              }],
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
    let schemas_json = json
        .get("provider_schemas")
        .and_then(|p| p.get(PROVIDER_SOURCE))
        .unwrap_or_else(|| panic!("no schema for {PROVIDER_SOURCE} in {json}"));

    // What the docs were generated from: the live schema of every type.
    let p = provider();
    let mut live: Vec<(&str, String, Schema)> = vec![("provider", "provider".into(), p.schema())];
    live.extend(
        p.resources()
            .iter()
            .map(|r| ("resource_schemas", r.type_name().to_string(), r.schema())),
    );
    live.extend(
        p.data_sources()
            .iter()
            .map(|d| ("data_source_schemas", d.type_name().to_string(), d.schema())),
    );
    let mut errors = Vec::new();
    for (kind, name, rust) in &live {
        let block = if *kind == "provider" {
            schemas_json.get("provider").and_then(|p| p.get("block"))
        } else {
            schemas_json
                .get(*kind)
                .and_then(|k| k.get(name.as_str()))
                .and_then(|s| s.get("block"))
        };
        let Some(block) = block else {
            errors.push(format!("terraform reports no schema for {name}"));
            continue;
        };
        let mut flat = Flat::new();
        flatten_json_block(None, block, &mut flat);
        if flat != flatten_rust(rust) {
            errors.push(format!(
                "{name}: the schema terraform reads differs from the one the docs are generated from:\n    terraform: {flat:?}\n    rust:      {:?}",
                flatten_rust(rust)
            ));
        }
    }
    // Everything Terraform knows has a generated page.
    let pages = generated();
    for (kind, dir) in [
        ("resource_schemas", "resources"),
        ("data_source_schemas", "data-sources"),
    ] {
        if let Some(all) = schemas_json.get(kind).and_then(Json::as_object) {
            for name in all.keys() {
                let rel = format!("{dir}/{name}.md");
                if !pages.contains_key(&rel) {
                    errors.push(format!("{name} has no page docs/{rel}"));
                }
            }
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
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

/// Whether an example requires a provider other than `cloudphone/cph` (the
/// coexistence guide's `huaweicloud/huaweicloud`).
fn needs_other_providers(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .expect("read example")
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "tf"))
        .any(|e| {
            std::fs::read_to_string(e.path())
                .unwrap_or_default()
                .lines()
                .any(|l| { let t = l.trim_start(); t.starts_with("source ") || t.starts_with("source=") } && !l.contains("cloudphone/cph"))
        })
}

/// The tfplugindocs file names: `provider.tf`, `resource.tf`, `data-source.tf`,
/// `import.sh` and `import-by-identity.tf`, not older spellings.
#[test]
fn examples_follow_tfplugindocs_names() {
    let examples = repo().join("examples");
    assert!(examples.join("provider/provider.tf").is_file());
    for (dir, name) in served_types() {
        let folder = examples.join(dir).join(&name);
        let wanted: &[&str] = match dir {
            "resources" => &["resource.tf", "import.sh", "import-by-identity.tf"],
            "data-sources" => &["data-source.tf"],
            _ => &[],
        };
        for file in wanted {
            assert!(
                folder.join(file).is_file(),
                "no examples/{dir}/{name}/{file}"
            );
        }
        assert!(
            !folder.join("data_source.tf").exists(),
            "examples/{dir}/{name}/data_source.tf: call it data-source.tf"
        );
    }
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
    // Every type has its folder (list resources: `.tfquery.hcl` only, which
    // Terraform before 1.14 cannot validate).
    for (dir, name) in served_types() {
        let folder = repo().join("examples").join(dir).join(&name);
        assert!(folder.is_dir(), "no example folder examples/{dir}/{name}");
    }
    for want in ["quickstart", "fleet", "provider"] {
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
        if needs_other_providers(dir) {
            // No registry here to install them from: `fmt -check` only.
            continue;
        }
        // Validate a copy, so that nothing is written into the repository.
        // Without import-by-identity.tf: `import` blocks need Terraform 1.5
        // (identity 1.12), and this is 1.0.
        let copy = tmp.path().join(name.replace('/', "__"));
        std::fs::create_dir_all(&copy).expect("copy dir");
        for e in std::fs::read_dir(dir).expect("read example").flatten() {
            let p = e.path();
            if p.is_file()
                && p.extension().is_some_and(|x| x == "tf")
                && e.file_name() != "import-by-identity.tf"
            {
                std::fs::copy(&p, copy.join(e.file_name())).expect("copy .tf");
            }
        }
        // Actions need Terraform 1.14 or later, ephemeral resources 1.10.
        let validator = if name.starts_with("actions") || name.starts_with("ephemeral-resources") {
            match std::env::var_os("TF_ACC_TERRAFORM_1_15_PATH") {
                Some(p) if !p.is_empty() => PathBuf::from(p),
                _ => repo().join(".tools/bin/terraform-1.15"),
            }
        } else {
            tf.clone()
        };
        let out = terraform_command(&validator, &cli, &copy)
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

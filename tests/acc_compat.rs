//! Compatibility with the state users have today: the provider as of an
//! older commit (built from git history by `scripts/compat_build.sh`, path
//! in `CPH_COMPAT_PROVIDER`) applies routes, flavors and a flavor order left
//! pending, then this build takes over the same working directory. Run by
//! `make test-compat` (part of `make test-long`, not of CI: the old build
//! takes minutes the first time). Skipped without `TF_ACC=1` and
//! `CPH_COMPAT_PROVIDER`.

mod emu;
mod support;

use std::path::PathBuf;

use emu::{Emulator, FLAVOR, SPECIAL_FLAVOR};
use serde_json::Value;
use support::{TfOutput, TfWorkdir, hcl_string};

const MAIN_TF: &str = r#"
provider "cph" {}
variable "phones" { type = map(list(string)) }
variable "settled_server" {}
variable "pending_server" {}
variable "pending_flavor" { type = list(string) }
variable "timeout" { default = "1m" }

resource "cph_phone_route" "by_server" {
  for_each     = var.phones
  phone_ids    = each.value
  traffic_type = "routing"
}

resource "cph_server_flavor" "settled" {
  server_id         = var.settled_server
  server_model_name = "physical.rx1.xlarge"
  phone_model_name  = "rx1.cp.c15.d46.e1v1"
}

resource "cph_server_flavor" "pending" {
  server_id         = var.pending_server
  server_model_name = var.pending_flavor[0]
  phone_model_name  = var.pending_flavor[1]
  auto_pay          = true
  timeouts {
    create = var.timeout
    update = var.timeout
  }
}
"#;

/// Endpoints that change something: none may be called by a plan.
const WRITES: &[&str] = &[
    "phones_traffic",
    "change_server_model",
    "bss_pay_order",
    "bss_cancel_order",
];

fn old_provider() -> Option<PathBuf> {
    let path = PathBuf::from(std::env::var_os("CPH_COMPAT_PROVIDER")?);
    assert!(
        path.is_file(),
        "CPH_COMPAT_PROVIDER={} is not a file (run `make test-compat`)",
        path.display()
    );
    Some(path)
}

/// Points `cloudphone/cph` at the provider binary in `dir`.
fn use_provider(w: &TfWorkdir, dir: &std::path::Path) {
    w.write_cli_config(&format!(
        "disable_checkpoint = true\n\nprovider_installation {{\n  dev_overrides {{\n    \"cloudphone/cph\" = {}\n  }}\n  filesystem_mirror {{\n    path = {}\n  }}\n}}\n",
        hcl_string(dir),
        hcl_string(&w.mirror_dir()),
    ));
}

fn run(w: &TfWorkdir, cmd: &[&str], vars: &[String]) -> TfOutput {
    let mut args: Vec<&str> = cmd.to_vec();
    args.extend(["-input=false", "-no-color"]);
    args.extend(vars.iter().map(String::as_str));
    w.run(&args)
}

fn ok(out: TfOutput) -> TfOutput {
    assert!(
        out.success(),
        "terraform failed:\n{}\n{}",
        out.stdout,
        out.stderr
    );
    out
}

fn vars(emu: &Emulator, flavor: (&str, &str), timeout: &str) -> Vec<String> {
    let servers = emu.server_ids();
    let phones: serde_json::Map<String, Value> = servers
        .iter()
        .map(|s| (s.clone(), serde_json::json!(emu.phone_ids_of(s))))
        .collect();
    vec![
        format!("-var=phones={}", Value::Object(phones)),
        format!("-var=settled_server={}", servers[1]),
        format!("-var=pending_server={}", servers[0]),
        format!("-var=pending_flavor=[\"{}\",\"{}\"]", flavor.0, flavor.1),
        format!("-var=timeout={timeout}"),
    ]
}

fn writes(emu: &Emulator) -> Vec<(String, u64)> {
    emu.calls()
        .into_iter()
        .filter(|(k, n)| WRITES.contains(&k.as_str()) && *n > 0)
        .collect()
}

/// The state file as Terraform wrote it (with each instance's
/// `schema_version`, which `terraform show -json` does not print).
fn state_file(w: &TfWorkdir) -> Value {
    let text = std::fs::read_to_string(w.path().join("terraform.tfstate")).expect("state file");
    serde_json::from_str(&text).expect("state JSON")
}

/// `(type, schema_version)` of each resource instance in state.
fn schema_versions(w: &TfWorkdir) -> Vec<(String, u64)> {
    let state = state_file(w);
    let mut out = Vec::new();
    for r in state["resources"].as_array().into_iter().flatten() {
        for i in r["instances"].as_array().into_iter().flatten() {
            let v = i["schema_version"].as_u64().unwrap_or_default();
            out.push((r["type"].as_str().unwrap_or_default().to_string(), v));
        }
    }
    out
}

#[test]
fn state_of_the_old_build_plans_nothing_keeps_its_pending_order_and_upgrades() {
    let Some(tf) = support::acc() else { return };
    let Some(old) = old_provider() else {
        eprintln!("skipped: CPH_COMPAT_PROVIDER is not set (run `make test-compat`)");
        return;
    };
    let emu = Emulator::start(&["--order-seconds", "8"]);
    let mut w = TfWorkdir::new(&tf, MAIN_TF);
    for (k, v) in emu.token_env() {
        w.set_env(&k, &v);
    }
    use_provider(&w, old.parent().expect("a directory"));

    // The old build: every phone routed, both servers managed, then an
    // upgrade whose order outlives the apply (it waits 2 s of 8).
    ok(run(
        &w,
        &["apply", "-auto-approve"],
        &vars(&emu, FLAVOR, "1m"),
    ));
    let pending = vars(&emu, SPECIAL_FLAVOR, "2s");
    let out = run(&w, &["apply", "-auto-approve"], &pending);
    assert!(
        !out.success(),
        "the order outlives the apply:\n{}",
        out.stdout
    );
    assert_eq!(emu.orders().len(), 1, "{:?}", emu.orders());
    let routes = |w: &TfWorkdir| {
        schema_versions(w)
            .into_iter()
            .filter(|(t, _)| t == "cph_phone_route")
            .map(|(_, v)| v)
            .collect::<Vec<_>>()
    };
    assert_eq!(routes(&w), vec![0, 0], "state of the old build");

    // This build takes over: the plan changes nothing but waits for the
    // pending order (its update only follows that order), and sends nothing.
    use_provider(
        &w,
        support::provider_binary().parent().expect("a directory"),
    );
    emu.reset_calls();
    let plan = run(&w, &["plan", "-detailed-exitcode"], &pending);
    let text = format!("{}{}", plan.stdout, plan.stderr);
    assert_eq!(
        writes(&emu),
        vec![],
        "a plan sends nothing: {:?}",
        emu.calls()
    );
    assert!(
        !text.contains("# cph_phone_route"),
        "routes plan no change:\n{text}"
    );
    assert!(!text.contains("# cph_server_flavor.settled"), "{text}");
    let pending_changes = plan.status.code() == Some(2);
    if pending_changes {
        assert!(
            text.contains("0 to add, 1 to change, 0 to destroy"),
            "{text}"
        );
        assert!(text.contains("cph_server_flavor.pending"), "{text}");
    }

    // The pending order is followed, not placed again.
    emu.reset_calls();
    ok(run(
        &w,
        &["apply", "-auto-approve"],
        &vars(&emu, SPECIAL_FLAVOR, "1m"),
    ));
    assert_eq!(
        emu.orders().len(),
        1,
        "one order in all: {:?}",
        emu.orders()
    );
    let calls = emu.calls();
    assert_eq!(
        calls.get("change_server_model").copied().unwrap_or(0),
        0,
        "{calls:?}"
    );
    assert_eq!(
        calls.get("phones_traffic").copied().unwrap_or(0),
        0,
        "{calls:?}"
    );
    let server = emu.server(&emu.server_ids()[0]);
    assert_eq!(server["server_model_name"], SPECIAL_FLAVOR.0, "{server}");

    // After a refresh every route is at schema version 1 and, with every
    // phone on its route, records no job; then the plan is empty.
    ok(run(
        &w,
        &["apply", "-refresh-only", "-auto-approve"],
        &vars(&emu, SPECIAL_FLAVOR, "1m"),
    ));
    assert_eq!(routes(&w), vec![1, 1]);
    for r in state_file(&w)["resources"].as_array().into_iter().flatten() {
        if r["type"] == "cph_phone_route" {
            let values = &r["instances"][0]["attributes"];
            assert_eq!(values["failed"], serde_json::json!({}), "{values}");
            assert_eq!(values["summary"]["succeeded"], 3, "{values}");
            assert!(values.get("jobs").is_none(), "{values}");
        }
    }
    emu.reset_calls();
    let out = run(
        &w,
        &["plan", "-detailed-exitcode"],
        &vars(&emu, SPECIAL_FLAVOR, "1m"),
    );
    assert_eq!(out.status.code(), Some(0), "{}\n{}", out.stdout, out.stderr);
    assert_eq!(writes(&emu), vec![], "{:?}", emu.calls());
    eprintln!("pending order's resource planned a change after the switch: {pending_changes}");
}

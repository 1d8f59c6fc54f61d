//! Acceptance tests of partly-known values: a `cph_phone_route` whose
//! `phone_ids` mix literal ids with an id known only after another
//! resource's apply plans, applies and converges on Terraform 0.13.5, the
//! default terraform (1.0.3) and 1.15.5 (whose unknowns carry refinements);
//! and a bad id in `phone_ids` gives a diagnostic pointing at `phone_ids`.
//! A replaced resource whose id feeds them plans them as updates with
//! partly-known `phone_ids`, and converges too. They run when `TF_ACC=1`.
//!
//! Only this provider is available offline, so the late id is made from a
//! computed attribute of one of its resources: `"<id>${substr(
//! cph_phone_route.a.id, 0, 0)}"` is `<id>`, known once `a` is created (on
//! 1.15 an unknown with a known prefix, a refined unknown).

mod emu;
mod support;

use emu::Emulator;
use support::{TfBin, TfWorkdir};

/// `a` routes one phone; `b` and `c` each hold one literal phone and one
/// known only once `a` exists, so both are planned with partly-unknown
/// `phone_ids` and created together after `a`.
const PARTIAL_TF: &str = r#"
terraform {
  required_providers {
    cph = { source = "cloudphone/cph" }
  }
}
provider "cph" {}
variable "a" { type = string }
variable "b_late" { type = string }
variable "b" { type = string }
variable "c_late" { type = string }
variable "c" { type = string }
resource "cph_phone_route" "a" {
  phone_ids    = [var.a]
  traffic_type = "routing"
}
resource "cph_phone_route" "b" {
  phone_ids    = ["${var.b_late}${substr(cph_phone_route.a.id, 0, 0)}", var.b]
  traffic_type = "routing"
}
resource "cph_phone_route" "c" {
  phone_ids    = [replace(cph_phone_route.a.id, "/^.*$/", var.c_late), var.c]
  traffic_type = "routing"
}
"#;

const TF_0_13: (&str, &str) = ("TF_ACC_TERRAFORM_0_13_PATH", "terraform-0.13");
const TF_1_15: (&str, &str) = ("TF_ACC_TERRAFORM_1_15_PATH", "terraform-1.15");

/// 0.13 has no `dev_overrides`: the provider is installed from a mirror.
fn workdir(tf: &TfBin, emu: &Emulator, main_tf: &str) -> TfWorkdir {
    let mut w = if tf.version().starts_with("Terraform v0.13") {
        TfWorkdir::with_mirror_install(tf, main_tf, "0.1.0")
    } else {
        TfWorkdir::new(tf, main_tf)
    };
    for (k, v) in emu.token_env() {
        w.set_env(&k, &v);
    }
    w
}

fn calls(emu: &Emulator, endpoint: &str) -> u64 {
    emu.calls().get(endpoint).copied().unwrap_or(0)
}

fn phone_ids(w: &TfWorkdir, name: &str) -> Vec<String> {
    let state = w.state_json();
    let resources = state["values"]["root_module"]["resources"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let r = resources
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in state: {state}"));
    let mut ids: Vec<String> = r["values"]["phone_ids"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    ids.sort();
    ids
}

/// The reproduction of issue 19 on one release.
fn late_ids_plan_and_apply(tf: &TfBin) {
    let version = tf.version();
    eprintln!("partly-known phone_ids on {version}");
    let emu = Emulator::start(&["--job-seconds", "0.2"]);
    let p: Vec<String> = emu
        .server_ids()
        .iter()
        .flat_map(|s| emu.phone_ids_of(s))
        .collect();
    let w = workdir(tf, &emu, PARTIAL_TF);
    let vars: Vec<String> = [
        ("a", &p[0]),
        ("b_late", &p[1]),
        ("b", &p[2]),
        ("c_late", &p[3]),
        ("c", &p[4]),
    ]
    .iter()
    .map(|(k, v)| format!("-var={k}={v}"))
    .collect();
    let args = |cmd: &[&'static str]| -> Vec<String> {
        let mut a: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
        a.extend(["-input=false".to_string(), "-no-color".to_string()]);
        a.extend(vars.iter().cloned());
        a
    };
    let run = |cmd: &[&'static str]| {
        let a = args(cmd);
        w.run(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };

    let plan = run(&["plan"]);
    assert!(
        plan.success() && plan.stdout.contains("3 to add"),
        "{version}: the plan fails:\n{}\n{}",
        plan.stdout,
        plan.stderr
    );
    emu.reset_calls();
    let apply = run(&["apply", "-auto-approve"]);
    assert!(
        apply.success(),
        "{version}: the apply fails:\n{}\n{}",
        apply.stdout,
        apply.stderr
    );
    // `a` alone, then `b` and `c` together in one merged call.
    assert_eq!(
        calls(&emu, "phones_traffic"),
        2,
        "{version}: {:?}",
        emu.calls()
    );
    for phone in &p[..5] {
        assert_eq!(emu.route_of(phone), "routing", "{version}: {phone}");
    }
    for phone in &p[5..] {
        assert_eq!(emu.route_of(phone), "direct", "{version}: {phone}");
    }
    let mut want_b = vec![p[1].clone(), p[2].clone()];
    want_b.sort();
    assert_eq!(phone_ids(&w, "b"), want_b, "{version}");
    let mut want_c = vec![p[3].clone(), p[4].clone()];
    want_c.sort();
    assert_eq!(phone_ids(&w, "c"), want_c, "{version}");

    let again = run(&["plan", "-detailed-exitcode"]);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{version}: the second plan is not empty:\n{}\n{}",
        again.stdout,
        again.stderr
    );

    // A replaced `a` makes the late ids unknown again: `b` and `c` plan an
    // update with partly-known `phone_ids`, and converge.
    w.run_ok(&["taint", "-no-color", "cph_phone_route.a"]);
    let plan = run(&["plan"]);
    assert!(
        plan.success() && plan.stdout.contains("1 to add, 2 to change, 1 to destroy"),
        "{version}: the plan after a taint:\n{}\n{}",
        plan.stdout,
        plan.stderr
    );
    let apply = run(&["apply", "-auto-approve"]);
    assert!(
        apply.success(),
        "{version}: the apply after a taint fails:\n{}\n{}",
        apply.stdout,
        apply.stderr
    );
    for phone in &p[..5] {
        assert_eq!(emu.route_of(phone), "routing", "{version}: {phone}");
    }
    let again = run(&["plan", "-detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0), "{version}:\n{}", again.stdout);

    let destroy = run(&["destroy", "-auto-approve"]);
    assert!(destroy.success(), "{version}:\n{}", destroy.stderr);
    for phone in &p[..5] {
        assert_eq!(emu.route_of(phone), "direct", "{version}: {phone}");
    }
}

/// A terraform of the suite: the path in `var`, else `.tools/bin/<file>`.
fn required((var, file): (&str, &str)) -> TfBin {
    TfBin::at(support::tool_path(var, file))
}

#[test]
fn late_phone_ids_plan_and_apply_on_terraform_0_13() {
    let Some(_default) = support::acc() else {
        return;
    };
    late_ids_plan_and_apply(&required(TF_0_13));
}

#[test]
fn late_phone_ids_plan_and_apply_on_the_default_terraform() {
    let Some(tf) = support::acc() else { return };
    late_ids_plan_and_apply(&tf);
}

#[test]
fn late_phone_ids_plan_and_apply_on_terraform_1_15() {
    let Some(_default) = support::acc() else {
        return;
    };
    late_ids_plan_and_apply(&required(TF_1_15));
}

#[test]
fn a_bad_phone_id_points_at_phone_ids_on_terraform_1_15() {
    let Some(_default) = support::acc() else {
        return;
    };
    let tf = required(TF_1_15);
    let emu = Emulator::start(&[]);
    let main_tf = r#"
provider "cph" {}
resource "cph_phone_route" "r" {
  traffic_type = "routing"
  phone_ids = [
    "good-id",
    "Bad Id",
  ]
}
"#;
    let w = workdir(&tf, &emu, main_tf);
    let out = w.run(&["validate", "-json", "-no-color"]);
    assert!(!out.success(), "{}", out.stdout);
    let json: serde_json::Value =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout));
    let diags = json["diagnostics"].as_array().cloned().unwrap_or_default();
    let bad: Vec<_> = diags
        .iter()
        .filter(|d| d["detail"].as_str().is_some_and(|s| s.contains("Bad Id")))
        .collect();
    assert_eq!(bad.len(), 1, "{}", out.stdout);
    // The diagnostic points at the attribute: its snippet is the
    // `phone_ids` line, its range starts there.
    let snippet = &bad[0]["snippet"];
    assert!(
        snippet["code"]
            .as_str()
            .is_some_and(|c| c.contains("phone_ids")),
        "{}",
        out.stdout
    );
    let main = std::fs::read_to_string(w.path().join("main.tf")).expect("main.tf");
    let line = main
        .lines()
        .position(|l| l.contains("phone_ids = ["))
        .expect("the phone_ids line")
        + 1;
    assert_eq!(bad[0]["range"]["start"]["line"], line, "{}", out.stdout);
    // The human form says which element and where.
    let plan = w.run(&["plan", "-input=false", "-no-color"]);
    let text = plan.flat();
    assert!(
        text.contains("phone_ids = [") && text.contains("\"Bad Id\""),
        "{text}"
    );
}

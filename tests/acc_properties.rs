//! Acceptance tests of `cph_phone_properties` on Terraform 1.15: writes of
//! several resources merged into shared calls, drift found by a refresh,
//! originals restored by a destroy, and the plan-time checks (a key of a
//! phone managed twice, a bad value, a key the reference does not list).

mod emu;
mod support;

use std::collections::BTreeMap;

use emu::Emulator;
use support::{TfBin, TfWorkdir};
use terraform_provider_cph::cph::models::{PhoneProperties, PropertyUpdate, UpdatePropertyRequest};

const GROUPS_TF: &str = r#"
terraform {
  required_providers {
    cph = { source = "cloudphone/cph" }
  }
}
provider "cph" {}
variable "groups" { type = map(list(string)) }
resource "cph_phone_properties" "g" {
  for_each  = var.groups
  phone_ids = each.value
  properties = {
    "persist.sys.locale" = "en-US"
    "disable.status.bar" = "1"
  }
}
"#;

fn workdir(tf: &TfBin, emu: &Emulator, main_tf: &str) -> TfWorkdir {
    let mut w = TfWorkdir::new(tf, main_tf);
    for (k, v) in emu.token_env() {
        w.set_env(&k, &v);
    }
    w
}

fn groups_var(groups: &[(&str, &[String])]) -> String {
    let map: BTreeMap<&str, &[String]> = groups.iter().copied().collect();
    format!("-var=groups={}", serde_json::to_string(&map).unwrap())
}

/// A phone's properties as show phone gives them.
fn properties_of(emu: &Emulator, phone: &str) -> BTreeMap<String, String> {
    let shown = emu.api_get(&format!("phones/{phone}"));
    match shown["property"].as_str() {
        Some(text) if !text.is_empty() => serde_json::from_str(text).expect("property JSON"),
        _ => BTreeMap::new(),
    }
}

/// Sets properties out of band through the CPH API, and waits until the
/// phone shows them.
fn set_out_of_band(emu: &Emulator, phone: &str, props: &[(&str, &str)]) {
    let props: PhoneProperties = props
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let client = emu::token_client(emu);
    let req = UpdatePropertyRequest {
        phones: vec![PropertyUpdate::new(phone, &props)],
    };
    emu::run(async { client.update_phone_properties(&req).await }).expect("update property");
    for _ in 0..100 {
        let now = properties_of(emu, phone);
        if props.iter().all(|(k, v)| now.get(k) == Some(v)) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("phone {phone} never showed {props:?}");
}

fn calls(emu: &Emulator, name: &str) -> u64 {
    emu.calls().get(name).copied().unwrap_or(0)
}

fn run_args(w: &TfWorkdir, cmd: &[&str], vars: &[String]) -> support::TfOutput {
    let mut args: Vec<&str> = cmd.to_vec();
    args.extend(["-input=false", "-no-color"]);
    args.extend(vars.iter().map(String::as_str));
    w.run(&args)
}

#[test]
fn two_resources_write_in_one_call_drift_shows_and_destroy_restores() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let emu = Emulator::start(&[]);
    let phones = emu::all_phones(&emu);
    assert!(phones.len() >= 4, "the default fleet has phones");
    let (a, b) = (&phones[0..2], &phones[2..4]);
    set_out_of_band(&emu, &a[0], &[("persist.sys.locale", "zh-CN")]);
    let w = workdir(&tf, &emu, GROUPS_TF);
    let vars = vec![groups_var(&[("a", a), ("b", b)])];
    emu.reset_calls();
    let out = run_args(&w, &["apply", "-auto-approve"], &vars);
    assert!(out.success(), "{}\n{}", out.stdout, out.stderr);
    assert_eq!(
        calls(&emu, "update_phone_property"),
        1,
        "two resources with the same keys share one call: {:?}",
        emu.calls()
    );
    for p in a.iter().chain(b) {
        let now = properties_of(&emu, p);
        assert_eq!(
            now.get("persist.sys.locale").map(String::as_str),
            Some("en-US"),
            "{p}"
        );
        assert_eq!(
            now.get("disable.status.bar").map(String::as_str),
            Some("1"),
            "{p}"
        );
    }
    let state = w.state_json();
    let res = state["values"]["root_module"]["resources"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let ga = res.iter().find(|r| r["index"] == "a").expect("g[a]");
    assert_eq!(
        ga["values"]["original_properties"][&a[0]],
        serde_json::json!({"persist.sys.locale": "zh-CN"})
    );
    assert_eq!(
        ga["values"]["original_properties"][&a[1]],
        serde_json::json!({})
    );

    // A refresh that finds nothing changed plans nothing.
    let out = run_args(&w, &["plan", "-detailed-exitcode"], &vars);
    assert_eq!(out.status.code(), Some(0), "{}\n{}", out.stdout, out.stderr);

    // Drift: the next plan shows the phone that changed, and only its resource.
    set_out_of_band(&emu, &b[1], &[("persist.sys.locale", "fr-FR")]);
    let out = run_args(&w, &["plan", "-detailed-exitcode"], &vars);
    assert_eq!(out.status.code(), Some(2), "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains(&b[1]), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("cph_phone_properties.g[\"b\"] will be updated in-place"),
        "{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains("cph_phone_properties.g[\"a\"] will be"),
        "{}",
        out.stdout
    );
    emu.reset_calls();
    let out = run_args(&w, &["apply", "-auto-approve"], &vars);
    assert!(out.success(), "{}\n{}", out.stdout, out.stderr);
    assert_eq!(properties_of(&emu, &b[1])["persist.sys.locale"], "en-US");
    assert_eq!(calls(&emu, "update_phone_property"), 1);

    // Destroy puts back what the keys had; a key that had no value keeps its value.
    let out = run_args(&w, &["destroy", "-auto-approve"], &vars);
    assert!(out.success(), "{}\n{}", out.stdout, out.stderr);
    let first = properties_of(&emu, &a[0]);
    assert_eq!(first["persist.sys.locale"], "zh-CN");
    assert_eq!(first["disable.status.bar"], "1");
    assert_eq!(properties_of(&emu, &b[0])["persist.sys.locale"], "en-US");
}

const TWO_TF: &str = r#"
terraform {
  required_providers {
    cph = { source = "cloudphone/cph" }
  }
}
provider "cph" {}
variable "phone" {}
variable "second_key" {}
variable "second_value" { default = "1" }
resource "cph_phone_properties" "one" {
  phone_ids  = [var.phone]
  properties = { "persist.sys.locale" = "en-US" }
}
resource "cph_phone_properties" "two" {
  phone_ids  = [var.phone]
  properties = { (var.second_key) = var.second_value }
}
"#;

#[test]
fn one_key_of_one_phone_in_two_resources_is_a_plan_error_other_keys_are_fine() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let emu = Emulator::start(&[]);
    let w = workdir(&tf, &emu, TWO_TF);
    let phone = format!("-var=phone={}", emu::PHONE_ID);
    let clash = vec![
        phone.clone(),
        "-var=second_key=persist.sys.locale".into(),
        "-var=second_value=fr-FR".into(),
    ];
    let out = run_args(&w, &["plan"], &clash);
    assert!(!out.success());
    let text = support::flat(&out.stderr);
    assert!(
        text.contains("Property keys managed by two cph_phone_properties resources"),
        "{text}"
    );
    assert!(
        text.contains(&format!("{}/persist.sys.locale", emu::PHONE_ID)),
        "{text}"
    );
    let fine = vec![phone, "-var=second_key=disable.status.bar".into()];
    let out = run_args(&w, &["apply", "-auto-approve"], &fine);
    assert!(out.success(), "{}\n{}", out.stdout, out.stderr);
    let now = properties_of(&emu, emu::PHONE_ID);
    assert_eq!(now["persist.sys.locale"], "en-US");
    assert_eq!(now["disable.status.bar"], "1");
}

const ONE_TF: &str = r#"
terraform {
  required_providers {
    cph = { source = "cloudphone/cph" }
  }
}
provider "cph" {}
variable "phone" {}
variable "key" {}
variable "value" {}
resource "cph_phone_properties" "p" {
  phone_ids  = [var.phone]
  properties = { (var.key) = var.value }
}
"#;

#[test]
fn a_bad_value_is_a_plan_error_at_its_key_and_an_unknown_key_a_warning() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let emu = Emulator::start(&[]);
    let w = workdir(&tf, &emu, ONE_TF);
    let vars = |k: &str, v: &str| {
        vec![
            format!("-var=phone={}", emu::PHONE_ID),
            format!("-var=key={k}"),
            format!("-var=value={v}"),
        ]
    };
    emu.reset_calls();
    let out = run_args(&w, &["plan"], &vars("disable.status.bar", "yes"));
    assert!(!out.success());
    let text = support::flat(&out.stderr);
    assert!(
        text.contains("Invalid value of property disable.status.bar"),
        "{text}"
    );
    assert!(
        text.contains("properties"),
        "the diagnostic points at the attribute: {text}"
    );
    assert_eq!(calls(&emu, "update_phone_property"), 0);

    let out = run_args(
        &w,
        &["apply", "-auto-approve"],
        &vars("vendor.custom.flag", "on"),
    );
    assert!(out.success(), "{}\n{}", out.stdout, out.stderr);
    let text = support::flat(&out.stdout);
    assert!(
        text.contains("Warning: Property vendor.custom.flag is not in the CPH reference"),
        "{text}"
    );
    assert_eq!(
        properties_of(&emu, emu::PHONE_ID)["vendor.custom.flag"],
        "on"
    );
}

const LIST_TF: &str = r#"
terraform {
  required_providers {
    cph = { source = "cloudphone/cph" }
  }
}
provider "cph" {}
variable "phones" { type = list(string) }
resource "cph_phone_properties" "p" {
  phone_ids  = var.phones
  properties = { "persist.sys.locale" = "en-US" }
}
"#;

#[test]
fn a_failed_phone_is_a_warning_recorded_in_failed_and_retried_alone() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let emu = Emulator::start(&[]);
    let phones: Vec<String> = emu::all_phones(&emu).into_iter().take(3).collect();
    emu.fail_jobs_for(&[&phones[1]]);
    let w = workdir(&tf, &emu, LIST_TF);
    let vars = vec![format!(
        "-var=phones={}",
        serde_json::to_string(&phones).unwrap()
    )];
    let out = run_args(&w, &["apply", "-auto-approve"], &vars);
    assert!(
        out.success(),
        "a partly failed create is not an error: {}\n{}",
        out.stdout,
        out.stderr
    );
    let text = support::flat(&out.stdout);
    assert!(
        text.contains("Warning: Some phones did not get their properties"),
        "{text}"
    );
    assert!(text.contains(&phones[1]), "{text}");
    let state = w.state_json();
    let values = &state["values"]["root_module"]["resources"][0]["values"];
    let failed: Vec<&String> = values["failed"]
        .as_object()
        .expect("failed")
        .keys()
        .collect();
    assert_eq!(failed, vec![&phones[1]]);
    assert!(!properties_of(&emu, &phones[1]).contains_key("persist.sys.locale"));

    emu.clear_failing_jobs();
    emu.reset_calls();
    let out = run_args(&w, &["apply", "-auto-approve"], &vars);
    assert!(out.success(), "{}\n{}", out.stdout, out.stderr);
    assert_eq!(calls(&emu, "update_phone_property"), 1);
    assert_eq!(
        properties_of(&emu, &phones[1])["persist.sys.locale"],
        "en-US"
    );
    let out = run_args(&w, &["plan", "-detailed-exitcode"], &vars);
    assert_eq!(out.status.code(), Some(0), "{}\n{}", out.stdout, out.stderr);
}

#[test]
fn import_by_phones_and_keys_plans_no_change() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let emu = Emulator::start(&[]);
    let phones: Vec<String> = emu::all_phones(&emu).into_iter().take(2).collect();
    for p in &phones {
        set_out_of_band(&emu, p, &[("persist.sys.locale", "en-US")]);
    }
    let w = workdir(&tf, &emu, LIST_TF);
    let vars = vec![format!(
        "-var=phones={}",
        serde_json::to_string(&phones).unwrap()
    )];
    let id = format!("{}/persist.sys.locale", phones.join(","));
    let out = run_args(
        &w,
        &["import"],
        &[vars[0].clone(), "cph_phone_properties.p".into(), id],
    );
    assert!(out.success(), "{}\n{}", out.stdout, out.stderr);
    let out = run_args(&w, &["plan", "-detailed-exitcode"], &vars);
    assert_eq!(out.status.code(), Some(0), "{}\n{}", out.stdout, out.stderr);
}

#[test]
fn terraform_query_adopts_phones_by_server_and_values_and_plans_only_imports() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let emu = Emulator::start(&["--servers", "2", "--phones-per-server", "3"]);
    let servers = emu.server_ids();
    let first = emu.phone_ids_of(&servers[0]);
    let second = emu.phone_ids_of(&servers[1]);
    for p in &first {
        set_out_of_band(&emu, p, &[("persist.sys.locale", "en-US")]);
    }
    set_out_of_band(&emu, &second[0], &[("persist.sys.locale", "fr-FR")]);
    let w = workdir(&tf, &emu, "provider \"cph\" {}\n");
    w.write(
        "props.tfquery.hcl",
        r#"
list "cph_phone_properties" "locale" {
  provider = cph
  config {
    keys = ["persist.sys.locale"]
  }
}
"#,
    );
    emu.reset_calls();
    let out = w.run(&["query", "-no-color", "-generate-config-out=adopted.tf"]);
    assert!(out.success(), "{}\n{}", out.stdout, out.stderr);
    assert_eq!(
        calls(&emu, "show_phone"),
        6,
        "one read per phone: {:?}",
        emu.calls()
    );
    let adopted = std::fs::read_to_string(w.path().join("adopted.tf")).expect("adopted.tf");
    assert_eq!(
        adopted.matches("resource \"cph_phone_properties\"").count(),
        2,
        "{adopted}"
    );
    assert!(
        !adopted.contains(&second[1]),
        "a phone without the key is not adopted: {adopted}"
    );
    emu.reset_calls();
    let plan = w.run_ok(&["plan", "-no-color", "-out=tfplan"]);
    assert!(
        plan.stdout
            .contains("Plan: 2 to import, 0 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    w.run_ok(&["apply", "-no-color", "tfplan"]);
    assert_eq!(
        calls(&emu, "update_phone_property"),
        0,
        "adopting writes nothing"
    );
    let again = w.run(&["plan", "-no-color", "-detailed-exitcode"]);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}\n{}",
        again.stdout,
        again.stderr
    );
}

#[test]
fn apply_with_restart_sends_the_properties_through_one_restart_call() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let emu = Emulator::start(&[]);
    let phones: Vec<String> = emu::all_phones(&emu).into_iter().take(2).collect();
    let main_tf = LIST_TF.replace(
        "properties = { \"persist.sys.locale\" = \"en-US\" }",
        "properties = { \"ro.install.auto\" = \"1\" }\n  apply_with_restart = true",
    );
    let w = workdir(&tf, &emu, &main_tf);
    let vars = vec![format!(
        "-var=phones={}",
        serde_json::to_string(&phones).unwrap()
    )];
    emu.reset_calls();
    let out = run_args(&w, &["apply", "-auto-approve"], &vars);
    assert!(out.success(), "{}\n{}", out.stdout, out.stderr);
    assert_eq!(calls(&emu, "restart_phones"), 1, "{:?}", emu.calls());
    assert_eq!(calls(&emu, "update_phone_property"), 0);
    for p in &phones {
        assert_eq!(properties_of(&emu, p)["ro.install.auto"], "1");
    }
    let out = run_args(&w, &["plan", "-detailed-exitcode"], &vars);
    assert_eq!(out.status.code(), Some(0), "{}\n{}", out.stdout, out.stderr);
}

#[test]
fn ctrl_c_during_the_jobs_returns_and_keeps_the_phones_sent_in_state() {
    use std::process::Command;
    use std::time::{Duration, Instant};
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let emu = Emulator::start(&["--job-seconds", "120"]);
    let phones: Vec<String> = emu::all_phones(&emu).into_iter().take(3).collect();
    let w = workdir(&tf, &emu, LIST_TF);
    let var = format!("-var=phones={}", serde_json::to_string(&phones).unwrap());
    let mut apply = w.spawn_in_group(
        &["apply", "-auto-approve", "-input=false", "-no-color", &var],
        &[],
    );
    let started = Instant::now();
    while calls(&emu, "update_phone_property") == 0 {
        assert!(
            apply.try_wait().expect("try_wait").is_none(),
            "terraform ended before its write"
        );
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no write within a minute"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    let pid = apply.id();
    let ok = Command::new("kill")
        .args(["-s", "INT", "--", &format!("-{pid}")])
        .status()
        .expect("run kill")
        .success();
    assert!(ok, "kill -INT the process group");
    let interrupted = Instant::now();
    let status = loop {
        if let Some(st) = apply.try_wait().expect("try_wait") {
            break st;
        }
        if interrupted.elapsed() > Duration::from_secs(60) {
            let _ = Command::new("kill")
                .args(["-s", "KILL", "--", &format!("-{pid}")])
                .status();
            let _ = apply.wait();
            panic!("terraform did not exit after Ctrl-C while jobs of 120 s ran");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stderr = std::fs::read_to_string(w.path().join("apply.stderr")).unwrap_or_default();
    assert!(!status.success(), "an interrupted apply fails: {stderr}");
    let state = w.state_json();
    let values = &state["values"]["root_module"]["resources"][0]["values"];
    let mut kept: Vec<String> = values["phone_ids"]
        .as_array()
        .unwrap_or_else(|| panic!("the phones sent are in state: {state}"))
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    kept.sort();
    let mut sent = phones.clone();
    sent.sort();
    assert_eq!(kept, sent, "phones whose job still ran stay in state");
    assert_eq!(
        values["original_properties"].as_object().map(|o| o.len()),
        Some(3)
    );
}

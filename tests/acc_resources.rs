//! Acceptance tests of the resources and data sources: the real terraform
//! against a `cph-emulator` on a loopback port, walking the steps a user
//! takes. They run when `TF_ACC=1` (as `make test` in CI does).

mod emu;
mod support;

use emu::{Emulator, FLAVOR, PHONE_ID, SERVER_ID, SPECIAL_FLAVOR};
use serde_json::Value;
use support::{TfBin, TfWorkdir};

const ROUTE_TF: &str = r#"
terraform {
  required_providers {
    cph = { source = "cloudphone/cph" }
  }
}
provider "cph" {}
variable "phones" { type = list(string) }
variable "route" { default = "routing" }
resource "cph_phone_route" "r" {
  phone_ids    = var.phones
  traffic_type = var.route
}
"#;

const FLAVOR_TF: &str = r#"
terraform {
  required_providers {
    cph = { source = "cloudphone/cph" }
  }
}
provider "cph" {}
variable "server_id" {}
variable "server_model" {}
variable "phone_model" {}
variable "timeout" { default = "2m" }
variable "auto_pay" { default = true }
resource "cph_server_flavor" "f" {
  server_id         = var.server_id
  server_model_name = var.server_model
  phone_model_name  = var.phone_model
  auto_pay          = var.auto_pay
  timeouts {
    create = var.timeout
    update = var.timeout
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

fn phones_var(ids: &[String]) -> String {
    format!("-var=phones={}", serde_json::to_string(ids).unwrap())
}

fn route_vars(ids: &[String], route: &str) -> Vec<String> {
    vec![phones_var(ids), format!("-var=route={route}")]
}

fn apply(w: &TfWorkdir, vars: &[String]) -> support::TfOutput {
    let mut args: Vec<&str> = vec!["apply", "-auto-approve", "-input=false", "-no-color"];
    args.extend(vars.iter().map(String::as_str));
    w.run_ok(&args)
}

fn try_apply(w: &TfWorkdir, vars: &[String]) -> support::TfOutput {
    let mut args: Vec<&str> = vec!["apply", "-auto-approve", "-input=false", "-no-color"];
    args.extend(vars.iter().map(String::as_str));
    w.run(&args)
}

/// `terraform plan -detailed-exitcode`: (exit code, stdout).
fn plan(w: &TfWorkdir, vars: &[String]) -> (i32, String) {
    let mut args: Vec<&str> = vec!["plan", "-detailed-exitcode", "-input=false", "-no-color"];
    args.extend(vars.iter().map(String::as_str));
    let out = w.run(&args);
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 2,
        "plan failed:\n{}\n{}",
        out.stdout,
        out.stderr
    );
    (code, out.stdout)
}

fn assert_empty_plan(w: &TfWorkdir, vars: &[String]) {
    let (code, out) = plan(w, vars);
    assert_eq!(code, 0, "expected no changes, got:\n{out}");
}

/// The values of the resource `address` in `terraform show -json`.
fn resource_values(w: &TfWorkdir, address: &str) -> Value {
    let state = w.state_json();
    let resources = state["values"]["root_module"]["resources"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    resources
        .into_iter()
        .find(|r| r["address"] == address)
        .map(|r| r["values"].clone())
        .unwrap_or(Value::Null)
}

fn state_phone_ids(w: &TfWorkdir) -> Vec<String> {
    let mut ids: Vec<String> = resource_values(w, "cph_phone_route.r")["phone_ids"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn route_lifecycle_create_update_grow_shrink_destroy() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&[]);
    let phones = emu.phone_ids_of(SERVER_ID);
    assert!(phones.len() >= 3, "default fleet has 3 phones per server");
    let w = workdir(&tf, &emu, ROUTE_TF);
    let two = phones[..2].to_vec();

    let (_, created) = plan(&w, &route_vars(&two, "routing"));
    assert!(created.contains("1 to add"), "{created}");
    assert!(
        created.contains("failed") && created.contains("(known after apply)"),
        "{created}"
    );
    apply(&w, &route_vars(&two, "routing"));
    for p in &two {
        assert_eq!(emu.route_of(p), "routing");
    }
    assert_eq!(emu.route_of(&phones[2]), "direct");
    let values = resource_values(&w, "cph_phone_route.r");
    assert_eq!(values["failed"], serde_json::json!({}), "{values}");
    assert_eq!(values["running"], serde_json::json!({}), "{values}");
    assert_eq!(values["summary"]["succeeded"], 2, "{values}");
    assert_eq!(values["summary"]["failed"], 0, "{values}");
    assert_empty_plan(&w, &route_vars(&two, "routing"));

    // Route change: in place, every phone re-routed.
    let (code, out) = plan(&w, &route_vars(&two, "direct"));
    assert_eq!(code, 2);
    assert!(out.contains("1 to change, 0 to destroy"), "{out}");
    apply(&w, &route_vars(&two, "direct"));
    for p in &two {
        assert_eq!(emu.route_of(p), "direct");
    }
    assert_empty_plan(&w, &route_vars(&two, "direct"));

    // Back to routing, then grow and shrink the set.
    apply(&w, &route_vars(&two, "routing"));
    apply(&w, &route_vars(&phones[..3], "routing"));
    assert_eq!(emu.route_of(&phones[2]), "routing");
    let (code, out) = plan(&w, &route_vars(&phones[2..3], "routing"));
    assert_eq!(code, 2);
    assert!(out.contains("1 to change, 0 to destroy"), "{out}");
    apply(&w, &route_vars(&phones[2..3], "routing"));
    assert_eq!(
        emu.route_of(&phones[0]),
        "direct",
        "removed phones go back to direct"
    );
    assert_eq!(emu.route_of(&phones[1]), "direct");
    assert_eq!(state_phone_ids(&w), vec![phones[2].clone()]);
    assert_empty_plan(&w, &route_vars(&phones[2..3], "routing"));

    w.run_ok(&[
        "destroy",
        "-auto-approve",
        "-no-color",
        &phones_var(&phones[2..3]),
    ]);
    assert_eq!(
        emu.route_of(&phones[2]),
        "direct",
        "destroy returns phones to direct"
    );
}

#[test]
fn route_past_100_phones_in_batches() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&["--servers", "2", "--phones-per-server", "130"]);
    let mut all = Vec::new();
    for s in emu.server_ids() {
        all.extend(emu.phone_ids_of(&s));
    }
    assert_eq!(all.len(), 260);
    let w = workdir(&tf, &emu, ROUTE_TF);

    emu.reset_calls();
    apply(&w, &route_vars(&all[..150], "routing"));
    let calls = emu.calls();
    assert_eq!(
        calls["phones_traffic"], 2,
        "150 phones take two calls: {calls:?}"
    );
    assert_eq!(
        calls["show_job"], 0,
        "jobs are read by list, not one by one: {calls:?}"
    );
    assert_eq!(calls["show_phone"], 0, "{calls:?}");
    assert_eq!(state_phone_ids(&w), sorted(all[..150].to_vec()));

    emu.reset_calls();
    apply(&w, &route_vars(&all[..250], "routing"));
    let calls = emu.calls();
    assert_eq!(
        calls["phones_traffic"], 1,
        "only the 100 added phones are routed: {calls:?}"
    );
    // The refresh lists phones per server; the 100 added phones are looked
    // up at plan in one listing of the project (260 phones: 2 pages), once
    // in the plan's process and once in the apply's.
    assert!(
        calls["list_phones"] <= 2 + 2 + 2 * 2,
        "refresh lists phones per server, the existence check the project once per process: {calls:?}"
    );
    assert_eq!(calls["show_phone"], 0, "{calls:?}");

    emu.reset_calls();
    apply(&w, &route_vars(&all[..20], "routing"));
    assert_eq!(
        emu.calls()["phones_traffic"],
        3,
        "230 removed phones go back to direct in 3 calls"
    );
    assert_eq!(emu.route_of(&all[100]), "direct");
    assert_eq!(emu.route_of(&all[19]), "routing");
    assert_empty_plan(&w, &route_vars(&all[..20], "routing"));
}

#[test]
fn route_drift_shows_in_plan_and_is_repaired() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&[]);
    let phones = emu.phone_ids_of(SERVER_ID)[..2].to_vec();
    let w = workdir(&tf, &emu, ROUTE_TF);
    apply(&w, &route_vars(&phones, "routing"));

    emu.set_phone_route(&phones[0], "direct");
    let (code, out) = plan(&w, &route_vars(&phones, "routing"));
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains(&phones[0]) && out.contains("1 to change"),
        "{out}"
    );
    apply(&w, &route_vars(&phones, "routing"));
    assert_eq!(emu.route_of(&phones[0]), "routing");
    assert_empty_plan(&w, &route_vars(&phones, "routing"));
}

#[test]
fn route_import_then_empty_plan() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&[]);
    let phones = emu.phone_ids_of(SERVER_ID);
    for p in &phones[..2] {
        emu.set_phone_route(p, "routing");
    }
    let w = workdir(&tf, &emu, ROUTE_TF);
    let vars = route_vars(&phones[..2], "routing");
    let id = phones[..2].join(",");
    w.run_ok(&[
        "import",
        "-input=false",
        "-no-color",
        &vars[0],
        &vars[1],
        "cph_phone_route.r",
        &id,
    ]);
    assert_empty_plan(&w, &vars);

    // Phones on different routes cannot form one resource.
    let w2 = workdir(&tf, &emu, ROUTE_TF);
    let mixed = format!("{},{}", phones[0], phones[2]);
    let out = w2.run(&[
        "import",
        "-input=false",
        "-no-color",
        &vars[0],
        &vars[1],
        "cph_phone_route.r",
        &mixed,
    ]);
    assert!(!out.status.success());
    assert!(out.stderr.contains("different routes"), "{}", out.stderr);
    let out = w2.run(&[
        "import",
        "-input=false",
        "-no-color",
        &vars[0],
        &vars[1],
        "cph_phone_route.r",
        "a,,b",
    ]);
    assert!(out.stderr.contains("Invalid import id"), "{}", out.stderr);
}

#[test]
fn route_failed_job_is_named_and_reapply_converges() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&[]);
    let phones = emu.phone_ids_of(SERVER_ID)[..3].to_vec();
    let w = workdir(&tf, &emu, ROUTE_TF);
    emu.fail_jobs_for(&[phones[1].as_str()]);
    // A create where some phones fail warns (an error would taint it, and
    // its replacement would send the healthy phones to direct and back).
    let out = try_apply(&w, &route_vars(&phones, "routing"));
    assert!(out.status.success(), "{}\n{}", out.stdout, out.stderr);
    let text = format!("{}{}", out.stdout, out.stderr);
    // (The plan printed before it lists every phone.)
    let warning = &text[text.find("Warning: Some phones").unwrap_or(0)..];
    assert!(
        warning.contains("Warning") && warning.contains(&phones[1]) && warning.contains("CPS."),
        "the warning names the phone and its code:\n{text}"
    );
    assert!(
        !warning.contains(&phones[0]),
        "only the failed phone is named:\n{text}"
    );
    assert!(
        !w.state_json().to_string().contains("tainted"),
        "a partly failed create is not tainted"
    );
    let values = resource_values(&w, "cph_phone_route.r");
    let failed = values["failed"].as_object().cloned().unwrap_or_default();
    assert_eq!(failed.len(), 1, "{values}");
    assert!(
        failed[&phones[1]]["error_code"]
            .as_str()
            .unwrap_or_default()
            .starts_with("CPS."),
        "{values}"
    );
    assert!(failed[&phones[1]]["job_id"].is_string(), "{values}");
    assert_eq!(values["summary"]["failed"], 1, "{values}");
    assert_eq!(values["summary"]["succeeded"], 2, "{values}");

    emu.clear_failing_jobs();
    let (code, out) = plan(&w, &route_vars(&phones, "routing"));
    assert_eq!(code, 2, "{out}");
    apply(&w, &route_vars(&phones, "routing"));
    assert_eq!(emu.route_of(&phones[1]), "routing");
    let values = resource_values(&w, "cph_phone_route.r");
    assert_eq!(values["failed"], serde_json::json!({}), "{values}");
    assert_eq!(values["summary"]["succeeded"], 3, "{values}");
    assert_empty_plan(&w, &route_vars(&phones, "routing"));
}

/// The lines of `plan -no-color` output about one resource: each section
/// from a `# address ...` comment (the change, and on Terraform 1.x the
/// refresh's "has been changed" notice) to its closing brace.
fn plan_lines_of(plan: &str, address: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut inside = false;
    for l in plan.lines() {
        inside = inside || l.trim_start().starts_with(&format!("# {address} "));
        if inside {
            out.push(l.to_string());
            inside = !l.starts_with("    }");
        }
    }
    out
}

#[test]
fn adding_back_one_failed_phone_of_300_shows_that_phone_not_every_phone() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&["--servers", "1", "--phones-per-server", "300"]);
    let phones = emu.phone_ids_of(&emu.server_ids()[0]);
    assert_eq!(phones.len(), 300);
    let w = workdir(&tf, &emu, ROUTE_TF);
    emu.fail_jobs_for(&[phones[7].as_str()]);
    let out = try_apply(&w, &route_vars(&phones, "routing"));
    assert!(out.status.success(), "{}\n{}", out.stdout, out.stderr);
    let values = resource_values(&w, "cph_phone_route.r");
    assert_eq!(values["summary"]["failed"], 1, "{}", values["summary"]);
    emu.clear_failing_jobs();

    let (code, out) = plan(&w, &route_vars(&phones, "routing"));
    assert_eq!(code, 2, "{out}");
    let lines = plan_lines_of(&out, "cph_phone_route.r");
    let shown = lines.join("\n");
    assert!(
        shown.contains(&phones[7]),
        "the failed phone is shown:\n{shown}"
    );
    assert!(
        !shown.contains(&phones[8]),
        "phones that do not change are not:\n{shown}"
    );
    assert!(
        lines.len() <= 40,
        "{} lines for one phone added back:\n{shown}",
        lines.len()
    );
    eprintln!("plan of the route ({} lines):\n{shown}", lines.len());
}

fn flavor_vars(server: &str, flavor: (&str, &str), timeout: &str) -> Vec<String> {
    vec![
        format!("-var=server_id={server}"),
        format!("-var=server_model={}", flavor.0),
        format!("-var=phone_model={}", flavor.1),
        format!("-var=timeout={timeout}"),
    ]
}

fn server_flavor(emu: &Emulator, server: &str) -> (String, String) {
    let s = emu.server(server);
    (
        s["server_model_name"].as_str().unwrap_or_default().into(),
        s["phone_model_name"].as_str().unwrap_or_default().into(),
    )
}

#[test]
fn flavor_change_in_place_import_and_destroy() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&[]);
    let w = workdir(&tf, &emu, FLAVOR_TF);
    let special = flavor_vars(SERVER_ID, SPECIAL_FLAVOR, "2m");

    let (_, out) = plan(&w, &special);
    assert!(
        out.contains("order_id") && out.contains("(known after apply)"),
        "{out}"
    );
    apply(&w, &special);
    assert_eq!(
        server_flavor(&emu, SERVER_ID),
        (SPECIAL_FLAVOR.0.into(), SPECIAL_FLAVOR.1.into())
    );
    let v = resource_values(&w, "cph_server_flavor.f");
    assert!(
        v["order_id"].as_str().unwrap_or_default().starts_with("CS"),
        "{v}"
    );
    assert_eq!(v["original_server_model_name"], FLAVOR.0);
    assert_eq!(v["status"], 5);
    assert_eq!(emu.orders().len(), 1);
    assert_empty_plan(&w, &special);

    // Attributes that order nothing change in place, without an order.
    let mut no_auto_pay = special.clone();
    no_auto_pay.push("-var=auto_pay=false".into());
    no_auto_pay.push("-var=timeout=5m".into());
    let (code, out) = plan(&w, &no_auto_pay);
    assert_eq!(code, 2);
    assert!(out.contains("1 to change, 0 to destroy"), "{out}");
    apply(&w, &no_auto_pay);
    assert_eq!(
        emu.orders().len(),
        1,
        "changing auto_pay or timeouts orders nothing"
    );
    assert_empty_plan(&w, &no_auto_pay);

    // Back to the base flavor: in place, never a replacement.
    let base = flavor_vars(SERVER_ID, FLAVOR, "2m");
    let (code, out) = plan(&w, &base);
    assert_eq!(code, 2);
    assert!(
        out.contains("1 to change, 0 to destroy") && !out.contains("must be replaced"),
        "{out}"
    );
    apply(&w, &base);
    assert_eq!(
        server_flavor(&emu, SERVER_ID),
        (FLAVOR.0.into(), FLAVOR.1.into())
    );
    assert_eq!(emu.orders().len(), 2);

    // Drift made out of band is shown and repaired.
    emu.set_server_flavor(SERVER_ID, SPECIAL_FLAVOR.0, SPECIAL_FLAVOR.1);
    let (code, out) = plan(&w, &base);
    assert_eq!(code, 2, "{out}");
    apply(&w, &base);
    assert_eq!(
        server_flavor(&emu, SERVER_ID),
        (FLAVOR.0.into(), FLAVOR.1.into())
    );
    assert_empty_plan(&w, &base);

    // Import into a fresh directory, then an empty plan.
    let w2 = workdir(&tf, &emu, FLAVOR_TF);
    let mut args = vec!["import", "-input=false", "-no-color"];
    args.extend(base.iter().map(String::as_str));
    args.extend(["cph_server_flavor.f", SERVER_ID]);
    w2.run_ok(&args);
    let out = w2.run(&[
        "plan",
        "-no-color",
        "-detailed-exitcode",
        &base[0],
        &base[1],
        &base[2],
        &base[3],
    ]);
    // auto_pay and timeouts are not read back, so only they may differ.
    assert!(
        !out.stdout.contains("must be replaced") && !out.stdout.contains("server_model_name"),
        "{}",
        out.stdout
    );

    w.run_ok(&[
        "destroy",
        "-auto-approve",
        "-no-color",
        &base[0],
        &base[1],
        &base[2],
        &base[3],
    ]);
    assert_eq!(
        server_flavor(&emu, SERVER_ID),
        (FLAVOR.0.into(), FLAVOR.1.into()),
        "destroy leaves the flavor"
    );
}

#[test]
fn flavor_already_on_target_orders_nothing_and_vanished_server_leaves_state() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&[]);
    let w = workdir(&tf, &emu, FLAVOR_TF);
    let base = flavor_vars(SERVER_ID, FLAVOR, "2m");
    apply(&w, &base);
    assert_eq!(emu.calls()["change_server_model"], 0);
    assert!(emu.orders().is_empty());
    assert_empty_plan(&w, &base);

    emu.delete_server(SERVER_ID);
    let (code, out) = plan(&w, &base);
    assert_eq!(code, 2);
    assert!(
        out.contains("1 to add"),
        "a vanished server leaves the state:\n{out}"
    );
}

#[test]
fn flavor_timeout_names_the_order_and_reapply_does_not_order_again() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&["--order-seconds", "6"]);
    let w = workdir(&tf, &emu, FLAVOR_TF);
    let out = try_apply(&w, &flavor_vars(SERVER_ID, SPECIAL_FLAVOR, "1s"));
    assert!(!out.status.success());
    let orders = emu.orders();
    assert_eq!(orders.len(), 1, "{orders:?}");
    let order_id = orders[0]["order_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        out.stderr.contains(&order_id),
        "the error names order {order_id}:\n{}",
        out.stderr
    );
    assert_eq!(
        resource_values(&w, "cph_server_flavor.f")["order_id"],
        order_id.as_str(),
        "the order is in state"
    );

    let (code, out) = plan(&w, &flavor_vars(SERVER_ID, SPECIAL_FLAVOR, "1m"));
    assert_eq!(
        code, 2,
        "the change still to come shows in the plan:\n{out}"
    );
    apply(&w, &flavor_vars(SERVER_ID, SPECIAL_FLAVOR, "1m"));
    assert_eq!(
        emu.orders().len(),
        1,
        "the second apply waited for the first order"
    );
    assert_eq!(
        server_flavor(&emu, SERVER_ID),
        (SPECIAL_FLAVOR.0.into(), SPECIAL_FLAVOR.1.into())
    );
    assert_empty_plan(&w, &flavor_vars(SERVER_ID, SPECIAL_FLAVOR, "1m"));
}

const DATA_TF: &str = r#"
terraform {
  required_providers {
    cph = { source = "cloudphone/cph" }
  }
}
provider "cph" {}
variable "server_id" {}
data "cph_server" "s" { server_id = var.server_id }
data "cph_phones" "all" { server_id = var.server_id }
data "cph_phones" "one" {
  server_id = var.server_id
  phone_id  = data.cph_phones.all.phone_ids[0]
}
resource "cph_phone_route" "r" {
  phone_ids    = data.cph_phones.all.phone_ids
  traffic_type = "routing"
}
output "flavor" { value = data.cph_server.s.server_model_name }
output "count" { value = length(data.cph_phones.all.phones) }
output "one" { value = data.cph_phones.one.phone_ids }
"#;

fn data_sources_and_routes_with(env: Vec<(String, String)>, emu: &Emulator, tf: &TfBin) {
    let mut w = TfWorkdir::new(tf, DATA_TF);
    for (k, v) in env {
        w.set_env(&k, &v);
    }
    let var = format!("-var=server_id={SERVER_ID}");
    apply(&w, std::slice::from_ref(&var));
    let out = w.run_ok(&["output", "-json"]);
    let outputs: Value = serde_json::from_str(&out.stdout).expect("outputs");
    assert_eq!(outputs["flavor"]["value"], FLAVOR.0);
    assert_eq!(outputs["count"]["value"], 3);
    assert_eq!(outputs["one"]["value"].as_array().map(Vec::len), Some(1));
    assert_eq!(emu.route_of(PHONE_ID), "routing");
    assert_empty_plan(&w, std::slice::from_ref(&var));
    w.run_ok(&["destroy", "-auto-approve", "-no-color", &var]);
    assert_eq!(emu.route_of(PHONE_ID), "direct");
}

#[test]
fn every_auth_method_from_environment() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&[]);
    data_sources_and_routes_with(emu.token_env(), &emu, &tf);
    data_sources_and_routes_with(emu.aksk_env(), &emu, &tf);
    data_sources_and_routes_with(emu.password_env(), &emu, &tf);
    assert!(
        emu.calls()["iam_tokens"] >= 1,
        "password auth went through IAM"
    );
}

#[test]
fn settings_in_the_provider_block() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&[]);
    let block = format!(
        r#"provider "cph" {{
  region     = "{}"
  project_id = "{}"
  endpoint   = "{}"
  access_key = "{}"
  secret_key = "{}"
  max_retries = 2
}}"#,
        emu::REGION,
        emu::PROJECT_ID,
        emu.url,
        emu::ACCESS_KEY,
        emu::SECRET_KEY
    );
    let w = TfWorkdir::new(&tf, &DATA_TF.replace("provider \"cph\" {}", &block));
    let var = format!("-var=server_id={SERVER_ID}");
    apply(&w, std::slice::from_ref(&var));
    assert_eq!(emu.route_of(PHONE_ID), "routing");
}

#[test]
fn bad_input_fails_at_plan_with_the_attribute_and_no_api_call() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&[]);
    let cases: [(&str, &str); 5] = [
        (
            r#"resource "cph_phone_route" "r" { phone_ids = ["p1"] traffic_type = "fast" }"#,
            "traffic_type",
        ),
        (
            r#"resource "cph_phone_route" "r" { phone_ids = [] traffic_type = "routing" }"#,
            "phone_ids",
        ),
        (
            r#"resource "cph_server_flavor" "f" { server_id = "s" server_model_name = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" phone_model_name = "p" }"#,
            "server_model_name",
        ),
        (
            r#"resource "cph_server_flavor" "f" { server_id = "" server_model_name = "a" phone_model_name = "p" }"#,
            "server_id",
        ),
        (
            r#"resource "cph_phone_route" "r" {
  phone_ids    = ["p1"]
  traffic_type = "routing"
  timeouts { create = "soon" }
}"#,
            "timeouts",
        ),
    ];
    for (resource, attribute) in cases {
        let tf_text = format!(
            "{}\n{resource}\n",
            ROUTE_TF.split("variable").next().unwrap_or_default()
        );
        let w = workdir(&tf, &emu, &tf_text);
        emu.reset_calls();
        let out = w.run(&["plan", "-no-color", "-input=false"]);
        assert!(!out.status.success(), "{resource}");
        assert!(
            out.stderr.contains(attribute),
            "error names {attribute}:\n{}",
            out.stderr
        );
        let calls: u64 = emu.calls().values().sum();
        assert_eq!(calls, 0, "no API call for bad input: {resource}");
    }
}

#[test]
fn parallel_refreshes_share_phone_listings() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&["--servers", "2", "--phones-per-server", "30"]);
    let servers = emu.server_ids();
    let (a, b) = (emu.phone_ids_of(&servers[0]), emu.phone_ids_of(&servers[1]));
    let pairs: Vec<Vec<String>> = (0..30).map(|i| vec![a[i].clone(), b[i].clone()]).collect();
    let main_tf = r#"
terraform {
  required_providers {
    cph = { source = "cloudphone/cph" }
  }
}
provider "cph" {}
variable "pairs" { type = list(list(string)) }
resource "cph_phone_route" "r" {
  count        = length(var.pairs)
  phone_ids    = var.pairs[count.index]
  traffic_type = "routing"
}
"#;
    let w = workdir(&tf, &emu, main_tf);
    let var = format!("-var=pairs={}", serde_json::to_string(&pairs).unwrap());
    apply(&w, std::slice::from_ref(&var));
    // 60 phones in 30 resources, applied 10 at a time (Terraform's default
    // parallelism): the fleet engine merges each wave into one call.
    assert!(emu.calls()["phones_traffic"] <= 6, "{:?}", emu.calls());

    emu.reset_calls();
    assert_empty_plan(&w, std::slice::from_ref(&var));
    let calls = emu.calls();
    // 30 resources on 2 servers: each server listed once per few seconds,
    // not once per resource, and no phone read one by one.
    assert!(
        calls["list_phones"] <= 6,
        "refreshes share listings: {calls:?}"
    );
    assert_eq!(calls["show_phone"], 0, "{calls:?}");
}

//! Acceptance tests of issue [I]: flavor targets checked against the
//! catalogue at plan, `cph_server_flavor_options`, and orders followed
//! through BSS (cancelled, pending payment then auto_pay, completed without
//! the flavor). The real terraform against a `cph-emulator`; `TF_ACC=1`.

mod emu;
mod support;

use emu::{Emulator, FLAVOR, SERVER_ID, SPECIAL_FLAVOR};
use serde_json::Value;
use support::{TfBin, TfWorkdir};

const FLAVOR_TF: &str = r#"
provider "cph" {}
variable "server_id" {}
variable "server_model" {}
variable "phone_model" {}
variable "timeout" { default = "1m" }
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

const OPTIONS_TF: &str = r#"
provider "cph" {}
variable "server_id" {}
data "cph_server_flavor_options" "o" { server_id = var.server_id }
output "options" {
  value = [for o in data.cph_server_flavor_options.o.options : "${o.server_model_name}/${o.phone_model_name}/${o.phone_capacity}/${o.upgrade}"]
}
output "capacity" { value = data.cph_server_flavor_options.o.phone_capacity }
"#;

fn workdir(tf: &TfBin, emu: &Emulator, main_tf: &str) -> TfWorkdir {
    let mut w = TfWorkdir::new(tf, main_tf);
    for (k, v) in emu.token_env() {
        w.set_env(&k, &v);
    }
    w
}

fn vars(flavor: (&str, &str), auto_pay: bool, timeout: &str) -> Vec<String> {
    vec![
        format!("-var=server_id={SERVER_ID}"),
        format!("-var=server_model={}", flavor.0),
        format!("-var=phone_model={}", flavor.1),
        format!("-var=auto_pay={auto_pay}"),
        format!("-var=timeout={timeout}"),
    ]
}

fn run(w: &TfWorkdir, cmd: &[&str], vars: &[String]) -> support::TfOutput {
    let mut args: Vec<&str> = cmd.to_vec();
    args.extend(["-input=false", "-no-color"]);
    args.extend(vars.iter().map(String::as_str));
    w.run(&args)
}

fn apply(w: &TfWorkdir, vars: &[String]) -> support::TfOutput {
    run(w, &["apply", "-auto-approve"], vars)
}

fn assert_ok(out: &support::TfOutput) {
    assert!(
        out.success(),
        "terraform failed:\n{}\n{}",
        out.stdout,
        out.stderr
    );
}

fn plan_code(w: &TfWorkdir, vars: &[String]) -> (i32, String) {
    let out = run(w, &["plan", "-detailed-exitcode"], vars);
    (
        out.status.code().unwrap_or(-1),
        format!("{}{}", out.stdout, out.stderr),
    )
}

fn server_flavor(emu: &Emulator) -> (String, String) {
    let s = emu.server(SERVER_ID);
    (
        s["server_model_name"].as_str().unwrap_or_default().into(),
        s["phone_model_name"].as_str().unwrap_or_default().into(),
    )
}

fn order_ids(emu: &Emulator) -> Vec<String> {
    emu.orders()
        .iter()
        .map(|o| o["order_id"].as_str().unwrap_or_default().to_string())
        .collect()
}

const BIGGER: (&str, &str) = ("physical.rx1.2xlarge.special", "rx1.cp.sp.c210.d16.e5v5");

#[test]
fn wrong_targets_are_refused_at_plan_naming_the_attribute_with_no_post() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&[]);
    let w = workdir(&tf, &emu, FLAVOR_TF);
    let cases: [((&str, &str), &str, &[&str]); 4] = [
        (
            ("physical.rx9.none", FLAVOR.1),
            "server_model_name",
            &["physical.rx9.none"],
        ),
        (
            ("physical.rx1.xlarge.special", "rx1.cp.sp.c210.d16.e5v5"),
            "phone_model_name",
            &["not sold"],
        ),
        (
            ("physical.rx1.xlarge", "rx1.cp.c15.d46.e1v0"),
            "phone_model_name",
            &["withdrawn"],
        ),
        (
            ("physical.rx1.xlarge.special", "rx1.cp.sp.c52.d4.e5v5"),
            "phone_model_name",
            &["30", "15"],
        ),
    ];
    for (target, attribute, words) in cases {
        let out = run(&w, &["plan"], &vars(target, true, "1m"));
        let text = format!("{}{}", out.stdout, out.stderr);
        assert!(!out.success(), "{target:?} should be refused:\n{text}");
        // Terraform shows the attribute's line of the configuration.
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with(char::is_numeric)
                    && l.contains(&format!("{attribute} "))
                    && l.contains("= var.")),
            "{attribute} not named:\n{text}"
        );
        for word in words {
            assert!(text.contains(word), "{target:?}: {word:?} missing:\n{text}");
        }
        // The valid targets are listed.
        assert!(
            text.contains("rx1.cp.sp.c210.d16.e5v5") && text.contains("Valid targets"),
            "{text}"
        );
    }
    let methods = emu.calls_by_method();
    assert_eq!(methods.get("POST").copied().unwrap_or(0), 0, "{methods:?}");
    assert!(emu.orders().is_empty());
    // The catalogue was read, and once per terraform run at most.
    assert!(emu.calls()["list_server_models"] >= 1);
}

#[test]
fn a_valid_change_orders_once_then_the_plan_is_empty_and_upgrades_warn_without_auto_pay() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&["--order-seconds", "1"]);
    let w = workdir(&tf, &emu, FLAVOR_TF);
    let out = run(&w, &["plan"], &vars(SPECIAL_FLAVOR, false, "1m"));
    assert_ok(&out);
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(text.contains("Upgrade waits for payment"), "{text}");

    let v = vars(SPECIAL_FLAVOR, true, "1m");
    let out = run(&w, &["plan"], &v);
    assert!(
        !format!("{}{}", out.stdout, out.stderr).contains("Upgrade waits for payment"),
        "auto_pay = true: no warning"
    );
    assert_ok(&apply(&w, &v));
    assert_eq!(
        server_flavor(&emu),
        (SPECIAL_FLAVOR.0.into(), SPECIAL_FLAVOR.1.into())
    );
    assert_eq!(emu.orders().len(), 1);
    let (code, text) = plan_code(&w, &v);
    assert_eq!(code, 0, "{text}");
}

#[test]
fn the_data_source_lists_exactly_the_valid_targets() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&[]);
    let w = workdir(&tf, &emu, OPTIONS_TF);
    let v = vec![format!("-var=server_id={SERVER_ID}")];
    assert_ok(&apply(&w, &v));
    let out = w.run_ok(&["output", "-json"]);
    let outputs: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(outputs["capacity"]["value"], 15);
    let options: Vec<String> = serde_json::from_value(outputs["options"]["value"].clone()).unwrap();
    assert_eq!(
        options,
        vec![
            "physical.rx1.xlarge.special/rx1.cp.sp.c105.d8.e5v5/15/true",
            "physical.rx1.2xlarge.special/rx1.cp.sp.c105.d8.e5v5/15/true",
            "physical.rx1.2xlarge.special/rx1.cp.sp.c210.d16.e5v5/15/true",
        ]
    );
    // Each listed target is accepted by the API: the emulator's judgement.
    for o in &options {
        let parts: Vec<&str> = o.split('/').collect();
        let f = workdir(&tf, &emu, FLAVOR_TF);
        let out = run(&f, &["plan"], &vars((parts[0], parts[1]), true, "1m"));
        assert_ok(&out);
    }
}

#[test]
fn a_cancelled_order_is_ordered_again_by_the_next_apply() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&["--order-seconds", "1"]);
    let w = workdir(&tf, &emu, FLAVOR_TF);
    // Without auto_pay the upgrade waits for payment: a short timeout.
    let out = apply(&w, &vars(SPECIAL_FLAVOR, false, "3s"));
    assert!(!out.success());
    let ids = order_ids(&emu);
    assert_eq!(ids.len(), 1);
    assert!(
        out.stderr.contains(&ids[0]) && out.stderr.contains("pending payment until"),
        "the error names the order and its payment deadline:\n{}",
        out.stderr
    );
    emu.order_admin(&ids[0], "cancel", None);

    // The next apply (the create was tainted: a replacement) orders again.
    let v = vars(SPECIAL_FLAVOR, true, "1m");
    assert_ok(&apply(&w, &v));
    assert_eq!(order_ids(&emu).len(), 2, "a new order");
    assert_eq!(
        server_flavor(&emu),
        (SPECIAL_FLAVOR.0.into(), SPECIAL_FLAVOR.1.into())
    );
    let (code, text) = plan_code(&w, &v);
    assert_eq!(code, 0, "{text}");
}

#[test]
fn pending_payment_then_auto_pay_pays_it_and_converges_with_one_order() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&["--order-seconds", "1"]);
    let w = workdir(&tf, &emu, FLAVOR_TF);
    // A first apply managing the server as it is, so that the change is an
    // update (not a tainted create).
    assert_ok(&apply(&w, &vars(FLAVOR, false, "1m")));
    let out = apply(&w, &vars(SPECIAL_FLAVOR, false, "3s"));
    assert!(!out.success());
    assert!(out.stderr.contains("pending payment"), "{}", out.stderr);
    assert_eq!(emu.orders()[0]["status"], "awaiting_payment");

    let v = vars(SPECIAL_FLAVOR, true, "1m");
    assert_ok(&apply(&w, &v));
    let orders = emu.orders();
    assert_eq!(orders.len(), 1, "one order in all: {orders:?}");
    assert_eq!(orders[0]["status"], "succeeded");
    assert_eq!(emu.calls()["bss_pay_order"], 1);
    assert_eq!(
        server_flavor(&emu),
        (SPECIAL_FLAVOR.0.into(), SPECIAL_FLAVOR.1.into())
    );
    let (code, text) = plan_code(&w, &v);
    assert_eq!(code, 0, "{text}");
}

#[test]
fn a_completed_order_without_the_flavor_is_a_clear_error() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&["--order-seconds", "600"]);
    let w = workdir(&tf, &emu, FLAVOR_TF);
    assert_ok(&apply(&w, &vars(FLAVOR, true, "1m")));
    let out = apply(&w, &vars(BIGGER, true, "2s"));
    assert!(!out.success());
    let ids = order_ids(&emu);
    emu.order_admin(
        &ids[0],
        "complete",
        Some(serde_json::json!({"apply_flavor": false})),
    );

    let out = apply(&w, &vars(BIGGER, true, "1m"));
    assert!(!out.success());
    assert!(
        out.stderr.contains(&ids[0]) && out.stderr.contains("completed"),
        "{}",
        out.stderr
    );
    assert_eq!(order_ids(&emu).len(), 1, "no new order in that apply");
}

#[test]
fn without_bss_permission_the_wait_goes_on_with_a_warning() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&["--order-seconds", "1"]);
    emu.add_fault(serde_json::json!({
        "endpoint": "bss_show_order", "kind": "status", "status": 403, "count": 100,
        "error_code": "CBC.0150", "error_msg": "no permission"
    }));
    let w = workdir(&tf, &emu, FLAVOR_TF);
    let out = apply(&w, &vars(SPECIAL_FLAVOR, true, "1m"));
    assert_ok(&out);
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(
        text.contains("Order not followed through BSS") && text.contains("CBC.0150"),
        "{text}"
    );
    assert_eq!(
        server_flavor(&emu),
        (SPECIAL_FLAVOR.0.into(), SPECIAL_FLAVOR.1.into())
    );
}

/// The values `terraform show -json` records for the flavor resource.
fn recorded(w: &TfWorkdir) -> Value {
    w.state_json()["values"]["root_module"]["resources"][0]["values"].clone()
}

fn originals(values: &Value) -> (String, String) {
    (
        values["original_server_model_name"]
            .as_str()
            .unwrap_or_default()
            .into(),
        values["original_phone_model_name"]
            .as_str()
            .unwrap_or_default()
            .into(),
    )
}

/// Polls the emulator (not a timing assertion) until the server shows
/// `flavor`: an order paid out of band completes `--order-seconds` later.
fn wait_until_shown(emu: &Emulator, flavor: (&str, &str)) {
    for _ in 0..300 {
        if server_flavor(emu) == (flavor.0.into(), flavor.1.into())
            && emu.server(SERVER_ID)["status"] == 5
        {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!(
        "the server never showed {flavor:?}: {}",
        emu.server(SERVER_ID)
    );
}

#[test]
fn a_create_timing_out_on_payment_then_paid_out_of_band_converges_keeping_its_history() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&["--order-seconds", "1"]);
    let w = workdir(&tf, &emu, FLAVOR_TF);
    let v = vars(SPECIAL_FLAVOR, false, "3s");
    let out = apply(&w, &v);
    assert!(
        !out.success(),
        "the create waits for payment until its timeout"
    );
    let ids = order_ids(&emu);
    assert_eq!(ids.len(), 1);
    let before = recorded(&w);
    assert_eq!(originals(&before), (FLAVOR.0.into(), FLAVOR.1.into()));
    assert_eq!(before["order_id"], ids[0].as_str());

    // Paid in the console: the order completes without Terraform.
    emu.order_admin(&ids[0], "pay", None);
    wait_until_shown(&emu, SPECIAL_FLAVOR);

    let out = apply(&w, &v);
    assert_ok(&out);
    assert_eq!(order_ids(&emu), ids, "one order in all");
    let after = recorded(&w);
    assert_eq!(
        originals(&after),
        (FLAVOR.0.into(), FLAVOR.1.into()),
        "the originals are the flavors before the order:\n{after}"
    );
    assert_eq!(after["order_id"], ids[0].as_str(), "{after}");
    assert_eq!(after["product_id"], before["product_id"], "{after}");
    assert_eq!(after["server_model_name"], SPECIAL_FLAVOR.0);
    let (code, text) = plan_code(&w, &v);
    assert_eq!(code, 0, "{text}");
}

#[test]
fn a_create_timing_out_on_payment_is_followed_not_ordered_again_when_auto_pay_is_set() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&["--order-seconds", "1"]);
    let w = workdir(&tf, &emu, FLAVOR_TF);
    assert!(!apply(&w, &vars(SPECIAL_FLAVOR, false, "3s")).success());
    let ids = order_ids(&emu);
    assert_eq!(ids.len(), 1);

    let v = vars(SPECIAL_FLAVOR, true, "1m");
    assert_ok(&apply(&w, &v));
    assert_eq!(order_ids(&emu), ids, "the same order, paid");
    assert_eq!(emu.calls()["bss_pay_order"], 1);
    let after = recorded(&w);
    assert_eq!(originals(&after), (FLAVOR.0.into(), FLAVOR.1.into()));
    assert_eq!(after["order_id"], ids[0].as_str(), "{after}");
    let (code, text) = plan_code(&w, &v);
    assert_eq!(code, 0, "{text}");
}

#[test]
fn a_forced_replacement_keeps_the_originals_and_the_last_order() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&["--order-seconds", "1"]);
    let w = workdir(&tf, &emu, FLAVOR_TF);
    let v = vars(SPECIAL_FLAVOR, true, "1m");
    assert_ok(&apply(&w, &v));
    let ids = order_ids(&emu);
    assert_eq!(ids.len(), 1);
    let first = recorded(&w);
    assert_eq!(originals(&first), (FLAVOR.0.into(), FLAVOR.1.into()));

    let replaced = run(
        &w,
        &["apply", "-auto-approve", "-replace=cph_server_flavor.f"],
        &v,
    );
    assert_ok(&replaced);
    assert!(
        replaced.stdout.contains("1 added") && replaced.stdout.contains("1 destroyed"),
        "a replacement:\n{}",
        replaced.stdout
    );
    let after = recorded(&w);
    assert_eq!(originals(&after), originals(&first), "{after}");
    assert_eq!(after["order_id"], ids[0].as_str(), "{after}");
    assert_eq!(after["product_id"], first["product_id"], "{after}");

    // Tainted by hand: the same.
    w.run_ok(&["taint", "cph_server_flavor.f"]);
    assert_ok(&apply(&w, &v));
    let after = recorded(&w);
    assert_eq!(originals(&after), originals(&first), "{after}");
    assert_eq!(after["order_id"], ids[0].as_str(), "{after}");
    assert_eq!(order_ids(&emu), ids, "no order placed by a replacement");
    let (code, text) = plan_code(&w, &v);
    assert_eq!(code, 0, "{text}");
}

#[test]
fn replace_triggered_by_keeps_the_originals_and_the_last_order_on_terraform_1_15() {
    if support::acc().is_none() {
        return;
    }
    let tf = support::TfBin::at(support::tool_path(
        "TF_ACC_TERRAFORM_1_15_PATH",
        "terraform-1.15",
    ));
    let emu = Emulator::start(&["--order-seconds", "1"]);
    let main_tf = FLAVOR_TF.replace(
        "  timeouts {",
        "  lifecycle { replace_triggered_by = [terraform_data.generation] }\n  timeouts {",
    ) + "variable \"generation\" { default = 1 }\nresource \"terraform_data\" \"generation\" { input = var.generation }\n";
    let w = workdir(&tf, &emu, &main_tf);
    let mut v = vars(SPECIAL_FLAVOR, true, "1m");
    assert_ok(&apply(&w, &v));
    let ids = order_ids(&emu);
    let first = recorded_at(&w, "cph_server_flavor");
    assert_eq!(originals(&first), (FLAVOR.0.into(), FLAVOR.1.into()));

    v.push("-var=generation=2".into());
    let out = apply(&w, &v);
    assert_ok(&out);
    assert!(out.stdout.contains("will be replaced"), "{}", out.stdout);
    let after = recorded_at(&w, "cph_server_flavor");
    assert_eq!(originals(&after), originals(&first), "{after}");
    assert_eq!(after["order_id"], ids[0].as_str(), "{after}");
    assert_eq!(order_ids(&emu), ids, "no order placed by the replacement");
}

/// The values of the resource of type `kind` in the state.
fn recorded_at(w: &TfWorkdir, kind: &str) -> Value {
    let state = w.state_json();
    let resources = state["values"]["root_module"]["resources"]
        .as_array()
        .cloned();
    let found = resources
        .unwrap_or_default()
        .into_iter()
        .find(|r| r["type"] == kind);
    found.map(|r| r["values"].clone()).unwrap_or_default()
}

//! Acceptance tests of issue [T] for `cph_server_flavor`: the plan refuses
//! exactly what `cph_server_flavor_options` leaves out (another product
//! type included) and a `server_id` that names no server, with no write
//! call; an order left unpaid is read rarely and its server not at all.
//! The real terraform (1.0.3 and 1.15.5) against a `cph-emulator`;
//! `TF_ACC=1`.

mod emu;
mod support;

use emu::{Emulator, FLAVOR, SERVER_ID, SPECIAL_FLAVOR};
use support::{TfBin, TfOutput, TfWorkdir};

const FLAVOR_TF: &str = r#"
provider "cph" {}
variable "server_id" {}
variable "server_model" {}
variable "phone_model" {}
variable "auto_pay" { default = true }
variable "timeout" { default = "1m" }
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

/// A server id of the right form that names no server.
const MISSING_SERVER: &str = "ffffffffffffffffffffffffffffffff";
/// A cloud game flavor (product type 1), same capacity, on sale: another
/// product type than the emulator's rx1 servers.
const KG1: (&str, &str) = ("physical.kg1.4xlarge.cp", "kg1.cp.c15.d46.e1v1");

fn both(tf: &TfBin) -> Vec<TfBin> {
    let newest = support::tool_path("TF_ACC_TERRAFORM_1_15_PATH", "terraform-1.15");
    vec![tf.clone(), TfBin::at(newest)]
}

fn workdir(tf: &TfBin, emu: &Emulator, main_tf: &str) -> TfWorkdir {
    let mut w = TfWorkdir::new(tf, main_tf);
    for (k, v) in emu.token_env() {
        w.set_env(&k, &v);
    }
    w
}

fn run(w: &TfWorkdir, cmd: &[&str], server_id: &str, flavor: (&str, &str)) -> TfOutput {
    run_with(w, cmd, server_id, flavor, &[])
}

fn run_with(
    w: &TfWorkdir,
    cmd: &[&str],
    server_id: &str,
    flavor: (&str, &str),
    more: &[&str],
) -> TfOutput {
    let vars = [
        format!("-var=server_id={server_id}"),
        format!("-var=server_model={}", flavor.0),
        format!("-var=phone_model={}", flavor.1),
    ];
    let mut args: Vec<&str> = cmd.to_vec();
    args.extend(["-input=false", "-no-color"]);
    args.extend(vars.iter().map(String::as_str));
    args.extend(more);
    w.run(&args)
}

fn text(out: &TfOutput) -> String {
    format!("{}{}", out.stdout, out.stderr)
}

/// Terraform shows the configuration line of the attribute at fault.
fn names_attribute(text: &str, attribute: &str) -> bool {
    text.lines().any(|l| {
        l.trim_start().starts_with(char::is_numeric)
            && l.contains(&format!("{attribute} "))
            && l.contains("= var.")
    })
}

fn writes(emu: &Emulator) -> u64 {
    let methods = emu.calls_by_method();
    ["POST", "PUT", "DELETE", "PATCH"]
        .iter()
        .map(|m| methods.get(*m).copied().unwrap_or(0))
        .sum()
}

#[test]
fn another_product_type_and_a_missing_server_are_refused_at_plan_with_no_write() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&[]);
    for tf in both(&tf) {
        let w = workdir(&tf, &emu, FLAVOR_TF);
        // What the data source leaves out: a cloud game flavor on a cloud
        // phone server. Refused at server_model_name, listing the targets.
        for target in [
            KG1,
            ("physical.kg1.4xlarge.cp.special", "kg1.cp.sp.c15.d46.e5v5"),
        ] {
            let out = run(&w, &["plan"], SERVER_ID, target);
            let t = text(&out);
            assert!(!out.success(), "{} {target:?} planned:\n{t}", tf.version());
            assert!(t.contains("Server flavor of another product type"), "{t}");
            assert!(names_attribute(&t, "server_model_name"), "{t}");
            for listed in [
                "Valid targets for server",
                "physical.rx1.xlarge.special / rx1.cp.sp.c105.d8.e5v5",
                "physical.rx1.2xlarge.special / rx1.cp.sp.c210.d16.e5v5",
            ] {
                assert!(support::flat(&t).contains(listed), "{listed:?}:\n{t}");
            }
        }
        // A server_id that names no server: refused at server_id, at plan.
        let out = run(&w, &["plan"], MISSING_SERVER, SPECIAL_FLAVOR);
        let t = text(&out);
        assert!(
            !out.success(),
            "{} planned a missing server:\n{t}",
            tf.version()
        );
        assert!(t.contains("Cloud phone server not found"), "{t}");
        assert!(t.contains(MISSING_SERVER), "{t}");
        assert!(names_attribute(&t, "server_id"), "{t}");
    }
    assert_eq!(writes(&emu), 0, "{:?}", emu.calls_by_method());
    assert!(emu.orders().is_empty());
}

#[test]
fn a_server_deleted_while_in_state_warns_a_new_resource_on_it_is_refused_an_unknown_id_is_not_checked()
 {
    let Some(_) = support::acc() else { return };
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let emu = Emulator::start(&[]);
    // Managing the server as it is sends nothing.
    let w = workdir(&tf, &emu, FLAVOR_TF);
    let out = run(&w, &["apply", "-auto-approve"], SERVER_ID, FLAVOR);
    assert!(out.success(), "{}", text(&out));
    emu.delete_server(SERVER_ID);
    emu.reset_calls();
    // The refresh drops it from the state; planned anew it is a warning
    // (what was built on the server can still be planned and destroyed).
    let out = run(&w, &["plan", "-detailed-exitcode"], SERVER_ID, FLAVOR);
    let t = support::flat(&text(&out));
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(t.contains("Cloud phone server not found"), "{t}");
    assert!(t.contains("deleted outside Terraform"), "{t}");
    assert!(run(&w, &["destroy", "-auto-approve"], SERVER_ID, FLAVOR).success());
    // The same server in a configuration that never managed it: an error.
    let fresh = workdir(&tf, &emu, FLAVOR_TF);
    let out = run(&fresh, &["plan"], SERVER_ID, FLAVOR);
    let t = text(&out);
    assert!(!out.success(), "{t}");
    assert!(t.contains("Cloud phone server not found"), "{t}");
    assert!(names_attribute(&t, "server_id"), "{t}");
    assert_eq!(writes(&emu), 0, "{:?}", emu.calls_by_method());

    // A server_id known only after apply is not checked at plan.
    let unknown = FLAVOR_TF.replace(
        "server_id         = var.server_id",
        "server_id         = terraform_data.id.output",
    ) + "resource \"terraform_data\" \"id\" { input = var.server_id }\n";
    let w = workdir(&tf, &emu, &unknown);
    let out = run(&w, &["plan"], MISSING_SERVER, SPECIAL_FLAVOR);
    assert!(out.success(), "{}", text(&out));
    assert!(out.stdout.contains("(known after apply)"), "{}", out.stdout);
    assert_eq!(writes(&emu), 0, "{:?}", emu.calls_by_method());
}

#[test]
fn an_unpaid_order_is_read_once_over_a_short_timeout_and_the_next_apply_follows_it() {
    let Some(tf) = support::acc() else { return };
    for tf in both(&tf) {
        let emu = Emulator::start(&["--order-seconds", "1"]);
        let w = workdir(&tf, &emu, FLAVOR_TF);
        assert!(run(&w, &["apply", "-auto-approve"], SERVER_ID, FLAVOR).success());
        let unpaid = ["-var=auto_pay=false", "-var=timeout=5s"];
        let out = run_with(&w, &["plan"], SERVER_ID, SPECIAL_FLAVOR, &unpaid);
        let t = support::flat(&text(&out));
        assert!(t.contains("Upgrade waits for payment"), "{t}");
        assert!(
            t.contains("timeouts.create") && t.contains("same order"),
            "the warning says how to keep CI from blocking:\n{t}"
        );

        emu.reset_calls();
        let apply = ["apply", "-auto-approve"];
        let out = run_with(&w, &apply, SERVER_ID, SPECIAL_FLAVOR, &unpaid);
        assert!(!out.success(), "{}", text(&out));
        assert!(out.stderr.contains("pending payment"), "{}", out.stderr);
        let calls = emu.calls();
        let count = |name: &str| calls.get(name).copied().unwrap_or(0);
        eprintln!(
            "{}: a 5s unpaid wait read BSS {} times, the server {} times",
            tf.version(),
            count("bss_show_order"),
            count("show_server")
        );
        // The wait's first round reads the server and BSS; BSS says pending
        // payment, the next read would be 10 s later: past the timeout.
        assert_eq!(count("bss_show_order"), 1, "{} {calls:?}", tf.version());
        // Refresh, plan check (twice: plan and apply), the apply's start and
        // the wait's first round: never once per poll.
        assert!(count("show_server") <= 5, "{} {calls:?}", tf.version());
        assert_eq!(emu.orders().len(), 1);

        // The next apply follows the same order: paid out of band, no
        // second order.
        let order_id = emu.orders()[0]["order_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        emu.order_admin(&order_id, "pay", None);
        let out = run(&w, &apply, SERVER_ID, SPECIAL_FLAVOR);
        assert!(out.success(), "{}", text(&out));
        assert_eq!(emu.orders().len(), 1, "one order in all");
    }
}

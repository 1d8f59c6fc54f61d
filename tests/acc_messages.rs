//! Acceptance tests: every sentence that tells the user what happens next
//! is true. Each test makes a route change fail where the sentence is
//! printed, checks the sentence, then does what the user would do next and
//! checks that the promised thing (a retry, or none) is what happens.

mod emu;
mod support;

use emu::{Emulator, SERVER_ID};
use support::{TfBin, TfOutput, TfWorkdir};

const ROUTE_TF: &str = r#"
provider "cph" {}
variable "phones" { type = list(string) }
resource "cph_phone_route" "r" {
  phone_ids    = var.phones
  traffic_type = "routing"
}
"#;

fn workdir(tf: &TfBin, emu: &Emulator) -> TfWorkdir {
    let mut w = TfWorkdir::new(tf, ROUTE_TF);
    for (k, v) in emu.token_env() {
        w.set_env(&k, &v);
    }
    w
}

fn phones_var(ids: &[String]) -> String {
    format!("-var=phones={}", serde_json::to_string(ids).unwrap())
}

fn run(w: &TfWorkdir, cmd: &str, ids: &[String]) -> TfOutput {
    let var = phones_var(ids);
    w.run(&[cmd, "-auto-approve", "-input=false", "-no-color", &var])
}

/// `terraform plan -detailed-exitcode`'s exit code.
fn plan_code(w: &TfWorkdir, ids: &[String]) -> i32 {
    let var = phones_var(ids);
    let out = w.run(&[
        "plan",
        "-detailed-exitcode",
        "-input=false",
        "-no-color",
        &var,
    ]);
    out.status.code().unwrap_or(-1)
}

#[test]
fn phones_added_but_not_routed_are_sent_again_by_the_next_apply() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&[]);
    let phones = emu.phone_ids_of(SERVER_ID)[..3].to_vec();
    let w = workdir(&tf, &emu);
    assert!(run(&w, "apply", &phones[..1]).success());

    emu.fail_jobs_for(&[phones[2].as_str()]);
    let out = run(&w, "apply", &phones);
    assert!(!out.success());
    let text = out.flat();
    assert!(
        text.contains("the next apply sends them again"),
        "the update promises a retry:\n{text}"
    );
    emu.clear_failing_jobs();
    assert_eq!(
        plan_code(&w, &phones),
        2,
        "the next plan shows the phone to add"
    );
    assert!(run(&w, "apply", &phones).success());
    assert_eq!(
        emu.route_of(&phones[2]),
        "routing",
        "and the apply sent it again"
    );
    assert_eq!(plan_code(&w, &phones), 0);
}

#[test]
fn a_destroy_that_left_phones_routed_is_finished_by_running_it_again() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&[]);
    let phones = emu.phone_ids_of(SERVER_ID)[..2].to_vec();
    let w = workdir(&tf, &emu);
    assert!(run(&w, "apply", &phones).success());

    emu.fail_jobs_for(&[phones[1].as_str()]);
    let out = run(&w, "destroy", &phones);
    assert!(!out.success());
    let text = out.flat();
    assert!(
        text.contains("running the destroy again retries them"),
        "the destroy promises a retry:\n{text}"
    );
    assert_eq!(emu.route_of(&phones[0]), "direct");
    assert_eq!(emu.route_of(&phones[1]), "routing");
    emu.clear_failing_jobs();
    assert!(run(&w, "destroy", &phones).success());
    assert_eq!(
        emu.route_of(&phones[1]),
        "direct",
        "the second destroy retried it"
    );
}

#[test]
fn a_removed_phone_that_could_not_be_returned_is_not_retried() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&[]);
    let phones = emu.phone_ids_of(SERVER_ID)[..2].to_vec();
    let w = workdir(&tf, &emu);
    assert!(run(&w, "apply", &phones).success());

    emu.fail_jobs_for(&[phones[1].as_str()]);
    let out = run(&w, "apply", &phones[..1]);
    assert!(!out.success());
    let text = out.flat();
    assert!(
        text.contains("no later apply retries them"),
        "the update says nothing retries the phone:\n{text}"
    );
    emu.clear_failing_jobs();
    emu.reset_calls();
    assert_eq!(plan_code(&w, &phones[..1]), 0, "no later plan shows it");
    assert!(run(&w, "apply", &phones[..1]).success());
    assert_eq!(emu.route_of(&phones[1]), "routing", "it keeps its route");
    let sent = emu.calls().get("phones_traffic").copied().unwrap_or(0);
    assert_eq!(sent, 0, "no later apply sent it: {:?}", emu.calls());
}

#[test]
fn phones_that_no_longer_exist_are_named_and_leaving_them_out_converges() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&[]);
    let other = emu
        .server_ids()
        .into_iter()
        .find(|s| s != SERVER_ID)
        .expect("a second server");
    let kept = emu.phone_ids_of(SERVER_ID)[..2].to_vec();
    let all = [kept.clone(), emu.phone_ids_of(&other)[..1].to_vec()].concat();
    let w = workdir(&tf, &emu);
    assert!(run(&w, "apply", &all).success());

    // The server (and its phones) is deleted outside Terraform, but the
    // phone stays written in the config by hand: the plan refuses it (issue
    // [T] 4; before, the apply sent it and named its CPS.0006), sending nothing.
    emu.delete_server(&other);
    emu.reset_calls();
    let out = run(&w, "apply", &all);
    assert!(!out.success());
    let text = out.flat();
    assert!(
        text.contains(&format!(
            "1 id in `phone_ids` names no cloud phone of this project: {}.",
            all[2]
        )) && text.contains("remove phones that no longer exist from `phone_ids`"),
        "the error says what to do:\n{text}"
    );
    assert_eq!(
        emu.calls().get("phones_traffic").copied().unwrap_or(0),
        0,
        "{:?}",
        emu.calls()
    );
    assert!(run(&w, "apply", &kept).success(), "doing it converges");
    assert_eq!(plan_code(&w, &kept), 0);
}

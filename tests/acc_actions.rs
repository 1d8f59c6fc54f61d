//! Actions with Terraform 1.15 (`action` blocks, `terraform apply -invoke`,
//! `action_trigger`), against the emulator: restarts merged into the fewest
//! batch calls, jobs followed with few reads, progress streamed, each failed
//! phone named with its code. Terraform 1.0.3 is shown to be unaffected.
//!
//! Terraform 1.15 is `TF_ACC_TERRAFORM_1_15_PATH`, else the project's
//! `.tools/bin/terraform-1.15`; with `TF_ACC=1` a missing one is a failure.

mod emu;
mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use emu::Emulator;
use serde_json::{Value, json};
use support::{TfBin, TfWorkdir};

fn workdir(tf: &TfBin, emu: &Emulator, main_tf: &str) -> TfWorkdir {
    let mut wd = TfWorkdir::new(tf, main_tf);
    for (k, v) in emu.token_env() {
        wd.set_env(&k, &v);
    }
    wd
}

/// Every server id, all pages.
fn all_server_ids(emu: &Emulator) -> Vec<String> {
    let mut ids = Vec::new();
    loop {
        let page = emu.api_get(&format!("servers?offset={}&limit=100", ids.len()));
        let servers = page["servers"].as_array().cloned().unwrap_or_default();
        if servers.is_empty() {
            return ids;
        }
        ids.extend(
            servers
                .iter()
                .filter_map(|s| s["server_id"].as_str().map(str::to_string)),
        );
    }
}

fn all_phone_ids(emu: &Emulator) -> Vec<String> {
    all_server_ids(emu)
        .iter()
        .flat_map(|s| emu.phone_ids_of(s))
        .collect()
}

fn hcl_list(ids: &[String]) -> String {
    serde_json::to_string(ids).expect("ids serialise")
}

fn calls(emu: &Emulator, name: &str) -> u64 {
    emu.calls().get(name).copied().unwrap_or(0)
}

fn phone_status(emu: &Emulator, phone_id: &str) -> i64 {
    let p: Value = emu.api_get(&format!("phones/{phone_id}"));
    p["status"].as_i64().unwrap_or_default()
}

fn restart_all(phones: &[String]) -> String {
    format!(
        r#"
provider "cph" {{}}

action "cph_phone_restart" "all" {{
  config {{
    phone_ids = {}
  }}
}}
"#,
        hcl_list(phones)
    )
}

#[test]
fn invoking_a_restart_of_250_phones_sends_3_calls_and_streams_progress() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let emu = Emulator::start(&["--servers", "5", "--phones-per-server", "50"]);
    let phones = all_phone_ids(&emu);
    assert_eq!(phones.len(), 250);
    let wd = workdir(&tf, &emu, &restart_all(&phones));
    emu.reset_calls();
    let out = wd.run_ok(&[
        "apply",
        "-no-color",
        "-auto-approve",
        "-invoke=action.cph_phone_restart.all",
    ]);
    assert_eq!(calls(&emu, "restart_phones"), 3, "{}", out.stdout);
    // The jobs take 0.3 s, the first look comes 1 s after the last call:
    // every read is after the job time.
    let reads = calls(&emu, "list_jobs");
    assert!((1..=6).contains(&reads), "{reads} job reads");
    assert!(
        out.stdout.contains("250 of 250 phones restarted"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("phones to be restarted"),
        "{}",
        out.stdout
    );
    assert!(phones.iter().all(|p| phone_status(&emu, p) == 2));
    // Nothing was written to the state by an action.
    let plan = wd.run(&["plan", "-no-color", "-detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", plan.stdout);
}

#[test]
fn phone_ids_that_name_no_phone_are_refused_at_plan_and_nothing_is_sent() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let emu = Emulator::start(&["--servers", "2", "--phones-per-server", "5"]);
    let mut ids = all_phone_ids(&emu)[..2].to_vec();
    let missing: Vec<String> = (0..30)
        .map(|i| format!("{:032x}", 0xdead_0000_u64 + i))
        .collect();
    ids.extend(missing.iter().cloned());
    let server = all_server_ids(&emu)[0].clone();
    ids.push(server.clone());
    let wd = workdir(&tf, &emu, &restart_all(&ids));
    emu.reset_calls();
    let out = wd.run(&[
        "apply",
        "-no-color",
        "-auto-approve",
        "-invoke=action.cph_phone_restart.all",
    ]);
    assert!(!out.success(), "{}", out.stdout);
    let all = support::flat(&format!("{}{}", out.stdout, out.stderr));
    assert!(all.contains("Cloud phones not found"), "{all}");
    assert!(
        all.contains("30 ids in `phone_ids` name no cloud phone"),
        "{all}"
    );
    assert!(
        all.contains("and 10 more"),
        "at most 20 ids are listed: {all}"
    );
    assert!(all.contains("Server ids given as phone ids"), "{all}");
    assert!(all.contains(&server), "{all}");
    assert_eq!(calls(&emu, "restart_phones"), 0, "nothing is sent");
}

#[test]
fn a_failed_phone_is_named_with_its_code_after_the_others_finished() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let emu = Emulator::start(&["--servers", "5", "--phones-per-server", "50"]);
    let phones = all_phone_ids(&emu);
    let bad = phones[137].clone();
    emu.fail_jobs_for(&[&bad]);
    let wd = workdir(&tf, &emu, &restart_all(&phones));
    emu.reset_calls();
    let out = wd.run(&[
        "apply",
        "-no-color",
        "-auto-approve",
        "-invoke=action.cph_phone_restart.all",
    ]);
    assert!(!out.success(), "{}", out.stdout);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains(&bad), "{all}");
    assert!(all.contains("CPS.0020"), "{all}");
    assert!(all.contains("1 of 250 phones not restarted"), "{all}");
    assert!(all.contains("249 of 250 phones restarted"), "{all}");
    assert_eq!(calls(&emu, "restart_phones"), 3);
    let others_running = phones
        .iter()
        .filter(|p| **p != bad)
        .all(|p| phone_status(&emu, p) == 2);
    assert!(
        others_running,
        "the other 249 finished before the action failed"
    );
}

#[test]
fn a_server_restart_of_150_servers_sends_2_calls() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let emu = Emulator::start(&["--servers", "150", "--phones-per-server", "1"]);
    let servers = all_server_ids(&emu);
    assert_eq!(servers.len(), 150);
    let wd = workdir(
        &tf,
        &emu,
        &format!(
            r#"
provider "cph" {{}}

action "cph_server_restart" "all" {{
  config {{
    server_ids = {}
  }}
}}
"#,
            hcl_list(&servers)
        ),
    );
    emu.reset_calls();
    let out = wd.run_ok(&[
        "apply",
        "-no-color",
        "-auto-approve",
        "-invoke=action.cph_server_restart.all",
    ]);
    assert_eq!(calls(&emu, "restart_servers"), 2, "{}", out.stdout);
    assert!(
        out.stdout.contains("150 of 150 servers restarted"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_route_change_triggers_a_restart_of_exactly_its_phones_once() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let emu = Emulator::start(&["--servers", "2", "--phones-per-server", "3"]);
    let servers = all_server_ids(&emu);
    let mine = emu.phone_ids_of(&servers[0]);
    let config = |route: &str| {
        format!(
            r#"
provider "cph" {{}}

action "cph_phone_restart" "after_route" {{
  config {{
    phone_ids = cph_phone_route.mine.phone_ids
  }}
}}

resource "cph_phone_route" "mine" {{
  phone_ids    = {phones}
  traffic_type = "{route}"

  lifecycle {{
    action_trigger {{
      events  = [after_update]
      actions = [action.cph_phone_restart.after_route]
    }}
  }}
}}
"#,
            phones = hcl_list(&mine)
        )
    };
    let wd = workdir(&tf, &emu, &config("routing"));
    wd.run_ok(&["apply", "-no-color", "-auto-approve"]);
    // A create is not an update: no restart.
    assert_eq!(calls(&emu, "restart_phones"), 0);
    emu.reset_calls();
    wd.run_ok(&["apply", "-no-color", "-auto-approve"]);
    assert_eq!(
        calls(&emu, "restart_phones"),
        0,
        "a no-op apply restarts nothing"
    );
    let others = emu.phone_ids_of(&servers[1]);
    let updated = |ids: &[String]| -> Vec<Value> {
        ids.iter()
            .map(|p| emu.api_get(&format!("phones/{p}"))["update_time"].clone())
            .collect()
    };
    let others_before = updated(&others);
    wd.write("main.tf", &workdir_main(&config("direct")));
    let out = wd.run_ok(&["apply", "-no-color", "-auto-approve"]);
    assert_eq!(calls(&emu, "restart_phones"), 1, "{}", out.stdout);
    assert!(
        out.stdout.contains("3 of 3 phones restarted"),
        "{}",
        out.stdout
    );
    // Exactly that resource's phones: the other server's were not touched.
    assert_eq!(updated(&others), others_before);
    assert!(mine.iter().all(|p| phone_status(&emu, p) == 2));
    emu.reset_calls();
    wd.run_ok(&["apply", "-no-color", "-auto-approve"]);
    assert_eq!(calls(&emu, "restart_phones"), 0, "no change, no restart");
}

/// `main.tf` as [`TfWorkdir::new`] writes it.
fn workdir_main(main_tf: &str) -> String {
    format!(
        "terraform {{\n  required_providers {{\n    cph = {{ source = \"cloudphone/cph\" }}\n  }}\n}}\n\n{main_tf}"
    )
}

#[test]
fn terraform_1_0_plans_and_applies_as_before_with_actions_served() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&["--servers", "1", "--phones-per-server", "2"]);
    let phones = emu.phone_ids_of(&all_server_ids(&emu)[0]);
    let wd = workdir(
        &tf,
        &emu,
        &format!(
            r#"
provider "cph" {{}}

resource "cph_phone_route" "mine" {{
  phone_ids    = {}
  traffic_type = "routing"
}}
"#,
            hcl_list(&phones)
        ),
    );
    wd.run_ok(&["apply", "-no-color", "-auto-approve"]);
    let plan = wd.run(&["plan", "-no-color", "-detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", plan.stdout);
    assert_eq!(calls(&emu, "restart_phones"), 0);
}

// ---------------------------------------------------------------------------
// Finding servers and phones without pasting ids (any Terraform).

fn repo() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_fleet_example_finds_its_servers_by_name_and_plans_empty_after_apply() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&["--servers", "3", "--phones-per-server", "4"]);
    let main_tf =
        std::fs::read_to_string(repo().join("examples/fleet/main.tf")).expect("examples/fleet");
    let hex_id = main_tf
        .split(|c: char| !c.is_ascii_hexdigit())
        .any(|w| w.len() == 32);
    assert!(!hex_id, "examples/fleet writes no id by hand");
    let wd = workdir(&tf, &emu, &main_tf);
    emu.reset_calls();
    wd.run_ok(&["apply", "-no-color", "-auto-approve"]);
    for s in all_server_ids(&emu) {
        for p in emu.phone_ids_of(&s) {
            assert_eq!(emu.route_of(&p), "routing");
        }
    }
    let plan = wd.run(&["plan", "-no-color", "-detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", plan.stdout);
    // One route per server found.
    let state = wd.state_json();
    let routes = state["values"]["root_module"]["resources"]
        .as_array()
        .map(|r| r.iter().filter(|r| r["type"] == "cph_phone_route").count());
    assert_eq!(routes, Some(3));
}

#[test]
fn cph_servers_filters_and_counts_phones_with_paged_reads_only() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&["--servers", "120", "--phones-per-server", "2"]);
    let wd = workdir(
        &tf,
        &emu,
        r#"
provider "cph" {}

data "cph_servers" "all" {}

data "cph_servers" "one" {
  server_name = "server-11"
}

data "cph_phones" "project" {}

output "all" { value = length(data.cph_servers.all.server_ids) }
output "one" { value = sort([for s in data.cph_servers.one.servers : "${s.server_name}=${s.phone_count}"]) }
output "phones" { value = length(data.cph_phones.project.phone_ids) }
"#,
    );
    emu.reset_calls();
    wd.run_ok(&["apply", "-no-color", "-auto-approve"]);
    let out = wd.run_ok(&["output", "-json"]);
    let v: Value = serde_json::from_str(&out.stdout).expect("outputs");
    assert_eq!(v["all"]["value"], 120);
    assert_eq!(v["phones"]["value"], 240);
    // "server-11" matches server-11 and server-110..119 by substring.
    let one = v["one"]["value"].as_array().cloned().unwrap_or_default();
    assert_eq!(one.len(), 11, "{one:?}");
    assert!(one.contains(&Value::from("server-11=2")));
    let calls = emu.calls();
    assert_eq!(calls.get("show_server").copied().unwrap_or(0), 0);
    // Phones: 240 in pages of 200, listed for the whole project only.
    assert!(
        calls.get("list_phones").copied().unwrap_or(0) <= 6,
        "{calls:?}"
    );
}

#[test]
fn restarts_triggered_together_are_merged_into_one_call() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let emu = Emulator::start(&["--servers", "3", "--phones-per-server", "5"]);
    let servers = all_server_ids(&emu);
    let config = |route: &str| {
        let mut hcl = String::from("provider \"cph\" {}\n");
        for (i, s) in servers.iter().enumerate() {
            hcl.push_str(&format!(
                r#"
action "cph_phone_restart" "r{i}" {{
  config {{
    phone_ids = cph_phone_route.r{i}.phone_ids
  }}
}}

resource "cph_phone_route" "r{i}" {{
  phone_ids    = {phones}
  traffic_type = "{route}"

  lifecycle {{
    action_trigger {{
      events  = [after_update]
      actions = [action.cph_phone_restart.r{i}]
    }}
  }}
}}
"#,
                phones = hcl_list(&emu.phone_ids_of(s))
            ));
        }
        workdir_main(&hcl)
    };
    let wd = workdir(&tf, &emu, &config("routing"));
    wd.run_ok(&["apply", "-no-color", "-auto-approve"]);
    emu.reset_calls();
    wd.write("main.tf", &config("direct"));
    let out = wd.run_ok(&["apply", "-no-color", "-auto-approve"]);
    assert_eq!(
        calls(&emu, "restart_phones"),
        1,
        "three restarts of 5 phones triggered together share one call:\n{}",
        out.stdout
    );
    assert_eq!(out.stdout.matches("5 of 5 phones restarted").count(), 3);
}

#[test]
fn ctrl_c_waits_for_a_restart_call_on_its_way_and_says_what_may_still_run() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let emu = Emulator::start(&["--servers", "1", "--phones-per-server", "5"]);
    let phones = all_phone_ids(&emu);
    let wd = workdir(&tf, &emu, &restart_all(&phones));
    // The call takes 3 s to be answered: Ctrl-C comes while it is on its way.
    emu.add_fault(json!({"endpoint": "restart_phones", "kind": "latency", "latency_ms": 3000}));
    emu.reset_calls();
    let mut apply = wd.spawn_in_group(
        &[
            "apply",
            "-no-color",
            "-auto-approve",
            "-invoke=action.cph_phone_restart.all",
        ],
        &[],
    );
    let until = Instant::now() + Duration::from_secs(60);
    while calls(&emu, "restart_phones") == 0 {
        assert!(Instant::now() < until, "no restart call was sent");
        assert!(
            apply.try_wait().expect("try_wait").is_none(),
            "terraform ended early"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    let pgid = format!("-{}", apply.id());
    let ok = Command::new("kill")
        .args(["-s", "INT", "--", &pgid])
        .status()
        .expect("run kill")
        .success();
    assert!(ok, "kill -INT the process group");
    let status = loop {
        if let Some(st) = apply.try_wait().expect("try_wait") {
            break st;
        }
        if Instant::now() > until {
            let _ = apply.kill();
            panic!("terraform did not exit after Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = std::fs::read_to_string(wd.path().join("apply.stdout")).unwrap_or_default()
        + &std::fs::read_to_string(wd.path().join("apply.stderr")).unwrap_or_default();
    assert!(!status.success(), "{out}");
    assert_eq!(calls(&emu, "restart_phones"), 1, "nothing is sent again");
    // The call landed and was waited for: its phones are named as possibly
    // still restarting, not as failed or never sent.
    assert!(out.contains("Still in progress"), "{out}");
    assert!(!out.contains("Never sent"), "{out}");
    assert!(out.contains(&phones[0]), "{out}");
}

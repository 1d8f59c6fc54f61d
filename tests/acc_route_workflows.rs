//! Acceptance tests of the ways pipelines drive `cph_phone_route` on
//! Terraform 1.15.5: `terraform test` (which plans and applies in one
//! provider process when the test file has a provider block), and a
//! postcondition on `failed` that makes a partly failed create exit 1
//! without tainting it. They run when `TF_ACC=1`.

mod emu;
mod support;

use emu::Emulator;
use serde_json::Value;
use support::{TfBin, TfWorkdir};

/// Two routes and an optional third, every input a variable.
const MODULE_TF: &str = r#"
provider "cph" {}
variable "a_phones" { type = list(string) }
variable "b_phones" { type = list(string) }
variable "b_route" { type = string }
variable "c_phones" {
  type    = list(string)
  default = []
}
resource "cph_phone_route" "a" {
  phone_ids    = var.a_phones
  traffic_type = "routing"
}
resource "cph_phone_route" "b" {
  phone_ids    = var.b_phones
  traffic_type = var.b_route
}
resource "cph_phone_route" "c" {
  count        = length(var.c_phones) > 0 ? 1 : 0
  phone_ids    = var.c_phones
  traffic_type = "routing"
}
"#;

fn workdir(tf: &TfBin, emu: &Emulator, main_tf: &str) -> TfWorkdir {
    let mut w = TfWorkdir::new(tf, main_tf);
    for (k, v) in emu.token_env() {
        w.set_env(&k, &v);
    }
    w
}

fn phones(emu: &Emulator) -> Vec<String> {
    emu.server_ids()
        .iter()
        .flat_map(|s| emu.phone_ids_of(s))
        .collect()
}

fn hcl_list(ids: &[&String]) -> String {
    serde_json::to_string(ids).expect("json")
}

/// The test file: an apply, a plan-only run with assertions (planning a
/// new resource `c` that is never applied), a run that moves phones from
/// `a` to `b` (one of them the phone `c` planned) and switches `b`'s route,
/// then the harness's own destroy. The provider block makes every run share
/// one provider process.
fn test_file(p: &[String]) -> String {
    format!(
        r#"
provider "cph" {{}}

variables {{
  a_phones = {a}
  b_phones = {b}
  b_route  = "direct"
}}

run "create" {{
  command = apply
  assert {{
    condition     = cph_phone_route.a.summary.succeeded == 2 && length(cph_phone_route.a.failed) == 0
    error_message = "a's phones are not all on routing"
  }}
}}

run "plan_only" {{
  command = plan
  variables {{
    c_phones = {c}
  }}
  assert {{
    condition     = cph_phone_route.a.traffic_type == "routing" && length(cph_phone_route.c) == 1
    error_message = "the plan-only run did not plan c"
  }}
}}

run "move_and_switch" {{
  command = apply
  variables {{
    a_phones = {a2}
    b_phones = {b2}
    b_route  = "routing"
  }}
  assert {{
    condition     = cph_phone_route.b.traffic_type == "routing" && cph_phone_route.b.summary.succeeded == 3
    error_message = "b did not take the moved phones onto routing"
  }}
  assert {{
    condition     = length(cph_phone_route.a.phone_ids) == 1
    error_message = "a still holds the moved phone"
  }}
}}
"#,
        a = hcl_list(&[&p[0], &p[1]]),
        b = hcl_list(&[&p[2]]),
        c = hcl_list(&[&p[3]]),
        a2 = hcl_list(&[&p[0]]),
        b2 = hcl_list(&[&p[1], &p[2], &p[3]]),
    )
}

/// Issue 30, deliverable 10: `terraform test` over several run blocks
/// passes (no resource counted as its own rival, nor a plan-only run's
/// resource as anybody's), and every phone ends on `direct`.
#[test]
fn terraform_test_with_several_runs_passes_and_leaves_every_phone_direct() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let emu = Emulator::start(&["--job-seconds", "0.2"]);
    let p = phones(&emu);
    let w = workdir(&tf, &emu, MODULE_TF);
    w.write("tests/route.tftest.hcl", &test_file(&p));
    let out = w.run(&["test", "-no-color"]);
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(out.success(), "terraform test failed:\n{text}");
    assert!(text.contains("3 passed, 0 failed"), "{text}");
    assert!(!text.contains("claimed by two"), "{text}");
    assert!(
        emu.calls().get("phones_traffic").copied().unwrap_or(0) > 0,
        "{:?}",
        emu.calls()
    );
    for id in &p {
        assert_eq!(emu.route_of(id), "direct", "{id} after the teardown");
    }
}

/// Under the same harness, two different resources planning one phone are
/// still refused, each naming the phone, and nothing is sent.
#[test]
fn terraform_test_still_refuses_a_phone_in_two_resources() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let emu = Emulator::start(&[]);
    let p = phones(&emu);
    let w = workdir(&tf, &emu, MODULE_TF);
    let file = format!(
        "provider \"cph\" {{}}\nrun \"overlap\" {{\n  variables {{\n    a_phones = {}\n    b_phones = {}\n    b_route  = \"routing\"\n  }}\n}}\n",
        hcl_list(&[&p[0], &p[1]]),
        hcl_list(&[&p[1]]),
    );
    w.write("tests/overlap.tftest.hcl", &file);
    let out = w.run(&["test", "-no-color"]);
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(!out.success(), "{text}");
    assert_eq!(
        text.matches("Phones claimed by two cph_phone_route resources")
            .count(),
        2,
        "{text}"
    );
    assert!(
        text.contains(&p[1]) && !text.contains(&format!("{},", p[0])),
        "{text}"
    );
    assert_eq!(
        emu.calls().get("phones_traffic").copied().unwrap_or(0),
        0,
        "{:?}",
        emu.calls()
    );
}

const POSTCONDITION_TF: &str = r#"
provider "cph" {}
variable "phones" { type = list(string) }
resource "cph_phone_route" "fleet" {
  phone_ids    = var.phones
  traffic_type = "routing"

  lifecycle {
    postcondition {
      condition     = length(self.failed) == 0
      error_message = "Some phones did not get the route: ${join(", ", keys(self.failed))}."
    }
  }
}
"#;

fn state_resource(w: &TfWorkdir) -> Value {
    w.state_json()["values"]["root_module"]["resources"][0].clone()
}

/// Issue 30, deliverable 9: the route page's recipe. A partly failed create
/// exits 1 (the postcondition), is not tainted, and the next plan is an
/// in-place update that sends the failed phones only.
#[test]
fn a_postcondition_on_failed_exits_1_without_taint_and_the_next_apply_sends_only_the_failed() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let emu = Emulator::start(&["--job-seconds", "0.2"]);
    let p = phones(&emu);
    let bad = p[0].clone();
    emu.fail_jobs_for(&[bad.as_str()]);
    let w = workdir(&tf, &emu, POSTCONDITION_TF);
    let var = format!("-var=phones={}", serde_json::to_string(&p).expect("json"));
    let args = |cmd: &[&'static str]| -> Vec<String> {
        let mut a: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
        a.extend(["-input=false".into(), "-no-color".into(), var.clone()]);
        a
    };
    let run = |cmd: &[&'static str]| {
        let a = args(cmd);
        w.run(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };

    let out = run(&["apply", "-auto-approve"]);
    let text = format!("{}{}", out.stdout, out.stderr);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("Resource postcondition failed"), "{text}");
    assert!(text.contains(&bad), "{text}");
    let r = state_resource(&w);
    assert_eq!(r["address"], "cph_phone_route.fleet", "{r}");
    assert!(
        !w.state_json().to_string().contains("tainted"),
        "the create must not be tainted"
    );
    let raw = std::fs::read_to_string(w.path().join("terraform.tfstate")).expect("state file");
    assert!(!raw.contains("\"status\": \"tainted\""), "{raw}");
    let failed = r["values"]["failed"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    assert_eq!(failed.keys().collect::<Vec<_>>(), vec![&bad], "{r}");

    // The next plan: an in-place update, and its apply sends the failed phone only.
    emu.clear_failing_jobs();
    let plan = run(&["plan", "-detailed-exitcode"]);
    assert_eq!(
        plan.status.code(),
        Some(2),
        "{}{}",
        plan.stdout,
        plan.stderr
    );
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy")
            && plan.stdout.contains("updated in-place"),
        "{}",
        plan.stdout
    );
    emu.reset_calls();
    let out = run(&["apply", "-auto-approve"]);
    assert!(out.success(), "{}{}", out.stdout, out.stderr);
    assert_eq!(
        emu.calls().get("phones_traffic").copied().unwrap_or(0),
        1,
        "{:?}",
        emu.calls()
    );
    let sent = emu.admin_calls()["traffic_by_phone"].clone();
    let sent: Vec<&String> = sent
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    assert_eq!(sent, vec![&bad], "only the failed phone is sent again");
    for id in &p {
        assert_eq!(emu.route_of(id), "routing", "{id}");
    }
    let done = run(&["plan", "-detailed-exitcode"]);
    assert_eq!(
        done.status.code(),
        Some(0),
        "{}{}",
        done.stdout,
        done.stderr
    );
}

/// Ten routes over `ids`, 1/10 each, from a variable.
const TEN_ROUTES_TF: &str = r#"
provider "cph" {}
variable "groups" { type = map(list(string)) }
resource "cph_phone_route" "r" {
  for_each     = var.groups
  phone_ids    = each.value
  traffic_type = "routing"
}
"#;

fn groups_var(ids: &[String], n: usize) -> String {
    let size = ids.len().div_ceil(n);
    let groups: std::collections::BTreeMap<String, &[String]> = ids
        .chunks(size)
        .enumerate()
        .map(|(i, c)| (format!("g{i:02}"), c))
        .collect();
    format!(
        "-var=groups={}",
        serde_json::to_string(&groups).expect("json")
    )
}

/// Issue 30, deliverable 4: ids that are no phone (a made-up id, a server
/// id) are a plan error naming them, capped at 20 per diagnostic, with no
/// write call; a plan of routes over existing phones costs one paged
/// listing, and one whose phones are all in the state costs none.
#[test]
fn phone_ids_that_name_no_phone_are_refused_at_plan_with_no_write() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&[]);
    let p = phones(&emu);
    let server = emu.server_ids()[0].clone();
    let w = workdir(&tf, &emu, TEN_ROUTES_TF);
    let mut ids: Vec<String> = (0..25).map(|i| format!("{i:032x}")).collect();
    ids.push(server.clone());
    ids.push(p[0].clone());
    let var = groups_var(&ids, 2);
    emu.reset_calls();
    let out = w.run(&["plan", "-input=false", "-no-color", &var]);
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(!out.success(), "{text}");
    assert_eq!(
        text.matches("Server ids given as phone ids").count(),
        1,
        "{text}"
    );
    assert!(text.contains(&server), "{text}");
    // 25 made-up ids over two resources: each diagnostic lists at most 20.
    let missing = text.matches("Cloud phones not found").count();
    assert_eq!(missing, 2, "{text}");
    assert!(
        !text.contains(&p[0]),
        "an existing phone is not named: {text}"
    );
    let calls = emu.calls();
    assert_eq!(calls["phones_traffic"], 0, "{calls:?}");
    assert_eq!(
        calls["list_phones"], 1,
        "one listing for both resources: {calls:?}"
    );
    let methods = emu.calls_by_method();
    assert_eq!(
        methods["POST"] + methods["PUT"] + methods["DELETE"],
        0,
        "{methods:?}"
    );

    // More than 20 in one resource: 20 named, then "and N more".
    let var = groups_var(&ids[..25], 1);
    let out = w.run(&["plan", "-input=false", "-no-color", &var]);
    let text = out.flat();
    assert!(text.contains("and 5 more"), "{text}");

    // Phones that exist plan; once in the state, a plan looks nothing up.
    let var = groups_var(&p, 2);
    emu.reset_calls();
    w.run_ok(&["apply", "-auto-approve", "-input=false", "-no-color", &var]);
    emu.reset_calls();
    w.run_ok(&["plan", "-refresh=false", "-input=false", "-no-color", &var]);
    assert_eq!(emu.calls()["list_phones"], 0, "{:?}", emu.calls());
}

/// The same check on a list known only in part at plan (an id from a
/// value known after apply beside literal ones): the ids known now are
/// looked up, and one that names no phone is refused before anything is
/// sent.
#[test]
fn a_missing_id_in_a_list_known_only_in_part_is_refused_at_plan() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&[]);
    let p = phones(&emu);
    let missing = format!("{:032x}", 7);
    let main = format!(
        r#"
provider "cph" {{}}
resource "cph_phone_route" "r" {{
  # The last id is known only after apply (timestamp() is unknown at plan).
  phone_ids    = ["{missing}", "{known}", "{late}${{substr(timestamp(), 0, 0)}}"]
  traffic_type = "routing"
}}
"#,
        known = p[0],
        late = p[1],
    );
    let w = workdir(&tf, &emu, &main);
    emu.reset_calls();
    let out = w.run(&["plan", "-input=false", "-no-color"]);
    let text = out.flat();
    assert!(!out.success(), "{text}");
    assert!(text.contains("Cloud phones not found"), "{text}");
    let named = format!("1 id in `phone_ids` names no cloud phone of this project: {missing}.");
    assert!(
        text.contains(&named),
        "only the missing id is named: {text}"
    );
    let methods = emu.calls_by_method();
    assert_eq!(
        methods["POST"] + methods["PUT"] + methods["DELETE"],
        0,
        "{methods:?}"
    );
}

/// The read budget of the existence check at 5,000 phones (BENCHMARKS.md):
/// prints the list-phones calls of a plan of 10 new routes of 500 phones,
/// of the same plan once they are in the state, and of the apply. Run with
/// `cargo test --test acc_route_workflows -- --ignored --nocapture census`.
#[test]
#[ignore = "a measurement: prints figures"]
fn census_cost_at_5000_phones() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&[
        "--servers",
        "50",
        "--phones-per-server",
        "100",
        "--job-seconds",
        "0.2",
    ]);
    let p = phones(&emu);
    assert_eq!(p.len(), 5000);
    let w = workdir(&tf, &emu, TEN_ROUTES_TF);
    let var = groups_var(&p, 10);
    let groups = var.trim_start_matches("-var=groups=");
    w.write(
        "terraform.tfvars.json",
        &format!("{{\"groups\": {groups}}}"),
    );
    let run = |args: &[&str]| {
        emu.reset_calls();
        let mut a = args.to_vec();
        a.extend(["-input=false", "-no-color", "-parallelism=10"]);
        w.run_ok(&a);
        emu.calls()
    };
    let plan_new = run(&["plan"]);
    let apply = run(&["apply", "-auto-approve"]);
    let plan_kept = run(&["plan", "-refresh=false"]);
    let refresh = run(&["plan"]);
    println!(
        "census at 5000 phones, 10 routes: plan of new routes: {} list-phones calls ({} GET in all); \
         apply (its plan walk and the apply walk's plans, two processes): {} list-phones; \
         plan -refresh=false with every phone in the state: {} calls; \
         plan with refresh: {} list-phones (the refresh's listings per server, 50 servers)",
        plan_new["list_phones"],
        plan_new.values().sum::<u64>(),
        apply["list_phones"],
        plan_kept.values().sum::<u64>(),
        refresh["list_phones"],
    );
}

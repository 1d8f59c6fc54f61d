//! The provider under every way Terraform runs it (issue 31, deliverable
//! 7), on Terraform 1.15.5 against the emulator. One configuration, two
//! `cph_phone_route` instances (`for_each`) and a `cph_server_flavor`, is
//! driven as:
//!
//! 1. `plan -out` then `apply` of the saved plan, in separate processes;
//! 2. `terraform test`: an apply, a plan-only run with assertions, and an
//!    apply with changed variables, all in one provider process;
//! 3. several plans in one process: a plan-only `terraform test` with two
//!    plan runs, and `terraform console` (also `console -plan`);
//! 4. `apply -refresh-only` after routes and flavors changed out of band;
//! 5. `import` blocks adopting two routes and a flavor;
//! 6. `-target` one instance;
//! 7. `-replace` one instance, with and without `create_before_destroy`;
//! 8. Stop (SIGINT to the process group) at three moments of an apply of a
//!    saved plan (mode 1), at two of a targeted apply (mode 6) and of a
//!    replacement (mode 7): after which a plain apply converges, sends
//!    nothing again for phones the interrupted run sent to their configured
//!    route, and every phone is on its configured route.
//!
//! Plus an `action_trigger` under a saved plan: the triggered restarts run
//! once, in the apply process, merged into one call.
//!
//! The engine's written assumptions these exercise are in
//! `src/fleet/call_orders.rs` (C1-C6), `src/fleet/claims.rs` and
//! `src/fleet/flavor_orders.rs` (T1-T7). Runs when `TF_ACC=1`.

mod emu;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use emu::{Emulator, FLAVOR, SERVER_ID, SPECIAL_FLAVOR};
use serde_json::{Value, json};
use support::{TfOutput, TfWorkdir};

/// Two routes over a map of groups, and the first server's flavors.
const MODES_TF: &str = r#"
provider "cph" {}
variable "groups" { type = map(list(string)) }
variable "route" {
  type    = string
  default = "routing"
}
variable "server_id" { type = string }
variable "server_model" { type = string }
variable "phone_model" { type = string }

resource "cph_phone_route" "r" {
  for_each     = var.groups
  phone_ids    = each.value
  traffic_type = var.route
}

resource "cph_server_flavor" "f" {
  server_id         = var.server_id
  server_model_name = var.server_model
  phone_model_name  = var.phone_model
  auto_pay          = true
}
"#;

/// The job time of every test's emulator (seconds).
const JOB_SECONDS: f64 = 0.3;

/// One emulator (2 servers of 3 phones), one work directory, and the
/// phones: `a` and `b` (two of each server) are the routes' groups,
/// `spare` (the third of each) is never configured.
struct Fx {
    emu: Emulator,
    w: TfWorkdir,
    a: Vec<String>,
    b: Vec<String>,
    spare: Vec<String>,
}

impl Fx {
    fn new(tf: &support::TfBin) -> Fx {
        Fx::with_main(tf, MODES_TF)
    }

    fn with_main(tf: &support::TfBin, main_tf: &str) -> Fx {
        let emu = Emulator::start(&["--job-seconds", &JOB_SECONDS.to_string()]);
        let servers = emu.server_ids();
        assert_eq!(
            servers[0], SERVER_ID,
            "the first server of the default fleet"
        );
        let (s0, s1) = (emu.phone_ids_of(&servers[0]), emu.phone_ids_of(&servers[1]));
        let mut w = TfWorkdir::new(tf, main_tf);
        for (k, v) in emu.token_env() {
            w.set_env(&k, &v);
        }
        Fx {
            a: s0[..2].to_vec(),
            b: s1[..2].to_vec(),
            spare: vec![s0[2].clone(), s1[2].clone()],
            emu,
            w,
        }
    }

    /// `terraform.tfvars.json`: groups `a` and `b` on `route`, the flavor
    /// the server shows at start.
    fn set_vars(&self, route: &str) {
        let vars = json!({
            "groups": { "a": self.a, "b": self.b },
            "route": route,
            "server_id": SERVER_ID,
            "server_model": FLAVOR.0,
            "phone_model": FLAVOR.1,
        });
        self.w.write("terraform.tfvars.json", &vars.to_string());
    }

    /// `terraform <verb> -input=false -no-color <rest of args>`.
    fn tf(&self, args: &[&str]) -> TfOutput {
        let mut a = args.to_vec();
        a.splice(1..1, ["-input=false", "-no-color"]);
        self.w.run(&a)
    }

    fn tf_ok(&self, args: &[&str]) -> TfOutput {
        let out = self.tf(args);
        assert!(
            out.success(),
            "terraform {} failed ({}):\n{}\n{}",
            args.join(" "),
            out.status,
            out.stdout,
            out.stderr
        );
        out
    }

    fn calls(&self, endpoint: &str) -> u64 {
        self.emu.calls().get(endpoint).copied().unwrap_or(0)
    }

    /// `phones-traffic` requests per phone since the last reset.
    fn traffic_by_phone(&self) -> BTreeMap<String, u64> {
        serde_json::from_value(self.emu.admin_calls()["traffic_by_phone"].clone())
            .unwrap_or_default()
    }

    /// Every configured phone is on `route` in the emulator, the spare
    /// phones on `direct`.
    fn assert_routes(&self, route: &str, when: &str) {
        for p in self.a.iter().chain(&self.b) {
            assert_eq!(self.emu.route_of(p), route, "{p} {when}");
        }
        for p in &self.spare {
            assert_eq!(self.emu.route_of(p), "direct", "spare {p} {when}");
        }
    }

    /// `plan -detailed-exitcode` says there is nothing to do.
    fn assert_no_changes(&self, when: &str) {
        let plan = self.tf(&["plan", "-detailed-exitcode"]);
        assert_eq!(
            plan.status.code(),
            Some(0),
            "an empty plan {when}:\n{}\n{}",
            plan.stdout,
            plan.stderr
        );
    }

    /// The state's resources by address.
    fn state(&self) -> BTreeMap<String, Value> {
        self.w.state_json()["values"]["root_module"]["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| Some((r["address"].as_str()?.to_string(), r["values"].clone())))
            .collect()
    }
}

fn ids_of(v: &Value) -> BTreeSet<String> {
    v["phone_ids"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str().map(str::to_string))
        .collect()
}

fn set(ids: &[String]) -> BTreeSet<String> {
    ids.iter().cloned().collect()
}

const RA: &str = "cph_phone_route.r[\"a\"]";
const RB: &str = "cph_phone_route.r[\"b\"]";
const FLAVOR_ADDR: &str = "cph_server_flavor.f";

// ---------------------------------------------------------------------------
// Stop at a moment of an apply.

/// When the SIGINT comes.
#[derive(Debug, Clone, Copy)]
enum Moment {
    /// 300 ms after terraform started (before or while the provider starts).
    Early,
    /// While the emulator holds the answer of a `phones-traffic` call it has
    /// already applied.
    AnswerHeld,
    /// After the `phones-traffic` call was answered, while its jobs run.
    JobsRunning,
}

fn wait_until(what: &str, child: &mut Child, w: &TfWorkdir, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(60);
    while !done() {
        if child.try_wait().ok().flatten().is_some() {
            panic!("terraform ended before {what}:\n{}", spawned_output(w));
        }
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn spawned_output(w: &TfWorkdir) -> String {
    std::fs::read_to_string(w.path().join("apply.stdout")).unwrap_or_default()
        + &std::fs::read_to_string(w.path().join("apply.stderr")).unwrap_or_default()
}

/// Starts `terraform <args>`, sends SIGINT to its process group at
/// `moment`, and returns how it exited and what it printed. Panics when it
/// does not exit within 30 s of the SIGINT or crashes.
fn stop_at(fx: &Fx, args: &[&str], moment: Moment) -> (ExitStatus, String) {
    fx.emu.reset_calls();
    match moment {
        Moment::Early => {}
        Moment::AnswerHeld => fx.emu.add_fault(json!({
            "endpoint": "phones_traffic", "kind": "hold_answer", "latency_ms": 2000, "count": 10
        })),
        Moment::JobsRunning => fx.emu.settings(json!({"job_seconds": 5.0})),
    }
    let mut child = fx.w.spawn_in_group(args, &[]);
    match moment {
        Moment::Early => std::thread::sleep(Duration::from_millis(300)),
        Moment::AnswerHeld => wait_until("a held phones-traffic answer", &mut child, &fx.w, || {
            fx.emu.admin_calls()["held_answers"]["holding"]
                .as_u64()
                .unwrap_or(0)
                > 0
        }),
        Moment::JobsRunning => {
            wait_until("a phones-traffic call", &mut child, &fx.w, || {
                fx.calls("phones_traffic") > 0
            });
            std::thread::sleep(Duration::from_millis(300));
        }
    }
    let pid = child.id();
    let ok = Command::new("kill")
        .args(["-s", "INT", "--", &format!("-{pid}")])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "kill -INT the process group");
    let stopped = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            break st;
        }
        if stopped.elapsed() > Duration::from_secs(30) {
            let _ = Command::new("kill")
                .args(["-s", "KILL", "--", &format!("-{pid}")])
                .status();
            let _ = child.wait();
            panic!(
                "terraform {} did not exit within 30 s of Ctrl-C at {moment:?}:\n{}",
                args.join(" "),
                spawned_output(&fx.w)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    fx.emu.clear_faults();
    fx.emu.settings(json!({"job_seconds": JOB_SECONDS}));
    let out = spawned_output(&fx.w);
    assert_ne!(
        status.code(),
        Some(11),
        "terraform crashed at {moment:?}:\n{out}"
    );
    for crash in [
        "panic:",
        "Terraform crashed",
        "plugin crashed",
        "The plugin encountered an error",
    ] {
        assert!(!out.contains(crash), "{crash} at {moment:?}:\n{out}");
    }
    (status, out)
}

/// Stops `terraform apply -input=false -no-color <args>` at `moment` (see
/// [`stop_at`]) and checks the interrupted run: it failed (unless stopped
/// `Early`, which may come before anything started) and, with `only`, sent
/// no phone but those. Then a plain apply converges towards `route` (see
/// [`converges_sending`]). `what` names the run in messages, e.g. "a
/// targeted apply".
fn stop_then_converge(
    fx: &Fx,
    what: &str,
    args: &[&str],
    moment: Moment,
    route: &str,
    only: Option<&[String]>,
    resend_ok: bool,
) {
    let mut a = vec!["apply", "-input=false", "-no-color"];
    a.extend_from_slice(args);
    let (status, out) = stop_at(fx, &a, moment);
    eprintln!("{what} to {route}, SIGINT {moment:?}: {status}\n{out}");
    if !matches!(moment, Moment::Early) {
        assert!(!status.success(), "an interrupted apply fails:\n{out}");
    }
    if let Some(only) = only {
        let stray: Vec<String> = fx
            .traffic_by_phone()
            .into_keys()
            .filter(|p| !only.contains(p))
            .collect();
        assert!(stray.is_empty(), "{what} sent other phones: {stray:?}");
    }
    converges_sending(fx, route, &format!("{what} stopped {moment:?}"), resend_ok);
}

/// After an interrupted apply towards `route`: a plain apply succeeds,
/// sends nothing again for a phone the interrupted run sent (it is in the
/// state, or its recorded job is followed), and leaves every phone on
/// `route`; the next plan is empty. With `resend_ok` (the interrupted run
/// sent phones to another route than the configuration's, as a
/// replacement's destroy does), the apply may send those phones again, once
/// each.
fn converges_sending(fx: &Fx, route: &str, what: &str, resend_ok: bool) {
    let sent = fx.traffic_by_phone();
    fx.emu.reset_calls();
    let out = fx.tf(&["apply", "-auto-approve"]);
    assert!(
        out.success(),
        "the apply after {what} failed:\n{}\n{}",
        out.stdout,
        out.stderr
    );
    let again: Vec<(String, u64)> = fx
        .traffic_by_phone()
        .into_iter()
        .filter(|(p, n)| *n > 1 || (!resend_ok && sent.contains_key(p)))
        .collect();
    assert!(
        again.is_empty(),
        "after {what} ({} phones sent before the SIGINT), the next apply sent again: {again:?}\n{}",
        sent.len(),
        out.stdout
    );
    fx.assert_routes(route, &format!("after {what} and an apply"));
    fx.assert_no_changes(&format!("after {what} and an apply"));
}

// ---------------------------------------------------------------------------
// Mode 1 (and 8): plan -out, then apply the saved plan in another process.

#[test]
fn a_saved_plan_applies_in_another_process_and_stops_at_three_moments() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let fx = Fx::new(&tf);
    fx.set_vars("routing");
    let plan = fx.tf(&["plan", "-out=tfplan", "-detailed-exitcode"]);
    assert_eq!(
        plan.status.code(),
        Some(2),
        "{}\n{}",
        plan.stdout,
        plan.stderr
    );
    assert!(
        plan.stdout.contains("3 to add, 0 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    assert_eq!(fx.calls("phones_traffic"), 0, "a plan sends nothing");

    fx.emu.reset_calls();
    let out = fx.tf_ok(&["apply", "tfplan"]);
    assert!(
        out.stdout.contains("3 added, 0 changed, 0 destroyed"),
        "{}",
        out.stdout
    );
    // The floor: the two routes planned in the plan process are still
    // merged into one call by the apply process (C4).
    assert_eq!(fx.calls("phones_traffic"), 1, "{:?}", fx.emu.calls());
    assert_eq!(
        fx.calls("change_server_model"),
        0,
        "the flavor is unchanged"
    );
    fx.assert_routes("routing", "after the saved plan");
    fx.assert_no_changes("after the saved plan");

    let mut route = "routing";
    for moment in [Moment::Early, Moment::AnswerHeld, Moment::JobsRunning] {
        route = if route == "routing" {
            "direct"
        } else {
            "routing"
        };
        fx.set_vars(route);
        let plan = fx.tf(&["plan", "-out=tfplan", "-detailed-exitcode"]);
        assert_eq!(
            plan.status.code(),
            Some(2),
            "{}\n{}",
            plan.stdout,
            plan.stderr
        );
        assert!(
            plan.stdout.contains("0 to add, 2 to change, 0 to destroy"),
            "{}",
            plan.stdout
        );
        stop_then_converge(&fx, "a saved plan", &["tfplan"], moment, route, None, false);
    }
}

// ---------------------------------------------------------------------------
// Modes 2 and 3: terraform test (one provider process for every run).

fn hcl(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).expect("json")
}

fn test_vars(fx: &Fx) -> String {
    format!(
        "variables {{\n  groups       = {{ a = {}, b = {} }}\n  route        = \"routing\"\n  server_id    = \"{SERVER_ID}\"\n  server_model = \"{}\"\n  phone_model  = \"{}\"\n}}\n",
        hcl(&fx.a),
        hcl(&fx.b),
        FLAVOR.0,
        FLAVOR.1
    )
}

#[test]
fn terraform_test_applies_plans_and_reapplies_in_one_process() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let fx = Fx::new(&tf);
    // a's second phone moves to b in the third run.
    let a2 = vec![fx.a[0].clone()];
    let b2 = vec![fx.a[1].clone(), fx.b[0].clone(), fx.b[1].clone()];
    let file = format!(
        r#"
provider "cph" {{}}

{vars}
run "create" {{
  command = apply
  assert {{
    condition     = alltrue([for r in cph_phone_route.r : r.summary.succeeded == 2 && length(r.failed) == 0])
    error_message = "not every phone got the route"
  }}
  assert {{
    condition     = cph_server_flavor.f.server_model_name == "{model}"
    error_message = "the flavor is not the server's"
  }}
}}

run "plan_only" {{
  command = plan
  variables {{
    route = "direct"
  }}
  assert {{
    condition     = alltrue([for r in cph_phone_route.r : r.traffic_type == "direct"])
    error_message = "the plan-only run did not plan direct"
  }}
}}

run "move_and_switch" {{
  command = apply
  variables {{
    groups = {{ a = {a2}, b = {b2} }}
    route  = "direct"
  }}
  assert {{
    condition     = cph_phone_route.r["b"].summary.succeeded == 3 && length(cph_phone_route.r["a"].phone_ids) == 1
    error_message = "b did not take the moved phone"
  }}
}}
"#,
        vars = test_vars(&fx),
        model = FLAVOR.0,
        a2 = hcl(&a2),
        b2 = hcl(&b2),
    );
    fx.w.write("tests/modes.tftest.hcl", &file);
    let out =
        fx.w.run(&["test", "-no-color", "-filter=tests/modes.tftest.hcl"]);
    let text = out.flat();
    assert!(
        out.success(),
        "terraform test failed:\n{}\n{}",
        out.stdout,
        out.stderr
    );
    assert!(text.contains("3 passed, 0 failed"), "{text}");
    assert!(!text.contains("claimed by two"), "{text}");
    assert!(fx.calls("phones_traffic") > 0, "{:?}", fx.emu.calls());
    assert_eq!(fx.calls("change_server_model"), 0, "{:?}", fx.emu.calls());
    fx.assert_routes("direct", "after terraform test's destroy");

    // Mode 3: two plan runs of new resources in one process, nothing sent.
    let plans = format!(
        r#"
provider "cph" {{}}

{vars}
run "plan_routing" {{
  command = plan
  assert {{
    condition     = length(cph_phone_route.r) == 2 && cph_phone_route.r["a"].traffic_type == "routing"
    error_message = "the first plan is wrong"
  }}
}}

run "plan_direct" {{
  command = plan
  variables {{
    route = "direct"
  }}
  assert {{
    condition     = cph_phone_route.r["b"].traffic_type == "direct"
    error_message = "the second plan is wrong"
  }}
}}
"#,
        vars = test_vars(&fx)
    );
    fx.w.write("tests/plans.tftest.hcl", &plans);
    fx.emu.reset_calls();
    let out =
        fx.w.run(&["test", "-no-color", "-filter=tests/plans.tftest.hcl"]);
    let text = out.flat();
    assert!(
        out.success(),
        "plan-only terraform test failed:\n{}\n{}",
        out.stdout,
        out.stderr
    );
    assert!(text.contains("2 passed, 0 failed"), "{text}");
    assert!(!text.contains("claimed by two"), "{text}");
    assert_eq!(fx.calls("phones_traffic"), 0, "{:?}", fx.emu.calls());
    let methods = fx.emu.calls_by_method();
    let writes: u64 = ["POST", "PUT", "DELETE"]
        .iter()
        .map(|m| methods.get(*m).copied().unwrap_or(0))
        .sum();
    // Token auth: no IAM POST either; plans only read.
    assert_eq!(writes, 0, "{methods:?}");
    fx.assert_routes("direct", "after plan-only runs");
}

// ---------------------------------------------------------------------------
// Modes 3 and 4: terraform console, and refresh-only after drift.

#[test]
fn console_evaluates_and_refresh_only_records_drift_without_sending() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let fx = Fx::new(&tf);
    fx.set_vars("routing");
    fx.tf_ok(&["apply", "-auto-approve"]);
    fx.assert_routes("routing", "after the apply");

    // Console (an evaluation of the state), then console -plan (a plan in
    // the console's process) with a changed route: nothing is sent.
    fx.emu.reset_calls();
    // One expression per console: given several lines on its standard
    // input, Terraform 1.15.5's console prints only the last result.
    for (expr, want) in [
        ("length(cph_phone_route.r)", "2"),
        ("cph_phone_route.r[\"a\"].traffic_type", "\"routing\""),
    ] {
        let out = fx.w.run_with_input(&["console"], &format!("{expr}\n"));
        assert!(
            out.success(),
            "console failed:\n{}\n{}",
            out.stdout,
            out.stderr
        );
        assert_eq!(out.stdout.trim(), want, "{expr}: {}", out.stderr);
        assert!(
            !out.flat().contains("Error"),
            "{}\n{}",
            out.stdout,
            out.stderr
        );
    }
    fx.set_vars("direct");
    let out = fx.w.run_with_input(
        &["console", "-plan"],
        "cph_phone_route.r[\"a\"].traffic_type\n",
    );
    assert!(
        out.success(),
        "console -plan failed:\n{}\n{}",
        out.stdout,
        out.stderr
    );
    assert_eq!(out.stdout.trim(), "\"direct\"", "{}", out.stderr);
    assert!(
        !out.flat().contains("Error"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    assert_eq!(fx.calls("phones_traffic"), 0, "{:?}", fx.emu.calls());
    fx.set_vars("routing");
    fx.assert_routes("routing", "after console");

    // Mode 4: drift out of band, refresh-only records it and sends nothing.
    let drifted = fx.a[0].clone();
    fx.emu.set_phone_route(&drifted, "direct");
    fx.emu
        .set_server_flavor(SERVER_ID, SPECIAL_FLAVOR.0, SPECIAL_FLAVOR.1);
    fx.emu.reset_calls();
    let plan = fx.tf(&["plan", "-refresh-only", "-detailed-exitcode"]);
    assert_eq!(
        plan.status.code(),
        Some(2),
        "{}\n{}",
        plan.stdout,
        plan.stderr
    );
    let text = support::flat(&plan.stdout);
    assert!(text.contains("changed outside of Terraform"), "{text}");
    assert!(
        text.contains(&drifted) && text.contains(SPECIAL_FLAVOR.0),
        "{text}"
    );
    fx.tf_ok(&["apply", "-refresh-only", "-auto-approve"]);
    assert_eq!(fx.calls("phones_traffic"), 0, "{:?}", fx.emu.calls());
    assert_eq!(fx.calls("change_server_model"), 0, "{:?}", fx.emu.calls());
    assert_eq!(
        fx.emu.route_of(&drifted),
        "direct",
        "refresh-only changes no phone"
    );
    let state = fx.state();
    let mut a_left = set(&fx.a);
    a_left.remove(&drifted);
    assert_eq!(ids_of(&state[RA]), a_left, "{}", state[RA]);
    assert_eq!(ids_of(&state[RB]), set(&fx.b), "{}", state[RB]);
    assert_eq!(state[FLAVOR_ADDR]["server_model_name"], SPECIAL_FLAVOR.0);

    // The flavor goes back out of band; the next apply sends the drifted
    // phone only, and orders nothing.
    fx.emu.set_server_flavor(SERVER_ID, FLAVOR.0, FLAVOR.1);
    fx.emu.reset_calls();
    let out = fx.tf_ok(&["apply", "-auto-approve"]);
    assert!(
        out.stdout.contains("0 added, 1 changed, 0 destroyed"),
        "{}",
        out.stdout
    );
    let sent: Vec<String> = fx.traffic_by_phone().into_keys().collect();
    assert_eq!(
        sent,
        vec![drifted.clone()],
        "only the drifted phone is sent"
    );
    assert_eq!(fx.calls("change_server_model"), 0, "{:?}", fx.emu.calls());
    fx.assert_routes("routing", "after the drift was undone");
    fx.assert_no_changes("after the drift was undone");
}

// ---------------------------------------------------------------------------
// Mode 5: import blocks.

#[test]
fn import_blocks_adopt_two_routes_and_a_flavor_without_a_call() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let fx = Fx::new(&tf);
    for p in fx.a.iter().chain(&fx.b) {
        fx.emu.set_phone_route(p, "routing");
    }
    fx.set_vars("routing");
    fx.w.write(
        "imports.tf",
        &format!(
            "import {{\n  to = {RA}\n  id = \"{}\"\n}}\nimport {{\n  to = {RB}\n  id = \"{}\"\n}}\nimport {{\n  to = {FLAVOR_ADDR}\n  id = \"{SERVER_ID}\"\n}}\n",
            fx.a.join(","),
            fx.b.join(",")
        ),
    );
    fx.emu.reset_calls();
    let plan = fx.tf(&["plan", "-detailed-exitcode"]);
    assert_eq!(
        plan.status.code(),
        Some(2),
        "{}\n{}",
        plan.stdout,
        plan.stderr
    );
    // The routes import as they are; the flavor's one change is
    // `auto_pay`, which the API does not show (no flavor change, no order).
    let text = support::flat(&plan.stdout);
    assert!(
        text.contains("3 to import, 0 to add, 1 to change, 0 to destroy")
            && text.contains("+ auto_pay = true")
            && !text.contains("->"),
        "{}",
        plan.stdout
    );
    let out = fx.tf_ok(&["apply", "-auto-approve"]);
    assert!(
        out.stdout
            .contains("3 imported, 0 added, 1 changed, 0 destroyed"),
        "{}",
        out.stdout
    );
    assert_eq!(fx.calls("phones_traffic"), 0, "{:?}", fx.emu.calls());
    assert_eq!(fx.calls("change_server_model"), 0, "{:?}", fx.emu.calls());
    let state = fx.state();
    assert_eq!(ids_of(&state[RA]), set(&fx.a), "{}", state[RA]);
    assert_eq!(ids_of(&state[RB]), set(&fx.b), "{}", state[RB]);
    assert_eq!(state[FLAVOR_ADDR]["original_server_model_name"], FLAVOR.0);
    fx.assert_no_changes("after the import");

    // The adopted routes are managed: a switch sends all four in one call,
    // and destroy returns them to direct.
    fx.set_vars("direct");
    fx.emu.reset_calls();
    fx.tf_ok(&["apply", "-auto-approve"]);
    assert_eq!(fx.calls("phones_traffic"), 1, "{:?}", fx.emu.calls());
    fx.assert_routes("direct", "after switching the imported routes");
}

// ---------------------------------------------------------------------------
// Modes 6, 7 and 8: -target, -replace, Stop during a targeted apply.

#[test]
fn target_one_instance_then_replace_one_and_stop_targeted_applies() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let fx = Fx::new(&tf);
    fx.set_vars("routing");
    let target = format!("-target={RA}");
    let out = fx.tf_ok(&["apply", "-auto-approve", &target]);
    assert!(
        out.stdout.contains("1 added, 0 changed, 0 destroyed"),
        "{}",
        out.stdout
    );
    for p in &fx.a {
        assert_eq!(fx.emu.route_of(p), "routing", "{p} of the target");
    }
    for p in &fx.b {
        assert_eq!(fx.emu.route_of(p), "direct", "{p} not targeted");
    }
    let state = fx.state();
    assert_eq!(state.keys().collect::<Vec<_>>(), vec![RA], "{state:?}");

    fx.emu.reset_calls();
    let out = fx.tf_ok(&["apply", "-auto-approve"]);
    assert!(
        out.stdout.contains("2 added, 0 changed, 0 destroyed"),
        "{}",
        out.stdout
    );
    let sent: BTreeSet<String> = fx.traffic_by_phone().into_keys().collect();
    assert_eq!(
        sent,
        set(&fx.b),
        "the rest of the apply sends b's phones only"
    );
    fx.assert_routes("routing", "after the full apply");

    // Mode 7: -replace one instance. Destroy then create: each of a's
    // phones is released once and routed once, b's untouched.
    let replace = format!("-replace={RA}");
    let plan = fx.tf(&["plan", "-detailed-exitcode", &replace]);
    assert_eq!(
        plan.status.code(),
        Some(2),
        "{}\n{}",
        plan.stdout,
        plan.stderr
    );
    assert!(
        plan.stdout.contains("1 to add, 0 to change, 1 to destroy")
            && plan.stdout.contains("will be replaced, as requested"),
        "{}",
        plan.stdout
    );
    fx.emu.reset_calls();
    fx.tf_ok(&["apply", "-auto-approve", &replace]);
    let sent = fx.traffic_by_phone();
    for p in &fx.a {
        let n = sent.get(p).copied().unwrap_or(0);
        assert_eq!(
            n, 2,
            "{p}: one release, one route, by the replacement: {sent:?}"
        );
    }
    for p in &fx.b {
        assert!(
            !sent.contains_key(p),
            "{p} of b sent by a's replacement: {sent:?}"
        );
    }
    fx.assert_routes("routing", "after -replace");
    fx.assert_no_changes("after -replace");

    // Stop during targeted applies, then a plain apply converges.
    let mut route = "routing";
    for moment in [Moment::AnswerHeld, Moment::JobsRunning] {
        route = if route == "routing" {
            "direct"
        } else {
            "routing"
        };
        fx.set_vars(route);
        let args = ["-auto-approve", target.as_str()];
        stop_then_converge(
            &fx,
            "a targeted apply",
            &args,
            moment,
            route,
            Some(&fx.a),
            false,
        );
    }
}

/// The configuration with `create_before_destroy` on the routes.
fn cbd_main() -> String {
    MODES_TF.replace(
        "  traffic_type = var.route\n}",
        "  traffic_type = var.route\n\n  lifecycle {\n    create_before_destroy = true\n  }\n}",
    )
}

/// Mode 7 with `create_before_destroy`: the replacement claims a's phones
/// before the old instance is destroyed, so the destroy sends none of them
/// to `direct` (the handover, C3) and they stay routed.
#[test]
fn replace_with_create_before_destroy_never_releases_the_phones_to_direct() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let main = cbd_main();
    assert!(main.contains("create_before_destroy"), "{main}");
    let fx = Fx::with_main(&tf, &main);
    fx.set_vars("routing");
    fx.tf_ok(&["apply", "-auto-approve"]);
    fx.assert_routes("routing", "after the apply");
    let replace = format!("-replace={RA}");
    fx.emu.reset_calls();
    let out = fx.tf_ok(&["apply", "-auto-approve", &replace]);
    assert!(
        out.stdout.contains("1 added, 0 changed, 1 destroyed"),
        "{}",
        out.stdout
    );
    let sent = fx.traffic_by_phone();
    for p in &fx.a {
        assert!(
            sent.get(p).copied().unwrap_or(0) <= 1,
            "{p} sent more than once (released to direct by the old instance?): {sent:?}"
        );
    }
    fx.assert_routes("routing", "after a create_before_destroy replacement");
    fx.assert_no_changes("after a create_before_destroy replacement");
}

/// The routes with a restart of each instance's phones triggered by its
/// update (one action instance per route).
fn trigger_main() -> String {
    let action = r#"
action "cph_phone_restart" "r" {
  for_each = var.groups
  config {
    phone_ids = cph_phone_route.r[each.key].phone_ids
  }
}
"#;
    MODES_TF.replace(
        "  traffic_type = var.route\n}",
        "  traffic_type = var.route\n\n  lifecycle {\n    action_trigger {\n      events  = [after_update]\n      actions = [action.cph_phone_restart.r[each.key]]\n    }\n  }\n}",
    ) + action
}

/// Mode 1 with an action trigger: the plan process plans the triggered
/// restarts, the apply process of the saved plan invokes them after the
/// route changes, merged into one call; a create triggers nothing.
#[test]
fn a_saved_plan_invokes_the_triggered_restarts_once_in_the_apply_process() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let main = trigger_main();
    assert!(main.contains("action_trigger"), "{main}");
    let fx = Fx::with_main(&tf, &main);
    fx.set_vars("routing");
    fx.tf_ok(&["apply", "-auto-approve"]);
    assert_eq!(fx.calls("restart_phones"), 0, "a create is not an update");
    fx.set_vars("direct");
    fx.tf_ok(&["plan", "-out=tfplan"]);
    assert_eq!(fx.calls("restart_phones"), 0, "a plan restarts nothing");
    fx.emu.reset_calls();
    let out = fx.tf_ok(&["apply", "tfplan"]);
    assert_eq!(fx.calls("phones_traffic"), 1, "{:?}", fx.emu.calls());
    assert_eq!(
        fx.calls("restart_phones"),
        1,
        "two triggered restarts share one call:\n{}",
        out.stdout
    );
    assert_eq!(
        out.stdout.matches("2 of 2 phones restarted").count(),
        2,
        "{}",
        out.stdout
    );
    fx.assert_routes("direct", "after the saved plan");
    fx.emu.reset_calls();
    fx.assert_no_changes("after the saved plan");
    fx.tf_ok(&["apply", "-auto-approve"]);
    assert_eq!(fx.calls("restart_phones"), 0, "no change, no restart");
}

/// Stop during `-replace` (destroy then create): while the destroy's call
/// to `direct` is held, and while its jobs run. A plain apply then puts
/// every phone back on its route, sending each at most once, and b's
/// phones are never touched.
#[test]
fn a_replacement_stopped_midway_converges_on_the_next_apply() {
    let Some(tf) = support::terraform_1_15() else {
        return;
    };
    let fx = Fx::new(&tf);
    fx.set_vars("routing");
    fx.tf_ok(&["apply", "-auto-approve"]);
    let replace = format!("-replace={RA}");
    for moment in [Moment::AnswerHeld, Moment::JobsRunning] {
        // The destroy sent a's phones to direct: the apply may send them again.
        let args = ["-auto-approve", replace.as_str()];
        stop_then_converge(
            &fx,
            "a's replacement",
            &args,
            moment,
            "routing",
            Some(&fx.a),
            true,
        );
    }
}

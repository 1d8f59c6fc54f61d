//! Ctrl-C during a long wait: SIGINT to terraform's process group (as a
//! terminal sends it, so the provider gets it too).
//!
//! - While a flavor change order is being waited for: Terraform must stop the
//!   provider through `StopProvider` and exit promptly, the provider must be
//!   gone, the state must record the order, and the next apply must pick the
//!   order up without placing another one.
//! - While the emulator holds the answer of a `phones-traffic` call it has
//!   already applied (create, update and destroy of routes): every phone the
//!   call carried must be in the state Terraform saved, the next apply must
//!   send nothing for them, and apply then destroy must leave every phone on
//!   `direct`. A randomized version (SIGINT at random moments, 30 runs) runs
//!   with `CPH_LONG_TESTS=1` (`make test-long`).
//!
//! Runs when `TF_ACC=1`.

mod emu;
mod support;

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use emu::{Emulator, SERVER_ID, SPECIAL_FLAVOR};
use serde_json::Value;
use support::TfWorkdir;

const FLAVOR_TF: &str = r#"
provider "cph" {}
variable "server_model" {}
variable "phone_model" {}
resource "cph_server_flavor" "f" {
  server_id         = "a176d8625981453bbafbc0a321d8d6a1"
  server_model_name = var.server_model
  phone_model_name  = var.phone_model
  auto_pay          = true
  timeouts {
    create = "5m"
    update = "5m"
  }
}
"#;

/// How long terraform may take to exit after Ctrl-C ("promptly").
const PROMPTLY: Duration = Duration::from_secs(15);

fn vars() -> Vec<String> {
    vec![
        format!("-var=server_model={}", SPECIAL_FLAVOR.0),
        format!("-var=phone_model={}", SPECIAL_FLAVOR.1),
    ]
}

/// `terraform apply` started in its own process group, as a shell starts a
/// foreground job; output to files in the work directory.
fn spawn_apply(w: &TfWorkdir, env: &[(String, String)]) -> Child {
    let mut args: Vec<String> = ["apply", "-auto-approve", "-input=false", "-no-color"]
        .map(String::from)
        .to_vec();
    args.extend(vars());
    spawn_tf(w, &args, env)
}

/// `terraform ARGS` started in its own process group (see [`spawn_apply`]),
/// with Terraform's debug log in `apply.log`.
fn spawn_tf(w: &TfWorkdir, args: &[String], env: &[(String, String)]) -> Child {
    let mut env = env.to_vec();
    env.push(("TF_LOG".into(), "DEBUG".into()));
    env.push((
        "TF_LOG_PATH".into(),
        w.path().join("apply.log").display().to_string(),
    ));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    w.spawn_in_group(&args, &env)
}

/// `(state, parent pid, command name)` of a process, from `/proc/PID/stat`.
fn proc_stat(pid: u32) -> Option<(char, u32, String)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text[open + 1..close].to_string();
    let mut rest = text[close + 1..].split_whitespace();
    let state = rest.next()?.chars().next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some((state, ppid, comm))
}

/// The provider process among terraform's descendants (terraform 1.0 runs
/// itself again under a panic wrapper, so the provider is a grandchild).
fn provider_under(terraform: u32) -> Option<u32> {
    let procs: Vec<(u32, u32, String)> = std::fs::read_dir("/proc")
        .ok()?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| proc_stat(pid).map(|(_, ppid, comm)| (pid, ppid, comm)))
        .collect();
    let mut family = vec![terraform];
    let mut i = 0;
    while i < family.len() {
        let parent = family[i];
        for (pid, ppid, comm) in &procs {
            if *ppid == parent {
                if comm.starts_with("terraform-prov") {
                    return Some(*pid);
                }
                family.push(*pid);
            }
        }
        i += 1;
    }
    None
}

fn alive(pid: u32) -> bool {
    proc_stat(pid).is_some_and(|(state, _, _)| state != 'Z' && state != 'X')
}

fn read(path: &Path) -> String {
    let mut s = String::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        let _ = f.read_to_string(&mut s);
    }
    s
}

fn wait_until(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn resource_values(w: &TfWorkdir) -> Value {
    let state = w.state_json();
    state["values"]["root_module"]["resources"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["address"] == "cph_server_flavor.f"))
        .map(|r| r["values"].clone())
        .unwrap_or(Value::Null)
}

#[test]
fn ctrl_c_while_waiting_for_an_order_keeps_it_and_the_next_apply_does_not_order_again() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&["--order-seconds", "30", "--job-seconds", "0.3"]);
    let env = emu.token_env();
    let mut w = TfWorkdir::new(&tf, FLAVOR_TF);
    for (k, v) in &env {
        w.set_env(k, v);
    }

    let mut apply = spawn_apply(&w, &env);
    let terraform = apply.id();
    wait_until("the order", Duration::from_secs(60), || {
        !emu.orders().is_empty() || apply.try_wait().ok().flatten().is_some()
    });
    assert!(
        apply.try_wait().expect("try_wait").is_none(),
        "terraform ended before the order was waited for:\n{}",
        read(&w.path().join("apply.stderr"))
    );
    let orders = emu.orders();
    assert_eq!(orders.len(), 1, "{orders:?}");
    let order_id = orders[0]["order_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let provider = provider_under(terraform).expect("the provider process is running");
    // Let the provider settle into its wait.
    std::thread::sleep(Duration::from_millis(500));

    // Ctrl-C: SIGINT to the foreground process group.
    let interrupted = Instant::now();
    let ok = Command::new("kill")
        .args(["-s", "INT", "--", &format!("-{terraform}")])
        .status()
        .expect("run kill")
        .success();
    assert!(ok, "kill -INT the process group");
    let status = loop {
        if let Some(st) = apply.try_wait().expect("try_wait") {
            break st;
        }
        if interrupted.elapsed() > PROMPTLY {
            let _ = apply.kill();
            let _ = apply.wait();
            panic!(
                "terraform did not exit within {PROMPTLY:?} of Ctrl-C:\n{}",
                read(&w.path().join("apply.stderr"))
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let took = interrupted.elapsed();
    let stderr = read(&w.path().join("apply.stderr"));
    let log = read(&w.path().join("apply.log"));
    assert!(!status.success(), "an interrupted apply fails:\n{stderr}");
    wait_until("the provider to exit", Duration::from_secs(5), || {
        !alive(provider)
    });
    assert!(
        log.contains("StopProvider"),
        "terraform stopped the provider through StopProvider (log {} bytes)",
        log.len()
    );
    assert!(
        stderr.contains(&order_id) && stderr.contains("Stopped while waiting"),
        "the error names order {order_id}:\n{stderr}"
    );
    eprintln!("terraform exited {took:?} after Ctrl-C ({status})");

    // The state records what is known: the order, and the old flavors.
    let v = resource_values(&w);
    assert_eq!(
        v["order_id"],
        order_id.as_str(),
        "the order is in state: {v}"
    );
    assert_eq!(v["server_model_name"], emu::FLAVOR.0, "{v}");
    assert_eq!(emu.orders().len(), 1, "no second order");

    // The next apply waits for that order (the rest of its 30 s) and orders nothing.
    emu.reset_calls();
    let again = w.run(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        &vars()[0],
        &vars()[1],
    ]);
    assert!(again.success(), "{}\n{}", again.stdout, again.stderr);
    assert_eq!(
        emu.calls()["change_server_model"],
        0,
        "the second apply did not order:\n{}",
        again.stdout
    );
    assert_eq!(emu.orders().len(), 1, "still one order");
    let server = emu.server(SERVER_ID);
    assert_eq!(server["server_model_name"], SPECIAL_FLAVOR.0);
    assert_eq!(server["phone_model_name"], SPECIAL_FLAVOR.1);
    let v = resource_values(&w);
    assert_eq!(v["server_model_name"], SPECIAL_FLAVOR.0, "{v}");
    assert_eq!(v["order_id"], order_id.as_str(), "{v}");
    let plan = w.run(&[
        "plan",
        "-detailed-exitcode",
        "-input=false",
        "-no-color",
        &vars()[0],
        &vars()[1],
    ]);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "empty plan:\n{}\n{}",
        plan.stdout,
        plan.stderr
    );
}

// ---------------------------------------------------------------------------
// Routes: Ctrl-C while a phones-traffic answer is held.

const ROUTES_TF: &str = r#"
provider "cph" {}
variable "groups" {
  type = map(list(string))
}
variable "route" {
  type    = string
  default = "routing"
}
resource "cph_phone_route" "r" {
  for_each     = var.groups
  phone_ids    = each.value
  traffic_type = var.route
}
"#;

/// Servers and phones per server of the route tests: ten resources of ten
/// phones, merged into one `phones-traffic` call of 100.
const SERVERS: usize = 10;
const PHONES_PER_SERVER: usize = 10;

/// An emulator with the route fleet, and a work directory for it.
fn route_fixture(
    tf: &support::TfBin,
    job_seconds: &str,
) -> (Emulator, TfWorkdir, Vec<(String, String)>) {
    let emu = Emulator::start(&[
        "--servers",
        &SERVERS.to_string(),
        "--phones-per-server",
        &PHONES_PER_SERVER.to_string(),
        "--job-seconds",
        job_seconds,
    ]);
    let env = emu.token_env();
    let mut w = TfWorkdir::new(tf, ROUTES_TF);
    for (k, v) in &env {
        w.set_env(k, v);
    }
    (emu, w, env)
}

/// The phones of every server, by server id.
fn fleet_phones(emu: &Emulator) -> std::collections::BTreeMap<String, Vec<String>> {
    emu.server_ids()
        .into_iter()
        .map(|s| {
            let phones = emu.phone_ids_of(&s);
            (s, phones)
        })
        .collect()
}

/// Writes the resources' groups (the first `take` phones of each server)
/// and route into `terraform.tfvars.json`.
fn write_groups(
    w: &TfWorkdir,
    fleet: &std::collections::BTreeMap<String, Vec<String>>,
    take: usize,
    route: &str,
) {
    let groups: serde_json::Map<String, Value> = fleet
        .iter()
        .map(|(s, phones)| {
            (
                s.clone(),
                serde_json::json!(phones[..take.min(phones.len())]),
            )
        })
        .collect();
    let vars = serde_json::json!({"groups": groups, "route": route});
    w.write("terraform.tfvars.json", &vars.to_string());
}

/// Every phone id in the state's routes.
fn phones_in_state(w: &TfWorkdir) -> std::collections::BTreeSet<String> {
    let state = w.state_json();
    let mut out = std::collections::BTreeSet::new();
    let resources = state["values"]["root_module"]["resources"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for r in resources {
        for p in r["values"]["phone_ids"].as_array().into_iter().flatten() {
            if let Some(p) = p.as_str() {
                out.insert(p.to_string());
            }
        }
    }
    out
}

/// `phones-traffic` requests per phone since the last reset.
fn traffic_by_phone(emu: &Emulator) -> std::collections::BTreeMap<String, u64> {
    serde_json::from_value(emu.admin_calls()["traffic_by_phone"].clone()).unwrap_or_default()
}

fn holding(emu: &Emulator) -> u64 {
    emu.admin_calls()["held_answers"]["holding"]
        .as_u64()
        .unwrap_or(0)
}

/// SIGINT to terraform's process group; waits for it to exit and returns
/// its stderr. A terraform that does not exit in time is killed; its debug
/// log is kept in the temporary directory for a look.
fn interrupt(child: &mut Child, w: &TfWorkdir, what: &str) -> Result<String, String> {
    let pid = child.id();
    let ok = Command::new("kill")
        .args(["-s", "INT", "--", &format!("-{pid}")])
        .status()
        .expect("run kill")
        .success();
    assert!(ok, "kill -INT the process group");
    let interrupted = Instant::now();
    // The provider may wait for a held answer (10 s at most) first.
    let within = PROMPTLY + Duration::from_secs(10);
    loop {
        if child.try_wait().expect("try_wait").is_some() {
            return Ok(read(&w.path().join("apply.stderr")));
        }
        if interrupted.elapsed() > within {
            let _ = Command::new("kill")
                .args(["-s", "KILL", "--", &format!("-{pid}")])
                .status();
            let _ = child.wait();
            let kept = std::env::temp_dir().join(format!("cph-interrupt-hang-{pid}.log"));
            let _ = std::fs::copy(w.path().join("apply.log"), &kept);
            return Err(format!(
                "terraform {what} did not exit within {within:?} of Ctrl-C (log: {}):\n{}",
                kept.display(),
                read(&w.path().join("apply.stderr"))
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn tf_args(verb: &str) -> Vec<String> {
    [verb, "-auto-approve", "-input=false", "-no-color"]
        .map(String::from)
        .to_vec()
}

/// After an interruption: every phone the interrupted run sent is in the
/// state; `terraform apply` sends nothing again for phones sent to the
/// route it wants; then `terraform destroy` leaves every phone on `direct`.
/// `resent_ok`: the interrupted run sent phones to another route than the
/// config's (an interrupted destroy): the apply sends them once, and those
/// that left the state are on their way to `direct`.
fn converges_after(
    emu: &Emulator,
    w: &TfWorkdir,
    fleet: &std::collections::BTreeMap<String, Vec<String>>,
    resent_ok: bool,
    stderr: &str,
) -> Result<(), String> {
    let sent = traffic_by_phone(emu);
    let in_state = phones_in_state(w);
    // A destroy sends `direct`: a phone it sent may leave the state (its
    // job takes it to `direct` whatever happens next).
    let lost: Vec<&String> = sent
        .keys()
        .filter(|p| !resent_ok && !in_state.contains(*p))
        .collect();
    if !lost.is_empty() {
        return Err(format!(
            "{} phones sent by the interrupted run are not in state (e.g. {}):\n{stderr}",
            lost.len(),
            lost[0]
        ));
    }
    emu.reset_calls();
    let again = w.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    if !again.success() {
        return Err(format!(
            "apply after the interruption failed:\n{}",
            again.stderr
        ));
    }
    let resent = traffic_by_phone(emu);
    let twice: Vec<(&String, &u64)> = resent
        .iter()
        .filter(|(p, n)| **n > 1 || (!resent_ok && sent.contains_key(*p)))
        .collect();
    if !twice.is_empty() {
        return Err(format!(
            "the apply after the interruption sent {} phones it should not have (e.g. {:?}); \
             {} sent by the interrupted run",
            twice.len(),
            twice[0],
            sent.len()
        ));
    }
    for p in fleet.values().flatten() {
        let route = emu.route_of(p);
        if route != "routing" {
            return Err(format!("phone {p} is on {route:?} after the apply"));
        }
    }
    let destroy = w.run(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
    if !destroy.success() {
        return Err(format!("destroy failed:\n{}", destroy.stderr));
    }
    for p in fleet.values().flatten() {
        let route = emu.route_of(p);
        if route != "direct" {
            return Err(format!("phone {p} is on {route:?} after destroy"));
        }
    }
    Ok(())
}

/// Which change of the routes is interrupted.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Creating ten routes of ten phones.
    Create,
    /// Growing ten routes of five phones to ten.
    Update,
    /// Destroying ten routes of ten phones.
    Destroy,
}

/// Sets up the routes before `phase` and starts the command to interrupt.
fn start_phase(
    emu: &Emulator,
    w: &TfWorkdir,
    env: &[(String, String)],
    fleet: &std::collections::BTreeMap<String, Vec<String>>,
    phase: Phase,
) -> Child {
    let (before, verb) = match phase {
        Phase::Create => (None, "apply"),
        Phase::Update => (Some(PHONES_PER_SERVER / 2), "apply"),
        Phase::Destroy => (Some(PHONES_PER_SERVER), "destroy"),
    };
    if let Some(take) = before {
        write_groups(w, fleet, take, "routing");
        w.run_ok(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    }
    write_groups(w, fleet, PHONES_PER_SERVER, "routing");
    emu.reset_calls();
    spawn_tf(w, &tf_args(verb), env)
}

fn held_answer_interrupt(phase: Phase) {
    let Some(tf) = support::acc() else { return };
    let (emu, w, env) = route_fixture(&tf, "3");
    let fleet = fleet_phones(&emu);
    assert_eq!(fleet.len(), SERVERS);
    let mut child = start_phase(&emu, &w, &env, &fleet, phase);
    emu.add_fault(serde_json::json!({
        "endpoint": "phones_traffic", "kind": "hold_answer", "latency_ms": 3000, "count": 100
    }));
    wait_until(
        "a held phones-traffic answer",
        Duration::from_secs(60),
        || holding(&emu) > 0 || child.try_wait().ok().flatten().is_some(),
    );
    assert!(
        child.try_wait().expect("try_wait").is_none(),
        "terraform ended before an answer was held:\n{}",
        read(&w.path().join("apply.stderr"))
    );
    // Let any other batch of the window go out too.
    std::thread::sleep(Duration::from_millis(300));
    let stderr = interrupt(&mut child, &w, &format!("{phase:?}")).unwrap_or_else(|e| panic!("{e}"));
    emu.clear_faults();
    let sent = traffic_by_phone(&emu);
    assert!(!sent.is_empty(), "the held call named phones");
    eprintln!(
        "{phase:?}: {} phones sent before Ctrl-C\n{stderr}",
        sent.len()
    );
    if let Err(why) = converges_after(&emu, &w, &fleet, matches!(phase, Phase::Destroy), &stderr) {
        panic!("{phase:?}: {why}");
    }
}

#[test]
fn ctrl_c_while_a_route_answer_is_held_on_create_keeps_every_phone_sent() {
    held_answer_interrupt(Phase::Create);
}

#[test]
fn ctrl_c_while_a_route_answer_is_held_on_update_keeps_every_phone_sent() {
    held_answer_interrupt(Phase::Update);
}

#[test]
fn ctrl_c_while_a_route_answer_is_held_on_destroy_leaves_every_phone_direct_after_apply_and_destroy()
 {
    held_answer_interrupt(Phase::Destroy);
}

/// One randomized run: a random phase, answers held a random time, SIGINT
/// at a random moment after the command starts.
fn random_interrupt(tf: &support::TfBin, run: usize) -> Result<(), String> {
    let (emu, w, env) = route_fixture(tf, "1");
    let fleet = fleet_phones(&emu);
    let phase = match support::rand_below(3) {
        0 => Phase::Create,
        1 => Phase::Update,
        _ => Phase::Destroy,
    };
    let hold_ms = 200 + support::rand_below(1500);
    let mut child = start_phase(&emu, &w, &env, &fleet, phase);
    emu.add_fault(serde_json::json!({
        "endpoint": "phones_traffic", "kind": "hold_answer", "latency_ms": hold_ms, "count": 100
    }));
    // A random moment once terraform runs the provider (refresh, plan or
    // apply; before that, Ctrl-C only stops terraform itself), or from its
    // start with CPH_INTERRUPT_FROM_START=1.
    let pid = child.id();
    if std::env::var("CPH_INTERRUPT_FROM_START").as_deref() != Ok("1") {
        wait_until("the provider", Duration::from_secs(60), || {
            provider_under(pid).is_some() || child.try_wait().ok().flatten().is_some()
        });
    }
    let delay = Duration::from_millis(support::rand_below(3000));
    let from = if std::env::var("CPH_INTERRUPT_FROM_START").as_deref() == Ok("1") {
        "terraform"
    } else {
        "the provider"
    };
    std::thread::sleep(delay);
    let stderr = interrupt(&mut child, &w, &format!("{phase:?}")).map_err(|why| {
        format!("run {run} ({phase:?}, hold {hold_ms} ms, SIGINT {delay:?}): {why}")
    })?;
    emu.clear_faults();
    eprintln!(
        "run {run}: {phase:?}, answers held {hold_ms} ms, SIGINT {delay:?} after {from} started, {} phones sent",
        traffic_by_phone(&emu).len()
    );
    converges_after(&emu, &w, &fleet, matches!(phase, Phase::Destroy), &stderr).map_err(|why| {
        format!("run {run} ({phase:?}, hold {hold_ms} ms, SIGINT after {delay:?}): {why}")
    })
}

/// 30 runs of [`random_interrupt`]; prints "N of 30". Long: only with
/// `CPH_LONG_TESTS=1` (`make test-long`).
#[test]
fn ctrl_c_at_random_moments_of_route_changes_30_runs() {
    if std::env::var("CPH_LONG_TESTS").as_deref() != Ok("1") {
        return;
    }
    let Some(tf) = support::acc() else { return };
    // CPH_INTERRUPT_RUNS=N runs another number of times.
    let runs: usize = std::env::var("CPH_INTERRUPT_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(30);
    let mut failures = Vec::new();
    for run in 1..=runs {
        if let Err(why) = random_interrupt(&tf, run) {
            eprintln!("FAILED {why}");
            failures.push(why);
        }
    }
    let passed = runs - failures.len();
    println!("randomized Ctrl-C: {passed} of {runs} runs converged");
    eprintln!("randomized Ctrl-C: {passed} of {runs} runs converged");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

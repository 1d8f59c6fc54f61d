//! The fault matrix: `terraform apply` (or `import`) against a `cph-emulator`
//! that injects one fault at a time into one endpoint, for every endpoint the
//! provider calls and every kind of fault, plus route jobs that fail.
//!
//! For each cell: the command either converges or fails with a clear error
//! (an `Error:` with a summary, never a crash or a raw RPC error); the state
//! then claims nothing the cloud does not show; with the faults cleared a
//! second apply converges and a plan is empty; and a flavor change is ordered
//! exactly once (`GET /_emulator/orders`). Any cell that breaks one of these
//! counts as "lost", and the test asserts that none is.
//!
//! The matrix is printed as a table (run with `--nocapture` to see it) and
//! written to `target/fault-matrix.txt`.
//!
//! Latency: the client's per-attempt timeout is 30 s and not configurable
//! from the provider block, so the latency cells inject 31 s (one attempt
//! times out, the retry succeeds, or for `change-server-model`, which is never
//! repeated, the apply fails cleanly). They dominate the runtime; set
//! `CPH_FAULTS_SKIP_LATENCY=1` to leave them out locally.
//!
//! Runs when `TF_ACC=1`. The endpoint groups run in parallel, each on its own
//! emulator.

mod emu;
mod support;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use emu::{Emulator, FLAVOR, SERVER_ID, SPECIAL_FLAVOR};
use serde_json::{Value, json};
use support::{TfBin, TfOutput, TfWorkdir};

/// Retries after the first attempt (`HW_MAX_RETRIES`): small, so that a
/// fault hitting three times in a row exhausts them.
const MAX_RETRIES: &str = "2";
/// Latency injected by the latency cells: above the 30 s attempt timeout.
const LATENCY_MS: u64 = 31_000;

const ROUTE_TF: &str = r#"
provider "cph" {}
variable "phones" { type = list(string) }
variable "route" {}
resource "cph_phone_route" "r" {
  phone_ids    = var.phones
  traffic_type = var.route
}
"#;

const FLAVOR_TF: &str = r#"
provider "cph" {}
variable "server_id" {}
variable "server_model" {}
variable "phone_model" {}
resource "cph_server_flavor" "f" {
  server_id         = var.server_id
  server_model_name = var.server_model
  phone_model_name  = var.phone_model
  auto_pay          = true
  timeouts {
    create = "2m"
    update = "2m"
  }
}
"#;

/// One kind of fault: a label and the admin API body (without `endpoint`).
struct FaultKind {
    label: &'static str,
    spec: Value,
}

fn fault_kinds() -> Vec<FaultKind> {
    let mut kinds = vec![
        FaultKind {
            label: "429 Retry-After 1",
            spec: json!({"kind": "status", "status": 429, "retry_after": 1}),
        },
        FaultKind {
            label: "500",
            spec: json!({"kind": "status", "status": 500}),
        },
        FaultKind {
            label: "503",
            spec: json!({"kind": "status", "status": 503}),
        },
        FaultKind {
            label: "503 x3 (> max_retries)",
            spec: json!({"kind": "status", "status": 503, "count": 3}),
        },
        FaultKind {
            label: "latency 31s (> attempt timeout)",
            spec: json!({"kind": "latency", "latency_ms": LATENCY_MS}),
        },
        FaultKind {
            label: "drop before processing",
            spec: json!({"kind": "drop_before"}),
        },
        FaultKind {
            label: "drop after processing",
            spec: json!({"kind": "drop_after"}),
        },
    ];
    if std::env::var("CPH_FAULTS_SKIP_LATENCY").as_deref() == Ok("1") {
        kinds.retain(|k| k.spec["kind"] != "latency");
    }
    kinds
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Converged,
    FailedCleanly,
    Lost,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Converged => "converged",
            Outcome::FailedCleanly => "failed cleanly",
            Outcome::Lost => "LOST",
        }
    }
}

/// One cell of the matrix.
struct Row {
    endpoint: String,
    operation: &'static str,
    fault: String,
    /// The fault was consumed by at least one call.
    hit: bool,
    outcome: Outcome,
    /// The error's summary (failed cleanly) or what went wrong (lost).
    note: String,
    /// Terraform's error text (for the appendix of the report file).
    error: String,
    seconds: f64,
}

/// Reads the outcome of a terraform command: success, a clear error, or
/// something no user should see.
fn classify(out: &TfOutput) -> Result<(Outcome, String), String> {
    if out.success() {
        return Ok((Outcome::Converged, String::new()));
    }
    let all = format!("{}\n{}", out.stdout, out.stderr);
    for bad in [
        "panic",
        "Plugin did not respond",
        "plugin exited",
        "rpc error",
        "crashed",
        "Provider produced inconsistent",
        "produced an unexpected new value",
        "produced an invalid",
    ] {
        if all.contains(bad) {
            return Err(format!(
                "unclear failure ({bad:?}): {}",
                excerpt(&out.stderr)
            ));
        }
    }
    let summary = out
        .stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Error: "))
        .map(str::to_string);
    match summary {
        Some(s) if !s.trim().is_empty() => {
            // The most telling detail first: an API code, else a transport word.
            let detail = ["CPS.", "APIGW.", "timed out", "broke off", "connection"]
                .iter()
                .find_map(|needle| {
                    out.stderr.find(needle).map(|i| {
                        out.stderr[i..]
                            .split(['\n', ',', '(', ':'])
                            .next()
                            .unwrap_or_default()
                            .trim()
                            .to_string()
                    })
                })
                .unwrap_or_default();
            let note = if detail.is_empty() {
                s
            } else {
                format!("[{detail}] {s}")
            };
            Ok((Outcome::FailedCleanly, shorten(&note, 80)))
        }
        _ => Err(format!("failed without an error: {}", excerpt(&out.stderr))),
    }
}

/// The `Error:` blocks of terraform's output, for the report's appendix.
fn error_text(out: &TfOutput) -> String {
    match out.stderr.find("Error: ") {
        Some(i) => out.stderr[i..]
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(12)
            .map(|l| format!("    {}", l.trim_end()))
            .collect::<Vec<_>>()
            .join("\n"),
        None => String::new(),
    }
}

fn excerpt(s: &str) -> String {
    shorten(&s.split_whitespace().collect::<Vec<_>>().join(" "), 400)
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

fn workdir(tf: &TfBin, emu: &Emulator, main_tf: &str) -> TfWorkdir {
    let mut w = TfWorkdir::new(tf, main_tf);
    for (k, v) in emu.token_env() {
        w.set_env(&k, &v);
    }
    w.set_env("HW_MAX_RETRIES", MAX_RETRIES);
    w
}

fn apply_args(vars: &[String]) -> Vec<&str> {
    let mut args: Vec<&str> = vec!["apply", "-auto-approve", "-input=false", "-no-color"];
    args.extend(vars.iter().map(String::as_str));
    args
}

/// `terraform plan -detailed-exitcode` is 0 (no changes).
fn plan_is_empty(w: &TfWorkdir, vars: &[String]) -> Result<(), String> {
    let mut args: Vec<&str> = vec!["plan", "-detailed-exitcode", "-input=false", "-no-color"];
    args.extend(vars.iter().map(String::as_str));
    let out = w.run(&args);
    match out.status.code() {
        Some(0) => Ok(()),
        Some(2) => Err(format!("plan not empty: {}", excerpt(&out.stdout))),
        _ => Err(format!("plan failed: {}", excerpt(&out.stderr))),
    }
}

/// The values of the resource `address` in `terraform show -json`, if any.
fn resource_values(w: &TfWorkdir, address: &str) -> Option<Value> {
    let state = w.state_json();
    state["values"]["root_module"]["resources"]
        .as_array()?
        .iter()
        .find(|r| r["address"] == address)
        .map(|r| r["values"].clone())
}

/// The `private` of the first instance of `address` in `terraform.tfstate`,
/// decoded, or empty.
fn private_of(w: &TfWorkdir, address: &str) -> String {
    use base64::Engine as _;
    let Ok(text) = std::fs::read_to_string(w.path().join("terraform.tfstate")) else {
        return String::new();
    };
    let Ok(state) = serde_json::from_str::<Value>(&text) else {
        return String::new();
    };
    let (kind, name) = address.split_once('.').unwrap_or_default();
    state["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["type"] == kind && r["name"] == name)
        .and_then(|r| r["instances"][0]["private"].as_str())
        .and_then(|p| base64::engine::general_purpose::STANDARD.decode(p).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

fn strings(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect();
    out.sort();
    out
}

/// Whether the queued fault was consumed at least once.
fn fault_was_hit(emu: &Emulator, count: u64) -> bool {
    match emu.queued_faults().first() {
        None => true,
        Some(f) => f["remaining"].as_u64().unwrap_or(count) < count,
    }
}

fn queue(emu: &Emulator, endpoint: &str, kind: &FaultKind) -> u64 {
    let mut spec = kind.spec.clone();
    spec["endpoint"] = json!(endpoint);
    emu.add_fault(spec);
    kind.spec["count"].as_u64().unwrap_or(1)
}

fn other_route(route: &str) -> &'static str {
    if route == "routing" {
        "direct"
    } else {
        "routing"
    }
}

// ---------------------------------------------------------------------------
// Routes: phones_traffic, list_jobs, list_phones (and failing jobs).

fn route_vars(phones: &[String], route: &str) -> Vec<String> {
    vec![
        format!("-var=phones={}", serde_json::to_string(phones).unwrap()),
        format!("-var=route={route}"),
    ]
}

/// Every phone the state claims is on the state's route in the cloud.
fn route_state_matches_cloud(emu: &Emulator, w: &TfWorkdir) -> Result<(), String> {
    let Some(v) = resource_values(w, "cph_phone_route.r") else {
        return Ok(());
    };
    let route = v["traffic_type"].as_str().unwrap_or_default().to_string();
    for p in strings(&v["phone_ids"]) {
        let cloud = emu.route_of(&p);
        if cloud != route {
            return Err(format!(
                "state says phone {p} is on {route:?}, the cloud says {cloud:?}"
            ));
        }
    }
    Ok(())
}

/// After a converged apply: the state and the cloud both show every phone on `route`.
fn route_converged(
    emu: &Emulator,
    w: &TfWorkdir,
    phones: &[String],
    route: &str,
) -> Result<(), String> {
    let v = resource_values(w, "cph_phone_route.r").ok_or("no route in state")?;
    let mut want = phones.to_vec();
    want.sort();
    if strings(&v["phone_ids"]) != want || v["traffic_type"] != route {
        return Err(format!("state after the second apply: {v}"));
    }
    for p in phones {
        if emu.route_of(p) != route {
            return Err(format!(
                "phone {p} is not on {route:?} after the second apply"
            ));
        }
    }
    Ok(())
}

/// Faults of each kind into `endpoint` while a route changes (in place,
/// every phone re-routed); `with_job_failure` adds a cell whose job fails.
fn route_group(tf: &TfBin, endpoint: &'static str, with_job_failure: bool) -> Vec<Row> {
    let emu = Emulator::start(&["--job-seconds", "0.3", "--order-seconds", "1"]);
    let phones = emu.phone_ids_of(SERVER_ID)[..3].to_vec();
    let w = workdir(tf, &emu, ROUTE_TF);
    let mut route = "routing";
    let first = w.run(&apply_args(&route_vars(&phones, route)));
    assert!(first.success(), "setting up the route: {}", first.stderr);

    let mut cells: Vec<(String, Option<FaultKind>)> = fault_kinds()
        .into_iter()
        .map(|k| (k.label.to_string(), Some(k)))
        .collect();
    if with_job_failure {
        cells.push(("job fails (CPS.0020)".into(), None));
    }
    let mut rows = Vec::new();
    for (label, kind) in cells {
        let started = Instant::now();
        let target = other_route(route);
        let vars = route_vars(&phones, target);
        let count = match &kind {
            Some(k) => queue(&emu, endpoint, k),
            None => {
                emu.fail_jobs_for(&[phones[1].as_str()]);
                1
            }
        };
        let out = w.run(&apply_args(&vars));
        let hit = match &kind {
            Some(_) => fault_was_hit(&emu, count),
            None => out.stderr.contains(&phones[1]),
        };
        emu.clear_faults();
        emu.clear_failing_jobs();
        let checked = classify(&out).and_then(|(outcome, note)| {
            route_state_matches_cloud(&emu, &w)?;
            let again = w.run(&apply_args(&vars));
            if !again.success() {
                return Err(format!("second apply failed: {}", excerpt(&again.stderr)));
            }
            plan_is_empty(&w, &vars)?;
            route_converged(&emu, &w, &phones, target)?;
            Ok((outcome, note))
        });
        route = target;
        rows.push(row(
            if kind.is_some() {
                endpoint
            } else {
                "(route job)"
            },
            "route change",
            label,
            hit,
            &out,
            checked,
            started,
        ));
    }
    rows
}

fn row(
    endpoint: &str,
    operation: &'static str,
    fault: String,
    hit: bool,
    out: &TfOutput,
    checked: Result<(Outcome, String), String>,
    started: Instant,
) -> Row {
    let (outcome, note) = match checked {
        Ok(x) => x,
        Err(why) => (Outcome::Lost, why),
    };
    Row {
        endpoint: endpoint.to_string(),
        operation,
        fault,
        hit,
        outcome,
        note,
        error: error_text(out),
        seconds: started.elapsed().as_secs_f64(),
    }
}

// ---------------------------------------------------------------------------
// show_phone: reached by `terraform import` of a route (no servers known yet).

fn import_group(tf: &TfBin) -> Vec<Row> {
    let emu = Emulator::start(&["--job-seconds", "0.3", "--order-seconds", "1"]);
    let phones = emu.phone_ids_of(SERVER_ID)[..3].to_vec();
    let id = phones.join(",");
    let mut route = "direct";
    let mut rows = Vec::new();
    for kind in fault_kinds() {
        let started = Instant::now();
        route = other_route(route);
        for p in &phones {
            emu.set_phone_route(p, route);
        }
        let w = workdir(tf, &emu, ROUTE_TF);
        let vars = route_vars(&phones, route);
        let count = queue(&emu, "show_phone", &kind);
        let mut args = vec!["import", "-input=false", "-no-color"];
        args.extend(vars.iter().map(String::as_str));
        args.extend(["cph_phone_route.r", id.as_str()]);
        let out = w.run(&args);
        let hit = fault_was_hit(&emu, count);
        emu.clear_faults();
        let target = other_route(route);
        let checked = classify(&out).and_then(|(outcome, note)| {
            match (outcome, resource_values(&w, "cph_phone_route.r")) {
                (Outcome::Converged, Some(v)) => {
                    let mut want = phones.clone();
                    want.sort();
                    if v["traffic_type"] != route || strings(&v["phone_ids"]) != want {
                        return Err(format!("imported state does not match the cloud: {v}"));
                    }
                }
                (Outcome::Converged, None) => return Err("import left no state".into()),
                (_, Some(v)) => return Err(format!("a failed import left state: {v}")),
                (_, None) => {}
            }
            let vars = route_vars(&phones, target);
            let again = w.run(&apply_args(&vars));
            if !again.success() {
                return Err(format!(
                    "apply after import failed: {}",
                    excerpt(&again.stderr)
                ));
            }
            plan_is_empty(&w, &vars)?;
            route_converged(&emu, &w, &phones, target)?;
            Ok((outcome, note))
        });
        route = target;
        rows.push(row(
            "show_phone",
            "import + apply",
            kind.label.to_string(),
            hit,
            &out,
            checked,
            started,
        ));
    }
    rows
}

// ---------------------------------------------------------------------------
// Flavors: show_server (refresh and the wait), change_server_model.

fn flavor_vars(flavor: (&str, &str)) -> Vec<String> {
    vec![
        format!("-var=server_id={SERVER_ID}"),
        format!("-var=server_model={}", flavor.0),
        format!("-var=phone_model={}", flavor.1),
    ]
}

fn cloud_flavor(emu: &Emulator) -> (String, String) {
    let s = emu.server(SERVER_ID);
    (
        s["server_model_name"].as_str().unwrap_or_default().into(),
        s["phone_model_name"].as_str().unwrap_or_default().into(),
    )
}

fn pair(f: (&str, &str)) -> (String, String) {
    (f.0.to_string(), f.1.to_string())
}

/// Where the fault goes in: before the apply (so the first call of the
/// endpoint gets it), or once the order exists (so the wait's polls do).
#[derive(Clone, Copy, PartialEq, Eq)]
enum When {
    BeforeApply,
    WhileWaiting,
}

fn flavor_group(tf: &TfBin, endpoint: &'static str, when: When) -> Vec<Row> {
    // Orders take long enough for the fault to be queued while waiting, and
    // for an order whose answer was lost to be still running when the second
    // apply comes (so that it must find the order rather than place another).
    let order_seconds = match (endpoint, when) {
        (_, When::WhileWaiting) => "3",
        ("change_server_model", _) => "4",
        _ => "1",
    };
    let emu = Emulator::start(&["--job-seconds", "0.3", "--order-seconds", order_seconds]);
    let w = workdir(tf, &emu, FLAVOR_TF);
    let mut rows = Vec::new();
    for kind in fault_kinds() {
        let started = Instant::now();
        let from = cloud_flavor(&emu);
        let target = if from == pair(FLAVOR) {
            SPECIAL_FLAVOR
        } else {
            FLAVOR
        };
        let vars = flavor_vars(target);
        let orders_before = emu.orders().len();
        let (out, count) = match when {
            When::BeforeApply => {
                let count = queue(&emu, endpoint, &kind);
                (w.run(&apply_args(&vars)), count)
            }
            When::WhileWaiting => std::thread::scope(|s| {
                let apply = s.spawn(|| w.run(&apply_args(&vars)));
                let until = Instant::now() + Duration::from_secs(60);
                while emu.orders().len() == orders_before && Instant::now() < until {
                    std::thread::sleep(Duration::from_millis(50));
                }
                let count = queue(&emu, endpoint, &kind);
                (apply.join().expect("apply thread"), count)
            }),
        };
        let hit = fault_was_hit(&emu, count);
        emu.clear_faults();
        let checked = classify(&out).and_then(|(outcome, note)| {
            let orders = emu.orders();
            let new: Vec<&Value> = orders[orders_before..].iter().collect();
            if new.len() > 1 {
                return Err(format!("{} orders placed by one apply", new.len()));
            }
            flavor_state_matches_cloud(&emu, &w, &from, target, outcome, &new)?;
            // An order the state knows of is waited for, never asked for again
            // (not even to be refused with CPS.0040).
            let known = new.first().is_some_and(|o| {
                resource_values(&w, "cph_server_flavor.f")
                    .is_some_and(|v| v["order_id"] == o["order_id"])
            });
            let calls_before = emu.calls()["change_server_model"];
            let again = w.run(&apply_args(&vars));
            let asked_again = emu.calls()["change_server_model"] - calls_before;
            if known && asked_again > 0 {
                return Err(format!(
                    "the second apply called change-server-model {asked_again} times for a recorded order"
                ));
            }
            if !again.success() {
                return Err(format!("second apply failed: {}", excerpt(&again.stderr)));
            }
            plan_is_empty(&w, &vars)?;
            let orders = emu.orders();
            let placed = orders.len() - orders_before;
            if placed != 1 {
                return Err(format!(
                    "the flavor change was ordered {placed} times: {:?}",
                    &orders[orders_before..]
                ));
            }
            if cloud_flavor(&emu) != pair(target) {
                return Err(format!(
                    "the cloud shows {:?} after the second apply",
                    cloud_flavor(&emu)
                ));
            }
            let v = resource_values(&w, "cph_server_flavor.f").ok_or("no flavor in state")?;
            if v["server_model_name"] != target.0 || v["phone_model_name"] != target.1 {
                return Err(format!("state after the second apply: {v}"));
            }
            Ok((outcome, note))
        });
        rows.push(row(
            endpoint,
            if when == When::WhileWaiting {
                "flavor change (fault while waiting)"
            } else {
                "flavor change"
            },
            kind.label.to_string(),
            hit,
            &out,
            checked,
            started,
        ));
    }
    rows
}

/// The state claims no flavor the cloud has not reached, names only real
/// orders, and keeps an order it learned of when the apply did not see it
/// through (so the next apply waits for it rather than ordering again).
fn flavor_state_matches_cloud(
    emu: &Emulator,
    w: &TfWorkdir,
    from: &(String, String),
    target: (&str, &str),
    outcome: Outcome,
    new_orders: &[&Value],
) -> Result<(), String> {
    let Some(v) = resource_values(w, "cph_server_flavor.f") else {
        return if outcome == Outcome::Converged {
            Err("a converged apply left no state".into())
        } else {
            Ok(())
        };
    };
    let state = (
        v["server_model_name"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        v["phone_model_name"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    );
    let cloud = cloud_flavor(emu);
    if state == pair(target) && cloud != pair(target) {
        return Err(format!(
            "state claims {state:?} while the cloud shows {cloud:?}"
        ));
    }
    if state != pair(target) && &state != from {
        return Err(format!(
            "state shows {state:?}, neither {from:?} nor {target:?}"
        ));
    }
    if outcome == Outcome::Converged && cloud != pair(target) {
        return Err(format!("converged, but the cloud shows {cloud:?}"));
    }
    if let Some(order_id) = v["order_id"].as_str() {
        let all = emu.orders();
        if !all.iter().any(|o| o["order_id"] == order_id) {
            return Err(format!(
                "state names order {order_id}, which does not exist"
            ));
        }
    }
    // An order whose answer arrived must be remembered when the apply fails.
    if outcome == Outcome::FailedCleanly
        && let Some(order) = new_orders.first()
        && let Some(order_id) = order["order_id"].as_str()
        && v["order_id"] == order_id
    {
        let private = private_of(w, "cph_server_flavor.f");
        if order["status"] != "succeeded" && !private.contains(order_id) {
            return Err(format!(
                "order {order_id} is in state but not pending in private state ({private:?})"
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------

fn render(rows: &[Row]) -> String {
    let mut t = String::new();
    let w_ep = rows
        .iter()
        .map(|r| r.endpoint.len())
        .max()
        .unwrap_or(8)
        .max(8);
    let w_op = rows
        .iter()
        .map(|r| r.operation.len())
        .max()
        .unwrap_or(9)
        .max(9);
    let w_f = rows.iter().map(|r| r.fault.len()).max().unwrap_or(5).max(5);
    let _ = writeln!(
        t,
        "{:<w_ep$} | {:<w_op$} | {:<w_f$} | hit | {:<14} | {:>5} | note",
        "endpoint", "operation", "fault", "outcome", "secs"
    );
    let _ = writeln!(t, "{}", "-".repeat(w_ep + w_op + w_f + 50));
    for r in rows {
        let _ = writeln!(
            t,
            "{:<w_ep$} | {:<w_op$} | {:<w_f$} | {:<3} | {:<14} | {:>5.1} | {}",
            r.endpoint,
            r.operation,
            r.fault,
            if r.hit { "yes" } else { "NO" },
            r.outcome.as_str(),
            r.seconds,
            r.note
        );
    }
    let count = |o: Outcome| rows.iter().filter(|r| r.outcome == o).count();
    let _ = writeln!(
        t,
        "\nfaults tried: {}   converged: {}   failed cleanly: {}   lost: {}   not hit: {}",
        rows.len(),
        count(Outcome::Converged),
        count(Outcome::FailedCleanly),
        count(Outcome::Lost),
        rows.iter().filter(|r| !r.hit).count()
    );
    t
}

#[test]
fn fault_matrix() {
    let Some(tf) = support::acc() else { return };
    let started = Instant::now();
    let mut rows: Vec<Row> = std::thread::scope(|s| {
        let tf = &tf;
        let groups = vec![
            s.spawn(move || route_group(tf, "phones_traffic", false)),
            s.spawn(move || route_group(tf, "list_jobs", true)),
            s.spawn(move || route_group(tf, "list_phones", false)),
            s.spawn(move || import_group(tf)),
            s.spawn(move || flavor_group(tf, "show_server", When::BeforeApply)),
            s.spawn(move || flavor_group(tf, "show_server", When::WhileWaiting)),
            s.spawn(move || flavor_group(tf, "change_server_model", When::BeforeApply)),
        ];
        groups
            .into_iter()
            .flat_map(|g| g.join().expect("a group of cells panicked"))
            .collect()
    });
    rows.sort_by(|a, b| {
        (a.endpoint.as_str(), a.operation).cmp(&(b.endpoint.as_str(), b.operation))
    });
    let mut report = render(&rows);
    let _ = writeln!(
        report,
        "wall time: {:.0} s",
        started.elapsed().as_secs_f64()
    );
    println!("\nFault matrix\n\n{report}");
    let mut file = report.clone();
    file.push_str("\nErrors shown by the cells that failed:\n");
    for r in rows.iter().filter(|r| !r.error.is_empty()) {
        let _ = writeln!(
            file,
            "\n  {} / {} / {}:\n{}",
            r.endpoint, r.operation, r.fault, r.error
        );
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fault-matrix.txt");
    if let Err(e) = std::fs::write(&path, &file) {
        eprintln!("note: cannot write {}: {e}", path.display());
    }

    let lost: Vec<&Row> = rows.iter().filter(|r| r.outcome == Outcome::Lost).collect();
    assert!(
        lost.is_empty(),
        "{} cells lost something:\n{}",
        lost.len(),
        lost.iter()
            .map(|r| format!("{} / {} / {}: {}", r.endpoint, r.operation, r.fault, r.note))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let missed: Vec<&Row> = rows.iter().filter(|r| !r.hit).collect();
    assert!(
        missed.is_empty(),
        "faults that no call hit (the cell tested nothing): {:?}",
        missed
            .iter()
            .map(|r| format!("{} / {} / {}", r.endpoint, r.operation, r.fault))
            .collect::<Vec<_>>()
    );
}

// ---------------------------------------------------------------------------
// Bad input: refused at plan (or import) with the attribute at fault, before
// any request; API errors keep their code and request id.

/// A configuration with one resource, so that plan configures the provider.
fn with_provider(block: &str) -> String {
    format!(
        "{block}\nresource \"cph_phone_route\" \"r\" {{\n  phone_ids    = [\"{}\"]\n  traffic_type = \"routing\"\n}}\n",
        emu::PHONE_ID
    )
}

fn total_calls(emu: &Emulator) -> u64 {
    emu.calls().values().sum()
}

/// (case, provider block, extra environment, what the error must say)
type CredentialCase<'a> = (&'a str, String, Vec<(&'a str, &'a str)>, &'a [&'a str]);

#[test]
fn missing_or_conflicting_credentials_fail_at_plan_before_any_request() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&[]);
    let base = [
        ("HW_REGION_NAME", emu::REGION.to_string()),
        ("HW_PROJECT_ID", emu::PROJECT_ID.to_string()),
        ("HW_CPH_ENDPOINT", emu.url.clone()),
    ];
    let iam = format!("{}/v3", emu.url);
    let cases: Vec<CredentialCase> = vec![
        (
            "no credentials at all",
            "provider \"cph\" {}".into(),
            vec![],
            &["No credentials", "access_key"],
        ),
        (
            "auth_token and access_key/secret_key in the block",
            format!(
                "provider \"cph\" {{\n  auth_token = \"t\"\n  access_key = \"{}\"\n  secret_key = \"s\"\n}}",
                emu::ACCESS_KEY
            ),
            vec![],
            &[
                "Conflicting credentials",
                "auth_token",
                "access_key/secret_key",
            ],
        ),
        (
            "HW_AUTH_TOKEN and HW_ACCESS_KEY/HW_SECRET_KEY",
            "provider \"cph\" {}".into(),
            vec![
                ("HW_AUTH_TOKEN", emu::AUTH_TOKEN),
                ("HW_ACCESS_KEY", emu::ACCESS_KEY),
                ("HW_SECRET_KEY", emu::SECRET_KEY),
            ],
            &["Conflicting credentials", "auth_token"],
        ),
        (
            "user and password in the block with a token",
            format!(
                "provider \"cph\" {{\n  auth_token  = \"t\"\n  user_name   = \"{}\"\n  password    = \"p\"\n  domain_name = \"d\"\n  auth_url    = \"{iam}\"\n}}",
                emu::USER_NAME
            ),
            vec![],
            &["Conflicting credentials"],
        ),
        (
            "access_key without secret_key",
            format!(
                "provider \"cph\" {{\n  access_key = \"{}\"\n}}",
                emu::ACCESS_KEY
            ),
            vec![],
            &["Missing secret_key", "secret_key"],
        ),
        (
            "password without domain_name",
            format!(
                "provider \"cph\" {{\n  user_name = \"{}\"\n  password  = \"p\"\n  auth_url  = \"{iam}\"\n}}",
                emu::USER_NAME
            ),
            vec![],
            &["Missing domain_name", "domain_name"],
        ),
        (
            "security_token without access_key",
            "provider \"cph\" {\n  auth_token     = \"t\"\n  security_token = \"st\"\n}".into(),
            vec![],
            &["security_token"],
        ),
        (
            "an empty secret_key",
            format!(
                "provider \"cph\" {{\n  access_key = \"{}\"\n  secret_key = \"\"\n}}",
                emu::ACCESS_KEY
            ),
            vec![],
            &["secret_key"],
        ),
    ];
    for (case, block, extra, expected) in cases {
        let mut w = TfWorkdir::new(&tf, &with_provider(&block));
        for (k, v) in &base {
            w.set_env(k, v);
        }
        for (k, v) in &extra {
            w.set_env(k, v);
        }
        emu.reset_calls();
        let out = w.run(&["plan", "-input=false", "-no-color"]);
        assert!(!out.success(), "{case}: plan must fail");
        for needle in expected {
            assert!(
                out.stderr.contains(needle),
                "{case}: the error says {needle:?}:\n{}",
                out.stderr
            );
        }
        let calls = emu.calls();
        assert_eq!(
            calls.values().sum::<u64>(),
            0,
            "{case}: no request, not even to IAM: {calls:?}"
        );
    }
}

#[test]
fn malformed_import_ids_are_refused_without_a_request() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&[]);
    let long = "x".repeat(65);
    let route_ids = [
        "a,,b",
        "p1,p2,",
        ",",
        "has space",
        "p1, has space",
        long.as_str(),
    ];
    let flavor_ids = ["a,b", "has space", long.as_str(), " "];
    let cases = route_ids
        .iter()
        .map(|id| ("cph_phone_route.r", *id))
        .chain(flavor_ids.iter().map(|id| ("cph_server_flavor.f", *id)));
    for (address, id) in cases {
        let w = workdir(
            &tf,
            &emu,
            &format!(
                "{ROUTE_TF}\nresource \"cph_server_flavor\" \"f\" {{\n  server_id         = \"{SERVER_ID}\"\n  server_model_name = \"{}\"\n  phone_model_name  = \"{}\"\n}}\n",
                FLAVOR.0, FLAVOR.1
            ),
        );
        emu.reset_calls();
        let vars = route_vars(&[emu::PHONE_ID.to_string()], "routing");
        let mut args = vec!["import", "-input=false", "-no-color"];
        args.extend(vars.iter().map(String::as_str));
        args.extend([address, id]);
        let out = w.run(&args);
        assert!(!out.success(), "{address} {id:?}: import must fail");
        assert!(
            out.stderr.contains("Invalid import id"),
            "{address} {id:?}:\n{}",
            out.stderr
        );
        assert_eq!(total_calls(&emu), 0, "{address} {id:?}: no request");
        assert!(
            resource_values(&w, address).is_none(),
            "{address} {id:?}: nothing imported"
        );
    }
}

/// `request <32 hex digits>` somewhere in `text` (terraform may wrap the line
/// between the two).
fn has_request_id(text: &str) -> bool {
    text.match_indices("request").any(|(i, _)| {
        text[i + 7..]
            .trim_start()
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .count()
            == 32
    })
}

#[test]
fn api_errors_show_their_code_and_request_id() {
    let Some(tf) = support::acc() else { return };
    let emu = Emulator::start(&[]);
    // An unknown server: CPS.0016 from the server detail.
    let w = workdir(&tf, &emu, FLAVOR_TF);
    let out = w.run(&apply_args(&[
        "-var=server_id=0000000000000000000000000000dead".to_string(),
        format!("-var=server_model={}", SPECIAL_FLAVOR.0),
        format!("-var=phone_model={}", SPECIAL_FLAVOR.1),
    ]));
    assert!(!out.success());
    assert!(
        out.stderr.contains("CPS.0016") && has_request_id(&out.stderr),
        "code and request id:\n{}",
        out.stderr
    );
    assert!(out.stderr.contains("server_id"), "{}", out.stderr);

    // A refusal only the API makes (the plan's checks passed it; a flavor
    // of another product type is refused at plan since issue [T] 3):
    // CPS.0032 from change-server-model.
    emu.add_fault(json!({
        "endpoint": "change_server_model",
        "kind": "status",
        "status": 400,
        "error_code": "CPS.0032",
        "error_msg": "The flavor cannot be changed to the target flavor.",
    }));
    let out = w.run(&apply_args(&[
        format!("-var=server_id={SERVER_ID}"),
        format!("-var=server_model={}", SPECIAL_FLAVOR.0),
        format!("-var=phone_model={}", SPECIAL_FLAVOR.1),
    ]));
    assert!(!out.success());
    assert!(
        out.stderr.contains("CPS.0032") && has_request_id(&out.stderr),
        "code and request id:\n{}",
        out.stderr
    );
    assert!(emu.orders().is_empty());

    // Credentials the gateway refuses: APIGW.0301.
    let mut w = workdir(&tf, &emu, ROUTE_TF);
    w.set_env("HW_AUTH_TOKEN", "not-the-token");
    let out = w.run(&apply_args(&route_vars(
        &[emu::PHONE_ID.to_string()],
        "routing",
    )));
    assert!(!out.success());
    assert!(
        out.stderr.contains("APIGW.0301") && has_request_id(&out.stderr),
        "code and request id:\n{}",
        out.stderr
    );
    // Another project: APIGW.0302.
    w.set_env("HW_AUTH_TOKEN", emu::AUTH_TOKEN);
    w.set_env("HW_PROJECT_ID", "ffffffffffffffffffffffffffffffff");
    let out = w.run(&apply_args(&route_vars(
        &[emu::PHONE_ID.to_string()],
        "routing",
    )));
    assert!(!out.success());
    assert!(
        out.stderr.contains("APIGW.0302") && has_request_id(&out.stderr),
        "code and request id:\n{}",
        out.stderr
    );
}

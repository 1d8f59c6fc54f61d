//! The admin API under `/_emulator/` (no auth): call counters, fault queue,
//! out-of-band drift (routes, flavors, statuses, vanished servers), orders
//! (listing, payment, cancel, lapsed payment, completion with or without the
//! flavor change, any status), failing jobs, and run-time settings.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::{delete, get, post};
use serde::Deserialize;
use serde_json::json;

use crate::app::App;
use crate::catalogue;
use crate::errors::{ApiError, ApiResult, code, ok, parse_json};
use crate::faults::FaultSpec;
use crate::jobs::check_traffic_type;
use crate::orders::{OrderStatus, admin_refusal};

const BAD: &str = "EMU.0400";
const MISSING: &str = "EMU.0404";

pub fn router() -> Router<App> {
    Router::new()
        .route("/calls", get(calls))
        .route("/calls/reset", post(reset_calls))
        .route(
            "/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/phones/{phone_id}/traffic", post(phone_traffic))
        .route("/phones/{phone_id}/status", post(phone_status))
        .route("/servers/{server_id}/flavor", post(server_flavor))
        .route("/servers/{server_id}/status", post(server_status))
        .route("/servers/{server_id}", delete(delete_server))
        .route("/orders", get(orders))
        .route("/orders/{order_id}", get(order))
        .route("/orders/{order_id}/pay", post(pay_order))
        .route("/orders/{order_id}/cancel", post(cancel_order))
        .route("/orders/{order_id}/lapse", post(lapse_order))
        .route("/orders/{order_id}/complete", post(complete_order))
        .route("/orders/{order_id}/status", post(order_status))
        .route(
            "/fail-jobs",
            get(fail_jobs).post(add_fail_jobs).delete(clear_fail_jobs),
        )
        .route("/settings", get(settings).put(put_settings))
        .route("/account", get(account).put(put_account))
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::bad_request(BAD, msg)
}

fn missing(what: &str, id: &str) -> ApiError {
    ApiError::not_found(MISSING, format!("The {what} {id} does not exist"))
}

async fn calls(State(app): State<App>) -> ApiResult {
    ok(calls_json(&app.world.lock()))
}

async fn reset_calls(State(app): State<App>) -> ApiResult {
    let mut world = app.world.lock();
    world.reset_calls();
    ok(calls_json(&world))
}

fn calls_json(world: &crate::state::World) -> serde_json::Value {
    json!({
        "calls": world.calls,
        "methods": world.calls_by_method,
        "throttled": world.quota.throttled,
        "held_answers": world.held,
        "traffic_by_phone": world.traffic_by_phone,
    })
}

async fn list_faults(State(app): State<App>) -> ApiResult {
    ok(json!({"faults": app.world.lock().faults}))
}

async fn add_fault(State(app): State<App>, body: Bytes) -> ApiResult {
    let spec: FaultSpec = parse_json(&body).map_err(|e| bad(e.msg))?;
    let fault = spec.into_fault().map_err(bad)?;
    let mut world = app.world.lock();
    world.faults.push_back(fault);
    ok(json!({"queued": world.faults.len()}))
}

async fn clear_faults(State(app): State<App>) -> ApiResult {
    app.world.lock().faults.clear();
    ok(json!({"queued": 0}))
}

#[derive(Deserialize)]
struct TrafficBody {
    traffic_type: String,
}

async fn phone_traffic(State(app): State<App>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let body: TrafficBody = parse_json(&body).map_err(|e| bad(e.msg))?;
    check_traffic_type(&body.traffic_type).map_err(|e| bad(e.msg))?;
    let mut world = app.world.lock();
    let phone = world
        .fleet
        .phone_mut(&id)
        .ok_or_else(|| missing("phone", &id))?;
    phone.traffic_type = body.traffic_type;
    phone.updated = time::OffsetDateTime::now_utc();
    let json = phone.to_json(None);
    ok(json!({"phone": json}))
}

#[derive(Deserialize)]
struct StatusBody {
    status: i64,
}

async fn phone_status(State(app): State<App>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let body: StatusBody = parse_json(&body).map_err(|e| bad(e.msg))?;
    let mut world = app.world.lock();
    let phone = world
        .fleet
        .phone_mut(&id)
        .ok_or_else(|| missing("phone", &id))?;
    phone.status = body.status;
    let json = phone.to_json(None);
    ok(json!({"phone": json}))
}

async fn server_status(State(app): State<App>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let body: StatusBody = parse_json(&body).map_err(|e| bad(e.msg))?;
    let mut world = app.world.lock();
    let server = world
        .fleet
        .server_mut(&id)
        .ok_or_else(|| missing("server", &id))?;
    server.status = body.status;
    let json = server.to_json(&app.config.project_id);
    ok(json!({"server": json}))
}

#[derive(Deserialize)]
struct FlavorBody {
    server_model_name: String,
    phone_model_name: String,
}

async fn server_flavor(State(app): State<App>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let body: FlavorBody = parse_json(&body).map_err(|e| bad(e.msg))?;
    if !catalogue::pair_exists(&body.server_model_name, &body.phone_model_name) {
        return Err(bad(format!(
            "{} is not a phone flavor of {} in the catalogue",
            body.phone_model_name, body.server_model_name
        )));
    }
    let mut world = app.world.lock();
    let server = world
        .fleet
        .server_mut(&id)
        .ok_or_else(|| missing("server", &id))?;
    server.server_model = body.server_model_name;
    server.phone_model = body.phone_model_name;
    server.updated = time::OffsetDateTime::now_utc();
    let json = server.to_json(&app.config.project_id);
    ok(json!({"server": json}))
}

async fn delete_server(State(app): State<App>, Path(id): Path<String>) -> ApiResult {
    let mut world = app.world.lock();
    if !world.fleet.remove_server(&id) {
        return Err(missing("server", &id));
    }
    // An order awaiting payment for a vanished server is cancelled; one
    // being processed fails when it completes.
    if let Some(order_id) = world.active_orders.get(&id).cloned()
        && let Some(&idx) = world.order_index.get(&order_id)
        && world.orders[idx].status == OrderStatus::AwaitingPayment
    {
        world.cancel_idx(idx, "server_deleted");
    }
    ok(json!({"deleted": id}))
}

async fn orders(State(app): State<App>) -> ApiResult {
    let world = app.world.lock();
    let orders: Vec<_> = world.orders.iter().map(|o| o.to_json()).collect();
    ok(json!({"orders": orders}))
}

async fn order(State(app): State<App>, Path(id): Path<String>) -> ApiResult {
    let world = app.world.lock();
    let order = world.order(&id).ok_or_else(|| missing("order", &id))?;
    ok(json!({"order": order.to_json()}))
}

async fn pay_order(State(app): State<App>, Path(id): Path<String>) -> ApiResult {
    let mut world = app.world.lock();
    let order = world.pay_order(&id).map_err(|r| admin_refusal(&id, r))?;
    ok(json!({"order": order.to_json()}))
}

async fn cancel_order(State(app): State<App>, Path(id): Path<String>) -> ApiResult {
    let mut world = app.world.lock();
    let order = world
        .force_cancel_order(&id)
        .map_err(|r| admin_refusal(&id, r))?;
    ok(json!({"order": order.to_json()}))
}

async fn lapse_order(State(app): State<App>, Path(id): Path<String>) -> ApiResult {
    let mut world = app.world.lock();
    let order = world.lapse_order(&id).map_err(|r| admin_refusal(&id, r))?;
    ok(json!({"order": order.to_json()}))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CompleteBody {
    apply_flavor: Option<bool>,
}

async fn complete_order(State(app): State<App>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let body: CompleteBody = if body.iter().all(u8::is_ascii_whitespace) {
        CompleteBody::default()
    } else {
        parse_json(&body).map_err(|e| bad(e.msg))?
    };
    let mut world = app.world.lock();
    let order = world
        .complete_order(&id, body.apply_flavor.unwrap_or(true))
        .map_err(|r| admin_refusal(&id, r))?;
    ok(json!({"order": order.to_json()}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderStatusBody {
    status: serde_json::Value,
}

async fn order_status(State(app): State<App>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let body: OrderStatusBody = parse_json(&body).map_err(|e| bad(e.msg))?;
    let status = OrderStatus::parse(&body.status).ok_or_else(|| {
        bad(format!(
            "status must be one of awaiting_payment, processing, succeeded, cancelled, failed \
             (or BSS 6, 3, 5, 4), got {}",
            body.status
        ))
    })?;
    let mut world = app.world.lock();
    let order = world
        .set_order_status(&id, status)
        .map_err(|r| admin_refusal(&id, r))?;
    ok(json!({"order": order.to_json()}))
}

#[derive(Deserialize)]
struct FailJobsBody {
    phone_ids: Vec<String>,
}

async fn fail_jobs(State(app): State<App>) -> ApiResult {
    let world = app.world.lock();
    let mut ids: Vec<_> = world.fail_jobs.iter().cloned().collect();
    ids.sort();
    ok(json!({"phone_ids": ids}))
}

async fn add_fail_jobs(State(app): State<App>, body: Bytes) -> ApiResult {
    let body: FailJobsBody = parse_json(&body).map_err(|e| bad(e.msg))?;
    let mut world = app.world.lock();
    world.fail_jobs.extend(body.phone_ids);
    let mut ids: Vec<_> = world.fail_jobs.iter().cloned().collect();
    ids.sort();
    ok(json!({"phone_ids": ids}))
}

async fn clear_fail_jobs(State(app): State<App>) -> ApiResult {
    app.world.lock().fail_jobs.clear();
    ok(json!({"phone_ids": []}))
}

async fn settings(State(app): State<App>) -> ApiResult {
    ok(json!({"settings": app.world.lock().settings}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsBody {
    order_seconds: Option<f64>,
    job_seconds: Option<f64>,
    latency_ms: Option<u64>,
    payment_seconds: Option<f64>,
    quota_per_second: Option<u64>,
}

async fn put_settings(State(app): State<App>, body: Bytes) -> ApiResult {
    let body: SettingsBody = parse_json(&body).map_err(|e| bad(e.msg))?;
    for v in [body.order_seconds, body.job_seconds, body.payment_seconds]
        .into_iter()
        .flatten()
    {
        if !v.is_finite() || v < 0.0 {
            return Err(bad(format!("seconds must be a number >= 0, got {v}")));
        }
    }
    let mut world = app.world.lock();
    if let Some(v) = body.order_seconds {
        world.settings.order_seconds = v;
    }
    if let Some(v) = body.job_seconds {
        world.settings.job_seconds = v;
    }
    if let Some(v) = body.latency_ms {
        world.settings.latency_ms = v;
    }
    if let Some(v) = body.payment_seconds {
        world.settings.payment_seconds = v;
    }
    if let Some(v) = body.quota_per_second {
        world.settings.quota_per_second = v;
    }
    ok(json!({"settings": world.settings}))
}

/// The account states the admin API can set, by name, and their codes.
const ACCOUNT_STATES: &[(&str, Option<&str>)] = &[
    ("normal", None),
    ("arrears", Some(code::ACCOUNT_ARREARS)),
    ("frozen", Some(code::ACCOUNT_FROZEN)),
    ("unverified", Some(code::ACCOUNT_UNVERIFIED)),
];

fn account_json(state: Option<&str>) -> serde_json::Value {
    let name = ACCOUNT_STATES
        .iter()
        .find(|(_, c)| *c == state)
        .map_or("normal", |(n, _)| n);
    json!({"state": name, "error_code": state})
}

async fn account(State(app): State<App>) -> ApiResult {
    ok(account_json(app.world.lock().account_state))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountBody {
    state: String,
}

/// Puts the account in arrears, frozen, not verified, or back to normal.
async fn put_account(State(app): State<App>, body: Bytes) -> ApiResult {
    let body: AccountBody = parse_json(&body).map_err(|e| bad(e.msg))?;
    let Some((_, state)) = ACCOUNT_STATES.iter().find(|(n, _)| *n == body.state) else {
        return Err(bad(format!(
            "state must be normal, arrears, frozen or unverified, got {:?}",
            body.state
        )));
    };
    app.world.lock().account_state = *state;
    ok(account_json(*state))
}

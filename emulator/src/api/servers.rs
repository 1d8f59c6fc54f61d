//! Server endpoints: server detail, list servers, and `change-server-model`.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use serde::Deserialize;
use serde_json::json;

use super::query::{Query, page};
use crate::app::App;
use crate::errors::{ApiError, ApiResult, current_request_id, ok, parse_json};
use crate::orders::ChangeRequest;

pub async fn show(
    State(app): State<App>,
    p: Result<Path<(String, String)>, PathRejection>,
) -> ApiResult {
    let id = super::path_param(p)?;
    let world = app.world.lock();
    let server = world
        .fleet
        .server(&id)
        .ok_or_else(ApiError::server_not_found)?;
    ok(server.to_json(&app.config.project_id))
}

pub async fn list(State(app): State<App>, RawQuery(raw): RawQuery) -> ApiResult {
    let q = Query::parse(raw.as_deref());
    let offset = q.offset()?;
    let limit = q.limit(100, 100)?;
    let status = q.int("status")?;
    // Fuzzy by name; creation bounds in Unix seconds.
    let (create_since, create_until) = (q.int("create_since")?, q.int("create_until")?);
    // Every emulated server is on the system-defined network.
    let network_version = q.str("network_version");
    let (server_id, server_name, phone_model) = (
        q.str("server_id"),
        q.str("server_name"),
        q.str("phone_model_name"),
    );
    let world = app.world.lock();
    let matching = world.fleet.servers().iter().filter(|s| {
        server_id.is_none_or(|v| s.id == v)
            && server_name.is_none_or(|v| s.name.contains(v))
            && network_version.is_none_or(|v| v == "v1")
            && create_since.is_none_or(|t| s.created.unix_timestamp() >= t)
            && create_until.is_none_or(|t| s.created.unix_timestamp() <= t)
            && phone_model.is_none_or(|v| s.phone_model == v)
            && status.is_none_or(|v| s.status == v)
    });
    let (items, count) = page(matching, offset, limit);
    let servers: Vec<_> = items
        .iter()
        .map(|s| s.to_json(&app.config.project_id))
        .collect();
    ok(json!({"servers": servers, "count": count}))
}

#[derive(Deserialize)]
struct ChangeBody {
    server_id: String,
    server_model_name: String,
    phone_model_name: String,
    extend_param: Option<ExtendParam>,
}

#[derive(Deserialize)]
struct ExtendParam {
    is_auto_pay: Option<i64>,
}

pub async fn change_model(State(app): State<App>, body: Bytes) -> ApiResult {
    let body: ChangeBody = parse_json(&body)?;
    let auto_pay = body.extend_param.and_then(|e| e.is_auto_pay) == Some(1);
    let mut world = app.world.lock();
    let order = world.change_server_model(ChangeRequest {
        server_id: &body.server_id,
        server_model: &body.server_model_name,
        phone_model: &body.phone_model_name,
        auto_pay,
        request_id: current_request_id(),
    })?;
    ok(json!({"order_id": order.id, "product_id": order.product_id}))
}

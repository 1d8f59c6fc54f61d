//! Phone endpoints: phone detail, list phones (filters and paging), and
//! `phones-traffic` (set the route of up to 100 phones).

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use serde::Deserialize;
use serde_json::json;

use super::query::{Query, page};
use crate::app::App;
use crate::errors::{ApiError, ApiResult, current_request_id, ok, parse_json};
use crate::fleet::Phone;

pub async fn show(
    State(app): State<App>,
    p: Result<Path<(String, String)>, PathRejection>,
) -> ApiResult {
    let id = super::path_param(p)?;
    let world = app.world.lock();
    let phone = world
        .fleet
        .phone(&id)
        .ok_or_else(ApiError::phone_not_found)?;
    let mut body = phone.to_json(world.fleet.server(&phone.server_id));
    world.devices.decorate(&id, &mut body);
    ok(body)
}

pub async fn list(State(app): State<App>, RawQuery(raw): RawQuery) -> ApiResult {
    let q = Query::parse(raw.as_deref());
    let offset = q.offset()?;
    let limit = q.limit(200, 100)?;
    let status = q.int("status")?;
    let phone_type = q.int("type")?;
    let phone_name = q.str("phone_name");
    let world = app.world.lock();
    let keep = |p: &&Phone| {
        phone_name.is_none_or(|v| p.name == v)
            && status.is_none_or(|v| p.status == v)
            && phone_type.is_none_or(|v| p.phone_type == v)
    };
    let (items, count) = match q.str("server_id") {
        // Per-server index: a page costs the server's phones, not the fleet's.
        Some(server_id) => page(
            world.fleet.phones_of(server_id).into_iter().filter(keep),
            offset,
            limit,
        ),
        None => page(world.fleet.phones().iter().filter(keep), offset, limit),
    };
    let phones: Vec<_> = items
        .iter()
        .map(|p| p.to_json(world.fleet.server(&p.server_id)))
        .collect();
    ok(json!({"phones": phones, "count": count}))
}

#[derive(Deserialize)]
struct RouteBody {
    traffic_type: String,
    phone_ids: Vec<String>,
}

pub async fn route(State(app): State<App>, body: Bytes) -> ApiResult {
    let body: RouteBody = parse_json(&body)?;
    let request_id = current_request_id();
    let mut world = app.world.lock();
    for phone_id in &body.phone_ids {
        *world.traffic_by_phone.entry(phone_id.clone()).or_default() += 1;
    }
    let jobs = world.route_phones(&body.traffic_type, &body.phone_ids, &request_id)?;
    ok(json!({"jobs": jobs}))
}

//! The BSS (billing) calls the provider follows a flavor-change order with:
//! order details, paying an order pending payment and cancelling it. Same
//! port and authentication as CPH, no project id in the paths, `CBC.` error
//! codes as BSS answers them.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Value, json};

use super::query::Query;
use crate::app::App;
use crate::errors::{ApiError, ApiResult, code, ok};
use crate::orders::{OrderStatus, Refusal};

fn bad_param(msg: impl Into<String>) -> ApiError {
    ApiError::bad_request(code::CBC_BAD_PARAM, msg)
}

fn refusal(id: &str, r: Refusal, action: &str) -> ApiError {
    match r {
        Refusal::Unknown => ApiError::bad_request(
            code::CBC_INVALID_ORDER,
            format!("Invalid order {id} (the order may not exist); it cannot be operated"),
        ),
        Refusal::Lapsed if action == "pay" => ApiError::bad_request(
            code::CBC_PAYMENT_LAPSED,
            format!("The order {id} is past its payment deadline; place the order again"),
        ),
        Refusal::Lapsed | Refusal::NotPending(_) => {
            let status = match r {
                Refusal::NotPending(s) => s,
                _ => OrderStatus::Cancelled,
            };
            let (code, what) = if action == "pay" {
                (code::CBC_STATUS_CHANGED, "paid")
            } else {
                (code::CBC_CANNOT_CANCEL, "cancelled")
            };
            ApiError::bad_request(
                code,
                format!(
                    "The order {id} cannot be {what}: its status is {} ({}), not pending payment (6)",
                    status.bss(),
                    status.as_str()
                ),
            )
        }
    }
}

/// `GET /v2/orders/customer-orders/details/{order_id}?offset=&limit=`
pub async fn show_order(
    State(app): State<App>,
    p: Result<Path<String>, PathRejection>,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    let Ok(Path(id)) = p else {
        return Err(ApiError::api_not_found());
    };
    let q = Query::parse(raw.as_deref());
    let int = |name: &str| q.int(name).map_err(|e| bad_param(e.msg));
    let offset = match int("offset")? {
        None => 0,
        Some(v) if v >= 0 => usize::try_from(v).unwrap_or(usize::MAX),
        Some(v) => return Err(bad_param(format!("Invalid offset: {v}"))),
    };
    let limit = match int("limit")? {
        None => 10,
        Some(v) if (1..=100).contains(&v) => usize::try_from(v).unwrap_or(10),
        Some(v) => {
            return Err(bad_param(format!(
                "Invalid limit: {v} is not between 1 and 100"
            )));
        }
    };
    let world = app.world.lock();
    let order = world
        .order(&id)
        .ok_or_else(|| refusal(&id, Refusal::Unknown, "show"))?;
    let items = order.bss_line_items();
    let total = items.len();
    let items: Vec<Value> = items.into_iter().skip(offset).take(limit).collect();
    ok(json!({
        "total_count": total,
        "order_info": order.bss_order_info(&app.config.project_id, &app.config.user_name),
        "order_line_items": items,
    }))
}

#[derive(Deserialize)]
struct PayBody {
    order_id: Option<String>,
    use_coupon: Option<String>,
    use_discount: Option<String>,
    coupon_infos: Option<Vec<Value>>,
    discount_infos: Option<Vec<Value>>,
}

fn order_id_of(v: Option<String>) -> Result<String, ApiError> {
    match v {
        Some(id) if !id.is_empty() && id.len() <= 64 => Ok(id),
        _ => Err(bad_param("order_id is required (1 to 64 characters)")),
    }
}

fn check_yes_no(
    field: &str,
    value: Option<&str>,
    infos: Option<&Vec<Value>>,
) -> Result<(), ApiError> {
    match value {
        None | Some("NO") => Ok(()),
        Some("YES") if infos.is_some_and(|i| !i.is_empty()) => Ok(()),
        Some("YES") => Err(bad_param(format!(
            "{field} is YES but no {} are given",
            if field == "use_coupon" {
                "coupon_infos"
            } else {
                "discount_infos"
            }
        ))),
        Some(other) => Err(bad_param(format!("Invalid {field}: '{other}' (YES or NO)"))),
    }
}

/// `POST /v3/orders/customer-orders/pay`: 204 on success.
pub async fn pay_order(State(app): State<App>, body: Bytes) -> ApiResult {
    let body: PayBody = serde_json::from_slice(&body)
        .map_err(|e| bad_param(format!("Invalid request body: {e}")))?;
    let id = order_id_of(body.order_id)?;
    check_yes_no(
        "use_coupon",
        body.use_coupon.as_deref(),
        body.coupon_infos.as_ref(),
    )?;
    check_yes_no(
        "use_discount",
        body.use_discount.as_deref(),
        body.discount_infos.as_ref(),
    )?;
    let mut world = app.world.lock();
    world.pay_order(&id).map_err(|r| refusal(&id, r, "pay"))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
struct CancelBody {
    order_id: Option<String>,
}

/// `PUT /v2/orders/customer-orders/cancel`: 204 on success.
pub async fn cancel_order(State(app): State<App>, body: Bytes) -> ApiResult {
    let body: CancelBody = serde_json::from_slice(&body)
        .map_err(|e| bad_param(format!("Invalid request body: {e}")))?;
    let id = order_id_of(body.order_id)?;
    let mut world = app.world.lock();
    world
        .cancel_order(&id, "customer")
        .map_err(|r| refusal(&id, r, "cancel"))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /v2/products/service-types`: the one service type this emulator
/// bills (the provider probes it to tell international accounts apart).
pub async fn service_types() -> ApiResult {
    ok(json!({
        "total_count": 1,
        "service_types": [{
            "service_type_name": "Cloud Phone Host",
            "service_type_code": "hws.service.type.cph",
            "abbreviation": "CPH",
        }],
    }))
}

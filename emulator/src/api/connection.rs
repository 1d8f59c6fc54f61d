//! `phones/batch-connection`: access information and a fresh ticket for 1 to
//! 10 phones and a `client_type`; synchronous. Phones that do not exist or
//! are not running are listed in `errors[]` (partial success is normal).
//! Addresses are loopback ones: nothing ever connects to them.

use axum::body::Bytes;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::App;
use crate::errors::{ApiError, ApiResult, code, ok, parse_json};
use crate::ids;

pub const MAX_PHONE_IDS: usize = 10;
pub const CLIENT_TYPES: [&str; 5] = ["ANDROID", "WINDOWS", "H5_MOBILE", "H5_PC", "IOS"];
const RUNNING: i64 = 2;
/// The first phone of a server listens here; the next ones above it.
const BASE_PORT: usize = 20000;

#[derive(Deserialize)]
struct ConnectionBody {
    phone_ids: Vec<String>,
    client_type: String,
}

pub async fn batch_connection(State(app): State<App>, body: Bytes) -> ApiResult {
    let body: ConnectionBody = parse_json(&body)?;
    if !CLIENT_TYPES.contains(&body.client_type.as_str()) {
        return Err(ApiError::bad_request(
            code::BAD_REQUEST,
            format!(
                "Parameter: client_type {:?} is invalid: the allowed values are {}",
                body.client_type,
                CLIENT_TYPES.join(", ")
            ),
        ));
    }
    if body.phone_ids.is_empty() || body.phone_ids.len() > MAX_PHONE_IDS {
        return Err(ApiError::bad_request(
            code::BAD_PHONE_IDS,
            format!(
                "Invalid phone_ids: 1 to {MAX_PHONE_IDS} phone ids are required, got {}",
                body.phone_ids.len()
            ),
        ));
    }
    let world = app.world.lock();
    let mut infos = Vec::new();
    let mut errors = Vec::new();
    for phone_id in &body.phone_ids {
        let error = |code: &str, msg: String| json!({"phone_id": phone_id, "error_code": code, "error_msg": msg});
        let Some(phone) = world.fleet.phone(phone_id) else {
            errors.push(error(
                code::PHONE_NOT_FOUND,
                "The phone does not exist".into(),
            ));
            continue;
        };
        if phone.status != RUNNING {
            let msg = format!(
                "The phone status ({}) does not allow connecting",
                phone.status
            );
            errors.push(error(code::PHONE_NOT_AVAILABLE, msg));
            continue;
        }
        let slot = world
            .fleet
            .server(&phone.server_id)
            .and_then(|s| s.phone_ids.iter().position(|p| p == phone_id))
            .unwrap_or(0);
        infos.push(json!({"phone_id": phone_id, "access_info": access_info(slot)}));
    }
    ok(json!({"connect_infos": infos, "errors": errors}))
}

fn access_info(slot: usize) -> Value {
    let now = time::OffsetDateTime::now_utc();
    json!({
        "access_ip": "127.0.0.1",
        "intranet_ip": "127.0.0.1",
        "access_ipv6": "::1",
        "access_port": BASE_PORT + slot,
        "session_id": ids::random_hex32(),
        "timestamp": now.unix_timestamp().to_string(),
        "ticket": format!("tkt{}{}", ids::random_hex32(), ids::random_hex32()),
    })
}

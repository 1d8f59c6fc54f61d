//! API errors and response bodies: every error code the emulator answers with,
//! the JSON error body (`error_code`, `error_msg`, `request_id`), and the
//! task-local request id that both error and success bodies carry.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

tokio::task_local! {
    /// The id of the request being served, set by the gateway middleware.
    pub static REQUEST_ID: String;
}

/// The current request's id (a fresh one outside a request scope).
pub fn current_request_id() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| crate::ids::random_hex32())
}

/// Error codes, as documented in the README's table.
pub mod code {
    pub const BAD_REQUEST: &str = "CPS.0001";
    pub const BAD_TRAFFIC_TYPE: &str = "CPS.0002";
    pub const BAD_PHONE_IDS: &str = "CPS.0003";
    pub const BAD_MODEL_NAME: &str = "CPS.0004";
    pub const SERVER_NOT_FOUND: &str = "CPS.0005";
    pub const PHONE_NOT_FOUND: &str = "CPS.0006";
    pub const JOB_NOT_FOUND: &str = "CPS.0007";
    pub const BAD_JOB_QUERY: &str = "CPS.0008";
    pub const PHONE_NOT_AVAILABLE: &str = "CPS.0010";
    pub const JOB_FAILED: &str = "CPS.0020";
    /// A phone's `property` is not a JSON object of strings or a documented
    /// key's value is out of its format (the emulator's own choice: the
    /// reference's error table, as far as it was read, lists none).
    pub const BAD_PROPERTY: &str = "CPS.0119";
    /// `phones/commands`: `command` is not one of the five.
    pub const BAD_COMMAND: &str = "CPS.0117";
    /// `phones/commands`: `content` is empty, too long or has a character
    /// outside the allowed set.
    pub const BAD_CONTENT: &str = "CPS.0118";
    pub const UNKNOWN_FLAVOR: &str = "CPS.0030";
    pub const SAME_FLAVOR: &str = "CPS.0031";
    pub const CROSS_GENERATION: &str = "CPS.0032";
    pub const CAPACITY_MISMATCH: &str = "CPS.0033";
    pub const SERVER_NOT_AVAILABLE: &str = "CPS.0034";
    pub const ORDER_IN_PROGRESS: &str = "CPS.0040";
    pub const INTERNAL: &str = "CPS.9999";
    pub const API_NOT_FOUND: &str = "APIGW.0101";
    pub const BACKEND_UNAVAILABLE: &str = "APIGW.0201";
    pub const AUTH_FAILED: &str = "APIGW.0301";
    pub const FORBIDDEN: &str = "APIGW.0302";
    pub const THROTTLED: &str = "APIGW.0308";
    pub const BODY_TOO_LARGE: &str = "APIGW.0311";
    /// BSS: parameter error.
    pub const CBC_BAD_PARAM: &str = "CBC.0100";
    /// BSS: invalid order (it may not exist).
    pub const CBC_INVALID_ORDER: &str = "CBC.30000010";
    /// BSS pay: the order's status changed, it cannot be paid.
    pub const CBC_STATUS_CHANGED: &str = "CBC.99003106";
    /// BSS pay: the order is past its payment deadline.
    pub const CBC_PAYMENT_LAPSED: &str = "CBC.99003110";
    /// BSS cancel: the order's status does not allow cancelling.
    pub const CBC_CANNOT_CANCEL: &str = "CBC.99005010";
}

/// An error answer: HTTP status, code and message (plus an optional
/// `Retry-After` for throttling).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{status} {code}: {msg}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub msg: String,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, msg: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_string(),
            msg: msg.into(),
            retry_after: None,
        }
    }
    pub fn bad_request(code: &str, msg: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, msg)
    }
    pub fn not_found(code: &str, msg: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, msg)
    }
    pub fn unauthorized(msg: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code::AUTH_FAILED, msg)
    }
    pub fn api_not_found() -> Self {
        Self::not_found(
            code::API_NOT_FOUND,
            "The API does not exist or has not been published in the environment",
        )
    }
    pub fn server_not_found() -> Self {
        Self::not_found(code::SERVER_NOT_FOUND, "The server does not exist")
    }
    pub fn phone_not_found() -> Self {
        Self::not_found(code::PHONE_NOT_FOUND, "The phone does not exist")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "error_code": self.code,
            "error_msg": self.msg,
            "request_id": current_request_id(),
        });
        let mut resp = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

pub type ApiResult = Result<Response, ApiError>;

/// A 200 JSON answer with `request_id` added to the object.
pub fn ok(body: Value) -> ApiResult {
    Ok(with_status(StatusCode::OK, body))
}

/// A JSON answer with the given status and `request_id` added to the object.
pub fn with_status(status: StatusCode, mut body: Value) -> Response {
    if let Value::Object(map) = &mut body {
        map.insert("request_id".into(), Value::String(current_request_id()));
    }
    (status, axum::Json(body)).into_response()
}

/// Parse a JSON request body into `T`, mapping failures to `CPS.0001`.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(code::BAD_REQUEST, format!("Invalid request body: {e}")))
}

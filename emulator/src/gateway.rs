//! The gateway in front of every handler, as Huawei Cloud's API gateway is:
//! request ids (`X-Request-Id`), request logs on stderr, per-endpoint call
//! counts, injected faults and latency, and authentication (AK/SK signature or
//! token) plus the project id check on every `/v1` call. AK/SK calls must
//! sign their scope as the SDK does: `X-Project-Id` for CPH
//! (`BasicCredentials`), `X-Domain-Id` for BSS (`GlobalCredentials`).

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;

use crate::app::App;
use crate::auth::{self, RequestParts};
use crate::endpoints::{self, Endpoint};
use crate::errors::{ApiError, REQUEST_ID, code};
use crate::faults::{self, FaultKind, FaultSpec};
use crate::ids;
use crate::server::ConnKill;

/// Largest request body accepted.
const MAX_BODY: usize = 1 << 20;

enum Outcome {
    Answer(Response),
    /// Close the connection without answering.
    Drop,
}

pub async fn gateway(State(app): State<App>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = ids::random_hex32();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let kill = req.extensions().get::<ConnKill>().cloned();
    let endpoint = endpoints::classify(&method, &path);
    let outcome = REQUEST_ID
        .scope(request_id.clone(), handle(app, endpoint, req, next))
        .await;
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    match outcome {
        Outcome::Answer(mut resp) => {
            if let Ok(v) = HeaderValue::from_str(&request_id) {
                resp.headers_mut().insert("x-request-id", v);
            }
            tracing::info!(
                %method, %path, status = resp.status().as_u16(),
                duration_ms = format!("{elapsed_ms:.1}"), request_id = %request_id, "request"
            );
            resp
        }
        Outcome::Drop => {
            tracing::info!(
                %method, %path, status = "dropped",
                duration_ms = format!("{elapsed_ms:.1}"), request_id = %request_id, "request"
            );
            match kill {
                Some(kill) => {
                    kill.kill();
                    std::future::pending::<Response>().await
                }
                None => StatusCode::BAD_GATEWAY.into_response(),
            }
        }
    }
}

async fn handle(app: App, endpoint: Option<Endpoint>, req: Request, next: Next) -> Outcome {
    let Some(endpoint) = endpoint else {
        return Outcome::Answer(next.run(req).await);
    };
    let (fault, latency_ms, admitted) = {
        let mut world = app.world.lock();
        if let Some(n) = world.calls.get_mut(endpoint.name) {
            *n += 1;
        }
        *world
            .calls_by_method
            .entry(req.method().as_str().to_string())
            .or_insert(0) += 1;
        // The gateway throttles before anything reaches the service, so a
        // throttled call does not use up a queued fault.
        let quota = world.settings.quota_per_second;
        let admitted = world.quota.admit(endpoint.name, quota, Instant::now());
        let fault = admitted
            .then(|| faults::take(&mut world.faults, endpoint.name))
            .flatten();
        (fault, world.settings.latency_ms, admitted)
    };
    if latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(latency_ms)).await;
    }
    if !admitted {
        return Outcome::Answer(
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                code::THROTTLED,
                "The throttling threshold has been reached",
            )
            .into_response(),
        );
    }
    let mut drop_after = false;
    let mut hold = None;
    if let Some(fault) = fault {
        match fault.kind {
            FaultKind::Status => return Outcome::Answer(fault_response(&fault)),
            FaultKind::Latency => {
                tokio::time::sleep(Duration::from_millis(fault.latency_ms.unwrap_or(0))).await;
            }
            FaultKind::DropBefore => return Outcome::Drop,
            FaultKind::DropAfter => drop_after = true,
            FaultKind::HoldAnswer => hold = fault.latency_ms,
        }
    }
    let resp = match admit(&app, &endpoint, req).await {
        Ok(_) if let Some(e) = account_refusal(&app, &endpoint) => e.into_response(),
        Ok(req) => next.run(req).await,
        Err(e) => e.into_response(),
    };
    if let Some(ms) = hold {
        hold_answer(&app, ms).await;
    }
    if drop_after {
        Outcome::Drop
    } else {
        Outcome::Answer(resp)
    }
}

/// A CPH call refused for the account's state (admin `PUT /account`), as
/// the API answers it: 400 with the state's code, after authentication.
fn account_refusal(app: &App, endpoint: &Endpoint) -> Option<ApiError> {
    endpoint.project_id.as_ref()?;
    let code = app.world.lock().account_state?;
    let msg = match code {
        code::ACCOUNT_ARREARS => "No permission to request resources. Role is op_restricted.",
        code::ACCOUNT_FROZEN => "No permission to request resources. Role is op_suspended.",
        _ => "No permission to request resources. Role is op_unverified.",
    };
    Some(ApiError::bad_request(code, msg))
}

/// Holds a processed call's answer `ms` milliseconds, counted in
/// [`crate::faults::HeldAnswers`] meanwhile.
/// (A client that goes away meanwhile ends the hold early.)
async fn hold_answer(app: &App, ms: u64) {
    struct Holding<'a>(&'a App);
    impl Drop for Holding<'_> {
        fn drop(&mut self) {
            let mut world = self.0.world.lock();
            world.held.holding = world.held.holding.saturating_sub(1);
        }
    }
    {
        let mut world = app.world.lock();
        world.held.holding += 1;
        world.held.held += 1;
    }
    let _holding = Holding(app);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// Read the body, authenticate and check the project; hand back the request.
async fn admit(app: &App, endpoint: &Endpoint, req: Request) -> Result<Request, ApiError> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            code::BODY_TOO_LARGE,
            "The request body is too large",
        )
    })?;
    if endpoint.authenticated && authenticate(app, &parts, &bytes)? == Signed::ByKeys {
        check_signed_scope(app, endpoint, &parts.headers)?;
    }
    if endpoint.global && app.config.international && !at_international_bss(&parts) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "CBC.0150",
            "International accounts cannot call this endpoint: use the international BSS endpoint (bss-intl)",
        ));
    }
    if let Some(project_id) = &endpoint.project_id
        && *project_id != app.config.project_id
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            code::FORBIDDEN,
            "The project ID in the request path does not match the credentials",
        ));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// Whether a BSS call reached the international endpoint: under
/// [`endpoints::BSS_INTL_PREFIX`], or (through a proxy that keeps the real
/// host, whose name the signature covers) with a `Host` of `bss-intl.…`.
fn at_international_bss(parts: &axum::http::request::Parts) -> bool {
    let host = parts
        .headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    parts.uri.path().starts_with(endpoints::BSS_INTL_PREFIX)
        || host.to_ascii_lowercase().starts_with("bss-intl.")
}

/// How a request proved who sent it.
#[derive(Debug, PartialEq, Eq)]
enum Signed {
    ByToken,
    ByKeys,
}

/// An AK/SK call's scope header, signed and right: `X-Project-Id` (the
/// path's project) for CPH, `X-Domain-Id` (the account) for BSS.
fn check_signed_scope(
    app: &App,
    endpoint: &Endpoint,
    headers: &axum::http::HeaderMap,
) -> Result<(), ApiError> {
    let (name, expected) = match (&endpoint.project_id, endpoint.global) {
        (Some(project), _) => ("X-Project-Id", project.as_str()),
        (None, true) => ("X-Domain-Id", app.config.domain_id.as_str()),
        (None, false) => return Ok(()),
    };
    match auth::signed_header(headers, &name.to_ascii_lowercase()) {
        Some(v) if v == expected => Ok(()),
        Some(_) => Err(ApiError::unauthorized(format!(
            "Incorrect IAM authentication information: the {name} does not belong to the access key"
        ))),
        None if headers.contains_key(name) => Err(ApiError::unauthorized(format!(
            "Incorrect IAM authentication information: {name} is not among the signed headers"
        ))),
        None => Err(ApiError::unauthorized(format!(
            "Incorrect IAM authentication information: {name} is required with AK/SK for this service"
        ))),
    }
}

fn authenticate(
    app: &App,
    parts: &axum::http::request::Parts,
    body: &[u8],
) -> Result<Signed, ApiError> {
    if let Some(token) = parts.headers.get("x-auth-token") {
        let token = String::from_utf8_lossy(token.as_bytes());
        let token = token.trim();
        if token == app.config.auth_token {
            return Ok(Signed::ByToken);
        }
        let world = app.world.lock();
        return match world.tokens.get(token) {
            Some(expiry) if *expiry > OffsetDateTime::now_utc() => Ok(Signed::ByToken),
            Some(_) => Err(ApiError::unauthorized(
                "Incorrect IAM authentication information: the token has expired",
            )),
            None => Err(ApiError::unauthorized(
                "Incorrect IAM authentication information: the token is invalid",
            )),
        };
    }
    if !parts.headers.contains_key("authorization") {
        return Err(ApiError::unauthorized(
            "Incorrect IAM authentication information: no X-Auth-Token and no Authorization header",
        ));
    }
    let req = RequestParts {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &parts.headers,
        body,
    };
    let now = OffsetDateTime::now_utc();
    let temporary = auth::access_key_of(&parts.headers)
        .filter(|ak| *ak != app.aksk.access_key)
        .and_then(|ak| app.world.lock().temporary_keys.get(&ak).cloned());
    let keys = match &temporary {
        Some((_, expiry)) if *expiry <= now => {
            return Err(ApiError::unauthorized(
                "Incorrect IAM authentication information: the temporary access key has expired",
            ));
        }
        Some((keys, _)) => keys,
        None => &app.aksk,
    };
    auth::verify_signature(&req, keys, now)
        .map(|()| Signed::ByKeys)
        .map_err(|why| {
            ApiError::unauthorized(format!("Incorrect IAM authentication information: {why}"))
        })
}

fn fault_response(fault: &FaultSpec) -> Response {
    let status = fault
        .status
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (default_code, default_msg) = match status.as_u16() {
        429 => (code::THROTTLED, "The request is throttled"),
        502..=504 => (
            code::BACKEND_UNAVAILABLE,
            "The backend service is unavailable",
        ),
        500..=599 => (code::INTERNAL, "Internal server error"),
        _ => (code::BAD_REQUEST, "Injected error"),
    };
    let mut err = ApiError::new(
        status,
        fault.error_code.as_deref().unwrap_or(default_code),
        fault
            .error_msg
            .clone()
            .unwrap_or_else(|| default_msg.to_string()),
    );
    if status == StatusCode::TOO_MANY_REQUESTS {
        err.retry_after = Some(fault.retry_after.unwrap_or(1));
    } else {
        err.retry_after = fault.retry_after;
    }
    err.into_response()
}

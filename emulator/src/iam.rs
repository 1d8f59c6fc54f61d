//! Local IAM: `POST /v3/auth/tokens` with password authentication (Keystone
//! v3 / Huawei IAM body) for the configured user, answering 201 with the
//! token in `X-Subject-Token`; issued tokens stay valid for 24 hours. Also
//! the look-ups the SDK makes when its credentials lack an id:
//! `GET /v3/projects?name={region}` (the one project is named after the
//! region) and `GET /v3/auth/domains` (the one account), both behind the
//! gateway's authentication. And agencies: `POST
//! /v3.0/OS-CREDENTIAL/securitytokens` with the `assume_role` method gives
//! temporary keys (with a security token) that expire.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::app::App;
use crate::errors::{ApiError, with_status};
use crate::ids;

pub const TOKEN_LIFETIME_HOURS: i64 = 24;

fn iam_error(status: StatusCode, code: &str, msg: &str) -> Response {
    with_status(
        status,
        json!({
            "error_code": code,
            "error_msg": msg,
            "error": {"code": status.as_u16(), "title": status.canonical_reason(), "message": msg},
        }),
    )
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(*k))?.as_str()
}

/// A token request's body, and whether its `auth.identity.methods` hold
/// `method`; a body that is not JSON is refused.
fn auth_body(body: &[u8], method: &str) -> Result<(Value, bool), Box<Response>> {
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return Err(Box::new(iam_error(
            StatusCode::BAD_REQUEST,
            "IAM.0001",
            "The request body is not valid JSON",
        )));
    };
    let methods_ok = body["auth"]["identity"]["methods"]
        .as_array()
        .is_some_and(|m| m.iter().any(|x| x.as_str() == Some(method)));
    Ok((body, methods_ok))
}

pub async fn issue_token(State(app): State<App>, body: Bytes) -> Response {
    let (body, methods_ok) = match auth_body(&body, "password") {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let identity = &body["auth"]["identity"];
    let user = &identity["password"]["user"];
    let (Some(name), Some(password), Some(domain)) = (
        str_at(user, &["name"]),
        str_at(user, &["password"]),
        str_at(user, &["domain", "name"]),
    ) else {
        return iam_error(
            StatusCode::BAD_REQUEST,
            "IAM.0001",
            "auth.identity.password.user.{name,password,domain.name} are required",
        );
    };
    if !methods_ok {
        return iam_error(
            StatusCode::BAD_REQUEST,
            "IAM.0001",
            "Only the password method is supported",
        );
    }
    let cfg = &app.config;
    if name != cfg.user_name || password != cfg.password || domain != cfg.domain_name {
        return iam_error(
            StatusCode::UNAUTHORIZED,
            "IAM.0004",
            "The username or password is wrong.",
        );
    }
    let project = &body["auth"]["scope"]["project"];
    let scope_ok = match (str_at(project, &["id"]), str_at(project, &["name"])) {
        (Some(id), _) => id == cfg.project_id,
        (None, Some(n)) => n == cfg.region,
        (None, None) => true,
    };
    if !scope_ok {
        return iam_error(
            StatusCode::UNAUTHORIZED,
            "IAM.0005",
            "The project in the scope does not exist or the user has no access to it",
        );
    }
    let token = ids::token();
    let now = OffsetDateTime::now_utc();
    let expires = now + time::Duration::hours(TOKEN_LIFETIME_HOURS);
    app.world.lock().tokens.insert(token.clone(), expires);
    let body = json!({
        "token": {
            "expires_at": ids::fmt_time_millis(expires),
            "issued_at": ids::fmt_time_millis(now),
            "methods": ["password"],
            "project": {"id": cfg.project_id, "name": cfg.region, "domain": {"name": cfg.domain_name}},
            "user": {"name": cfg.user_name, "domain": {"name": cfg.domain_name}},
            "catalog": [],
        }
    });
    let mut resp = with_status(StatusCode::CREATED, body);
    match HeaderValue::from_str(&token) {
        Ok(v) => {
            resp.headers_mut().insert("x-subject-token", v);
            resp
        }
        Err(_) => {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "IAM.0000", "token").into_response()
        }
    }
}

/// `?name=` of a raw query string, decoded.
fn query_name(raw: Option<&str>) -> Option<String> {
    raw?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == "name").then(|| {
            percent_encoding::percent_decode_str(&v.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

/// `GET /v3/projects[?name=]`: the account's one project, named after the
/// region; none for another name.
pub async fn list_projects(State(app): State<App>, RawQuery(raw): RawQuery) -> Response {
    let cfg = &app.config;
    let base = format!("http://{}/v3", cfg.listen);
    let matches = query_name(raw.as_deref()).is_none_or(|n| n == cfg.region);
    let projects: Vec<Value> = matches
        .then(|| {
            json!({
                "id": cfg.project_id,
                "name": cfg.region,
                "domain_id": cfg.domain_id,
                "parent_id": cfg.domain_id,
                "description": "",
                "enabled": true,
                "is_domain": false,
                "links": {"self": format!("{base}/projects/{}", cfg.project_id)},
            })
        })
        .into_iter()
        .collect();
    with_status(
        StatusCode::OK,
        json!({
            "projects": projects,
            "links": {"self": format!("{base}/projects"), "previous": null, "next": null},
        }),
    )
}

/// `GET /v3/auth/domains`: the account the credentials belong to.
pub async fn list_domains(State(app): State<App>) -> Response {
    let cfg = &app.config;
    let base = format!("http://{}/v3", cfg.listen);
    with_status(
        StatusCode::OK,
        json!({
            "domains": [{
                "id": cfg.domain_id,
                "name": cfg.domain_name,
                "enabled": true,
                "description": "",
                "links": {"self": format!("{base}/domains/{}", cfg.domain_id)},
            }],
            "links": {"self": format!("{base}/auth/domains"), "previous": null, "next": null},
        }),
    )
}

/// `POST /v3.0/OS-CREDENTIAL/securitytokens`, method `assume_role`: the
/// configured agency of this account (by `domain_name` or `domain_id`) for
/// `duration_seconds` (900 to 43200, default 900; `--agency-seconds`
/// overrides it), as temporary keys the gateway accepts until they expire.
pub async fn assume_role(State(app): State<App>, body: Bytes) -> Response {
    let (body, methods_ok) = match auth_body(&body, "assume_role") {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let identity = &body["auth"]["identity"];
    let role = &identity["assume_role"];
    let (Some(agency), true) = (str_at(role, &["agency_name"]), methods_ok) else {
        return iam_error(
            StatusCode::BAD_REQUEST,
            "IAM.0001",
            "auth.identity.methods must hold assume_role, with assume_role.agency_name",
        );
    };
    let cfg = &app.config;
    let domain_ok = match (str_at(role, &["domain_id"]), str_at(role, &["domain_name"])) {
        (Some(id), _) => id == cfg.domain_id,
        (None, Some(name)) => name == cfg.domain_name,
        (None, None) => false,
    };
    if agency != cfg.agency_name || !domain_ok {
        return iam_error(
            StatusCode::FORBIDDEN,
            "IAM.0003",
            &format!(
                "You cannot assume agency {agency:?} of that account: it does not exist or does not trust you"
            ),
        );
    }
    let asked = role["duration_seconds"].as_u64().unwrap_or(900);
    if !(900..=43200).contains(&asked) {
        return iam_error(
            StatusCode::BAD_REQUEST,
            "IAM.0001",
            "assume_role.duration_seconds must be from 900 to 43200",
        );
    }
    let seconds = cfg.agency_seconds.unwrap_or(asked);
    let expires = OffsetDateTime::now_utc() + time::Duration::seconds(seconds as i64);
    let keys = crate::auth::AkSk {
        access_key: format!("TMP{}", ids::random_hex32().to_uppercase()),
        secret_key: ids::random_hex32(),
        security_token: Some(ids::token()),
    };
    let credential = json!({
        "access": keys.access_key,
        "secret": keys.secret_key,
        "securitytoken": keys.security_token,
        "expires_at": ids::fmt_time_millis(expires),
    });
    app.world
        .lock()
        .temporary_keys
        .insert(keys.access_key.clone(), (keys, expires));
    with_status(StatusCode::CREATED, json!({ "credential": credential }))
}

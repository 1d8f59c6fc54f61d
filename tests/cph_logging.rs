//! Secret hygiene of the CPH client: AK/SK requests are signed as the API
//! expects, and neither debug logs nor printed configs, clients or errors
//! show a secret key, security token or signature.
//!
//! (A test binary of its own: tracing's per-thread subscribers and callsite
//! caches do not mix well with other tests running in parallel.)

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use support::LogBuffer;
use terraform_provider_cph::cph::{Client, ClientConfig, Credentials};
use tokio::net::TcpListener;

const PROJECT: &str = "proj1";

fn api_error(status: StatusCode, code: &str, msg: &str, request_id: &str) -> Response {
    (
        status,
        [("X-Request-Id", request_id.to_string())],
        axum::Json(json!({"error_code": code, "error_msg": msg})),
    )
        .into_response()
}

#[tokio::test]
async fn aksk_signed_calls_log_without_secrets() {
    const SK: &str = "SK-very-secret-0123456789";
    const STS: &str = "STS-temporary-token-xyz";
    let seen: Arc<Mutex<Vec<HeaderMap>>> = Arc::default();
    let router = Router::new()
        .route(
            "/v1/proj1/cloud-phone/servers/{id}",
            get(
                |State(seen): State<Arc<Mutex<Vec<HeaderMap>>>>, headers: HeaderMap| async move {
                    if let Ok(mut s) = seen.lock() {
                        s.push(headers);
                    }
                    api_error(StatusCode::FORBIDDEN, "APIGW.0302", "denied", "rq-403")
                },
            ),
        )
        .with_state(seen.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });

    let (logs, _guard) = LogBuffer::capture(tracing::Level::DEBUG);

    let creds = Credentials::AkSk {
        access_key: "AKEXAMPLE".into(),
        secret_key: SK.into(),
        security_token: Some(STS.into()),
    };
    let mut cfg = ClientConfig::new(format!("http://{addr}"), "cn-east-3", PROJECT, creds);
    cfg.request_timeout = Duration::from_secs(10);
    let client = Client::new(cfg.clone()).expect("client");
    let err = client.show_server("srv1").await.expect_err("403");

    let headers = seen.lock().map(|s| s[0].clone()).expect("a request");
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(
        authorization.starts_with("SDK-HMAC-SHA256 Access=AKEXAMPLE, SignedHeaders=host;x-project-id;x-sdk-date;x-security-token, Signature="),
        "{authorization}"
    );
    assert_eq!(
        headers.get("x-project-id").and_then(|v| v.to_str().ok()),
        Some(PROJECT)
    );
    assert_eq!(
        headers
            .get("x-security-token")
            .and_then(|v| v.to_str().ok()),
        Some(STS)
    );
    assert!(headers.contains_key("x-sdk-date"));
    let signature = authorization.rsplit('=').next().unwrap_or("").to_string();
    assert_eq!(signature.len(), 64);

    let logs = logs.text();
    assert!(logs.contains("CPH call"), "{logs}");
    assert!(logs.contains("rq-403") && logs.contains("403"), "{logs}");
    let printed = [
        logs,
        format!("{cfg:?}"),
        format!("{client:?}"),
        format!("{err:?}"),
        err.to_string(),
    ];
    for text in printed {
        for secret in [SK, STS, signature.as_str(), authorization.as_str()] {
            assert!(
                !text.contains(secret),
                "secret {secret:?} leaked into: {text}"
            );
        }
    }
}

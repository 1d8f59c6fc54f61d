//! Test harness: start the emulator in-process on 127.0.0.1:0 and talk to it
//! with reqwest (token auth by default, AK/SK signing on demand).
#![allow(dead_code)]

use axum::http::{HeaderMap, HeaderValue};
use cph_emulator::Config;
use cph_emulator::auth::{self, RequestParts};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::sync::oneshot;

pub const SERVER0: &str = "a176d8625981453bbafbc0a321d8d6a1";
pub const PHONE0: &str = "631056bfb66b4f4ea02ba25f04830cb4";

pub struct Emu {
    pub base: String,
    pub host: String,
    pub project: String,
    pub client: reqwest::Client,
    _stop: oneshot::Sender<()>,
}

pub fn fast_config() -> Config {
    Config {
        order_seconds: 0.3,
        job_seconds: 0.1,
        ..Config::default()
    }
}

pub async fn start(config: Config) -> Emu {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let project = config.project_id.clone();
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = cph_emulator::serve_until(config, listener, async {
            let _ = rx.await;
        })
        .await;
    });
    Emu {
        base: format!("http://{addr}"),
        host: addr.to_string(),
        project,
        client: reqwest::Client::builder().build().expect("client"),
        _stop: tx,
    }
}

impl Emu {
    pub fn api(&self, tail: &str) -> String {
        format!("/v1/{}/cloud-phone/{tail}", self.project)
    }

    /// A token-authenticated call; `path` is absolute (with query).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("X-Auth-Token", "emulator-token");
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("send");
        let status = resp.status();
        let rid = resp
            .headers()
            .get("x-request-id")
            .map(|v| v.to_str().unwrap_or_default().to_string());
        let value: Value = resp.json().await.unwrap_or(Value::Null);
        if path.starts_with("/v1/") {
            assert_eq!(
                rid.as_deref(),
                value["request_id"].as_str(),
                "request id header = body"
            );
        }
        (status, value)
    }

    pub async fn get(&self, tail: &str) -> (StatusCode, Value) {
        self.call(Method::GET, &self.api(tail), None).await
    }

    pub async fn post(&self, tail: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, &self.api(tail), Some(body)).await
    }

    pub async fn admin(
        &self,
        method: Method,
        tail: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call(method, &format!("/_emulator/{tail}"), body).await
    }

    /// An AK/SK-signed call with the given secret key, signing the scope
    /// header the SDK would: `X-Project-Id` for `/v1/{project}/...`,
    /// `X-Domain-Id` for BSS's orders.
    pub async fn signed(
        &self,
        method: Method,
        path: &str,
        query: Option<&str>,
        body: &[u8],
        secret_key: &str,
    ) -> reqwest::Result<reqwest::Response> {
        let scope = if let Some(rest) = path.strip_prefix("/v1/") {
            let project = rest.split('/').next().unwrap_or_default().to_string();
            vec![("x-project-id", project)]
        } else if path.contains("/orders/") {
            vec![(
                "x-domain-id",
                cph_emulator::config::DEFAULT_DOMAIN_ID.to_string(),
            )]
        } else {
            vec![]
        };
        self.signed_with(method, path, query, body, secret_key, &scope)
            .await
    }

    /// An AK/SK-signed call with exactly the scope headers `scope`
    /// (lower-case names), each signed.
    pub async fn signed_with(
        &self,
        method: Method,
        path: &str,
        query: Option<&str>,
        body: &[u8],
        secret_key: &str,
        scope: &[(&str, String)],
    ) -> reqwest::Result<reqwest::Response> {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_str(&self.host).expect("host"));
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        let date = auth::format_sdk_date(time::OffsetDateTime::now_utc());
        headers.insert("x-sdk-date", HeaderValue::from_str(&date).expect("date"));
        let mut signed: Vec<String> = ["content-type", "host", "x-sdk-date"]
            .map(String::from)
            .to_vec();
        for (name, value) in scope {
            let name = axum::http::HeaderName::from_bytes(name.as_bytes()).expect("name");
            headers.insert(name.clone(), HeaderValue::from_str(value).expect("value"));
            signed.push(name.to_string());
        }
        signed.sort();
        let parts = RequestParts {
            method: method.as_str(),
            path,
            query,
            headers: &headers,
            body,
        };
        let authorization =
            auth::sign(&parts, &signed, "EMULATORACCESSKEY", secret_key).expect("sign");
        let url = match query {
            Some(q) => format!("{}{path}?{q}", self.base),
            None => format!("{}{path}", self.base),
        };
        let mut request = self
            .client
            .request(method, url)
            .header("Host", &self.host)
            .header("Content-Type", "application/json")
            .header("X-Sdk-Date", date)
            .header("Authorization", authorization);
        for (name, value) in scope {
            request = request.header(*name, value);
        }
        request.body(body.to_vec()).send().await
    }
}

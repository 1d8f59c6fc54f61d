//! One HTTP call to CPH or IAM, done right: rate limited, authenticated,
//! timed out per attempt, retried when (and only when) that is safe, bounded
//! by the caller's deadline and cancellation, logged at debug level without
//! secrets, and with error answers turned into [`Error::Api`].

use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{CONTENT_TYPE, HOST, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use tokio_util::sync::CancellationToken;

use super::auth::{Auth, HEADER_AUTH_TOKEN, TokenCache};
use super::config::{ClientConfig, Credentials};
use super::error::{Error, Result};
use super::ratelimit::RateLimiter;
use super::retry::{self, Safety};
use super::signer::{SignableRequest, Signer};

/// The response header carrying the request id.
pub const HEADER_REQUEST_ID: &str = "X-Request-Id";
/// An attempt gets at least this long even when the caller's deadline is
/// nearer, so that a last poll at the deadline can still be answered.
const MIN_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest wait for a TCP + TLS connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a call must end: a deadline and/or a cancellation token. The
/// default has neither.
#[derive(Debug, Clone, Default)]
pub struct CallScope {
    pub deadline: Option<Instant>,
    pub cancel: Option<CancellationToken>,
}

impl CallScope {
    fn is_cancelled(&self) -> bool {
        self.cancel.as_ref().is_some_and(|c| c.is_cancelled())
    }

    /// Sleeps `delay`, or returns `Cancelled` as soon as the scope is.
    async fn sleep(&self, delay: Duration) -> Result<()> {
        match &self.cancel {
            Some(cancel) => tokio::select! {
                _ = cancel.cancelled() => Err(Error::Cancelled),
                _ = tokio::time::sleep(delay) => Ok(()),
            },
            None => {
                tokio::time::sleep(delay).await;
                Ok(())
            }
        }
    }
}

/// One logical request (retried as a whole). Its `Debug` leaves the body
/// out (the IAM request carries a password).
pub struct HttpCall {
    /// Name of the operation, for logs.
    pub op: &'static str,
    pub method: Method,
    /// Full URL including the (canonical) query string.
    pub url: String,
    /// What logs and errors may show of the URL: no query string.
    pub log_path: String,
    /// JSON body.
    pub body: Option<Vec<u8>>,
    pub safety: Safety,
    /// Add the client's credentials (false for the IAM token request).
    pub authenticate: bool,
}

impl std::fmt::Debug for HttpCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpCall")
            .field("op", &self.op)
            .field("method", &self.method)
            .field("path", &self.log_path)
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .field("safety", &self.safety)
            .finish()
    }
}

/// A successful answer. Its `Debug` leaves headers and body out (an IAM
/// answer carries a token).
pub struct RawResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub request_id: Option<String>,
}

impl std::fmt::Debug for RawResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawResponse")
            .field("status", &self.status)
            .field("request_id", &self.request_id)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// The HTTP side of a [`Client`](super::Client); shared by all its clones.
#[derive(Debug)]
pub struct Transport {
    http: reqwest::Client,
    /// `scheme://host[:port]`.
    origin: String,
    /// `host[:port]` as sent in `Host` and signed.
    host: String,
    /// Path prefix of every CPH call: `{endpoint path}/v1/{project_id}/cloud-phone`.
    api_prefix: String,
    auth: Auth,
    limiter: RateLimiter,
    max_retries: u32,
    request_timeout: Duration,
}

fn header_name(name: &str) -> Result<HeaderName> {
    HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| Error::Config(format!("{name} is not a valid header name")))
}

impl Transport {
    pub fn new(config: &ClientConfig) -> Result<Transport> {
        let endpoint = config.endpoint.trim_end_matches('/');
        let url = reqwest::Url::parse(endpoint)
            .map_err(|e| Error::Config(format!("endpoint {endpoint:?} is not a URL: {e}")))?;
        if url.scheme() != "https" && url.scheme() != "http" {
            return Err(Error::Config(format!(
                "endpoint {endpoint:?} must start with https:// (or http:// for a local emulator)"
            )));
        }
        let Some(host_name) = url.host_str() else {
            return Err(Error::Config(format!("endpoint {endpoint:?} has no host")));
        };
        if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
            return Err(Error::Config(format!(
                "endpoint {endpoint:?} must be scheme://host[:port][/path] only"
            )));
        }
        let host = match url.port() {
            Some(port) => format!("{host_name}:{port}"),
            None => host_name.to_string(),
        };
        let origin = format!("{}://{host}", url.scheme());
        if config.project_id.trim().is_empty() {
            return Err(Error::Config("project_id is empty".into()));
        }
        let api_prefix = format!(
            "{}/v1/{}/cloud-phone",
            url.path().trim_end_matches('/'),
            super::signer::encode_component(&config.project_id)
        );

        let auth = match &config.credentials {
            Credentials::AkSk {
                access_key,
                secret_key,
                security_token,
            } => {
                if access_key.is_empty() || secret_key.is_empty() {
                    return Err(Error::Config(
                        "access_key and secret_key must both be set".into(),
                    ));
                }
                Auth::AkSk(Signer::new(
                    access_key,
                    secret_key,
                    security_token.clone().filter(|t| !t.is_empty()),
                    &config.project_id,
                ))
            }
            Credentials::Token(token) => {
                if token.is_empty() {
                    return Err(Error::Config("auth_token is empty".into()));
                }
                if HeaderValue::from_str(token).is_err() {
                    return Err(Error::Config(
                        "auth_token contains characters not allowed in an HTTP header".into(),
                    ));
                }
                Auth::Token(super::auth::Secret::new(token.clone()))
            }
            Credentials::Password {
                auth_url,
                domain_name,
                user_name,
                password,
            } => {
                for (name, value) in [
                    ("auth_url", auth_url),
                    ("domain_name", domain_name),
                    ("user_name", user_name),
                    ("password", password),
                ] {
                    if value.is_empty() {
                        return Err(Error::Config(format!(
                            "{name} is required for password authentication"
                        )));
                    }
                }
                let iam = reqwest::Url::parse(auth_url).map_err(|e| {
                    Error::Config(format!("auth_url {auth_url:?} is not a URL: {e}"))
                })?;
                if iam.scheme() != "https" && iam.scheme() != "http" {
                    return Err(Error::Config(format!(
                        "auth_url {auth_url:?} must start with https://"
                    )));
                }
                Auth::Password(TokenCache::new(
                    auth_url,
                    domain_name,
                    user_name,
                    password,
                    &config.project_id,
                ))
            }
        };

        let http = reqwest::Client::builder()
            .user_agent(concat!(
                "terraform-provider-cph/",
                env!("CARGO_PKG_VERSION")
            ))
            .connect_timeout(CONNECT_TIMEOUT.min(config.request_timeout))
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(16)
            // The SDKs (and API gateway signature checks) speak HTTP/1.1.
            .http1_only()
            .tls_danger_accept_invalid_certs(config.insecure)
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;

        Ok(Transport {
            http,
            origin,
            host,
            api_prefix,
            auth,
            limiter: RateLimiter::new(config.requests_per_second),
            max_retries: config.max_retries,
            request_timeout: config.request_timeout,
        })
    }

    /// The password token cache, when the client uses one.
    pub fn token_cache(&self) -> Option<&TokenCache> {
        match &self.auth {
            Auth::Password(cache) => Some(cache),
            _ => None,
        }
    }

    /// Builds the call for `path` (relative to `/v1/{project_id}/cloud-phone`,
    /// segments already encoded) and `query` pairs.
    pub fn api_call(
        &self,
        op: &'static str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Vec<u8>>,
        safety: Safety,
    ) -> HttpCall {
        let log_path = format!("{}{}", self.api_prefix, path);
        let query = super::signer::canonical_query(query);
        let url = if query.is_empty() {
            format!("{}{}", self.origin, log_path)
        } else {
            format!("{}{}?{}", self.origin, log_path, query)
        };
        HttpCall {
            op,
            method,
            url,
            log_path,
            body,
            safety,
            authenticate: true,
        }
    }

    /// Sends `call`, retrying as [`retry`](super::retry) allows, and returns
    /// the first 2xx answer or the last error.
    pub async fn execute(&self, call: &HttpCall, scope: &CallScope) -> Result<RawResponse> {
        let url = reqwest::Url::parse(&call.url)
            .map_err(|e| Error::Config(format!("cannot build a URL for {}: {e}", call.log_path)))?;
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            (None, _) => self.host.clone(),
        };
        let path = url.path().to_string();
        let query = url.query().unwrap_or("").to_string();

        let mut attempt: u32 = 0;
        let mut retries: u32 = 0;
        let mut token_refreshed = false;
        loop {
            attempt += 1;
            if scope.is_cancelled() {
                return Err(Error::Cancelled);
            }
            let wait = self.limiter.reserve();
            if !wait.is_zero() {
                scope.sleep(wait).await?;
            }

            let mut headers = HeaderMap::new();
            let mut token_generation = None;
            if call.body.is_some() {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            }
            if call.authenticate {
                match &self.auth {
                    Auth::AkSk(signer) => {
                        let signable = SignableRequest {
                            method: call.method.as_str(),
                            host: &host,
                            path: &path,
                            canonical_query: &query,
                            content_type: call.body.as_ref().map(|_| "application/json"),
                            body: call.body.as_deref().unwrap_or(b""),
                        };
                        let signed = signer.sign(&signable, &Signer::now_sdk_date());
                        for (name, value) in signed.headers {
                            let value = HeaderValue::from_str(&value).map_err(|_| {
                                Error::Config(format!(
                                    "a value of header {name} is not allowed in HTTP"
                                ))
                            })?;
                            headers.insert(header_name(name)?, value);
                        }
                    }
                    Auth::Token(token) => {
                        insert_secret(&mut headers, HEADER_AUTH_TOKEN, token.expose())?;
                    }
                    Auth::Password(cache) => {
                        let issued = cache.get(self, scope).await?;
                        insert_secret(&mut headers, HEADER_AUTH_TOKEN, issued.token.expose())?;
                        token_generation = Some(issued.generation);
                    }
                }
            }
            if !headers.contains_key(HOST)
                && let Ok(v) = HeaderValue::from_str(&host)
            {
                headers.insert(HOST, v);
            }

            let timeout = match scope.deadline {
                Some(deadline) => self.request_timeout.min(
                    deadline
                        .saturating_duration_since(Instant::now())
                        .max(MIN_ATTEMPT_TIMEOUT),
                ),
                None => self.request_timeout,
            };
            let mut request = self
                .http
                .request(call.method.clone(), url.clone())
                .headers(headers)
                .timeout(timeout);
            if let Some(body) = &call.body {
                request = request.body(body.clone());
            }

            let started = Instant::now();
            let send = async {
                let response = request.send().await?;
                let status = response.status();
                let headers = response.headers().clone();
                let body = response.bytes().await.map(|b| b.to_vec());
                Ok::<_, reqwest::Error>((status, headers, body))
            };
            // A write that must not happen twice is never abandoned midway:
            // its outcome must be known. Everything else stops on cancel.
            let outcome = match (&scope.cancel, call.safety) {
                (Some(cancel), Safety::Read | Safety::IdempotentWrite) => tokio::select! {
                    _ = cancel.cancelled() => return Err(Error::Cancelled),
                    r = send => r,
                },
                _ => send.await,
            };
            let elapsed = started.elapsed();

            let (error, retryable, retry_after) = match outcome {
                Ok((status, headers, Ok(body))) => {
                    let request_id = request_id(&headers, &body);
                    tracing::debug!(
                        target: "cph",
                        op = call.op,
                        method = %call.method,
                        path = %call.log_path,
                        status = status.as_u16(),
                        request_id = request_id.as_deref().unwrap_or(""),
                        duration_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
                        attempt,
                        "CPH call"
                    );
                    if status.is_success() {
                        return Ok(RawResponse {
                            status,
                            headers,
                            body,
                            request_id,
                        });
                    }
                    let error = api_error(status, request_id, &body);
                    if status == StatusCode::UNAUTHORIZED
                        && !token_refreshed
                        && let (Some(generation), Some(cache)) =
                            (token_generation, self.token_cache())
                    {
                        // The token may have been revoked or expired early:
                        // get a new one once. A 401 was not processed.
                        token_refreshed = true;
                        cache.invalidate(generation).await;
                        continue;
                    }
                    let retryable = retry::status_is_retryable(status.as_u16(), call.safety);
                    let retry_after = if matches!(status.as_u16(), 429 | 503) {
                        headers
                            .get(RETRY_AFTER)
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| retry::parse_retry_after(v, SystemTime::now()))
                    } else {
                        None
                    };
                    (error, retryable, retry_after)
                }
                Ok((status, _, Err(e))) => {
                    // The server answered but the body broke off: it did
                    // process the request.
                    let message = describe(&e);
                    tracing::debug!(
                        target: "cph",
                        op = call.op,
                        method = %call.method,
                        path = %call.log_path,
                        status = status.as_u16(),
                        attempt,
                        error = %message,
                        "CPH call: reading the answer failed"
                    );
                    let error = Error::Transport {
                        url: call.log_path.clone(),
                        message: format!(
                            "reading the answer (HTTP {}) failed: {message}",
                            status.as_u16()
                        ),
                    };
                    let retryable = call.safety != Safety::NonIdempotent;
                    (error, retryable, None)
                }
                Err(e) => {
                    let message = describe(&e);
                    let connect = e.is_connect();
                    tracing::debug!(
                        target: "cph",
                        op = call.op,
                        method = %call.method,
                        path = %call.log_path,
                        duration_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
                        attempt,
                        connect,
                        error = %message,
                        "CPH call failed"
                    );
                    let error = Error::Transport {
                        url: call.log_path.clone(),
                        message,
                    };
                    (
                        error,
                        retry::transport_error_is_retryable(connect, call.safety),
                        None,
                    )
                }
            };

            if !retryable || retries >= self.max_retries {
                return Err(error);
            }
            let delay = match retry_after {
                Some(d) if d > retry::MAX_RETRY_AFTER => return Err(error),
                Some(d) => d,
                None => retry::backoff(retries),
            };
            if let Some(deadline) = scope.deadline
                && Instant::now() + delay >= deadline
            {
                return Err(error);
            }
            tracing::debug!(
                target: "cph",
                op = call.op,
                path = %call.log_path,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                next_attempt = attempt + 1,
                "retrying CPH call"
            );
            scope.sleep(delay).await?;
            retries += 1;
        }
    }
}

fn insert_secret(headers: &mut HeaderMap, name: &'static str, value: &str) -> Result<()> {
    let mut value = HeaderValue::from_str(value).map_err(|_| {
        Error::Config(format!(
            "the token contains characters not allowed in {name}"
        ))
    })?;
    value.set_sensitive(true);
    headers.insert(header_name(name)?, value);
    Ok(())
}

/// A reqwest error as text: its kind and causes, never its URL (which would
/// repeat the query string).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the answer broke off"
    } else {
        "the connection failed"
    };
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !causes.contains(&text) {
            causes.push(text);
        }
        source = cause.source();
    }
    if causes.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {}", causes.join(": "))
    }
}

/// The request id of an answer: `X-Request-Id`, else the body's `request_id`.
fn request_id(headers: &HeaderMap, body: &[u8]) -> Option<String> {
    if let Some(id) = headers
        .get(HEADER_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        return Some(id.to_string());
    }
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value
        .get("request_id")
        .and_then(|v| v.as_str())
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// Turns an error answer into [`Error::Api`]. Understands
/// `{"error_code","error_msg"}`, `{"error":{"code","message"}}`,
/// `{"code","message"}` and bodies that are not JSON at all.
pub fn api_error(status: StatusCode, request_id: Option<String>, body: &[u8]) -> Error {
    let (code, message) = parse_error_body(body);
    let message = message.unwrap_or_else(|| {
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        if text.is_empty() {
            status
                .canonical_reason()
                .unwrap_or("no details")
                .to_string()
        } else {
            truncate(text, 300)
        }
    });
    Error::Api {
        status: status.as_u16(),
        code: code.unwrap_or_default(),
        message,
        request_id,
    }
}

fn parse_error_body(body: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return (None, None);
    };
    let text = |v: Option<&serde_json::Value>| -> Option<String> {
        match v? {
            serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let code = text(value.get("error_code"));
    let message = text(value.get("error_msg"));
    if code.is_some() || message.is_some() {
        return (code, message);
    }
    if let Some(inner) = value.get("error").filter(|v| v.is_object()) {
        let code = text(inner.get("code")).or_else(|| text(inner.get("error_code")));
        let message = text(inner.get("message"))
            .or_else(|| text(inner.get("error_msg")))
            .or_else(|| text(inner.get("title")));
        return (code, message);
    }
    (text(value.get("code")), text(value.get("message")))
}

fn truncate(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max_chars).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(status: u16, rid: Option<&str>, body: &str) -> (String, String) {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let e = api_error(status, rid.map(str::to_string), body.as_bytes());
        (e.code().unwrap_or("").to_string(), e.to_string())
    }

    #[test]
    fn parses_error_bodies() {
        let (code, text) = render(
            404,
            Some("1a2b"),
            r#"{"error_code":"CPS.0005","error_msg":"The server does not exist"}"#,
        );
        assert_eq!(code, "CPS.0005");
        assert_eq!(
            text,
            "CPS.0005: The server does not exist (HTTP 404, request 1a2b)"
        );

        let (code, text) = render(401, None, r#"{"error":{"code":401,"message":"bad token"}}"#);
        assert_eq!(code, "401");
        assert!(text.contains("bad token"), "{text}");

        let (code, text) = render(502, None, "<html>Bad Gateway</html>");
        assert_eq!(code, "");
        assert!(
            text.contains("<html>Bad Gateway</html>") && text.contains("502"),
            "{text}"
        );

        let (_, text) = render(503, None, "");
        assert!(text.contains("Service Unavailable"), "{text}");
    }

    #[test]
    fn finds_request_id() {
        let mut h = HeaderMap::new();
        assert_eq!(
            request_id(&h, br#"{"request_id":"b1"}"#).as_deref(),
            Some("b1")
        );
        h.insert("x-request-id", HeaderValue::from_static("h1"));
        assert_eq!(
            request_id(&h, br#"{"request_id":"b1"}"#).as_deref(),
            Some("h1")
        );
        assert_eq!(request_id(&HeaderMap::new(), b"not json"), None);
    }

    #[test]
    fn rejects_bad_endpoints() {
        use super::super::config::{ClientConfig, Credentials};
        let creds = Credentials::Token("t".into());
        for bad in ["not a url", "ftp://x", "https://h?x=1"] {
            let cfg = ClientConfig::new(bad, "r", "p", creds.clone());
            assert!(
                matches!(Transport::new(&cfg), Err(Error::Config(_))),
                "{bad}"
            );
        }
        let cfg = ClientConfig::new("https://h:8443/base/", "r", "p 1", creds);
        let t = Transport::new(&cfg).expect("valid");
        assert_eq!(t.host, "h:8443");
        assert_eq!(t.api_prefix, "/base/v1/p%201/cloud-phone");
    }
}

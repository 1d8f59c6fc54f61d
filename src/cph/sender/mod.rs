//! The sender: one HTTP call done right, knowing nothing of credentials.
//!
//! It owns everything between "send this request" and "here is the 2xx
//! answer, or the error a person can act on": the pace of calls
//! ([`ratelimit`]), a timeout per attempt, retries only when they are safe
//! ([`retry`]), the caller's deadline and cancellation, debug logs without
//! secrets, and error answers turned into [`Error::Api`] ([`answer`]).
//!
//! Who sends the request is asked once per attempt through [`Authorize`]
//! (a signature must be fresh; a rejected token may be renewed once); the
//! authenticator above implements it, so nothing here depends on it.

pub(crate) mod answer;
mod attempt;
pub(crate) mod ratelimit;
pub(crate) mod retry;

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{CONTENT_TYPE, HOST, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};
use tokio_util::sync::CancellationToken;

use super::config::ClientConfig;
use super::error::{Error, Result};
use attempt::*;
use ratelimit::RateLimiter;
use retry::Safety;

/// An attempt gets at least this long even when the caller's deadline is
/// nearer, so that a last poll at the deadline can still be answered.
const MIN_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest wait for a TCP + TLS connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// A throttled call (429) may be retried this many times for every retry
/// `max_retries` allows other failures: the API did not take it, and the
/// limiter has already slowed down, so waiting it out is what works (still
/// within the caller's deadline).
const THROTTLED_RETRIES_PER_RETRY: u32 = 4;
/// How long a write already sent is still waited for once the caller is
/// cancelled (Terraform's stop): its answer says what it did. Past this, the
/// call counts as one that may have taken effect.
pub(crate) const STOPPED_WRITE_WAIT: Duration = Duration::from_secs(10);
/// The content type of every body sent.
const JSON: &str = "application/json";

/// Where a call must end: a deadline and/or a cancellation token. The
/// default has neither.
#[derive(Debug, Clone, Default)]
pub(crate) struct CallScope {
    pub(crate) deadline: Option<Instant>,
    pub(crate) cancel: Option<CancellationToken>,
}

impl CallScope {
    fn is_cancelled(&self) -> bool {
        self.cancel.as_ref().is_some_and(|c| c.is_cancelled())
    }

    /// Sleeps `delay`, or returns `Cancelled` as soon as the scope is.
    async fn sleep(&self, delay: Duration) -> Result<()> {
        if delay.is_zero() {
            return Ok(());
        }
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
pub(crate) struct Request {
    /// Name of the operation, for logs.
    pub(crate) op: &'static str,
    pub(crate) method: Method,
    /// Full URL; its query string must be the canonical one (it is signed).
    pub(crate) url: Url,
    /// JSON body.
    pub(crate) body: Option<Vec<u8>>,
    pub(crate) safety: Safety,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("op", &self.op)
            .field("method", &self.method)
            .field("path", &self.path())
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .field("safety", &self.safety)
            .finish()
    }
}

impl Request {
    /// A request to `url` (which must carry a host).
    pub(crate) fn new(
        op: &'static str,
        method: Method,
        url: &str,
        body: Option<Vec<u8>>,
        safety: Safety,
    ) -> Result<Request> {
        let url = Url::parse(url)
            .map_err(|e| Error::Config(format!("cannot build a URL for {op}: {e}")))?;
        if url.host_str().is_none() {
            return Err(Error::Config(format!("the URL for {op} has no host")));
        }
        Ok(Request {
            op,
            method,
            url,
            body,
            safety,
        })
    }

    /// The percent-encoded path, without the query: what logs and errors show.
    pub(crate) fn path(&self) -> &str {
        self.url.path()
    }

    /// The canonical query string as sent (empty for none).
    pub(crate) fn query(&self) -> &str {
        self.url.query().unwrap_or("")
    }

    /// `host[:port]` as sent in `Host` (and signed).
    pub(crate) fn host(&self) -> String {
        let host = self.url.host_str().unwrap_or_default();
        match self.url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        }
    }

    /// `Content-Type` of the body, if there is one.
    pub(crate) fn content_type(&self) -> Option<&'static str> {
        self.body.as_ref().map(|_| JSON)
    }

    /// `host:port` connected to, the port spelled out.
    fn authority(&self) -> String {
        let host = self.url.host_str().unwrap_or_default();
        match self.url.port_or_known_default() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        }
    }

    /// `METHOD /path`, for errors.
    fn describe(&self) -> String {
        format!("{} {}", self.method, self.path())
    }
}

/// A successful answer. Its `Debug` leaves headers and body out (an IAM
/// answer carries a token).
pub(crate) struct Response {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
    pub(crate) request_id: Option<String>,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("request_id", &self.request_id)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// The headers that prove who sends one attempt.
#[derive(Default)]
pub(crate) struct Authorization {
    /// Headers to set; secret values are marked sensitive.
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    /// Set when the credential can be renewed: a 401 then leads to one more
    /// attempt after [`Authorize::refused`]. The value is the authorizer's
    /// own (a token generation).
    pub(crate) renewable: Option<u64>,
}

/// What the sender asks of whoever proves who sends a request.
pub(crate) trait Authorize {
    /// The headers for one attempt of `request`.
    async fn authorize(&self, request: &Request, scope: &CallScope) -> Result<Authorization>;
    /// The API answered 401 to a renewable `authorization`: forget it.
    async fn refused(&self, authorization: &Authorization);
}

/// No credentials (the IAM token request carries its own in the body).
pub(crate) struct Anonymous;

impl Authorize for Anonymous {
    async fn authorize(&self, _: &Request, _: &CallScope) -> Result<Authorization> {
        Ok(Authorization::default())
    }
    async fn refused(&self, _: &Authorization) {}
}

/// What one attempt gave.
enum Outcome {
    /// An answer, whatever its status.
    Answer(Response),
    /// The server answered but the body broke off: it did process the request.
    Broken {
        status: StatusCode,
        error: reqwest::Error,
    },
    /// No answer: the connection failed, timed out or was reset.
    NoAnswer(reqwest::Error),
    /// A write in flight when the caller was cancelled got no answer within
    /// [`STOPPED_WRITE_WAIT`]: it may have taken effect.
    Unanswered,
}

/// A failed attempt and what may follow it.
struct Failure {
    error: Error,
    retryable: bool,
    retry_after: Option<Duration>,
    /// A 429: the API did not take the call and the limiter has slowed down.
    throttled: bool,
}

/// What the sender does after an attempt.
enum Step {
    Done(Response),
    Fail(Error),
    /// Forget the refused credential and try once more at once.
    Reauthorize,
    Retry {
        delay: Duration,
        throttled: bool,
        /// Why: returned instead if the caller is cancelled before the
        /// retry and the failed attempt may have taken effect.
        error: Error,
    },
}

/// Attempts made so far for one request.
#[derive(Default)]
struct Tries {
    attempt: u32,
    retries: u32,
    /// Retries after a 429, counted apart (see [`THROTTLED_RETRIES_PER_RETRY`]).
    throttled: u32,
    reauthorized: bool,
}

impl Tries {
    /// Retries made so far of the kind `failure` calls for, and how many
    /// are allowed.
    fn budget(&self, failure: &Failure, max_retries: u32) -> (u32, u32) {
        if failure.throttled {
            (
                self.throttled,
                max_retries.saturating_mul(THROTTLED_RETRIES_PER_RETRY),
            )
        } else {
            (self.retries, max_retries)
        }
    }
}

/// Sends requests; shared by all clones of a client.
#[derive(Debug)]
pub(crate) struct Sender {
    http: HttpClient,
    limiter: RateLimiter,
    max_retries: u32,
    request_timeout: Duration,
}

/// The HTTP client, built on a thread of its own from the moment the sender
/// is made. Building it loads the system's trusted certificates (about 10 ms);
/// a plan that sends nothing must not wait for that, and an apply's first
/// call rarely has to.
#[derive(Debug, Clone)]
struct HttpClient {
    built: Arc<OnceLock<std::result::Result<reqwest::Client, String>>>,
    insecure: bool,
    connect_timeout: Duration,
}

impl HttpClient {
    fn start(config: &ClientConfig) -> HttpClient {
        let http = HttpClient {
            built: Arc::new(OnceLock::new()),
            insecure: config.insecure,
            connect_timeout: CONNECT_TIMEOUT.min(config.request_timeout),
        };
        let warm = http.clone();
        let spawned = std::thread::Builder::new()
            .name("http-client".into())
            .spawn(move || {
                let _ = warm.get();
            });
        if let Err(e) = spawned {
            tracing::debug!(target: "cph", error = %e, "building the HTTP client at first use");
        }
        http
    }

    /// The client, built now if the thread has not finished yet.
    fn get(&self) -> Result<&reqwest::Client> {
        self.built
            .get_or_init(|| self.build().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))
    }

    fn build(&self) -> reqwest::Result<reqwest::Client> {
        // reqwest uses the process's default rustls provider (aws-lc-rs, as
        // Cargo.toml explains); an Err only says one is installed already.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        reqwest::Client::builder()
            .user_agent(concat!(
                "terraform-provider-cph/",
                env!("CARGO_PKG_VERSION")
            ))
            .connect_timeout(self.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(16)
            // The SDKs (and API gateway signature checks) speak HTTP/1.1.
            .http1_only()
            .danger_accept_invalid_certs(self.insecure)
            .build()
    }
}

impl Sender {
    /// A sender with the HTTP behaviour of `config` (TLS, timeouts, retries,
    /// rate limit); its endpoints and credentials are not its business.
    pub(crate) fn new(config: &ClientConfig) -> Sender {
        Sender {
            http: HttpClient::start(config),
            limiter: RateLimiter::new(config.max_requests_per_second),
            max_retries: config.max_retries,
            request_timeout: config.request_timeout,
        }
    }

    /// Sends `request`, retrying as [`retry`] allows, and returns the first
    /// 2xx answer or the last error.
    pub(crate) async fn send<A: Authorize>(
        &self,
        request: &Request,
        scope: &CallScope,
        auth: &A,
    ) -> Result<Response> {
        let mut tries = Tries::default();
        // The failure of an earlier attempt of a write that may have taken
        // effect: what a cancellation before the next attempt returns.
        let mut unsure: Option<Error> = None;
        let stopped = |unsure: &mut Option<Error>, e: Error| match (e, unsure.take()) {
            (Error::Cancelled, Some(earlier)) => Error::Unsettled(Box::new(earlier)),
            (e, _) => e,
        };
        loop {
            tries.attempt += 1;
            if let Err(e) = self.wait_for_turn(scope).await {
                return Err(stopped(&mut unsure, e));
            }
            let authorization = match auth.authorize(request, scope).await {
                Ok(a) => a,
                Err(e) => return Err(stopped(&mut unsure, e)),
            };
            let outcome = self
                .attempt(request, &authorization, scope, tries.attempt)
                .await?;
            self.pace(&outcome);
            match self.decide(request, outcome, &authorization, &tries, scope) {
                Step::Done(response) => return Ok(response),
                Step::Fail(error) => return Err(error),
                Step::Reauthorize => {
                    // The token may have been revoked or expired early: get
                    // a new one once. A 401 was not processed.
                    auth.refused(&authorization).await;
                    tries.reauthorized = true;
                }
                Step::Retry {
                    delay,
                    throttled,
                    error,
                } => {
                    log_retry(request, delay, tries.attempt + 1);
                    if request.safety == Safety::IdempotentWrite && error.may_have_landed() {
                        unsure = Some(error);
                    }
                    if let Err(e) = scope.sleep(delay).await {
                        return Err(stopped(&mut unsure, e));
                    }
                    if throttled {
                        tries.throttled += 1;
                    } else {
                        tries.retries += 1;
                    }
                }
            }
        }
    }

    /// Waits until the rate limiter lets a call start.
    async fn wait_for_turn(&self, scope: &CallScope) -> Result<()> {
        if scope.is_cancelled() {
            return Err(Error::Cancelled);
        }
        scope.sleep(self.limiter.reserve()).await?;
        while let Some(left) = self.limiter.pause_left() {
            scope.sleep(left).await?;
        }
        Ok(())
    }

    /// One attempt: build, transmit, log.
    async fn attempt(
        &self,
        request: &Request,
        authorization: &Authorization,
        scope: &CallScope,
        attempt: u32,
    ) -> Result<Outcome> {
        let http_request = self.build(request, authorization, self.attempt_timeout(scope))?;
        let started = Instant::now();
        let outcome = transmit(http_request, request.safety, scope).await?;
        log_outcome(request, &outcome, started.elapsed(), attempt);
        Ok(outcome)
    }

    /// The timeout of one attempt: the configured one, shortened to the
    /// caller's deadline (but not below [`MIN_ATTEMPT_TIMEOUT`]).
    fn attempt_timeout(&self, scope: &CallScope) -> Duration {
        match scope.deadline {
            Some(deadline) => self.request_timeout.min(
                deadline
                    .saturating_duration_since(Instant::now())
                    .max(MIN_ATTEMPT_TIMEOUT),
            ),
            None => self.request_timeout,
        }
    }

    fn build(
        &self,
        request: &Request,
        authorization: &Authorization,
        timeout: Duration,
    ) -> Result<reqwest::RequestBuilder> {
        let mut headers = HeaderMap::new();
        if request.body.is_some() {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(JSON));
        }
        for (name, value) in &authorization.headers {
            headers.insert(name.clone(), value.clone());
        }
        if !headers.contains_key(HOST)
            && let Ok(host) = HeaderValue::from_str(&request.host())
        {
            headers.insert(HOST, host);
        }
        let builder = self
            .http
            .get()?
            .request(request.method.clone(), request.url.clone())
            .headers(headers)
            .timeout(timeout);
        Ok(match &request.body {
            Some(body) => builder.body(body.clone()),
            None => builder,
        })
    }

    /// Tells the rate limiter how the API took the attempt.
    fn pace(&self, outcome: &Outcome) {
        let Outcome::Answer(response) = outcome else {
            return;
        };
        if response.status == StatusCode::TOO_MANY_REQUESTS {
            self.limiter.throttled(retry_after(response));
        } else if response.status.is_success() {
            self.limiter.succeeded();
        }
    }

    /// What follows an attempt.
    fn decide(
        &self,
        request: &Request,
        outcome: Outcome,
        authorization: &Authorization,
        tries: &Tries,
        scope: &CallScope,
    ) -> Step {
        let failure = match outcome {
            Outcome::Answer(response) if response.status.is_success() => {
                return Step::Done(response);
            }
            Outcome::Answer(response)
                if response.status == StatusCode::UNAUTHORIZED
                    && authorization.renewable.is_some()
                    && !tries.reauthorized =>
            {
                return Step::Reauthorize;
            }
            Outcome::Answer(response) => failed_answer(request, response),
            Outcome::Broken { status, error } => broken_answer(request, status, &error),
            Outcome::NoAnswer(error) => no_answer(request, &error),
            Outcome::Unanswered => unanswered(request),
        };
        // Once the caller is cancelled nothing is sent again; a route
        // change that may have taken effect says so (a write that must not
        // happen twice keeps its error: its caller knows what it means).
        if scope.is_cancelled() {
            let unsettled =
                request.safety == Safety::IdempotentWrite && failure.error.may_have_landed();
            return Step::Fail(if unsettled {
                Error::Unsettled(Box::new(failure.error))
            } else {
                failure.error
            });
        }
        let (retries, allowed) = tries.budget(&failure, self.max_retries);
        match retry_delay(&failure, retries, allowed, scope.deadline) {
            Some(delay) => Step::Retry {
                delay,
                throttled: failure.throttled,
                error: failure.error,
            },
            None => Step::Fail(failure.error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(retryable: bool, retry_after: Option<Duration>) -> Failure {
        Failure {
            error: Error::Cancelled,
            retryable,
            retry_after,
            throttled: false,
        }
    }

    #[test]
    fn retry_delay_decides() {
        let secs = Duration::from_secs;
        assert_eq!(retry_delay(&failure(false, None), 0, 5, None), None);
        assert_eq!(retry_delay(&failure(true, None), 5, 5, None), None);
        assert_eq!(
            retry_delay(&failure(true, Some(secs(3))), 0, 5, None),
            Some(secs(3))
        );
        assert_eq!(
            retry_delay(&failure(true, Some(secs(3600))), 0, 5, None),
            None
        );
        let soon = Instant::now() + secs(1);
        assert_eq!(
            retry_delay(&failure(true, Some(secs(3))), 0, 5, Some(soon)),
            None
        );
        assert!(retry_delay(&failure(true, None), 0, 5, None).is_some());
    }

    #[test]
    fn request_names_host_and_port() {
        let r = Request::new("op", Method::GET, "https://h/a%20b?x=1", None, Safety::Read)
            .expect("valid");
        assert_eq!(r.host(), "h");
        assert_eq!(r.authority(), "h:443");
        assert_eq!(r.path(), "/a%20b");
        assert_eq!(r.query(), "x=1");
        assert_eq!(r.describe(), "GET /a%20b");
        let r = Request::new(
            "op",
            Method::POST,
            "http://127.0.0.1:8080/p",
            Some(vec![]),
            Safety::Read,
        )
        .expect("valid");
        assert_eq!(r.host(), "127.0.0.1:8080");
        assert_eq!(r.authority(), "127.0.0.1:8080");
        assert_eq!(r.content_type(), Some(JSON));
        assert!(Request::new("op", Method::GET, "not a url", None, Safety::Read).is_err());
    }
}

//! The CPH client against local HTTP servers: retries, error rendering,
//! the job poller, password tokens and secret hygiene.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use terraform_provider_cph::cph::models::{ChangeServerModelRequest, Job, OrderStatus};
use terraform_provider_cph::cph::{Client, ClientConfig, Credentials, Error};
use terraform_provider_cph::fleet::WaitEnded;
use terraform_provider_cph::fleet::orders::{Follow, FollowError, OrderTracker};
use terraform_provider_cph::fleet::poller::Poller;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const PROJECT: &str = "proj1";
const TOKEN: &str = "MIIsecret-token-value";

async fn serve(router: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    addr
}

fn config(addr: SocketAddr, credentials: Credentials) -> ClientConfig {
    let mut c = ClientConfig::new(format!("http://{addr}"), "cn-east-3", PROJECT, credentials);
    c.max_retries = 3;
    c.request_timeout = Duration::from_secs(10);
    c.max_requests_per_second = 1000.0;
    c
}

fn token_client(addr: SocketAddr) -> Client {
    Client::new(config(addr, Credentials::Token(TOKEN.into()))).expect("client")
}

fn server_json(id: &str) -> Value {
    json!({
        "request_id": "rq-ok",
        "server_id": id,
        "server_name": "s",
        "server_model_name": "physical.rx1.xlarge",
        "phone_model_name": "rx1.cp.c15.d46.e1v1",
        "status": 5,
        "some_new_field": {"ignored": true}
    })
}

fn api_error(status: StatusCode, code: &str, msg: &str, request_id: &str) -> Response {
    (
        status,
        [("X-Request-Id", request_id.to_string())],
        axum::Json(json!({"error_code": code, "error_msg": msg})),
    )
        .into_response()
}

/// A handler answering from a script: the n-th call gets `script[n]` (the
/// last entry repeats).
#[derive(Clone)]
struct Scripted {
    calls: Arc<AtomicUsize>,
    script: Arc<Vec<fn() -> Response>>,
}

impl Scripted {
    fn new(script: Vec<fn() -> Response>) -> Scripted {
        Scripted {
            calls: Arc::new(AtomicUsize::new(0)),
            script: Arc::new(script),
        }
    }
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

async fn scripted(State(s): State<Scripted>) -> Response {
    let n = s.calls.fetch_add(1, Ordering::SeqCst);
    let f = s.script[n.min(s.script.len() - 1)];
    f()
}

/// The gateway's 429 with a `Retry-After` of `seconds`.
fn throttled_for(seconds: &'static str) -> Response {
    let mut r = api_error(
        StatusCode::TOO_MANY_REQUESTS,
        "APIGW.0308",
        "The throttling threshold has been reached",
        "rq-429",
    );
    r.headers_mut()
        .insert("Retry-After", axum::http::HeaderValue::from_static(seconds));
    r
}

fn ok_server() -> Response {
    axum::Json(server_json("srv1")).into_response()
}

async fn scripted_server(script: Vec<fn() -> Response>) -> (SocketAddr, Scripted) {
    let s = Scripted::new(script);
    let router = Router::new()
        .route("/v1/proj1/cloud-phone/servers/{id}", get(scripted))
        .route(
            "/v1/proj1/cloud-phone/servers/change-server-model",
            post(scripted),
        )
        .with_state(s.clone());
    (serve(router).await, s)
}

#[tokio::test]
async fn retries_429_after_retry_after() {
    fn throttled() -> Response {
        throttled_for("1")
    }
    let (addr, s) = scripted_server(vec![throttled, ok_server]).await;
    let started = Instant::now();
    let server = token_client(addr)
        .show_server("srv1")
        .await
        .expect("retried");
    let elapsed = started.elapsed();
    assert_eq!(server.server_id, "srv1");
    assert_eq!(s.calls(), 2);
    assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");
}

/// A 429 is retried more often than other failures (`max_retries` times
/// four): the API did not take the call and the provider has slowed down, so
/// waiting it out is what works. Other failures keep `max_retries`.
#[tokio::test]
async fn throttling_is_waited_out_beyond_max_retries() {
    fn throttled() -> Response {
        throttled_for("0")
    }
    fn unavailable() -> Response {
        (StatusCode::SERVICE_UNAVAILABLE, "busy").into_response()
    }
    let client_with_one_retry = |addr| {
        let mut cfg = config(addr, Credentials::Token(TOKEN.into()));
        cfg.max_retries = 1;
        Client::new(cfg).expect("client")
    };

    let (addr, s) =
        scripted_server(vec![throttled, throttled, throttled, throttled, ok_server]).await;
    let server = client_with_one_retry(addr)
        .show_server("srv1")
        .await
        .expect("four throttled answers are waited out with max_retries = 1");
    assert_eq!(server.server_id, "srv1");
    assert_eq!(s.calls(), 5);

    let (addr, s) = scripted_server(vec![throttled as fn() -> Response; 6]).await;
    let err = client_with_one_retry(addr)
        .show_server("srv1")
        .await
        .expect_err("at most four retries of a throttled call");
    assert_eq!(err.code(), Some("APIGW.0308"));
    assert_eq!(s.calls(), 5);

    let (addr, s) = scripted_server(vec![unavailable, unavailable, ok_server]).await;
    client_with_one_retry(addr)
        .show_server("srv1")
        .await
        .expect_err("a 503 keeps max_retries");
    assert_eq!(s.calls(), 2);
}

#[tokio::test]
async fn retries_503() {
    fn unavailable() -> Response {
        (StatusCode::SERVICE_UNAVAILABLE, "<html>busy</html>").into_response()
    }
    let (addr, s) = scripted_server(vec![unavailable, ok_server]).await;
    let server = token_client(addr)
        .show_server("srv1")
        .await
        .expect("retried");
    assert_eq!(server.status, 5);
    assert_eq!(s.calls(), 2);
}

#[tokio::test]
async fn change_server_model_retried_on_503_but_not_on_502() {
    fn unavailable() -> Response {
        api_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "CPS.9999",
            "busy",
            "rq-503",
        )
    }
    fn bad_gateway() -> Response {
        api_error(
            StatusCode::BAD_GATEWAY,
            "APIGW.0201",
            "bad gateway",
            "rq-502",
        )
    }
    fn ordered() -> Response {
        axum::Json(json!({"request_id": "r", "order_id": "CS1", "product_id": "p"})).into_response()
    }
    let req = ChangeServerModelRequest {
        server_id: "srv1".into(),
        server_model_name: "a".into(),
        phone_model_name: "b".into(),
        extend_param: None,
    };
    let (addr, s) = scripted_server(vec![unavailable, ordered]).await;
    let resp = token_client(addr)
        .change_server_model(&req)
        .await
        .expect("retried");
    assert_eq!(resp.order_id, "CS1");
    assert_eq!(s.calls(), 2);

    let (addr, s) = scripted_server(vec![bad_gateway, ordered]).await;
    let err = token_client(addr)
        .change_server_model(&req)
        .await
        .expect_err("not retried");
    assert_eq!(err.status(), Some(502));
    assert_eq!(s.calls(), 1);
}

#[tokio::test]
async fn bad_request_not_retried_and_rendered() {
    fn bad() -> Response {
        api_error(
            StatusCode::BAD_REQUEST,
            "CPS.0001",
            "Invalid parameter: server_model_name",
            "1a2b3c4d",
        )
    }
    let (addr, s) = scripted_server(vec![bad, ok_server]).await;
    let err = token_client(addr)
        .show_server("srv1")
        .await
        .expect_err("400");
    assert_eq!(s.calls(), 1);
    assert_eq!(err.code(), Some("CPS.0001"));
    assert_eq!(err.request_id(), Some("1a2b3c4d"));
    let text = err.to_string();
    assert!(
        text.contains("CPS.0001") && text.contains("Invalid parameter"),
        "{text}"
    );
    assert!(text.contains("1a2b3c4d") && text.contains("400"), "{text}");
    assert!(!err.is_not_found());
}

#[tokio::test]
async fn missing_server_is_not_found() {
    fn missing() -> Response {
        api_error(
            StatusCode::NOT_FOUND,
            "CPS.0005",
            "The server does not exist",
            "rq-404",
        )
    }
    let (addr, s) = scripted_server(vec![missing]).await;
    let err = token_client(addr)
        .show_server("gone")
        .await
        .expect_err("404");
    assert!(err.is_not_found());
    assert_eq!(err.code(), Some("CPS.0005"));
    assert_eq!(s.calls(), 1);
}

// ---------------------------------------------------------------------------
// Connection resets, with a raw TCP server.

/// Accepts connections; reads one request from each; drops the first
/// `drop_first` connections without answering and answers the others with
/// `body`. Returns the address and the number of requests received.
async fn raw_server(drop_first: usize, body: &'static str) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                if !read_request(&mut stream).await {
                    return;
                }
                let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                if n <= drop_first {
                    drop(stream); // the request was sent; no answer comes
                    return;
                }
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Request-Id: raw-{n}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (addr, count)
}

/// Reads a request head and its body; false when the peer went away first.
async fn read_request(stream: &mut tokio::net::TcpStream) -> bool {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return true;
            }
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

#[tokio::test]
async fn get_retried_after_connection_reset() {
    let body = r#"{"server_id":"srv1","server_model_name":"m","phone_model_name":"p","status":5}"#;
    let (addr, count) = raw_server(1, body).await;
    let server = token_client(addr)
        .show_server("srv1")
        .await
        .expect("retried");
    assert_eq!(server.server_model_name, "m");
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn phones_traffic_retried_after_connection_reset() {
    let body = r#"{"request_id":"rq-t","jobs":[{"phone_id":"p1","job_id":"j1"}]}"#;
    let (addr, count) = raw_server(1, body).await;
    let resp = token_client(addr)
        .set_phones_traffic("routing", &["p1".to_string()])
        .await
        .expect("retried");
    assert_eq!(resp.jobs[0].job_id.as_deref(), Some("j1"));
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn change_server_model_not_retried_after_reset() {
    let body = r#"{"request_id":"r","order_id":"CS1","product_id":"p"}"#;
    let (addr, count) = raw_server(usize::MAX, body).await;
    let req = ChangeServerModelRequest {
        server_id: "srv1".into(),
        server_model_name: "a".into(),
        phone_model_name: "b".into(),
        extend_param: None,
    };
    let err = token_client(addr)
        .change_server_model(&req)
        .await
        .expect_err("reset after sending");
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    // Give a wrongly scheduled retry the chance to show up.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn connection_refused_is_retried_then_reported() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let mut cfg = config(addr, Credentials::Token(TOKEN.into()));
    cfg.max_retries = 2;
    let err = Client::new(cfg)
        .expect("client")
        .show_server("srv1")
        .await
        .expect_err("nothing listens");
    let text = err.to_string();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(text.contains("could not reach"), "{text}");
}

// ---------------------------------------------------------------------------
// Waiters.

#[derive(Default)]
struct JobsState {
    /// Per polling round (a call with offset 0 starts one): the calls made.
    rounds: Vec<Vec<(String, u64)>>,
    /// Put `request_id` into each job.
    attribute: bool,
    /// Jobs of request r1/r2 finish in this round (r3's are done at once);
    /// `usize::MAX`: never.
    finish_round: usize,
}

fn jobs_of(request_id: &str) -> usize {
    match request_id {
        "r1" | "r2" => 100,
        "r3" => 50,
        _ => 0,
    }
}

async fn list_jobs(
    State(state): State<Arc<Mutex<JobsState>>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Ok(mut st) = state.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let ids = q.get("request_ids").cloned().unwrap_or_default();
    let offset: u64 = q.get("offset").and_then(|v| v.parse().ok()).unwrap_or(0);
    let limit: u64 = q.get("limit").and_then(|v| v.parse().ok()).unwrap_or(100);
    if limit > 100 || ids.split(',').count() > 20 {
        return api_error(StatusCode::BAD_REQUEST, "CPS.0001", "bad paging", "rq-bad");
    }
    if offset == 0 {
        st.rounds.push(Vec::new());
    }
    let round = st.rounds.len();
    if let Some(calls) = st.rounds.last_mut() {
        calls.push((ids.clone(), offset));
    }
    let mut all = Vec::new();
    for rid in ids.split(',') {
        for i in 0..jobs_of(rid) {
            let done = rid == "r3" || round >= st.finish_round;
            let mut job = json!({
                "job_id": format!("{rid}-job-{i}"),
                "phone_id": format!("{rid}-phone-{i}"),
                "server_id": "srv1",
                "status": if done { 2 } else { 1 },
            });
            if st.attribute {
                job["request_id"] = json!(rid);
            }
            if done && i == 7 {
                job["status"] = json!(-1);
                job["error_code"] = json!("CPS.0005");
                job["error_msg"] = json!("phone gone");
            }
            all.push(job);
        }
    }
    let count = all.len();
    let page: Vec<Value> = all
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .collect();
    axum::Json(json!({"request_id": "rq-jobs", "jobs": page, "count": count})).into_response()
}

async fn jobs_server(attribute: bool, finish_round: usize) -> (SocketAddr, Arc<Mutex<JobsState>>) {
    let state = Arc::new(Mutex::new(JobsState {
        rounds: Vec::new(),
        attribute,
        finish_round,
    }));
    let router = Router::new()
        .route("/v1/proj1/cloud-phone/jobs", get(list_jobs))
        .with_state(state.clone());
    (serve(router).await, state)
}

fn rounds(state: &Arc<Mutex<JobsState>>) -> Vec<Vec<(String, u64)>> {
    state.lock().map(|s| s.rounds.clone()).unwrap_or_default()
}

fn request_ids() -> Vec<String> {
    vec!["r1".into(), "r2".into(), "r3".into()]
}

/// Follows `request_ids` (which started `jobs` jobs in all) with the
/// provider's job poller until that many jobs are over; every job once.
async fn poll_jobs(client: &Client, request_ids: &[String], jobs: usize) -> Vec<Job> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let poller = Poller::new(Box::new(move |jobs, _gone| {
        let _ = tx.send(jobs);
    }));
    for id in request_ids {
        poller.follow(client, id, jobs / request_ids.len(), false);
    }
    let mut seen: HashMap<String, Job> = HashMap::new();
    while seen.len() < jobs {
        let round = tokio::time::timeout(Duration::from_secs(30), rx.recv()).await;
        for job in round.expect("jobs end in time").expect("the poller lives") {
            seen.insert(format!("{}/{}", job.request_id, job.job_id), job);
        }
    }
    seen.into_values().collect()
}

#[tokio::test]
async fn the_poller_reads_250_jobs_a_page_and_20_ids_a_call_at_most() {
    for attribute in [true, false] {
        let (addr, state) = jobs_server(attribute, 2).await;
        let jobs = poll_jobs(&token_client(addr), &request_ids(), 250).await;
        assert_eq!(jobs.len(), 250);
        assert!(jobs.iter().all(Job::finished));
        assert_eq!(jobs.iter().filter(|j| j.status == -1).count(), 3);
        let failed = jobs.iter().find(|j| j.status == -1).expect("a failed job");
        assert_eq!(failed.error_code.as_deref(), Some("CPS.0005"));
        // The server refuses more than a page or 20 ids. The newest id
        // (r3, done at once) is the probe; then r1 and r2 (a page each) are
        // read a call each, one page a call.
        let rounds = rounds(&state);
        assert_eq!(rounds.len(), 3, "attribute={attribute}: {rounds:?}");
        assert!(rounds.iter().all(|calls| calls.len() == 1), "{rounds:?}");
    }
}

async fn flavor_server(calls_until_done: usize) -> (SocketAddr, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let router = Router::new()
        .route(
            "/v1/proj1/cloud-phone/servers/{id}",
            get(move |State(count): State<Arc<AtomicUsize>>| async move {
                let n = count.fetch_add(1, Ordering::SeqCst) + 1;
                let (server_model, phone_model, status) = if n >= calls_until_done {
                    ("new.server", "new.phone", 5)
                } else if n >= 2 {
                    ("new.server", "new.phone", 13)
                } else {
                    ("old.server", "old.phone", 5)
                };
                axum::Json(json!({
                    "server_id": "srv1",
                    "server_model_name": server_model,
                    "phone_model_name": phone_model,
                    "status": status,
                }))
            }),
        )
        .route(
            "/bss/v2/orders/customer-orders/details/{order_id}",
            get(|| async {
                axum::Json(json!({
                    "total_count": 1,
                    "order_info": {"order_id": "CS1710111105S8IPB", "status": 3}
                }))
            }),
        )
        .with_state(count.clone());
    (serve(router).await, count)
}

/// Follows a flavor order the way the provider does (`fleet::flavor_orders`
/// through the order tracker), against a server whose BSS says processing.
async fn follow_flavor(
    addr: SocketAddr,
    target: (&str, &str),
    deadline: Instant,
) -> Result<terraform_provider_cph::cph::models::Server, FollowError> {
    let mut cfg = config(addr, Credentials::Token(TOKEN.into()));
    cfg.bss_endpoint = format!("http://{addr}/bss");
    let client = Client::new(cfg).expect("client");
    let follow = Follow {
        server_id: "srv1",
        server_model_name: target.0,
        phone_model_name: target.1,
        order_id: Some("CS1710111105S8IPB"),
        auto_pay: false,
        deadline,
    };
    let mut warnings = Vec::new();
    let followed = OrderTracker::default()
        .follow(&client, &follow, &CancellationToken::new(), &mut warnings)
        .await;
    assert!(warnings.is_empty(), "{warnings:?}");
    followed
}

#[tokio::test]
async fn wait_for_flavor_until_target_and_normal() {
    let (addr, count) = flavor_server(3).await;
    let server = follow_flavor(
        addr,
        ("new.server", "new.phone"),
        Instant::now() + Duration::from_secs(30),
    )
    .await
    .expect("flavor applied");
    assert_eq!(server.server_model_name, "new.server");
    assert_eq!(count.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn wait_for_flavor_timeout_names_the_order() {
    let (addr, _count) = flavor_server(usize::MAX).await;
    let err = follow_flavor(
        addr,
        ("other.server", "other.phone"),
        Instant::now() + Duration::from_millis(1200),
    )
    .await
    .expect_err("timeout");
    let FollowError::Ended(WaitEnded::TimedOut(text)) = err else {
        panic!("{err:?}")
    };
    assert!(
        text.starts_with("flavor change order CS1710111105S8IPB for server srv1 did not complete within 1.2s: server still shows new.server / new.phone (status 13)"),
        "{text}"
    );
}

// ---------------------------------------------------------------------------
// Password auth and AK/SK.

#[derive(Default)]
struct IamState {
    token_requests: AtomicUsize,
    bodies: Mutex<Vec<Value>>,
    api_calls: AtomicUsize,
}

async fn iam_tokens(
    State(st): State<Arc<IamState>>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    st.token_requests.fetch_add(1, Ordering::SeqCst);
    if let Ok(mut bodies) = st.bodies.lock() {
        bodies.push(body);
    }
    // Slow enough that concurrent callers overlap with the fetch.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let expires = time::OffsetDateTime::now_utc() + time::Duration::hours(24);
    let expires = expires
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    (
        StatusCode::CREATED,
        [("X-Subject-Token", TOKEN)],
        axum::Json(json!({"token": {"expires_at": expires, "methods": ["password"]}})),
    )
        .into_response()
}

async fn token_checked_server(State(st): State<Arc<IamState>>, headers: HeaderMap) -> Response {
    st.api_calls.fetch_add(1, Ordering::SeqCst);
    if headers.get("x-auth-token").and_then(|v| v.to_str().ok()) != Some(TOKEN) {
        return api_error(
            StatusCode::UNAUTHORIZED,
            "APIGW.0301",
            "Incorrect IAM authentication information",
            "rq-401",
        );
    }
    axum::Json(server_json("srv1")).into_response()
}

#[tokio::test]
async fn password_auth_fetches_one_token_for_many_concurrent_calls() {
    let state = Arc::new(IamState::default());
    let router = Router::new()
        .route("/v3/auth/tokens", post(iam_tokens))
        .route(
            "/v1/proj1/cloud-phone/servers/{id}",
            get(token_checked_server),
        )
        .with_state(state.clone());
    let addr = serve(router).await;
    let client = Client::new(config(
        addr,
        Credentials::Password {
            auth_url: format!("http://{addr}/v3"),
            domain_name: "dom".into(),
            user_name: "alice".into(),
            password: "s3cret-pass".into(),
        },
    ))
    .expect("client");
    let calls = (0..16).map(|_| {
        let c = client.clone();
        tokio::spawn(async move { c.show_server("srv1").await })
    });
    for call in futures::future::join_all(calls).await {
        call.expect("task").expect("call succeeds");
    }
    assert_eq!(state.token_requests.load(Ordering::SeqCst), 1);
    assert_eq!(client.iam_token_fetches(), 1);
    assert_eq!(state.api_calls.load(Ordering::SeqCst), 16);
    let bodies = state.bodies.lock().map(|b| b.clone()).unwrap_or_default();
    let auth = &bodies[0]["auth"];
    assert_eq!(auth["identity"]["methods"], json!(["password"]));
    assert_eq!(auth["identity"]["password"]["user"]["name"], "alice");
    assert_eq!(
        auth["identity"]["password"]["user"]["domain"]["name"],
        "dom"
    );
    assert_eq!(auth["scope"]["project"]["id"], PROJECT);
    assert!(!format!("{client:?}").contains("s3cret-pass"));
}

#[tokio::test]
async fn password_auth_failure_is_an_auth_error_without_the_password() {
    let router = Router::new().route(
        "/v3/auth/tokens",
        post(|| async {
            (
                StatusCode::UNAUTHORIZED,
                axum::Json(json!({"error": {"code": 401, "message": "The username or password is wrong.", "title": "Unauthorized"}})),
            )
        }),
    );
    let addr = serve(router).await;
    let client = Client::new(config(
        addr,
        Credentials::Password {
            auth_url: format!("http://{addr}"),
            domain_name: "dom".into(),
            user_name: "alice".into(),
            password: "s3cret-pass".into(),
        },
    ))
    .expect("client");
    let err = client.show_server("srv1").await.expect_err("auth fails");
    let text = err.to_string();
    assert!(matches!(err, Error::Iam { .. }), "{err:?}");
    assert!(
        err.is_credential_failure() && !err.is_unreachable(),
        "{err:?}"
    );
    assert!(text.contains("username or password is wrong"), "{text}");
    assert!(!text.contains("s3cret-pass") && !format!("{err:?}").contains("s3cret-pass"));
}

#[tokio::test]
async fn retries_stop_at_the_callers_deadline() {
    fn throttled_long() -> Response {
        throttled_for("5")
    }
    let (addr, s) = scripted_server(vec![throttled_long, ok_server]).await;
    let started = Instant::now();
    let err = token_client(addr)
        .with_deadline(Instant::now() + Duration::from_secs(1))
        .show_server("srv1")
        .await
        .expect_err("no retry can finish before the deadline");
    assert_eq!(err.code(), Some("APIGW.0308"));
    assert_eq!(s.calls(), 1);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn cancellation_stops_a_retry_wait() {
    fn throttled_long() -> Response {
        throttled_for("30")
    }
    let (addr, _s) = scripted_server(vec![throttled_long]).await;
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        trigger.cancel();
    });
    let started = Instant::now();
    let err = token_client(addr)
        .with_cancellation(cancel)
        .show_server("srv1")
        .await
        .expect_err("cancelled");
    assert!(matches!(err, Error::Cancelled), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

async fn failing_jobs_server(script: Vec<fn() -> Response>) -> (SocketAddr, Scripted) {
    let s = Scripted::new(script);
    let router = Router::new()
        .route("/v1/proj1/cloud-phone/jobs", get(scripted))
        .with_state(s.clone());
    (serve(router).await, s)
}

fn jobs_done() -> Response {
    axum::Json(json!({"jobs": [{"job_id": "j1", "phone_id": "p1", "status": 2}], "count": 1}))
        .into_response()
}

fn jobs_unavailable() -> Response {
    api_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "CPS.9999",
        "busy",
        "rq-503",
    )
}

#[tokio::test]
async fn waiter_rides_out_a_transient_error() {
    let (addr, s) = failing_jobs_server(vec![jobs_unavailable, jobs_done]).await;
    let jobs = poll_jobs(&token_client(addr), &["r1".to_string()], 1).await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(s.calls(), 2);
}

/// IAM that numbers its tokens (`tok-1`, `tok-2`, …) and makes them expire
/// after `lifetime`.
#[derive(Default)]
struct NumberingIam {
    issued: AtomicUsize,
    lifetime_ms: u64,
    /// Only this token is accepted by the API (`None`: any issued one).
    accepted: Option<&'static str>,
}

async fn numbering_iam(State(st): State<Arc<NumberingIam>>) -> Response {
    let n = st.issued.fetch_add(1, Ordering::SeqCst) + 1;
    let expires = time::OffsetDateTime::now_utc()
        + time::Duration::milliseconds(i64::try_from(st.lifetime_ms).unwrap_or(i64::MAX));
    let expires = expires
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    (
        StatusCode::CREATED,
        [("X-Subject-Token", format!("tok-{n}"))],
        axum::Json(json!({"token": {"expires_at": expires}})),
    )
        .into_response()
}

async fn numbering_api(State(st): State<Arc<NumberingIam>>, headers: HeaderMap) -> Response {
    let token = headers
        .get("x-auth-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let ok = match st.accepted {
        Some(accepted) => token == accepted,
        None => token.starts_with("tok-"),
    };
    if ok {
        axum::Json(server_json("srv1")).into_response()
    } else {
        api_error(
            StatusCode::UNAUTHORIZED,
            "APIGW.0301",
            "token rejected",
            "rq-401",
        )
    }
}

async fn numbering_client(
    lifetime_ms: u64,
    accepted: Option<&'static str>,
) -> (Client, Arc<NumberingIam>) {
    let state = Arc::new(NumberingIam {
        issued: AtomicUsize::new(0),
        lifetime_ms,
        accepted,
    });
    let router = Router::new()
        .route("/v3/auth/tokens", post(numbering_iam))
        .route("/v1/proj1/cloud-phone/servers/{id}", get(numbering_api))
        .with_state(state.clone());
    let addr = serve(router).await;
    let client = Client::new(config(
        addr,
        Credentials::Password {
            auth_url: format!("http://{addr}/v3"),
            domain_name: "dom".into(),
            user_name: "alice".into(),
            password: "pw".into(),
        },
    ))
    .expect("client");
    (client, state)
}

#[tokio::test]
async fn password_token_refetched_once_when_rejected() {
    let (client, state) = numbering_client(24 * 3600 * 1000, Some("tok-2")).await;
    client
        .show_server("srv1")
        .await
        .expect("second token accepted");
    assert_eq!(state.issued.load(Ordering::SeqCst), 2);
    // The new token is cached.
    client.show_server("srv1").await.expect("cached token");
    assert_eq!(state.issued.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn password_token_renewed_before_it_expires() {
    // A 2 s token is renewed after half its life (10 minutes before expiry
    // for real 24 h tokens).
    let (client, state) = numbering_client(2000, None).await;
    client.show_server("srv1").await.expect("first token");
    client.show_server("srv1").await.expect("cached token");
    assert_eq!(state.issued.load(Ordering::SeqCst), 1);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    client.show_server("srv1").await.expect("renewed token");
    assert_eq!(state.issued.load(Ordering::SeqCst), 2);
}

// ---------------------------------------------------------------------------
// Connection errors name the endpoint.

#[tokio::test]
async fn connection_refused_names_host_port_and_path() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let mut cfg = config(addr, Credentials::Token(TOKEN.into()));
    cfg.max_retries = 0;
    let err = Client::new(cfg)
        .expect("client")
        .show_server("srv1")
        .await
        .expect_err("nothing listens");
    let text = err.to_string();
    let expected = format!("could not reach 127.0.0.1:{} (", addr.port());
    assert!(text.starts_with(&expected), "{text}");
    assert!(
        text.contains("GET /v1/proj1/cloud-phone/servers/srv1 was not sent")
            && text.ends_with(&format!(
                "127.0.0.1:{} is chosen by `endpoint`",
                addr.port()
            )),
        "{text}"
    );
    assert!(text.to_lowercase().contains("refused"), "{text}");
}

// ---------------------------------------------------------------------------
// The flavor catalogue.

#[tokio::test]
async fn catalogue_reads_every_field_and_filters_phone_models() {
    let router = Router::new()
        .route(
            "/v1/proj1/cloud-phone/server-models",
            get(|| async {
                axum::Json(json!({"request_id": "r", "server_models": [{
                    "server_model_name": "physical.rx1.xlarge", "server_type": "0",
                    "cpu": 64, "memory": 256, "disk_max_num": 8, "product_type": 0,
                    "free_size": 100,
                    "extend_spec": {"cpu": "Kunpeng", "gpu_count": 2, "numa_count": 4}
                }, {"server_model_name": "minimal"}]}))
            }),
        )
        .route(
            "/v1/proj1/cloud-phone/phone-models",
            get(|Query(q): Query<HashMap<String, String>>| async move {
                let all = json!([
                    {"server_model_name": "a", "phone_model_name": "a.1", "status": 1,
                     "cpu": 2, "memory": 4096, "disk": 32, "phone_capacity": 15,
                     "resolution": "720*1280", "extend_spec": "{}", "spec_code": "sc",
                     "image_label": "cloud_phone", "product_type": 0},
                    {"server_model_name": "b", "phone_model_name": "b.1"}
                ]);
                // This server ignores the filter, as some API versions do.
                let _ = q.get("server_model_name");
                axum::Json(json!({"phone_models": all}))
            }),
        );
    let client = token_client(serve(router).await);
    let servers = client.list_server_models().await.expect("server models");
    assert_eq!(servers.len(), 2);
    assert_eq!(servers[0].cpu, 64);
    assert_eq!(servers[0].free_size, 100);
    assert_eq!(servers[0].extend_spec.gpu_count, 2);
    assert_eq!(servers[1].cpu, 0);
    let phones = client
        .list_phone_models(Some("a"))
        .await
        .expect("phone models");
    assert_eq!(phones.len(), 1);
    assert_eq!(phones[0].phone_capacity, 15);
    assert_eq!(phones[0].image_label, "cloud_phone");
    assert_eq!(client.list_phone_models(None).await.expect("all").len(), 2);
}

// ---------------------------------------------------------------------------
// BSS orders.

#[derive(Default)]
struct BssState {
    pay_bodies: Mutex<Vec<Value>>,
    pay_calls: AtomicUsize,
    headers: Mutex<Vec<HeaderMap>>,
}

async fn bss_order(
    State(st): State<Arc<BssState>>,
    axum::extract::Path(order_id): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Ok(mut h) = st.headers.lock() {
        h.push(headers);
    }
    match order_id.as_str() {
        "CS-pending" => axum::Json(json!({
            "total_count": 1,
            "order_info": {
                "order_id": "CS-pending", "status": 6, "order_type": 3,
                "pending_payment_end_time": "2030-01-01T00:00:00Z",
                "create_time": "2029-12-31T00:00:00Z", "payment_time": null,
                "amount_after_discount": 12.5, "sub_order_infos": []
            },
            "order_line_items": [{"order_line_item_id": "x"}]
        }))
        .into_response(),
        "CS-empty" => axum::Json(json!({"total_count": 0})).into_response(),
        _ => api_error(
            StatusCode::NOT_FOUND,
            "CBC.30000010",
            "no such order",
            "rq-bss",
        ),
    }
}

async fn bss_pay(State(st): State<Arc<BssState>>, axum::Json(body): axum::Json<Value>) -> Response {
    st.pay_calls.fetch_add(1, Ordering::SeqCst);
    if let Ok(mut b) = st.pay_bodies.lock() {
        b.push(body.clone());
    }
    if body["order_id"] == "CS-flaky" {
        return api_error(StatusCode::BAD_GATEWAY, "", "bad gateway", "rq-502");
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn bss_server() -> (SocketAddr, Arc<BssState>) {
    let state = Arc::new(BssState::default());
    let router = Router::new()
        .route(
            "/bss/v2/orders/customer-orders/details/{order_id}",
            get(bss_order),
        )
        .route("/bss/v3/orders/customer-orders/pay", post(bss_pay))
        .with_state(state.clone());
    (serve(router).await, state)
}

fn bss_client(addr: SocketAddr, credentials: Credentials) -> Client {
    let mut cfg = config(addr, credentials);
    cfg.bss_endpoint = format!("http://{addr}/bss");
    cfg.domain_id = Some("D".into());
    Client::new(cfg).expect("client")
}

#[tokio::test]
async fn show_order_reads_the_order_and_knows_unknown_ones() {
    let (addr, state) = bss_server().await;
    let creds = Credentials::AkSk {
        access_key: "AK".into(),
        secret_key: "SK".into(),
        security_token: None,
    };
    let client = bss_client(addr, creds);
    let order = client.show_order("CS-pending").await.expect("order");
    assert_eq!(order.order_id, "CS-pending");
    assert_eq!(order.status, OrderStatus::PendingPayment);
    assert_eq!(order.order_type, 3);
    assert_eq!(
        order.pending_payment_end_time.as_deref(),
        Some("2030-01-01T00:00:00Z")
    );
    assert_eq!(order.create_time.as_deref(), Some("2029-12-31T00:00:00Z"));
    assert_eq!(order.payment_time, None);

    // Signed for the account, without a project id (BSS is global), as
    // the SDK's GlobalCredentials sign.
    let headers = state.headers.lock().map(|h| h[0].clone()).expect("a call");
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        authorization
            .starts_with("SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-domain-id;x-sdk-date, "),
        "{authorization}"
    );
    assert!(!headers.contains_key("x-project-id"));
    assert_eq!(
        headers.get("x-domain-id").map(|v| v.as_bytes()),
        Some(&b"D"[..])
    );

    let err = client.show_order("CS-gone").await.expect_err("unknown");
    assert!(err.is_order_not_found(), "{err}");
    assert_eq!(err.request_id(), Some("rq-bss"));
    let err = client.show_order("CS-empty").await.expect_err("empty");
    assert!(err.is_order_not_found(), "{err}");
    assert!(client.show_order(" ").await.is_err());
}

#[tokio::test]
async fn pay_order_sends_no_coupon_and_is_never_retried_once_sent() {
    let (addr, state) = bss_server().await;
    let client = bss_client(addr, Credentials::Token(TOKEN.into()));
    client.pay_order("CS-pending").await.expect("paid");
    let bodies = state
        .pay_bodies
        .lock()
        .map(|b| b.clone())
        .unwrap_or_default();
    assert_eq!(
        bodies[0],
        json!({"order_id": "CS-pending", "use_coupon": "NO", "use_discount": "NO"})
    );

    let err = client.pay_order("CS-flaky").await.expect_err("502");
    assert_eq!(err.status(), Some(502));
    assert_eq!(state.pay_calls.load(Ordering::SeqCst), 2);

    // A reset after sending is not retried either.
    let (raw, count) = raw_server(usize::MAX, "{}").await;
    let err = bss_client(raw, Credentials::Token(TOKEN.into()))
        .pay_order("CS-1")
        .await
        .expect_err("reset after sending");
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

// ---------------------------------------------------------------------------
// The rate limit.

#[tokio::test]
async fn a_429_with_retry_after_holds_back_other_callers() {
    // The first call is throttled for a second; every call is timed.
    let arrivals: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let router = Router::new()
        .route(
            "/v1/proj1/cloud-phone/servers/{id}",
            get(
                |State(arrivals): State<Arc<Mutex<Vec<Instant>>>>| async move {
                    let first = arrivals
                        .lock()
                        .map(|mut a| {
                            a.push(Instant::now());
                            a.len() == 1
                        })
                        .unwrap_or(false);
                    if first {
                        return (
                            StatusCode::TOO_MANY_REQUESTS,
                            [("Retry-After", "1")],
                            axum::Json(
                                json!({"error_code": "APIGW.0308", "error_msg": "throttled"}),
                            ),
                        )
                            .into_response();
                    }
                    ok_server()
                },
            ),
        )
        .with_state(arrivals.clone());
    let client = token_client(serve(router).await);
    let throttled = tokio::spawn({
        let client = client.clone();
        async move { client.show_server("srv1").await }
    });
    // Once the 429 is in, another caller starts.
    let mut waited = 0;
    while no_call_yet(&arrivals) && waited < 500 {
        tokio::time::sleep(Duration::from_millis(5)).await;
        waited += 1;
    }
    // Time for the 429 to travel back to the client.
    tokio::time::sleep(Duration::from_millis(200)).await;
    client.show_server("srv1").await.expect("second caller");
    throttled.await.expect("task").expect("retried");
    let arrivals = arrivals.lock().map(|a| a.clone()).unwrap_or_default();
    assert_eq!(arrivals.len(), 3);
    for later in &arrivals[1..] {
        assert!(
            *later - arrivals[0] >= Duration::from_secs(1),
            "a call was sent before Retry-After passed"
        );
    }
}

/// True while the server has not answered the first call yet.
fn no_call_yet(arrivals: &Arc<Mutex<Vec<Instant>>>) -> bool {
    arrivals.lock().map(|a| a.is_empty()).unwrap_or(true)
}

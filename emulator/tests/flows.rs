//! Behaviour: flavor-change orders (auto-paid, awaiting payment, refusals),
//! route jobs (success, failure, phones that cannot be taken), paging, admin
//! drift, faults (status, Retry-After, latency, dropped connections).

mod common;

use std::time::{Duration, Instant};

use common::{Emu, PHONE0, SERVER0, fast_config, start};
use cph_emulator::Config;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn server(emu: &Emu, id: &str) -> Value {
    let (status, body) = emu.get(&format!("servers/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    body
}

async fn until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    panic!("timed out waiting for {what}");
}

fn change(server: &str, sm: &str, pm: &str, auto_pay: Option<i64>) -> Value {
    let mut b = json!({"server_id": server, "server_model_name": sm, "phone_model_name": pm});
    if let Some(v) = auto_pay {
        b["extend_param"] = json!({"is_auto_pay": v});
    }
    b
}

const SPECIAL: (&str, &str) = ("physical.rx1.xlarge.special", "rx1.cp.sp.c105.d8.e5v5");
const BASE: (&str, &str) = ("physical.rx1.xlarge", "rx1.cp.c15.d46.e1v1");

#[tokio::test]
async fn auto_paid_upgrade_applies_after_order_time_and_blocks_a_second_change() {
    let emu = start(fast_config()).await;
    let (status, body) = emu
        .post(
            "servers/change-server-model",
            change(SERVER0, SPECIAL.0, SPECIAL.1, Some(1)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let order_id = body["order_id"].as_str().expect("order id").to_string();
    assert!(order_id.starts_with("CS") && order_id.len() == 17);
    assert!(
        order_id[2..]
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    );
    assert_eq!(server(&emu, SERVER0).await["server_model_name"], BASE.0);
    let (status, body) = emu
        .post(
            "servers/change-server-model",
            change(SERVER0, SPECIAL.0, SPECIAL.1, Some(1)),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error_code"], "CPS.0040");
    until("flavor change", async || {
        server(&emu, SERVER0).await["phone_model_name"] == SPECIAL.1
    })
    .await;
    // A downgrade without auto pay completes on its own.
    let (status, _) = emu
        .post(
            "servers/change-server-model",
            change(SERVER0, BASE.0, BASE.1, None),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    until("downgrade", async || {
        server(&emu, SERVER0).await["server_model_name"] == BASE.0
    })
    .await;
    let (_, orders) = emu.admin(Method::GET, "orders", None).await;
    let statuses: Vec<_> = orders["orders"]
        .as_array()
        .expect("orders")
        .iter()
        .map(|o| o["status"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(statuses, ["succeeded", "succeeded"]);
}

#[tokio::test]
async fn upgrade_without_auto_pay_waits_for_payment() {
    let emu = start(fast_config()).await;
    let (_, body) = emu
        .post(
            "servers/change-server-model",
            change(SERVER0, SPECIAL.0, SPECIAL.1, Some(0)),
        )
        .await;
    let order_id = body["order_id"].as_str().expect("order").to_string();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(server(&emu, SERVER0).await["server_model_name"], BASE.0);
    let (_, orders) = emu.admin(Method::GET, "orders", None).await;
    assert_eq!(orders["orders"][0]["status"], "awaiting_payment");
    let (status, _) = emu
        .admin(Method::POST, &format!("orders/{order_id}/pay"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = emu
        .admin(Method::POST, &format!("orders/{order_id}/pay"), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    until("paid order", async || {
        server(&emu, SERVER0).await["server_model_name"] == SPECIAL.0
    })
    .await;
}

#[tokio::test]
async fn flavor_change_refusals() {
    let emu = start(fast_config()).await;
    let cases = [
        (
            change(SERVER0, BASE.0, BASE.1, Some(1)),
            StatusCode::BAD_REQUEST,
            "CPS.0031",
        ),
        (
            change(
                SERVER0,
                "physical.kg1.4xlarge.cp",
                "kg1.cp.c15.d46.e1v1",
                Some(1),
            ),
            StatusCode::BAD_REQUEST,
            "CPS.0032",
        ),
        (
            change(SERVER0, SPECIAL.0, "rx1.cp.sp.c52.d4.e5v5", Some(1)),
            StatusCode::BAD_REQUEST,
            "CPS.0033",
        ),
        (
            change(SERVER0, "physical.nope", BASE.1, Some(1)),
            StatusCode::BAD_REQUEST,
            "CPS.0030",
        ),
        (
            change(SERVER0, SPECIAL.0, BASE.1, Some(1)),
            StatusCode::BAD_REQUEST,
            "CPS.0030",
        ),
        (
            change(SERVER0, &"x".repeat(65), BASE.1, Some(1)),
            StatusCode::BAD_REQUEST,
            "CPS.0004",
        ),
        (
            change(SERVER0, "", BASE.1, Some(1)),
            StatusCode::BAD_REQUEST,
            "CPS.0004",
        ),
        (
            change(&"f".repeat(32), SPECIAL.0, SPECIAL.1, Some(1)),
            StatusCode::NOT_FOUND,
            "CPS.0005",
        ),
        (
            json!({"server_id": SERVER0}),
            StatusCode::BAD_REQUEST,
            "CPS.0001",
        ),
    ];
    for (body, status, code) in cases {
        let (got, resp) = emu.post("servers/change-server-model", body.clone()).await;
        assert_eq!(
            (got, resp["error_code"].as_str()),
            (status, Some(code)),
            "{body}"
        );
        assert!(resp["request_id"].as_str().is_some_and(|r| r.len() == 32));
    }
    let (_, orders) = emu.admin(Method::GET, "orders", None).await;
    assert_eq!(orders["orders"], json!([]));
}

#[tokio::test]
async fn route_jobs_succeed_fail_and_report_untakeable_phones() {
    let emu = start(Config {
        fail_jobs_for: vec![cph_emulator::ids::phone_id(0, 1)],
        ..fast_config()
    })
    .await;
    let p1 = cph_emulator::ids::phone_id(0, 1);
    let p2 = cph_emulator::ids::phone_id(0, 2);
    emu.admin(
        Method::POST,
        &format!("phones/{p2}/status"),
        Some(json!({"status": 6})),
    )
    .await;
    let missing = "0".repeat(32);
    let (status, body) = emu
        .post(
            "phones-traffic",
            json!({"traffic_type": "routing", "phone_ids": [PHONE0, p1, p2, missing]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let jobs = body["jobs"].as_array().expect("jobs").clone();
    let request_id = body["request_id"].as_str().expect("rid").to_string();
    assert!(jobs[0]["job_id"].is_string() && jobs[1]["job_id"].is_string());
    assert_eq!(jobs[2]["error_code"], "CPS.0010");
    assert_eq!(jobs[3]["error_code"], "CPS.0006");
    assert!(jobs[2].get("job_id").is_none() && jobs[3].get("job_id").is_none());
    let (_, phone) = emu.get(&format!("phones/{PHONE0}")).await;
    assert_eq!(phone["traffic_type"], "direct");
    let ok_job = jobs[0]["job_id"].as_str().expect("job").to_string();
    let bad_job = jobs[1]["job_id"].as_str().expect("job").to_string();
    until("jobs", async || {
        emu.get(&format!("jobs/{ok_job}")).await.1["status"] == 2
    })
    .await;
    until("jobs", async || {
        emu.get(&format!("jobs/{bad_job}")).await.1["status"] == -1
    })
    .await;
    let (_, bad) = emu.get(&format!("jobs/{bad_job}")).await;
    assert_eq!(bad["error_code"], "CPS.0020");
    assert_eq!(
        emu.get(&format!("phones/{PHONE0}")).await.1["traffic_type"],
        "routing"
    );
    assert_eq!(
        emu.get(&format!("phones/{p1}")).await.1["traffic_type"],
        "direct"
    );
    let (_, listed) = emu.get(&format!("jobs?request_id={request_id}")).await;
    assert_eq!(listed["count"], 2);
    assert_eq!(listed["jobs"][0]["request_id"], request_id.as_str());
    let (_, paged) = emu
        .get(&format!(
            "jobs?request_ids={request_id},abc&offset=1&limit=1"
        ))
        .await;
    assert_eq!(
        (
            paged["count"].as_u64(),
            paged["jobs"].as_array().map(Vec::len)
        ),
        (Some(2), Some(1))
    );
    let many: Vec<String> = (0..21).map(|i| i.to_string()).collect();
    let (status, body) = emu
        .get(&format!("jobs?request_ids={}", many.join(",")))
        .await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("CPS.0008"))
    );
    let (status, body) = emu.get("jobs/nope").await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::NOT_FOUND, Some("CPS.0007"))
    );
    for (body, code) in [
        (
            json!({"traffic_type": "x", "phone_ids": [PHONE0]}),
            "CPS.0002",
        ),
        (
            json!({"traffic_type": "direct", "phone_ids": []}),
            "CPS.0003",
        ),
        (
            json!({"traffic_type": "direct", "phone_ids": vec![PHONE0; 101]}),
            "CPS.0003",
        ),
    ] {
        let (status, resp) = emu.post("phones-traffic", body).await;
        assert_eq!(
            (status, resp["error_code"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code))
        );
    }
}

#[tokio::test]
async fn large_fleet_pages_fast_and_counts() {
    let emu = start(Config {
        servers: 50,
        phones_per_server: 100,
        ..fast_config()
    })
    .await;
    let (_, first) = emu.get("phones?limit=200").await;
    assert_eq!(first["count"], 5000);
    let mut seen = 0;
    let mut offset = 0;
    loop {
        let (status, page) = emu.get(&format!("phones?offset={offset}&limit=200")).await;
        assert_eq!(status, StatusCode::OK);
        let n = page["phones"].as_array().map(Vec::len).unwrap_or(0);
        if n == 0 {
            break;
        }
        seen += n;
        offset += n;
    }
    assert_eq!(seen, 5000);
    let server7 = cph_emulator::ids::server_id(7);
    let (_, page) = emu
        .get(&format!("phones?server_id={server7}&offset=90&limit=200"))
        .await;
    assert_eq!(
        (
            page["count"].as_u64(),
            page["phones"].as_array().map(Vec::len)
        ),
        (Some(100), Some(10))
    );
    assert_eq!(page["phones"][0]["phone_name"], "phone-7-90");
    let (_, page) = emu.get("phones?phone_name=phone-3-4").await;
    assert_eq!(page["count"], 1);
    let (_, servers) = emu.get("servers?offset=45&limit=100").await;
    assert_eq!(
        (
            servers["count"].as_u64(),
            servers["servers"].as_array().map(Vec::len)
        ),
        (Some(50), Some(5))
    );
    for bad in [
        "phones?limit=0",
        "phones?limit=201",
        "phones?offset=-1",
        "phones?status=x",
        "servers?limit=101",
    ] {
        let (status, body) = emu.get(bad).await;
        assert_eq!(
            (status, body["error_code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("CPS.0001")),
            "{bad}"
        );
    }
}

/// The quota throttles each API on its own, in one-second windows, with the
/// gateway's 429 and no `Retry-After`; admin calls are never throttled.
#[tokio::test]
async fn quota_throttles_each_api_on_its_own() {
    let emu = start(fast_config()).await;
    let (status, _) = emu
        .admin(
            Method::PUT,
            "settings",
            Some(json!({"quota_per_second": 2})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // Five calls in well under a second touch at most two windows, so at
    // most four are taken.
    let mut throttled = 0;
    for _ in 0..5 {
        let (status, body) = emu.get("servers").await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(body["error_code"], "APIGW.0308");
            throttled += 1;
        } else {
            assert_eq!(status, StatusCode::OK, "{body}");
        }
    }
    assert!(throttled >= 1);
    let (status, body) = emu.get("server-models").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "another API has its own quota: {body}"
    );
    let (_, calls) = emu.admin(Method::GET, "calls", None).await;
    assert_eq!(calls["throttled"], throttled);
    assert_eq!(
        calls["calls"]["list_servers"], 5,
        "throttled calls count too"
    );
}

#[tokio::test]
async fn admin_drift_calls_and_settings() {
    let emu = start(fast_config()).await;
    emu.get("servers").await;
    emu.get("server-models").await;
    let (_, calls) = emu.admin(Method::GET, "calls", None).await;
    assert_eq!(calls["calls"]["list_servers"], 1);
    assert_eq!(calls["calls"]["list_server_models"], 1);
    assert_eq!(calls["calls"].as_object().map(|m| m.len()), Some(25));
    assert_eq!(calls["methods"]["GET"], 2);
    assert_eq!(calls["methods"]["POST"], 0);
    emu.admin(Method::POST, "calls/reset", None).await;
    let (_, calls) = emu.admin(Method::GET, "calls", None).await;
    assert_eq!(calls["calls"]["list_servers"], 0);

    emu.admin(
        Method::POST,
        &format!("phones/{PHONE0}/traffic"),
        Some(json!({"traffic_type": "routing"})),
    )
    .await;
    assert_eq!(
        emu.get(&format!("phones/{PHONE0}")).await.1["traffic_type"],
        "routing"
    );
    let (status, _) = emu
        .admin(
            Method::POST,
            &format!("servers/{SERVER0}/flavor"),
            Some(json!({"server_model_name": SPECIAL.0, "phone_model_name": SPECIAL.1})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(server(&emu, SERVER0).await["phone_model_name"], SPECIAL.1);
    let (status, _) = emu
        .admin(Method::DELETE, &format!("servers/{SERVER0}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = emu.get(&format!("servers/{SERVER0}")).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::NOT_FOUND, Some("CPS.0005"))
    );
    let (status, body) = emu.get(&format!("phones/{PHONE0}")).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::NOT_FOUND, Some("CPS.0006"))
    );
    assert_eq!(emu.get("phones").await.1["count"], 3);

    let (status, _) = emu
        .admin(Method::PUT, "settings", Some(json!({"job_seconds": 0.0})))
        .await;
    assert_eq!(status, StatusCode::OK);
    let p = cph_emulator::ids::phone_id(1, 0);
    emu.admin(Method::POST, "fail-jobs", Some(json!({"phone_ids": [p]})))
        .await;
    let (_, r) = emu
        .post(
            "phones-traffic",
            json!({"traffic_type": "routing", "phone_ids": [p]}),
        )
        .await;
    let job = r["jobs"][0]["job_id"].as_str().expect("job").to_string();
    assert_eq!(emu.get(&format!("jobs/{job}")).await.1["status"], -1);
    emu.admin(Method::DELETE, "fail-jobs", None).await;
    let (_, r) = emu
        .post(
            "phones-traffic",
            json!({"traffic_type": "routing", "phone_ids": [p]}),
        )
        .await;
    let job = r["jobs"][0]["job_id"].as_str().expect("job").to_string();
    assert_eq!(emu.get(&format!("jobs/{job}")).await.1["status"], 2);
}

#[tokio::test]
async fn faults_status_latency_and_drops() {
    let emu = start(fast_config()).await;
    let (status, _) = emu
        .admin(Method::POST, "faults", Some(json!({"endpoint": "list_servers", "kind": "status", "status": 429, "retry_after": 7, "count": 2})))
        .await;
    assert_eq!(status, StatusCode::OK);
    emu.admin(
        Method::POST,
        "faults",
        Some(json!({"endpoint": "*", "kind": "status", "status": 503})),
    )
    .await;
    for _ in 0..2 {
        let resp = emu
            .client
            .get(format!("{}{}", emu.base, emu.api("servers")))
            .header("X-Auth-Token", "emulator-token")
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            resp.headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()),
            Some("7")
        );
        let body: Value = resp.json().await.expect("json");
        assert_eq!(body["error_code"], "APIGW.0308");
    }
    let (status, body) = emu.get("servers").await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("APIGW.0201"))
    );
    let (status, _) = emu.get("servers").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = emu
        .admin(
            Method::POST,
            "faults",
            Some(json!({"endpoint": "nope", "kind": "status", "status": 500})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    emu.admin(
        Method::POST,
        "faults",
        Some(json!({"endpoint": "show_server", "kind": "latency", "latency_ms": 300})),
    )
    .await;
    let t = Instant::now();
    let (status, _) = emu.get(&format!("servers/{SERVER0}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(t.elapsed() >= Duration::from_millis(300));

    // drop_before: nothing happens, the client sees a connection error.
    emu.admin(
        Method::POST,
        "faults",
        Some(json!({"endpoint": "phones_traffic", "kind": "drop_before"})),
    )
    .await;
    let body = json!({"traffic_type": "routing", "phone_ids": [PHONE0]});
    let sent = emu
        .client
        .post(format!("{}{}", emu.base, emu.api("phones-traffic")))
        .header("X-Auth-Token", "emulator-token")
        .json(&body)
        .send()
        .await;
    assert!(sent.is_err(), "drop_before must not answer");
    // drop_after: the jobs are created, the client sees a connection error.
    emu.admin(
        Method::POST,
        "faults",
        Some(json!({"endpoint": "phones_traffic", "kind": "drop_after"})),
    )
    .await;
    let sent = emu
        .client
        .post(format!("{}{}", emu.base, emu.api("phones-traffic")))
        .header("X-Auth-Token", "emulator-token")
        .json(&body)
        .send()
        .await;
    assert!(sent.is_err(), "drop_after must not answer");
    until("route after drop_after", async || {
        emu.get(&format!("phones/{PHONE0}")).await.1["traffic_type"] == "routing"
    })
    .await;
    let (_, calls) = emu.admin(Method::GET, "calls", None).await;
    assert_eq!(calls["calls"]["phones_traffic"], 2);
    assert_eq!(calls["calls"]["list_servers"], 4);
    emu.admin(
        Method::POST,
        "faults",
        Some(json!({"endpoint": "*", "kind": "status", "status": 500, "count": 5})),
    )
    .await;
    emu.admin(Method::DELETE, "faults", None).await;
    assert_eq!(emu.get("servers").await.0, StatusCode::OK);
}

#[tokio::test]
async fn hold_answer_applies_the_call_then_holds_its_answer() {
    let emu = start(fast_config()).await;
    let (status, _) = emu
        .admin(
            Method::POST,
            "faults",
            Some(json!({"endpoint": "phones_traffic", "kind": "hold_answer"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "hold_answer needs latency_ms"
    );
    emu.admin(
        Method::POST,
        "faults",
        Some(json!({"endpoint": "phones_traffic", "kind": "hold_answer", "latency_ms": 400})),
    )
    .await;
    let started = Instant::now();
    let call = emu.post(
        "phones-traffic",
        json!({"traffic_type": "routing", "phone_ids": [PHONE0]}),
    );
    let watch = async {
        // While the answer is held, the job already exists and the hold is counted.
        until("the answer to be held", async || {
            let (_, calls) = emu.admin(Method::GET, "calls", None).await;
            calls["held_answers"]["holding"] == 1
        })
        .await;
        let (_, calls) = emu.admin(Method::GET, "calls", None).await;
        assert_eq!(calls["traffic_by_phone"][PHONE0], 1, "{calls}");
    };
    let ((status, body), ()) = tokio::join!(call, watch);
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert!(body["jobs"][0]["job_id"].is_string(), "{body}");
    let (_, calls) = emu.admin(Method::GET, "calls", None).await;
    assert_eq!(calls["held_answers"], json!({"holding": 0, "held": 1}));
    // The next call is not held.
    let started = Instant::now();
    emu.post(
        "phones-traffic",
        json!({"traffic_type": "direct", "phone_ids": [PHONE0]}),
    )
    .await;
    assert!(started.elapsed() < Duration::from_millis(400));
    let (_, calls) = emu.admin(Method::POST, "calls/reset", None).await;
    assert_eq!(calls["traffic_by_phone"], json!({}));
}

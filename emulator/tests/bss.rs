//! The catalogue as the SDK models it, and BSS: an order's life (pending
//! payment, paid, cancelled, lapsed, completed), its refusals with `CBC.`
//! codes, and the admin calls that bend it.

mod common;

use std::time::{Duration, Instant};

use common::{Emu, SERVER0, fast_config, start};
use cph_emulator::Config;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const BASE: (&str, &str) = ("physical.rx1.xlarge", "rx1.cp.c15.d46.e1v1");
const SPECIAL: (&str, &str) = ("physical.rx1.xlarge.special", "rx1.cp.sp.c105.d8.e5v5");
const BIG: (&str, &str) = ("physical.rx1.2xlarge.special", "rx1.cp.sp.c105.d8.e5v5");

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

async fn order(emu: &Emu, flavor: (&str, &str), auto_pay: Option<i64>) -> String {
    let mut body =
        json!({"server_id": SERVER0, "server_model_name": flavor.0, "phone_model_name": flavor.1});
    if let Some(v) = auto_pay {
        body["extend_param"] = json!({"is_auto_pay": v});
    }
    let (status, resp) = emu.post("servers/change-server-model", body).await;
    assert_eq!(status, StatusCode::OK, "{resp}");
    resp["order_id"].as_str().expect("order id").to_string()
}

async fn details(emu: &Emu, id: &str) -> (StatusCode, Value) {
    emu.call(
        Method::GET,
        &format!("/v2/orders/customer-orders/details/{id}"),
        None,
    )
    .await
}

async fn bss_status(emu: &Emu, id: &str) -> i64 {
    let (status, body) = details(emu, id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["order_info"]["status"].as_i64().expect("status")
}

async fn pay(emu: &Emu, id: &str) -> (StatusCode, Value) {
    emu.call(
        Method::POST,
        "/v3/orders/customer-orders/pay",
        Some(json!({"order_id": id, "use_coupon": "NO", "use_discount": "NO"})),
    )
    .await
}

async fn cancel(emu: &Emu, id: &str) -> (StatusCode, Value) {
    emu.call(
        Method::PUT,
        "/v2/orders/customer-orders/cancel",
        Some(json!({"order_id": id})),
    )
    .await
}

async fn flavor(emu: &Emu) -> (String, String) {
    let (_, s) = emu.get(&format!("servers/{SERVER0}")).await;
    (
        s["server_model_name"].as_str().unwrap_or_default().into(),
        s["phone_model_name"].as_str().unwrap_or_default().into(),
    )
}

fn pair(f: (&str, &str)) -> (String, String) {
    (f.0.to_string(), f.1.to_string())
}

#[tokio::test]
async fn catalogue_fields_and_filters() {
    let emu = start(fast_config()).await;
    let (status, body) = emu.get("server-models").await;
    assert_eq!(status, StatusCode::OK);
    let servers = body["server_models"].as_array().expect("server_models");
    assert_eq!(servers.len(), 5);
    for s in servers {
        for f in ["server_model_name", "server_type"] {
            assert!(s[f].is_string(), "{f}: {s}");
        }
        for f in ["cpu", "memory", "disk_max_num", "product_type", "free_size"] {
            assert!(s[f].is_i64(), "{f}: {s}");
        }
        let ext = &s["extend_spec"];
        for f in [
            "cpu",
            "memory",
            "disk",
            "network_interface",
            "gpu",
            "bms_flavor",
        ] {
            assert!(ext[f].is_string(), "extend_spec.{f}: {s}");
        }
        assert!(ext["gpu_count"].is_i64() && ext["numa_count"].is_i64());
    }
    let rx1: Vec<_> = servers
        .iter()
        .filter_map(|s| s["server_model_name"].as_str())
        .filter(|n| n.starts_with("physical.rx1."))
        .collect();
    assert_eq!(rx1.len(), 3, "several server flavors in one generation");
    let (_, games) = emu.get("server-models?product_type=1").await;
    assert_eq!(games["server_models"].as_array().map(Vec::len), Some(2));
    let (_, first) = emu.get("server-models?limit=2").await;
    assert_eq!(first["server_models"].as_array().map(Vec::len), Some(2));
    let marker = first["page_info"]["next_marker"].as_str().expect("marker");
    let (_, second) = emu
        .get(&format!("server-models?limit=10&marker={marker}"))
        .await;
    assert_eq!(second["server_models"].as_array().map(Vec::len), Some(3));
    assert!(second["page_info"]["next_marker"].is_null());

    let (_, all) = emu.get("phone-models").await;
    let phones = all["phone_models"].as_array().expect("phone_models");
    for p in phones {
        for f in [
            "server_model_name",
            "phone_model_name",
            "resolution",
            "extend_spec",
            "spec_code",
            "image_label",
        ] {
            assert!(p[f].is_string(), "{f}: {p}");
        }
        for f in [
            "status",
            "cpu",
            "memory",
            "disk",
            "phone_capacity",
            "product_type",
        ] {
            assert!(p[f].is_i64(), "{f}: {p}");
        }
    }
    let on = |name: &str| -> Vec<String> {
        phones
            .iter()
            .filter(|p| p["phone_model_name"] == name)
            .map(|p| p["server_model_name"].as_str().unwrap_or_default().into())
            .collect()
    };
    assert_eq!(on(SPECIAL.1), [SPECIAL.0, BIG.0]);
    assert_eq!(on("rx1.cp.sp.c52.d4.e5v5"), [SPECIAL.0]);
    assert_eq!(on("rx1.cp.sp.c210.d16.e5v5"), [BIG.0]);

    let (_, withdrawn) = emu.get("phone-models?status=0").await;
    let names: Vec<_> = withdrawn["phone_models"]
        .as_array()
        .expect("list")
        .iter()
        .map(|p| p["phone_model_name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["rx1.cp.c15.d46.e1v0", "rx1.cp.sp.c105.d8.e5v4"]);
    let (_, on_special) = emu
        .get(&format!(
            "phone-models?status=1&server_model_name={}",
            SPECIAL.0
        ))
        .await;
    let caps: Vec<_> = on_special["phone_models"]
        .as_array()
        .expect("list")
        .iter()
        .map(|p| p["phone_capacity"].as_i64().unwrap_or_default())
        .collect();
    assert_eq!(caps, [15, 30], "a capacity unlike its neighbour's");
    let (_, games) = emu.get("phone-models?product_type=1").await;
    assert_eq!(games["phone_models"].as_array().map(Vec::len), Some(2));
    let (_, paged) = emu.get("phone-models?offset=1&limit=2").await;
    assert_eq!(paged["phone_models"].as_array().map(Vec::len), Some(2));
    let (status, body) = emu.get("phone-models?status=x").await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("CPS.0001"))
    );
}

#[tokio::test]
async fn changes_the_new_catalogue_refuses() {
    let emu = start(fast_config()).await;
    for (target, code) in [
        ((SPECIAL.0, "rx1.cp.sp.c105.d8.e5v4"), "CPS.0030"),
        ((SPECIAL.0, "rx1.cp.sp.c210.d16.e5v5"), "CPS.0030"),
        ((BASE.0, "rx1.cp.c15.d46.e1v0"), "CPS.0030"),
        ((BIG.0, "rx1.cp.sp.c26.d2.e5v5"), "CPS.0033"),
        (
            ("physical.kg1.4xlarge.cp.special", "kg1.cp.sp.c15.d46.e5v5"),
            "CPS.0032",
        ),
    ] {
        let body = json!({"server_id": SERVER0, "server_model_name": target.0, "phone_model_name": target.1});
        let (status, resp) = emu.post("servers/change-server-model", body).await;
        assert_eq!(
            (status, resp["error_code"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code)),
            "{target:?}"
        );
    }
    // A phone flavor sold on two server flavors, on the bigger one: an upgrade.
    let id = order(&emu, BIG, None).await;
    assert_eq!(bss_status(&emu, &id).await, 6);
}

#[tokio::test]
async fn unpaid_upgrade_waits_then_pay_completes_it() {
    let emu = start(fast_config()).await;
    let id = order(&emu, SPECIAL, Some(0)).await;
    let (status, d) = details(&emu, &id).await;
    assert_eq!(status, StatusCode::OK, "{d}");
    let info = &d["order_info"];
    assert_eq!(info["order_id"], id.as_str());
    assert_eq!(
        (info["status"].as_i64(), info["order_type"].as_i64()),
        (Some(6), Some(3))
    );
    assert!(
        info["pending_payment_end_time"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert!(info["create_time"].is_string() && info["payment_time"].is_null());
    assert_eq!(d["total_count"], 1);
    assert_eq!(d["order_line_items"][0]["order_id"], id.as_str());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(flavor(&emu).await, pair(BASE), "not before payment");

    let (status, body) = pay(&emu, &id).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, d) = details(&emu, &id).await;
    assert_eq!(d["order_info"]["status"], 3);
    assert!(d["order_info"]["payment_time"].is_string());
    assert_eq!(flavor(&emu).await, pair(BASE), "only once completed");
    until("completion", async || bss_status(&emu, &id).await == 5).await;
    assert_eq!(flavor(&emu).await, pair(SPECIAL));

    let (status, body) = pay(&emu, &id).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("CBC.99003106"))
    );
    assert!(
        body["error_msg"].as_str().is_some_and(|m| m.contains("5")),
        "{body}"
    );
    let (status, body) = cancel(&emu, &id).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("CBC.99005010"))
    );
}

#[tokio::test]
async fn auto_paid_upgrade_and_downgrade_process_without_payment() {
    let emu = start(fast_config()).await;
    let id = order(&emu, SPECIAL, Some(1)).await;
    assert_eq!(bss_status(&emu, &id).await, 3);
    let (_, d) = details(&emu, &id).await;
    assert!(d["order_info"]["pending_payment_end_time"].is_null());
    until("upgrade", async || bss_status(&emu, &id).await == 5).await;
    assert_eq!(flavor(&emu).await, pair(SPECIAL));
    let id = order(&emu, BASE, None).await;
    assert_eq!(
        bss_status(&emu, &id).await,
        3,
        "a downgrade needs no payment"
    );
    until("downgrade", async || bss_status(&emu, &id).await == 5).await;
    assert_eq!(flavor(&emu).await, pair(BASE));
}

#[tokio::test]
async fn cancelled_order_never_changes_the_server() {
    let emu = start(fast_config()).await;
    let id = order(&emu, SPECIAL, None).await;
    let (status, body) = cancel(&emu, &id).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(bss_status(&emu, &id).await, 4);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(flavor(&emu).await, pair(BASE));
    let (status, body) = pay(&emu, &id).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("CBC.99003106"))
    );
    let (status, body) = cancel(&emu, &id).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("CBC.99005010"))
    );
    // The server is free for another order.
    let again = order(&emu, SPECIAL, Some(1)).await;
    assert_ne!(again, id);
}

#[tokio::test]
async fn payment_deadline_lapses_into_cancellation() {
    let emu = start(fast_config()).await;
    emu.admin(
        Method::PUT,
        "settings",
        Some(json!({"payment_seconds": 0.2})),
    )
    .await;
    let id = order(&emu, SPECIAL, None).await;
    until("lapse", async || bss_status(&emu, &id).await == 4).await;
    let (status, body) = pay(&emu, &id).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("CBC.99003110"))
    );
    let (_, o) = emu.admin(Method::GET, &format!("orders/{id}"), None).await;
    assert_eq!(o["order"]["status"], "cancelled");
    assert_eq!(o["order"]["cancel_reason"], "payment_lapsed");
    assert_eq!(flavor(&emu).await, pair(BASE));

    // The admin lapse: at once, whatever the deadline.
    emu.admin(
        Method::PUT,
        "settings",
        Some(json!({"payment_seconds": 3600})),
    )
    .await;
    let id = order(&emu, SPECIAL, None).await;
    let (status, o) = emu
        .admin(Method::POST, &format!("orders/{id}/lapse"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{o}");
    assert_eq!(bss_status(&emu, &id).await, 4);
    let (status, _) = emu
        .admin(Method::POST, &format!("orders/{id}/lapse"), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn bss_refusals_auth_and_counts() {
    let emu = start(fast_config()).await;
    for (status, body) in [
        details(&emu, "CS0000000000NOPE0").await,
        pay(&emu, "CS0000000000NOPE0").await,
        cancel(&emu, "CS0000000000NOPE0").await,
    ] {
        assert_eq!(
            (status, body["error_code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("CBC.30000010")),
            "{body}"
        );
        assert!(body["error_msg"].is_string());
    }
    let id = order(&emu, SPECIAL, None).await;
    for (method, path, body) in [
        (Method::POST, "/v3/orders/customer-orders/pay", json!({})),
        (
            Method::POST,
            "/v3/orders/customer-orders/pay",
            json!({"order_id": id, "use_coupon": "MAYBE"}),
        ),
        (
            Method::POST,
            "/v3/orders/customer-orders/pay",
            json!({"order_id": id, "use_coupon": "YES"}),
        ),
        (
            Method::PUT,
            "/v2/orders/customer-orders/cancel",
            json!({"order_id": ""}),
        ),
    ] {
        let (status, resp) = emu.call(method, path, Some(body.clone())).await;
        assert_eq!(
            (status, resp["error_code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("CBC.0100")),
            "{body}"
        );
    }
    let (status, _) = details(&emu, &format!("{id}?limit=0")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Unauthenticated: the gateway refuses, like every other call.
    let resp = emu
        .client
        .get(format!(
            "{}/v2/orders/customer-orders/details/{id}",
            emu.base
        ))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["error_code"], "APIGW.0301");
    // AK/SK signed, no project id anywhere.
    let resp = emu
        .signed(
            Method::GET,
            &format!("/v2/orders/customer-orders/details/{id}"),
            Some("limit=10&offset=0"),
            b"",
            "emulator-secret-key",
        )
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::OK);
    let body = format!("{{\"order_id\":\"{id}\"}}");
    let resp = emu
        .signed(
            Method::PUT,
            "/v2/orders/customer-orders/cancel",
            None,
            body.as_bytes(),
            "wrong-secret",
        )
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        bss_status(&emu, &id).await,
        6,
        "a refused cancel changes nothing"
    );

    // Faults hit BSS calls by name; an unanswered pay may still have paid.
    emu.admin(
        Method::POST,
        "faults",
        Some(json!({"endpoint": "bss_pay_order", "kind": "status", "status": 503})),
    )
    .await;
    let (status, body) = pay(&emu, &id).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("APIGW.0201"))
    );
    assert_eq!(bss_status(&emu, &id).await, 6, "a faulted pay pays nothing");

    let (_, calls) = emu.admin(Method::GET, "calls", None).await;
    assert_eq!(calls["calls"]["bss_show_order"], 6);
    assert_eq!(calls["calls"]["bss_pay_order"], 5);
    assert_eq!(calls["calls"]["bss_cancel_order"], 3);
    assert_eq!(calls["methods"]["POST"], 6, "5 pays and 1 change");
    assert_eq!(calls["methods"]["PUT"], 3);
}

#[tokio::test]
async fn admin_completes_sets_and_cancels_orders() {
    let emu = start(fast_config()).await;
    // Completed, but the server keeps its old flavor.
    let id = order(&emu, SPECIAL, None).await;
    let (status, o) = emu
        .admin(
            Method::POST,
            &format!("orders/{id}/complete"),
            Some(json!({"apply_flavor": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{o}");
    assert_eq!(
        (
            o["order"]["status"].as_str(),
            o["order"]["applied"].as_bool()
        ),
        (Some("succeeded"), Some(false))
    );
    assert_eq!(bss_status(&emu, &id).await, 5);
    assert_eq!(flavor(&emu).await, pair(BASE));

    // Completed at once, with the flavor change.
    let id = order(&emu, SPECIAL, Some(1)).await;
    emu.admin(Method::POST, &format!("orders/{id}/complete"), None)
        .await;
    assert_eq!(flavor(&emu).await, pair(SPECIAL));

    // Any status, by name or BSS number.
    let id = order(&emu, BASE, None).await;
    let (status, o) = emu
        .admin(
            Method::POST,
            &format!("orders/{id}/status"),
            Some(json!({"status": 6})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{o}");
    assert_eq!(bss_status(&emu, &id).await, 6);
    let (status, o) = emu
        .admin(
            Method::POST,
            &format!("orders/{id}/status"),
            Some(json!({"status": "bogus"})),
        )
        .await;
    assert_eq!(
        (status, o["error_code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("EMU.0400"))
    );
    // Admin cancel works on a processing order too.
    emu.admin(
        Method::POST,
        &format!("orders/{id}/status"),
        Some(json!({"status": "processing"})),
    )
    .await;
    let (status, _) = emu
        .admin(Method::POST, &format!("orders/{id}/cancel"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(bss_status(&emu, &id).await, 4);
    assert_eq!(
        flavor(&emu).await,
        pair(SPECIAL),
        "a cancelled order never applies"
    );
    let (status, _) = emu
        .admin(Method::POST, "orders/CS0000000000NOPE0/cancel", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A deleted server's unpaid order is cancelled.
    let id = order(&emu, BIG, None).await;
    emu.admin(Method::DELETE, &format!("servers/{SERVER0}"), None)
        .await;
    assert_eq!(bss_status(&emu, &id).await, 4);
    let (_, list) = emu.admin(Method::GET, "orders", None).await;
    let last = &list["orders"][3];
    assert_eq!(last["order_id"], id.as_str());
    assert_eq!(
        (last["status"].as_str(), last["cancel_reason"].as_str()),
        (Some("cancelled"), Some("server_deleted"))
    );
}

/// An international account: BSS refuses its Chinese endpoint with 403
/// `CBC.0150` and answers under `/intl` or for a `Host` of `bss-intl.…` (a
/// proxy passing the real host on).
#[tokio::test]
async fn an_international_account_is_served_only_at_the_international_bss() {
    let emu = start(Config {
        international: true,
        ..fast_config()
    })
    .await;
    let probe = "/v2/products/service-types?limit=1";
    let ask = |path: String, host: Option<&'static str>| {
        let mut req = emu
            .client
            .get(format!("{}{path}", emu.base))
            .header("X-Auth-Token", "emulator-token");
        if let Some(h) = host {
            req = req.header("Host", h);
        }
        async move {
            let resp = req.send().await.expect("send");
            let status = resp.status();
            (status, resp.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, body) = ask(probe.into(), None).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::FORBIDDEN, Some("CBC.0150")),
        "{body}"
    );
    let (status, body) = ask(probe.into(), Some("bss.example.test")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    for (path, host) in [
        (format!("/intl{probe}"), None),
        (probe.to_string(), Some("bss-intl.example.test")),
    ] {
        let (status, body) = ask(path.clone(), host).await;
        assert_eq!(status, StatusCode::OK, "{path} {host:?}: {body}");
    }
}

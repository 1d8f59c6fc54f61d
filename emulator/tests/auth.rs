//! Authentication: AK/SK signatures accepted and rejected, tokens, IAM,
//! project id checks, and the gateway's 404 for unknown paths.

mod common;

use common::{PHONE0, start};
use cph_emulator::Config;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn signature_is_verified() {
    let emu = start(Config::default()).await;
    let path = emu.api("phones");
    let good = emu
        .signed(
            Method::GET,
            &path,
            Some("limit=2&offset=1"),
            b"",
            "emulator-secret-key",
        )
        .await
        .expect("send");
    assert_eq!(good.status(), StatusCode::OK);
    let body: Value = good.json().await.expect("json");
    assert_eq!(body["count"], 6);
    assert_eq!(body["phones"].as_array().map(Vec::len), Some(2));

    let bad = emu
        .signed(Method::GET, &path, None, b"", "wrong-secret")
        .await
        .expect("send");
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let body: Value = bad.json().await.expect("json");
    assert_eq!(body["error_code"], "APIGW.0301");

    let route = json!({"traffic_type": "routing", "phone_ids": [PHONE0]}).to_string();
    let post = emu
        .signed(
            Method::POST,
            &emu.api("phones-traffic"),
            None,
            route.as_bytes(),
            "emulator-secret-key",
        )
        .await
        .expect("send");
    assert_eq!(post.status(), StatusCode::OK);
}

#[tokio::test]
async fn missing_or_wrong_token_is_401_and_wrong_project_403() {
    let emu = start(Config::default()).await;
    let resp = emu
        .client
        .get(format!("{}{}", emu.base, emu.api("servers")))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = emu
        .client
        .get(format!("{}{}", emu.base, emu.api("servers")))
        .header("X-Auth-Token", "nope")
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let (status, body) = emu
        .call(
            Method::GET,
            "/v1/ffffffffffffffffffffffffffffffff/cloud-phone/servers",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error_code"], "APIGW.0302");
    let (status, body) = emu.call(Method::GET, &emu.api("nothing-here"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error_code"], "APIGW.0101");
    let (status, body) = emu.call(Method::DELETE, &emu.api("servers"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error_code"], "APIGW.0101");
}

#[tokio::test]
async fn iam_tokens_are_issued_and_accepted() {
    let emu = start(Config::default()).await;
    let body = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "emulator-user", "password": "emulator-password", "domain": {"name": "emulator-domain"}}}},
        "scope": {"project": {"name": "cn-east-3"}}}});
    let resp = emu
        .client
        .post(format!("{}/v3/auth/tokens", emu.base))
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::CREATED);
    let token = resp
        .headers()
        .get("x-subject-token")
        .and_then(|v| v.to_str().ok())
        .expect("token")
        .to_string();
    let issued: Value = resp.json().await.expect("json");
    assert!(
        issued["token"]["expires_at"]
            .as_str()
            .is_some_and(|s| s.ends_with('Z'))
    );
    let resp = emu
        .client
        .get(format!("{}{}", emu.base, emu.api("servers")))
        .header("X-Auth-Token", token)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::OK);

    let mut wrong = body.clone();
    wrong["auth"]["identity"]["password"]["user"]["password"] = json!("x");
    let resp = emu
        .client
        .post(format!("{}/v3/auth/tokens", emu.base))
        .json(&wrong)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let (_, calls) = emu.admin(Method::GET, "calls", None).await;
    assert_eq!(calls["calls"]["iam_tokens"], 2);
}

#[tokio::test]
async fn security_token_is_required_when_configured() {
    let emu = start(Config {
        security_token: Some("sts".into()),
        ..Config::default()
    })
    .await;
    let resp = emu
        .signed(
            Method::GET,
            &emu.api("servers"),
            None,
            b"",
            "emulator-secret-key",
        )
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn aksk_calls_must_sign_their_scope_as_the_sdk_does() {
    let emu = start(Config::default()).await;
    let sk = "emulator-secret-key";
    let order_path = "/v2/orders/customer-orders/details/CS0";
    let domain = cph_emulator::config::DEFAULT_DOMAIN_ID.to_string();
    // BSS without X-Domain-Id, with a wrong one, and with the right one
    // (unknown order: the gateway let it through to BSS).
    for (scope, status) in [
        (vec![], StatusCode::UNAUTHORIZED),
        (
            vec![("x-domain-id", "0".repeat(32))],
            StatusCode::UNAUTHORIZED,
        ),
        (vec![("x-domain-id", domain)], StatusCode::BAD_REQUEST),
    ] {
        let resp = emu
            .signed_with(Method::GET, order_path, None, b"", sk, &scope)
            .await
            .expect("send");
        assert_eq!(resp.status(), status, "{scope:?}");
        let body: Value = resp.json().await.expect("json");
        if status == StatusCode::UNAUTHORIZED {
            assert_eq!(body["error_code"], "APIGW.0301", "{body}");
            assert!(
                body["error_msg"]
                    .as_str()
                    .unwrap_or("")
                    .contains("X-Domain-Id"),
                "{body}"
            );
        }
    }
    // CPH without X-Project-Id.
    let resp = emu
        .signed_with(Method::GET, &emu.api("servers"), None, b"", sk, &[])
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let body: Value = resp.json().await.expect("json");
    assert!(
        body["error_msg"]
            .as_str()
            .unwrap_or("")
            .contains("X-Project-Id"),
        "{body}"
    );
}

#[tokio::test]
async fn iam_looks_up_the_project_of_a_region_and_the_account() {
    let emu = start(Config::default()).await;
    let sk = "emulator-secret-key";
    let get = |path: &'static str, query: Option<&'static str>| {
        let emu = &emu;
        async move {
            let resp = emu
                .signed_with(Method::GET, path, query, b"", sk, &[])
                .await
                .expect("send");
            assert_eq!(resp.status(), StatusCode::OK, "{path}");
            resp.json::<Value>().await.expect("json")
        }
    };
    let found = get("/v3/projects", Some("name=cn-east-3")).await;
    assert_eq!(
        found["projects"][0]["id"],
        cph_emulator::config::DEFAULT_PROJECT_ID
    );
    assert_eq!(found["projects"].as_array().map(Vec::len), Some(1));
    let none = get("/v3/projects", Some("name=eu-west-101")).await;
    assert_eq!(none["projects"].as_array().map(Vec::len), Some(0));
    let domains = get("/v3/auth/domains", None).await;
    assert_eq!(
        domains["domains"][0]["id"],
        cph_emulator::config::DEFAULT_DOMAIN_ID
    );
    let resp = emu
        .signed_with(Method::GET, "/v3/auth/domains", None, b"", "wrong", &[])
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_agency_is_assumed_with_the_users_keys() {
    let emu = start(Config::default()).await;
    let sk = "emulator-secret-key";
    let path = "/v3.0/OS-CREDENTIAL/securitytokens";
    let body = |agency: &str| {
        json!({"auth": {"identity": {"methods": ["assume_role"], "assume_role": {
            "agency_name": agency, "domain_name": "emulator-domain", "duration_seconds": 900}}}})
        .to_string()
    };
    let resp = emu
        .signed_with(
            Method::POST,
            path,
            None,
            body("cph-agency").as_bytes(),
            sk,
            &[],
        )
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::CREATED);
    let v: Value = resp.json().await.expect("json");
    for field in ["access", "secret", "securitytoken", "expires_at"] {
        assert!(v["credential"][field].is_string(), "{field}: {v}");
    }
    let resp = emu
        .signed_with(Method::POST, path, None, body("other").as_bytes(), sk, &[])
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = emu
        .signed_with(
            Method::POST,
            path,
            None,
            body("cph-agency").as_bytes(),
            "wrong",
            &[],
        )
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

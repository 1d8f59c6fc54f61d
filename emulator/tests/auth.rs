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

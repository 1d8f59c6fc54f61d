//! The CPH client against the real emulator process: every auth method is
//! accepted, routes and flavor changes complete through the job poller and
//! the order tracker, and API errors keep their codes. (No terraform involved; always runs.)

mod emu;

use std::time::{Duration, Instant};

use emu::{Emulator, PROJECT_ID, REGION, SERVER_ID, SPECIAL_FLAVOR};
use terraform_provider_cph::cph::models::{ChangeServerModelRequest, ExtendParam, Job, PhoneQuery};
use terraform_provider_cph::cph::{AgencyDomain, AssumeRole, Client, ClientConfig, Credentials};
use terraform_provider_cph::fleet::orders::{Follow, OrderTracker};
use terraform_provider_cph::fleet::poller::Poller;
use tokio_util::sync::CancellationToken;

/// Runs async client code outside of the emulator handle's blocking HTTP client.
fn run<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

fn client(emu: &Emulator, credentials: Credentials) -> Client {
    Client::new(ClientConfig::new(
        emu.url.clone(),
        REGION,
        PROJECT_ID,
        credentials,
    ))
    .expect("client")
}

fn all_credentials(emu: &Emulator) -> Vec<(&'static str, Credentials)> {
    vec![
        ("token", Credentials::Token(emu::AUTH_TOKEN.into())),
        (
            "aksk",
            Credentials::AkSk {
                access_key: emu::ACCESS_KEY.into(),
                secret_key: emu::SECRET_KEY.into(),
                security_token: None,
            },
        ),
        (
            "password",
            Credentials::Password {
                auth_url: format!("{}/v3", emu.url),
                domain_name: emu::DOMAIN_NAME.into(),
                user_name: emu::USER_NAME.into(),
                password: emu::PASSWORD.into(),
            },
        ),
    ]
}

#[test]
fn every_auth_method_reads_servers_and_phones() {
    let emu = Emulator::start(&[]);
    run(async {
        for (name, creds) in all_credentials(&emu) {
            let c = client(&emu, creds);
            let server = c
                .show_server(SERVER_ID)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(server.server_id, SERVER_ID);
            let phones = c
                .list_all_phones(&PhoneQuery {
                    server_id: Some(SERVER_ID.into()),
                    ..Default::default()
                })
                .await
                .unwrap();
            assert_eq!(phones.len(), 3, "{name}");
        }
    });
}

#[test]
fn wrong_secret_is_refused_with_the_gateway_code() {
    let emu = Emulator::start(&[]);
    run(async {
        let c = client(
            &emu,
            Credentials::AkSk {
                access_key: emu::ACCESS_KEY.into(),
                secret_key: "wrong".into(),
                security_token: None,
            },
        );
        let err = c.show_server(SERVER_ID).await.unwrap_err();
        assert_eq!(err.code(), Some("APIGW.0301"), "{err}");
        assert!(err.request_id().is_some(), "{err}");
    });
}

/// Follows `request_id` with the provider's job poller until its `jobs`
/// jobs are over.
async fn poll_jobs(client: &Client, request_id: &str, jobs: usize) -> Vec<Job> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let poller = Poller::new(Box::new(move |jobs, _gone| {
        let _ = tx.send(jobs);
    }));
    poller.follow(client, request_id, jobs, false);
    let mut seen = std::collections::BTreeMap::new();
    while seen.len() < jobs {
        let round = tokio::time::timeout(Duration::from_secs(30), rx.recv()).await;
        for job in round.expect("jobs end in time").expect("the poller lives") {
            seen.insert(job.job_id.clone(), job);
        }
    }
    seen.into_values().collect()
}

#[test]
fn routes_change_through_jobs() {
    let emu = Emulator::start(&[]);
    let phones = emu.phone_ids_of(SERVER_ID);
    run(async {
        let c = client(&emu, Credentials::Token(emu::AUTH_TOKEN.into()));
        let resp = c.set_phones_traffic("routing", &phones[..2]).await.unwrap();
        assert_eq!(resp.jobs.len(), 2);
        let jobs = poll_jobs(&c, &resp.request_id, resp.jobs.len()).await;
        assert_eq!(jobs.len(), 2);
        assert!(
            jobs.iter()
                .all(|j| j.status == 2 && j.server_id == SERVER_ID),
            "{jobs:?}"
        );
        assert_eq!(
            c.show_phone(&phones[0]).await.unwrap().traffic_type,
            "routing"
        );

        let err = c.show_server("nope").await.unwrap_err();
        assert!(err.is_not_found(), "{err}");
    });
}

#[test]
fn flavor_change_completes_and_a_second_is_refused_meanwhile() {
    let emu = Emulator::start(&["--order-seconds", "1"]);
    run(async {
        let c = client(&emu, Credentials::Token(emu::AUTH_TOKEN.into()));
        let req = ChangeServerModelRequest {
            server_id: SERVER_ID.into(),
            server_model_name: SPECIAL_FLAVOR.0.into(),
            phone_model_name: SPECIAL_FLAVOR.1.into(),
            extend_param: Some(ExtendParam {
                is_auto_pay: Some(1),
            }),
        };
        let order = c.change_server_model(&req).await.unwrap();
        assert!(order.order_id.starts_with("CS"));
        let again = c.change_server_model(&req).await.unwrap_err();
        assert!(again.is_order_in_progress(), "{again}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let follow = Follow {
            server_id: SERVER_ID,
            server_model_name: SPECIAL_FLAVOR.0,
            phone_model_name: SPECIAL_FLAVOR.1,
            order_id: Some(&order.order_id),
            auto_pay: true,
            deadline,
        };
        let mut warnings = Vec::new();
        let server = OrderTracker::default()
            .follow(&c, &follow, &CancellationToken::new(), &mut warnings)
            .await
            .unwrap();
        assert_eq!(server.phone_model_name, SPECIAL_FLAVOR.1);
    });
}

/// A configuration with region and keys only, as most users have: the
/// project and the account are looked up at IAM, each once.
fn lookup_config(emu: &Emulator, region: &str, credentials: Credentials) -> ClientConfig {
    let mut cfg = ClientConfig::new(emu.url.clone(), region, "", credentials);
    cfg.iam_endpoint = format!("{}/v3", emu.url);
    cfg.bss_endpoint = emu.url.clone();
    cfg
}

#[test]
fn connect_finds_the_project_and_the_account_once() {
    let emu = Emulator::start(&[]);
    for (name, creds) in all_credentials(&emu) {
        emu.reset_calls();
        run(async {
            let c = Client::connect(lookup_config(&emu, REGION, creds), None)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(c.config().project_id, PROJECT_ID, "{name}");
            c.show_server(SERVER_ID).await.expect(name);
            for _ in 0..3 {
                // BSS signed for the account (found at the first call).
                let err = c.show_order("CS-NONE").await.unwrap_err();
                assert!(
                    err.code().is_some_and(|c| c.starts_with("CBC.")),
                    "{name}: {err}"
                );
            }
        });
        let calls = emu.calls();
        assert_eq!(calls["iam_projects"], 1, "{name}");
        let domains = if name == "aksk" { 1 } else { 0 };
        assert_eq!(
            calls["iam_domains"], domains,
            "{name}: tokens carry the account"
        );
    }
}

#[test]
fn an_unknown_region_has_no_project_and_nothing_else_is_sent() {
    let emu = Emulator::start(&[]);
    let creds = Credentials::AkSk {
        access_key: emu::ACCESS_KEY.into(),
        secret_key: emu::SECRET_KEY.into(),
        security_token: None,
    };
    let cfg = lookup_config(&emu, "xx-nowhere-1", creds);
    let err = run(async { Client::connect(cfg, None).await.unwrap_err() });
    let text = err.to_string();
    assert!(text.contains("no project named \"xx-nowhere-1\""), "{text}");
    let sent: u64 = emu.calls().values().sum();
    assert_eq!(sent, 1, "only the look-up");
}

fn agency_config(emu: &Emulator, agency: &str) -> ClientConfig {
    let creds = Credentials::AkSk {
        access_key: emu::ACCESS_KEY.into(),
        secret_key: emu::SECRET_KEY.into(),
        security_token: None,
    };
    let mut cfg = lookup_config(emu, REGION, creds);
    cfg.assume_role = Some(AssumeRole {
        agency_name: agency.into(),
        domain: AgencyDomain::Name(emu::DOMAIN_NAME.into()),
        duration_seconds: Some(900),
    });
    cfg
}

#[test]
fn an_agency_is_assumed_and_its_expiring_keys_renewed() {
    // Temporary keys that live 2 s: renewed after 1 s.
    let emu = Emulator::start(&["--agency-seconds", "2"]);
    let cfg = agency_config(&emu, "cph-agency");
    let fetches = run(async {
        let c = Client::connect(cfg, None).await.expect("agency assumed");
        assert_eq!(c.config().project_id, PROJECT_ID);
        let until = Instant::now() + Duration::from_millis(3500);
        while Instant::now() < until {
            c.show_server(SERVER_ID)
                .await
                .expect("signed by the agency");
            let err = c.show_order("CS-NONE").await.unwrap_err();
            assert!(err.code().is_some_and(|c| c.starts_with("CBC.")), "{err}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        c.agency_key_fetches()
    });
    let calls = emu.calls();
    assert!(fetches >= 3, "renewed before expiry: {fetches}");
    assert_eq!(calls["iam_securitytokens"], fetches);
    assert_eq!(calls["iam_projects"], 1);
    assert_eq!(calls["iam_domains"], 1);
}

#[test]
fn an_agency_refusal_is_one_error_before_anything_else() {
    let emu = Emulator::start(&[]);
    let cfg = agency_config(&emu, "nobody");
    let err = run(async { Client::connect(cfg, None).await.unwrap_err() });
    assert!(
        err.to_string().contains("cannot assume agency \"nobody\""),
        "{err}"
    );
    let calls = emu.calls();
    let sent: u64 = calls.values().sum();
    assert_eq!(sent, calls["iam_securitytokens"], "{calls:?}");
}

#[test]
fn an_international_account_is_told_apart_once_and_uses_its_bss() {
    for international in [true, false] {
        let flag: &[&str] = if international {
            &["--international"]
        } else {
            &[]
        };
        let emu = Emulator::start(flag);
        let mut cfg = ClientConfig::new(
            emu.url.clone(),
            REGION,
            PROJECT_ID,
            Credentials::Token(emu::AUTH_TOKEN.into()),
        );
        cfg.bss_endpoint = emu.url.clone();
        let mut unprobed = cfg.clone();
        cfg.bss_international_endpoint = Some(format!("{}/intl", emu.url));
        run(async {
            let c = Client::new(cfg).expect("client");
            for _ in 0..3 {
                let err = c.show_order("CS-NONE").await.unwrap_err();
                assert_eq!(err.code(), Some("CBC.30000010"), "{international}: {err}");
            }
            if international {
                // Without the probe, the Chinese endpoint refuses.
                unprobed.bss_international_endpoint = None;
                let c = Client::new(unprobed).expect("client");
                let err = c.show_order("CS-NONE").await.unwrap_err();
                assert_eq!(err.code(), Some("CBC.0150"), "{err}");
            }
        });
        assert_eq!(
            emu.calls()["bss_service_types"],
            1,
            "{international}: probed once"
        );
    }
}

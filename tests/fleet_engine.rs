//! The fleet engine against the real emulator process (no terraform): merged
//! route changes, one poller for many request ids, handover between owners,
//! one job per phone at a time, and jobs recorded as running. Always runs.

mod emu;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use emu::{Emulator, PROJECT_ID, REGION};
use terraform_provider_cph::cph::{Client, ClientConfig, Credentials};
use terraform_provider_cph::fleet::{Change, Fleet, RunningJob};
use tokio_util::sync::CancellationToken;

fn change(owner: &str, route: &str, phones: &[String], release: bool) -> Change {
    Change {
        owner: owner.into(),
        route: route.into(),
        phones: phones.to_vec(),
        release,
        ..Default::default()
    }
}

fn far() -> Instant {
    Instant::now() + Duration::from_secs(60)
}

fn calls(emu: &Emulator, endpoint: &str) -> u64 {
    emu.calls().get(endpoint).copied().unwrap_or(0)
}

#[test]
fn concurrent_changes_are_merged_into_one_call_and_polled_together() {
    let emu = Emulator::start(&["--servers", "1", "--phones-per-server", "100"]);
    let phones = emu::all_phones(&emu);
    assert_eq!(phones.len(), 100);
    let c = emu::token_client(&emu);
    emu.reset_calls();
    let fleet = Arc::new(Fleet::default());
    let outcomes = emu::run(async {
        let mut tasks = Vec::new();
        for (i, chunk) in phones.chunks(10).enumerate() {
            let fleet = fleet.clone();
            let c = c.clone();
            let ch = change(&format!("o{i}"), "routing", chunk, false);
            tasks.push(tokio::spawn(async move {
                fleet.change(&c, ch, far(), &CancellationToken::new()).await
            }));
        }
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.expect("task"));
        }
        out
    });
    for o in &outcomes {
        assert_eq!(o.outcome.jobs.len(), 10);
        assert!(o.outcome.failure_report("routing", "").is_none());
        assert!(o.running.is_empty());
    }
    assert_eq!(calls(&emu, "phones_traffic"), 1, "{:?}", emu.calls());
    assert!(calls(&emu, "list_jobs") <= 3, "{:?}", emu.calls());
    for p in &phones {
        assert_eq!(emu.route_of(p), "routing");
    }
}

#[test]
fn one_poller_reads_many_request_ids_with_few_calls() {
    // 500 phones in 25 changes of 20: 5 calls of 100, read by probing the
    // newest request id, then the others in parallel.
    let emu = Emulator::start(&["--servers", "5", "--phones-per-server", "100"]);
    let phones = emu::all_phones(&emu);
    let c = emu::token_client(&emu);
    emu.reset_calls();
    let fleet = Arc::new(Fleet::default());
    emu::run(async {
        let mut tasks = Vec::new();
        for (i, chunk) in phones.chunks(20).enumerate() {
            let (fleet, c) = (fleet.clone(), c.clone());
            let ch = change(&format!("o{i}"), "routing", chunk, false);
            tasks.push(tokio::spawn(async move {
                fleet.change(&c, ch, far(), &CancellationToken::new()).await
            }));
        }
        for t in tasks {
            let o = t.await.expect("task");
            assert!(o.outcome.failure_report("routing", "").is_none());
        }
    });
    assert_eq!(calls(&emu, "phones_traffic"), 5, "{:?}", emu.calls());
    // One probe (one page) per round, then the four other request ids.
    assert!(calls(&emu, "list_jobs") <= 3 + 4, "{:?}", emu.calls());
    assert_eq!(
        phones
            .iter()
            .filter(|p| emu.route_of(p) == "routing")
            .count(),
        500
    );
}

#[test]
fn a_release_of_a_phone_another_owner_claims_sends_nothing_for_it() {
    let emu = Emulator::start(&[]);
    let phones = emu::all_phones(&emu);
    let c = emu::token_client(&emu);
    let fleet = Arc::new(Fleet::default());
    let (moved, kept) = (phones[0].clone(), phones[1].clone());
    emu::run(async {
        // a holds both phones on routing.
        let both: BTreeSet<String> = [moved.clone(), kept.clone()].into();
        fleet.hold("a", Some("route-a"), &both, "routing");
        fleet
            .change(
                &c,
                change("a", "routing", &[moved.clone(), kept.clone()], false),
                far(),
                &CancellationToken::new(),
            )
            .await;
        // (The engine's tasks live in this runtime: stay in it.)
        tokio::task::block_in_place(|| emu.reset_calls());
        // One apply: a lets `moved` go (and b claims it), in the same window.
        fleet.hold("a", Some("route-a"), &[kept.clone()].into(), "routing");
        fleet.hold("b", None, &[moved.clone()].into(), "routing");
        let never = CancellationToken::new();
        let (ra, rb) = tokio::join!(
            fleet.change(
                &c,
                change("a", "direct", std::slice::from_ref(&moved), true),
                far(),
                &never
            ),
            fleet.change(
                &c,
                change("b", "routing", std::slice::from_ref(&moved), false),
                far(),
                &never
            ),
        );
        assert!(ra.outcome.failure_report("direct", "").is_none());
        assert!(rb.outcome.failure_report("routing", "").is_none());
    });
    assert_eq!(emu.route_of(&moved), "routing");
    assert_eq!(emu.route_of(&kept), "routing");
    assert_eq!(
        calls(&emu, "phones_traffic"),
        1,
        "only b's call: {:?}",
        emu.calls()
    );
}

#[test]
fn a_claim_after_a_release_is_sent_once_the_release_job_ended() {
    let emu = Emulator::start(&["--job-seconds", "0.5"]);
    let phones = emu::all_phones(&emu);
    let c = emu::token_client(&emu);
    let fleet = Arc::new(Fleet::default());
    let p = phones[0].clone();
    emu.set_phone_route(&p, "routing");
    emu::run(async {
        // a releases p with nobody claiming it: direct is sent.
        let release = {
            let (fleet, c, p) = (fleet.clone(), c.clone(), p.clone());
            tokio::spawn(async move {
                fleet
                    .change(
                        &c,
                        change("a", "direct", &[p], true),
                        far(),
                        &CancellationToken::new(),
                    )
                    .await
            })
        };
        // b claims p while the direct job runs: routing waits for it.
        tokio::time::sleep(Duration::from_millis(200)).await;
        fleet.hold("b", None, &[p.clone()].into(), "routing");
        let claimed = fleet
            .change(
                &c,
                change("b", "routing", std::slice::from_ref(&p), false),
                far(),
                &CancellationToken::new(),
            )
            .await;
        assert!(claimed.outcome.failure_report("routing", "").is_none());
        release.await.expect("task");
    });
    assert_eq!(emu.route_of(&p), "routing");
    assert_eq!(calls(&emu, "phones_traffic"), 2);
}

#[test]
fn a_second_change_to_the_same_route_joins_the_job_in_flight() {
    let emu = Emulator::start(&["--job-seconds", "0.5"]);
    let phones = emu::all_phones(&emu);
    let c = emu::token_client(&emu);
    let fleet = Arc::new(Fleet::default());
    emu.reset_calls();
    emu::run(async {
        let first = {
            let (fleet, c, ph) = (fleet.clone(), c.clone(), phones.clone());
            tokio::spawn(async move {
                fleet
                    .change(
                        &c,
                        change("a", "routing", &ph, false),
                        far(),
                        &CancellationToken::new(),
                    )
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(250)).await;
        let second = fleet
            .change(
                &c,
                change("b", "routing", &phones[..2], false),
                far(),
                &CancellationToken::new(),
            )
            .await;
        assert!(second.outcome.failure_report("routing", "").is_none());
        assert!(second.outcome.jobs.iter().all(|j| j.job_id.is_some()));
        first.await.expect("task");
    });
    assert_eq!(calls(&emu, "phones_traffic"), 1, "{:?}", emu.calls());
}

#[test]
fn jobs_recorded_as_running_are_waited_for_not_sent_again() {
    let emu = Emulator::start(&["--job-seconds", "1"]);
    let phones = emu::all_phones(&emu);
    let c = emu::token_client(&emu);
    emu.reset_calls();
    let (cut_short, running) = emu::run(async {
        // The first apply ends (Ctrl-C) while the jobs run.
        let fleet = Fleet::default();
        let stop = CancellationToken::new();
        let stopper = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            stopper.cancel();
        });
        let o = fleet
            .change(&c, change("a", "routing", &phones, false), far(), &stop)
            .await;
        (o.outcome.wait_error.is_some(), o.running)
    });
    assert!(cut_short);
    assert_eq!(running.len(), phones.len());
    assert_eq!(calls(&emu, "phones_traffic"), 1);
    let recorded: Vec<RunningJob> = running;
    let outcome = emu::run(async {
        // The next apply, in a new provider process.
        let fleet = Fleet::default();
        let mut ch = change("a", "routing", &[], false);
        ch.running = recorded;
        fleet.change(&c, ch, far(), &CancellationToken::new()).await
    });
    assert!(outcome.outcome.failure_report("routing", "").is_none());
    assert_eq!(outcome.outcome.jobs.len(), phones.len());
    assert_eq!(calls(&emu, "phones_traffic"), 1, "{:?}", emu.calls());
    for p in &phones {
        assert_eq!(emu.route_of(p), "routing");
    }
}

#[test]
fn failed_phones_are_named_and_the_rest_succeed() {
    let emu = Emulator::start(&[]);
    let phones = emu::all_phones(&emu);
    emu.fail_jobs_for(&[phones[0].as_str()]);
    let c = emu::token_client(&emu);
    let o = emu::run(async {
        Fleet::default()
            .change(
                &c,
                change("a", "routing", &phones, false),
                far(),
                &CancellationToken::new(),
            )
            .await
    });
    let report = o.outcome.failure_report("routing", "").expect("a failure");
    assert!(report.contains(&phones[0]), "{report}");
    assert_eq!(o.outcome.succeeded().len(), phones.len() - 1);
}

fn traffic_by_phone(emu: &Emulator) -> std::collections::BTreeMap<String, u64> {
    serde_json::from_value(emu.admin_calls()["traffic_by_phone"].clone()).unwrap_or_default()
}

#[test]
fn a_stop_while_an_answer_is_held_waits_for_it_and_reports_every_phone_sent_as_running() {
    let emu = Emulator::start(&[
        "--servers",
        "1",
        "--phones-per-server",
        "10",
        "--job-seconds",
        "5",
    ]);
    let phones = emu::all_phones(&emu);
    let stop = CancellationToken::new();
    let c = emu::token_client(&emu).with_cancellation(stop.clone());
    emu.add_fault(serde_json::json!({
        "endpoint": "phones_traffic", "kind": "hold_answer", "latency_ms": 1000
    }));
    let fleet = Arc::new(Fleet::default());
    let outcome = emu::run(async {
        let task = {
            let (fleet, c, stop) = (fleet.clone(), c.clone(), stop.clone());
            let ch = change("o", "routing", &phones, false);
            tokio::spawn(async move { fleet.change(&c, ch, far(), &stop).await })
        };
        while tokio::task::block_in_place(|| emu_holding(&emu)) == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        stop.cancel();
        task.await.expect("task")
    });
    assert_eq!(traffic_by_phone(&emu).len(), 10);
    assert!(
        matches!(
            outcome.outcome.wait_error,
            Some(terraform_provider_cph::fleet::WaitEnded::Stopped)
        ),
        "{:?}",
        outcome.outcome.wait_error
    );
    let running: BTreeSet<&str> = outcome
        .running
        .iter()
        .map(|r| r.phone_id.as_str())
        .collect();
    assert_eq!(running.len(), 10, "{outcome:?}");
    assert!(outcome.running.iter().all(|r| !r.request_id.is_empty()));
}

fn emu_holding(emu: &Emulator) -> u64 {
    emu.admin_calls()["held_answers"]["holding"]
        .as_u64()
        .unwrap_or(0)
}

#[test]
fn a_stop_before_the_batch_is_sent_sends_nothing() {
    let emu = Emulator::start(&["--servers", "1", "--phones-per-server", "10"]);
    let phones = emu::all_phones(&emu);
    let stop = CancellationToken::new();
    stop.cancel();
    let c = emu::token_client(&emu).with_cancellation(stop.clone());
    let fleet = Fleet::default();
    let outcome = emu::run(async {
        let o = fleet
            .change(&c, change("o", "routing", &phones, false), far(), &stop)
            .await;
        // Past the longest window: a withdrawn batch is never flushed.
        tokio::time::sleep(Duration::from_millis(300)).await;
        o
    });
    assert_eq!(calls(&emu, "phones_traffic"), 0, "{:?}", emu.calls());
    assert!(outcome.running.is_empty(), "{outcome:?}");
    assert_eq!(outcome.outcome.succeeded().len(), 0);
    assert_eq!(outcome.outcome.jobs.len(), 10);
}

#[test]
fn refused_credentials_cost_one_call_and_stop_the_engine() {
    let emu = Emulator::start(&["--servers", "3", "--phones-per-server", "100"]);
    let phones = emu::all_phones(&emu);
    let c = Client::new(ClientConfig::new(
        emu.url.clone(),
        REGION,
        PROJECT_ID,
        Credentials::Token("not-the-token".into()),
    ))
    .expect("client");
    emu.reset_calls();
    let fleet = Fleet::default();
    let (first, second) = emu::run(async {
        let first = fleet
            .change(
                &c,
                change("a", "routing", &phones, false),
                far(),
                &CancellationToken::new(),
            )
            .await;
        let second = fleet
            .change(
                &c,
                change("b", "direct", &phones[..5], false),
                far(),
                &CancellationToken::new(),
            )
            .await;
        (first, second)
    });
    assert_eq!(calls(&emu, "phones_traffic"), 1, "{:?}", emu.calls());
    let why = first.outcome.refused.expect("refused");
    assert!(why.contains("refused the credentials"), "{why}");
    assert!(second.outcome.refused.is_some());
    assert_eq!(first.outcome.jobs.len(), 300);
}

#[test]
fn a_stop_with_no_answer_in_time_counts_the_call_as_done() {
    // The answer is held past the 10 s the client waits after a stop.
    let emu = Emulator::start(&["--servers", "1", "--phones-per-server", "10"]);
    let phones = emu::all_phones(&emu);
    let stop = CancellationToken::new();
    let c = emu::token_client(&emu).with_cancellation(stop.clone());
    emu.add_fault(serde_json::json!({
        "endpoint": "phones_traffic", "kind": "hold_answer", "latency_ms": 20000
    }));
    let fleet = Arc::new(Fleet::default());
    let outcome = emu::run(async {
        let task = {
            let (fleet, c, stop) = (fleet.clone(), c.clone(), stop.clone());
            let ch = change("o", "routing", &phones, false);
            tokio::spawn(async move { fleet.change(&c, ch, far(), &stop).await })
        };
        while tokio::task::block_in_place(|| emu_holding(&emu)) == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        stop.cancel();
        task.await.expect("task")
    });
    // Every phone is reported running, with no request id to follow (the
    // next apply sends them again; a destroy returns them).
    assert_eq!(outcome.running.len(), 10, "{outcome:?}");
    assert!(outcome.running.iter().all(|r| r.request_id.is_empty()));
    let report = outcome
        .outcome
        .failure_report("routing", "")
        .expect("report");
    assert!(report.contains("may have taken effect"), "{report}");
}

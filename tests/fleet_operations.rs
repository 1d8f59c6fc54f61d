//! The fleet engine's batch operations against the real emulator process (no
//! terraform): merged calls of 100, jobs followed to the end, failures with
//! their codes, and Ctrl-C: targets not yet sent are not sent, a call on its
//! way is waited for. Always runs.

mod emu;

use std::time::Duration;

use emu::Emulator;
use serde_json::json;
use terraform_provider_cph::fleet::operations::{
    AsyncProgress, Counts, OpKind, Operations, Target,
};
use tokio_util::sync::CancellationToken;

fn calls(emu: &Emulator, endpoint: &str) -> u64 {
    emu.calls().get(endpoint).copied().unwrap_or(0)
}

/// Keeps every count reported.
#[derive(Default)]
struct Seen(Vec<Counts>);

impl AsyncProgress for &mut Seen {
    async fn report(&mut self, c: &Counts) {
        self.0.push(c.clone());
    }
}

fn targets(ids: &[String]) -> Vec<Target> {
    ids.iter().map(|i| Target::id(i)).collect()
}

#[test]
fn two_invocations_at_once_share_calls_and_each_hears_of_its_own() {
    let emu = Emulator::start(&["--servers", "3", "--phones-per-server", "50"]);
    let all = emu::all_phones(&emu);
    let bad = all[10].clone();
    emu.fail_jobs_for(&[&bad]);
    let c = emu::token_client(&emu);
    let ops = Operations::new();
    emu.reset_calls();
    let (a, b) = emu::run(async {
        let never = CancellationToken::new();
        let (mut sa, mut sb) = (Seen::default(), Seen::default());
        let first = ops.run(
            &c,
            OpKind::RestartPhones,
            None,
            targets(&all[..80]),
            &never,
            &mut sa,
        );
        let second = ops.run(
            &c,
            OpKind::RestartPhones,
            None,
            targets(&all[60..]),
            &never,
            &mut sb,
        );
        let (a, b) = tokio::join!(first, second);
        assert_eq!(sa.0.last().map(|c| c.total), Some(80));
        (a, b)
    });
    // 150 distinct phones: 2 calls, not 3 (80 + 90 asked, 20 shared).
    assert_eq!(calls(&emu, "restart_phones"), 2);
    assert_eq!(a.succeeded.len(), 79);
    assert_eq!(a.failed.len(), 1);
    assert_eq!(a.failed[0].id, bad);
    assert_eq!(a.failed[0].code.as_deref(), Some("CPS.0020"));
    assert_eq!(b.succeeded.len(), 90);
    assert!(b.failed.is_empty());
}

#[test]
fn a_cancel_sends_nothing_more_and_waits_for_a_call_on_its_way() {
    let emu = Emulator::start(&["--servers", "1", "--phones-per-server", "5"]);
    let all = emu::all_phones(&emu);
    emu.add_fault(json!({"endpoint": "stop_phones", "kind": "latency", "latency_ms": 1500}));
    let c = emu::token_client(&emu);
    let ops = Operations::new();
    emu.reset_calls();
    let outcome = emu::run(async {
        let cancel = CancellationToken::new();
        let c = c.with_cancellation(cancel.clone());
        let stop = cancel.clone();
        tokio::spawn(async move {
            // The window has closed and the call is on its way.
            tokio::time::sleep(Duration::from_millis(500)).await;
            stop.cancel();
        });
        let mut seen = Seen::default();
        ops.run(
            &c,
            OpKind::StopPhones,
            None,
            targets(&all),
            &cancel,
            &mut seen,
        )
        .await
    });
    assert_eq!(calls(&emu, "stop_phones"), 1);
    // The call landed: its jobs were started and are reported as unfinished,
    // not as failed or never sent.
    assert_eq!(outcome.unfinished.len(), 5, "{outcome:?}");
    assert!(outcome.not_sent.is_empty());

    // Cancelled before the window closed: nothing is sent.
    emu.reset_calls();
    let outcome = emu::run(async {
        let cancel = CancellationToken::new();
        cancel.cancel();
        let mut seen = Seen::default();
        ops.run(
            &c,
            OpKind::RestartPhones,
            None,
            targets(&all),
            &cancel,
            &mut seen,
        )
        .await
    });
    tokio_free_sleep(Duration::from_millis(300));
    assert_eq!(calls(&emu, "restart_phones"), 0);
    assert_eq!(outcome.not_sent.len(), 5);
}

fn tokio_free_sleep(d: Duration) {
    std::thread::sleep(d);
}

//! What the fleet engine assumes about the order in which Terraform calls
//! the provider, for claims, handover, recorded jobs and actions (the
//! flavor orders' assumptions, T1 to T7, are in
//! [`flavor_orders`](super::flavor_orders)). The engine keeps state across
//! calls in a protocol made for stateless providers; each assumption below
//! says what the engine relies on, what happens when Terraform breaks it,
//! and is held by a test in this module.
//!
//! - **C1. Plans of one walk arrive together.** Terraform plans the
//!   instances of a walk concurrently (`-parallelism`, 10 by default), so a
//!   plan that waits [`QUIET_BEFORE_OVERLAP_CHECK`](super::claims::QUIET_BEFORE_OVERLAP_CHECK)
//!   after the last claim registered (at most
//!   [`MAX_OVERLAP_WAIT`](super::claims::MAX_OVERLAP_WAIT)) has seen every
//!   rival's claim. Broken (a rival planned later): the overlap is not seen
//!   at plan; the apply still never sends a phone to two routes at once
//!   (C3).
//! - **C2. An owner is its token, not its phones.** A plan may run more
//!   than once for the same instance in one process (`terraform test`, plan
//!   then apply in one `terraform apply`, `terraform console`): the token
//!   from private state names the same owner each time, and registering it
//!   again replaces its claim, so an instance is never its own rival.
//! - **C3. Handover happens in one apply walk.** When one instance releases
//!   phones another claims, both applies come in the same walk; the claimer
//!   holds its phones ([`Fleet::hold`](super::Fleet::hold)) before anything
//!   is sent, and a release sends `direct` only for phones no other owner
//!   claims. A release that says the route its phones are on lets a claim
//!   to that same route send nothing (in the same window, or later in the
//!   process). Broken (the claimer applies in a later process): the phones
//!   go to `direct` and the claimer's apply sends them back.
//! - **C4. An announced apply follows its plan in the same process, soon.**
//!   A plan announces its change ([`Batcher::expect`](super::batcher::Batcher::expect))
//!   so that the apply's window waits for the others; an announcement is
//!   forgotten after 2 s without its apply (a plan-only process, or an
//!   apply that failed before): a window never waits for an apply that will
//!   not come. An unannounced change (a destroy, or an apply in a process
//!   of its own) closes its window after a short quiet.
//! - **C5. Recorded jobs come back through private state.** Jobs an
//!   interrupted apply left running are recorded with their request ids in
//!   the state it returned; the next apply (any process) gets them back and
//!   follows those ids instead of sending again. A request id the API no
//!   longer lists is given up after a few looks and its phones sent again.
//! - **C6. After StopProvider nothing streams.** Terraform may call
//!   StopProvider at any moment of an InvokeAction and then stops reading
//!   the stream: an action sends no progress after it, only its completion,
//!   which names the targets never sent and those whose jobs may still
//!   finish.

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeSet;
    use std::sync::Arc;

    use async_trait::async_trait;
    use tokio_util::sync::CancellationToken;

    use crate::cph::models::BatchJobsResponse;
    use crate::cph::{self, Client, ClientConfig, Credentials};
    use crate::fleet::claims::Claims;
    use crate::fleet::operations::{AsyncProgress, BatchCall, Counts, Target};
    use crate::fleet::{Change, Fleet, RunningJob, WaitEnded};

    fn set(ids: &[&str]) -> BTreeSet<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[tokio::test]
    async fn c1_a_plan_sees_the_rival_planned_in_the_same_walk() {
        let fleet = Fleet::default();
        let (mine, theirs) = (set(&["p1", "p2"]), set(&["p2"]));
        let (a, b) = tokio::join!(
            fleet.plan_claim("a", None, &mine, Some("routing"), false),
            async {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                fleet
                    .plan_claim("b", Some("B"), &theirs, Some("direct"), false)
                    .await
            },
        );
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!(a[0].phones, vec!["p2".to_string()]);
        assert_eq!(a[0].other_id.as_deref(), Some("B"));
        assert_eq!(b.len(), 1, "{b:?}");
    }

    #[test]
    fn c2_the_same_owner_planned_twice_is_not_its_own_rival() {
        let claims = Claims::default();
        claims.register("a", None, &set(&["p1", "p2"]), Some("routing"));
        claims.register("a", None, &set(&["p1", "p2", "p3"]), Some("routing"));
        assert!(claims.overlaps("a").is_empty());
        assert!(!claims.claimed_by_other("a", "p1"));
    }

    #[test]
    fn c3_a_release_of_a_phone_another_owner_holds_sends_nothing_for_it() {
        let fleet = Fleet::default();
        fleet.hold("b", None, &set(&["p1"]), "routing");
        assert!(fleet.claims().claimed_by_other("a", "p1"));
        assert!(!fleet.claims().claimed_by_other("a", "p2"));
        fleet.forget("b");
        assert!(!fleet.claims().claimed_by_other("a", "p1"));
    }

    #[tokio::test]
    async fn c3_a_move_between_two_resources_of_one_route_sends_nothing() {
        let far = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let stop = CancellationToken::new();
        let client = offline_client();
        let change = |owner: &str, route: &str, release: bool| Change {
            owner: owner.into(),
            route: route.into(),
            phones: vec!["p1".into()],
            release,
            from_route: release.then(|| "routing".to_string()),
            ..Default::default()
        };
        // Release first, then claim; and claim first, then release. Nothing
        // listens at the client's address: a phone sent would fail.
        for release_first in [true, false] {
            let fleet = Fleet::default();
            fleet.hold("b", None, &set(&["p1"]), "routing");
            let release = fleet.change(&client, change("a", "direct", true), far, &stop);
            let claim = fleet.change(&client, change("b", "routing", false), far, &stop);
            let (released, claimed) = if release_first {
                tokio::join!(release, claim)
            } else {
                let (c, r) = tokio::join!(claim, release);
                (r, c)
            };
            assert!(released.outcome.unsuccessful().is_empty(), "{released:?}");
            assert!(claimed.outcome.unsuccessful().is_empty(), "{claimed:?}");
        }
    }

    #[tokio::test]
    async fn c4_only_an_announced_apply_counts_as_announced() {
        let fleet = Fleet::default();
        fleet
            .plan_claim("a", None, &set(&["p1"]), Some("routing"), true)
            .await;
        assert!(fleet.batcher.arrived("a"), "announced by its plan");
        assert!(
            fleet.batcher.arrived("a"),
            "a claim and a release both count"
        );
        assert!(!fleet.batcher.arrived("b"), "a destroy is not announced");
    }

    #[tokio::test]
    async fn c5_a_recorded_job_is_followed_not_sent_again() {
        let fleet = Fleet::default();
        let stop = CancellationToken::new();
        let change = Change {
            owner: "a".into(),
            route: "routing".into(),
            running: vec![RunningJob {
                phone_id: "p1".into(),
                request_id: "r1".into(),
                job_id: Some("j1".into()),
            }],
            ..Default::default()
        };
        let later = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            later.cancel();
        });
        let far = std::time::Instant::now() + std::time::Duration::from_secs(60);
        // Sent again, the phone would fail (nothing listens there); followed,
        // it is still running under its recorded request id.
        let done = fleet.change(&offline_client(), change, far, &stop).await;
        assert_eq!(done.running.len(), 1, "{done:?}");
        assert_eq!(done.running[0].request_id, "r1");
        assert_eq!(done.outcome.wait_error, Some(WaitEnded::Stopped));
    }

    /// A call that must never be sent.
    struct NeverSent;

    #[async_trait]
    impl BatchCall for NeverSent {
        fn merge_key(&self) -> String {
            "never".into()
        }
        async fn send(&self, _: &Client, _: &[Target]) -> cph::Result<BatchJobsResponse> {
            panic!("sent after a stop")
        }
    }

    struct Silent(usize);

    impl AsyncProgress for &mut Silent {
        async fn report(&mut self, _: &Counts) {
            self.0 += 1;
        }
        async fn message(&mut self, _: &str, _: &str) {
            self.0 += 1;
        }
    }

    /// A client of an address where nothing listens: a call sent fails.
    pub(crate) fn offline_client() -> Client {
        let config = ClientConfig::new(
            "http://127.0.0.1:1",
            "r",
            "p",
            Credentials::Token("t".into()),
        );
        Client::new(config).expect("client")
    }

    #[tokio::test]
    async fn c6_after_a_stop_an_action_reports_nothing_and_names_what_it_never_sent() {
        let fleet = Fleet::default();
        let stop = CancellationToken::new();
        stop.cancel();
        let mut heard = Silent(0);
        let targets = vec![Target::id("p1"), Target::id("p2")];
        let outcome = fleet
            .operations()
            .run_call(
                &offline_client(),
                Arc::new(NeverSent),
                targets,
                &stop,
                &mut heard,
            )
            .await;
        // The window closes after the stop: nothing is sent.
        tokio::time::sleep(crate::fleet::operations::WINDOW * 2).await;
        assert_eq!(heard.0, 0, "no progress after a stop");
        assert_eq!(outcome.not_sent, vec!["p1".to_string(), "p2".to_string()]);
    }
}

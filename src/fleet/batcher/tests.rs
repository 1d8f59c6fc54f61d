//! The batcher's rules on an offline client, with a batch kind that answers
//! each call itself (its send is the cloud's answer; no HTTP is needed to
//! see what is sent when).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use super::*;
use crate::cph;
use crate::cph::models::{BatchJob, BatchJobsResponse, JOB_STATUS_SUCCEEDED, Job};
use crate::fleet::batch_call::{BatchCall, Window};
use crate::fleet::poller::JobSink;

/// Calls sent, each as (merge key, ids).
type Sent = Arc<Mutex<Vec<(String, Vec<String>)>>>;

/// A kind that starts one job per target, or is refused with 401.
struct Answering {
    key: String,
    lane: Option<&'static str>,
    refuse: bool,
    sent: Sent,
}

#[async_trait]
impl BatchCall for Answering {
    fn merge_key(&self) -> String {
        self.key.clone()
    }
    fn window(&self) -> Window {
        Window::fixed(Duration::from_millis(30))
    }
    fn lane(&self) -> Option<&'static str> {
        self.lane
    }
    async fn send(&self, _: &Client, targets: &[Target]) -> cph::Result<BatchJobsResponse> {
        let ids: Vec<String> = targets.iter().map(|t| t.id.clone()).collect();
        let n = {
            let mut sent = self.sent.lock().unwrap();
            sent.push((self.key.clone(), ids.clone()));
            sent.len()
        };
        if self.refuse {
            return Err(cph::Error::Api {
                status: 401,
                code: "APIGW.0301".into(),
                message: "incorrect IAM authentication information".into(),
                request_id: None,
            });
        }
        let jobs = ids.iter().map(|id| BatchJob {
            phone_id: id.clone(),
            job_id: Some(format!("{id}-{n}")),
            ..Default::default()
        });
        Ok(BatchJobsResponse {
            request_id: format!("r{n}"),
            jobs: jobs.collect(),
        })
    }
}

struct Bench {
    batcher: Arc<Batcher>,
    client: Client,
    sent: Sent,
}

impl Bench {
    fn new() -> Bench {
        Bench {
            batcher: Batcher::new(Arc::new(Claims::default()), Poller::shared()),
            client: crate::fleet::call_orders::tests::offline_client(),
            sent: Sent::default(),
        }
    }

    fn call(&self, key: &str, lane: Option<&'static str>, refuse: bool) -> Arc<dyn BatchCall> {
        Arc::new(Answering {
            key: key.into(),
            lane,
            refuse,
            sent: self.sent.clone(),
        })
    }

    fn submit(&self, call: &Arc<dyn BatchCall>, ids: &[&str]) -> Arc<Tracker> {
        let tracker = Arc::new(Tracker::new(ids.iter().map(|s| s.to_string())));
        let sub = Submission {
            owner: String::new(),
            call: call.clone(),
            targets: ids.iter().map(|i| Target::id(i)).collect(),
            release: false,
            from_key: None,
            running: Vec::new(),
            elsewhere: Vec::new(),
        };
        self.batcher.submit(&self.client, sub, &tracker);
        tracker
    }

    fn sent(&self) -> Vec<(String, Vec<String>)> {
        self.sent.lock().unwrap().clone()
    }

    /// The poller's report that the job of `id` in call `n` succeeded.
    fn job_ended(&self, id: &str, n: usize) {
        let job = Job {
            job_id: format!("{id}-{n}"),
            phone_id: id.into(),
            status: JOB_STATUS_SUCCEEDED,
            ..Default::default()
        };
        self.batcher.jobs_ended(vec![job], Vec::new());
    }
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(80)).await;
}

fn ids(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn submissions_of_one_call_merge_and_each_id_goes_once() {
    let b = Bench::new();
    let restart = b.call("restart", None, false);
    let (first, second) = (
        b.submit(&restart, &["p1", "p2"]),
        b.submit(&restart, &["p2", "p3"]),
    );
    b.submit(&b.call("stop", None, false), &["p1"]);
    settle().await;
    let mut sent = b.sent();
    sent.sort();
    let want = vec![
        ("restart".to_string(), ids(&["p1", "p2", "p3"])),
        ("stop".to_string(), ids(&["p1"])),
    ];
    assert_eq!(sent, want);
    b.job_ended("p2", 1);
    b.job_ended("p2", 2);
    let ended = |t: &Tracker| t.counts().succeeded;
    assert_eq!((ended(&first), ended(&second)), (1, 1), "p2 ends for both");
}

#[tokio::test]
async fn a_lane_keeps_one_job_per_target_joining_the_same_call_and_queueing_another() {
    let b = Bench::new();
    let (to_a, to_b) = (
        b.call("A", Some("route"), false),
        b.call("B", Some("route"), false),
    );
    let first = b.submit(&to_a, &["p1"]);
    settle().await;
    let joined = b.submit(&to_a, &["p1"]);
    let queued = b.submit(&to_b, &["p1"]);
    settle().await;
    assert_eq!(b.sent(), vec![("A".to_string(), ids(&["p1"]))]);
    assert!(
        matches!(&joined.lock().entries["p1"], Entry::Answered { request_id, .. } if request_id == "r1")
    );
    b.job_ended("p1", 1);
    assert!(first.is_done() && joined.is_done() && !queued.is_done());
    settle().await;
    assert_eq!(b.sent()[1], ("B".to_string(), ids(&["p1"])));
}

#[tokio::test]
async fn without_a_lane_a_target_in_flight_is_sent_again() {
    let b = Bench::new();
    let restart = b.call("restart", None, false);
    b.submit(&restart, &["p1"]);
    settle().await;
    b.submit(&restart, &["p1"]);
    settle().await;
    assert_eq!(b.sent().len(), 2);
}

#[tokio::test]
async fn refused_credentials_cost_one_call_and_stop_every_kind() {
    let b = Bench::new();
    let refused = b.call("A", Some("route"), true);
    let targets: Vec<String> = (0..250).map(|i| format!("p{i:03}")).collect();
    let refs: Vec<&str> = targets.iter().map(String::as_str).collect();
    let first = b.submit(&refused, &refs);
    let other_kind = b.submit(&b.call("B", None, true), &refs[..10]);
    settle().await;
    assert_eq!(
        b.sent().len(),
        1,
        "one call of any kind until one started a job"
    );
    assert!(other_kind.is_done());
    assert!(first.is_done());
    assert_eq!(first.counts().failed, 250);
    assert!(b.batcher.refusal().is_some());
    let later = b.submit(&b.call("stop", None, false), &["p1"]);
    assert!(later.is_done(), "failed at once");
    settle().await;
    assert_eq!(b.sent().len(), 1);
}

#[tokio::test]
async fn a_withdrawn_target_is_never_sent() {
    let b = Bench::new();
    let restart = b.call("restart", None, false);
    let t = b.submit(&restart, &["p1", "p2"]);
    b.batcher.withdraw(&t, "stopped");
    settle().await;
    assert!(b.sent().is_empty());
    let open: BTreeSet<String> = t.open_ids().into_iter().collect();
    assert!(open.is_empty());
    assert!(
        matches!(&t.lock().entries["p1"], Entry::Ended(e) if e.verdict == Verdict::NotSent("stopped".into()))
    );
}

#[tokio::test]
async fn a_target_taken_for_its_call_is_on_its_way_and_not_withdrawn() {
    let b = Bench::new();
    let t = b.submit(&b.call("restart", None, false), &["p1"]);
    let (ready, _) = b
        .batcher
        .take_ready(std::time::Instant::now() + Duration::from_secs(1));
    assert_eq!(ready.len(), 1);
    b.batcher.withdraw(&t, "stopped");
    assert_eq!(
        t.lock().entries["p1"],
        Entry::OnTheWay,
        "taken, so not never-sent"
    );
}

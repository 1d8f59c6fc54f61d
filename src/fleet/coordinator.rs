//! The route changes: what a route resource asks of the engine's
//! [batcher](super::batcher) ([`Change`]) and what it gets back
//! ([`ChangeOutcome`]). A route change is a submission of the
//! [`PhonesTraffic`] kind, whose lane keeps one route job per phone, whose
//! window closes once every announced change has arrived, and whose
//! releases hand phones over to claims; the batcher does the rest, as for
//! every kind. Here the route's words are kept: what a wait cut short means
//! for the phones, and one record per phone.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::batch_call::{PhonesTraffic, Target};
use super::batcher::{Batcher, Ended, Entry, Recorded, Submission, Tracker, Verdict};
use super::routing::{JobRecord, JobStatus, RouteOutcome};
use crate::cph::Client;

/// After a wait is cut short, the longest it waits for the calls on their
/// way that carry its phones (the client gives a route change already sent
/// 10 s after a stop); past it, their phones count as changed.
pub const IN_FLIGHT_WAIT: Duration = Duration::from_secs(15);

/// The default route, where released phones go (and where a phone route
/// that names none puts its phones).
pub const DEFAULT_ROUTE: &str = "direct";

/// A job an earlier apply recorded as running. An empty `request_id`: a
/// call that may have changed the phone, whose answer never came (nothing
/// to follow; the change is sent again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningJob {
    pub phone_id: String,
    pub request_id: String,
    pub job_id: Option<String>,
}

/// One resource's change.
#[derive(Debug, Clone, Default)]
pub struct Change {
    /// The owner token of the resource (see [`super::claims`]).
    pub owner: String,
    /// Target route of `phones`.
    pub route: String,
    pub phones: Vec<String>,
    /// `phones` are released: they go to `direct` unless another owner
    /// claims them (then nothing is sent for them).
    pub release: bool,
    /// Jobs already running towards `route` for some phones: waited for,
    /// not sent again.
    pub running: Vec<RunningJob>,
    /// Jobs an earlier apply left running towards another route (the
    /// route named with each) for some of `phones`: those phones are sent
    /// once these jobs have ended.
    pub elsewhere: Vec<(String, RunningJob)>,
    /// For a release: the route its phones are on, when the releaser knows
    /// it. A claim of such a phone to that same route in the same window
    /// needs no call: the phone is already there (a move between two
    /// resources of one route sends nothing).
    pub from_route: Option<String>,
}

/// What a resource gets back: the outcome, plus the request id of every job
/// still running when the wait ended (to record in private state).
#[derive(Debug, Default)]
pub struct ChangeOutcome {
    pub outcome: RouteOutcome,
    pub running: Vec<RunningJob>,
}

/// Sets the route of a change's phones through `batcher` and waits (until
/// `deadline` or `cancel`) for their jobs. Never fails as a whole: every
/// phone ends up succeeded, failed (with the API's code) or still running.
/// A wait cut short withdraws the phones not sent yet, then waits for the
/// calls on their way that carry its phones, so that every phone a call
/// may have changed is reported running, with its request id when the
/// answer came.
pub async fn change(
    batcher: &Batcher,
    client: &Client,
    change: Change,
    deadline: Instant,
    cancel: &CancellationToken,
) -> ChangeOutcome {
    let running = change.running.iter().map(|r| r.phone_id.clone());
    let tracker = Arc::new(Tracker::new(change.phones.iter().cloned().chain(running)));
    if tracker.is_done() {
        return ChangeOutcome::default();
    }
    batcher.submit(client, submission(change), &tracker);
    let wait_error = tracker.wait(deadline, cancel).await;
    if let Some(e) = &wait_error {
        batcher.withdraw(
            &tracker,
            &format!("not sent ({e}); the next apply sends it"),
        );
        tracker.settle(IN_FLIGHT_WAIT).await;
    }
    let mut done = outcome(&tracker);
    done.outcome.wait_error = wait_error;
    let failed_unsent = |j: &JobRecord| j.status == JobStatus::Failed && j.job_id.is_none();
    done.outcome.refused =
        (batcher.refusal()).filter(|_| done.outcome.jobs.iter().any(failed_unsent));
    done
}

/// A change as the batcher's submission.
fn submission(change: Change) -> Submission {
    let recorded = |r: &RunningJob| Recorded {
        target: r.phone_id.clone(),
        request_id: r.request_id.clone(),
        job_id: r.job_id.clone(),
    };
    let elsewhere = change.elsewhere.iter();
    Submission {
        call: PhonesTraffic::call(&change.route),
        targets: change.phones.iter().map(|p| Target::id(p)).collect(),
        release: change.release,
        from_key: (change.from_route.as_deref())
            .filter(|_| change.release)
            .map(|r| PhonesTraffic::call(r).merge_key()),
        running: change.running.iter().map(recorded).collect(),
        elsewhere: elsewhere
            .map(|(route, r)| (PhonesTraffic::call(route), recorded(r)))
            .collect(),
        owner: change.owner,
    }
}

/// One record per phone (sorted by phone id), and the phones still running
/// with the request id each was answered with (empty when none came).
fn outcome(tracker: &Tracker) -> ChangeOutcome {
    let mut done = ChangeOutcome::default();
    for (phone, entry) in &tracker.lock().entries {
        let (record, request_id) = record_of(phone, entry);
        if let Entry::Ended(Ended {
            server: Some(s), ..
        }) = entry
        {
            done.outcome.servers.insert(phone.clone(), s.clone());
        }
        if let Some(request_id) = request_id {
            done.running.push(RunningJob {
                phone_id: phone.clone(),
                request_id,
                job_id: record.job_id.clone(),
            });
        }
        done.outcome.jobs.push(record);
    }
    done
}

/// The record of one phone, and its request id when it is still running.
fn record_of(phone: &str, entry: &Entry) -> (JobRecord, Option<String>) {
    let record = |job_id: Option<String>, status, code: Option<String>, msg: Option<String>| {
        let some = |s: Option<String>| s.filter(|s| !s.is_empty());
        JobRecord {
            phone_id: phone.to_string(),
            job_id,
            status,
            error_code: some(code),
            error_msg: some(msg),
        }
    };
    let e = match entry {
        Entry::Ended(e) => e,
        Entry::Answered { request_id, job_id } => {
            let r = record(job_id.clone(), JobStatus::Running, None, None);
            return (r, Some(request_id.clone()));
        }
        Entry::Waiting | Entry::OnTheWay => {
            return (
                record(None, JobStatus::Running, None, None),
                Some(String::new()),
            );
        }
    };
    match &e.verdict {
        Verdict::Succeeded => (
            record(e.job_id.clone(), JobStatus::Succeeded, None, None),
            None,
        ),
        Verdict::Failed(f) => {
            let (code, msg) = (f.code.clone(), Some(f.message.clone()));
            (record(e.job_id.clone(), JobStatus::Failed, code, msg), None)
        }
        Verdict::NotSent(why) => (
            record(None, JobStatus::Failed, None, Some(why.clone())),
            None,
        ),
        Verdict::Unsettled(why) => {
            let r = record(None, JobStatus::Running, None, Some(why.clone()));
            (r, Some(String::new()))
        }
    }
}

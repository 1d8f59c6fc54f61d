//! The batcher of the fleet engine for calls that start one job per target
//! (restart, reset and stop of phones, restart of servers, and any kind a
//! resource or action declares as a [`BatchCall`]): every invocation of the
//! provider process goes through the one [`Operations`] of its
//! [`Fleet`](super::Fleet).
//!
//! A batch kind says only how to send one call of at most
//! [`BatchCall::max_ids`] ids and what an ended job means for its target;
//! everything else is here, written once:
//!
//! - **Merge.** Targets submitted within [`WINDOW`] of each other for calls
//!   with the same [merge key](BatchCall::merge_key) are sent together,
//!   `max_ids` to a call, each id once even when two invocations name it; a
//!   full batch goes at once.
//! - **Follow.** Each call's request id goes to the fleet's job
//!   [poller](super::poller) (shared with the route changes: few list-jobs
//!   reads however many targets); each job that ends resolves its target in
//!   every invocation that asked for it, and its `execute_msg` reaches the
//!   invocation's progress.
//! - **Interrupt.** On cancel, targets not yet sent are withdrawn, and a
//!   call the client had not sent yet (waiting for its turn at the rate
//!   limit) counts as never sent; a call already on its way is waited for
//!   (the client lets such a call finish), so that the caller can say what
//!   it may have started. Nothing is
//!   reported as progress once the cancel has come: only the outcome.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::batch_call::{Answer, failure, sort_answer};
pub use super::batch_call::{BatchCall, Failure, OpKind, Target};
use super::poller::{JobSink, Poller};
use crate::cph::models::{BatchJob, BatchJobsResponse, Job};
use crate::cph::{self, Client};

/// How long a submission waits for others to join its calls.
pub const WINDOW: Duration = Duration::from_millis(100);

/// Where an invocation stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub total: usize,
    pub succeeded: usize,
    pub failed: usize,
}

impl Counts {
    pub fn finished(&self) -> bool {
        self.succeeded + self.failed >= self.total
    }
}

/// What an invocation came to.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub succeeded: Vec<String>,
    pub failed: Vec<Failure>,
    /// Sent, not finished when the wait was cancelled (they may still end).
    pub unfinished: Vec<String>,
    /// Never sent (withdrawn on cancel).
    pub not_sent: Vec<String>,
    /// The `execute_msg` of each target's ended job that carried one.
    pub messages: BTreeMap<String, String>,
}

#[derive(Default)]
struct InvocationState {
    total: usize,
    ended: BTreeMap<String, Option<Failure>>,
    sent: BTreeSet<String>,
    calls_in_flight: usize,
    /// Job messages not yet shown as progress.
    unread: Vec<(String, String)>,
    messages: BTreeMap<String, String>,
}

/// One invocation's targets and what became of them.
#[derive(Default)]
struct Invocation {
    state: Mutex<InvocationState>,
    changed: Notify,
}

impl Invocation {
    fn lock(&self) -> std::sync::MutexGuard<'_, InvocationState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn counts(&self) -> Counts {
        let s = self.lock();
        let failed = s.ended.values().filter(|f| f.is_some()).count();
        Counts {
            total: s.total,
            succeeded: s.ended.len() - failed,
            failed,
        }
    }

    /// Waits until something changes (or `cancel`); the counts then, and
    /// whether the wait was cancelled.
    async fn changed(&self, cancel: &CancellationToken) -> (Counts, bool) {
        let notified = self.changed.notified();
        let now = self.counts();
        if now.finished() {
            return (now, false);
        }
        tokio::select! {
            _ = notified => (self.counts(), false),
            _ = cancel.cancelled() => (self.counts(), true),
        }
    }

    fn end(&self, id: &str, failure: Option<Failure>, message: Option<&str>) {
        let mut s = self.lock();
        if s.ended.contains_key(id) {
            return;
        }
        s.ended.insert(id.to_string(), failure);
        if let Some(m) = message.filter(|m| !m.is_empty()) {
            s.unread.push((id.to_string(), m.to_string()));
            s.messages.insert(id.to_string(), m.to_string());
        }
        drop(s);
        self.changed.notify_waiters();
    }

    fn take_unread(&self) -> Vec<(String, String)> {
        std::mem::take(&mut self.lock().unread)
    }

    /// The outcome; targets of `all` not ended are unfinished or not sent.
    fn outcome(&self, all: &[String]) -> Outcome {
        let s = self.lock();
        let mut out = Outcome {
            messages: s.messages.clone(),
            ..Default::default()
        };
        for id in all {
            match s.ended.get(id) {
                Some(None) => out.succeeded.push(id.clone()),
                Some(Some(f)) => out.failed.push(f.clone()),
                None if s.sent.contains(id) => out.unfinished.push(id.clone()),
                None => out.not_sent.push(id.clone()),
            }
        }
        out
    }
}

/// A target and the invocations that asked for it.
type Asked = (Target, Vec<Arc<Invocation>>);
type Waiting = Vec<Asked>;

/// Targets waiting for the window of one merge key to close.
struct Gathering {
    call: Arc<dyn BatchCall>,
    targets: BTreeMap<String, Asked>,
}

/// A job in flight: its target, its call, the invocations waiting for it.
struct InFlight {
    target: String,
    call: Arc<dyn BatchCall>,
    asked_by: Vec<Arc<Invocation>>,
}

#[derive(Default)]
struct Batches {
    client: Option<Client>,
    /// Targets waiting for their call, by merge key.
    pending: BTreeMap<String, Gathering>,
    /// Merge keys whose window is open.
    flushing: BTreeSet<String>,
    /// Job id -> the job in flight.
    jobs: HashMap<String, InFlight>,
    /// Request id -> its job ids still in flight.
    requests: HashMap<String, Vec<String>>,
}

/// See the module documentation.
pub struct Operations {
    me: Weak<Operations>,
    state: Mutex<Batches>,
    poller: Arc<Poller>,
}

impl Operations {
    /// Operations with a poller of their own (tests; the provider's are in
    /// its [`Fleet`](super::Fleet), sharing the fleet's poller).
    pub fn new() -> Arc<Operations> {
        Operations::with_poller(Poller::shared())
    }

    /// Operations whose jobs `poller` follows.
    pub fn with_poller(poller: Arc<Poller>) -> Arc<Operations> {
        Arc::new_cyclic(|me| Operations {
            me: me.clone(),
            state: Mutex::new(Batches::default()),
            poller,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Batches> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs a built-in `kind` on `targets`; see [`Operations::run_call`].
    pub async fn run(
        &self,
        client: &Client,
        kind: OpKind,
        image_id: Option<String>,
        targets: Vec<Target>,
        cancel: &CancellationToken,
        progress: impl AsyncProgress,
    ) -> Outcome {
        let call = kind.call(image_id);
        self.run_call(client, call, targets, cancel, progress).await
    }

    /// Runs `call` on `targets` (ids unique), waiting until every one has
    /// ended or `cancel`. `progress` hears the counts whenever they change,
    /// and each job's message, until `cancel`: never after.
    pub async fn run_call(
        &self,
        client: &Client,
        call: Arc<dyn BatchCall>,
        targets: Vec<Target>,
        cancel: &CancellationToken,
        mut progress: impl AsyncProgress,
    ) -> Outcome {
        let ids: Vec<String> = targets.iter().map(|t| t.id.clone()).collect();
        let inv = Arc::new(Invocation::default());
        inv.lock().total = ids.len();
        if ids.is_empty() {
            return Outcome::default();
        }
        let key = call.merge_key();
        self.submit(client, &key, &call, targets, &inv);
        let mut last = inv.counts();
        loop {
            let (counts, cancelled) = inv.changed(cancel).await;
            let stopped = cancelled || cancel.is_cancelled();
            if !stopped {
                for (id, message) in inv.take_unread() {
                    progress.message(&id, &message).await;
                }
                if counts != last {
                    progress.report(&counts).await;
                    last = counts.clone();
                }
            }
            if counts.finished() {
                break;
            }
            if stopped {
                self.withdraw(&key, &inv).await;
                break;
            }
        }
        inv.outcome(&ids)
    }

    fn submit(
        &self,
        client: &Client,
        key: &str,
        call: &Arc<dyn BatchCall>,
        targets: Vec<Target>,
        inv: &Arc<Invocation>,
    ) {
        let max = call.max_ids().max(1);
        let (open_window, full) = {
            let mut st = self.lock();
            st.client = Some(client.clone());
            let gathering = st
                .pending
                .entry(key.to_string())
                .or_insert_with(|| Gathering {
                    call: call.clone(),
                    targets: BTreeMap::new(),
                });
            for t in targets {
                let entry = gathering
                    .targets
                    .entry(t.id.clone())
                    .or_insert_with(|| (t.clone(), Vec::new()));
                entry.1.push(inv.clone());
            }
            let mut full = Vec::new();
            while gathering.targets.len() >= max {
                let ids: Vec<String> = gathering.targets.keys().take(max).cloned().collect();
                let batch: Waiting = ids
                    .iter()
                    .filter_map(|k| gathering.targets.remove(k))
                    .collect();
                full.push(batch);
            }
            (st.flushing.insert(key.to_string()), full)
        };
        for batch in full {
            self.send(client.clone(), call.clone(), batch);
        }
        if open_window && let Some(me) = self.me.upgrade() {
            let key = key.to_string();
            tokio::spawn(async move {
                tokio::time::sleep(WINDOW).await;
                me.flush(&key);
            });
        }
    }

    /// The window of `key` closes: what is pending goes, `max_ids` to a call.
    fn flush(&self, key: &str) {
        let (client, gathering) = {
            let mut st = self.lock();
            st.flushing.remove(key);
            (st.client.clone(), st.pending.remove(key))
        };
        let (Some(client), Some(gathering)) = (client, gathering) else {
            return;
        };
        let max = gathering.call.max_ids().max(1);
        let mut waiting: Waiting = gathering.targets.into_values().collect();
        while !waiting.is_empty() {
            let rest = waiting.split_off(waiting.len().min(max));
            self.send(client.clone(), gathering.call.clone(), waiting);
            waiting = rest;
        }
    }

    /// Sends one call on its own task (it outlives a cancelled waiter).
    fn send(&self, client: Client, call: Arc<dyn BatchCall>, batch: Waiting) {
        for (t, invocations) in &batch {
            for inv in invocations {
                let mut s = inv.lock();
                s.sent.insert(t.id.clone());
                s.calls_in_flight += 1;
            }
        }
        let Some(me) = self.me.upgrade() else { return };
        tokio::spawn(async move {
            let targets: Vec<Target> = batch.iter().map(|(t, _)| t.clone()).collect();
            let answer = call.send(&client, &targets).await;
            me.answered(&client, &call, batch, answer);
        });
    }

    fn answered(
        &self,
        client: &Client,
        call: &Arc<dyn BatchCall>,
        batch: Waiting,
        answer: cph::Result<BatchJobsResponse>,
    ) {
        let mut started = 0usize;
        let mut request_id = String::new();
        let mut ended: Vec<(String, Vec<Arc<Invocation>>, Failure)> = Vec::new();
        match answer {
            Ok(resp) => {
                request_id = resp.request_id.clone();
                let ids = batch.iter().map(|(t, _)| t.id.as_str());
                let sorted = sort_answer(ids, &resp);
                let mut st = self.lock();
                for ((t, invocations), (_, answer)) in batch.iter().zip(sorted) {
                    match answer {
                        Answer::Started(_, job_id) => {
                            let flight = InFlight {
                                target: t.id.clone(),
                                call: call.clone(),
                                asked_by: invocations.clone(),
                            };
                            st.jobs.insert(job_id.to_string(), flight);
                            st.requests
                                .entry(request_id.clone())
                                .or_default()
                                .push(job_id.to_string());
                            started += 1;
                        }
                        Answer::Refused(j) => {
                            ended.push((t.id.clone(), invocations.clone(), refused(j)))
                        }
                        Answer::Missing => ended.push((
                            t.id.clone(),
                            invocations.clone(),
                            failure(&t.id, None, "the answer reported no job for it".into()),
                        )),
                    }
                }
            }
            // Stopped before it was sent: its targets were never sent.
            Err(cph::Error::Cancelled) => {
                for (t, invocations) in &batch {
                    for inv in invocations {
                        inv.lock().sent.remove(&t.id);
                    }
                }
            }
            // Stopped with the call on its way: it may have started jobs,
            // with no request id to follow them by (unfinished).
            Err(cph::Error::Unsettled(_)) => {}
            Err(e) => {
                for (t, invocations) in &batch {
                    let f = failure(&t.id, e.code().map(str::to_string), e.to_string());
                    ended.push((t.id.clone(), invocations.clone(), f));
                }
            }
        }
        for (id, invocations, f) in ended {
            for inv in invocations {
                inv.end(&id, Some(f.clone()), None);
            }
        }
        for (_, invocations) in &batch {
            for inv in invocations {
                inv.lock().calls_in_flight -= 1;
                inv.changed.notify_waiters();
            }
        }
        if started > 0 {
            let sink: Weak<dyn JobSink> = self.me.clone();
            self.poller
                .follow_for(client, &request_id, started, false, sink);
        }
    }

    /// Takes back what `inv` has not sent yet, then waits for its calls on
    /// their way.
    async fn withdraw(&self, key: &str, inv: &Arc<Invocation>) {
        {
            let mut st = self.lock();
            if let Some(gathering) = st.pending.get_mut(key) {
                for (_, invocations) in gathering.targets.values_mut() {
                    invocations.retain(|t| !Arc::ptr_eq(t, inv));
                }
                gathering
                    .targets
                    .retain(|_, (_, invocations)| !invocations.is_empty());
            }
        }
        loop {
            let notified = inv.changed.notified();
            if inv.lock().calls_in_flight == 0 {
                return;
            }
            notified.await;
        }
    }
}

impl JobSink for Operations {
    /// The poller's report: jobs that ended, request ids that listed none.
    fn jobs_ended(&self, jobs: Vec<Job>, gone: Vec<String>) {
        type Ended = (InFlight, Option<Failure>, Option<String>);
        let mut ended: Vec<Ended> = Vec::new();
        {
            let mut st = self.lock();
            for job in jobs {
                let Some(flight) = st.jobs.get(&job.job_id) else {
                    continue;
                };
                let Some(verdict) = flight.call.judge(&flight.target, &job) else {
                    continue;
                };
                if let Some(flight) = st.jobs.remove(&job.job_id) {
                    ended.push((flight, verdict.err(), job.execute_msg.clone()));
                }
            }
            for rid in gone {
                for job_id in st.requests.remove(&rid).unwrap_or_default() {
                    if let Some(flight) = st.jobs.remove(&job_id) {
                        let why = format!("request {rid} lists no job");
                        let f = failure(&flight.target, None, why);
                        ended.push((flight, Some(f), None));
                    }
                }
            }
        }
        for (flight, f, message) in ended {
            for inv in &flight.asked_by {
                inv.end(&flight.target, f.clone(), message.as_deref());
            }
        }
    }
}

/// Something that hears how an invocation goes (an action's progress).
pub trait AsyncProgress: Send {
    /// The counts changed.
    fn report(&mut self, counts: &Counts) -> impl std::future::Future<Output = ()> + Send;

    /// The job of target `id` ended with `message` (its `execute_msg`).
    fn message(
        &mut self,
        _id: &str,
        _message: &str,
    ) -> impl std::future::Future<Output = ()> + Send {
        async {}
    }
}

fn refused(j: &BatchJob) -> Failure {
    failure(
        j.target(),
        j.error_code.clone(),
        j.error_msg
            .clone()
            .unwrap_or_else(|| "the call started no job for it".into()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invocation_counts_and_sorts_its_outcome() {
        let t = Invocation::default();
        t.lock().total = 3;
        t.lock().sent.extend(["a".to_string(), "b".to_string()]);
        t.end("a", None, Some("done"));
        t.end(
            "b",
            Some(failure("b", Some("CPS.0005".into()), "no".into())),
            None,
        );
        t.end("b", None, None);
        assert_eq!(
            t.counts(),
            Counts {
                total: 3,
                succeeded: 1,
                failed: 1
            }
        );
        let all = ["a", "b", "c"].map(String::from);
        let o = t.outcome(&all);
        assert_eq!(o.succeeded, vec!["a"]);
        assert_eq!(o.failed[0].code.as_deref(), Some("CPS.0005"));
        assert_eq!(o.not_sent, vec!["c"]);
        assert!(o.unfinished.is_empty());
        assert_eq!(o.messages.get("a").map(String::as_str), Some("done"));
        assert_eq!(t.take_unread(), vec![("a".to_string(), "done".to_string())]);
        assert!(t.take_unread().is_empty());
    }
}

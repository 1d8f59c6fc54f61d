//! Batch operations on phones and servers (restart, reset, stop; restart of
//! servers), for the actions: every invocation of the provider process goes
//! through one [`Operations`].
//!
//! - **Merge.** Targets submitted within [`WINDOW`] of each other for the
//!   same operation (and image) are sent together, 100 to a call, each id
//!   once even when two invocations name it; a full batch of 100 goes at
//!   once.
//! - **Follow.** Each call's request id goes to a job [poller](super::poller)
//!   (the same cohort rules as route jobs: few list-jobs reads however many
//!   phones); each job that ends resolves its target in every invocation
//!   that asked for it.
//! - **Interrupt.** On cancel, targets not yet sent are withdrawn; a call
//!   already on its way is waited for (the client lets such a call finish),
//!   so that the caller can say what it may have started.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::poller::Poller;
use crate::cph::models::{
    BatchJob, BatchJobsResponse, BatchPhone, BatchPhonesRequest, JOB_STATUS_FAILED,
    JOB_STATUS_SUCCEEDED, Job, MAX_IDS_PER_BATCH_CALL,
};
use crate::cph::{self, Client};

/// How long a submission waits for others to join its calls.
pub const WINDOW: Duration = Duration::from_millis(100);

/// The batch operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OpKind {
    RestartPhones,
    ResetPhones,
    StopPhones,
    RestartServers,
}

impl OpKind {
    /// What it acts on, plural ("phones").
    pub fn noun(self) -> &'static str {
        match self {
            OpKind::RestartServers => "servers",
            _ => "phones",
        }
    }

    /// What a target is once done ("restarted").
    pub fn done(self) -> &'static str {
        match self {
            OpKind::RestartPhones | OpKind::RestartServers => "restarted",
            OpKind::ResetPhones => "reset",
            OpKind::StopPhones => "stopped",
        }
    }
}

/// One phone or server to act on.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Target {
    pub id: String,
    /// Phone properties (restart and reset), a JSON string.
    pub property: Option<String>,
    /// Reset only.
    pub factory_reset: Option<bool>,
}

impl Target {
    pub fn id(id: &str) -> Target {
        Target {
            id: id.to_string(),
            ..Default::default()
        }
    }
}

/// A target that failed, with the API's code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub id: String,
    pub code: Option<String>,
    pub message: String,
}

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
}

#[derive(Default)]
struct TicketState {
    total: usize,
    ended: BTreeMap<String, Option<Failure>>,
    sent: BTreeSet<String>,
    calls_in_flight: usize,
}

/// One invocation's targets and what became of them.
#[derive(Default)]
pub struct Ticket {
    state: Mutex<TicketState>,
    changed: Notify,
}

impl Ticket {
    fn lock(&self) -> std::sync::MutexGuard<'_, TicketState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn counts(&self) -> Counts {
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
    pub async fn changed(&self, cancel: &CancellationToken) -> (Counts, bool) {
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

    fn end(&self, id: &str, failure: Option<Failure>) {
        self.lock().ended.entry(id.to_string()).or_insert(failure);
        self.changed.notify_waiters();
    }

    /// The outcome; targets of `all` not ended are unfinished or not sent.
    fn outcome(&self, all: &[String]) -> Outcome {
        let s = self.lock();
        let mut out = Outcome::default();
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

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct BatchKey {
    kind: OpKind,
    image_id: Option<String>,
}

#[derive(Default)]
struct State {
    client: Option<Client>,
    /// Targets waiting for their call, by operation; each with the tickets
    /// that asked for it.
    pending: BTreeMap<BatchKey, BTreeMap<String, Asked>>,
    /// Operations whose window is open.
    flushing: BTreeSet<BatchKey>,
    /// Job id -> (target id, tickets) for jobs in flight.
    jobs: HashMap<String, (String, Vec<Arc<Ticket>>)>,
    /// Request id -> its job ids still in flight.
    requests: HashMap<String, Vec<String>>,
}

/// See the module documentation.
pub struct Operations {
    me: Weak<Operations>,
    state: Mutex<State>,
    poller: OnceLock<Arc<Poller>>,
}

/// A target and the invocations that asked for it.
type Asked = (Target, Vec<Arc<Ticket>>);
type Waiting = Vec<Asked>;

impl Operations {
    pub fn new() -> Arc<Operations> {
        Arc::new_cyclic(|me| Operations {
            me: me.clone(),
            state: Mutex::new(State::default()),
            poller: OnceLock::new(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn poller(&self) -> &Arc<Poller> {
        self.poller.get_or_init(|| {
            let me = self.me.clone();
            Poller::new(Box::new(move |jobs, gone| {
                if let Some(ops) = me.upgrade() {
                    ops.jobs_ended(jobs, gone);
                }
            }))
        })
    }

    /// Runs `kind` on `targets` (ids unique), waiting until every one has
    /// ended or `cancel`. `progress` is called with the counts whenever they
    /// change.
    pub async fn run(
        &self,
        client: &Client,
        kind: OpKind,
        image_id: Option<String>,
        targets: Vec<Target>,
        cancel: &CancellationToken,
        mut progress: impl AsyncProgress,
    ) -> Outcome {
        let ids: Vec<String> = targets.iter().map(|t| t.id.clone()).collect();
        let ticket = Arc::new(Ticket::default());
        ticket.lock().total = ids.len();
        if ids.is_empty() {
            return Outcome::default();
        }
        let key = BatchKey { kind, image_id };
        self.submit(client, &key, targets, &ticket);
        let mut last = ticket.counts();
        loop {
            let (counts, cancelled) = ticket.changed(cancel).await;
            if counts != last {
                progress.report(&counts).await;
                last = counts.clone();
            }
            if counts.finished() {
                break;
            }
            if cancelled {
                self.withdraw(&key, &ticket).await;
                break;
            }
        }
        ticket.outcome(&ids)
    }

    fn submit(&self, client: &Client, key: &BatchKey, targets: Vec<Target>, ticket: &Arc<Ticket>) {
        let (open_window, full) = {
            let mut st = self.lock();
            st.client = Some(client.clone());
            let pending = st.pending.entry(key.clone()).or_default();
            for t in targets {
                let entry = pending
                    .entry(t.id.clone())
                    .or_insert_with(|| (t.clone(), Vec::new()));
                entry.1.push(ticket.clone());
            }
            let mut full = Vec::new();
            while pending.len() >= MAX_IDS_PER_BATCH_CALL {
                let keys: Vec<String> = pending
                    .keys()
                    .take(MAX_IDS_PER_BATCH_CALL)
                    .cloned()
                    .collect();
                let batch: Waiting = keys.iter().filter_map(|k| pending.remove(k)).collect();
                full.push(batch);
            }
            (st.flushing.insert(key.clone()), full)
        };
        for batch in full {
            self.send(client.clone(), key.clone(), batch);
        }
        if open_window && let Some(me) = self.me.upgrade() {
            let key = key.clone();
            tokio::spawn(async move {
                tokio::time::sleep(WINDOW).await;
                me.flush(&key);
            });
        }
    }

    /// The window of `key` closes: what is pending goes, 100 to a call.
    fn flush(&self, key: &BatchKey) {
        let (client, waiting) = {
            let mut st = self.lock();
            st.flushing.remove(key);
            let waiting: Waiting = st
                .pending
                .remove(key)
                .map(|m| m.into_values().collect())
                .unwrap_or_default();
            (st.client.clone(), waiting)
        };
        let Some(client) = client else { return };
        let mut waiting = waiting;
        while !waiting.is_empty() {
            let rest = waiting.split_off(waiting.len().min(MAX_IDS_PER_BATCH_CALL));
            self.send(client.clone(), key.clone(), waiting);
            waiting = rest;
        }
    }

    /// Sends one call on its own task (it outlives a cancelled waiter).
    fn send(&self, client: Client, key: BatchKey, batch: Waiting) {
        for (t, tickets) in &batch {
            for ticket in tickets {
                let mut s = ticket.lock();
                s.sent.insert(t.id.clone());
                s.calls_in_flight += 1;
            }
        }
        let Some(me) = self.me.upgrade() else { return };
        tokio::spawn(async move {
            let targets: Vec<Target> = batch.iter().map(|(t, _)| t.clone()).collect();
            let answer = call(&client, &key, &targets).await;
            me.answered(&client, batch, answer);
        });
    }

    fn answered(&self, client: &Client, batch: Waiting, answer: cph::Result<BatchJobsResponse>) {
        let mut started = 0usize;
        let mut request_id = String::new();
        let mut ended: Vec<(String, Vec<Arc<Ticket>>, Failure)> = Vec::new();
        match answer {
            Ok(resp) => {
                request_id = resp.request_id.clone();
                let mut by_id: HashMap<&str, &BatchJob> = HashMap::new();
                for j in &resp.jobs {
                    by_id.insert(j.target(), j);
                }
                let mut st = self.lock();
                for (t, tickets) in &batch {
                    match by_id.get(t.id.as_str()) {
                        Some(j) if j.job_id.as_deref().is_some_and(|s| !s.is_empty()) => {
                            let job_id = j.job_id.clone().unwrap_or_default();
                            st.jobs
                                .insert(job_id.clone(), (t.id.clone(), tickets.clone()));
                            st.requests
                                .entry(request_id.clone())
                                .or_default()
                                .push(job_id);
                            started += 1;
                        }
                        Some(j) => ended.push((t.id.clone(), tickets.clone(), refused(j))),
                        None => ended.push((
                            t.id.clone(),
                            tickets.clone(),
                            failure(&t.id, None, "the answer reported no job for it".into()),
                        )),
                    }
                }
            }
            Err(e) => {
                for (t, tickets) in &batch {
                    let f = failure(&t.id, e.code().map(str::to_string), e.to_string());
                    ended.push((t.id.clone(), tickets.clone(), f));
                }
            }
        }
        for (id, tickets, f) in ended {
            for ticket in tickets {
                ticket.end(&id, Some(f.clone()));
            }
        }
        for (_, tickets) in &batch {
            for ticket in tickets {
                ticket.lock().calls_in_flight -= 1;
                ticket.changed.notify_waiters();
            }
        }
        if started > 0 {
            self.poller().follow(client, &request_id, started, false);
        }
    }

    /// The poller's report: jobs that ended, request ids that listed none.
    fn jobs_ended(&self, jobs: Vec<Job>, gone: Vec<String>) {
        let mut ended: Vec<(String, Vec<Arc<Ticket>>, Option<Failure>)> = Vec::new();
        {
            let mut st = self.lock();
            for job in jobs {
                let Some((id, tickets)) = st.jobs.remove(&job.job_id) else {
                    continue;
                };
                let f = match job.status {
                    JOB_STATUS_SUCCEEDED => None,
                    JOB_STATUS_FAILED => Some(failure(
                        &id,
                        job.error_code.clone(),
                        job.error_msg
                            .clone()
                            .unwrap_or_else(|| "the job failed".into()),
                    )),
                    _ => continue,
                };
                ended.push((id, tickets, f));
            }
            for rid in gone {
                for job_id in st.requests.remove(&rid).unwrap_or_default() {
                    if let Some((id, tickets)) = st.jobs.remove(&job_id) {
                        let f = failure(&id, None, format!("request {rid} lists no job"));
                        ended.push((id, tickets, Some(f)));
                    }
                }
            }
        }
        for (id, tickets, f) in ended {
            for ticket in tickets {
                ticket.end(&id, f.clone());
            }
        }
    }

    /// Takes back what `ticket` has not sent yet, then waits for its calls
    /// on their way.
    async fn withdraw(&self, key: &BatchKey, ticket: &Arc<Ticket>) {
        {
            let mut st = self.lock();
            if let Some(pending) = st.pending.get_mut(key) {
                for (_, tickets) in pending.values_mut() {
                    tickets.retain(|t| !Arc::ptr_eq(t, ticket));
                }
                pending.retain(|_, (_, tickets)| !tickets.is_empty());
            }
        }
        loop {
            let notified = ticket.changed.notified();
            if ticket.lock().calls_in_flight == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// Something that reports counts as they change (an action's progress).
pub trait AsyncProgress: Send {
    fn report(&mut self, counts: &Counts) -> impl std::future::Future<Output = ()> + Send;
}

/// One batch call for `targets` (1 to 100).
async fn call(
    client: &Client,
    key: &BatchKey,
    targets: &[Target],
) -> cph::Result<BatchJobsResponse> {
    let ids = || targets.iter().map(|t| t.id.clone()).collect::<Vec<_>>();
    let phones = |reset: bool| BatchPhonesRequest {
        image_id: key.image_id.clone(),
        phones: targets
            .iter()
            .map(|t| BatchPhone {
                phone_id: t.id.clone(),
                property: t.property.clone(),
                factory_reset_enabled: if reset { t.factory_reset } else { None },
            })
            .collect(),
    };
    match key.kind {
        OpKind::RestartPhones => client.restart_phones(&phones(false)).await,
        OpKind::ResetPhones => client.reset_phones(&phones(true)).await,
        OpKind::StopPhones => client.stop_phones(&ids()).await,
        OpKind::RestartServers => client.restart_servers(&ids()).await,
    }
}

fn failure(id: &str, code: Option<String>, message: String) -> Failure {
    Failure {
        id: id.to_string(),
        code,
        message,
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
    fn a_ticket_counts_and_sorts_its_outcome() {
        let t = Ticket::default();
        t.lock().total = 3;
        t.lock().sent.extend(["a".to_string(), "b".to_string()]);
        t.end("a", None);
        t.end(
            "b",
            Some(failure("b", Some("CPS.0005".into()), "no".into())),
        );
        t.end("b", None);
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
    }

    #[test]
    fn kinds_name_what_they_do() {
        assert_eq!(OpKind::RestartServers.noun(), "servers");
        assert_eq!(OpKind::ResetPhones.done(), "reset");
    }
}

//! What one route change waits on: a [`Waiter`] holds a record per phone
//! of the change, is told as each phone is sent and resolved, and wakes the
//! resource when its own phones are done or its wait ends early.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::RunningJob;
use crate::fleet::routing::{JobRecord, JobStatus, WaitEnded};

/// The shared outcome of one change.
pub(super) struct Waiter {
    inner: Mutex<WaiterInner>,
    pub(super) done: Notify,
    /// Notified whenever a phone is sent or resolved.
    progress: Notify,
}

pub(super) struct WaiterInner {
    pub(super) records: BTreeMap<String, JobRecord>,
    /// Request id of each phone's job, once sent.
    requests: BTreeMap<String, String>,
    servers: BTreeMap<String, String>,
    pub(super) unresolved: BTreeSet<String>,
}

impl Waiter {
    pub(super) fn new(phones: impl Iterator<Item = String>) -> Arc<Waiter> {
        let mut records = BTreeMap::new();
        let mut unresolved = BTreeSet::new();
        for p in phones {
            records.insert(
                p.clone(),
                JobRecord {
                    phone_id: p.clone(),
                    job_id: None,
                    status: JobStatus::Running,
                    error_code: None,
                    error_msg: None,
                },
            );
            unresolved.insert(p);
        }
        Arc::new(Waiter {
            inner: Mutex::new(WaiterInner {
                records,
                requests: BTreeMap::new(),
                servers: BTreeMap::new(),
                unresolved,
            }),
            done: Notify::new(),
            progress: Notify::new(),
        })
    }

    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, WaiterInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn sent(&self, phone: &str, request_id: &str, job_id: &str) {
        let mut t = self.lock();
        if let Some(r) = t.records.get_mut(phone)
            && !job_id.is_empty()
        {
            r.job_id = Some(job_id.to_string());
        }
        t.requests.insert(phone.to_string(), request_id.to_string());
        drop(t);
        self.progress.notify_waiters();
    }

    pub(super) fn resolve(&self, record: JobRecord, server: Option<&str>) {
        let mut t = self.lock();
        if !t.unresolved.remove(&record.phone_id) {
            return;
        }
        if let Some(s) = server.filter(|s| !s.is_empty()) {
            t.servers.insert(record.phone_id.clone(), s.to_string());
        }
        t.records.insert(record.phone_id.clone(), record);
        let empty = t.unresolved.is_empty();
        drop(t);
        self.progress.notify_waiters();
        if empty {
            self.done.notify_waiters();
        }
    }

    pub(super) fn is_done(&self) -> bool {
        self.lock().unresolved.is_empty()
    }

    /// Phones neither resolved nor answered for: in a call in flight (or
    /// about to be), once the pending ones are withdrawn.
    pub(super) fn unanswered(&self) -> usize {
        let t = self.lock();
        t.unresolved
            .iter()
            .filter(|p| !t.requests.contains_key(*p))
            .count()
    }

    /// Waits (at most `within`) until every phone is answered for.
    pub(super) async fn settle(&self, within: Duration) {
        let until = Instant::now() + within;
        loop {
            let progress = self.progress.notified();
            if self.unanswered() == 0 {
                return;
            }
            tokio::select! {
                _ = progress => {}
                _ = tokio::time::sleep_until(until.into()) => return,
            }
        }
    }

    /// The records, with every phone still unresolved marked running (and
    /// the request id of those whose call was answered).
    pub(super) fn outcome(&self) -> (Vec<JobRecord>, Vec<RunningJob>, BTreeMap<String, String>) {
        let t = self.lock();
        let mut running = Vec::new();
        for r in t.records.values() {
            if r.status == JobStatus::Running {
                running.push(RunningJob {
                    phone_id: r.phone_id.clone(),
                    request_id: t.requests.get(&r.phone_id).cloned().unwrap_or_default(),
                    job_id: r.job_id.clone(),
                });
            }
        }
        (
            t.records.values().cloned().collect(),
            running,
            t.servers.clone(),
        )
    }
}

/// Waits for a ticket; the reason the wait ended early, if it did.
pub(super) async fn wait(
    ticket: &Waiter,
    deadline: Instant,
    cancel: &CancellationToken,
) -> Option<WaitEnded> {
    let started = Instant::now();
    loop {
        let notified = ticket.done.notified();
        if ticket.is_done() {
            return None;
        }
        tokio::select! {
            _ = notified => {}
            _ = cancel.cancelled() => return Some(WaitEnded::Stopped),
            _ = tokio::time::sleep_until(deadline.into()) => {
                let t = ticket.lock();
                return Some(WaitEnded::TimedOut(format!(
                    "jobs did not finish within {}: {} of {} phones still running",
                    crate::fleet::go_duration(deadline.saturating_duration_since(started)),
                    t.unresolved.len(),
                    t.records.len()
                )));
            }
        }
    }
}

//! What one submission to the batcher waits on: a [`Tracker`] holds where
//! each of its targets stands (waiting for its call, in a call on its way,
//! answered with a job, ended), is told by the batcher as each moves on, and
//! wakes its submitter whenever something changes. The route changes and the
//! batch actions read their outcomes from it, each in its own words.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::super::batch_call::Failure;
use super::super::routing::WaitEnded;

/// How a target's turn ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Its job succeeded (or nothing had to be sent: a handover).
    Succeeded,
    /// Its job failed, or the call that carried it did.
    Failed(Failure),
    /// It was never sent (withdrawn, or stopped before its call left).
    NotSent(String),
    /// Its call was cut short on its way and may have started a job that
    /// cannot be followed.
    Unsettled(String),
}

/// A target's end: the verdict, with what its job said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ended {
    pub verdict: Verdict,
    pub job_id: Option<String>,
    /// The server the job reported (phones).
    pub server: Option<String>,
    /// The job's `execute_msg`.
    pub message: Option<String>,
}

impl Ended {
    pub fn of(verdict: Verdict) -> Ended {
        Ended {
            verdict,
            job_id: None,
            server: None,
            message: None,
        }
    }

    /// Nothing had to be sent: the target is where it was asked to be.
    pub fn handed_over() -> Ended {
        Ended::of(Verdict::Succeeded)
    }
}

/// Where one target of a submission stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Entry {
    /// Waiting for its call (or for a job in flight before it).
    Waiting,
    /// In a call on its way, not answered yet.
    OnTheWay,
    /// Its call started a job.
    Answered {
        request_id: String,
        job_id: Option<String>,
    },
    Ended(Ended),
}

pub(crate) struct TrackerState {
    pub entries: BTreeMap<String, Entry>,
    open: usize,
    /// Job messages not yet read by the submitter.
    unread: Vec<(String, String)>,
}

/// See the module documentation.
pub(crate) struct Tracker {
    state: Mutex<TrackerState>,
    changed: Notify,
}

/// Where a submission stands, in numbers.
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

impl Tracker {
    /// A tracker of `ids`, each waiting (an id named twice counts once).
    pub fn new(ids: impl IntoIterator<Item = String>) -> Tracker {
        let entries: BTreeMap<String, Entry> =
            ids.into_iter().map(|id| (id, Entry::Waiting)).collect();
        Tracker {
            state: Mutex::new(TrackerState {
                open: entries.len(),
                entries,
                unread: Vec::new(),
            }),
            changed: Notify::new(),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, TrackerState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn update(&self, id: &str, to: impl FnOnce(&Entry) -> Option<Entry>) {
        let mut s = self.lock();
        let Some(entry) = s.entries.get_mut(id) else {
            return;
        };
        let Some(next) = to(entry) else { return };
        *entry = next;
        drop(s);
        self.changed.notify_waiters();
    }

    /// `id` is in a call on its way.
    pub fn on_the_way(&self, id: &str) {
        self.update(id, |e| {
            matches!(e, Entry::Waiting).then_some(Entry::OnTheWay)
        });
    }

    /// `id`'s call started job `job_id` under `request_id`.
    pub fn answered(&self, id: &str, request_id: &str, job_id: Option<&str>) {
        self.update(id, |e| {
            (!matches!(e, Entry::Ended(_))).then(|| Entry::Answered {
                request_id: request_id.to_string(),
                job_id: job_id.filter(|j| !j.is_empty()).map(str::to_string),
            })
        });
    }

    /// `id`'s turn ended (the first end counts).
    pub fn end(&self, id: &str, ended: Ended) {
        let mut s = self.lock();
        let Some(entry) = s.entries.get_mut(id) else {
            return;
        };
        if matches!(entry, Entry::Ended(_)) {
            return;
        }
        let message = ended.message.clone().filter(|m| !m.is_empty());
        *entry = Entry::Ended(ended);
        s.open -= 1;
        if let Some(m) = message {
            s.unread.push((id.to_string(), m));
        }
        drop(s);
        self.changed.notify_waiters();
    }

    /// The ids not ended yet.
    pub fn open_ids(&self) -> Vec<String> {
        let s = self.lock();
        let open = s
            .entries
            .iter()
            .filter(|(_, e)| !matches!(e, Entry::Ended(_)));
        open.map(|(id, _)| id.clone()).collect()
    }

    pub fn is_done(&self) -> bool {
        self.lock().open == 0
    }

    pub fn counts(&self) -> Counts {
        let s = self.lock();
        let mut c = Counts {
            total: s.entries.len(),
            ..Counts::default()
        };
        for e in s.entries.values() {
            match e {
                Entry::Ended(Ended {
                    verdict: Verdict::Succeeded,
                    ..
                }) => c.succeeded += 1,
                Entry::Ended(Ended {
                    verdict: Verdict::Failed(_),
                    ..
                }) => c.failed += 1,
                _ => {}
            }
        }
        c
    }

    /// The job messages not read yet.
    pub fn take_unread(&self) -> Vec<(String, String)> {
        std::mem::take(&mut self.lock().unread)
    }

    /// Waits until something changes (or `cancel`); whether it was cancelled.
    pub async fn changed(&self, cancel: &CancellationToken) -> bool {
        let notified = self.changed.notified();
        if self.is_done() {
            return false;
        }
        tokio::select! {
            _ = notified => false,
            _ = cancel.cancelled() => true,
        }
    }

    /// Waits until every target ended; why the wait ended early, if it did.
    pub async fn wait(&self, deadline: Instant, cancel: &CancellationToken) -> Option<WaitEnded> {
        let started = Instant::now();
        loop {
            let notified = self.changed.notified();
            if self.is_done() {
                return None;
            }
            tokio::select! {
                _ = notified => {}
                _ = cancel.cancelled() => return Some(WaitEnded::Stopped),
                _ = tokio::time::sleep_until(deadline.into()) => {
                    let s = self.lock();
                    let total = s.entries.len();
                    return Some(WaitEnded::TimedOut(format!(
                        "jobs did not finish within {}: {} of {} {} still running",
                        crate::fleet::go_duration(deadline.saturating_duration_since(started)),
                        s.open,
                        total,
                        if total == 1 { "phone" } else { "phones" }
                    )));
                }
            }
        }
    }

    /// Waits (at most `within`) until no target is in a call on its way.
    pub async fn settle(&self, within: Duration) {
        let until = Instant::now() + within;
        loop {
            let notified = self.changed.notified();
            let on_the_way = self.lock().entries.values().any(|e| *e == Entry::OnTheWay);
            if !on_the_way {
                return;
            }
            tokio::select! {
                _ = notified => {}
                _ = tokio::time::sleep_until(until.into()) => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::batch_call::failure;

    #[test]
    fn a_target_moves_on_and_its_first_end_counts() {
        let t = Tracker::new(["a", "b", "c"].map(String::from));
        t.on_the_way("a");
        t.answered("a", "r1", Some("j1"));
        t.on_the_way("a");
        assert!(
            matches!(&t.lock().entries["a"], Entry::Answered { request_id, .. } if request_id == "r1")
        );
        let mut done = Ended::handed_over();
        done.message = Some("ok".into());
        t.end("a", done);
        let no = failure("b", Some("CPS.0005".into()), "no".into());
        t.end("b", Ended::of(Verdict::Failed(no)));
        t.end("b", Ended::handed_over());
        assert_eq!(
            t.counts(),
            Counts {
                total: 3,
                succeeded: 1,
                failed: 1
            }
        );
        assert_eq!(t.open_ids(), vec!["c".to_string()]);
        assert!(!t.is_done());
        assert_eq!(t.take_unread(), vec![("a".to_string(), "ok".to_string())]);
        assert!(t.take_unread().is_empty());
        t.end("c", Ended::of(Verdict::NotSent("stopped".into())));
        assert!(t.is_done());
    }
}

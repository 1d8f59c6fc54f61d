//! The actions' batch calls (restart, reset and stop of phones, restart of
//! servers, and any kind a resource or action declares as a [`BatchCall`]):
//! an invocation submits its targets to the fleet's one
//! [batcher](super::batcher), which merges them with every other
//! invocation's (and the route changes') into calls of at most
//! [`BatchCall::max_ids`] ids and follows their jobs with the fleet's one
//! poller. Here an invocation hears how it goes and what it came to:
//!
//! - **Progress.** The counts whenever they change, and each job's
//!   `execute_msg`, until a cancel: never after it.
//! - **Interrupt.** On cancel, targets not yet sent are withdrawn, and a
//!   call the client had not sent yet (waiting for its turn at the rate
//!   limit) counts as never sent; a call already on its way is waited for
//!   (the client lets such a call finish), so that the caller can say what
//!   it may have started.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

pub use super::batch_call::{BatchCall, Failure, OpKind, Target, WINDOW};
pub use super::batcher::Counts;
use super::batcher::{Batcher, Ended, Entry, Submission, Tracker, Verdict};
use super::claims::Claims;
use super::coordinator::IN_FLIGHT_WAIT;
use super::poller::Poller;
use crate::cph::Client;

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

/// The actions' side of a fleet's batcher.
pub struct Operations {
    batcher: Arc<Batcher>,
}

impl Default for Operations {
    fn default() -> Self {
        Operations::new()
    }
}

impl Operations {
    /// Operations with a batcher of their own (tests; the provider's are
    /// its [`Fleet`](super::Fleet)'s).
    pub fn new() -> Operations {
        Operations::on(Batcher::new(Arc::new(Claims::default()), Poller::shared()))
    }

    /// The operations of `batcher`.
    pub fn on(batcher: Arc<Batcher>) -> Operations {
        Operations { batcher }
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
        if ids.is_empty() {
            return Outcome::default();
        }
        let tracker = Arc::new(Tracker::new(ids.iter().cloned()));
        let sub = Submission {
            owner: String::new(),
            call,
            targets,
            release: false,
            from_key: None,
            running: Vec::new(),
            elsewhere: Vec::new(),
        };
        self.batcher.submit(client, sub, &tracker);
        let mut last = tracker.counts();
        loop {
            let cancelled = tracker.changed(cancel).await;
            let stopped = cancelled || cancel.is_cancelled();
            if !stopped {
                for (id, message) in tracker.take_unread() {
                    progress.message(&id, &message).await;
                }
                let counts = tracker.counts();
                if counts != last {
                    progress.report(&counts).await;
                    last = counts;
                }
            }
            if tracker.is_done() {
                break;
            }
            if stopped {
                self.batcher
                    .withdraw(&tracker, "stopped before it was sent");
                tracker.settle(IN_FLIGHT_WAIT).await;
                break;
            }
        }
        outcome(&tracker, &ids)
    }
}

/// The outcome of `ids`, in their order.
fn outcome(tracker: &Tracker, ids: &[String]) -> Outcome {
    let s = tracker.lock();
    let mut out = Outcome::default();
    for id in ids {
        let Some(entry) = s.entries.get(id) else {
            continue;
        };
        if let Entry::Ended(Ended {
            message: Some(m), ..
        }) = entry
            && !m.is_empty()
        {
            out.messages.insert(id.clone(), m.clone());
        }
        match entry {
            Entry::Ended(e) => match &e.verdict {
                Verdict::Succeeded => out.succeeded.push(id.clone()),
                Verdict::Failed(f) => out.failed.push(f.clone()),
                Verdict::NotSent(_) => out.not_sent.push(id.clone()),
                Verdict::Unsettled(_) => out.unfinished.push(id.clone()),
            },
            Entry::Answered { .. } | Entry::OnTheWay => out.unfinished.push(id.clone()),
            Entry::Waiting => out.not_sent.push(id.clone()),
        }
    }
    out
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

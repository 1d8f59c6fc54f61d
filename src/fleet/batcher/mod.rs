//! The batcher of the fleet engine: every batch call of the provider process
//! goes through the one [`Batcher`] of its [`Fleet`](super::Fleet), route
//! changes and the actions' calls alike. A [batch kind](BatchCall) says only
//! how to send one call of at most [`BatchCall::max_ids`] ids, which calls
//! merge, what an ended job means, how long its window stays open and
//! whether it keeps one job per target at a time (its lane); the rest is
//! here, written once:
//!
//! - **Merge** ([window]). Targets submitted for calls of one merge key are
//!   held while its window is open, then sent `max_ids` to a call, each id
//!   once however many submissions named it; a full call goes at once. A
//!   window closes early once every owner whose plan announced a change has
//!   submitted it (a submission alone never waits), after the kind's quiet
//!   time without a new unannounced target, and at the latest its maximum
//!   after the first target.
//! - **One job per target** in a lane ([placement](place)): a target with a
//!   job in flight is not sent again; a submission of the same call joins
//!   that job, another waits until it ended.
//! - **Handover**: a release (a submission that yields to claims) sends
//!   nothing for a target another owner claims, and a claim in the same
//!   window wins over it; a claim to the place the releaser had the target
//!   in sends nothing at all.
//! - **Send and follow** ([send]): until a call has started a job, one call
//!   of any kind goes at a time (wrong credentials cost one call), then
//!   [`CONCURRENT_CALLS`] per gathering. Each answer is read per id by
//!   [`sort_answer`](super::batch_call::sort_answer); each request id goes
//!   to the fleet's one job [poller](super::poller), and each job that ends
//!   ends its target in every submission that waits for it.
//! - **Refusal**: refused credentials or a refused account stop the engine:
//!   nothing more is sent in this process, and every target waiting fails
//!   with that one error.
//! - **Withdraw**: a submission whose wait was cut short takes back its
//!   targets not sent yet (they end as never sent), then may wait for its
//!   calls on their way.
//!
//! Submissions wait on a [`Tracker`]; the route [coordinator](super::coordinator)
//! and the actions' [operations](super::operations) read their outcomes from it.

pub(crate) mod place;
pub(crate) mod send;
pub(crate) mod tracker;
pub(crate) mod window;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::batch_call::{BatchCall, Target};
use super::claims::Claims;
use super::poller::Poller;
use super::routing::Refusal;
use crate::cph::Client;
pub use tracker::Counts;
pub(crate) use tracker::{Ended, Entry, Tracker, Verdict};

/// Calls of one flush in flight at once (the client's limiter applies too).
pub const CONCURRENT_CALLS: usize = 8;
/// A plan's announcement of a change is forgotten after this long without
/// the change arriving (it was a plan walk, or the apply failed before).
const ANNOUNCEMENT_LIFETIME: Duration = Duration::from_secs(2);

/// A job recorded by an earlier run, taken up by a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Recorded {
    pub target: String,
    pub request_id: String,
    pub job_id: Option<String>,
}

/// What a submitter hands the batcher.
pub(crate) struct Submission {
    /// Who submits (announcements and claims); empty for none.
    pub owner: String,
    pub call: Arc<dyn BatchCall>,
    pub targets: Vec<Target>,
    /// The targets are released: sent only when no other owner claims them.
    pub release: bool,
    /// For a release: the merge key of the call that put its targets where
    /// they are, when known (a claim with that key then needs no call).
    pub from_key: Option<String>,
    /// Jobs of this call an earlier run left running: followed and waited
    /// for, not sent again.
    pub running: Vec<Recorded>,
    /// Jobs of other calls an earlier run left running on some targets: the
    /// targets wait for them to end.
    pub elsewhere: Vec<(Arc<dyn BatchCall>, Recorded)>,
}

/// A target waiting for its call, and who waits for it.
pub(crate) struct Pend {
    pub target: Target,
    pub trackers: Vec<Arc<Tracker>>,
    /// `Some(owner)` while only releases by that owner ask for it.
    pub release_by: Option<String>,
    pub from_key: Option<String>,
}

/// Targets waiting for the window of one merge key to close.
pub(crate) struct Gathering {
    pub call: Arc<dyn BatchCall>,
    pub targets: BTreeMap<String, Pend>,
    pub first: Instant,
    pub last: Instant,
    /// Whether the newest target came from an announced submission.
    pub last_announced: bool,
}

/// A call sent (or a recorded job taken up) for one target.
pub(crate) struct Flight {
    pub key: String,
    pub call: Arc<dyn BatchCall>,
    pub target: String,
    pub job_id: Option<String>,
    pub request_id: Option<String>,
    pub trackers: Vec<Arc<Tracker>>,
}

/// A submission's target waiting for the target's job in flight to end.
pub(crate) struct Queued {
    pub key: String,
    pub call: Arc<dyn BatchCall>,
    pub pend: Pend,
}

/// A lane and a target in it.
pub(crate) type LaneId = (&'static str, String);

#[derive(Default)]
pub(crate) struct State {
    pub client: Option<Client>,
    /// Targets waiting for their call, by merge key.
    pub pending: BTreeMap<String, Gathering>,
    /// The merge key a lane's target is pending under.
    pub lane_pending: HashMap<LaneId, String>,
    pub flights: HashMap<u64, Flight>,
    pub next_flight: u64,
    pub by_job: HashMap<String, u64>,
    pub by_target: HashMap<String, Vec<u64>>,
    pub by_request: HashMap<String, Vec<u64>>,
    /// A lane's targets waiting for the target's job in flight.
    pub blocked: HashMap<LaneId, VecDeque<Queued>>,
    /// Targets a release handed on to another owner's claim, with the merge
    /// key that put them where they are: that claim sends nothing.
    pub handed_on: HashMap<LaneId, String>,
    /// Owners whose plan announced a change not yet submitted.
    pub expected: HashMap<String, Instant>,
    /// Owners whose announced change has arrived (a claim and a release of
    /// one owner both count as announced).
    pub arrived: HashMap<String, Instant>,
    pub flusher_started: bool,
    /// Set when the API refused the credentials or the account.
    pub refused: Option<Refusal>,
    /// Whether a call started a job (the credentials work).
    pub proven: bool,
}

/// See the module documentation.
pub struct Batcher {
    state: Mutex<State>,
    wake: Notify,
    /// Held by the one call that goes while no call has started a job.
    probe: tokio::sync::Mutex<()>,
    claims: Arc<Claims>,
    poller: Arc<Poller>,
    me: Weak<Batcher>,
}

impl Batcher {
    /// The batcher of a fleet: `claims` decide handovers, `poller` follows
    /// the jobs.
    pub fn new(claims: Arc<Claims>, poller: Arc<Poller>) -> Arc<Batcher> {
        Arc::new_cyclic(|me| Batcher {
            state: Mutex::new(State::default()),
            wake: Notify::new(),
            probe: tokio::sync::Mutex::new(()),
            claims,
            poller,
            me: me.clone(),
        })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Why the engine stopped sending, if it did.
    pub fn refusal(&self) -> Option<Refusal> {
        self.lock().refused.clone()
    }

    /// A plan announced that `owner` will submit in this process.
    pub fn expect(&self, owner: &str) {
        let mut st = self.lock();
        st.arrived.remove(owner);
        st.expected.insert(owner.to_string(), Instant::now());
    }

    /// `owner`'s apply has come (with or without targets): no window waits
    /// for it any longer. True when a plan had announced it.
    pub fn arrived(&self, owner: &str) -> bool {
        let now = Instant::now();
        let mut st = self.lock();
        let fresh = |at: &mut Instant| now.duration_since(*at) < ANNOUNCEMENT_LIFETIME;
        st.expected.retain(|_, at| fresh(at));
        st.arrived.retain(|_, at| fresh(at));
        let announced = st.expected.remove(owner).is_some() || st.arrived.contains_key(owner);
        if announced {
            st.arrived.insert(owner.to_string(), now);
        }
        drop(st);
        self.wake.notify_one();
        announced
    }

    /// Hands `sub` to the engine; `tracker` (of every target of `sub`,
    /// recorded jobs included) hears what becomes of each.
    pub(crate) fn submit(&self, client: &Client, sub: Submission, tracker: &Arc<Tracker>) {
        let announced = !sub.owner.is_empty() && self.arrived(&sub.owner);
        let follow = {
            let mut st = self.lock();
            st.client = Some(client.clone());
            if let Some(refusal) = st.refused.clone() {
                drop(st);
                refuse_open(tracker, &refusal.why);
                return;
            }
            let (follow, resend) = place::adopt(&mut st, &sub, tracker);
            let key = sub.call.merge_key();
            let now = Instant::now();
            for target in sub.targets.iter().chain(&resend) {
                if self.place(&mut st, &sub, &key, tracker, target) {
                    place::arrival(&mut st, &key, now, announced);
                }
            }
            self.start_flusher(&mut st);
            follow
        };
        for (request_id, jobs) in follow {
            self.poller
                .follow_for(client, &request_id, jobs, true, self.sink());
        }
        self.wake.notify_one();
    }

    /// Takes back `tracker`'s targets not sent yet: they end as never sent,
    /// with `why`.
    pub(crate) fn withdraw(&self, tracker: &Arc<Tracker>, why: &str) {
        let mut withdrawn: Vec<String> = Vec::new();
        {
            let mut st = self.lock();
            let st = &mut *st;
            let mine = |p: &mut Pend| {
                let before = p.trackers.len();
                p.trackers.retain(|t| !Arc::ptr_eq(t, tracker));
                p.trackers.len() != before
            };
            for g in st.pending.values_mut() {
                for (id, p) in g.targets.iter_mut() {
                    if mine(p) {
                        withdrawn.push(id.clone());
                    }
                }
            }
            for ((_, id), queue) in st.blocked.iter_mut() {
                for q in queue.iter_mut() {
                    if mine(&mut q.pend) {
                        withdrawn.push(id.clone());
                    }
                }
                queue.retain(|q| !q.pend.trackers.is_empty());
            }
            st.blocked.retain(|_, q| !q.is_empty());
            place::drop_unwanted(st);
        }
        for id in withdrawn {
            tracker.end(&id, Ended::of(Verdict::NotSent(why.to_string())));
        }
    }
}

/// Fails every open target of `tracker`: the engine was refused.
fn refuse_open(tracker: &Tracker, why: &str) {
    for id in tracker.open_ids() {
        let f = super::batch_call::failure(&id, None, why.to_string());
        tracker.end(&id, Ended::of(Verdict::Failed(f)));
    }
}

#[cfg(test)]
mod tests;

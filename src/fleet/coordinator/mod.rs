//! The route coordinator: every route change of the provider process goes
//! through it.
//!
//! - **Gather and merge.** Changes that arrive together are held for a short
//!   window and sent per target route in batches of 100 phones (the
//!   [`PhonesTraffic`] batch kind says how to send one call and how many
//!   phones it takes, as every kind of the [batcher](super::operations)
//!   does; its answer is read per phone by the kinds' shared
//!   [`sort_answer`](super::batch_call::sort_answer)), so ten
//!   resources of ten phones cost one `phones-traffic` call. A batch of 100
//!   for one route goes at once. The window closes early once every resource
//!   that planned a change in this process has asked (a resource alone never
//!   waits), or after [`QUIET`] without a new change that no plan announced
//!   (destroys are not planned again in the apply walk), and at the latest
//!   [`MAX_WINDOW`] after the first change.
//! - **One phone, one job at a time.** A phone with a job in flight is not
//!   sent again: a change to the same route waits for that job, a change to
//!   another route is sent when it has ended.
//! - **Handover.** A release (a phone leaving a resource, or its delete)
//!   sends `direct` only for phones no other owner claims; a claim in the same
//!   window wins over a release.
//! - **Jobs** are followed by the [poller](super::poller); each waiting
//!   resource is woken when its own phones are done.
//! - **A wait cut short** (Terraform's stop, or the timeout) withdraws the
//!   change's phones not sent yet, then waits for the calls in flight that
//!   carry its phones to be answered (the client waits for a route change
//!   already sent, bounded), so that every phone a call may have changed is
//!   reported running, with its request id when the answer came.
//! - **Refused credentials** (401, 403, API gateway authentication codes)
//!   stop the engine: nothing more is sent in this process, and every phone
//!   waiting fails with that one error. Until a call has been answered, one
//!   call goes at a time, so wrong credentials cost one refused call.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

mod adopt;
mod answers;
mod waiter;

use adopt::adopt_running;
use waiter::{Waiter, wait};

use super::batch_call::{PhonesTraffic, Target};
use super::claims::Claims;
use super::poller::Poller;
use super::routing::{JobRecord, JobStatus, Refusal, RouteOutcome, WaitEnded};
use crate::cph::{self, Client};

/// The longest a change waits for others to join its batch.
pub const MAX_WINDOW: Duration = Duration::from_millis(100);
/// After a change no plan announced, how long the window stays open without
/// a new one.
pub const QUIET: Duration = Duration::from_millis(20);
/// A plan's announcement of a change is forgotten after this long without
/// the change arriving (it was a plan walk, or the apply failed before).
const ANNOUNCEMENT_LIFETIME: Duration = Duration::from_secs(2);
/// `phones-traffic` calls in flight at once (the client's limiter applies too).
const CONCURRENT_CALLS: usize = 8;
/// After a wait is cut short, the longest it waits for the calls in flight
/// that carry its phones (the client gives a route change already sent 10 s
/// after a stop); past it, their phones count as changed.
const IN_FLIGHT_WAIT: Duration = Duration::from_secs(15);

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

struct Pending {
    route: String,
    /// `Some(owner)` while only releases by that owner ask for this phone.
    release_by: Option<String>,
    /// The route a released phone is on, when known.
    from_route: Option<String>,
    tickets: Vec<Arc<Waiter>>,
}

pub(super) struct InFlight {
    route: String,
    job_id: Option<String>,
    request_id: Option<String>,
    tickets: Vec<Arc<Waiter>>,
}

#[derive(Default)]
pub(super) struct RouteState {
    client: Option<Client>,
    pending: BTreeMap<String, Pending>,
    first_pending: Option<Instant>,
    last_arrival: Option<Instant>,
    /// Whether the newest change was announced by a plan.
    last_announced: bool,
    /// Owners whose plan announced a change not yet asked for.
    expected: HashMap<String, Instant>,
    /// Owners whose announced change has arrived (a resource may send a
    /// claim and a release: both count as announced).
    arrived: HashMap<String, Instant>,
    in_flight: HashMap<String, InFlight>,
    /// Changes waiting for a phone's job in flight to end.
    blocked: HashMap<String, Vec<Pending>>,
    /// Phones a release handed over to another owner's claim, with the
    /// route the releaser had them on: that claim to that route sends
    /// nothing.
    handed_on: HashMap<String, String>,
    flusher_started: bool,
    /// Set when the API refused the credentials: nothing more is sent.
    refused: Option<Refusal>,
    /// Whether a call was answered (the credentials work): until then, one
    /// call at a time.
    proven: bool,
}

/// See the module documentation.
pub struct Coordinator {
    state: Mutex<RouteState>,
    wake: Notify,
    claims: Arc<Claims>,
    poller: Arc<Poller>,
    me: Weak<Coordinator>,
}

impl Coordinator {
    /// The coordinator of a fleet whose jobs `poller` follows.
    pub fn new(claims: Arc<Claims>, poller: Arc<Poller>) -> Arc<Coordinator> {
        Arc::new_cyclic(|me: &Weak<Coordinator>| Coordinator {
            state: Mutex::new(RouteState::default()),
            wake: Notify::new(),
            claims,
            poller,
            me: me.clone(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, RouteState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A plan announced that `owner` will ask for a change in this process.
    pub fn expect(&self, owner: &str) {
        let mut st = self.lock();
        st.arrived.remove(owner);
        st.expected.insert(owner.to_string(), Instant::now());
    }

    /// `owner`'s apply has come (with or without phones to change): the
    /// window need not wait for it any longer.
    pub fn arrived(&self, owner: &str) -> bool {
        let now = Instant::now();
        let mut st = self.lock();
        st.expected
            .retain(|_, at| now.duration_since(*at) < ANNOUNCEMENT_LIFETIME);
        st.arrived
            .retain(|_, at| now.duration_since(*at) < ANNOUNCEMENT_LIFETIME);
        let announced = st.expected.remove(owner).is_some() || st.arrived.contains_key(owner);
        if announced {
            st.arrived.insert(owner.to_string(), now);
        }
        drop(st);
        self.wake.notify_one();
        announced
    }

    /// Sets the route of a change's phones and waits (until `deadline` or
    /// `cancel`) for their jobs. Never fails as a whole: every phone ends up
    /// succeeded, failed (with the API's code) or still running.
    pub async fn change(
        &self,
        client: &Client,
        change: Change,
        deadline: Instant,
        cancel: &CancellationToken,
    ) -> ChangeOutcome {
        let all = change
            .phones
            .iter()
            .cloned()
            .chain(change.running.iter().map(|r| r.phone_id.clone()));
        let ticket = Waiter::new(all);
        if ticket.is_done() {
            return ChangeOutcome::default();
        }
        self.submit(client, &change, &ticket);
        let wait_error = wait(&ticket, deadline, cancel).await;
        if let Some(e) = &wait_error {
            self.withdraw(&ticket, e);
            ticket.settle(IN_FLIGHT_WAIT).await;
        }
        let (jobs, running, servers) = ticket.outcome();
        let refused = self.lock().refused.clone().filter(|_| {
            jobs.iter()
                .any(|j| j.status == JobStatus::Failed && j.job_id.is_none())
        });
        ChangeOutcome {
            outcome: RouteOutcome {
                jobs,
                servers,
                wait_error,
                refused,
            },
            running,
        }
    }

    /// A wait was cut short: the ticket's phones not sent yet are not sent
    /// (they resolve as failed, with `why`).
    fn withdraw(&self, ticket: &Arc<Waiter>, why: &WaitEnded) {
        let mut withdrawn: Vec<String> = Vec::new();
        {
            let mut st = self.lock();
            let st = &mut *st;
            st.pending.retain(|phone, p| {
                let before = p.tickets.len();
                p.tickets.retain(|t| !Arc::ptr_eq(t, ticket));
                if p.tickets.len() != before {
                    withdrawn.push(phone.clone());
                }
                !p.tickets.is_empty()
            });
            for (phone, queue) in st.blocked.iter_mut() {
                for p in queue.iter_mut() {
                    let before = p.tickets.len();
                    p.tickets.retain(|t| !Arc::ptr_eq(t, ticket));
                    if p.tickets.len() != before {
                        withdrawn.push(phone.clone());
                    }
                }
                queue.retain(|p| !p.tickets.is_empty());
            }
            st.blocked.retain(|_, q| !q.is_empty());
            if st.pending.is_empty() {
                st.first_pending = None;
                st.last_arrival = None;
            }
        }
        for phone in withdrawn {
            ticket.resolve(
                failed(
                    &phone,
                    None,
                    format!("not sent ({why}); the next apply sends it"),
                ),
                None,
            );
        }
    }

    fn submit(&self, client: &Client, change: &Change, ticket: &Arc<Waiter>) {
        let now = Instant::now();
        let announced = self.arrived(&change.owner);
        let mut adopt: Vec<(String, usize)> = Vec::new();
        {
            let mut st = self.lock();
            st.client = Some(client.clone());
            if let Some(refusal) = st.refused.clone() {
                drop(st);
                refuse_all(ticket, &refusal.why);
                return;
            }

            let resend = adopt_running(&mut st, change, ticket, &mut adopt);

            let mut added = false;
            for phone in change.phones.iter().chain(&resend) {
                added |= self.place(&mut st, change, ticket, phone);
            }
            if added {
                st.first_pending.get_or_insert(now);
                st.last_arrival = Some(now);
                st.last_announced = announced;
            }
            self.start_flusher(&mut st);
        }
        for (request_id, jobs) in adopt {
            self.poller
                .follow_for(client, &request_id, jobs, true, self.sink());
        }
        self.wake.notify_one();
    }

    /// Places one phone of `change`: handed over, joined to its job in
    /// flight or to the pending change to the same route, blocked behind
    /// another route's, or pending. True when it starts a pending change.
    fn place(
        &self,
        st: &mut RouteState,
        change: &Change,
        ticket: &Arc<Waiter>,
        phone: &String,
    ) -> bool {
        if change.release && self.claims.claimed_by_other(&change.owner, phone) {
            ticket.resolve(handed_over(phone), None);
            hand_on(st, change, phone);
            return false;
        }
        if !change.release
            && st.handed_on.remove(phone).as_ref() == Some(&change.route)
            && !st.in_flight.contains_key(phone)
            && !st.pending.contains_key(phone)
        {
            // Handed on by a release from this very route.
            ticket.resolve(handed_over(phone), None);
            return false;
        }
        if let Some(f) = st.in_flight.get_mut(phone) {
            let same = f.route == change.route;
            if same {
                if let (Some(j), Some(r)) = (&f.job_id, &f.request_id) {
                    ticket.sent(phone, r, j);
                }
                f.tickets.push(ticket.clone());
            } else {
                st.blocked
                    .entry(phone.clone())
                    .or_default()
                    .push(pending_of(change, ticket));
            }
            return false;
        }
        match st.pending.get_mut(phone) {
            Some(p) if p.route == change.route => {
                if !change.release {
                    p.release_by = None;
                }
                p.tickets.push(ticket.clone());
            }
            Some(p) if p.release_by.is_some() && !change.release => {
                // A claim wins over a release in the same window; to the
                // route the releaser had it on, nothing is sent at all.
                let already_there = p.from_route.as_deref() == Some(change.route.as_str());
                for t in p.tickets.drain(..) {
                    t.resolve(handed_over(phone), None);
                }
                if already_there {
                    settle_pending(st, phone);
                    ticket.resolve(handed_over(phone), None);
                } else {
                    *p = pending_of(change, ticket);
                }
            }
            Some(_) if change.release => {
                ticket.resolve(handed_over(phone), None);
            }
            Some(_) => {
                // Two claims to different routes (refused at plan):
                // the later one is sent after the earlier one's job.
                st.blocked
                    .entry(phone.clone())
                    .or_default()
                    .push(pending_of(change, ticket));
            }
            None => {
                st.pending.insert(phone.clone(), pending_of(change, ticket));
                return true;
            }
        }
        false
    }

    fn start_flusher(&self, st: &mut RouteState) {
        if st.flusher_started {
            return;
        }
        st.flusher_started = true;
        if let Some(me) = self.me.upgrade() {
            tokio::spawn(async move { me.run_flusher().await });
        }
    }

    async fn run_flusher(self: Arc<Self>) {
        loop {
            let notified = self.wake.notified();
            let (batch, next) = self.take_ready(Instant::now());
            if !batch.is_empty() {
                let me = self.clone();
                tokio::spawn(async move { me.send(batch).await });
                continue;
            }
            match next {
                Some(at) => {
                    tokio::select! {
                        _ = notified => {}
                        _ = tokio::time::sleep_until(at.into()) => {}
                    }
                }
                None => notified.await,
            }
        }
    }

    /// The phones to send now, and when to look again otherwise.
    fn take_ready(&self, now: Instant) -> (Vec<(String, Pending)>, Option<Instant>) {
        let mut st = self.lock();
        let Some(first) = st.first_pending else {
            return (Vec::new(), None);
        };
        st.expected
            .retain(|_, at| now.duration_since(*at) < ANNOUNCEMENT_LIFETIME);
        let last = st.last_arrival.unwrap_or(first);
        let close_at = if !st.expected.is_empty() {
            first + MAX_WINDOW
        } else if st.last_announced {
            now
        } else {
            (last + QUIET).min(first + MAX_WINDOW)
        };
        if now >= close_at {
            let all = std::mem::take(&mut st.pending);
            st.first_pending = None;
            st.last_arrival = None;
            return (all.into_iter().collect(), None);
        }
        // Full batches of one route go at once.
        let mut per_route: BTreeMap<&str, Vec<&String>> = BTreeMap::new();
        for (phone, p) in &st.pending {
            per_route.entry(p.route.as_str()).or_default().push(phone);
        }
        let mut full: Vec<String> = Vec::new();
        for (route, phones) in &per_route {
            let max = PhonesTraffic::call(route).max_ids().max(1);
            let whole = phones.len() / max * max;
            full.extend(phones[..whole].iter().map(|s| (*s).clone()));
        }
        let batch: Vec<(String, Pending)> = full
            .into_iter()
            .filter_map(|p| st.pending.remove(&p).map(|x| (p, x)))
            .collect();
        if st.pending.is_empty() {
            st.first_pending = None;
            st.last_arrival = None;
        }
        (batch, Some(close_at))
    }

    /// Sends one gathered batch: releases of claimed phones are dropped, the
    /// rest is sent per route, 100 phones a call.
    async fn send(self: Arc<Self>, batch: Vec<(String, Pending)>) {
        let mut per_route: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let client = {
            let mut st = self.lock();
            for (phone, p) in batch {
                if let Some(owner) = &p.release_by
                    && self.claims.claimed_by_other(owner, &phone)
                {
                    for t in &p.tickets {
                        t.resolve(handed_over(&phone), None);
                    }
                    continue;
                }
                per_route
                    .entry(p.route.clone())
                    .or_default()
                    .push(phone.clone());
                st.in_flight.insert(
                    phone,
                    InFlight {
                        route: p.route,
                        job_id: None,
                        request_id: None,
                        tickets: p.tickets,
                    },
                );
            }
            st.client.clone()
        };
        let Some(client) = client else { return };
        let calls: Vec<(String, Vec<String>)> = per_route
            .into_iter()
            .flat_map(|(route, phones)| {
                let max = PhonesTraffic::call(&route).max_ids().max(1);
                phones
                    .chunks(max)
                    .map(|c| (route.clone(), c.to_vec()))
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut calls = calls.into_iter();
        // Until a call has been answered, the first goes alone: wrong
        // credentials then cost one refused call, not one per batch.
        if !self.lock().proven
            && let Some((route, phones)) = calls.next()
        {
            self.clone().call(&client, route, phones).await;
        }
        stream::iter(calls)
            .map(|(route, phones)| self.clone().call(&client, route, phones))
            .buffer_unordered(CONCURRENT_CALLS)
            .collect::<Vec<()>>()
            .await;
    }

    /// One `phones-traffic` call (through its batch kind,
    /// [`PhonesTraffic`]), unless the credentials or the account were
    /// refused.
    async fn call(self: Arc<Self>, client: &Client, route: String, phones: Vec<String>) {
        let refused = self.lock().refused.clone();
        let answer = match refused {
            Some(refusal) => Err(cph::Error::Config(refusal.why)),
            None => {
                let targets: Vec<Target> = phones.iter().map(|p| Target::id(p)).collect();
                PhonesTraffic::call(&route).send(client, &targets).await
            }
        };
        self.answered(client, &phones, answer);
    }
}

/// Fails every phone of `ticket` not yet resolved: the engine was refused
/// (credentials), so nothing more is sent.
fn refuse_all(ticket: &Arc<Waiter>, why: &str) {
    let phones: Vec<String> = ticket.lock().unresolved.iter().cloned().collect();
    for p in phones {
        ticket.resolve(failed(&p, None, why.to_string()), None);
    }
}

/// A release hands `phone` on to another owner's claim: a claim waiting
/// to put it on the route it is on needs no call, nor does one that comes
/// later in this process.
fn hand_on(st: &mut RouteState, change: &Change, phone: &str) {
    let Some(from) = &change.from_route else {
        return;
    };
    let waiting = st.pending.get(phone);
    if waiting.is_some_and(|p| p.release_by.is_none() && p.route == *from) {
        settle_pending(st, phone);
    } else if waiting.is_none() && !st.in_flight.contains_key(phone) {
        st.handed_on.insert(phone.to_string(), from.clone());
    }
}

/// The pending change of `phone` is done without a call (the phone is
/// already on its route).
fn settle_pending(st: &mut RouteState, phone: &str) {
    if let Some(p) = st.pending.remove(phone) {
        for t in p.tickets {
            t.resolve(handed_over(phone), None);
        }
    }
    if st.pending.is_empty() {
        st.first_pending = None;
        st.last_arrival = None;
    }
}

fn pending_of(change: &Change, ticket: &Arc<Waiter>) -> Pending {
    Pending {
        route: change.route.clone(),
        release_by: change.release.then(|| change.owner.clone()),
        from_route: change.from_route.clone().filter(|_| change.release),
        tickets: vec![ticket.clone()],
    }
}

fn handed_over(phone: &str) -> JobRecord {
    JobRecord {
        phone_id: phone.to_string(),
        job_id: None,
        status: JobStatus::Succeeded,
        error_code: None,
        error_msg: None,
    }
}

fn failed(phone: &str, code: Option<String>, msg: String) -> JobRecord {
    JobRecord {
        phone_id: phone.to_string(),
        job_id: None,
        status: JobStatus::Failed,
        error_code: code,
        error_msg: Some(msg),
    }
}

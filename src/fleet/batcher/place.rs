//! Where a submitted target goes: into its call's gathering, joined to the
//! job in flight it needs, behind a job it must wait for, or nowhere (handed
//! over); and the jobs an earlier run recorded, taken up as flights.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use super::{
    Batcher, Ended, Flight, Gathering, LaneId, Pend, Queued, Recorded, State, Submission, Tracker,
};
use crate::fleet::batch_call::{BatchCall, Target};

impl Batcher {
    /// Places one target of `sub` (merge key `key`); true when it starts a
    /// new pending target.
    pub(super) fn place(
        &self,
        st: &mut State,
        sub: &Submission,
        key: &str,
        tracker: &Arc<Tracker>,
        target: &Target,
    ) -> bool {
        let id = &target.id;
        let Some(lane) = sub.call.lane() else {
            return join_or_pend(st, key, &sub.call, new_pend(sub, tracker, target));
        };
        let lane_id: LaneId = (lane, id.clone());
        if sub.release && self.claims.claimed_by_other(&sub.owner, id) {
            tracker.end(id, Ended::handed_over());
            hand_on(st, sub, lane_id);
            return false;
        }
        if !sub.release
            && st.handed_on.remove(&lane_id).as_deref() == Some(key)
            && lane_flight(st, &lane_id).is_none()
            && !st.lane_pending.contains_key(&lane_id)
        {
            // Handed on by a release from this very place.
            tracker.end(id, Ended::handed_over());
            return false;
        }
        if let Some(f) = lane_flight(st, &lane_id).and_then(|n| st.flights.get_mut(&n)) {
            if f.key == key {
                join_flight(f, tracker);
            } else {
                block(st, lane_id, key, sub, tracker, target);
            }
            return false;
        }
        let Some(pending_key) = st.lane_pending.get(&lane_id).cloned() else {
            return join_or_pend(st, key, &sub.call, new_pend(sub, tracker, target));
        };
        let Some(p) = pending_mut(st, &pending_key, id) else {
            return false;
        };
        if pending_key == key {
            if !sub.release {
                p.release_by = None;
            }
            p.trackers.push(tracker.clone());
        } else if p.release_by.is_some() && !sub.release {
            // A claim wins over a release in the same window; to where the
            // releaser had it, nothing is sent at all.
            let already_there = p.from_key.as_deref() == Some(key);
            settle_pending(st, &pending_key, id);
            if already_there {
                tracker.end(id, Ended::handed_over());
            } else {
                return join_or_pend(st, key, &sub.call, new_pend(sub, tracker, target));
            }
        } else if sub.release {
            tracker.end(id, Ended::handed_over());
        } else {
            // Two claims to different places (refused at plan): the later
            // one is sent after the earlier one's job.
            block(st, lane_id, key, sub, tracker, target);
        }
        false
    }
}

fn new_pend(sub: &Submission, tracker: &Arc<Tracker>, target: &Target) -> Pend {
    Pend {
        target: target.clone(),
        trackers: vec![tracker.clone()],
        release_by: sub.release.then(|| sub.owner.clone()),
        from_key: sub.from_key.clone().filter(|_| sub.release),
    }
}

fn block(
    st: &mut State,
    lane_id: LaneId,
    key: &str,
    sub: &Submission,
    tracker: &Arc<Tracker>,
    target: &Target,
) {
    st.blocked.entry(lane_id).or_default().push_back(Queued {
        key: key.to_string(),
        call: sub.call.clone(),
        pend: new_pend(sub, tracker, target),
    });
}

fn join_flight(f: &mut Flight, tracker: &Arc<Tracker>) {
    match &f.request_id {
        Some(r) => tracker.answered(&f.target, r, f.job_id.as_deref()),
        None => tracker.on_the_way(&f.target),
    }
    f.trackers.push(tracker.clone());
}

/// Adds `pend` to the gathering of `key`, or joins the same target pending
/// there; true when it is new.
pub(super) fn join_or_pend(
    st: &mut State,
    key: &str,
    call: &Arc<dyn BatchCall>,
    pend: Pend,
) -> bool {
    let now = Instant::now();
    let g = st
        .pending
        .entry(key.to_string())
        .or_insert_with(|| Gathering {
            call: call.clone(),
            targets: BTreeMap::new(),
            first: now,
            last: now,
            last_announced: false,
        });
    let id = pend.target.id.clone();
    if let Some(p) = g.targets.get_mut(&id) {
        p.trackers.extend(pend.trackers);
        return false;
    }
    g.targets.insert(id.clone(), pend);
    if let Some(lane) = call.lane() {
        st.lane_pending.insert((lane, id), key.to_string());
    }
    true
}

/// A new target arrived in the gathering of `key` (announced or not).
pub(super) fn arrival(st: &mut State, key: &str, now: Instant, announced: bool) {
    if let Some(g) = st.pending.get_mut(key) {
        g.last = now;
        g.last_announced = announced;
    }
}

fn pending_mut<'a>(st: &'a mut State, key: &str, id: &str) -> Option<&'a mut Pend> {
    st.pending.get_mut(key)?.targets.get_mut(id)
}

/// The flight of a lane's target, if one is in flight.
pub(super) fn lane_flight(st: &State, (lane, id): &LaneId) -> Option<u64> {
    let flights = st.by_target.get(id)?;
    flights
        .iter()
        .copied()
        .find(|n| st.flights.get(n).and_then(|f| f.call.lane()) == Some(*lane))
}

/// A release hands `lane_id` on to another owner's claim: a claim waiting
/// to put it where the releaser had it needs no call, nor does one that
/// comes later in this process.
fn hand_on(st: &mut State, sub: &Submission, lane_id: LaneId) {
    let Some(from) = &sub.from_key else { return };
    match st.lane_pending.get(&lane_id).cloned() {
        Some(key) => {
            let claim = pending_mut(st, &key, &lane_id.1).is_some_and(|p| p.release_by.is_none());
            if claim && key == *from {
                settle_pending(st, &key, &lane_id.1);
            }
        }
        None if lane_flight(st, &lane_id).is_none() => {
            st.handed_on.insert(lane_id, from.clone());
        }
        None => {}
    }
}

/// The pending target `id` of `key` is done without a call: it is where it
/// was asked to be (or another submission takes its place).
fn settle_pending(st: &mut State, key: &str, id: &str) {
    let Some(g) = st.pending.get_mut(key) else {
        return;
    };
    if let Some(p) = g.targets.remove(id) {
        for t in p.trackers {
            t.end(id, Ended::handed_over());
        }
    }
    let (lane, empty) = (g.call.lane(), g.targets.is_empty());
    if empty {
        st.pending.remove(key);
    }
    if let Some(lane) = lane {
        st.lane_pending.remove(&(lane, id.to_string()));
    }
}

/// Forgets pending targets nobody waits for, and gatherings left empty.
pub(super) fn drop_unwanted(st: &mut State) {
    let mut gone: Vec<LaneId> = Vec::new();
    for g in st.pending.values_mut() {
        let lane = g.call.lane();
        g.targets.retain(|id, p| {
            let keep = !p.trackers.is_empty();
            if let (false, Some(lane)) = (keep, lane) {
                gone.push((lane, id.clone()));
            }
            keep
        });
    }
    st.pending.retain(|_, g| !g.targets.is_empty());
    for lane_id in gone {
        st.lane_pending.remove(&lane_id);
    }
}

/// Takes up the jobs an earlier run recorded: those of `sub`'s call are
/// waited for by `tracker` and not sent again, those of other calls hold
/// their targets back until they end. Returns the request ids to follow
/// (with their job counts) and the targets whose call's answer never came
/// (nothing to follow: they are sent again).
pub(super) fn adopt(
    st: &mut State,
    sub: &Submission,
    tracker: &Arc<Tracker>,
) -> (BTreeMap<String, usize>, Vec<Target>) {
    let mut follow: BTreeMap<String, usize> = BTreeMap::new();
    let mut resend = Vec::new();
    for r in &sub.running {
        if r.request_id.is_empty() {
            resend.push(Target::id(&r.target));
            continue;
        }
        tracker.answered(&r.target, &r.request_id, r.job_id.as_deref());
        let lane_id = sub.call.lane().map(|l| (l, r.target.clone()));
        let joined = lane_id.as_ref().and_then(|l| lane_flight(st, l));
        match joined.and_then(|n| st.flights.get_mut(&n)) {
            Some(f) => f.trackers.push(tracker.clone()),
            None => {
                take_up(st, &sub.call, r, vec![tracker.clone()]);
                *follow.entry(r.request_id.clone()).or_default() += 1;
            }
        }
    }
    for (call, r) in sub
        .elsewhere
        .iter()
        .filter(|(_, r)| !r.request_id.is_empty())
    {
        let lane_id = call.lane().map(|l| (l, r.target.clone()));
        if lane_id.as_ref().and_then(|l| lane_flight(st, l)).is_some() {
            continue;
        }
        take_up(st, call, r, Vec::new());
        *follow.entry(r.request_id.clone()).or_default() += 1;
    }
    (follow, resend)
}

/// A recorded job as a flight.
fn take_up(st: &mut State, call: &Arc<dyn BatchCall>, r: &Recorded, trackers: Vec<Arc<Tracker>>) {
    let flight = Flight {
        key: call.merge_key(),
        call: call.clone(),
        target: r.target.clone(),
        job_id: r.job_id.clone(),
        request_id: Some(r.request_id.clone()),
        trackers,
    };
    let n = st.add_flight(flight);
    st.by_request
        .entry(r.request_id.clone())
        .or_default()
        .push(n);
}

impl State {
    /// Registers a flight by its target (and job id, when known).
    pub(super) fn add_flight(&mut self, flight: Flight) -> u64 {
        let n = self.next_flight;
        self.next_flight += 1;
        self.by_target
            .entry(flight.target.clone())
            .or_default()
            .push(n);
        if let Some(j) = &flight.job_id {
            self.by_job.insert(j.clone(), n);
        }
        self.flights.insert(n, flight);
        n
    }

    /// Forgets flight `n`; what it was.
    pub(super) fn remove_flight(&mut self, n: u64) -> Option<Flight> {
        let f = self.flights.remove(&n)?;
        if let Some(list) = self.by_target.get_mut(&f.target) {
            list.retain(|m| *m != n);
            if list.is_empty() {
                self.by_target.remove(&f.target);
            }
        }
        if let Some(j) = &f.job_id {
            self.by_job.remove(j);
        }
        if let Some(r) = &f.request_id
            && let Some(list) = self.by_request.get_mut(r)
        {
            list.retain(|m| *m != n);
            if list.is_empty() {
                self.by_request.remove(r);
            }
        }
        Some(f)
    }
}

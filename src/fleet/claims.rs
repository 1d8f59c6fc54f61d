//! Who claims which phone, within one provider process.
//!
//! Every `cph_phone_route` instance is an *owner*, named by a token made at
//! its first plan and kept in its private state (not by its phone set: a
//! `create_before_destroy` replacement has the same phones as the instance it
//! replaces). A plan registers the phones the owner will hold and their
//! route; an apply confirms them. The batcher asks two questions of the
//! registry: may a release send `direct` to this phone (only when no other
//! owner claims it), and which phones are claimed by two owners at once
//! (refused at plan).
//!
//! What the registry assumes about Terraform's calls (each with a test):
//!
//! - C1. Terraform plans one resource instance at most once at a time: a
//!   second plan of it starts only after the first returned (a plan walk and
//!   the apply walk's plan, `terraform test`'s runs, `terraform console`).
//! - C2. A create's plan has no prior state and no private state, so every
//!   plan of a resource not yet created makes a new owner token. Its claim is
//!   *provisional*: the plan may be thrown away (a plan-only run, a plan walk
//!   whose apply walk plans again in the same process, a failed apply).
//!   A provisional claim therefore counts only for plans running at the same
//!   time as it ([`Claims::overlaps`]) and, for releases, only while its plan
//!   runs ([`Claims::claimed_by_other`]); by C1 a resource planned again never
//!   meets its own earlier plan. Two new resources planned one after the
//!   other (the second only once the first's plan returned) are told at
//!   apply instead: the second's apply-time plan meets the first's held
//!   claim.
//! - C3. A resource with state keeps its token (private state) for life, so
//!   its plans replace its own claim; its claim counts always (*held*).
//! - C4. An apply claims before it sends ([`Claims::register`] from
//!   `Fleet::hold`): the claim is then held, whatever its plan was.
//! - C5. A destroy ends with [`Claims::forget`]; nothing else removes a held
//!   claim.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// How long a plan waits after the last claim registered anywhere before it
/// looks for overlaps, so that resources Terraform plans at the same time see
/// each other.
pub const QUIET_BEFORE_OVERLAP_CHECK: Duration = Duration::from_millis(25);
/// The longest such wait.
pub const MAX_OVERLAP_WAIT: Duration = Duration::from_millis(150);

/// How long a finished provisional claim is kept after its plan returned:
/// past it, no plan that ran at the same time is still looking (see
/// [`MAX_OVERLAP_WAIT`]).
const PROVISIONAL_KEPT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
struct Claim {
    /// The resource's id when it has one (shown to users).
    id: Option<String>,
    phones: BTreeSet<String>,
    route: Option<String>,
    /// When the claim was registered.
    since: Instant,
    /// For a create's plan (C2): `None` while the plan runs, then when it
    /// returned. `Some(..)` claims are provisional.
    plan_ended: Option<Option<Instant>>,
}

impl Claim {
    /// Whether this claim counts for a plan registered at `asker_since`:
    /// held claims always, provisional ones when the two plans overlapped.
    fn counts_for_plan(&self, asker_since: Instant) -> bool {
        match self.plan_ended {
            None | Some(None) => true,
            Some(Some(ended)) => ended > asker_since,
        }
    }

    /// Whether this claim counts for a release now: held claims, and
    /// provisional ones while their plan runs.
    fn counts_now(&self) -> bool {
        !matches!(self.plan_ended, Some(Some(_)))
    }
}

/// Phones another owner claims together with the asking owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlap {
    /// The other owner's resource id, when it has one.
    pub other_id: Option<String>,
    pub other_route: Option<String>,
    pub phones: Vec<String>,
}

#[derive(Default)]
struct Inner {
    owners: HashMap<String, Claim>,
    /// phone -> owners claiming it (almost always one: a shared name, not a
    /// set and a copy of the name per phone, which at 20,000 phones was a
    /// sixth of the provider's heap).
    by_phone: HashMap<String, Vec<Arc<str>>>,
    last_registration: Option<Instant>,
}

/// The per-process registry of claims.
#[derive(Default)]
pub struct Claims {
    inner: Mutex<Inner>,
    registered: Notify,
}

impl Claims {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records that `owner` holds exactly `phones` on `route` (replacing what
    /// it held before): a held claim (C3, C4).
    pub fn register(
        &self,
        owner: &str,
        id: Option<&str>,
        phones: &BTreeSet<String>,
        route: Option<&str>,
    ) {
        self.put(owner, id, phones, route, None);
    }

    /// Records the claim of a plan: provisional for a create's plan (no
    /// `id`, C2) until [`Claims::plan_returned`], held otherwise.
    pub fn register_plan(
        &self,
        owner: &str,
        id: Option<&str>,
        phones: &BTreeSet<String>,
        route: Option<&str>,
    ) {
        let provisional = id.is_none().then_some(None);
        self.put(owner, id, phones, route, provisional);
    }

    /// The plan of `owner` has returned: a provisional claim stops counting
    /// for later plans and for releases.
    pub fn plan_returned(&self, owner: &str) {
        let mut inner = self.lock();
        if let Some(Some(ended @ None)) = inner.owners.get_mut(owner).map(|c| &mut c.plan_ended) {
            *ended = Some(Instant::now());
        }
    }

    fn put(
        &self,
        owner: &str,
        id: Option<&str>,
        phones: &BTreeSet<String>,
        route: Option<&str>,
        plan_ended: Option<Option<Instant>>,
    ) {
        let mut inner = self.lock();
        prune_provisional(&mut inner);
        let previous = inner.owners.remove(owner);
        if let Some(prev) = previous {
            for p in prev.phones.difference(phones) {
                unindex(&mut inner.by_phone, p, owner);
            }
        }
        let name: Arc<str> = Arc::from(owner);
        for p in phones {
            match inner.by_phone.get_mut(p) {
                Some(owners) if owners.iter().any(|o| **o == *owner) => {}
                Some(owners) => owners.push(name.clone()),
                None => {
                    inner.by_phone.insert(p.clone(), vec![name.clone()]);
                }
            }
        }
        inner.owners.insert(
            owner.to_string(),
            Claim {
                id: id.map(str::to_string),
                phones: phones.clone(),
                route: route.map(str::to_string),
                since: Instant::now(),
                plan_ended,
            },
        );
        inner.last_registration = Some(Instant::now());
        drop(inner);
        self.registered.notify_waiters();
    }

    /// `owner` no longer holds `phones`.
    pub fn release(&self, owner: &str, phones: &BTreeSet<String>) {
        let mut inner = self.lock();
        for p in phones {
            unindex(&mut inner.by_phone, p, owner);
        }
        if let Some(c) = inner.owners.get_mut(owner) {
            c.phones.retain(|p| !phones.contains(p));
        }
    }

    /// `owner` is gone (destroyed).
    pub fn forget(&self, owner: &str) {
        let mut inner = self.lock();
        if let Some(prev) = inner.owners.remove(owner) {
            for p in &prev.phones {
                unindex(&mut inner.by_phone, p, owner);
            }
        }
    }

    /// Whether an owner other than `owner` claims `phone` (a provisional
    /// claim only while its plan runs).
    pub fn claimed_by_other(&self, owner: &str, phone: &str) -> bool {
        let inner = self.lock();
        inner.by_phone.get(phone).is_some_and(|o| {
            o.iter()
                .any(|x| **x != *owner && inner.owners.get(&**x).is_some_and(Claim::counts_now))
        })
    }

    /// The phones of `owner` that other owners claim too, grouped by owner;
    /// a provisional claim counts when its plan and `owner`'s overlapped.
    pub fn overlaps(&self, owner: &str) -> Vec<Overlap> {
        let inner = self.lock();
        let Some(mine) = inner.owners.get(owner) else {
            return Vec::new();
        };
        let counts = |o: &str| {
            inner
                .owners
                .get(o)
                .is_some_and(|c| c.counts_for_plan(mine.since))
        };
        let mut by_other: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for p in &mine.phones {
            if let Some(owners) = inner.by_phone.get(p) {
                for o in owners.iter().filter(|o| ***o != *owner && counts(o)) {
                    by_other.entry(o).or_default().push(p.clone());
                }
            }
        }
        by_other
            .into_iter()
            .map(|(o, phones)| {
                let other = inner.owners.get(o);
                Overlap {
                    other_id: other.and_then(|c| c.id.clone()),
                    other_route: other.and_then(|c| c.route.clone()),
                    phones,
                }
            })
            .collect()
    }

    /// Waits until no claim has been registered for
    /// [`QUIET_BEFORE_OVERLAP_CHECK`], at most [`MAX_OVERLAP_WAIT`].
    pub async fn settle(&self) {
        let started = Instant::now();
        loop {
            let notified = self.registered.notified();
            let last = self.lock().last_registration.unwrap_or(started);
            let quiet_until = last.max(started) + QUIET_BEFORE_OVERLAP_CHECK;
            let limit = started + MAX_OVERLAP_WAIT;
            let now = Instant::now();
            if now >= quiet_until || now >= limit {
                return;
            }
            let until = quiet_until.min(limit);
            tokio::select! {
                _ = notified => {}
                _ = tokio::time::sleep_until(until.into()) => {}
            }
        }
    }
}

/// Drops provisional claims whose plan returned long enough ago that no
/// plan running with it can still be looking.
fn prune_provisional(inner: &mut Inner) {
    let stale: Vec<String> = inner
        .owners
        .iter()
        .filter(|(_, c)| matches!(c.plan_ended, Some(Some(at)) if at.elapsed() > PROVISIONAL_KEPT))
        .map(|(o, _)| o.clone())
        .collect();
    for owner in stale {
        if let Some(prev) = inner.owners.remove(&owner) {
            for p in &prev.phones {
                unindex(&mut inner.by_phone, p, &owner);
            }
        }
    }
}

fn unindex(by_phone: &mut HashMap<String, Vec<Arc<str>>>, phone: &str, owner: &str) {
    if let Some(owners) = by_phone.get_mut(phone) {
        owners.retain(|o| **o != *owner);
        if owners.is_empty() {
            by_phone.remove(phone);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ids: &[&str]) -> BTreeSet<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn overlaps_name_both_sides_and_moves_are_not_overlaps() {
        let c = Claims::default();
        c.register("a", Some("route-a"), &set(&["p1", "p2"]), Some("routing"));
        c.register("b", None, &set(&["p2", "p3"]), Some("direct"));
        let a = c.overlaps("a");
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].other_id, None);
        assert_eq!(a[0].phones, vec!["p2".to_string()]);
        assert_eq!(c.overlaps("b")[0].other_id.as_deref(), Some("route-a"));
        // a gives p2 up (a move to b): no overlap left.
        c.register("a", Some("route-a"), &set(&["p1"]), Some("routing"));
        assert!(c.overlaps("a").is_empty() && c.overlaps("b").is_empty());
        assert!(c.claimed_by_other("a", "p2"));
        assert!(!c.claimed_by_other("b", "p2"));
        c.forget("b");
        assert!(!c.claimed_by_other("a", "p2"));
        c.release("a", &set(&["p1"]));
        assert!(!c.claimed_by_other("b", "p1"));
    }

    /// C1, C2: a create planned again in one process (each plan with its
    /// own token) never meets its earlier plan, and that plan holds no phone
    /// back from a release; two creates planned together still meet.
    #[test]
    fn a_create_planned_again_is_not_its_own_rival() {
        let c = Claims::default();
        c.register_plan("plan-walk", None, &set(&["p1", "p2"]), Some("routing"));
        c.plan_returned("plan-walk");
        c.register_plan("apply-walk", None, &set(&["p2", "p3"]), Some("routing"));
        assert!(c.overlaps("apply-walk").is_empty());
        c.plan_returned("apply-walk");
        c.register("apply-walk", None, &set(&["p2", "p3"]), Some("routing"));
        c.register("old", Some("route-old"), &set(&["p1"]), Some("routing"));
        assert!(!c.claimed_by_other("old", "p1"), "a returned plan keeps p1");
        assert!(c.claimed_by_other("old", "p2"), "a held claim keeps p2");
    }

    /// C2: plans running at the same time meet, whichever returns first.
    #[test]
    fn creates_planned_together_meet_both_ways() {
        let c = Claims::default();
        c.register_plan("a", None, &set(&["p1", "p2"]), Some("routing"));
        c.register_plan("b", None, &set(&["p2"]), Some("direct"));
        assert!(c.claimed_by_other("a", "p2"));
        assert_eq!(c.overlaps("a").len(), 1);
        c.plan_returned("a");
        assert_eq!(c.overlaps("b")[0].phones, vec!["p2".to_string()]);
        c.plan_returned("b");
        assert!(!c.claimed_by_other("a", "p2"));
    }

    /// C3, C4: a claim with an id (a resource with state), or one an apply
    /// made, counts for every later plan.
    #[test]
    fn held_claims_count_for_later_plans() {
        let c = Claims::default();
        c.register_plan("r", Some("route-r"), &set(&["p1"]), Some("routing"));
        c.plan_returned("r");
        c.register_plan("n", None, &set(&["p1"]), Some("routing"));
        assert_eq!(c.overlaps("n")[0].other_id.as_deref(), Some("route-r"));
        c.plan_returned("n");
        c.register("n", None, &set(&["p1"]), Some("routing"));
        c.register_plan("m", None, &set(&["p1"]), Some("routing"));
        assert_eq!(c.overlaps("m").len(), 2);
    }

    #[tokio::test]
    async fn settle_returns_after_a_quiet_period() {
        let c = Claims::default();
        let t = Instant::now();
        c.settle().await;
        let waited = t.elapsed();
        assert!(waited >= QUIET_BEFORE_OVERLAP_CHECK, "{waited:?}");
        assert!(waited < MAX_OVERLAP_WAIT + Duration::from_millis(100));
    }
}

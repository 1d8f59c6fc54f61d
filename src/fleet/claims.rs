//! Who claims which phone, within one provider process.
//!
//! Every `cph_phone_route` instance is an *owner*, named by a token made at
//! its first plan and kept in its private state (not by its phone set: a
//! `create_before_destroy` replacement has the same phones as the instance it
//! replaces). A plan registers the phones the owner will hold and their
//! route; an apply confirms them. The coordinator asks two questions of the
//! registry: may a release send `direct` to this phone (only when no other
//! owner claims it), and which phones are claimed by two owners at once
//! (refused at plan).

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

#[derive(Debug, Clone)]
struct Claim {
    /// The resource's id when it has one (shown to users).
    id: Option<String>,
    phones: BTreeSet<String>,
    route: Option<String>,
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
    /// it held before).
    pub fn register(
        &self,
        owner: &str,
        id: Option<&str>,
        phones: &BTreeSet<String>,
        route: Option<&str>,
    ) {
        let mut inner = self.lock();
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

    /// Whether an owner other than `owner` claims `phone`.
    pub fn claimed_by_other(&self, owner: &str, phone: &str) -> bool {
        self.lock()
            .by_phone
            .get(phone)
            .is_some_and(|o| o.iter().any(|x| **x != *owner))
    }

    /// The phones of `owner` that other owners claim too, grouped by owner.
    pub fn overlaps(&self, owner: &str) -> Vec<Overlap> {
        let inner = self.lock();
        let Some(mine) = inner.owners.get(owner) else {
            return Vec::new();
        };
        let mut by_other: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for p in &mine.phones {
            if let Some(owners) = inner.by_phone.get(p) {
                for o in owners.iter().filter(|o| ***o != *owner) {
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

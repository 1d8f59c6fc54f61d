//! Phone listings shared within one Terraform command.
//!
//! Terraform refreshes many resources in parallel; when fifty routes live on
//! the same servers, each server's phones should be listed once, not fifty
//! times. Concurrent readers of one server wait for a single listing, which
//! then serves for a few seconds. A route change or an action on phones
//! made by this provider drops every listing, so nobody reads their own
//! writes stale.
//!
//! Plans check that the phone ids they are given exist
//! ([`PhoneListingCache::unknown_phones`]) against one listing of the whole
//! project, the *census*, made at the first check of the process and kept
//! for every later check however long the plan takes: one paged listing per
//! provider process per plan, whatever the number of resources and actions.
//! It is made again only after this process changed phones, or when a
//! check finds ids it lacks and it is older than a listing serves others
//! (so a phone made since is not refused).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

use crate::cph::models::{Phone, PhoneQuery};
use crate::cph::{self, Client};

/// How long a listing serves other readers.
const FRESH_FOR: Duration = Duration::from_secs(5);

/// The key of a listing of the whole project.
const WHOLE_PROJECT: &str = "";

struct Listing {
    started: Instant,
    phones: OnceCell<Arc<Vec<Phone>>>,
}

#[derive(Default)]
pub struct PhoneListingCache {
    listings: Mutex<HashMap<String, Arc<Listing>>>,
    census: Mutex<Option<Arc<Listing>>>,
    /// Why the API refused the census's credentials: later checks of the
    /// process are told the same without a call.
    census_refused: Mutex<Option<Arc<str>>>,
}

/// Why [`PhoneListingCache::unknown_phones`] could not check.
#[derive(Debug, thiserror::Error)]
pub enum CensusError {
    /// The API refused the credentials (told once per process: later
    /// checks get the same answer without a call).
    #[error("{0}")]
    Refused(Arc<str>),
    #[error(transparent)]
    Api(#[from] cph::Error),
}

/// Ids that name no phone of the project, from
/// [`PhoneListingCache::unknown_phones`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnknownPhones {
    /// Ids of servers of the project, given where a phone id belongs.
    pub servers: Vec<String>,
    /// Ids that are neither a phone nor a server of the project.
    pub missing: Vec<String>,
}

impl UnknownPhones {
    pub fn is_empty(&self) -> bool {
        self.servers.is_empty() && self.missing.is_empty()
    }

    fn of(phones: &[Phone], ids: &BTreeSet<String>) -> UnknownPhones {
        let known: HashSet<&str> = phones.iter().map(|p| p.phone_id.as_str()).collect();
        let servers: HashSet<&str> = phones.iter().map(|p| p.server_id.as_str()).collect();
        let mut out = UnknownPhones::default();
        for id in ids.iter().filter(|id| !known.contains(id.as_str())) {
            if servers.contains(id.as_str()) {
                out.servers.push(id.clone());
            } else {
                out.missing.push(id.clone());
            }
        }
        out
    }
}

impl PhoneListingCache {
    /// Every phone of `server_id` (or of the project, for `None`).
    pub async fn phones(
        &self,
        client: &Client,
        server_id: Option<&str>,
    ) -> cph::Result<Arc<Vec<Phone>>> {
        let key = server_id.unwrap_or(WHOLE_PROJECT).to_string();
        let listing = {
            let mut map = self.listings.lock().unwrap_or_else(|p| p.into_inner());
            let fresh = map
                .get(&key)
                .filter(|l| l.started.elapsed() < FRESH_FOR)
                .cloned();
            match fresh {
                Some(l) => l,
                None => {
                    let l = Arc::new(Listing {
                        started: Instant::now(),
                        phones: OnceCell::new(),
                    });
                    map.insert(key.clone(), l.clone());
                    l
                }
            }
        };
        let query = PhoneQuery {
            server_id: server_id.map(str::to_string),
            ..Default::default()
        };
        listing
            .phones
            .get_or_try_init(|| async { client.list_all_phones(&query).await.map(Arc::new) })
            .await
            .cloned()
    }

    /// The ids among `ids` that name no phone of the project (server ids
    /// apart), from the census (see the module documentation). No call when
    /// `ids` is empty.
    pub async fn unknown_phones(
        &self,
        client: &Client,
        ids: &BTreeSet<String>,
    ) -> Result<UnknownPhones, CensusError> {
        if ids.is_empty() {
            return Ok(UnknownPhones::default());
        }
        let refused = self
            .census_refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(why) = refused {
            return Err(CensusError::Refused(why));
        }
        let (census, phones) = match self.census(client, None).await {
            Ok(found) => found,
            Err(e) if e.is_auth_refusal() => {
                let why: Arc<str> = Arc::from(e.to_string());
                *self
                    .census_refused
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()) = Some(why.clone());
                return Err(CensusError::Refused(why));
            }
            Err(e) => return Err(e.into()),
        };
        let unknown = UnknownPhones::of(&phones, ids);
        if unknown.is_empty() || census.started.elapsed() < FRESH_FOR {
            return Ok(unknown);
        }
        let (_, phones) = self.census(client, Some(&census)).await?;
        Ok(UnknownPhones::of(&phones, ids))
    }

    /// The census, listed at most once at a time; `stale` is replaced by a
    /// new one (unless another caller replaced it already).
    async fn census(
        &self,
        client: &Client,
        stale: Option<&Arc<Listing>>,
    ) -> cph::Result<(Arc<Listing>, Arc<Vec<Phone>>)> {
        let census = {
            let mut slot = self.census.lock().unwrap_or_else(|p| p.into_inner());
            match slot.as_ref() {
                Some(c) if !stale.is_some_and(|s| Arc::ptr_eq(s, c)) => c.clone(),
                _ => {
                    let c = Arc::new(Listing {
                        started: Instant::now(),
                        phones: OnceCell::new(),
                    });
                    *slot = Some(c.clone());
                    c
                }
            }
        };
        let query = PhoneQuery::default();
        let phones = census
            .phones
            .get_or_try_init(|| async { client.list_all_phones(&query).await.map(Arc::new) })
            .await?
            .clone();
        Ok((census, phones))
    }

    /// Forgets every listing (the census too).
    pub fn clear(&self) {
        self.listings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        *self.census.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(id: &str, server: &str) -> Phone {
        Phone {
            phone_id: id.into(),
            server_id: server.into(),
            ..Default::default()
        }
    }

    #[test]
    fn unknown_ids_are_told_apart_as_servers_or_missing() {
        let phones = [phone("p1", "s1"), phone("p2", "s1"), phone("p3", "s2")];
        let ids: BTreeSet<String> = ["p1", "s1", "nope", "p3", "s2"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let u = UnknownPhones::of(&phones, &ids);
        assert_eq!(u.servers, vec!["s1".to_string(), "s2".to_string()]);
        assert_eq!(u.missing, vec!["nope".to_string()]);
        let all_known: BTreeSet<String> = ["p2".to_string()].into();
        assert!(UnknownPhones::of(&phones, &all_known).is_empty());
    }
}

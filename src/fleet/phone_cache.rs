//! Phone listings shared within one Terraform command.
//!
//! Terraform refreshes many resources in parallel; when fifty routes live on
//! the same servers, each server's phones should be listed once, not fifty
//! times. Concurrent readers of one server wait for a single listing, which
//! then serves for a few seconds. A route change or an action on phones
//! made by this provider drops every listing, so nobody reads their own
//! writes stale.

use std::collections::HashMap;
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

    /// Forgets every listing.
    pub fn clear(&self) {
        self.listings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

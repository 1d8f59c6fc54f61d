//! The fleet engine: one per provider process, shared by every resource.
//!
//! Terraform applies the instances of a module's `for_each` in parallel, each
//! through its own `ApplyResourceChange`; alone, each would call and poll for
//! itself, and two resources handing a phone over would race. The engine
//! owns what those calls share, each rule in one module: the
//! [batcher](batcher), through which every batch call of the process goes
//! (route changes and the actions' calls alike): it merges concurrent
//! submissions into calls of at most 100 ids per [batch kind](batch_call),
//! keeps one route job per phone in flight, hands phones over between
//! resources, and stops on refused credentials; the [route
//! changes](coordinator) and the actions' [operations](operations) are its
//! two faces. The [poller](poller) follows every request id of the batcher
//! with as few list-jobs reads as the jobs allow (and the polling interval
//! the order tracker shares); the [claims](claims) say which resource holds
//! which phone (handover and overlap checks); the [phone
//! listings](phone_cache) are shared by reads; [routing](routing) has the
//! outcome types and route reads; the flavor [catalogue](catalogue) is read
//! once for every plan check ([flavor check](flavor_check)); the [flavor
//! orders](flavor_orders) are the lifecycle of a server's flavor-change
//! order as a state machine, its history handed to a replacement; the
//! [order tracker](orders) follows orders through BSS (on its
//! [schedule](order_schedule)). What the engine assumes
//! about the order in which Terraform calls the provider is written down,
//! with a test each, in [call_orders] (and [flavor_orders] for flavors).
//! It knows CPH through the client's public methods only, and Terraform not
//! at all.

pub mod batch_call;
pub mod batcher;
pub mod call_orders;
pub mod catalogue;
pub mod claims;
pub mod coordinator;
pub mod flavor_check;
pub mod flavor_orders;
pub mod operations;
pub mod order_schedule;
pub mod orders;
pub mod phone_cache;
pub mod poller;
pub mod routing;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use batcher::Batcher;
use catalogue::CatalogueCache;
pub use claims::{Claims, Overlap};
pub use coordinator::{Change, ChangeOutcome, DEFAULT_ROUTE, RunningJob};
use flavor_orders::OrderBook;
use operations::Operations;
use phone_cache::PhoneListingCache;
use poller::Poller;
pub use routing::WaitEnded;

use crate::cph::Client;

/// The engine of one provider process.
pub struct Fleet {
    claims: Arc<Claims>,
    batcher: Arc<Batcher>,
    operations: Operations,
    phones: PhoneListingCache,
    catalogue: CatalogueCache,
    flavor_orders: OrderBook,
}

impl Default for Fleet {
    fn default() -> Self {
        let claims = Arc::new(Claims::default());
        // One batcher and one poller for every call and job of the process,
        // route and action alike.
        let batcher = Batcher::new(claims.clone(), Poller::shared());
        Fleet {
            operations: Operations::on(batcher.clone()),
            batcher,
            claims,
            phones: PhoneListingCache::default(),
            catalogue: CatalogueCache::default(),
            flavor_orders: OrderBook::default(),
        }
    }
}

impl Fleet {
    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    pub fn phone_listings(&self) -> &PhoneListingCache {
        &self.phones
    }

    /// The batcher of the actions' calls (and any other batch kind).
    pub fn operations(&self) -> &Operations {
        &self.operations
    }

    /// The flavor catalogue, read once per process.
    pub fn catalogue(&self) -> &CatalogueCache {
        &self.catalogue
    }

    /// The flavor-change orders, by server.
    pub fn flavor_orders(&self) -> &OrderBook {
        &self.flavor_orders
    }

    /// A plan of `owner`: registers the phones it will hold on `route`
    /// (provisionally for a create, which has no `id`: see [`claims`]),
    /// waits until concurrently planned resources have registered theirs,
    /// and returns the phones another owner claims too. `announce` tells the
    /// batcher that this owner's apply will ask for a change.
    pub async fn plan_claim(
        &self,
        owner: &str,
        id: Option<&str>,
        phones: &BTreeSet<String>,
        route: Option<&str>,
        announce: bool,
    ) -> Vec<Overlap> {
        self.claims.register_plan(owner, id, phones, route);
        // Marks the plan returned even when the call is dropped.
        let _returned = PlanReturned(&self.claims, owner);
        if announce {
            self.batcher.expect(owner);
        }
        self.claims.settle().await;
        self.claims.overlaps(owner)
    }

    /// Routes phones (or releases them) through the batcher; see
    /// [`coordinator::change`]. Claims are the caller's: [`Fleet::hold`]
    /// before a change, [`Fleet::forget`] after a delete.
    pub async fn change(
        &self,
        client: &Client,
        change: Change,
        deadline: Instant,
        cancel: &CancellationToken,
    ) -> ChangeOutcome {
        if change.phones.is_empty() && change.running.is_empty() {
            self.batcher.arrived(&change.owner);
            return ChangeOutcome::default();
        }
        let outcome = coordinator::change(&self.batcher, client, change, deadline, cancel).await;
        self.phones.clear();
        outcome
    }

    /// `owner` holds `phones` on `route` from now on (its apply succeeded or
    /// partly succeeded).
    pub fn hold(&self, owner: &str, id: Option<&str>, phones: &BTreeSet<String>, route: &str) {
        self.claims.register(owner, id, phones, Some(route));
    }

    /// `owner` is gone.
    pub fn forget(&self, owner: &str) {
        self.claims.forget(owner);
    }
}

/// Tells the claims that a plan returned, when dropped.
struct PlanReturned<'a>(&'a Claims, &'a str);

impl Drop for PlanReturned<'_> {
    fn drop(&mut self) {
        self.0.plan_returned(self.1);
    }
}

/// A duration the way Terraform users read them (Go's `time.Duration`):
/// the framework's, which also parses them.
pub use tf_framework::duration::format as go_duration;

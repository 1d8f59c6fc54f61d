//! The lifecycle of flavor-change orders, one server at a time: what an
//! apply does about a server's flavors ([`Step`]), what becomes of its order
//! ([`OrderState`] and its transitions), what the state records of the
//! server ([`Record`]), and the history a replacement of the resource
//! inherits ([`History`], handed over by the [`OrderBook`]).
//!
//! A `cph_server_flavor` keeps, beyond the flavors its server shows, what
//! Terraform cannot learn again from the API: the flavors before Terraform
//! first managed the server (`original_*`), the last order and the order
//! still pending. The state and the private state carry them from one run
//! to the next; this module carries them from a resource instance to its
//! replacement, which Terraform plans and creates with no prior state.
//!
//! # How Terraform calls a provider process (what this module relies on)
//!
//! - **T1.** Plan and apply run in different provider processes (every
//!   graph walk starts its own): nothing kept in memory here survives from a
//!   plan to its apply. The planned private state is what travels.
//! - **T2.** In the plan walk an instance is refreshed (`ReadResource`)
//!   before it is planned, tainted instances included, unless
//!   `-refresh=false` (Terraform 0.15.4 and later; before, the refresh was
//!   a walk, and a process, of its own: then T3 finds nothing, and a tainted
//!   instance's replacement inherits its originals and order ids through T5
//!   but not its pending order). The refresh is [`OrderBook::refresh`];
//!   a refresh that finds the server gone records it
//!   ([`OrderBook::vanished`]), so that the create planned next for it is
//!   told from a new resource (a warning at plan, not an error).
//! - **T3.** A tainted instance is planned as a create: null prior state and
//!   no prior private state. So its history comes from its refresh (T2),
//!   through [`OrderBook::refreshed`] then [`OrderBook::for_replacement`].
//! - **T4.** A forced replacement (`-replace`, `replace_triggered_by`, an
//!   attribute that requires replacement) is planned twice: with the prior
//!   state, then with a null prior state and the first plan's planned
//!   private state as prior private state. So a plan with a prior state
//!   puts the history into the planned private state
//!   ([`OrderBook::plan_history`], [`History::for_plan`]).
//! - **T5.** In the apply walk, a replacement's destroy half (an apply with
//!   a null planned state) gets the plan's private state and runs before the
//!   create half, unless `create_before_destroy`. The create half is planned
//!   again just before it is applied, with a null prior state and no prior
//!   private state, and its apply gets that second plan's private state. So
//!   the destroy half leaves the history here ([`OrderBook::released`]), the
//!   second plan takes it into its private state, and the create follows
//!   ([`OrderBook::starting_point`]).
//! - **T6.** With `create_before_destroy` the create half runs before the
//!   destroy half (T5 does not hold): the replacement finds no history and
//!   records the flavors the server shows as its originals.
//! - **T7.** A create that returns an error with a state is tainted; an
//!   update that does is not. Both keep their pending order in the private
//!   state, so the next apply follows that order (a tainted one through
//!   T3 and T5).
//!
//! `cph_server_flavor` calls the [`OrderBook`] at each of these points and
//! decides nothing about orders itself. The unit tests below play each of
//! these call orders against the [`OrderBook`] (their doc comments name the
//! assumptions);
//! `tests/acc_flavor_orders.rs` runs them with the real terraform (a tainted
//! create paid out of band, `-replace`, `taint`, `replace_triggered_by`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

mod change;
pub use change::*;

use super::flavor_check::{Finding, Severity};
use super::go_duration;
use super::orders::{Follow, FollowError, OrderFate, OrderTracker, bss_unreadable_warning};
use super::routing::WaitEnded;
use crate::cph::models::{ChangeServerModelRequest, ExtendParam, SERVER_STATUS_NORMAL, Server};
use crate::cph::{self, Client};

/// A server flavor and a phone flavor, as a server shows them or an order
/// aims at them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flavors {
    pub server_model_name: String,
    pub phone_model_name: String,
}

impl Flavors {
    /// What `server` shows now.
    pub fn of(server: &Server) -> Flavors {
        Flavors {
            server_model_name: server.server_model_name.clone(),
            phone_model_name: server.phone_model_name.clone(),
        }
    }

    pub fn shown_by(&self, server: &Server) -> bool {
        self.server_model_name == server.server_model_name
            && self.phone_model_name == server.phone_model_name
    }
}

/// An order placed by the resource and not yet seen applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingOrder {
    pub order_id: String,
    #[serde(flatten)]
    pub target: Flavors,
}

/// Where a server's order stands for its resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum OrderState {
    /// No order is pending: the server shows what the last order made of it.
    #[default]
    Settled,
    /// An order was placed and not yet seen applied.
    Pending(PendingOrder),
}

impl OrderState {
    pub fn from_recorded(pending: Option<PendingOrder>) -> OrderState {
        pending.map_or(OrderState::Settled, OrderState::Pending)
    }

    pub fn into_recorded(self) -> Option<PendingOrder> {
        match self {
            OrderState::Settled => None,
            OrderState::Pending(p) => Some(p),
        }
    }

    /// A refresh: the server shows the pending order's target, so the order
    /// is over.
    pub fn refreshed(self, server: &Server) -> OrderState {
        match self {
            OrderState::Pending(p) if p.target.shown_by(server) => OrderState::Settled,
            other => other,
        }
    }

    /// BSS says the order was cancelled or never existed: it will never
    /// change the server, so another may be placed.
    pub fn judged(self, fate: &OrderFate) -> OrderState {
        match self {
            OrderState::Pending(_) if fate.is_gone() => OrderState::Settled,
            other => other,
        }
    }

    /// How following the order ended: seen applied or over, it is settled;
    /// a wait that ended (timeout, stop, read failure) keeps it pending.
    pub fn followed(self, ended: &Result<Server, FollowError>) -> OrderState {
        match ended {
            Ok(_) => OrderState::Settled,
            Err(e) if e.order_is_over() => OrderState::Settled,
            Err(_) => self,
        }
    }
}

/// What an apply does about a server's flavors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The server shows the target and runs normally: nothing to do.
    Done,
    /// Follow the order placed by an earlier apply.
    Follow(PendingOrder),
    /// The server is busy with an order whose id is not recorded (it shows
    /// the target but is not normal yet, or CPH refused a second order):
    /// watch the server until it shows the target.
    WatchServer,
    /// Place an order.
    Place,
}

impl Step {
    /// Decided from the server's detail and the order state.
    pub fn decide(server: &Server, target: &Flavors, state: &OrderState) -> Step {
        let shown = target.shown_by(server);
        if shown && server.status == SERVER_STATUS_NORMAL {
            return Step::Done;
        }
        match state {
            OrderState::Pending(p) if p.target == *target => Step::Follow(p.clone()),
            _ if shown => Step::WatchServer,
            _ => Step::Place,
        }
    }
}

/// The ids of an order (as the state records them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderIds {
    pub order_id: Option<String>,
    pub product_id: Option<String>,
}

/// What a resource instance knows of its server beyond what the server
/// shows, for a replacement of the same server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    pub server_id: String,
    /// The flavors before Terraform first managed the server.
    pub original: Flavors,
    #[serde(default)]
    pub last_order: OrderIds,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<PendingOrder>,
}

impl History {
    /// The history a plan carries in its private state (T4): that of the
    /// prior instance, or, for a create, the one a prior plan carried for
    /// the same server (a server changed is another server's history).
    pub fn for_plan(carried: Option<History>, server_id: &str) -> Option<History> {
        carried.filter(|h| h.server_id == server_id)
    }
}

impl OrderState {
    /// True when a plan to `target` only waits for the order recorded as
    /// `recorded_order_id`: the plan can show that order's ids.
    pub fn only_waits(&self, target: &Flavors, recorded_order_id: Option<&str>) -> bool {
        matches!(self, OrderState::Pending(p)
            if p.target == *target && recorded_order_id == Some(p.order_id.as_str()))
    }
}

/// What a resource records of its server: the flavors it shows and its
/// status, the flavors before Terraform first managed it, the last order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    pub server_id: String,
    pub shown: Flavors,
    pub status: i64,
    pub original: Option<Flavors>,
    pub last_order: OrderIds,
}

impl Record {
    /// Writes what the server detail says; the originals only once.
    pub fn refresh(&mut self, server: &Server) {
        self.server_id = server.server_id.clone();
        self.shown = Flavors::of(server);
        self.status = server.status.into();
        self.original.get_or_insert_with(|| Flavors::of(server));
    }

    /// The ids of an order placed or followed; an id not known keeps the
    /// one recorded.
    pub fn record_order(&mut self, ids: &OrderIds) {
        let last = &mut self.last_order;
        last.order_id = ids.order_id.clone().or(last.order_id.take());
        last.product_id = ids.product_id.clone().or(last.product_id.take());
    }

    /// A created instance starts from the history of the one it replaces.
    pub fn inherit(&mut self, history: &History) {
        self.original = Some(history.original.clone());
        self.record_order(&history.last_order);
    }

    /// What this record hands to a replacement, with the pending order.
    pub fn history(&self, pending: Option<PendingOrder>) -> Option<History> {
        Some(History {
            server_id: Some(self.server_id.clone()).filter(|id| !id.is_empty())?,
            original: self.original.clone()?,
            last_order: self.last_order.clone(),
            pending,
        })
    }
}

/// What a resource keeps in its private state: the order still pending,
/// and in a plan, the history a replacement inherits (T3 to T5).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Carried {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_order: Option<PendingOrder>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<History>,
}

impl Carried {
    pub fn of(state: OrderState) -> Carried {
        Carried::from_recorded(state.into_recorded())
    }

    pub fn from_recorded(pending_order: Option<PendingOrder>) -> Carried {
        Carried {
            pending_order,
            history: None,
        }
    }

    /// True when a plan to `target` from `prior` only waits for the order
    /// the prior state recorded: the plan can show that order's ids.
    pub fn only_waits(&self, target: &Flavors, prior: &Record) -> bool {
        let state = OrderState::from_recorded(self.pending_order.clone());
        state.only_waits(target, prior.last_order.order_id.as_deref())
    }

    /// The pending order; in the destroy half of a tainted instance's
    /// replacement, the one in the plan's history (T3).
    pub fn pending(self) -> Option<PendingOrder> {
        self.pending_order.or(self.history.and_then(|h| h.pending))
    }
}

/// Whose history a server's entry holds, and how it got there.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Custody {
    /// An instance of the server was refreshed in this process (plan walk,
    /// T2): a create of the same server planned next replaces it (T3).
    Refreshed(History),
    /// An instance of the server was deleted in this process (apply walk,
    /// T5): the create half of its replacement follows.
    Released(History),
}

impl Custody {
    fn history(&self) -> &History {
        match self {
            Custody::Refreshed(h) | Custody::Released(h) => h,
        }
    }
}

/// The flavor orders of one provider process: the order tracker (BSS) and
/// the histories handed from resource instances to their replacements, by
/// server id.
#[derive(Default)]
pub struct OrderBook {
    tracker: OrderTracker,
    custody: Mutex<BTreeMap<String, Custody>>,
    /// Servers whose instance a refresh in this process removed from the
    /// state because the server no longer exists (T2).
    vanished: Mutex<BTreeSet<String>>,
}

impl OrderBook {
    fn custody(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Custody>> {
        self.custody.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A refresh read an instance of `history.server_id` (T2).
    pub fn refreshed(&self, history: History) {
        let mut custody = self.custody();
        // A delete in this process outranks a refresh of the same server.
        if !matches!(custody.get(&history.server_id), Some(Custody::Released(_))) {
            custody.insert(history.server_id.clone(), Custody::Refreshed(history));
        }
    }

    /// A refresh found that `server_id` no longer exists and removed its
    /// instance from the state (T2): the create planned next in this
    /// process is that instance planned anew, not a new resource.
    pub fn vanished(&self, server_id: &str) {
        let mut vanished = self.vanished.lock().unwrap_or_else(|p| p.into_inner());
        vanished.insert(server_id.to_string());
    }

    /// Whether a refresh in this process removed `server_id`'s instance.
    pub fn has_vanished(&self, server_id: &str) -> bool {
        let vanished = self.vanished.lock().unwrap_or_else(|p| p.into_inner());
        vanished.contains(server_id)
    }

    /// An instance of `history.server_id` was deleted (T5).
    pub fn released(&self, history: History) {
        tracing::info!(
            server_id = history.server_id,
            pending_order = history.pending.as_ref().map(|p| p.order_id.as_str()),
            "forgetting the server; a replacement in this apply inherits its history"
        );
        self.custody()
            .insert(history.server_id.clone(), Custody::Released(history));
    }

    /// The plan of a create of `server_id`: the history a first plan
    /// carried (T4), else that of the instance it replaces, if this process
    /// saw one (T3, T5). A copy: the plan may run again.
    pub fn for_replacement(&self, server_id: &str, carried: Option<History>) -> Option<History> {
        let seen = || self.custody().get(server_id).map(|c| c.history().clone());
        History::for_plan(carried, server_id).or_else(seen)
    }

    /// The apply of a create of `server_id`: the history its plan carried,
    /// else the one its destroy half left (T5); either way the destroy
    /// half's is taken over.
    pub fn inherit(&self, server_id: &str, carried: Option<History>) -> Option<History> {
        let released = self.take_released(server_id);
        History::for_plan(carried, server_id).or(released)
    }

    /// The history a plan puts into its private state `carried`: with a
    /// prior state, that instance's and its pending order (T4); for a
    /// create of `server_id`, that of the instance it replaces (T3, T5).
    pub fn plan_history(
        &self,
        prior: Option<&Record>,
        server_id: Option<&str>,
        carried: &mut Carried,
    ) {
        let taken = carried.history.take();
        carried.history = match prior {
            Some(record) => record.history(carried.pending_order.clone()),
            None => server_id.and_then(|id| self.for_replacement(id, taken)),
        };
    }

    /// What an apply starts from: the prior record, or for a create of
    /// `server_id` the history of the instance it replaces (T5); and the
    /// order still pending.
    pub fn starting_point(
        &self,
        prior: Option<Record>,
        server_id: &str,
        carried: Carried,
    ) -> (Record, OrderState) {
        let mut pending = carried.pending_order;
        let record = prior.unwrap_or_else(|| {
            let mut record = Record::default();
            if let Some(h) = self.inherit(server_id, carried.history) {
                record.inherit(&h);
                pending = pending.take().or(h.pending);
            }
            record
        });
        (record, OrderState::from_recorded(pending))
    }

    /// A refresh of `record` from the server detail: the order settles once
    /// the server shows its target; the history stays for a replacement
    /// planned next (T2). Returns the order still pending.
    pub fn refresh(
        &self,
        record: &mut Record,
        pending: Option<PendingOrder>,
        server: &Server,
    ) -> Option<PendingOrder> {
        record.refresh(server);
        let pending = OrderState::from_recorded(pending)
            .refreshed(server)
            .into_recorded();
        if let Some(h) = record.history(pending.clone()) {
            self.refreshed(h);
        }
        pending
    }

    /// The apply of a create of `server_id`: the history of the instance
    /// deleted before it in this apply (T5), taken over.
    fn take_released(&self, server_id: &str) -> Option<History> {
        let mut custody = self.custody();
        match custody.get(server_id) {
            Some(Custody::Released(_)) => custody.remove(server_id).map(|c| c.history().clone()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cph::models::{OrderInfo, OrderStatus};

    fn server(sm: &str, pm: &str, status: i32) -> Server {
        Server {
            server_id: "s1".into(),
            server_model_name: sm.into(),
            phone_model_name: pm.into(),
            status,
            ..Default::default()
        }
    }

    fn flavors(sm: &str, pm: &str) -> Flavors {
        Flavors {
            server_model_name: sm.into(),
            phone_model_name: pm.into(),
        }
    }

    fn pending(id: &str, sm: &str) -> PendingOrder {
        PendingOrder {
            order_id: id.into(),
            target: flavors(sm, "b2"),
        }
    }

    fn history(server_id: &str, order: Option<PendingOrder>) -> History {
        History {
            server_id: server_id.into(),
            original: flavors("a", "b"),
            last_order: OrderIds {
                order_id: Some("CS1".into()),
                product_id: Some("P1".into()),
            },
            pending: order,
        }
    }

    #[test]
    fn steps_follow_from_the_server_and_the_order_state() {
        let target = flavors("a2", "b2");
        let recorded = OrderState::Pending(pending("CS1", "a2"));
        let old = server("a", "b", 5);
        assert_eq!(
            Step::decide(&server("a2", "b2", 5), &target, &recorded),
            Step::Done
        );
        assert_eq!(
            Step::decide(&old, &target, &recorded),
            Step::Follow(pending("CS1", "a2"))
        );
        assert_eq!(
            Step::decide(&old, &target, &OrderState::Settled),
            Step::Place
        );
        // An order for another target is not followed: a new one is placed.
        let other = OrderState::Pending(pending("CS1", "a3"));
        assert_eq!(Step::decide(&old, &target, &other), Step::Place);
        // The target shown, the server busy, no order recorded: watch it.
        let busy = server("a2", "b2", 13);
        assert_eq!(
            Step::decide(&busy, &target, &OrderState::Settled),
            Step::WatchServer
        );
        assert_eq!(
            Step::decide(&busy, &target, &recorded),
            Step::Follow(pending("CS1", "a2"))
        );
    }

    #[test]
    fn an_order_settles_when_shown_gone_or_over_and_stays_pending_when_the_wait_ends() {
        let p = OrderState::Pending(pending("CS1", "a2"));
        assert_eq!(
            p.clone().refreshed(&server("a2", "b2", 13)),
            OrderState::Settled
        );
        assert_eq!(p.clone().refreshed(&server("a", "b", 5)), p);
        assert_eq!(p.clone().judged(&OrderFate::Unknown), OrderState::Settled);
        let order = |status: i64| OrderInfo {
            order_id: "CS1".into(),
            status: OrderStatus::from(status),
            ..Default::default()
        };
        assert_eq!(
            p.clone().judged(&OrderFate::Known(order(4))),
            OrderState::Settled
        );
        assert_eq!(p.clone().judged(&OrderFate::Known(order(6))), p);
        assert_eq!(p.clone().judged(&OrderFate::Unreadable("403".into())), p);
        assert_eq!(
            p.clone().followed(&Ok(server("a2", "b2", 5))),
            OrderState::Settled
        );
        let timeout = Err(FollowError::Ended(WaitEnded::TimedOut("t".into())));
        assert_eq!(p.clone().followed(&timeout), p);
        let stopped = Err(FollowError::Ended(WaitEnded::Stopped));
        assert_eq!(p.clone().followed(&stopped), p);
        let unread = Err(FollowError::ServerUnread(cph::Error::Config("x".into())));
        assert_eq!(p.clone().followed(&unread), p);
        let cancelled = Err(FollowError::Cancelled(order(4)));
        assert_eq!(p.clone().followed(&cancelled), OrderState::Settled);
        assert_eq!(
            OrderState::from_recorded(None).into_recorded(),
            None,
            "Settled is recorded as no order"
        );
    }

    /// T2, T3: the plan walk refreshes the tainted instance, then plans its
    /// replacement with no prior state: the plan finds the history, for the
    /// same server only, and may ask twice.
    #[test]
    fn a_tainted_instance_hands_its_history_to_the_plan_of_its_replacement() {
        let book = OrderBook::default();
        book.refreshed(history("s1", Some(pending("CS1", "a2"))));
        let found = book.for_replacement("s1", None);
        assert_eq!(found, Some(history("s1", Some(pending("CS1", "a2")))));
        assert_eq!(
            book.for_replacement("s1", None),
            found,
            "a copy: plans may repeat"
        );
        assert_eq!(
            book.for_replacement("s2", None),
            None,
            "only for the same server"
        );
        // A refresh is not a delete: a create's apply takes only what a
        // delete released.
        assert_eq!(book.inherit("s1", None), None);
    }

    /// T1, T5: in the apply walk (another process) the destroy half leaves
    /// the history, the create half's second plan finds it and its apply
    /// takes it over (once).
    #[test]
    fn a_destroy_half_hands_its_history_to_the_create_half_that_follows() {
        let book = OrderBook::default();
        assert_eq!(
            book.for_replacement("s1", None),
            None,
            "a new process knows nothing"
        );
        book.released(history("s1", Some(pending("CS1", "a2"))));
        // A later refresh of the same server does not undo the delete.
        book.refreshed(history("s1", None));
        assert_eq!(
            book.for_replacement("s1", None),
            Some(history("s1", Some(pending("CS1", "a2"))))
        );
        assert_eq!(
            book.inherit("s1", None),
            Some(history("s1", Some(pending("CS1", "a2"))))
        );
        assert_eq!(book.inherit("s1", None), None, "taken over once");
    }

    /// T6: with create_before_destroy the create half comes first and finds
    /// nothing; the history the destroy half leaves after it is not used.
    #[test]
    fn with_create_before_destroy_the_create_half_finds_no_history() {
        let book = OrderBook::default();
        assert_eq!(book.inherit("s1", None), None);
        book.released(history("s1", None));
        assert!(book.for_replacement("s1", None).is_some());
    }

    /// T4: the second plan of a forced replacement carries the first plan's
    /// history on, unless the server changed; it outranks what a refresh
    /// left. The create's apply prefers its plan's history too, and takes
    /// over what a destroy half left all the same.
    #[test]
    fn a_plan_carries_the_history_of_the_same_server_only() {
        let (book, carried) = (OrderBook::default(), history("s1", None));
        assert_eq!(History::for_plan(Some(carried.clone()), "s2"), None);
        book.refreshed(history("s1", Some(pending("CS1", "a2"))));
        let planned = book.for_replacement("s1", Some(carried.clone()));
        assert_eq!(planned, Some(carried.clone()));
        assert_eq!(book.for_replacement("s2", Some(carried.clone())), None);
        book.released(history("s1", Some(pending("CS2", "a2"))));
        assert_eq!(book.inherit("s1", Some(carried.clone())), Some(carried));
        assert_eq!(book.inherit("s1", None), None, "taken over by the first");
    }

    fn record(server_id: &str, order_id: &str) -> Record {
        Record {
            server_id: server_id.into(),
            shown: flavors("a", "b"),
            status: 5,
            original: Some(flavors("a0", "b0")),
            last_order: OrderIds {
                order_id: Some(order_id.into()),
                product_id: Some("P1".into()),
            },
        }
    }

    /// T4: the first plan of a forced replacement (with its prior state)
    /// carries the history; the second (null prior, the first plan's
    /// private state) keeps it, for the same server only.
    #[test]
    fn a_replacement_plan_carries_the_history_of_the_same_server() {
        let book = OrderBook::default();
        let mut first = Carried::default();
        book.plan_history(Some(&record("s1", "CS1")), Some("s1"), &mut first);
        let carried = first.history.clone();
        let carried = carried.expect("a plan with a prior state carries its history");
        assert_eq!(carried.original.server_model_name, "a0");
        assert_eq!(carried.last_order.order_id.as_deref(), Some("CS1"));
        let mut second = Carried::from_recorded(None);
        second.history = first.history.clone();
        book.plan_history(None, Some("s1"), &mut second);
        assert_eq!(second.history, Some(carried));
        let mut moved = first;
        book.plan_history(None, Some("s2"), &mut moved);
        assert_eq!(moved.history, None, "another server: no history");
    }

    /// A plan that only waits for the order an earlier apply placed shows
    /// that order; another target means a new order.
    #[test]
    fn a_plan_that_only_waits_for_the_recorded_order_keeps_its_ids() {
        let prior = record("s1", "CS1");
        let waits = Carried::from_recorded(Some(pending("CS1", "a2")));
        assert!(waits.only_waits(&flavors("a2", "b2"), &prior));
        let orders = Carried::from_recorded(Some(pending("CS1", "a3")));
        assert!(!orders.only_waits(&flavors("a2", "b2"), &prior));
    }

    /// T5: the apply of a create starts from the history its destroy half
    /// left, pending order included; an update from its prior record.
    #[test]
    fn an_apply_starts_from_the_prior_record_or_the_inherited_history() {
        let book = OrderBook::default();
        book.released(history("s1", Some(pending("CS1", "a2"))));
        let (created, state) = book.starting_point(None, "s1", Carried::default());
        assert_eq!(created.original, Some(flavors("a", "b")));
        assert_eq!(created.last_order.order_id.as_deref(), Some("CS1"));
        assert_eq!(state, OrderState::Pending(pending("CS1", "a2")));
        let (updated, state) =
            book.starting_point(Some(record("s1", "CS9")), "s1", Carried::default());
        assert_eq!(updated, record("s1", "CS9"));
        assert_eq!(state, OrderState::Settled);
    }

    /// T2: a refresh settles an order the server shows and leaves the
    /// history for a replacement planned next.
    #[test]
    fn a_refresh_settles_a_shown_order_and_leaves_the_history() {
        let book = OrderBook::default();
        let mut r = record("s1", "CS1");
        let left = book.refresh(&mut r, Some(pending("CS1", "a2")), &server("a", "b", 5));
        assert_eq!(left, Some(pending("CS1", "a2")), "not shown yet");
        assert_eq!(
            book.for_replacement("s1", None).map(|h| h.pending),
            Some(left)
        );
        let left = book.refresh(&mut r, Some(pending("CS1", "a2")), &server("a2", "b2", 5));
        assert_eq!(left, None);
        assert_eq!(r.shown, flavors("a2", "b2"));
    }

    #[test]
    fn a_plan_only_waits_for_the_recorded_order_to_its_target() {
        let p = OrderState::Pending(pending("CS1", "a2"));
        assert!(p.only_waits(&flavors("a2", "b2"), Some("CS1")));
        assert!(
            !p.only_waits(&flavors("a3", "b2"), Some("CS1")),
            "another target"
        );
        assert!(
            !p.only_waits(&flavors("a2", "b2"), Some("CS0")),
            "another order"
        );
        assert!(!OrderState::Settled.only_waits(&flavors("a2", "b2"), Some("CS1")));
    }

    #[test]
    fn a_record_keeps_its_originals_and_inherits_a_history() {
        let mut r = Record::default();
        assert_eq!(r.history(None), None, "nothing to hand over yet");
        r.refresh(&server("a", "b", 13));
        r.refresh(&server("a2", "b2", 5));
        assert_eq!(
            (r.original.clone(), r.shown.clone(), r.status),
            (Some(flavors("a", "b")), flavors("a2", "b2"), 5)
        );
        r.record_order(&OrderIds {
            order_id: Some("CS2".into()),
            product_id: None,
        });
        let mut fresh = Record::default();
        fresh.inherit(&history("s1", None));
        fresh.refresh(&server("a2", "b2", 5));
        assert_eq!(
            fresh.original,
            Some(flavors("a", "b")),
            "the originals inherited"
        );
        fresh.record_order(&OrderIds {
            order_id: Some("CS2".into()),
            product_id: None,
        });
        let h = fresh.history(None).unwrap();
        assert_eq!(
            (
                h.last_order.order_id.as_deref(),
                h.last_order.product_id.as_deref()
            ),
            (Some("CS2"), Some("P1"))
        );
    }

    #[test]
    fn histories_and_pending_orders_keep_their_recorded_shape() {
        let p = pending("CS1", "a2");
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            serde_json::json!({"order_id": "CS1", "server_model_name": "a2", "phone_model_name": "b2"})
        );
        let h = history("s1", Some(p));
        let back: History = serde_json::from_value(serde_json::to_value(&h).unwrap()).unwrap();
        assert_eq!(back, h);
        // The private state: absent when default, and garbage is no order.
        let carried = Carried::from_recorded(Some(pending("CS1", "a")));
        let json = serde_json::to_vec(&carried).unwrap();
        let back: Carried = serde_json::from_slice(&json).unwrap();
        assert_eq!(back.pending_order, carried.pending_order);
        assert_eq!(serde_json::to_string(&Carried::default()).unwrap(), "{}");
        assert!(serde_json::from_slice::<Carried>(b"garbage").is_err());
    }

    #[test]
    fn wait_failures_say_what_the_next_apply_does() {
        let d = Deadline {
            at: Instant::now(),
            length: Duration::from_secs(180),
            setting: "timeouts.create",
        };
        let t = wait_ended(&WaitEnded::TimedOut("late".into()), Some("CS1"), &d);
        assert!(
            t.contains("CS1") && t.contains("timeouts.create (now 3m0s)"),
            "{t}"
        );
        let s = wait_ended(&WaitEnded::Stopped, None, &d);
        assert!(s.contains("order in progress"), "{s}");
    }
}

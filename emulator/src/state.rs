//! The emulator's world behind one lock: fleet, orders, jobs, the timers that
//! finish them, run-time settings, issued tokens, call counters and queued
//! faults. Time is evaluated lazily: every access first `settle`s the orders
//! and jobs that are due, in due order, so reads are always consistent.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::endpoints::ENDPOINT_NAMES;
use crate::faults::{Fault, HeldAnswers};
use crate::fleet::Fleet;
use crate::jobs::Job;
use crate::orders::Order;
use crate::quota::Quota;

/// Settings that the admin API can change at run time.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Settings {
    pub order_seconds: f64,
    pub job_seconds: f64,
    pub latency_ms: u64,
    /// Time an upgrade ordered without auto pay may wait for its payment
    /// before it is cancelled.
    pub payment_seconds: f64,
    /// Calls each API takes per second before answering 429 (0: no quota).
    pub quota_per_second: u64,
}

/// Something that finishes at a point in time.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Due {
    /// An order completes (id, timer generation).
    Order(String, u64),
    Job(String),
    /// An order's payment deadline (id, timer generation).
    PaymentLapse(String, u64),
}

#[derive(Debug)]
pub struct World {
    pub fleet: Fleet,
    pub orders: Vec<Order>,
    pub order_index: HashMap<String, usize>,
    /// server id -> id of its order awaiting payment or processing.
    pub active_orders: HashMap<String, String>,
    pub next_product: u64,
    pub jobs: HashMap<String, Job>,
    /// request id of a `phones-traffic` call -> its job ids, in order.
    pub jobs_by_request: HashMap<String, Vec<String>>,
    pub fail_jobs: HashSet<String>,
    timers: BinaryHeap<Reverse<(Instant, u64, Due)>>,
    timer_seq: u64,
    pub settings: Settings,
    /// token -> expiry.
    pub tokens: HashMap<String, OffsetDateTime>,
    /// Temporary access keys issued for an agency -> the keys and expiry.
    pub temporary_keys: HashMap<String, (crate::auth::AkSk, OffsetDateTime)>,
    pub calls: BTreeMap<&'static str, u64>,
    /// Counted calls per HTTP method (`GET`, `POST`, `PUT`, ...).
    pub calls_by_method: BTreeMap<String, u64>,
    pub faults: VecDeque<Fault>,
    /// Answers held by `hold_answer` faults.
    pub held: HeldAnswers,
    /// `phones-traffic` requests the service took, per phone they named.
    pub traffic_by_phone: BTreeMap<String, u64>,
    pub quota: Quota,
    /// Phone properties, packages, and the effects of running jobs.
    pub devices: crate::device::Devices,
}

impl World {
    pub fn new(fleet: Fleet, settings: Settings, fail_jobs: HashSet<String>) -> Self {
        let mut w = World {
            fleet,
            orders: Vec::new(),
            order_index: HashMap::new(),
            active_orders: HashMap::new(),
            next_product: 25217,
            jobs: HashMap::new(),
            jobs_by_request: HashMap::new(),
            fail_jobs,
            timers: BinaryHeap::new(),
            timer_seq: 0,
            settings,
            tokens: HashMap::new(),
            temporary_keys: HashMap::new(),
            calls: BTreeMap::new(),
            calls_by_method: BTreeMap::new(),
            faults: VecDeque::new(),
            held: HeldAnswers::default(),
            traffic_by_phone: BTreeMap::new(),
            quota: Quota::default(),
            devices: Default::default(),
        };
        w.reset_calls();
        w
    }

    pub fn reset_calls(&mut self) {
        self.calls = ENDPOINT_NAMES.iter().map(|n| (*n, 0)).collect();
        self.calls_by_method = ["GET", "POST", "PUT", "DELETE"]
            .iter()
            .map(|m| (m.to_string(), 0))
            .collect();
        self.quota.throttled = 0;
        self.held.held = 0;
        self.traffic_by_phone.clear();
    }

    /// Schedule `due` to finish `after` from now; returns the wall-clock time.
    pub fn schedule(&mut self, due: Due, after: f64) -> OffsetDateTime {
        let after = Duration::try_from_secs_f64(after.max(0.0)).unwrap_or(Duration::ZERO);
        self.timer_seq += 1;
        self.timers
            .push(Reverse((Instant::now() + after, self.timer_seq, due)));
        OffsetDateTime::now_utc() + after
    }

    /// Finish everything that is due, oldest first.
    pub fn settle(&mut self) {
        let now = Instant::now();
        while let Some(Reverse((at, _, _))) = self.timers.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((_, _, due))) = self.timers.pop() else {
                break;
            };
            match due {
                Due::Order(id, generation) => self.finish_order(&id, generation),
                Due::Job(id) => self.finish_job(&id),
                Due::PaymentLapse(id, generation) => self.lapse_payment(&id, generation),
            }
        }
    }
}

/// The world behind its lock.
#[derive(Debug)]
pub struct Shared(Mutex<World>);

impl Shared {
    pub fn new(world: World) -> Self {
        Shared(Mutex::new(world))
    }

    /// Lock the world (recovering from a poisoned lock) and settle what is due.
    pub fn lock(&self) -> MutexGuard<'_, World> {
        let mut guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        guard.settle();
        guard
    }
}

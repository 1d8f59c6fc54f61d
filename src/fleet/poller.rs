//! The job poller of the fleet engine: one per [`Fleet`](super::Fleet),
//! following every request id in flight in the provider process, of every
//! batch kind (route changes and the actions' calls alike), so that the jobs
//! of routes and actions running in one apply are read together.
//!
//! Request ids sent close together (within [`COHORT_SPAN`]) form a cohort:
//! their jobs started together and end together, so a round looks at the
//! newest member only (the probe) until its jobs are over, then reads the
//! other members at once, grouped so that one list-jobs call reads about one
//! page (at most 20 ids and about 100 jobs a call), calls in parallel. The
//! first look comes [`FIRST_LOOK`] after the cohort's last send, later ones a
//! quarter of the time waited (0.5 s to 10 s) after the previous one started.
//! Finished jobs go back to whoever asked to follow their request id (a
//! [`JobSink`]: the fleet's [batcher](super::batcher)); the poller
//! knows nothing of resources.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use tokio::sync::Notify;

use crate::cph::models::Job;
use crate::cph::{Client, JOBS_PAGE_SIZE, MAX_REQUEST_IDS_PER_CALL};

/// Request ids sent within this span of a cohort's first one join it.
pub const COHORT_SPAN: Duration = Duration::from_millis(300);
/// The first look after a cohort's last send: route jobs take seconds, so an
/// earlier look only costs a read.
pub const FIRST_LOOK: Duration = Duration::from_millis(1000);
const MIN_INTERVAL: Duration = Duration::from_millis(500);
const MAX_INTERVAL: Duration = Duration::from_secs(10);
/// Looks a request id may list no job at all before it is given up.
const EMPTY_LOOKS_BEFORE_GONE: u32 = 3;
/// list-jobs calls of one round in flight at once: a call's worth of request
/// ids, so that a cohort of up to 20 is read in one round trip (the client's
/// limiter paces them anyway; more would only hold more answers in memory).
const CONCURRENT_READS: usize = MAX_REQUEST_IDS_PER_CALL;

/// Who hears what a round learned about the request ids it follows.
pub trait JobSink: Send + Sync {
    /// Jobs that ended, and request ids that listed no job for
    /// [`EMPTY_LOOKS_BEFORE_GONE`] looks (their targets' fate is unknown).
    fn jobs_ended(&self, jobs: Vec<Job>, gone: Vec<String>);
}

struct Member {
    request_id: String,
    sink: Weak<dyn JobSink>,
    /// Jobs the `phones-traffic` answer started for this request id.
    jobs: usize,
    empty_looks: u32,
}

struct Cohort {
    id: u64,
    first_sent: Instant,
    last_sent: Instant,
    next_look: Instant,
    looks: u32,
    members: Vec<Member>,
    busy: bool,
}

#[derive(Default)]
struct Inner {
    client: Option<Client>,
    cohorts: Vec<Cohort>,
    next_id: u64,
    task_started: bool,
}

/// See the module documentation.
pub struct Poller {
    inner: Mutex<Inner>,
    wake: Notify,
    /// Who hears of the request ids followed by [`Poller::follow`].
    fallback: Arc<dyn JobSink>,
}

/// A callback as a sink: what a round learned (jobs that ended, request ids
/// given up).
pub type Report = Box<dyn Fn(Vec<Job>, Vec<String>) + Send + Sync>;

struct ReportSink(Report);

impl JobSink for ReportSink {
    fn jobs_ended(&self, jobs: Vec<Job>, gone: Vec<String>) {
        (self.0)(jobs, gone);
    }
}

impl Poller {
    /// A poller whose [`Poller::follow`] tells `report`.
    pub fn new(report: Report) -> Arc<Poller> {
        Arc::new(Poller {
            inner: Mutex::new(Inner::default()),
            wake: Notify::new(),
            fallback: Arc::new(ReportSink(report)),
        })
    }

    /// The poller of a fleet: every follower names its own sink
    /// ([`Poller::follow_for`]).
    pub fn shared() -> Arc<Poller> {
        Poller::new(Box::new(|_, _| {}))
    }

    /// Follows `request_id` for the callback given to [`Poller::new`]; see
    /// [`Poller::follow_for`].
    pub fn follow(
        self: &Arc<Self>,
        client: &Client,
        request_id: &str,
        jobs: usize,
        look_now: bool,
    ) {
        let sink = Arc::downgrade(&self.fallback);
        self.follow_for(client, request_id, jobs, look_now, sink);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Follows `request_id` (which started `jobs` jobs) until its jobs end,
    /// telling `sink` of them. `look_now` asks for a look at once (jobs
    /// recorded as running by an earlier apply).
    pub fn follow_for(
        self: &Arc<Self>,
        client: &Client,
        request_id: &str,
        jobs: usize,
        look_now: bool,
        sink: Weak<dyn JobSink>,
    ) {
        let now = Instant::now();
        let member = Member {
            request_id: request_id.to_string(),
            sink,
            jobs,
            empty_looks: 0,
        };
        let mut inner = self.lock();
        inner.client = Some(client.clone());
        let joinable =
            inner.cohorts.iter_mut().rev().find(|c| {
                !c.busy && c.looks == 0 && now.duration_since(c.first_sent) < COHORT_SPAN
            });
        match joinable {
            Some(c) if !look_now => {
                c.members.push(member);
                c.last_sent = now;
                c.next_look = now + FIRST_LOOK;
            }
            _ => {
                let id = inner.next_id;
                inner.next_id += 1;
                inner.cohorts.push(Cohort {
                    id,
                    first_sent: now,
                    last_sent: now,
                    next_look: if look_now { now } else { now + FIRST_LOOK },
                    looks: 0,
                    members: vec![member],
                    busy: false,
                });
            }
        }
        let start = !inner.task_started;
        inner.task_started = true;
        drop(inner);
        if start {
            let me = self.clone();
            tokio::spawn(async move { me.run().await });
        }
        self.wake.notify_one();
    }

    async fn run(self: Arc<Self>) {
        loop {
            let notified = self.wake.notified();
            let (due, next) = {
                let mut inner = self.lock();
                let now = Instant::now();
                let mut due = Vec::new();
                let mut next: Option<Instant> = None;
                for c in inner.cohorts.iter_mut().filter(|c| !c.busy) {
                    if c.next_look <= now {
                        c.busy = true;
                        due.push(c.id);
                    } else {
                        next = Some(next.map_or(c.next_look, |n: Instant| n.min(c.next_look)));
                    }
                }
                (due, next)
            };
            for id in due {
                let me = self.clone();
                tokio::spawn(async move { me.look(id).await });
            }
            woken_or_due(notified, next).await;
        }
    }

    /// One round of one cohort.
    async fn look(self: Arc<Self>, cohort_id: u64) {
        let started = Instant::now();
        let (client, probe, rest) = {
            let inner = self.lock();
            let Some(c) = inner.cohorts.iter().find(|c| c.id == cohort_id) else {
                return;
            };
            let Some(client) = inner.client.clone() else {
                return;
            };
            let ids: Vec<(String, usize)> = c
                .members
                .iter()
                .map(|m| (m.request_id.clone(), m.jobs))
                .collect();
            // The newest member is the probe; the others are read once its
            // jobs are over (or at once when there is nothing to spare).
            let mut rest = ids;
            let probe = rest.pop();
            (client, probe, rest)
        };
        let mut finished = 0usize;
        if let Some(probe) = probe {
            let probe_done = match self.read(&client, std::slice::from_ref(&probe)).await {
                Some(jobs) => {
                    let over = jobs
                        .get(&probe.0)
                        .is_some_and(|j| !j.is_empty() && j.iter().all(Job::finished));
                    finished += self.absorb(cohort_id, jobs);
                    over
                }
                None => false,
            };
            if probe_done && !rest.is_empty() {
                // Each read is taken in as it comes, so that a large fleet's
                // jobs are never all in memory at once.
                let groups = read_groups(&rest);
                let mut reads = stream::iter(groups)
                    .map(|g| {
                        let (me, client) = (self.clone(), client.clone());
                        async move { me.read(&client, &g).await }
                    })
                    .buffer_unordered(CONCURRENT_READS);
                while let Some(jobs) = reads.next().await {
                    if let Some(jobs) = jobs {
                        finished += self.absorb(cohort_id, jobs);
                    }
                }
            }
        }
        self.end_round(cohort_id, started, finished);
    }

    /// One list-jobs call (all its pages) for a group of request ids; jobs by
    /// request id (every id of the group present). `None` when the read failed.
    async fn read(
        &self,
        client: &Client,
        group: &[(String, usize)],
    ) -> Option<HashMap<String, Vec<Job>>> {
        let ids: Vec<String> = group.iter().map(|(id, _)| id.clone()).collect();
        match client.list_jobs(&ids).await {
            Ok(jobs) => {
                let mut out: HashMap<String, Vec<Job>> =
                    ids.iter().map(|id| (id.clone(), Vec::new())).collect();
                let attributed = jobs.iter().all(|j| !j.request_id.is_empty());
                for job in jobs {
                    let key = if attributed || ids.len() == 1 {
                        if job.request_id.is_empty() {
                            ids[0].clone()
                        } else {
                            job.request_id.clone()
                        }
                    } else {
                        // Without attribution the group counts as one.
                        ids[0].clone()
                    };
                    out.entry(key).or_default().push(job);
                }
                Some(out)
            }
            Err(e) => {
                tracing::warn!(target: "cph", error = %e, "reading jobs failed; retrying at the next round");
                None
            }
        }
    }

    /// Takes in one read: members whose jobs are all over leave the
    /// cohort, finished jobs go to each member's sink. Returns how many ended.
    fn absorb(&self, cohort_id: u64, listed: HashMap<String, Vec<Job>>) -> usize {
        // Per member: its sink, its jobs that ended, its id if given up.
        type SinkReport = (Weak<dyn JobSink>, Vec<Job>, Vec<String>);
        let mut reports: Vec<SinkReport> = Vec::new();
        {
            let mut inner = self.lock();
            let Some(c) = inner.cohorts.iter_mut().find(|c| c.id == cohort_id) else {
                return 0;
            };
            let mut listed = listed;
            c.members.retain_mut(|m| {
                let Some(jobs) = listed.remove(&m.request_id) else {
                    return true;
                };
                if jobs.is_empty() {
                    m.empty_looks += 1;
                    if m.empty_looks >= EMPTY_LOOKS_BEFORE_GONE {
                        reports.push((m.sink.clone(), Vec::new(), vec![m.request_id.clone()]));
                        return false;
                    }
                    return true;
                }
                let over = jobs.iter().all(Job::finished);
                let finished: Vec<Job> = jobs.into_iter().filter(Job::finished).collect();
                if !finished.is_empty() {
                    reports.push((m.sink.clone(), finished, Vec::new()));
                }
                !over
            });
        }
        let mut n = 0;
        for (sink, jobs, gone) in reports {
            n += jobs.len();
            if let Some(sink) = sink.upgrade() {
                sink.jobs_ended(jobs, gone);
            }
        }
        n
    }

    /// Ends a round of a cohort that started at `started`: the next look, or
    /// the cohort's end. Looks are spaced from when each round started, so
    /// that the time a round's reads take does not push every later look back.
    fn end_round(&self, cohort_id: u64, started: Instant, finished: usize) {
        let (round, pending) = {
            let mut inner = self.lock();
            let Some(pos) = inner.cohorts.iter().position(|c| c.id == cohort_id) else {
                return;
            };
            let c = &mut inner.cohorts[pos];
            c.looks += 1;
            c.busy = false;
            let waited = started.saturating_duration_since(c.last_sent);
            let interval = quarter_of(waited);
            // A round slower than half the interval (reads queued behind the
            // rate limit) still leaves half an interval before the next.
            c.next_look = (started + interval).max(Instant::now() + interval / 2);
            let round = c.looks;
            let pending = c.members.len();
            if pending == 0 {
                inner.cohorts.remove(pos);
            }
            (round, pending)
        };
        tracing::debug!(
            target: "cph",
            round,
            jobs = finished,
            pending_request_ids = pending,
            "polled jobs"
        );
        self.wake.notify_one();
    }
}

/// The growing interval between polls after `waited`: a quarter of it,
/// within [`MIN_INTERVAL`]..=[`MAX_INTERVAL`] (the order tracker's too,
/// `fleet::order_schedule`).
/// Waits for `notified`, or until `next` when there is one (a task that
/// sleeps until its next deadline unless it is woken first).
pub(crate) async fn woken_or_due(
    notified: tokio::sync::futures::Notified<'_>,
    next: Option<Instant>,
) {
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

pub(crate) fn quarter_of(waited: Duration) -> Duration {
    (waited / 4).clamp(MIN_INTERVAL, MAX_INTERVAL)
}

/// Groups request ids for reading: at most 20 a call and about one page of
/// jobs a call (an id with more jobs than a page is read alone).
fn read_groups(ids: &[(String, usize)]) -> Vec<Vec<(String, usize)>> {
    let mut groups: Vec<Vec<(String, usize)>> = Vec::new();
    let mut jobs_in_last = 0usize;
    for (id, n) in ids {
        let fits = groups.last().is_some_and(|g| {
            g.len() < MAX_REQUEST_IDS_PER_CALL && jobs_in_last + n <= JOBS_PAGE_SIZE as usize
        });
        if fits {
            if let Some(g) = groups.last_mut() {
                g.push((id.clone(), *n));
            }
            jobs_in_last += n;
        } else {
            groups.push(vec![(id.clone(), *n)]);
            jobs_in_last = *n;
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_hold_about_a_page_and_at_most_twenty_ids() {
        let ids: Vec<(String, usize)> = (0..10).map(|i| (format!("r{i}"), 100)).collect();
        assert_eq!(read_groups(&ids).len(), 10);
        let small: Vec<(String, usize)> = (0..45).map(|i| (format!("r{i}"), 1)).collect();
        let g = read_groups(&small);
        assert_eq!(g.iter().map(Vec::len).collect::<Vec<_>>(), vec![20, 20, 5]);
        let mixed = vec![("a".to_string(), 60), ("b".into(), 40), ("c".into(), 1)];
        assert_eq!(read_groups(&mixed).len(), 2);
    }

    #[test]
    fn interval_grows_within_its_bounds() {
        assert_eq!(quarter_of(Duration::ZERO), MIN_INTERVAL);
        assert_eq!(quarter_of(Duration::from_secs(8)), Duration::from_secs(2));
        assert_eq!(quarter_of(Duration::from_secs(3600)), MAX_INTERVAL);
    }
}

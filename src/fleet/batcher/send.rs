//! Sending and following: one gathered batch becomes calls of at most
//! `max_ids` ids; each call's answer is read per id; each request id goes to
//! the fleet's poller; each job or call that ends ends its target for every
//! tracker waiting on it, and lets a target waiting behind it go.

use std::sync::{Arc, Weak};
use std::time::Instant;

use futures::stream::{self, StreamExt};

use super::place::{arrival, join_or_pend};
use super::window::Ready;
use super::{Batcher, CONCURRENT_CALLS, Ended, Flight, LaneId, State, Verdict};
use crate::cph::models::{BatchJob, BatchJobsResponse, Job};
use crate::cph::{self, Client};
use crate::fleet::batch_call::{Answer, BatchCall, Failure, Target, failure, sort_answer};
use crate::fleet::poller::JobSink;
use crate::fleet::routing::Refusal;

/// One call's targets, each with its flight.
type Chunk = Vec<(Target, u64)>;

impl Batcher {
    /// Sends one gathered batch: releases of targets another owner claims
    /// are dropped (handed over), the rest goes `max_ids` to a call.
    pub(super) async fn send(self: Arc<Self>, (key, call, batch): Ready) {
        let (client, flights) = {
            let mut st = self.lock();
            let mut flights: Chunk = Vec::new();
            for (id, p) in batch {
                if let Some(owner) = &p.release_by
                    && self.claims.claimed_by_other(owner, &id)
                {
                    for t in &p.trackers {
                        t.end(&id, Ended::handed_over());
                    }
                    continue;
                }
                let flight = Flight {
                    key: key.clone(),
                    call: call.clone(),
                    target: id,
                    job_id: None,
                    request_id: None,
                    trackers: p.trackers,
                };
                flights.push((p.target, st.add_flight(flight)));
            }
            (st.client.clone(), flights)
        };
        let Some(client) = client else { return };
        let max = call.max_ids().max(1);
        let mut chunks = flights.chunks(max).map(<[_]>::to_vec);
        // Until a call has started a job, one call goes at a time, whatever
        // its kind: wrong credentials then cost one refused call.
        if !self.lock().proven {
            let _alone = self.probe.lock().await;
            if !self.lock().proven
                && let Some(first) = chunks.next()
            {
                self.call(&client, &call, first).await;
            }
        }
        stream::iter(chunks)
            .map(|chunk| self.call(&client, &call, chunk))
            .buffer_unordered(CONCURRENT_CALLS)
            .collect::<Vec<()>>()
            .await;
    }

    /// One call, unless the engine was refused.
    async fn call(&self, client: &Client, call: &Arc<dyn BatchCall>, chunk: Chunk) {
        let refused = self.lock().refused.clone();
        let answer = match refused {
            Some(refusal) => Err(cph::Error::Config(refusal.why)),
            None => {
                let targets: Vec<Target> = chunk.iter().map(|(t, _)| t.clone()).collect();
                call.send(client, &targets).await
            }
        };
        self.answered(client, chunk, answer);
    }

    fn answered(&self, client: &Client, chunk: Chunk, answer: cph::Result<BatchJobsResponse>) {
        let resp = match answer {
            Ok(resp) => resp,
            Err(e) => {
                let ended = self.call_failed(&chunk, e);
                self.finish(ended);
                return;
            }
        };
        let rid = resp.request_id.clone();
        let mut ended: Vec<(u64, Ended)> = Vec::new();
        let mut started = 0usize;
        {
            let mut st = self.lock();
            let sorted = sort_answer(chunk.iter().map(|(t, _)| t.id.as_str()), &resp);
            for ((_, n), (id, answer)) in chunk.iter().zip(sorted) {
                let failed = |f: Failure| Ended::of(Verdict::Failed(f));
                match answer {
                    Answer::Started(_, job_id) if !rid.is_empty() => {
                        started += start(&mut st, *n, &rid, job_id);
                    }
                    Answer::Started(j, job_id) => {
                        let mut e = failed(unfollowed(j));
                        e.job_id = Some(job_id.to_string());
                        ended.push((*n, e));
                    }
                    Answer::Refused(j) => ended.push((*n, failed(refused(j)))),
                    Answer::Missing => {
                        let why = "the answer reported no job for it".to_string();
                        ended.push((*n, failed(failure(id, None, why))));
                    }
                }
            }
            st.proven |= started > 0;
        }
        self.finish(ended);
        if started > 0 {
            self.poller
                .follow_for(client, &rid, started, false, self.sink());
        }
    }

    /// How a call that failed ends its targets. Refused credentials or a
    /// refused account stop the engine; a call stopped before it left was
    /// never sent; one cut short on its way may have started jobs that
    /// cannot be followed.
    fn call_failed(&self, chunk: &Chunk, e: cph::Error) -> Vec<(u64, Ended)> {
        let verdict = |id: &str| -> Verdict {
            if e.is_credential_failure() || e.account_state().is_some() {
                Verdict::Failed(failure(id, None, e.to_string()))
            } else if let cph::Error::Cancelled = &e {
                Verdict::NotSent(format!("not sent ({e}); the next apply sends it"))
            } else if let cph::Error::Unsettled(_) = &e {
                Verdict::Unsettled(format!("{e}; counted as changed"))
            } else {
                Verdict::Failed(failure(id, e.code().map(str::to_string), e.to_string()))
            }
        };
        if e.is_credential_failure() || e.account_state().is_some() {
            self.lock().refused.get_or_insert(Refusal {
                why: e.to_string(),
                account: e.account_state().is_some(),
            });
        }
        let ended = chunk.iter().map(|(t, n)| (*n, Ended::of(verdict(&t.id))));
        ended.collect()
    }

    /// Where the poller tells of this batcher's jobs.
    pub(super) fn sink(&self) -> Weak<dyn JobSink> {
        self.me.clone()
    }

    /// Ends the flights, and lets the targets waiting behind them go.
    fn finish(&self, ended: Vec<(u64, Ended)>) {
        if ended.is_empty() {
            return;
        }
        let mut requeued = false;
        {
            let mut st = self.lock();
            for (n, e) in ended {
                let Some(f) = st.remove_flight(n) else {
                    continue;
                };
                for t in &f.trackers {
                    t.end(&f.target, e.clone());
                }
                if let Some(lane) = f.call.lane() {
                    requeued |= requeue(&mut st, (lane, f.target));
                }
            }
        }
        if requeued {
            self.wake.notify_one();
        }
    }
}

/// Flight `n` started job `job_id` under `rid`: its trackers hear of it,
/// and the poller's report finds it. 1 when the flight was still there.
fn start(st: &mut State, n: u64, rid: &str, job_id: &str) -> usize {
    let Some(f) = st.flights.get_mut(&n) else {
        return 0;
    };
    f.job_id = Some(job_id.to_string());
    f.request_id = Some(rid.to_string());
    for t in &f.trackers {
        t.answered(&f.target, rid, Some(job_id));
    }
    st.by_job.insert(job_id.to_string(), n);
    st.by_request.entry(rid.to_string()).or_default().push(n);
    1
}

/// The next submission waiting behind a lane's target goes (at once).
fn requeue(st: &mut State, lane_id: LaneId) -> bool {
    let Some(queue) = st.blocked.get_mut(&lane_id) else {
        return false;
    };
    let next = queue.pop_front();
    if queue.is_empty() {
        st.blocked.remove(&lane_id);
    }
    let Some(q) = next else { return false };
    join_or_pend(st, &q.key, &q.call, q.pend);
    arrival(st, &q.key, Instant::now(), true);
    true
}

impl JobSink for Batcher {
    /// The poller's report: jobs that ended, request ids that listed none.
    fn jobs_ended(&self, jobs: Vec<Job>, gone: Vec<String>) {
        let mut ended: Vec<(u64, Ended)> = Vec::new();
        {
            let st = self.lock();
            for job in jobs {
                let Some((n, f)) = find_flight(&st, &job) else {
                    continue;
                };
                let Some(verdict) = f.call.judge(&f.target, &job) else {
                    continue;
                };
                let some = |s: &str| Some(s.to_string()).filter(|s| !s.is_empty());
                ended.push((
                    n,
                    Ended {
                        verdict: verdict.map_or_else(Verdict::Failed, |()| Verdict::Succeeded),
                        job_id: some(&job.job_id),
                        server: some(&job.server_id),
                        message: job.execute_msg.clone(),
                    },
                ));
            }
            for rid in gone {
                for n in st.by_request.get(&rid).into_iter().flatten() {
                    if let Some(f) = st.flights.get(n) {
                        let f = failure(&f.target, None, f.call.gone(&rid));
                        ended.push((*n, Ended::of(Verdict::Failed(f))));
                    }
                }
            }
        }
        self.finish(ended);
    }
}

/// The flight an ended job belongs to: by its job id, or (a job recorded
/// without one) by its target and request id.
fn find_flight<'a>(st: &'a State, job: &Job) -> Option<(u64, &'a Flight)> {
    if !job.job_id.is_empty()
        && let Some(n) = st.by_job.get(&job.job_id)
    {
        return st.flights.get(n).map(|f| (*n, f));
    }
    let target = if job.phone_id.is_empty() {
        &job.server_id
    } else {
        &job.phone_id
    };
    st.by_target.get(target)?.iter().find_map(|n| {
        let f = st.flights.get(n)?;
        let other_job = f.job_id.is_some() && !job.job_id.is_empty();
        let same_request = f
            .request_id
            .as_ref()
            .is_some_and(|r| job.request_id.is_empty() || *r == job.request_id);
        (!other_job && same_request).then_some((*n, f))
    })
}

/// A target the answer started no job for.
fn refused(j: &BatchJob) -> Failure {
    let why = j.error_msg.clone();
    let why = why.unwrap_or_else(|| "the call started no job for it".into());
    failure(j.target(), j.error_code.clone(), why)
}

/// A job started with no request id to follow it by.
fn unfollowed(j: &BatchJob) -> Failure {
    let why = j.error_msg.clone();
    let why = why.unwrap_or_else(|| "the answer named no request id to follow".into());
    failure(j.target(), j.error_code.clone(), why)
}

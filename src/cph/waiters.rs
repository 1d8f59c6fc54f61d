//! Waiting for the cloud to finish: jobs of `phones-traffic` calls (flavor
//! orders are followed by `fleet::orders`, which shares the interval).
//!
//! The waiter polls with an adaptive interval: a quarter of the time waited
//! so far, at least [`FIRST_INTERVAL`] and at most [`MAX_INTERVAL`], never
//! sleeping past the deadline. So a short job is seen done within a quarter
//! of its run time (plus one call), and a long wait costs only a few dozen
//! polls. They end with [`Error::Timeout`] at the deadline (after one last
//! look) and with [`Error::Cancelled`] as soon as the token fires.
//! Transient failures of a poll are retried by the client; a failure that
//! persists ends the wait with that error.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::client::{Client, MAX_REQUEST_IDS_PER_CALL};
use super::error::{Error, Result};
use super::models::{JOB_STATUS_FAILED, JOB_STATUS_SUCCEEDED, Job};

/// First (and shortest) polling interval.
pub(crate) const FIRST_INTERVAL: Duration = Duration::from_millis(500);
/// Longest polling interval.
pub(crate) const MAX_INTERVAL: Duration = Duration::from_secs(10);
/// Rounds a request id may show no jobs at all before it counts as done
/// (its jobs may take a moment to become visible).
const EMPTY_ROUNDS_BEFORE_DONE: u32 = 3;

/// The growing interval between polls: a quarter of the time waited so far,
/// within [`FIRST_INTERVAL`]..=[`MAX_INTERVAL`].
#[derive(Debug, Clone)]
pub(crate) struct PollInterval {
    started: Instant,
}

impl Default for PollInterval {
    fn default() -> Self {
        PollInterval {
            started: Instant::now(),
        }
    }
}

impl PollInterval {
    /// The next interval, capped so that it does not run past `deadline`.
    pub fn next(&mut self, deadline: Instant) -> Duration {
        let this = (self.started.elapsed() / 4).clamp(FIRST_INTERVAL, MAX_INTERVAL);
        this.min(deadline.saturating_duration_since(Instant::now()))
    }
}

/// A job is over once it succeeded or failed.
pub fn job_finished(job: &Job) -> bool {
    job.status == JOB_STATUS_SUCCEEDED || job.status == JOB_STATUS_FAILED
}

/// Waits until every job of the given `phones-traffic` request ids has ended
/// (succeeded or failed), reading them through list-jobs (20 request ids a
/// call, paged). Each round reads only the request ids that still have
/// unfinished jobs (when the API names each job's request id; otherwise a
/// group of up to 20 ids is done when all its jobs are). Returns all jobs in
/// their final state. On deadline: `Error::Timeout`; on `cancel`:
/// `Error::Cancelled`.
pub async fn wait_for_jobs(
    client: &Client,
    request_ids: &[String],
    deadline: Instant,
    cancel: &CancellationToken,
) -> Result<Vec<Job>> {
    let started = Instant::now();
    let client = client
        .with_deadline(deadline)
        .with_cancellation(cancel.clone());

    let mut pending: Vec<String> = Vec::new();
    for id in request_ids {
        if !id.is_empty() && !pending.contains(id) {
            pending.push(id.clone());
        }
    }
    // Every job seen, in first-seen order, with its latest state.
    let mut jobs: Vec<Job> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut empty_rounds: HashMap<String, u32> = HashMap::new();
    let mut interval = PollInterval::default();
    let mut round: u32 = 0;

    loop {
        // Jobs just started are never done: look first after a pause.
        sleep_or_cancel(interval.next(deadline), cancel).await?;
        round += 1;
        let mut still_pending = Vec::new();
        for chunk in pending.chunks(MAX_REQUEST_IDS_PER_CALL) {
            let listed = match client.list_jobs(chunk).await {
                Ok(listed) => listed,
                Err(e) => return Err(poll_error(e, deadline, || running_summary(&jobs))),
            };
            let attributed = !listed.is_empty() && listed.iter().all(|j| !j.request_id.is_empty());
            let mut unfinished: HashSet<String> = HashSet::new();
            let mut seen: HashSet<String> = HashSet::new();
            let mut chunk_unfinished = false;
            for job in listed {
                let rid = job.request_id.clone();
                if !job_finished(&job) {
                    chunk_unfinished = true;
                    unfinished.insert(rid.clone());
                }
                seen.insert(rid);
                let key = job_key(&job, jobs.len());
                match index.get(&key) {
                    Some(&i) => jobs[i] = job,
                    None => {
                        index.insert(key, jobs.len());
                        jobs.push(job);
                    }
                }
            }
            for id in chunk {
                let keep = if attributed {
                    if seen.contains(id) {
                        unfinished.contains(id)
                    } else {
                        still_empty(&mut empty_rounds, id)
                    }
                } else if seen.is_empty() {
                    still_empty(&mut empty_rounds, id)
                } else {
                    chunk_unfinished
                };
                if keep {
                    still_pending.push(id.clone());
                }
            }
        }
        pending = still_pending;
        let running = jobs.iter().filter(|j| !job_finished(j)).count();
        tracing::debug!(
            target: "cph",
            round,
            jobs = jobs.len(),
            running,
            pending_request_ids = pending.len(),
            "polled jobs"
        );
        if pending.is_empty() {
            return Ok(jobs);
        }
        if Instant::now() >= deadline {
            return Err(Error::Timeout(format!(
                "jobs did not finish within {}: {}",
                go_duration(deadline.saturating_duration_since(started)),
                running_summary(&jobs)
            )));
        }
    }
}

fn still_empty(empty_rounds: &mut HashMap<String, u32>, id: &str) -> bool {
    let n = empty_rounds.entry(id.to_string()).or_insert(0);
    *n += 1;
    *n < EMPTY_ROUNDS_BEFORE_DONE
}

fn job_key(job: &Job, position: usize) -> String {
    if !job.job_id.is_empty() {
        job.job_id.clone()
    } else if !job.phone_id.is_empty() {
        format!("{}/{}", job.request_id, job.phone_id)
    } else {
        format!("#{position}")
    }
}

fn running_summary(jobs: &[Job]) -> String {
    let running: Vec<&Job> = jobs.iter().filter(|j| !job_finished(j)).collect();
    let mut s = format!("{} of {} jobs still running", running.len(), jobs.len());
    if !running.is_empty() {
        let examples: Vec<String> = running
            .iter()
            .take(3)
            .map(|j| format!("job {} on phone {}", j.job_id, j.phone_id))
            .collect();
        s.push_str(&format!(" (e.g. {})", examples.join(", ")));
    }
    s
}

/// A poll failed: past the deadline a transient failure is a timeout (with
/// the failure as detail); anything else ends the wait as it is.
fn poll_error(e: Error, deadline: Instant, progress: impl FnOnce() -> String) -> Error {
    let transient = matches!(e, Error::Transport { .. })
        || matches!(e, Error::Api { status, .. } if status == 429 || status >= 500);
    if transient && Instant::now() >= deadline {
        Error::Timeout(format!(
            "the wait reached its deadline: {}; last error: {e}",
            progress()
        ))
    } else {
        e
    }
}

async fn sleep_or_cancel(delay: Duration, cancel: &CancellationToken) -> Result<()> {
    tokio::select! {
        _ = cancel.cancelled() => Err(Error::Cancelled),
        _ = tokio::time::sleep(delay) => Ok(()),
    }
}

/// A duration the way Terraform users read them (Go's `time.Duration`):
/// `10m0s`, `1h30m0s`, `45s`, `1.5s`, `250ms`. Rounded (to seconds from 10 s
/// on, else to 100 ms) so that a timeout measured a few milliseconds after
/// it was set reads as it was configured.
pub fn go_duration(d: Duration) -> String {
    let step: u128 = if d >= Duration::from_secs(10) {
        1000
    } else {
        100
    };
    let rounded = (d.as_millis() + step / 2) / step * step;
    let d = Duration::from_millis(u64::try_from(rounded).unwrap_or(u64::MAX));
    let total_ms = d.as_millis();
    if total_ms < 1000 {
        return format!("{total_ms}ms");
    }
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let ms = d.subsec_millis();
    let sec_text = if ms == 0 {
        format!("{s}s")
    } else {
        let frac = format!("{ms:03}");
        format!("{s}.{}s", frac.trim_end_matches('0'))
    };
    if h > 0 {
        format!("{h}h{m}m{sec_text}")
    } else if m > 0 {
        format!("{m}m{sec_text}")
    } else {
        sec_text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_durations_like_go() {
        assert_eq!(go_duration(Duration::from_secs(600)), "10m0s");
        assert_eq!(go_duration(Duration::from_secs(5400)), "1h30m0s");
        assert_eq!(go_duration(Duration::from_secs(45)), "45s");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(go_duration(Duration::from_millis(250)), "300ms");
        assert_eq!(go_duration(Duration::from_millis(599_996)), "10m0s");
        assert_eq!(go_duration(Duration::from_millis(1_199)), "1.2s");
    }

    #[test]
    fn interval_grows_and_respects_deadline() {
        let far = Instant::now() + Duration::from_secs(3600);
        let waited = |secs: u64| PollInterval {
            started: Instant::now() - Duration::from_secs(secs),
        };
        assert_eq!(PollInterval::default().next(far), FIRST_INTERVAL);
        let after_8s = waited(8).next(far);
        assert!(after_8s >= Duration::from_secs(2) && after_8s < Duration::from_millis(2100));
        assert_eq!(waited(3600).next(far), MAX_INTERVAL);
        let near = Instant::now() + Duration::from_millis(100);
        assert!(waited(8).next(near) <= Duration::from_millis(100));
    }
}

//! What comes back to the coordinator: a `phones-traffic` call's answer
//! (read per phone by the batch kinds' shared
//! [`sort_answer`](crate::fleet::batch_call::sort_answer): jobs started,
//! phones refused, a call that failed or may have landed),
//! and the poller's report of jobs that ended; each resolves the phones'
//! waiters and lets changes blocked behind them go.

use std::collections::BTreeSet;
use std::sync::Weak;
use std::time::Instant;

use super::{Coordinator, failed};
use crate::cph::models::{
    BatchJob, BatchJobsResponse, JOB_STATUS_FAILED, JOB_STATUS_SUCCEEDED, Job,
};
use crate::cph::{self, Client};
use crate::fleet::batch_call::{Answer, sort_answer};
use crate::fleet::poller::JobSink;
use crate::fleet::routing::{JobRecord, JobStatus, Refusal};

impl Coordinator {
    pub(super) fn answered(
        &self,
        client: &Client,
        phones: &[String],
        answer: cph::Result<BatchJobsResponse>,
    ) {
        let mut ended: Vec<(JobRecord, Option<String>)> = Vec::new();
        let mut started = 0usize;
        let mut request_id = String::new();
        match answer {
            Ok(resp) => {
                request_id = resp.request_id.clone();
                let mut st = self.lock();
                for (phone, answer) in sort_answer(phones.iter().map(String::as_str), &resp) {
                    match answer {
                        Answer::Started(_, job_id) if !request_id.is_empty() => {
                            if let Some(f) = st.in_flight.get_mut(phone) {
                                f.job_id = Some(job_id.to_string());
                                f.request_id = Some(request_id.clone());
                                for t in &f.tickets {
                                    t.sent(phone, &request_id, job_id);
                                }
                                started += 1;
                            }
                        }
                        Answer::Started(j, job_id) => {
                            ended.push((unfollowed(phone, Some(job_id), j), None))
                        }
                        Answer::Refused(j) => ended.push((unfollowed(phone, None, j), None)),
                        Answer::Missing => ended.push((
                            failed(phone, None, "no job was reported for this phone".into()),
                            None,
                        )),
                    }
                }
            }
            Err(e) => ended = self.call_failed(phones, e),
        }
        if started > 0 || !ended.is_empty() {
            self.lock().proven |= started > 0;
        }
        self.finish(ended);
        if started > 0 {
            self.poller
                .follow_for(client, &request_id, started, false, self.sink());
        }
    }

    /// The records of a call that failed. Refused credentials stop the
    /// engine; a call cut short by a stop that may have taken effect leaves
    /// its phones running (with no request id to follow).
    fn call_failed(&self, phones: &[String], e: cph::Error) -> Vec<(JobRecord, Option<String>)> {
        if e.is_credential_failure() || e.account_state().is_some() {
            let why = e.to_string();
            self.lock().refused.get_or_insert(Refusal {
                why: why.clone(),
                account: e.account_state().is_some(),
            });
            return phones
                .iter()
                .map(|p| (failed(p, None, why.clone()), None))
                .collect();
        }
        if let cph::Error::Unsettled(_) = &e {
            let why = format!("{e}; counted as changed");
            return phones
                .iter()
                .map(|p| {
                    let record = JobRecord {
                        phone_id: p.clone(),
                        job_id: None,
                        status: JobStatus::Running,
                        error_code: None,
                        error_msg: Some(why.clone()),
                    };
                    (record, None)
                })
                .collect();
        }
        phones
            .iter()
            .map(|p| (failed(p, e.code().map(str::to_string), e.to_string()), None))
            .collect()
    }

    /// Where the poller tells of this coordinator's jobs.
    pub(super) fn sink(&self) -> Weak<dyn JobSink> {
        self.me.clone()
    }

    /// The poller's report: jobs that ended, request ids that listed no jobs.
    fn route_jobs_ended(&self, jobs: Vec<Job>, gone: Vec<String>) {
        let mut ended = Vec::new();
        {
            let st = self.lock();
            for job in jobs {
                let Some(f) = st.in_flight.get(&job.phone_id) else {
                    continue;
                };
                let matches = match (&f.job_id, &f.request_id) {
                    (Some(j), _) if !j.is_empty() && !job.job_id.is_empty() => *j == job.job_id,
                    (_, Some(r)) => job.request_id.is_empty() || *r == job.request_id,
                    _ => false,
                };
                if !matches {
                    continue;
                }
                let status = match job.status {
                    JOB_STATUS_SUCCEEDED => JobStatus::Succeeded,
                    JOB_STATUS_FAILED => JobStatus::Failed,
                    _ => continue,
                };
                let failed = status == JobStatus::Failed;
                ended.push((
                    JobRecord {
                        phone_id: job.phone_id.clone(),
                        job_id: Some(job.job_id.clone()).filter(|j| !j.is_empty()),
                        status,
                        error_code: job.error_code.clone().filter(|c| failed && !c.is_empty()),
                        error_msg: job.error_msg.clone().filter(|m| failed && !m.is_empty()),
                    },
                    Some(job.server_id.clone()),
                ));
            }
            let gone: BTreeSet<String> = gone.into_iter().collect();
            for (phone, f) in st.in_flight.iter() {
                if f.request_id.as_ref().is_some_and(|r| gone.contains(r)) {
                    ended.push((
                        failed(
                            phone,
                            None,
                            "its job is no longer listed by the API; the next apply sends the route again"
                                .into(),
                        ),
                        None,
                    ));
                }
            }
        }
        self.finish(ended);
    }

    /// Resolves the phones whose job ended and lets changes blocked behind
    /// them go.
    fn finish(&self, ended: Vec<(JobRecord, Option<String>)>) {
        if ended.is_empty() {
            return;
        }
        let mut requeued = false;
        {
            let mut st = self.lock();
            for (record, server) in ended {
                let phone = record.phone_id.clone();
                if let Some(f) = st.in_flight.remove(&phone) {
                    for t in &f.tickets {
                        t.resolve(record.clone(), server.as_deref());
                    }
                }
                let Some(mut queue) = st.blocked.remove(&phone) else {
                    continue;
                };
                if queue.is_empty() {
                    continue;
                }
                let next = queue.remove(0);
                if !queue.is_empty() {
                    st.blocked.insert(phone.clone(), queue);
                }
                st.pending.insert(phone, next);
                requeued = true;
            }
            if requeued {
                let now = Instant::now();
                st.first_pending.get_or_insert(now);
                st.last_arrival = Some(now);
                st.last_announced = true;
            }
        }
        if requeued {
            self.wake.notify_one();
        }
    }
}

/// A phone the answer started no job to follow for: refused (no job), or
/// a job with no request id to follow it by.
fn unfollowed(phone: &str, job_id: Option<&str>, j: &BatchJob) -> JobRecord {
    JobRecord {
        phone_id: phone.to_string(),
        job_id: job_id.map(str::to_string),
        status: JobStatus::Failed,
        error_code: j.error_code.clone(),
        error_msg: j
            .error_msg
            .clone()
            .or_else(|| Some("the answer named no request id to follow".into())),
    }
}

impl JobSink for Coordinator {
    fn jobs_ended(&self, jobs: Vec<Job>, gone: Vec<String>) {
        self.route_jobs_ended(jobs, gone);
    }
}

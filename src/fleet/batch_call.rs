//! The batch kinds: what a kind of batch call says to the engine's
//! [batcher](super::batcher) — how to send one call of at most
//! [`BatchCall::max_ids`] ids, which calls may be merged, what an ended job
//! means for its target, how long its window stays open, and whether it
//! keeps one job per target at a time — and the kinds the CPH API offers on
//! phones and servers ([`OpKind`]) and the route change of phones
//! ([`PhonesTraffic`], the kind of the route
//! [coordinator](super::coordinator)). A resource or an action may declare a
//! kind of its own by implementing [`BatchCall`]. What one call's answer says
//! of each id it carried is read here once ([`sort_answer`]), for every kind.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

pub use super::batcher::window::Window;
use crate::cph::models::{
    BatchJob, BatchJobsResponse, BatchPhone, BatchPhonesRequest, JOB_STATUS_FAILED,
    JOB_STATUS_SUCCEEDED, Job, MAX_IDS_PER_BATCH_CALL,
};
use crate::cph::{self, Client};

/// How long the actions' calls wait for others to join them.
pub const WINDOW: Duration = Duration::from_millis(100);
/// The longest a route change waits for others to join its calls.
pub const MAX_WINDOW: Duration = Duration::from_millis(100);
/// After a route change no plan announced, how long the window stays open
/// without a new one.
pub const QUIET: Duration = Duration::from_millis(20);

/// One batch kind's call: how to send one call, and what its jobs mean.
#[async_trait]
pub trait BatchCall: Send + Sync + 'static {
    /// Submissions whose calls have the same key are sent in the same calls
    /// (the kind and everything in the body besides the ids).
    fn merge_key(&self) -> String;

    /// The most ids one call takes.
    fn max_ids(&self) -> usize {
        MAX_IDS_PER_BATCH_CALL
    }

    /// Sends one call for `targets` (1 to [`BatchCall::max_ids`]).
    async fn send(&self, client: &Client, targets: &[Target]) -> cph::Result<BatchJobsResponse>;

    /// What an ended job means for its target `id`: `Some(Ok)` success,
    /// `Some(Err)` failure, `None` not over yet.
    fn judge(&self, id: &str, job: &Job) -> Option<Result<(), Failure>> {
        match job.status {
            JOB_STATUS_SUCCEEDED => Some(Ok(())),
            JOB_STATUS_FAILED => Some(Err(failure(
                id,
                job.error_code.clone(),
                job.error_msg
                    .clone()
                    .unwrap_or_else(|| "the job failed".into()),
            ))),
            _ => None,
        }
    }

    /// How long its targets wait for others to join their calls.
    fn window(&self) -> Window {
        Window::fixed(WINDOW)
    }

    /// `Some(lane)`: calls of this lane keep one job per target at a time
    /// (a target with a job in flight is joined by the same call, and
    /// waits for another); `None`: each submission is sent.
    fn lane(&self) -> Option<&'static str> {
        None
    }

    /// Why a target failed whose request id lists no job any longer.
    fn gone(&self, request_id: &str) -> String {
        format!("request {request_id} lists no job")
    }
}

/// The batch operations the CPH API offers on phones and servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OpKind {
    RestartPhones,
    ResetPhones,
    StopPhones,
    RestartServers,
}

impl OpKind {
    /// The call of this kind (restart and reset onto `image_id` when given).
    pub fn call(self, image_id: Option<String>) -> Arc<dyn BatchCall> {
        Arc::new(KindCall {
            kind: self,
            image_id,
        })
    }
}

/// An [`OpKind`] with the image it restarts or resets onto.
struct KindCall {
    kind: OpKind,
    image_id: Option<String>,
}

#[async_trait]
impl BatchCall for KindCall {
    fn merge_key(&self) -> String {
        format!("{:?} {:?}", self.kind, self.image_id)
    }

    async fn send(&self, client: &Client, targets: &[Target]) -> cph::Result<BatchJobsResponse> {
        let ids = || targets.iter().map(|t| t.id.clone()).collect::<Vec<_>>();
        let phones = |reset: bool| BatchPhonesRequest {
            image_id: self.image_id.clone(),
            phones: targets
                .iter()
                .map(|t| BatchPhone {
                    phone_id: t.id.clone(),
                    property: t.property.clone(),
                    factory_reset_enabled: if reset { t.factory_reset } else { None },
                })
                .collect(),
        };
        match self.kind {
            OpKind::RestartPhones => client.restart_phones(&phones(false)).await,
            OpKind::ResetPhones => client.reset_phones(&phones(true)).await,
            OpKind::StopPhones => client.stop_phones(&ids()).await,
            OpKind::RestartServers => client.restart_servers(&ids()).await,
        }
    }
}

/// The route change of phones (`phones-traffic`) to one route: the call the
/// route [coordinator](super::coordinator) sends, chunked by
/// [`BatchCall::max_ids`] like every kind.
pub struct PhonesTraffic {
    route: String,
}

impl PhonesTraffic {
    /// The call that puts phones on `route`.
    pub fn call(route: &str) -> Arc<dyn BatchCall> {
        Arc::new(PhonesTraffic {
            route: route.to_string(),
        })
    }
}

#[async_trait]
impl BatchCall for PhonesTraffic {
    fn merge_key(&self) -> String {
        format!("phones-traffic {}", self.route)
    }

    /// Changes that arrive together merge: a plan's announced change closes
    /// the window at once, others after [`QUIET`].
    fn window(&self) -> Window {
        Window {
            max: MAX_WINDOW,
            quiet: Some(QUIET),
        }
    }

    /// A phone is on one route: one route job per phone at a time.
    fn lane(&self) -> Option<&'static str> {
        Some("route")
    }

    fn gone(&self, _request_id: &str) -> String {
        "its job is no longer listed by the API; the next apply sends the route again".into()
    }

    async fn send(&self, client: &Client, targets: &[Target]) -> cph::Result<BatchJobsResponse> {
        let ids: Vec<String> = targets.iter().map(|t| t.id.clone()).collect();
        let resp = client.set_phones_traffic(&self.route, &ids).await?;
        Ok(BatchJobsResponse {
            request_id: resp.request_id,
            jobs: resp
                .jobs
                .into_iter()
                .map(|j| BatchJob {
                    phone_id: j.phone_id,
                    server_id: String::new(),
                    job_id: j.job_id,
                    error_code: j.error_code,
                    error_msg: j.error_msg,
                })
                .collect(),
        })
    }
}

/// What a call's answer says of one id it carried.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Answer<'a> {
    /// A job was started for it (`job_id` not empty).
    Started(&'a BatchJob, &'a str),
    /// The answer names it without a job (its error code and message).
    Refused(&'a BatchJob),
    /// The answer does not name it.
    Missing,
}

/// What `resp` says of each of `ids`, in their order (an id the answer
/// names twice: its last entry).
pub(crate) fn sort_answer<'a, 'i>(
    ids: impl IntoIterator<Item = &'i str>,
    resp: &'a BatchJobsResponse,
) -> Vec<(&'i str, Answer<'a>)> {
    let by_id: HashMap<&str, &BatchJob> = resp.jobs.iter().map(|j| (j.target(), j)).collect();
    ids.into_iter()
        .map(|id| {
            let answer = match by_id.get(id) {
                Some(j) => match j.job_id.as_deref().filter(|s| !s.is_empty()) {
                    Some(job_id) => Answer::Started(j, job_id),
                    None => Answer::Refused(j),
                },
                None => Answer::Missing,
            };
            (id, answer)
        })
        .collect()
}

/// One phone or server to act on.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Target {
    pub id: String,
    /// Phone properties (restart and reset), a JSON string.
    pub property: Option<String>,
    /// Reset only.
    pub factory_reset: Option<bool>,
}

impl Target {
    pub fn id(id: &str) -> Target {
        Target {
            id: id.to_string(),
            ..Default::default()
        }
    }
}

/// A target that failed, with the API's code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub id: String,
    pub code: Option<String>,
    pub message: String,
}

pub(crate) fn failure(id: &str, code: Option<String>, message: String) -> Failure {
    Failure {
        id: id.to_string(),
        code,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_merge_only_with_the_same_body() {
        let key = |k: OpKind, i: Option<&str>| k.call(i.map(str::to_string)).merge_key();
        assert_eq!(
            key(OpKind::RestartPhones, None),
            key(OpKind::RestartPhones, None)
        );
        assert_ne!(
            key(OpKind::RestartPhones, None),
            key(OpKind::RestartPhones, Some("img"))
        );
        assert_ne!(
            key(OpKind::StopPhones, None),
            key(OpKind::RestartPhones, None)
        );
    }

    #[test]
    fn an_answer_is_sorted_per_id() {
        let job = |id: &str, job_id: Option<&str>| BatchJob {
            phone_id: id.into(),
            job_id: job_id.map(str::to_string),
            error_code: Some("CPS.0005".into()),
            ..Default::default()
        };
        let resp = BatchJobsResponse {
            request_id: "r".into(),
            jobs: vec![job("a", Some("j1")), job("b", Some("")), job("c", None)],
        };
        let sorted = sort_answer(["a", "b", "c", "d"], &resp);
        assert!(matches!(sorted[0], ("a", Answer::Started(_, "j1"))));
        assert!(matches!(sorted[1], ("b", Answer::Refused(j)) if j.phone_id == "b"));
        assert!(matches!(sorted[2], ("c", Answer::Refused(_))));
        assert_eq!(sorted[3], ("d", Answer::Missing));
    }

    #[test]
    fn routes_merge_only_with_their_own_route() {
        let key = |r: &str| PhonesTraffic::call(r).merge_key();
        assert_eq!(key("direct"), key("direct"));
        assert_ne!(key("direct"), key("r1"));
        assert_ne!(key("direct"), OpKind::StopPhones.call(None).merge_key());
    }

    #[test]
    fn a_job_is_judged_by_its_status() {
        let call = OpKind::StopPhones.call(None);
        let job = |status| Job {
            status,
            error_code: Some("CPS.0020".into()),
            ..Default::default()
        };
        assert_eq!(call.judge("p", &job(JOB_STATUS_SUCCEEDED)), Some(Ok(())));
        let failed = call.judge("p", &job(JOB_STATUS_FAILED));
        assert!(matches!(failed, Some(Err(f)) if f.code.as_deref() == Some("CPS.0020")));
        assert_eq!(call.judge("p", &job(1)), None);
    }
}

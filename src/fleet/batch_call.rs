//! The batch kinds: what a kind of batch call says to the engine's batcher
//! ([`Operations`](super::operations::Operations)) — how to send one call of
//! at most [`BatchCall::max_ids`] ids, which calls may be merged, and what an
//! ended job means for its target — and the kinds the CPH API offers on
//! phones and servers ([`OpKind`]). A resource or an action may declare a
//! kind of its own by implementing [`BatchCall`].

use std::sync::Arc;

use async_trait::async_trait;

use crate::cph::models::{
    BatchJobsResponse, BatchPhone, BatchPhonesRequest, JOB_STATUS_FAILED, JOB_STATUS_SUCCEEDED,
    Job, MAX_IDS_PER_BATCH_CALL,
};
use crate::cph::{self, Client};

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

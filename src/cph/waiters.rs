//! Waiting for the cloud to finish: jobs of `phones-traffic` calls and flavor
//! changes. (Interface fixed here; polling is filled in by issue [C].)

use std::time::Instant;

use tokio_util::sync::CancellationToken;

use super::client::Client;
use super::error::{Error, Result};
use super::models::{Job, Server};

/// Waits until every job of the given `phones-traffic` request ids has ended
/// (succeeded or failed), reading them through list-jobs (20 request ids a
/// call, paged). Returns all jobs in their final state. On deadline:
/// `Error::Timeout`; on `cancel`: `Error::Cancelled`.
pub async fn wait_for_jobs(
    _client: &Client,
    _request_ids: &[String],
    _deadline: Instant,
    _cancel: &CancellationToken,
) -> Result<Vec<Job>> {
    Err(Error::Config("not implemented yet".into()))
}

/// Waits until the server shows `server_model_name` and `phone_model_name`
/// with a normal status. `order_id` only serves the timeout message.
pub async fn wait_for_flavor(
    _client: &Client,
    _server_id: &str,
    _server_model_name: &str,
    _phone_model_name: &str,
    _order_id: &str,
    _deadline: Instant,
    _cancel: &CancellationToken,
) -> Result<Server> {
    Err(Error::Config("not implemented yet".into()))
}

//! What `cph_phone_properties` asks of the API: its writes as batch calls
//! of the fleet engine (`batch-update-property`, or `batch-restart` with
//! properties), and its reads (show phone, one call per phone, run
//! concurrently within the client's rate limit).
//!
//! Merging: every resource's writes that manage the same set of keys go in
//! the same calls, [`PROPERTY_CHUNK`] phones to a call. Resources that
//! manage different keys of one phone (allowed) send separate calls, so
//! that one phone never appears twice in a call with two different
//! `property` texts; two resources never manage the same key of a phone
//! (a plan error), so within one key set a phone is written once.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::cph::models::{
    BatchJobsResponse, BatchPhone, BatchPhonesRequest, PhoneProperties, PropertyUpdate,
    UpdatePropertyRequest, properties_text,
};
use crate::cph::{self, Client};
use crate::fleet::Fleet;
use crate::fleet::operations::{AsyncProgress, BatchCall, Counts, Outcome, Target};

/// Phones per `batch-update-property` call. The API documents no maximum;
/// 100 is what every other CPH batch call takes, and with a phone's
/// properties at most 2,048 bytes of JSON a call stays near 210 KB, well
/// within what API gateways accept in one body.
pub const PROPERTY_CHUNK: usize = 100;

/// Show-phone reads in flight at once: enough to keep the client's rate
/// limiter (`max_requests_per_second`, default 30) busy, few enough that a
/// refresh of thousands of phones holds few connections.
pub const READS_IN_FLIGHT: usize = 16;

/// How properties reach the phones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// `batch-update-property`: the phones keep running.
    Update,
    /// `batch-restart` with the properties: for keys read at boot.
    Restart,
}

/// A write of properties to phones that manage `keys`.
struct PropertyCall {
    via: Via,
    keys: BTreeSet<String>,
}

#[async_trait]
impl BatchCall for PropertyCall {
    fn merge_key(&self) -> String {
        let keys: Vec<&str> = self.keys.iter().map(String::as_str).collect();
        format!("properties {:?} {}", self.via, keys.join(","))
    }

    fn max_ids(&self) -> usize {
        PROPERTY_CHUNK
    }

    async fn send(&self, client: &Client, targets: &[Target]) -> cph::Result<BatchJobsResponse> {
        let property = |t: &Target| t.property.clone().unwrap_or_else(|| "{}".into());
        match self.via {
            Via::Update => {
                let phones = targets
                    .iter()
                    .map(|t| PropertyUpdate {
                        phone_id: t.id.clone(),
                        property: property(t),
                        custom_property: None,
                    })
                    .collect();
                client
                    .update_phone_properties(&UpdatePropertyRequest { phones })
                    .await
            }
            Via::Restart => {
                let phones = targets
                    .iter()
                    .map(|t| BatchPhone {
                        phone_id: t.id.clone(),
                        property: Some(property(t)),
                        factory_reset_enabled: None,
                    })
                    .collect();
                let req = BatchPhonesRequest {
                    image_id: None,
                    phones,
                };
                client.restart_phones(&req).await
            }
        }
    }
}

/// Hears nothing: a resource's apply shows no progress.
struct Quiet;

impl AsyncProgress for Quiet {
    async fn report(&mut self, _counts: &Counts) {}
}

/// Writes each phone's properties (`writes`: phone -> its managed keys'
/// values) through the fleet's batcher, waiting for the jobs until
/// `deadline` or `stop`. `keys` is every key the resource manages.
pub async fn write(
    fleet: &Fleet,
    client: &Client,
    via: Via,
    keys: &BTreeSet<String>,
    writes: &BTreeMap<String, PhoneProperties>,
    deadline: Instant,
    stop: &CancellationToken,
) -> Outcome {
    let targets: Vec<Target> = writes
        .iter()
        .map(|(phone, props)| Target {
            id: phone.clone(),
            property: Some(properties_text(props)),
            factory_reset: None,
        })
        .collect();
    if targets.is_empty() {
        return Outcome::default();
    }
    let call: Arc<dyn BatchCall> = Arc::new(PropertyCall {
        via,
        keys: keys.clone(),
    });
    let cancel = stop.child_token();
    let timer = tokio::spawn({
        let cancel = cancel.clone();
        async move {
            tokio::time::sleep_until(deadline.into()).await;
            cancel.cancel();
        }
    });
    let outcome = fleet
        .operations()
        .run_call(client, call, targets, &cancel, Quiet)
        .await;
    timer.abort();
    outcome
}

/// What show phone said of one phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// The phone's properties.
    Properties(PhoneProperties),
    /// The phone does not exist.
    Gone,
}

/// Shows each of `phones` (concurrently, within the client's rate limit):
/// their properties, or that they are gone. The first other error ends the
/// read.
pub async fn read(
    client: &Client,
    phones: &BTreeSet<String>,
) -> Result<BTreeMap<String, Seen>, ReadError> {
    let mut reads = futures::stream::iter(phones.iter().cloned())
        .map(|id| async move {
            let seen = match client.show_phone(&id).await {
                Ok(phone) => phone
                    .properties()
                    .map(Seen::Properties)
                    .map_err(|why| ReadError::Unreadable(id.clone(), why)),
                Err(e) if e.is_not_found() => Ok(Seen::Gone),
                Err(e) => Err(ReadError::Api(id.clone(), e)),
            };
            (id, seen)
        })
        .buffer_unordered(READS_IN_FLIGHT);
    let mut out = BTreeMap::new();
    while let Some((id, seen)) = reads.next().await {
        out.insert(id, seen?);
    }
    Ok(out)
}

/// Why a read of phones ended.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("show phone {0}: {1}")]
    Api(String, #[source] cph::Error),
    #[error("phone {0}: {1}")]
    Unreadable(String, String),
}

impl ReadError {
    /// The API error, when it was one.
    pub fn api(&self) -> Option<&cph::Error> {
        match self {
            ReadError::Api(_, e) => Some(e),
            ReadError::Unreadable(..) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(via: Via, keys: &[&str]) -> PropertyCall {
        PropertyCall {
            via,
            keys: keys.iter().map(|k| k.to_string()).collect(),
        }
    }

    #[test]
    fn writes_merge_by_way_and_key_set() {
        let a = call(Via::Update, &["a", "b"]).merge_key();
        assert_eq!(a, call(Via::Update, &["b", "a"]).merge_key());
        assert_ne!(a, call(Via::Update, &["a"]).merge_key());
        assert_ne!(a, call(Via::Restart, &["a", "b"]).merge_key());
        assert_eq!(call(Via::Update, &["a"]).max_ids(), PROPERTY_CHUNK);
    }
}

//! Fault injection: the queued faults (status, latency, dropped connections)
//! that the admin API adds and the gateway consumes, in order, per endpoint.

use serde::Deserialize;

use crate::endpoints::ENDPOINT_NAMES;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with an error status (and `Retry-After` for 429).
    Status,
    /// Wait `latency_ms`, then process normally.
    Latency,
    /// Close the connection without processing the request.
    DropBefore,
    /// Process the request (state changes), then close without answering.
    DropAfter,
    /// Process the request (state changes), then hold the answer
    /// `latency_ms` before sending it: a client stopped meanwhile has a
    /// call in flight that has already taken effect.
    HoldAnswer,
}

/// A fault as the admin API receives it.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    pub endpoint: String,
    pub kind: FaultKind,
    pub status: Option<u16>,
    pub retry_after: Option<u64>,
    pub latency_ms: Option<u64>,
    pub count: Option<u32>,
    pub error_code: Option<String>,
    pub error_msg: Option<String>,
}

/// A queued fault with the number of calls it still hits.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Fault {
    #[serde(flatten)]
    pub spec: FaultSpec,
    pub remaining: u32,
}

impl FaultSpec {
    /// Check the spec and make it a queued fault.
    pub fn into_fault(self) -> Result<Fault, String> {
        if self.endpoint != "*" && !ENDPOINT_NAMES.contains(&self.endpoint.as_str()) {
            return Err(format!(
                "unknown endpoint '{}': use * or one of {}",
                self.endpoint,
                ENDPOINT_NAMES.join(", ")
            ));
        }
        match self.kind {
            FaultKind::Status => match self.status {
                Some(s) if (400..=599).contains(&s) => {}
                _ => return Err("kind status needs a status between 400 and 599".into()),
            },
            FaultKind::Latency if self.latency_ms.is_none() => {
                return Err("kind latency needs latency_ms".into());
            }
            FaultKind::HoldAnswer if self.latency_ms.is_none() => {
                return Err("kind hold_answer needs latency_ms".into());
            }
            _ => {}
        }
        let remaining = self.count.unwrap_or(1);
        if remaining == 0 {
            return Err("count must be at least 1".into());
        }
        Ok(Fault {
            spec: self,
            remaining,
        })
    }
}

/// Answers held by `hold_answer` faults: being held now, and in all since
/// the counters were reset.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct HeldAnswers {
    pub holding: u64,
    pub held: u64,
}

/// Take the first queued fault that applies to `endpoint`, if any.
pub fn take(queue: &mut std::collections::VecDeque<Fault>, endpoint: &str) -> Option<FaultSpec> {
    let pos = queue
        .iter()
        .position(|f| f.spec.endpoint == "*" || f.spec.endpoint == endpoint)?;
    let fault = queue.get_mut(pos)?;
    fault.remaining = fault.remaining.saturating_sub(1);
    let spec = fault.spec.clone();
    if fault.remaining == 0 {
        queue.remove(pos);
    }
    Some(spec)
}

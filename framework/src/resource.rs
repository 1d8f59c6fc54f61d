//! The whole surface the plugin layer shows to resources: the [`Provider`],
//! [`Resource`] and [`DataSource`] traits and their request/response types.
//! Resources never see a protobuf message or a msgpack byte.
//!
//! Values passed in are already decoded against the schema the resource
//! declared (objects carry every attribute, nulls included); values returned
//! must conform to the same schema.

use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::diag::{AttributePath, Diagnostics};
use super::schema::Schema;
use super::value::Value;

/// What every call gets besides its request: the provider-wide stop signal.
/// `StopProvider` cancels `stop`; long waits must watch it and return what
/// they know.
#[derive(Clone, Default)]
pub struct CallContext {
    pub stop: CancellationToken,
}

#[derive(Debug, Clone)]
pub struct PlanRequest {
    /// Null when the resource is being created.
    pub prior_state: Value,
    /// Terraform's proposal: config merged over prior state. Null on destroy.
    pub proposed_new_state: Value,
    pub config: Value,
    pub prior_private: Vec<u8>,
}

#[derive(Debug, Clone, Default)]
pub struct PlanResponse {
    pub planned_state: Value,
    pub requires_replace: Vec<AttributePath>,
    pub planned_private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

#[derive(Debug, Clone)]
pub struct ApplyRequest {
    /// Null on create.
    pub prior_state: Value,
    /// Null on destroy.
    pub planned_state: Value,
    pub config: Value,
    pub planned_private: Vec<u8>,
}

#[derive(Debug, Clone, Default)]
pub struct ApplyResponse {
    /// The state to record. Null after a destroy. On error, whatever is true
    /// of the cloud now (a partial state beats a lost one).
    pub new_state: Value,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

#[derive(Debug, Clone)]
pub struct ReadRequest {
    pub current_state: Value,
    pub private: Vec<u8>,
}

#[derive(Debug, Clone, Default)]
pub struct ReadResponse {
    /// Null when the object no longer exists (Terraform drops it from state).
    pub new_state: Value,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

#[derive(Debug, Clone, Default)]
pub struct ImportResponse {
    /// The states found for the id; Terraform reads each afterwards.
    pub states: Vec<Value>,
    pub diagnostics: Diagnostics,
}

#[derive(Debug, Clone, Default)]
pub struct DataReadResponse {
    pub state: Value,
    pub diagnostics: Diagnostics,
}

/// A managed resource type, e.g. `example_server`.
#[async_trait]
pub trait Resource: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    /// Static checks of a configuration (values may be unknown). No API calls.
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }
    /// Plans a create or an update (`proposed_new_state` is never null: the
    /// plugin layer plans a destroy itself). The configuration has just been
    /// checked with [`Resource::validate`] again, with the values that were
    /// unknown at validation now known; `plan` need not repeat that.
    async fn plan(&self, ctx: &CallContext, req: PlanRequest) -> PlanResponse;
    async fn apply(&self, ctx: &CallContext, req: ApplyRequest) -> ApplyResponse;
    async fn read(&self, ctx: &CallContext, req: ReadRequest) -> ReadResponse;
    async fn import(&self, ctx: &CallContext, id: &str) -> ImportResponse;
}

/// A data source type, e.g. `example_images`.
#[async_trait]
pub trait DataSource: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }
    async fn read(&self, ctx: &CallContext, config: Value) -> DataReadResponse;
}

/// The provider itself: its configuration block and the types it serves.
#[async_trait]
pub trait Provider: Send + Sync {
    fn schema(&self) -> Schema;
    /// Static checks of the provider block. No API calls.
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }
    /// Called once with the provider block (environment fallbacks are the
    /// provider's business). Errors here stop Terraform before any resource call.
    async fn configure(&self, ctx: &CallContext, config: Value) -> Diagnostics;
    fn resources(&self) -> Vec<Arc<dyn Resource>>;
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>>;
}

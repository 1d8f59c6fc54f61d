//! Placeholder handlers that declare the schemas until the real resources
//! land (issue [D]); every call that would touch the cloud says so.

use std::sync::Arc;

use async_trait::async_trait;

use super::Shared;
use crate::plugin::*;

fn not_yet() -> Diagnostics {
    Diagnostic::error(
        "Not implemented",
        "This resource's behaviour is not implemented yet.",
    )
    .into()
}

pub struct StubResource {
    pub name: &'static str,
    pub schema: fn() -> Schema,
    pub _shared: Arc<Shared>,
}

#[async_trait]
impl Resource for StubResource {
    fn type_name(&self) -> &'static str {
        self.name
    }
    fn schema(&self) -> Schema {
        (self.schema)()
    }
    async fn plan(&self, _ctx: &CallContext, req: PlanRequest) -> PlanResponse {
        PlanResponse {
            planned_state: req.proposed_new_state,
            ..Default::default()
        }
    }
    async fn apply(&self, _ctx: &CallContext, req: ApplyRequest) -> ApplyResponse {
        ApplyResponse {
            new_state: req.prior_state,
            diagnostics: not_yet(),
            ..Default::default()
        }
    }
    async fn read(&self, _ctx: &CallContext, req: ReadRequest) -> ReadResponse {
        ReadResponse {
            new_state: req.current_state,
            ..Default::default()
        }
    }
    async fn import(&self, _ctx: &CallContext, _id: &str) -> ImportResponse {
        ImportResponse {
            diagnostics: not_yet(),
            ..Default::default()
        }
    }
}

pub struct StubData {
    pub name: &'static str,
    pub schema: fn() -> Schema,
    pub _shared: Arc<Shared>,
}

#[async_trait]
impl DataSource for StubData {
    fn type_name(&self) -> &'static str {
        self.name
    }
    fn schema(&self) -> Schema {
        (self.schema)()
    }
    async fn read(&self, _ctx: &CallContext, _config: Value) -> DataReadResponse {
        DataReadResponse {
            diagnostics: not_yet(),
            ..Default::default()
        }
    }
}

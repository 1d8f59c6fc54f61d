//! Action `cph_server_restart`: restarts cloud phone servers (with all their phones) through the fleet engine.

use std::collections::BTreeSet;

use async_trait::async_trait;

use super::action_batch::{BatchRunner, targets};
use super::common::cph_id;
use crate::fleet::operations::OpKind;
use tf_framework::*;

tf_framework::model! {
    /// The configuration of `action.cph_server_restart`.
    pub struct ServerRestartModel {
        server_ids: BTreeSet<String> = required("Ids of the cloud phone servers to restart.")
            .validate(size_at_least(1))
            .validate(each(cph_id())),
    }
}

pub struct ServerRestart(pub BatchRunner);

#[async_trait]
impl ActionType for ServerRestart {
    type Model = ServerRestartModel;
    const TYPE_NAME: &'static str = "cph_server_restart";
    const DESCRIPTION: &'static str =
        "Restarts cloud phone servers, 100 to a call, and waits for every server's job.";

    async fn invoke(
        &self,
        ctx: &CallContext,
        config: ServerRestartModel,
        progress: &Progress,
        diags: &mut Diagnostics,
    ) {
        let ids = config.server_ids.known().cloned().unwrap_or_default();
        let targets = targets(&ids, None, None);
        let kind = OpKind::RestartServers;
        self.0.run(ctx, kind, None, targets, progress, diags).await;
    }
}

//! Action `cph_server_restart`: restarts cloud phone servers (with all their phones) through the fleet engine.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::action_batch::{BatchAction, targets};
use super::common::cph_id;
use crate::fleet::operations::{BatchCall, OpKind, Target};

tf_framework::model! {
    /// The configuration of `action.cph_server_restart`.
    pub struct ServerRestartModel {
        server_ids: BTreeSet<String> = required("Ids of the cloud phone servers to restart.")
            .validate(size_at_least(1))
            .validate(each(cph_id())),
    }
}

pub struct ServerRestart;

impl BatchAction for ServerRestart {
    type Model = ServerRestartModel;
    const TYPE_NAME: &'static str = "cph_server_restart";
    const DESCRIPTION: &'static str =
        "Restarts cloud phone servers, 100 to a call, and waits for every server's job.";
    const NOUN: &'static str = "servers";
    const DONE: &'static str = "restarted";
    const ATTRIBUTE: &'static str = "server_ids";
    const CHANGES_PHONES: bool = false;

    fn call(&self, config: &ServerRestartModel) -> (Arc<dyn BatchCall>, Vec<Target>) {
        let ids = config.server_ids.known().cloned().unwrap_or_default();
        let targets = targets(&ids, None, None);
        (OpKind::RestartServers.call(None), targets)
    }
}

//! Action `cph_phone_stop`: stops a set of phones through the fleet engine.

use std::collections::BTreeSet;

use async_trait::async_trait;

use super::action_batch::{BatchRunner, targets};
use super::common::cph_id;
use crate::fleet::operations::OpKind;
use tf_framework::*;

tf_framework::model! {
    /// The configuration of `action.cph_phone_stop`.
    pub struct PhoneStopModel {
        phone_ids: BTreeSet<String> = required("Ids of the cloud phones to stop.")
            .validate(size_at_least(1))
            .validate(each(cph_id())),
    }
}

pub struct PhoneStop(pub BatchRunner);

#[async_trait]
impl ActionType for PhoneStop {
    type Model = PhoneStopModel;
    const TYPE_NAME: &'static str = "cph_phone_stop";
    const DESCRIPTION: &'static str =
        "Stops cloud phones, 100 to a call, and waits for every phone's job.";

    async fn invoke(
        &self,
        ctx: &CallContext,
        config: PhoneStopModel,
        progress: &Progress,
        diags: &mut Diagnostics,
    ) {
        let ids = config.phone_ids.known().cloned().unwrap_or_default();
        let targets = targets(&ids, None, None);
        let kind = OpKind::StopPhones;
        self.0.run(ctx, kind, None, targets, progress, diags).await;
    }
}

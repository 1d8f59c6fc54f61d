//! Action `cph_phone_stop`: stops a set of phones through the fleet engine.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::action_batch::{BatchAction, targets};
use super::common::cph_id;
use crate::fleet::operations::{BatchCall, OpKind, Target};

tf_framework::model! {
    /// The configuration of `action.cph_phone_stop`.
    pub struct PhoneStopModel {
        phone_ids: BTreeSet<String> = required("Ids of the cloud phones to stop.")
            .validate(size_at_least(1))
            .validate(each(cph_id())),
    }
}

pub struct PhoneStop;

impl BatchAction for PhoneStop {
    type Model = PhoneStopModel;
    const TYPE_NAME: &'static str = "cph_phone_stop";
    const DESCRIPTION: &'static str =
        "Stops cloud phones, 100 to a call, and waits for every phone's job.";
    const NOUN: &'static str = "phones";
    const DONE: &'static str = "stopped";
    const ATTRIBUTE: &'static str = "phone_ids";

    fn call(&self, config: &PhoneStopModel) -> (Arc<dyn BatchCall>, Vec<Target>) {
        let ids = config.phone_ids.known().cloned().unwrap_or_default();
        let targets = targets(&ids, None, None);
        (OpKind::StopPhones.call(None), targets)
    }
}

//! Action `cph_phone_restart`: restarts a set of phones (optionally onto
//! another image, with per-phone properties) through the fleet engine.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::action_batch::{BatchAction, check_properties, targets};
use super::common::cph_id;
use crate::fleet::operations::{BatchCall, OpKind, Target};
use tf_framework::*;

tf_framework::model! {
    /// The configuration of `action.cph_phone_restart`.
    pub struct PhoneRestartModel {
        phone_ids: BTreeSet<String> = required("Ids of the cloud phones to restart.")
            .validate(size_at_least(1))
            .validate(each(cph_id())),
        image_id: String = optional("Image to restart the phones onto; unset keeps their image.")
            .validate(cph_id()),
        properties: BTreeMap<String, String> = optional("Phone properties to apply with the restart, by phone id: a JSON object each (`jsonencode({...})`). Phones not named keep theirs."),
    }
}

pub struct PhoneRestart;

impl BatchAction for PhoneRestart {
    type Model = PhoneRestartModel;
    const TYPE_NAME: &'static str = "cph_phone_restart";
    const DESCRIPTION: &'static str =
        "Restarts cloud phones, 100 to a call, and waits for every phone's job.";
    const NOUN: &'static str = "phones";
    const DONE: &'static str = "restarted";
    const ATTRIBUTE: &'static str = "phone_ids";

    fn validate(&self, config: &PhoneRestartModel, diags: &mut Diagnostics) {
        check_properties(&config.phone_ids, &config.properties, diags);
    }

    fn call(&self, config: &PhoneRestartModel) -> (Arc<dyn BatchCall>, Vec<Target>) {
        let ids = config.phone_ids.known().cloned().unwrap_or_default();
        let targets = targets(&ids, config.properties.known(), None);
        let image = config.image_id.as_str().map(str::to_string);
        (OpKind::RestartPhones.call(image), targets)
    }
}

//! Action `cph_phone_reset`: resets a set of phones (their data is wiped) (optionally onto
//! another image, with per-phone properties) through the fleet engine.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::action_batch::{BatchAction, check_properties, targets};
use super::common::cph_id;
use crate::fleet::operations::{BatchCall, OpKind, Target};
use tf_framework::*;

tf_framework::model! {
    /// The configuration of `action.cph_phone_reset`.
    pub struct PhoneResetModel {
        phone_ids: BTreeSet<String> = required("Ids of the cloud phones to reset.")
            .validate(size_at_least(1))
            .validate(each(cph_id())),
        image_id: String = optional("Image to reset the phones onto; unset keeps their image.")
            .validate(cph_id()),
        properties: BTreeMap<String, String> = optional("Phone properties to apply with the reset, by phone id: a JSON object each (`jsonencode({...})`). Phones not named keep theirs."),
        factory_reset: bool = optional("Also restore factory settings (`factory_reset_enabled`); unset leaves the API's default."),
    }
}

pub struct PhoneReset;

impl BatchAction for PhoneReset {
    type Model = PhoneResetModel;
    const TYPE_NAME: &'static str = "cph_phone_reset";
    const DESCRIPTION: &'static str =
        "Resets cloud phones, 100 to a call, and waits for every phone's job.";
    const NOUN: &'static str = "phones";
    const DONE: &'static str = "reset";
    const ATTRIBUTE: &'static str = "phone_ids";

    fn validate(&self, config: &PhoneResetModel, diags: &mut Diagnostics) {
        check_properties(&config.phone_ids, &config.properties, diags);
    }

    fn call(&self, config: &PhoneResetModel) -> (Arc<dyn BatchCall>, Vec<Target>) {
        let ids = config.phone_ids.known().cloned().unwrap_or_default();
        let targets = targets(
            &ids,
            config.properties.known(),
            config.factory_reset.known().copied(),
        );
        let image = config.image_id.as_str().map(str::to_string);
        (OpKind::ResetPhones.call(image), targets)
    }
}

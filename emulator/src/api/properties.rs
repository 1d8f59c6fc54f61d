//! `phones/batch-update-property`: per phone a `property` JSON string (and
//! optionally `custom_property`), checked before anything starts (one bad
//! value refuses the call with `CPS.0119`); then one job per phone, which
//! merges the keys into the phone's when it succeeds. Also the per-phone
//! `property` of `batch-restart` and `batch-reset`, applied by their jobs.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

use super::batch::PhoneItem;
use crate::app::App;
use crate::device::Effect;
use crate::errors::{ApiError, ApiResult, code, current_request_id, ok, parse_json};
use crate::jobs::Job;
use crate::properties::{self, Properties};
use crate::state::World;

const UPDATE: &str = "update phone property";

#[derive(Deserialize)]
struct UpdateItem {
    phone_id: String,
    property: String,
    #[serde(default)]
    custom_property: Properties,
}

#[derive(Deserialize)]
struct UpdateBody {
    phones: Vec<UpdateItem>,
}

pub async fn update(State(app): State<App>, body: Bytes) -> ApiResult {
    let body: UpdateBody = parse_json(&body)?;
    if body.phones.is_empty() {
        return Err(ApiError::bad_request(
            code::BAD_PHONE_IDS,
            "Parameter: phones is empty",
        ));
    }
    let mut parsed = Vec::with_capacity(body.phones.len());
    for item in body.phones {
        properties::check_request_size(&item.phone_id, &item.property, &item.custom_property)?;
        let props = properties::parse(&item.phone_id, &item.property)?;
        parsed.push((item.phone_id, props, item.custom_property));
    }
    let request_id = current_request_id();
    let mut world = app.world.lock();
    let jobs: Vec<Value> = parsed
        .into_iter()
        .map(|(phone_id, props, custom)| world.start_update(&phone_id, props, custom, &request_id))
        .collect();
    ok(json!({"jobs": jobs}))
}

impl World {
    fn start_update(
        &mut self,
        phone_id: &str,
        properties: Properties,
        custom: Properties,
        request_id: &str,
    ) -> Value {
        let Some(phone) = self.fleet.phone(phone_id) else {
            return refusal(
                phone_id,
                code::PHONE_NOT_FOUND,
                "The phone does not exist".into(),
            );
        };
        if !self.devices.fits(phone_id, &properties) {
            let msg = format!(
                "Parameter: property is invalid: the phone's properties would exceed {} bytes",
                properties::MAX_STORED_BYTES
            );
            return refusal(phone_id, code::BAD_PROPERTY, msg);
        }
        let server_id = phone.server_id.clone();
        let fail = self.fail_jobs.contains(phone_id);
        let job_id =
            self.new_job(|id| Job::batch(id, request_id, phone_id, &server_id, UPDATE, fail));
        self.devices
            .expect(job_id.clone(), Effect::Update { properties, custom });
        json!({"phone_id": phone_id, "job_id": job_id})
    }
}

fn refusal(phone_id: &str, code: &str, msg: String) -> Value {
    json!({"phone_id": phone_id, "error_code": code, "error_msg": msg})
}

/// The effects of a restart's or reset's items, by phone id: properties
/// checked now (a bad one refuses the call), applied when the job succeeds.
pub(super) fn restart_effects(
    items: &[PhoneItem],
    reset: bool,
) -> Result<HashMap<String, Effect>, ApiError> {
    let mut out = HashMap::new();
    for item in items {
        let properties = match &item.property {
            Some(text) => properties::parse(&item.phone_id, text)?,
            None => Properties::new(),
        };
        let effect = if reset {
            Effect::Reset {
                properties,
                factory: item.factory_reset_enabled.unwrap_or(false),
            }
        } else if properties.is_empty() {
            continue;
        } else {
            Effect::Restart { properties }
        };
        out.insert(item.phone_id.clone(), effect);
    }
    Ok(out)
}

/// Record the effects of the jobs a restart or reset started.
pub(super) fn expect_effects(
    world: &mut World,
    jobs: &[Value],
    mut effects: HashMap<String, Effect>,
) {
    for entry in jobs {
        let (Some(phone_id), Some(job_id)) = (entry["phone_id"].as_str(), entry["job_id"].as_str())
        else {
            continue;
        };
        if let Some(effect) = effects.remove(phone_id) {
            world.devices.expect(job_id.to_string(), effect);
        }
    }
}

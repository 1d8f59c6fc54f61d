//! What each phone holds beyond the fleet's record: its properties, custom
//! properties and installed packages; and the effect a job has on them when
//! it succeeds (a property update, a restart or reset carrying properties,
//! an ADB command), with the command's output as the job's `execute_msg`.
//! Property and command jobs leave the phone's status alone; restart and
//! reset jobs finish as other batch jobs do, then apply their properties.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Value, json};

use crate::adb::{self, Command};
use crate::errors::code;
use crate::properties::{self, Properties};
use crate::state::World;

/// One phone's recorded state.
#[derive(Debug, Default, Clone)]
pub struct PhoneData {
    pub properties: Properties,
    pub custom: Properties,
    pub packages: BTreeSet<String>,
}

/// What a job does to its phone when it succeeds.
#[derive(Debug, Clone)]
pub enum Effect {
    /// `batch-update-property`: keys merged into the phone's.
    Update {
        properties: Properties,
        custom: Properties,
    },
    /// `batch-restart` with `property`: merged once the phone is back.
    Restart { properties: Properties },
    /// `batch-reset`: installed packages gone; recorded properties wiped
    /// too with `factory_reset_enabled`; then `property` merged.
    Reset {
        properties: Properties,
        factory: bool,
    },
    /// `phones/commands`.
    Command { command: Command, content: String },
}

/// Every phone's data, and the effects of jobs still running.
#[derive(Debug, Default)]
pub struct Devices {
    phones: HashMap<String, PhoneData>,
    effects: HashMap<String, Effect>,
}

impl Devices {
    pub fn phone(&self, phone_id: &str) -> Option<&PhoneData> {
        self.phones.get(phone_id)
    }

    /// Record what job `job_id` does when it succeeds.
    pub fn expect(&mut self, job_id: String, effect: Effect) {
        self.effects.insert(job_id, effect);
    }

    /// Add `property` (a JSON string) and `custom_property` to a phone's
    /// show-phone answer.
    pub fn decorate(&self, phone_id: &str, phone: &mut Value) {
        let data = self.phones.get(phone_id);
        if let Value::Object(m) = phone {
            let props = data.map(|d| properties::to_text(&d.properties));
            m.insert(
                "property".into(),
                json!(props.unwrap_or_else(|| "{}".into())),
            );
            m.insert(
                "custom_property".into(),
                json!(data.map(|d| d.custom.clone()).unwrap_or_default()),
            );
        }
    }

    /// Whether merging `add` into a phone's properties stays within what
    /// a phone can show.
    pub fn fits(&self, phone_id: &str, add: &Properties) -> bool {
        let mut merged = self
            .phones
            .get(phone_id)
            .map(|d| d.properties.clone())
            .unwrap_or_default();
        merged.extend(add.iter().map(|(k, v)| (k.clone(), v.clone())));
        properties::to_text(&merged).len() <= properties::MAX_STORED_BYTES
    }

    fn apply(&mut self, phone_id: &str, effect: Effect) -> Option<String> {
        let data = self.phones.entry(phone_id.to_string()).or_default();
        match effect {
            Effect::Update { properties, custom } => {
                data.properties.extend(properties);
                data.custom.extend(custom);
                None
            }
            Effect::Restart { properties } => {
                data.properties.extend(properties);
                None
            }
            Effect::Reset {
                properties,
                factory,
            } => {
                data.packages.clear();
                if factory {
                    data.properties.clear();
                    data.custom.clear();
                }
                data.properties.extend(properties);
                None
            }
            Effect::Command { command, content } => {
                let device = adb::Device {
                    properties: &data.properties,
                    packages: &mut data.packages,
                };
                Some(adb::run(command, &content, device))
            }
        }
    }
}

impl World {
    /// Finish a job that has a device effect; false when `id` has none (the
    /// caller finishes it as before).
    pub(crate) fn finish_device_job(&mut self, id: &str) -> bool {
        let Some(effect) = self.devices.effects.remove(id) else {
            return false;
        };
        if matches!(effect, Effect::Restart { .. } | Effect::Reset { .. }) {
            self.finish_batch_job(id);
        } else {
            self.end_device_job(id);
        }
        let Some(job) = self.jobs.get(id) else {
            return true;
        };
        if job.status != 2 {
            return true;
        }
        let phone_id = job.phone_id.clone();
        if self.fleet.phone(&phone_id).is_none() {
            return true;
        }
        let output = self.devices.apply(&phone_id, effect);
        if let (Some(job), Some(out)) = (self.jobs.get_mut(id), output) {
            job.execute_msg = Some(out);
        }
        true
    }

    /// A property or command job's end: succeeded, or failed when marked
    /// to fail or its phone is gone. The phone's status does not change.
    fn end_device_job(&mut self, id: &str) {
        let gone = self
            .jobs
            .get(id)
            .is_some_and(|j| self.fleet.phone(&j.phone_id).is_none());
        let Some(job) = self.jobs.get_mut(id) else {
            return;
        };
        job.end = Some(time::OffsetDateTime::now_utc());
        if gone {
            job.status = -1;
            job.error_code = Some(code::PHONE_NOT_FOUND.into());
            job.error_msg = Some("The phone does not exist".into());
        } else if job.fails() {
            job.status = -1;
            job.error_code = Some(code::JOB_FAILED.into());
            job.error_msg = Some(format!(
                "Failed to {}",
                job.operation.unwrap_or("run the job")
            ));
        } else {
            job.status = 2;
        }
    }
}

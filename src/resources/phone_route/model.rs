//! The model of `cph_phone_route`: its schema (as the `model!` blocks
//! declare it), its identity, its private state, the ids it gives, and the
//! upgrade of schema version 0's state. No I/O.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::super::common::{TRAFFIC_TYPES, cph_id};
use super::super::routing::{JobRecord, JobStatus};
use crate::fleet::DEFAULT_ROUTE;
use tf_framework::*;

tf_framework::model! {
    /// How long each change waits for the phones' jobs.
    pub struct RouteTimeouts {
        create: String = optional("How long to wait for create, e.g. \"30m\".").validate(duration()),
        update: String = optional("How long to wait for update, e.g. \"30m\".").validate(duration()),
        delete: String = optional("How long to wait for delete, e.g. \"30m\".").validate(duration()),
    }
}

tf_framework::model! {
    /// A phone whose last job did not succeed: what to tell support.
    pub struct FailedJob {
        job_id: String = computed("Id of the job (null when the route call itself failed)."),
        error_code: String = computed("Error code of the job or call, e.g. `CPS.0005`."),
        error_msg: String = computed("Error message of the job or call."),
    }
}

tf_framework::model! {
    /// A phone whose job still ran when the last apply ended.
    pub struct StillRunningJob {
        job_id: String = computed("Id of the job, when the API had said it."),
        request_id: String = computed("Id of the request that started the job (null in state upgraded from schema version 0)."),
    }
}

tf_framework::model! {
    /// Counts of the last change's outcome.
    pub struct RouteSummary {
        succeeded: i64 = computed("Phones on the route whose last job succeeded (or that needed no job), as of the last change."),
        failed: i64 = computed("Phones whose last job failed: the entries of `failed`."),
        running: i64 = computed("Phones whose job still ran when the last apply ended: the entries of `running`."),
        request_ids: BTreeSet<String> = computed("Request ids of the jobs still running, for support."),
    }
}

tf_framework::model! {
    /// The configuration and state of `cph_phone_route`.
    pub struct PhoneRouteModel {
        id: String = computed("Identifier of this set of phones.").keep_state(),
        phone_ids: BTreeSet<String> = required("Ids of the cloud phones to route. An empty set manages no phones: what a route of a server that no longer exists comes to, so that it can still be planned and destroyed.")
            .validate(warn(size_at_least(1), "With none, this resource manages no phones: what a route of a server deleted outside Terraform comes to. It can still be planned and destroyed."))
            .validate(each(cph_id())),
        traffic_type: String = required("The route of every phone in the set.")
            .validate(one_of(TRAFFIC_TYPES)),
        failed: BTreeMap<String, FailedJob> = computed("The phones whose last job did not succeed, by phone id: `job_id`, `error_code`, `error_msg`. The next apply sends them again. Empty when every phone is on the route.")
            .keep_state_unless(&["phone_ids", "traffic_type"]),
        running: BTreeMap<String, StillRunningJob> = computed("The phones whose job still ran when the last apply ended (timeout, Ctrl-C), by phone id: `job_id`, `request_id`. The next apply waits for these jobs instead of sending again.")
            .keep_state_unless(&["phone_ids", "traffic_type"]),
        summary: RouteSummary = computed("Counts of the last change's outcome: `succeeded`, `failed`, `running`, and the `request_ids` of jobs still running.")
            .keep_state_unless(&["phone_ids", "traffic_type"]),
        timeouts: RouteTimeouts = block(),
    }
}

impl PhoneRouteModel {
    pub(super) fn phones(&self) -> BTreeSet<String> {
        self.phone_ids.known().cloned().unwrap_or_default()
    }

    pub(super) fn route(&self) -> String {
        self.traffic_type
            .as_str()
            .unwrap_or(DEFAULT_ROUTE)
            .to_string()
    }

    pub(super) fn timeout(&self, pick: fn(&RouteTimeouts) -> &Tf<String>) -> Tf<String> {
        self.timeouts.known().map(pick).cloned().unwrap_or_default()
    }

    /// The job records of phones whose last job did not succeed (`failed`
    /// and `running`), by phone id. Phones whose job succeeded have none:
    /// the state does not spend bytes on them.
    pub(super) fn job_records(&self) -> BTreeMap<String, JobRecord> {
        let mut records = BTreeMap::new();
        for (phone_id, j) in self.failed.known().into_iter().flatten() {
            let record = JobRecord {
                phone_id: phone_id.clone(),
                job_id: j.job_id.known().cloned(),
                status: JobStatus::Failed,
                error_code: j.error_code.known().cloned(),
                error_msg: j.error_msg.known().cloned(),
            };
            records.insert(phone_id.clone(), record);
        }
        for (phone_id, j) in self.running.known().into_iter().flatten() {
            let record = JobRecord {
                phone_id: phone_id.clone(),
                job_id: j.job_id.known().cloned(),
                status: JobStatus::Running,
                error_code: None,
                error_msg: None,
            };
            records.insert(phone_id.clone(), record);
        }
        records
    }

    /// Records the jobs of the phones that did not succeed, with the
    /// request ids of those still running (`requests`, by phone), and the
    /// summary; call it once `phone_ids` holds the phones on the route.
    pub(super) fn set_jobs(
        &mut self,
        records: &BTreeMap<String, JobRecord>,
        requests: &BTreeMap<String, String>,
    ) {
        let mut failed = BTreeMap::new();
        let mut running = BTreeMap::new();
        for r in records.values() {
            match r.status {
                JobStatus::Succeeded => {}
                JobStatus::Failed => {
                    let job = FailedJob {
                        job_id: Tf::from_option(r.job_id.clone()),
                        error_code: Tf::from_option(r.error_code.clone()),
                        error_msg: Tf::from_option(r.error_msg.clone()),
                    };
                    failed.insert(r.phone_id.clone(), job);
                }
                JobStatus::Running => {
                    let job = StillRunningJob {
                        job_id: Tf::from_option(r.job_id.clone()),
                        request_id: Tf::from_option(requests.get(&r.phone_id).cloned()),
                    };
                    running.insert(r.phone_id.clone(), job);
                }
            }
        }
        let on_route = self
            .phones()
            .iter()
            .filter(|p| !failed.contains_key(*p) && !running.contains_key(*p))
            .count();
        let request_ids = running
            .values()
            .filter_map(|j| j.request_id.known().cloned())
            .collect();
        self.summary = Tf::Known(RouteSummary {
            succeeded: Tf::Known(on_route as i64),
            failed: Tf::Known(failed.len() as i64),
            running: Tf::Known(running.len() as i64),
            request_ids: Tf::Known(request_ids),
        });
        self.failed = Tf::Known(failed);
        self.running = Tf::Known(running);
    }

    /// Marks what a change can alter unknown in a plan: the jobs and the
    /// summary. `id`, `phone_ids` and `traffic_type` stay as planned.
    pub(super) fn plan_jobs_unknown(&mut self) {
        self.failed = Tf::Unknown;
        self.running = Tf::Unknown;
        self.summary = Tf::Unknown;
    }
}

tf_framework::model! {
    /// The identity of a `cph_phone_route`: its `id`, which it keeps for
    /// life whatever phones join or leave and whichever route they take.
    pub struct PhoneRouteIdentity {
        id: String = required("The route's `id`: `<server_id>/<traffic_type>` for a route adopted with `terraform query` (the phones of one server on one route when it was adopted), `route-<digest>` for one Terraform created."),
    }
}

/// The id, and identity, of an adopted group: the phones of one server on
/// one route, as the list resource finds them.
pub fn group_id(server_id: &str, route: &str) -> String {
    format!("{server_id}/{route}")
}

/// The server and route of an adopted group's id.
pub(super) fn parse_group_id(id: &str) -> Option<(&str, &str)> {
    let (server_id, route) = id.rsplit_once('/')?;
    let known_route = TRAFFIC_TYPES.iter().any(|(r, _)| *r == route);
    (known_route && !server_id.is_empty() && !server_id.contains(char::is_whitespace))
        .then_some((server_id, route))
}

impl PhoneRouteModel {
    /// The state of an adopted group: `phone_ids` on `route` on one server.
    pub fn adopted(server_id: &str, route: &str, phone_ids: BTreeSet<String>) -> PhoneRouteModel {
        let mut state = PhoneRouteModel {
            id: group_id(server_id, route).into(),
            phone_ids: Tf::Known(phone_ids),
            traffic_type: route.into(),
            ..Default::default()
        };
        state.set_jobs(&BTreeMap::new(), &BTreeMap::new());
        state
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct PhoneRoutePrivate {
    /// Servers the phones were last seen on.
    #[serde(default)]
    pub(super) servers: BTreeSet<String>,
    /// This instance's owner token in the fleet engine's claims.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(super) owner: String,
    /// Jobs still running when the last apply ended, by phone.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(super) running: BTreeMap<String, RecordedJob>,
}

/// A job recorded as running: its request id (list-jobs reads by request id).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RecordedJob {
    pub(super) request_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) job_id: Option<String>,
    pub(super) route: String,
}

/// Schema version 0 kept a `jobs` list with every phone's last job;
/// version 1 keeps the phones whose job did not succeed (`failed`,
/// `running`) and a `summary`. Every other attribute is read as it was.
pub(super) fn upgrade_from_v0(stored: &serde_json::Value) -> Result<PhoneRouteModel, String> {
    use tf_framework::json::{ExtraAttributes, decode_json};
    let ty = PhoneRouteModel::block().value_type();
    let value = decode_json(stored, &ty, ExtraAttributes::Drop).map_err(|e| e.to_string())?;
    let mut state = PhoneRouteModel::from_value(&value).map_err(|d| d.detail)?;
    let records = v0_job_records(stored.get("jobs"))?;
    state.set_jobs(&records, &BTreeMap::new());
    Ok(state)
}

/// The job records of a version 0 `jobs` list, read as version 0 read them.
fn v0_job_records(jobs: Option<&serde_json::Value>) -> Result<BTreeMap<String, JobRecord>, String> {
    let Some(jobs) = jobs.filter(|j| !j.is_null()) else {
        return Ok(BTreeMap::new());
    };
    let jobs = jobs.as_array().ok_or("`jobs` is not a list")?;
    let text =
        |j: &serde_json::Value, k: &str| j.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let records = jobs.iter().filter_map(|j| {
        let phone_id = text(j, "phone_id")?;
        let status = match j.get("status").and_then(|v| v.as_str()) {
            Some("succeeded") => JobStatus::Succeeded,
            Some("running") => JobStatus::Running,
            _ => JobStatus::Failed,
        };
        let record = JobRecord {
            phone_id: phone_id.clone(),
            job_id: text(j, "job_id"),
            status,
            error_code: text(j, "error_code"),
            error_msg: text(j, "error_msg"),
        };
        Some((phone_id, record))
    });
    Ok(records.collect())
}

/// A stable id for a set of phones: a digest of the sorted ids.
pub(super) fn route_id(phone_ids: &BTreeSet<String>) -> String {
    let mut h = Sha256::new();
    for id in phone_ids {
        h.update(id.as_bytes());
        h.update(b",");
    }
    format!("route-{}", &hex::encode(h.finalize())[..16])
}

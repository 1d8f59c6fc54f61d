//! Batch operations: `phones/batch-restart`, `phones/batch-reset`,
//! `phones/batch-stop` and `servers/batch-restart`, 1 to 100 ids a call.
//! Each starts one job per phone or server (listed by the jobs API like
//! route jobs); its phones pass through restarting (4), resetting (3) or
//! stopping (7) and come back running (2), or stopped (8) after a stop.
//! A phone or server id in the fail list (`--fail-jobs-for`,
//! `/_emulator/fail-jobs`) makes its job fail with `CPS.0020`.

use axum::body::Bytes;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::App;
use crate::errors::{ApiError, ApiResult, code, current_request_id, ok, parse_json};
use crate::ids;
use crate::jobs::Job;
use crate::state::{Due, World};

pub(super) const MAX_IDS: usize = 100;
pub const RUNNING: i64 = 2;
pub const RESETTING: i64 = 3;
pub const RESTARTING: i64 = 4;
pub const STOPPING: i64 = 7;
pub const STOPPED: i64 = 8;

/// What a phone job does.
#[derive(Clone, Copy)]
struct PhoneOp {
    name: &'static str,
    /// Status while the job runs.
    during: i64,
    /// Statuses it may start from.
    from: &'static [i64],
}

const RESTART: PhoneOp = PhoneOp {
    name: "restart phone",
    during: RESTARTING,
    from: &[RUNNING, STOPPED],
};
const RESET: PhoneOp = PhoneOp {
    name: "reset phone",
    during: RESETTING,
    from: &[RUNNING, STOPPED],
};
const STOP: PhoneOp = PhoneOp {
    name: "stop phone",
    during: STOPPING,
    from: &[RUNNING],
};
const SERVER_RESTART: &str = "restart server";

#[derive(Deserialize)]
pub(super) struct PhoneItem {
    pub(super) phone_id: String,
    pub(super) property: Option<String>,
    #[serde(default)]
    pub(super) factory_reset_enabled: Option<bool>,
}

#[derive(Deserialize)]
struct PhonesBody {
    #[serde(default)]
    _image_id: Option<String>,
    phones: Vec<PhoneItem>,
}

#[derive(Deserialize)]
struct StopBody {
    phone_ids: Vec<String>,
}

#[derive(Deserialize)]
struct ServersBody {
    server_ids: Vec<String>,
}

pub(super) fn check_count(what: &str, n: usize) -> Result<(), ApiError> {
    if n == 0 || n > MAX_IDS {
        return Err(ApiError::bad_request(
            code::BAD_PHONE_IDS,
            format!("Invalid {what}: 1 to {MAX_IDS} ids are required, got {n}"),
        ));
    }
    Ok(())
}

async fn phones(app: App, op: PhoneOp, ids: Vec<String>) -> ApiResult {
    check_count("phones", ids.len())?;
    let request_id = current_request_id();
    let jobs = app.world.lock().start_phone_jobs(op, &ids, &request_id);
    ok(json!({"jobs": jobs}))
}

/// Restart or reset: the properties are checked first and applied when
/// each phone's job succeeds (see `properties::restart_effects`).
async fn phones_with_properties(app: App, op: PhoneOp, items: Vec<PhoneItem>) -> ApiResult {
    check_count("phones", items.len())?;
    let effects = super::properties::restart_effects(&items, op.name == RESET.name)?;
    let ids: Vec<String> = items.into_iter().map(|p| p.phone_id).collect();
    let request_id = current_request_id();
    let mut world = app.world.lock();
    let jobs = world.start_phone_jobs(op, &ids, &request_id);
    super::properties::expect_effects(&mut world, &jobs, effects);
    ok(json!({"jobs": jobs}))
}

pub async fn restart_phones(State(app): State<App>, body: Bytes) -> ApiResult {
    let body: PhonesBody = parse_json(&body)?;
    phones_with_properties(app, RESTART, body.phones).await
}

pub async fn reset_phones(State(app): State<App>, body: Bytes) -> ApiResult {
    let body: PhonesBody = parse_json(&body)?;
    phones_with_properties(app, RESET, body.phones).await
}

pub async fn stop_phones(State(app): State<App>, body: Bytes) -> ApiResult {
    let body: StopBody = parse_json(&body)?;
    phones(app, STOP, body.phone_ids).await
}

pub async fn restart_servers(State(app): State<App>, body: Bytes) -> ApiResult {
    let body: ServersBody = parse_json(&body)?;
    check_count("server_ids", body.server_ids.len())?;
    let request_id = current_request_id();
    let jobs = app
        .world
        .lock()
        .start_server_jobs(&body.server_ids, &request_id);
    ok(json!({"jobs": jobs}))
}

fn refusal(key: &str, id: &str, code: &str, msg: String) -> Value {
    json!({key: id, "error_code": code, "error_msg": msg})
}

impl World {
    pub(crate) fn new_job(&mut self, job: impl FnOnce(String) -> Job) -> String {
        let mut job_id = ids::random_hex32();
        while self.jobs.contains_key(&job_id) {
            job_id = ids::random_hex32();
        }
        let job = job(job_id.clone());
        self.schedule(Due::Job(job_id.clone()), self.settings.job_seconds);
        self.jobs_by_request
            .entry(job.request_id.clone())
            .or_default()
            .push(job_id.clone());
        self.jobs.insert(job_id.clone(), job);
        job_id
    }

    fn start_phone_jobs(&mut self, op: PhoneOp, ids: &[String], request_id: &str) -> Vec<Value> {
        let mut entries = Vec::with_capacity(ids.len());
        for phone_id in ids {
            let Some(phone) = self.fleet.phone(phone_id) else {
                entries.push(refusal(
                    "phone_id",
                    phone_id,
                    code::PHONE_NOT_FOUND,
                    "The phone does not exist".into(),
                ));
                continue;
            };
            if !op.from.contains(&phone.status) {
                let msg = format!(
                    "The phone status ({}) does not allow this operation",
                    phone.status
                );
                entries.push(refusal(
                    "phone_id",
                    phone_id,
                    code::PHONE_NOT_AVAILABLE,
                    msg,
                ));
                continue;
            }
            let server_id = phone.server_id.clone();
            let fail = self.fail_jobs.contains(phone_id);
            let job_id =
                self.new_job(|id| Job::batch(id, request_id, phone_id, &server_id, op.name, fail));
            if let Some(p) = self.fleet.phone_mut(phone_id) {
                p.status = op.during;
            }
            entries.push(json!({"phone_id": phone_id, "job_id": job_id}));
        }
        entries
    }

    fn start_server_jobs(&mut self, ids: &[String], request_id: &str) -> Vec<Value> {
        let mut entries = Vec::with_capacity(ids.len());
        for server_id in ids {
            let Some(server) = self.fleet.server(server_id) else {
                entries.push(refusal(
                    "server_id",
                    server_id,
                    code::SERVER_NOT_FOUND,
                    "The server does not exist".into(),
                ));
                continue;
            };
            let phones = server.phone_ids.clone();
            let busy = phones
                .iter()
                .filter_map(|p| self.fleet.phone(p))
                .any(|p| ![RUNNING, STOPPED].contains(&p.status));
            if busy {
                let msg = "A phone of the server has an operation in progress".to_string();
                entries.push(refusal(
                    "server_id",
                    server_id,
                    code::SERVER_NOT_AVAILABLE,
                    msg,
                ));
                continue;
            }
            let fail = self.fail_jobs.contains(server_id);
            let job_id =
                self.new_job(|id| Job::batch(id, request_id, "", server_id, SERVER_RESTART, fail));
            for p in &phones {
                if let Some(p) = self.fleet.phone_mut(p) {
                    p.status = RESTARTING;
                }
            }
            entries.push(json!({"server_id": server_id, "job_id": job_id}));
        }
        entries
    }

    /// A batch job's end: its phones leave their transient status.
    pub(crate) fn finish_batch_job(&mut self, id: &str) {
        let Some(job) = self.jobs.get_mut(id) else {
            return;
        };
        let now = time::OffsetDateTime::now_utc();
        job.end = Some(now);
        let failed = job.fails();
        if failed {
            job.status = -1;
            job.error_code = Some(code::JOB_FAILED.into());
            job.error_msg = Some(format!(
                "Failed to {}",
                job.operation.unwrap_or("run the job")
            ));
        } else {
            job.status = 2;
        }
        let after = match job.operation {
            Some(op) if op == STOP.name && !failed => STOPPED,
            _ => RUNNING,
        };
        let phones: Vec<String> = if job.phone_id.is_empty() {
            let server_id = job.server_id.clone();
            self.fleet
                .server(&server_id)
                .map(|s| s.phone_ids.clone())
                .unwrap_or_default()
        } else {
            vec![job.phone_id.clone()]
        };
        for p in phones {
            if let Some(phone) = self.fleet.phone_mut(&p) {
                phone.status = after;
                phone.updated = now;
            }
        }
    }
}

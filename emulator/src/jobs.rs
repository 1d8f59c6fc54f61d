//! Route jobs: the rules of `phones-traffic` (route values, 1..100 phone ids,
//! which phones can be taken), one job per phone, and how a job finishes:
//! succeeded (the route changes only then) or failed for phones marked to fail.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::errors::{ApiError, code};
use crate::ids;
use crate::state::{Due, World};

pub const TRAFFIC_TYPES: [&str; 2] = ["direct", "routing"];
pub const MAX_PHONE_IDS: usize = 100;

#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub request_id: String,
    pub phone_id: String,
    pub server_id: String,
    pub traffic_type: String,
    /// 1 running, 2 succeeded, -1 failed.
    pub status: i64,
    pub error_code: Option<String>,
    pub error_msg: Option<String>,
    pub begin: OffsetDateTime,
    pub end: Option<OffsetDateTime>,
    fail: bool,
    /// A batch operation's job (see `api::batch`); `None` for a route job.
    pub operation: Option<&'static str>,
    /// What the phone answered (command jobs, see `device`); else the
    /// operation's name is shown.
    pub execute_msg: Option<String>,
}

impl Job {
    /// A running job of a batch operation on `phone_id` or `server_id`.
    pub fn batch(
        id: String,
        request_id: &str,
        phone_id: &str,
        server_id: &str,
        operation: &'static str,
        fail: bool,
    ) -> Job {
        Job {
            id,
            request_id: request_id.to_string(),
            phone_id: phone_id.to_string(),
            server_id: server_id.to_string(),
            traffic_type: String::new(),
            status: 1,
            error_code: None,
            error_msg: None,
            begin: OffsetDateTime::now_utc(),
            end: None,
            fail,
            operation: Some(operation),
            execute_msg: None,
        }
    }

    /// Whether the job was marked to fail.
    pub fn fails(&self) -> bool {
        self.fail
    }

    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("job_id".into(), json!(self.id));
        m.insert("request_id".into(), json!(self.request_id));
        m.insert("phone_id".into(), json!(self.phone_id));
        m.insert("server_id".into(), json!(self.server_id));
        m.insert("status".into(), json!(self.status));
        m.insert("begin_time".into(), json!(ids::fmt_time(self.begin)));
        let execute_msg = match (&self.execute_msg, self.operation) {
            (Some(msg), _) => msg.clone(),
            (None, Some(op)) => op.to_string(),
            (None, None) => format!("set traffic_type to {}", self.traffic_type),
        };
        m.insert("execute_msg".into(), json!(execute_msg));
        if let Some(end) = self.end {
            m.insert("end_time".into(), json!(ids::fmt_time(end)));
        }
        if let Some(c) = &self.error_code {
            m.insert("error_code".into(), json!(c));
        }
        if let Some(msg) = &self.error_msg {
            m.insert("error_msg".into(), json!(msg));
        }
        Value::Object(m)
    }
}

pub fn check_traffic_type(value: &str) -> Result<(), ApiError> {
    if TRAFFIC_TYPES.contains(&value) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            code::BAD_TRAFFIC_TYPE,
            format!("Invalid traffic_type '{value}': the allowed values are direct, routing"),
        ))
    }
}

pub fn check_phone_ids(ids: &[String]) -> Result<(), ApiError> {
    if ids.is_empty() || ids.len() > MAX_PHONE_IDS {
        return Err(ApiError::bad_request(
            code::BAD_PHONE_IDS,
            format!(
                "Invalid phone_ids: 1 to {MAX_PHONE_IDS} phone ids are required, got {}",
                ids.len()
            ),
        ));
    }
    Ok(())
}

impl World {
    /// Start one job per phone; returns the response's `jobs` entries.
    pub fn route_phones(
        &mut self,
        traffic_type: &str,
        phone_ids: &[String],
        request_id: &str,
    ) -> Result<Vec<Value>, ApiError> {
        check_traffic_type(traffic_type)?;
        check_phone_ids(phone_ids)?;
        let mut entries = Vec::with_capacity(phone_ids.len());
        for phone_id in phone_ids {
            let Some(phone) = self.fleet.phone(phone_id) else {
                entries.push(json!({
                    "phone_id": phone_id,
                    "error_code": code::PHONE_NOT_FOUND,
                    "error_msg": "The phone does not exist",
                }));
                continue;
            };
            if phone.status != 2 {
                entries.push(json!({
                    "phone_id": phone_id,
                    "error_code": code::PHONE_NOT_AVAILABLE,
                    "error_msg": format!("The phone status ({}) does not allow this operation", phone.status),
                }));
                continue;
            }
            let server_id = phone.server_id.clone();
            let mut job_id = ids::random_hex32();
            while self.jobs.contains_key(&job_id) {
                job_id = ids::random_hex32();
            }
            self.schedule(Due::Job(job_id.clone()), self.settings.job_seconds);
            self.jobs.insert(
                job_id.clone(),
                Job {
                    id: job_id.clone(),
                    request_id: request_id.to_string(),
                    phone_id: phone_id.clone(),
                    server_id,
                    traffic_type: traffic_type.to_string(),
                    status: 1,
                    error_code: None,
                    error_msg: None,
                    begin: OffsetDateTime::now_utc(),
                    end: None,
                    fail: self.fail_jobs.contains(phone_id),
                    operation: None,
                    execute_msg: None,
                },
            );
            self.jobs_by_request
                .entry(request_id.to_string())
                .or_default()
                .push(job_id.clone());
            entries.push(json!({"phone_id": phone_id, "job_id": job_id}));
        }
        Ok(entries)
    }

    pub(crate) fn finish_job(&mut self, id: &str) {
        if self.finish_device_job(id) {
            return;
        }
        if self.jobs.get(id).is_some_and(|j| j.operation.is_some()) {
            self.finish_batch_job(id);
            return;
        }
        let now = OffsetDateTime::now_utc();
        let Some(job) = self.jobs.get_mut(id) else {
            return;
        };
        job.end = Some(now);
        if job.fail {
            job.status = -1;
            job.error_code = Some(code::JOB_FAILED.into());
            job.error_msg = Some("Failed to set the route of the phone".into());
            return;
        }
        match self.fleet.phone_mut(&job.phone_id) {
            Some(phone) => {
                phone.traffic_type = job.traffic_type.clone();
                phone.updated = now;
                job.status = 2;
            }
            None => {
                job.status = -1;
                job.error_code = Some(code::PHONE_NOT_FOUND.into());
                job.error_msg = Some("The phone does not exist".into());
            }
        }
    }
}

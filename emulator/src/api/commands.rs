//! `phones/commands`: an ADB command (`command`, `content`; see `adb`) sent
//! to `phone_ids`, or when none are given to every phone of `server_ids`
//! (1 to 100 ids either way). One job per running phone; its `execute_msg`
//! is the phone's answer once it succeeds.

use axum::body::Bytes;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

use super::batch::check_count;
use crate::adb::{self, Command};
use crate::app::App;
use crate::device::Effect;
use crate::errors::{ApiError, ApiResult, code, current_request_id, ok, parse_json};
use crate::jobs::Job;
use crate::state::World;

const OPERATION: &str = "run adb command";
const RUNNING: i64 = 2;

#[derive(Deserialize)]
struct CommandBody {
    command: String,
    content: String,
    #[serde(default)]
    phone_ids: Vec<String>,
    #[serde(default)]
    server_ids: Vec<String>,
}

pub async fn run(State(app): State<App>, body: Bytes) -> ApiResult {
    let body: CommandBody = parse_json(&body)?;
    let command = Command::parse(&body.command)?;
    adb::check_content(command, &body.content)?;
    let request_id = current_request_id();
    let send = |world: &mut World, phone_id: &str, server_id: Option<&str>| {
        world.start_command(phone_id, server_id, command, &body.content, &request_id)
    };
    if !body.phone_ids.is_empty() {
        check_count("phone_ids", body.phone_ids.len())?;
        let mut world = app.world.lock();
        let jobs: Vec<Value> = body
            .phone_ids
            .iter()
            .map(|p| send(&mut world, p, None))
            .collect();
        return ok(json!({"jobs": jobs}));
    }
    if body.server_ids.is_empty() {
        return Err(ApiError::bad_request(
            code::BAD_PHONE_IDS,
            "Parameter: phone_ids or server_ids is required",
        ));
    }
    check_count("server_ids", body.server_ids.len())?;
    let mut world = app.world.lock();
    let mut jobs = Vec::new();
    for server_id in &body.server_ids {
        let Some(server) = world.fleet.server(server_id) else {
            jobs.push(json!({
                "server_id": server_id,
                "error_code": code::SERVER_NOT_FOUND,
                "error_msg": "The server does not exist",
            }));
            continue;
        };
        for phone_id in server.phone_ids.clone() {
            jobs.push(send(&mut world, &phone_id, Some(server_id)));
        }
    }
    ok(json!({"jobs": jobs}))
}

impl World {
    /// One phone's job, or its refusal entry.
    fn start_command(
        &mut self,
        phone_id: &str,
        via_server: Option<&str>,
        command: Command,
        content: &str,
        request_id: &str,
    ) -> Value {
        let refusal = |code: &str, msg: String| json!({"phone_id": phone_id, "error_code": code, "error_msg": msg});
        let Some(phone) = self.fleet.phone(phone_id) else {
            return refusal(code::PHONE_NOT_FOUND, "The phone does not exist".into());
        };
        if phone.status != RUNNING {
            let msg = format!(
                "The phone status ({}) does not allow this operation",
                phone.status
            );
            return refusal(code::PHONE_NOT_AVAILABLE, msg);
        }
        let server_id = phone.server_id.clone();
        let fail = self.fail_jobs.contains(phone_id)
            || via_server.is_some_and(|s| self.fail_jobs.contains(s));
        let job_id =
            self.new_job(|id| Job::batch(id, request_id, phone_id, &server_id, OPERATION, fail));
        let effect = Effect::Command {
            command,
            content: content.to_string(),
        };
        self.devices.expect(job_id.clone(), effect);
        json!({"phone_id": phone_id, "job_id": job_id})
    }
}

//! Request and response bodies of the CPH endpoints the provider uses.
//! Unknown response fields are ignored; absent optional fields default.

use serde::{Deserialize, Serialize};

/// Server status 5: normal (running).
pub const SERVER_STATUS_NORMAL: i32 = 5;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Server {
    pub server_id: String,
    pub server_name: String,
    pub server_model_name: String,
    pub phone_model_name: String,
    /// 0,1,3,4 creating; 2 abnormal; 5 normal; 8 frozen; 10 shut down;
    /// 11 shutting down; 12 shutdown failed; 13 starting.
    pub status: i32,
    pub availability_zone: String,
    pub create_time: String,
    pub update_time: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerList {
    pub servers: Vec<Server>,
    pub count: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Phone {
    pub phone_id: String,
    pub phone_name: String,
    pub server_id: String,
    pub phone_model_name: String,
    /// 1 creating, 2 running, 3 resetting, 4 restarting, 6 frozen, 7 shutting
    /// down, 8 shut down, -5 reset failed, -6 restart failed, -7 abnormal,
    /// -8 create failed, -9 shutdown failed.
    pub status: i32,
    /// `direct` or `routing`.
    pub traffic_type: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PhoneList {
    pub phones: Vec<Phone>,
    pub count: u64,
}

/// Filters of the list-phones call; `None` leaves a filter out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PhoneQuery {
    pub server_id: Option<String>,
    pub phone_name: Option<String>,
    pub status: Option<i32>,
}

/// Job status 1: running.
pub const JOB_STATUS_RUNNING: i32 = 1;
/// Job status 2: succeeded.
pub const JOB_STATUS_SUCCEEDED: i32 = 2;
/// Job status -1: failed.
pub const JOB_STATUS_FAILED: i32 = -1;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Job {
    pub job_id: String,
    pub phone_id: String,
    pub server_id: String,
    pub request_id: String,
    /// 1 running, 2 succeeded, -1 failed.
    pub status: i32,
    pub error_code: Option<String>,
    pub error_msg: Option<String>,
    pub execute_msg: Option<String>,
    pub begin_time: Option<String>,
    pub end_time: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct JobList {
    pub jobs: Vec<Job>,
    pub count: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExtendParam {
    /// 1 pay automatically, 0 wait for manual payment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_auto_pay: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChangeServerModelRequest {
    pub server_id: String,
    pub server_model_name: String,
    pub phone_model_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extend_param: Option<ExtendParam>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChangeServerModelResponse {
    pub request_id: String,
    pub order_id: String,
    pub product_id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PhonesTrafficRequest {
    pub traffic_type: String,
    pub phone_ids: Vec<String>,
}

/// One entry of a `phones-traffic` answer: a job, or an error for a phone
/// that could not be taken (then `job_id` is absent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PhoneJob {
    pub phone_id: String,
    pub job_id: Option<String>,
    pub error_code: Option<String>,
    pub error_msg: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PhonesTrafficResponse {
    pub request_id: String,
    pub jobs: Vec<PhoneJob>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerModel {
    pub server_model_name: String,
    pub server_type: String,
    pub cpu: serde_json::Value,
    pub memory: serde_json::Value,
    pub product_type: serde_json::Value,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PhoneModel {
    pub server_model_name: String,
    pub phone_model_name: String,
    pub phone_capacity: i64,
    /// 1 on sale, 0 withdrawn.
    pub status: i32,
    pub cpu: i64,
    /// MiB.
    pub memory: i64,
    /// GiB.
    pub disk: i64,
    pub product_type: i64,
}

//! Request and response bodies of the CPH and BSS endpoints the provider
//! uses, with the field names and types of the official SDK models
//! (`huaweicloudsdkcph` / `huaweicloudsdkbss` 3.1.219). Unknown response
//! fields are ignored; absent optional fields default; catalogue and order
//! fields also accept `null` and numbers sent as text.

use serde::{Deserialize, Serialize};

mod device;
pub use device::*;

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
    /// Show phone only: the phone's properties, a JSON object as a string
    /// (see [`Phone::properties`]).
    pub property: Option<String>,
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

impl Job {
    /// A job is over once it succeeded or failed.
    pub fn finished(&self) -> bool {
        self.status == JOB_STATUS_SUCCEEDED || self.status == JOB_STATUS_FAILED
    }
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

// ---------------------------------------------------------------------------
// The flavor catalogue (SDK models `ServerModel`, `PhoneModel`).

/// A server flavor (`server-models`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerModel {
    #[serde(deserialize_with = "lenient::string")]
    pub server_model_name: String,
    #[serde(deserialize_with = "lenient::string")]
    pub server_type: String,
    /// vCPUs.
    #[serde(deserialize_with = "lenient::int")]
    pub cpu: i64,
    /// Memory in GB.
    #[serde(deserialize_with = "lenient::int")]
    pub memory: i64,
    pub extend_spec: ServerModelExtendSpec,
    #[serde(deserialize_with = "lenient::int")]
    pub disk_max_num: i64,
    /// 0 cloud phone, 1 cloud game.
    #[serde(deserialize_with = "lenient::int")]
    pub product_type: i64,
    #[serde(deserialize_with = "lenient::int")]
    pub free_size: i64,
}

/// The hardware of a server flavor (SDK `ServerModelExtendSpec`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerModelExtendSpec {
    #[serde(deserialize_with = "lenient::string")]
    pub cpu: String,
    #[serde(deserialize_with = "lenient::string")]
    pub memory: String,
    #[serde(deserialize_with = "lenient::string")]
    pub disk: String,
    #[serde(deserialize_with = "lenient::string")]
    pub network_interface: String,
    #[serde(deserialize_with = "lenient::string")]
    pub gpu: String,
    #[serde(deserialize_with = "lenient::string")]
    pub bms_flavor: String,
    #[serde(deserialize_with = "lenient::int")]
    pub gpu_count: i64,
    #[serde(deserialize_with = "lenient::int")]
    pub numa_count: i64,
    pub os_volume: Option<OsVolume>,
}

/// The system disk of a server flavor (SDK `ServerModelExtendSpecOsVolume`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OsVolume {
    #[serde(deserialize_with = "lenient::int")]
    pub size: i64,
    #[serde(deserialize_with = "lenient::string")]
    pub volume_type: String,
}

/// Phone flavor status 1: on sale.
pub const PHONE_MODEL_ON_SALE: i64 = 1;

/// A phone flavor (`phone-models`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PhoneModel {
    #[serde(deserialize_with = "lenient::string")]
    pub server_model_name: String,
    #[serde(deserialize_with = "lenient::string")]
    pub phone_model_name: String,
    /// 1 on sale, 0 withdrawn.
    #[serde(deserialize_with = "lenient::int")]
    pub status: i64,
    /// vCPUs.
    #[serde(deserialize_with = "lenient::int")]
    pub cpu: i64,
    /// Memory in MB.
    #[serde(deserialize_with = "lenient::int")]
    pub memory: i64,
    /// Disk in GB.
    #[serde(deserialize_with = "lenient::int")]
    pub disk: i64,
    /// Phones per server with this pair of flavors.
    #[serde(deserialize_with = "lenient::int")]
    pub phone_capacity: i64,
    /// e.g. `720*1280`.
    #[serde(deserialize_with = "lenient::string")]
    pub resolution: String,
    /// A string in the SDK (an object sent instead is kept as its JSON text).
    #[serde(deserialize_with = "lenient::string")]
    pub extend_spec: String,
    #[serde(deserialize_with = "lenient::string")]
    pub spec_code: String,
    #[serde(deserialize_with = "lenient::string")]
    pub image_label: String,
    /// 0 cloud phone, 1 cloud game.
    #[serde(deserialize_with = "lenient::int")]
    pub product_type: i64,
}

// ---------------------------------------------------------------------------
// BSS orders (SDK models `CustomerOrderV3`, `PayCustomerOrderV3Req`).

/// What became of an order (`CustomerOrderV3.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "i64", into = "i64")]
pub enum OrderStatus {
    /// 3: being processed (after payment).
    Processing,
    /// 4: cancelled (unpaid past `pending_payment_end_time`, or by a person).
    Cancelled,
    /// 5: completed.
    Completed,
    /// 6: waiting for payment.
    PendingPayment,
    /// Any other code: 1 pending approval, 2 pending refund, 9 pending
    /// confirmation, or one this client does not know.
    Other(i64),
}

impl From<i64> for OrderStatus {
    fn from(code: i64) -> OrderStatus {
        match code {
            3 => OrderStatus::Processing,
            4 => OrderStatus::Cancelled,
            5 => OrderStatus::Completed,
            6 => OrderStatus::PendingPayment,
            other => OrderStatus::Other(other),
        }
    }
}

impl From<OrderStatus> for i64 {
    fn from(status: OrderStatus) -> i64 {
        match status {
            OrderStatus::Processing => 3,
            OrderStatus::Cancelled => 4,
            OrderStatus::Completed => 5,
            OrderStatus::PendingPayment => 6,
            OrderStatus::Other(code) => code,
        }
    }
}

impl Default for OrderStatus {
    /// An answer without a status.
    fn default() -> OrderStatus {
        OrderStatus::Other(0)
    }
}

/// Order type 3: a change (such as a flavor change).
pub const ORDER_TYPE_CHANGE: i64 = 3;

/// An order as BSS shows it (`order_info` of the order details).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrderInfo {
    #[serde(deserialize_with = "lenient::string")]
    pub order_id: String,
    #[serde(deserialize_with = "lenient::order_status")]
    pub status: OrderStatus,
    /// 1 new purchase, 2 renewal, 3 change, 4 unsubscription, ...
    #[serde(deserialize_with = "lenient::int")]
    pub order_type: i64,
    /// When an unpaid order is cancelled (UTC, `yyyy-MM-ddTHH:mm:ssZ`).
    pub pending_payment_end_time: Option<String>,
    pub create_time: Option<String>,
    pub payment_time: Option<String>,
}

/// The answer of the order details call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrderDetails {
    pub order_info: Option<OrderInfo>,
    #[serde(deserialize_with = "lenient::int")]
    pub total_count: i64,
}

/// The body of the pay-orders call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PayOrderRequest {
    pub order_id: String,
    /// `YES` / `NO`.
    pub use_coupon: String,
    /// `YES` / `NO`.
    pub use_discount: String,
}

/// Deserializers that take what a real API sends besides the documented
/// type: `null` (the default), numbers as text, text as numbers.
mod lenient {
    use serde::{Deserialize, Deserializer};
    use serde_json::Value;

    use super::OrderStatus;

    pub(super) fn int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let value = Value::deserialize(d)?;
        match &value {
            Value::Null => Ok(0),
            Value::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                .ok_or_else(|| serde::de::Error::custom(format!("{n} is not a whole number"))),
            Value::String(s) if s.trim().is_empty() => Ok(0),
            Value::String(s) => s
                .trim()
                .parse::<i64>()
                .map_err(|_| serde::de::Error::custom(format!("{s:?} is not a whole number"))),
            other => Err(serde::de::Error::custom(format!(
                "expected a whole number, got {other}"
            ))),
        }
    }

    pub(super) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Null => String::new(),
            Value::String(s) => s,
            other => other.to_string(),
        })
    }

    pub(super) fn order_status<'de, D: Deserializer<'de>>(d: D) -> Result<OrderStatus, D::Error> {
        int(d).map(OrderStatus::from)
    }
}

// ---------------------------------------------------------------------------
// Batch operations on phones and servers (SDK models
// `RestartCloudPhoneRequestBody`, `ResetCloudPhoneRequestBody`,
// `StopCloudPhoneRequestBody`, `RestartCloudPhoneServerRequestBody`,
// `PhoneJob`, `ServerJob`).

/// Most phones or servers one batch call takes.
pub const MAX_IDS_PER_BATCH_CALL: usize = 100;

/// One phone of a batch restart or reset: its id, and the phone properties
/// (a JSON string, as the API takes it) to apply with it.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BatchPhone {
    pub phone_id: String,
    #[serde(rename = "property", skip_serializing_if = "Option::is_none")]
    pub property: Option<String>,
    /// Reset only: wipe the phone's data as well.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub factory_reset_enabled: Option<bool>,
}

/// The body of `phones/batch-restart` and `phones/batch-reset`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchPhonesRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    pub phones: Vec<BatchPhone>,
}

/// The body of `phones/batch-stop`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchStopRequest {
    pub phone_ids: Vec<String>,
}

/// The body of `servers/batch-restart`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchServersRequest {
    pub server_ids: Vec<String>,
}

/// One entry of a batch answer: the job started for a phone (`phone_id`) or
/// a server (`server_id`), or the error that kept it from starting (then
/// `job_id` is absent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatchJob {
    pub phone_id: String,
    pub server_id: String,
    pub job_id: Option<String>,
    pub error_code: Option<String>,
    pub error_msg: Option<String>,
}

impl BatchJob {
    /// The phone or server the entry is about.
    pub fn target(&self) -> &str {
        if self.phone_id.is_empty() {
            &self.server_id
        } else {
            &self.phone_id
        }
    }
}

/// The answer of every batch call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatchJobsResponse {
    pub request_id: String,
    pub jobs: Vec<BatchJob>,
}

/// The filters of list-servers (all optional).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerQuery {
    /// Matched by substring.
    pub server_name: Option<String>,
    pub server_id: Option<String>,
    /// `v1` (system network) or `v2` (custom network).
    pub network_version: Option<String>,
    pub phone_model_name: Option<String>,
    /// Creation time bounds, Unix timestamps.
    pub create_since: Option<i64>,
    pub create_until: Option<i64>,
    pub status: Option<i32>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn server_model_reads_every_sdk_field() {
        let m: ServerModel = serde_json::from_value(json!({
            "server_model_name": "physical.rx1.xlarge",
            "server_type": "0",
            "cpu": 64,
            "memory": 256,
            "extend_spec": {
                "cpu": "Kunpeng 920", "memory": "256GB", "disk": "2*960GB SSD",
                "network_interface": "2*10GE", "gpu": "", "bms_flavor": "physical.kat1",
                "gpu_count": 2, "numa_count": 4,
                "os_volume": {"size": 100, "volume_type": "SSD"}
            },
            "disk_max_num": 8,
            "product_type": 0,
            "free_size": 1024,
            "unknown": true
        }))
        .expect("decodes");
        assert_eq!(m.cpu, 64);
        assert_eq!(m.memory, 256);
        assert_eq!(m.extend_spec.bms_flavor, "physical.kat1");
        assert_eq!(m.extend_spec.gpu_count, 2);
        assert_eq!(m.extend_spec.numa_count, 4);
        assert_eq!(
            m.extend_spec.os_volume,
            Some(OsVolume {
                size: 100,
                volume_type: "SSD".into()
            })
        );
        assert_eq!((m.disk_max_num, m.product_type, m.free_size), (8, 0, 1024));
    }

    #[test]
    fn phone_model_reads_every_sdk_field() {
        let m: PhoneModel = serde_json::from_value(json!({
            "server_model_name": "physical.rx1.xlarge",
            "phone_model_name": "rx1.cp.c15.d46.e1v1",
            "status": 1, "cpu": 2, "memory": 4096, "disk": 32,
            "phone_capacity": 15, "resolution": "720*1280",
            "extend_spec": "{\"gpu\":\"1\"}", "spec_code": "cph.rx1", "image_label": "cloud_phone",
            "product_type": 0, "phone_model_version": 2
        }))
        .expect("decodes");
        assert_eq!(m.status, PHONE_MODEL_ON_SALE);
        assert_eq!(
            (m.cpu, m.memory, m.disk, m.phone_capacity),
            (2, 4096, 32, 15)
        );
        assert_eq!(m.resolution, "720*1280");
        assert_eq!(m.extend_spec, "{\"gpu\":\"1\"}");
        assert_eq!(
            (m.spec_code.as_str(), m.image_label.as_str()),
            ("cph.rx1", "cloud_phone")
        );
        assert_eq!(m.product_type, 0);
    }

    #[test]
    fn catalogue_tolerates_missing_null_and_text_fields() {
        let m: ServerModel =
            serde_json::from_value(json!({"server_model_name": "s", "cpu": "8", "memory": null}))
                .expect("decodes");
        assert_eq!((m.cpu, m.memory), (8, 0));
        assert_eq!(m.extend_spec, ServerModelExtendSpec::default());
        let p: PhoneModel = serde_json::from_value(json!({
            "phone_model_name": "p", "extend_spec": {"gpu": 1}, "resolution": null
        }))
        .expect("decodes");
        assert_eq!(p.extend_spec, r#"{"gpu":1}"#);
        assert_eq!(p.resolution, "");
        assert_eq!(p.phone_capacity, 0);
        assert!(serde_json::from_value::<PhoneModel>(json!({"cpu": "many"})).is_err());
    }

    #[test]
    fn order_status_codes() {
        for (code, status) in [
            (3, OrderStatus::Processing),
            (4, OrderStatus::Cancelled),
            (5, OrderStatus::Completed),
            (6, OrderStatus::PendingPayment),
            (9, OrderStatus::Other(9)),
        ] {
            assert_eq!(OrderStatus::from(code), status);
            assert_eq!(i64::from(status), code);
        }
        let o: OrderInfo = serde_json::from_value(json!({
            "order_id": "CS1", "status": 6, "order_type": 3,
            "pending_payment_end_time": "2025-01-01T00:00:00Z",
            "create_time": "2024-12-31T00:00:00Z", "payment_time": null,
            "amount_after_discount": 1.5
        }))
        .expect("decodes");
        assert_eq!(o.status, OrderStatus::PendingPayment);
        assert_eq!(o.order_type, ORDER_TYPE_CHANGE);
        assert_eq!(o.payment_time, None);
        let round: OrderInfo =
            serde_json::from_value(serde_json::to_value(&o).expect("encodes")).expect("decodes");
        assert_eq!(round, o);
    }

    #[test]
    fn batch_bodies_are_written_as_the_sdk_writes_them() {
        let body = BatchPhonesRequest {
            image_id: None,
            phones: vec![
                BatchPhone {
                    phone_id: "a".into(),
                    property: Some("{}".into()),
                    factory_reset_enabled: Some(true),
                },
                BatchPhone {
                    phone_id: "b".into(),
                    ..Default::default()
                },
            ],
        };
        assert_eq!(
            serde_json::to_value(&body).expect("encodes"),
            json!({"phones": [
                {"phone_id": "a", "property": "{}", "factory_reset_enabled": true},
                {"phone_id": "b"}
            ]})
        );
        let answer: BatchJobsResponse = serde_json::from_value(json!({
            "request_id": "r",
            "jobs": [{"server_id": "s", "job_id": "j"}, {"phone_id": "p", "error_code": "CPS.0010"}]
        }))
        .expect("decodes");
        assert_eq!(answer.jobs[0].target(), "s");
        assert_eq!(answer.jobs[1].target(), "p");
        assert_eq!(answer.jobs[1].job_id, None);
    }
}

//! The schemas of the provider block, the resources and the data sources,
//! in one place so that docs tests and handlers read the same declaration.

use tf_framework::schema::timeouts_block;
use tf_framework::{Attribute, Block, Schema, Type};

pub fn provider() -> Schema {
    let s = Type::String;
    Schema {
        version: 0,
        block: Block {
            description: "Huawei Cloud Cloud Phone Host (CPH).".into(),
            attributes: vec![
                Attribute::optional(
                    "region",
                    s.clone(),
                    "Region of the CPH endpoint, e.g. `cn-east-3`. Env: `HW_REGION_NAME`.",
                ),
                Attribute::optional(
                    "project_id",
                    s.clone(),
                    "Project id the cloud phones belong to. Env: `HW_PROJECT_ID`.",
                ),
                Attribute::optional(
                    "endpoint",
                    s.clone(),
                    "CPH endpoint URL. Default `https://cph.{region}.myhuaweicloud.com`. Env: `HW_CPH_ENDPOINT`.",
                ),
                Attribute::optional(
                    "access_key",
                    s.clone(),
                    "Access key (AK) for request signing. Env: `HW_ACCESS_KEY`.",
                ),
                Attribute::optional(
                    "secret_key",
                    s.clone(),
                    "Secret key (SK) for request signing. Env: `HW_SECRET_KEY`.",
                )
                .sensitive(),
                Attribute::optional(
                    "security_token",
                    s.clone(),
                    "Security token of temporary AK/SK credentials. Env: `HW_SECURITY_TOKEN`.",
                )
                .sensitive(),
                Attribute::optional(
                    "auth_token",
                    s.clone(),
                    "A ready IAM token (`X-Auth-Token`). Env: `HW_AUTH_TOKEN`.",
                )
                .sensitive(),
                Attribute::optional(
                    "auth_url",
                    s.clone(),
                    "IAM endpoint for password authentication, e.g. `https://iam.myhuaweicloud.com/v3`. Env: `HW_AUTH_URL`.",
                ),
                Attribute::optional(
                    "domain_name",
                    s.clone(),
                    "Account (domain) name for password authentication. Env: `HW_DOMAIN_NAME`.",
                ),
                Attribute::optional(
                    "user_name",
                    s.clone(),
                    "IAM user name for password authentication. Env: `HW_USER_NAME`.",
                ),
                Attribute::optional(
                    "password",
                    s.clone(),
                    "IAM user password. Env: `HW_USER_PASSWORD`.",
                )
                .sensitive(),
                Attribute::optional(
                    "insecure",
                    Type::Bool,
                    "Skip TLS certificate verification (test endpoints only). Env: `HW_INSECURE`.",
                ),
                Attribute::optional(
                    "max_retries",
                    Type::Number,
                    "Retries of a failed API call (429, 5xx, network errors). Default 5. Env: `HW_MAX_RETRIES`.",
                ),
            ],
            blocks: vec![],
        },
    }
}

pub fn server_flavor() -> Schema {
    let s = Type::String;
    Schema {
        version: 0,
        block: Block {
            description: "The flavor of an existing cloud phone server, changed in place.".into(),
            attributes: vec![
                Attribute::computed("id", s.clone(), "Same as `server_id`."),
                Attribute::required(
                    "server_id",
                    s.clone(),
                    "Id of the cloud phone server. Changing it forces a new resource.",
                ),
                Attribute::required(
                    "server_model_name",
                    s.clone(),
                    "Target server flavor, e.g. `physical.rx1.xlarge.special` (at most 64 bytes, same generation).",
                ),
                Attribute::required(
                    "phone_model_name",
                    s.clone(),
                    "Target phone flavor, e.g. `rx1.cp.sp.c105.d8.e5v5` (at most 64 bytes, same phone count).",
                ),
                Attribute::optional(
                    "auto_pay",
                    Type::Bool,
                    "Pay an upgrade automatically (`extend_param.is_auto_pay`). Without it an upgrade waits for manual payment.",
                ),
                Attribute::computed("order_id", s.clone(), "Order of the last flavor change."),
                Attribute::computed(
                    "product_id",
                    s.clone(),
                    "Product of the last flavor change.",
                ),
                Attribute::computed("status", Type::Number, "Server status code (5 = normal)."),
                Attribute::computed(
                    "original_server_model_name",
                    s.clone(),
                    "Server flavor before Terraform first managed it.",
                ),
                Attribute::computed(
                    "original_phone_model_name",
                    s,
                    "Phone flavor before Terraform first managed it.",
                ),
            ],
            blocks: vec![timeouts_block(&["create", "update"])],
        },
    }
}

/// The object type of one entry of `cph_phone_route.jobs`.
pub fn route_job_type() -> Type {
    Type::object([
        ("phone_id", Type::String),
        ("job_id", Type::String),
        ("status", Type::String),
        ("error_code", Type::String),
        ("error_msg", Type::String),
    ])
}

pub fn phone_route() -> Schema {
    let s = Type::String;
    Schema {
        version: 0,
        block: Block {
            description: "The route (`direct` or `routing`) of a set of cloud phones.".into(),
            attributes: vec![
                Attribute::computed("id", s.clone(), "Identifier of this set of phones."),
                Attribute::required(
                    "phone_ids",
                    Type::set(s.clone()),
                    "Ids of the cloud phones to route (at least one).",
                ),
                Attribute::required(
                    "traffic_type",
                    s,
                    "`direct` (the default route) or `routing` (routed to the encoding container).",
                ),
                Attribute::computed(
                    "jobs",
                    Type::list(route_job_type()),
                    "Per phone, the job of the last route change: `phone_id`, `job_id`, `status` (`succeeded`, `failed`, `running`), `error_code`, `error_msg`.",
                ),
            ],
            blocks: vec![timeouts_block(&["create", "update", "delete"])],
        },
    }
}

pub fn server_data() -> Schema {
    let s = Type::String;
    Schema {
        version: 0,
        block: Block {
            description: "A cloud phone server.".into(),
            attributes: vec![
                Attribute::computed("id", s.clone(), "Same as `server_id`."),
                Attribute::required("server_id", s.clone(), "Id of the cloud phone server."),
                Attribute::computed("server_name", s.clone(), "Name of the server."),
                Attribute::computed("server_model_name", s.clone(), "Server flavor."),
                Attribute::computed("phone_model_name", s.clone(), "Phone flavor."),
                Attribute::computed("status", Type::Number, "Server status code (5 = normal)."),
                Attribute::computed("availability_zone", s.clone(), "Availability zone."),
                Attribute::computed("create_time", s.clone(), "Creation time."),
                Attribute::computed("update_time", s, "Last update time."),
            ],
            blocks: vec![],
        },
    }
}

/// The object type of one entry of `data.cph_phones.phones`.
pub fn phone_type() -> Type {
    Type::object([
        ("phone_id", Type::String),
        ("phone_name", Type::String),
        ("server_id", Type::String),
        ("phone_model_name", Type::String),
        ("status", Type::Number),
        ("traffic_type", Type::String),
    ])
}

pub fn phones_data() -> Schema {
    let s = Type::String;
    Schema {
        version: 0,
        block: Block {
            description: "The cloud phones of a server, optionally filtered.".into(),
            attributes: vec![
                Attribute::computed("id", s.clone(), "Identifier of this query."),
                Attribute::required("server_id", s.clone(), "Id of the cloud phone server."),
                Attribute::optional("phone_id", s.clone(), "Only the phone with this id."),
                Attribute::optional("phone_name", s.clone(), "Only phones with this name."),
                Attribute::optional(
                    "status",
                    Type::Number,
                    "Only phones with this status code (2 = running).",
                ),
                Attribute::optional(
                    "traffic_type",
                    s.clone(),
                    "Only phones on this route (`direct` or `routing`).",
                ),
                Attribute::computed("phones", Type::list(phone_type()), "The phones found."),
                Attribute::computed(
                    "phone_ids",
                    Type::list(s),
                    "The ids of the phones found, sorted.",
                ),
            ],
            blocks: vec![],
        },
    }
}

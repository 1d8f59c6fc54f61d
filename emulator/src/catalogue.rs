//! The flavor catalogue: server flavors (with generation and price rank) and
//! phone flavors (with the server flavor they belong to and their capacity),
//! and the rules that decide whether a flavor change is allowed.

use serde_json::{Value, json};

/// A server flavor (`server_model_name`).
#[derive(Debug, Clone)]
pub struct ServerModel {
    pub name: &'static str,
    pub generation: &'static str,
    pub server_type: &'static str,
    pub cpu: u32,
    pub memory: u32,
    pub product_type: i64,
    /// Higher is more expensive: a change to a higher rank is an upgrade.
    pub price_rank: u32,
}

/// A phone flavor (`phone_model_name`), sold on one server flavor.
#[derive(Debug, Clone)]
pub struct PhoneModel {
    pub name: &'static str,
    pub server_model: &'static str,
    pub capacity: u32,
    pub cpu: u32,
    pub memory: u32,
    pub disk: u32,
    pub resolution: &'static str,
    pub product_type: i64,
    /// 1 on sale, 0 withdrawn.
    pub status: i64,
}

pub const SERVER_MODELS: &[ServerModel] = &[
    ServerModel {
        name: "physical.rx1.xlarge",
        generation: "rx1",
        server_type: "physical",
        cpu: 64,
        memory: 256,
        product_type: 0,
        price_rank: 10,
    },
    ServerModel {
        name: "physical.rx1.xlarge.special",
        generation: "rx1",
        server_type: "physical",
        cpu: 64,
        memory: 256,
        product_type: 0,
        price_rank: 20,
    },
    ServerModel {
        name: "physical.kg1.4xlarge.cp",
        generation: "kg1",
        server_type: "physical",
        cpu: 128,
        memory: 512,
        product_type: 1,
        price_rank: 30,
    },
    ServerModel {
        name: "physical.kg1.4xlarge.cp.special",
        generation: "kg1",
        server_type: "physical",
        cpu: 128,
        memory: 512,
        product_type: 1,
        price_rank: 40,
    },
];

pub const PHONE_MODELS: &[PhoneModel] = &[
    PhoneModel {
        name: "rx1.cp.c15.d46.e1v1",
        server_model: "physical.rx1.xlarge",
        capacity: 15,
        cpu: 4,
        memory: 8,
        disk: 32,
        resolution: "720x1280",
        product_type: 0,
        status: 1,
    },
    PhoneModel {
        name: "rx1.cp.c15.d46.e1v0",
        server_model: "physical.rx1.xlarge",
        capacity: 15,
        cpu: 4,
        memory: 8,
        disk: 32,
        resolution: "720x1280",
        product_type: 0,
        status: 0,
    },
    PhoneModel {
        name: "rx1.cp.sp.c105.d8.e5v5",
        server_model: "physical.rx1.xlarge.special",
        capacity: 15,
        cpu: 4,
        memory: 8,
        disk: 64,
        resolution: "1080x1920",
        product_type: 0,
        status: 1,
    },
    PhoneModel {
        name: "rx1.cp.sp.c52.d4.e5v5",
        server_model: "physical.rx1.xlarge.special",
        capacity: 30,
        cpu: 2,
        memory: 4,
        disk: 32,
        resolution: "720x1280",
        product_type: 0,
        status: 1,
    },
    PhoneModel {
        name: "kg1.cp.c15.d46.e1v1",
        server_model: "physical.kg1.4xlarge.cp",
        capacity: 15,
        cpu: 8,
        memory: 16,
        disk: 64,
        resolution: "1080x1920",
        product_type: 1,
        status: 1,
    },
    PhoneModel {
        name: "kg1.cp.sp.c15.d46.e5v5",
        server_model: "physical.kg1.4xlarge.cp.special",
        capacity: 15,
        cpu: 8,
        memory: 16,
        disk: 128,
        resolution: "1080x1920",
        product_type: 1,
        status: 1,
    },
];

/// Default flavors of a generated server.
pub const DEFAULT_SERVER_MODEL: &str = "physical.rx1.xlarge";
pub const DEFAULT_PHONE_MODEL: &str = "rx1.cp.c15.d46.e1v1";

pub fn server_model(name: &str) -> Option<&'static ServerModel> {
    SERVER_MODELS.iter().find(|m| m.name == name)
}

pub fn phone_model(name: &str) -> Option<&'static PhoneModel> {
    PHONE_MODELS.iter().find(|m| m.name == name)
}

/// Whether `phone` is a phone flavor of server flavor `server`.
pub fn pair_exists(server: &str, phone: &str) -> bool {
    phone_model(phone).is_some_and(|p| p.server_model == server)
}

impl ServerModel {
    pub fn to_json(&self) -> Value {
        json!({
            "server_model_name": self.name,
            "server_type": self.server_type,
            "cpu": self.cpu,
            "memory": self.memory,
            "product_type": self.product_type,
            "disk_max_num": 16,
            "free_size": 0,
        })
    }
}

impl PhoneModel {
    pub fn to_json(&self) -> Value {
        json!({
            "server_model_name": self.server_model,
            "phone_model_name": self.name,
            "status": self.status,
            "cpu": self.cpu,
            "memory": self.memory,
            "disk": self.disk,
            "resolution": self.resolution,
            "phone_capacity": self.capacity,
            "product_type": self.product_type,
        })
    }
}

//! The flavor catalogue: server flavors (with their generation) and the phone
//! flavors sold on each (one row per server flavor and phone flavor pair, with
//! its capacity and sale status), their JSON as the official SDK models them
//! (`ServerModel`, `ServerModelExtendSpec`, `PhoneModel`), and the rules that
//! decide whether a flavor change is allowed and whether it is an upgrade.

use std::cmp::Ordering;

use serde_json::{Value, json};

/// A server flavor (`server_model_name`).
#[derive(Debug, Clone)]
pub struct ServerModel {
    pub name: &'static str,
    /// The second dot-separated segment of the name (`rx1`, `kg1`): flavors
    /// switch only within one generation.
    pub generation: &'static str,
    pub server_type: &'static str,
    pub cpu: u32,
    /// GiB.
    pub memory: u32,
    pub product_type: i64,
    /// `extend_spec.bms_flavor`.
    pub bms_flavor: &'static str,
    pub gpu_count: u32,
    pub numa_count: u32,
}

/// A phone flavor (`phone_model_name`) as sold on one server flavor. The same
/// phone flavor may be sold on several server flavors (one row each).
#[derive(Debug, Clone)]
pub struct PhoneModel {
    pub name: &'static str,
    pub server_model: &'static str,
    /// Phones per server of this pair (`phone_capacity`).
    pub capacity: u32,
    pub cpu: u32,
    /// MiB, as the API reports it.
    pub memory: u32,
    /// GiB.
    pub disk: u32,
    pub resolution: &'static str,
    pub product_type: i64,
    /// 1 on sale, 0 withdrawn.
    pub status: i64,
}

const fn server(
    name: &'static str,
    generation: &'static str,
    cpu: u32,
    memory: u32,
    product_type: i64,
    bms_flavor: &'static str,
) -> ServerModel {
    ServerModel {
        name,
        generation,
        server_type: "Kunpeng920",
        cpu,
        memory,
        product_type,
        bms_flavor,
        gpu_count: if product_type == 1 { 2 } else { 0 },
        numa_count: 4,
    }
}

#[allow(clippy::too_many_arguments)]
const fn phone(
    server_model: &'static str,
    name: &'static str,
    capacity: u32,
    cpu: u32,
    memory_mib: u32,
    disk: u32,
    resolution: &'static str,
    product_type: i64,
    status: i64,
) -> PhoneModel {
    PhoneModel {
        name,
        server_model,
        capacity,
        cpu,
        memory: memory_mib,
        disk,
        resolution,
        product_type,
        status,
    }
}

pub const SERVER_MODELS: &[ServerModel] = &[
    server(
        "physical.rx1.xlarge",
        "rx1",
        64,
        256,
        0,
        "physical.kat1.8xlarge.cp",
    ),
    server(
        "physical.rx1.xlarge.special",
        "rx1",
        64,
        256,
        0,
        "physical.kat1.8xlarge.cp.special",
    ),
    server(
        "physical.rx1.2xlarge.special",
        "rx1",
        128,
        512,
        0,
        "physical.kat1.16xlarge.cp.special",
    ),
    server(
        "physical.kg1.4xlarge.cp",
        "kg1",
        128,
        512,
        1,
        "physical.kg1.4xlarge.cp",
    ),
    server(
        "physical.kg1.4xlarge.cp.special",
        "kg1",
        128,
        512,
        1,
        "physical.kg1.4xlarge.cp.special",
    ),
];

pub const PHONE_MODELS: &[PhoneModel] = &[
    // physical.rx1.xlarge: the default flavor and a withdrawn sibling.
    phone(
        "physical.rx1.xlarge",
        "rx1.cp.c15.d46.e1v1",
        15,
        4,
        8192,
        32,
        "720x1280",
        0,
        1,
    ),
    phone(
        "physical.rx1.xlarge",
        "rx1.cp.c15.d46.e1v0",
        15,
        4,
        8192,
        32,
        "720x1280",
        0,
        0,
    ),
    // physical.rx1.xlarge.special: one flavor with the default's capacity, one
    // with twice as many phones, one withdrawn.
    phone(
        "physical.rx1.xlarge.special",
        "rx1.cp.sp.c105.d8.e5v5",
        15,
        4,
        8192,
        64,
        "1080x1920",
        0,
        1,
    ),
    phone(
        "physical.rx1.xlarge.special",
        "rx1.cp.sp.c52.d4.e5v5",
        30,
        2,
        4096,
        32,
        "720x1280",
        0,
        1,
    ),
    phone(
        "physical.rx1.xlarge.special",
        "rx1.cp.sp.c105.d8.e5v4",
        15,
        4,
        8192,
        64,
        "1080x1920",
        0,
        0,
    ),
    // physical.rx1.2xlarge.special: rx1.cp.sp.c105.d8.e5v5 again (sold on two
    // server flavors), one flavor sold only here, one with another capacity.
    phone(
        "physical.rx1.2xlarge.special",
        "rx1.cp.sp.c105.d8.e5v5",
        15,
        4,
        8192,
        64,
        "1080x1920",
        0,
        1,
    ),
    phone(
        "physical.rx1.2xlarge.special",
        "rx1.cp.sp.c210.d16.e5v5",
        15,
        8,
        16384,
        128,
        "1080x2340",
        0,
        1,
    ),
    phone(
        "physical.rx1.2xlarge.special",
        "rx1.cp.sp.c26.d2.e5v5",
        60,
        2,
        2048,
        16,
        "720x1280",
        0,
        1,
    ),
    // kg1 (cloud games): another generation.
    phone(
        "physical.kg1.4xlarge.cp",
        "kg1.cp.c15.d46.e1v1",
        15,
        8,
        16384,
        64,
        "1080x1920",
        1,
        1,
    ),
    phone(
        "physical.kg1.4xlarge.cp.special",
        "kg1.cp.sp.c15.d46.e5v5",
        15,
        8,
        16384,
        128,
        "1080x1920",
        1,
        1,
    ),
];

/// Default flavors of a generated server.
pub const DEFAULT_SERVER_MODEL: &str = "physical.rx1.xlarge";
pub const DEFAULT_PHONE_MODEL: &str = "rx1.cp.c15.d46.e1v1";

pub fn server_model(name: &str) -> Option<&'static ServerModel> {
    SERVER_MODELS.iter().find(|m| m.name == name)
}

/// The row of phone flavor `phone` on server flavor `server`.
pub fn phone_model(server: &str, phone: &str) -> Option<&'static PhoneModel> {
    PHONE_MODELS
        .iter()
        .find(|m| m.server_model == server && m.name == phone)
}

/// Whether `phone` is a phone flavor of server flavor `server` (on sale or not).
pub fn pair_exists(server: &str, phone: &str) -> bool {
    phone_model(server, phone).is_some()
}

/// How two flavor pairs compare in size, which decides whether a change is an
/// upgrade (to be paid) or not: the server flavors' `cpu`, then `memory`,
/// then the phone flavors' `cpu`, `memory` and `disk`, compared in that order;
/// the first that differs decides. `Greater` means `to` is bigger.
pub fn compare_size(
    from: (&ServerModel, &PhoneModel),
    to: (&ServerModel, &PhoneModel),
) -> Ordering {
    let key = |(s, p): (&ServerModel, &PhoneModel)| (s.cpu, s.memory, p.cpu, p.memory, p.disk);
    key(to).cmp(&key(from))
}

impl ServerModel {
    pub fn to_json(&self) -> Value {
        json!({
            "server_model_name": self.name,
            "server_type": self.server_type,
            "cpu": self.cpu,
            "memory": self.memory,
            "extend_spec": {
                "cpu": format!("{} vCPUs Kunpeng 920 2.6GHz", self.cpu),
                "memory": format!("{} GiB DDR4", self.memory),
                "disk": "2 x 1.6TB NVMe SSD",
                "network_interface": "2 x 2*25GE",
                "gpu": if self.gpu_count > 0 { "2 x Radeon Pro W6800" } else { "" },
                "bms_flavor": self.bms_flavor,
                "gpu_count": self.gpu_count,
                "numa_count": self.numa_count,
                "os_volume": {"size": 150, "volume_type": "SAS"},
            },
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
            "extend_spec": format!(
                "{{\"phone_capacity\":{},\"cpu\":{},\"memory\":{}}}",
                self.capacity, self.cpu, self.memory
            ),
            "spec_code": format!("{}.{}", self.name, self.capacity),
            "phone_capacity": self.capacity,
            "image_label": if self.product_type == 1 { "cloud_game" } else { "cloud_phone" },
            "product_type": self.product_type,
            "phone_model_version": 1,
            "dpi": 320,
            "fps": "30",
            "volume_mode": 0,
            "render_fps": 30,
            "stream_fps": 30,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_names_a_known_server_flavor_of_its_product_type() {
        for p in PHONE_MODELS {
            let s = server_model(p.server_model).expect(p.server_model);
            assert_eq!(s.product_type, p.product_type, "{}", p.name);
            assert!(
                p.name.starts_with(s.generation),
                "{} belongs to {}",
                p.name,
                s.generation
            );
        }
        for s in SERVER_MODELS {
            assert_eq!(s.name.split('.').nth(1), Some(s.generation), "{}", s.name);
        }
    }

    #[test]
    fn pairs_are_unique() {
        for (i, a) in PHONE_MODELS.iter().enumerate() {
            for b in &PHONE_MODELS[i + 1..] {
                assert!(
                    (a.server_model, a.name) != (b.server_model, b.name),
                    "{} on {}",
                    a.name,
                    a.server_model
                );
            }
        }
    }

    #[test]
    fn the_documented_change_is_an_upgrade_and_back_a_downgrade() {
        let pair = |s: &str, p: &str| (server_model(s).expect(s), phone_model(s, p).expect(p));
        let base = pair(DEFAULT_SERVER_MODEL, DEFAULT_PHONE_MODEL);
        let special = pair("physical.rx1.xlarge.special", "rx1.cp.sp.c105.d8.e5v5");
        let big = pair("physical.rx1.2xlarge.special", "rx1.cp.sp.c105.d8.e5v5");
        assert_eq!(compare_size(base, special), Ordering::Greater);
        assert_eq!(compare_size(special, base), Ordering::Less);
        assert_eq!(compare_size(special, big), Ordering::Greater);
        assert_eq!(compare_size(base, base), Ordering::Equal);
    }
}

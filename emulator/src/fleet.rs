//! The fleet: cloud phone servers and their phones, indexed by id, the
//! deterministic default fleet, and the `--seed` JSON format.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::catalogue;
use crate::ids;

/// A cloud phone server as the emulator keeps it.
#[derive(Debug, Clone)]
pub struct Server {
    pub id: String,
    pub name: String,
    pub server_model: String,
    pub phone_model: String,
    pub status: i64,
    pub availability_zone: String,
    pub created: OffsetDateTime,
    pub updated: OffsetDateTime,
    /// Ids of this server's phones, in order.
    pub phone_ids: Vec<String>,
}

/// A cloud phone.
#[derive(Debug, Clone)]
pub struct Phone {
    pub id: String,
    pub name: String,
    pub server_id: String,
    pub status: i64,
    pub phone_type: i64,
    pub traffic_type: String,
    pub created: OffsetDateTime,
    pub updated: OffsetDateTime,
}

/// Servers and phones in listing order, with id indexes.
#[derive(Debug, Default)]
pub struct Fleet {
    servers: Vec<Server>,
    server_index: HashMap<String, usize>,
    phones: Vec<Phone>,
    phone_index: HashMap<String, usize>,
}

impl Fleet {
    pub fn servers(&self) -> &[Server] {
        &self.servers
    }
    pub fn phones(&self) -> &[Phone] {
        &self.phones
    }
    pub fn server(&self, id: &str) -> Option<&Server> {
        self.server_index.get(id).map(|&i| &self.servers[i])
    }
    pub fn server_mut(&mut self, id: &str) -> Option<&mut Server> {
        self.server_index.get(id).map(|&i| &mut self.servers[i])
    }
    pub fn phone(&self, id: &str) -> Option<&Phone> {
        self.phone_index.get(id).map(|&i| &self.phones[i])
    }
    pub fn phone_mut(&mut self, id: &str) -> Option<&mut Phone> {
        self.phone_index.get(id).map(|&i| &mut self.phones[i])
    }

    /// Add a server and its phones; refuses duplicate ids.
    pub fn add(&mut self, mut server: Server, phones: Vec<Phone>) -> Result<(), String> {
        if self.server_index.contains_key(&server.id) {
            return Err(format!("duplicate server id {}", server.id));
        }
        server.phone_ids.clear();
        for p in &phones {
            if self.phone_index.contains_key(&p.id) || server.phone_ids.contains(&p.id) {
                return Err(format!("duplicate phone id {}", p.id));
            }
            server.phone_ids.push(p.id.clone());
        }
        self.server_index
            .insert(server.id.clone(), self.servers.len());
        self.servers.push(server);
        for p in phones {
            self.phone_index.insert(p.id.clone(), self.phones.len());
            self.phones.push(p);
        }
        Ok(())
    }

    /// Remove a server and its phones. Returns false if it did not exist.
    pub fn remove_server(&mut self, id: &str) -> bool {
        if !self.server_index.contains_key(id) {
            return false;
        }
        self.servers.retain(|s| s.id != id);
        self.phones.retain(|p| p.server_id != id);
        self.server_index = index(&self.servers, |s| &s.id);
        self.phone_index = index(&self.phones, |p| &p.id);
        true
    }

    /// Phones of one server, in order.
    pub fn phones_of(&self, server_id: &str) -> Vec<&Phone> {
        self.server(server_id)
            .map(|s| s.phone_ids.iter().filter_map(|id| self.phone(id)).collect())
            .unwrap_or_default()
    }

    /// The deterministic default fleet: `servers` x `phones_per_server`.
    pub fn generated(servers: usize, phones_per_server: usize, region: &str) -> Self {
        let now = OffsetDateTime::now_utc();
        let mut fleet = Fleet::default();
        for i in 0..servers {
            let server = Server {
                id: ids::server_id(i),
                name: format!("server-{i}"),
                server_model: catalogue::DEFAULT_SERVER_MODEL.into(),
                phone_model: catalogue::DEFAULT_PHONE_MODEL.into(),
                status: 5,
                availability_zone: format!("{region}a"),
                created: now,
                updated: now,
                phone_ids: Vec::new(),
            };
            let phones = (0..phones_per_server)
                .map(|j| Phone {
                    id: ids::phone_id(i, j),
                    name: format!("phone-{i}-{j}"),
                    server_id: server.id.clone(),
                    status: 2,
                    phone_type: 0,
                    traffic_type: "direct".into(),
                    created: now,
                    updated: now,
                })
                .collect();
            // Generated ids are unique by construction.
            let _ = fleet.add(server, phones);
        }
        fleet
    }

    /// A fleet from a `--seed` JSON document.
    pub fn from_seed(text: &str, region: &str) -> Result<Self, String> {
        let seed: SeedFile =
            serde_json::from_str(text).map_err(|e| format!("invalid seed: {e}"))?;
        let now = OffsetDateTime::now_utc();
        let mut fleet = Fleet::default();
        for (i, s) in seed.servers.into_iter().enumerate() {
            let server_model = s
                .server_model_name
                .unwrap_or_else(|| catalogue::DEFAULT_SERVER_MODEL.into());
            let phone_model = s
                .phone_model_name
                .unwrap_or_else(|| catalogue::DEFAULT_PHONE_MODEL.into());
            if !catalogue::pair_exists(&server_model, &phone_model) {
                return Err(format!(
                    "seed server {i}: {phone_model} is not a phone flavor of {server_model}"
                ));
            }
            let id = s.server_id.unwrap_or_else(|| ids::server_id(i));
            let phones = s
                .phones
                .into_iter()
                .enumerate()
                .map(|(j, p)| {
                    let traffic_type = p.traffic_type.unwrap_or_else(|| "direct".into());
                    if traffic_type != "direct" && traffic_type != "routing" {
                        return Err(format!(
                            "seed phone {i}/{j}: bad traffic_type {traffic_type}"
                        ));
                    }
                    Ok(Phone {
                        id: p.phone_id.unwrap_or_else(|| ids::phone_id(i, j)),
                        name: p.phone_name.unwrap_or_else(|| format!("phone-{i}-{j}")),
                        server_id: id.clone(),
                        status: p.status.unwrap_or(2),
                        phone_type: p.r#type.unwrap_or(0),
                        traffic_type,
                        created: now,
                        updated: now,
                    })
                })
                .collect::<Result<Vec<_>, String>>()?;
            let server = Server {
                name: s.server_name.unwrap_or_else(|| format!("server-{i}")),
                id,
                server_model,
                phone_model,
                status: s.status.unwrap_or(5),
                availability_zone: s.availability_zone.unwrap_or_else(|| format!("{region}a")),
                created: now,
                updated: now,
                phone_ids: Vec::new(),
            };
            fleet.add(server, phones)?;
        }
        Ok(fleet)
    }
}

fn index<T>(items: &[T], key: impl Fn(&T) -> &String) -> HashMap<String, usize> {
    items
        .iter()
        .enumerate()
        .map(|(i, t)| (key(t).clone(), i))
        .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedFile {
    servers: Vec<SeedServer>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedServer {
    server_id: Option<String>,
    server_name: Option<String>,
    server_model_name: Option<String>,
    phone_model_name: Option<String>,
    status: Option<i64>,
    availability_zone: Option<String>,
    #[serde(default)]
    phones: Vec<SeedPhone>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedPhone {
    phone_id: Option<String>,
    phone_name: Option<String>,
    status: Option<i64>,
    traffic_type: Option<String>,
    r#type: Option<i64>,
}

impl Server {
    pub fn to_json(&self, project_id: &str) -> Value {
        json!({
            "server_id": self.id,
            "server_name": self.name,
            "server_model_name": self.server_model,
            "phone_model_name": self.phone_model,
            "status": self.status,
            "availability_zone": self.availability_zone,
            "keypair_name": "",
            "resource_project_id": project_id,
            "enterprise_project_id": "0",
            "network_version": "v1",
            "addresses": [],
            "create_time": ids::fmt_time(self.created),
            "update_time": ids::fmt_time(self.updated),
        })
    }
}

impl Phone {
    pub fn to_json(&self, server: Option<&Server>) -> Value {
        json!({
            "phone_id": self.id,
            "phone_name": self.name,
            "server_id": self.server_id,
            "phone_model_name": server.map(|s| s.phone_model.as_str()).unwrap_or_default(),
            "availability_zone": server.map(|s| s.availability_zone.as_str()).unwrap_or_default(),
            "status": self.status,
            "type": self.phone_type,
            "traffic_type": self.traffic_type,
            "image_id": "",
            "image_version": "",
            "vnc_enable": "false",
            "volume_mode": 0,
            "has_encrypt": false,
            "create_time": ids::fmt_time(self.created),
            "update_time": ids::fmt_time(self.updated),
        })
    }
}

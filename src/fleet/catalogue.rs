//! The flavor catalogue: which server flavors exist, which phone flavors each
//! sells (and whether still on sale), and how big each is. Read once per
//! provider process (server-models and phone-models) and shared by the plan
//! checks of `cph_server_flavor` and the data source
//! `cph_server_flavor_options`.
//!
//! The catalogue judges only what the API publishes: existence, sale status,
//! product type and phone capacity. [`Catalogue::check`] is the one rule:
//! the plan of `cph_server_flavor` refuses what it refuses, and
//! [`Catalogue::targets_from`] (the data source's options, the valid targets
//! a refusal lists) is every pair it admits. Rules the API does not publish
//! stay the API's to judge when the order is placed.

use std::cmp::Ordering;
use std::sync::Arc;

use tokio::sync::Mutex;

use crate::cph::models::{PHONE_MODEL_ON_SALE, PhoneModel, ServerModel};
use crate::cph::{self, Client};

/// A server flavor as the catalogue lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerFlavor {
    pub name: String,
    pub cpu: i64,
    /// GiB.
    pub memory: i64,
    /// 0 cloud phone, 1 cloud game.
    pub product_type: i64,
}

/// A phone flavor sold on a server flavor: one row per pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneFlavor {
    pub server_model_name: String,
    pub phone_model_name: String,
    /// 1 on sale, 0 withdrawn.
    pub status: i64,
    pub cpu: i64,
    /// MiB.
    pub memory: i64,
    /// GiB.
    pub disk: i64,
    /// Phones per server with this pair.
    pub phone_capacity: i64,
}

impl PhoneFlavor {
    pub fn on_sale(&self) -> bool {
        self.status == PHONE_MODEL_ON_SALE
    }
}

/// A server flavor and phone flavor that go together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair<'a> {
    pub server: &'a ServerFlavor,
    pub phone: &'a PhoneFlavor,
}

impl Pair<'_> {
    /// The size key of the upgrade rule: server cpu, server memory, phone
    /// cpu, memory, disk, compared in that order.
    fn size(&self) -> (i64, i64, i64, i64, i64) {
        (
            self.server.cpu,
            self.server.memory,
            self.phone.cpu,
            self.phone.memory,
            self.phone.disk,
        )
    }

    /// True when changing from `from` to this pair is an upgrade (to be
    /// paid): this pair is bigger at the first size that differs.
    pub fn is_upgrade_from(&self, from: &Pair<'_>) -> bool {
        self.size().cmp(&from.size()) == Ordering::Greater
    }

    pub fn describe(&self) -> String {
        format!(
            "{} / {} ({} {}; server {} vCPUs, {} GiB; phone {} vCPUs, {} MiB, {} GiB)",
            self.server.name,
            self.phone.phone_model_name,
            self.phone.phone_capacity,
            if self.phone.phone_capacity == 1 {
                "phone"
            } else {
                "phones"
            },
            self.server.cpu,
            self.server.memory,
            self.phone.cpu,
            self.phone.memory,
            self.phone.disk
        )
    }
}

/// Why a target flavor pair is refused, with the attribute at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlavorRefusal {
    /// No such server flavor (`server_model_name`).
    UnknownServerFlavor,
    /// A server flavor of another product type (0 cloud phone, 1 cloud
    /// game) than the server's (`server_model_name`).
    ProductType { target: i64, current: i64 },
    /// The server flavor does not sell this phone flavor (`phone_model_name`).
    NotSold,
    /// The phone flavor is withdrawn on this server flavor (`phone_model_name`).
    Withdrawn,
    /// Another phone capacity than the current one (`phone_model_name`).
    Capacity { target: i64, current: i64 },
}

impl FlavorRefusal {
    /// The attribute the refusal is about.
    pub fn attribute(&self) -> &'static str {
        match self {
            FlavorRefusal::UnknownServerFlavor | FlavorRefusal::ProductType { .. } => {
                "server_model_name"
            }
            _ => "phone_model_name",
        }
    }
}

/// The whole catalogue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalogue {
    pub servers: Vec<ServerFlavor>,
    pub phones: Vec<PhoneFlavor>,
}

impl Catalogue {
    /// The catalogue of the API's answers.
    pub fn from_models(servers: &[ServerModel], phones: &[PhoneModel]) -> Catalogue {
        Catalogue {
            servers: servers
                .iter()
                .map(|s| ServerFlavor {
                    name: s.server_model_name.clone(),
                    cpu: s.cpu,
                    memory: s.memory,
                    product_type: s.product_type,
                })
                .collect(),
            phones: phones
                .iter()
                .map(|p| PhoneFlavor {
                    server_model_name: p.server_model_name.clone(),
                    phone_model_name: p.phone_model_name.clone(),
                    status: p.status,
                    cpu: p.cpu,
                    memory: p.memory,
                    disk: p.disk,
                    phone_capacity: p.phone_capacity,
                })
                .collect(),
        }
    }

    pub fn server(&self, name: &str) -> Option<&ServerFlavor> {
        self.servers.iter().find(|s| s.name == name)
    }

    /// The pair, on sale or not, when the server flavor sells that phone flavor.
    pub fn pair(&self, server_model_name: &str, phone_model_name: &str) -> Option<Pair<'_>> {
        let server = self.server(server_model_name)?;
        let phone = self.phones.iter().find(|p| {
            p.server_model_name == server_model_name && p.phone_model_name == phone_model_name
        })?;
        Some(Pair { server, phone })
    }

    /// Every pair that a server now on `current` can change to: the pairs
    /// [`Catalogue::check`] admits (on sale, same product type, same phone
    /// capacity), except the current pair. In catalogue order.
    pub fn targets_from(&self, current: &Pair<'_>) -> Vec<Pair<'_>> {
        self.phones
            .iter()
            .filter(|p| {
                !(p.server_model_name == current.server.name
                    && p.phone_model_name == current.phone.phone_model_name)
            })
            .filter_map(|p| {
                self.check(Some(current), &p.server_model_name, &p.phone_model_name)
                    .ok()
                    .filter(|pair| std::ptr::eq(pair.phone, p))
            })
            .collect()
    }

    /// Whether a server now on `current` (a pair, when the catalogue knows
    /// it) may be ordered onto `target`, as far as the catalogue tells: the
    /// target pair when it may. With `current` unknown only existence and
    /// sale are judged.
    pub fn check(
        &self,
        current: Option<&Pair<'_>>,
        target_server: &str,
        target_phone: &str,
    ) -> Result<Pair<'_>, FlavorRefusal> {
        let Some(server) = self.server(target_server) else {
            return Err(FlavorRefusal::UnknownServerFlavor);
        };
        if let Some(current) = current
            && current.server.product_type != server.product_type
        {
            return Err(FlavorRefusal::ProductType {
                target: server.product_type,
                current: current.server.product_type,
            });
        }
        let Some(target) = self.pair(target_server, target_phone) else {
            return Err(FlavorRefusal::NotSold);
        };
        if !target.phone.on_sale() {
            return Err(FlavorRefusal::Withdrawn);
        }
        if let Some(current) = current
            && current.phone.phone_capacity != target.phone.phone_capacity
        {
            return Err(FlavorRefusal::Capacity {
                target: target.phone.phone_capacity,
                current: current.phone.phone_capacity,
            });
        }
        Ok(target)
    }
}

/// The catalogue read once per provider process. A failure to read it is
/// remembered too (with its message), so that a plan of many resources
/// asks once and warns with the same reason.
#[derive(Default)]
pub struct CatalogueCache {
    read: Mutex<Option<Result<Arc<Catalogue>, String>>>,
}

impl CatalogueCache {
    /// The catalogue, read on first use (server-models, then phone-models).
    /// Cancellation is not remembered.
    pub async fn get(&self, client: &Client) -> Result<Arc<Catalogue>, String> {
        let mut read = self.read.lock().await;
        if let Some(r) = read.as_ref() {
            return r.clone();
        }
        let result = match fetch(client).await {
            Ok(c) => Ok(Arc::new(c)),
            Err(cph::Error::Cancelled) => return Err(cph::Error::Cancelled.to_string()),
            Err(e) => Err(e.to_string()),
        };
        *read = Some(result.clone());
        result
    }

    /// Sets the catalogue (tests).
    pub async fn set(&self, catalogue: Catalogue) {
        *self.read.lock().await = Some(Ok(Arc::new(catalogue)));
    }
}

async fn fetch(client: &Client) -> cph::Result<Catalogue> {
    let servers = client.list_server_models().await?;
    let phones = client.list_phone_models(None).await?;
    tracing::debug!(
        target: "cph",
        server_models = servers.len(),
        phone_models = phones.len(),
        "read the flavor catalogue"
    );
    Ok(Catalogue::from_models(&servers, &phones))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn server(name: &str, cpu: i64, memory: i64, product_type: i64) -> ServerFlavor {
        ServerFlavor {
            name: name.into(),
            cpu,
            memory,
            product_type,
        }
    }

    fn phone(
        server: &str,
        name: &str,
        capacity: i64,
        (cpu, memory, disk): (i64, i64, i64),
        status: i64,
    ) -> PhoneFlavor {
        PhoneFlavor {
            server_model_name: server.into(),
            phone_model_name: name.into(),
            status,
            cpu,
            memory,
            disk,
            phone_capacity: capacity,
        }
    }

    /// The emulator's catalogue (emulator/README.md).
    pub(crate) fn emulator_catalogue() -> Catalogue {
        let x = "physical.rx1.xlarge";
        let xs = "physical.rx1.xlarge.special";
        let xxs = "physical.rx1.2xlarge.special";
        let kg = "physical.kg1.4xlarge.cp";
        let kgs = "physical.kg1.4xlarge.cp.special";
        Catalogue {
            servers: vec![
                server(x, 64, 256, 0),
                server(xs, 64, 256, 0),
                server(xxs, 128, 512, 0),
                server(kg, 128, 512, 1),
                server(kgs, 128, 512, 1),
            ],
            phones: vec![
                phone(x, "rx1.cp.c15.d46.e1v1", 15, (4, 8192, 32), 1),
                phone(x, "rx1.cp.c15.d46.e1v0", 15, (4, 8192, 32), 0),
                phone(xs, "rx1.cp.sp.c105.d8.e5v5", 15, (4, 8192, 64), 1),
                phone(xs, "rx1.cp.sp.c52.d4.e5v5", 30, (2, 4096, 32), 1),
                phone(xs, "rx1.cp.sp.c105.d8.e5v4", 15, (4, 8192, 64), 0),
                phone(xxs, "rx1.cp.sp.c105.d8.e5v5", 15, (4, 8192, 64), 1),
                phone(xxs, "rx1.cp.sp.c210.d16.e5v5", 15, (8, 16384, 128), 1),
                phone(xxs, "rx1.cp.sp.c26.d2.e5v5", 60, (2, 2048, 16), 1),
                phone(kg, "kg1.cp.c15.d46.e1v1", 15, (8, 16384, 64), 1),
                phone(kgs, "kg1.cp.sp.c15.d46.e5v5", 15, (8, 16384, 128), 1),
            ],
        }
    }

    #[test]
    fn targets_are_same_capacity_and_product_type_on_sale_and_not_current() {
        let c = emulator_catalogue();
        let current = c
            .pair("physical.rx1.xlarge", "rx1.cp.c15.d46.e1v1")
            .unwrap();
        let targets: Vec<_> = c
            .targets_from(&current)
            .iter()
            .map(|p| (p.server.name.as_str(), p.phone.phone_model_name.as_str()))
            .collect();
        assert_eq!(
            targets,
            vec![
                ("physical.rx1.xlarge.special", "rx1.cp.sp.c105.d8.e5v5"),
                ("physical.rx1.2xlarge.special", "rx1.cp.sp.c105.d8.e5v5"),
                ("physical.rx1.2xlarge.special", "rx1.cp.sp.c210.d16.e5v5"),
            ]
        );
        // A cloud game server changes only to cloud game flavors.
        let kg = c
            .pair("physical.kg1.4xlarge.cp", "kg1.cp.c15.d46.e1v1")
            .unwrap();
        let targets: Vec<_> = c
            .targets_from(&kg)
            .iter()
            .map(|p| p.phone.phone_model_name.as_str())
            .collect();
        assert_eq!(targets, vec!["kg1.cp.sp.c15.d46.e5v5"]);
    }

    #[test]
    fn each_wrong_target_is_refused_for_its_reason() {
        let c = emulator_catalogue();
        let current = c.pair("physical.rx1.xlarge", "rx1.cp.c15.d46.e1v1");
        let check = |s: &str, p: &str| c.check(current.as_ref(), s, p);
        assert_eq!(
            check("physical.rx9.none", "rx1.cp.c15.d46.e1v1"),
            Err(FlavorRefusal::UnknownServerFlavor)
        );
        assert_eq!(
            check("physical.rx1.xlarge.special", "rx1.cp.sp.c210.d16.e5v5"),
            Err(FlavorRefusal::NotSold)
        );
        assert_eq!(
            check("physical.rx1.xlarge", "rx1.cp.c15.d46.e1v0"),
            Err(FlavorRefusal::Withdrawn)
        );
        assert_eq!(
            check("physical.rx1.xlarge.special", "rx1.cp.sp.c52.d4.e5v5"),
            Err(FlavorRefusal::Capacity {
                target: 30,
                current: 15
            })
        );
        assert!(check("physical.rx1.xlarge.special", "rx1.cp.sp.c105.d8.e5v5").is_ok());
        // A cloud game flavor on a cloud phone server: same capacity, on
        // sale, but another product type.
        let kg1 = check("physical.kg1.4xlarge.cp", "kg1.cp.c15.d46.e1v1");
        assert_eq!(
            kg1,
            Err(FlavorRefusal::ProductType {
                target: 1,
                current: 0
            })
        );
        assert_eq!(kg1.unwrap_err().attribute(), "server_model_name");
        assert_eq!(
            FlavorRefusal::UnknownServerFlavor.attribute(),
            "server_model_name"
        );
        assert_eq!(FlavorRefusal::Withdrawn.attribute(), "phone_model_name");
        // Without the current pair only existence and sale are judged.
        assert!(
            c.check(None, "physical.kg1.4xlarge.cp", "kg1.cp.c15.d46.e1v1")
                .is_ok()
        );
        assert_eq!(
            c.check(None, "physical.rx1.xlarge", "rx1.cp.c15.d46.e1v0"),
            Err(FlavorRefusal::Withdrawn)
        );
    }

    /// The data source's options and the plan's refusals are one rule: from
    /// every pair of the catalogue, to every pair, a target is listed
    /// exactly when `check` admits it (and it is not the current pair).
    #[test]
    fn the_targets_are_exactly_what_check_admits() {
        let c = emulator_catalogue();
        let name = |p: &Pair<'_>| (p.server.name.clone(), p.phone.phone_model_name.clone());
        let pairs: Vec<_> = c
            .phones
            .iter()
            .filter_map(|p| c.pair(&p.server_model_name, &p.phone_model_name))
            .collect();
        let mut listed_somewhere = 0;
        for current in &pairs {
            let listed: Vec<_> = c.targets_from(current).iter().map(name).collect();
            listed_somewhere += listed.len();
            for target in &pairs {
                let admitted = c
                    .check(
                        Some(current),
                        &target.server.name,
                        &target.phone.phone_model_name,
                    )
                    .is_ok();
                let is_current = name(target) == name(current);
                assert_eq!(
                    listed.contains(&name(target)),
                    admitted && !is_current,
                    "{:?} -> {:?}",
                    name(current),
                    name(target)
                );
            }
        }
        assert!(listed_somewhere > 0, "the rule admits something");
    }

    #[test]
    fn the_upgrade_rule_is_the_emulators() {
        let c = emulator_catalogue();
        let from = c
            .pair("physical.rx1.xlarge", "rx1.cp.c15.d46.e1v1")
            .unwrap();
        let special = c
            .pair("physical.rx1.xlarge.special", "rx1.cp.sp.c105.d8.e5v5")
            .unwrap();
        let bigger = c
            .pair("physical.rx1.2xlarge.special", "rx1.cp.sp.c105.d8.e5v5")
            .unwrap();
        assert!(special.is_upgrade_from(&from), "bigger phone disk");
        assert!(!from.is_upgrade_from(&special), "and back a downgrade");
        assert!(bigger.is_upgrade_from(&special), "bigger server");
        assert!(!from.is_upgrade_from(&from), "equal is no upgrade");
    }
}

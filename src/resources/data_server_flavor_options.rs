//! Data source `cph_server_flavor_options`: the flavor pairs a server can
//! change to (the catalogue's pairs on sale with the server's product type
//! and phone capacity), with their size, so that users pick the target of a
//! `cph_server_flavor` from data instead of from the console.

use std::sync::Arc;

use async_trait::async_trait;

use super::Shared;
use super::common::{api_error_at, cph_id, server_gone};
use crate::fleet::catalogue::Pair;
use tf_framework::typed::DataSourceType;
use tf_framework::*;

tf_framework::model! {
    /// One flavor pair the server can change to.
    pub struct FlavorOption {
        server_model_name: String = computed("Server flavor, for `cph_server_flavor.server_model_name`."),
        phone_model_name: String = computed("Phone flavor, for `cph_server_flavor.phone_model_name`."),
        server_cpu: i64 = computed("vCPUs of the server flavor."),
        server_memory: i64 = computed("Memory of the server flavor, GiB."),
        phone_cpu: i64 = computed("vCPUs of each phone."),
        phone_memory: i64 = computed("Memory of each phone, MiB."),
        phone_disk: i64 = computed("Disk of each phone, GiB."),
        phone_capacity: i64 = computed("Phones per server with this pair (always the server's current capacity)."),
        upgrade: bool = computed("True when the change is an upgrade (bigger server cpu, then memory, then phone cpu, memory, disk): it is paid, and waits for payment without `auto_pay`."),
    }
}

tf_framework::model! {
    /// The configuration and result of `data.cph_server_flavor_options`.
    pub struct ServerFlavorOptionsModel {
        id: String = computed("Same as `server_id`."),
        server_id: String = required("Id of the cloud phone server.").validate(cph_id()),
        server_model_name: String = computed("The server's current server flavor."),
        phone_model_name: String = computed("The server's current phone flavor."),
        phone_capacity: i64 = computed("Phones per server of the current flavors (null when the catalogue does not list them)."),
        options: Vec<FlavorOption> = computed("The flavor pairs the server can change to, in catalogue order; empty when there are none (or the server does not exist)."),
    }
}

impl FlavorOption {
    fn of(target: &Pair<'_>, current: &Pair<'_>) -> FlavorOption {
        FlavorOption {
            server_model_name: target.server.name.as_str().into(),
            phone_model_name: target.phone.phone_model_name.as_str().into(),
            server_cpu: target.server.cpu.into(),
            server_memory: target.server.memory.into(),
            phone_cpu: target.phone.cpu.into(),
            phone_memory: target.phone.memory.into(),
            phone_disk: target.phone.disk.into(),
            phone_capacity: target.phone.phone_capacity.into(),
            upgrade: target.is_upgrade_from(current).into(),
        }
    }
}

pub struct ServerFlavorOptionsData {
    shared: Arc<Shared>,
}

impl ServerFlavorOptionsData {
    pub fn new(shared: Arc<Shared>) -> ServerFlavorOptionsData {
        ServerFlavorOptionsData { shared }
    }
}

#[async_trait]
impl DataSourceType for ServerFlavorOptionsData {
    type Model = ServerFlavorOptionsModel;
    const TYPE_NAME: &'static str = "cph_server_flavor_options";
    const DESCRIPTION: &'static str = "The flavor pairs a cloud phone server can change to.";

    async fn read(
        &self,
        ctx: &CallContext,
        config: ServerFlavorOptionsModel,
        diags: &mut Diagnostics,
    ) -> ServerFlavorOptionsModel {
        let Some(client) = self.shared.client_or_report(ctx, diags) else {
            return config;
        };
        let server_id = config.server_id.as_str().unwrap_or_default().to_string();
        let empty = ServerFlavorOptionsModel {
            id: server_id.as_str().into(),
            options: Tf::Known(Vec::new()),
            ..config.clone()
        };
        let server = match client.show_server(&server_id).await {
            Ok(s) => s,
            Err(e) if e.is_not_found() => {
                diags.push(server_gone(&server_id, &e));
                return empty;
            }
            Err(e) => {
                let doing = format!("read cloud phone server {server_id:?}");
                diags.push(api_error_at(&doing, &e, AttributePath::root("server_id")));
                return config;
            }
        };
        let catalogue = match self.shared.fleet().catalogue().get(&client).await {
            Ok(c) => c,
            Err(why) => {
                diags.push(Diagnostic::error(
                    "Failed to read the flavor catalogue",
                    format!("server-models / phone-models: {why}"),
                ));
                return config;
            }
        };
        let mut result = ServerFlavorOptionsModel {
            server_model_name: server.server_model_name.as_str().into(),
            phone_model_name: server.phone_model_name.as_str().into(),
            ..empty
        };
        let Some(current) = catalogue.pair(&server.server_model_name, &server.phone_model_name)
        else {
            diags.push(
                Diagnostic::warning(
                    "Current flavors not in the catalogue",
                    format!(
                        "Server {server_id} is on {} / {}, which the flavor catalogue does not list, \
                         so the flavors it can change to are not known.",
                        server.server_model_name, server.phone_model_name
                    ),
                )
                .at(AttributePath::root("server_id")),
            );
            return result;
        };
        result.phone_capacity = current.phone.phone_capacity.into();
        result.options = Tf::Known(
            catalogue
                .targets_from(&current)
                .iter()
                .map(|t| FlavorOption::of(t, &current))
                .collect(),
        );
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::catalogue::tests::emulator_catalogue;

    #[test]
    fn options_carry_sizes_and_whether_they_are_upgrades() {
        let c = emulator_catalogue();
        let current = c
            .pair("physical.rx1.xlarge.special", "rx1.cp.sp.c105.d8.e5v5")
            .unwrap();
        let options: Vec<FlavorOption> = c
            .targets_from(&current)
            .iter()
            .map(|t| FlavorOption::of(t, &current))
            .collect();
        let names: Vec<_> = options
            .iter()
            .map(|o| (o.server_model_name.as_str().unwrap(), o.upgrade.clone()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("physical.rx1.xlarge", Tf::Known(false)),
                ("physical.rx1.2xlarge.special", Tf::Known(true)),
                ("physical.rx1.2xlarge.special", Tf::Known(true)),
            ]
        );
        assert_eq!(options[0].phone_capacity, Tf::Known(15));
        assert_eq!(options[0].phone_memory, Tf::Known(8192));
    }

    #[test]
    fn the_schema_lists_options_as_objects() {
        let b = <ServerFlavorOptionsModel as Model>::block();
        assert!(b.attribute("server_id").unwrap().required);
        assert!(b.attribute("options").unwrap().computed);
    }
}

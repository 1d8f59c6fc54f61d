//! The `cph_server_flavor` list resource: every cloud phone server of the
//! project (or the ones named), each by its identity `{ server_id }` with its
//! flavors as state, so that `terraform query -generate-config-out` writes
//! one `cph_server_flavor` and its import block per server.
//!
//! Reads stay at the API floor: the server list, paged, and nothing else.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;

use super::Shared;
use super::common::api_error;
use super::common::cph_id;
use super::server_flavor::{ServerFlavorIdentity, ServerFlavorModel, ServerFlavorResource};
use crate::cph::models::Server;
use crate::cph::{self, Client};
use tf_framework::typed::{Found, ListResourceType, ResourceType};
use tf_framework::*;

/// Servers asked for per page of the server list.
const SERVERS_PAGE_SIZE: u64 = 100;

tf_framework::model! {
    /// The `config` block of `list "cph_server_flavor"`.
    pub struct ServerFlavorListConfig {
        server_ids: BTreeSet<String> = optional("Only these servers. Unset: every server of the project.")
            .validate(each(cph_id())),
    }
}

pub struct ServerFlavorList {
    shared: Arc<Shared>,
}

impl ServerFlavorList {
    pub fn new(shared: Arc<Shared>) -> ServerFlavorList {
        ServerFlavorList { shared }
    }
}

/// Every server of the project, page by page.
pub async fn all_servers(client: &Client) -> cph::Result<Vec<Server>> {
    let mut servers = Vec::new();
    let mut offset = 0;
    loop {
        let page = client.list_servers(offset, SERVERS_PAGE_SIZE).await?;
        let n = page.servers.len() as u64;
        servers.extend(page.servers);
        offset += n;
        if n < SERVERS_PAGE_SIZE || (page.count > 0 && offset >= page.count) {
            return Ok(servers);
        }
    }
}

/// A warning that names the servers asked for and not found.
pub fn missing_servers(wanted: &BTreeSet<String>, found: &BTreeSet<&str>) -> Option<Diagnostic> {
    let missing: Vec<&str> = wanted
        .iter()
        .map(String::as_str)
        .filter(|s| !found.contains(s))
        .collect();
    (!missing.is_empty()).then(|| {
        Diagnostic::warning(
            "Servers not found",
            format!(
                "These servers do not exist in this project: {}.",
                missing.join(", ")
            ),
        )
        .at(AttributePath::root("server_ids"))
    })
}

#[async_trait]
impl ListResourceType for ServerFlavorList {
    type Config = ServerFlavorListConfig;
    type Identity = ServerFlavorIdentity;
    type State = ServerFlavorModel;

    fn type_name(&self) -> &'static str {
        ServerFlavorResource::TYPE_NAME
    }

    fn description(&self) -> &'static str {
        "Lists the flavors of the project's cloud phone servers, one `cph_server_flavor` per server, by identity `{ server_id }`."
    }

    async fn list(
        &self,
        ctx: &CallContext,
        config: ServerFlavorListConfig,
        found: &mut Found<'_, ServerFlavorIdentity, ServerFlavorModel>,
    ) -> Result<(), Diagnostics> {
        let client = self.shared.client(ctx)?;
        let servers = all_servers(&client)
            .await
            .map_err(|e| api_error("list the cloud phone servers", &e))?;
        let wanted = config.server_ids.known().cloned();
        for server in &servers {
            if wanted
                .as_ref()
                .is_some_and(|w| !w.contains(&server.server_id))
            {
                continue;
            }
            let identity = ServerFlavorIdentity {
                server_id: server.server_id.as_str().into(),
            };
            let name = if server.server_name.is_empty() {
                server.server_id.clone()
            } else {
                format!("{} ({})", server.server_name, server.server_id)
            };
            let display_name = format!(
                "{name}: {} / {}",
                server.server_model_name, server.phone_model_name
            );
            let state = ServerFlavorModel::of_server(server);
            if !found.send(identity, display_name, &state).await {
                return Ok(());
            }
        }
        if let Some(wanted) = &wanted {
            let on = servers.iter().map(|s| s.server_id.as_str()).collect();
            if let Some(d) = missing_servers(wanted, &on) {
                found.note(d.into()).await;
            }
        }
        Ok(())
    }
}

//! Data source `cph_servers`: the project's cloud phone servers, filtered
//! the way list-servers filters (name by substring, id, network, phone
//! flavor, creation time, status), with each server's phone count, so that
//! nobody pastes server ids by hand. Paged reads only: the server listing
//! and one listing of the project's phones for the counts, never a call per
//! server.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use super::Shared;
use super::common::{api_error, cph_id};
use crate::cph::models::{Server, ServerQuery};
use tf_framework::typed::DataSourceType;
use tf_framework::*;

/// The networks list-servers knows.
const NETWORK_VERSIONS: &[(&str, &str)] = &[
    ("v1", "servers on a system-defined network"),
    ("v2", "servers on a custom network"),
];

tf_framework::model! {
    /// One server found.
    pub struct ServerEntry {
        server_id: String = computed("Id of the server."),
        server_name: String = computed("Name of the server."),
        server_model_name: String = computed("Server flavor."),
        phone_model_name: String = computed("Phone flavor."),
        status: i64 = computed("Server status code (5 = normal)."),
        availability_zone: String = computed("Availability zone."),
        phone_count: i64 = computed("Number of phones on the server."),
    }
}

tf_framework::model! {
    /// The configuration and result of `data.cph_servers`.
    pub struct ServersDataModel {
        id: String = computed("Identifier of this query."),
        server_name: String = optional("Only servers whose name contains this text (CPH matches by substring)."),
        server_id: String = optional("Only the server with this id.").validate(cph_id()),
        network_version: String = optional("Only servers on this kind of network.")
            .validate(one_of(NETWORK_VERSIONS)),
        phone_model_name: String = optional("Only servers of this phone flavor."),
        create_since: i64 = optional("Only servers created at or after this Unix time (seconds)."),
        create_until: i64 = optional("Only servers created at or before this Unix time (seconds)."),
        status: i64 = optional("Only servers with this status code (5 = normal)."),
        servers: Vec<ServerEntry> = computed("The servers found, by id."),
        server_ids: Vec<String> = computed("The ids of the servers found, sorted."),
    }
}

impl ServersDataModel {
    fn query(&self) -> ServerQuery {
        let text = |t: &Tf<String>| t.as_str().map(str::to_string);
        ServerQuery {
            server_name: text(&self.server_name),
            server_id: text(&self.server_id),
            network_version: text(&self.network_version),
            phone_model_name: text(&self.phone_model_name),
            create_since: self.create_since.known().copied(),
            create_until: self.create_until.known().copied(),
            status: self.status.known().and_then(|s| i32::try_from(*s).ok()),
        }
    }
}

fn entry(s: &Server, phones: &BTreeMap<&str, i64>) -> ServerEntry {
    ServerEntry {
        server_id: s.server_id.as_str().into(),
        server_name: s.server_name.as_str().into(),
        server_model_name: s.server_model_name.as_str().into(),
        phone_model_name: s.phone_model_name.as_str().into(),
        status: Tf::Known(s.status.into()),
        availability_zone: s.availability_zone.as_str().into(),
        phone_count: Tf::Known(phones.get(s.server_id.as_str()).copied().unwrap_or(0)),
    }
}

pub struct ServersData {
    shared: Arc<Shared>,
}

impl ServersData {
    pub fn new(shared: Arc<Shared>) -> ServersData {
        ServersData { shared }
    }
}

#[async_trait]
impl DataSourceType for ServersData {
    type Model = ServersDataModel;
    const TYPE_NAME: &'static str = "cph_servers";
    const DESCRIPTION: &'static str =
        "The cloud phone servers of the project, optionally filtered, with their phone counts.";

    async fn read(
        &self,
        ctx: &CallContext,
        config: ServersDataModel,
        diags: &mut Diagnostics,
    ) -> ServersDataModel {
        let Some(client) = self.shared.client_or_report(ctx, diags) else {
            return config;
        };
        let mut servers = match client.list_all_servers(&config.query()).await {
            Ok(s) => s,
            Err(e) => {
                diags.push(api_error("list the cloud phone servers", &e));
                return config;
            }
        };
        servers.sort_by(|a, b| a.server_id.cmp(&b.server_id));
        let phones = if servers.is_empty() {
            Arc::new(Vec::new())
        } else {
            match self
                .shared
                .fleet()
                .phone_listings()
                .phones(&client, None)
                .await
            {
                Ok(p) => p,
                Err(e) => {
                    diags.push(api_error("list the cloud phones of the project", &e));
                    return config;
                }
            }
        };
        let mut counts: BTreeMap<&str, i64> = BTreeMap::new();
        for p in phones.iter() {
            *counts.entry(p.server_id.as_str()).or_default() += 1;
        }
        let id = format!("servers:{}", servers.len());
        ServersDataModel {
            id: id.into(),
            servers: Tf::Known(servers.iter().map(|s| entry(s, &counts)).collect()),
            server_ids: Tf::Known(servers.iter().map(|s| s.server_id.clone()).collect()),
            ..config
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_become_the_query() {
        let m = ServersDataModel {
            server_name: "farm".into(),
            status: Tf::Known(5),
            ..Default::default()
        };
        let q = m.query();
        assert_eq!(q.server_name.as_deref(), Some("farm"));
        assert_eq!(q.status, Some(5));
        assert_eq!(q.server_id, None);
    }
}

//! The `cph_phone_route` list resource: every cloud phone of the project (or
//! of the servers named), on either route, in groups of one server and one
//! route. Each group is listed by identity `{ id = "<server_id>/<route>" }`
//! with its phones as state, so that `terraform query -generate-config-out`
//! writes `cph_phone_route` blocks that together cover every phone, each with
//! its import block.
//!
//! Why these groups: a group must be found again from its identity alone
//! (import by identity), must not overlap another (a phone in two resources
//! is an error), and must stay one resource as phones come and go. The
//! server and the route name such a group; phone ids or a digest of them do
//! not survive a phone being added. The identity is the resource's `id`,
//! which never changes after adoption, whatever the resource later holds.
//!
//! Reads stay at the API floor: the phone list, paged (per named server when
//! filtered), never one call per phone.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_trait::async_trait;

use super::Shared;
use super::common::api_error;
use super::common::cph_id;
use super::list_server_flavor::missing_servers;
use super::phone_route::{
    PhoneRouteIdentity, PhoneRouteModel, PhoneRouteResource, TRAFFIC_TYPES, group_id,
};
use crate::cph::Client;
use crate::cph::models::{Phone, PhoneQuery};
use tf_framework::typed::{Found, ListResourceType, ResourceType};
use tf_framework::*;

tf_framework::model! {
    /// The `config` block of `list "cph_phone_route"`.
    pub struct PhoneRouteListConfig {
        server_ids: BTreeSet<String> = optional("Only the phones of these servers. Unset: every phone of the project.")
            .validate(each(cph_id())),
        traffic_type: String = optional("Only the phones on this route: `direct` or `routing`. Unset: both.")
            .validate(one_of(TRAFFIC_TYPES)),
    }
}

pub struct PhoneRouteList {
    shared: Arc<Shared>,
}

impl PhoneRouteList {
    pub fn new(shared: Arc<Shared>) -> PhoneRouteList {
        PhoneRouteList { shared }
    }
}

/// The phones grouped by server and route, in a stable order.
pub fn groups<'a>(
    phones: impl IntoIterator<Item = &'a Phone>,
    route: Option<&str>,
) -> BTreeMap<(String, String), BTreeSet<String>> {
    let mut groups: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for p in phones {
        if route.is_some_and(|r| r != p.traffic_type) {
            continue;
        }
        groups
            .entry((p.server_id.clone(), p.traffic_type.clone()))
            .or_default()
            .insert(p.phone_id.clone());
    }
    groups
}

#[async_trait]
impl ListResourceType for PhoneRouteList {
    type Config = PhoneRouteListConfig;
    type Identity = PhoneRouteIdentity;
    type State = PhoneRouteModel;

    fn type_name(&self) -> &'static str {
        PhoneRouteResource::TYPE_NAME
    }

    fn description(&self) -> &'static str {
        "Lists the project's cloud phones in groups of one server and one route, one `cph_phone_route` per group, by identity `{ id = \"<server_id>/<traffic_type>\" }`."
    }

    async fn list(
        &self,
        ctx: &CallContext,
        config: PhoneRouteListConfig,
        found: &mut Found<'_, PhoneRouteIdentity, PhoneRouteModel>,
    ) -> Result<(), Diagnostics> {
        let client = self.shared.client(ctx)?;
        let wanted = config.server_ids.known().cloned();
        let phones = phones_of(&client, wanted.as_ref()).await?;
        for ((server_id, route), ids) in groups(&phones, config.traffic_type.as_str()) {
            let identity = PhoneRouteIdentity {
                id: group_id(&server_id, &route).into(),
            };
            let display_name = format!(
                "{} phone{} of server {server_id} on route {route}",
                ids.len(),
                if ids.len() == 1 { "" } else { "s" }
            );
            let state = PhoneRouteModel::adopted(&server_id, &route, ids);
            if !found.send(identity, display_name, &state).await {
                return Ok(());
            }
        }
        if let Some(wanted) = &wanted {
            let on = phones.iter().map(|p| p.server_id.as_str()).collect();
            if let Some(d) = missing_servers(wanted, &on) {
                found.note(d.into()).await;
            }
        }
        Ok(())
    }
}

/// The phones of the project, or of the servers named, paged.
async fn phones_of(
    client: &Client,
    servers: Option<&BTreeSet<String>>,
) -> Result<Vec<Phone>, Diagnostic> {
    let Some(servers) = servers else {
        return client
            .list_all_phones(&PhoneQuery::default())
            .await
            .map_err(|e| api_error("list the cloud phones", &e));
    };
    let mut all = Vec::new();
    for server_id in servers {
        let query = PhoneQuery {
            server_id: Some(server_id.clone()),
            ..Default::default()
        };
        let phones = client
            .list_all_phones(&query)
            .await
            .map_err(|e| api_error(&format!("list the cloud phones of server {server_id}"), &e))?;
        all.extend(phones);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(id: &str, server: &str, route: &str) -> Phone {
        Phone {
            phone_id: id.into(),
            server_id: server.into(),
            traffic_type: route.into(),
            ..Default::default()
        }
    }

    #[test]
    fn phones_group_by_server_and_route_and_cover_every_phone() {
        let phones = [
            phone("p1", "s1", "direct"),
            phone("p2", "s1", "routing"),
            phone("p3", "s1", "direct"),
            phone("p4", "s2", "direct"),
        ];
        let g = groups(&phones, None);
        assert_eq!(g.len(), 3);
        assert_eq!(
            g[&("s1".to_string(), "direct".to_string())],
            BTreeSet::from(["p1".to_string(), "p3".to_string()])
        );
        assert_eq!(g.values().map(BTreeSet::len).sum::<usize>(), 4);
        let routed = groups(&phones, Some("routing"));
        assert_eq!(routed.len(), 1);
    }

    #[test]
    fn an_adopted_group_is_found_again_by_its_identity() {
        let m = PhoneRouteModel::adopted("s1", "routing", BTreeSet::from(["p2".to_string()]));
        assert_eq!(m.id.as_str(), Some("s1/routing"));
        assert_eq!(m.traffic_type.as_str(), Some("routing"));
    }
}

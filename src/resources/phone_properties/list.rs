//! The `cph_phone_properties` list resource (`terraform query`): the phones
//! of the project (or of the servers named) that hold every key in `keys`,
//! in groups of one server and one set of values. Each group is listed by
//! identity `{ id = "<phone ids>/<keys>" }` (the import id, so import by
//! identity finds it again) with its state, so `-generate-config-out` writes
//! one `cph_phone_properties` per group, each adopting what the phones hold.
//!
//! Cost: the phone listing (paged), then one show-phone read per phone,
//! since CPH gives properties only per phone.

use std::collections::{BTreeMap, BTreeSet};

use super::calls::{self, Seen};
use super::*;
use crate::cph::Client;
use crate::cph::models::PhoneQuery;
use crate::resources::common::api_error;
use tf_framework::typed::{Found, ListResourceType};

tf_framework::model! {
    /// The `config` block of `list "cph_phone_properties"`.
    pub struct PhonePropertiesListConfig {
        keys: BTreeSet<String> = required("The property keys to adopt: phones that hold every one are listed, grouped by server and values.")
            .validate(size_at_least(1)),
        server_ids: BTreeSet<String> = optional("Only the phones of these servers. Unset: every phone of the project.")
            .validate(each(cph_id())),
    }
}

pub struct PhonePropertiesList {
    shared: Arc<Shared>,
}

impl PhonePropertiesList {
    pub fn new(shared: Arc<Shared>) -> PhonePropertiesList {
        PhonePropertiesList { shared }
    }
}

type Groups = BTreeMap<(String, BTreeMap<String, String>), BTreeSet<String>>;

/// Phones (by server) that hold every key, grouped by server and values.
fn groups(
    servers: &BTreeMap<String, String>,
    seen: &BTreeMap<String, Seen>,
    keys: &BTreeSet<String>,
) -> Groups {
    let mut out = Groups::new();
    for (phone, seen) in seen {
        let Seen::Properties(props) = seen else {
            continue;
        };
        let values: BTreeMap<String, String> = keys
            .iter()
            .filter_map(|k| props.get(k).map(|v| (k.clone(), v.clone())))
            .collect();
        if values.len() != keys.len() {
            continue;
        }
        let server = servers.get(phone).cloned().unwrap_or_default();
        out.entry((server, values))
            .or_default()
            .insert(phone.clone());
    }
    out
}

/// Phone id -> server id, of the project or of the servers named.
async fn phone_servers(
    client: &Client,
    servers: Option<&BTreeSet<String>>,
) -> Result<BTreeMap<String, String>, Diagnostic> {
    let queries: Vec<PhoneQuery> = match servers {
        None => vec![PhoneQuery::default()],
        Some(s) => s
            .iter()
            .map(|id| PhoneQuery {
                server_id: Some(id.clone()),
                ..Default::default()
            })
            .collect(),
    };
    let mut out = BTreeMap::new();
    for q in queries {
        let phones = client
            .list_all_phones(&q)
            .await
            .map_err(|e| api_error("list the cloud phones", &e))?;
        out.extend(phones.into_iter().map(|p| (p.phone_id, p.server_id)));
    }
    Ok(out)
}

#[async_trait]
impl ListResourceType for PhonePropertiesList {
    type Config = PhonePropertiesListConfig;
    type Identity = PhonePropertiesIdentity;
    type State = PhonePropertiesModel;

    fn type_name(&self) -> &'static str {
        PhonePropertiesResource::TYPE_NAME
    }

    fn description(&self) -> &'static str {
        "Lists the phones that hold every key in `keys`, one `cph_phone_properties` per server and set of values, by identity `{ id = \"<phone ids>/<keys>\" }`. Costs one show-phone read per phone."
    }

    async fn list(
        &self,
        ctx: &CallContext,
        config: PhonePropertiesListConfig,
        found: &mut Found<'_, PhonePropertiesIdentity, PhonePropertiesModel>,
    ) -> Result<(), Diagnostics> {
        let client = self.shared.client(ctx)?;
        let keys = config.keys.known().cloned().unwrap_or_default();
        let servers = phone_servers(&client, config.server_ids.known()).await?;
        let phones: BTreeSet<String> = servers.keys().cloned().collect();
        let seen = calls::read(&client, &phones).await.map_err(|e| {
            Diagnostics::from(Diagnostic::error(
                "Cannot read the phones' properties",
                e.to_string(),
            ))
        })?;
        for ((server, values), ids) in groups(&servers, &seen, &keys) {
            let display_name = format!(
                "{} phone{} of server {server} with {}",
                ids.len(),
                if ids.len() == 1 { "" } else { "s" },
                values
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let state = import::imported(ids, &keys, values);
            let identity = PhonePropertiesIdentity {
                id: state.id.clone(),
            };
            if !found.send(identity, display_name, &state).await {
                return Ok(());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_group_by_server_and_values_and_need_every_key() {
        let props = |v: &[(&str, &str)]| {
            Seen::Properties(
                v.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        };
        let seen = BTreeMap::from([
            ("p1".to_string(), props(&[("k", "1"), ("other", "x")])),
            ("p2".to_string(), props(&[("k", "1")])),
            ("p3".to_string(), props(&[("k", "2")])),
            ("p4".to_string(), props(&[])),
            ("p5".to_string(), Seen::Gone),
        ]);
        let servers = ["p1", "p2", "p3", "p4", "p5"]
            .iter()
            .map(|p| (p.to_string(), "s1".to_string()))
            .collect();
        let keys = BTreeSet::from(["k".to_string()]);
        let g = groups(&servers, &seen, &keys);
        assert_eq!(g.len(), 2);
        let one = BTreeMap::from([("k".to_string(), "1".to_string())]);
        assert_eq!(
            g[&("s1".to_string(), one)],
            BTreeSet::from(["p1".to_string(), "p2".to_string()])
        );
    }
}

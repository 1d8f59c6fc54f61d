//! Data source `cph_phones`: the phones of a server, or of the whole project
//! when no server is given (one paged listing, never a call per server),
//! optionally filtered by id, name, status and route, so that nobody pastes
//! phone ids by hand.

use std::sync::Arc;

use async_trait::async_trait;

use super::Shared;
use super::common::TRAFFIC_TYPES;
use super::common::{api_error_at, cph_id, server_gone};
use crate::cph::models::Phone;
use tf_framework::typed::DataSourceType;
use tf_framework::*;

tf_framework::model! {
    /// One phone found.
    pub struct PhoneEntry {
        phone_id: String = computed("Id of the phone."),
        phone_name: String = computed("Name of the phone."),
        server_id: String = computed("Server of the phone."),
        phone_model_name: String = computed("Phone flavor."),
        status: i64 = computed("Status code (2 = running)."),
        traffic_type: String = computed("Route: `direct` or `routing`."),
    }
}

tf_framework::model! {
    /// The configuration and result of `data.cph_phones`.
    pub struct PhonesDataModel {
        id: String = computed("Identifier of this query."),
        server_id: String = optional("Id of the cloud phone server. A server that does not exist has no phones (the read warns). Unset: every phone of the project, in one paged listing.").validate(cph_id()),
        phone_id: String = optional("Only the phone with this id."),
        phone_name: String = optional("Only phones with this name."),
        status: i64 = optional("Only phones with this status code (2 = running)."),
        traffic_type: String = optional("Only phones on this route (`direct` or `routing`).")
            .validate(one_of(TRAFFIC_TYPES)),
        phones: Vec<PhoneEntry> = computed("The phones found."),
        phone_ids: Vec<String> = computed("The ids of the phones found, sorted."),
    }
}

impl PhonesDataModel {
    fn selects(&self, p: &Phone) -> bool {
        self.phone_id.as_str().is_none_or(|id| p.phone_id == id)
            && self.phone_name.as_str().is_none_or(|n| p.phone_name == n)
            && self
                .status
                .known()
                .is_none_or(|s| i64::from(p.status) == *s)
            && self
                .traffic_type
                .as_str()
                .is_none_or(|r| p.traffic_type == r)
    }
}

impl From<&Phone> for PhoneEntry {
    fn from(p: &Phone) -> PhoneEntry {
        PhoneEntry {
            phone_id: p.phone_id.as_str().into(),
            phone_name: p.phone_name.as_str().into(),
            server_id: p.server_id.as_str().into(),
            phone_model_name: p.phone_model_name.as_str().into(),
            status: Tf::Known(p.status.into()),
            traffic_type: p.traffic_type.as_str().into(),
        }
    }
}

pub struct PhonesData {
    shared: Arc<Shared>,
}

impl PhonesData {
    pub fn new(shared: Arc<Shared>) -> PhonesData {
        PhonesData { shared }
    }
}

impl PhonesData {
    /// Every phone of the project, filtered: one paged listing.
    async fn read_project(
        &self,
        client: &crate::cph::Client,
        config: PhonesDataModel,
        diags: &mut Diagnostics,
    ) -> PhonesDataModel {
        let listings = self.shared.fleet().phone_listings();
        let phones = match listings.phones(client, None).await {
            Ok(p) => p,
            Err(e) => {
                diags.push(super::common::api_error(
                    "list the cloud phones of the project",
                    &e,
                ));
                return config;
            }
        };
        selected(config, "project".to_string(), &phones)
    }
}

/// The result: the phones `config` selects among `phones`, by id.
fn selected(config: PhonesDataModel, id: String, phones: &[Phone]) -> PhonesDataModel {
    let mut selected: Vec<&Phone> = phones.iter().filter(|p| config.selects(p)).collect();
    selected.sort_by(|a, b| a.phone_id.cmp(&b.phone_id));
    PhonesDataModel {
        id: id.into(),
        phones: Tf::Known(selected.iter().map(|p| PhoneEntry::from(*p)).collect()),
        phone_ids: Tf::Known(selected.iter().map(|p| p.phone_id.clone()).collect()),
        ..config
    }
}

#[async_trait]
impl DataSourceType for PhonesData {
    type Model = PhonesDataModel;
    const TYPE_NAME: &'static str = "cph_phones";
    const DESCRIPTION: &'static str =
        "The cloud phones of a server or of the whole project, optionally filtered.";

    async fn read(
        &self,
        ctx: &CallContext,
        config: PhonesDataModel,
        diags: &mut Diagnostics,
    ) -> PhonesDataModel {
        let Some(client) = self.shared.client_or_report(ctx, diags) else {
            return config;
        };
        let Some(server_id) = config.server_id.as_str().map(str::to_string) else {
            return self.read_project(&client, config, diags).await;
        };
        let phones = match self.shared.server_phones(&client, &server_id).await {
            Ok(p) => p,
            Err(e) if e.is_not_found() => {
                diags.push(server_gone(&server_id, &e));
                Arc::new(Vec::new())
            }
            Err(e) => {
                let doing = format!("list the phones of server {server_id:?}");
                diags.push(api_error_at(&doing, &e, AttributePath::root("server_id")));
                return config;
            }
        };
        if phones.is_empty()
            && let Err(e) = client.show_server(&server_id).await
            && e.is_not_found()
        {
            diags.push(server_gone(&server_id, &e));
        }
        selected(config, server_id, &phones)
    }
}

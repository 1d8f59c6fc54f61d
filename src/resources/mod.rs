//! Where Terraform meets CPH: the provider block, the resources, data
//! sources, list resources, actions and ephemeral resources, each in its own file, written
//! against `tf_framework`, `cph` and the fleet engine (`crate::fleet`, where
//! the rules the resources share live). A resource file holds its model,
//! its declared behaviour and the decisions that are its own; what several
//! share is in [`common`] (ids, import ids, deadlines, diagnostics),
//! `action_batch` (the actions), `provider_config` (the provider block and
//! its precedence) and `provider` (the client and engine).

use std::sync::Arc;

use tf_framework::typed::{data_source, resource};
use tf_framework::{DataSource, ListResource, Provider, Resource};

pub mod action_batch;
pub mod action_phone_command;
pub mod action_phone_reset;
pub mod action_phone_restart;
pub mod action_phone_stop;
pub mod action_server_restart;
pub mod common;
pub mod data_phones;
pub mod data_server;
pub mod data_server_flavor_options;
pub mod data_servers;
pub mod ephemeral_phone_connection;
pub mod list_phone_route;
pub mod list_server_flavor;
pub mod phone_properties;
pub mod phone_route;
pub mod provider;
pub mod provider_config;
pub mod schemas;
pub mod server_flavor;

pub use provider::{CphProvider, Shared};
// The routing engine lives in `crate::fleet`; resources reach it under these names.
pub use crate::fleet::{phone_cache, routing};

/// The provider the binary serves.
pub fn provider() -> Arc<dyn Provider> {
    Arc::new(CphProvider::new())
}

/// Every resource type, one line each.
fn all_resources(shared: &Arc<Shared>) -> Vec<Arc<dyn Resource>> {
    vec![
        resource(server_flavor::ServerFlavorResource::new(shared.clone())),
        resource(phone_route::PhoneRouteResource::new(shared.clone())),
        resource(phone_properties::PhonePropertiesResource::new(
            shared.clone(),
        )),
    ]
}

/// Every data source type, one line each.
fn all_data_sources(shared: &Arc<Shared>) -> Vec<Arc<dyn DataSource>> {
    vec![
        data_source(data_server::ServerData::new(shared.clone())),
        data_source(data_phones::PhonesData::new(shared.clone())),
        data_source(data_servers::ServersData::new(shared.clone())),
        data_source(data_server_flavor_options::ServerFlavorOptionsData::new(
            shared.clone(),
        )),
    ]
}

/// Every list resource type (`terraform query`), one line each.
fn all_list_resources(shared: &Arc<Shared>) -> Vec<Arc<dyn ListResource>> {
    vec![
        tf_framework::typed::list_resource(list_server_flavor::ServerFlavorList::new(
            shared.clone(),
        )),
        tf_framework::typed::list_resource(list_phone_route::PhoneRouteList::new(shared.clone())),
        tf_framework::typed::list_resource(phone_properties::PhonePropertiesList::new(
            shared.clone(),
        )),
    ]
}

/// Every ephemeral resource type (Terraform 1.10+), one line each.
fn all_ephemeral_resources(shared: &Arc<Shared>) -> Vec<Arc<dyn tf_framework::EphemeralResource>> {
    vec![tf_framework::ephemeral_resource(
        ephemeral_phone_connection::PhoneConnection::new(shared.clone()),
    )]
}

/// Every action type, one line each (batch actions share the fleet's
/// batcher, so that concurrent invocations merge their calls).
fn all_actions(shared: &Arc<Shared>) -> Vec<Arc<dyn tf_framework::Action>> {
    use action_batch::batch_action;
    vec![
        batch_action(action_phone_restart::PhoneRestart, shared),
        batch_action(action_phone_reset::PhoneReset, shared),
        batch_action(action_phone_stop::PhoneStop, shared),
        batch_action(action_server_restart::ServerRestart, shared),
        batch_action(action_phone_command::PhoneCommand, shared),
    ]
}

//! Where Terraform meets CPH: the provider block, the resources and the data
//! sources, each in its own file, written against `plugin` and `cph`.

use std::sync::Arc;

use tf_framework::{DataSource, Provider, Resource};

pub mod common;
pub mod data_phones;
pub mod data_server;
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

fn all_resources(shared: &Arc<Shared>) -> Vec<Arc<dyn Resource>> {
    vec![
        Arc::new(server_flavor::ServerFlavor::new(shared.clone())),
        Arc::new(phone_route::PhoneRoute::new(shared.clone())),
    ]
}

fn all_data_sources(shared: &Arc<Shared>) -> Vec<Arc<dyn DataSource>> {
    vec![
        Arc::new(data_server::ServerData::new(shared.clone())),
        Arc::new(data_phones::PhonesData::new(shared.clone())),
    ]
}

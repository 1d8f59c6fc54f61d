//! Where Terraform meets CPH: the provider block, the resources and the data
//! sources, each in its own file, written against `plugin` and `cph`.

use std::sync::Arc;

use crate::plugin::{DataSource, Provider, Resource};

pub mod provider;
pub mod provider_config;
pub mod schemas;
mod stub;

pub use provider::{CphProvider, Shared};

/// The provider the binary serves.
pub fn provider() -> Arc<dyn Provider> {
    Arc::new(CphProvider::new())
}

fn all_resources(shared: &Arc<Shared>) -> Vec<Arc<dyn Resource>> {
    vec![
        Arc::new(stub::StubResource {
            name: "cph_server_flavor",
            schema: schemas::server_flavor,
            _shared: shared.clone(),
        }),
        Arc::new(stub::StubResource {
            name: "cph_phone_route",
            schema: schemas::phone_route,
            _shared: shared.clone(),
        }),
    ]
}

fn all_data_sources(shared: &Arc<Shared>) -> Vec<Arc<dyn DataSource>> {
    vec![
        Arc::new(stub::StubData {
            name: "cph_server",
            schema: schemas::server_data,
            _shared: shared.clone(),
        }),
        Arc::new(stub::StubData {
            name: "cph_phones",
            schema: schemas::phones_data,
            _shared: shared.clone(),
        }),
    ]
}

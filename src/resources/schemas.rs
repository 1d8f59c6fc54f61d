//! The schemas of the provider block, the resources and the data sources,
//! as Terraform gets them (for the docs generator, tests and benches). Each
//! is taken from the object that serves the type, so that a schema version
//! is stated once: in its `ResourceType`.

use std::sync::Arc;

use tf_framework::Schema;
use tf_framework::typed::schema_of;
use tf_framework::typed::{data_source, resource};

use super::Shared;
use super::data_phones::PhonesData;
use super::data_server::ServerData;
use super::phone_route::PhoneRouteResource;
use super::provider::ProviderModel;
use super::server_flavor::ServerFlavorResource;

pub fn provider() -> Schema {
    schema_of::<ProviderModel>("Huawei Cloud Cloud Phone Host (CPH).")
}

/// A fresh, unconfigured [`Shared`] for the objects whose schemas are read.
fn shared() -> Arc<Shared> {
    Arc::new(Shared::default())
}

pub fn server_flavor() -> Schema {
    resource(ServerFlavorResource::new(shared())).schema()
}

pub fn phone_route() -> Schema {
    resource(PhoneRouteResource::new(shared())).schema()
}

pub fn server_data() -> Schema {
    data_source(ServerData::new(shared())).schema()
}

pub fn phones_data() -> Schema {
    data_source(PhonesData::new(shared())).schema()
}

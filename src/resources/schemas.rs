//! The schemas of the provider block, the resources and the data sources,
//! as their models declare them (for the docs generator, tests and benches).

use tf_framework::Schema;
use tf_framework::typed::schema_of;
use tf_framework::typed::{DataSourceType, ResourceType};

use super::data_phones::PhonesData;
use super::data_server::ServerData;
use super::phone_route::PhoneRoute;
use super::provider::ProviderModel;
use super::server_flavor::ServerFlavor;

pub fn provider() -> Schema {
    schema_of::<ProviderModel>("Huawei Cloud Cloud Phone Host (CPH).")
}

pub fn server_flavor() -> Schema {
    schema_of::<<ServerFlavor as ResourceType>::Model>(ServerFlavor::DESCRIPTION)
}

pub fn phone_route() -> Schema {
    Schema {
        version: PhoneRoute::SCHEMA_VERSION,
        ..schema_of::<<PhoneRoute as ResourceType>::Model>(PhoneRoute::DESCRIPTION)
    }
}

pub fn server_data() -> Schema {
    schema_of::<<ServerData as DataSourceType>::Model>(ServerData::DESCRIPTION)
}

pub fn phones_data() -> Schema {
    schema_of::<<PhonesData as DataSourceType>::Model>(PhonesData::DESCRIPTION)
}

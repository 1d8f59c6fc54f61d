//! Data source `cph_server`: one cloud phone server's flavors, status, name
//! and zone, by id.

use std::sync::Arc;

use async_trait::async_trait;

use super::common::{api_error_at, validate_name};
use super::{Shared, schemas};
use tf_framework::*;

pub struct ServerData {
    shared: Arc<Shared>,
}

impl ServerData {
    pub fn new(shared: Arc<Shared>) -> ServerData {
        ServerData { shared }
    }
}

#[async_trait]
impl DataSource for ServerData {
    fn type_name(&self) -> &'static str {
        "cph_server"
    }

    fn schema(&self) -> Schema {
        schemas::server_data()
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        validate_name(config, "server_id", 64, &mut diags);
        diags
    }

    async fn read(&self, ctx: &CallContext, config: Value) -> DataReadResponse {
        let client = match self.shared.client(ctx) {
            Ok(c) => c,
            Err(diagnostics) => {
                return DataReadResponse {
                    state: config,
                    diagnostics,
                };
            }
        };
        let server_id = config.get_str("server_id").unwrap_or_default().to_string();
        let server = match client.show_server(&server_id).await {
            Ok(s) => s,
            Err(e) => {
                let doing = format!("read cloud phone server {server_id:?}");
                return DataReadResponse {
                    state: config,
                    diagnostics: api_error_at(&doing, &e, AttributePath::root("server_id")).into(),
                };
            }
        };
        let mut state = config;
        state.set_attr("id", Value::string(&server.server_id));
        state.set_attr("server_name", Value::string(&server.server_name));
        state.set_attr(
            "server_model_name",
            Value::string(&server.server_model_name),
        );
        state.set_attr("phone_model_name", Value::string(&server.phone_model_name));
        state.set_attr("status", Value::Number(Number::Int(server.status.into())));
        state.set_attr(
            "availability_zone",
            Value::string(&server.availability_zone),
        );
        state.set_attr("create_time", Value::string(&server.create_time));
        state.set_attr("update_time", Value::string(&server.update_time));
        DataReadResponse {
            state,
            ..Default::default()
        }
    }
}

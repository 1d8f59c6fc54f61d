//! Data source `cph_server`: one cloud phone server's flavors, status, name
//! and zone, by id.

use std::sync::Arc;

use async_trait::async_trait;

use super::Shared;
use super::common::{api_error_at, cph_id, server_gone};
use tf_framework::typed::DataSourceType;
use tf_framework::*;

tf_framework::model! {
    /// The configuration and result of `data.cph_server`.
    pub struct ServerDataModel {
        id: String = computed("Same as `server_id`."),
        server_id: String = required("Id of the cloud phone server.").validate(cph_id()),
        exists: bool = computed("False when the server does not exist (then the other attributes are null, and the read warns)."),
        server_name: String = computed("Name of the server."),
        server_model_name: String = computed("Server flavor."),
        phone_model_name: String = computed("Phone flavor."),
        status: i64 = computed("Server status code (5 = normal)."),
        availability_zone: String = computed("Availability zone."),
        create_time: String = computed("Creation time."),
        update_time: String = computed("Last update time."),
    }
}

pub struct ServerData {
    shared: Arc<Shared>,
}

impl ServerData {
    pub fn new(shared: Arc<Shared>) -> ServerData {
        ServerData { shared }
    }
}

#[async_trait]
impl DataSourceType for ServerData {
    type Model = ServerDataModel;
    const TYPE_NAME: &'static str = "cph_server";
    const DESCRIPTION: &'static str = "A cloud phone server.";

    async fn read(
        &self,
        ctx: &CallContext,
        config: ServerDataModel,
        diags: &mut Diagnostics,
    ) -> ServerDataModel {
        let Some(client) = self.shared.client_or_report(ctx, diags) else {
            return config;
        };
        let server_id = config.server_id.as_str().unwrap_or_default().to_string();
        let server = match client.show_server(&server_id).await {
            Ok(s) => s,
            // A server deleted outside Terraform must not block a plan or a
            // destroy of what was built on it: say so, and answer "none".
            Err(e) if e.is_not_found() => {
                diags.push(server_gone(&server_id, &e));
                return ServerDataModel {
                    id: config.server_id.clone(),
                    server_id: config.server_id,
                    exists: Tf::Known(false),
                    ..Default::default()
                };
            }
            Err(e) => {
                let doing = format!("read cloud phone server {server_id:?}");
                diags.push(api_error_at(&doing, &e, AttributePath::root("server_id")));
                return config;
            }
        };
        ServerDataModel {
            id: server.server_id.as_str().into(),
            server_id: config.server_id,
            exists: Tf::Known(true),
            server_name: server.server_name.into(),
            server_model_name: server.server_model_name.into(),
            phone_model_name: server.phone_model_name.into(),
            status: Tf::Known(server.status.into()),
            availability_zone: server.availability_zone.into(),
            create_time: server.create_time.into(),
            update_time: server.update_time.into(),
        }
    }
}

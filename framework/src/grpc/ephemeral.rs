//! Ephemeral resources: none are served; the RPCs answer as Terraform
//! expects of a provider without them.

use super::*;

impl ProviderService {
    pub(super) async fn validate_ephemeral_resource_config_rpc(
        &self,
        req: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Result<Response<pb::validate_ephemeral_resource_config::Response>, Status> {
        let name = req.into_inner().type_name;
        let diagnostics = guarded(
            "ValidateEphemeralResourceConfig",
            async { Err(unknown_type(&self.name, "ephemeral resource type", &name)) },
            |d| toproto::diagnostics(&d),
        )
        .await;
        Ok(Response::new(
            pb::validate_ephemeral_resource_config::Response { diagnostics },
        ))
    }

    pub(super) async fn open_ephemeral_resource_rpc(
        &self,
        _req: Request<pb::open_ephemeral_resource::Request>,
    ) -> Result<Response<pb::open_ephemeral_resource::Response>, Status> {
        answer("OpenEphemeralResource", async {
            Err(not_supported(&self.name, "Ephemeral resources"))
        })
        .await
    }

    pub(super) async fn renew_ephemeral_resource_rpc(
        &self,
        _req: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Result<Response<pb::renew_ephemeral_resource::Response>, Status> {
        answer("RenewEphemeralResource", async {
            Err(not_supported(&self.name, "Ephemeral resources"))
        })
        .await
    }

    pub(super) async fn close_ephemeral_resource_rpc(
        &self,
        _req: Request<pb::close_ephemeral_resource::Request>,
    ) -> Result<Response<pb::close_ephemeral_resource::Response>, Status> {
        answer("CloseEphemeralResource", async {
            Err(not_supported(&self.name, "Ephemeral resources"))
        })
        .await
    }
}

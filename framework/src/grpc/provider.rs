//! The provider-level RPCs: metadata, schemas, provider configuration
//! (prepare and configure) and `StopProvider`.

use super::*;

impl ProviderService {
    pub(super) async fn get_metadata_rpc(
        &self,
        _req: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        tracing::debug!(rpc = "GetMetadata", "call");
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(Self::capabilities()),
            diagnostics: vec![],
            data_sources: self
                .data_sources
                .keys()
                .map(|k| pb::get_metadata::DataSourceMetadata {
                    type_name: k.clone(),
                })
                .collect(),
            resources: self
                .resources
                .keys()
                .map(|k| pb::get_metadata::ResourceMetadata {
                    type_name: k.clone(),
                })
                .collect(),
            functions: vec![],
            ephemeral_resources: self.ephemerals.metadata(),
            list_resources: self
                .list_resources
                .keys()
                .map(|k| pb::get_metadata::ListResourceMetadata {
                    type_name: k.clone(),
                })
                .collect(),
            actions: self.actions.metadata(),
        }))
    }

    pub(super) async fn get_schema_rpc(
        &self,
        _req: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        tracing::debug!(rpc = "GetProviderSchema", "call");
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(toproto::schema(&self.provider_schema)),
            resource_schemas: self
                .resources
                .iter()
                .map(|(k, r)| (k.clone(), toproto::schema(&r.schema)))
                .collect(),
            data_source_schemas: self
                .data_sources
                .iter()
                .map(|(k, d)| (k.clone(), toproto::schema(&d.schema)))
                .collect(),
            functions: Default::default(),
            ephemeral_resource_schemas: self.ephemerals.schemas(),
            list_resource_schemas: self
                .list_resources
                .iter()
                .map(|(k, l)| (k.clone(), toproto::schema(&l.schema)))
                .collect(),
            action_schemas: self.actions.schemas(),
            diagnostics: toproto::diagnostics(&self.declaration_errors),
            provider_meta: None,
            server_capabilities: Some(Self::capabilities()),
        }))
    }

    pub(super) async fn prepare_provider_config_rpc(
        &self,
        req: Request<pb::prepare_provider_config::Request>,
    ) -> Result<Response<pb::prepare_provider_config::Response>, Status> {
        let req = req.into_inner();
        let ty = self.provider_schema.block.value_type();
        let resp = guarded(
            "PrepareProviderConfig",
            async {
                let config = fromproto::dynamic_value(req.config.as_ref(), &ty)
                    .map_err(|e| bad_input("provider configuration", e))?;
                let diagnostics = self.provider.validate(&config);
                // Terraform 0.12-0.15 use prepared_config as the configuration
                // from then on: hand back exactly what was validated.
                let prepared_config = Some(
                    toproto::dynamic_value(&config, &ty)
                        .map_err(|e| bad_output("provider configuration", e))?,
                );
                Ok(pb::prepare_provider_config::Response {
                    prepared_config,
                    diagnostics: toproto::diagnostics(&diagnostics),
                })
            },
            |d| pb::prepare_provider_config::Response {
                prepared_config: None,
                diagnostics: toproto::diagnostics(&d),
            },
        )
        .await;
        Ok(Response::new(resp))
    }

    pub(super) async fn configure_rpc(
        &self,
        req: Request<pb::configure::Request>,
    ) -> Result<Response<pb::configure::Response>, Status> {
        let req = req.into_inner();
        let ty = self.provider_schema.block.value_type();
        let ctx = self.ctx();
        tracing::info!(terraform_version = %req.terraform_version, "configuring the provider");
        let diags = guarded(
            "ConfigureProvider",
            async {
                let config = fromproto::dynamic_value(req.config.as_ref(), &ty)
                    .map_err(|e| bad_input("provider configuration", e))?;
                Ok(toproto::diagnostics(
                    &self.provider.configure(&ctx, config).await,
                ))
            },
            |d| toproto::diagnostics(&d),
        )
        .await;
        Ok(Response::new(pb::configure::Response {
            diagnostics: diags,
        }))
    }

    pub(super) async fn stop_rpc(
        &self,
        _req: Request<pb::stop::Request>,
    ) -> Result<Response<pb::stop::Response>, Status> {
        tracing::info!("StopProvider: cancelling in-flight calls");
        let mut guard = self.stop.lock().unwrap_or_else(|p| p.into_inner());
        guard.cancel();
        *guard = CancellationToken::new();
        Ok(Response::new(pb::stop::Response {
            error: String::new(),
        }))
    }
}

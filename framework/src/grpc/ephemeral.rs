//! The ephemeral resource RPCs (`ValidateEphemeralResourceConfig`,
//! `OpenEphemeralResource`, `RenewEphemeralResource`,
//! `CloseEphemeralResource`) and the ephemeral parts of `GetMetadata` and
//! `GetProviderSchema`, over the [`EphemeralResource`] trait. A submodule of
//! the gRPC service: it shares its decoding and panic guard. The values an
//! ephemeral resource gives are never logged here (only type names and
//! diagnostics' summaries are).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::*;
use crate::ephemeral::EphemeralResource;

struct EphemeralEntry {
    imp: Arc<dyn EphemeralResource>,
    schema: Schema,
    ty: Type,
}

/// The provider's ephemeral resource types, by name.
pub(crate) struct Ephemerals {
    provider_name: String,
    by_name: BTreeMap<String, EphemeralEntry>,
}

impl Ephemerals {
    pub(crate) fn new(provider_name: &str, provider: &dyn Provider) -> Ephemerals {
        let by_name = provider
            .ephemeral_resources()
            .into_iter()
            .map(|e| {
                let schema = e.schema();
                let ty = schema.block.value_type();
                let entry = EphemeralEntry { imp: e, schema, ty };
                (entry.imp.type_name().to_string(), entry)
            })
            .collect();
        Ephemerals {
            provider_name: provider_name.to_string(),
            by_name,
        }
    }

    pub(crate) fn metadata(&self) -> Vec<pb::get_metadata::EphemeralMetadata> {
        self.by_name
            .keys()
            .map(|k| pb::get_metadata::EphemeralMetadata {
                type_name: k.clone(),
            })
            .collect()
    }

    pub(crate) fn schemas(&self) -> HashMap<String, pb::Schema> {
        self.by_name
            .iter()
            .map(|(k, e)| (k.clone(), toproto::schema(&e.schema)))
            .collect()
    }

    fn entry(&self, name: &str) -> Result<&EphemeralEntry, Diagnostics> {
        (self.by_name.get(name))
            .ok_or_else(|| unknown_type(&self.provider_name, "ephemeral resource type", name))
    }

    /// The type and its configuration.
    fn decode(
        &self,
        name: &str,
        config: Option<&pb::DynamicValue>,
    ) -> Result<(&EphemeralEntry, Value), Diagnostics> {
        let e = self.entry(name)?;
        let config = fromproto::dynamic_value(config, &e.ty)
            .map_err(|err| bad_input("ephemeral resource configuration", err))?;
        Ok((e, config))
    }
}

fn timestamp(t: Option<std::time::SystemTime>) -> Option<prost_types::Timestamp> {
    t.map(prost_types::Timestamp::from)
}

impl ProviderService {
    pub(super) async fn validate_ephemeral_resource_config_rpc(
        &self,
        req: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Result<Response<pb::validate_ephemeral_resource_config::Response>, Status> {
        let req = req.into_inner();
        let diagnostics = guarded(
            "ValidateEphemeralResourceConfig",
            async {
                let (e, config) = self
                    .ephemerals
                    .decode(&req.type_name, req.config.as_ref())?;
                Ok(toproto::diagnostics(&e.imp.validate(&config)))
            },
            |d| toproto::diagnostics(&d),
        )
        .await;
        Ok(Response::new(
            pb::validate_ephemeral_resource_config::Response { diagnostics },
        ))
    }

    pub(super) async fn open_ephemeral_resource_rpc(
        &self,
        req: Request<pb::open_ephemeral_resource::Request>,
    ) -> Result<Response<pb::open_ephemeral_resource::Response>, Status> {
        let req = req.into_inner();
        let ctx = self.ctx();
        let resp = guarded(
            "OpenEphemeralResource",
            async {
                let (e, config) = self
                    .ephemerals
                    .decode(&req.type_name, req.config.as_ref())?;
                let out = e.imp.open(&ctx, config).await;
                let mut diagnostics = out.diagnostics;
                let result = if diagnostics.has_errors() {
                    None
                } else {
                    match toproto::dynamic_value(&out.result, &e.ty) {
                        Ok(v) => Some(v),
                        Err(err) => {
                            diagnostics.extend(bad_output("ephemeral resource result", err));
                            None
                        }
                    }
                };
                Ok(pb::open_ephemeral_resource::Response {
                    diagnostics: toproto::diagnostics(&diagnostics),
                    renew_at: timestamp(out.renew_at),
                    result,
                    private: out.private,
                    deferred: None,
                })
            },
            |d| pb::open_ephemeral_resource::Response {
                diagnostics: toproto::diagnostics(&d),
                ..Default::default()
            },
        )
        .await;
        Ok(Response::new(resp))
    }

    pub(super) async fn renew_ephemeral_resource_rpc(
        &self,
        req: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Result<Response<pb::renew_ephemeral_resource::Response>, Status> {
        let req = req.into_inner();
        let ctx = self.ctx();
        let resp = guarded(
            "RenewEphemeralResource",
            async {
                let e = self.ephemerals.entry(&req.type_name)?;
                let out = e.imp.renew(&ctx, req.private).await;
                Ok(pb::renew_ephemeral_resource::Response {
                    diagnostics: toproto::diagnostics(&out.diagnostics),
                    renew_at: timestamp(out.renew_at),
                    private: out.private,
                })
            },
            |d| pb::renew_ephemeral_resource::Response {
                diagnostics: toproto::diagnostics(&d),
                ..Default::default()
            },
        )
        .await;
        Ok(Response::new(resp))
    }

    pub(super) async fn close_ephemeral_resource_rpc(
        &self,
        req: Request<pb::close_ephemeral_resource::Request>,
    ) -> Result<Response<pb::close_ephemeral_resource::Response>, Status> {
        let req = req.into_inner();
        let ctx = self.ctx();
        let diagnostics = guarded(
            "CloseEphemeralResource",
            async {
                let e = self.ephemerals.entry(&req.type_name)?;
                Ok(toproto::diagnostics(&e.imp.close(&ctx, req.private).await))
            },
            |d| toproto::diagnostics(&d),
        )
        .await;
        Ok(Response::new(pb::close_ephemeral_resource::Response {
            diagnostics,
        }))
    }
}

//! The `tfplugin5.Provider` gRPC service: every RPC of protocol 5, translated
//! to and from the [`Provider`], [`Resource`] and [`DataSource`] traits.
//!
//! It knows no provider in particular. Each call decodes its values against
//! the schema of the type it names, calls the trait, and encodes the answer;
//! whatever goes wrong (an unknown type name, a malformed value, a value the
//! resource returned that does not fit its own schema, even a panic) comes
//! back as an error diagnostic, never as a broken connection. RPCs this
//! provider has no use for (functions, ephemeral and list resources, moves,
//! identities) answer the way Terraform expects of a provider without them.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use futures::FutureExt;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use super::codec::CodecError;
use super::diag::{Diagnostic, Diagnostics};
use super::fromproto;
use super::proto::tfplugin5 as pb;
use super::proto::tfplugin5::provider_server::Provider as ProviderRpc;
use super::resource::{
    ApplyRequest, CallContext, DataSource, PlanRequest, PlanResponse, Provider, ReadRequest,
    Resource,
};
use super::schema::Schema;
use super::toproto;
use super::value::{Type, Value};

/// The gRPC face of a [`Provider`].
pub struct ProviderService {
    /// The provider's short name, for messages.
    name: String,
    provider: Arc<dyn Provider>,
    provider_schema: Schema,
    resources: BTreeMap<String, Typed<dyn Resource>>,
    data_sources: BTreeMap<String, Typed<dyn DataSource>>,
    /// Cancelled by `StopProvider`; replaced by a fresh token afterwards so
    /// that later calls are not born stopped.
    stop: Mutex<CancellationToken>,
}

struct Typed<T: ?Sized> {
    imp: Arc<T>,
    schema: Schema,
    ty: Type,
}

impl ProviderService {
    pub fn new(name: &str, provider: Arc<dyn Provider>) -> ProviderService {
        let resources = provider
            .resources()
            .into_iter()
            .map(|r| {
                let schema = r.schema();
                let ty = schema.block.value_type();
                (r.type_name().to_string(), Typed { imp: r, schema, ty })
            })
            .collect();
        let data_sources = provider
            .data_sources()
            .into_iter()
            .map(|d| {
                let schema = d.schema();
                let ty = schema.block.value_type();
                (d.type_name().to_string(), Typed { imp: d, schema, ty })
            })
            .collect();
        ProviderService {
            name: name.to_string(),
            provider_schema: provider.schema(),
            provider,
            resources,
            data_sources,
            stop: Mutex::new(CancellationToken::new()),
        }
    }

    fn ctx(&self) -> CallContext {
        let stop = self.stop.lock().unwrap_or_else(|p| p.into_inner()).clone();
        CallContext { stop }
    }

    fn resource(&self, name: &str) -> Result<&Typed<dyn Resource>, Diagnostics> {
        self.resources.get(name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown resource type",
                format!("The {} provider has no resource type {name:?}.", self.name),
            )
            .into()
        })
    }

    fn data_source(&self, name: &str) -> Result<&Typed<dyn DataSource>, Diagnostics> {
        self.data_sources.get(name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown data source",
                format!("The {} provider has no data source {name:?}.", self.name),
            )
            .into()
        })
    }

    fn capabilities() -> pb::ServerCapabilities {
        pb::ServerCapabilities {
            plan_destroy: true,
            get_provider_schema_optional: false,
            move_resource_state: false,
        }
    }
}

/// A value Terraform sent that does not decode: Terraform's bug or a
/// corrupted message, reported with the path at fault.
fn bad_input(what: &str, e: CodecError) -> Diagnostics {
    let mut d = Diagnostic::error(
        format!("Invalid {what} from Terraform"),
        format!("The provider could not decode the {what}: {e}"),
    );
    if !e.path.0.is_empty() {
        d = d.at(e.path);
    }
    d.into()
}

/// A value the provider produced that does not fit its schema: our bug.
fn bad_output(what: &str, e: CodecError) -> Diagnostics {
    Diagnostic::error(
        "Provider produced an invalid value",
        format!(
            "The {what} does not fit the schema: {e}. This is a bug in the provider; please report it."
        ),
    )
    .into()
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// Runs one RPC body; a panic inside it becomes an error diagnostic in the
/// response built by `on_error`.
async fn guarded<T, F>(rpc: &'static str, body: F, on_error: impl FnOnce(Diagnostics) -> T) -> T
where
    F: Future<Output = Result<T, Diagnostics>>,
{
    tracing::debug!(rpc, "call");
    match AssertUnwindSafe(body).catch_unwind().await {
        Ok(Ok(t)) => t,
        Ok(Err(diags)) => {
            for d in &diags.0 {
                tracing::debug!(rpc, summary = %d.summary, "call failed");
            }
            on_error(diags)
        }
        Err(p) => {
            let msg = panic_message(p.as_ref());
            tracing::error!(rpc, panic = %msg, "provider panicked");
            on_error(
                Diagnostic::error(
                    "Provider internal error",
                    format!(
                        "The provider panicked in {rpc}: {msg}. This is a bug in the provider; please report it."
                    ),
                )
                .into(),
            )
        }
    }
}

fn not_supported(provider: &str, what: &str) -> Diagnostics {
    Diagnostic::error(
        format!("{what} not supported"),
        format!("The {provider} provider does not support {what}."),
    )
    .into()
}

type ListStream =
    Pin<Box<dyn futures::Stream<Item = Result<pb::list_resource::Event, Status>> + Send>>;

#[tonic::async_trait]
impl ProviderRpc for ProviderService {
    async fn get_metadata(
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
            ephemeral_resources: vec![],
            list_resources: vec![],
        }))
    }

    async fn get_schema(
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
            ephemeral_resource_schemas: Default::default(),
            list_resource_schemas: Default::default(),
            diagnostics: vec![],
            provider_meta: None,
            server_capabilities: Some(Self::capabilities()),
        }))
    }

    async fn prepare_provider_config(
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

    async fn validate_resource_type_config(
        &self,
        req: Request<pb::validate_resource_type_config::Request>,
    ) -> Result<Response<pb::validate_resource_type_config::Response>, Status> {
        let req = req.into_inner();
        let resp = guarded(
            "ValidateResourceTypeConfig",
            async {
                let r = self.resource(&req.type_name)?;
                let config = fromproto::dynamic_value(req.config.as_ref(), &r.ty)
                    .map_err(|e| bad_input("resource configuration", e))?;
                Ok(toproto::diagnostics(&r.imp.validate(&config)))
            },
            |d| toproto::diagnostics(&d),
        )
        .await;
        Ok(Response::new(pb::validate_resource_type_config::Response {
            diagnostics: resp,
        }))
    }

    async fn validate_data_source_config(
        &self,
        req: Request<pb::validate_data_source_config::Request>,
    ) -> Result<Response<pb::validate_data_source_config::Response>, Status> {
        let req = req.into_inner();
        let resp = guarded(
            "ValidateDataSourceConfig",
            async {
                let d = self.data_source(&req.type_name)?;
                let config = fromproto::dynamic_value(req.config.as_ref(), &d.ty)
                    .map_err(|e| bad_input("data source configuration", e))?;
                Ok(toproto::diagnostics(&d.imp.validate(&config)))
            },
            |d| toproto::diagnostics(&d),
        )
        .await;
        Ok(Response::new(pb::validate_data_source_config::Response {
            diagnostics: resp,
        }))
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let req = req.into_inner();
        let resp = guarded(
            "UpgradeResourceState",
            async {
                let r = self.resource(&req.type_name)?;
                if req.version > r.schema.version {
                    return Err(Diagnostic::error(
                        "State from a newer provider",
                        format!(
                            "This {} was stored by a newer version of the provider (schema version {}, this provider knows up to {}). Upgrade the provider.",
                            req.type_name, req.version, r.schema.version
                        ),
                    )
                    .into());
                }
                let state = fromproto::raw_state(req.raw_state.as_ref(), &r.ty)
                    .map_err(|e| bad_input("stored state", e))?;
                Ok(pb::upgrade_resource_state::Response {
                    upgraded_state: Some(
                        toproto::dynamic_value(&state, &r.ty)
                            .map_err(|e| bad_output("upgraded state", e))?,
                    ),
                    diagnostics: vec![],
                })
            },
            |d| pb::upgrade_resource_state::Response {
                upgraded_state: None,
                diagnostics: toproto::diagnostics(&d),
            },
        )
        .await;
        Ok(Response::new(resp))
    }

    async fn get_resource_identity_schemas(
        &self,
        _req: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Result<Response<pb::get_resource_identity_schemas::Response>, Status> {
        Ok(Response::new(
            pb::get_resource_identity_schemas::Response::default(),
        ))
    }

    async fn upgrade_resource_identity(
        &self,
        _req: Request<pb::upgrade_resource_identity::Request>,
    ) -> Result<Response<pb::upgrade_resource_identity::Response>, Status> {
        Ok(Response::new(pb::upgrade_resource_identity::Response {
            upgraded_identity: None,
            diagnostics: toproto::diagnostics(&not_supported(&self.name, "Resource identity")),
        }))
    }

    async fn configure(
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

    async fn read_resource(
        &self,
        req: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let req = req.into_inner();
        let ctx = self.ctx();
        let resp = guarded(
            "ReadResource",
            async {
                let r = self.resource(&req.type_name)?;
                let current_state = fromproto::dynamic_value(req.current_state.as_ref(), &r.ty)
                    .map_err(|e| bad_input("current state", e))?;
                let out = r
                    .imp
                    .read(
                        &ctx,
                        ReadRequest {
                            current_state,
                            private: req.private,
                        },
                    )
                    .await;
                let new_state = toproto::dynamic_value(&out.new_state, &r.ty)
                    .map_err(|e| bad_output("refreshed state", e))?;
                Ok(pb::read_resource::Response {
                    new_state: Some(new_state),
                    diagnostics: toproto::diagnostics(&out.diagnostics),
                    private: out.private,
                    deferred: None,
                    new_identity: None,
                })
            },
            |d| pb::read_resource::Response {
                diagnostics: toproto::diagnostics(&d),
                ..Default::default()
            },
        )
        .await;
        Ok(Response::new(resp))
    }

    async fn plan_resource_change(
        &self,
        req: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let req = req.into_inner();
        let ctx = self.ctx();
        let resp = guarded(
            "PlanResourceChange",
            async {
                let r = self.resource(&req.type_name)?;
                let dec = |dv: Option<&pb::DynamicValue>, what: &str| {
                    fromproto::dynamic_value(dv, &r.ty).map_err(|e| bad_input(what, e))
                };
                let plan_req = PlanRequest {
                    prior_state: dec(req.prior_state.as_ref(), "prior state")?,
                    proposed_new_state: dec(req.proposed_new_state.as_ref(), "proposed state")?,
                    config: dec(req.config.as_ref(), "resource configuration")?,
                    prior_private: req.prior_private,
                };
                let out = if plan_req.proposed_new_state.is_null() {
                    // A destroy: nothing to plan but the end of the object.
                    PlanResponse {
                        planned_state: Value::Null,
                        planned_private: plan_req.prior_private,
                        ..Default::default()
                    }
                } else {
                    // Values unknown at validation may be known now: check again.
                    let mut diagnostics = r.imp.validate(&plan_req.config);
                    let mut out = r.imp.plan(&ctx, plan_req).await;
                    diagnostics.extend(std::mem::take(&mut out.diagnostics));
                    out.diagnostics = diagnostics;
                    out
                };
                let planned_state = toproto::dynamic_value(&out.planned_state, &r.ty)
                    .map_err(|e| bad_output("planned state", e))?;
                Ok(pb::plan_resource_change::Response {
                    planned_state: Some(planned_state),
                    requires_replace: out
                        .requires_replace
                        .iter()
                        .map(toproto::attribute_path)
                        .collect(),
                    planned_private: out.planned_private,
                    diagnostics: toproto::diagnostics(&out.diagnostics),
                    legacy_type_system: false,
                    deferred: None,
                    planned_identity: None,
                })
            },
            |d| pb::plan_resource_change::Response {
                diagnostics: toproto::diagnostics(&d),
                ..Default::default()
            },
        )
        .await;
        Ok(Response::new(resp))
    }

    async fn apply_resource_change(
        &self,
        req: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let req = req.into_inner();
        let ctx = self.ctx();
        // On any failure the prior state is what is still true: losing it
        // would make Terraform forget a real object.
        let prior_raw = req.prior_state.clone();
        let prior_raw_on_error = prior_raw.clone();
        let resp = guarded(
            "ApplyResourceChange",
            async {
                let r = self.resource(&req.type_name)?;
                let dec = |dv: Option<&pb::DynamicValue>, what: &str| {
                    fromproto::dynamic_value(dv, &r.ty).map_err(|e| bad_input(what, e))
                };
                let apply_req = ApplyRequest {
                    prior_state: dec(req.prior_state.as_ref(), "prior state")?,
                    planned_state: dec(req.planned_state.as_ref(), "planned state")?,
                    config: dec(req.config.as_ref(), "resource configuration")?,
                    planned_private: req.planned_private,
                };
                let out = r.imp.apply(&ctx, apply_req).await;
                let mut diagnostics = out.diagnostics;
                let new_state = match toproto::dynamic_value(&out.new_state, &r.ty) {
                    Ok(v) => Some(v),
                    Err(e) => {
                        diagnostics.extend(bad_output("new state", e));
                        prior_raw
                    }
                };
                Ok(pb::apply_resource_change::Response {
                    new_state,
                    private: out.private,
                    diagnostics: toproto::diagnostics(&diagnostics),
                    legacy_type_system: false,
                    new_identity: None,
                })
            },
            |d| pb::apply_resource_change::Response {
                new_state: prior_raw_on_error,
                diagnostics: toproto::diagnostics(&d),
                ..Default::default()
            },
        )
        .await;
        Ok(Response::new(resp))
    }

    async fn import_resource_state(
        &self,
        req: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let req = req.into_inner();
        let ctx = self.ctx();
        let resp = guarded(
            "ImportResourceState",
            async {
                let r = self.resource(&req.type_name)?;
                let out = r.imp.import(&ctx, &req.id).await;
                let mut imported = Vec::with_capacity(out.states.len());
                for s in &out.states {
                    imported.push(pb::import_resource_state::ImportedResource {
                        type_name: req.type_name.clone(),
                        state: Some(
                            toproto::dynamic_value(s, &r.ty)
                                .map_err(|e| bad_output("imported state", e))?,
                        ),
                        private: vec![],
                        identity: None,
                    });
                }
                Ok(pb::import_resource_state::Response {
                    imported_resources: imported,
                    diagnostics: toproto::diagnostics(&out.diagnostics),
                    deferred: None,
                })
            },
            |d| pb::import_resource_state::Response {
                diagnostics: toproto::diagnostics(&d),
                ..Default::default()
            },
        )
        .await;
        Ok(Response::new(resp))
    }

    async fn move_resource_state(
        &self,
        _req: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        Ok(Response::new(pb::move_resource_state::Response {
            diagnostics: toproto::diagnostics(&not_supported(&self.name, "Moving resource state")),
            ..Default::default()
        }))
    }

    async fn read_data_source(
        &self,
        req: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        let req = req.into_inner();
        let ctx = self.ctx();
        let resp = guarded(
            "ReadDataSource",
            async {
                let d = self.data_source(&req.type_name)?;
                let config = fromproto::dynamic_value(req.config.as_ref(), &d.ty)
                    .map_err(|e| bad_input("data source configuration", e))?;
                let out = d.imp.read(&ctx, config).await;
                let mut diagnostics = out.diagnostics;
                let state = match toproto::dynamic_value(&out.state, &d.ty) {
                    Ok(v) => Some(v),
                    Err(e) => {
                        diagnostics.extend(bad_output("data source result", e));
                        None
                    }
                };
                Ok(pb::read_data_source::Response {
                    state,
                    diagnostics: toproto::diagnostics(&diagnostics),
                    deferred: None,
                })
            },
            |d| pb::read_data_source::Response {
                diagnostics: toproto::diagnostics(&d),
                ..Default::default()
            },
        )
        .await;
        Ok(Response::new(resp))
    }

    async fn validate_ephemeral_resource_config(
        &self,
        req: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Result<Response<pb::validate_ephemeral_resource_config::Response>, Status> {
        let name = req.into_inner().type_name;
        Ok(Response::new(
            pb::validate_ephemeral_resource_config::Response {
                diagnostics: toproto::diagnostics(
                    &Diagnostic::error(
                        "Unknown ephemeral resource type",
                        format!(
                            "The {} provider has no ephemeral resource type {name:?}.",
                            self.name
                        ),
                    )
                    .into(),
                ),
            },
        ))
    }

    async fn open_ephemeral_resource(
        &self,
        _req: Request<pb::open_ephemeral_resource::Request>,
    ) -> Result<Response<pb::open_ephemeral_resource::Response>, Status> {
        Ok(Response::new(pb::open_ephemeral_resource::Response {
            diagnostics: toproto::diagnostics(&not_supported(&self.name, "Ephemeral resources")),
            ..Default::default()
        }))
    }

    async fn renew_ephemeral_resource(
        &self,
        _req: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Result<Response<pb::renew_ephemeral_resource::Response>, Status> {
        Ok(Response::new(pb::renew_ephemeral_resource::Response {
            diagnostics: toproto::diagnostics(&not_supported(&self.name, "Ephemeral resources")),
            ..Default::default()
        }))
    }

    async fn close_ephemeral_resource(
        &self,
        _req: Request<pb::close_ephemeral_resource::Request>,
    ) -> Result<Response<pb::close_ephemeral_resource::Response>, Status> {
        Ok(Response::new(pb::close_ephemeral_resource::Response {
            diagnostics: toproto::diagnostics(&not_supported(&self.name, "Ephemeral resources")),
        }))
    }

    type ListResourceStream = ListStream;

    async fn list_resource(
        &self,
        req: Request<pb::list_resource::Request>,
    ) -> Result<Response<Self::ListResourceStream>, Status> {
        let name = req.into_inner().type_name;
        let event = pb::list_resource::Event {
            diagnostic: toproto::diagnostics(
                &Diagnostic::error(
                    "Unknown list resource type",
                    format!(
                        "The {} provider has no list resource type {name:?}.",
                        self.name
                    ),
                )
                .into(),
            ),
            ..Default::default()
        };
        let stream: ListStream = Box::pin(futures::stream::iter([Ok(event)]));
        Ok(Response::new(stream))
    }

    async fn validate_list_resource_config(
        &self,
        req: Request<pb::validate_list_resource_config::Request>,
    ) -> Result<Response<pb::validate_list_resource_config::Response>, Status> {
        let name = req.into_inner().type_name;
        Ok(Response::new(pb::validate_list_resource_config::Response {
            diagnostics: toproto::diagnostics(
                &Diagnostic::error(
                    "Unknown list resource type",
                    format!(
                        "The {} provider has no list resource type {name:?}.",
                        self.name
                    ),
                )
                .into(),
            ),
        }))
    }

    async fn get_functions(
        &self,
        _req: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        Ok(Response::new(pb::get_functions::Response::default()))
    }

    async fn call_function(
        &self,
        req: Request<pb::call_function::Request>,
    ) -> Result<Response<pb::call_function::Response>, Status> {
        let name = req.into_inner().name;
        Ok(Response::new(pb::call_function::Response {
            result: None,
            error: Some(pb::FunctionError {
                text: format!("The {} provider has no function {name:?}.", self.name),
                function_argument: None,
            }),
        }))
    }

    async fn stop(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Value;
    use crate::schema::{Attribute, Block};
    use crate::{ImportResponse, PlanResponse};
    use async_trait::async_trait;

    struct Boom;
    #[async_trait]
    impl Resource for Boom {
        fn type_name(&self) -> &'static str {
            "boom"
        }
        fn schema(&self) -> Schema {
            Schema {
                version: 0,
                block: Block {
                    attributes: vec![Attribute::optional("a", Type::String, "")],
                    ..Default::default()
                },
            }
        }
        async fn plan(&self, _: &CallContext, _: PlanRequest) -> PlanResponse {
            panic!("kaboom")
        }
        async fn apply(&self, _: &CallContext, _: ApplyRequest) -> crate::ApplyResponse {
            crate::ApplyResponse {
                new_state: Value::object([("zzz", Value::Null)]),
                ..Default::default()
            }
        }
        async fn read(&self, _: &CallContext, _: ReadRequest) -> crate::ReadResponse {
            Default::default()
        }
        async fn import(&self, _: &CallContext, _: &str) -> ImportResponse {
            Default::default()
        }
    }
    struct P;
    #[async_trait]
    impl Provider for P {
        fn schema(&self) -> Schema {
            Schema {
                version: 0,
                block: Block::default(),
            }
        }
        async fn configure(&self, _: &CallContext, _: Value) -> Diagnostics {
            Diagnostics::new()
        }
        fn resources(&self) -> Vec<Arc<dyn Resource>> {
            vec![Arc::new(Boom)]
        }
        fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
            vec![]
        }
    }

    #[tokio::test]
    async fn a_panic_becomes_a_diagnostic() {
        let svc = ProviderService::new("test", Arc::new(P));
        let resp = svc
            .plan_resource_change(Request::new(pb::plan_resource_change::Request {
                type_name: "boom".into(),
                // An empty object (msgpack fixmap 0): a create, so plan runs.
                proposed_new_state: Some(pb::DynamicValue {
                    msgpack: vec![0x80],
                    json: vec![],
                }),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(resp.diagnostics.len(), 1);
        assert!(resp.diagnostics[0].detail.contains("kaboom"));
    }

    #[tokio::test]
    async fn a_destroy_is_planned_without_asking_the_resource() {
        let svc = ProviderService::new("test", Arc::new(P));
        let resp = svc
            .plan_resource_change(Request::new(pb::plan_resource_change::Request {
                type_name: "boom".into(),
                prior_private: b"keep".to_vec(),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner();
        assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
        assert_eq!(resp.planned_private, b"keep");
        assert_eq!(resp.planned_state.map(|v| v.msgpack), Some(vec![0xc0]));
    }

    #[tokio::test]
    async fn an_invalid_new_state_is_reported_not_sent() {
        let svc = ProviderService::new("test", Arc::new(P));
        let resp = svc
            .apply_resource_change(Request::new(pb::apply_resource_change::Request {
                type_name: "boom".into(),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner();
        assert!(
            resp.new_state.is_none(),
            "the prior state (none here) is kept"
        );
        assert_eq!(
            resp.diagnostics[0].summary,
            "Provider produced an invalid value"
        );
    }

    #[tokio::test]
    async fn stop_cancels_in_flight_contexts_only() {
        let svc = ProviderService::new("test", Arc::new(P));
        let before = svc.ctx();
        svc.stop(Request::new(pb::stop::Request {})).await.unwrap();
        assert!(before.stop.is_cancelled());
        assert!(!svc.ctx().stop.is_cancelled());
    }
}

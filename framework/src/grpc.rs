//! The `tfplugin5.Provider` gRPC service: every RPC of protocol 5, translated
//! to and from the [`Provider`], [`Resource`] and [`DataSource`] traits.
//!
//! It knows no provider in particular. Each call decodes its values against
//! the schema of the type it names, calls the trait, and encodes the answer;
//! whatever goes wrong (an unknown type name, a malformed value, a value the
//! resource returned that does not fit its own schema, even a panic) comes
//! back as an error diagnostic, never as a broken connection. RPCs this
//! provider has no use for (functions, ephemeral resources, moves) answer
//! the way Terraform expects of a provider without them.
//!
//! Identity and list resources are answered only for the types that declare
//! them: a type without an identity schema gets no identity fields, exactly
//! as before protocol 5.9, and Terraform older than 1.12 never asks.

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
    ApplyRequest, CallContext, DataSource, ListRequest, ListResource, ListResult, ListSink,
    PlanRequest, PlanResponse, Provider, ReadRequest, Resource,
};
use super::schema::{IdentitySchema, Schema};
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
    list_resources: BTreeMap<String, Typed<dyn ListResource>>,
    actions: action::Actions,
    /// What is wrong with the types the provider declared (a list resource
    /// without a managed type that has an identity): reported by
    /// GetProviderSchema, so that Terraform stops with the reason.
    declaration_errors: Diagnostics,
    /// Cancelled by `StopProvider`; replaced by a fresh token afterwards so
    /// that later calls are not born stopped.
    stop: Mutex<CancellationToken>,
}

struct Typed<T: ?Sized> {
    imp: Arc<T>,
    schema: Schema,
    ty: Type,
    /// Managed types with an identity schema only.
    identity: Option<Identity>,
}

struct Identity {
    schema: IdentitySchema,
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
                let identity = r.identity_schema().map(|schema| Identity {
                    ty: schema.value_type(),
                    schema,
                });
                let name = r.type_name().to_string();
                let typed = Typed {
                    imp: r,
                    schema,
                    ty,
                    identity,
                };
                (name, typed)
            })
            .collect::<BTreeMap<_, _>>();
        let data_sources = provider
            .data_sources()
            .into_iter()
            .map(|d| {
                let schema = d.schema();
                let ty = schema.block.value_type();
                let name = d.type_name().to_string();
                let typed = Typed {
                    imp: d,
                    schema,
                    ty,
                    identity: None,
                };
                (name, typed)
            })
            .collect();
        let mut declaration_errors = Diagnostics::new();
        let list_resources = provider
            .list_resources()
            .into_iter()
            .filter_map(|l| {
                let type_name = l.type_name().to_string();
                let has_identity = resources
                    .get(&type_name)
                    .is_some_and(|r: &Typed<dyn Resource>| r.identity.is_some());
                if !has_identity {
                    tracing::error!(list_resource = %type_name, "list resource without an identity");
                    declaration_errors.push(Diagnostic::error(
                        "List resource without identity",
                        format!(
                            "The {type_name} list resource lists objects of the managed resource type {type_name}, which the {name} provider does not declare with an identity schema. This is a bug in the provider; please report it."
                        ),
                    ));
                    return None;
                }
                let schema = l.schema();
                let ty = schema.block.value_type();
                let typed = Typed {
                    imp: l,
                    schema,
                    ty,
                    identity: None,
                };
                Some((type_name, typed))
            })
            .collect();
        ProviderService {
            actions: action::Actions::new(name, provider.as_ref()),
            name: name.to_string(),
            provider_schema: provider.schema(),
            provider,
            resources,
            data_sources,
            list_resources,
            declaration_errors,
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

    fn list_type(&self, name: &str) -> Result<&Typed<dyn ListResource>, Diagnostics> {
        self.list_resources.get(name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown list resource type",
                format!(
                    "The {} provider has no list resource type {name:?}.",
                    self.name
                ),
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

/// An identity Terraform sent, decoded against the type's identity schema;
/// null for a type without one (whatever Terraform sent is then ignored).
fn identity_in(
    r: &Typed<dyn Resource>,
    data: Option<&pb::ResourceIdentityData>,
    what: &str,
) -> Result<Value, Diagnostics> {
    match &r.identity {
        None => Ok(Value::Null),
        Some(id) => fromproto::identity(data, &id.ty).map_err(|e| bad_input(what, e)),
    }
}

/// The identity that goes to Terraform with `state`: [`Resource::identity_of`]
/// it. Nothing for a type without identity or for a null state (the object is
/// gone).
fn identity_out(
    r: &Typed<dyn Resource>,
    state: &Value,
    unknown_allowed: bool,
) -> Result<(Value, Option<pb::ResourceIdentityData>), Diagnostics> {
    let Some(id) = &r.identity else {
        return Ok((Value::Null, None));
    };
    if state.is_null() {
        return Ok((Value::Null, None));
    }
    let v = r.imp.identity_of(state);
    if v.is_null() {
        return Ok((Value::Null, None));
    }
    if unknown_allowed && !v.is_wholly_known() {
        // Core accepts an unknown planned identity for a new object, but its
        // JSON plan cannot render one ("Failed to marshal plan to json:
        // value is not known", Terraform 1.15): plan none; apply sends it.
        return Ok((v, None));
    }
    if !v.is_wholly_known() {
        return Err(Diagnostic::error(
            "Provider produced an invalid identity",
            format!(
                "The identity of this {} has unknown values. This is a bug in the provider; please report it.",
                r.imp.type_name()
            ),
        )
        .into());
    }
    let data = toproto::identity(&v, &id.ty).map_err(|e| bad_output("identity", e))?;
    Ok((v, data))
}

/// An identity changed where it must not: an object keeps its identity for
/// its whole life (Terraform finds it again by it).
fn identity_change(type_name: &str, before: &Value, after: &Value) -> Option<Diagnostic> {
    /// Whether `after` is what `before` said, where `before` knew it.
    fn agrees(before: &Value, after: &Value) -> bool {
        match (before, after) {
            (Value::Unknown | Value::Refined(_), _) => true,
            (Value::Object(b), Value::Object(a)) => {
                b.len() == a.len()
                    && b.iter()
                        .all(|(k, bv)| a.get(k).is_some_and(|av| agrees(bv, av)))
            }
            _ => before == after,
        }
    }
    if before.is_null() || after.is_null() || !after.is_wholly_known() || agrees(before, after) {
        return None;
    }
    Some(Diagnostic::error(
        "Unexpected identity change",
        format!(
            "The provider changed the identity of this {type_name} from {} to {}. An object keeps its identity for its whole life. This is a bug in the provider; please report it.",
            identity_text(before),
            identity_text(after)
        ),
    ))
}

/// `{ server_id = "s-1" }`, for messages.
fn identity_text(v: &Value) -> String {
    fn one(v: &Value) -> String {
        match v {
            Value::Null => "null".into(),
            Value::Unknown | Value::Refined(_) => "(known after apply)".into(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => format!("{n:?}"),
            Value::String(s) => format!("{s:?}"),
            Value::List(xs) | Value::Set(xs) | Value::Tuple(xs) => {
                format!("[{}]", xs.iter().map(one).collect::<Vec<_>>().join(", "))
            }
            Value::Map(m) | Value::Object(m) => format!(
                "{{ {} }}",
                m.iter()
                    .map(|(k, v)| format!("{k} = {}", one(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
    one(v)
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

/// Turns the results of a lister into `ListResource` events.
#[derive(Clone)]
struct ListEncoder {
    type_name: String,
    identity_ty: Type,
    resource_ty: Type,
    include_resource_object: bool,
}

impl ListEncoder {
    /// The event, whether it ends the list (an error), and whether it is an
    /// object (counted against the limit) rather than diagnostics alone.
    fn event(&self, r: ListResult) -> (pb::list_resource::Event, bool, bool) {
        let mut diagnostics = r.diagnostics;
        let mut identity = None;
        if !r.identity.is_null() {
            if r.identity.is_wholly_known() {
                match toproto::identity(&r.identity, &self.identity_ty) {
                    Ok(data) => identity = data,
                    Err(e) => diagnostics.extend(bad_output("listed identity", e)),
                }
            } else {
                diagnostics.push(Diagnostic::error(
                    "Provider produced an invalid identity",
                    format!(
                        "A listed {} has an identity with unknown values. This is a bug in the provider; please report it.",
                        self.type_name
                    ),
                ));
            }
        }
        let mut resource_object = None;
        if self.include_resource_object
            && let Some(obj) = &r.resource_object
        {
            match toproto::dynamic_value(obj, &self.resource_ty) {
                Ok(v) => resource_object = Some(v),
                Err(e) => diagnostics.extend(bad_output("listed object", e)),
            }
        }
        let is_error = diagnostics.has_errors();
        let is_object = identity.is_some() && !is_error;
        let event = pb::list_resource::Event {
            identity,
            display_name: r.display_name,
            resource_object,
            diagnostic: toproto::diagnostics(&diagnostics),
        };
        (event, is_error, is_object)
    }
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
                let (state, diagnostics) = match req.raw_state.as_ref() {
                    Some(raw) if req.version < r.schema.version && !raw.json.is_empty() => {
                        let out = r.imp.upgrade_state(req.version, &raw.json);
                        (out.state, out.diagnostics)
                    }
                    raw => (
                        fromproto::raw_state(raw, &r.ty)
                            .map_err(|e| bad_input("stored state", e))?,
                        Diagnostics::new(),
                    ),
                };
                if diagnostics.has_errors() {
                    return Err(diagnostics);
                }
                if !state.is_wholly_known() {
                    return Err(Diagnostic::error(
                        "Provider produced an invalid state",
                        "The upgraded state has unknown values. This is a bug in the provider; please report it.",
                    )
                    .into());
                }
                Ok(pb::upgrade_resource_state::Response {
                    upgraded_state: Some(
                        toproto::dynamic_value(&state, &r.ty)
                            .map_err(|e| bad_output("upgraded state", e))?,
                    ),
                    diagnostics: toproto::diagnostics(&diagnostics),
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
        tracing::debug!(rpc = "GetResourceIdentitySchemas", "call");
        Ok(Response::new(pb::get_resource_identity_schemas::Response {
            identity_schemas: self
                .resources
                .iter()
                .filter_map(|(k, r)| {
                    let id = r.identity.as_ref()?;
                    Some((k.clone(), toproto::identity_schema(&id.schema)))
                })
                .collect(),
            diagnostics: vec![],
        }))
    }

    async fn upgrade_resource_identity(
        &self,
        req: Request<pb::upgrade_resource_identity::Request>,
    ) -> Result<Response<pb::upgrade_resource_identity::Response>, Status> {
        let req = req.into_inner();
        let resp = guarded(
            "UpgradeResourceIdentity",
            async {
                let r = self.resource(&req.type_name)?;
                let Some(id) = &r.identity else {
                    return Err(not_supported(
                        &self.name,
                        &format!("Resource identity for {}", req.type_name),
                    ));
                };
                if req.version > id.schema.version {
                    return Err(Diagnostic::error(
                        "Identity from a newer provider",
                        format!(
                            "The identity of this {} was stored by a newer version of the provider (identity version {}, this provider knows up to {}). Upgrade the provider.",
                            req.type_name, req.version, id.schema.version
                        ),
                    )
                    .into());
                }
                let raw = req.raw_identity.map(|r| r.json).unwrap_or_default();
                let out = r.imp.upgrade_identity(req.version, &raw);
                let upgraded_identity = if out.diagnostics.has_errors() {
                    None
                } else {
                    if !out.identity.is_wholly_known() {
                        return Err(Diagnostic::error(
                            "Provider produced an invalid identity",
                            "The upgraded identity has unknown values. This is a bug in the provider; please report it.",
                        )
                        .into());
                    }
                    Some(pb::ResourceIdentityData {
                        identity_data: Some(
                            toproto::dynamic_value(&out.identity, &id.ty)
                                .map_err(|e| bad_output("upgraded identity", e))?,
                        ),
                    })
                };
                Ok(pb::upgrade_resource_identity::Response {
                    upgraded_identity,
                    diagnostics: toproto::diagnostics(&out.diagnostics),
                })
            },
            |d| pb::upgrade_resource_identity::Response {
                upgraded_identity: None,
                diagnostics: toproto::diagnostics(&d),
            },
        )
        .await;
        Ok(Response::new(resp))
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
                let current_identity =
                    identity_in(r, req.current_identity.as_ref(), "current identity")?;
                let out = r
                    .imp
                    .read(
                        &ctx,
                        ReadRequest {
                            current_state,
                            private: req.private,
                            current_identity: current_identity.clone(),
                        },
                    )
                    .await;
                let new_state = toproto::dynamic_value(&out.new_state, &r.ty)
                    .map_err(|e| bad_output("refreshed state", e))?;
                let mut diagnostics = out.diagnostics;
                // The state is kept whatever is wrong with the identity.
                let new_identity = match identity_out(r, &out.new_state, false) {
                    Ok((v, data)) => {
                        if let Some(d) = identity_change(&req.type_name, &current_identity, &v) {
                            diagnostics.push(d);
                        }
                        data
                    }
                    Err(d) => {
                        diagnostics.extend(d);
                        None
                    }
                };
                Ok(pb::read_resource::Response {
                    new_state: Some(new_state),
                    diagnostics: toproto::diagnostics(&diagnostics),
                    private: out.private,
                    deferred: None,
                    new_identity,
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
                let prior_identity = identity_in(r, req.prior_identity.as_ref(), "prior identity")?;
                let plan_req = PlanRequest {
                    prior_state: dec(req.prior_state.as_ref(), "prior state")?,
                    proposed_new_state: dec(req.proposed_new_state.as_ref(), "proposed state")?,
                    config: dec(req.config.as_ref(), "resource configuration")?,
                    prior_private: req.prior_private,
                    prior_identity: prior_identity.clone(),
                };
                let creating = plan_req.prior_state.is_null();
                let destroying = plan_req.proposed_new_state.is_null();
                let out = if destroying {
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
                let mut diagnostics = out.diagnostics;
                let planned_identity = if destroying {
                    // The object ends with the identity it had.
                    r.identity
                        .as_ref()
                        .and_then(|id| toproto::identity(&prior_identity, &id.ty).ok().flatten())
                } else {
                    // A new object (create or replace) may learn its identity at apply.
                    let replacing = creating || !out.requires_replace.is_empty();
                    match identity_out(r, &out.planned_state, replacing) {
                        Ok((v, data)) => {
                            if !replacing
                                && let Some(d) =
                                    identity_change(&req.type_name, &prior_identity, &v)
                            {
                                diagnostics.push(d);
                            }
                            data
                        }
                        Err(d) => {
                            diagnostics.extend(d);
                            None
                        }
                    }
                };
                Ok(pb::plan_resource_change::Response {
                    planned_state: Some(planned_state),
                    requires_replace: out
                        .requires_replace
                        .iter()
                        .map(toproto::attribute_path)
                        .collect(),
                    planned_private: out.planned_private,
                    diagnostics: toproto::diagnostics(&diagnostics),
                    legacy_type_system: false,
                    deferred: None,
                    planned_identity,
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
                let planned_identity =
                    identity_in(r, req.planned_identity.as_ref(), "planned identity")?;
                let apply_req = ApplyRequest {
                    prior_state: dec(req.prior_state.as_ref(), "prior state")?,
                    planned_state: dec(req.planned_state.as_ref(), "planned state")?,
                    config: dec(req.config.as_ref(), "resource configuration")?,
                    planned_private: req.planned_private,
                    planned_identity: planned_identity.clone(),
                };
                let out = r.imp.apply(&ctx, apply_req).await;
                let mut diagnostics = out.diagnostics;
                let (new_state, state_sent) = match toproto::dynamic_value(&out.new_state, &r.ty) {
                    Ok(v) => (Some(v), true),
                    Err(e) => {
                        diagnostics.extend(bad_output("new state", e));
                        (prior_raw, false)
                    }
                };
                let new_identity = if !state_sent {
                    // The prior state went back: so does the identity it had.
                    req.planned_identity.filter(|_| r.identity.is_some())
                } else {
                    match identity_out(r, &out.new_state, false) {
                        Ok((v, data)) => {
                            if let Some(d) = identity_change(&req.type_name, &planned_identity, &v)
                            {
                                diagnostics.push(d);
                            }
                            data
                        }
                        Err(d) => {
                            diagnostics.extend(d);
                            None
                        }
                    }
                };
                Ok(pb::apply_resource_change::Response {
                    new_state,
                    private: out.private,
                    diagnostics: toproto::diagnostics(&diagnostics),
                    legacy_type_system: false,
                    new_identity,
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
                let by_identity = req
                    .identity
                    .as_ref()
                    .is_some_and(|i| i.identity_data.is_some());
                let out = if by_identity {
                    let Some(id) = &r.identity else {
                        return Err(not_supported(
                            &self.name,
                            &format!("Import by identity for {}", req.type_name),
                        ));
                    };
                    let identity = fromproto::identity(req.identity.as_ref(), &id.ty)
                        .map_err(|e| bad_input("import identity", e))?;
                    r.imp.import_by_identity(&ctx, identity).await
                } else {
                    r.imp.import(&ctx, &req.id).await
                };
                let mut imported = Vec::with_capacity(out.states.len());
                for s in &out.states {
                    let (_, identity) = identity_out(r, s, false)?;
                    imported.push(pb::import_resource_state::ImportedResource {
                        type_name: req.type_name.clone(),
                        state: Some(
                            toproto::dynamic_value(s, &r.ty)
                                .map_err(|e| bad_output("imported state", e))?,
                        ),
                        private: vec![],
                        identity,
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
        let req = req.into_inner();
        tracing::debug!(rpc = "ListResource", type_name = %req.type_name, "call");
        let started = (|| {
            let l = self.list_type(&req.type_name)?;
            let r = self.resource(&req.type_name)?;
            let config = fromproto::dynamic_value(req.config.as_ref(), &l.ty)
                .map_err(|e| bad_input("list configuration", e))?;
            // Terraform sends an object of nulls for an absent config block;
            // be as kind to a client that sends nothing.
            let config = if config.is_null() {
                l.schema.block.null_object()
            } else {
                config
            };
            let list_req = ListRequest {
                config,
                include_resource_object: req.include_resource_object,
                limit: u64::try_from(req.limit).ok().filter(|n| *n > 0),
            };
            Ok::<_, Diagnostics>((l.imp.clone(), r, list_req))
        })();
        let (lister, r, list_req) = match started {
            Ok(x) => x,
            Err(d) => {
                let event = pb::list_resource::Event {
                    diagnostic: toproto::diagnostics(&d),
                    ..Default::default()
                };
                let stream: ListStream = Box::pin(futures::stream::iter([Ok(event)]));
                return Ok(Response::new(stream));
            }
        };
        let encoder = ListEncoder {
            type_name: req.type_name.clone(),
            identity_ty: r
                .identity
                .as_ref()
                .map(|i| i.ty.clone())
                .unwrap_or(Type::Dynamic),
            resource_ty: r.ty.clone(),
            include_resource_object: list_req.include_resource_object,
        };
        let limit = list_req.limit;
        let (tx, rx) = tokio::sync::mpsc::channel::<ListResult>(16);
        let ctx = self.ctx();
        tokio::spawn(async move {
            let mut sink = ListSink::new(tx);
            let run = AssertUnwindSafe(lister.list(&ctx, list_req, &mut sink)).catch_unwind();
            if let Err(p) = run.await {
                let msg = panic_message(p.as_ref());
                tracing::error!(rpc = "ListResource", panic = %msg, "provider panicked");
                sink.fail(
                    Diagnostic::error(
                        "Provider internal error",
                        format!(
                            "The provider panicked in ListResource: {msg}. This is a bug in the provider; please report it."
                        ),
                    )
                    .into(),
                )
                .await;
            }
        });
        // Results go out as they come; the stream ends at the first error, at
        // the limit, or when the lister is done. Dropping the receiver tells
        // the lister to stop.
        let stream = futures::stream::unfold((rx, 0u64, false), move |(mut rx, sent, done)| {
            let encoder = encoder.clone();
            async move {
                if done || limit.is_some_and(|l| sent >= l) {
                    return None;
                }
                let result = rx.recv().await?;
                let (event, is_error, is_object) = encoder.event(result);
                Some((Ok(event), (rx, sent + u64::from(is_object), is_error)))
            }
        });
        let stream: ListStream = Box::pin(stream);
        Ok(Response::new(stream))
    }

    async fn validate_list_resource_config(
        &self,
        req: Request<pb::validate_list_resource_config::Request>,
    ) -> Result<Response<pb::validate_list_resource_config::Response>, Status> {
        let req = req.into_inner();
        let diagnostics = guarded(
            "ValidateListResourceConfig",
            async {
                let l = self.list_type(&req.type_name)?;
                let config = fromproto::dynamic_value(req.config.as_ref(), &l.ty)
                    .map_err(|e| bad_input("list configuration", e))?;
                let config = if config.is_null() {
                    l.schema.block.null_object()
                } else {
                    config
                };
                Ok(toproto::diagnostics(&l.imp.validate(&config)))
            },
            |d| toproto::diagnostics(&d),
        )
        .await;
        Ok(Response::new(pb::validate_list_resource_config::Response {
            diagnostics,
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

    async fn validate_action_config(
        &self,
        req: Request<pb::validate_action_config::Request>,
    ) -> Result<Response<pb::validate_action_config::Response>, Status> {
        Ok(Response::new(self.actions.validate(req.into_inner()).await))
    }

    async fn plan_action(
        &self,
        req: Request<pb::plan_action::Request>,
    ) -> Result<Response<pb::plan_action::Response>, Status> {
        let ctx = self.ctx();
        Ok(Response::new(
            self.actions.plan(&ctx, req.into_inner()).await,
        ))
    }

    type InvokeActionStream = action::InvokeStream;

    async fn invoke_action(
        &self,
        req: Request<pb::invoke_action::Request>,
    ) -> Result<Response<Self::InvokeActionStream>, Status> {
        Ok(Response::new(
            self.actions.invoke(self.ctx(), req.into_inner()),
        ))
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
    /// A type at schema version 2 whose upgrades say where they came from.
    struct Versioned;
    #[async_trait]
    impl Resource for Versioned {
        fn type_name(&self) -> &'static str {
            "versioned"
        }
        fn schema(&self) -> Schema {
            Schema {
                version: 2,
                ..Boom.schema()
            }
        }
        fn upgrade_state(&self, version: i64, raw: &[u8]) -> crate::UpgradeStateResponse {
            let text = String::from_utf8_lossy(raw);
            crate::UpgradeStateResponse {
                state: Value::object([("a", Value::string(format!("v{version} {text}")))]),
                diagnostics: Diagnostics::new(),
            }
        }
        async fn plan(&self, _: &CallContext, _: PlanRequest) -> PlanResponse {
            Default::default()
        }
        async fn apply(&self, _: &CallContext, _: ApplyRequest) -> crate::ApplyResponse {
            Default::default()
        }
        async fn read(&self, _: &CallContext, _: ReadRequest) -> crate::ReadResponse {
            Default::default()
        }
        async fn import(&self, _: &CallContext, _: &str) -> ImportResponse {
            Default::default()
        }
    }

    async fn upgrade(version: i64, json: &str) -> pb::upgrade_resource_state::Response {
        let svc = ProviderService::new("test", Arc::new(P));
        svc.upgrade_resource_state(Request::new(pb::upgrade_resource_state::Request {
            type_name: "versioned".into(),
            version,
            raw_state: Some(pb::RawState {
                json: json.as_bytes().to_vec(),
                ..Default::default()
            }),
        }))
        .await
        .unwrap()
        .into_inner()
    }

    #[tokio::test]
    async fn older_states_go_through_the_upgrade_and_current_ones_do_not() {
        let ty = Versioned.schema().block.value_type();
        let a = |resp: &pb::upgrade_resource_state::Response| {
            let v = fromproto::dynamic_value(resp.upgraded_state.as_ref(), &ty).unwrap();
            v.get("a").cloned()
        };
        let old = upgrade(1, r#"{"b":1}"#).await;
        assert!(old.diagnostics.is_empty(), "{:?}", old.diagnostics);
        assert_eq!(a(&old), Some(Value::string(r#"v1 {"b":1}"#)));
        let current = upgrade(2, r#"{"a":"x","gone":1}"#).await;
        assert_eq!(a(&current), Some(Value::string("x")));
        let newer = upgrade(3, r#"{"a":"x"}"#).await;
        assert!(newer.upgraded_state.is_none());
        assert!(newer.diagnostics[0].detail.contains("newer version"));
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
            vec![Arc::new(Boom), Arc::new(Versioned)]
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

#[path = "grpc_action.rs"]
mod action;

#[cfg(test)]
#[path = "grpc_identity_tests.rs"]
mod identity_tests;

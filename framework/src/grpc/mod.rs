//! The `tfplugin5.Provider` gRPC service: every RPC of protocol 5, translated
//! to and from the [`Provider`], [`Resource`] and [`DataSource`] traits.
//!
//! It knows no provider in particular. Each call decodes its values against
//! the schema of the type it names, calls the trait, and encodes the answer;
//! whatever goes wrong (an unknown type name, a malformed value, a value the
//! resource returned that does not fit its own schema, even a panic) comes
//! back as an error diagnostic, never as a broken connection. RPCs this
//! provider has no use for (functions, moves) answer
//! the way Terraform expects of a provider without them.
//!
//! Identity and list resources are answered only for the types that declare
//! them: a type without an identity schema gets no identity fields, exactly
//! as before protocol 5.9, and Terraform older than 1.12 never asks.
//!
//! This module is transport only: the service, its registry of typed types
//! (with the declaration errors found at start-up) and the trait impl, which
//! hands each RPC to the file of its family (`provider`, `resource`,
//! `identity`, `data_source`, `list`, `action`, `ephemeral`, `function`);
//! `guard` holds the panic guard and the decode/encode diagnostics. What a
//! plan or an apply must obey whatever the wire says lives in
//! [`crate::semantics`].

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use futures::FutureExt;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use super::diag::{Diagnostic, Diagnostics};
use super::fromproto;
use super::proto::tfplugin5 as pb;
use super::proto::tfplugin5::provider_server::Provider as ProviderRpc;
use super::resource::{
    ApplyRequest, CallContext, DataSource, ListRequest, ListResource, ListResult, ListSink,
    PlanRequest, Provider, ReadRequest, Resource,
};
use super::rules;
use super::schema::{IdentitySchema, Schema};
use super::semantics::{self, identity_change};
use super::toproto;
use super::value::{Type, Value};
use guard::{bad_input, bad_output, guarded, not_supported, panic_message, unknown_type};
use identity::{identity_checked, identity_in, identity_out};
use list::ListStream;

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
    ephemerals: ephemeral::Ephemerals,
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
        let list_resources =
            list_types(name, provider.as_ref(), &resources, &mut declaration_errors);
        declaration_errors.extend(named_attribute_errors(
            name,
            &provider.schema(),
            &resources,
            &data_sources,
            &list_resources,
        ));
        ProviderService {
            actions: action::Actions::new(name, provider.as_ref()),
            ephemerals: ephemeral::Ephemerals::new(name, provider.as_ref()),
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
        (self.resources.get(name)).ok_or_else(|| unknown_type(&self.name, "resource type", name))
    }

    fn data_source(&self, name: &str) -> Result<&Typed<dyn DataSource>, Diagnostics> {
        (self.data_sources.get(name)).ok_or_else(|| unknown_type(&self.name, "data source", name))
    }

    fn list_type(&self, name: &str) -> Result<&Typed<dyn ListResource>, Diagnostics> {
        (self.list_resources.get(name))
            .ok_or_else(|| unknown_type(&self.name, "list resource type", name))
    }

    fn capabilities() -> pb::ServerCapabilities {
        pb::ServerCapabilities {
            plan_destroy: true,
            get_provider_schema_optional: false,
            move_resource_state: false,
        }
    }
}

/// The list resources, each typed; one whose managed type has no identity
/// is left out and reported in `declaration_errors`.
fn list_types(
    name: &str,
    provider: &dyn Provider,
    resources: &BTreeMap<String, Typed<dyn Resource>>,
    declaration_errors: &mut Diagnostics,
) -> BTreeMap<String, Typed<dyn ListResource>> {
    provider
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
        .collect()
}

/// The attribute names given to declarations (rules, `keep_state_unless`)
/// that the schemas do not have, in every type served.
fn named_attribute_errors(
    name: &str,
    provider_schema: &Schema,
    resources: &BTreeMap<String, Typed<dyn Resource>>,
    data_sources: &BTreeMap<String, Typed<dyn DataSource>>,
    list_resources: &BTreeMap<String, Typed<dyn ListResource>>,
) -> Diagnostics {
    let what = format!("{name} provider block");
    let mut diags = rules::declaration_errors(&what, &provider_schema.block);
    let schemas = resources
        .iter()
        .map(|(k, r)| (format!("resource {k}"), &r.schema))
        .chain(
            data_sources
                .iter()
                .map(|(k, d)| (format!("data source {k}"), &d.schema)),
        )
        .chain(
            list_resources
                .iter()
                .map(|(k, l)| (format!("list resource {k}"), &l.schema)),
        );
    for (what, schema) in schemas {
        diags.extend(rules::declaration_errors(&what, &schema.block));
    }
    for d in &diags.0 {
        tracing::error!(detail = %d.detail, "declaration error");
    }
    diags
}

/// Every RPC, handed to its family's file. A flat list over the protocol's
/// RPCs, one delegation each: nothing here to split.
#[tonic::async_trait]
impl ProviderRpc for ProviderService {
    async fn get_metadata(
        &self,
        req: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        self.get_metadata_rpc(req).await
    }

    async fn get_schema(
        &self,
        req: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        self.get_schema_rpc(req).await
    }

    async fn prepare_provider_config(
        &self,
        req: Request<pb::prepare_provider_config::Request>,
    ) -> Result<Response<pb::prepare_provider_config::Response>, Status> {
        self.prepare_provider_config_rpc(req).await
    }

    async fn validate_resource_type_config(
        &self,
        req: Request<pb::validate_resource_type_config::Request>,
    ) -> Result<Response<pb::validate_resource_type_config::Response>, Status> {
        self.validate_resource_type_config_rpc(req).await
    }

    async fn validate_data_source_config(
        &self,
        req: Request<pb::validate_data_source_config::Request>,
    ) -> Result<Response<pb::validate_data_source_config::Response>, Status> {
        self.validate_data_source_config_rpc(req).await
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        self.upgrade_resource_state_rpc(req).await
    }

    async fn get_resource_identity_schemas(
        &self,
        req: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Result<Response<pb::get_resource_identity_schemas::Response>, Status> {
        self.get_resource_identity_schemas_rpc(req).await
    }

    async fn upgrade_resource_identity(
        &self,
        req: Request<pb::upgrade_resource_identity::Request>,
    ) -> Result<Response<pb::upgrade_resource_identity::Response>, Status> {
        self.upgrade_resource_identity_rpc(req).await
    }

    async fn configure(
        &self,
        req: Request<pb::configure::Request>,
    ) -> Result<Response<pb::configure::Response>, Status> {
        self.configure_rpc(req).await
    }

    async fn read_resource(
        &self,
        req: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        self.read_resource_rpc(req).await
    }

    async fn plan_resource_change(
        &self,
        req: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        self.plan_resource_change_rpc(req).await
    }

    async fn apply_resource_change(
        &self,
        req: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        self.apply_resource_change_rpc(req).await
    }

    async fn import_resource_state(
        &self,
        req: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        self.import_resource_state_rpc(req).await
    }

    async fn move_resource_state(
        &self,
        req: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        self.move_resource_state_rpc(req).await
    }

    async fn read_data_source(
        &self,
        req: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        self.read_data_source_rpc(req).await
    }

    async fn validate_ephemeral_resource_config(
        &self,
        req: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Result<Response<pb::validate_ephemeral_resource_config::Response>, Status> {
        self.validate_ephemeral_resource_config_rpc(req).await
    }

    async fn open_ephemeral_resource(
        &self,
        req: Request<pb::open_ephemeral_resource::Request>,
    ) -> Result<Response<pb::open_ephemeral_resource::Response>, Status> {
        self.open_ephemeral_resource_rpc(req).await
    }

    async fn renew_ephemeral_resource(
        &self,
        req: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Result<Response<pb::renew_ephemeral_resource::Response>, Status> {
        self.renew_ephemeral_resource_rpc(req).await
    }

    async fn close_ephemeral_resource(
        &self,
        req: Request<pb::close_ephemeral_resource::Request>,
    ) -> Result<Response<pb::close_ephemeral_resource::Response>, Status> {
        self.close_ephemeral_resource_rpc(req).await
    }

    type ListResourceStream = ListStream;

    async fn list_resource(
        &self,
        req: Request<pb::list_resource::Request>,
    ) -> Result<Response<Self::ListResourceStream>, Status> {
        self.list_resource_rpc(req).await
    }

    async fn validate_list_resource_config(
        &self,
        req: Request<pb::validate_list_resource_config::Request>,
    ) -> Result<Response<pb::validate_list_resource_config::Response>, Status> {
        self.validate_list_resource_config_rpc(req).await
    }

    async fn get_functions(
        &self,
        req: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        self.get_functions_rpc(req).await
    }

    async fn call_function(
        &self,
        req: Request<pb::call_function::Request>,
    ) -> Result<Response<pb::call_function::Response>, Status> {
        self.call_function_rpc(req).await
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
        req: Request<pb::stop::Request>,
    ) -> Result<Response<pb::stop::Response>, Status> {
        self.stop_rpc(req).await
    }
}

mod action;
mod data_source;
mod ephemeral;
mod function;
mod guard;
mod identity;
mod list;
mod provider;
mod resource;

#[cfg(test)]
mod identity_tests;
#[cfg(test)]
mod tests;

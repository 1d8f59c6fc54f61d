//! List resources written against typed models: a provider implements
//! [`ListResourceType`] with its config, identity and state models and
//! registers it with [`list_resource`]. The framework names the type after
//! the managed one, builds the schema from the config model, runs the
//! declared validators, decodes the config, and turns what the lister finds
//! into results (the state only when Terraform asks for it); an error ends
//! the list with its diagnostics.

use std::marker::PhantomData;
use std::sync::Arc;

use async_trait::async_trait;

use super::{schema_of, validate_config};
use crate::diag::Diagnostics;
use crate::model::Model;
use crate::resource::{CallContext, ListRequest, ListResource, ListResult, ListSink};
use crate::schema::Schema;
use crate::value::Value;

/// A list resource over typed models.
#[async_trait]
pub trait ListResourceType: Send + Sync + 'static {
    /// The `config` block of `list "<type>"`.
    type Config: Model + Send;
    /// The identity of the managed type listed.
    type Identity: Model + Send;
    /// The state of the managed type listed.
    type State: Model + Send + Sync;

    /// The managed resource type it lists (a list resource has its name).
    fn type_name(&self) -> &'static str;

    /// The description of the list resource's schema.
    fn description(&self) -> &'static str;

    /// Finds the objects, sending each to `found` in a stable order; stops
    /// when `found` says Terraform wants no more. An error ends the list.
    async fn list(
        &self,
        ctx: &CallContext,
        config: Self::Config,
        found: &mut Found<'_, Self::Identity, Self::State>,
    ) -> Result<(), Diagnostics>;
}

/// Where a typed lister sends what it finds.
pub struct Found<'a, I, M> {
    sink: &'a mut ListSink,
    include_resource_object: bool,
    _models: PhantomData<fn(I, M)>,
}

impl<I: Model, M: Model> Found<'_, I, M> {
    /// One object, by identity, with a name for people and its state. False
    /// when Terraform wants no more: stop listing.
    pub async fn send(&mut self, identity: I, display_name: String, state: &M) -> bool {
        let result = ListResult {
            identity: identity.to_value(),
            display_name,
            resource_object: self.include_resource_object.then(|| state.to_value()),
            diagnostics: Diagnostics::new(),
        };
        self.sink.send(result).await
    }

    /// Diagnostics alone (a warning about the config), without an object.
    pub async fn note(&mut self, diagnostics: Diagnostics) -> bool {
        self.sink
            .send(ListResult {
                diagnostics,
                ..Default::default()
            })
            .await
    }
}

/// Serves a [`ListResourceType`] as a [`ListResource`].
pub fn list_resource<L: ListResourceType>(l: L) -> Arc<dyn ListResource> {
    Arc::new(TypedList(l))
}

struct TypedList<L>(L);

#[async_trait]
impl<L: ListResourceType> ListResource for TypedList<L> {
    fn type_name(&self) -> &'static str {
        self.0.type_name()
    }

    fn schema(&self) -> Schema {
        schema_of::<L::Config>(self.0.description())
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        validate_config::<L::Config>(config)
    }

    async fn list(&self, ctx: &CallContext, req: ListRequest, sink: &mut ListSink) {
        let config = match L::Config::from_value(&req.config) {
            Ok(c) => c,
            Err(d) => return sink.fail(d.into()).await,
        };
        let mut found = Found {
            sink,
            include_resource_object: req.include_resource_object,
            _models: PhantomData,
        };
        if let Err(d) = self.0.list(ctx, config, &mut found).await {
            found.sink.fail(d).await;
        }
    }
}

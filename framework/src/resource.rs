//! The whole surface the plugin layer shows to resources: the [`Provider`],
//! [`Resource`] and [`DataSource`] traits and their request/response types.
//! Resources never see a protobuf message or a msgpack byte.
//!
//! Values passed in are already decoded against the schema the resource
//! declared (objects carry every attribute, nulls included); values returned
//! must conform to the same schema.
//!
//! Identity (protocol 5.9, Terraform 1.12+) is optional per type: a type that
//! returns an [`IdentitySchema`] from [`Resource::identity_schema`] gets its
//! identity sent with every state Terraform receives (read, plan, apply,
//! import), computed from that state by [`Resource::identity_of`]: an
//! identity is a function of what the object is, never stored apart. Identity fields are null for a type without one, and older
//! Terraform never sees them. A [`ListResource`] (protocol 5.10, Terraform
//! 1.14+, `terraform query`) lists the objects of a managed type that has an
//! identity, by that identity.

use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::diag::{AttributePath, Diagnostic, Diagnostics};
use super::json::{self, ExtraAttributes};
use super::schema::{IdentitySchema, Schema};
use super::value::Value;

/// What every call gets besides its request: the provider-wide stop signal.
/// `StopProvider` cancels `stop`; long waits must watch it and return what
/// they know.
#[derive(Clone, Default)]
pub struct CallContext {
    pub stop: CancellationToken,
}

#[derive(Debug, Clone, Default)]
pub struct PlanRequest {
    /// Null when the resource is being created.
    pub prior_state: Value,
    /// Terraform's proposal: config merged over prior state. Null on destroy.
    pub proposed_new_state: Value,
    pub config: Value,
    pub prior_private: Vec<u8>,
    /// The identity stored with the prior state; null on create, for a type
    /// without identity, or when Terraform predates identity.
    pub prior_identity: Value,
}

#[derive(Debug, Clone, Default)]
pub struct PlanResponse {
    pub planned_state: Value,
    pub requires_replace: Vec<AttributePath>,
    pub planned_private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

#[derive(Debug, Clone, Default)]
pub struct ApplyRequest {
    /// Null on create.
    pub prior_state: Value,
    /// Null on destroy.
    pub planned_state: Value,
    pub config: Value,
    pub planned_private: Vec<u8>,
    /// The identity the plan promised (null when none).
    pub planned_identity: Value,
}

#[derive(Debug, Clone, Default)]
pub struct ApplyResponse {
    /// The state to record. Null after a destroy. On error, whatever is true
    /// of the cloud now (a partial state beats a lost one).
    pub new_state: Value,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

#[derive(Debug, Clone, Default)]
pub struct ReadRequest {
    pub current_state: Value,
    pub private: Vec<u8>,
    /// The identity stored with the state (null when none yet).
    pub current_identity: Value,
}

#[derive(Debug, Clone, Default)]
pub struct ReadResponse {
    /// Null when the object no longer exists (Terraform drops it from state).
    pub new_state: Value,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

#[derive(Debug, Clone, Default)]
pub struct ImportResponse {
    /// The states found for the id or identity; Terraform reads each
    /// afterwards. Each is sent with [`Resource::identity_of`] it.
    pub states: Vec<Value>,
    pub diagnostics: Diagnostics,
}

/// What a stored state of an older schema version became.
#[derive(Debug, Clone, Default)]
pub struct UpgradeStateResponse {
    /// Of the current schema's type.
    pub state: Value,
    pub diagnostics: Diagnostics,
}

/// What a stored identity of an older identity schema version became.
#[derive(Debug, Clone, Default)]
pub struct UpgradeIdentityResponse {
    /// Of the current identity schema's type.
    pub identity: Value,
    pub diagnostics: Diagnostics,
}

/// A `list` block's request (`terraform query`).
#[derive(Debug, Clone, Default)]
pub struct ListRequest {
    /// The `config` block of the list block, decoded against
    /// [`ListResource::schema`]; an object with every attribute null when
    /// the user wrote none.
    pub config: Value,
    /// Whether Terraform wants each object's full state (`include_resource`,
    /// and always with `-generate-config-out`).
    pub include_resource_object: bool,
    /// The most results Terraform will take; `None` when it set no bound.
    /// Terraform stops reading at the limit; a lister may stop earlier.
    pub limit: Option<u64>,
}

/// One object found by a [`ListResource`].
#[derive(Debug, Clone, Default)]
pub struct ListResult {
    /// Of the managed type's identity schema type; must be wholly known.
    pub identity: Value,
    /// For people: shown by `terraform query`.
    pub display_name: String,
    /// The object's state in the managed type's schema, when asked for
    /// ([`ListRequest::include_resource_object`]); ignored otherwise.
    pub resource_object: Option<Value>,
    /// Warnings about this object, or an error that ends the list.
    pub diagnostics: Diagnostics,
}

/// Where a [`ListResource`] sends its results, as it finds them.
pub struct ListSink {
    tx: tokio::sync::mpsc::Sender<ListResult>,
}

impl ListSink {
    pub(crate) fn new(tx: tokio::sync::mpsc::Sender<ListResult>) -> ListSink {
        ListSink { tx }
    }

    /// Sends one result. `false` when Terraform wants no more (its limit was
    /// reached or it went away): stop listing, no more API calls.
    pub async fn send(&mut self, result: ListResult) -> bool {
        self.tx.send(result).await.is_ok()
    }

    /// Ends the list with diagnostics (an error stops Terraform's query of
    /// this block).
    pub async fn fail(&mut self, diagnostics: Diagnostics) {
        let _ = self
            .tx
            .send(ListResult {
                diagnostics,
                ..Default::default()
            })
            .await;
    }

    /// Whether Terraform has stopped reading.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

#[derive(Debug, Clone, Default)]
pub struct DataReadResponse {
    pub state: Value,
    pub diagnostics: Diagnostics,
}

/// A managed resource type, e.g. `example_server`.
#[async_trait]
pub trait Resource: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    /// Static checks of a configuration (values may be unknown). No API calls.
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }
    /// Plans a create or an update (`proposed_new_state` is never null: the
    /// plugin layer plans a destroy itself). The configuration has just been
    /// checked with [`Resource::validate`] again, with the values that were
    /// unknown at validation now known; `plan` need not repeat that.
    async fn plan(&self, ctx: &CallContext, req: PlanRequest) -> PlanResponse;
    async fn apply(&self, ctx: &CallContext, req: ApplyRequest) -> ApplyResponse;
    async fn read(&self, ctx: &CallContext, req: ReadRequest) -> ReadResponse;
    async fn import(&self, ctx: &CallContext, id: &str) -> ImportResponse;

    /// The identity schema, for a type that has one (protocol 5.9). `None`
    /// (the default): the type has no identity and behaves as before 5.9.
    fn identity_schema(&self) -> Option<IdentitySchema> {
        None
    }
    /// The identity of the object a (non-null) state describes, of the
    /// identity schema's type; unknown values only in a planned create or
    /// replace. The framework sends it with every state it passes to
    /// Terraform. Must stay the same for the life of the object: the
    /// framework reports a change as a provider bug.
    fn identity_of(&self, _state: &Value) -> Value {
        Value::Null
    }
    /// Import by identity (`import { identity = { ... } }`, Terraform
    /// 1.12+). `identity` is of the identity schema's type; attributes the
    /// user left out are null.
    async fn import_by_identity(&self, _ctx: &CallContext, _identity: Value) -> ImportResponse {
        ImportResponse {
            states: vec![],
            diagnostics: Diagnostic::error(
                "Import by identity not supported",
                format!(
                    "{} can be imported by id only: use `import {{ id = ... }}`.",
                    self.type_name()
                ),
            )
            .into(),
        }
    }
    /// A state stored at an older schema `version` (below
    /// [`Resource::schema`]'s; the JSON Terraform keeps), in today's shape.
    /// The default reads it with today's attributes: ones no longer declared
    /// are dropped, new ones are null. Override when a version changes an
    /// attribute's type or meaning.
    fn upgrade_state(&self, _version: i64, raw_json: &[u8]) -> UpgradeStateResponse {
        match json::decode(
            raw_json,
            &self.schema().block.value_type(),
            ExtraAttributes::Drop,
        ) {
            Ok(state) => UpgradeStateResponse {
                state,
                diagnostics: Diagnostics::new(),
            },
            Err(e) => UpgradeStateResponse {
                state: Value::Null,
                diagnostics: Diagnostic::error(
                    "Invalid stored state",
                    format!(
                        "The stored state of this {} cannot be read: {e}.",
                        self.type_name()
                    ),
                )
                .into(),
            },
        }
    }
    /// An identity stored at an older identity schema `version` (the JSON
    /// Terraform keeps), in today's shape. The default reads it with today's
    /// attributes: ones no longer declared are dropped, new ones are null.
    /// Override when a version changes an attribute's type or meaning.
    fn upgrade_identity(&self, version: i64, raw_json: &[u8]) -> UpgradeIdentityResponse {
        default_upgrade_identity(self, version, raw_json)
    }
}

/// [`Resource::upgrade_identity`]'s default: the stored identity read with
/// today's attributes.
pub fn default_upgrade_identity<R: Resource + ?Sized>(
    r: &R,
    _version: i64,
    raw_json: &[u8],
) -> UpgradeIdentityResponse {
    let Some(schema) = r.identity_schema() else {
        return UpgradeIdentityResponse {
            identity: Value::Null,
            diagnostics: Diagnostic::error(
                "Resource identity not supported",
                format!("{} has no identity.", r.type_name()),
            )
            .into(),
        };
    };
    match json::decode(raw_json, &schema.value_type(), ExtraAttributes::Drop) {
        Ok(identity) => UpgradeIdentityResponse {
            identity,
            diagnostics: Diagnostics::new(),
        },
        Err(e) => UpgradeIdentityResponse {
            identity: Value::Null,
            diagnostics: Diagnostic::error(
                "Invalid stored identity",
                format!(
                    "The stored identity of this {} cannot be read: {e}.",
                    r.type_name()
                ),
            )
            .into(),
        },
    }
}

/// A list resource type (protocol 5.10): lists the remote objects of the
/// managed type of the same name, by identity, for `terraform query`.
#[async_trait]
pub trait ListResource: Send + Sync {
    /// The name of the managed type it lists; that type must declare an
    /// identity schema.
    fn type_name(&self) -> &'static str;
    /// The schema of the `config` block inside a `list` block: its filters.
    fn schema(&self) -> Schema;
    /// Static checks of the `config` block (values may be unknown). No API calls.
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }
    /// Lists the objects, sending each to `sink` as it is found. Errors go
    /// through [`ListSink::fail`]. Stop when [`ListSink::send`] says so.
    async fn list(&self, ctx: &CallContext, req: ListRequest, sink: &mut ListSink);
}

/// A data source type, e.g. `example_images`.
#[async_trait]
pub trait DataSource: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }
    async fn read(&self, ctx: &CallContext, config: Value) -> DataReadResponse;
}

/// The provider itself: its configuration block and the types it serves.
#[async_trait]
pub trait Provider: Send + Sync {
    fn schema(&self) -> Schema;
    /// Static checks of the provider block. No API calls.
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }
    /// Called once with the provider block (environment fallbacks are the
    /// provider's business). Errors here stop Terraform before any resource call.
    async fn configure(&self, ctx: &CallContext, config: Value) -> Diagnostics;
    fn resources(&self) -> Vec<Arc<dyn Resource>>;
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>>;
    /// The list resources (`terraform query`); none by default.
    fn list_resources(&self) -> Vec<Arc<dyn ListResource>> {
        Vec::new()
    }
    /// The action types (Terraform 1.14+ `action` blocks); none by default.
    fn actions(&self) -> Vec<Arc<dyn crate::action::Action>> {
        Vec::new()
    }
    /// The ephemeral resource types (Terraform 1.10+); none by default.
    fn ephemeral_resources(&self) -> Vec<Arc<dyn crate::ephemeral::EphemeralResource>> {
        Vec::new()
    }
}

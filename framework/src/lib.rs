//! A framework for Terraform providers that speak plugin protocol 5: it
//! knows Terraform and no provider. A provider passes in its name
//! ([`ProviderInfo`]) and the types it serves ([`Provider`]); the framework
//! does the rest.
//!
//! The resources see only [`resource`], [`schema`], [`value`] and [`diag`].
//! The rest is the machinery that carries them to Terraform:
//!
//! - [`serve`]: the process (socket, signals, exit), [`handshake`] (the
//!   cookie and the stdout line) and [`automtls`] (TLS with Terraform's
//!   pinned client certificate);
//! - [`grpc`]: the `Provider` service over the traits, with [`go_plugin`]'s
//!   controller and stdio services beside it;
//! - [`fromproto`] / [`toproto`]: the only code that touches both the
//!   generated protocol types ([`proto`]) and the plain ones;
//! - [`msgpack`], [`json`], [`type_json`] and [`codec`]: cty values and types
//!   on the wire;
//! - [`semantics`]: what every resource's plan, read and apply obey (destroy
//!   planning, re-validation, identity kept for life), whatever the wire;
//! - [`logging`]: hclog-style JSON lines on stderr;
//! - [`action`]: action types (protocol 5.10), served by [`grpc`];
//! - [`ephemeral`]: ephemeral resource types (Terraform 1.10+), served by
//!   [`grpc`];
//! - [`typed`], [`declare`] and [`rules`]: types over typed models, their
//!   declared behaviour, and rules over several attributes of a block;
//! - [`docs`]: registry docs from the schemas and per-page templates.

pub mod action;
pub mod automtls;
pub mod codec;
pub mod declare;
pub mod diag;
pub mod docs;
pub mod duration;
pub mod ephemeral;
pub(crate) mod fromproto;
pub mod go_plugin;
pub mod grpc;
pub mod handshake;
pub mod json;
pub mod logging;
pub mod model;
pub mod msgpack;
mod proto;
pub mod resource;
pub mod rules;
pub mod schema;
pub mod semantics;
pub mod serve;
pub(crate) mod toproto;
pub mod type_json;
pub mod typed;
pub mod value;

pub use action::{Action, ActionType, Progress};
pub use diag::{AttributePath, Diagnostic, Diagnostics, Severity};
pub use ephemeral::{EphemeralResource, EphemeralResourceType, ephemeral_resource};
pub use resource::{
    ApplyRequest, ApplyResponse, CallContext, DataReadResponse, DataSource, ImportResponse,
    ListRequest, ListResource, ListResult, ListSink, PlanRequest, PlanResponse, Provider,
    ReadRequest, ReadResponse, Resource, UpgradeIdentityResponse, UpgradeStateResponse,
};
pub use schema::{
    Attribute, Block, IdentityAttribute, IdentitySchema, NestedBlock, Nesting, Schema,
};
pub use serve::{ProviderInfo, serve, serve_debug};

/// The generated gRPC clients and messages, for protocol tests of a
/// provider built on this crate (feature `testing`).
#[cfg(feature = "testing")]
pub mod testing {
    pub use crate::proto::{plugin, tfplugin5};
}
pub use model::{FieldType, Model, Partial, Tf};
pub use typed::{Applied, Change, DataSourceType, Plan, ResourceType};
pub use value::{Number, Type, Value};

//! Terraform, not CPH: everything needed to be a `tfplugin5` provider plugin.
//!
//! The go-plugin handshake and AutoMTLS, the tonic `Provider` service, the cty
//! value codecs, schemas, diagnostics and hclog-style logging. The resources
//! see only [`resource`], [`schema`], [`value`] and [`diag`].

pub mod diag;
pub mod resource;
pub mod schema;
pub mod value;

pub use diag::{AttributePath, Diagnostic, Diagnostics, Severity};
pub use resource::{
    ApplyRequest, ApplyResponse, CallContext, DataReadResponse, DataSource, ImportResponse,
    PlanRequest, PlanResponse, Provider, ReadRequest, ReadResponse, Resource,
};
pub use schema::{Attribute, Block, NestedBlock, Nesting, Schema};
pub use value::{Number, Type, Value};

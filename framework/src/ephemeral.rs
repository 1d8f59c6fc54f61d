//! Ephemeral resources (Terraform 1.10+): values a configuration reads for
//! the length of one run (plan or apply) and that Terraform never writes to
//! a plan file or to state. Terraform validates the configuration, opens the
//! resource once its configuration is wholly known (an unknown one leaves
//! the result unknown without asking the provider), may renew it when the
//! provider asked for a renewal time, and closes it when the run no longer
//! needs it.
//!
//! [`EphemeralResource`] is the untyped surface the gRPC layer serves;
//! [`EphemeralResourceType`] is how a provider writes one: a model (its
//! configuration and result in one block, like a data source) and `open`.
//! [`ephemeral_resource`] serves the typed form. Whatever the type returns,
//! the result keeps the configured values as Terraform sent them (Terraform
//! refuses a result that differs from the configuration in them) and holds
//! no unknown value. Older Terraform versions never ask for ephemeral
//! resources; to them the provider looks the same.

use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;

use crate::declare::validate_block;
use crate::diag::{AttributePath, Diagnostics};
use crate::model::Model;
use crate::resource::CallContext;
use crate::schema::{Block, Schema};
use crate::typed::schema_of;
use crate::value::Value;

/// What opening an ephemeral resource gave.
#[derive(Debug, Clone, Default)]
pub struct OpenResponse {
    /// The configuration with its computed attributes filled in.
    pub result: Value,
    pub diagnostics: Diagnostics,
    /// When Terraform should call renew (none: never).
    pub renew_at: Option<SystemTime>,
    /// Opaque data Terraform hands back to renew and close.
    pub private: Option<Vec<u8>>,
}

/// What renewing gave.
#[derive(Debug, Clone, Default)]
pub struct RenewResponse {
    pub diagnostics: Diagnostics,
    /// The next renewal (none: no more).
    pub renew_at: Option<SystemTime>,
    pub private: Option<Vec<u8>>,
}

/// An ephemeral resource type, e.g. `example_session`.
#[async_trait]
pub trait EphemeralResource: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    /// Static checks of a configuration (values may be unknown). No API calls.
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }
    /// Opens it with a wholly known configuration.
    async fn open(&self, ctx: &CallContext, config: Value) -> OpenResponse;
    /// Renews what `open` (or the last renewal) gave; by default nothing
    /// to renew.
    async fn renew(&self, _ctx: &CallContext, _private: Option<Vec<u8>>) -> RenewResponse {
        RenewResponse::default()
    }
    /// Releases what `open` gave; by default nothing to release.
    async fn close(&self, _ctx: &CallContext, _private: Option<Vec<u8>>) -> Diagnostics {
        Diagnostics::new()
    }
}

/// An ephemeral resource written against a typed model: one file per type.
/// Nothing is renewed or closed: the type's values simply expire.
#[async_trait]
pub trait EphemeralResourceType: Send + Sync + 'static {
    type Model: Model;
    const TYPE_NAME: &'static str;
    const DESCRIPTION: &'static str;

    /// The type's own static checks, after the declared validators.
    fn validate(&self, _config: &Self::Model, _diags: &mut Diagnostics) {}
    /// The configuration with its computed attributes filled in. Errors in
    /// `diags` fail the run; the result is then not used.
    async fn open(
        &self,
        ctx: &CallContext,
        config: Self::Model,
        diags: &mut Diagnostics,
    ) -> Self::Model;
}

/// Serves an [`EphemeralResourceType`] as an [`EphemeralResource`].
pub fn ephemeral_resource<E: EphemeralResourceType>(e: E) -> Arc<dyn EphemeralResource> {
    Arc::new(TypedEphemeral(e))
}

struct TypedEphemeral<E>(E);

#[async_trait]
impl<E: EphemeralResourceType> EphemeralResource for TypedEphemeral<E> {
    fn type_name(&self) -> &'static str {
        E::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema_of::<E::Model>(E::DESCRIPTION)
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = validate_block(&E::Model::block(), config, &AttributePath::default());
        match E::Model::from_value(config) {
            Ok(m) => self.0.validate(&m, &mut diags),
            Err(d) => diags.push(d),
        }
        diags
    }

    async fn open(&self, ctx: &CallContext, config: Value) -> OpenResponse {
        let mut diagnostics = self.validate(&config);
        if diagnostics.has_errors() {
            return OpenResponse {
                result: config,
                diagnostics,
                ..Default::default()
            };
        }
        let model = match E::Model::from_value(&config) {
            Ok(m) => m,
            Err(d) => {
                diagnostics.push(d);
                return OpenResponse {
                    result: config,
                    diagnostics,
                    ..Default::default()
                };
            }
        };
        let opened = self.0.open(ctx, model, &mut diagnostics).await;
        OpenResponse {
            result: consistent_result(&E::Model::block(), &config, opened.to_value()),
            diagnostics,
            ..Default::default()
        }
    }
}

/// The result as Terraform accepts it: the configured attributes (and the
/// optional computed ones the configuration sets) exactly as configured, and no unknown value anywhere (an
/// unknown computed value becomes null).
pub fn consistent_result(block: &Block, config: &Value, mut result: Value) -> Value {
    if !matches!(result, Value::Object(_)) {
        result = block.null_object();
    }
    for attr in &block.attributes {
        let from_config = config.get(&attr.name).cloned().unwrap_or(Value::Null);
        // Optional and computed: configured when the configuration sets it.
        let configured =
            attr.required || (attr.optional && (!attr.computed || !from_config.is_null()));
        if let Some(slot) = result.get_mut(&attr.name) {
            if configured {
                *slot = from_config;
            } else {
                clear_unknowns(slot);
            }
        }
    }
    result
}

fn clear_unknowns(v: &mut Value) {
    match v {
        _ if v.is_unknown() => *v = Value::Null,
        Value::Set(elems) => {
            elems.retain(|e| !e.is_unknown());
            elems.iter_mut().for_each(clear_unknowns);
        }
        Value::List(elems) | Value::Tuple(elems) => elems.iter_mut().for_each(clear_unknowns),
        Value::Map(m) | Value::Object(m) => m.values_mut().for_each(clear_unknowns),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Diagnostic;
    use crate::model::Tf;
    use std::collections::BTreeMap;

    crate::model! {
        struct Lease {
            names: Vec<String> = required("Names."),
            secrets: BTreeMap<String, String> = computed("Secret per name.").sensitive(),
            note: String = computed("A note."),
        }
    }

    struct Leases;

    #[async_trait]
    impl EphemeralResourceType for Leases {
        type Model = Lease;
        const TYPE_NAME: &'static str = "test_lease";
        const DESCRIPTION: &'static str = "Leases.";

        fn validate(&self, config: &Lease, diags: &mut Diagnostics) {
            if let Tf::Known(names) = &config.names
                && names.iter().any(|n| n.is_empty())
            {
                diags.push(
                    Diagnostic::error("Empty name", "Names are not empty.")
                        .at(AttributePath::root("names")),
                );
            }
        }

        async fn open(&self, _ctx: &CallContext, config: Lease, _diags: &mut Diagnostics) -> Lease {
            let names = config.names.known().cloned().unwrap_or_default();
            Lease {
                // A sloppy type reorders the configured list: the result
                // keeps the configuration's.
                names: Tf::Known(names.iter().rev().cloned().collect()),
                secrets: Tf::Known(
                    names
                        .iter()
                        .map(|n| (n.clone(), format!("s-{n}")))
                        .collect(),
                ),
                note: Tf::Unknown,
            }
        }
    }

    fn config(names: &[&str]) -> Value {
        Value::object([
            (
                "names",
                Value::List(names.iter().map(|n| Value::String(n.to_string())).collect()),
            ),
            ("secrets", Value::Null),
            ("note", Value::Null),
        ])
    }

    #[tokio::test]
    async fn a_typed_ephemeral_resource_opens_consistently_with_its_config() {
        let e = ephemeral_resource(Leases);
        assert_eq!(e.type_name(), "test_lease");
        let schema = e.schema();
        assert!(
            schema
                .block
                .attributes
                .iter()
                .any(|a| a.name == "secrets" && a.sensitive)
        );
        let out = e.open(&CallContext::default(), config(&["a", "b"])).await;
        assert!(!out.diagnostics.has_errors(), "{:?}", out.diagnostics);
        assert_eq!(out.result.get("names"), config(&["a", "b"]).get("names"));
        assert_eq!(
            out.result.get("secrets").and_then(|s| s.get("b")),
            Some(&Value::String("s-b".into()))
        );
        assert_eq!(out.result.get("note"), Some(&Value::Null));
        assert!(out.result.is_wholly_known());
        assert!(out.renew_at.is_none() && out.private.is_none());
    }

    #[test]
    fn optional_computed_values_follow_the_configuration_when_set() {
        use crate::schema::Attribute;
        use crate::value::Type;
        let mut attr = Attribute::optional("mode", Type::String, "Mode.");
        attr.computed = true;
        let block = Block {
            attributes: vec![attr],
            ..Block::default()
        };
        let s = |v: &str| Value::String(v.into());
        let set = Value::object([("mode", s("fast"))]);
        let unset = Value::object([("mode", Value::Null)]);
        let opened = Value::object([("mode", s("slow"))]);
        let kept = consistent_result(&block, &set, opened.clone());
        assert_eq!(kept.get("mode"), Some(&s("fast")));
        assert_eq!(
            consistent_result(&block, &unset, opened).get("mode"),
            Some(&s("slow"))
        );
    }

    #[tokio::test]
    async fn a_bad_configuration_is_refused_before_open() {
        let e = ephemeral_resource(Leases);
        assert!(e.validate(&config(&["a", ""])).has_errors());
        assert!(
            !e.validate(&Value::object([("names", Value::Unknown)]))
                .has_errors()
        );
        let out = e.open(&CallContext::default(), config(&[""])).await;
        assert!(out.diagnostics.has_errors());
        assert!(e.close(&CallContext::default(), None).await.is_empty());
    }
}

//! Actions (protocol 5.10, Terraform 1.14+): operations a configuration
//! declares in `action` blocks and Terraform runs on demand (`terraform apply
//! -invoke=action.TYPE.NAME`) or from a resource's lifecycle
//! (`action_trigger`). An action has a configuration and no state.
//!
//! [`Action`] is the untyped surface the gRPC layer serves; [`ActionType`] is
//! how a provider writes one: a model (the `config` block) and its behaviour
//! (validate, plan, invoke with a [`Progress`] sink). [`action`] serves an
//! [`ActionType`] as an [`Action`]. Older Terraform versions never ask for
//! actions, so a provider that has some looks the same to them.

use std::sync::Arc;

use async_trait::async_trait;

use crate::declare::validate_block;
use crate::diag::{AttributePath, Diagnostics};
use crate::model::Model;
use crate::resource::CallContext;
use crate::schema::Schema;
use crate::typed::schema_of;
use crate::value::Value;

/// Where an invocation sends its progress messages: each is shown to the
/// user as it comes (`terraform apply` prints it under the action).
pub struct Progress {
    tx: tokio::sync::mpsc::Sender<String>,
}

impl Progress {
    pub(crate) fn new(tx: tokio::sync::mpsc::Sender<String>) -> Progress {
        Progress { tx }
    }

    /// Sends one message; `false` when Terraform has gone away (the work
    /// goes on: what was started is finished and reported in the log).
    /// After `StopProvider` no message reaches Terraform, which may have
    /// stopped reading: the framework sends the log what comes then, and
    /// Terraform only the invocation's completion, with its diagnostics.
    pub async fn send(&self, message: impl Into<String>) -> bool {
        self.tx.send(message.into()).await.is_ok()
    }

    /// A sink that drops every message (for tests and direct calls).
    pub fn discard() -> Progress {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(1);
        tokio::spawn(async move { while rx.recv().await.is_some() {} });
        Progress { tx }
    }
}

/// An action type, e.g. `example_server_restart`.
#[async_trait]
pub trait Action: Send + Sync {
    fn type_name(&self) -> &'static str;
    /// The schema of the `config` block of an `action` block.
    fn schema(&self) -> Schema;
    /// Static checks of a configuration (values may be unknown). No API calls.
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }
    /// Checks before the plan is shown; values may still be unknown (an
    /// action triggered by a resource whose change is not known yet).
    async fn plan(&self, _ctx: &CallContext, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }
    /// Runs the action with a wholly known configuration. Errors fail the
    /// `terraform apply` that invoked it.
    async fn invoke(&self, ctx: &CallContext, config: Value, progress: &Progress) -> Diagnostics;
}

/// An action written against a typed model: one file per action type.
#[async_trait]
pub trait ActionType: Send + Sync + 'static {
    type Model: Model;
    const TYPE_NAME: &'static str;
    const DESCRIPTION: &'static str;

    /// The type's own static checks, after the declared validators.
    fn validate(&self, _config: &Self::Model, _diags: &mut Diagnostics) {}
    /// Checks at plan time (values may be unknown).
    async fn plan(&self, _ctx: &CallContext, _config: &Self::Model, _diags: &mut Diagnostics) {}
    /// Does the work, reporting through `progress`.
    async fn invoke(
        &self,
        ctx: &CallContext,
        config: Self::Model,
        progress: &Progress,
        diags: &mut Diagnostics,
    );
}

/// Serves an [`ActionType`] as an [`Action`].
pub fn action<A: ActionType>(a: A) -> Arc<dyn Action> {
    Arc::new(TypedAction(a))
}

struct TypedAction<A>(A);

impl<A: ActionType> TypedAction<A> {
    /// The declared validators and the model, or what is wrong.
    fn decode(config: &Value) -> Result<A::Model, Diagnostics> {
        let diags = validate_block(&A::Model::block(), config, &AttributePath::default());
        if diags.has_errors() {
            return Err(diags);
        }
        A::Model::from_value(config).map_err(Diagnostics::from)
    }
}

#[async_trait]
impl<A: ActionType> Action for TypedAction<A> {
    fn type_name(&self) -> &'static str {
        A::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema_of::<A::Model>(A::DESCRIPTION)
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = validate_block(&A::Model::block(), config, &AttributePath::default());
        match A::Model::from_value(config) {
            Ok(m) => self.0.validate(&m, &mut diags),
            Err(d) => diags.push(d),
        }
        diags
    }

    async fn plan(&self, ctx: &CallContext, config: &Value) -> Diagnostics {
        match Self::decode(config) {
            Ok(m) => {
                let mut diags = Diagnostics::new();
                self.0.validate(&m, &mut diags);
                if !diags.has_errors() {
                    self.0.plan(ctx, &m, &mut diags).await;
                }
                diags
            }
            Err(d) => d,
        }
    }

    async fn invoke(&self, ctx: &CallContext, config: Value, progress: &Progress) -> Diagnostics {
        match Self::decode(&config) {
            Ok(m) => {
                let mut diags = Diagnostics::new();
                self.0.validate(&m, &mut diags);
                if !diags.has_errors() {
                    self.0.invoke(ctx, m, progress, &mut diags).await;
                }
                diags
            }
            Err(d) => d,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Diagnostic;
    use crate::model::Tf;
    use crate::value::Number;

    crate::model! {
        struct Knock {
            times: i64 = required("How many times."),
        }
    }

    struct Door;

    #[async_trait]
    impl ActionType for Door {
        type Model = Knock;
        const TYPE_NAME: &'static str = "test_knock";
        const DESCRIPTION: &'static str = "Knocks.";

        fn validate(&self, config: &Knock, diags: &mut Diagnostics) {
            if matches!(config.times, Tf::Known(n) if n < 1) {
                diags.push(
                    Diagnostic::error("Too few knocks", "At least one.")
                        .at(AttributePath::root("times")),
                );
            }
        }

        async fn invoke(
            &self,
            _ctx: &CallContext,
            config: Knock,
            progress: &Progress,
            _diags: &mut Diagnostics,
        ) {
            let n = config.times.known().copied().unwrap_or(0);
            for i in 1..=n {
                progress.send(format!("knock {i} of {n}")).await;
            }
        }
    }

    fn config(times: Value) -> Value {
        Value::object([("times", times)])
    }

    #[tokio::test]
    async fn a_typed_action_validates_and_streams_its_progress() {
        let a = action(Door);
        assert_eq!(a.type_name(), "test_knock");
        assert!(
            a.schema()
                .block
                .attributes
                .iter()
                .any(|x| x.name == "times")
        );
        let bad = a.validate(&config(Value::Number(Number::Int(0))));
        assert!(bad.has_errors());
        assert!(!a.validate(&config(Value::Unknown)).has_errors());
        let (tx, mut rx) = tokio::sync::mpsc::channel(8);
        let diags = a
            .invoke(
                &CallContext::default(),
                config(Value::Number(Number::Int(2))),
                &Progress::new(tx),
            )
            .await;
        assert!(!diags.has_errors());
        assert_eq!(rx.recv().await.as_deref(), Some("knock 1 of 2"));
        assert_eq!(rx.recv().await.as_deref(), Some("knock 2 of 2"));
        let refused = a
            .invoke(
                &CallContext::default(),
                config(Value::Number(Number::Int(0))),
                &Progress::discard(),
            )
            .await;
        assert!(refused.has_errors());
    }
}

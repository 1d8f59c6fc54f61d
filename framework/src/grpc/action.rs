//! The action RPCs of protocol 5.10 (`ValidateActionConfig`, `PlanAction`,
//! `InvokeAction`) and the action parts of `GetMetadata` and
//! `GetProviderSchema`, over the [`Action`] trait. A submodule of the gRPC
//! service: it shares its decoding and panic guard.
//!
//! `InvokeAction` streams what the action sends to its [`Progress`] as
//! progress events, then exactly one completion event with the diagnostics;
//! after `StopProvider` it sends no progress, only the completion (see
//! [`super::stream`]); a panic or a bad configuration is a completion with
//! an error, never a broken stream.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tonic::Status;

use super::guard::catch_panic;
use super::stream::{self, Next};
use super::{bad_input, guarded, unknown_type};
use crate::action::{Action, Progress};
use crate::diag::{Diagnostic, Diagnostics};
use crate::fromproto;
use crate::proto::tfplugin5 as pb;
use crate::resource::{CallContext, Provider};
use crate::schema::Schema;
use crate::semantics;
use crate::toproto;
use crate::value::{Type, Value};

/// The stream `InvokeAction` answers with.
pub(crate) type InvokeStream =
    Pin<Box<dyn futures::Stream<Item = Result<pb::invoke_action::Event, Status>> + Send>>;

struct ActionEntry {
    imp: Arc<dyn Action>,
    schema: Schema,
    ty: Type,
}

/// The provider's action types, by name.
pub(crate) struct Actions {
    provider_name: String,
    by_name: BTreeMap<String, ActionEntry>,
}

impl Actions {
    pub(crate) fn new(provider_name: &str, provider: &dyn Provider) -> Actions {
        Actions::of(provider_name, provider.actions())
    }

    fn of(provider_name: &str, actions: Vec<Arc<dyn Action>>) -> Actions {
        let by_name = actions
            .into_iter()
            .map(|a| {
                let schema = a.schema();
                let ty = schema.block.value_type();
                let entry = ActionEntry { imp: a, schema, ty };
                (entry.imp.type_name().to_string(), entry)
            })
            .collect();
        Actions {
            provider_name: provider_name.to_string(),
            by_name,
        }
    }

    pub(crate) fn metadata(&self) -> Vec<pb::get_metadata::ActionMetadata> {
        self.by_name
            .keys()
            .map(|k| pb::get_metadata::ActionMetadata {
                type_name: k.clone(),
            })
            .collect()
    }

    pub(crate) fn schemas(&self) -> std::collections::HashMap<String, pb::ActionSchema> {
        self.by_name
            .iter()
            .map(|(k, a)| {
                let schema = Some(toproto::schema(&a.schema));
                (k.clone(), pb::ActionSchema { schema })
            })
            .collect()
    }

    fn entry(&self, name: &str) -> Result<&ActionEntry, Diagnostics> {
        (self.by_name.get(name))
            .ok_or_else(|| unknown_type(&self.provider_name, "action type", name))
    }

    /// The action and its configuration (an object of nulls when absent).
    fn decode(
        &self,
        name: &str,
        config: Option<&pb::DynamicValue>,
    ) -> Result<(Arc<dyn Action>, Value), Diagnostics> {
        let a = self.entry(name)?;
        let config = fromproto::dynamic_value(config, &a.ty)
            .map_err(|e| bad_input("action configuration", e))?;
        let config = semantics::config::block_or_nulls(config, &a.schema.block);
        Ok((a.imp.clone(), config))
    }

    pub(crate) async fn validate(
        &self,
        req: pb::validate_action_config::Request,
    ) -> pb::validate_action_config::Response {
        let diagnostics = guarded(
            "ValidateActionConfig",
            async {
                let (a, config) = self.decode(&req.type_name, req.config.as_ref())?;
                Ok(toproto::diagnostics(&a.validate(&config)))
            },
            |d| toproto::diagnostics(&d),
        )
        .await;
        pb::validate_action_config::Response { diagnostics }
    }

    pub(crate) async fn plan(
        &self,
        ctx: &CallContext,
        req: pb::plan_action::Request,
    ) -> pb::plan_action::Response {
        let diagnostics = guarded(
            "PlanAction",
            async {
                let (a, config) = self.decode(&req.action_type, req.config.as_ref())?;
                Ok(toproto::diagnostics(&a.plan(ctx, &config).await))
            },
            |d| toproto::diagnostics(&d),
        )
        .await;
        pb::plan_action::Response {
            diagnostics,
            deferred: None,
        }
    }

    /// Starts the invocation on its own task and streams its events.
    pub(crate) async fn invoke(
        &self,
        ctx: CallContext,
        req: pb::invoke_action::Request,
    ) -> InvokeStream {
        let start = async {
            let (a, config) = self.decode(&req.action_type, req.config.as_ref())?;
            semantics::config::known_for_invoke(&config)?;
            let (progress_tx, progress_rx) = tokio::sync::mpsc::channel::<String>(64);
            let (done_tx, done_rx) = tokio::sync::oneshot::channel::<Diagnostics>();
            let stop = ctx.stop.clone();
            tokio::spawn(async move {
                let progress = Progress::new(progress_tx);
                let run = catch_panic("InvokeAction", a.invoke(&ctx, config, &progress));
                let _ = done_tx.send(run.await.unwrap_or_else(|d| d));
            });
            let stream: InvokeStream = Box::pin(events(progress_rx, done_rx, stop));
            Ok(stream)
        };
        guarded("InvokeAction", start, |d| {
            Box::pin(futures::stream::iter([Ok(completed(&d))]))
        })
        .await
    }
}

/// Progress events while the action runs (the channel closes when it has
/// returned) and until `StopProvider`, then its completion.
fn events(
    progress: tokio::sync::mpsc::Receiver<String>,
    done: tokio::sync::oneshot::Receiver<Diagnostics>,
    stop: CancellationToken,
) -> impl futures::Stream<Item = Result<pb::invoke_action::Event, Status>> + Send {
    futures::stream::unfold(Some((progress, done)), move |state| {
        let stop = stop.clone();
        async move {
            let (mut progress, done) = state?;
            match stream::next(&mut progress, &stop).await {
                Next::Item(message) => {
                    let event = pb::invoke_action::Event {
                        r#type: Some(pb::invoke_action::event::Type::Progress(
                            pb::invoke_action::event::Progress { message },
                        )),
                    };
                    Some((Ok(event), Some((progress, done))))
                }
                Next::Stopped => {
                    stream::drain_after_stop("InvokeAction", progress).await;
                    Some((Ok(completed(&outcome(done).await)), None))
                }
                Next::Done => Some((Ok(completed(&outcome(done).await)), None)),
            }
        }
    })
}

/// What the action returned.
async fn outcome(done: tokio::sync::oneshot::Receiver<Diagnostics>) -> Diagnostics {
    done.await.unwrap_or_else(|_| {
        Diagnostic::error(
            "Provider internal error",
            "The action ended without reporting its outcome.",
        )
        .into()
    })
}

fn completed(diags: &Diagnostics) -> pb::invoke_action::Event {
    pb::invoke_action::Event {
        r#type: Some(pb::invoke_action::event::Type::Completed(
            pb::invoke_action::event::Completed {
                diagnostics: toproto::diagnostics(diags),
            },
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::{ActionType, action};
    use async_trait::async_trait;
    use futures::StreamExt;

    crate::model! {
        struct Ids {
            ids: Vec<String> = required("Ids."),
        }
    }

    struct Count;

    #[async_trait]
    impl ActionType for Count {
        type Model = Ids;
        const TYPE_NAME: &'static str = "test_count";
        const DESCRIPTION: &'static str = "Counts ids.";

        async fn invoke(
            &self,
            _ctx: &CallContext,
            config: Ids,
            progress: &Progress,
            diags: &mut Diagnostics,
        ) {
            let ids = config.ids.known().cloned().unwrap_or_default();
            for (i, id) in ids.iter().enumerate() {
                progress
                    .send(format!("{} of {}: {id}", i + 1, ids.len()))
                    .await;
            }
            if ids.iter().any(|i| i == "boom") {
                panic!("boom");
            }
            if ids.is_empty() {
                diags.push(Diagnostic::error("Nothing to count", "No ids."));
            }
        }
    }

    /// Sends progress before and after stop, as an action that does not
    /// watch `ctx.stop` might.
    struct Chatty;

    #[async_trait]
    impl ActionType for Chatty {
        type Model = Ids;
        const TYPE_NAME: &'static str = "test_chatty";
        const DESCRIPTION: &'static str = "Talks through stop.";

        async fn invoke(
            &self,
            ctx: &CallContext,
            _config: Ids,
            progress: &Progress,
            diags: &mut Diagnostics,
        ) {
            progress.send("before stop").await;
            progress.send("queued before stop").await;
            ctx.stop.cancelled().await;
            for i in 0..100 {
                progress.send(format!("after stop {i}")).await;
            }
            diags.push(Diagnostic::error("Stopped", "Phones never sent: p-1."));
        }
    }

    struct P;

    #[async_trait]
    impl Provider for P {
        fn schema(&self) -> Schema {
            Schema {
                version: 0,
                block: crate::schema::Block::default(),
            }
        }
        async fn configure(&self, _: &CallContext, _: Value) -> Diagnostics {
            Diagnostics::new()
        }
        fn resources(&self) -> Vec<Arc<dyn crate::Resource>> {
            vec![]
        }
        fn data_sources(&self) -> Vec<Arc<dyn crate::DataSource>> {
            vec![]
        }
        fn actions(&self) -> Vec<Arc<dyn Action>> {
            vec![action(Count)]
        }
    }

    fn request(ids: &[&str]) -> pb::invoke_action::Request {
        let ty = Type::object([("ids", Type::list(Type::String))]);
        let v = Value::object([(
            "ids",
            Value::List(ids.iter().map(|s| Value::string(*s)).collect()),
        )]);
        pb::invoke_action::Request {
            action_type: "test_count".into(),
            config: Some(pb::DynamicValue {
                msgpack: crate::msgpack::encode(&v, &ty).expect("encode"),
                json: vec![],
            }),
            client_capabilities: None,
        }
    }

    /// (progress messages, completion error summaries)
    async fn run(actions: &Actions, ids: &[&str]) -> (Vec<String>, Vec<String>) {
        let mut stream = actions.invoke(CallContext::default(), request(ids)).await;
        let (mut progress, mut errors) = (vec![], vec![]);
        let mut completions = 0;
        while let Some(event) = stream.next().await {
            match event.expect("event").r#type.expect("type") {
                pb::invoke_action::event::Type::Progress(p) => progress.push(p.message),
                pb::invoke_action::event::Type::Completed(c) => {
                    completions += 1;
                    errors.extend(c.diagnostics.into_iter().map(|d| d.summary));
                }
            }
        }
        assert_eq!(completions, 1, "exactly one completion ends the stream");
        (progress, errors)
    }

    #[tokio::test]
    async fn invoke_streams_progress_then_one_completion() {
        let actions = Actions::new("test", &P);
        assert_eq!(actions.metadata().len(), 1);
        assert!(actions.schemas().contains_key("test_count"));
        let (progress, errors) = run(&actions, &["a", "b"]).await;
        assert_eq!(progress, vec!["1 of 2: a", "2 of 2: b"]);
        assert!(errors.is_empty());
        let (_, errors) = run(&actions, &[]).await;
        assert_eq!(errors, vec!["Nothing to count"]);
        let (progress, errors) = run(&actions, &["boom"]).await;
        assert_eq!(progress.len(), 1);
        assert_eq!(errors, vec!["Provider internal error"]);
    }

    #[tokio::test]
    async fn after_stop_no_progress_is_sent_only_the_completion() {
        let actions = Actions::of("test", vec![action(Chatty)]);
        let ctx = CallContext::default();
        let mut req = request(&["a"]);
        req.action_type = "test_chatty".into();
        let mut stream = actions.invoke(ctx.clone(), req).await;
        let first = stream.next().await.expect("an event").expect("ok");
        assert!(matches!(
            first.r#type,
            Some(pb::invoke_action::event::Type::Progress(p)) if p.message == "before stop"
        ));
        ctx.stop.cancel();
        let mut rest = vec![];
        while let Some(event) = stream.next().await {
            rest.push(event.expect("ok").r#type.expect("type"));
        }
        assert_eq!(rest.len(), 1, "only the completion after stop: {rest:?}");
        assert!(matches!(
            &rest[0],
            pb::invoke_action::event::Type::Completed(c) if c.diagnostics[0].summary == "Stopped"
        ));
    }

    #[tokio::test]
    async fn an_unknown_action_type_is_a_diagnostic() {
        let actions = Actions::new("test", &P);
        let mut req = request(&["a"]);
        req.action_type = "test_nope".into();
        let mut stream = actions.invoke(CallContext::default(), req).await;
        let first = stream.next().await.expect("one event").expect("ok");
        assert!(matches!(
            first.r#type,
            Some(pb::invoke_action::event::Type::Completed(c)) if c.diagnostics[0].summary == "Unknown action type"
        ));
        let v = actions
            .validate(pb::validate_action_config::Request {
                type_name: "test_nope".into(),
                config: None,
            })
            .await;
        assert_eq!(v.diagnostics.len(), 1);
    }
}

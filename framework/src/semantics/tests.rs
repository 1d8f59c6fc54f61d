//! One test per rule of the semantics layer, on a resource whose answers
//! each test sets.

use async_trait::async_trait;

use super::identity::{Identities, identity_change, listed};
use super::resource::{apply, imported, plan, prior_stands, read};
use super::upgrade::{upgrade_identity, upgrade_state};
use crate::diag::{AttributePath, Diagnostic, Diagnostics};
use crate::resource::{
    ApplyRequest, ApplyResponse, CallContext, ImportResponse, PlanRequest, PlanResponse,
    ReadRequest, ReadResponse, Resource, UpgradeIdentityResponse, UpgradeStateResponse,
};
use crate::schema::{Block, Schema};
use crate::value::Value;

/// Answers with `state` (plan, read, apply) and `upgraded` (upgrades); its
/// identity is the state's `id`; `validate` refuses a config `{bad = true}`.
struct T {
    state: Value,
    upgraded: Value,
    replace: bool,
}

fn obj(id: Value) -> Value {
    Value::object([("id", id)])
}

fn t(state: Value) -> T {
    T {
        state,
        upgraded: Value::Null,
        replace: false,
    }
}

#[async_trait]
impl Resource for T {
    fn type_name(&self) -> &'static str {
        "t"
    }
    fn schema(&self) -> Schema {
        Schema {
            version: 1,
            block: Block::default(),
        }
    }
    fn validate(&self, config: &Value) -> Diagnostics {
        match config.get("bad") {
            Some(Value::Bool(true)) => Diagnostic::error("Bad config", "no").into(),
            _ => Diagnostics::new(),
        }
    }
    async fn plan(&self, _: &CallContext, _: PlanRequest) -> PlanResponse {
        PlanResponse {
            planned_state: self.state.clone(),
            requires_replace: if self.replace {
                vec![AttributePath::root("id")]
            } else {
                vec![]
            },
            diagnostics: Diagnostic::warning("Planned", "by the resource").into(),
            ..Default::default()
        }
    }
    async fn apply(&self, _: &CallContext, _: ApplyRequest) -> ApplyResponse {
        ApplyResponse {
            new_state: self.state.clone(),
            ..Default::default()
        }
    }
    async fn read(&self, _: &CallContext, _: ReadRequest) -> ReadResponse {
        ReadResponse {
            new_state: self.state.clone(),
            ..Default::default()
        }
    }
    async fn import(&self, _: &CallContext, _: &str) -> ImportResponse {
        ImportResponse::default()
    }
    fn identity_of(&self, state: &Value) -> Value {
        state.get("id").map_or(Value::Null, |id| obj(id.clone()))
    }
    fn upgrade_state(&self, version: i64, _: &[u8]) -> UpgradeStateResponse {
        UpgradeStateResponse {
            state: self.upgraded.clone(),
            diagnostics: if version == 0 {
                Diagnostic::error("Too old", "v0").into()
            } else {
                Diagnostics::new()
            },
        }
    }
    fn upgrade_identity(&self, version: i64, _: &[u8]) -> UpgradeIdentityResponse {
        UpgradeIdentityResponse {
            identity: self.upgraded.clone(),
            diagnostics: if version == 0 {
                Diagnostic::error("Too old", "v0").into()
            } else {
                Diagnostics::new()
            },
        }
    }
}

fn ids(r: &T) -> Identities<'_> {
    Identities {
        resource: r,
        declared: true,
    }
}

fn summaries(d: &Diagnostics) -> Vec<&str> {
    d.0.iter().map(|d| d.summary.as_str()).collect()
}

fn ctx() -> CallContext {
    CallContext::default()
}

#[tokio::test]
async fn a_destroy_is_planned_without_the_resource_and_ends_with_its_identity() {
    let r = t(obj(Value::string("never asked")));
    let req = PlanRequest {
        prior_state: obj(Value::string("a")),
        prior_private: b"keep".to_vec(),
        prior_identity: obj(Value::string("a")),
        ..Default::default()
    };
    let (out, identity) = plan(ids(&r), &ctx(), req).await;
    assert_eq!(out.planned_state, Value::Null);
    assert_eq!(out.planned_private, b"keep");
    assert!(out.diagnostics.is_empty());
    assert_eq!(identity, Some(obj(Value::string("a"))));
}

#[tokio::test]
async fn a_plan_validates_the_config_again_first() {
    let r = t(obj(Value::string("a")));
    let req = PlanRequest {
        proposed_new_state: obj(Value::string("a")),
        config: Value::object([("bad", Value::Bool(true))]),
        ..Default::default()
    };
    let (out, _) = plan(ids(&r), &ctx(), req).await;
    assert_eq!(summaries(&out.diagnostics), ["Bad config", "Planned"]);
}

#[tokio::test]
async fn a_new_object_may_plan_an_unknown_identity_and_sends_none() {
    for (prior, replace) in [(Value::Null, false), (obj(Value::string("a")), true)] {
        let r = T {
            replace,
            ..t(obj(Value::Unknown))
        };
        let req = PlanRequest {
            prior_state: prior.clone(),
            proposed_new_state: obj(Value::Unknown),
            prior_identity: prior.clone(),
            ..Default::default()
        };
        let (out, identity) = plan(ids(&r), &ctx(), req).await;
        assert_eq!(summaries(&out.diagnostics), ["Planned"]);
        assert_eq!(identity, None);
    }
}

#[tokio::test]
async fn an_update_that_changes_the_identity_is_a_provider_bug() {
    let r = t(obj(Value::string("b")));
    let req = PlanRequest {
        prior_state: obj(Value::string("a")),
        proposed_new_state: obj(Value::string("a")),
        prior_identity: obj(Value::string("a")),
        ..Default::default()
    };
    let (out, _) = plan(ids(&r), &ctx(), req).await;
    assert_eq!(
        summaries(&out.diagnostics),
        ["Planned", "Unexpected identity change"]
    );
}

#[tokio::test]
async fn read_and_apply_keep_the_state_but_not_a_changed_identity_quietly() {
    let r = t(obj(Value::string("b")));
    let req = ReadRequest {
        current_state: obj(Value::string("a")),
        current_identity: obj(Value::string("a")),
        ..Default::default()
    };
    let (out, identity) = read(ids(&r), &ctx(), req).await;
    assert_eq!(out.new_state, obj(Value::string("b")));
    assert_eq!(identity, Some(obj(Value::string("b"))));
    assert_eq!(summaries(&out.diagnostics), ["Unexpected identity change"]);
    let req = ApplyRequest {
        planned_state: obj(Value::string("a")),
        planned_identity: obj(Value::string("a")),
        ..Default::default()
    };
    let (out, _) = apply(ids(&r), &ctx(), req).await;
    assert_eq!(summaries(&out.diagnostics), ["Unexpected identity change"]);
    // An identity that was unknown before may become anything.
    let req = ApplyRequest {
        planned_identity: obj(Value::Unknown),
        ..Default::default()
    };
    let (out, identity) = apply(ids(&r), &ctx(), req).await;
    assert!(out.diagnostics.is_empty());
    assert_eq!(identity, Some(obj(Value::string("b"))));
}

#[tokio::test]
async fn an_unknown_identity_outside_a_new_objects_plan_is_an_error() {
    let r = t(obj(Value::Unknown));
    let (out, identity) = read(ids(&r), &ctx(), ReadRequest::default()).await;
    assert_eq!(identity, None);
    assert_eq!(
        summaries(&out.diagnostics),
        ["Provider produced an invalid identity"]
    );
    assert!(imported(ids(&r), vec![obj(Value::Unknown)]).is_err());
    let found = imported(ids(&r), vec![obj(Value::string("a"))]).unwrap();
    assert_eq!(found[0].1, Some(obj(Value::string("a"))));
}

#[tokio::test]
async fn a_type_without_identity_sends_none() {
    let r = t(obj(Value::string("b")));
    let plain = Identities {
        resource: &r,
        declared: false,
    };
    let req = ReadRequest {
        current_identity: obj(Value::string("a")),
        ..Default::default()
    };
    let (out, identity) = read(plain, &ctx(), req).await;
    assert_eq!(identity, None);
    assert!(out.diagnostics.is_empty());
}

#[test]
fn a_listed_identity_must_be_known() {
    assert_eq!(listed("t", &Value::Null), Ok(None));
    let known = obj(Value::string("a"));
    assert_eq!(listed("t", &known), Ok(Some(&known)));
    let bad = listed("t", &obj(Value::Unknown)).unwrap_err();
    assert_eq!(bad.summary, "Provider produced an invalid identity");
}

#[test]
fn identities_agree_where_the_earlier_one_was_unknown() {
    let known = obj(Value::string("a"));
    assert!(identity_change("t", &obj(Value::Unknown), &known).is_none());
    assert!(identity_change("t", &known, &known).is_none());
    assert!(identity_change("t", &Value::Null, &known).is_none());
    let d = identity_change("t", &known, &obj(Value::string("b"))).expect("a change");
    assert!(
        d.detail.contains(r#"{ id = "a" } to { id = "b" }"#),
        "{}",
        d.detail
    );
}

#[test]
fn states_of_newer_versions_are_refused_older_ones_upgraded() {
    let r = T {
        upgraded: obj(Value::string("up")),
        ..t(Value::Null)
    };
    let stored = || Ok(obj(Value::string("as stored")));
    let newer = upgrade_state(&r, 1, 2, Some(b"{}"), stored).unwrap_err();
    assert_eq!(summaries(&newer), ["State from a newer provider"]);
    let (older, _) = upgrade_state(&r, 2, 1, Some(b"{}"), stored).unwrap();
    assert_eq!(older, obj(Value::string("up")));
    let (current, _) = upgrade_state(&r, 1, 1, Some(b"{}"), stored).unwrap();
    assert_eq!(current, obj(Value::string("as stored")));
    let failed = upgrade_state(&r, 2, 0, Some(b"{}"), stored).unwrap_err();
    assert_eq!(summaries(&failed), ["Too old"]);
    let unknown = T {
        upgraded: obj(Value::Unknown),
        ..t(Value::Null)
    };
    let bad = upgrade_state(&unknown, 2, 1, Some(b"{}"), stored).unwrap_err();
    assert_eq!(summaries(&bad), ["Provider produced an invalid state"]);
}

#[test]
fn identities_of_newer_versions_are_refused_older_ones_upgraded() {
    let r = T {
        upgraded: obj(Value::string("up")),
        ..t(Value::Null)
    };
    let newer = upgrade_identity(&r, 1, 2, b"{}").unwrap_err();
    assert_eq!(summaries(&newer), ["Identity from a newer provider"]);
    let (older, _) = upgrade_identity(&r, 1, 1, b"{}").unwrap();
    assert_eq!(older, Some(obj(Value::string("up"))));
    let (failed, diags) = upgrade_identity(&r, 1, 0, b"{}").unwrap();
    assert_eq!((failed, summaries(&diags)), (None, vec!["Too old"]));
    let unknown = T {
        upgraded: obj(Value::Unknown),
        ..t(Value::Null)
    };
    let bad = upgrade_identity(&unknown, 1, 1, b"{}").unwrap_err();
    assert_eq!(summaries(&bad), ["Provider produced an invalid identity"]);
}

#[test]
fn a_failed_apply_answers_with_the_prior_state() {
    let f = prior_stands(obj(Value::string("a")), b"p".to_vec(), Diagnostics::new());
    assert_eq!(f.new_state, obj(Value::string("a")));
    assert_eq!(f.private, b"p");
}

//! Unit tests of the gRPC service: panics, destroys, invalid states, stop.

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

/// A provider whose block declares a rule over an attribute it lacks.
struct Misspelt;
#[async_trait]
impl Provider for Misspelt {
    fn schema(&self) -> Schema {
        Schema {
            version: 0,
            block: Block {
                attributes: vec![Attribute::optional("token", Type::String, "")],
                rules: vec![crate::rules::conflicts_with(&["token", "tokne"])],
                ..Default::default()
            },
        }
    }
    async fn configure(&self, _: &CallContext, _: Value) -> Diagnostics {
        Diagnostics::new()
    }
    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![Arc::new(Boom)]
    }
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        vec![]
    }
}

#[tokio::test]
async fn a_misspelt_declaration_stops_terraform_at_the_schema() {
    let svc = ProviderService::new("test", Arc::new(Misspelt));
    let resp = svc
        .get_schema(Request::new(pb::get_provider_schema::Request {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resp.diagnostics.len(), 1, "{:?}", resp.diagnostics);
    assert!(resp.diagnostics[0].detail.contains("\"tokne\""));
    assert!(resp.diagnostics[0].detail.contains("test provider block"));
    let fine = ProviderService::new("test", Arc::new(P));
    let resp = fine
        .get_schema(Request::new(pb::get_provider_schema::Request {}))
        .await
        .unwrap()
        .into_inner();
    assert!(resp.diagnostics.is_empty());
}

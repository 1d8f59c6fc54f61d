//! Identity and list resources through the `Provider` service: a test
//! provider with one type that has an identity (`thing`, identified by its
//! computed `id`), one that has none (`plain`) and a lister for `thing`.

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use futures::StreamExt;

use super::*;
use crate::diag::AttributePath;
use crate::schema::{Attribute, Block, IdentityAttribute};
use crate::{ApplyResponse, ImportResponse, PlanResponse, ReadResponse};

fn thing_schema() -> Schema {
    Schema {
        version: 0,
        block: Block {
            attributes: vec![
                Attribute::computed("id", Type::String, ""),
                Attribute::required("name", Type::String, ""),
            ],
            ..Default::default()
        },
    }
}

fn thing(id: Value, name: &str) -> Value {
    Value::object([("id", id), ("name", Value::string(name))])
}

/// `thing`: read answers what `read_as` says; apply creates `id = "t-" + name`.
struct Thing {
    /// The id read reports (to simulate a provider bug that changes it).
    read_id: &'static str,
}

#[async_trait]
impl Resource for Thing {
    fn type_name(&self) -> &'static str {
        "thing"
    }
    fn schema(&self) -> Schema {
        thing_schema()
    }
    async fn plan(&self, _: &CallContext, req: PlanRequest) -> PlanResponse {
        let mut planned = req.proposed_new_state;
        let renamed = req.prior_state.get("name") != planned.get("name");
        if req.prior_state.is_null() || renamed {
            planned.set_attr("id", Value::Unknown);
        }
        PlanResponse {
            planned_state: planned,
            requires_replace: if renamed && !req.prior_state.is_null() {
                vec![AttributePath::root("name")]
            } else {
                vec![]
            },
            ..Default::default()
        }
    }
    async fn apply(&self, _: &CallContext, req: ApplyRequest) -> ApplyResponse {
        if req.planned_state.is_null() {
            return ApplyResponse::default();
        }
        let name = req.planned_state.get_str("name").unwrap_or_default();
        let id = if name == "unknowable" {
            Value::Unknown
        } else {
            Value::string(format!("t-{name}"))
        };
        ApplyResponse {
            new_state: thing(id, name),
            ..Default::default()
        }
    }
    async fn read(&self, _: &CallContext, req: ReadRequest) -> ReadResponse {
        if req.current_state.get_str("name") == Some("gone") {
            return ReadResponse::default();
        }
        let mut s = req.current_state;
        s.set_attr("id", Value::string(self.read_id));
        ReadResponse {
            new_state: s,
            ..Default::default()
        }
    }
    async fn import(&self, _: &CallContext, id: &str) -> ImportResponse {
        ImportResponse {
            states: vec![thing(Value::string(id), "imported")],
            ..Default::default()
        }
    }
    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(IdentitySchema {
            version: 1,
            attributes: vec![IdentityAttribute::required("id", Type::String, "")],
        })
    }
    fn identity_of(&self, state: &Value) -> Value {
        Value::object([("id", state.get("id").cloned().unwrap_or_default())])
    }
    async fn import_by_identity(&self, _: &CallContext, identity: Value) -> ImportResponse {
        let id = identity.get_str("id").unwrap_or_default().to_string();
        ImportResponse {
            states: vec![thing(Value::string(id), "by-identity")],
            ..Default::default()
        }
    }
}

/// `plain`: no identity at all.
struct Plain;

#[async_trait]
impl Resource for Plain {
    fn type_name(&self) -> &'static str {
        "plain"
    }
    fn schema(&self) -> Schema {
        thing_schema()
    }
    async fn plan(&self, _: &CallContext, req: PlanRequest) -> PlanResponse {
        PlanResponse {
            planned_state: req.proposed_new_state,
            ..Default::default()
        }
    }
    async fn apply(&self, _: &CallContext, req: ApplyRequest) -> ApplyResponse {
        ApplyResponse {
            new_state: req.planned_state,
            ..Default::default()
        }
    }
    async fn read(&self, _: &CallContext, req: ReadRequest) -> ReadResponse {
        ReadResponse {
            new_state: req.current_state,
            ..Default::default()
        }
    }
    async fn import(&self, _: &CallContext, id: &str) -> ImportResponse {
        ImportResponse {
            states: vec![thing(Value::string(id), "plain")],
            ..Default::default()
        }
    }
}

/// Lists `thing`s `t-0` .. `t-{count-1}`; `prefix = "boom"` panics,
/// `prefix = "bad"` fails after the first result.
struct ThingLister {
    count: usize,
    /// How many results the lister managed to send.
    sent: Arc<AtomicUsize>,
    /// Whether it saw that Terraform stopped reading.
    stopped: Arc<AtomicUsize>,
}

#[async_trait]
impl ListResource for ThingLister {
    fn type_name(&self) -> &'static str {
        "thing"
    }
    fn schema(&self) -> Schema {
        Schema {
            version: 0,
            block: Block {
                attributes: vec![Attribute::optional("prefix", Type::String, "")],
                ..Default::default()
            },
        }
    }
    fn validate(&self, config: &Value) -> Diagnostics {
        match config.get_str("prefix") {
            Some("") => Diagnostic::error("Empty prefix", "say something")
                .at(AttributePath::root("prefix"))
                .into(),
            _ => Diagnostics::new(),
        }
    }
    async fn list(&self, _: &CallContext, req: ListRequest, sink: &mut ListSink) {
        let prefix = req.config.get_str("prefix").unwrap_or("t").to_string();
        if prefix == "boom" {
            panic!("lister exploded");
        }
        for i in 0..self.count {
            if prefix == "bad" && i == 1 {
                sink.fail(Diagnostic::error("Listing failed", "the API said no").into())
                    .await;
                return;
            }
            let id = format!("{prefix}-{i}");
            let result = ListResult {
                identity: Value::object([("id", Value::string(&id))]),
                display_name: format!("thing {id}"),
                resource_object: Some(thing(Value::string(&id), &id)),
                diagnostics: Diagnostics::new(),
            };
            if !sink.send(result).await {
                self.stopped.fetch_add(1, Ordering::SeqCst);
                return;
            }
            self.sent.fetch_add(1, Ordering::SeqCst);
        }
    }
}

struct P {
    read_id: &'static str,
    lister: Option<Arc<ThingLister>>,
    /// Lists `plain`, which has no identity: a declaration error.
    bad_lister: bool,
}

/// Lists `plain` (which has no identity).
struct PlainLister;

#[async_trait]
impl ListResource for PlainLister {
    fn type_name(&self) -> &'static str {
        "plain"
    }
    fn schema(&self) -> Schema {
        Schema {
            version: 0,
            block: Block::default(),
        }
    }
    async fn list(&self, _: &CallContext, _: ListRequest, _: &mut ListSink) {}
}

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
        vec![
            Arc::new(Thing {
                read_id: self.read_id,
            }),
            Arc::new(Plain),
        ]
    }
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        vec![]
    }
    fn list_resources(&self) -> Vec<Arc<dyn ListResource>> {
        let mut v: Vec<Arc<dyn ListResource>> = vec![];
        if let Some(l) = &self.lister {
            v.push(l.clone());
        }
        if self.bad_lister {
            v.push(Arc::new(PlainLister));
        }
        v
    }
}

fn lister(count: usize) -> Arc<ThingLister> {
    Arc::new(ThingLister {
        count,
        sent: Default::default(),
        stopped: Default::default(),
    })
}

fn svc_with(read_id: &'static str, lister: Option<Arc<ThingLister>>) -> ProviderService {
    ProviderService::new(
        "test",
        Arc::new(P {
            read_id,
            lister,
            bad_lister: false,
        }),
    )
}

fn svc() -> ProviderService {
    svc_with("t-a", Some(lister(3)))
}

fn state_ty() -> Type {
    thing_schema().block.value_type()
}

fn id_ty() -> Type {
    Type::object([("id", Type::String)])
}

fn dv(v: &Value, ty: &Type) -> Option<pb::DynamicValue> {
    Some(toproto::dynamic_value(v, ty).unwrap())
}

fn ident(id: &str) -> Option<pb::ResourceIdentityData> {
    toproto::identity(&Value::object([("id", Value::string(id))]), &id_ty()).unwrap()
}

fn ident_value(d: Option<&pb::ResourceIdentityData>) -> Value {
    fromproto::identity(d, &id_ty()).unwrap()
}

fn id_of(v: &str) -> Value {
    Value::object([("id", Value::string(v))])
}

fn summaries(d: &[pb::Diagnostic]) -> Vec<&str> {
    d.iter().map(|d| d.summary.as_str()).collect()
}

#[tokio::test]
async fn identity_schemas_name_only_types_that_have_one() {
    let s = svc();
    let ids = s
        .get_resource_identity_schemas(Request::new(Default::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ids.identity_schemas.keys().collect::<Vec<_>>(), ["thing"]);
    let thing = &ids.identity_schemas["thing"];
    assert_eq!(thing.version, 1);
    assert_eq!(thing.identity_attributes[0].name, "id");
    assert_eq!(thing.identity_attributes[0].r#type, b"\"string\"");
    assert!(thing.identity_attributes[0].required_for_import);

    let schema = s
        .get_schema(Request::new(Default::default()))
        .await
        .unwrap()
        .into_inner();
    assert!(schema.diagnostics.is_empty());
    let list = &schema.list_resource_schemas["thing"];
    assert_eq!(list.block.as_ref().unwrap().attributes[0].name, "prefix");
    let meta = s
        .get_metadata(Request::new(Default::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(meta.list_resources[0].type_name, "thing");
}

#[tokio::test]
async fn a_provider_without_identities_answers_as_before() {
    let s = ProviderService::new(
        "test",
        Arc::new(P {
            read_id: "x",
            lister: None,
            bad_lister: false,
        }),
    );
    let schema = s
        .get_schema(Request::new(Default::default()))
        .await
        .unwrap()
        .into_inner();
    assert!(schema.list_resource_schemas.is_empty());
    let read = s
        .read_resource(Request::new(pb::read_resource::Request {
            type_name: "plain".into(),
            current_state: dv(&thing(Value::string("p"), "n"), &state_ty()),
            // Whatever a client sends for a type without identity is ignored.
            current_identity: ident("p"),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(read.diagnostics.is_empty(), "{:?}", read.diagnostics);
    assert!(read.new_identity.is_none());
    let imported = s
        .import_resource_state(Request::new(pb::import_resource_state::Request {
            type_name: "plain".into(),
            id: "p".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(imported.imported_resources[0].identity.is_none());
    let by_identity = s
        .import_resource_state(Request::new(pb::import_resource_state::Request {
            type_name: "plain".into(),
            identity: ident("p"),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        summaries(&by_identity.diagnostics),
        ["Import by identity for plain not supported"]
    );
    let up = s
        .upgrade_resource_identity(Request::new(pb::upgrade_resource_identity::Request {
            type_name: "plain".into(),
            version: 0,
            raw_identity: None,
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(up.diagnostics.len(), 1);
}

#[tokio::test]
async fn read_returns_the_identity_of_the_refreshed_state() {
    let s = svc();
    for current_identity in [None, ident("t-a")] {
        let read = s
            .read_resource(Request::new(pb::read_resource::Request {
                type_name: "thing".into(),
                current_state: dv(&thing(Value::string("t-a"), "a"), &state_ty()),
                current_identity,
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner();
        assert!(read.diagnostics.is_empty(), "{:?}", read.diagnostics);
        assert_eq!(ident_value(read.new_identity.as_ref()), id_of("t-a"));
    }
    // An object that is gone has no identity.
    let gone = s
        .read_resource(Request::new(pb::read_resource::Request {
            type_name: "thing".into(),
            current_state: dv(&thing(Value::string("t-g"), "gone"), &state_ty()),
            current_identity: ident("t-g"),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(gone.diagnostics.is_empty());
    assert!(gone.new_identity.is_none());
}

#[tokio::test]
async fn an_identity_that_changes_on_read_is_a_provider_bug_but_keeps_the_state() {
    let s = svc_with("t-other", None);
    let read = s
        .read_resource(Request::new(pb::read_resource::Request {
            type_name: "thing".into(),
            current_state: dv(&thing(Value::string("t-a"), "a"), &state_ty()),
            current_identity: ident("t-a"),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(summaries(&read.diagnostics), ["Unexpected identity change"]);
    assert!(read.diagnostics[0].detail.contains(r#"{ id = "t-a" }"#));
    assert!(read.new_state.is_some());
}

#[tokio::test]
async fn plan_sends_no_identity_for_a_create_that_learns_it_and_the_prior_one_on_destroy() {
    let s = svc();
    let create = s
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: "thing".into(),
            proposed_new_state: dv(&thing(Value::Null, "a"), &state_ty()),
            config: dv(&thing(Value::Null, "a"), &state_ty()),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(create.diagnostics.is_empty(), "{:?}", create.diagnostics);
    // Terraform's JSON plan cannot render an unknown identity: none is planned.
    assert!(create.planned_identity.is_none());

    let destroy = s
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: "thing".into(),
            prior_state: dv(&thing(Value::string("t-a"), "a"), &state_ty()),
            prior_identity: ident("t-a"),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(destroy.diagnostics.is_empty());
    assert_eq!(ident_value(destroy.planned_identity.as_ref()), id_of("t-a"));

    // An update keeps the identity; a replace may learn a new one at apply.
    let same = s
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: "thing".into(),
            prior_state: dv(&thing(Value::string("t-a"), "a"), &state_ty()),
            proposed_new_state: dv(&thing(Value::string("t-a"), "a"), &state_ty()),
            config: dv(&thing(Value::Null, "a"), &state_ty()),
            prior_identity: ident("t-a"),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(same.diagnostics.is_empty());
    assert_eq!(ident_value(same.planned_identity.as_ref()), id_of("t-a"));
    let replace = s
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: "thing".into(),
            prior_state: dv(&thing(Value::string("t-a"), "a"), &state_ty()),
            proposed_new_state: dv(&thing(Value::string("t-a"), "b"), &state_ty()),
            config: dv(&thing(Value::Null, "b"), &state_ty()),
            prior_identity: ident("t-a"),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(replace.diagnostics.is_empty(), "{:?}", replace.diagnostics);
    assert_eq!(replace.requires_replace.len(), 1);
    assert!(
        replace.planned_identity.is_none(),
        "its new identity is learned at apply"
    );
}

#[tokio::test]
async fn apply_returns_a_known_identity() {
    let s = svc();
    let created = s
        .apply_resource_change(Request::new(pb::apply_resource_change::Request {
            type_name: "thing".into(),
            planned_state: dv(&thing(Value::Unknown, "a"), &state_ty()),
            planned_identity: toproto::identity(&Value::object([("id", Value::Unknown)]), &id_ty())
                .unwrap(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(created.diagnostics.is_empty(), "{:?}", created.diagnostics);
    assert_eq!(ident_value(created.new_identity.as_ref()), id_of("t-a"));

    let unknowable = s
        .apply_resource_change(Request::new(pb::apply_resource_change::Request {
            type_name: "thing".into(),
            planned_state: dv(&thing(Value::Unknown, "unknowable"), &state_ty()),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(
        summaries(&unknowable.diagnostics).contains(&"Provider produced an invalid identity"),
        "{:?}",
        unknowable.diagnostics
    );

    // The plan promised t-b; the provider made t-a.
    let changed = s
        .apply_resource_change(Request::new(pb::apply_resource_change::Request {
            type_name: "thing".into(),
            prior_state: dv(&thing(Value::string("t-b"), "a"), &state_ty()),
            planned_state: dv(&thing(Value::string("t-b"), "a"), &state_ty()),
            planned_identity: ident("t-b"),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        summaries(&changed.diagnostics),
        ["Unexpected identity change"]
    );

    let destroyed = s
        .apply_resource_change(Request::new(pb::apply_resource_change::Request {
            type_name: "thing".into(),
            prior_state: dv(&thing(Value::string("t-a"), "a"), &state_ty()),
            planned_identity: ident("t-a"),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(destroyed.diagnostics.is_empty());
    assert!(destroyed.new_identity.is_none());
}

#[tokio::test]
async fn import_by_id_or_by_identity_returns_the_identity() {
    let s = svc();
    let by_id = s
        .import_resource_state(Request::new(pb::import_resource_state::Request {
            type_name: "thing".into(),
            id: "t-9".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(by_id.diagnostics.is_empty());
    assert_eq!(
        ident_value(by_id.imported_resources[0].identity.as_ref()),
        id_of("t-9")
    );
    let by_identity = s
        .import_resource_state(Request::new(pb::import_resource_state::Request {
            type_name: "thing".into(),
            identity: ident("t-7"),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(by_identity.diagnostics.is_empty());
    let r = &by_identity.imported_resources[0];
    assert_eq!(ident_value(r.identity.as_ref()), id_of("t-7"));
    let state = fromproto::dynamic_value(r.state.as_ref(), &state_ty()).unwrap();
    assert_eq!(state.get_str("name"), Some("by-identity"));
}

#[tokio::test]
async fn upgrade_identity_reads_stored_json_with_todays_attributes() {
    let s = svc();
    let up = s
        .upgrade_resource_identity(Request::new(pb::upgrade_resource_identity::Request {
            type_name: "thing".into(),
            version: 0,
            raw_identity: Some(pb::RawState {
                json: br#"{"id":"t-a","dropped":"x"}"#.to_vec(),
                flatmap: Default::default(),
            }),
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(up.diagnostics.is_empty(), "{:?}", up.diagnostics);
    let v = fromproto::dynamic_value(
        up.upgraded_identity
            .as_ref()
            .unwrap()
            .identity_data
            .as_ref(),
        &id_ty(),
    )
    .unwrap();
    assert_eq!(v, id_of("t-a"));

    let newer = s
        .upgrade_resource_identity(Request::new(pb::upgrade_resource_identity::Request {
            type_name: "thing".into(),
            version: 2,
            raw_identity: None,
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        summaries(&newer.diagnostics),
        ["Identity from a newer provider"]
    );
}

async fn list(
    s: &ProviderService,
    config: Value,
    include: bool,
    limit: i64,
) -> Vec<pb::list_resource::Event> {
    let ty = Type::object([("prefix", Type::String)]);
    let stream = s
        .list_resource(Request::new(pb::list_resource::Request {
            type_name: "thing".into(),
            config: dv(&config, &ty),
            include_resource_object: include,
            limit,
        }))
        .await
        .unwrap()
        .into_inner();
    stream.map(|e| e.unwrap()).collect().await
}

#[tokio::test]
async fn list_streams_identities_with_objects_only_when_asked() {
    let s = svc();
    let events = list(&s, Value::object([("prefix", Value::Null)]), false, 100).await;
    assert_eq!(events.len(), 3);
    assert_eq!(events[0].display_name, "thing t-0");
    assert_eq!(ident_value(events[2].identity.as_ref()), id_of("t-2"));
    assert!(events.iter().all(|e| e.resource_object.is_none()));

    let events = list(&s, Value::object([("prefix", Value::string("x"))]), true, 0).await;
    assert_eq!(events.len(), 3);
    let obj = fromproto::dynamic_value(events[1].resource_object.as_ref(), &state_ty()).unwrap();
    assert_eq!(obj, thing(Value::string("x-1"), "x-1"));
}

#[tokio::test]
async fn list_stops_the_lister_at_the_limit() {
    let l = lister(1000);
    let s = svc_with("t-a", Some(l.clone()));
    let events = list(&s, Value::Null, false, 2).await;
    assert_eq!(events.len(), 2);
    // The lister learns that nobody reads any more and stops, long before 1000.
    for _ in 0..100 {
        if l.stopped.load(Ordering::SeqCst) == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(l.stopped.load(Ordering::SeqCst), 1);
    assert!(l.sent.load(Ordering::SeqCst) < 100);
}

#[tokio::test]
async fn after_stop_a_list_sends_no_more_objects_only_that_it_stopped() {
    let s = svc_with("t-a", Some(lister(1000)));
    let ty = Type::object([("prefix", Type::String)]);
    let mut stream = s
        .list_resource(Request::new(pb::list_resource::Request {
            type_name: "thing".into(),
            config: dv(&Value::Null, &ty),
            include_resource_object: false,
            limit: 0,
        }))
        .await
        .unwrap()
        .into_inner();
    let first = stream.next().await.expect("an event").unwrap();
    assert_eq!(ident_value(first.identity.as_ref()), id_of("t-0"));
    s.stop(Request::new(pb::stop::Request {})).await.unwrap();
    // Results the lister had queued before stop are not sent either.
    let rest: Vec<_> = stream.map(|e| e.unwrap()).collect().await;
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert!(rest[0].identity.is_none());
    assert_eq!(summaries(&rest[0].diagnostic), ["Listing stopped"]);
    assert!(
        rest[0].diagnostic[0]
            .detail
            .ends_with("it ends after 1 object.")
    );
}

#[tokio::test]
async fn list_errors_and_panics_end_the_stream_with_a_diagnostic() {
    let s = svc();
    let events = list(
        &s,
        Value::object([("prefix", Value::string("bad"))]),
        false,
        100,
    )
    .await;
    assert_eq!(events.len(), 2);
    assert!(events[0].identity.is_some());
    assert_eq!(summaries(&events[1].diagnostic), ["Listing failed"]);

    let events = list(
        &s,
        Value::object([("prefix", Value::string("boom"))]),
        false,
        100,
    )
    .await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        summaries(&events[0].diagnostic),
        ["Provider internal error"]
    );
    assert!(events[0].diagnostic[0].detail.contains("lister exploded"));

    let unknown = s
        .list_resource(Request::new(pb::list_resource::Request {
            type_name: "nope".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner()
        .collect::<Vec<_>>()
        .await;
    assert_eq!(unknown.len(), 1);
    assert_eq!(
        summaries(&unknown[0].as_ref().unwrap().diagnostic),
        ["Unknown list resource type"]
    );
}

#[tokio::test]
async fn validate_list_config_checks_the_config_block() {
    let s = svc();
    let ty = Type::object([("prefix", Type::String)]);
    let validate = |prefix: Value, type_name: &str| {
        s.validate_list_resource_config(Request::new(pb::validate_list_resource_config::Request {
            type_name: type_name.into(),
            config: dv(&Value::object([("prefix", prefix)]), &ty),
            include_resource_object: None,
            limit: None,
        }))
    };
    let ok = validate(Value::Unknown, "thing")
        .await
        .unwrap()
        .into_inner();
    assert!(ok.diagnostics.is_empty());
    let bad = validate(Value::string(""), "thing")
        .await
        .unwrap()
        .into_inner();
    assert_eq!(summaries(&bad.diagnostics), ["Empty prefix"]);
    assert!(bad.diagnostics[0].attribute.is_some());
    let unknown = validate(Value::Null, "nope").await.unwrap().into_inner();
    assert_eq!(
        summaries(&unknown.diagnostics),
        ["Unknown list resource type"]
    );
}

#[tokio::test]
async fn a_list_resource_without_identity_is_reported_by_the_schema() {
    let s = ProviderService::new(
        "test",
        Arc::new(P {
            read_id: "x",
            lister: None,
            bad_lister: true,
        }),
    );
    let schema = s
        .get_schema(Request::new(Default::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        summaries(&schema.diagnostics),
        ["List resource without identity"]
    );
    assert!(schema.list_resource_schemas.is_empty());
}

//! Protocol tests: a tonic client against the in-process plugin server, over
//! a unix socket without TLS, calling the RPCs the way Terraform does.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hyper_util::rt::TokioIo;
use tokio::net::{UnixListener, UnixStream};
use tokio_util::sync::CancellationToken;
use tonic::transport::{Channel, Endpoint, Uri};

use tf_framework::testing::plugin::Empty;
use tf_framework::testing::plugin::grpc_controller_client::GrpcControllerClient;
use tf_framework::testing::tfplugin5 as pb;
use tf_framework::testing::tfplugin5::provider_client::ProviderClient;
use tf_framework::{
    ApplyRequest, ApplyResponse, Attribute, Block, CallContext, DataSource, Diagnostic,
    Diagnostics, ImportResponse, PlanRequest, PlanResponse, Provider, ReadRequest, ReadResponse,
    Resource, Schema, Type, Value, json, msgpack, serve, type_json,
};

/// The test provider as the framework serves it.
const INFO: tf_framework::ProviderInfo = tf_framework::ProviderInfo {
    binary: "terraform-provider-cph",
    address: "registry.terraform.io/cloudphone/cph",
    version: "0.1.0",
    log_targets: &["terraform_provider_cph", "cph"],
};

struct Server {
    provider: ProviderClient<Channel>,
    controller: GrpcControllerClient<Channel>,
    channel: Channel,
    shutdown: CancellationToken,
    done: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

async fn start(provider: Arc<dyn Provider>) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plugin.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let shutdown = CancellationToken::new();
    let done = tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            serve::serve_on(
                INFO,
                provider,
                listener,
                None,
                shutdown.clone(),
                Some(shutdown),
            )
            .await
            .unwrap();
        }
    });
    let channel = Endpoint::try_from("http://localhost")
        .unwrap()
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let path = path.clone();
            async move { Ok::<_, std::io::Error>(TokioIo::new(UnixStream::connect(path).await?)) }
        }))
        .await
        .unwrap();
    Server {
        provider: ProviderClient::new(channel.clone()),
        controller: GrpcControllerClient::new(channel.clone()),
        channel,
        shutdown,
        done,
        _dir: dir,
    }
}

async fn start_cph() -> Server {
    start(terraform_provider_cph::resources::provider()).await
}

fn provider_type() -> Type {
    terraform_provider_cph::resources::schemas::provider()
        .block
        .value_type()
}

fn dv(v: &Value, ty: &Type) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: msgpack::encode(v, ty).unwrap(),
        json: vec![],
    })
}

fn errors(diags: &[pb::Diagnostic]) -> Vec<&pb::Diagnostic> {
    diags
        .iter()
        .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
        .collect()
}

fn attr<'a>(block: &'a pb::schema::Block, name: &str) -> &'a pb::schema::Attribute {
    block
        .attributes
        .iter()
        .find(|a| a.name == name)
        .unwrap_or_else(|| panic!("attribute {name} missing"))
}

#[tokio::test]
async fn get_provider_schema_lists_everything_with_sensitive_flags() {
    let mut s = start_cph().await;
    let resp = s
        .provider
        .get_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    assert!(errors(&resp.diagnostics).is_empty());
    let block = resp.provider.unwrap().block.unwrap();
    for name in [
        "region",
        "project_id",
        "endpoint",
        "access_key",
        "secret_key",
        "security_token",
        "auth_token",
        "insecure",
        "max_retries",
    ] {
        attr(&block, name);
    }
    for secret in ["secret_key", "security_token", "auth_token", "password"] {
        assert!(attr(&block, secret).sensitive, "{secret} must be sensitive");
    }
    assert!(!attr(&block, "access_key").sensitive);
    assert_eq!(attr(&block, "max_retries").r#type, br#""number""#);
    let mut resources: Vec<_> = resp.resource_schemas.keys().cloned().collect();
    resources.sort();
    assert_eq!(
        resources,
        [
            "cph_phone_properties",
            "cph_phone_route",
            "cph_server_flavor"
        ]
    );
    let mut data: Vec<_> = resp.data_source_schemas.keys().cloned().collect();
    data.sort();
    assert_eq!(
        data,
        [
            "cph_phones",
            "cph_server",
            "cph_server_flavor_options",
            "cph_servers"
        ]
    );
    let mut actions: Vec<_> = resp.action_schemas.keys().cloned().collect();
    actions.sort();
    assert_eq!(actions, documented_actions());
    let restart = resp.action_schemas["cph_phone_restart"]
        .schema
        .as_ref()
        .and_then(|s| s.block.as_ref())
        .unwrap();
    assert!(attr(restart, "phone_ids").required);
    let ephemerals: Vec<_> = resp.ephemeral_resource_schemas.keys().cloned().collect();
    assert_eq!(ephemerals, ["cph_phone_connection"]);
    let connection = resp.ephemeral_resource_schemas["cph_phone_connection"]
        .block
        .as_ref()
        .unwrap();
    assert!(attr(connection, "phone_ids").required && attr(connection, "client_type").required);
    assert!(attr(connection, "connections").computed && attr(connection, "connections").sensitive);
    let route = resp.resource_schemas["cph_phone_route"]
        .block
        .as_ref()
        .unwrap();
    assert_eq!(
        type_json::from_bytes(&attr(route, "phone_ids").r#type).unwrap(),
        Type::set(Type::String)
    );
    assert!(resp.server_capabilities.unwrap().plan_destroy);
}

/// The actions with a page template (`templates/actions/<name>.md.tmpl`),
/// sorted: the provider serves exactly these. Derived from the templates so
/// that a batch action added with its page touches no other test; the four
/// first ones are named, so that the list cannot be empty or wrong.
fn documented_actions() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/actions");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("templates/actions")
        .flatten()
        .filter_map(|e| {
            let name = e
                .file_name()
                .to_str()?
                .strip_suffix(".md.tmpl")?
                .to_string();
            Some(name)
        })
        .collect();
    names.sort();
    for known in [
        "cph_phone_reset",
        "cph_phone_restart",
        "cph_phone_stop",
        "cph_server_restart",
    ] {
        assert!(names.iter().any(|n| n == known), "{known} in {names:?}");
    }
    names
}

#[tokio::test]
async fn get_metadata_names_resources_and_data_sources() {
    let mut s = start_cph().await;
    let resp = s
        .provider
        .get_metadata(pb::get_metadata::Request {})
        .await
        .unwrap()
        .into_inner();
    let mut names: Vec<_> = resp.resources.iter().map(|r| r.type_name.clone()).collect();
    names.extend(resp.data_sources.iter().map(|d| d.type_name.clone()));
    names.sort();
    assert_eq!(
        names,
        [
            "cph_phone_properties",
            "cph_phone_route",
            "cph_phones",
            "cph_server",
            "cph_server_flavor",
            "cph_server_flavor_options",
            "cph_servers"
        ]
    );
    let mut actions: Vec<_> = resp.actions.iter().map(|a| a.type_name.clone()).collect();
    actions.sort();
    assert_eq!(actions, documented_actions());
    assert!(resp.server_capabilities.unwrap().plan_destroy);
}

#[tokio::test]
async fn prepare_provider_config_returns_the_config_and_points_at_errors() {
    let mut s = start_cph().await;
    let ty = provider_type();
    let config = Value::object([
        ("region", Value::string("cn-east-3")),
        ("project_id", Value::string("p1")),
        ("auth_token", Value::string("t")),
    ]);
    let resp = s
        .provider
        .prepare_provider_config(pb::prepare_provider_config::Request {
            config: dv(&config, &ty),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
    let prepared = msgpack::decode(&resp.prepared_config.unwrap().msgpack, &ty).unwrap();
    assert_eq!(prepared.get_str("region"), Some("cn-east-3"));
    assert_eq!(prepared.get("endpoint"), Some(&Value::Null));

    let bad = Value::object([("endpoint", Value::string("ftp://x"))]);
    let resp = s
        .provider
        .prepare_provider_config(pb::prepare_provider_config::Request {
            config: dv(&bad, &ty),
        })
        .await
        .unwrap()
        .into_inner();
    let errs = errors(&resp.diagnostics);
    assert_eq!(errs.len(), 1, "{:?}", resp.diagnostics);
    let step = &errs[0].attribute.as_ref().unwrap().steps[0];
    assert_eq!(
        step.selector,
        Some(pb::attribute_path::step::Selector::AttributeName(
            "endpoint".into()
        ))
    );
}

#[tokio::test]
async fn validate_resource_type_config_accepts_unknowns_and_rejects_unknown_types() {
    let mut s = start_cph().await;
    let schema = terraform_provider_cph::resources::schemas::phone_route();
    let ty = schema.block.value_type();
    let config = Value::object([
        ("phone_ids", Value::Unknown),
        ("traffic_type", Value::string("direct")),
    ]);
    let resp = s
        .provider
        .validate_resource_type_config(pb::validate_resource_type_config::Request {
            type_name: "cph_phone_route".into(),
            config: dv(&config, &ty),
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        errors(&resp.diagnostics).is_empty(),
        "{:?}",
        resp.diagnostics
    );

    let resp = s
        .provider
        .validate_resource_type_config(pb::validate_resource_type_config::Request {
            type_name: "cph_nope".into(),
            config: dv(&config, &ty),
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(errors(&resp.diagnostics)[0].detail.contains("cph_nope"));

    // A malformed value is a diagnostic, not a broken call.
    let resp = s
        .provider
        .validate_resource_type_config(pb::validate_resource_type_config::Request {
            type_name: "cph_phone_route".into(),
            config: Some(pb::DynamicValue {
                msgpack: vec![0x81, 0xa3, b'z'],
                json: vec![],
            }),
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(errors(&resp.diagnostics).len(), 1);
}

/// `phone_ids` with a bad known id, a good one and a refined unknown (as
/// Terraform 1.5+ sends `"${x}${late}"`): the bad id is reported at
/// `phone_ids` itself (the protocol has no path into a set) naming the id,
/// and the plan hands `phone_ids` back exactly as configured.
#[tokio::test]
async fn a_partly_unknown_set_is_validated_by_its_known_elements_and_planned_as_configured() {
    let mut s = start_cph().await;
    let ty = terraform_provider_cph::resources::schemas::phone_route()
        .block
        .value_type();
    let refined = tf_framework::msgpack::decode(&[0xc7, 3, 12, 0x81, 0x01, 0xc2], &Type::String)
        .expect("a refined unknown");
    let ids = |bad: bool| {
        let mut e = vec![Value::string("good-id"), refined.clone()];
        if bad {
            e.push(Value::string("Bad Id"));
        }
        Value::set(e)
    };
    let config = |bad: bool| {
        Value::object([
            ("phone_ids", ids(bad)),
            ("traffic_type", Value::string("routing")),
        ])
    };
    let resp = s
        .provider
        .validate_resource_type_config(pb::validate_resource_type_config::Request {
            type_name: "cph_phone_route".into(),
            config: dv(&config(true), &ty),
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner();
    let errs = errors(&resp.diagnostics);
    assert_eq!(errs.len(), 1, "{:?}", resp.diagnostics);
    assert!(errs[0].detail.contains("\"Bad Id\""), "{}", errs[0].detail);
    let steps = &errs[0].attribute.as_ref().expect("a path").steps;
    assert_eq!(
        steps.iter().map(|s| s.selector.clone()).collect::<Vec<_>>(),
        vec![Some(pb::attribute_path::step::Selector::AttributeName(
            "phone_ids".into()
        ))]
    );

    let mut proposed = config(false);
    for computed in ["id", "failed", "running", "summary"] {
        proposed.set_attr(computed, Value::Unknown);
    }
    let resp = s
        .provider
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: "cph_phone_route".into(),
            prior_state: dv(&Value::Null, &ty),
            proposed_new_state: dv(&proposed, &ty),
            config: dv(&config(false), &ty),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        errors(&resp.diagnostics).is_empty(),
        "{:?}",
        resp.diagnostics
    );
    let planned = tf_framework::msgpack::decode(&resp.planned_state.unwrap().msgpack, &ty).unwrap();
    assert_eq!(planned.get("phone_ids"), Some(&ids(false)));
    for computed in ["failed", "running", "summary"] {
        assert!(
            planned.get(computed).is_some_and(Value::is_unknown),
            "{computed}"
        );
    }
}

#[tokio::test]
async fn upgrade_resource_state_reads_json_and_answers_msgpack() {
    let mut s = start_cph().await;
    let ty = terraform_provider_cph::resources::schemas::server_flavor()
        .block
        .value_type();
    let raw = serde_json::json!({
        "id": "s1",
        "server_id": "s1",
        "server_model_name": "m1",
        "phone_model_name": "p1",
        "status": 5,
        "attribute_from_an_older_schema": "x",
        "timeouts": null
    });
    let resp = s
        .provider
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: "cph_server_flavor".into(),
            version: 0,
            raw_state: Some(pb::RawState {
                json: serde_json::to_vec(&raw).unwrap(),
                flatmap: Default::default(),
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
    let v = msgpack::decode(&resp.upgraded_state.unwrap().msgpack, &ty).unwrap();
    assert_eq!(v.get_str("server_id"), Some("s1"));
    assert_eq!(v.get("status").and_then(Value::as_i64), Some(5));
    assert_eq!(
        v.get("order_id"),
        Some(&Value::Null),
        "new attributes are null"
    );
    // And the JSON codec reads back what it would store.
    let stored = json::encode(&v, &ty).unwrap();
    assert_eq!(stored["server_model_name"], "m1");

    let resp = s
        .provider
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: "cph_server_flavor".into(),
            version: 99,
            raw_state: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(errors(&resp.diagnostics).len(), 1);
}

#[tokio::test]
async fn unsupported_rpcs_answer_as_terraform_expects() {
    let mut s = start_cph().await;
    let p = &mut s.provider;
    let f = p
        .get_functions(pb::get_functions::Request {})
        .await
        .unwrap()
        .into_inner();
    assert!(f.functions.is_empty() && f.diagnostics.is_empty());
    let c = p
        .call_function(pb::call_function::Request {
            name: "x".into(),
            arguments: vec![],
        })
        .await
        .unwrap()
        .into_inner();
    assert!(c.error.is_some());
    let m = p
        .move_resource_state(pb::move_resource_state::Request::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(errors(&m.diagnostics).len(), 1);
    let e = p
        .validate_ephemeral_resource_config(pb::validate_ephemeral_resource_config::Request {
            type_name: "cph_x".into(),
            config: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(errors(&e.diagnostics).len(), 1);
    let o = p
        .open_ephemeral_resource(pb::open_ephemeral_resource::Request::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(errors(&o.diagnostics).len(), 1);
    let ids = p
        .get_resource_identity_schemas(pb::get_resource_identity_schemas::Request {})
        .await
        .unwrap()
        .into_inner();
    // Both resources have an identity (Terraform 1.12+); no other RPC changes.
    assert!(ids.diagnostics.is_empty());
    let attrs = |t: &str| -> Vec<String> {
        ids.identity_schemas[t]
            .identity_attributes
            .iter()
            .map(|a| a.name.clone())
            .collect()
    };
    assert_eq!(attrs("cph_server_flavor"), ["server_id"]);
    assert_eq!(attrs("cph_phone_route"), ["id"]);
    // An unknown list resource type is an error event, then the end.
    let mut list = p
        .list_resource(pb::list_resource::Request::default())
        .await
        .unwrap()
        .into_inner();
    let event = list.message().await.unwrap().unwrap();
    assert_eq!(errors(&event.diagnostic).len(), 1);
    assert!(list.message().await.unwrap().is_none());
}

#[tokio::test]
async fn health_reports_plugin_serving() {
    use tonic_health::pb::health_client::HealthClient;
    let s = start_cph().await;
    let resp = HealthClient::new(s.channel.clone())
        .check(tonic_health::pb::HealthCheckRequest {
            service: "plugin".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        resp.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
}

#[tokio::test]
async fn shutdown_ends_the_server() {
    let mut s = start_cph().await;
    s.controller.shutdown(Empty {}).await.unwrap();
    assert!(s.shutdown.is_cancelled());
    tokio::time::timeout(Duration::from_secs(10), s.done)
        .await
        .expect("server ends after Shutdown")
        .unwrap();
}

// ---- StopProvider against a resource that waits ----

struct Waiter;

fn waiter_schema() -> Schema {
    Schema {
        version: 0,
        block: Block {
            attributes: vec![Attribute::optional("id", Type::String, "")],
            ..Default::default()
        },
    }
}

#[async_trait]
impl Resource for Waiter {
    fn type_name(&self) -> &'static str {
        "test_waiter"
    }
    fn schema(&self) -> Schema {
        waiter_schema()
    }
    async fn plan(&self, _: &CallContext, req: PlanRequest) -> PlanResponse {
        PlanResponse {
            planned_state: req.proposed_new_state,
            ..Default::default()
        }
    }
    async fn apply(&self, ctx: &CallContext, req: ApplyRequest) -> ApplyResponse {
        tokio::select! {
            _ = ctx.stop.cancelled() => ApplyResponse {
                new_state: req.planned_state,
                diagnostics: Diagnostic::error("Stopped", "StopProvider was called").into(),
                ..Default::default()
            },
            _ = tokio::time::sleep(Duration::from_secs(60)) => ApplyResponse::default(),
        }
    }
    async fn read(&self, _: &CallContext, req: ReadRequest) -> ReadResponse {
        ReadResponse {
            new_state: req.current_state,
            ..Default::default()
        }
    }
    async fn import(&self, _: &CallContext, _: &str) -> ImportResponse {
        ImportResponse::default()
    }
}

struct WaitProvider;

#[async_trait]
impl Provider for WaitProvider {
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
        vec![Arc::new(Waiter)]
    }
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        vec![]
    }
}

#[tokio::test]
async fn stop_provider_cancels_in_flight_calls() {
    let s = start(Arc::new(WaitProvider)).await;
    let ty = waiter_schema().block.value_type();
    let planned = Value::object([("id", Value::string("w"))]);
    let mut applier = s.provider.clone();
    let apply_ty = ty.clone();
    let apply = tokio::spawn(async move {
        let ty = apply_ty;
        applier
            .apply_resource_change(pb::apply_resource_change::Request {
                type_name: "test_waiter".into(),
                prior_state: dv(&Value::Null, &ty),
                planned_state: dv(&planned, &ty),
                config: dv(&planned, &ty),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stop = s
        .provider
        .clone()
        .stop(pb::stop::Request {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stop.error, "");
    let resp = tokio::time::timeout(Duration::from_secs(10), apply)
        .await
        .expect("apply returns after StopProvider")
        .unwrap();
    assert_eq!(errors(&resp.diagnostics)[0].summary, "Stopped");
    let state = msgpack::decode(&resp.new_state.unwrap().msgpack, &ty).unwrap();
    assert_eq!(state.get_str("id"), Some("w"), "what is known is returned");
}

// ---- Identity and list resources over the socket ----

/// `test_item`s identified by `id`; the lister streams `count` of them.
struct Item;
struct ItemLister {
    count: usize,
    sent: Arc<std::sync::atomic::AtomicUsize>,
}
struct ItemProvider(Arc<ItemLister>);

#[async_trait]
impl Resource for Item {
    fn type_name(&self) -> &'static str {
        "test_item"
    }
    fn schema(&self) -> Schema {
        waiter_schema()
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
            states: vec![Value::object([("id", Value::string(id))])],
            ..Default::default()
        }
    }
    fn identity_schema(&self) -> Option<tf_framework::IdentitySchema> {
        Some(tf_framework::IdentitySchema {
            version: 0,
            attributes: vec![tf_framework::IdentityAttribute::required(
                "id",
                Type::String,
                "The item's id.",
            )],
        })
    }
    fn identity_of(&self, state: &Value) -> Value {
        Value::object([("id", state.get("id").cloned().unwrap_or_default())])
    }
    async fn import_by_identity(&self, ctx: &CallContext, identity: Value) -> ImportResponse {
        self.import(ctx, identity.get_str("id").unwrap_or_default())
            .await
    }
}

#[async_trait]
impl tf_framework::ListResource for ItemLister {
    fn type_name(&self) -> &'static str {
        "test_item"
    }
    fn schema(&self) -> Schema {
        Schema {
            version: 0,
            block: Block::default(),
        }
    }
    async fn list(
        &self,
        _: &CallContext,
        req: tf_framework::ListRequest,
        sink: &mut tf_framework::ListSink,
    ) {
        for i in 0..self.count {
            let id = format!("item-{i}");
            let ok = sink
                .send(tf_framework::ListResult {
                    identity: Value::object([("id", Value::string(&id))]),
                    display_name: id.clone(),
                    resource_object: req
                        .include_resource_object
                        .then(|| Value::object([("id", Value::string(&id))])),
                    diagnostics: Diagnostics::new(),
                })
                .await;
            if !ok {
                return;
            }
            self.sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }
}

#[async_trait]
impl Provider for ItemProvider {
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
        vec![Arc::new(Item)]
    }
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        vec![]
    }
    fn list_resources(&self) -> Vec<Arc<dyn tf_framework::ListResource>> {
        vec![self.0.clone()]
    }
}

#[tokio::test]
async fn identity_and_list_resources_travel_over_grpc() {
    let lister = Arc::new(ItemLister {
        count: 500,
        sent: Default::default(),
    });
    let mut s = start(Arc::new(ItemProvider(lister.clone()))).await;
    let p = &mut s.provider;
    let id_ty = Type::object([("id", Type::String)]);
    let ids = p
        .get_resource_identity_schemas(pb::get_resource_identity_schemas::Request {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        ids.identity_schemas["test_item"].identity_attributes[0].name,
        "id"
    );
    let imported = p
        .import_resource_state(pb::import_resource_state::Request {
            type_name: "test_item".into(),
            identity: Some(pb::ResourceIdentityData {
                identity_data: dv(&Value::object([("id", Value::string("i-1"))]), &id_ty),
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(imported.diagnostics.is_empty());
    let identity = imported.imported_resources[0].identity.as_ref().unwrap();
    let decoded =
        msgpack::decode(&identity.identity_data.as_ref().unwrap().msgpack, &id_ty).unwrap();
    assert_eq!(decoded.get_str("id"), Some("i-1"));

    let mut stream = p
        .list_resource(pb::list_resource::Request {
            type_name: "test_item".into(),
            config: dv(&Value::Object(Default::default()), &Type::object([])),
            include_resource_object: true,
            limit: 3,
        })
        .await
        .unwrap()
        .into_inner();
    let mut names = vec![];
    while let Some(e) = stream.message().await.unwrap() {
        assert!(e.identity.is_some() && e.resource_object.is_some());
        names.push(e.display_name);
    }
    assert_eq!(names, ["item-0", "item-1", "item-2"]);
    // The lister was told to stop: it never got near 500.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(lister.sent.load(std::sync::atomic::Ordering::SeqCst) < 50);
}

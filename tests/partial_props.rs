//! Property tests of partly-known values through the framework, as
//! Terraform sends them: configurations of a model with every kind of field
//! (sets, lists, maps, lists of lists, lists of objects, a nested block),
//! with unknowns, plain and refined (msgpack extension 12), at every depth.
//!
//! - msgpack: every such value encodes, decodes to the same value (refined
//!   unknowns keep their refinements) and encodes to the same bytes again;
//! - plan: through the typed layer (decode into the model, declared
//!   behaviour, the resource's own plan, encode), for a create and for an
//!   update, the planned value never contradicts the configuration: every
//!   attribute the configuration sets is planned exactly as configured
//!   (known leaves equal, unknown elements unknown in place, with their
//!   refinements), and the resource sees a collection with unknown elements
//!   as partly known, with its known elements;
//! - validate: the declared validators check the known elements and skip the
//!   unknown ones; a bad set element is reported at the set.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use proptest::prelude::*;
use tf_framework::diag::PathStep;
use tf_framework::msgpack;
use tf_framework::resource::{CallContext, PlanRequest};
use tf_framework::typed::{self, Applied, Change, Plan, ResourceType};
use tf_framework::value::{Number, Refinements, Type};
use tf_framework::*;

tf_framework::model! {
    pub struct Inner {
        name: String = optional("Name."),
        ids: BTreeSet<String> = optional("Ids."),
        size: i64 = optional("Size."),
    }
}

tf_framework::model! {
    pub struct Thing {
        id: String = computed("Id.").keep_state(),
        ids: BTreeSet<String> = required("Ids.").validate(each(not_blank())),
        names: Vec<String> = optional("Names."),
        tags: BTreeMap<String, String> = optional("Tags."),
        groups: Vec<Vec<String>> = optional("Groups."),
        items: Vec<Inner> = optional("Items."),
        flag: bool = optional("Flag."),
        mode: String = optional("Mode.").default(Value::string("fast")),
        seen: BTreeSet<String> = computed("Ids seen.").keep_state_unless(&["ids"]),
        inner: Inner = block(),
    }
}

/// What the resource's own plan saw of `ids`: known ids and unknown count.
static SEEN: std::sync::Mutex<Option<(BTreeSet<String>, usize)>> = std::sync::Mutex::new(None);

struct ThingType;

#[async_trait]
impl ResourceType for ThingType {
    type Model = Thing;
    type Private = ();
    type Identity = typed::NoIdentity;
    const TYPE_NAME: &'static str = "thing";
    const DESCRIPTION: &'static str = "A thing.";

    /// Like `cph_phone_route`: a partly-known set claims nothing and makes
    /// what apply learns unknown; a known one plans `seen`.
    async fn plan(&self, _ctx: &CallContext, plan: &mut Plan<Thing, ()>) {
        let seen = match &plan.planned.ids {
            Tf::Known(ids) => (ids.clone(), 0),
            Tf::Partial(p) => {
                plan.planned.seen = Tf::Unknown;
                (p.known().clone(), p.unknown_count())
            }
            _ => (BTreeSet::new(), usize::MAX),
        };
        *SEEN.lock().unwrap() = Some(seen);
    }
    async fn apply(
        &self,
        _: &CallContext,
        c: Change<Thing, ()>,
        _: &mut Diagnostics,
    ) -> Applied<Thing, ()> {
        Applied::new(Some(c.planned), ())
    }
    async fn delete(
        &self,
        _: &CallContext,
        _: Thing,
        _: (),
        _: &mut Diagnostics,
    ) -> Applied<Thing, ()> {
        Applied::new(None, ())
    }
    async fn read(
        &self,
        _: &CallContext,
        s: Thing,
        _: (),
        _: &mut Diagnostics,
    ) -> Applied<Thing, ()> {
        Applied::new(Some(s), ())
    }
    async fn import(&self, _: &CallContext, _: &str, _: &mut Diagnostics) -> Vec<Thing> {
        Vec::new()
    }
}

/// Refinement payloads as cty writes them: not null; not null with a
/// string prefix; a collection length range.
fn arb_refined() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(vec![0x81, 0x01, 0xc2]),
        "[a-z]{1,5}".prop_map(|p| {
            let mut b = vec![0x82, 0x01, 0xc2, 0x02, 0xa0 | p.len() as u8];
            b.extend(p.bytes());
            b
        }),
        Just(vec![0x82, 0x05, 0x01, 0x06, 0x03]),
    ]
    .prop_map(|payload| {
        Value::Refined(Refinements {
            ext_type: 12,
            payload,
        })
    })
}

fn arb_unknown() -> impl Strategy<Value = Value> {
    prop_oneof![Just(Value::Unknown), arb_refined()]
}

/// A configured value of type `ty`: unknown (plain or refined) at any
/// depth, null where a configuration may be null, never a null element.
fn arb_value(ty: &Type, nullable: bool) -> BoxedStrategy<Value> {
    let known: BoxedStrategy<Value> = match ty {
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::Number => any::<i32>()
            .prop_map(|i| Value::Number(Number::Int(i64::from(i))))
            .boxed(),
        Type::String => "[a-z0-9]{1,6}".prop_map(Value::String).boxed(),
        Type::List(e) => prop::collection::vec(arb_value(e, false), 0..4)
            .prop_map(Value::List)
            .boxed(),
        Type::Set(e) => prop::collection::vec(arb_value(e, false), 0..5)
            .prop_map(Value::set)
            .boxed(),
        Type::Map(e) => prop::collection::btree_map("[a-z]{1,3}", arb_value(e, false), 0..4)
            .prop_map(Value::Map)
            .boxed(),
        Type::Object(attrs) => {
            let parts: Vec<_> = attrs
                .iter()
                .map(|(k, t)| {
                    let k = k.clone();
                    arb_value(t, true).prop_map(move |v| (k.clone(), v))
                })
                .collect();
            parts
                .prop_map(|kv| Value::Object(kv.into_iter().collect()))
                .boxed()
        }
        Type::Tuple(_) | Type::Dynamic => Just(Value::Null).boxed(),
    };
    if nullable {
        prop_oneof![1 => Just(Value::Null), 1 => arb_unknown(), 5 => known].boxed()
    } else {
        prop_oneof![1 => arb_unknown(), 4 => known].boxed()
    }
}

/// A configuration of `Thing`: computed-only attributes null, `ids` set.
fn arb_config() -> impl Strategy<Value = Value> {
    let ty = Thing::block().value_type();
    let ids = arb_value(&Type::set(Type::String), false);
    (arb_value(&ty, false), ids).prop_map(|(mut v, ids)| {
        if !matches!(v, Value::Object(_)) {
            v = Thing::block().null_object();
        }
        v.set_attr("id", Value::Null);
        v.set_attr("seen", Value::Null);
        v.set_attr("ids", ids);
        v
    })
}

/// Through the wire and back, checking that it round-trips.
fn wire(v: &Value) -> Result<Value, TestCaseError> {
    let ty = Thing::block().value_type();
    let bytes = msgpack::encode(v, &ty).map_err(|e| TestCaseError::fail(format!("{v:?}: {e}")))?;
    let back = msgpack::decode(&bytes, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&back, v);
    let again = msgpack::encode(&back, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(again, bytes);
    Ok(back)
}

/// Every attribute `config` sets is planned as configured, in nested
/// blocks too; computed attributes the configuration leaves null may be
/// anything.
fn check_not_contradicted(
    block: &Block,
    config: &Value,
    planned: &Value,
) -> Result<(), TestCaseError> {
    for a in &block.attributes {
        let c = config.get(&a.name).unwrap_or(&Value::Null);
        if c.is_null() && a.computed {
            continue;
        }
        prop_assert_eq!(
            planned.get(&a.name).unwrap_or(&Value::Null),
            c,
            "attribute {}",
            a.name
        );
    }
    for b in &block.blocks {
        let c = config.get(&b.type_name).unwrap_or(&Value::Null);
        let p = planned.get(&b.type_name).unwrap_or(&Value::Null);
        if matches!(c, Value::Object(_)) {
            check_not_contradicted(&b.block, c, p)?;
        } else {
            prop_assert_eq!(p, c, "block {}", b.type_name);
        }
    }
    Ok(())
}

/// A wholly known stand-in for `v`: what an earlier apply left.
fn known_version(v: &Value) -> Value {
    match v {
        _ if v.is_unknown() => Value::Null,
        Value::Set(e) => Value::set(
            e.iter()
                .filter(|x| !x.is_unknown())
                .map(known_version)
                .collect(),
        ),
        Value::List(e) => Value::List(
            e.iter()
                .filter(|x| !x.is_unknown())
                .map(known_version)
                .collect(),
        ),
        Value::Map(m) => Value::Map(
            m.iter()
                .filter(|(_, x)| !x.is_unknown())
                .map(|(k, x)| (k.clone(), known_version(x)))
                .collect(),
        ),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), known_version(x)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn plan(prior: &Value, config: &Value) -> Result<Value, TestCaseError> {
    let proposed = if prior.is_null() {
        config.clone()
    } else {
        // Terraform's proposal: the configuration over prior computed values.
        let mut p = config.clone();
        for a in Thing::block().attributes.iter().filter(|a| a.computed) {
            if config.get(&a.name).is_none_or(Value::is_null) {
                p.set_attr(&a.name, prior.get(&a.name).cloned().unwrap_or_default());
            }
        }
        p
    };
    let req = PlanRequest {
        prior_state: wire(prior)?,
        proposed_new_state: wire(&proposed)?,
        config: wire(config)?,
        ..Default::default()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let r = typed::resource(ThingType);
    let resp = rt.block_on(r.plan(&CallContext::default(), req));
    prop_assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
    wire(&resp.planned_state)
}

/// The known strings of a set and its unknown count.
fn known_and_unknown(v: &Value) -> (BTreeSet<String>, usize) {
    let e = v.as_elements().unwrap_or_default();
    let known = e
        .iter()
        .filter_map(|x| x.as_str().map(str::to_string))
        .collect();
    (known, e.iter().filter(|x| x.is_unknown()).count())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn planned_values_never_contradict_config(config in arb_config()) {
        let ids = config.get("ids").cloned().unwrap_or_default();
        for prior in [Value::Null, known_version(&config)] {
            let mut prior = prior;
            if !prior.is_null() {
                prior.set_attr("id", Value::string("thing-1"));
                prior.set_attr("mode", Value::string("fast"));
                prior.set_attr("seen", Value::string_set(["old"]));
            }
            *SEEN.lock().unwrap() = None;
            let planned = plan(&prior, &config)?;
            check_not_contradicted(&Thing::block(), &config, &planned)?;
            let seen = SEEN.lock().unwrap().clone();
            if ids.is_unknown() {
                prop_assert_eq!(seen, Some((BTreeSet::new(), usize::MAX)));
            } else {
                prop_assert_eq!(seen, Some(known_and_unknown(&ids)));
            }
            let partly = !ids.is_unknown() && !ids.is_wholly_known();
            if partly {
                prop_assert!(planned.get("seen").is_some_and(Value::is_unknown));
            }
            if prior.is_null() {
                prop_assert!(planned.get("id").is_some_and(Value::is_unknown));
            } else {
                prop_assert_eq!(planned.get_str("id"), Some("thing-1"));
            }
        }
    }

    #[test]
    fn validators_check_known_elements_and_skip_unknown_ones(
        good in prop::collection::btree_set("[a-z]{1,4}", 0..4),
        unknowns in prop::collection::vec(arb_unknown(), 0..3),
        bad in any::<bool>(),
    ) {
        let mut elems: Vec<Value> = good.iter().map(|s| Value::string(s.as_str())).collect();
        elems.extend(unknowns);
        if bad {
            elems.push(Value::string(" "));
        }
        let mut config = Thing::block().null_object();
        config.set_attr("ids", Value::set(elems));
        let d = typed::resource(ThingType).validate(&wire(&config)?);
        prop_assert_eq!(d.0.len(), usize::from(bad), "{:?}", d);
        for diag in &d.0 {
            let path = diag.attribute.clone().unwrap_or_default();
            prop_assert_eq!(path.0.clone(), vec![PathStep::Attribute("ids".into())]);
            prop_assert!(diag.detail.contains("\" \""), "{}", diag.detail);
        }
    }
}

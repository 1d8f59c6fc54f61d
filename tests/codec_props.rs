//! The fuzz targets' properties (fuzz/fuzz_targets/), as a short proptest
//! run in the normal test suite, against the provider's own schema types:
//!
//! - msgpack: decoding arbitrary bytes never panics; whatever decodes
//!   encodes again and decodes to the same value (also for our own encodings
//!   with one byte changed);
//! - JSON stored state (`UpgradeResourceState`, extra attributes dropped):
//!   decoding arbitrary JSON never panics; whatever decodes can be sent to
//!   Terraform as msgpack and stored again as JSON, both round-tripping.
//!
//! The generic round trips of every type live in `src/plugin/codec.rs`.

use proptest::prelude::*;
use serde_json::Value as Json;
use terraform_provider_cph::resources::schemas;
use tf_framework::json::{self, ExtraAttributes};
use tf_framework::msgpack;
use tf_framework::value::{Type, Value};

fn schema_types() -> Vec<Type> {
    vec![
        schemas::phone_route().block.value_type(),
        schemas::server_flavor().block.value_type(),
        schemas::provider().block.value_type(),
        schemas::phones_data().block.value_type(),
        schemas::server_data().block.value_type(),
        Type::Dynamic,
        Type::map(Type::list(Type::Number)),
    ]
}

/// Attribute names of the schemas (and of dynamic values), so that generated
/// JSON objects often fit a type.
const NAMES: &[&str] = &[
    "id",
    "phone_ids",
    "traffic_type",
    "jobs",
    "phone_id",
    "job_id",
    "status",
    "error_code",
    "error_msg",
    "timeouts",
    "create",
    "update",
    "delete",
    "server_id",
    "server_model_name",
    "phone_model_name",
    "auto_pay",
    "order_id",
    "product_id",
    "original_server_model_name",
    "original_phone_model_name",
    "value",
    "type",
    "x",
];

fn arb_json() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(Json::from),
        // Integers above i64 with 16 significant digits: their shortest
        // float text looks like them but the float is another number.
        (9_300_000_000_000_000_000u64..18_000_000_000_000_000_000)
            .prop_map(|u| Json::from(u / 10_000 * 10_000)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Json::from),
        prop_oneof![
            Just("routing".to_string()),
            Just("string".to_string()),
            Just("1e400".to_string()),
            "[a-z0-9._-]{0,8}",
        ]
        .prop_map(Json::String),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Json::Array),
            prop::collection::btree_map(
                prop_oneof![
                    4 => prop::sample::select(NAMES).prop_map(str::to_string),
                    1 => "[a-z]{1,4}",
                ],
                inner,
                0..8
            )
            .prop_map(|m| Json::Object(m.into_iter().collect())),
        ]
    })
}

fn pick(types: &[Type], i: prop::sample::Index) -> &Type {
    &types[i.index(types.len())]
}

/// Whatever decodes from msgpack encodes again and decodes to the same value.
fn msgpack_round_trip(bytes: &[u8], ty: &Type) -> Result<(), TestCaseError> {
    let Ok(value) = msgpack::decode(bytes, ty) else {
        return Ok(());
    };
    let again = msgpack::encode(&value, ty)
        .map_err(|e| TestCaseError::fail(format!("decoded {value:?}, cannot encode: {e}")))?;
    let back = msgpack::decode(&again, ty)
        .map_err(|e| TestCaseError::fail(format!("our encoding of {value:?}: {e}")))?;
    prop_assert_eq!(back, value);
    Ok(())
}

/// Stored state as UpgradeResourceState handles it: decoded (or refused),
/// then sent as msgpack and stored as JSON again, both round-tripping.
fn state_upgrade(bytes: &[u8], ty: &Type) -> Result<Option<Value>, TestCaseError> {
    let Ok(value) = json::decode(bytes, ty, ExtraAttributes::Drop) else {
        return Ok(None);
    };
    let packed = msgpack::encode(&value, ty)
        .map_err(|e| TestCaseError::fail(format!("upgraded {value:?} cannot be sent: {e}")))?;
    let unpacked = msgpack::decode(&packed, ty)
        .map_err(|e| TestCaseError::fail(format!("our msgpack of {value:?}: {e}")))?;
    prop_assert_eq!(&unpacked, &value);
    let j = json::encode(&value, ty)
        .map_err(|e| TestCaseError::fail(format!("{value:?} cannot be stored: {e}")))?;
    let text = serde_json::to_vec(&j).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back = json::decode(&text, ty, ExtraAttributes::Reject)
        .map_err(|e| TestCaseError::fail(format!("our JSON of {value:?}: {e}")))?;
    prop_assert_eq!(&back, &value);
    Ok(Some(value))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn msgpack_arbitrary_bytes(i in any::<prop::sample::Index>(), bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let types = schema_types();
        msgpack_round_trip(&bytes, pick(&types, i))?;
    }

    #[test]
    fn json_state_arbitrary_bytes(i in any::<prop::sample::Index>(), bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let types = schema_types();
        state_upgrade(&bytes, pick(&types, i))?;
    }

    #[test]
    fn json_state_arbitrary_json_and_msgpack_mutations(
        i in any::<prop::sample::Index>(),
        j in arb_json(),
        at in any::<prop::sample::Index>(),
        xor in 1u8..=255,
    ) {
        let types = schema_types();
        let ty = pick(&types, i);
        let text = serde_json::to_vec(&j).map_err(|e| TestCaseError::fail(e.to_string()))?;
        if let Some(value) = state_upgrade(&text, ty)? {
            // A msgpack value of the right shape with one byte changed.
            let mut packed = msgpack::encode(&value, ty)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let k = at.index(packed.len());
            packed[k] ^= xor;
            msgpack_round_trip(&packed, ty)?;
        }
    }

    #[test]
    fn numbers_in_state_keep_their_value(
        u in prop_oneof![
            any::<u64>(),
            // 16 significant digits above i64: the shortest text of the
            // nearest float looks the same, but the float is another number.
            (9_300_000_000_000_000_000u64..18_000_000_000_000_000_000).prop_map(|u| u / 10_000 * 10_000),
        ],
        f in any::<f64>().prop_filter("finite", |f| f.is_finite()),
    ) {
        let ty = Type::map(Type::list(Type::Number));
        for j in [serde_json::json!({"n": [u]}), serde_json::json!({"n": [u.to_string()]}), serde_json::json!({"n": [f]})] {
            let text = serde_json::to_vec(&j).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(state_upgrade(&text, &ty)?.is_some(), "{}", j);
        }
    }

    #[test]
    fn phone_route_state_with_extra_attributes_upgrades(
        ids in prop::collection::vec("[0-9a-f]{32}", 0..5),
        route in prop::sample::select(&["direct", "routing"][..]),
        extra in "[a-z]{1,6}",
    ) {
        let ty = schemas::phone_route().block.value_type();
        let state = serde_json::json!({
            "id": "route-0123456789abcdef",
            "phone_ids": ids,
            "traffic_type": route,
            "jobs": [],
            "timeouts": null,
            format!("gone_{extra}"): "an attribute an older schema had",
        });
        let text = serde_json::to_vec(&state).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let value = state_upgrade(&text, &ty)?;
        prop_assert!(value.is_some(), "stored state from an older schema upgrades");
        let value = value.unwrap_or(Value::Null);
        prop_assert_eq!(value.get_str("traffic_type"), Some(route));
        let mut want = ids.clone();
        want.sort();
        want.dedup();
        prop_assert_eq!(value.get_strings("phone_ids").unwrap_or_default(), want);
    }
}

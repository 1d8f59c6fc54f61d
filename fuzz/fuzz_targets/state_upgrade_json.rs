//! The JSON state decoder behind `UpgradeResourceState` (stored state,
//! extra attributes dropped) on arbitrary bytes, against the resources'
//! schema types: it never panics, and whatever it accepts can be sent back
//! to Terraform (msgpack) and round-trips through both encodings.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tf_framework::json::{self, ExtraAttributes};
use tf_framework::msgpack;
use tf_framework::value::Type;
use terraform_provider_cph::resources::schemas;

fn types() -> Vec<Type> {
    vec![
        schemas::phone_route().block.value_type(),
        schemas::server_flavor().block.value_type(),
        Type::Dynamic,
        Type::map(Type::list(Type::Number)),
    ]
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let types = types();
    let ty = &types[usize::from(pick) % types.len()];
    let Ok(value) = json::decode(bytes, ty, ExtraAttributes::Drop) else {
        return;
    };
    // What UpgradeResourceState answers: the value in msgpack.
    let packed = msgpack::encode(&value, ty)
        .unwrap_or_else(|e| panic!("upgraded state {value:?} cannot be sent: {e}"));
    let unpacked = msgpack::decode(&packed, ty)
        .unwrap_or_else(|e| panic!("cannot decode our own msgpack of {value:?}: {e}"));
    assert_eq!(unpacked, value, "msgpack round trip");
    // And stored again as JSON.
    let j = json::encode(&value, ty)
        .unwrap_or_else(|e| panic!("decoded state {value:?} cannot be stored: {e}"));
    let text = serde_json::to_vec(&j).expect("JSON serialises");
    let back = json::decode(&text, ty, ExtraAttributes::Reject)
        .unwrap_or_else(|e| panic!("cannot decode our own JSON of {value:?}: {e}"));
    assert_eq!(back, value, "JSON round trip");
});

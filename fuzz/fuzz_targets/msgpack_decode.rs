//! The cty msgpack decoder (what Terraform sends in every `DynamicValue`)
//! on arbitrary bytes, against the provider's own schema types and a few
//! generic ones: it never panics, and whatever it accepts encodes again and
//! decodes to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tf_framework::msgpack;
use tf_framework::value::Type;
use terraform_provider_cph::resources::schemas;

fn types() -> Vec<Type> {
    vec![
        schemas::phone_route().block.value_type(),
        schemas::server_flavor().block.value_type(),
        schemas::provider().block.value_type(),
        schemas::phones_data().block.value_type(),
        Type::Dynamic,
        Type::list(Type::Dynamic),
        Type::map(Type::set(Type::Number)),
        Type::Tuple(vec![Type::String, Type::Number, Type::Bool]),
    ]
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks the type, the rest is the value.
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let types = types();
    let ty = &types[usize::from(pick) % types.len()];
    let Ok(value) = msgpack::decode(bytes, ty) else {
        return;
    };
    let again = msgpack::encode(&value, ty)
        .unwrap_or_else(|e| panic!("decoded {value:?} but cannot encode it: {e}"));
    let back = msgpack::decode(&again, ty)
        .unwrap_or_else(|e| panic!("cannot decode our own encoding of {value:?}: {e}"));
    assert_eq!(back, value, "msgpack round trip");
});

//! cty type JSON: how schemas name attribute types on the wire (`"string"`,
//! `["set","string"]`, `["object",{"a":"number"}]`, `"dynamic"`), and how
//! `DynamicPseudoType` values carry their type.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use super::codec::{CodecError, MAX_DEPTH};
use super::value::Type;

/// The type JSON of `ty`.
pub fn to_json(ty: &Type) -> Json {
    match ty {
        Type::Bool => json!("bool"),
        Type::Number => json!("number"),
        Type::String => json!("string"),
        Type::Dynamic => json!("dynamic"),
        Type::List(e) => json!(["list", to_json(e)]),
        Type::Set(e) => json!(["set", to_json(e)]),
        Type::Map(e) => json!(["map", to_json(e)]),
        Type::Object(attrs) => {
            let m: serde_json::Map<String, Json> =
                attrs.iter().map(|(k, t)| (k.clone(), to_json(t))).collect();
            json!(["object", m])
        }
        Type::Tuple(elems) => json!(["tuple", elems.iter().map(to_json).collect::<Vec<_>>()]),
    }
}

/// The type JSON of `ty`, as bytes (the form `Schema.Attribute.type` takes).
pub fn to_bytes(ty: &Type) -> Vec<u8> {
    to_json(ty).to_string().into_bytes()
}

/// Parses type JSON bytes.
pub fn from_bytes(bytes: &[u8]) -> Result<Type, CodecError> {
    let j: Json = serde_json::from_slice(bytes)
        .map_err(|e| CodecError::new(&[], format!("invalid type JSON: {e}")))?;
    from_json(&j)
}

/// Parses type JSON. Optional-attribute markers (a third element of an
/// object type) are accepted and ignored.
pub fn from_json(j: &Json) -> Result<Type, CodecError> {
    parse(j, 0)
}

fn parse(j: &Json, depth: usize) -> Result<Type, CodecError> {
    if depth > MAX_DEPTH {
        return Err(CodecError::new(&[], "type JSON nested too deeply"));
    }
    let bad = || CodecError::new(&[], format!("invalid type JSON: {j}"));
    match j {
        Json::String(s) => match s.as_str() {
            "bool" => Ok(Type::Bool),
            "number" => Ok(Type::Number),
            "string" => Ok(Type::String),
            "dynamic" => Ok(Type::Dynamic),
            _ => Err(bad()),
        },
        Json::Array(a) if a.len() >= 2 => {
            let kind = a[0].as_str().ok_or_else(bad)?;
            let arg = &a[1];
            match (kind, a.len()) {
                ("list", 2) => Ok(Type::list(parse(arg, depth + 1)?)),
                ("set", 2) => Ok(Type::set(parse(arg, depth + 1)?)),
                ("map", 2) => Ok(Type::map(parse(arg, depth + 1)?)),
                ("object", 2 | 3) => {
                    let m = arg.as_object().ok_or_else(bad)?;
                    let mut attrs = BTreeMap::new();
                    for (k, v) in m {
                        attrs.insert(k.clone(), parse(v, depth + 1)?);
                    }
                    Ok(Type::Object(attrs))
                }
                ("tuple", 2) => {
                    let elems = arg.as_array().ok_or_else(bad)?;
                    Ok(Type::Tuple(
                        elems
                            .iter()
                            .map(|e| parse(e, depth + 1))
                            .collect::<Result<_, _>>()?,
                    ))
                }
                _ => Err(bad()),
            }
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primitive_and_nested_types() {
        assert_eq!(to_bytes(&Type::String), br#""string""#);
        assert_eq!(to_bytes(&Type::set(Type::String)), br#"["set","string"]"#);
        let obj = Type::object([("a", Type::Number), ("b", Type::list(Type::Bool))]);
        assert_eq!(
            to_json(&obj),
            json!(["object", {"a": "number", "b": ["list", "bool"]}])
        );
        let all = Type::Tuple(vec![
            Type::Dynamic,
            Type::map(Type::String),
            obj.clone(),
            Type::set(Type::Number),
        ]);
        assert_eq!(from_bytes(&to_bytes(&all)), Ok(all));
    }

    #[test]
    fn optional_attribute_markers_are_accepted() {
        let j = json!(["object", {"a": "string"}, ["a"]]);
        assert_eq!(from_json(&j), Ok(Type::object([("a", Type::String)])));
    }

    #[test]
    fn garbage_is_an_error() {
        for bad in [
            r#""strin""#,
            r#"["list"]"#,
            "42",
            r#"["object",[]]"#,
            "{",
            "",
        ] {
            assert!(from_bytes(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}

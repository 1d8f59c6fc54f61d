//! The JSON encoding of cty values: how Terraform stores state, and so what
//! `UpgradeResourceState` receives. Values in JSON are never unknown.
//!
//! Decoding is lenient where stored state needs it: attributes the current
//! schema no longer has are dropped (when asked), attributes it gained are
//! null, and numbers may be JSON numbers or decimal strings. A
//! `DynamicPseudoType` value is `{"value": …, "type": <type JSON>}`.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::codec::{CodecError, MAX_DEPTH, infer_type};
use super::diag::PathStep;
use super::msgpack::{parse_number, pop_element, push_element};
use super::type_json;
use super::value::{Number, Type, Value};

/// What to do with object attributes the type does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtraAttributes {
    Reject,
    /// Drop them: stored state from an older schema.
    Drop,
}

/// Decodes JSON bytes holding a value of type `ty`.
pub fn decode(bytes: &[u8], ty: &Type, extra: ExtraAttributes) -> Result<Value, CodecError> {
    let j: Json = serde_json::from_slice(bytes)
        .map_err(|e| CodecError::new(&[], format!("invalid JSON: {e}")))?;
    decode_json(&j, ty, extra)
}

/// Decodes a parsed JSON value of type `ty`.
pub fn decode_json(j: &Json, ty: &Type, extra: ExtraAttributes) -> Result<Value, CodecError> {
    let mut path = Vec::new();
    dec(j, ty, extra, &mut path, 0)
}

/// Encodes `value` (which must be wholly known) as JSON of type `ty`.
pub fn encode(value: &Value, ty: &Type) -> Result<Json, CodecError> {
    let mut path = Vec::new();
    enc(value, ty, &mut path)
}

fn dec(
    j: &Json,
    ty: &Type,
    extra: ExtraAttributes,
    path: &mut Vec<PathStep>,
    depth: usize,
) -> Result<Value, CodecError> {
    if depth > MAX_DEPTH {
        return Err(CodecError::new(path, "value nested too deeply"));
    }
    let wrong = |path: &[PathStep]| {
        CodecError::new(
            path,
            format!("expected {}, found {}", type_json::to_json(ty), kind(j)),
        )
    };
    match (ty, j) {
        (_, Json::Null) => Ok(Value::Null),
        (Type::Dynamic, Json::Object(m)) => {
            let (Some(tj), Some(vj)) = (m.get("type"), m.get("value")) else {
                return Err(wrong(path));
            };
            let actual = type_json::from_json(tj).map_err(|e| CodecError::new(path, e.message))?;
            dec(vj, &actual, extra, path, depth + 1)
        }
        (Type::Dynamic, _) => Err(wrong(path)),
        (Type::Bool, Json::Bool(b)) => Ok(Value::Bool(*b)),
        (Type::Bool, Json::String(s)) if s == "true" || s == "false" => {
            Ok(Value::Bool(s == "true"))
        }
        (Type::Number, Json::Number(n)) => {
            json_number(n).map(Value::Number).ok_or_else(|| wrong(path))
        }
        (Type::Number, Json::String(s)) => parse_number(s).ok_or_else(|| wrong(path)),
        (Type::String, Json::String(s)) => Ok(Value::String(s.clone())),
        (Type::String, Json::Number(n)) => Ok(Value::String(n.to_string())),
        (Type::String, Json::Bool(b)) => Ok(Value::String(b.to_string())),
        (Type::List(et), Json::Array(a)) => {
            let typed = a.iter().map(|e| (e, &**et));
            dec_elements(typed, false, extra, path, depth).map(Value::List)
        }
        (Type::Set(et), Json::Array(a)) => {
            let typed = a.iter().map(|e| (e, &**et));
            dec_elements(typed, true, extra, path, depth).map(Value::set)
        }
        (Type::Tuple(ets), Json::Array(a)) if a.len() == ets.len() => {
            dec_elements(a.iter().zip(ets), false, extra, path, depth).map(Value::Tuple)
        }
        (Type::Map(et), Json::Object(m)) => {
            let mut out = BTreeMap::new();
            for (k, v) in m {
                path.push(PathStep::ElementKeyString(k.clone()));
                out.insert(k.clone(), dec(v, et, extra, path, depth + 1)?);
                path.pop();
            }
            Ok(Value::Map(out))
        }
        (Type::Object(attrs), Json::Object(m)) => {
            let mut out: BTreeMap<String, Value> =
                attrs.keys().map(|k| (k.clone(), Value::Null)).collect();
            for (k, v) in m {
                let Some(at) = attrs.get(k) else {
                    if extra == ExtraAttributes::Drop {
                        continue;
                    }
                    return Err(CodecError::new(
                        path,
                        format!("unsupported attribute {k:?}"),
                    ));
                };
                path.push(PathStep::Attribute(k.clone()));
                out.insert(k.clone(), dec(v, at, extra, path, depth + 1)?);
                path.pop();
            }
            Ok(Value::Object(out))
        }
        _ => Err(wrong(path)),
    }
}

/// A JSON number as cty reads it: an int when it is one, a number above
/// i64 in the same form as its text would give, else a float.
fn json_number(n: &serde_json::Number) -> Option<Number> {
    if let Some(i) = n.as_i64() {
        return Some(Number::Int(i));
    }
    if let Some(u) = n.as_u64() {
        // The same form as the number in text (msgpack strings, JSON strings).
        return Some(match parse_number(&u.to_string()) {
            Some(Value::Number(n)) => n,
            _ => Number::Big(u.to_string()),
        });
    }
    n.as_f64().map(Number::Float)
}

/// The elements of an array, each with its type.
fn dec_elements<'a>(
    elems: impl ExactSizeIterator<Item = (&'a Json, &'a Type)>,
    set: bool,
    extra: ExtraAttributes,
    path: &mut Vec<PathStep>,
    depth: usize,
) -> Result<Vec<Value>, CodecError> {
    let mut out = Vec::with_capacity(elems.len());
    for (i, (e, et)) in elems.enumerate() {
        push_element(path, set, i);
        out.push(dec(e, et, extra, path, depth + 1)?);
        pop_element(path, set);
    }
    Ok(out)
}

fn kind(j: &Json) -> &'static str {
    match j {
        Json::Null => "null",
        Json::Bool(_) => "a bool",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

fn enc(v: &Value, ty: &Type, path: &mut Vec<PathStep>) -> Result<Json, CodecError> {
    let wrong = |path: &[PathStep]| {
        CodecError::new(
            path,
            format!("value does not conform to type {}", type_json::to_json(ty)),
        )
    };
    match (ty, v) {
        (_, Value::Null) => Ok(Json::Null),
        (_, Value::Unknown | Value::Refined(_)) => {
            Err(CodecError::new(path, "unknown values cannot be stored"))
        }
        (Type::Dynamic, v) => {
            let actual = infer_type(v);
            let value = enc(v, &actual, path)?;
            Ok(serde_json::json!({"value": value, "type": type_json::to_json(&actual)}))
        }
        (Type::Bool, Value::Bool(b)) => Ok(Json::Bool(*b)),
        (Type::Number, Value::Number(n)) => match n {
            Number::Int(i) => Ok(Json::from(*i)),
            Number::Float(f) => serde_json::Number::from_f64(*f)
                .map(Json::Number)
                .ok_or_else(|| CodecError::new(path, "not a finite number")),
            Number::Big(s) => Ok(Json::String(s.clone())),
        },
        (Type::String, Value::String(s)) => Ok(Json::String(s.clone())),
        (Type::List(et) | Type::Set(et), Value::List(e) | Value::Set(e) | Value::Tuple(e)) => {
            let mut out = Vec::with_capacity(e.len());
            let set = matches!(ty, Type::Set(_));
            for (i, x) in e.iter().enumerate() {
                push_element(path, set, i);
                out.push(enc(x, et, path)?);
                pop_element(path, set);
            }
            Ok(Json::Array(out))
        }
        (Type::Tuple(ets), Value::Tuple(e) | Value::List(e)) if ets.len() == e.len() => {
            let mut out = Vec::with_capacity(e.len());
            for (i, (x, et)) in e.iter().zip(ets).enumerate() {
                path.push(PathStep::ElementKeyInt(i as i64));
                out.push(enc(x, et, path)?);
                path.pop();
            }
            Ok(Json::Array(out))
        }
        (Type::Map(et), Value::Map(m) | Value::Object(m)) => {
            let mut out = serde_json::Map::new();
            for (k, x) in m {
                path.push(PathStep::ElementKeyString(k.clone()));
                out.insert(k.clone(), enc(x, et, path)?);
                path.pop();
            }
            Ok(Json::Object(out))
        }
        (Type::Object(attrs), Value::Object(m) | Value::Map(m)) => {
            if let Some(extra) = m.keys().find(|k| !attrs.contains_key(*k)) {
                return Err(CodecError::new(
                    path,
                    format!("attribute {extra:?} is not part of the schema"),
                ));
            }
            let mut out = serde_json::Map::new();
            for (k, at) in attrs {
                path.push(PathStep::Attribute(k.clone()));
                out.insert(k.clone(), enc(m.get(k).unwrap_or(&Value::Null), at, path)?);
                path.pop();
            }
            Ok(Json::Object(out))
        }
        _ => Err(wrong(path)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_json_with_old_and_new_attributes() {
        let ty = Type::object([
            ("id", Type::String),
            ("phone_ids", Type::set(Type::String)),
            ("status", Type::Number),
        ]);
        let raw = br#"{"id":"s1","phone_ids":["b","a"],"removed_attr":true}"#;
        let v = decode(raw, &ty, ExtraAttributes::Drop).unwrap();
        assert_eq!(
            v,
            Value::object([
                ("id", Value::string("s1")),
                ("phone_ids", Value::string_set(["a", "b"])),
                ("status", Value::Null),
            ])
        );
        assert!(decode(raw, &ty, ExtraAttributes::Reject).is_err());
    }

    #[test]
    fn numbers_as_numbers_or_strings() {
        let v = decode(br#""12""#, &Type::Number, ExtraAttributes::Reject).unwrap();
        assert_eq!(v, Value::Number(Number::Int(12)));
        let v = decode(b"2.5", &Type::Number, ExtraAttributes::Reject).unwrap();
        assert_eq!(v, Value::Number(Number::Float(2.5)));
        assert!(decode(br#""x""#, &Type::Number, ExtraAttributes::Reject).is_err());
    }

    #[test]
    fn dynamic_round_trip_and_errors() {
        let v = Value::Map(
            [("k".to_string(), Value::Tuple(vec![Value::Bool(true)]))]
                .into_iter()
                .collect(),
        );
        // a map of tuples infers as map(tuple) and reads back the same
        let j = encode(&v, &Type::Dynamic).unwrap();
        assert_eq!(
            decode_json(&j, &Type::Dynamic, ExtraAttributes::Reject),
            Ok(v)
        );
        assert!(encode(&Value::Unknown, &Type::String).is_err());
        for bad in ["{", "[1,", r#"{"value":1}"#, "true"] {
            assert!(decode(bad.as_bytes(), &Type::Dynamic, ExtraAttributes::Reject).is_err());
        }
    }
}

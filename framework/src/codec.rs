//! What the wire codecs share: their error type (which names the attribute
//! at fault) and the type inference that `DynamicPseudoType` values need when
//! they are encoded, since a [`Value`] does not carry its type.

use std::fmt;

use super::diag::{AttributePath, PathStep};
use super::value::{Type, Value};

/// A value that could not be decoded from, or encoded to, the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecError {
    /// Where in the value the problem is (empty: at the root).
    pub path: AttributePath,
    pub message: String,
}

impl CodecError {
    pub(crate) fn new(path: &[PathStep], message: impl Into<String>) -> CodecError {
        CodecError {
            path: AttributePath(path.to_vec()),
            message: message.into(),
        }
    }
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.0.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for CodecError {}

/// Nesting deeper than this is refused when decoding (a schema never gets
/// close; only hostile or corrupt input does).
pub(crate) const MAX_DEPTH: usize = 64;

/// The most specific type of `v` as it would travel as a `DynamicPseudoType`
/// value. Nulls and unknowns say nothing about their type; collection element
/// types are unified across elements, and elements whose types conflict make
/// the element type `Dynamic` (each element then carries its own type).
pub fn infer_type(v: &Value) -> Type {
    infer(v).into_type()
}

/// A type under inference: `Hole` is "no information yet" (a null, an
/// unknown, the element of an empty collection) and gives way to anything;
/// `Conflict` is "elements disagree" and absorbs everything.
#[derive(Clone, PartialEq)]
enum Inferred {
    Hole,
    Conflict,
    Bool,
    Number,
    String,
    List(Box<Inferred>),
    Set(Box<Inferred>),
    Map(Box<Inferred>),
    Object(std::collections::BTreeMap<String, Inferred>),
    Tuple(Vec<Inferred>),
}

impl Inferred {
    fn into_type(self) -> Type {
        match self {
            Inferred::Hole | Inferred::Conflict => Type::Dynamic,
            Inferred::Bool => Type::Bool,
            Inferred::Number => Type::Number,
            Inferred::String => Type::String,
            Inferred::List(e) => Type::list(e.into_type()),
            Inferred::Set(e) => Type::set(e.into_type()),
            Inferred::Map(e) => Type::map(e.into_type()),
            Inferred::Object(m) => {
                Type::Object(m.into_iter().map(|(k, t)| (k, t.into_type())).collect())
            }
            Inferred::Tuple(e) => Type::Tuple(e.into_iter().map(Inferred::into_type).collect()),
        }
    }
}

fn infer(v: &Value) -> Inferred {
    match v {
        Value::Null | Value::Unknown | Value::Refined(_) => Inferred::Hole,
        Value::Bool(_) => Inferred::Bool,
        Value::Number(_) => Inferred::Number,
        Value::String(_) => Inferred::String,
        Value::List(e) => Inferred::List(Box::new(unify_all(e))),
        Value::Set(e) => Inferred::Set(Box::new(unify_all(e))),
        Value::Map(m) => Inferred::Map(Box::new(unify_all(m.values()))),
        Value::Object(m) => {
            Inferred::Object(m.iter().map(|(k, v)| (k.clone(), infer(v))).collect())
        }
        Value::Tuple(e) => Inferred::Tuple(e.iter().map(infer).collect()),
    }
}

fn unify_all<'a>(elems: impl IntoIterator<Item = &'a Value>) -> Inferred {
    elems
        .into_iter()
        .fold(Inferred::Hole, |acc, e| unify(acc, infer(e)))
}

/// The type both `a` and `b` conform to.
fn unify(a: Inferred, b: Inferred) -> Inferred {
    use Inferred as I;
    match (a, b) {
        (I::Hole, t) | (t, I::Hole) => t,
        (I::Conflict, _) | (_, I::Conflict) => I::Conflict,
        (I::List(x), I::List(y)) => I::List(Box::new(unify(*x, *y))),
        (I::Set(x), I::Set(y)) => I::Set(Box::new(unify(*x, *y))),
        (I::Map(x), I::Map(y)) => I::Map(Box::new(unify(*x, *y))),
        (I::Object(x), I::Object(y)) if x.keys().eq(y.keys()) => I::Object(
            x.into_iter()
                .zip(y)
                .map(|((k, a), (_, b))| (k, unify(a, b)))
                .collect(),
        ),
        (I::Tuple(x), I::Tuple(y)) if x.len() == y.len() => {
            I::Tuple(x.into_iter().zip(y).map(|(a, b)| unify(a, b)).collect())
        }
        (a, b) if a == b => a,
        _ => I::Conflict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_nested_types_and_unifies_nulls() {
        let v = Value::List(vec![
            Value::object([("a", Value::Null)]),
            Value::object([("a", Value::string("x"))]),
        ]);
        assert_eq!(
            infer_type(&v),
            Type::list(Type::object([("a", Type::String)]))
        );
        assert_eq!(infer_type(&Value::Set(vec![])), Type::set(Type::Dynamic));
        // a conflict anywhere makes the element type dynamic for good
        let mixed = Value::List(vec![
            Value::Bool(true),
            Value::List(vec![]),
            Value::object([("a", Value::Null)]),
        ]);
        assert_eq!(infer_type(&mixed), Type::list(Type::Dynamic));
    }

    #[test]
    fn error_names_the_path() {
        let e = CodecError::new(
            &[PathStep::Attribute("a".into()), PathStep::ElementKeyInt(2)],
            "bad",
        );
        assert_eq!(e.to_string(), "a[2]: bad");
    }
}

/// Property tests of both wire codecs: every type, nulls and unknowns at
/// every level, and hostile bytes.
#[cfg(test)]
mod proptests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::super::json::{self, ExtraAttributes};
    use super::super::msgpack;
    use super::super::value::{Number, Type, Value};

    fn arb_type() -> impl Strategy<Value = Type> {
        let leaf = prop_oneof![
            Just(Type::Bool),
            Just(Type::Number),
            Just(Type::String),
            Just(Type::Dynamic),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                inner.clone().prop_map(Type::list),
                inner.clone().prop_map(Type::set),
                inner.clone().prop_map(Type::map),
                prop::collection::btree_map("[a-d]{1,3}", inner.clone(), 0..4)
                    .prop_map(Type::Object),
                prop::collection::vec(inner, 0..4).prop_map(Type::Tuple),
            ]
        })
    }

    fn arb_number() -> impl Strategy<Value = Number> {
        prop_oneof![
            any::<i64>().prop_map(Number::Int),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Number::Float),
            "[1-9][0-9]{20,30}".prop_map(Number::Big),
        ]
    }

    /// A value for `Dynamic`: some concrete shape.
    fn arb_dynamic_value(unknowns: bool) -> impl Strategy<Value = Value> {
        arb_type()
            .prop_filter("concrete", |t| *t != Type::Dynamic)
            .prop_flat_map(move |t| arb_value(t, unknowns))
    }

    /// A value of type `ty`; `unknowns` allows unknown values anywhere.
    fn arb_value(ty: Type, unknowns: bool) -> BoxedStrategy<Value> {
        let known: BoxedStrategy<Value> = match ty {
            Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
            Type::Number => arb_number().prop_map(Value::Number).boxed(),
            Type::String => ".{0,8}".prop_map(Value::String).boxed(),
            Type::Dynamic => arb_dynamic_value(unknowns).boxed(),
            Type::List(e) => prop::collection::vec(arb_value(*e, unknowns), 0..4)
                .prop_map(Value::List)
                .boxed(),
            Type::Set(e) => prop::collection::vec(arb_value(*e, unknowns), 0..4)
                .prop_map(Value::set)
                .boxed(),
            Type::Map(e) => {
                prop::collection::btree_map("[a-z]{0,3}", arb_value(*e, unknowns), 0..4)
                    .prop_map(Value::Map)
                    .boxed()
            }
            Type::Object(attrs) => {
                let parts: Vec<_> = attrs
                    .into_iter()
                    .map(|(k, t)| arb_value(t, unknowns).prop_map(move |v| (k.clone(), v)))
                    .collect();
                parts
                    .prop_map(|kv| Value::Object(kv.into_iter().collect::<BTreeMap<_, _>>()))
                    .boxed()
            }
            Type::Tuple(ts) => {
                let parts: Vec<_> = ts.into_iter().map(|t| arb_value(t, unknowns)).collect();
                parts.prop_map(Value::Tuple).boxed()
            }
        };
        if unknowns {
            let refined = Value::Refined(super::super::value::Refinements {
                ext_type: 12,
                payload: vec![0x81, 0x01, 0xc2],
            });
            prop_oneof![
                1 => Just(Value::Null),
                1 => Just(Value::Unknown),
                1 => Just(refined),
                6 => known
            ]
            .boxed()
        } else {
            prop_oneof![1 => Just(Value::Null), 6 => known].boxed()
        }
    }

    fn typed(unknowns: bool) -> impl Strategy<Value = (Type, Value)> {
        arb_type().prop_flat_map(move |t| (Just(t.clone()), arb_value(t, unknowns)))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn msgpack_round_trips((ty, v) in typed(true)) {
            let bytes = msgpack::encode(&v, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let back = msgpack::decode(&bytes, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(back, v);
        }

        #[test]
        fn json_round_trips((ty, v) in typed(false)) {
            let j = json::encode(&v, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let bytes = serde_json::to_vec(&j).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let back = json::decode(&bytes, &ty, ExtraAttributes::Reject)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(back, v);
        }

        #[test]
        fn truncated_msgpack_is_an_error((ty, v) in typed(true), cut in any::<prop::sample::Index>()) {
            let bytes = msgpack::encode(&v, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let cut = cut.index(bytes.len());
            prop_assert!(msgpack::decode(&bytes[..cut], &ty).is_err());
        }

        #[test]
        fn random_bytes_never_panic(ty in arb_type(), bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = msgpack::decode(&bytes, &ty);
            let _ = json::decode(&bytes, &ty, ExtraAttributes::Drop);
        }
    }
}

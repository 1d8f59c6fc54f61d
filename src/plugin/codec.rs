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
/// value. Nulls and unknowns have no type of their own and become `Dynamic`;
/// collection element types are unified across elements.
pub fn infer_type(v: &Value) -> Type {
    match v {
        Value::Null | Value::Unknown => Type::Dynamic,
        Value::Bool(_) => Type::Bool,
        Value::Number(_) => Type::Number,
        Value::String(_) => Type::String,
        Value::List(e) => Type::list(unify_all(e)),
        Value::Set(e) => Type::set(unify_all(e)),
        Value::Map(m) => Type::map(unify_all(m.values())),
        Value::Object(m) => {
            Type::Object(m.iter().map(|(k, v)| (k.clone(), infer_type(v))).collect())
        }
        Value::Tuple(e) => Type::Tuple(e.iter().map(infer_type).collect()),
    }
}

fn unify_all<'a>(elems: impl IntoIterator<Item = &'a Value>) -> Type {
    let mut ty: Option<Type> = None;
    for e in elems {
        let t = infer_type(e);
        ty = Some(match ty {
            None => t,
            Some(prev) => unify(prev, t),
        });
    }
    ty.unwrap_or(Type::Dynamic)
}

/// The type both `a` and `b` conform to: `Dynamic` stands for "not known
/// yet" and gives way to the other side; irreconcilable types give `Dynamic`.
fn unify(a: Type, b: Type) -> Type {
    match (a, b) {
        (Type::Dynamic, t) | (t, Type::Dynamic) => t,
        (Type::List(x), Type::List(y)) => Type::list(unify(*x, *y)),
        (Type::Set(x), Type::Set(y)) => Type::set(unify(*x, *y)),
        (Type::Map(x), Type::Map(y)) => Type::map(unify(*x, *y)),
        (Type::Object(x), Type::Object(y)) if x.keys().eq(y.keys()) => Type::Object(
            x.into_iter()
                .zip(y)
                .map(|((k, a), (_, b))| (k, unify(a, b)))
                .collect(),
        ),
        (Type::Tuple(x), Type::Tuple(y)) if x.len() == y.len() => {
            Type::Tuple(x.into_iter().zip(y).map(|(a, b)| unify(a, b)).collect())
        }
        (a, b) if a == b => a,
        _ => Type::Dynamic,
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

//! cty values and types as the rest of the provider sees them.
//!
//! Terraform's type system (cty) has primitive types, collections (list, set,
//! map) and structural types (object, tuple), plus `DynamicPseudoType`. Any
//! value may be null or unknown (not yet known at plan time). The wire codecs
//! (msgpack, JSON state) live beside this module and convert to and from these
//! plain types; nothing outside `src/plugin/` sees a protobuf message.

use std::collections::BTreeMap;

/// A cty type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    Bool,
    Number,
    String,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object(BTreeMap<String, Type>),
    Tuple(Vec<Type>),
    /// `DynamicPseudoType`: the type travels with the value.
    Dynamic,
}

impl Type {
    pub fn list(elem: Type) -> Type {
        Type::List(Box::new(elem))
    }
    pub fn set(elem: Type) -> Type {
        Type::Set(Box::new(elem))
    }
    pub fn map(elem: Type) -> Type {
        Type::Map(Box::new(elem))
    }
    pub fn object<'a>(attrs: impl IntoIterator<Item = (&'a str, Type)>) -> Type {
        Type::Object(attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }
}

/// A cty number. Terraform numbers are arbitrary precision; integers and
/// float64 cover what this provider uses, and anything else keeps its decimal
/// text so that it round-trips unchanged.
#[derive(Debug, Clone, PartialEq)]
pub enum Number {
    Int(i64),
    Float(f64),
    /// A number that fits neither, in its decimal string form.
    Big(String),
}

impl Number {
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Number::Int(i) => Some(*i as f64),
            Number::Float(f) => Some(*f),
            Number::Big(s) => s.parse().ok(),
        }
    }
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Number::Int(i) => Some(*i),
            Number::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
            Number::Float(_) => None,
            Number::Big(s) => s.parse().ok(),
        }
    }
}

/// What Terraform knows of an unknown value besides its type (Terraform
/// 1.5+ "refinements": not null, a string prefix, number or length bounds),
/// as the msgpack extension that carried it. The provider never reads
/// them; it hands them back unchanged where it plans the value unchanged, so
/// that a plan never says less than the configuration (Terraform before 1.6
/// compares refinements too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refinements {
    /// The msgpack extension type (12 for cty's refined unknowns).
    pub ext_type: i8,
    /// The extension's payload, as received.
    pub payload: Vec<u8>,
}

/// A cty value. `Null`, `Unknown` and `Refined` may stand for a value of
/// any type; `Refined` is an unknown that carries refinements ([`Value::is_unknown`]
/// is true of both). Set elements are kept in a canonical order (sorted, duplicates removed) by
/// [`Value::set`]; lists keep their order.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Value {
    #[default]
    Null,
    Unknown,
    /// An unknown value with refinements.
    Refined(Refinements),
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    Set(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
    Tuple(Vec<Value>),
}

impl Value {
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// A set value with its elements in canonical order and without
    /// duplicates. Elements holding unknowns are never duplicates (as in
    /// cty: two unknowns may turn out different), so each is kept.
    pub fn set(mut elems: Vec<Value>) -> Value {
        elems.sort_by(canonical_cmp);
        elems.dedup_by(|a, b| a == b && a.is_wholly_known());
        Value::Set(elems)
    }

    /// A set of strings, the shape of `phone_ids`.
    pub fn string_set<I, S>(items: I) -> Value
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Value::set(items.into_iter().map(|s| Value::String(s.into())).collect())
    }

    pub fn object<'a>(attrs: impl IntoIterator<Item = (&'a str, Value)>) -> Value {
        Value::Object(attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    /// An optional string: `None` becomes null.
    pub fn opt_string(s: Option<impl Into<String>>) -> Value {
        s.map(|s| Value::String(s.into())).unwrap_or(Value::Null)
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// True for an unknown value, refined or not (not for a collection
    /// that holds unknowns: see [`Value::is_wholly_known`]).
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown | Value::Refined(_))
    }

    /// False when this value or anything inside it is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown | Value::Refined(_) => false,
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => {
                v.iter().all(Value::is_wholly_known)
            }
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    /// The attribute `name` of an object value; `None` if this is not an
    /// object or has no such attribute.
    pub fn get(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Object(m) | Value::Map(m) => m.get(name),
            _ => None,
        }
    }

    /// A mutable reference to attribute `name` of an object value.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        match self {
            Value::Object(m) | Value::Map(m) => m.get_mut(name),
            _ => None,
        }
    }

    /// Sets attribute `name` of an object value (no-op on other values).
    pub fn set_attr(&mut self, name: &str, v: Value) {
        if let Value::Object(m) = self {
            m.insert(name.to_string(), v);
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// The elements of a list, set or tuple.
    pub fn as_elements(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => Some(v),
            _ => None,
        }
    }

    /// String attribute `name`, if it is a known, non-null string.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_str)
    }

    /// Bool attribute `name`, if it is a known, non-null bool.
    pub fn get_bool(&self, name: &str) -> Option<bool> {
        self.get(name).and_then(Value::as_bool)
    }

    /// The known string elements of a list or set attribute `name`.
    pub fn get_strings(&self, name: &str) -> Option<Vec<String>> {
        let elems = self.get(name)?.as_elements()?;
        Some(
            elems
                .iter()
                .filter_map(|e| e.as_str().map(str::to_string))
                .collect(),
        )
    }
}

/// The canonical order of set elements: by kind, then by content.
pub fn canonical_cmp(a: &Value, b: &Value) -> std::cmp::Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Number(_) => 2,
            Value::String(_) => 3,
            Value::List(_) | Value::Set(_) | Value::Tuple(_) => 4,
            Value::Map(_) | Value::Object(_) => 5,
            Value::Unknown | Value::Refined(_) => 6,
        }
    }
    use std::cmp::Ordering;
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => {
            let fx = number_f64(x);
            let fy = number_f64(y);
            fx.partial_cmp(&fy).unwrap_or(Ordering::Equal)
        }
        _ => rank(a)
            .cmp(&rank(b))
            .then_with(|| format!("{a:?}").cmp(&format!("{b:?}"))),
    }
}

fn number_f64(n: &Number) -> f64 {
    match n {
        Number::Int(i) => *i as f64,
        Number::Float(f) => *f,
        Number::Big(s) => s.parse().unwrap_or(f64::NAN),
    }
}

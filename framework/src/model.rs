//! Typed models: a resource's configuration, plan and state as a Rust struct
//! instead of a [`Value`] read by attribute name.
//!
//! A model is declared once with [`model!`](crate::model): each field's name
//! is the attribute's name, its Rust type gives the cty type, and the
//! declaration beside it ([`crate::declare`]) gives the schema and the
//! behaviour the framework runs. Every field is a [`Tf`], so null, unknown
//! and partly known are explicit.
//!
//! Partly known: at plan time a collection may hold unknown elements
//! (`phone_ids = [aws_thing.x.id, "literal"]`). Such a value is a
//! [`Tf::Partial`]: the elements known now, how many are not, and the value
//! as Terraform sent it, which is what the plan hands back unless the
//! resource replaces it. An object (a model) with unknown attributes is
//! known: its fields say which are unknown.

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{AttributePath, Diagnostic};
use crate::schema::Block;
use crate::value::{Number, Type, Value};

/// An attribute's value: null, not known until apply, known in part (a
/// collection some of whose elements are not known until apply), or known.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Tf<T> {
    #[default]
    Null,
    Unknown,
    Partial(Partial<T>),
    Known(T),
}

/// A collection known in part at plan time.
#[derive(Debug, Clone, PartialEq)]
pub struct Partial<T> {
    known: T,
    unknown: usize,
    value: Value,
}

// Values never hold NaN (the codecs refuse it), so their equality is total.
impl<T: Eq> Eq for Partial<T> {}

impl<T> Partial<T> {
    /// The elements known now (a list's in their order, without their
    /// indices; a map's with their keys).
    pub fn known(&self) -> &T {
        &self.known
    }
    /// How many elements are not known yet. In a set, an unknown element
    /// may turn out equal to a known one or to another unknown one, so the
    /// set may end up smaller than it looks.
    pub fn unknown_count(&self) -> usize {
        self.unknown
    }
    /// The value as Terraform sent it: what a plan hands back.
    pub fn value(&self) -> &Value {
        &self.value
    }
}

impl<T> Tf<T> {
    pub fn known(&self) -> Option<&T> {
        match self {
            Tf::Known(v) => Some(v),
            _ => None,
        }
    }
    pub fn into_known(self) -> Option<T> {
        match self {
            Tf::Known(v) => Some(v),
            _ => None,
        }
    }
    pub fn is_null(&self) -> bool {
        matches!(self, Tf::Null)
    }
    pub fn is_unknown(&self) -> bool {
        matches!(self, Tf::Unknown)
    }
    pub fn is_known(&self) -> bool {
        matches!(self, Tf::Known(_))
    }
    /// The known part of a partly-known collection.
    pub fn partial(&self) -> Option<&Partial<T>> {
        match self {
            Tf::Partial(p) => Some(p),
            _ => None,
        }
    }
    /// Null for `None`.
    pub fn from_option(v: Option<T>) -> Tf<T> {
        v.map_or(Tf::Null, Tf::Known)
    }
    /// Unknown (or partly known) becomes null: what apply must do with
    /// values it did not learn.
    pub fn or_null(self) -> Tf<T> {
        match self {
            Tf::Unknown | Tf::Partial(_) => Tf::Null,
            other => other,
        }
    }
}

impl Tf<String> {
    /// The string, when known.
    pub fn as_str(&self) -> Option<&str> {
        self.known().map(String::as_str)
    }
}

impl<T> From<T> for Tf<T> {
    fn from(v: T) -> Tf<T> {
        Tf::Known(v)
    }
}

impl From<&str> for Tf<String> {
    fn from(v: &str) -> Tf<String> {
        Tf::Known(v.to_string())
    }
}

/// A Rust type standing for a cty type: how its values cross to and from
/// [`Value`]. [`FieldType::decode`] sees only wholly known, non-null values;
/// [`FieldType::decode_partly_known`] the others that are not unknown as a
/// whole.
pub trait FieldType: Sized {
    fn cty() -> Type;
    fn decode(v: &Value) -> Result<Self, String>;
    fn encode(&self) -> Value;
    /// A value with unknowns inside. By default the type decodes it as it
    /// is (a model's fields say which are unknown); collections give
    /// [`Tf::Partial`] when some elements are unknown.
    fn decode_partly_known(v: &Value) -> Result<Tf<Self>, String> {
        Self::decode(v).map(Tf::Known)
    }
    /// The nested block's schema, for models used as blocks.
    fn nested_block() -> Option<Block> {
        None
    }
    /// The block of the objects this type holds (a model, or a list, set or
    /// map of models), whose descriptions the docs show.
    fn object_block() -> Option<Block> {
        Self::nested_block()
    }
}

impl FieldType for String {
    fn cty() -> Type {
        Type::String
    }
    fn decode(v: &Value) -> Result<Self, String> {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| "a string".into())
    }
    fn encode(&self) -> Value {
        Value::string(self)
    }
}

impl FieldType for bool {
    fn cty() -> Type {
        Type::Bool
    }
    fn decode(v: &Value) -> Result<Self, String> {
        v.as_bool().ok_or_else(|| "a bool".into())
    }
    fn encode(&self) -> Value {
        Value::Bool(*self)
    }
}

impl FieldType for i64 {
    fn cty() -> Type {
        Type::Number
    }
    fn decode(v: &Value) -> Result<Self, String> {
        v.as_i64().ok_or_else(|| "a whole number".into())
    }
    fn encode(&self) -> Value {
        Value::Number(Number::Int(*self))
    }
}

impl FieldType for f64 {
    fn cty() -> Type {
        Type::Number
    }
    fn decode(v: &Value) -> Result<Self, String> {
        match v {
            Value::Number(n) => n.as_f64().ok_or_else(|| "a number".into()),
            _ => Err("a number".into()),
        }
    }
    fn encode(&self) -> Value {
        Value::Number(Number::Float(*self))
    }
}

impl FieldType for BTreeSet<String> {
    fn cty() -> Type {
        Type::set(Type::String)
    }
    fn decode(v: &Value) -> Result<Self, String> {
        elements(v)?.iter().map(String::decode).collect()
    }
    fn encode(&self) -> Value {
        Value::string_set(self.iter().cloned())
    }
    fn decode_partly_known(v: &Value) -> Result<Tf<Self>, String> {
        let (known, unknown) = known_elements::<String, _>(elements(v)?.iter().map(|e| ((), e)))?;
        Ok(partly(
            known.into_iter().map(|(_, e)| e).collect(),
            unknown,
            v,
        ))
    }
}

impl<T: FieldType> FieldType for Vec<T> {
    fn cty() -> Type {
        Type::list(T::cty())
    }
    fn decode(v: &Value) -> Result<Self, String> {
        elements(v)?.iter().map(T::decode).collect()
    }
    fn encode(&self) -> Value {
        Value::List(self.iter().map(T::encode).collect())
    }
    fn decode_partly_known(v: &Value) -> Result<Tf<Self>, String> {
        let (known, unknown) = known_elements::<T, _>(elements(v)?.iter().map(|e| ((), e)))?;
        Ok(partly(
            known.into_iter().map(|(_, e)| e).collect(),
            unknown,
            v,
        ))
    }
    fn object_block() -> Option<Block> {
        T::object_block()
    }
}

impl<T: FieldType> FieldType for BTreeMap<String, T> {
    fn cty() -> Type {
        Type::map(T::cty())
    }
    fn decode(v: &Value) -> Result<Self, String> {
        match v {
            Value::Map(m) => m
                .iter()
                .map(|(k, v)| Ok((k.clone(), T::decode(v)?)))
                .collect(),
            _ => Err("a map".into()),
        }
    }
    fn encode(&self) -> Value {
        Value::Map(self.iter().map(|(k, v)| (k.clone(), v.encode())).collect())
    }
    fn decode_partly_known(v: &Value) -> Result<Tf<Self>, String> {
        let Value::Map(m) = v else {
            return Err("a map".into());
        };
        let (known, unknown) = known_elements::<T, _>(m.iter().map(|(k, e)| (k.clone(), e)))?;
        Ok(partly(known.into_iter().collect(), unknown, v))
    }
    fn object_block() -> Option<Block> {
        T::object_block()
    }
}

fn elements(v: &Value) -> Result<&[Value], String> {
    v.as_elements().ok_or_else(|| "a collection".into())
}

/// The elements of a collection that decode as known (each with its key),
/// and how many do not.
fn known_elements<'a, T: FieldType, K>(
    elems: impl Iterator<Item = (K, &'a Value)>,
) -> Result<(Vec<(K, T)>, usize), String> {
    let mut known = Vec::new();
    let mut unknown = 0;
    for (k, e) in elems {
        match Tf::<T>::decode_value(Some(e))? {
            Tf::Known(t) => known.push((k, t)),
            Tf::Unknown | Tf::Partial(_) => unknown += 1,
            Tf::Null => return Err("a collection without null elements".into()),
        }
    }
    Ok((known, unknown))
}

/// A collection with `unknown` elements not known: partly known, or known
/// when every element is (a list of models with unknown attributes).
fn partly<T>(known: T, unknown: usize, value: &Value) -> Tf<T> {
    if unknown == 0 {
        return Tf::Known(known);
    }
    Tf::Partial(Partial {
        known,
        unknown,
        value: value.clone(),
    })
}

impl<T: FieldType> Tf<T> {
    /// Decodes an attribute as found in an object (absent is null).
    pub fn decode_value(v: Option<&Value>) -> Result<Tf<T>, String> {
        match v {
            None | Some(Value::Null) => Ok(Tf::Null),
            Some(v) if v.is_unknown() => Ok(Tf::Unknown),
            Some(v) if v.is_wholly_known() => T::decode(v).map(Tf::Known),
            Some(v) => T::decode_partly_known(v),
        }
    }
    pub fn encode_value(&self) -> Value {
        match self {
            Tf::Null => Value::Null,
            Tf::Unknown => Value::Unknown,
            Tf::Partial(p) => p.value.clone(),
            Tf::Known(v) => v.encode(),
        }
    }
}

/// A struct standing for a block: declared with [`model!`](crate::model).
pub trait Model: Sized + Default + Clone + Send + Sync + 'static {
    /// The block's schema, with each attribute's declared behaviour.
    fn block() -> Block;
    /// The model of an object value; null is the model with every field null.
    fn from_value(v: &Value) -> Result<Self, Diagnostic>;
    fn to_value(&self) -> Value;
}

/// One field of a model out of an object value (used by [`model!`](crate::model)).
pub fn decode_field<T: FieldType>(object: &Value, name: &str) -> Result<Tf<T>, Diagnostic> {
    Tf::decode_value(object.get(name)).map_err(|expected| {
        Diagnostic::error(
            "Value of an unexpected type",
            format!(
                "`{name}` should be {expected}. This is a bug in the provider or in Terraform."
            ),
        )
        .at(AttributePath::root(name))
    })
}

/// Declares a typed model: a struct of [`Tf`] fields, its schema and the
/// behaviour of each attribute, with each name written once.
///
/// ```ignore
/// model! {
///     pub struct Thing {
///         id: String = computed("Identifier.").keep_state(),
///         name: String = required("Name.").requires_replace().validate(not_blank()),
///         timeouts: Timeouts = block(),
///     }
///     rules {
///         conflicts_with(&["name", "id"]),
///     }
/// }
/// ```
/// The declaration is an expression in scope of [`crate::declare`]'s
/// constructors and validators; the optional `rules` are rules over several
/// attributes of the block, in scope of [`crate::rules`]' constructors.
#[macro_export]
macro_rules! model {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty = $decl:expr ),* $(,)?
        }
        $( rules { $( $rule:expr ),* $(,)? } )?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Default)]
        $vis struct $name {
            $( $(#[$fmeta])* pub $field: $crate::Tf<$ty>, )*
        }

        impl $crate::Model for $name {
            fn block() -> $crate::Block {
                #[allow(unused_imports)]
                use $crate::declare::*;
                #[allow(unused_mut)]
                let mut block = $crate::Block::default();
                $(
                    $crate::declare::Decl::from($decl).add_to(
                        &mut block,
                        stringify!($field),
                        <$ty as $crate::FieldType>::cty(),
                        <$ty as $crate::FieldType>::object_block(),
                    );
                )*
                $( $( block.rules.push({
                    #[allow(unused_imports)]
                    use $crate::rules::*;
                    $rule
                }); )* )?
                block
            }
            #[allow(unused_variables)]
            fn from_value(v: &$crate::Value) -> Result<Self, $crate::Diagnostic> {
                Ok($name {
                    $( $field: $crate::model::decode_field(v, stringify!($field))?, )*
                })
            }
            fn to_value(&self) -> $crate::Value {
                $crate::Value::object([
                    $( (stringify!($field), self.$field.encode_value()), )*
                ])
            }
        }

        impl $crate::FieldType for $name {
            fn cty() -> $crate::Type {
                <$name as $crate::Model>::block().value_type()
            }
            fn decode(v: &$crate::Value) -> Result<Self, String> {
                <$name as $crate::Model>::from_value(v).map_err(|d| d.detail)
            }
            fn encode(&self) -> $crate::Value {
                <$name as $crate::Model>::to_value(self)
            }
            fn nested_block() -> Option<$crate::Block> {
                Some(<$name as $crate::Model>::block())
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Model;

    crate::model! {
        struct Inner {
            create: String = optional("How long to wait."),
        }
    }

    crate::model! {
        struct Thing {
            id: String = computed("Id.").keep_state(),
            names: BTreeSet<String> = required("Names."),
            count: i64 = optional("Count."),
            flag: bool = optional("Flag."),
            inner: Inner = block(),
        }
    }

    #[test]
    fn a_model_round_trips_with_null_and_unknown() {
        let t = Thing {
            id: Tf::Unknown,
            names: Tf::Known(["a".to_string(), "b".to_string()].into()),
            count: Tf::Known(3),
            flag: Tf::Null,
            inner: Tf::Known(Inner {
                create: "5m".into(),
            }),
        };
        let v = t.to_value();
        assert_eq!(v.get("id"), Some(&Value::Unknown));
        assert_eq!(v.get("flag"), Some(&Value::Null));
        assert_eq!(Thing::from_value(&v).unwrap(), t);
        assert_eq!(Thing::from_value(&Value::Null).unwrap(), Thing::default());
    }

    #[test]
    fn the_schema_comes_from_the_declaration() {
        let b = Thing::block();
        let names: Vec<_> = b.attributes.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, vec!["id", "names", "count", "flag"]);
        assert!(b.attribute("names").unwrap().required);
        assert!(b.attribute("id").unwrap().computed);
        assert_eq!(b.attribute("names").unwrap().ty, Type::set(Type::String));
        assert_eq!(b.blocks[0].type_name, "inner");
        assert_eq!(Thing::block().value_type(), Thing::cty());
    }

    #[test]
    fn a_partly_unknown_collection_keeps_its_known_elements_and_a_wrong_type_is_named() {
        let names = Value::set(vec![Value::string("a"), Value::Unknown, Value::Unknown]);
        let v = Value::object([("names", names.clone())]);
        let thing = Thing::from_value(&v).unwrap();
        let partial = thing.names.partial().expect("partly known");
        assert_eq!(partial.known(), &BTreeSet::from(["a".to_string()]));
        assert_eq!(partial.unknown_count(), 2);
        assert_eq!(thing.to_value().get("names"), Some(&names));
        let only_unknown = Value::object([("names", Value::Set(vec![Value::Unknown]))]);
        let p = Thing::from_value(&only_unknown).unwrap().names;
        assert_eq!(p.partial().map(|p| p.known().len()), Some(0));
        let bad = Value::object([("count", Value::string("x"))]);
        let d = Thing::from_value(&bad).unwrap_err();
        assert_eq!(d.attribute.unwrap().to_string(), "count");
    }

    crate::model! {
        struct Nested {
            things: Vec<Thing> = optional("Things."),
            tags: BTreeMap<String, String> = optional("Tags."),
            lists: Vec<Vec<String>> = optional("Lists."),
        }
    }

    #[test]
    fn unknowns_inside_models_and_nested_collections_stay_where_they_are() {
        let refined = Value::Refined(crate::value::Refinements {
            ext_type: 12,
            payload: vec![0x80],
        });
        let thing = Value::object([
            ("id", Value::Unknown),
            (
                "names",
                Value::set(vec![Value::string("x"), refined.clone()]),
            ),
        ]);
        let v = Value::object([
            ("things", Value::List(vec![thing, Value::Unknown])),
            (
                "tags",
                Value::Map([("a".into(), Value::string("1")), ("b".into(), refined)].into()),
            ),
            (
                "lists",
                Value::List(vec![
                    Value::List(vec![Value::string("k")]),
                    Value::List(vec![Value::Unknown]),
                ]),
            ),
        ]);
        let n = Nested::from_value(&v).unwrap();
        let things = n.things.partial().expect("one thing unknown");
        assert_eq!(things.unknown_count(), 1);
        let first = &things.known()[0];
        assert_eq!(first.id, Tf::Unknown);
        assert_eq!(first.names.partial().map(Partial::unknown_count), Some(1));
        assert_eq!(n.tags.partial().map(|p| p.known().len()), Some(1));
        let lists = n.lists.partial().expect("one list partly known");
        assert_eq!(lists.known(), &vec![vec!["k".to_string()]]);
        let mut back = n.to_value();
        for (k, want) in [("things", "a"), ("tags", "b"), ("lists", "c")] {
            assert_eq!(back.get(k), v.get(k), "{want}");
        }
        back.set_attr("tags", Value::Null);
        assert_eq!(Nested::from_value(&back).unwrap().tags, Tf::Null);
    }
}

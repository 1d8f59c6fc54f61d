//! Typed models: a resource's configuration, plan and state as a Rust struct
//! instead of a [`Value`] read by attribute name.
//!
//! A model is declared once with [`model!`](crate::model): each field's name
//! is the attribute's name, its Rust type gives the cty type, and the
//! declaration beside it ([`crate::declare`]) gives the schema and the
//! behaviour the framework runs. Every field is a [`Tf`], so null and unknown
//! are explicit.

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{AttributePath, Diagnostic};
use crate::schema::Block;
use crate::value::{Number, Type, Value};

/// An attribute's value: null, not known until apply, or known.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Tf<T> {
    #[default]
    Null,
    Unknown,
    Known(T),
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
    /// Null for `None`.
    pub fn from_option(v: Option<T>) -> Tf<T> {
        v.map_or(Tf::Null, Tf::Known)
    }
    /// Unknown becomes null: what apply must do with values it did not learn.
    pub fn or_null(self) -> Tf<T> {
        match self {
            Tf::Unknown => Tf::Null,
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
/// [`Value`]. Decoding sees only known, non-null values.
pub trait FieldType: Sized {
    fn cty() -> Type;
    fn decode(v: &Value) -> Result<Self, String>;
    fn encode(&self) -> Value;
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
    fn object_block() -> Option<Block> {
        T::object_block()
    }
}

fn elements(v: &Value) -> Result<&[Value], String> {
    v.as_elements().ok_or_else(|| "a collection".into())
}

impl<T: FieldType> Tf<T> {
    /// Decodes an attribute as found in an object (absent is null). A value
    /// that is not wholly known is unknown here.
    pub fn decode_value(v: Option<&Value>) -> Result<Tf<T>, String> {
        match v {
            None | Some(Value::Null) => Ok(Tf::Null),
            Some(v) if !v.is_wholly_known() => Ok(Tf::Unknown),
            Some(v) => T::decode(v).map(Tf::Known),
        }
    }
    pub fn encode_value(&self) -> Value {
        match self {
            Tf::Null => Value::Null,
            Tf::Unknown => Value::Unknown,
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
/// }
/// ```
/// The declaration is an expression in scope of [`crate::declare`]'s
/// constructors and validators.
#[macro_export]
macro_rules! model {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty = $decl:expr ),* $(,)?
        }
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
    fn a_partly_unknown_collection_is_unknown_and_a_wrong_type_is_named() {
        let v = Value::object([("names", Value::Set(vec![Value::Unknown]))]);
        assert_eq!(Thing::from_value(&v).unwrap().names, Tf::Unknown);
        let bad = Value::object([("count", Value::string("x"))]);
        let d = Thing::from_value(&bad).unwrap_err();
        assert_eq!(d.attribute.unwrap().to_string(), "count");
    }
}

//! Schemas as the resources declare them: blocks, attributes and nested
//! blocks, in plain Rust types. The gRPC layer converts them to `tfplugin5`.

use super::declare::Behaviour;
use super::value::{Type, Value};

#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    pub version: i64,
    pub block: Block,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Block {
    pub description: String,
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
    /// Rules over several of its attributes ([`crate::rules`]).
    pub rules: Vec<crate::rules::Rule>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub name: String,
    pub ty: Type,
    pub description: String,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    /// What the framework does with it besides sending its schema.
    pub behaviour: Behaviour,
    /// For an attribute of object type, or a collection of objects: the
    /// object's attributes with their descriptions, for docs. Terraform sees
    /// only `ty` (protocol 5 has no nested attributes).
    pub nested: Option<Box<Block>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    Single,
    List,
    Set,
    Map,
    Group,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NestedBlock {
    pub type_name: String,
    pub block: Block,
    pub nesting: Nesting,
    pub min_items: i64,
    pub max_items: i64,
}

impl Attribute {
    fn new(name: &str, ty: Type, description: &str) -> Attribute {
        Attribute {
            name: name.to_string(),
            ty,
            description: description.to_string(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            behaviour: Behaviour::default(),
            nested: None,
        }
    }
    pub fn required(name: &str, ty: Type, description: &str) -> Attribute {
        Attribute {
            required: true,
            ..Attribute::new(name, ty, description)
        }
    }
    pub fn optional(name: &str, ty: Type, description: &str) -> Attribute {
        Attribute {
            optional: true,
            ..Attribute::new(name, ty, description)
        }
    }
    pub fn computed(name: &str, ty: Type, description: &str) -> Attribute {
        Attribute {
            computed: true,
            ..Attribute::new(name, ty, description)
        }
    }
    /// Optional, and computed by the provider when not set.
    pub fn optional_computed(name: &str, ty: Type, description: &str) -> Attribute {
        Attribute {
            optional: true,
            computed: true,
            ..Attribute::new(name, ty, description)
        }
    }
    pub fn sensitive(mut self) -> Attribute {
        self.sensitive = true;
        self
    }
}

impl Block {
    /// The cty object type of values that conform to this block.
    pub fn value_type(&self) -> Type {
        let mut attrs: std::collections::BTreeMap<String, Type> = self
            .attributes
            .iter()
            .map(|a| (a.name.clone(), a.ty.clone()))
            .collect();
        for b in &self.blocks {
            let inner = b.block.value_type();
            let ty = match b.nesting {
                Nesting::Single | Nesting::Group => inner,
                Nesting::List => Type::list(inner),
                Nesting::Set => Type::set(inner),
                Nesting::Map => Type::map(inner),
            };
            attrs.insert(b.type_name.clone(), ty);
        }
        Type::Object(attrs)
    }

    /// An object value of this block's type with every attribute null (the
    /// shape Terraform expects for a fresh, empty object).
    pub fn null_object(&self) -> Value {
        let mut v = std::collections::BTreeMap::new();
        for a in &self.attributes {
            v.insert(a.name.clone(), Value::Null);
        }
        for b in &self.blocks {
            let empty = match b.nesting {
                Nesting::Single | Nesting::Group => Value::Null,
                Nesting::List => Value::List(vec![]),
                Nesting::Set => Value::Set(vec![]),
                Nesting::Map => Value::Map(Default::default()),
            };
            v.insert(b.type_name.clone(), empty);
        }
        Value::Object(v)
    }

    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

/// The identity of a managed resource type (protocol 5.9, Terraform 1.12+):
/// a small flat object that names one remote object independently of its
/// state, so that `import { identity = { ... } }` and `terraform query` can
/// find it. Attributes are primitives or lists of primitives.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentitySchema {
    /// Bumped when the attributes change; older stored identities then go
    /// through [`crate::Resource::upgrade_identity`].
    pub version: i64,
    pub attributes: Vec<IdentityAttribute>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IdentityAttribute {
    pub name: String,
    pub ty: Type,
    pub description: String,
    /// The user must give it in an `import { identity = { ... } }` block.
    pub required_for_import: bool,
    /// The user may give it there.
    pub optional_for_import: bool,
}

impl IdentityAttribute {
    /// An attribute an import by identity must name.
    pub fn required(name: &str, ty: Type, description: &str) -> IdentityAttribute {
        IdentityAttribute {
            name: name.to_string(),
            ty,
            description: description.to_string(),
            required_for_import: true,
            optional_for_import: false,
        }
    }
    /// An attribute an import by identity may leave out.
    pub fn optional(name: &str, ty: Type, description: &str) -> IdentityAttribute {
        IdentityAttribute {
            required_for_import: false,
            optional_for_import: true,
            ..IdentityAttribute::required(name, ty, description)
        }
    }
}

impl IdentitySchema {
    /// The identity schema of a block of attributes (e.g. an identity
    /// model's `block()`): required attributes are required for import,
    /// the others optional.
    pub fn of(version: i64, block: &Block) -> IdentitySchema {
        IdentitySchema {
            version,
            attributes: block
                .attributes
                .iter()
                .map(|a| {
                    let mut ia = IdentityAttribute::required(&a.name, a.ty.clone(), &a.description);
                    if !a.required {
                        ia.required_for_import = false;
                        ia.optional_for_import = true;
                    }
                    ia
                })
                .collect(),
        }
    }

    /// The cty object type of identity values.
    pub fn value_type(&self) -> Type {
        Type::Object(
            self.attributes
                .iter()
                .map(|a| (a.name.clone(), a.ty.clone()))
                .collect(),
        )
    }
}

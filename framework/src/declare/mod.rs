//! Declared behaviour: what an attribute is (required, optional, computed,
//! sensitive), how the framework plans it (requires replacement, keeps its
//! state, default) and what values it takes (validators). The same
//! declaration feeds the schema Terraform sees, the plan and validation the
//! framework runs, and the generated docs.

use std::sync::Arc;

use crate::diag::{AttributePath, Diagnostic, Diagnostics, PathStep};
use crate::schema::{Attribute, Block, NestedBlock, Nesting};
use crate::value::{Type, Value};

mod env;

pub use env::fill_from_env;

/// How a computed attribute is planned when the resource changes in place.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum KeepState {
    /// Unknown whenever anything the user set changes (the safe default).
    #[default]
    Never,
    /// Always the prior state's value (e.g. an id).
    Always,
    /// The prior state's value unless one of these attributes changes.
    UnlessChanged(Vec<&'static str>),
}

/// The behaviour declared for one attribute.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Behaviour {
    pub requires_replace: bool,
    pub keep_state: KeepState,
    /// The value planned when the configuration leaves the attribute null.
    pub default: Option<Value>,
    pub validators: Validators,
    /// The environment variable the attribute falls back to when unset
    /// (provider blocks; see [`fill_from_env`]).
    pub env: Option<&'static str>,
}

/// A check of an attribute's known value whose description documents it.
pub trait Validator: Send + Sync {
    /// Markdown for docs and messages, e.g. "one of `a`, `b`".
    fn description(&self) -> String;
    /// Checks a known, non-null value (a collection may hold unknowns).
    fn check(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics);
}

/// The validators of an attribute (compared by their descriptions).
#[derive(Clone, Default)]
pub struct Validators(pub Vec<Arc<dyn Validator>>);

impl std::fmt::Debug for Validators {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|v| v.description()))
            .finish()
    }
}

impl PartialEq for Validators {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .zip(&other.0)
                .all(|(a, b)| a.description() == b.description())
    }
}

/// One field's declaration: an attribute or a nested block.
pub enum Decl {
    Attribute(AttrDecl),
    Block(BlockDecl),
}

/// An attribute's declaration, built with [`required`], [`optional`],
/// [`computed`] or [`optional_computed`].
pub struct AttrDecl {
    attr: Attribute,
}

/// A nested block's declaration, built with [`block`].
pub struct BlockDecl {
    description: String,
}

impl From<AttrDecl> for Decl {
    fn from(d: AttrDecl) -> Decl {
        Decl::Attribute(d)
    }
}

impl From<BlockDecl> for Decl {
    fn from(d: BlockDecl) -> Decl {
        Decl::Block(d)
    }
}

impl Decl {
    /// Adds the field `name` of type `ty` to `block` (used by `model!`);
    /// `nested` is the block of the objects `ty` holds, if any.
    pub fn add_to(self, block: &mut Block, name: &str, ty: Type, nested: Option<Block>) {
        match self {
            Decl::Attribute(d) => block.attributes.push(Attribute {
                name: name.to_string(),
                ty,
                nested: nested.map(Box::new),
                ..d.attr
            }),
            Decl::Block(d) => block.blocks.push(NestedBlock {
                type_name: name.to_string(),
                block: Block {
                    description: d.description,
                    ..nested.unwrap_or_default()
                },
                nesting: Nesting::Single,
                min_items: 0,
                max_items: 0,
            }),
        }
    }
}

fn attr(description: &str) -> Attribute {
    Attribute::optional("", Type::String, description)
}

pub fn required(description: &str) -> AttrDecl {
    AttrDecl {
        attr: Attribute {
            required: true,
            optional: false,
            ..attr(description)
        },
    }
}

pub fn optional(description: &str) -> AttrDecl {
    AttrDecl {
        attr: attr(description),
    }
}

pub fn computed(description: &str) -> AttrDecl {
    AttrDecl {
        attr: Attribute {
            computed: true,
            optional: false,
            ..attr(description)
        },
    }
}

/// Optional, and computed by the provider when not set.
pub fn optional_computed(description: &str) -> AttrDecl {
    AttrDecl {
        attr: Attribute {
            computed: true,
            ..attr(description)
        },
    }
}

/// A nested block (single) whose attributes are its model's.
pub fn block() -> BlockDecl {
    BlockDecl {
        description: String::new(),
    }
}

impl AttrDecl {
    pub fn sensitive(mut self) -> Self {
        self.attr.sensitive = true;
        self
    }
    /// A change of this attribute replaces the resource.
    pub fn requires_replace(mut self) -> Self {
        self.attr.behaviour.requires_replace = true;
        self
    }
    /// A computed attribute that keeps its state through in-place changes.
    pub fn keep_state(mut self) -> Self {
        self.attr.behaviour.keep_state = KeepState::Always;
        self
    }
    /// A computed attribute that keeps its state unless one of `inputs` changes.
    pub fn keep_state_unless(mut self, inputs: &[&'static str]) -> Self {
        self.attr.behaviour.keep_state = KeepState::UnlessChanged(inputs.to_vec());
        self
    }
    /// The value planned when the configuration leaves the attribute null
    /// (the attribute becomes optional and computed).
    pub fn default(mut self, value: Value) -> Self {
        self.attr.optional = true;
        self.attr.computed = true;
        self.attr.behaviour.default = Some(value);
        self
    }
    /// Falls back to the environment variable `name` when unset; the
    /// description says so.
    pub fn env(mut self, name: &'static str) -> Self {
        self.attr.behaviour.env = Some(name);
        self.attr.description = format!("{} Env: `{name}`.", self.attr.description);
        self
    }
    pub fn validate(mut self, v: impl Validator + 'static) -> Self {
        self.attr.behaviour.validators.0.push(Arc::new(v));
        self
    }
}

/// Runs every declared validator of `block` on a configuration.
pub fn validate_block(block: &Block, config: &Value, base: &AttributePath) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for a in &block.attributes {
        let Some(v) = config.get(&a.name) else {
            continue;
        };
        if v.is_null() || v.is_unknown() {
            continue;
        }
        let path = base.clone().attr(&a.name);
        for validator in &a.behaviour.validators.0 {
            validator.check(v, &path, &mut diags);
        }
    }
    for rule in &block.rules {
        rule.check(config, base, &mut diags);
    }
    for b in &block.blocks {
        if let Some(inner) = config.get(&b.type_name).filter(|v| !v.is_null()) {
            diags.extend(validate_block(
                &b.block,
                inner,
                &base.clone().attr(&b.type_name),
            ));
        }
    }
    diags
}

/// The attribute name a path ends in, for messages.
fn leaf(path: &AttributePath) -> String {
    match path.0.iter().rev().find_map(|s| match s {
        PathStep::Attribute(a) => Some(a.clone()),
        _ => None,
    }) {
        Some(a) => a,
        None => path.to_string(),
    }
}

fn error(path: &AttributePath, summary: String, detail: String) -> Diagnostic {
    Diagnostic::error(summary, detail).at(path.clone())
}

/// A string that is not empty or blank.
pub fn not_blank() -> NotBlank {
    NotBlank
}

pub struct NotBlank;

impl Validator for NotBlank {
    fn description(&self) -> String {
        "must not be empty".into()
    }
    fn check(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        if value.as_str().is_some_and(|s| s.trim().is_empty()) {
            let name = leaf(path);
            diags.push(error(
                path,
                format!("Empty {name}"),
                format!("`{name}` must not be empty."),
            ));
        }
    }
}

/// A string of at most `max` bytes.
pub fn max_bytes(max: usize) -> MaxBytes {
    MaxBytes(max)
}

pub struct MaxBytes(usize);

impl Validator for MaxBytes {
    fn description(&self) -> String {
        format!("at most {} bytes", self.0)
    }
    fn check(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        if let Some(s) = value.as_str().filter(|s| s.len() > self.0) {
            let name = leaf(path);
            diags.push(error(
                path,
                format!("{name} too long"),
                format!(
                    "`{name}` may be at most {} bytes; {s:?} has {}.",
                    self.0,
                    s.len()
                ),
            ));
        }
    }
}

/// A string that is one of `allowed`; `meaning` explains each for messages.
pub fn one_of(allowed: &'static [(&'static str, &'static str)]) -> OneOf {
    OneOf(allowed)
}

pub struct OneOf(&'static [(&'static str, &'static str)]);

impl OneOf {
    /// The choices as docs (`` `a` ``) or messages (`"a"`) write them.
    fn choices(&self, quoted: bool) -> String {
        let each: Vec<String> = self
            .0
            .iter()
            .map(|(v, m)| {
                let v = if quoted {
                    format!("{v:?}")
                } else {
                    format!("`{v}`")
                };
                if m.is_empty() {
                    v
                } else {
                    format!("{v} ({m})")
                }
            })
            .collect();
        match each.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => each.join(""),
        }
    }
}

impl Validator for OneOf {
    fn description(&self) -> String {
        format!("one of {}", self.choices(false))
    }
    fn check(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        if let Some(s) = value
            .as_str()
            .filter(|s| !self.0.iter().any(|(v, _)| v == s))
        {
            let name = leaf(path);
            diags.push(error(
                path,
                format!("Invalid {name}"),
                format!("`{name}` must be {}; got {s:?}.", self.choices(true)),
            ));
        }
    }
}

/// An `http://` or `https://` URL.
pub fn http_url() -> HttpUrl {
    HttpUrl
}

pub struct HttpUrl;

impl Validator for HttpUrl {
    fn description(&self) -> String {
        "an `http://` or `https://` URL".into()
    }
    fn check(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        if let Some(s) = value
            .as_str()
            .filter(|s| !s.trim().is_empty())
            .filter(|s| !(s.starts_with("https://") || s.starts_with("http://")))
        {
            let name = leaf(path);
            diags.push(error(
                path,
                format!("Invalid {name}"),
                format!("`{name}` must be an http:// or https:// URL, got {s:?}."),
            ));
        }
    }
}

/// A whole number from `min` to `max`.
pub fn int_between(min: i64, max: i64) -> IntBetween {
    IntBetween(min, max)
}

pub struct IntBetween(i64, i64);

impl Validator for IntBetween {
    fn description(&self) -> String {
        format!("a whole number from {} to {}", self.0, self.1)
    }
    fn check(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        if !value
            .as_i64()
            .is_some_and(|n| (self.0..=self.1).contains(&n))
        {
            let name = leaf(path);
            diags.push(error(
                path,
                format!("Invalid {name}"),
                format!("`{name}` must be {}.", self.description()),
            ));
        }
    }
}

/// A number greater than zero (fractions allowed).
pub fn positive() -> Positive {
    Positive
}

pub struct Positive;

impl Validator for Positive {
    fn description(&self) -> String {
        "a number greater than 0".into()
    }
    fn check(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let ok = match value {
            Value::Number(n) => n.as_f64().is_some_and(|f| f > 0.0 && f.is_finite()),
            _ => false,
        };
        if !ok {
            let name = leaf(path);
            diags.push(error(
                path,
                format!("Invalid {name}"),
                format!("`{name}` must be {}.", self.description()),
            ));
        }
    }
}

/// A collection with at least `min` elements.
pub fn size_at_least(min: usize) -> SizeAtLeast {
    SizeAtLeast(min)
}

pub struct SizeAtLeast(usize);

impl Validator for SizeAtLeast {
    fn description(&self) -> String {
        format!(
            "at least {} element{}",
            self.0,
            if self.0 == 1 { "" } else { "s" }
        )
    }
    fn check(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        if value.as_elements().is_some_and(|e| e.len() < self.0) {
            let name = leaf(path);
            diags.push(error(
                path,
                format!("Too few elements in {name}"),
                format!("`{name}` must hold {}.", self.description()),
            ));
        }
    }
}

/// An identifier: `min_len` to `max_len` characters, each accepted by
/// `allowed` (whose text, `what`, says which characters those are).
pub fn id_format(
    min_len: usize,
    max_len: usize,
    allowed: fn(char) -> bool,
    what: &'static str,
) -> IdFormat {
    IdFormat {
        min_len,
        max_len,
        allowed,
        what,
    }
}

pub struct IdFormat {
    min_len: usize,
    max_len: usize,
    allowed: fn(char) -> bool,
    what: &'static str,
}

impl IdFormat {
    /// Why `s` is not an id, if it is not.
    pub fn problem(&self, s: &str) -> Option<String> {
        let n = s.chars().count();
        if n < self.min_len || n > self.max_len {
            return Some(format!(
                "{s:?} has {n} characters; an id has {} to {}",
                self.min_len, self.max_len
            ));
        }
        s.chars()
            .find(|c| !(self.allowed)(*c))
            .map(|c| format!("{s:?} contains {c:?}; an id holds only {}", self.what))
    }
}

impl Validator for IdFormat {
    fn description(&self) -> String {
        format!(
            "{} to {} characters, only {}",
            self.min_len, self.max_len, self.what
        )
    }
    fn check(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        if let Some(problem) = value.as_str().and_then(|s| self.problem(s)) {
            let name = leaf(path);
            diags.push(error(
                path,
                format!("Invalid {name}"),
                format!("`{name}`: {problem}."),
            ));
        }
    }
}

/// Applies `inner` to each known element of a set or list; elements not
/// known yet (at plan) are skipped. A list element's diagnostic points at
/// its index. A set element has no path in the protocol (`ElementKeyString`
/// is for map keys): its diagnostic points at the set, and its text names
/// the element.
pub fn each<V: Validator>(inner: V) -> Each<V> {
    Each(inner)
}

pub struct Each<V>(V);

impl<V: Validator> Validator for Each<V> {
    fn description(&self) -> String {
        format!("each element {}", self.0.description())
    }
    fn check(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let is_set = matches!(value, Value::Set(_));
        for (i, e) in value.as_elements().unwrap_or_default().iter().enumerate() {
            if e.is_null() || e.is_unknown() {
                continue;
            }
            if !is_set {
                self.0.check(e, &path.clone().index(i as i64), diags);
                continue;
            }
            let mut found = Diagnostics::new();
            self.0.check(e, path, &mut found);
            let element = element_text(e);
            for mut d in found.0 {
                if !d.detail.contains(&element) {
                    d.detail = format!("Element {element} of `{}`: {}", leaf(path), d.detail);
                }
                diags.push(d);
            }
        }
    }
}

/// A set element as messages name it: `"text"`, `12`, `true`, else a
/// description of its kind.
fn element_text(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n
            .as_i64()
            .map(|i| i.to_string())
            .or_else(|| n.as_f64().map(|f| f.to_string()))
            .unwrap_or_else(|| "a number".into()),
        _ => "(a collection or object)".into(),
    }
}

/// Reports what `inner` finds as warnings, followed by `consequence`: a
/// value that is allowed but probably not meant.
pub fn warn<V: Validator>(inner: V, consequence: &'static str) -> Warn<V> {
    Warn { inner, consequence }
}

pub struct Warn<V> {
    inner: V,
    consequence: &'static str,
}

impl<V: Validator> Validator for Warn<V> {
    fn description(&self) -> String {
        format!(
            "should hold {} (else a warning: {})",
            self.inner.description(),
            self.consequence
        )
    }
    fn check(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let mut found = Diagnostics::new();
        self.inner.check(value, path, &mut found);
        for mut d in found.0 {
            d.severity = crate::diag::Severity::Warning;
            d.detail = format!(
                "{} {}",
                d.detail.replace(" must ", " should "),
                self.consequence
            );
            diags.push(d);
        }
    }
}

/// A Go-style duration such as `"30s"`, `"10m"` or `"1h30m"`, up to a week.
pub fn duration() -> DurationFormat {
    DurationFormat
}

pub struct DurationFormat;

impl Validator for DurationFormat {
    fn description(&self) -> String {
        "a duration such as `\"30s\"`, `\"10m\"` or `\"1h30m\"`".into()
    }
    fn check(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        if let Some(Err(e)) = value.as_str().map(crate::duration::parse) {
            diags.push(error(path, "Invalid timeout".into(), e));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(v: &dyn Validator, value: Value) -> Vec<String> {
        let mut d = Diagnostics::new();
        v.check(&value, &AttributePath::root("x"), &mut d);
        d.0.into_iter()
            .map(|d| format!("{}|{}", d.attribute.unwrap(), d.detail))
            .collect()
    }

    #[test]
    fn unset_attributes_fall_back_to_their_variables() {
        let mut block = Block::default();
        for (name, ty, var) in [
            ("name", Type::String, "T_NAME"),
            ("flag", Type::Bool, "T_FLAG"),
            ("count", Type::Number, "T_COUNT"),
            ("secret", Type::String, "T_SECRET"),
        ] {
            let mut d = optional("x").env(var);
            if ty == Type::Number {
                d = d.validate(int_between(0, 5));
            }
            let mut a = match Decl::from(d) {
                Decl::Attribute(d) => d.attr,
                Decl::Block(_) => unreachable!(),
            };
            a.name = name.into();
            a.ty = ty;
            block.attributes.push(a);
        }
        let env = |k: &str| match k {
            "T_NAME" => Some("from-env".to_string()),
            "T_FLAG" => Some("yes".to_string()),
            "T_COUNT" => Some("9".to_string()),
            "T_SECRET" => Some("s".to_string()),
            _ => None,
        };
        let config = Value::object([("name", Value::string("set")), ("flag", Value::Null)]);
        let (v, d) = fill_from_env(&block, &config, &env, &|a| a == "secret");
        assert_eq!(v.get_str("name"), Some("set"), "the block wins");
        assert_eq!(v.get_bool("flag"), Some(true));
        assert_eq!(v.get("secret"), None, "skipped");
        assert_eq!(d.0.len(), 1, "9 is out of range: {d:?}");
        assert_eq!(d.0[0].summary, "Invalid T_COUNT");
        assert_eq!(d.0[0].attribute.as_ref().unwrap().to_string(), "count");
        assert!(block.attributes[0].description.ends_with("Env: `T_NAME`."));
    }

    #[test]
    fn validators_explain_themselves() {
        assert_eq!(run(&not_blank(), Value::string(" ")).len(), 1);
        assert!(run(&not_blank(), Value::string("a")).is_empty());
        assert_eq!(run(&max_bytes(2), Value::string("abc")).len(), 1);
        let route = one_of(&[("a", "first"), ("b", "")]);
        assert_eq!(route.description(), "one of `a` (first) or `b`");
        assert!(run(&route, Value::string("c"))[0].contains("got \"c\""));
        assert_eq!(run(&int_between(0, 3), Value::string("x")).len(), 1);
        let id = id_format(1, 4, |c| c.is_ascii_lowercase(), "lower-case letters");
        let errs = run(&each(id), Value::string_set(["ok", "Bad", "a b"]));
        assert_eq!(errs.len(), 2, "{errs:?}");
        // A set element's diagnostic points at the set and names the element.
        assert!(
            errs.iter()
                .any(|e| e.starts_with("x|") && e.contains("\"Bad\"")),
            "{errs:?}"
        );
        let blank = run(&each(not_blank()), Value::string_set([" "]));
        assert_eq!(
            blank,
            vec!["x|Element \" \" of `x`: `x` must not be empty.".to_string()]
        );
        let list = run(
            &each(not_blank()),
            Value::List(vec![Value::string("a"), Value::string("")]),
        );
        assert_eq!(list.len(), 1);
        assert!(list[0].starts_with("x[1]|"), "{list:?}");
        // Elements not known yet are skipped, the known ones checked.
        let partly = Value::set(vec![Value::string("Bad"), Value::Unknown]);
        let id = id_format(1, 4, |c| c.is_ascii_lowercase(), "lower-case letters");
        assert_eq!(run(&each(id), partly).len(), 1);
        assert_eq!(run(&size_at_least(1), Value::Set(vec![])).len(), 1);
        let mut d = Diagnostics::new();
        warn(size_at_least(1), "Then nothing.").check(
            &Value::Set(vec![]),
            &AttributePath::root("x"),
            &mut d,
        );
        assert!(!d.has_errors() && d.0.len() == 1);
        assert_eq!(
            d.0[0].detail,
            "`x` should hold at least 1 element. Then nothing."
        );
        assert_eq!(run(&duration(), Value::string("soon")).len(), 1);
        assert_eq!(run(&http_url(), Value::string("ftp://x")).len(), 1);
        assert!(run(&http_url(), Value::string("https://x")).is_empty());
        assert!(run(&duration(), Value::string("5m")).is_empty());
        assert_eq!(
            run(&positive(), Value::Number(crate::Number::Int(0))).len(),
            1
        );
    }
}

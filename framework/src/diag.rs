//! Diagnostics and attribute paths: how every error and warning reaches the
//! user, pointing at the attribute at fault where there is one.

use std::fmt;

/// One step of an attribute path, as Terraform's `AttributePath.Step`.
/// `ElementKeyString` is a map key and `ElementKeyInt` a list or tuple
/// index; a set element has no step (a path into a set stops at the set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    Attribute(String),
    ElementKeyString(String),
    ElementKeyInt(i64),
}

/// A path to an attribute, e.g. `timeouts.create`, `tags["env"]` or `jobs[0]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttributePath(pub Vec<PathStep>);

impl AttributePath {
    /// A path to a top-level attribute.
    pub fn root(name: &str) -> AttributePath {
        AttributePath(vec![PathStep::Attribute(name.to_string())])
    }
    pub fn attr(mut self, name: &str) -> AttributePath {
        self.0.push(PathStep::Attribute(name.to_string()));
        self
    }
    /// Into the element `key` of a map.
    pub fn key(mut self, key: &str) -> AttributePath {
        self.0.push(PathStep::ElementKeyString(key.to_string()));
        self
    }
    /// Into the element `i` of a list or tuple.
    pub fn index(mut self, i: i64) -> AttributePath {
        self.0.push(PathStep::ElementKeyInt(i));
        self
    }
}

impl fmt::Display for AttributePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Attribute(a) if i == 0 => write!(f, "{a}")?,
                PathStep::Attribute(a) => write!(f, ".{a}")?,
                PathStep::ElementKeyString(k) => write!(f, "[{k:?}]")?,
                PathStep::ElementKeyInt(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub summary: String,
    pub detail: String,
    pub attribute: Option<AttributePath>,
}

impl Diagnostic {
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            attribute: None,
        }
    }
    pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            summary: summary.into(),
            detail: detail.into(),
            attribute: None,
        }
    }
    /// Points this diagnostic at an attribute.
    pub fn at(mut self, path: AttributePath) -> Diagnostic {
        self.attribute = Some(path);
        self
    }
}

/// The diagnostics of one call, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn new() -> Diagnostics {
        Diagnostics(Vec::new())
    }
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Diagnostics {
        Diagnostics(vec![d])
    }
}

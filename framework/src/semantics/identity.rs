//! Resource identity (protocol 5.9): which identity goes to Terraform with a
//! state, and the rule that an object keeps its identity for its whole life.
//! A type without an identity schema gets none, exactly as before 5.9.

use crate::diag::{Diagnostic, Diagnostics};
use crate::resource::Resource;
use crate::value::Value;

/// A managed type as the identity rules see it: the resource (which says
/// the identity of a state) and whether it declares an identity schema.
#[derive(Clone, Copy)]
pub(crate) struct Identities<'a> {
    pub(crate) resource: &'a dyn Resource,
    pub(crate) declared: bool,
}

impl Identities<'_> {
    /// The identity that goes to Terraform with `state`: the resource's
    /// [`Resource::identity_of`] it. None for a type without identity, for a
    /// null state (the object is gone), or, for a `new_object` (a create or a
    /// replace, which may learn its identity only at apply), while it is not
    /// wholly known: core accepts an unknown planned identity, but its JSON
    /// plan cannot render one ("Failed to marshal plan to json: value is not
    /// known", Terraform 1.15). Unknown values anywhere else are a bug.
    pub(crate) fn of_state(
        &self,
        state: &Value,
        new_object: bool,
    ) -> Result<Option<Value>, Diagnostics> {
        if !self.declared || state.is_null() {
            return Ok(None);
        }
        let v = self.resource.identity_of(state);
        if v.is_null() || (new_object && !v.is_wholly_known()) {
            return Ok(None);
        }
        if !v.is_wholly_known() {
            return Err(Diagnostic::error(
                "Provider produced an invalid identity",
                format!(
                    "The identity of this {} has unknown values. This is a bug in the provider; please report it.",
                    self.resource.type_name()
                ),
            )
            .into());
        }
        Ok(Some(v))
    }

    /// [`Self::of_state`], checked against the identity the object had
    /// (`before`, when it must not change): what is wrong becomes a
    /// diagnostic beside the state, which is kept whatever is wrong with its
    /// identity.
    pub(crate) fn checked(
        &self,
        state: &Value,
        new_object: bool,
        before: Option<&Value>,
        diagnostics: &mut Diagnostics,
    ) -> Option<Value> {
        match self.of_state(state, new_object) {
            Ok(v) => {
                let after = v.as_ref().unwrap_or(&Value::Null);
                let change =
                    before.and_then(|b| identity_change(self.resource.type_name(), b, after));
                diagnostics.0.extend(change);
                v
            }
            Err(d) => {
                diagnostics.extend(d);
                None
            }
        }
    }

    /// The identity of an existing object's `state`, which must be `before`
    /// (the state is kept whatever is wrong with its identity).
    pub(crate) fn kept(
        &self,
        state: &Value,
        before: &Value,
        diagnostics: &mut Diagnostics,
    ) -> Option<Value> {
        self.checked(state, false, Some(before), diagnostics)
    }

    /// The identity a plan promises: for a destroy the one the object had
    /// (it ends with it); for a new object (create or replace) what is known
    /// of its planned state's; for an update its planned state's, which must
    /// be the prior one.
    pub(crate) fn planned(
        &self,
        destroying: bool,
        new_object: bool,
        prior_identity: Value,
        planned_state: &Value,
        diagnostics: &mut Diagnostics,
    ) -> Option<Value> {
        if destroying {
            return (self.declared && !prior_identity.is_null()).then_some(prior_identity);
        }
        let before = (!new_object).then_some(&prior_identity);
        self.checked(planned_state, new_object, before, diagnostics)
    }
}

/// The identity of a listed object (`terraform query`): none when null,
/// else it must be wholly known.
pub(crate) fn listed<'a>(
    type_name: &str,
    identity: &'a Value,
) -> Result<Option<&'a Value>, Diagnostic> {
    if identity.is_null() {
        return Ok(None);
    }
    if !identity.is_wholly_known() {
        return Err(Diagnostic::error(
            "Provider produced an invalid identity",
            format!(
                "A listed {type_name} has an identity with unknown values. This is a bug in the provider; please report it."
            ),
        ));
    }
    Ok(Some(identity))
}

/// An identity changed where it must not: an object keeps its identity for
/// its whole life (Terraform finds it again by it).
pub(crate) fn identity_change(
    type_name: &str,
    before: &Value,
    after: &Value,
) -> Option<Diagnostic> {
    /// Whether `after` is what `before` said, where `before` knew it.
    fn agrees(before: &Value, after: &Value) -> bool {
        match (before, after) {
            (Value::Unknown | Value::Refined(_), _) => true,
            (Value::Object(b), Value::Object(a)) => {
                b.len() == a.len()
                    && b.iter()
                        .all(|(k, bv)| a.get(k).is_some_and(|av| agrees(bv, av)))
            }
            _ => before == after,
        }
    }
    if before.is_null() || after.is_null() || !after.is_wholly_known() || agrees(before, after) {
        return None;
    }
    Some(Diagnostic::error(
        "Unexpected identity change",
        format!(
            "The provider changed the identity of this {type_name} from {} to {}. An object keeps its identity for its whole life. This is a bug in the provider; please report it.",
            identity_text(before),
            identity_text(after)
        ),
    ))
}

/// `{ server_id = "s-1" }`, for messages.
fn identity_text(v: &Value) -> String {
    fn one(v: &Value) -> String {
        match v {
            Value::Null => "null".into(),
            Value::Unknown | Value::Refined(_) => "(known after apply)".into(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => format!("{n:?}"),
            Value::String(s) => format!("{s:?}"),
            Value::List(xs) | Value::Set(xs) | Value::Tuple(xs) => {
                format!("[{}]", xs.iter().map(one).collect::<Vec<_>>().join(", "))
            }
            Value::Map(m) | Value::Object(m) => format!(
                "{{ {} }}",
                m.iter()
                    .map(|(k, v)| format!("{k} = {}", one(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
    one(v)
}

//! The rules every managed resource follows whatever the wire says: the
//! server-side semantics of protocol 5, kept apart from its transport
//! ([`crate::grpc`] decodes, calls these, and encodes), as
//! terraform-plugin-framework keeps `fwserver` apart from `proto5server`.
//!
//! - a destroy is planned here, without asking the resource: the planned
//!   state is null and the private data is kept;
//! - the configuration is validated again at plan, where values unknown at
//!   validation may be known;
//! - an object keeps its identity for its whole life: a read, an update's
//!   plan or an apply that changes it is an error.

use crate::diag::{AttributePath, Diagnostic};
use crate::resource::{CallContext, PlanRequest, PlanResponse, Resource};
use crate::value::Value;

/// What a resource plans for `req`: the end of the object for a destroy,
/// else the validation of the configuration followed by the resource's own
/// plan (validation diagnostics first).
pub(crate) async fn plan(r: &dyn Resource, ctx: &CallContext, req: PlanRequest) -> PlanResponse {
    if req.proposed_new_state.is_null() {
        // A destroy: nothing to plan but the end of the object.
        return PlanResponse {
            planned_state: Value::Null,
            planned_private: req.prior_private,
            ..Default::default()
        };
    }
    // Values unknown at validation may be known now: check again.
    let mut diagnostics = r.validate(&req.config);
    let mut out = r.plan(ctx, req).await;
    diagnostics.extend(std::mem::take(&mut out.diagnostics));
    out.diagnostics = diagnostics;
    out
}

/// Whether a plan makes a new object (a create or a replace), which may
/// learn its identity only at apply.
pub(crate) fn plans_new_object(prior_state: &Value, requires_replace: &[AttributePath]) -> bool {
    prior_state.is_null() || !requires_replace.is_empty()
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

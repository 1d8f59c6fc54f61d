//! Plan, read, apply and import of a managed resource, whatever the wire
//! says: each calls the resource once and adds what every resource obeys
//! (destroy planning, re-validation, the identity rules of
//! [`super::identity`]), and an apply that cannot tell what it did answers
//! with the prior state.

use super::identity::Identities;
use crate::diag::{AttributePath, Diagnostics};
use crate::resource::{
    ApplyRequest, ApplyResponse, CallContext, PlanRequest, PlanResponse, ReadRequest, ReadResponse,
};
use crate::value::Value;

/// What a resource plans for `req`, and the identity the plan promises:
/// the end of the object for a destroy, else the validation of the
/// configuration followed by the resource's own plan (validation
/// diagnostics first).
pub(crate) async fn plan(
    ids: Identities<'_>,
    ctx: &CallContext,
    req: PlanRequest,
) -> (PlanResponse, Option<Value>) {
    let prior_identity = req.prior_identity.clone();
    if req.proposed_new_state.is_null() {
        // A destroy: nothing to plan but the end of the object.
        let out = PlanResponse {
            planned_state: Value::Null,
            planned_private: req.prior_private,
            ..Default::default()
        };
        let mut diagnostics = Diagnostics::new();
        let identity = ids.planned(true, false, prior_identity, &Value::Null, &mut diagnostics);
        return (out, identity);
    }
    let prior_is_null = req.prior_state.is_null();
    // Values unknown at validation may be known now: check again.
    let mut diagnostics = ids.resource.validate(&req.config);
    let mut out = ids.resource.plan(ctx, req).await;
    diagnostics.extend(std::mem::take(&mut out.diagnostics));
    let new_object = plans_new_object(prior_is_null, &out.requires_replace);
    let identity = ids.planned(
        false,
        new_object,
        prior_identity,
        &out.planned_state,
        &mut diagnostics,
    );
    out.diagnostics = diagnostics;
    (out, identity)
}

/// Whether a plan makes a new object (a create or a replace), which may
/// learn its identity only at apply.
fn plans_new_object(prior_is_null: bool, requires_replace: &[AttributePath]) -> bool {
    prior_is_null || !requires_replace.is_empty()
}

/// What a read finds, and its identity, which must be the one it had.
pub(crate) async fn read(
    ids: Identities<'_>,
    ctx: &CallContext,
    req: ReadRequest,
) -> (ReadResponse, Option<Value>) {
    let before = req.current_identity.clone();
    let mut out = ids.resource.read(ctx, req).await;
    let identity = ids.kept(&out.new_state, &before, &mut out.diagnostics);
    (out, identity)
}

/// What an apply did, and its identity, which must be the one the plan
/// promised.
pub(crate) async fn apply(
    ids: Identities<'_>,
    ctx: &CallContext,
    req: ApplyRequest,
) -> (ApplyResponse, Option<Value>) {
    let before = req.planned_identity.clone();
    let mut out = ids.resource.apply(ctx, req).await;
    let identity = ids.kept(&out.new_state, &before, &mut out.diagnostics);
    (out, identity)
}

/// The states an import found, each with its identity.
pub(crate) fn imported(
    ids: Identities<'_>,
    states: Vec<Value>,
) -> Result<Vec<(Value, Option<Value>)>, Diagnostics> {
    states
        .into_iter()
        .map(|s| {
            let identity = ids.of_state(&s, false)?;
            Ok((s, identity))
        })
        .collect()
}

/// What an apply answers when it cannot tell what it did (the request does
/// not decode, the provider panics, or the new state does not fit the
/// schema): the prior state, which is what is still true, whatever its
/// form (`S`: a value, or the message Terraform sent). Losing it would make
/// Terraform forget a real object.
pub(crate) struct PriorStands<S> {
    pub(crate) new_state: S,
    pub(crate) private: Vec<u8>,
    pub(crate) diagnostics: Diagnostics,
}

/// [`PriorStands`] for an apply whose prior state is `prior_state`, with the
/// private data that goes with what it answers.
pub(crate) fn prior_stands<S>(
    prior_state: S,
    private: Vec<u8>,
    diagnostics: Diagnostics,
) -> PriorStands<S> {
    PriorStands {
        new_state: prior_state,
        private,
        diagnostics,
    }
}

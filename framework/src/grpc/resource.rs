//! The managed-resource RPCs: validate, upgrade, read, plan, apply, import
//! and move. Each decodes, calls the typed layer, and encodes; the semantics
//! shared by every resource live in [`crate::semantics`].

use super::*;

impl ProviderService {
    pub(super) async fn validate_resource_type_config_rpc(
        &self,
        req: Request<pb::validate_resource_type_config::Request>,
    ) -> Result<Response<pb::validate_resource_type_config::Response>, Status> {
        let req = req.into_inner();
        let resp = guarded(
            "ValidateResourceTypeConfig",
            async {
                let r = self.resource(&req.type_name)?;
                let config = fromproto::dynamic_value(req.config.as_ref(), &r.ty)
                    .map_err(|e| bad_input("resource configuration", e))?;
                Ok(toproto::diagnostics(&r.imp.validate(&config)))
            },
            |d| toproto::diagnostics(&d),
        )
        .await;
        Ok(Response::new(pb::validate_resource_type_config::Response {
            diagnostics: resp,
        }))
    }

    pub(super) async fn upgrade_resource_state_rpc(
        &self,
        req: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let req = req.into_inner();
        let resp = guarded(
            "UpgradeResourceState",
            async {
                let r = self.resource(&req.type_name)?;
                if req.version > r.schema.version {
                    return Err(Diagnostic::error(
                        "State from a newer provider",
                        format!(
                            "This {} was stored by a newer version of the provider (schema version {}, this provider knows up to {}). Upgrade the provider.",
                            req.type_name, req.version, r.schema.version
                        ),
                    )
                    .into());
                }
                let (state, diagnostics) = match req.raw_state.as_ref() {
                    Some(raw) if req.version < r.schema.version && !raw.json.is_empty() => {
                        let out = r.imp.upgrade_state(req.version, &raw.json);
                        (out.state, out.diagnostics)
                    }
                    raw => (
                        fromproto::raw_state(raw, &r.ty)
                            .map_err(|e| bad_input("stored state", e))?,
                        Diagnostics::new(),
                    ),
                };
                if diagnostics.has_errors() {
                    return Err(diagnostics);
                }
                if !state.is_wholly_known() {
                    return Err(Diagnostic::error(
                        "Provider produced an invalid state",
                        "The upgraded state has unknown values. This is a bug in the provider; please report it.",
                    )
                    .into());
                }
                Ok(pb::upgrade_resource_state::Response {
                    upgraded_state: Some(
                        toproto::dynamic_value(&state, &r.ty)
                            .map_err(|e| bad_output("upgraded state", e))?,
                    ),
                    diagnostics: toproto::diagnostics(&diagnostics),
                })
            },
            |d| pb::upgrade_resource_state::Response {
                upgraded_state: None,
                diagnostics: toproto::diagnostics(&d),
            },
        )
        .await;
        Ok(Response::new(resp))
    }

    pub(super) async fn read_resource_rpc(
        &self,
        req: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let req = req.into_inner();
        let ctx = self.ctx();
        let resp = guarded(
            "ReadResource",
            async {
                let r = self.resource(&req.type_name)?;
                let current_state = fromproto::dynamic_value(req.current_state.as_ref(), &r.ty)
                    .map_err(|e| bad_input("current state", e))?;
                let current_identity =
                    identity_in(r, req.current_identity.as_ref(), "current identity")?;
                let out = r
                    .imp
                    .read(
                        &ctx,
                        ReadRequest {
                            current_state,
                            private: req.private,
                            current_identity: current_identity.clone(),
                        },
                    )
                    .await;
                let new_state = toproto::dynamic_value(&out.new_state, &r.ty)
                    .map_err(|e| bad_output("refreshed state", e))?;
                let mut diagnostics = out.diagnostics;
                // The state is kept whatever is wrong with the identity.
                let new_identity = identity_checked(
                    r,
                    &out.new_state,
                    false,
                    Some(&current_identity),
                    &mut diagnostics,
                );
                Ok(pb::read_resource::Response {
                    new_state: Some(new_state),
                    diagnostics: toproto::diagnostics(&diagnostics),
                    private: out.private,
                    deferred: None,
                    new_identity,
                })
            },
            |d| pb::read_resource::Response {
                diagnostics: toproto::diagnostics(&d),
                ..Default::default()
            },
        )
        .await;
        Ok(Response::new(resp))
    }

    pub(super) async fn plan_resource_change_rpc(
        &self,
        req: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let req = req.into_inner();
        let ctx = self.ctx();
        let resp = guarded(
            "PlanResourceChange",
            async {
                let r = self.resource(&req.type_name)?;
                let dec = |dv: Option<&pb::DynamicValue>, what: &str| {
                    fromproto::dynamic_value(dv, &r.ty).map_err(|e| bad_input(what, e))
                };
                let prior_identity = identity_in(r, req.prior_identity.as_ref(), "prior identity")?;
                let plan_req = PlanRequest {
                    prior_state: dec(req.prior_state.as_ref(), "prior state")?,
                    proposed_new_state: dec(req.proposed_new_state.as_ref(), "proposed state")?,
                    config: dec(req.config.as_ref(), "resource configuration")?,
                    prior_private: req.prior_private,
                    prior_identity: prior_identity.clone(),
                };
                let prior_state = plan_req.prior_state.clone();
                let destroying = plan_req.proposed_new_state.is_null();
                let out = semantics::plan(r.imp.as_ref(), &ctx, plan_req).await;
                let planned_state = toproto::dynamic_value(&out.planned_state, &r.ty)
                    .map_err(|e| bad_output("planned state", e))?;
                let mut diagnostics = out.diagnostics;
                let planned_identity = if destroying {
                    // The object ends with the identity it had.
                    r.identity
                        .as_ref()
                        .and_then(|id| toproto::identity(&prior_identity, &id.ty).ok().flatten())
                } else {
                    // A new object (create or replace) may learn its identity at apply.
                    let replacing =
                        semantics::plans_new_object(&prior_state, &out.requires_replace);
                    let before = (!replacing).then_some(&prior_identity);
                    identity_checked(r, &out.planned_state, replacing, before, &mut diagnostics)
                };
                Ok(pb::plan_resource_change::Response {
                    planned_state: Some(planned_state),
                    requires_replace: out
                        .requires_replace
                        .iter()
                        .map(toproto::attribute_path)
                        .collect(),
                    planned_private: out.planned_private,
                    diagnostics: toproto::diagnostics(&diagnostics),
                    legacy_type_system: false,
                    deferred: None,
                    planned_identity,
                })
            },
            |d| pb::plan_resource_change::Response {
                diagnostics: toproto::diagnostics(&d),
                ..Default::default()
            },
        )
        .await;
        Ok(Response::new(resp))
    }

    pub(super) async fn apply_resource_change_rpc(
        &self,
        req: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let req = req.into_inner();
        let ctx = self.ctx();
        // On any failure the prior state is what is still true: losing it
        // would make Terraform forget a real object.
        let prior_raw = req.prior_state.clone();
        let prior_raw_on_error = prior_raw.clone();
        let resp = guarded(
            "ApplyResourceChange",
            async {
                let r = self.resource(&req.type_name)?;
                let dec = |dv: Option<&pb::DynamicValue>, what: &str| {
                    fromproto::dynamic_value(dv, &r.ty).map_err(|e| bad_input(what, e))
                };
                let planned_identity =
                    identity_in(r, req.planned_identity.as_ref(), "planned identity")?;
                let apply_req = ApplyRequest {
                    prior_state: dec(req.prior_state.as_ref(), "prior state")?,
                    planned_state: dec(req.planned_state.as_ref(), "planned state")?,
                    config: dec(req.config.as_ref(), "resource configuration")?,
                    planned_private: req.planned_private,
                    planned_identity: planned_identity.clone(),
                };
                let out = r.imp.apply(&ctx, apply_req).await;
                let mut diagnostics = out.diagnostics;
                let (new_state, state_sent) = match toproto::dynamic_value(&out.new_state, &r.ty) {
                    Ok(v) => (Some(v), true),
                    Err(e) => {
                        diagnostics.extend(bad_output("new state", e));
                        (prior_raw, false)
                    }
                };
                let new_identity = if !state_sent {
                    // The prior state went back: so does the identity it had.
                    req.planned_identity.filter(|_| r.identity.is_some())
                } else {
                    identity_checked(
                        r,
                        &out.new_state,
                        false,
                        Some(&planned_identity),
                        &mut diagnostics,
                    )
                };
                Ok(pb::apply_resource_change::Response {
                    new_state,
                    private: out.private,
                    diagnostics: toproto::diagnostics(&diagnostics),
                    legacy_type_system: false,
                    new_identity,
                })
            },
            |d| pb::apply_resource_change::Response {
                new_state: prior_raw_on_error,
                diagnostics: toproto::diagnostics(&d),
                ..Default::default()
            },
        )
        .await;
        Ok(Response::new(resp))
    }

    pub(super) async fn import_resource_state_rpc(
        &self,
        req: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let req = req.into_inner();
        let ctx = self.ctx();
        let resp = guarded(
            "ImportResourceState",
            async {
                let r = self.resource(&req.type_name)?;
                let by_identity = req
                    .identity
                    .as_ref()
                    .is_some_and(|i| i.identity_data.is_some());
                let out = if by_identity {
                    let Some(id) = &r.identity else {
                        return Err(not_supported(
                            &self.name,
                            &format!("Import by identity for {}", req.type_name),
                        ));
                    };
                    let identity = fromproto::identity(req.identity.as_ref(), &id.ty)
                        .map_err(|e| bad_input("import identity", e))?;
                    r.imp.import_by_identity(&ctx, identity).await
                } else {
                    r.imp.import(&ctx, &req.id).await
                };
                let mut imported = Vec::with_capacity(out.states.len());
                for s in &out.states {
                    let (_, identity) = identity_out(r, s, false)?;
                    imported.push(pb::import_resource_state::ImportedResource {
                        type_name: req.type_name.clone(),
                        state: Some(
                            toproto::dynamic_value(s, &r.ty)
                                .map_err(|e| bad_output("imported state", e))?,
                        ),
                        private: vec![],
                        identity,
                    });
                }
                Ok(pb::import_resource_state::Response {
                    imported_resources: imported,
                    diagnostics: toproto::diagnostics(&out.diagnostics),
                    deferred: None,
                })
            },
            |d| pb::import_resource_state::Response {
                diagnostics: toproto::diagnostics(&d),
                ..Default::default()
            },
        )
        .await;
        Ok(Response::new(resp))
    }

    pub(super) async fn move_resource_state_rpc(
        &self,
        _req: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        let resp = guarded(
            "MoveResourceState",
            async { Err(not_supported(&self.name, "Moving resource state")) },
            |d| pb::move_resource_state::Response {
                diagnostics: toproto::diagnostics(&d),
                ..Default::default()
            },
        )
        .await;
        Ok(Response::new(resp))
    }
}

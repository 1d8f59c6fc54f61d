//! The managed-resource RPCs: validate, upgrade, read, plan, apply, import
//! and move. Each decodes, calls one function of [`crate::semantics`] (or
//! the resource itself, for validate), and encodes.

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
                let config = r.value(req.config.as_ref(), "resource configuration")?;
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
        answer("UpgradeResourceState", async {
            let r = self.resource(&req.type_name)?;
            let json = req.raw_state.as_ref().map(|raw| raw.json.as_slice());
            let as_stored = || {
                fromproto::raw_state(req.raw_state.as_ref(), &r.ty)
                    .map_err(|e| bad_input("stored state", e))
            };
            let (state, diagnostics) = semantics::upgrade::upgrade_state(
                r.imp.as_ref(),
                r.schema.version,
                req.version,
                json,
                as_stored,
            )?;
            Ok(pb::upgrade_resource_state::Response {
                upgraded_state: Some(
                    toproto::dynamic_value(&state, &r.ty)
                        .map_err(|e| bad_output("upgraded state", e))?,
                ),
                diagnostics: toproto::diagnostics(&diagnostics),
            })
        })
        .await
    }

    pub(super) async fn read_resource_rpc(
        &self,
        req: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let req = req.into_inner();
        let ctx = self.ctx();
        answer("ReadResource", async {
            let r = self.resource(&req.type_name)?;
            let current_state = r.value(req.current_state.as_ref(), "current state")?;
            let current_identity =
                identity_in(r, req.current_identity.as_ref(), "current identity")?;
            let read_req = ReadRequest {
                current_state,
                private: req.private,
                current_identity,
            };
            let (out, identity) = semantics::resource::read(r.ids(), &ctx, read_req).await;
            let new_state = toproto::dynamic_value(&out.new_state, &r.ty)
                .map_err(|e| bad_output("refreshed state", e))?;
            let mut diagnostics = out.diagnostics;
            Ok(pb::read_resource::Response {
                new_state: Some(new_state),
                new_identity: identity_out(r, identity, &mut diagnostics),
                diagnostics: toproto::diagnostics(&diagnostics),
                private: out.private,
                deferred: None,
            })
        })
        .await
    }

    pub(super) async fn plan_resource_change_rpc(
        &self,
        req: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let req = req.into_inner();
        let ctx = self.ctx();
        answer("PlanResourceChange", async {
            let r = self.resource(&req.type_name)?;
            let plan_req = PlanRequest {
                prior_state: r.value(req.prior_state.as_ref(), "prior state")?,
                proposed_new_state: r.value(req.proposed_new_state.as_ref(), "proposed state")?,
                config: r.value(req.config.as_ref(), "resource configuration")?,
                prior_private: req.prior_private,
                prior_identity: identity_in(r, req.prior_identity.as_ref(), "prior identity")?,
            };
            let (out, identity) = semantics::resource::plan(r.ids(), &ctx, plan_req).await;
            let planned_state = toproto::dynamic_value(&out.planned_state, &r.ty)
                .map_err(|e| bad_output("planned state", e))?;
            let mut diagnostics = out.diagnostics;
            Ok(pb::plan_resource_change::Response {
                planned_state: Some(planned_state),
                requires_replace: out
                    .requires_replace
                    .iter()
                    .map(toproto::attribute_path)
                    .collect(),
                planned_private: out.planned_private,
                planned_identity: identity_out(r, identity, &mut diagnostics),
                diagnostics: toproto::diagnostics(&diagnostics),
                legacy_type_system: false,
                deferred: None,
            })
        })
        .await
    }

    pub(super) async fn apply_resource_change_rpc(
        &self,
        req: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let req = req.into_inner();
        let ctx = self.ctx();
        let prior_raw = req.prior_state.clone();
        let prior_raw_on_error = prior_raw.clone();
        let resp = guarded(
            "ApplyResourceChange",
            async {
                let r = self.resource(&req.type_name)?;
                let apply_req = ApplyRequest {
                    prior_state: r.value(req.prior_state.as_ref(), "prior state")?,
                    planned_state: r.value(req.planned_state.as_ref(), "planned state")?,
                    config: r.value(req.config.as_ref(), "resource configuration")?,
                    planned_private: req.planned_private,
                    planned_identity: identity_in(
                        r,
                        req.planned_identity.as_ref(),
                        "planned identity",
                    )?,
                };
                let (out, identity) = semantics::resource::apply(r.ids(), &ctx, apply_req).await;
                let mut diagnostics = out.diagnostics;
                let resp = match toproto::dynamic_value(&out.new_state, &r.ty) {
                    Ok(v) => pb::apply_resource_change::Response {
                        new_state: Some(v),
                        new_identity: identity_out(r, identity, &mut diagnostics),
                        private: out.private,
                        diagnostics: toproto::diagnostics(&diagnostics),
                        legacy_type_system: false,
                    },
                    Err(e) => {
                        diagnostics.extend(bad_output("new state", e));
                        let f =
                            semantics::resource::prior_stands(prior_raw, out.private, diagnostics);
                        pb::apply_resource_change::Response {
                            new_state: f.new_state,
                            private: f.private,
                            diagnostics: toproto::diagnostics(&f.diagnostics),
                            legacy_type_system: false,
                            // The prior state goes back: so does the identity it had.
                            new_identity: req.planned_identity.filter(|_| r.identity.is_some()),
                        }
                    }
                };
                Ok(resp)
            },
            |d| {
                let f = semantics::resource::prior_stands(prior_raw_on_error, vec![], d);
                pb::apply_resource_change::Response {
                    new_state: f.new_state,
                    private: f.private,
                    diagnostics: toproto::diagnostics(&f.diagnostics),
                    ..Default::default()
                }
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
        answer("ImportResourceState", async {
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
            let found = semantics::resource::imported(r.ids(), out.states)?;
            let mut imported = Vec::with_capacity(found.len());
            for (s, identity) in found {
                let mut diagnostics = Diagnostics::new();
                let identity = identity_out(r, identity, &mut diagnostics);
                if diagnostics.has_errors() {
                    return Err(diagnostics);
                }
                imported.push(pb::import_resource_state::ImportedResource {
                    type_name: req.type_name.clone(),
                    state: Some(
                        toproto::dynamic_value(&s, &r.ty)
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
        })
        .await
    }

    pub(super) async fn move_resource_state_rpc(
        &self,
        _req: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        answer("MoveResourceState", async {
            Err(not_supported(&self.name, "Moving resource state"))
        })
        .await
    }
}

//! Resource identity (protocol 5.9): the identity RPCs, and the decoding and
//! encoding of the identity that travels with a state in the resource RPCs.

use super::*;

/// An identity Terraform sent, decoded against the type's identity schema;
/// null for a type without one (whatever Terraform sent is then ignored).
pub(super) fn identity_in(
    r: &Typed<dyn Resource>,
    data: Option<&pb::ResourceIdentityData>,
    what: &str,
) -> Result<Value, Diagnostics> {
    match &r.identity {
        None => Ok(Value::Null),
        Some(id) => fromproto::identity(data, &id.ty).map_err(|e| bad_input(what, e)),
    }
}

/// The identity that goes to Terraform with `state`: [`Resource::identity_of`]
/// it. Nothing for a type without identity or for a null state (the object is
/// gone).
pub(super) fn identity_out(
    r: &Typed<dyn Resource>,
    state: &Value,
    unknown_allowed: bool,
) -> Result<(Value, Option<pb::ResourceIdentityData>), Diagnostics> {
    let Some(id) = &r.identity else {
        return Ok((Value::Null, None));
    };
    if state.is_null() {
        return Ok((Value::Null, None));
    }
    let v = r.imp.identity_of(state);
    if v.is_null() {
        return Ok((Value::Null, None));
    }
    if unknown_allowed && !v.is_wholly_known() {
        // Core accepts an unknown planned identity for a new object, but its
        // JSON plan cannot render one ("Failed to marshal plan to json:
        // value is not known", Terraform 1.15): plan none; apply sends it.
        return Ok((v, None));
    }
    if !v.is_wholly_known() {
        return Err(Diagnostic::error(
            "Provider produced an invalid identity",
            format!(
                "The identity of this {} has unknown values. This is a bug in the provider; please report it.",
                r.imp.type_name()
            ),
        )
        .into());
    }
    let data = toproto::identity(&v, &id.ty).map_err(|e| bad_output("identity", e))?;
    Ok((v, data))
}

/// [`identity_out`] for `state`, checked against the identity the object had
/// (`before`, when it must not change): what goes wrong becomes a diagnostic
/// beside the state, which is kept whatever is wrong with its identity.
pub(super) fn identity_checked(
    r: &Typed<dyn Resource>,
    state: &Value,
    unknown_allowed: bool,
    before: Option<&Value>,
    diagnostics: &mut Diagnostics,
) -> Option<pb::ResourceIdentityData> {
    match identity_out(r, state, unknown_allowed) {
        Ok((v, data)) => {
            if let Some(d) = before.and_then(|b| identity_change(r.imp.type_name(), b, &v)) {
                diagnostics.push(d);
            }
            data
        }
        Err(d) => {
            diagnostics.extend(d);
            None
        }
    }
}

impl ProviderService {
    pub(super) async fn get_resource_identity_schemas_rpc(
        &self,
        _req: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Result<Response<pb::get_resource_identity_schemas::Response>, Status> {
        let resp = guarded(
            "GetResourceIdentitySchemas",
            async {
                Ok(pb::get_resource_identity_schemas::Response {
                    identity_schemas: self
                        .resources
                        .iter()
                        .filter_map(|(k, r)| {
                            let id = r.identity.as_ref()?;
                            Some((k.clone(), toproto::identity_schema(&id.schema)))
                        })
                        .collect(),
                    diagnostics: vec![],
                })
            },
            |d| pb::get_resource_identity_schemas::Response {
                identity_schemas: Default::default(),
                diagnostics: toproto::diagnostics(&d),
            },
        )
        .await;
        Ok(Response::new(resp))
    }

    pub(super) async fn upgrade_resource_identity_rpc(
        &self,
        req: Request<pb::upgrade_resource_identity::Request>,
    ) -> Result<Response<pb::upgrade_resource_identity::Response>, Status> {
        let req = req.into_inner();
        let resp = guarded(
            "UpgradeResourceIdentity",
            async {
                let r = self.resource(&req.type_name)?;
                let Some(id) = &r.identity else {
                    return Err(not_supported(
                        &self.name,
                        &format!("Resource identity for {}", req.type_name),
                    ));
                };
                if req.version > id.schema.version {
                    return Err(Diagnostic::error(
                        "Identity from a newer provider",
                        format!(
                            "The identity of this {} was stored by a newer version of the provider (identity version {}, this provider knows up to {}). Upgrade the provider.",
                            req.type_name, req.version, id.schema.version
                        ),
                    )
                    .into());
                }
                let raw = req.raw_identity.map(|r| r.json).unwrap_or_default();
                let out = r.imp.upgrade_identity(req.version, &raw);
                let upgraded_identity = if out.diagnostics.has_errors() {
                    None
                } else {
                    if !out.identity.is_wholly_known() {
                        return Err(Diagnostic::error(
                            "Provider produced an invalid identity",
                            "The upgraded identity has unknown values. This is a bug in the provider; please report it.",
                        )
                        .into());
                    }
                    Some(pb::ResourceIdentityData {
                        identity_data: Some(
                            toproto::dynamic_value(&out.identity, &id.ty)
                                .map_err(|e| bad_output("upgraded identity", e))?,
                        ),
                    })
                };
                Ok(pb::upgrade_resource_identity::Response {
                    upgraded_identity,
                    diagnostics: toproto::diagnostics(&out.diagnostics),
                })
            },
            |d| pb::upgrade_resource_identity::Response {
                upgraded_identity: None,
                diagnostics: toproto::diagnostics(&d),
            },
        )
        .await;
        Ok(Response::new(resp))
    }
}

//! Resource identity (protocol 5.9): the identity RPCs, and the decoding and
//! encoding of the identity that travels with a state in the resource RPCs
//! (which identity that is, and what it must obey, is
//! [`crate::semantics::identity`]'s).

use super::*;

/// An identity Terraform sent, decoded against the type's identity schema;
/// null for a type without one (whatever Terraform sent is then ignored).
pub(super) fn identity_in(
    r: &Served<dyn Resource>,
    data: Option<&pb::ResourceIdentityData>,
    what: &str,
) -> Result<Value, Diagnostics> {
    match &r.identity {
        None => Ok(Value::Null),
        Some(id) => fromproto::identity(data, &id.ty).map_err(|e| bad_input(what, e)),
    }
}

/// An identity the semantics chose to send, encoded; what does not encode
/// becomes a diagnostic beside the state, which is kept.
pub(super) fn identity_out(
    r: &Served<dyn Resource>,
    identity: Option<Value>,
    diagnostics: &mut Diagnostics,
) -> Option<pb::ResourceIdentityData> {
    let (Some(id), Some(v)) = (&r.identity, identity) else {
        return None;
    };
    match toproto::identity(&v, &id.ty) {
        Ok(data) => data,
        Err(e) => {
            diagnostics.extend(bad_output("identity", e));
            None
        }
    }
}

impl Served<dyn Resource> {
    /// The type as the identity rules of [`semantics::identity`] see it.
    pub(super) fn ids(&self) -> semantics::identity::Identities<'_> {
        semantics::identity::Identities {
            resource: self.imp.as_ref(),
            declared: self.identity.is_some(),
        }
    }
}

impl ProviderService {
    pub(super) async fn get_resource_identity_schemas_rpc(
        &self,
        _req: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Result<Response<pb::get_resource_identity_schemas::Response>, Status> {
        answer("GetResourceIdentitySchemas", async {
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
        })
        .await
    }

    pub(super) async fn upgrade_resource_identity_rpc(
        &self,
        req: Request<pb::upgrade_resource_identity::Request>,
    ) -> Result<Response<pb::upgrade_resource_identity::Response>, Status> {
        let req = req.into_inner();
        answer("UpgradeResourceIdentity", async {
            let r = self.resource(&req.type_name)?;
            let Some(id) = &r.identity else {
                return Err(not_supported(
                    &self.name,
                    &format!("Resource identity for {}", req.type_name),
                ));
            };
            let raw = req.raw_identity.map(|r| r.json).unwrap_or_default();
            let (identity, diagnostics) = semantics::upgrade::upgrade_identity(
                r.imp.as_ref(),
                id.schema.version,
                req.version,
                &raw,
            )?;
            let upgraded_identity = match identity {
                None => None,
                Some(v) => Some(pb::ResourceIdentityData {
                    identity_data: Some(
                        toproto::dynamic_value(&v, &id.ty)
                            .map_err(|e| bad_output("upgraded identity", e))?,
                    ),
                }),
            };
            Ok(pb::upgrade_resource_identity::Response {
                upgraded_identity,
                diagnostics: toproto::diagnostics(&diagnostics),
            })
        })
        .await
    }
}

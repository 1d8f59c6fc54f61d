//! The adapters that serve a [`ResourceType`] as a [`Resource`] and a
//! [`DataSourceType`] as a [`DataSource`]: decoding into the model, the
//! declared validators and plan, and the split of apply.

use std::marker::PhantomData;
use std::sync::Arc;

use async_trait::async_trait;

use super::plan::{has_refinements, without_unknowns};
use super::*;
use crate::declare::validate_block;
use crate::semantics::resource::prior_stands;

/// Serves a [`ResourceType`] as a [`Resource`].
pub fn resource<R: ResourceType>(r: R) -> Arc<dyn Resource> {
    Arc::new(TypedResource(r))
}

/// Serves a [`DataSourceType`] as a [`DataSource`].
pub fn data_source<D: DataSourceType>(d: D) -> Arc<dyn DataSource> {
    Arc::new(TypedData(d, PhantomData))
}

struct TypedResource<R>(R);

struct TypedData<D>(D, PhantomData<fn() -> D>);

fn decode<M: Model>(v: &Value) -> Result<Option<M>, Diagnostics> {
    if v.is_null() {
        return Ok(None);
    }
    M::from_value(v).map(Some).map_err(Diagnostics::from)
}

fn encode<M: Model>(m: Option<&M>) -> Value {
    m.map_or(Value::Null, M::to_value)
}

/// The declared validators of a model's block on a configuration (for
/// types with no checks of their own, such as list resources' filters).
pub fn validate_config<M: Model>(config: &Value) -> Diagnostics {
    validate_model::<M>(config, |_, _| {})
}

/// The declared validators, then the type's own checks on the model.
fn validate_model<M: Model>(config: &Value, own: impl FnOnce(&M, &mut Diagnostics)) -> Diagnostics {
    let mut diags = validate_block(&M::block(), config, &AttributePath::default());
    match M::from_value(config) {
        Ok(m) => own(&m, &mut diags),
        Err(d) => diags.push(d),
    }
    diags
}

impl<R: ResourceType> TypedResource<R> {
    fn block() -> Block {
        R::Model::block()
    }

    /// The private state Terraform kept, at this type's private version;
    /// an error naming the type when it cannot be read.
    fn private(&self, bytes: &[u8]) -> Result<R::Private, Diagnostics> {
        decode_private_versioned(bytes, R::PRIVATE_VERSION, |v, j| {
            self.0.upgrade_private(v, j)
        })
        .map_err(|e| {
            Diagnostic::error(
                "Unreadable private state",
                format!(
                    "The private state Terraform keeps for this {} cannot be read: {e}. \
                     It holds what the provider must remember between runs (such as pending orders), \
                     so the provider stops rather than forget it. Use the provider version that wrote it, \
                     or report this as a bug.",
                    R::TYPE_NAME
                ),
            )
            .into()
        })
    }

    fn encode_private(p: &R::Private) -> Vec<u8> {
        encode_private_versioned(p, R::PRIVATE_VERSION)
    }

    async fn plan_typed(
        &self,
        ctx: &CallContext,
        req: PlanRequest,
    ) -> Result<PlanResponse, Diagnostics> {
        let PlanRequest {
            prior_state,
            proposed_new_state,
            config,
            prior_private,
            ..
        } = req;
        let (planned, requires_replace) =
            plan_declared(&Self::block(), &prior_state, proposed_new_state, &config);
        let mut plan = Plan {
            prior: decode::<R::Model>(&prior_state)?,
            config: decode::<R::Model>(&config)?.unwrap_or_default(),
            planned: decode::<R::Model>(&planned)?.unwrap_or_default(),
            private: self.private(&prior_private)?,
            requires_replace,
            diagnostics: Diagnostics::new(),
        };
        // Plans may wait (for other resources' claims): the values now live
        // in the models only, not twice, however many plans wait at once
        // (but for the rare value with refinements, which the models lose).
        let refined = has_refinements(&planned).then_some(planned);
        drop((prior_state, config));
        self.0.plan(ctx, &mut plan).await;
        let mut planned_state = plan.planned.to_value();
        if let Some(from) = &refined {
            keep_refinements(&mut planned_state, from);
        }
        Ok(PlanResponse {
            planned_state,
            requires_replace: plan.requires_replace,
            planned_private: Self::encode_private(&plan.private),
            diagnostics: plan.diagnostics,
        })
    }

    /// Decodes an apply's values into models: prior, planned (None on a
    /// destroy) and config.
    #[allow(clippy::type_complexity)]
    fn decode_apply(
        req: &ApplyRequest,
    ) -> Result<(Option<R::Model>, Option<R::Model>, R::Model), Diagnostics> {
        Ok((
            decode::<R::Model>(&req.prior_state)?,
            decode::<R::Model>(&req.planned_state)?,
            decode::<R::Model>(&req.config)?.unwrap_or_default(),
        ))
    }

    async fn apply_models(
        &self,
        ctx: &CallContext,
        (prior, planned, config): (Option<R::Model>, Option<R::Model>, R::Model),
        private: R::Private,
        diags: &mut Diagnostics,
    ) -> Applied<R::Model, R::Private> {
        match (prior, planned) {
            (None, None) => Applied::new(None, private),
            (Some(state), None) => self.0.delete(ctx, state, private, diags).await,
            (prior, Some(planned)) => {
                let change = Change {
                    prior,
                    planned,
                    config,
                    private,
                };
                self.0.apply(ctx, change, diags).await
            }
        }
    }
}

#[async_trait]
impl<R: ResourceType> Resource for TypedResource<R> {
    fn type_name(&self) -> &'static str {
        R::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Schema {
            version: R::SCHEMA_VERSION,
            ..schema_of::<R::Model>(R::DESCRIPTION)
        }
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        validate_model::<R::Model>(config, |m, d| self.0.validate(m, d))
    }

    fn upgrade_state(&self, version: i64, raw_json: &[u8]) -> UpgradeStateResponse {
        let what = format!("state of this {}", R::TYPE_NAME);
        match run_upgrade(self.0.state_upgrades(), version, raw_json, &what) {
            Ok(state) => UpgradeStateResponse {
                state,
                diagnostics: Diagnostics::new(),
            },
            Err(d) => UpgradeStateResponse {
                state: Value::Null,
                diagnostics: d.into(),
            },
        }
    }

    fn upgrade_identity(&self, version: i64, raw_json: &[u8]) -> UpgradeIdentityResponse {
        let upgrades = self.0.identity_upgrades();
        if !upgrades.iter().any(|u| u.from_version == version) {
            return default_upgrade_identity(self, version, raw_json);
        }
        let what = format!("identity of this {}", R::TYPE_NAME);
        match run_upgrade(upgrades, version, raw_json, &what) {
            Ok(identity) => UpgradeIdentityResponse {
                identity,
                diagnostics: Diagnostics::new(),
            },
            Err(d) => UpgradeIdentityResponse {
                identity: Value::Null,
                diagnostics: d.into(),
            },
        }
    }

    async fn plan(&self, ctx: &CallContext, req: PlanRequest) -> PlanResponse {
        let prior_private = req.prior_private.clone();
        self.plan_typed(ctx, req)
            .await
            .unwrap_or_else(|diagnostics| PlanResponse {
                planned_private: prior_private,
                diagnostics,
                ..Default::default()
            })
    }

    async fn apply(&self, ctx: &CallContext, req: ApplyRequest) -> ApplyResponse {
        let decoded = Self::decode_apply(&req)
            .and_then(|models| Ok((models, self.private(&req.planned_private)?)));
        let (models, private) = match decoded {
            Ok(decoded) => decoded,
            Err(diagnostics) => {
                let f = prior_stands(req.prior_state, req.planned_private, diagnostics);
                return ApplyResponse {
                    new_state: f.new_state,
                    private: f.private,
                    diagnostics: f.diagnostics,
                };
            }
        };
        // Applies wait for the cloud: the values live in the models only.
        drop(req);
        let mut diagnostics = Diagnostics::new();
        let applied = self
            .apply_models(ctx, models, private, &mut diagnostics)
            .await;
        ApplyResponse {
            new_state: without_unknowns(encode(applied.state.as_ref())),
            private: Self::encode_private(&applied.private),
            diagnostics,
        }
    }

    async fn read(&self, ctx: &CallContext, req: ReadRequest) -> ReadResponse {
        let decoded = decode::<R::Model>(&req.current_state)
            .and_then(|state| Ok((state, self.private(&req.private)?)));
        let (state, private) = match decoded {
            Ok((Some(s), private)) => (s, private),
            Ok((None, _)) => return ReadResponse::default(),
            Err(diagnostics) => {
                return ReadResponse {
                    new_state: req.current_state,
                    private: req.private,
                    diagnostics,
                };
            }
        };
        drop(req.current_state);
        let mut diagnostics = Diagnostics::new();
        let read = self.0.read(ctx, state, private, &mut diagnostics).await;
        ReadResponse {
            new_state: encode(read.state.as_ref()),
            private: Self::encode_private(&read.private),
            diagnostics,
        }
    }

    async fn import(&self, ctx: &CallContext, id: &str) -> ImportResponse {
        let mut diagnostics = Diagnostics::new();
        let found = self.0.import(ctx, id, &mut diagnostics).await;
        ImportResponse {
            states: found.iter().map(Model::to_value).collect(),
            diagnostics,
        }
    }

    fn identity_schema(&self) -> Option<IdentitySchema> {
        let block = R::Identity::block();
        (!block.attributes.is_empty()).then(|| IdentitySchema::of(R::IDENTITY_VERSION, &block))
    }

    fn identity_of(&self, state: &Value) -> Value {
        match decode::<R::Model>(state) {
            Ok(Some(m)) => self.0.identity(&m).map_or(Value::Null, |i| i.to_value()),
            _ => Value::Null,
        }
    }

    async fn import_by_identity(&self, ctx: &CallContext, identity: Value) -> ImportResponse {
        let identity = match R::Identity::from_value(&identity) {
            Ok(i) => i,
            Err(d) => {
                return ImportResponse {
                    diagnostics: d.into(),
                    ..Default::default()
                };
            }
        };
        let mut diagnostics = Diagnostics::new();
        let found = self
            .0
            .import_by_identity(ctx, identity, &mut diagnostics)
            .await;
        ImportResponse {
            states: found.iter().map(Model::to_value).collect(),
            diagnostics,
        }
    }
}

#[async_trait]
impl<D: DataSourceType> DataSource for TypedData<D> {
    fn type_name(&self) -> &'static str {
        D::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema_of::<D::Model>(D::DESCRIPTION)
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        validate_model::<D::Model>(config, |m, d| self.0.validate(m, d))
    }

    async fn read(&self, ctx: &CallContext, config: Value) -> DataReadResponse {
        let model = match D::Model::from_value(&config) {
            Ok(m) => m,
            Err(d) => {
                return DataReadResponse {
                    state: config,
                    diagnostics: d.into(),
                };
            }
        };
        let mut diagnostics = Diagnostics::new();
        let state = self.0.read(ctx, model, &mut diagnostics).await;
        DataReadResponse {
            state: without_unknowns(state.to_value()),
            diagnostics,
        }
    }
}

//! Resources and data sources written against typed models.
//!
//! A provider implements [`ResourceType`] or [`DataSourceType`] with its
//! model and private state types, and registers it with [`resource`] or
//! [`data_source`]. The framework then does what every resource needs: it
//! decodes config, plan and state into the model, runs the declared
//! validators, plans the declared behaviour (defaults, requires-replace,
//! unknown computed values, kept state) before the resource's own plan
//! decisions, splits apply into a change (create or update) and a delete, turns values an
//! apply did not learn into null, and keeps private state as JSON.

use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::diag::{AttributePath, Diagnostic, Diagnostics};
use crate::model::Model;
use crate::resource::{
    ApplyRequest, ApplyResponse, CallContext, DataReadResponse, DataSource, ImportResponse,
    PlanRequest, PlanResponse, ReadRequest, ReadResponse, Resource, UpgradeIdentityResponse,
    UpgradeStateResponse, default_upgrade_identity,
};
use crate::schema::{Block, IdentitySchema, Schema};
use crate::value::Value;

mod adapter;
mod list;
mod plan;
mod private;

pub use adapter::{data_source, resource, validate_config};
pub use list::{Found, ListResourceType, list_resource};
pub use plan::{keep_refinements, plan_declared};
pub use private::{
    PRIVATE_VERSION_KEY, decode_private, decode_private_versioned, encode_private,
    encode_private_versioned,
};

/// What a resource keeps between calls besides its state: serde JSON,
/// absent (empty) when it equals the default.
pub trait PrivateState: Serialize + DeserializeOwned + Default + Send + Sync + 'static {}
impl<T: Serialize + DeserializeOwned + Default + Send + Sync + 'static> PrivateState for T {}

/// A plan being made: the declared behaviour has run; the resource's own
/// [`ResourceType::plan`] may change `planned`, `private` and the rest.
pub struct Plan<M, P> {
    /// None when the resource is being created.
    pub prior: Option<M>,
    pub config: M,
    pub planned: M,
    /// The prior private state, to be planned.
    pub private: P,
    pub requires_replace: Vec<AttributePath>,
    pub diagnostics: Diagnostics,
}

impl<M, P> Plan<M, P> {
    /// True when the plan creates the object (or replaces it).
    pub fn creates(&self) -> bool {
        self.prior.is_none() || !self.requires_replace.is_empty()
    }
}

/// A create or update to carry out.
pub struct Change<M, P> {
    /// None on create.
    pub prior: Option<M>,
    pub planned: M,
    pub config: M,
    pub private: P,
}

/// What an apply or read leaves: the state (None: the object is gone) and
/// the private state. On error, whatever is true of the cloud now.
pub struct Applied<M, P> {
    pub state: Option<M>,
    pub private: P,
}

impl<M, P> Applied<M, P> {
    pub fn new(state: Option<M>, private: P) -> Self {
        Applied { state, private }
    }
}

/// A managed resource type.
#[async_trait]
pub trait ResourceType: Send + Sync + 'static {
    type Model: Model;
    type Private: PrivateState;
    /// The identity model (Terraform 1.12+), or [`NoIdentity`].
    type Identity: Model;
    const TYPE_NAME: &'static str;
    const DESCRIPTION: &'static str;
    /// The version of the identity schema.
    const IDENTITY_VERSION: i64 = 0;
    /// The version of the schema, reported to Terraform, which stores it
    /// with each state and asks for an upgrade of states stored at an
    /// earlier one. Raise it when the model changes the type or meaning of
    /// an attribute, and add a [`StateUpgrade`] from each earlier version.
    const SCHEMA_VERSION: i64 = 0;
    /// The version of the private state's shape, stored with it. Raise it
    /// when `Private` changes in a way the old JSON does not deserialize
    /// into, and read the old JSON in [`ResourceType::upgrade_private`].
    const PRIVATE_VERSION: i64 = 0;

    /// How a state stored at each earlier [`ResourceType::SCHEMA_VERSION`]
    /// becomes today's model: one [`StateUpgrade`] per earlier version.
    fn state_upgrades(&self) -> Vec<StateUpgrade<Self::Model>> {
        Vec::new()
    }
    /// How an identity stored at each earlier
    /// [`ResourceType::IDENTITY_VERSION`] becomes today's identity. Without
    /// one for a version, the identity is read with today's attributes.
    fn identity_upgrades(&self) -> Vec<StateUpgrade<Self::Identity>> {
        Vec::new()
    }
    /// Private state stored at an earlier [`ResourceType::PRIVATE_VERSION`]
    /// (its JSON, without the version), in today's shape. The default
    /// refuses: a resource that raises the version must say how.
    fn upgrade_private(
        &self,
        version: i64,
        _stored: serde_json::Value,
    ) -> Result<Self::Private, String> {
        Err(format!("no upgrade from private state version {version}"))
    }

    /// Checks of a configuration beyond the declared validators. No calls.
    fn validate(&self, _config: &Self::Model, _diags: &mut Diagnostics) {}
    /// The resource's own plan decisions (the declared ones have been made).
    async fn plan(&self, _ctx: &CallContext, _plan: &mut Plan<Self::Model, Self::Private>) {}
    /// Creates the object (`change.prior` is None) or updates it in place:
    /// one method, because a cloud object's create and update are most often
    /// the same walk from what is there to what is planned.
    async fn apply(
        &self,
        ctx: &CallContext,
        change: Change<Self::Model, Self::Private>,
        diags: &mut Diagnostics,
    ) -> Applied<Self::Model, Self::Private>;
    /// Returns no state once the object is gone.
    async fn delete(
        &self,
        ctx: &CallContext,
        state: Self::Model,
        private: Self::Private,
        diags: &mut Diagnostics,
    ) -> Applied<Self::Model, Self::Private>;
    /// Returns no state when the object no longer exists.
    async fn read(
        &self,
        ctx: &CallContext,
        state: Self::Model,
        private: Self::Private,
        diags: &mut Diagnostics,
    ) -> Applied<Self::Model, Self::Private>;
    async fn import(
        &self,
        ctx: &CallContext,
        id: &str,
        diags: &mut Diagnostics,
    ) -> Vec<Self::Model>;

    /// The identity of an object, from its state (planned values may be
    /// unknown); None for a type without identity ([`NoIdentity`]). It must
    /// stay the same for the life of the object. The identity schema is
    /// `Self::Identity`'s block.
    fn identity(&self, _state: &Self::Model) -> Option<Self::Identity> {
        None
    }
    /// Import by identity (`import { identity = { ... } }`).
    async fn import_by_identity(
        &self,
        _ctx: &CallContext,
        _identity: Self::Identity,
        diags: &mut Diagnostics,
    ) -> Vec<Self::Model> {
        diags.push(Diagnostic::error(
            "Import by identity not supported",
            format!(
                "{} can be imported by id only: use `import {{ id = ... }}`.",
                Self::TYPE_NAME
            ),
        ));
        Vec::new()
    }
}

crate::model! {
    /// The identity of a type that has none: no attributes, so no identity
    /// schema is served.
    pub struct NoIdentity {}
}

/// How a state (or identity) stored at an earlier schema version becomes
/// today's model: its stored JSON in, today's model out.
pub struct StateUpgrade<M> {
    /// The schema version of the states it reads.
    pub from_version: i64,
    /// Reads a stored state of that version: Terraform's JSON, parsed
    /// (attributes by name; nested objects and collections as JSON).
    pub upgrade: fn(&serde_json::Value) -> Result<M, String>,
}

/// Runs the upgrade declared for `version` on stored JSON; an error when
/// there is none or it fails. `what` names the object for messages.
fn run_upgrade<M: Model>(
    upgrades: Vec<StateUpgrade<M>>,
    version: i64,
    raw_json: &[u8],
    what: &str,
) -> Result<Value, Diagnostic> {
    let invalid = |e: String| {
        Diagnostic::error(
            "Invalid stored state",
            format!("The stored {what} (schema version {version}) cannot be upgraded: {e}."),
        )
    };
    let Some(up) = upgrades.into_iter().find(|u| u.from_version == version) else {
        return Err(invalid(format!(
            "this provider has no upgrade from version {version}; this is a bug in the provider, please report it"
        )));
    };
    let stored: serde_json::Value =
        serde_json::from_slice(raw_json).map_err(|e| invalid(format!("invalid JSON: {e}")))?;
    (up.upgrade)(&stored).map(|m| m.to_value()).map_err(invalid)
}

/// A data source type.
#[async_trait]
pub trait DataSourceType: Send + Sync + 'static {
    type Model: Model;
    const TYPE_NAME: &'static str;
    const DESCRIPTION: &'static str;

    fn validate(&self, _config: &Self::Model, _diags: &mut Diagnostics) {}
    async fn read(
        &self,
        ctx: &CallContext,
        config: Self::Model,
        diags: &mut Diagnostics,
    ) -> Self::Model;
}

/// The schema of a model, described.
pub fn schema_of<M: Model>(description: &str) -> Schema {
    Schema {
        version: 0,
        block: Block {
            description: description.to_string(),
            ..M::block()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::plan::without_unknowns;
    use super::*;
    use crate::Tf;

    crate::model! {
        struct Thing {
            id: String = computed("Id.").keep_state(),
            server: String = required("Server.").requires_replace(),
            size: String = required("Size."),
            note: String = optional("Note."),
            order: String = computed("Order.").keep_state_unless(&["size"]),
            status: String = computed("Status."),
            mode: String = optional("Mode.").default(Value::string("fast")),
        }
    }

    fn value(server: &str, size: &str, note: Option<&str>) -> Value {
        Thing {
            server: server.into(),
            size: size.into(),
            note: Tf::from_option(note.map(str::to_string)),
            ..Default::default()
        }
        .to_value()
    }

    fn prior() -> Value {
        Thing {
            id: "i".into(),
            server: "s".into(),
            size: "m".into(),
            order: "o".into(),
            status: "ok".into(),
            mode: "fast".into(),
            ..Default::default()
        }
        .to_value()
    }

    /// Terraform's proposal: config over prior computed values.
    fn proposed(config: &Value) -> Value {
        let mut p = prior();
        for k in ["server", "size", "note", "mode"] {
            p.set_attr(k, config.get(k).cloned().unwrap());
        }
        p
    }

    fn plan(prior: &Value, config: &Value) -> (Thing, Vec<AttributePath>) {
        let proposed = if prior.is_null() {
            config.clone()
        } else {
            proposed(config)
        };
        let (v, r) = plan_declared(&Thing::block(), prior, proposed, config);
        (Thing::from_value(&v).unwrap(), r)
    }

    #[test]
    fn create_plans_computed_unknown_and_defaults() {
        let (p, r) = plan(&Value::Null, &value("s", "m", None));
        assert!(r.is_empty());
        assert_eq!(p.id, Tf::Unknown);
        assert_eq!(p.status, Tf::Unknown);
        assert_eq!(p.mode, Tf::Known("fast".into()));
    }

    #[test]
    fn nothing_changed_keeps_everything() {
        let (p, r) = plan(&prior(), &value("s", "m", None));
        assert!(r.is_empty());
        assert_eq!(p.to_value(), prior());
    }

    #[test]
    fn an_input_change_makes_what_it_feeds_unknown() {
        let (p, _) = plan(&prior(), &value("s", "l", None));
        assert_eq!(p.id, Tf::Known("i".into()));
        assert_eq!(p.order, Tf::Unknown);
        assert_eq!(p.status, Tf::Unknown);
        let (p, _) = plan(&prior(), &value("s", "m", Some("n")));
        assert_eq!(p.order, Tf::Known("o".into()), "note does not feed order");
        assert_eq!(p.status, Tf::Unknown);
    }

    #[test]
    fn a_replacing_change_is_named_and_plans_like_a_create() {
        let (p, r) = plan(&prior(), &value("t", "m", None));
        assert_eq!(r, vec![AttributePath::root("server")]);
        assert_eq!(p.id, Tf::Unknown);
        assert_eq!(p.order, Tf::Unknown);
    }

    crate::model! {
        struct Group {
            id: String = computed("Id.").keep_state(),
            members: std::collections::BTreeSet<String> = required("Members."),
            zone: std::collections::BTreeSet<String> = optional("Zone.").requires_replace(),
            summary: String = computed("Summary.").keep_state_unless(&["members"]),
        }
    }

    #[test]
    fn a_partly_known_set_plans_as_a_change_and_comes_back_as_configured() {
        let refined = Value::Refined(crate::value::Refinements {
            ext_type: 12,
            payload: vec![0x81, 0x01, 0xc2],
        });
        let partly = Value::set(vec![Value::string("a"), refined.clone()]);
        let prior = Value::object([
            ("id", Value::string("g")),
            ("members", Value::string_set(["a"])),
            ("zone", Value::string_set(["z"])),
            ("summary", Value::string("one")),
        ]);
        let mut config = prior.clone();
        config.set_attr("id", Value::Null);
        config.set_attr("summary", Value::Null);
        config.set_attr("members", partly.clone());
        let mut proposed = prior.clone();
        proposed.set_attr("members", partly.clone());
        let (planned, replace) = plan_declared(&Group::block(), &prior, proposed, &config);
        assert!(replace.is_empty());
        assert_eq!(planned.get("members"), Some(&partly));
        assert_eq!(planned.get("summary"), Some(&Value::Unknown));
        assert_eq!(planned.get_str("id"), Some("g"));
        let group = Group::from_value(&planned).unwrap();
        assert_eq!(group.members.partial().map(|p| p.unknown_count()), Some(1));
        assert_eq!(group.to_value(), planned);

        // A partly-known value of an attribute that replaces: a replacement.
        let mut zone_config = config.clone();
        zone_config.set_attr("zone", partly.clone());
        let mut proposed = prior.clone();
        proposed.set_attr("zone", partly.clone());
        let (_, replace) = plan_declared(&Group::block(), &prior, proposed, &zone_config);
        assert_eq!(replace, vec![AttributePath::root("zone")]);

        // A field decoded as plain unknown gets its refinements back.
        let mut out = Value::object([("x", Value::List(vec![Value::Unknown]))]);
        keep_refinements(
            &mut out,
            &Value::object([("x", Value::List(vec![refined.clone()]))]),
        );
        assert_eq!(out.get("x"), Some(&Value::List(vec![refined.clone()])));
        // After apply nothing unknown is left, at any depth.
        let left = without_unknowns(Value::object([("members", partly), ("id", refined)]));
        assert_eq!(left.get("members"), Some(&Value::string_set(["a"])));
        assert_eq!(left.get("id"), Some(&Value::Null));
    }

    crate::model! {
        struct ThingIdentity {
            id: String = required("Id."),
        }
    }

    /// A resource type whose calls are never made: for what the framework
    /// derives from its types.
    struct Bare<I>(std::marker::PhantomData<I>);

    #[async_trait]
    impl<I: Model> ResourceType for Bare<I> {
        type Model = Thing;
        type Private = ();
        type Identity = I;
        const TYPE_NAME: &'static str = "bare";
        const DESCRIPTION: &'static str = "";
        async fn apply(
            &self,
            _: &CallContext,
            _: Change<Thing, ()>,
            _: &mut Diagnostics,
        ) -> Applied<Thing, ()> {
            Applied::new(None, ())
        }
        async fn delete(
            &self,
            _: &CallContext,
            _: Thing,
            _: (),
            _: &mut Diagnostics,
        ) -> Applied<Thing, ()> {
            Applied::new(None, ())
        }
        async fn read(
            &self,
            _: &CallContext,
            s: Thing,
            _: (),
            _: &mut Diagnostics,
        ) -> Applied<Thing, ()> {
            Applied::new(Some(s), ())
        }
        async fn import(&self, _: &CallContext, _: &str, _: &mut Diagnostics) -> Vec<Thing> {
            Vec::new()
        }
    }

    #[test]
    fn an_identity_model_gives_the_identity_schema_and_no_identity_none() {
        let none = resource(Bare::<NoIdentity>(std::marker::PhantomData));
        assert!(none.identity_schema().is_none());
        let some = resource(Bare::<ThingIdentity>(std::marker::PhantomData));
        let schema = some.identity_schema().expect("an identity schema");
        assert_eq!(schema.version, 0);
    }

    #[derive(Default, serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct P {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        order: Option<String>,
    }

    #[test]
    fn private_state_round_trips_and_default_is_empty() {
        assert!(encode_private(&P::default()).is_empty());
        let p = P {
            order: Some("o".into()),
        };
        assert_eq!(encode_private(&p), br#"{"order":"o"}"#.to_vec());
        assert_eq!(decode_private::<P>(&encode_private(&p)), Ok(p));
        assert_eq!(decode_private::<P>(b""), Ok(P::default()));
    }

    #[test]
    fn private_state_that_cannot_be_read_is_an_error_not_the_default() {
        assert!(decode_private::<P>(b"garbage").is_err());
        #[derive(Default, serde::Serialize, serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        struct Strict {
            #[serde(default)]
            order_id: Option<String>,
        }
        let renamed = decode_private::<Strict>(br#"{"order":"o"}"#).unwrap_err();
        assert!(renamed.contains("unknown field"), "{renamed}");
    }

    #[test]
    fn private_state_carries_its_version_and_older_ones_are_upgraded() {
        let p = P {
            order: Some("o".into()),
        };
        let bytes = encode_private_versioned(&p, 2);
        let stored: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(stored[PRIVATE_VERSION_KEY], 2);
        let refuse = |v: i64, _| Err::<P, _>(format!("asked to upgrade {v}"));
        assert_eq!(decode_private_versioned(&bytes, 2, refuse), Ok(p));
        let newer = decode_private_versioned::<P>(&bytes, 1, refuse).unwrap_err();
        assert!(newer.contains("newer provider"), "{newer}");
        // Bytes without a version are version 0, upgraded from their JSON.
        let old = br#"{"legacy_order":"x"}"#;
        let up = decode_private_versioned(old, 2, |v, j: serde_json::Value| {
            assert_eq!(v, 0);
            Ok(P {
                order: j["legacy_order"].as_str().map(str::to_string),
            })
        });
        assert_eq!(up.unwrap().order.as_deref(), Some("x"));
        assert_eq!(
            decode_private_versioned::<P>(old, 2, refuse),
            Err("asked to upgrade 0".to_string())
        );
    }

    crate::model! {
        /// Version 0 of [`Thing`] called `size` `flavor` and had no `order`.
        struct Versioned {
            id: String = computed("Id.").keep_state(),
            size: String = required("Size."),
            order: String = computed("Order."),
        }
    }

    /// A type at schema version 2 with upgrades from 0 and 1, and private
    /// state at version 1.
    struct Upgrading;

    fn upgrade_v0(j: &serde_json::Value) -> Result<Versioned, String> {
        let flavor = j["flavor"].as_str().ok_or("no flavor")?;
        Ok(Versioned {
            id: Tf::from_option(j["id"].as_str().map(str::to_string)),
            size: flavor.into(),
            order: Tf::Null,
        })
    }

    fn upgrade_v1(j: &serde_json::Value) -> Result<Versioned, String> {
        Ok(Versioned {
            id: Tf::from_option(j["id"].as_str().map(str::to_string)),
            size: Tf::from_option(j["size"].as_str().map(str::to_string)),
            order: Tf::from_option(j["order_id"].as_str().map(str::to_string)),
        })
    }

    #[async_trait]
    impl ResourceType for Upgrading {
        type Model = Versioned;
        type Private = P;
        type Identity = ThingIdentity;
        const TYPE_NAME: &'static str = "upgrading";
        const DESCRIPTION: &'static str = "";
        const SCHEMA_VERSION: i64 = 2;
        const PRIVATE_VERSION: i64 = 1;
        const IDENTITY_VERSION: i64 = 1;
        fn state_upgrades(&self) -> Vec<StateUpgrade<Versioned>> {
            vec![
                StateUpgrade {
                    from_version: 0,
                    upgrade: upgrade_v0,
                },
                StateUpgrade {
                    from_version: 1,
                    upgrade: upgrade_v1,
                },
            ]
        }
        fn identity_upgrades(&self) -> Vec<StateUpgrade<ThingIdentity>> {
            vec![StateUpgrade {
                from_version: 0,
                upgrade: |j| {
                    Ok(ThingIdentity {
                        id: Tf::from_option(j["name"].as_str().map(str::to_string)),
                    })
                },
            }]
        }
        fn upgrade_private(&self, version: i64, stored: serde_json::Value) -> Result<P, String> {
            match version {
                0 => Ok(P {
                    order: stored["pending"].as_str().map(str::to_string),
                }),
                v => Err(format!("no upgrade from {v}")),
            }
        }
        async fn apply(
            &self,
            _: &CallContext,
            c: Change<Versioned, P>,
            _: &mut Diagnostics,
        ) -> Applied<Versioned, P> {
            Applied::new(Some(c.planned), c.private)
        }
        async fn delete(
            &self,
            _: &CallContext,
            _: Versioned,
            _: P,
            _: &mut Diagnostics,
        ) -> Applied<Versioned, P> {
            Applied::new(None, P::default())
        }
        async fn read(
            &self,
            _: &CallContext,
            s: Versioned,
            p: P,
            _: &mut Diagnostics,
        ) -> Applied<Versioned, P> {
            Applied::new(Some(s), p)
        }
        async fn import(&self, _: &CallContext, _: &str, _: &mut Diagnostics) -> Vec<Versioned> {
            Vec::new()
        }
    }

    #[test]
    fn the_schema_reports_the_declared_version() {
        assert_eq!(resource(Upgrading).schema().version, 2);
        let bare = resource(Bare::<NoIdentity>(std::marker::PhantomData));
        assert_eq!(bare.schema().version, 0);
    }

    #[test]
    fn each_earlier_version_is_upgraded_by_its_own_function() {
        let r = resource(Upgrading);
        let v0 = r.upgrade_state(0, br#"{"id":"i","flavor":"m"}"#);
        assert!(!v0.diagnostics.has_errors(), "{:?}", v0.diagnostics);
        assert_eq!(v0.state.get("size"), Some(&Value::string("m")));
        assert_eq!(v0.state.get("order"), Some(&Value::Null));
        let v1 = r.upgrade_state(1, br#"{"id":"i","size":"l","order_id":"o"}"#);
        assert_eq!(v1.state.get("size"), Some(&Value::string("l")));
        assert_eq!(v1.state.get("order"), Some(&Value::string("o")));
    }

    #[test]
    fn a_failed_or_missing_upgrade_is_an_error_naming_the_type() {
        let r = resource(Upgrading);
        let bad = r.upgrade_state(0, br#"{"id":"i"}"#);
        assert!(bad.diagnostics.has_errors());
        let d = &bad.diagnostics.0[0];
        assert!(
            d.detail.contains("upgrading") && d.detail.contains("no flavor"),
            "{d:?}"
        );
        let bare = resource(Bare::<NoIdentity>(std::marker::PhantomData));
        let none = bare.upgrade_state(-1, b"{}");
        assert!(
            none.diagnostics.0[0]
                .detail
                .contains("no upgrade from version -1")
        );
    }

    #[test]
    fn identities_have_versions_and_upgrades_too() {
        let r = resource(Upgrading);
        assert_eq!(r.identity_schema().unwrap().version, 1);
        let up = r.upgrade_identity(0, br#"{"name":"n"}"#);
        assert_eq!(up.identity.get("id"), Some(&Value::string("n")));
        // Without a declared upgrade: read with today's attributes.
        let up = r.upgrade_identity(1, br#"{"id":"x","gone":1}"#);
        assert_eq!(up.identity.get("id"), Some(&Value::string("x")));
    }

    fn versioned_state() -> Value {
        Versioned {
            id: "i".into(),
            size: "m".into(),
            order: "o".into(),
        }
        .to_value()
    }

    #[tokio::test]
    async fn unreadable_private_state_stops_plan_apply_and_read_naming_the_type() {
        let r = resource(Upgrading);
        let ctx = CallContext::default();
        let private = br#"{"order":{"not":"a string"},"$version":1}"#.to_vec();
        let plan = r
            .plan(
                &ctx,
                PlanRequest {
                    prior_state: versioned_state(),
                    proposed_new_state: versioned_state(),
                    config: versioned_state(),
                    prior_private: private.clone(),
                    ..Default::default()
                },
            )
            .await;
        let apply = r
            .apply(
                &ctx,
                ApplyRequest {
                    prior_state: versioned_state(),
                    planned_state: versioned_state(),
                    config: versioned_state(),
                    planned_private: private.clone(),
                    ..Default::default()
                },
            )
            .await;
        let read = r
            .read(
                &ctx,
                ReadRequest {
                    current_state: versioned_state(),
                    private: private.clone(),
                    ..Default::default()
                },
            )
            .await;
        for d in [&plan.diagnostics, &apply.diagnostics, &read.diagnostics] {
            assert!(d.has_errors(), "{d:?}");
            assert_eq!(d.0[0].summary, "Unreadable private state");
            assert!(d.0[0].detail.contains("upgrading"), "{:?}", d.0[0]);
        }
        // Nothing is lost: the stored private state is handed back as it was.
        assert_eq!(plan.planned_private, private);
        assert_eq!(apply.private, private);
        assert_eq!(apply.new_state, versioned_state());
        assert_eq!(read.private, private);
    }

    #[tokio::test]
    async fn private_state_of_an_older_version_is_upgraded_and_written_at_the_new_one() {
        let r = resource(Upgrading);
        let read = r
            .read(
                &CallContext::default(),
                ReadRequest {
                    current_state: versioned_state(),
                    private: br#"{"pending":"CS1"}"#.to_vec(),
                    ..Default::default()
                },
            )
            .await;
        assert!(read.diagnostics.is_empty(), "{:?}", read.diagnostics);
        let stored: serde_json::Value = serde_json::from_slice(&read.private).unwrap();
        assert_eq!(stored, serde_json::json!({"order": "CS1", "$version": 1}));
    }
}

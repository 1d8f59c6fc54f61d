//! `cph_phone_properties`: chosen properties (keys and values) of a set of
//! cloud phones, written through `batch-update-property` (or `batch-restart`
//! with `apply_with_restart`) and read back from show phone. Only the keys
//! in `properties` are managed; other keys on the phones are left alone.
//!
//! Like `cph_phone_route`: state holds the phones known to carry the
//! managed values (a phone that drifted, or whose job failed on an update,
//! is left out, so the next plan puts it back); a create where some phones
//! fail is a warning with the failures in `failed` (the next plan retries
//! them), not an error that would taint the instance. `original_properties`
//! keeps, per phone, the values the managed keys had before Terraform first
//! set them; a destroy (and a phone or key leaving the resource) puts them
//! back unless `on_destroy = "keep"`. A key that had no value is left as
//! set: the API has no way to remove a key.
//!
//! Each instance is an owner of (phone, key) slots in a registry of this
//! provider process ([`Claims`], keyed `phone/key`): two resources that plan
//! the same key of the same phone are refused at plan, and a restore never
//! overwrites a key another resource now claims.

mod apply;
mod calls;
mod import;
pub mod keys;
mod list;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Shared;
use super::common::cph_id;
use crate::fleet::{Claims, Overlap};
pub use calls::{PROPERTY_CHUNK, READS_IN_FLIGHT};
pub use list::PhonePropertiesList;
use tf_framework::typed::{Applied, Change, Plan, ResourceType};
use tf_framework::*;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// What a destroy does with the managed keys.
pub const ON_DESTROY: &[(&str, &str)] = &[
    (
        "restore",
        "put back the values the keys had before (the default)",
    ),
    ("keep", "leave the values as they are"),
];

tf_framework::model! {
    /// How long each change waits for the phones' jobs.
    pub struct PropertiesTimeouts {
        create: String = optional("How long to wait for create, e.g. \"30m\".").validate(duration()),
        update: String = optional("How long to wait for update, e.g. \"30m\".").validate(duration()),
        delete: String = optional("How long to wait for delete, e.g. \"30m\".").validate(duration()),
    }
}

tf_framework::model! {
    /// A phone the last change could not give the properties.
    pub struct FailedPhone {
        error_code: String = computed("Error code of the job or call, e.g. `CPS.0119` (null when there was none, e.g. not sent before Ctrl-C)."),
        error_msg: String = computed("Error message of the job or call."),
    }
}

tf_framework::model! {
    /// The configuration and state of `cph_phone_properties`.
    pub struct PhonePropertiesModel {
        id: String = computed("Identifier of this resource: `properties-<digest>` when Terraform created it, the import id when imported.").keep_state(),
        phone_ids: BTreeSet<String> = required("Ids of the cloud phones whose properties this resource manages.")
            .validate(size_at_least(1))
            .validate(each(cph_id())),
        properties: BTreeMap<String, String> = required("The properties this resource manages, key to value (values are strings, as the API takes them). Other keys on the phones are left alone. Documented keys are checked at plan; other keys are sent with a warning.")
            .validate(size_at_least(1)),
        on_destroy: String = optional("What a destroy does, and what happens to a phone or key that leaves the resource: `restore` (default) puts back `original_properties`, `keep` leaves the values.")
            .default(Value::string("restore"))
            .validate(one_of(ON_DESTROY)),
        apply_with_restart: bool = optional("Send the properties through `batch-restart` (the phones restart), for keys read only at boot such as `ro.*`. Default false: `batch-update-property`, the phones keep running.")
            .default(Value::Bool(false)),
        original_properties: BTreeMap<String, BTreeMap<String, String>> = computed("By phone id, the values the managed keys had before Terraform first set them (a key that had none is absent: a destroy leaves it as set, since the API cannot remove a key).")
            .keep_state_unless(&["phone_ids", "properties"]),
        failed: BTreeMap<String, FailedPhone> = computed("The phones the last change could not give the properties, by phone id: `error_code`, `error_msg`. The next apply sends them again. Empty when every phone has them.")
            .keep_state_unless(&["phone_ids", "properties", "apply_with_restart"]),
        timeouts: PropertiesTimeouts = block(),
    }
}

tf_framework::model! {
    /// The identity of a `cph_phone_properties`: its `id`.
    pub struct PhonePropertiesIdentity {
        id: String = required("The resource's `id`: `properties-<digest>` when Terraform created it, or the import id `<phone ids>/<keys>`."),
    }
}

impl PhonePropertiesModel {
    fn phones(&self) -> BTreeSet<String> {
        self.phone_ids.known().cloned().unwrap_or_default()
    }

    fn managed(&self) -> BTreeMap<String, String> {
        self.properties.known().cloned().unwrap_or_default()
    }

    fn keys(&self) -> BTreeSet<String> {
        self.managed().into_keys().collect()
    }

    fn restores(&self) -> bool {
        self.on_destroy.as_str() != Some("keep")
    }

    fn via(&self) -> calls::Via {
        match self.apply_with_restart.known() {
            Some(true) => calls::Via::Restart,
            _ => calls::Via::Update,
        }
    }

    fn originals(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        self.original_properties
            .known()
            .cloned()
            .unwrap_or_default()
    }

    fn failed_phones(&self) -> BTreeSet<String> {
        self.failed
            .known()
            .map(|f| f.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn timeout(&self, pick: fn(&PropertiesTimeouts) -> &Tf<String>) -> Tf<String> {
        self.timeouts.known().map(pick).cloned().unwrap_or_default()
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct PhonePropertiesPrivate {
    /// This instance's owner token in the registry of claimed keys.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    owner: String,
}

/// The owner token of an instance: kept, else made.
fn owner_of(private: &PhonePropertiesPrivate) -> String {
    if private.owner.is_empty() {
        format!("owner-{:016x}", rand::random::<u64>())
    } else {
        private.owner.clone()
    }
}

/// A (phone, key) slot of the claims registry.
fn slot(phone: &str, key: &str) -> String {
    format!("{phone}/{key}")
}

fn slots(phones: &BTreeSet<String>, keys: &BTreeSet<String>) -> BTreeSet<String> {
    phones
        .iter()
        .flat_map(|p| keys.iter().map(move |k| slot(p, k)))
        .collect()
}

/// A stable id for what a create manages: a digest of phones and keys.
fn properties_id(phones: &BTreeSet<String>, keys: &BTreeSet<String>) -> String {
    let mut h = Sha256::new();
    for p in phones {
        h.update(p.as_bytes());
        h.update(b",");
    }
    h.update(b"/");
    for k in keys {
        h.update(k.as_bytes());
        h.update(b",");
    }
    format!("properties-{}", &hex::encode(h.finalize())[..16])
}

fn overlap_diagnostic(overlap: &Overlap) -> Diagnostic {
    let other = match &overlap.other_id {
        Some(id) => format!("the cph_phone_properties with id {id:?}"),
        None => "another cph_phone_properties being created in this run".to_string(),
    };
    Diagnostic::error(
        "Property keys managed by two cph_phone_properties resources",
        format!(
            "This resource and {other} both manage {} (phone/key): {}. A key of a phone belongs \
             to one cph_phone_properties, or every apply would flip its value. Remove the key \
             from one resource's `properties`, or the phone from one resource's `phone_ids`.",
            if overlap.phones.len() == 1 {
                "this key"
            } else {
                "these keys"
            },
            shown(&overlap.phones),
        ),
    )
    .at(AttributePath::root("properties"))
}

/// Up to ten ids (or slots), then how many more.
fn shown(ids: &[String]) -> String {
    const SHOWN: usize = 10;
    let mut s = ids
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > SHOWN {
        s.push_str(&format!(" and {} more", ids.len() - SHOWN));
    }
    s
}

pub struct PhonePropertiesResource {
    shared: Arc<Shared>,
    /// Who manages which (phone, key), in this provider process.
    claims: Arc<Claims>,
}

impl PhonePropertiesResource {
    pub fn new(shared: Arc<Shared>) -> PhonePropertiesResource {
        PhonePropertiesResource {
            shared,
            claims: Arc::new(Claims::default()),
        }
    }
}

#[async_trait]
impl ResourceType for PhonePropertiesResource {
    type Model = PhonePropertiesModel;
    type Private = PhonePropertiesPrivate;
    type Identity = PhonePropertiesIdentity;
    const TYPE_NAME: &'static str = "cph_phone_properties";
    const DESCRIPTION: &'static str = "Chosen properties (keys and values) of a set of cloud phones, with drift detection; other keys are left alone.";
    const SCHEMA_VERSION: i64 = 0;

    fn validate(&self, config: &PhonePropertiesModel, diags: &mut Diagnostics) {
        match &config.properties {
            Tf::Known(p) => keys::check(p, diags),
            Tf::Partial(p) => keys::check(p.known(), diags),
            Tf::Unknown | Tf::Null => {}
        }
    }

    /// Claims the planned (phone, key) slots and refuses those another
    /// resource claims; retries phones whose last job failed.
    async fn plan(
        &self,
        _ctx: &CallContext,
        plan: &mut Plan<PhonePropertiesModel, PhonePropertiesPrivate>,
    ) {
        plan.private.owner = owner_of(&plan.private);
        let (Tf::Known(phones), Tf::Known(props)) =
            (&plan.planned.phone_ids, &plan.planned.properties)
        else {
            return;
        };
        let keys: BTreeSet<String> = props.keys().cloned().collect();
        if let Some(prior) = plan.prior.as_ref().filter(|_| !plan.creates())
            && prior.failed_phones().iter().any(|p| phones.contains(p))
        {
            plan.planned.failed = Tf::Unknown;
        }
        let id = plan
            .prior
            .as_ref()
            .and_then(|p| p.id.as_str())
            .map(str::to_string);
        self.claims.register(
            &plan.private.owner,
            id.as_deref(),
            &slots(phones, &keys),
            None,
        );
        self.claims.settle().await;
        for o in self.claims.overlaps(&plan.private.owner) {
            plan.diagnostics.push(overlap_diagnostic(&o));
        }
    }

    async fn apply(
        &self,
        ctx: &CallContext,
        change: Change<PhonePropertiesModel, PhonePropertiesPrivate>,
        diags: &mut Diagnostics,
    ) -> Applied<PhonePropertiesModel, PhonePropertiesPrivate> {
        self.change(ctx, change, diags).await
    }

    async fn delete(
        &self,
        ctx: &CallContext,
        state: PhonePropertiesModel,
        private: PhonePropertiesPrivate,
        diags: &mut Diagnostics,
    ) -> Applied<PhonePropertiesModel, PhonePropertiesPrivate> {
        self.destroy(ctx, state, private, diags).await
    }

    async fn read(
        &self,
        ctx: &CallContext,
        state: PhonePropertiesModel,
        private: PhonePropertiesPrivate,
        diags: &mut Diagnostics,
    ) -> Applied<PhonePropertiesModel, PhonePropertiesPrivate> {
        self.refresh(ctx, state, private, diags).await
    }

    async fn import(
        &self,
        ctx: &CallContext,
        id: &str,
        diags: &mut Diagnostics,
    ) -> Vec<PhonePropertiesModel> {
        self.import_id(ctx, id, diags).await
    }

    fn identity(&self, state: &PhonePropertiesModel) -> Option<PhonePropertiesIdentity> {
        Some(PhonePropertiesIdentity {
            id: state.id.clone(),
        })
    }

    /// An imported resource's identity is its import id: imported again
    /// the same way. A created one's digest names nothing to read back.
    async fn import_by_identity(
        &self,
        ctx: &CallContext,
        identity: PhonePropertiesIdentity,
        diags: &mut Diagnostics,
    ) -> Vec<PhonePropertiesModel> {
        let id = identity.id.into_known().unwrap_or_default();
        if id.starts_with("properties-") {
            diags.push(Diagnostic::error(
                "Invalid import identity",
                format!(
                    "{id:?} is the digest id of a cph_phone_properties Terraform created; it does not say which phones and keys. Import by id instead: `import {{ id = \"phone1,phone2/key1,key2\" }}`."
                ),
            ));
            return Vec::new();
        }
        self.import_id(ctx, &id, diags).await
    }
}

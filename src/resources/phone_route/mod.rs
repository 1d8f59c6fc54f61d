//! `cph_phone_route`: the route (`direct` or `routing`) of a set of cloud
//! phones, set through `phones-traffic` and read back from the phone list.
//!
//! State holds only phones known to be on the route: phones whose job failed,
//! or that drifted to another route, are left out so the next plan puts them
//! back. The servers the phones live on are kept in private state so reads
//! list phones per server instead of calling once per phone.
//!
//! Route changes go through the provider's fleet engine (`crate::fleet`):
//! merged with the other resources' changes, handed over between resources,
//! and checked at plan for phones claimed twice. Each instance is an owner
//! there, named by a token kept in private state. A create where some phones
//! fail returns a warning, not an error (an error would taint the instance,
//! and its replacement would send every healthy phone to `direct` and back):
//! its `jobs` record the failures, and the next plan retries only those
//! phones. Jobs still running when an apply ends (timeout, Ctrl-C) are
//! recorded in private state; the next apply waits for them instead of
//! sending again.
//!
//! The resource is split by concern: [`model`](mod@model) (schema, identity, private
//! state, the version 0 upgrade), [`plan`] (the decisions, without I/O:
//! claims, moves, retries, the state a change leaves, message text) and
//! [`apply`] (the I/O: the fleet engine and the phone listings).

mod apply;
mod model;
mod plan;

use std::sync::Arc;

use async_trait::async_trait;

use super::Shared;
pub use super::common::TRAFFIC_TYPES;
use super::common::check_phones_exist;
use model::upgrade_from_v0;
pub use model::{
    FailedJob, PhoneRouteIdentity, PhoneRouteModel, PhoneRoutePrivate, RecordedJob, RouteSummary,
    RouteTimeouts, StillRunningJob, group_id,
};
pub use plan::LARGE_ROUTE_PHONES;
use plan::{added_phones, decide_plan, large_route_warning, overlap_diagnostic, owner_of};
use tf_framework::typed::{Applied, Change, Plan, ResourceType, StateUpgrade};
use tf_framework::*;

pub struct PhoneRouteResource {
    shared: Arc<Shared>,
}

impl PhoneRouteResource {
    pub fn new(shared: Arc<Shared>) -> PhoneRouteResource {
        PhoneRouteResource { shared }
    }
}

#[async_trait]
impl ResourceType for PhoneRouteResource {
    type Model = PhoneRouteModel;
    type Private = PhoneRoutePrivate;
    type Identity = PhoneRouteIdentity;
    const TYPE_NAME: &'static str = "cph_phone_route";
    const DESCRIPTION: &'static str = "The route (`direct` or `routing`) of a set of cloud phones.";
    /// 1: `failed`, `running` and `summary` instead of version 0's `jobs`.
    const SCHEMA_VERSION: i64 = 1;

    fn state_upgrades(&self) -> Vec<StateUpgrade<PhoneRouteModel>> {
        vec![StateUpgrade {
            from_version: 0,
            upgrade: upgrade_from_v0,
        }]
    }

    /// Registers the planned phones with the fleet engine and refuses
    /// phones that another resource planned in this run claims too, and ids
    /// of phones that do not exist; retries phones whose last job failed or
    /// still ran (see [`decide_plan`]).
    async fn plan(&self, ctx: &CallContext, plan: &mut Plan<PhoneRouteModel, PhoneRoutePrivate>) {
        plan.private.owner = owner_of(&plan.private, plan.prior.as_ref());
        let creates = plan.creates();
        let prior = plan.prior.as_ref();
        let Some(claim) = decide_plan(prior, &mut plan.planned, &plan.private, creates) else {
            // A list known only in part: the ids known now are checked
            // before the rest is known.
            if let Tf::Partial(ids) = &plan.planned.phone_ids {
                let added = added_phones(plan.prior.as_ref(), ids.known());
                check_phones_exist(
                    &self.shared,
                    ctx,
                    &added,
                    "phone_ids",
                    &mut plan.diagnostics,
                )
                .await;
            }
            return;
        };
        if claim.ids.len() > LARGE_ROUTE_PHONES {
            plan.diagnostics.push(large_route_warning(claim.ids.len()));
        }
        let overlaps = self
            .shared
            .fleet()
            .plan_claim(
                &plan.private.owner,
                claim.id.as_deref(),
                &claim.ids,
                claim.route.as_deref(),
                claim.changed,
            )
            .await;
        for o in &overlaps {
            plan.diagnostics
                .push(overlap_diagnostic(o, claim.route.as_deref()));
        }
        let added = added_phones(plan.prior.as_ref(), &claim.ids);
        check_phones_exist(
            &self.shared,
            ctx,
            &added,
            "phone_ids",
            &mut plan.diagnostics,
        )
        .await;
    }

    async fn apply(
        &self,
        ctx: &CallContext,
        change: Change<PhoneRouteModel, PhoneRoutePrivate>,
        diags: &mut Diagnostics,
    ) -> Applied<PhoneRouteModel, PhoneRoutePrivate> {
        apply::change(&self.shared, ctx, change, diags).await
    }

    /// Every phone goes back to the default route.
    async fn delete(
        &self,
        ctx: &CallContext,
        state: PhoneRouteModel,
        private: PhoneRoutePrivate,
        diags: &mut Diagnostics,
    ) -> Applied<PhoneRouteModel, PhoneRoutePrivate> {
        apply::delete(&self.shared, ctx, state, private, diags).await
    }

    async fn read(
        &self,
        ctx: &CallContext,
        state: PhoneRouteModel,
        private: PhoneRoutePrivate,
        diags: &mut Diagnostics,
    ) -> Applied<PhoneRouteModel, PhoneRoutePrivate> {
        apply::read(&self.shared, ctx, state, private, diags).await
    }

    async fn import(
        &self,
        ctx: &CallContext,
        id: &str,
        diags: &mut Diagnostics,
    ) -> Vec<PhoneRouteModel> {
        apply::import(&self.shared, ctx, id, diags).await
    }

    fn identity(&self, state: &PhoneRouteModel) -> Option<PhoneRouteIdentity> {
        Some(PhoneRouteIdentity {
            id: state.id.clone(),
        })
    }

    /// Finds an adopted group again: the phones of its server on its route.
    async fn import_by_identity(
        &self,
        ctx: &CallContext,
        identity: PhoneRouteIdentity,
        diags: &mut Diagnostics,
    ) -> Vec<PhoneRouteModel> {
        apply::import_by_identity(&self.shared, ctx, identity, diags).await
    }
}

#[cfg(test)]
mod tests {
    use super::model::*;
    use super::plan::*;
    use super::*;
    use crate::resources::routing::{JobRecord, JobStatus};
    use crate::resources::schemas;
    use std::collections::{BTreeMap, BTreeSet};

    fn resource() -> Arc<dyn Resource> {
        tf_framework::typed::resource(PhoneRouteResource::new(Arc::new(Shared::default())))
    }

    fn config(ids: &[&str], route: &str) -> Value {
        let mut v = schemas::phone_route().block.null_object();
        v.set_attr("phone_ids", Value::string_set(ids.iter().copied()));
        v.set_attr("traffic_type", Value::string(route));
        v
    }

    fn paths(d: &Diagnostics) -> Vec<String> {
        d.0.iter()
            .filter_map(|d| d.attribute.as_ref().map(|p| p.to_string()))
            .collect()
    }

    #[test]
    fn validation() {
        let r = resource();
        let d = r.validate(&config(&["p1"], "fast"));
        assert_eq!(paths(&d), vec!["traffic_type"]);
        assert!(d.0[0].detail.contains("\"direct\"") && d.0[0].detail.contains("\"routing\""));
        assert_eq!(
            paths(&r.validate(&config(&[], "direct"))),
            vec!["phone_ids"]
        );
        assert_eq!(
            paths(&r.validate(&config(&[""], "direct"))),
            vec!["phone_ids"]
        );
        assert!(r.validate(&config(&["p1", "p2"], "routing")).is_empty());
        let mut unknown = config(&["p1"], "routing");
        unknown.set_attr("phone_ids", Value::Unknown);
        unknown.set_attr("traffic_type", Value::Unknown);
        assert!(r.validate(&unknown).is_empty());
    }

    fn create_plan(ids: &[&str], route: &str) -> PlanRequest {
        PlanRequest {
            prior_state: Value::Null,
            proposed_new_state: config(ids, route),
            config: config(ids, route),
            prior_private: vec![],
            ..Default::default()
        }
    }

    fn errors(d: &Diagnostics) -> Vec<&Diagnostic> {
        d.0.iter()
            .filter(|d| d.summary.contains("claimed by two"))
            .collect()
    }

    #[tokio::test]
    async fn a_phone_planned_in_two_resources_is_refused_on_both() {
        let shared = Arc::new(Shared::default());
        let a = tf_framework::typed::resource(PhoneRouteResource::new(shared.clone()));
        let b = tf_framework::typed::resource(PhoneRouteResource::new(shared.clone()));
        let ctx = CallContext::default();
        let (pa, pb) = tokio::join!(
            a.plan(&ctx, create_plan(&["p1", "p2"], "routing")),
            b.plan(&ctx, create_plan(&["p2", "p3"], "direct")),
        );
        for (resp, _) in [(&pa, "a"), (&pb, "b")] {
            let e = errors(&resp.diagnostics);
            assert_eq!(e.len(), 1, "{:?}", resp.diagnostics);
            assert!(e[0].detail.contains("p2") && !e[0].detail.contains("p1,"));
            assert_eq!(
                e[0].attribute.as_ref().map(|p| p.to_string()).as_deref(),
                Some("phone_ids")
            );
        }
        assert!(
            errors(&pa.diagnostics)[0]
                .detail
                .contains("\"routing\", that one \"direct\"")
        );
    }

    /// `terraform test`: the plan walk and the apply walk plan one create
    /// in one process, each with a new owner token; plan-only runs too.
    #[tokio::test]
    async fn a_create_planned_again_in_one_process_is_not_its_own_rival() {
        let r = tf_framework::typed::resource(PhoneRouteResource::new(Arc::new(Shared::default())));
        let ctx = CallContext::default();
        for ids in [&["p1", "p2", "p3"][..], &["p1", "p2", "p3"], &["p2", "p4"]] {
            let resp = r.plan(&ctx, create_plan(ids, "routing")).await;
            assert!(
                errors(&resp.diagnostics).is_empty(),
                "{:?}",
                resp.diagnostics
            );
        }
    }

    #[tokio::test]
    async fn a_move_between_two_resources_is_not_an_overlap() {
        let shared = Arc::new(Shared::default());
        let a = tf_framework::typed::resource(PhoneRouteResource::new(shared.clone()));
        let b = tf_framework::typed::resource(PhoneRouteResource::new(shared.clone()));
        let ctx = CallContext::default();
        let mut prior = config(&["p1", "p2"], "routing");
        prior.set_attr("id", Value::string("route-a"));
        let prior = settled(prior);
        let shrink = PlanRequest {
            prior_state: prior,
            proposed_new_state: config(&["p1"], "routing"),
            config: config(&["p1"], "routing"),
            prior_private: vec![],
            ..Default::default()
        };
        let (pa, pb) = tokio::join!(
            a.plan(&ctx, shrink),
            b.plan(&ctx, create_plan(&["p2"], "routing")),
        );
        assert!(errors(&pa.diagnostics).is_empty(), "{:?}", pa.diagnostics);
        assert!(errors(&pb.diagnostics).is_empty(), "{:?}", pb.diagnostics);
    }

    #[tokio::test]
    async fn failed_jobs_in_state_plan_a_retry() {
        let r = resource();
        let mut prior = config(&["p1", "p2"], "routing");
        prior.set_attr("id", Value::string("route-x"));
        let mut m = BTreeMap::new();
        for (id, status) in [("p1", JobStatus::Succeeded), ("p2", JobStatus::Failed)] {
            m.insert(
                id.to_string(),
                JobRecord {
                    phone_id: id.into(),
                    job_id: Some(format!("j-{id}")),
                    status,
                    error_code: None,
                    error_msg: None,
                },
            );
        }
        let mut model = PhoneRouteModel::from_value(&prior).unwrap();
        model.set_jobs(&m, &BTreeMap::new());
        let prior = model.to_value();
        let req = PlanRequest {
            prior_state: prior.clone(),
            proposed_new_state: prior.clone(),
            config: config(&["p1", "p2"], "routing"),
            prior_private: vec![],
            ..Default::default()
        };
        let planned = r.plan(&CallContext::default(), req).await.planned_state;
        for attr in ["failed", "running", "summary"] {
            assert_eq!(planned.get(attr), Some(&Value::Unknown), "{attr}");
        }
        assert_eq!(planned.get("id"), prior.get("id"));
        assert_eq!(planned.get("phone_ids"), prior.get("phone_ids"));
    }

    #[tokio::test]
    async fn plan_marks_jobs_unknown_only_on_change() {
        let r = resource();
        let mut prior = config(&["p1"], "routing");
        prior.set_attr("id", Value::string("route-x"));
        let prior = settled(prior);
        let same = PlanRequest {
            prior_state: prior.clone(),
            proposed_new_state: prior.clone(),
            config: config(&["p1"], "routing"),
            prior_private: vec![],
            ..Default::default()
        };
        assert_eq!(
            r.plan(&CallContext::default(), same).await.planned_state,
            prior
        );

        let mut proposed = prior.clone();
        proposed.set_attr("phone_ids", Value::string_set(["p1", "p2"]));
        let grown = PlanRequest {
            prior_state: prior.clone(),
            proposed_new_state: proposed,
            config: config(&["p1", "p2"], "routing"),
            prior_private: vec![],
            ..Default::default()
        };
        let planned = r.plan(&CallContext::default(), grown).await.planned_state;
        for attr in ["failed", "running", "summary"] {
            assert_eq!(planned.get(attr), Some(&Value::Unknown), "{attr}");
        }
        assert_eq!(planned.get("id"), Some(&Value::string("route-x")));
    }

    #[test]
    fn adopted_group_ids_name_a_server_and_a_route() {
        assert_eq!(parse_group_id("s1/routing"), Some(("s1", "routing")));
        assert_eq!(
            parse_group_id(&group_id("a176d862", "direct")),
            Some(("a176d862", "direct"))
        );
        for bad in [
            "route-0123456789abcdef",
            "s1/fast",
            "/direct",
            "s 1/direct",
            "",
        ] {
            assert_eq!(parse_group_id(bad), None, "{bad}");
        }
    }

    #[tokio::test]
    async fn import_by_identity_refuses_a_digest_before_any_call() {
        let r = resource();
        let out = r
            .import_by_identity(
                &CallContext::default(),
                Value::object([("id", Value::string("route-0123456789abcdef"))]),
            )
            .await;
        assert!(out.states.is_empty());
        assert_eq!(out.diagnostics.0[0].summary, "Invalid import identity");
    }

    #[tokio::test]
    async fn import_refuses_malformed_ids_before_any_call() {
        for bad in ["", "a,,b", "a b", ","] {
            let resp = resource().import(&CallContext::default(), bad).await;
            assert_eq!(
                resp.diagnostics.0[0].summary, "Invalid import id",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn ids_are_stable_and_order_free() {
        let a: BTreeSet<String> = ["x".to_string(), "y".to_string()].into();
        let b: BTreeSet<String> = ["y".to_string(), "x".to_string()].into();
        assert_eq!(route_id(&a), route_id(&b));
        assert!(route_id(&a).starts_with("route-"));
    }

    /// A state as an apply leaves it: jobs and summary recorded.
    fn settled(state: Value) -> Value {
        let mut model = PhoneRouteModel::from_value(&state).unwrap();
        model.set_jobs(&BTreeMap::new(), &BTreeMap::new());
        model.to_value()
    }

    fn record(id: &str, status: JobStatus, code: Option<&str>) -> (String, JobRecord) {
        let record = JobRecord {
            phone_id: id.into(),
            job_id: Some(format!("j-{id}")),
            status,
            error_code: code.map(str::to_string),
            error_msg: code.map(|c| format!("{c} happened")),
        };
        (id.to_string(), record)
    }

    #[test]
    fn jobs_that_did_not_succeed_survive_a_state_round_trip_and_others_cost_nothing() {
        let m: BTreeMap<String, JobRecord> = [
            record("p1", JobStatus::Failed, Some("CPS.1")),
            record("p2", JobStatus::Succeeded, None),
            record("p3", JobStatus::Running, None),
        ]
        .into();
        let mut state = PhoneRouteModel {
            phone_ids: Tf::Known(["p2".to_string(), "p4".to_string()].into()),
            ..Default::default()
        };
        let requests = [("p3".to_string(), "req-3".to_string())].into();
        state.set_jobs(&m, &requests);
        let back = PhoneRouteModel::from_value(&state.to_value()).unwrap();
        let mut unfinished = m.clone();
        unfinished.remove("p2");
        assert_eq!(back.job_records(), unfinished);
        let running = back.running.known().unwrap();
        assert_eq!(running["p3"].request_id, Tf::Known("req-3".into()));
        let summary = back.summary.known().unwrap();
        assert_eq!(summary.succeeded, Tf::Known(2));
        assert_eq!(summary.failed, Tf::Known(1));
        assert_eq!(summary.running, Tf::Known(1));
        assert_eq!(summary.request_ids, Tf::Known(["req-3".to_string()].into()));
    }

    /// A version 0 state as Terraform stored it (3f6085f).
    fn v0_state() -> serde_json::Value {
        serde_json::json!({
            "id": "route-0123456789abcdef",
            "phone_ids": ["p1", "p2"],
            "traffic_type": "routing",
            "jobs": [
                {"phone_id": "p1", "job_id": "j1", "status": "succeeded", "error_code": null, "error_msg": null},
                {"phone_id": "p2", "job_id": "j2", "status": "failed", "error_code": "CPS.0205", "error_msg": "busy"},
                {"phone_id": "p3", "job_id": "j3", "status": "running", "error_code": null, "error_msg": null},
            ],
            "timeouts": {"create": "5m", "update": null, "delete": null},
        })
    }

    #[test]
    fn the_schema_is_at_version_1_and_upgrades_version_0() {
        let r = resource();
        assert_eq!(r.schema().version, 1);
        assert_eq!(schemas::phone_route().version, 1);
        let raw = serde_json::to_vec(&v0_state()).unwrap();
        let up = r.upgrade_state(0, &raw);
        assert!(up.diagnostics.is_empty(), "{:?}", up.diagnostics);
        let state = PhoneRouteModel::from_value(&up.state).unwrap();
        assert_eq!(state.id, Tf::Known("route-0123456789abcdef".into()));
        assert_eq!(state.phones(), ["p1".to_string(), "p2".to_string()].into());
        assert_eq!(state.traffic_type, Tf::Known("routing".into()));
        assert_eq!(state.timeout(|t| &t.create), Tf::Known("5m".into()));
        // Every fact version 1 records is kept: the failed job with its
        // code and message, the running job with its id.
        let failed = state.failed.known().unwrap();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed["p2"].job_id, Tf::Known("j2".into()));
        assert_eq!(failed["p2"].error_code, Tf::Known("CPS.0205".into()));
        assert_eq!(failed["p2"].error_msg, Tf::Known("busy".into()));
        let running = state.running.known().unwrap();
        assert_eq!(running["p3"].job_id, Tf::Known("j3".into()));
        assert_eq!(running["p3"].request_id, Tf::Null);
        let summary = state.summary.known().unwrap();
        assert_eq!(
            (summary.succeeded.known(), summary.failed.known()),
            (Some(&1), Some(&1))
        );
        // The upgraded state plans the retry of p2 as the old one did.
        assert_eq!(
            unfinished_phones(&state, &state.phones()),
            ["p2".to_string()].into()
        );
    }

    #[test]
    fn a_version_0_state_without_jobs_upgrades_and_a_broken_one_is_refused() {
        let mut v0 = v0_state();
        v0["jobs"] = serde_json::Value::Null;
        let state = upgrade_from_v0(&v0).unwrap();
        assert_eq!(state.failed, Tf::Known(BTreeMap::new()));
        assert_eq!(state.summary.known().unwrap().succeeded, Tf::Known(2));
        v0["jobs"] = serde_json::json!("not a list");
        assert!(upgrade_from_v0(&v0).is_err());
        let out = resource().upgrade_state(0, br#"{"phone_ids": 3}"#);
        assert!(out.diagnostics.has_errors());
        assert!(out.diagnostics.0[0].detail.contains("cph_phone_route"));
    }

    #[test]
    fn a_route_where_every_job_succeeded_costs_under_60_bytes_per_phone() {
        // Terraform writes state indented, one set element per line.
        let ids: BTreeSet<String> = (0..1000).map(|i| format!("{i:032x}")).collect();
        let jobs: BTreeMap<String, JobRecord> = ids
            .iter()
            .map(|id| record(id, JobStatus::Succeeded, None))
            .collect();
        let mut state = PhoneRouteModel {
            id: route_id(&ids).into(),
            phone_ids: Tf::Known(ids),
            traffic_type: "routing".into(),
            ..Default::default()
        };
        state.set_jobs(&jobs, &BTreeMap::new());
        let ty = schemas::phone_route().block.value_type();
        let json = tf_framework::json::encode(&state.to_value(), &ty).unwrap();
        let bytes = serde_json::to_string_pretty(&json).unwrap().len();
        assert!(bytes / 1000 < 60, "{bytes} bytes for 1000 phones");
    }

    #[tokio::test]
    async fn a_plan_over_the_large_route_size_warns_and_does_not_fail() {
        let ids: Vec<String> = (0..=LARGE_ROUTE_PHONES).map(|i| format!("p{i}")).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let resp = resource()
            .plan(&CallContext::default(), create_plan(&ids, "routing"))
            .await;
        let d = &resp.diagnostics.0;
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].severity, Severity::Warning);
        assert!(d[0].detail.contains("for_each"), "{d:?}");
        let small = resource()
            .plan(
                &CallContext::default(),
                create_plan(&ids[..LARGE_ROUTE_PHONES], "routing"),
            )
            .await;
        assert!(small.diagnostics.is_empty(), "{:?}", small.diagnostics);
    }
}

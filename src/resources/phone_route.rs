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
//! checked for phones claimed twice at plan. Each instance is an owner there,
//! named by a token kept in private state. A create where some phones fail
//! returns a warning, not an error (an error would taint the instance, and
//! its replacement would send every healthy phone to `direct` and back): its
//! `jobs` record the failures, and the next plan retries only those phones.
//! Jobs still running when an apply ends (timeout, Ctrl-C) are recorded in
//! private state; the next apply waits for them instead of sending again.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::common::{api_error, deadline, validate_timeouts};
use super::routing::{self, JobRecord};
use super::{Shared, schemas};
use crate::fleet::{Change, RunningJob};
use tf_framework::*;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10 * 60);
pub const TRAFFIC_TYPES: [&str; 2] = ["direct", "routing"];
const DEFAULT_ROUTE: &str = "direct";

#[derive(Debug, Default, Serialize, Deserialize)]
struct Private {
    /// Servers the phones were last seen on.
    #[serde(default)]
    servers: BTreeSet<String>,
    /// This instance's owner token in the fleet engine's claims.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    owner: String,
    /// Jobs still running when the last apply ended, by phone.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    running: BTreeMap<String, RecordedJob>,
}

/// A job recorded as running: its request id (list-jobs reads by request id).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct RecordedJob {
    request_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    job_id: Option<String>,
    route: String,
}

/// A fresh owner token for an instance that has none.
fn new_owner() -> String {
    format!("owner-{:016x}", rand::random::<u64>())
}

/// The owner of an instance: its token, else (state written before tokens)
/// its id, else a fresh token.
fn owner_of(private: &Private, prior: &Value) -> String {
    if !private.owner.is_empty() {
        return private.owner.clone();
    }
    match prior.get_str("id") {
        Some(id) if !id.is_empty() => format!("id-{id}"),
        _ => new_owner(),
    }
}

/// Phones of `planned_ids` whose last job in `prior` did not succeed.
fn unfinished_phones(prior: &Value, planned_ids: &BTreeSet<String>) -> BTreeSet<String> {
    jobs_of(prior)
        .into_values()
        .filter(|j| j.status != routing::JobStatus::Succeeded && planned_ids.contains(&j.phone_id))
        .map(|j| j.phone_id)
        .collect()
}

fn overlap_diagnostic(overlap: &crate::fleet::Overlap, route: Option<&str>) -> Diagnostic {
    let other = match &overlap.other_id {
        Some(id) => format!("the cph_phone_route with id {id:?}"),
        None => "another cph_phone_route being created in this run".to_string(),
    };
    let routes = match (route, overlap.other_route.as_deref()) {
        (Some(a), Some(b)) if a != b => format!(" (this one wants {a:?}, that one {b:?})"),
        _ => String::new(),
    };
    Diagnostic::error(
        "Phones claimed by two cph_phone_route resources",
        format!(
            "{} {} in the planned phone_ids of this resource and of {other}{routes}: {}. \
             A phone belongs to one cph_phone_route at a time, or every apply would flip its route. \
             Remove it from one of them (moving a phone from one resource to another in one apply is fine).",
            overlap.phones.len(),
            if overlap.phones.len() == 1 { "phone is" } else { "phones are" },
            join_ids(overlap.phones.iter().map(String::as_str)),
        ),
    )
    .at(AttributePath::root("phone_ids"))
}

impl Private {
    fn decode(bytes: &[u8]) -> Private {
        serde_json::from_slice(bytes).unwrap_or_default()
    }
    fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

pub struct PhoneRoute {
    shared: Arc<Shared>,
}

impl PhoneRoute {
    pub fn new(shared: Arc<Shared>) -> PhoneRoute {
        PhoneRoute { shared }
    }
}

/// A stable id for a set of phones: a digest of the sorted ids.
fn route_id(phone_ids: &BTreeSet<String>) -> String {
    let mut h = Sha256::new();
    for id in phone_ids {
        h.update(id.as_bytes());
        h.update(b",");
    }
    format!("route-{}", &hex::encode(h.finalize())[..16])
}

fn phone_set(v: &Value) -> BTreeSet<String> {
    v.get_strings("phone_ids")
        .unwrap_or_default()
        .into_iter()
        .collect()
}

fn jobs_value(records: &BTreeMap<String, JobRecord>) -> Value {
    Value::List(
        records
            .values()
            .map(|r| {
                Value::object([
                    ("phone_id", Value::string(&r.phone_id)),
                    ("job_id", Value::opt_string(r.job_id.clone())),
                    ("status", Value::string(r.status.as_str())),
                    ("error_code", Value::opt_string(r.error_code.clone())),
                    ("error_msg", Value::opt_string(r.error_msg.clone())),
                ])
            })
            .collect(),
    )
}

/// The job records kept in a state's `jobs`, by phone id.
fn jobs_of(state: &Value) -> BTreeMap<String, JobRecord> {
    let mut out = BTreeMap::new();
    for j in state
        .get("jobs")
        .and_then(Value::as_elements)
        .unwrap_or_default()
    {
        let Some(phone_id) = j.get_str("phone_id") else {
            continue;
        };
        let status = match j.get_str("status") {
            Some("succeeded") => routing::JobStatus::Succeeded,
            Some("running") => routing::JobStatus::Running,
            _ => routing::JobStatus::Failed,
        };
        out.insert(
            phone_id.to_string(),
            JobRecord {
                phone_id: phone_id.to_string(),
                job_id: j.get_str("job_id").map(str::to_string),
                status,
                error_code: j.get_str("error_code").map(str::to_string),
                error_msg: j.get_str("error_msg").map(str::to_string),
            },
        );
    }
    out
}

fn not_configured(state: Value, private: Vec<u8>, diagnostics: Diagnostics) -> ApplyResponse {
    ApplyResponse {
        new_state: state,
        private,
        diagnostics,
    }
}

#[async_trait]
impl Resource for PhoneRoute {
    fn type_name(&self) -> &'static str {
        "cph_phone_route"
    }

    fn schema(&self) -> Schema {
        schemas::phone_route()
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        if let Some(Value::String(t)) = config.get("traffic_type")
            && !TRAFFIC_TYPES.contains(&t.as_str())
        {
            diags.push(
                    Diagnostic::error(
                        "Invalid traffic_type",
                        format!("`traffic_type` must be \"direct\" (the default route) or \"routing\" (routed to the encoding container); got {t:?}."),
                    )
                    .at(AttributePath::root("traffic_type")),
                );
        }
        if let Some(ids) = config.get("phone_ids").and_then(Value::as_elements) {
            if ids.is_empty() {
                diags.push(
                    Diagnostic::error(
                        "No phones",
                        "`phone_ids` must list at least one cloud phone id.",
                    )
                    .at(AttributePath::root("phone_ids")),
                );
            }
            for id in ids {
                if let Value::String(s) = id
                    && (s.trim().is_empty() || s.len() > 64 || s.contains(','))
                {
                    diags.push(
                        Diagnostic::error(
                            "Invalid phone id",
                            format!(
                                "Each phone id must be 1 to 64 bytes without commas; got {s:?}."
                            ),
                        )
                        .at(AttributePath::root("phone_ids").key(s)),
                    );
                }
            }
        }
        validate_timeouts(config, &["create", "update", "delete"], &mut diags);
        diags
    }

    async fn plan(&self, _ctx: &CallContext, req: PlanRequest) -> PlanResponse {
        let mut planned = req.proposed_new_state;
        let mut resp = PlanResponse {
            planned_private: req.prior_private.clone(),
            ..Default::default()
        };
        if planned.is_null() {
            resp.planned_state = planned;
            return resp;
        }
        let prior = &req.prior_state;
        let mut private = Private::decode(&req.prior_private);
        private.owner = owner_of(&private, prior);
        let ids_known = planned.get("phone_ids").is_some_and(Value::is_wholly_known);
        let changed = if prior.is_null() {
            planned.set_attr("id", Value::Unknown);
            planned.set_attr("jobs", Value::Unknown);
            true
        } else {
            planned.set_attr("id", prior.get("id").cloned().unwrap_or(Value::Unknown));
            // Phones whose last job failed or still ran are retried.
            let retry = ids_known
                && (!unfinished_phones(prior, &phone_set(&planned)).is_empty()
                    || !private.running.is_empty());
            let changed = !ids_known
                || retry
                || phone_set(&planned) != phone_set(prior)
                || planned.get("traffic_type") != prior.get("traffic_type");
            if changed {
                planned.set_attr("jobs", Value::Unknown);
            }
            changed
        };
        if ids_known {
            let route = planned.get_str("traffic_type").map(str::to_string);
            let overlaps = self
                .shared
                .fleet()
                .plan_claim(
                    &private.owner,
                    prior.get_str("id"),
                    &phone_set(&planned),
                    route.as_deref(),
                    changed,
                )
                .await;
            for o in &overlaps {
                resp.diagnostics
                    .push(overlap_diagnostic(o, route.as_deref()));
            }
        }
        resp.planned_private = private.encode();
        resp.planned_state = planned;
        resp
    }

    async fn apply(&self, ctx: &CallContext, req: ApplyRequest) -> ApplyResponse {
        let client = match self.shared.client(ctx) {
            Ok(c) => c,
            Err(d) => return not_configured(req.prior_state, req.planned_private, d),
        };
        let prior = req.prior_state;
        let planned = req.planned_state;
        let mut private = Private::decode(&req.planned_private);
        private.owner = owner_of(&private, &prior);
        let owner = private.owner.clone();
        let fleet = self.shared.fleet();
        let prior_ids = phone_set(&prior);
        let prior_route = prior
            .get_str("traffic_type")
            .unwrap_or(DEFAULT_ROUTE)
            .to_string();

        if planned.is_null() {
            // Destroy: every phone goes back to the default route, except
            // phones another resource claims in this run (a handover).
            if prior_route == DEFAULT_ROUTE || prior_ids.is_empty() {
                fleet.forget(&owner);
                return ApplyResponse {
                    new_state: Value::Null,
                    ..Default::default()
                };
            }
            let (deadline, _) = deadline(&prior, "delete", DEFAULT_TIMEOUT);
            let change = Change {
                owner: owner.clone(),
                route: DEFAULT_ROUTE.to_string(),
                phones: prior_ids.iter().cloned().collect(),
                release: true,
                running: Vec::new(),
            };
            let outcome = fleet
                .change(&client, change, deadline, &ctx.stop)
                .await
                .outcome;
            fleet.forget(&owner);
            let Some(report) = outcome.failure_report(DEFAULT_ROUTE) else {
                return ApplyResponse {
                    new_state: Value::Null,
                    ..Default::default()
                };
            };
            // Keep the phones still routed, so a second destroy finishes the job.
            let back: BTreeSet<String> = outcome.succeeded();
            let mut state = prior.clone();
            state.set_attr(
                "phone_ids",
                Value::string_set(prior_ids.difference(&back).cloned()),
            );
            return ApplyResponse {
                new_state: state,
                private: private.encode(),
                diagnostics: Diagnostic::error(
                    "Failed to return phones to the direct route",
                    report,
                )
                .into(),
            };
        }

        let creating = prior.is_null();
        let new_ids = phone_set(&planned);
        let new_route = planned
            .get_str("traffic_type")
            .unwrap_or(DEFAULT_ROUTE)
            .to_string();
        let (deadline, _) = deadline(
            &planned,
            if creating { "create" } else { "update" },
            DEFAULT_TIMEOUT,
        );

        // Which phones need which route. Jobs an earlier apply left running
        // towards this route are waited for, not sent again; phones whose last
        // job failed are sent again.
        let reroute_all = creating || new_route != prior_route;
        let recorded: Vec<RunningJob> = private
            .running
            .iter()
            .filter(|(p, j)| j.route == new_route && new_ids.contains(*p))
            .map(|(p, j)| RunningJob {
                phone_id: p.clone(),
                request_id: j.request_id.clone(),
                job_id: j.job_id.clone(),
            })
            .collect();
        let adopted: BTreeSet<String> = recorded.iter().map(|r| r.phone_id.clone()).collect();
        let retry = if reroute_all {
            BTreeSet::new()
        } else {
            unfinished_phones(&prior, &new_ids)
        };
        let to_route: Vec<String> = if reroute_all {
            new_ids.iter().cloned().collect()
        } else {
            new_ids
                .difference(&prior_ids)
                .chain(retry.iter())
                .cloned()
                .collect::<BTreeSet<String>>()
                .into_iter()
                .collect()
        };
        let to_route: Vec<String> = to_route
            .into_iter()
            .filter(|p| !adopted.contains(p))
            .collect();
        let to_direct: Vec<String> = if creating || prior_route == DEFAULT_ROUTE {
            Vec::new()
        } else {
            prior_ids.difference(&new_ids).cloned().collect()
        };

        // Claim the new phones before anything is sent, so that a release of
        // one of them by another resource in this run sends nothing.
        let own_id = if creating {
            route_id(&new_ids)
        } else {
            prior.get_str("id").unwrap_or_default().to_string()
        };
        fleet.hold(&owner, Some(&own_id), &new_ids, &new_route);
        let claim = Change {
            owner: owner.clone(),
            route: new_route.clone(),
            phones: to_route,
            release: false,
            running: recorded,
        };
        let release = Change {
            owner: owner.clone(),
            route: DEFAULT_ROUTE.to_string(),
            phones: to_direct,
            release: true,
            running: Vec::new(),
        };
        let (routed, released) = tokio::join!(
            fleet.change(&client, claim, deadline, &ctx.stop),
            fleet.change(&client, release, deadline, &ctx.stop),
        );
        let (running, routed, released) = (routed.running, routed.outcome, released.outcome);
        private.running = running
            .into_iter()
            .map(|r| {
                (
                    r.phone_id,
                    RecordedJob {
                        request_id: r.request_id,
                        job_id: r.job_id,
                        route: new_route.clone(),
                    },
                )
            })
            .collect();

        // Phones on the route now: those kept from before, plus those routed.
        let mut on_route: BTreeSet<String> = if reroute_all {
            BTreeSet::new()
        } else {
            prior_ids
                .intersection(&new_ids)
                .filter(|p| !retry.contains(*p) && !adopted.contains(*p))
                .cloned()
                .collect()
        };
        on_route.extend(routed.succeeded());

        let mut jobs = jobs_of(&prior);
        jobs.retain(|id, _| new_ids.contains(id));
        for r in &routed.jobs {
            jobs.insert(r.phone_id.clone(), r.clone());
        }
        private.servers.extend(routed.servers.values().cloned());

        let mut state = planned.clone();
        let id = if creating {
            Value::string(route_id(&new_ids))
        } else {
            prior.get("id").cloned().unwrap_or(Value::Null)
        };
        state.set_attr("id", id);
        state.set_attr("jobs", jobs_value(&jobs));

        let mut diagnostics = Diagnostics::new();
        if let Some(report) = routed.failure_report(&new_route) {
            let anything_routed = !routed.succeeded().is_empty() || !private.running.is_empty();
            if creating && !anything_routed {
                // Nothing reached the route: nothing to record (and nothing
                // for a tainted replacement to undo).
                fleet.forget(&owner);
                return ApplyResponse {
                    new_state: Value::Null,
                    private: Vec::new(),
                    diagnostics: Diagnostic::error(
                        format!("The phones could not be routed to {new_route:?}"),
                        report,
                    )
                    .at(AttributePath::root("phone_ids"))
                    .into(),
                };
            }
            if creating {
                // A warning, not an error: Terraform taints a create that
                // returns an error, and replacing it would send the healthy
                // phones to `direct` and back. `jobs` (and the refresh, which
                // drops phones not on the route) make the next plan retry
                // only the phones that failed.
                diagnostics.push(
                    Diagnostic::warning(
                        format!("Some phones could not be routed to {new_route:?}"),
                        format!("{report}\nThe next plan shows an update that retries only these phones."),
                    )
                    .at(AttributePath::root("phone_ids")),
                );
                on_route = new_ids.clone();
            } else {
                diagnostics.push(
                    Diagnostic::error(
                        format!("Some phones could not be routed to {new_route:?}"),
                        report,
                    )
                    .at(AttributePath::root("phone_ids")),
                );
            }
        }
        state.set_attr("phone_ids", Value::string_set(on_route));
        if let Some(report) = released.failure_report(DEFAULT_ROUTE) {
            diagnostics.push(Diagnostic::error(
                "Some removed phones could not be returned to the direct route",
                format!("{report}\nThese phones are no longer managed by this resource and keep route {prior_route:?}."),
            ));
        }
        ApplyResponse {
            new_state: state,
            private: private.encode(),
            diagnostics,
        }
    }

    async fn read(&self, ctx: &CallContext, req: ReadRequest) -> ReadResponse {
        let client = match self.shared.client(ctx) {
            Ok(c) => c,
            Err(diagnostics) => {
                return ReadResponse {
                    new_state: req.current_state,
                    private: req.private,
                    diagnostics,
                };
            }
        };
        let mut state = req.current_state;
        let mut private = Private::decode(&req.private);
        let ids = phone_set(&state);
        let route = state
            .get_str("traffic_type")
            .unwrap_or(DEFAULT_ROUTE)
            .to_string();
        let found = match self
            .shared
            .read_phones(&client, &ids, &private.servers)
            .await
        {
            Ok(found) => found,
            Err(e) => {
                return ReadResponse {
                    new_state: state,
                    private: req.private,
                    diagnostics: api_error("read the routes of the cloud phones", &e).into(),
                };
            }
        };
        let on_route: BTreeSet<String> = found
            .values()
            .filter(|p| p.traffic_type == route)
            .map(|p| p.phone_id.clone())
            .collect();
        if on_route.len() != ids.len() {
            tracing::info!(
                expected = ids.len(),
                on_route = on_route.len(),
                "phones left route {route:?} outside Terraform; the next plan puts them back"
            );
        }
        private.servers = found
            .values()
            .map(|p| p.server_id.clone())
            .filter(|s| !s.is_empty())
            .collect();
        state.set_attr("phone_ids", Value::string_set(on_route));
        ReadResponse {
            new_state: state,
            private: private.encode(),
            ..Default::default()
        }
    }

    async fn import(&self, ctx: &CallContext, id: &str) -> ImportResponse {
        let fail = |detail: String| ImportResponse {
            diagnostics: Diagnostic::error("Invalid import id", detail).into(),
            ..Default::default()
        };
        let ids: Vec<&str> = id.split(',').map(str::trim).collect();
        if ids
            .iter()
            .any(|s| s.is_empty() || s.len() > 64 || s.contains(char::is_whitespace))
        {
            return fail(format!(
                "Import cph_phone_route by its phone ids separated by commas, e.g. `terraform import cph_phone_route.this id1,id2,id3`; got {id:?}."
            ));
        }
        let ids: BTreeSet<String> = ids.into_iter().map(str::to_string).collect();
        let client = match self.shared.client(ctx) {
            Ok(c) => c,
            Err(diagnostics) => {
                return ImportResponse {
                    diagnostics,
                    ..Default::default()
                };
            }
        };
        let found = match self
            .shared
            .read_phones(&client, &ids, &BTreeSet::new())
            .await
        {
            Ok(found) => found,
            Err(e) => {
                return ImportResponse {
                    diagnostics: api_error("read the cloud phones", &e).into(),
                    ..Default::default()
                };
            }
        };
        let missing: Vec<&String> = ids.iter().filter(|i| !found.contains_key(*i)).collect();
        if !missing.is_empty() {
            return ImportResponse {
                diagnostics: Diagnostic::error(
                    "Cloud phones not found",
                    format!(
                        "These phones do not exist in this project: {}",
                        join_ids(missing.iter().map(|s| s.as_str()))
                    ),
                )
                .into(),
                ..Default::default()
            };
        }
        let mut by_route: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for p in found.values() {
            by_route
                .entry(p.traffic_type.as_str())
                .or_default()
                .push(p.phone_id.as_str());
        }
        if by_route.len() != 1 {
            let groups: Vec<String> = by_route
                .iter()
                .map(|(route, phones)| format!("{route:?}: {}", join_ids(phones.iter().copied())))
                .collect();
            return ImportResponse {
                diagnostics: Diagnostic::error(
                    "Phones on different routes",
                    format!(
                        "A cph_phone_route holds phones that share one route; import each route's phones separately. Found {}.",
                        groups.join("; ")
                    ),
                )
                .into(),
                ..Default::default()
            };
        }
        let route = by_route.keys().next().copied().unwrap_or(DEFAULT_ROUTE);
        let mut state = schemas::phone_route().block.null_object();
        state.set_attr("id", Value::string(route_id(&ids)));
        state.set_attr("phone_ids", Value::string_set(ids));
        state.set_attr("traffic_type", Value::string(route));
        state.set_attr("jobs", Value::List(vec![]));
        ImportResponse {
            states: vec![state],
            ..Default::default()
        }
    }
}

fn join_ids<'a>(ids: impl Iterator<Item = &'a str>) -> String {
    let ids: Vec<&str> = ids.collect();
    const SHOWN: usize = 10;
    let mut s = ids
        .iter()
        .take(SHOWN)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > SHOWN {
        s.push_str(&format!(" and {} more", ids.len() - SHOWN));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource() -> PhoneRoute {
        PhoneRoute::new(Arc::new(Shared::default()))
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
            vec!["phone_ids[\"\"]"]
        );
        assert!(r.validate(&config(&["p1", "p2"], "routing")).is_empty());
        let mut unknown = config(&["p1"], "routing");
        unknown.set_attr("phone_ids", Value::Unknown);
        unknown.set_attr("traffic_type", Value::Unknown);
        assert!(r.validate(&unknown).is_empty());
    }

    #[tokio::test]
    async fn plan_marks_jobs_unknown_only_on_change() {
        let r = resource();
        let mut prior = config(&["p1"], "routing");
        prior.set_attr("id", Value::string("route-x"));
        prior.set_attr("jobs", Value::List(vec![]));
        let same = PlanRequest {
            prior_state: prior.clone(),
            proposed_new_state: prior.clone(),
            config: config(&["p1"], "routing"),
            prior_private: vec![],
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
        };
        let planned = r.plan(&CallContext::default(), grown).await.planned_state;
        assert_eq!(planned.get("jobs"), Some(&Value::Unknown));
        assert_eq!(planned.get("id"), Some(&Value::string("route-x")));
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

    #[test]
    fn jobs_survive_a_state_round_trip() {
        let mut m = BTreeMap::new();
        m.insert(
            "p1".to_string(),
            JobRecord {
                phone_id: "p1".into(),
                job_id: Some("j1".into()),
                status: routing::JobStatus::Failed,
                error_code: Some("CPS.1".into()),
                error_msg: Some("x".into()),
            },
        );
        let state = Value::object([("jobs", jobs_value(&m))]);
        assert_eq!(jobs_of(&state), m);
    }
}

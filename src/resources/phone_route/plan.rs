//! The decisions of `cph_phone_route`, without I/O: what a plan claims and
//! marks unknown, which phones a create or update sends where (moves,
//! retries, jobs recorded by an earlier apply), the state a change leaves,
//! and the text of every message it gives. The apply
//! ([`apply`](super::apply)) carries these decisions out.

use std::collections::{BTreeMap, BTreeSet};

use super::super::common::cph_id;
use super::super::routing::{JobStatus, Refusal, RouteOutcome};
use super::model::{PhoneRouteModel, PhoneRoutePrivate, RecordedJob, route_id};
use crate::fleet::{self, DEFAULT_ROUTE, RunningJob};
use tf_framework::*;

/// Up to how many phones one `cph_phone_route` keeps Terraform's applies
/// fast (see the route page's measurements); above, plans warn.
pub const LARGE_ROUTE_PHONES: usize = 2_000;

/// The warning of a plan of a resource over [`LARGE_ROUTE_PHONES`].
pub(super) fn large_route_warning(phones: usize) -> Diagnostic {
    let mut d = Diagnostic::error(
        "Many phones in one cph_phone_route",
        format!(
            "This cph_phone_route holds {phones} phones. When a resource is created or its \
             phone_ids change (and on Terraform 1.0 at every refresh), Terraform compares \
             the set it expects with the set it gets, element by element, work that grows \
             with the square of the set: measured on Terraform 1.15.5, about 11 s of Terraform's own \
             time at 2,000 phones, 1 minute at 5,000 and 4 minutes at 10,000, whatever the \
             API does. Above about {LARGE_ROUTE_PHONES} phones, split them into one \
             cph_phone_route per server with for_each (see the fleet example on the \
             cph_phone_route page): the provider still merges their changes into shared \
             calls. This is a warning only; the plan goes on."
        ),
    )
    .at(AttributePath::root("phone_ids"));
    d.severity = Severity::Warning;
    d
}

/// What a plan asks of the fleet engine: the phones its resource will hold,
/// on which route, under which id, and whether its apply will ask for a
/// change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PlanClaim {
    pub ids: BTreeSet<String>,
    pub route: Option<String>,
    pub id: Option<String>,
    pub changed: bool,
}

/// Decides a plan: marks in `planned` what the apply may change (jobs and
/// summary) and returns the claim to register, or `None` while some ids
/// are known only at apply (another resource's output): no phone is claimed
/// yet (the apply's own plan, with every id known, claims them), the plan
/// keeps the configuration's shape, and what apply learns is unknown.
/// Phones whose last job failed or still ran are planned again.
pub(super) fn decide_plan(
    prior: Option<&PhoneRouteModel>,
    planned: &mut PhoneRouteModel,
    private: &PhoneRoutePrivate,
    creates: bool,
) -> Option<PlanClaim> {
    let ids = match &planned.phone_ids {
        Tf::Known(ids) => ids.clone(),
        Tf::Partial(_) | Tf::Unknown => {
            planned.plan_jobs_unknown();
            return None;
        }
        Tf::Null => return None,
    };
    let mut changed = creates;
    if let Some(prior) = prior.filter(|_| !changed) {
        let retry = !unfinished_phones(prior, &ids).is_empty() || !private.running.is_empty();
        if retry {
            planned.plan_jobs_unknown();
        }
        changed = retry || ids != prior.phones() || planned.traffic_type != prior.traffic_type;
    }
    Some(PlanClaim {
        route: planned.traffic_type.as_str().map(str::to_string),
        id: prior.and_then(|p| p.id.as_str()).map(str::to_string),
        ids,
        changed,
    })
}

/// The phones of a plan to look up (they may not exist): those not in the
/// prior state, which the refresh has just seen.
pub(super) fn added_phones(
    prior: Option<&PhoneRouteModel>,
    ids: &BTreeSet<String>,
) -> BTreeSet<String> {
    match prior {
        Some(prior) => ids.difference(&prior.phones()).cloned().collect(),
        None => ids.clone(),
    }
}

/// The owner of an instance in the fleet engine: its token, else (state
/// written before tokens) its id, else a fresh token.
pub(super) fn owner_of(private: &PhoneRoutePrivate, prior: Option<&PhoneRouteModel>) -> String {
    if !private.owner.is_empty() {
        return private.owner.clone();
    }
    match prior.and_then(|p| p.id.as_str()) {
        Some(id) if !id.is_empty() => format!("id-{id}"),
        _ => format!("owner-{:016x}", rand::random::<u64>()),
    }
}

/// Phones of `planned` whose last job in `prior` did not succeed.
pub(super) fn unfinished_phones(
    prior: &PhoneRouteModel,
    planned: &BTreeSet<String>,
) -> BTreeSet<String> {
    prior
        .job_records()
        .into_values()
        .filter(|j| j.status != JobStatus::Succeeded && planned.contains(&j.phone_id))
        .map(|j| j.phone_id)
        .collect()
}

pub(super) fn overlap_diagnostic(overlap: &fleet::Overlap, route: Option<&str>) -> Diagnostic {
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
            if overlap.phones.len() == 1 {
                "phone is"
            } else {
                "phones are"
            },
            join_ids(overlap.phones.iter().map(String::as_str)),
        ),
    )
    .at(AttributePath::root("phone_ids"))
}

/// What becomes of phones that did not get the resource's route: they are
/// left out of state, so the next plan shows them to add again.
pub(super) const NOT_ROUTED_YET: &str = "The phones that did are recorded in state, and so are phones whose \
     job still runs (the next apply waits for those); the others are not, \
     so the next plan shows them to add and the next apply sends them again.";

/// What becomes of phones a destroy could not return: they stay in state.
pub(super) const STILL_ROUTED_ON_DESTROY: &str = "The phones not yet back stay in state, so running the \
     destroy again retries them.";

/// What becomes of phones removed from the set that could not be returned:
/// the resource no longer holds them, so nothing retries them.
pub(super) fn left_behind(prior_route: &str) -> String {
    format!(
        "These phones are no longer managed by this resource and keep route {prior_route:?}; \
         no later apply retries them. Add them back to `phone_ids`, or set their route in the console."
    )
}

/// What becomes of phones a create could not route: they stay recorded with
/// their jobs, and the next plan retries only them.
pub(super) const RETRIED_NEXT: &str = "This is a warning, not an error, so that Terraform does not taint \
     the new resource (its replacement would send the healthy phones to direct and back). \
     The next plan shows an update that sends only these phones again; jobs still running are \
     waited for, not sent again.";

/// Which phones a create or update sends where.
pub(super) struct Moves {
    pub route: String,
    pub to_route: Vec<String>,
    pub to_direct: Vec<String>,
    /// Phones kept on the route without a call.
    pub kept: BTreeSet<String>,
}

pub(super) fn moves(prior: Option<&PhoneRouteModel>, planned: &PhoneRouteModel) -> Moves {
    let new_ids = planned.phones();
    let route = planned.route();
    let (prior_ids, prior_route) = match prior {
        Some(p) => (p.phones(), p.route()),
        None => (BTreeSet::new(), DEFAULT_ROUTE.to_string()),
    };
    let reroute_all = prior.is_none() || route != prior_route;
    let to_route = if reroute_all {
        new_ids.iter().cloned().collect()
    } else {
        new_ids.difference(&prior_ids).cloned().collect()
    };
    let to_direct = if prior_route == DEFAULT_ROUTE {
        Vec::new()
    } else {
        prior_ids.difference(&new_ids).cloned().collect()
    };
    let kept = if reroute_all {
        BTreeSet::new()
    } else {
        prior_ids.intersection(&new_ids).cloned().collect()
    };
    Moves {
        route,
        to_route,
        to_direct,
        kept,
    }
}

/// What a create or update does: the moves, the jobs an earlier apply left
/// running towards this route (waited for, not sent again), and those it
/// left running towards another route (an interrupted destroy): their phones
/// are sent again once those jobs end. Phones whose last job failed are sent
/// again.
pub(super) fn decide(
    prior: Option<&PhoneRouteModel>,
    planned: &PhoneRouteModel,
    private: &PhoneRoutePrivate,
) -> (Moves, Vec<RunningJob>, Vec<(String, RunningJob)>) {
    let mut m = moves(prior, planned);
    let new_ids = planned.phones();
    let (recorded, elsewhere) = recorded_on(private, &new_ids, &m.route);
    let resend: BTreeSet<String> = elsewhere.iter().map(|(_, r)| r.phone_id.clone()).collect();
    m.kept.retain(|id| !resend.contains(id));
    let mut to_route: BTreeSet<String> = m.to_route.drain(..).collect();
    to_route.extend(resend);
    m.to_route = to_route.into_iter().collect();
    let adopted: BTreeSet<String> = recorded.iter().map(|r| r.phone_id.clone()).collect();
    if let Some(p) = prior.filter(|p| p.route() == m.route) {
        let retry = unfinished_phones(p, &new_ids);
        m.kept.retain(|id| !retry.contains(id));
        let mut to_route: BTreeSet<String> = m.to_route.drain(..).collect();
        to_route.extend(retry);
        m.to_route = to_route.into_iter().collect();
    }
    m.kept.retain(|id| !adopted.contains(id));
    m.to_route.retain(|id| !adopted.contains(id));
    (m, recorded, elsewhere)
}

/// The recorded jobs of `phones`: those towards `route`, and those towards
/// another route (with that route).
pub(super) fn recorded_on(
    private: &PhoneRoutePrivate,
    phones: &BTreeSet<String>,
    route: &str,
) -> (Vec<RunningJob>, Vec<(String, RunningJob)>) {
    let mut same = Vec::new();
    let mut elsewhere = Vec::new();
    for (p, j) in private.running.iter().filter(|(p, _)| phones.contains(*p)) {
        let job = RunningJob {
            phone_id: p.clone(),
            request_id: j.request_id.clone(),
            job_id: j.job_id.clone(),
        };
        if j.route == route {
            same.push(job);
        } else {
            elsewhere.push((j.route.clone(), job));
        }
    }
    (same, elsewhere)
}

/// The jobs still running after a change to `route`: the ones it left
/// running, and jobs recorded towards another route on its phones that it
/// did not get past (for the next apply to wait for).
pub(super) fn still_running(
    routed: &fleet::ChangeOutcome,
    earlier: BTreeMap<String, RecordedJob>,
    route: &str,
    phones: &BTreeSet<String>,
) -> BTreeMap<String, RecordedJob> {
    let moved: BTreeSet<&String> = (routed.outcome.jobs.iter())
        .filter(|j| j.status != JobStatus::Failed)
        .map(|j| &j.phone_id)
        .collect();
    let mut running = recorded_jobs(routed.running.clone(), route);
    for (p, j) in earlier {
        if j.route != route && phones.contains(&p) && !moved.contains(&p) {
            running.entry(p).or_insert(j);
        }
    }
    running
}

/// The jobs still running after a change, kept for the next apply.
pub(super) fn recorded_jobs(
    running: Vec<RunningJob>,
    route: &str,
) -> BTreeMap<String, RecordedJob> {
    running
        .into_iter()
        .map(|r| {
            let job = RecordedJob {
                request_id: r.request_id,
                job_id: r.job_id,
                route: route.to_string(),
            };
            (r.phone_id, job)
        })
        .collect()
}

/// The state a change leaves: the planned values with the id, the jobs of
/// this change over those kept from before, and the phones on the route.
pub(super) fn settled_state(
    prior: Option<&PhoneRouteModel>,
    planned: PhoneRouteModel,
    kept: BTreeSet<String>,
    routed: &RouteOutcome,
    running: &BTreeMap<String, RecordedJob>,
) -> PhoneRouteModel {
    let new_ids = planned.phones();
    let mut jobs = prior.map(PhoneRouteModel::job_records).unwrap_or_default();
    jobs.retain(|id, _| new_ids.contains(id));
    for r in &routed.jobs {
        jobs.insert(r.phone_id.clone(), r.clone());
    }
    let mut state = planned;
    state.id = match prior {
        Some(p) => p.id.clone(),
        None => route_id(&new_ids).into(),
    };
    // Phones whose job still runs (or whose call may have taken effect) are
    // kept too: the next apply waits for them, and a destroy returns them.
    let mut on_route = kept;
    on_route.extend(routed.succeeded());
    on_route.extend(
        routed
            .jobs
            .iter()
            .filter(|j| j.status == JobStatus::Running)
            .map(|j| j.phone_id.clone()),
    );
    state.phone_ids = Tf::Known(on_route);
    let requests = running
        .iter()
        .map(|(p, j)| (p.clone(), j.request_id.clone()))
        .collect();
    state.set_jobs(&jobs, &requests);
    state
}

/// The one error of a change the API refused for its credentials or for
/// the account's state (never one per phone: no phone would fare better on
/// a retry).
pub(super) fn refused(r: &Refusal) -> Diagnostic {
    if r.account {
        return Diagnostic::error("Account refused by CPH", r.why.clone());
    }
    Diagnostic::error(
        "Credentials refused",
        format!("{} Fix the credentials, then apply again.", r.why),
    )
}

/// The error naming the phones that did not get `route`.
pub(super) fn not_routed(route: &str, report: String) -> Diagnostic {
    Diagnostic::error(
        format!("Some phones could not be routed to {route:?}"),
        report,
    )
    .at(AttributePath::root("phone_ids"))
}

pub(super) fn report_failures(
    routed: &RouteOutcome,
    released: &RouteOutcome,
    route: &str,
    prior: Option<&PhoneRouteModel>,
    diags: &mut Diagnostics,
) {
    if let Some(report) = routed.failure_report(route, NOT_ROUTED_YET) {
        let mut error = not_routed(route, report);
        if matches!(routed.wait_error, Some(crate::fleet::WaitEnded::Stopped)) {
            error.summary = format!("Stopped before every phone was confirmed on route {route:?}");
        }
        diags.push(error);
    }
    let prior_route = prior.map(PhoneRouteModel::route).unwrap_or_default();
    if let Some(report) = released.failure_report(DEFAULT_ROUTE, &left_behind(&prior_route)) {
        diags.push(Diagnostic::error(
            "Some removed phones could not be returned to the direct route",
            report,
        ));
    }
}

/// Why phones cannot be imported as one route, if they cannot.
pub(super) fn import_problem(
    ids: &BTreeSet<String>,
    found: &BTreeMap<String, crate::cph::models::Phone>,
) -> Result<String, Diagnostic> {
    let missing: Vec<&String> = ids.iter().filter(|i| !found.contains_key(*i)).collect();
    if !missing.is_empty() {
        return Err(Diagnostic::error(
            "Cloud phones not found",
            format!(
                "These phones do not exist in this project: {}",
                join_ids(missing.iter().map(|s| s.as_str()))
            ),
        ));
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
        return Err(Diagnostic::error(
            "Phones on different routes",
            format!(
                "A cph_phone_route holds phones that share one route; import each route's phones separately. Found {}.",
                groups.join("; ")
            ),
        ));
    }
    Ok(by_route
        .keys()
        .next()
        .copied()
        .unwrap_or(DEFAULT_ROUTE)
        .to_string())
}

/// The phone ids of an import id, or why it is malformed.
pub(super) fn import_ids(id: &str) -> Result<BTreeSet<String>, Diagnostic> {
    let ids: Vec<&str> = id.split(',').map(str::trim).collect();
    if ids.iter().any(|s| cph_id().problem(s).is_some()) {
        return Err(Diagnostic::error(
            "Invalid import id",
            format!(
                "Import cph_phone_route by its phone ids separated by commas, e.g. `terraform import cph_phone_route.this id1,id2,id3`; got {id:?}."
            ),
        ));
    }
    Ok(ids.into_iter().map(str::to_string).collect())
}

pub(super) fn join_ids<'a>(ids: impl Iterator<Item = &'a str>) -> String {
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
    use super::super::super::routing::JobRecord;
    use super::*;

    fn set(ids: &[&str]) -> BTreeSet<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    fn model(ids: &[&str], route: &str) -> PhoneRouteModel {
        let mut m = PhoneRouteModel {
            id: "route-x".into(),
            phone_ids: Tf::Known(set(ids)),
            traffic_type: route.into(),
            ..Default::default()
        };
        m.set_jobs(&BTreeMap::new(), &BTreeMap::new());
        m
    }

    fn failed(m: &mut PhoneRouteModel, phone: &str) {
        let record = JobRecord {
            phone_id: phone.into(),
            job_id: Some("j".into()),
            status: JobStatus::Failed,
            error_code: Some("CPS.1".into()),
            error_msg: None,
        };
        m.set_jobs(&[(phone.to_string(), record)].into(), &BTreeMap::new());
    }

    #[test]
    fn a_create_sends_every_phone_and_an_update_only_what_changed() {
        let m = moves(None, &model(&["a", "b"], "routing"));
        assert_eq!(
            (m.to_route, m.to_direct),
            (vec!["a".into(), "b".into()], vec![])
        );
        let prior = model(&["a", "b"], "routing");
        let m = moves(Some(&prior), &model(&["b", "c"], "routing"));
        assert_eq!(m.to_route, vec!["c".to_string()]);
        assert_eq!(m.to_direct, vec!["a".to_string()]);
        assert_eq!(m.kept, set(&["b"]));
        // A switched route sends every phone; removed phones go to direct.
        let m = moves(Some(&prior), &model(&["b"], "direct"));
        assert_eq!(m.to_route, vec!["b".to_string()]);
        assert_eq!(m.to_direct, vec!["a".to_string()]);
        assert!(m.kept.is_empty());
        // Phones leaving a `direct` route are already there.
        let direct = model(&["a", "b"], "direct");
        assert!(
            moves(Some(&direct), &model(&["b"], "direct"))
                .to_direct
                .is_empty()
        );
    }

    #[test]
    fn failed_phones_are_sent_again_and_recorded_jobs_are_waited_for() {
        let mut prior = model(&["a", "b", "c"], "routing");
        failed(&mut prior, "a");
        let mut private = PhoneRoutePrivate::default();
        for (phone, route) in [("b", "routing"), ("c", "direct")] {
            let job = RecordedJob {
                request_id: format!("req-{phone}"),
                job_id: None,
                route: route.into(),
            };
            private.running.insert(phone.into(), job);
        }
        let (m, recorded, elsewhere) =
            decide(Some(&prior), &model(&["a", "b", "c"], "routing"), &private);
        // a failed: sent again; b runs towards routing: waited for; c runs
        // towards direct (an interrupted destroy): sent again after it.
        assert_eq!(m.to_route, vec!["a".to_string(), "c".to_string()]);
        assert!(m.kept.is_empty());
        assert_eq!(recorded.len(), 1);
        assert_eq!(recorded[0].phone_id, "b");
        assert_eq!(elsewhere.len(), 1);
        assert_eq!(elsewhere[0].0, "direct");
    }

    #[test]
    fn a_plan_claims_known_ids_and_marks_jobs_unknown_only_when_it_changes() {
        let prior = model(&["a"], "routing");
        let mut same = prior.clone();
        let claim = decide_plan(
            Some(&prior),
            &mut same,
            &PhoneRoutePrivate::default(),
            false,
        )
        .unwrap();
        assert!(!claim.changed);
        assert_eq!(claim.id.as_deref(), Some("route-x"));
        assert_eq!(same, prior);

        let mut retry = prior.clone();
        failed(&mut retry, "a");
        let mut planned = retry.clone();
        let claim = decide_plan(
            Some(&retry),
            &mut planned,
            &PhoneRoutePrivate::default(),
            false,
        )
        .unwrap();
        assert!(claim.changed);
        assert_eq!(planned.failed, Tf::Unknown);

        let mut new = model(&["a", "b"], "direct");
        let claim = decide_plan(None, &mut new, &PhoneRoutePrivate::default(), true).unwrap();
        assert!(claim.changed && claim.route.as_deref() == Some("direct"));
        assert_eq!(added_phones(Some(&prior), &claim.ids), set(&["b"]));
        assert_eq!(added_phones(None, &claim.ids), set(&["a", "b"]));

        let mut partial = model(&[], "routing");
        partial.phone_ids = Tf::Unknown;
        assert_eq!(
            decide_plan(None, &mut partial, &PhoneRoutePrivate::default(), true),
            None
        );
        assert_eq!(partial.summary, Tf::Unknown);
    }

    #[test]
    fn overlap_messages_count_and_name_the_other_resource() {
        let one = fleet::Overlap {
            other_id: Some("route-b".into()),
            other_route: Some("direct".into()),
            phones: vec!["p1".into()],
        };
        let d = overlap_diagnostic(&one, Some("routing"));
        assert!(
            d.detail.starts_with("1 phone is in the planned phone_ids"),
            "{}",
            d.detail
        );
        assert!(
            d.detail
                .contains("\"route-b\" (this one wants \"routing\", that one \"direct\")")
        );
        let two = fleet::Overlap {
            other_id: None,
            other_route: None,
            phones: vec!["p1".into(), "p2".into()],
        };
        let d = overlap_diagnostic(&two, Some("routing"));
        assert!(d.detail.starts_with("2 phones are"), "{}", d.detail);
        assert!(d.detail.contains("being created in this run: p1, p2."));
    }

    #[test]
    fn imports_need_existing_phones_on_one_route_and_lists_are_capped() {
        let phone = |id: &str, route: &str| crate::cph::models::Phone {
            phone_id: id.into(),
            traffic_type: route.into(),
            ..Default::default()
        };
        let found: BTreeMap<String, _> = [("a".to_string(), phone("a", "routing"))].into();
        assert_eq!(import_problem(&set(&["a"]), &found).unwrap(), "routing");
        let missing = import_problem(&set(&["a", "z"]), &found).unwrap_err();
        assert_eq!(missing.summary, "Cloud phones not found");
        let mut mixed = found.clone();
        mixed.insert("b".into(), phone("b", "direct"));
        let d = import_problem(&set(&["a", "b"]), &mixed).unwrap_err();
        assert_eq!(d.summary, "Phones on different routes");
        assert!(import_ids("a, b").is_ok() && import_ids("a,,b").is_err());
        let ids: Vec<String> = (0..12).map(|i| format!("p{i}")).collect();
        let text = join_ids(ids.iter().map(String::as_str));
        assert!(text.ends_with("p9 and 2 more"), "{text}");
    }
}

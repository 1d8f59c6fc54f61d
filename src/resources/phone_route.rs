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

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Shared;
pub use super::common::TRAFFIC_TYPES;
use super::common::{api_error, check_phones_exist, cph_id, deadline};
use super::routing::{JobRecord, JobStatus, RouteOutcome};
use crate::cph::Client;
use crate::fleet::{self, DEFAULT_ROUTE, RunningJob};
use tf_framework::typed::{Applied, Change, Plan, ResourceType, StateUpgrade};
use tf_framework::*;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10 * 60);

tf_framework::model! {
    /// How long each change waits for the phones' jobs.
    pub struct RouteTimeouts {
        create: String = optional("How long to wait for create, e.g. \"30m\".").validate(duration()),
        update: String = optional("How long to wait for update, e.g. \"30m\".").validate(duration()),
        delete: String = optional("How long to wait for delete, e.g. \"30m\".").validate(duration()),
    }
}

tf_framework::model! {
    /// A phone whose last job did not succeed: what to tell support.
    pub struct FailedJob {
        job_id: String = computed("Id of the job (null when the route call itself failed)."),
        error_code: String = computed("Error code of the job or call, e.g. `CPS.0006`."),
        error_msg: String = computed("Error message of the job or call."),
    }
}

tf_framework::model! {
    /// A phone whose job still ran when the last apply ended.
    pub struct StillRunningJob {
        job_id: String = computed("Id of the job, when the API had said it."),
        request_id: String = computed("Id of the request that started the job (null in state upgraded from schema version 0)."),
    }
}

tf_framework::model! {
    /// Counts of the last change's outcome.
    pub struct RouteSummary {
        succeeded: i64 = computed("Phones on the route whose last job succeeded (or that needed no job), as of the last change."),
        failed: i64 = computed("Phones whose last job failed: the entries of `failed`."),
        running: i64 = computed("Phones whose job still ran when the last apply ended: the entries of `running`."),
        request_ids: BTreeSet<String> = computed("Request ids of the jobs still running, for support."),
    }
}

tf_framework::model! {
    /// The configuration and state of `cph_phone_route`.
    pub struct PhoneRouteModel {
        id: String = computed("Identifier of this set of phones.").keep_state(),
        phone_ids: BTreeSet<String> = required("Ids of the cloud phones to route. An empty set manages no phones: what a route of a server that no longer exists comes to, so that it can still be planned and destroyed.")
            .validate(warn(size_at_least(1), "With none, this resource manages no phones: what a route of a server deleted outside Terraform comes to. It can still be planned and destroyed."))
            .validate(each(cph_id())),
        traffic_type: String = required("The route of every phone in the set.")
            .validate(one_of(TRAFFIC_TYPES)),
        failed: BTreeMap<String, FailedJob> = computed("The phones whose last job did not succeed, by phone id: `job_id`, `error_code`, `error_msg`. The next apply sends them again. Empty when every phone is on the route.")
            .keep_state_unless(&["phone_ids", "traffic_type"]),
        running: BTreeMap<String, StillRunningJob> = computed("The phones whose job still ran when the last apply ended (timeout, Ctrl-C), by phone id: `job_id`, `request_id`. The next apply waits for these jobs instead of sending again.")
            .keep_state_unless(&["phone_ids", "traffic_type"]),
        summary: RouteSummary = computed("Counts of the last change's outcome: `succeeded`, `failed`, `running`, and the `request_ids` of jobs still running.")
            .keep_state_unless(&["phone_ids", "traffic_type"]),
        timeouts: RouteTimeouts = block(),
    }
}

impl PhoneRouteModel {
    fn phones(&self) -> BTreeSet<String> {
        self.phone_ids.known().cloned().unwrap_or_default()
    }

    fn route(&self) -> String {
        self.traffic_type
            .as_str()
            .unwrap_or(DEFAULT_ROUTE)
            .to_string()
    }

    fn timeout(&self, pick: fn(&RouteTimeouts) -> &Tf<String>) -> Tf<String> {
        self.timeouts.known().map(pick).cloned().unwrap_or_default()
    }

    /// The job records of phones whose last job did not succeed (`failed`
    /// and `running`), by phone id. Phones whose job succeeded have none:
    /// the state does not spend bytes on them.
    fn job_records(&self) -> BTreeMap<String, JobRecord> {
        let mut records = BTreeMap::new();
        for (phone_id, j) in self.failed.known().into_iter().flatten() {
            let record = JobRecord {
                phone_id: phone_id.clone(),
                job_id: j.job_id.known().cloned(),
                status: JobStatus::Failed,
                error_code: j.error_code.known().cloned(),
                error_msg: j.error_msg.known().cloned(),
            };
            records.insert(phone_id.clone(), record);
        }
        for (phone_id, j) in self.running.known().into_iter().flatten() {
            let record = JobRecord {
                phone_id: phone_id.clone(),
                job_id: j.job_id.known().cloned(),
                status: JobStatus::Running,
                error_code: None,
                error_msg: None,
            };
            records.insert(phone_id.clone(), record);
        }
        records
    }

    /// Records the jobs of the phones that did not succeed, with the
    /// request ids of those still running (`requests`, by phone), and the
    /// summary; call it once `phone_ids` holds the phones on the route.
    fn set_jobs(
        &mut self,
        records: &BTreeMap<String, JobRecord>,
        requests: &BTreeMap<String, String>,
    ) {
        let mut failed = BTreeMap::new();
        let mut running = BTreeMap::new();
        for r in records.values() {
            match r.status {
                JobStatus::Succeeded => {}
                JobStatus::Failed => {
                    let job = FailedJob {
                        job_id: Tf::from_option(r.job_id.clone()),
                        error_code: Tf::from_option(r.error_code.clone()),
                        error_msg: Tf::from_option(r.error_msg.clone()),
                    };
                    failed.insert(r.phone_id.clone(), job);
                }
                JobStatus::Running => {
                    let job = StillRunningJob {
                        job_id: Tf::from_option(r.job_id.clone()),
                        request_id: Tf::from_option(requests.get(&r.phone_id).cloned()),
                    };
                    running.insert(r.phone_id.clone(), job);
                }
            }
        }
        let on_route = self
            .phones()
            .iter()
            .filter(|p| !failed.contains_key(*p) && !running.contains_key(*p))
            .count();
        let request_ids = running
            .values()
            .filter_map(|j| j.request_id.known().cloned())
            .collect();
        self.summary = Tf::Known(RouteSummary {
            succeeded: Tf::Known(on_route as i64),
            failed: Tf::Known(failed.len() as i64),
            running: Tf::Known(running.len() as i64),
            request_ids: Tf::Known(request_ids),
        });
        self.failed = Tf::Known(failed);
        self.running = Tf::Known(running);
    }

    /// Marks what a change can alter unknown in a plan: the jobs and the
    /// summary. `id`, `phone_ids` and `traffic_type` stay as planned.
    fn plan_jobs_unknown(&mut self) {
        self.failed = Tf::Unknown;
        self.running = Tf::Unknown;
        self.summary = Tf::Unknown;
    }
}

tf_framework::model! {
    /// The identity of a `cph_phone_route`: its `id`, which it keeps for
    /// life whatever phones join or leave and whichever route they take.
    pub struct PhoneRouteIdentity {
        id: String = required("The route's `id`: `<server_id>/<traffic_type>` for a route adopted with `terraform query` (the phones of one server on one route when it was adopted), `route-<digest>` for one Terraform created."),
    }
}

/// The id, and identity, of an adopted group: the phones of one server on
/// one route, as the list resource finds them.
pub fn group_id(server_id: &str, route: &str) -> String {
    format!("{server_id}/{route}")
}

/// The server and route of an adopted group's id.
fn parse_group_id(id: &str) -> Option<(&str, &str)> {
    let (server_id, route) = id.rsplit_once('/')?;
    let known_route = TRAFFIC_TYPES.iter().any(|(r, _)| *r == route);
    (known_route && !server_id.is_empty() && !server_id.contains(char::is_whitespace))
        .then_some((server_id, route))
}

impl PhoneRouteModel {
    /// The state of an adopted group: `phone_ids` on `route` on one server.
    pub fn adopted(server_id: &str, route: &str, phone_ids: BTreeSet<String>) -> PhoneRouteModel {
        let mut state = PhoneRouteModel {
            id: group_id(server_id, route).into(),
            phone_ids: Tf::Known(phone_ids),
            traffic_type: route.into(),
            ..Default::default()
        };
        state.set_jobs(&BTreeMap::new(), &BTreeMap::new());
        state
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Private {
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
pub struct RecordedJob {
    request_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    job_id: Option<String>,
    route: String,
}

/// Up to how many phones one `cph_phone_route` keeps Terraform's applies
/// fast (see the route page's measurements); above, plans warn.
pub const LARGE_ROUTE_PHONES: usize = 2_000;

/// The warning of a plan of a resource over [`LARGE_ROUTE_PHONES`].
fn large_route_warning(phones: usize) -> Diagnostic {
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

/// Schema version 0 kept a `jobs` list with every phone's last job;
/// version 1 keeps the phones whose job did not succeed (`failed`,
/// `running`) and a `summary`. Every other attribute is read as it was.
fn upgrade_from_v0(stored: &serde_json::Value) -> Result<PhoneRouteModel, String> {
    use tf_framework::json::{ExtraAttributes, decode_json};
    let ty = PhoneRouteModel::block().value_type();
    let value = decode_json(stored, &ty, ExtraAttributes::Drop).map_err(|e| e.to_string())?;
    let mut state = PhoneRouteModel::from_value(&value).map_err(|d| d.detail)?;
    let records = v0_job_records(stored.get("jobs"))?;
    state.set_jobs(&records, &BTreeMap::new());
    Ok(state)
}

/// The job records of a version 0 `jobs` list, read as version 0 read them.
fn v0_job_records(jobs: Option<&serde_json::Value>) -> Result<BTreeMap<String, JobRecord>, String> {
    let Some(jobs) = jobs.filter(|j| !j.is_null()) else {
        return Ok(BTreeMap::new());
    };
    let jobs = jobs.as_array().ok_or("`jobs` is not a list")?;
    let text =
        |j: &serde_json::Value, k: &str| j.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let records = jobs.iter().filter_map(|j| {
        let phone_id = text(j, "phone_id")?;
        let status = match j.get("status").and_then(|v| v.as_str()) {
            Some("succeeded") => JobStatus::Succeeded,
            Some("running") => JobStatus::Running,
            _ => JobStatus::Failed,
        };
        let record = JobRecord {
            phone_id: phone_id.clone(),
            job_id: text(j, "job_id"),
            status,
            error_code: text(j, "error_code"),
            error_msg: text(j, "error_msg"),
        };
        Some((phone_id, record))
    });
    Ok(records.collect())
}

/// The owner of an instance in the fleet engine: its token, else (state
/// written before tokens) its id, else a fresh token.
fn owner_of(private: &Private, prior: Option<&PhoneRouteModel>) -> String {
    if !private.owner.is_empty() {
        return private.owner.clone();
    }
    match prior.and_then(|p| p.id.as_str()) {
        Some(id) if !id.is_empty() => format!("id-{id}"),
        _ => format!("owner-{:016x}", rand::random::<u64>()),
    }
}

/// Phones of `planned` whose last job in `prior` did not succeed.
fn unfinished_phones(prior: &PhoneRouteModel, planned: &BTreeSet<String>) -> BTreeSet<String> {
    prior
        .job_records()
        .into_values()
        .filter(|j| j.status != JobStatus::Succeeded && planned.contains(&j.phone_id))
        .map(|j| j.phone_id)
        .collect()
}

fn overlap_diagnostic(overlap: &fleet::Overlap, route: Option<&str>) -> Diagnostic {
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

/// What becomes of phones that did not get the resource's route: they are
/// left out of state, so the next plan shows them to add again.
const NOT_ROUTED_YET: &str = "The phones that did are recorded in state, and so are phones whose \
     job still runs (the next apply waits for those); the others are not, \
     so the next plan shows them to add and the next apply sends them again.";

/// What becomes of phones a destroy could not return: they stay in state.
const STILL_ROUTED_ON_DESTROY: &str = "The phones not yet back stay in state, so running the \
     destroy again retries them.";

/// What becomes of phones removed from the set that could not be returned:
/// the resource no longer holds them, so nothing retries them.
fn left_behind(prior_route: &str) -> String {
    format!(
        "These phones are no longer managed by this resource and keep route {prior_route:?}; \
         no later apply retries them. Add them back to `phone_ids`, or set their route in the console."
    )
}

/// What becomes of phones a create could not route: they stay recorded with
/// their jobs, and the next plan retries only them.
const RETRIED_NEXT: &str = "This is a warning, not an error, so that Terraform does not taint \
     the new resource (its replacement would send the healthy phones to direct and back). \
     The next plan shows an update that sends only these phones again; jobs still running are \
     waited for, not sent again.";

/// Sends phones back to the default route through the fleet engine, except
/// phones another resource claims in this run; a phone that no longer
/// exists counts as returned. The outcome carries the jobs it leaves
/// running.
async fn release(
    fleet: &fleet::Fleet,
    client: &Client,
    owner: &str,
    phone_ids: &[String],
    deadline: std::time::Instant,
    stop: &tokio_util::sync::CancellationToken,
) -> fleet::ChangeOutcome {
    let change = fleet::Change {
        owner: owner.to_string(),
        route: DEFAULT_ROUTE.to_string(),
        phones: phone_ids.to_vec(),
        release: true,
        ..Default::default()
    };
    let mut done = fleet.change(client, change, deadline, stop).await;
    done.outcome = done.outcome.gone_counts_as_released();
    done
}

/// Waits for the jobs an earlier apply left running (a phone has one job at
/// a time, so a destroy sends `direct` after them); drops those that ended
/// from `private`. Returns the phones whose job took them to `direct`.
async fn await_recorded(
    fleet: &fleet::Fleet,
    client: &Client,
    owner: &str,
    private: &mut Private,
    deadline: std::time::Instant,
    stop: &tokio_util::sync::CancellationToken,
) -> BTreeSet<String> {
    let mut direct = BTreeSet::new();
    let mut by_route: BTreeMap<String, Vec<RunningJob>> = BTreeMap::new();
    for (p, j) in private
        .running
        .iter()
        .filter(|(_, j)| !j.request_id.is_empty())
    {
        by_route
            .entry(j.route.clone())
            .or_default()
            .push(RunningJob {
                phone_id: p.clone(),
                request_id: j.request_id.clone(),
                job_id: j.job_id.clone(),
            });
    }
    for (route, running) in by_route {
        let change = fleet::Change {
            owner: owner.to_string(),
            route,
            running,
            ..Default::default()
        };
        let to_direct = change.route == DEFAULT_ROUTE;
        let done = fleet.change(client, change, deadline, stop).await;
        for j in done
            .outcome
            .jobs
            .iter()
            .filter(|j| j.status != JobStatus::Running)
        {
            private.running.remove(&j.phone_id);
            if to_direct && j.status == JobStatus::Succeeded {
                direct.insert(j.phone_id.clone());
            }
        }
    }
    direct
}

/// Which phones a create or update sends where.
struct Moves {
    route: String,
    to_route: Vec<String>,
    to_direct: Vec<String>,
    /// Phones kept on the route without a call.
    kept: BTreeSet<String>,
}

fn moves(prior: Option<&PhoneRouteModel>, planned: &PhoneRouteModel) -> Moves {
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
fn decide(
    prior: Option<&PhoneRouteModel>,
    planned: &PhoneRouteModel,
    private: &Private,
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
fn recorded_on(
    private: &Private,
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
fn still_running(
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
fn recorded_jobs(running: Vec<RunningJob>, route: &str) -> BTreeMap<String, RecordedJob> {
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
fn settled_state(
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

impl PhoneRoute {
    async fn change(
        &self,
        ctx: &CallContext,
        change: Change<PhoneRouteModel, Private>,
        diags: &mut Diagnostics,
    ) -> Applied<PhoneRouteModel, Private> {
        let Some(client) = self.shared.client_or_report(ctx, diags) else {
            return Applied::new(change.prior, change.private);
        };
        let Change {
            prior,
            planned,
            mut private,
            ..
        } = change;
        let owner = owner_of(&private, prior.as_ref());
        private.owner = owner.clone();
        let (mut m, recorded, elsewhere) = decide(prior.as_ref(), &planned, &private);
        let limit = planned.timeout(if prior.is_none() {
            |t| &t.create
        } else {
            |t| &t.update
        });
        let (deadline, _) = deadline(&limit, DEFAULT_TIMEOUT);

        // Claim the phones before anything is sent, so that a release of one
        // of them by another resource in this run sends nothing.
        let fleet = self.shared.fleet();
        let new_ids = planned.phones();
        let own_id = match &prior {
            Some(p) => p.id.as_str().unwrap_or_default().to_string(),
            None => route_id(&new_ids),
        };
        fleet.hold(&owner, Some(&own_id), &new_ids, &m.route);
        let claim = fleet::Change {
            owner: owner.clone(),
            route: m.route.clone(),
            phones: std::mem::take(&mut m.to_route),
            release: false,
            running: recorded,
            elsewhere,
        };
        let (routed, released) = tokio::join!(
            fleet.change(&client, claim, deadline, &ctx.stop),
            release(fleet, &client, &owner, &m.to_direct, deadline, &ctx.stop),
        );
        let released = released.outcome;
        let earlier = std::mem::take(&mut private.running);
        private.running = still_running(&routed, earlier, &m.route, &new_ids);
        let routed = routed.outcome;
        private.servers.extend(routed.servers.values().cloned());
        let state = settled_state(prior.as_ref(), planned, m.kept, &routed, &private.running);
        if let Some(why) = routed.refused.as_ref().or(released.refused.as_ref()) {
            diags.push(credentials_refused(why));
            if prior.is_none() && routed.succeeded().is_empty() && private.running.is_empty() {
                fleet.forget(&owner);
                return Applied::new(None, Private::default());
            }
            return Applied::new(Some(state), private);
        }
        if prior.is_none() && routed.failure_report(&m.route, "").is_some() {
            return self
                .partly_created(state, private, new_ids, &routed, &released, &m.route, diags);
        }
        report_failures(&routed, &released, &m.route, prior.as_ref(), diags);
        Applied::new(Some(state), private)
    }

    /// A create where some phones failed. Nothing on the route: no state
    /// (nothing for a tainted replacement to undo). Otherwise a warning, not
    /// an error (see [`RETRIED_NEXT`]), and the planned phones in state, the
    /// failed ones marked in `jobs` for the next apply to send again.
    #[allow(clippy::too_many_arguments)]
    fn partly_created(
        &self,
        mut state: PhoneRouteModel,
        private: Private,
        planned_ids: BTreeSet<String>,
        routed: &RouteOutcome,
        released: &RouteOutcome,
        route: &str,
        diags: &mut Diagnostics,
    ) -> Applied<PhoneRouteModel, Private> {
        if routed.succeeded().is_empty() && private.running.is_empty() {
            self.shared.fleet().forget(&private.owner);
            report_failures(routed, released, route, None, diags);
            return Applied::new(None, Private::default());
        }
        if let Some(report) = routed.failure_report(route, RETRIED_NEXT) {
            let mut warning = not_routed(route, report);
            if matches!(routed.wait_error, Some(fleet::WaitEnded::Stopped)) {
                warning.summary =
                    format!("Stopped before every phone was confirmed on route {route:?}");
            }
            warning.severity = Severity::Warning;
            diags.push(warning);
        }
        state.phone_ids = Tf::Known(planned_ids);
        Applied::new(Some(state), private)
    }
}

/// The one error of a change the API refused for its credentials (never one
/// per phone: no phone would fare better on a retry).
fn credentials_refused(why: &str) -> Diagnostic {
    Diagnostic::error(
        "Credentials refused",
        format!("{why} Fix the credentials, then apply again."),
    )
}

/// The error naming the phones that did not get `route`.
fn not_routed(route: &str, report: String) -> Diagnostic {
    Diagnostic::error(
        format!("Some phones could not be routed to {route:?}"),
        report,
    )
    .at(AttributePath::root("phone_ids"))
}

fn report_failures(
    routed: &RouteOutcome,
    released: &RouteOutcome,
    route: &str,
    prior: Option<&PhoneRouteModel>,
    diags: &mut Diagnostics,
) {
    if let Some(report) = routed.failure_report(route, NOT_ROUTED_YET) {
        let mut error = not_routed(route, report);
        if matches!(routed.wait_error, Some(fleet::WaitEnded::Stopped)) {
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
fn import_problem(
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
fn import_ids(id: &str) -> Result<BTreeSet<String>, Diagnostic> {
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

#[async_trait]
impl ResourceType for PhoneRoute {
    type Model = PhoneRouteModel;
    type Private = Private;
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
    /// still ran.
    async fn plan(&self, ctx: &CallContext, plan: &mut Plan<PhoneRouteModel, Private>) {
        plan.private.owner = owner_of(&plan.private, plan.prior.as_ref());
        let ids = match &plan.planned.phone_ids {
            Tf::Known(ids) => ids.clone(),
            // Some ids are known only at apply (another resource's output):
            // no phone is claimed yet (the apply's own plan, with every id
            // known, claims them); the plan keeps the configuration's
            // shape, and what apply learns is unknown.
            Tf::Partial(_) | Tf::Unknown => {
                plan.planned.plan_jobs_unknown();
                return;
            }
            Tf::Null => return,
        };
        if ids.len() > LARGE_ROUTE_PHONES {
            plan.diagnostics.push(large_route_warning(ids.len()));
        }
        let mut changed = plan.creates();
        if let Some(prior) = plan.prior.as_ref().filter(|_| !changed) {
            let retry =
                !unfinished_phones(prior, &ids).is_empty() || !plan.private.running.is_empty();
            if retry {
                plan.planned.plan_jobs_unknown();
            }
            changed =
                retry || ids != prior.phones() || plan.planned.traffic_type != prior.traffic_type;
        }
        let route = plan.planned.traffic_type.as_str().map(str::to_string);
        let id = plan
            .prior
            .as_ref()
            .and_then(|p| p.id.as_str())
            .map(str::to_string);
        let overlaps = self
            .shared
            .fleet()
            .plan_claim(
                &plan.private.owner,
                id.as_deref(),
                &ids,
                route.as_deref(),
                changed,
            )
            .await;
        for o in &overlaps {
            plan.diagnostics
                .push(overlap_diagnostic(o, route.as_deref()));
        }
        // Phones in the state exist (the refresh just saw them): only the
        // others are looked up.
        let added = match &plan.prior {
            Some(prior) => ids.difference(&prior.phones()).cloned().collect(),
            None => ids,
        };
        check_phones_exist(&self.shared, ctx, &added, "phone_ids", &mut plan.diagnostics).await;
    }

    async fn apply(
        &self,
        ctx: &CallContext,
        change: Change<PhoneRouteModel, Private>,
        diags: &mut Diagnostics,
    ) -> Applied<PhoneRouteModel, Private> {
        self.change(ctx, change, diags).await
    }

    /// Every phone goes back to the default route.
    async fn delete(
        &self,
        ctx: &CallContext,
        state: PhoneRouteModel,
        private: Private,
        diags: &mut Diagnostics,
    ) -> Applied<PhoneRouteModel, Private> {
        let mut ids = state.phones();
        let owner = owner_of(&private, Some(&state));
        let fleet = self.shared.fleet();
        // Phones an interrupted apply may have moved off `direct` go back too.
        let routed_elsewhere = private.running.values().any(|j| j.route != DEFAULT_ROUTE);
        if (state.route() == DEFAULT_ROUTE || ids.is_empty()) && !routed_elsewhere {
            fleet.forget(&owner);
            return Applied::new(None, Private::default());
        }
        let Some(client) = self.shared.client_or_report(ctx, diags) else {
            return Applied::new(Some(state), private);
        };
        let (deadline, _) = deadline(&state.timeout(|t| &t.delete), DEFAULT_TIMEOUT);
        let mut private = private;
        let recorded: Vec<String> = private.running.keys().cloned().collect();
        ids.extend(recorded);
        let back = await_recorded(fleet, &client, &owner, &mut private, deadline, &ctx.stop).await;
        ids.retain(|p| !back.contains(p));
        let ids: Vec<String> = ids.into_iter().collect();
        let done = release(fleet, &client, &owner, &ids, deadline, &ctx.stop).await;
        let outcome = done.outcome;
        fleet.forget(&owner);
        if let Some(why) = &outcome.refused {
            diags.push(credentials_refused(why));
            return Applied::new(Some(state), private);
        }
        let Some(report) = outcome.failure_report(DEFAULT_ROUTE, STILL_ROUTED_ON_DESTROY) else {
            return Applied::new(None, Private::default());
        };
        // Jobs still running towards `direct` are waited for by the next
        // apply or destroy, not sent again.
        for j in outcome.succeeded() {
            private.running.remove(&j);
        }
        private
            .running
            .extend(recorded_jobs(done.running, DEFAULT_ROUTE));
        // Keep the phones still routed, so a second destroy finishes the job.
        let back = outcome.succeeded();
        let mut state = state;
        state.phone_ids = Tf::Known(ids.into_iter().filter(|p| !back.contains(p)).collect());
        diags.push(Diagnostic::error(
            "Failed to return phones to the direct route",
            report,
        ));
        Applied::new(Some(state), private)
    }

    async fn read(
        &self,
        ctx: &CallContext,
        mut state: PhoneRouteModel,
        mut private: Private,
        diags: &mut Diagnostics,
    ) -> Applied<PhoneRouteModel, Private> {
        let Some(client) = self.shared.client_or_report(ctx, diags) else {
            return Applied::new(Some(state), private);
        };
        let ids = state.phones();
        let route = state.route();
        // Just imported, nothing seen yet: an adopted group's id names its server.
        if private.servers.is_empty()
            && let Some((server_id, _)) = state.id.as_str().and_then(parse_group_id)
        {
            private.servers.insert(server_id.to_string());
        }
        let found = match self
            .shared
            .read_phones(&client, &ids, &private.servers)
            .await
        {
            Ok(found) => found,
            Err(e) => {
                diags.push(api_error("read the routes of the cloud phones", &e));
                return Applied::new(Some(state), private);
            }
        };
        let mut on_route: BTreeSet<String> = found
            .values()
            .filter(|p| p.traffic_type == route)
            .map(|p| p.phone_id.clone())
            .collect();
        // A phone whose recorded job towards the route may still run stays:
        // the next apply waits for that job, and a destroy returns the phone.
        on_route.extend(
            private
                .running
                .iter()
                .filter(|(p, j)| j.route == route && ids.contains(*p))
                .map(|(p, _)| p.clone()),
        );
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
        state.phone_ids = Tf::Known(on_route);
        Applied::new(Some(state), private)
    }

    async fn import(
        &self,
        ctx: &CallContext,
        id: &str,
        diags: &mut Diagnostics,
    ) -> Vec<PhoneRouteModel> {
        let ids = match import_ids(id) {
            Ok(ids) => ids,
            Err(d) => {
                diags.push(d);
                return Vec::new();
            }
        };
        let Some(client) = self.shared.client_or_report(ctx, diags) else {
            return Vec::new();
        };
        let found = match self
            .shared
            .read_phones(&client, &ids, &BTreeSet::new())
            .await
        {
            Ok(found) => found,
            Err(e) => {
                diags.push(api_error("read the cloud phones", &e));
                return Vec::new();
            }
        };
        match import_problem(&ids, &found) {
            Ok(route) => {
                let mut state = PhoneRouteModel {
                    id: route_id(&ids).into(),
                    phone_ids: Tf::Known(ids),
                    traffic_type: route.into(),
                    ..Default::default()
                };
                state.set_jobs(&BTreeMap::new(), &BTreeMap::new());
                vec![state]
            }
            Err(d) => {
                diags.push(d);
                Vec::new()
            }
        }
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
        let id = identity.id.into_known().unwrap_or_default();
        let Some((server_id, route)) = parse_group_id(&id) else {
            diags.push(Diagnostic::error(
                "Invalid import identity",
                format!(
                    "Import cph_phone_route by identity with the id of a group `terraform query` listed, `<server_id>/<traffic_type>` (e.g. `a176d862/routing`); got {id:?}. A route Terraform created (`route-…`) is imported by its phone ids: `import {{ id = \"phone1,phone2\" }}`."
                ),
            ));
            return Vec::new();
        };
        let Some(client) = self.shared.client_or_report(ctx, diags) else {
            return Vec::new();
        };
        let phones = match self.shared.server_phones(&client, server_id).await {
            Ok(p) => p,
            Err(e) => {
                diags.push(api_error(
                    &format!("list the cloud phones of server {server_id}"),
                    &e,
                ));
                return Vec::new();
            }
        };
        let ids: BTreeSet<String> = phones
            .iter()
            .filter(|p| p.traffic_type == route)
            .map(|p| p.phone_id.clone())
            .collect();
        if ids.is_empty() {
            diags.push(Diagnostic::error(
                "No phones to import",
                format!(
                    "Server {server_id} has no cloud phone on route {route:?} (or does not exist)."
                ),
            ));
            return Vec::new();
        }
        vec![PhoneRouteModel::adopted(server_id, route, ids)]
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
    use crate::resources::schemas;

    fn resource() -> Arc<dyn Resource> {
        tf_framework::typed::resource(PhoneRoute::new(Arc::new(Shared::default())))
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
        let a = tf_framework::typed::resource(PhoneRoute::new(shared.clone()));
        let b = tf_framework::typed::resource(PhoneRoute::new(shared.clone()));
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

    #[tokio::test]
    async fn a_move_between_two_resources_is_not_an_overlap() {
        let shared = Arc::new(Shared::default());
        let a = tf_framework::typed::resource(PhoneRoute::new(shared.clone()));
        let b = tf_framework::typed::resource(PhoneRoute::new(shared.clone()));
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

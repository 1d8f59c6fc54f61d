//! The I/O of `cph_phone_route`: create, update and delete through the
//! fleet engine, read and import through the shared phone listings. Each
//! change runs with a [`RunContext`] (the engine, the client, the owner it
//! acts as, its deadline and Terraform's stop); what it does is decided in
//! [`plan`](super::plan).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::super::Shared;
use super::super::common::{api_error, deadline};
use super::super::routing::{JobStatus, RouteOutcome};
use super::model::{
    PhoneRouteIdentity, PhoneRouteModel, PhoneRoutePrivate, parse_group_id, route_id,
};
use super::plan::*;
use crate::cph::Client;
use crate::fleet::{self, DEFAULT_ROUTE, Fleet, RunningJob};
use tf_framework::typed::{Applied, Change};
use tf_framework::*;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// What every call of one change shares: the engine, the client, the owner
/// the resource is in the engine's claims, the change's deadline and
/// Terraform's stop.
pub(super) struct RunContext<'a> {
    pub fleet: &'a Fleet,
    pub client: Client,
    pub owner: String,
    pub deadline: Instant,
    pub stop: &'a CancellationToken,
}

impl RunContext<'_> {
    /// Routes (or releases) phones through the engine; see [`Fleet::change`].
    async fn send(&self, change: fleet::Change) -> fleet::ChangeOutcome {
        (self.fleet)
            .change(&self.client, change, self.deadline, self.stop)
            .await
    }

    /// Sends phones back to the default route through the fleet engine,
    /// except phones another resource claims in this run (nothing is sent
    /// for those another resource claims to `from_route`, the route they
    /// are on, when known); a phone that no longer exists counts as
    /// returned. The outcome carries the jobs it leaves running.
    async fn release(
        &self,
        phone_ids: &[String],
        from_route: Option<&str>,
    ) -> fleet::ChangeOutcome {
        let change = fleet::Change {
            owner: self.owner.clone(),
            route: DEFAULT_ROUTE.to_string(),
            phones: phone_ids.to_vec(),
            release: true,
            from_route: from_route.map(str::to_string),
            ..Default::default()
        };
        let mut done = self.send(change).await;
        done.outcome = done.outcome.gone_counts_as_released();
        done
    }

    /// Waits for the jobs an earlier apply left running (a phone has one job
    /// at a time, so a destroy sends `direct` after them); drops those that
    /// ended from `private`. Returns the phones whose job took them to
    /// `direct`.
    async fn await_recorded(&self, private: &mut PhoneRoutePrivate) -> BTreeSet<String> {
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
                owner: self.owner.clone(),
                route,
                running,
                ..Default::default()
            };
            let to_direct = change.route == DEFAULT_ROUTE;
            let done = self.send(change).await;
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
}

/// What a change's two halves came to: the phones sent to the route, and
/// the phones released to `direct`.
struct Sent {
    route: String,
    routed: RouteOutcome,
    released: RouteOutcome,
}

/// Claims the planned phones (before anything is sent, so that a release of
/// one of them by another resource in this run sends nothing), then sends
/// the moves: the claim's phones to their route and the dropped ones back
/// to `direct`, together. `private.running` is left with the jobs still
/// running.
async fn send_moves(
    run: &RunContext<'_>,
    m: &mut Moves,
    (recorded, elsewhere): (Vec<RunningJob>, Vec<(String, RunningJob)>),
    prior: Option<&PhoneRouteModel>,
    new_ids: &BTreeSet<String>,
    private: &mut PhoneRoutePrivate,
) -> Sent {
    let own_id = match prior {
        Some(p) => p.id.as_str().unwrap_or_default().to_string(),
        None => route_id(new_ids),
    };
    run.fleet.hold(&run.owner, Some(&own_id), new_ids, &m.route);
    let claim = fleet::Change {
        owner: run.owner.clone(),
        route: m.route.clone(),
        phones: std::mem::take(&mut m.to_route),
        release: false,
        running: recorded,
        elsewhere,
        from_route: None,
    };
    let from_route = prior.map(|p| p.route());
    let (routed, released) = tokio::join!(
        run.send(claim),
        run.release(&m.to_direct, from_route.as_deref())
    );
    let earlier = std::mem::take(&mut private.running);
    private.running = still_running(&routed, earlier, &m.route, new_ids);
    Sent {
        route: m.route.clone(),
        routed: routed.outcome,
        released: released.outcome,
    }
}

/// A create or update: claims the planned phones, sends the moves
/// [`decide`] makes, and records what is left running.
pub(super) async fn change(
    shared: &Shared,
    ctx: &CallContext,
    change: Change<PhoneRouteModel, PhoneRoutePrivate>,
    diags: &mut Diagnostics,
) -> Applied<PhoneRouteModel, PhoneRoutePrivate> {
    let Some(client) = shared.client_or_report(ctx, diags) else {
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
    let run = RunContext {
        fleet: shared.fleet(),
        client,
        owner,
        deadline,
        stop: &ctx.stop,
    };

    let new_ids = planned.phones();
    let sent = send_moves(
        &run,
        &mut m,
        (recorded, elsewhere),
        prior.as_ref(),
        &new_ids,
        &mut private,
    )
    .await;
    private
        .servers
        .extend(sent.routed.servers.values().cloned());
    let state = settled_state(
        prior.as_ref(),
        planned,
        m.kept,
        &sent.routed,
        &private.running,
    );
    if let Some(r) = (sent.routed.refused.as_ref()).or(sent.released.refused.as_ref()) {
        diags.push(refused(r));
        if prior.is_none() && sent.routed.succeeded().is_empty() && private.running.is_empty() {
            run.fleet.forget(&run.owner);
            return Applied::new(None, PhoneRoutePrivate::default());
        }
        return Applied::new(Some(state), private);
    }
    if prior.is_none() && sent.routed.failure_report(&sent.route, "").is_some() {
        return partly_created(&run, state, private, new_ids, &sent, diags);
    }
    report_failures(
        &sent.routed,
        &sent.released,
        &sent.route,
        prior.as_ref(),
        diags,
    );
    Applied::new(Some(state), private)
}

/// A create where some phones failed. Nothing on the route: no state
/// (nothing for a tainted replacement to undo). Otherwise a warning, not
/// an error (see [`RETRIED_NEXT`]), and the planned phones in state, the
/// failed ones marked in `jobs` for the next apply to send again.
fn partly_created(
    run: &RunContext<'_>,
    mut state: PhoneRouteModel,
    private: PhoneRoutePrivate,
    planned_ids: BTreeSet<String>,
    sent: &Sent,
    diags: &mut Diagnostics,
) -> Applied<PhoneRouteModel, PhoneRoutePrivate> {
    let (routed, route) = (&sent.routed, sent.route.as_str());
    if routed.succeeded().is_empty() && private.running.is_empty() {
        run.fleet.forget(&private.owner);
        report_failures(routed, &sent.released, route, None, diags);
        return Applied::new(None, PhoneRoutePrivate::default());
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

/// Every phone goes back to the default route.
pub(super) async fn delete(
    shared: &Shared,
    ctx: &CallContext,
    state: PhoneRouteModel,
    mut private: PhoneRoutePrivate,
    diags: &mut Diagnostics,
) -> Applied<PhoneRouteModel, PhoneRoutePrivate> {
    let mut ids = state.phones();
    let owner = owner_of(&private, Some(&state));
    let fleet = shared.fleet();
    // Phones an interrupted apply may have moved off `direct` go back too.
    let routed_elsewhere = private.running.values().any(|j| j.route != DEFAULT_ROUTE);
    if (state.route() == DEFAULT_ROUTE || ids.is_empty()) && !routed_elsewhere {
        fleet.forget(&owner);
        return Applied::new(None, PhoneRoutePrivate::default());
    }
    let Some(client) = shared.client_or_report(ctx, diags) else {
        return Applied::new(Some(state), private);
    };
    let (deadline, _) = deadline(&state.timeout(|t| &t.delete), DEFAULT_TIMEOUT);
    let run = RunContext {
        fleet,
        client,
        owner,
        deadline,
        stop: &ctx.stop,
    };
    let recorded: Vec<String> = private.running.keys().cloned().collect();
    ids.extend(recorded);
    let back = run.await_recorded(&mut private).await;
    ids.retain(|p| !back.contains(p));
    let ids: Vec<String> = ids.into_iter().collect();
    let done = run.release(&ids, None).await;
    let outcome = done.outcome;
    fleet.forget(&run.owner);
    if let Some(r) = &outcome.refused {
        diags.push(refused(r));
        return Applied::new(Some(state), private);
    }
    let Some(report) = outcome.failure_report(DEFAULT_ROUTE, STILL_ROUTED_ON_DESTROY) else {
        return Applied::new(None, PhoneRoutePrivate::default());
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

/// Reads each phone's route (through the listings of its servers) and keeps
/// in `phone_ids` those still on the route.
pub(super) async fn read(
    shared: &Shared,
    ctx: &CallContext,
    mut state: PhoneRouteModel,
    mut private: PhoneRoutePrivate,
    diags: &mut Diagnostics,
) -> Applied<PhoneRouteModel, PhoneRoutePrivate> {
    let Some(client) = shared.client_or_report(ctx, diags) else {
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
    let found = match shared.read_phones(&client, &ids, &private.servers).await {
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

/// Imports phones by their ids: they must exist and share one route.
pub(super) async fn import(
    shared: &Shared,
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
    let Some(client) = shared.client_or_report(ctx, diags) else {
        return Vec::new();
    };
    let found = match shared.read_phones(&client, &ids, &BTreeSet::new()).await {
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

/// Finds an adopted group again: the phones of its server on its route.
pub(super) async fn import_by_identity(
    shared: &Shared,
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
    let Some(client) = shared.client_or_report(ctx, diags) else {
        return Vec::new();
    };
    let phones = match shared.server_phones(&client, server_id).await {
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

//! `cph_server_flavor`: the flavor of an existing cloud phone server, changed
//! in place through `change-server-model` and waited for until the server
//! shows it.
//!
//! An order that has been placed but not seen through (timeout, Ctrl-C, a
//! lost connection while waiting) is remembered in the resource's private
//! state, so the next apply waits for that order instead of placing another.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::Shared;
use super::common::{MAX_NAME_BYTES, api_error, api_error_at, cph_id, deadline};
use crate::cph::models::{ChangeServerModelRequest, ExtendParam, Server};
use crate::cph::{self, Client, waiters};
use crate::fleet::catalogue::{Catalogue, Pair, Refusal};
use crate::fleet::orders::{Follow, FollowError, OrderFate, bss_unreadable_warning};
use tf_framework::typed::{Applied, Change, Plan, ResourceType};
use tf_framework::*;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20 * 60);

tf_framework::model! {
    /// How long create and update wait for the server to show its flavors.
    pub struct FlavorTimeouts {
        create: String = optional("How long to wait for create, e.g. \"30m\".").validate(duration()),
        update: String = optional("How long to wait for update, e.g. \"30m\".").validate(duration()),
    }
}

tf_framework::model! {
    /// The configuration and state of `cph_server_flavor`.
    pub struct ServerFlavorModel {
        id: String = computed("Same as `server_id`.").keep_state(),
        server_id: String = required("Id of the cloud phone server. Changing it forces a new resource.")
            .requires_replace()
            .validate(cph_id()),
        server_model_name: String = required("Target server flavor, e.g. `physical.rx1.xlarge.special` (same generation).")
            .validate(not_blank())
            .validate(max_bytes(MAX_NAME_BYTES)),
        phone_model_name: String = required("Target phone flavor, e.g. `rx1.cp.sp.c105.d8.e5v5` (same phone count).")
            .validate(not_blank())
            .validate(max_bytes(MAX_NAME_BYTES)),
        auto_pay: bool = optional("Pay an upgrade automatically (`extend_param.is_auto_pay`). Without it an upgrade waits for manual payment."),
        order_id: String = computed("Order of the last flavor change.")
            .keep_state_unless(&["server_model_name", "phone_model_name"]),
        product_id: String = computed("Product of the last flavor change.")
            .keep_state_unless(&["server_model_name", "phone_model_name"]),
        status: i64 = computed("Server status code (5 = normal).")
            .keep_state_unless(&["server_model_name", "phone_model_name"]),
        original_server_model_name: String = computed("Server flavor before Terraform first managed it.").keep_state(),
        original_phone_model_name: String = computed("Phone flavor before Terraform first managed it.").keep_state(),
        timeouts: FlavorTimeouts = block(),
    }
}

tf_framework::model! {
    /// The identity of a `cph_server_flavor`: its server, which it keeps for
    /// life (a different server is a new resource).
    pub struct ServerFlavorIdentity {
        server_id: String = required("Id of the cloud phone server."),
    }
}

impl ServerFlavorModel {
    /// The state of a server's flavor as listed or imported: what the server
    /// shows now, nothing ordered yet.
    pub fn of_server(server: &Server) -> ServerFlavorModel {
        let mut m = ServerFlavorModel::default();
        m.refresh_from(server);
        m.timeouts = Tf::Null;
        m
    }

    /// Writes what the server detail says; the originals only once.
    fn refresh_from(&mut self, server: &Server) {
        self.id = server.server_id.as_str().into();
        self.server_id = server.server_id.as_str().into();
        self.server_model_name = server.server_model_name.as_str().into();
        self.phone_model_name = server.phone_model_name.as_str().into();
        self.status = Tf::Known(server.status.into());
        if !self.original_server_model_name.is_known() {
            self.original_server_model_name = server.server_model_name.as_str().into();
        }
        if !self.original_phone_model_name.is_known() {
            self.original_phone_model_name = server.phone_model_name.as_str().into();
        }
    }

    fn target(&self) -> Target {
        Target {
            server_model_name: self
                .server_model_name
                .as_str()
                .unwrap_or_default()
                .to_string(),
            phone_model_name: self
                .phone_model_name
                .as_str()
                .unwrap_or_default()
                .to_string(),
        }
    }
}

/// The flavors a change aims at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Target {
    server_model_name: String,
    phone_model_name: String,
}

impl Target {
    fn shown_by(&self, server: &Server) -> bool {
        server.server_model_name == self.server_model_name
            && server.phone_model_name == self.phone_model_name
    }
}

/// An order placed by this resource and not yet seen applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PendingOrder {
    order_id: String,
    #[serde(flatten)]
    target: Target,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Private {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pending_order: Option<PendingOrder>,
}

pub struct ServerFlavor {
    shared: Arc<Shared>,
    /// Pending orders seen in this process, by server id, for a replacement
    /// of the same server. Terraform taints a create that failed (timed out
    /// or interrupted while waiting for its order) and replaces it in the next
    /// apply, and a replacement is planned and created without private state.
    /// So the pending order travels: the refresh of the tainted instance
    /// (plan) leaves it here, the plan of its replacement puts it into the
    /// planned private state, Terraform hands that to the destroy half (apply),
    /// which leaves it here again for the create half to wait for it.
    handed_over: Mutex<BTreeMap<String, PendingOrder>>,
}

impl ServerFlavor {
    pub fn new(shared: Arc<Shared>) -> ServerFlavor {
        ServerFlavor {
            shared,
            handed_over: Mutex::new(BTreeMap::new()),
        }
    }

    fn handed_over(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, PendingOrder>> {
        self.handed_over.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What an apply does about the flavor, decided from the server's detail.
#[derive(Debug, PartialEq)]
enum Step {
    /// The server shows the target and runs normally.
    Nothing,
    /// Wait for this order (empty: the server shows the target but is busy).
    Wait(String),
    /// Place an order.
    Order,
}

fn decide(server: &Server, target: &Target, pending: Option<&PendingOrder>) -> Step {
    let shown = target.shown_by(server);
    if shown && server.status == cph::models::SERVER_STATUS_NORMAL {
        return Step::Nothing;
    }
    match pending.filter(|p| p.target == *target) {
        Some(p) => Step::Wait(p.order_id.clone()),
        None if shown => Step::Wait(String::new()),
        None => Step::Order,
    }
}

/// A create or update carried out: the state to record and why it failed.
struct Outcome {
    state: ServerFlavorModel,
    private: Private,
}

impl Outcome {
    fn applied(self) -> Applied<ServerFlavorModel, Private> {
        Applied::new(Some(self.state), self.private)
    }
}

impl ServerFlavor {
    async fn change(
        &self,
        ctx: &CallContext,
        change: Change<ServerFlavorModel, Private>,
        diags: &mut Diagnostics,
    ) -> Applied<ServerFlavorModel, Private> {
        let creating = change.prior.is_none();
        let (client, server, mut outcome) = match self.prepare(ctx, &change).await {
            Ok(ready) => ready,
            Err(d) => {
                diags.push(d);
                return Applied::new(change.prior, change.private);
            }
        };
        let planned = change.planned;
        let target = planned.target();
        let mut warnings = Vec::new();
        self.forget_gone_order(&client, &mut outcome.private, &mut warnings)
            .await;
        let order_id = match start_order(&client, &server, &target, &planned, &mut outcome).await {
            Ok(Some(order_id)) => order_id,
            Ok(None) => return outcome.applied(),
            Err(d) => {
                diags.push(d);
                return outcome.applied();
            }
        };
        let which = if creating { "create" } else { "update" };
        self.follow(
            ctx,
            &client,
            &planned,
            &order_id,
            which,
            &mut outcome,
            &mut warnings,
            diags,
        )
        .await;
        outcome.applied()
    }

    /// The client, the server's detail and the state to build on: on
    /// create, nothing is recorded until the server is known to exist; a
    /// pending order handed over by a replaced instance is taken over.
    async fn prepare(
        &self,
        ctx: &CallContext,
        change: &Change<ServerFlavorModel, Private>,
    ) -> Result<(Client, Server, Outcome), Diagnostic> {
        let client = self.shared.client(ctx)?;
        let planned = &change.planned;
        let server_id = planned.server_id.as_str().unwrap_or_default();
        let server = client
            .show_server(server_id)
            .await
            .map_err(|e| server_error(server_id, &e))?;
        let mut private = Private {
            pending_order: change.private.pending_order.clone(),
        };
        if let Some(pending) = self.handed_over().remove(server_id)
            && change.prior.is_none()
            && private.pending_order.is_none()
        {
            private.pending_order = Some(pending);
        }
        let mut state = change.prior.clone().unwrap_or_else(|| ServerFlavorModel {
            id: planned.id.clone(),
            server_id: planned.server_id.clone(),
            ..Default::default()
        });
        state.auto_pay = planned.auto_pay.clone();
        state.timeouts = planned.timeouts.clone();
        state.refresh_from(&server);
        Ok((client, server, Outcome { state, private }))
    }

    /// Follows the order until the server shows the target flavors, and
    /// records what became of it.
    #[allow(clippy::too_many_arguments)]
    async fn follow(
        &self,
        ctx: &CallContext,
        client: &Client,
        planned: &ServerFlavorModel,
        order_id: &str,
        which: &str,
        outcome: &mut Outcome,
        warnings: &mut Vec<String>,
        diags: &mut Diagnostics,
    ) {
        let target = planned.target();
        let timeouts = planned.timeouts.known().cloned().unwrap_or_default();
        let limit = if which == "create" {
            &timeouts.create
        } else {
            &timeouts.update
        };
        let (deadline, timeout) = deadline(limit, DEFAULT_TIMEOUT);
        let follow = Follow {
            server_id: planned.server_id.as_str().unwrap_or_default(),
            server_model_name: &target.server_model_name,
            phone_model_name: &target.phone_model_name,
            order_id: outcome
                .private
                .pending_order
                .as_ref()
                .map(|p| p.order_id.as_str())
                .filter(|id| *id == order_id),
            auto_pay: planned.auto_pay.known() == Some(&true),
            deadline,
        };
        let followed = self
            .shared
            .fleet()
            .orders()
            .follow(client, &follow, &ctx.stop, warnings)
            .await;
        for w in warnings.drain(..) {
            diags.push(Diagnostic::warning("Order not followed through BSS", w));
        }
        match followed {
            Ok(server) => {
                outcome.state.refresh_from(&server);
                outcome.private.pending_order = None;
            }
            // The server still shows its old flavors: the state says so, with
            // the order, so the next plan shows the change still to come and
            // the next apply waits for this order rather than placing another
            // (unless BSS says the order is over: then it is forgotten).
            Err(FollowError::Wait(e)) => diags.push(Diagnostic::error(
                "Flavor change not completed",
                wait_failure(&e, order_id, which, timeout),
            )),
            Err(e) => {
                if e.order_is_over() {
                    outcome.private.pending_order = None;
                }
                diags.push(Diagnostic::error(
                    "Flavor change not completed",
                    e.message(),
                ));
            }
        }
    }
}

/// Decides what the apply does about the flavor and starts it: the order id
/// to follow, None when nothing is left to do, or why the order failed.
async fn start_order(
    client: &Client,
    server: &Server,
    target: &Target,
    planned: &ServerFlavorModel,
    outcome: &mut Outcome,
) -> Result<Option<String>, Diagnostic> {
    let server_id = server.server_id.as_str();
    match decide(server, target, outcome.private.pending_order.as_ref()) {
        Step::Nothing => {
            tracing::info!(
                server_id,
                "server already has the target flavors; nothing ordered"
            );
            outcome.private.pending_order = None;
            Ok(None)
        }
        Step::Wait(order_id) => {
            tracing::info!(
                server_id,
                order_id,
                "waiting for the order placed by an earlier apply"
            );
            if !order_id.is_empty() {
                outcome.state.order_id = order_id.as_str().into();
            }
            Ok(Some(order_id))
        }
        Step::Order => place_order(client, server_id, target, planned, outcome)
            .await
            .map(Some),
    }
}

/// Plan checks and order following (issue [I]): the target checked against
/// the catalogue at plan, an order BSS says is gone forgotten at apply.
impl ServerFlavor {
    /// Checks a flavor change against the catalogue and the server's
    /// current flavors when everything is known: an unknown server flavor, a
    /// phone flavor not sold on it or withdrawn, or another phone capacity
    /// is an error naming the attribute; an upgrade without `auto_pay` is a
    /// warning. What cannot be read (server, catalogue) is a warning and the
    /// plan goes on; the API judges at apply.
    async fn check_target(&self, ctx: &CallContext, plan: &mut Plan<ServerFlavorModel, Private>) {
        let planned = &plan.planned;
        let (Some(server_id), Some(server_model), Some(phone_model)) = (
            planned.server_id.as_str(),
            planned.server_model_name.as_str(),
            planned.phone_model_name.as_str(),
        ) else {
            return;
        };
        let changes_flavor = plan.creates()
            || plan.prior.as_ref().is_none_or(|p| {
                p.server_model_name.as_str() != Some(server_model)
                    || p.phone_model_name.as_str() != Some(phone_model)
            });
        if !changes_flavor {
            return;
        }
        // Not configured (e.g. provider settings unknown until apply): no checks.
        let Ok(client) = self.shared.client(ctx) else {
            return;
        };
        let server = match client.show_server(server_id).await {
            Ok(s) => s,
            // A missing server is judged where the server is read.
            Err(e) if e.is_not_found() => return,
            Err(e) => {
                plan.diagnostics.push(
                    Diagnostic::warning(
                        "Flavor change not checked",
                        format!("Server {server_id} could not be read, so the target flavors are not checked at plan: {e}"),
                    )
                    .at(AttributePath::root("server_id")),
                );
                return;
            }
        };
        if server.server_model_name == server_model && server.phone_model_name == phone_model {
            return;
        }
        let catalogue = match self.shared.fleet().catalogue().get(&client).await {
            Ok(c) => c,
            Err(why) => {
                plan.diagnostics.push(Diagnostic::warning(
                    "Flavor catalogue not readable",
                    format!(
                        "The flavor catalogue (server-models, phone-models) could not be read, so \
                         {server_model} / {phone_model} is not checked at plan; CPH judges it when \
                         the order is placed. {why}"
                    ),
                ));
                return;
            }
        };
        let current = catalogue.pair(&server.server_model_name, &server.phone_model_name);
        match catalogue.check(current.as_ref(), server_model, phone_model) {
            Err(refusal) => plan.diagnostics.push(
                Diagnostic::error(
                    refusal_summary(&refusal),
                    format!(
                        "{} {}",
                        refusal_detail(&refusal, &server, server_model, phone_model),
                        valid_targets(&catalogue, current.as_ref(), &server)
                    ),
                )
                .at(AttributePath::root(refusal.attribute())),
            ),
            Ok(()) => {
                let upgrade = current
                    .as_ref()
                    .zip(catalogue.pair(server_model, phone_model));
                if upgrade.is_some_and(|(from, to)| to.is_upgrade_from(from))
                    && planned.auto_pay.known() != Some(&true)
                {
                    plan.diagnostics.push(
                        Diagnostic::warning(
                            "Upgrade waits for payment",
                            format!(
                                "{server_model} / {phone_model} is an upgrade of server {server_id} \
                                 (now {} / {}). Without auto_pay = true the order waits, pending \
                                 payment, until it is paid in the Huawei Cloud console; the apply \
                                 waits for it until its timeout.",
                                server.server_model_name, server.phone_model_name
                            ),
                        )
                        .at(AttributePath::root("auto_pay")),
                    );
                }
            }
        }
    }

    /// Forgets the recorded order when BSS says it was cancelled or does
    /// not exist, so that this apply orders again instead of waiting for an
    /// order that will never come. Why BSS could not be asked goes to
    /// `warnings`.
    async fn forget_gone_order(
        &self,
        client: &Client,
        private: &mut Private,
        warnings: &mut Vec<String>,
    ) {
        let Some(pending) = &private.pending_order else {
            return;
        };
        match self
            .shared
            .fleet()
            .orders()
            .fate(client, &pending.order_id)
            .await
        {
            Ok(fate) if fate.is_gone() => {
                tracing::info!(
                    order_id = pending.order_id,
                    "the recorded order was cancelled or is unknown to BSS; ordering again"
                );
                private.pending_order = None;
            }
            Ok(OrderFate::Unreadable(why)) => {
                warnings.push(bss_unreadable_warning(&pending.order_id, &why));
            }
            _ => {}
        }
    }
}

fn refusal_summary(r: &Refusal) -> &'static str {
    match r {
        Refusal::UnknownServerFlavor => "Unknown server flavor",
        Refusal::NotSold => "Phone flavor not sold on this server flavor",
        Refusal::Withdrawn => "Phone flavor withdrawn",
        Refusal::Capacity { .. } => "Phone flavor of another phone capacity",
    }
}

fn refusal_detail(r: &Refusal, server: &Server, server_model: &str, phone_model: &str) -> String {
    match r {
        Refusal::UnknownServerFlavor => format!(
            "server_model_name {server_model:?} is not a server flavor of the CPH catalogue."
        ),
        Refusal::NotSold => format!(
            "phone_model_name {phone_model:?} is not sold on server flavor {server_model:?}."
        ),
        Refusal::Withdrawn => format!(
            "phone_model_name {phone_model:?} is withdrawn (status 0) on server flavor {server_model:?}."
        ),
        Refusal::Capacity { target, current } => format!(
            "phone_model_name {phone_model:?} holds {target} phones per server, but server {} \
             now holds {current} ({} / {}): a flavor change keeps the phone capacity.",
            server.server_id, server.server_model_name, server.phone_model_name
        ),
    }
}

/// The valid targets of a server, for error messages.
fn valid_targets(catalogue: &Catalogue, current: Option<&Pair<'_>>, server: &Server) -> String {
    let Some(current) = current else {
        return format!(
            "The catalogue does not list the server's current flavors {} / {}, so no valid targets can be named.",
            server.server_model_name, server.phone_model_name
        );
    };
    let targets = catalogue.targets_from(current);
    if targets.is_empty() {
        return format!(
            "Server {} ({} / {}) has no other flavors to change to.",
            server.server_id, server.server_model_name, server.phone_model_name
        );
    }
    let list: Vec<String> = targets
        .iter()
        .map(|t| format!("  - {}", t.describe()))
        .collect();
    format!(
        "Valid targets for server {} (now {} / {}):\n{}\n(data source cph_server_flavor_options lists them).",
        server.server_id,
        server.server_model_name,
        server.phone_model_name,
        list.join("\n")
    )
}

/// Places the order; the order id to wait for, or why it failed.
async fn place_order(
    client: &Client,
    server_id: &str,
    target: &Target,
    planned: &ServerFlavorModel,
    outcome: &mut Outcome,
) -> Result<String, Diagnostic> {
    let order = ChangeServerModelRequest {
        server_id: server_id.to_string(),
        server_model_name: target.server_model_name.clone(),
        phone_model_name: target.phone_model_name.clone(),
        extend_param: planned.auto_pay.known().map(|pay| ExtendParam {
            is_auto_pay: Some(if *pay { 1 } else { 0 }),
        }),
    };
    match client.change_server_model(&order).await {
        Ok(resp) => {
            tracing::info!(server_id, order_id = resp.order_id, "flavor change ordered");
            outcome.state.order_id = resp.order_id.as_str().into();
            outcome.state.product_id = resp.product_id.as_str().into();
            outcome.private.pending_order = Some(PendingOrder {
                order_id: resp.order_id.clone(),
                target: target.clone(),
            });
            Ok(resp.order_id)
        }
        // An order placed earlier (say, one whose answer was lost on the
        // way) is still running: wait for it rather than fail, and let the
        // wait tell whether it reaches the target.
        Err(e) if e.is_order_in_progress() => {
            tracing::info!(server_id, "an order is already in progress; waiting for it");
            Ok(String::from("(already in progress)"))
        }
        Err(e) => {
            let mut d = api_error_at(
                &format!(
                    "change the flavor of server {server_id} to {} / {}",
                    target.server_model_name, target.phone_model_name
                ),
                &e,
                AttributePath::root("server_model_name"),
            );
            if matches!(e, cph::Error::Transport { .. }) {
                // No answer: the order may have been placed all the same.
                d.detail.push_str(
                    "\nThe request may have reached CPH before the connection failed. \
                     If an order was placed, the next apply waits for it: CPH refuses \
                     a second flavor change while one is in progress.",
                );
            }
            Err(d)
        }
    }
}

/// Why a wait for an order ended without the target flavors.
fn wait_failure(e: &cph::Error, order_id: &str, which: &str, timeout: Duration) -> String {
    match e {
        cph::Error::Timeout(msg) => format!(
            "{msg}. The order {order_id} stays recorded; the next apply waits for it without ordering again. \
             An upgrade without auto_pay waits for payment in the console. Raise timeouts.{which} (now {}) if the change needs longer.",
            waiters::go_duration(timeout),
        ),
        cph::Error::Cancelled => format!(
            "Stopped while waiting for order {order_id}; it stays recorded and the next apply waits for it without ordering again."
        ),
        other => format!("While waiting for order {order_id}: {other}"),
    }
}

fn server_error(server_id: &str, e: &cph::Error) -> Diagnostic {
    if e.is_not_found() {
        Diagnostic::error(
            "Cloud phone server not found",
            format!("Server {server_id:?} does not exist in this project: {e}"),
        )
        .at(AttributePath::root("server_id"))
    } else {
        api_error_at(
            "read the cloud phone server",
            e,
            AttributePath::root("server_id"),
        )
    }
}

/// A change whose order was placed by an earlier apply only waits for it:
/// the plan shows that order and its product, not values to be learned.
fn keep_order_ids_when_only_waiting(plan: &mut Plan<ServerFlavorModel, Private>) {
    let (Some(prior), Some(pending)) = (&plan.prior, &plan.private.pending_order) else {
        return;
    };
    if pending.target == plan.planned.target() && prior.order_id.as_str() == Some(&pending.order_id)
    {
        plan.planned.order_id = prior.order_id.clone();
        plan.planned.product_id = prior.product_id.clone();
    }
}

#[async_trait]
impl ResourceType for ServerFlavor {
    type Model = ServerFlavorModel;
    type Private = Private;
    type Identity = ServerFlavorIdentity;
    const TYPE_NAME: &'static str = "cph_server_flavor";
    const DESCRIPTION: &'static str =
        "The flavor of an existing cloud phone server, changed in place.";

    async fn plan(&self, ctx: &CallContext, plan: &mut Plan<ServerFlavorModel, Private>) {
        self.check_target(ctx, plan).await;
        if !plan.creates() {
            keep_order_ids_when_only_waiting(plan);
            return;
        }
        plan.planned.id = plan.planned.server_id.clone();
        if plan.prior.is_none()
            && let Some(server_id) = plan.planned.server_id.as_str()
            && let Some(pending) = self.handed_over().get(server_id)
        {
            plan.private.pending_order = Some(pending.clone());
        }
    }

    async fn apply(
        &self,
        ctx: &CallContext,
        change: Change<ServerFlavorModel, Private>,
        diags: &mut Diagnostics,
    ) -> Applied<ServerFlavorModel, Private> {
        self.change(ctx, change, diags).await
    }

    /// The server keeps its flavor; Terraform only forgets it. An order
    /// still pending goes to a create of the same server that follows.
    async fn delete(
        &self,
        _ctx: &CallContext,
        state: ServerFlavorModel,
        private: Private,
        _diags: &mut Diagnostics,
    ) -> Applied<ServerFlavorModel, Private> {
        if let (Some(pending), Some(server_id)) = (private.pending_order, state.server_id.as_str())
        {
            tracing::info!(
                server_id,
                order_id = pending.order_id,
                "forgetting the server with an order pending; a replacement waits for it"
            );
            self.handed_over().insert(server_id.to_string(), pending);
        }
        Applied::new(None, Private::default())
    }

    async fn read(
        &self,
        ctx: &CallContext,
        mut state: ServerFlavorModel,
        mut private: Private,
        diags: &mut Diagnostics,
    ) -> Applied<ServerFlavorModel, Private> {
        let Some(client) = self.shared.client_or_report(ctx, diags) else {
            return Applied::new(Some(state), private);
        };
        let server_id = state
            .server_id
            .as_str()
            .or(state.id.as_str())
            .unwrap_or_default()
            .to_string();
        match client.show_server(&server_id).await {
            Ok(server) => {
                state.refresh_from(&server);
                if private
                    .pending_order
                    .as_ref()
                    .is_some_and(|p| p.target.shown_by(&server))
                {
                    private.pending_order = None;
                }
                if let Some(p) = &private.pending_order {
                    self.handed_over()
                        .insert(server.server_id.clone(), p.clone());
                }
                Applied::new(Some(state), private)
            }
            Err(e) if e.is_not_found() => {
                tracing::info!(server_id, "server no longer exists; removing it from state");
                Applied::new(None, Private::default())
            }
            Err(e) => {
                diags.push(api_error(
                    &format!("read cloud phone server {server_id}"),
                    &e,
                ));
                Applied::new(Some(state), private)
            }
        }
    }

    async fn import(
        &self,
        _ctx: &CallContext,
        id: &str,
        diags: &mut Diagnostics,
    ) -> Vec<ServerFlavorModel> {
        let id = id.trim();
        if cph_id().problem(id).is_some() {
            diags.push(Diagnostic::error(
                "Invalid import id",
                format!("Import cph_server_flavor by the id of one cloud phone server, e.g. `terraform import cph_server_flavor.this a176d8625981453bbafbc0a321d8d6a1`; got {id:?}."),
            ));
            return Vec::new();
        }
        vec![ServerFlavorModel {
            id: id.into(),
            server_id: id.into(),
            ..Default::default()
        }]
    }

    fn identity(&self, state: &ServerFlavorModel) -> Option<ServerFlavorIdentity> {
        Some(ServerFlavorIdentity {
            server_id: state.server_id.clone(),
        })
    }

    async fn import_by_identity(
        &self,
        ctx: &CallContext,
        identity: ServerFlavorIdentity,
        diags: &mut Diagnostics,
    ) -> Vec<ServerFlavorModel> {
        let server_id = identity.server_id.into_known().unwrap_or_default();
        self.import(ctx, &server_id, diags).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::schemas;
    use tf_framework::typed::{decode_private, encode_private};

    fn config(server: &str, sm: &str, pm: &str) -> Value {
        let mut v = schemas::server_flavor().block.null_object();
        v.set_attr("server_id", Value::string(server));
        v.set_attr("server_model_name", Value::string(sm));
        v.set_attr("phone_model_name", Value::string(pm));
        v
    }

    fn resource() -> Arc<dyn Resource> {
        tf_framework::typed::resource(ServerFlavor::new(Arc::new(Shared::default())))
    }

    #[test]
    fn validation_names_each_bad_attribute() {
        let d = resource().validate(&config("", &"x".repeat(65), "ok"));
        let paths: Vec<_> =
            d.0.iter()
                .map(|d| d.attribute.clone().unwrap().to_string())
                .collect();
        assert_eq!(paths, vec!["server_id", "server_model_name"]);
    }

    #[tokio::test]
    async fn create_plan_leaves_outcome_unknown() {
        let cfg = config("s1", "a", "b");
        let resp = resource()
            .plan(
                &CallContext::default(),
                PlanRequest {
                    prior_state: Value::Null,
                    proposed_new_state: cfg.clone(),
                    config: cfg,
                    prior_private: vec![],
                    ..Default::default()
                },
            )
            .await;
        assert_eq!(resp.planned_state.get("id"), Some(&Value::string("s1")));
        assert_eq!(resp.planned_state.get("order_id"), Some(&Value::Unknown));
        assert!(resp.requires_replace.is_empty());
    }

    #[tokio::test]
    async fn flavor_change_is_in_place_and_server_change_replaces() {
        let mut prior = config("s1", "a", "b");
        prior.set_attr("order_id", Value::string("CS1"));
        let cfg = config("s1", "a2", "b2");
        let mut proposed = cfg.clone();
        proposed.set_attr("order_id", Value::string("CS1"));
        let resp = resource()
            .plan(
                &CallContext::default(),
                PlanRequest {
                    prior_state: prior.clone(),
                    proposed_new_state: proposed,
                    config: cfg,
                    prior_private: vec![],
                    ..Default::default()
                },
            )
            .await;
        assert!(resp.requires_replace.is_empty());
        assert_eq!(resp.planned_state.get("order_id"), Some(&Value::Unknown));

        let cfg = config("s2", "a", "b");
        let resp = resource()
            .plan(
                &CallContext::default(),
                PlanRequest {
                    prior_state: prior,
                    proposed_new_state: cfg.clone(),
                    config: cfg,
                    prior_private: vec![],
                    ..Default::default()
                },
            )
            .await;
        assert_eq!(
            resp.requires_replace,
            vec![AttributePath::root("server_id")]
        );
    }

    #[tokio::test]
    async fn unchanged_plan_keeps_recorded_values() {
        let mut prior = config("s1", "a", "b");
        prior.set_attr("order_id", Value::string("CS1"));
        let resp = resource()
            .plan(
                &CallContext::default(),
                PlanRequest {
                    prior_state: prior.clone(),
                    proposed_new_state: prior.clone(),
                    config: prior.clone(),
                    prior_private: vec![],
                    ..Default::default()
                },
            )
            .await;
        assert_eq!(resp.planned_state, prior);
    }

    #[tokio::test]
    async fn import_refuses_malformed_ids() {
        for bad in ["", "a,b", "has space", &"x".repeat(65)] {
            let r = resource().import(&CallContext::default(), bad).await;
            assert!(r.diagnostics.has_errors(), "{bad:?}");
        }
        let r = resource().import(&CallContext::default(), "s1").await;
        assert_eq!(r.states[0].get_str("server_id"), Some("s1"));
    }

    #[tokio::test]
    async fn a_pending_order_reaches_the_replacement_of_a_tainted_instance() {
        let r = resource();
        let pending = PendingOrder {
            order_id: "CS1".into(),
            target: Target {
                server_model_name: "a2".into(),
                phone_model_name: "b2".into(),
            },
        };
        // Apply walk: the destroy half gets the plan's private state...
        let private = encode_private(&Private {
            pending_order: Some(pending.clone()),
        });
        let resp = r
            .apply(
                &CallContext::default(),
                ApplyRequest {
                    prior_state: config("s1", "a", "b"),
                    planned_state: Value::Null,
                    config: Value::Null,
                    planned_private: private,
                    ..Default::default()
                },
            )
            .await;
        assert!(resp.new_state.is_null());
        // ...and (as the refresh does in the plan walk) leaves the order for
        // the plan of a create of the same server.
        let cfg = config("s1", "a2", "b2");
        let plan = r
            .plan(
                &CallContext::default(),
                PlanRequest {
                    prior_state: Value::Null,
                    proposed_new_state: cfg.clone(),
                    config: cfg,
                    prior_private: vec![],
                    ..Default::default()
                },
            )
            .await;
        assert_eq!(
            decode_private::<Private>(&plan.planned_private)
                .unwrap()
                .pending_order,
            Some(pending)
        );
        let other = config("s2", "a2", "b2");
        let plan = r
            .plan(
                &CallContext::default(),
                PlanRequest {
                    prior_state: Value::Null,
                    proposed_new_state: other.clone(),
                    config: other,
                    prior_private: vec![],
                    ..Default::default()
                },
            )
            .await;
        assert!(plan.planned_private.is_empty(), "only for the same server");
    }

    #[tokio::test]
    async fn a_plan_that_only_waits_for_the_recorded_order_keeps_its_ids() {
        let mut prior = config("s1", "a", "b");
        prior.set_attr("order_id", Value::string("CS1"));
        prior.set_attr("product_id", Value::string("P1"));
        let cfg = config("s1", "a2", "b2");
        let mut proposed = cfg.clone();
        proposed.set_attr("order_id", Value::string("CS1"));
        proposed.set_attr("product_id", Value::string("P1"));
        let pending = |order: &str, sm: &str| {
            encode_private(&Private {
                pending_order: Some(PendingOrder {
                    order_id: order.into(),
                    target: Target {
                        server_model_name: sm.into(),
                        phone_model_name: "b2".into(),
                    },
                }),
            })
        };
        let plan = |private: Vec<u8>| PlanRequest {
            prior_state: prior.clone(),
            proposed_new_state: proposed.clone(),
            config: cfg.clone(),
            prior_private: private,
            ..Default::default()
        };
        let r = resource();
        let waits = r
            .plan(&CallContext::default(), plan(pending("CS1", "a2")))
            .await;
        assert_eq!(waits.planned_state.get_str("order_id"), Some("CS1"));
        assert_eq!(waits.planned_state.get_str("product_id"), Some("P1"));
        // Another target means a new order: its ids are not known yet.
        let orders = r
            .plan(&CallContext::default(), plan(pending("CS1", "a3")))
            .await;
        assert_eq!(orders.planned_state.get("order_id"), Some(&Value::Unknown));
    }

    #[test]
    fn private_state_round_trips() {
        let p = Private {
            pending_order: Some(PendingOrder {
                order_id: "CS1".into(),
                target: Target {
                    server_model_name: "a".into(),
                    phone_model_name: "b".into(),
                },
            }),
        };
        assert_eq!(
            decode_private::<Private>(&encode_private(&p))
                .unwrap()
                .pending_order,
            p.pending_order
        );
        assert!(encode_private(&Private::default()).is_empty());
        assert!(decode_private::<Private>(b"garbage").is_err());
    }
}

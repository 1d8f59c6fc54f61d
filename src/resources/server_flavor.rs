//! `cph_server_flavor`: the flavor of an existing cloud phone server, changed
//! in place through `change-server-model` and waited for until the server
//! shows it.
//!
//! The resource declares the model and its behaviour and turns the
//! engine's answers into diagnostics. The order lifecycle (what an apply
//! does, an order kept pending past a timeout or Ctrl-C, the history a
//! replacement inherits) lives in `fleet::flavor_orders`, the catalogue
//! check in `fleet::flavor_check`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::Shared;
use super::common::{MAX_NAME_BYTES, api_error, api_error_at, cph_id, deadline};
use crate::cph::{self, models::Server};
use crate::fleet::flavor_check::{self, Proposed, Severity};
use crate::fleet::flavor_orders::{
    ChangeFailure, ChangeReport, Deadline, FlavorChange, Flavors, History, OrderBook, OrderIds,
    OrderState, PendingOrder,
};
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

    fn target(&self) -> Flavors {
        let name = |v: &Tf<String>| v.as_str().unwrap_or_default().to_string();
        Flavors {
            server_model_name: name(&self.server_model_name),
            phone_model_name: name(&self.phone_model_name),
        }
    }

    /// What this instance knows beyond the server's flavors, for its
    /// replacement (see `fleet::flavor_orders`).
    fn history(&self, pending: Option<&PendingOrder>) -> Option<History> {
        let ids = |v: &Tf<String>| v.as_str().map(str::to_string);
        Some(History {
            server_id: self.server_id.as_str()?.to_string(),
            original: Flavors {
                server_model_name: self.original_server_model_name.as_str()?.to_string(),
                phone_model_name: self.original_phone_model_name.as_str()?.to_string(),
            },
            last_order: OrderIds {
                order_id: ids(&self.order_id),
                product_id: ids(&self.product_id),
            },
            pending: pending.cloned(),
        })
    }

    /// A created instance starts from the history of the one it replaces.
    fn inherit(&mut self, history: &History) {
        self.original_server_model_name = history.original.server_model_name.as_str().into();
        self.original_phone_model_name = history.original.phone_model_name.as_str().into();
        self.record_order(&history.last_order);
    }

    fn record_order(&mut self, ids: &OrderIds) {
        if let Some(id) = &ids.order_id {
            self.order_id = id.as_str().into();
        }
        if let Some(id) = &ids.product_id {
            self.product_id = id.as_str().into();
        }
    }
}

/// The private state: the order still pending, and in a plan that creates,
/// the history of the instance it replaces.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Private {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pending_order: Option<PendingOrder>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    history: Option<History>,
}

pub struct ServerFlavor {
    shared: Arc<Shared>,
}

impl ServerFlavor {
    pub fn new(shared: Arc<Shared>) -> ServerFlavor {
        ServerFlavor { shared }
    }

    fn book(&self) -> &OrderBook {
        self.shared.fleet().flavor_orders()
    }

    /// The catalogue check of a plan that changes the flavors, once
    /// everything is known and the provider is configured.
    async fn check_target(&self, ctx: &CallContext, plan: &mut Plan<ServerFlavorModel, Private>) {
        let planned = &plan.planned;
        let target = planned.target();
        let unchanged = plan.prior.as_ref().is_some_and(|p| p.target() == target);
        let (Some(server_id), true, true) = (
            planned.server_id.as_str(),
            planned.server_model_name.is_known() && planned.phone_model_name.is_known(),
            plan.creates() || !unchanged,
        ) else {
            return;
        };
        let Ok(client) = self.shared.client(ctx) else {
            return;
        };
        let proposed = Proposed {
            server_id,
            target: &target,
            auto_pay: planned.auto_pay.known() == Some(&true),
        };
        let catalogue = self.shared.fleet().catalogue();
        if let Some(f) = flavor_check::check(catalogue, &client, &proposed).await {
            let d = match f.severity {
                Severity::Error => Diagnostic::error(f.summary, f.detail),
                Severity::Warning => Diagnostic::warning(f.summary, f.detail),
            };
            plan.diagnostics.push(match f.attribute {
                Some(a) => d.at(AttributePath::root(a)),
                None => d,
            });
        }
    }

    /// The state a create starts from: the history of the instance it
    /// replaces (from the plan, or left by its destroy half), if any.
    fn inherited(
        &self,
        server_id: &str,
        private: Private,
    ) -> (ServerFlavorModel, Option<PendingOrder>) {
        let mut fresh = ServerFlavorModel::default();
        let released = self.book().take_released(server_id);
        let found = History::for_plan(private.history, server_id).or(released);
        let Some(h) = found else {
            return (fresh, private.pending_order);
        };
        fresh.inherit(&h);
        (fresh, private.pending_order.or(h.pending))
    }

    /// A create or update: the state to build on (a create inherits the
    /// history of the instance it replaces), then the engine's change.
    async fn change(
        &self,
        ctx: &CallContext,
        change: Change<ServerFlavorModel, Private>,
        diags: &mut Diagnostics,
    ) -> Applied<ServerFlavorModel, Private> {
        let planned = change.planned;
        let server_id = planned.server_id.as_str().unwrap_or_default();
        let client = match self.shared.client(ctx) {
            Ok(c) => c,
            Err(d) => return failed(diags, d, change.prior, change.private),
        };
        let server = match client.show_server(server_id).await {
            Ok(s) => s,
            Err(e) => {
                return failed(
                    diags,
                    server_error(server_id, &e),
                    change.prior,
                    change.private,
                );
            }
        };
        let (mut state, pending) = match change.prior.clone() {
            Some(prior) => (prior, change.private.pending_order),
            None => self.inherited(server_id, change.private),
        };
        state.auto_pay = planned.auto_pay.clone();
        state.timeouts = planned.timeouts.clone();
        state.refresh_from(&server);
        let timeouts = planned.timeouts.known().cloned().unwrap_or_default();
        let (limit, setting) = match change.prior {
            None => (&timeouts.create, "timeouts.create"),
            Some(_) => (&timeouts.update, "timeouts.update"),
        };
        let (at, length) = deadline(limit, DEFAULT_TIMEOUT);
        let request = FlavorChange {
            server,
            target: planned.target(),
            auto_pay: planned.auto_pay.known().copied(),
            state: OrderState::from_recorded(pending),
            deadline: Deadline {
                at,
                length,
                setting,
            },
        };
        let report = self.book().carry_out(&client, request, &ctx.stop).await;
        record(&mut state, &report, diags);
        let private = Private {
            pending_order: report.state.into_recorded(),
            history: None,
        };
        Applied::new(Some(state), private)
    }
}

fn failed(
    diags: &mut Diagnostics,
    d: Diagnostic,
    prior: Option<ServerFlavorModel>,
    private: Private,
) -> Applied<ServerFlavorModel, Private> {
    diags.push(d);
    Applied::new(prior, private)
}

/// Records what the engine's change did: the server's detail, the order,
/// and why it failed.
fn record(state: &mut ServerFlavorModel, report: &ChangeReport, diags: &mut Diagnostics) {
    state.refresh_from(&report.server);
    if let Some(ids) = &report.order {
        state.record_order(ids);
    }
    for w in &report.warnings {
        diags.push(Diagnostic::warning("Order not followed through BSS", w));
    }
    match &report.failure {
        None => {}
        Some(ChangeFailure::Follow(why)) => {
            diags.push(Diagnostic::error("Flavor change not completed", why));
        }
        Some(ChangeFailure::Order(e)) => {
            let target = state.target();
            let mut d = api_error_at(
                &format!(
                    "change the flavor of server {} to {} / {}",
                    report.server.server_id, target.server_model_name, target.phone_model_name
                ),
                e,
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
            diags.push(d);
        }
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

    /// The catalogue check; a plan with a prior state carries its history
    /// in the planned private state, a create finds the history of the
    /// instance it replaces (`fleet::flavor_orders`, T3 to T5).
    async fn plan(&self, ctx: &CallContext, plan: &mut Plan<ServerFlavorModel, Private>) {
        self.check_target(ctx, plan).await;
        let server_id = plan
            .planned
            .server_id
            .as_str()
            .unwrap_or_default()
            .to_string();
        plan.private.history = match &plan.prior {
            Some(prior) => prior.history(plan.private.pending_order.as_ref()),
            None => History::for_plan(plan.private.history.take(), &server_id)
                .or_else(|| self.book().for_replacement(&server_id)),
        };
        if !plan.creates() {
            keep_order_ids_when_only_waiting(plan);
            return;
        }
        plan.planned.id = plan.planned.server_id.clone();
    }

    async fn apply(
        &self,
        ctx: &CallContext,
        change: Change<ServerFlavorModel, Private>,
        diags: &mut Diagnostics,
    ) -> Applied<ServerFlavorModel, Private> {
        self.change(ctx, change, diags).await
    }

    /// The server keeps its flavor; Terraform only forgets it. Its history
    /// goes to a create of the same server that follows (T5).
    async fn delete(
        &self,
        _ctx: &CallContext,
        state: ServerFlavorModel,
        private: Private,
        _diags: &mut Diagnostics,
    ) -> Applied<ServerFlavorModel, Private> {
        // The destroy half of a tainted instance's replacement gets the
        // plan's private state: the pending order is in its history (T3).
        let pending = private
            .pending_order
            .or(private.history.and_then(|h| h.pending));
        if let Some(h) = state.history(pending.as_ref()) {
            self.book().released(h);
        }
        Applied::new(None, Private::default())
    }

    /// Refreshes the flavors; the order settles once the server shows its
    /// target. The history is left for a replacement planned next (T2).
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
        let server_id = state.server_id.as_str().or(state.id.as_str());
        let server_id = server_id.unwrap_or_default().to_string();
        match client.show_server(&server_id).await {
            Ok(server) => {
                state.refresh_from(&server);
                let order = OrderState::from_recorded(private.pending_order.take());
                private.pending_order = order.refreshed(&server).into_recorded();
                if let Some(h) = state.history(private.pending_order.as_ref()) {
                    self.book().refreshed(h);
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
                    target: Flavors {
                        server_model_name: sm.into(),
                        phone_model_name: "b2".into(),
                    },
                }),
                history: None,
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
                target: Flavors {
                    server_model_name: "a".into(),
                    phone_model_name: "b".into(),
                },
            }),
            history: None,
        };
        let back = decode_private::<Private>(&encode_private(&p));
        assert_eq!(back.pending_order, p.pending_order);
        assert!(encode_private(&Private::default()).is_empty());
        assert!(
            decode_private::<Private>(b"garbage")
                .pending_order
                .is_none()
        );
    }

    /// T4: the second plan of a forced replacement (null prior, the first
    /// plan's private state) keeps the history, for the same server only.
    #[tokio::test]
    async fn a_replacement_plan_carries_the_history_of_the_same_server() {
        let mut prior = config("s1", "a", "b");
        prior.set_attr("original_server_model_name", Value::string("a0"));
        prior.set_attr("original_phone_model_name", Value::string("b0"));
        prior.set_attr("order_id", Value::string("CS1"));
        let plan = |prior: &Value, cfg: Value, private: Vec<u8>| PlanRequest {
            prior_state: prior.clone(),
            proposed_new_state: cfg.clone(),
            config: cfg,
            prior_private: private,
            ..Default::default()
        };
        let (r, ctx) = (resource(), CallContext::default());
        let first = r.plan(&ctx, plan(&prior, prior.clone(), vec![])).await;
        let carried = decode_private::<Private>(&first.planned_private).history;
        let carried = carried.expect("a plan with a prior state carries its history");
        assert_eq!(carried.original.server_model_name, "a0");
        assert_eq!(carried.last_order.order_id.as_deref(), Some("CS1"));
        let cfg = config("s1", "a", "b");
        let second = r
            .plan(&ctx, plan(&Value::Null, cfg, first.planned_private.clone()))
            .await;
        let kept = decode_private::<Private>(&second.planned_private).history;
        assert_eq!(kept, Some(carried));
        let other = config("s2", "a", "b");
        let moved = r
            .plan(&ctx, plan(&Value::Null, other, first.planned_private))
            .await;
        assert!(
            moved.planned_private.is_empty(),
            "another server: no history"
        );
    }
}

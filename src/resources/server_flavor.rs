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

use super::Shared;
use super::common::{
    MAX_NAME_BYTES, api_error, cph_id, deadline, finding, import_server_id, server_error,
};
use crate::cph::models::Server;
use crate::fleet::flavor_check::{self, Proposed};
use crate::fleet::flavor_orders::{
    Carried, Deadline, FlavorChange, Flavors, OrderBook, OrderIds, Record,
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
        let (mut m, mut r) = (ServerFlavorModel::default(), Record::default());
        r.refresh(server);
        m.write(&r);
        m.timeouts = Tf::Null;
        m
    }

    fn target(&self) -> Flavors {
        let name = |v: &Tf<String>| v.as_str().unwrap_or_default().to_string();
        Flavors {
            server_model_name: name(&self.server_model_name),
            phone_model_name: name(&self.phone_model_name),
        }
    }

    /// What the state records of the server (`fleet::flavor_orders`).
    fn record(&self) -> Record {
        let text = |v: &Tf<String>| v.as_str().map(str::to_string);
        let pair = |s, p| {
            let (server_model_name, phone_model_name) = (text(s)?, text(p)?);
            Some(Flavors {
                server_model_name,
                phone_model_name,
            })
        };
        Record {
            server_id: text(&self.server_id).unwrap_or_default(),
            shown: pair(&self.server_model_name, &self.phone_model_name).unwrap_or_default(),
            status: self.status.known().copied().unwrap_or_default(),
            original: pair(
                &self.original_server_model_name,
                &self.original_phone_model_name,
            ),
            last_order: OrderIds {
                order_id: text(&self.order_id),
                product_id: text(&self.product_id),
            },
        }
    }

    fn write(&mut self, r: &Record) {
        let text = |v: &Option<String>| v.as_deref().map_or(Tf::Null, Tf::from);
        (self.id, self.server_id) = (r.server_id.as_str().into(), r.server_id.as_str().into());
        self.server_model_name = r.shown.server_model_name.as_str().into();
        self.phone_model_name = r.shown.phone_model_name.as_str().into();
        self.status = Tf::Known(r.status);
        if let Some(o) = &r.original {
            self.original_server_model_name = o.server_model_name.as_str().into();
            self.original_phone_model_name = o.phone_model_name.as_str().into();
        }
        self.order_id = text(&r.last_order.order_id);
        self.product_id = text(&r.last_order.product_id);
    }

    /// How long this create or update may wait.
    fn deadline(&self, creating: bool) -> Deadline {
        let timeouts = self.timeouts.known().cloned().unwrap_or_default();
        let (limit, setting) = match creating {
            true => (timeouts.create, "timeouts.create"),
            false => (timeouts.update, "timeouts.update"),
        };
        Deadline::after(deadline(&limit, DEFAULT_TIMEOUT).1, setting)
    }
}

/// The private state: the order lifecycle's (`fleet::flavor_orders`).
pub type ServerFlavorPrivate = Carried;

pub struct ServerFlavorResource {
    shared: Arc<Shared>,
}

impl ServerFlavorResource {
    pub fn new(shared: Arc<Shared>) -> ServerFlavorResource {
        ServerFlavorResource { shared }
    }

    fn book(&self) -> &OrderBook {
        self.shared.fleet().flavor_orders()
    }

    /// The check of a plan that creates the resource or changes the
    /// flavors, once `server_id` is known and the provider is configured:
    /// the server exists, and the target flavors (when known) pass the
    /// catalogue (`fleet::flavor_check`). Reads only. A server deleted out
    /// of band left the state at refresh, so its plan is a create: a
    /// warning, where a new resource's missing server is an error.
    async fn check_target(
        &self,
        ctx: &CallContext,
        plan: &mut Plan<ServerFlavorModel, ServerFlavorPrivate>,
    ) {
        let (planned, target) = (&plan.planned, plan.planned.target());
        let unchanged = plan.prior.as_ref().is_some_and(|p| p.target() == target);
        let known = planned.server_model_name.is_known() && planned.phone_model_name.is_known();
        let (Some(server_id), true, Ok(client)) = (
            planned.server_id.as_str(),
            plan.creates() || (known && !unchanged),
            self.shared.client(ctx),
        ) else {
            return;
        };
        let proposed = Proposed {
            server_id,
            target: known.then_some(&target),
            auto_pay: planned.auto_pay.known() == Some(&true),
            vanished: plan.prior.is_none() && self.book().has_vanished(server_id),
        };
        let catalogue = self.shared.fleet().catalogue();
        if let Some(f) = flavor_check::check(catalogue, &client, &proposed).await {
            plan.diagnostics.push(finding(f));
        }
    }

    /// A create or update: the state to build on, then the engine's change.
    async fn change(
        &self,
        ctx: &CallContext,
        change: Change<ServerFlavorModel, ServerFlavorPrivate>,
        diags: &mut Diagnostics,
    ) -> Result<Applied<ServerFlavorModel, ServerFlavorPrivate>, Diagnostic> {
        let planned = change.planned;
        let server_id = planned.server_id.as_str().unwrap_or_default();
        let client = self.shared.client(ctx)?;
        let server = client
            .show_server(server_id)
            .await
            .map_err(|e| server_error(server_id, &e))?;
        let prior = change.prior.as_ref().map(ServerFlavorModel::record);
        let (mut record, state) = self.book().starting_point(prior, server_id, change.private);
        record.refresh(&server);
        let request = FlavorChange {
            server,
            target: planned.target(),
            auto_pay: planned.auto_pay.known().copied(),
            state,
            deadline: planned.deadline(change.prior.is_none()),
        };
        let report = self.book().carry_out(&client, request, &ctx.stop).await;
        record.refresh(&report.server);
        if let Some(ids) = &report.order {
            record.record_order(ids);
        }
        let mut state = change.prior.unwrap_or_default();
        state.write(&record);
        state.auto_pay = planned.auto_pay.clone();
        state.timeouts = planned.timeouts.clone();
        diags.0.extend(report.findings.into_iter().map(finding));
        Ok(Applied::new(
            Some(state),
            ServerFlavorPrivate::of(report.state),
        ))
    }
}

#[async_trait]
impl ResourceType for ServerFlavorResource {
    type Model = ServerFlavorModel;
    type Private = ServerFlavorPrivate;
    type Identity = ServerFlavorIdentity;
    const TYPE_NAME: &'static str = "cph_server_flavor";
    const DESCRIPTION: &'static str =
        "The flavor of an existing cloud phone server, changed in place.";

    /// The catalogue check; a plan with a prior state carries its history
    /// in the planned private state, a create finds the history of the
    /// instance it replaces (`fleet::flavor_orders`, T3 to T5).
    async fn plan(
        &self,
        ctx: &CallContext,
        plan: &mut Plan<ServerFlavorModel, ServerFlavorPrivate>,
    ) {
        self.check_target(ctx, plan).await;
        let (prior, server_id) = (plan.prior.as_ref(), plan.planned.server_id.as_str());
        let prior = prior.map(ServerFlavorModel::record);
        (self.book()).plan_history(prior.as_ref(), server_id, &mut plan.private);
        match &plan.prior {
            _ if plan.creates() => plan.planned.id = plan.planned.server_id.clone(),
            // Only waiting for the order placed by an earlier apply: the
            // plan shows that order and its product.
            Some(prior)
                if plan
                    .private
                    .only_waits(&plan.planned.target(), &prior.record()) =>
            {
                plan.planned.order_id = prior.order_id.clone();
                plan.planned.product_id = prior.product_id.clone();
            }
            _ => {}
        }
    }

    async fn apply(
        &self,
        ctx: &CallContext,
        change: Change<ServerFlavorModel, ServerFlavorPrivate>,
        diags: &mut Diagnostics,
    ) -> Applied<ServerFlavorModel, ServerFlavorPrivate> {
        let (prior, pending) = (change.prior.clone(), change.private.pending_order.clone());
        match self.change(ctx, change, diags).await {
            Ok(applied) => applied,
            Err(d) => {
                diags.push(d);
                Applied::new(prior, ServerFlavorPrivate::from_recorded(pending))
            }
        }
    }

    /// The server keeps its flavor; Terraform only forgets it. Its history
    /// goes to a create of the same server that follows (T5).
    async fn delete(
        &self,
        _ctx: &CallContext,
        state: ServerFlavorModel,
        private: ServerFlavorPrivate,
        _diags: &mut Diagnostics,
    ) -> Applied<ServerFlavorModel, ServerFlavorPrivate> {
        if let Some(h) = state.record().history(private.pending()) {
            self.book().released(h);
        }
        Applied::new(None, ServerFlavorPrivate::default())
    }

    /// Refreshes the flavors; the order settles once the server shows its
    /// target. The history stays for a replacement planned next (T2).
    async fn read(
        &self,
        ctx: &CallContext,
        mut state: ServerFlavorModel,
        mut private: ServerFlavorPrivate,
        diags: &mut Diagnostics,
    ) -> Applied<ServerFlavorModel, ServerFlavorPrivate> {
        let Some(client) = self.shared.client_or_report(ctx, diags) else {
            return Applied::new(Some(state), private);
        };
        let server_id = state.server_id.as_str().or(state.id.as_str());
        let server_id = server_id.unwrap_or_default().to_string();
        match client.show_server(&server_id).await {
            Ok(server) => {
                let (mut record, pending) = (state.record(), private.pending_order.take());
                private.pending_order = self.book().refresh(&mut record, pending, &server);
                state.write(&record);
                Applied::new(Some(state), private)
            }
            Err(e) if e.is_not_found() => {
                tracing::info!(server_id, "server no longer exists; removing it from state");
                self.book().vanished(&server_id);
                Applied::new(None, ServerFlavorPrivate::default())
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
        _: &CallContext,
        id: &str,
        diags: &mut Diagnostics,
    ) -> Vec<ServerFlavorModel> {
        let Some(id) = import_server_id(ServerFlavorResource::TYPE_NAME, id, diags) else {
            return Vec::new();
        };
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

    fn config(server: &str, sm: &str, pm: &str) -> Value {
        let mut v = schemas::server_flavor().block.null_object();
        v.set_attr("server_id", Value::string(server));
        v.set_attr("server_model_name", Value::string(sm));
        v.set_attr("phone_model_name", Value::string(pm));
        v
    }

    fn resource() -> Arc<dyn Resource> {
        tf_framework::typed::resource(ServerFlavorResource::new(Arc::new(Shared::default())))
    }

    /// A plan of `r` from `prior` (Null: a create) to `proposed`, whose
    /// configuration is `cfg`.
    async fn plan(
        r: &Arc<dyn Resource>,
        prior: &Value,
        (proposed, cfg): (&Value, &Value),
        private: Vec<u8>,
    ) -> PlanResponse {
        let req = PlanRequest {
            prior_state: prior.clone(),
            proposed_new_state: proposed.clone(),
            config: cfg.clone(),
            prior_private: private,
            ..Default::default()
        };
        r.plan(&CallContext::default(), req).await
    }

    fn with(mut v: Value, attrs: &[(&str, &str)]) -> Value {
        attrs
            .iter()
            .for_each(|(k, x)| v.set_attr(k, Value::string(*x)));
        v
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
        let resp = plan(&resource(), &Value::Null, (&cfg, &cfg), vec![]).await;
        assert_eq!(resp.planned_state.get("id"), Some(&Value::string("s1")));
        assert_eq!(resp.planned_state.get("order_id"), Some(&Value::Unknown));
        assert!(resp.requires_replace.is_empty());
    }

    #[tokio::test]
    async fn flavor_change_is_in_place_and_server_change_replaces() {
        let (r, prior) = (
            resource(),
            with(config("s1", "a", "b"), &[("order_id", "CS1")]),
        );
        let cfg = config("s1", "a2", "b2");
        let proposed = with(cfg.clone(), &[("order_id", "CS1")]);
        let resp = plan(&r, &prior, (&proposed, &cfg), vec![]).await;
        assert!(resp.requires_replace.is_empty());
        assert_eq!(resp.planned_state.get("order_id"), Some(&Value::Unknown));

        let cfg = config("s2", "a", "b");
        let resp = plan(&r, &prior, (&cfg, &cfg), vec![]).await;
        assert_eq!(
            resp.requires_replace,
            vec![AttributePath::root("server_id")]
        );
    }

    #[tokio::test]
    async fn unchanged_plan_keeps_recorded_values() {
        let prior = with(config("s1", "a", "b"), &[("order_id", "CS1")]);
        let resp = plan(&resource(), &prior, (&prior, &prior), vec![]).await;
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
}

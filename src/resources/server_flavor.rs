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

use super::common::{api_error, api_error_at, deadline, validate_name, validate_timeouts};
use super::{Shared, schemas};
use crate::cph::models::{ChangeServerModelRequest, ExtendParam, Server};
use crate::cph::{self, waiters};
use tf_framework::*;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20 * 60);
const MAX_NAME_BYTES: usize = 64;

/// An order placed by this resource and not yet seen applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PendingOrder {
    order_id: String,
    server_model_name: String,
    phone_model_name: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Private {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pending_order: Option<PendingOrder>,
}

impl Private {
    fn decode(bytes: &[u8]) -> Private {
        serde_json::from_slice(bytes).unwrap_or_default()
    }
    fn encode(&self) -> Vec<u8> {
        if self.pending_order.is_none() {
            Vec::new()
        } else {
            serde_json::to_vec(self).unwrap_or_default()
        }
    }
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
}

/// Writes what the server detail says into a state object.
fn refresh_from(state: &mut Value, server: &Server) {
    state.set_attr("id", Value::string(&server.server_id));
    state.set_attr("server_id", Value::string(&server.server_id));
    state.set_attr(
        "server_model_name",
        Value::string(&server.server_model_name),
    );
    state.set_attr("phone_model_name", Value::string(&server.phone_model_name));
    state.set_attr("status", Value::Number(Number::Int(server.status.into())));
    if state
        .get("original_server_model_name")
        .is_none_or(Value::is_null)
    {
        state.set_attr(
            "original_server_model_name",
            Value::string(&server.server_model_name),
        );
    }
    if state
        .get("original_phone_model_name")
        .is_none_or(Value::is_null)
    {
        state.set_attr(
            "original_phone_model_name",
            Value::string(&server.phone_model_name),
        );
    }
}

fn has_flavors(server: &Server, server_model: &str, phone_model: &str) -> bool {
    server.server_model_name == server_model && server.phone_model_name == phone_model
}

#[async_trait]
impl Resource for ServerFlavor {
    fn type_name(&self) -> &'static str {
        "cph_server_flavor"
    }

    fn schema(&self) -> Schema {
        schemas::server_flavor()
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        validate_name(config, "server_id", MAX_NAME_BYTES, &mut diags);
        validate_name(config, "server_model_name", MAX_NAME_BYTES, &mut diags);
        validate_name(config, "phone_model_name", MAX_NAME_BYTES, &mut diags);
        validate_timeouts(config, &["create", "update"], &mut diags);
        diags
    }

    async fn plan(&self, _ctx: &CallContext, req: PlanRequest) -> PlanResponse {
        let mut planned = req.proposed_new_state;
        let mut resp = PlanResponse {
            planned_private: req.prior_private,
            ..Default::default()
        };
        let prior = &req.prior_state;
        let unknown_outcome = |p: &mut Value| {
            for attr in ["order_id", "product_id", "status"] {
                p.set_attr(attr, Value::Unknown);
            }
        };
        if prior.is_null() {
            if let Some(server_id) = planned.get_str("server_id")
                && let Some(pending) = self
                    .handed_over
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get(server_id)
            {
                resp.planned_private = Private {
                    pending_order: Some(pending.clone()),
                }
                .encode();
            }
            let id = planned.get("server_id").cloned().unwrap_or(Value::Unknown);
            planned.set_attr("id", id);
            unknown_outcome(&mut planned);
            planned.set_attr("original_server_model_name", Value::Unknown);
            planned.set_attr("original_phone_model_name", Value::Unknown);
        } else if planned.get("server_id") != prior.get("server_id") {
            resp.requires_replace.push(AttributePath::root("server_id"));
            planned.set_attr(
                "id",
                planned.get("server_id").cloned().unwrap_or(Value::Unknown),
            );
            unknown_outcome(&mut planned);
            planned.set_attr("original_server_model_name", Value::Unknown);
            planned.set_attr("original_phone_model_name", Value::Unknown);
        } else if planned.get("server_model_name") != prior.get("server_model_name")
            || planned.get("phone_model_name") != prior.get("phone_model_name")
        {
            unknown_outcome(&mut planned);
        }
        resp.planned_state = planned;
        resp
    }

    async fn apply(&self, ctx: &CallContext, req: ApplyRequest) -> ApplyResponse {
        if req.planned_state.is_null() {
            // The server keeps its flavor; Terraform only forgets it. An order
            // still pending goes to a create of the same server that follows.
            if let (Some(pending), Some(server_id)) = (
                Private::decode(&req.planned_private).pending_order,
                req.prior_state.get_str("server_id"),
            ) {
                tracing::info!(
                    server_id,
                    order_id = pending.order_id,
                    "forgetting the server with an order pending; a replacement waits for it"
                );
                self.handed_over
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(server_id.to_string(), pending);
            }
            return ApplyResponse {
                new_state: Value::Null,
                ..Default::default()
            };
        }
        let creating = req.prior_state.is_null();
        let client = match self.shared.client(ctx) {
            Ok(c) => c,
            Err(diagnostics) => {
                return ApplyResponse {
                    new_state: req.prior_state,
                    diagnostics,
                    ..Default::default()
                };
            }
        };
        let planned = req.planned_state;
        let server_id = planned.get_str("server_id").unwrap_or_default().to_string();
        let target_server = planned
            .get_str("server_model_name")
            .unwrap_or_default()
            .to_string();
        let target_phone = planned
            .get_str("phone_model_name")
            .unwrap_or_default()
            .to_string();
        let mut private = Private::decode(&req.planned_private);
        if let Some(pending) = self
            .handed_over
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&server_id)
            && creating
            && private.pending_order.is_none()
        {
            private.pending_order = Some(pending);
        }
        let (deadline, timeout) = deadline(
            &planned,
            if creating { "create" } else { "update" },
            DEFAULT_TIMEOUT,
        );

        // The state to return from here on: on create, nothing is recorded
        // until the server is known to exist.
        let mut state = if creating {
            planned.clone()
        } else {
            req.prior_state.clone()
        };
        for attr in ["auto_pay", "timeouts"] {
            state.set_attr(attr, planned.get(attr).cloned().unwrap_or(Value::Null));
        }
        let fail = |state: Value, private: &Private, diag: Diagnostic| ApplyResponse {
            new_state: state,
            private: private.encode(),
            diagnostics: diag.into(),
        };

        let server = match client.show_server(&server_id).await {
            Ok(s) => s,
            Err(e) if e.is_not_found() => {
                let d = Diagnostic::error(
                    "Cloud phone server not found",
                    format!("Server {server_id:?} does not exist in this project: {e}"),
                )
                .at(AttributePath::root("server_id"));
                return fail(
                    if creating {
                        Value::Null
                    } else {
                        req.prior_state
                    },
                    &private,
                    d,
                );
            }
            Err(e) => {
                let d = api_error_at(
                    "read the cloud phone server",
                    &e,
                    AttributePath::root("server_id"),
                );
                return fail(
                    if creating {
                        Value::Null
                    } else {
                        req.prior_state
                    },
                    &private,
                    d,
                );
            }
        };
        if creating {
            for attr in ["order_id", "product_id"] {
                state.set_attr(attr, Value::Null);
            }
            state.set_attr("original_server_model_name", Value::Null);
            state.set_attr("original_phone_model_name", Value::Null);
        }
        refresh_from(&mut state, &server);

        if has_flavors(&server, &target_server, &target_phone)
            && server.status == cph::models::SERVER_STATUS_NORMAL
        {
            tracing::info!(
                server_id,
                "server already has the target flavors; nothing ordered"
            );
            private.pending_order = None;
            fill_unknown_outcome(&mut state);
            return ApplyResponse {
                new_state: state,
                private: private.encode(),
                ..Default::default()
            };
        }

        let pending = private
            .pending_order
            .clone()
            .filter(|p| p.server_model_name == target_server && p.phone_model_name == target_phone);
        let order_id = match pending {
            Some(p) => {
                tracing::info!(
                    server_id,
                    order_id = p.order_id,
                    "waiting for the order placed by an earlier apply"
                );
                state.set_attr("order_id", Value::string(&p.order_id));
                p.order_id
            }
            None if has_flavors(&server, &target_server, &target_phone) => String::new(),
            None => {
                let order = ChangeServerModelRequest {
                    server_id: server_id.clone(),
                    server_model_name: target_server.clone(),
                    phone_model_name: target_phone.clone(),
                    extend_param: planned.get_bool("auto_pay").map(|pay| ExtendParam {
                        is_auto_pay: Some(if pay { 1 } else { 0 }),
                    }),
                };
                match client.change_server_model(&order).await {
                    Ok(resp) => {
                        tracing::info!(
                            server_id,
                            order_id = resp.order_id,
                            "flavor change ordered"
                        );
                        state.set_attr("order_id", Value::string(&resp.order_id));
                        state.set_attr("product_id", Value::string(&resp.product_id));
                        private.pending_order = Some(PendingOrder {
                            order_id: resp.order_id.clone(),
                            server_model_name: target_server.clone(),
                            phone_model_name: target_phone.clone(),
                        });
                        resp.order_id
                    }
                    // An order placed earlier (say, one whose answer was lost on the
                    // way) is still running: wait for it rather than fail, and let
                    // the wait tell whether it reaches the target.
                    Err(e) if e.is_order_in_progress() => {
                        tracing::info!(
                            server_id,
                            "an order is already in progress; waiting for it"
                        );
                        String::from("(already in progress)")
                    }
                    Err(e) => {
                        fill_unknown_outcome(&mut state);
                        let mut d = api_error_at(
                            &format!(
                                "change the flavor of server {server_id} to {target_server} / {target_phone}"
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
                        return fail(state, &private, d);
                    }
                }
            }
        };

        match waiters::wait_for_flavor(
            &client,
            &server_id,
            &target_server,
            &target_phone,
            &order_id,
            deadline,
            &ctx.stop,
        )
        .await
        {
            Ok(server) => {
                refresh_from(&mut state, &server);
                private.pending_order = None;
                fill_unknown_outcome(&mut state);
                ApplyResponse {
                    new_state: state,
                    private: private.encode(),
                    ..Default::default()
                }
            }
            Err(e) => {
                // The server still shows its old flavors: record that, with the
                // order, so the next plan shows the change still to come and the
                // next apply waits for this order rather than placing another.
                fill_unknown_outcome(&mut state);
                let detail = match &e {
                    cph::Error::Timeout(msg) => format!(
                        "{msg}. The order {order_id} stays recorded; the next apply waits for it without ordering again. \
                         An upgrade without auto_pay waits for payment in the console. Raise timeouts.{} (now {}) if the change needs longer.",
                        if creating { "create" } else { "update" },
                        waiters::go_duration(timeout),
                    ),
                    cph::Error::Cancelled => format!(
                        "Stopped while waiting for order {order_id}; it stays recorded and the next apply waits for it without ordering again."
                    ),
                    other => format!("While waiting for order {order_id}: {other}"),
                };
                fail(
                    state,
                    &private,
                    Diagnostic::error("Flavor change not completed", detail),
                )
            }
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
        let server_id = state
            .get_str("server_id")
            .or_else(|| state.get_str("id"))
            .unwrap_or_default()
            .to_string();
        let mut private = Private::decode(&req.private);
        match client.show_server(&server_id).await {
            Ok(server) => {
                refresh_from(&mut state, &server);
                if let Some(p) = &private.pending_order
                    && has_flavors(&server, &p.server_model_name, &p.phone_model_name)
                {
                    private.pending_order = None;
                }
                if let Some(p) = &private.pending_order {
                    self.handed_over
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(server.server_id.clone(), p.clone());
                }
                ReadResponse {
                    new_state: state,
                    private: private.encode(),
                    ..Default::default()
                }
            }
            Err(e) if e.is_not_found() => {
                tracing::info!(server_id, "server no longer exists; removing it from state");
                ReadResponse {
                    new_state: Value::Null,
                    ..Default::default()
                }
            }
            Err(e) => ReadResponse {
                new_state: state,
                private: req.private,
                diagnostics: api_error(&format!("read cloud phone server {server_id}"), &e).into(),
            },
        }
    }

    async fn import(&self, _ctx: &CallContext, id: &str) -> ImportResponse {
        let id = id.trim();
        if id.is_empty()
            || id.len() > MAX_NAME_BYTES
            || id.contains(|c: char| c == ',' || c.is_whitespace())
        {
            return ImportResponse {
                diagnostics: Diagnostic::error(
                    "Invalid import id",
                    format!("Import cph_server_flavor by the id of one cloud phone server, e.g. `terraform import cph_server_flavor.this a176d8625981453bbafbc0a321d8d6a1`; got {id:?}."),
                )
                .into(),
                ..Default::default()
            };
        }
        let mut state = schemas::server_flavor().block.null_object();
        state.set_attr("id", Value::string(id));
        state.set_attr("server_id", Value::string(id));
        ImportResponse {
            states: vec![state],
            ..Default::default()
        }
    }
}

/// Computed attributes the apply did not learn become null, never unknown:
/// Terraform refuses unknown values after apply.
fn fill_unknown_outcome(state: &mut Value) {
    if let Value::Object(m) = state {
        for v in m.values_mut() {
            if v.is_unknown() {
                *v = Value::Null;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(server: &str, sm: &str, pm: &str) -> Value {
        let mut v = schemas::server_flavor().block.null_object();
        v.set_attr("server_id", Value::string(server));
        v.set_attr("server_model_name", Value::string(sm));
        v.set_attr("phone_model_name", Value::string(pm));
        v
    }

    fn resource() -> ServerFlavor {
        ServerFlavor::new(Arc::new(Shared::default()))
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
            server_model_name: "a2".into(),
            phone_model_name: "b2".into(),
        };
        // Apply walk: the destroy half gets the plan's private state...
        let private = Private {
            pending_order: Some(pending.clone()),
        }
        .encode();
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
            Private::decode(&plan.planned_private).pending_order,
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

    #[test]
    fn private_state_round_trips() {
        let p = Private {
            pending_order: Some(PendingOrder {
                order_id: "CS1".into(),
                server_model_name: "a".into(),
                phone_model_name: "b".into(),
            }),
        };
        assert_eq!(Private::decode(&p.encode()).pending_order, p.pending_order);
        assert!(Private::default().encode().is_empty());
        assert!(Private::decode(b"garbage").pending_order.is_none());
    }
}

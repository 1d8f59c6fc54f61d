//! Flavor-change orders: the rules of `change-server-model` (names, catalogue,
//! generation, capacity, one order at a time per server), an order's life
//! (pending payment → processing → completed, or cancelled by the customer or
//! when its payment deadline lapses), how it looks in BSS, and how it finishes
//! by switching the server's flavors.

use std::cmp::Ordering;

use axum::http::StatusCode;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::catalogue;
use crate::errors::{ApiError, code};
use crate::ids;
use crate::state::{Due, World};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    AwaitingPayment,
    Processing,
    Succeeded,
    Cancelled,
    Failed,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 5] = [
        OrderStatus::AwaitingPayment,
        OrderStatus::Processing,
        OrderStatus::Succeeded,
        OrderStatus::Cancelled,
        OrderStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::AwaitingPayment => "awaiting_payment",
            OrderStatus::Processing => "processing",
            OrderStatus::Succeeded => "succeeded",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Failed => "failed",
        }
    }

    /// BSS `CustomerOrderV3.status`: 6 pending payment, 3 processing,
    /// 5 completed, 4 cancelled (a failed order never changed anything).
    pub fn bss(self) -> i64 {
        match self {
            OrderStatus::AwaitingPayment => 6,
            OrderStatus::Processing => 3,
            OrderStatus::Succeeded => 5,
            OrderStatus::Cancelled | OrderStatus::Failed => 4,
        }
    }

    /// From the admin API's name or BSS number (4 is `cancelled`).
    pub fn parse(v: &Value) -> Option<OrderStatus> {
        if let Some(n) = v.as_i64() {
            return match n {
                6 => Some(OrderStatus::AwaitingPayment),
                3 => Some(OrderStatus::Processing),
                5 => Some(OrderStatus::Succeeded),
                4 => Some(OrderStatus::Cancelled),
                _ => None,
            };
        }
        let s = v.as_str()?;
        OrderStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub fn is_active(self) -> bool {
        matches!(self, OrderStatus::AwaitingPayment | OrderStatus::Processing)
    }
}

#[derive(Debug, Clone)]
pub struct Order {
    pub id: String,
    pub product_id: String,
    pub request_id: String,
    pub server_id: String,
    pub from_server_model: String,
    pub from_phone_model: String,
    pub to_server_model: String,
    pub to_phone_model: String,
    pub upgrade: bool,
    pub auto_pay: bool,
    pub status: OrderStatus,
    pub created: OffsetDateTime,
    pub paid: Option<OffsetDateTime>,
    /// Deadline of an order created pending payment.
    pub pending_payment_end: Option<OffsetDateTime>,
    pub completes: Option<OffsetDateTime>,
    pub completed: Option<OffsetDateTime>,
    pub cancelled: Option<OffsetDateTime>,
    /// `customer`, `payment_lapsed`, `admin`, `server_deleted`.
    pub cancel_reason: Option<&'static str>,
    /// Whether completing it switched the server's flavors.
    pub applied: bool,
    /// Bumped on every state change: timers of an older generation are stale.
    pub timer_gen: u64,
}

/// Why an order cannot be paid or cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Unknown,
    /// The order is not pending payment (its status).
    NotPending(OrderStatus),
    /// Its payment deadline lapsed (it was cancelled for that).
    Lapsed,
}

impl Order {
    pub fn to_json(&self) -> Value {
        json!({
            "order_id": self.id,
            "product_id": self.product_id,
            "request_id": self.request_id,
            "server_id": self.server_id,
            "from": {"server_model_name": self.from_server_model, "phone_model_name": self.from_phone_model},
            "to": {"server_model_name": self.to_server_model, "phone_model_name": self.to_phone_model},
            "upgrade": self.upgrade,
            "auto_pay": self.auto_pay,
            "status": self.status.as_str(),
            "bss_status": self.status.bss(),
            "create_time": ids::fmt_time(self.created),
            "pay_time": self.paid.map(ids::fmt_time),
            "pending_payment_end_time": self.pending_payment_end.map(ids::fmt_time),
            "expected_complete_time": self.completes.map(ids::fmt_time),
            "complete_time": self.completed.map(ids::fmt_time),
            "cancel_time": self.cancelled.map(ids::fmt_time),
            "cancel_reason": self.cancel_reason,
            "applied": self.applied,
        })
    }

    /// Amount of the order: upgrades cost, other changes are free (refunds
    /// are not modelled).
    fn amount(&self) -> f64 {
        if self.upgrade { 520.0 } else { 0.0 }
    }

    fn spec_desc(&self) -> String {
        format!("{} / {}", self.to_server_model, self.to_phone_model)
    }

    /// BSS `CustomerOrderV3`.
    pub fn bss_order_info(&self, customer_id: &str, user_name: &str) -> Value {
        json!({
            "order_id": self.id,
            "customer_id": customer_id,
            "service_type_code": "hws.service.type.cph",
            "service_type_name": "Cloud Phone Host",
            "source_type": 1,
            "status": self.status.bss(),
            "order_type": 3,
            "amount_after_discount": self.amount(),
            "official_amount": self.amount(),
            "measure_id": 1,
            "create_time": ids::fmt_time(self.created),
            "payment_time": self.paid.map(ids::fmt_time),
            "currency": "CNY",
            "contract_id": null,
            "amount_info": {
                "discounts": [],
                "flexipurchase_coupon_amount": 0.0,
                "coupon_amount": 0.0,
                "stored_card_amount": 0.0,
                "commission_amount": 0.0,
                "consumed_amount": if self.paid.is_some() { self.amount() } else { 0.0 },
            },
            "user_name": user_name,
            "pending_payment_end_time": self.pending_payment_end.map(ids::fmt_time),
            "sub_order_infos": [],
        })
    }

    /// BSS `OrderLineItemEntityV2` entries (one per order).
    pub fn bss_line_items(&self) -> Vec<Value> {
        vec![json!({
            "order_line_item_id": format!("{}-000001", self.id),
            "service_type_code": "hws.service.type.cph",
            "service_type_name": "Cloud Phone Host",
            "product_id": self.product_id,
            "product_spec_desc": self.spec_desc(),
            "period_type": 2,
            "period_num": 1,
            "effective_time": ids::fmt_time(self.created),
            "expire_time": ids::fmt_time(self.created + time::Duration::days(30)),
            "subscription_num": 1,
            "amount_after_discount": self.amount(),
            "official_amount": self.amount(),
            "currency": "CNY",
            "category_code": "hws.resource.type.cph.server",
            "product_owner_service": "hws.service.type.cph",
            "commercial_resource": "hws.resource.type.cph.server",
            "base_product_info": {
                "product_id": self.product_id,
                "product_spec_desc": self.spec_desc(),
                "category_code": "hws.resource.type.cph.server",
                "product_owner_service": "hws.service.type.cph",
                "commercial_resource": "hws.resource.type.cph.server",
            },
            "order_id": self.id,
        })]
    }
}

/// A validated `change-server-model` request.
pub struct ChangeRequest<'a> {
    pub server_id: &'a str,
    pub server_model: &'a str,
    pub phone_model: &'a str,
    pub auto_pay: bool,
    pub request_id: String,
}

/// The flavors a change asks for, as the catalogue sells them.
fn catalogue_target(
    req: &ChangeRequest<'_>,
) -> Result<
    (
        &'static catalogue::ServerModel,
        &'static catalogue::PhoneModel,
    ),
    ApiError,
> {
    let target = catalogue::server_model(req.server_model).ok_or_else(|| {
        ApiError::bad_request(
            code::UNKNOWN_FLAVOR,
            format!("The server flavor {} does not exist", req.server_model),
        )
    })?;
    let target_phone = catalogue::phone_model(target.name, req.phone_model)
        .filter(|p| p.status == 1)
        .ok_or_else(|| {
            ApiError::bad_request(
                code::UNKNOWN_FLAVOR,
                format!(
                    "The phone flavor {} does not exist or is not sold on {}",
                    req.phone_model, target.name
                ),
            )
        })?;
    Ok((target, target_phone))
}

/// A change the checks let through: the flavors it comes from and goes to,
/// and whether it is an upgrade (paid before it is processed).
struct Accepted {
    from: (String, String),
    target: &'static catalogue::ServerModel,
    target_phone: &'static catalogue::PhoneModel,
    upgrade: bool,
}

pub fn check_model_name(field: &str, value: &str) -> Result<(), ApiError> {
    if value.is_empty() || value.len() > 64 {
        return Err(ApiError::bad_request(
            code::BAD_MODEL_NAME,
            format!("Invalid {field}: it must contain 1 to 64 bytes"),
        ));
    }
    Ok(())
}

impl World {
    /// Create an order, or explain why not.
    pub fn change_server_model(&mut self, req: ChangeRequest<'_>) -> Result<&Order, ApiError> {
        let accepted = self.accept_change(&req)?;
        let now = OffsetDateTime::now_utc();
        let mut id = ids::order_id(now);
        while self.order_index.contains_key(&id) {
            id = ids::order_id(now);
        }
        let product_id = format!("00301-{:05}-0--0", self.next_product % 100_000);
        self.next_product += 1;
        let order = Order {
            id: id.clone(),
            product_id,
            request_id: req.request_id,
            server_id: req.server_id.to_string(),
            from_server_model: accepted.from.0,
            from_phone_model: accepted.from.1,
            to_server_model: accepted.target.name.to_string(),
            to_phone_model: accepted.target_phone.name.to_string(),
            upgrade: accepted.upgrade,
            auto_pay: req.auto_pay,
            status: OrderStatus::AwaitingPayment,
            created: now,
            paid: None,
            pending_payment_end: None,
            completes: None,
            completed: None,
            cancelled: None,
            cancel_reason: None,
            applied: false,
            timer_gen: 0,
        };
        self.active_orders
            .insert(order.server_id.clone(), id.clone());
        let idx = self.orders.len();
        self.order_index.insert(id, idx);
        self.orders.push(order);
        if !accepted.upgrade || req.auto_pay {
            self.start_processing(idx, now);
        } else {
            let generation = self.orders[idx].timer_gen;
            let deadline = self.schedule(
                Due::PaymentLapse(self.orders[idx].id.clone(), generation),
                self.settings.payment_seconds,
            );
            self.orders[idx].pending_payment_end = Some(deadline);
        }
        Ok(&self.orders[idx])
    }

    /// The checks of a change-server-model request, in the API's order:
    /// names, server, order in progress, status, catalogue, same flavor,
    /// generation, phone count.
    fn accept_change(&self, req: &ChangeRequest<'_>) -> Result<Accepted, ApiError> {
        check_model_name("server_model_name", req.server_model)?;
        check_model_name("phone_model_name", req.phone_model)?;
        let server = self
            .fleet
            .server(req.server_id)
            .ok_or_else(ApiError::server_not_found)?;
        if self.active_orders.contains_key(req.server_id) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                code::ORDER_IN_PROGRESS,
                "The server has an order in progress",
            ));
        }
        if server.status != 5 {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                code::SERVER_NOT_AVAILABLE,
                format!(
                    "The server status ({}) does not allow changing its flavor",
                    server.status
                ),
            ));
        }
        let (target, target_phone) = catalogue_target(req)?;
        if server.server_model == target.name && server.phone_model == target_phone.name {
            return Err(ApiError::bad_request(
                code::SAME_FLAVOR,
                "The target flavor is the same as the current flavor",
            ));
        }
        let current = catalogue::server_model(&server.server_model);
        if current.map(|c| c.generation) != Some(target.generation) {
            return Err(ApiError::bad_request(
                code::CROSS_GENERATION,
                format!(
                    "Flavors can be switched only within one generation: {} cannot change to {}",
                    server.server_model, target.name
                ),
            ));
        }
        let current_phone = catalogue::phone_model(&server.server_model, &server.phone_model);
        let current_capacity = current_phone.map(|p| p.capacity);
        if current_capacity != Some(target_phone.capacity) {
            return Err(ApiError::bad_request(
                code::CAPACITY_MISMATCH,
                format!(
                    "The phone quantity must stay the same: {} holds {} phones, {} holds {}",
                    server.phone_model,
                    current_capacity.unwrap_or(0),
                    target_phone.name,
                    target_phone.capacity
                ),
            ));
        }
        let upgrade = match (current, current_phone) {
            (Some(s), Some(p)) => {
                catalogue::compare_size((s, p), (target, target_phone)) == Ordering::Greater
            }
            _ => true,
        };
        Ok(Accepted {
            from: (server.server_model.clone(), server.phone_model.clone()),
            target,
            target_phone,
            upgrade,
        })
    }

    pub fn order(&self, id: &str) -> Option<&Order> {
        self.order_index.get(id).map(|&i| &self.orders[i])
    }

    fn order_idx(&self, id: &str) -> Result<usize, Refusal> {
        self.order_index.get(id).copied().ok_or(Refusal::Unknown)
    }

    /// Paid (or needing no payment): completes `order_seconds` from now.
    fn start_processing(&mut self, idx: usize, paid: OffsetDateTime) {
        self.orders[idx].timer_gen += 1;
        let (id, generation) = (self.orders[idx].id.clone(), self.orders[idx].timer_gen);
        let completes = self.schedule(Due::Order(id, generation), self.settings.order_seconds);
        let order = &mut self.orders[idx];
        order.status = OrderStatus::Processing;
        order.paid = Some(paid);
        order.completes = Some(completes);
    }

    /// An order leaves the active states: the server is free again.
    fn release(&mut self, idx: usize) {
        let order = &mut self.orders[idx];
        order.timer_gen += 1;
        let (server_id, id) = (order.server_id.clone(), order.id.clone());
        if self.active_orders.get(&server_id) == Some(&id) {
            self.active_orders.remove(&server_id);
        }
    }

    fn refuse_unless_pending(&self, idx: usize) -> Result<(), Refusal> {
        let order = &self.orders[idx];
        match order.status {
            OrderStatus::AwaitingPayment => Ok(()),
            OrderStatus::Cancelled if order.cancel_reason == Some("payment_lapsed") => {
                Err(Refusal::Lapsed)
            }
            other => Err(Refusal::NotPending(other)),
        }
    }

    /// Pay an order pending payment: it completes `order_seconds` later.
    pub fn pay_order(&mut self, id: &str) -> Result<&Order, Refusal> {
        let idx = self.order_idx(id)?;
        self.refuse_unless_pending(idx)?;
        self.start_processing(idx, OffsetDateTime::now_utc());
        Ok(&self.orders[idx])
    }

    /// Cancel an order pending payment (the customer's cancel): the server
    /// never changes.
    pub fn cancel_order(&mut self, id: &str, reason: &'static str) -> Result<&Order, Refusal> {
        let idx = self.order_idx(id)?;
        self.refuse_unless_pending(idx)?;
        self.cancel_idx(idx, reason);
        Ok(&self.orders[idx])
    }

    /// Cancel an order pending payment or processing (admin).
    pub fn force_cancel_order(&mut self, id: &str) -> Result<&Order, Refusal> {
        let idx = self.order_idx(id)?;
        let status = self.orders[idx].status;
        if !status.is_active() {
            return Err(Refusal::NotPending(status));
        }
        self.cancel_idx(idx, "admin");
        Ok(&self.orders[idx])
    }

    pub(crate) fn cancel_idx(&mut self, idx: usize, reason: &'static str) {
        self.release(idx);
        let order = &mut self.orders[idx];
        order.status = OrderStatus::Cancelled;
        order.cancelled = Some(OffsetDateTime::now_utc());
        order.cancel_reason = Some(reason);
        order.completes = None;
    }

    /// The payment deadline of an order pending payment passes now.
    pub fn lapse_order(&mut self, id: &str) -> Result<&Order, Refusal> {
        let idx = self.order_idx(id)?;
        self.refuse_unless_pending(idx)?;
        self.orders[idx].pending_payment_end = Some(OffsetDateTime::now_utc());
        self.cancel_idx(idx, "payment_lapsed");
        Ok(&self.orders[idx])
    }

    /// Complete an active order now; with `apply` false the server keeps
    /// its flavors (a completed order whose server does not show them).
    pub fn complete_order(&mut self, id: &str, apply: bool) -> Result<&Order, Refusal> {
        let idx = self.order_idx(id)?;
        let status = self.orders[idx].status;
        if !status.is_active() {
            return Err(Refusal::NotPending(status));
        }
        if self.orders[idx].paid.is_none() {
            self.orders[idx].paid = Some(OffsetDateTime::now_utc());
        }
        self.finish_idx(idx, apply);
        Ok(&self.orders[idx])
    }

    /// Set an order's status as is (admin): `processing` schedules its
    /// completion `order_seconds` later, `awaiting_payment` gives it a new
    /// payment deadline; other statuses touch no server.
    pub fn set_order_status(&mut self, id: &str, status: OrderStatus) -> Result<&Order, Refusal> {
        let idx = self.order_idx(id)?;
        let server_id = self.orders[idx].server_id.clone();
        if status.is_active() {
            // At most one active order per server.
            if let Some(other) = self.active_orders.get(&server_id)
                && other != id
            {
                return Err(Refusal::NotPending(self.orders[idx].status));
            }
            self.active_orders.insert(server_id, id.to_string());
        }
        let now = OffsetDateTime::now_utc();
        match status {
            OrderStatus::Processing => self.start_processing(idx, now),
            OrderStatus::AwaitingPayment => {
                self.orders[idx].timer_gen += 1;
                let generation = self.orders[idx].timer_gen;
                let deadline = self.schedule(
                    Due::PaymentLapse(id.to_string(), generation),
                    self.settings.payment_seconds,
                );
                let order = &mut self.orders[idx];
                order.status = OrderStatus::AwaitingPayment;
                order.paid = None;
                order.completes = None;
                order.completed = None;
                order.cancelled = None;
                order.cancel_reason = None;
                order.pending_payment_end = Some(deadline);
            }
            OrderStatus::Cancelled => self.cancel_idx(idx, "admin"),
            OrderStatus::Succeeded | OrderStatus::Failed => {
                self.release(idx);
                let order = &mut self.orders[idx];
                order.status = status;
                order.completed = Some(now);
            }
        }
        Ok(&self.orders[idx])
    }

    /// A timer fired: complete the order if the timer is still current.
    pub(crate) fn finish_order(&mut self, id: &str, generation: u64) {
        let Some(&idx) = self.order_index.get(id) else {
            return;
        };
        let order = &self.orders[idx];
        if order.timer_gen != generation || order.status != OrderStatus::Processing {
            return;
        }
        self.finish_idx(idx, true);
    }

    /// A payment deadline passed: cancel the order if it is still pending.
    pub(crate) fn lapse_payment(&mut self, id: &str, generation: u64) {
        let Some(&idx) = self.order_index.get(id) else {
            return;
        };
        let order = &self.orders[idx];
        if order.timer_gen != generation || order.status != OrderStatus::AwaitingPayment {
            return;
        }
        self.cancel_idx(idx, "payment_lapsed");
    }

    fn finish_idx(&mut self, idx: usize, apply: bool) {
        let now = OffsetDateTime::now_utc();
        let (server_id, to_server, to_phone) = {
            let o = &self.orders[idx];
            (
                o.server_id.clone(),
                o.to_server_model.clone(),
                o.to_phone_model.clone(),
            )
        };
        let exists = self.fleet.server(&server_id).is_some();
        if apply && let Some(server) = self.fleet.server_mut(&server_id) {
            server.server_model = to_server;
            server.phone_model = to_phone;
            server.updated = now;
        }
        self.release(idx);
        let order = &mut self.orders[idx];
        order.status = if exists {
            OrderStatus::Succeeded
        } else {
            OrderStatus::Failed
        };
        order.applied = apply && exists;
        order.completed = Some(now);
    }
}

/// An admin-API error for a refusal.
pub fn admin_refusal(id: &str, r: Refusal) -> ApiError {
    match r {
        Refusal::Unknown => {
            ApiError::not_found("EMU.0404", format!("The order {id} does not exist"))
        }
        Refusal::NotPending(s) => ApiError::new(
            StatusCode::CONFLICT,
            "EMU.0409",
            format!("The order {id} is {}", s.as_str()),
        ),
        Refusal::Lapsed => ApiError::new(
            StatusCode::CONFLICT,
            "EMU.0409",
            format!("The order {id} is cancelled: its payment deadline lapsed"),
        ),
    }
}

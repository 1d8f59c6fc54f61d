//! Flavor-change orders: the rules of `change-server-model` (names, catalogue,
//! generation, capacity, one order at a time per server), payment, and how an
//! order finishes by switching the server's flavors.

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
    Failed,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::AwaitingPayment => "awaiting_payment",
            OrderStatus::Processing => "processing",
            OrderStatus::Succeeded => "succeeded",
            OrderStatus::Failed => "failed",
        }
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
    pub completes: Option<OffsetDateTime>,
    pub completed: Option<OffsetDateTime>,
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
            "create_time": ids::fmt_time(self.created),
            "pay_time": self.paid.map(ids::fmt_time),
            "expected_complete_time": self.completes.map(ids::fmt_time),
            "complete_time": self.completed.map(ids::fmt_time),
        })
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
        let target = catalogue::server_model(req.server_model).ok_or_else(|| {
            ApiError::bad_request(
                code::UNKNOWN_FLAVOR,
                format!("The server flavor {} does not exist", req.server_model),
            )
        })?;
        let target_phone = catalogue::phone_model(req.phone_model)
            .filter(|p| p.server_model == target.name && p.status == 1)
            .ok_or_else(|| {
                ApiError::bad_request(
                    code::UNKNOWN_FLAVOR,
                    format!(
                        "The phone flavor {} does not exist or is not sold on {}",
                        req.phone_model, target.name
                    ),
                )
            })?;
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
        let current_capacity = catalogue::phone_model(&server.phone_model).map(|p| p.capacity);
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
        let upgrade = current.map(|c| c.price_rank).unwrap_or(0) < target.price_rank;
        let now = OffsetDateTime::now_utc();
        let mut id = ids::order_id(now);
        while self.order_index.contains_key(&id) {
            id = ids::order_id(now);
        }
        let product_id = format!("00301-{:05}-0--0", self.next_product % 100_000);
        self.next_product += 1;
        let mut order = Order {
            id: id.clone(),
            product_id,
            request_id: req.request_id,
            server_id: req.server_id.to_string(),
            from_server_model: server.server_model.clone(),
            from_phone_model: server.phone_model.clone(),
            to_server_model: target.name.to_string(),
            to_phone_model: target_phone.name.to_string(),
            upgrade,
            auto_pay: req.auto_pay,
            status: OrderStatus::AwaitingPayment,
            created: now,
            paid: None,
            completes: None,
            completed: None,
        };
        if !upgrade || req.auto_pay {
            order.status = OrderStatus::Processing;
            order.paid = Some(now);
            order.completes =
                Some(self.schedule(Due::Order(id.clone()), self.settings.order_seconds));
        }
        self.active_orders
            .insert(order.server_id.clone(), id.clone());
        self.order_index.insert(id, self.orders.len());
        self.orders.push(order);
        self.orders.last().ok_or_else(|| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                code::INTERNAL,
                "order lost",
            )
        })
    }

    /// Simulate the payment of an order awaiting it.
    pub fn pay_order(&mut self, id: &str) -> Result<&Order, ApiError> {
        let idx = *self.order_index.get(id).ok_or_else(|| {
            ApiError::not_found("EMU.0404", format!("The order {id} does not exist"))
        })?;
        if self.orders[idx].status != OrderStatus::AwaitingPayment {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "EMU.0409",
                format!(
                    "The order {id} is {}, not awaiting payment",
                    self.orders[idx].status.as_str()
                ),
            ));
        }
        let completes = self.schedule(Due::Order(id.to_string()), self.settings.order_seconds);
        let order = &mut self.orders[idx];
        order.status = OrderStatus::Processing;
        order.paid = Some(OffsetDateTime::now_utc());
        order.completes = Some(completes);
        Ok(&self.orders[idx])
    }

    pub(crate) fn finish_order(&mut self, id: &str) {
        let Some(&idx) = self.order_index.get(id) else {
            return;
        };
        let now = OffsetDateTime::now_utc();
        let (server_id, to_server, to_phone) = {
            let o = &self.orders[idx];
            (
                o.server_id.clone(),
                o.to_server_model.clone(),
                o.to_phone_model.clone(),
            )
        };
        let applied = match self.fleet.server_mut(&server_id) {
            Some(server) => {
                server.server_model = to_server;
                server.phone_model = to_phone;
                server.updated = now;
                true
            }
            None => false,
        };
        let order = &mut self.orders[idx];
        order.status = if applied {
            OrderStatus::Succeeded
        } else {
            OrderStatus::Failed
        };
        order.completed = Some(now);
        if self.active_orders.get(&server_id).map(String::as_str) == Some(id) {
            self.active_orders.remove(&server_id);
        }
    }
}

//! The BSS endpoints (orders), under `{bss_endpoint}`: no project id in the
//! path; signed like every other call (AK/SK signatures without
//! `X-Project-Id`, BSS being a global service).

use super::{Client, Service, require_id};
use crate::cph::error::{Error, Result};
use crate::cph::models::{OrderDetails, OrderInfo, PayOrderRequest};
use crate::cph::sender::retry::Safety;
use crate::cph::signer::encode_component;

impl Client {
    /// `GET /v2/orders/customer-orders/details/{order_id}`: the order's
    /// `order_info`. An unknown order is an error whose
    /// [`is_order_not_found`](Error::is_order_not_found) is true (also when
    /// BSS answers 2xx without an `order_info`).
    pub async fn show_order(&self, order_id: &str) -> Result<OrderInfo> {
        require_id("order_id", order_id)?;
        let path = format!(
            "/v2/orders/customer-orders/details/{}",
            encode_component(order_id)
        );
        let details: OrderDetails = self.get(Service::Bss, "show_order", &path, &[]).await?;
        details
            .order_info
            .filter(|o| !o.order_id.is_empty())
            .ok_or_else(|| no_such_order(order_id))
    }

    /// `POST /v3/orders/customer-orders/pay` for `order_id`, without coupons
    /// or discounts. Success is the status code. Paying is a write that
    /// must not happen twice: never retried once the request may have
    /// reached BSS (only connection failures and 429/503 answers are).
    pub async fn pay_order(&self, order_id: &str) -> Result<()> {
        require_id("order_id", order_id)?;
        let body = PayOrderRequest {
            order_id: order_id.to_string(),
            use_coupon: "NO".into(),
            use_discount: "NO".into(),
        };
        self.post_raw(
            Service::Bss,
            "pay_order",
            "/v3/orders/customer-orders/pay",
            &body,
            Safety::NonIdempotent,
        )
        .await
        .map(|_| ())
    }
}

/// A 2xx order answer without the order: BSS does not know it.
fn no_such_order(order_id: &str) -> Error {
    Error::Api {
        status: 404,
        code: String::new(),
        message: format!("BSS answered without the details of order {order_id}"),
        request_id: None,
    }
}

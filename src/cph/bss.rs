//! BSS, Huawei Cloud's billing service: what became of an order (details)
//! and paying one. A flavor change is an order; BSS is where its fate is
//! known (pending payment, processing, completed, cancelled).
//!
//! BSS is a global service on its own endpoint
//! ([`ClientConfig::bss_endpoint`](super::ClientConfig)) without a project id
//! in the path; its calls are signed and sent like every CPH call.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::client::Client;
use super::error::{Error, Result};
use super::retry::Safety;
use super::signer::{canonical_query, encode_component};
use super::transport::HttpCall;

/// Endpoint of BSS for accounts of the Chinese mainland.
pub const DEFAULT_BSS_ENDPOINT: &str = "https://bss.myhuaweicloud.com";

/// `order_info.status` values (`CustomerOrderV3`).
pub mod status {
    pub const PENDING_APPROVAL: i32 = 1;
    pub const PENDING_REFUND: i32 = 2;
    pub const PROCESSING: i32 = 3;
    pub const CANCELLED: i32 = 4;
    pub const COMPLETED: i32 = 5;
    pub const PENDING_PAYMENT: i32 = 6;
    pub const PENDING_CONFIRMATION: i32 = 9;
}

/// `error_code` of BSS for an order that does not exist (HTTP 400).
const ORDER_NOT_FOUND_CODE: &str = "CBC.30000010";
/// `error_code` of BSS pay when the payment deadline has lapsed.
const PAYMENT_LAPSED_CODE: &str = "CBC.99003110";
/// `error_code` of BSS pay when the order is not pending payment.
const NOT_PENDING_PAYMENT_CODE: &str = "CBC.99003106";

/// `order_info` of the order details (the fields the provider uses).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CustomerOrder {
    pub order_id: String,
    /// See [`status`].
    pub status: i32,
    pub order_type: Option<i32>,
    pub create_time: Option<String>,
    pub payment_time: Option<String>,
    /// When an order pending payment is cancelled unless paid.
    pub pending_payment_end_time: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct OrderDetails {
    order_info: Option<CustomerOrder>,
}

#[derive(Debug, Clone, Serialize)]
struct PayOrderRequest<'a> {
    order_id: &'a str,
    use_coupon: &'static str,
    use_discount: &'static str,
}

impl Error {
    /// True when BSS says the order does not exist.
    pub fn is_unknown_order(&self) -> bool {
        self.code() == Some(ORDER_NOT_FOUND_CODE)
    }

    /// True when BSS refused a payment because the deadline lapsed.
    pub fn is_payment_lapsed(&self) -> bool {
        self.code() == Some(PAYMENT_LAPSED_CODE)
    }

    /// True when BSS refused a payment because the order is not (or no
    /// longer) pending payment.
    pub fn is_not_pending_payment(&self) -> bool {
        self.code() == Some(NOT_PENDING_PAYMENT_CODE)
    }

    /// True when the caller may not use the API (401/403): for BSS, an
    /// account or user without billing permissions.
    pub fn is_forbidden(&self) -> bool {
        matches!(self.status(), Some(401 | 403))
    }
}

impl Client {
    fn bss_call(
        &self,
        op: &'static str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Vec<u8>>,
        safety: Safety,
    ) -> HttpCall {
        let base = self.config().bss_endpoint.trim_end_matches('/');
        let log_path = format!("{base}{path}");
        let query = canonical_query(query);
        let url = if query.is_empty() {
            log_path.clone()
        } else {
            format!("{log_path}?{query}")
        };
        HttpCall {
            op,
            method,
            url,
            log_path,
            body,
            safety,
            authenticate: true,
        }
    }

    /// `GET /v2/orders/customer-orders/details/{order_id}` (BSS): the order.
    pub async fn show_order(&self, order_id: &str) -> Result<CustomerOrder> {
        if order_id.trim().is_empty() {
            return Err(Error::Config("order_id is empty".into()));
        }
        let call = self.bss_call(
            "bss_show_order",
            Method::GET,
            &format!(
                "/v2/orders/customer-orders/details/{}",
                encode_component(order_id)
            ),
            &[("limit", "10".into()), ("offset", "0".into())],
            None,
            Safety::Read,
        );
        let details: OrderDetails = self.send(call).await?;
        details.order_info.ok_or_else(|| Error::Decode {
            url: "/v2/orders/customer-orders/details".into(),
            message: "the order details carry no order_info".into(),
        })
    }

    /// `POST /v3/orders/customer-orders/pay` (BSS), without coupons or
    /// discounts. Never repeated once it may have reached BSS.
    pub async fn pay_order(&self, order_id: &str) -> Result<()> {
        if order_id.trim().is_empty() {
            return Err(Error::Config("order_id is empty".into()));
        }
        let body = serde_json::to_vec(&PayOrderRequest {
            order_id,
            use_coupon: "NO",
            use_discount: "NO",
        })
        .map_err(|e| Error::Config(format!("cannot encode the pay request: {e}")))?;
        let call = self.bss_call(
            "bss_pay_order",
            Method::POST,
            "/v3/orders/customer-orders/pay",
            &[],
            Some(body),
            Safety::NonIdempotent,
        );
        let _: serde::de::IgnoredAny = self.send(call).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cph::{ClientConfig, Credentials};

    fn api(status: u16, code: &str) -> Error {
        Error::Api {
            status,
            code: code.into(),
            message: "m".into(),
            request_id: None,
        }
    }

    #[test]
    fn bss_codes_are_recognised() {
        assert!(api(400, "CBC.30000010").is_unknown_order());
        assert!(api(400, "CBC.99003110").is_payment_lapsed());
        assert!(api(400, "CBC.99003106").is_not_pending_payment());
        assert!(api(403, "CBC.0150").is_forbidden());
        assert!(!api(400, "CBC.0100").is_forbidden());
    }

    #[test]
    fn bss_calls_go_to_the_bss_endpoint() {
        let mut cfg = ClientConfig::new(
            "https://cph.cn-east-3.myhuaweicloud.com",
            "cn-east-3",
            "p1",
            Credentials::Token("t".into()),
        );
        assert_eq!(cfg.bss_endpoint, DEFAULT_BSS_ENDPOINT);
        cfg.bss_endpoint = "http://127.0.0.1:9/".into();
        let client = Client::new(cfg).unwrap();
        let call = client.bss_call(
            "bss_show_order",
            Method::GET,
            "/v2/orders/customer-orders/details/CS1",
            &[("limit", "10".into())],
            None,
            Safety::Read,
        );
        assert_eq!(
            call.url,
            "http://127.0.0.1:9/v2/orders/customer-orders/details/CS1?limit=10"
        );
        assert!(!call.log_path.contains('?'));
    }

    #[test]
    fn order_details_decode() {
        let d: OrderDetails = serde_json::from_str(
            r#"{"total_count":1,"order_info":{"order_id":"CS1","status":6,"order_type":3,
                "pending_payment_end_time":"2024-08-16T10:00:00Z","amount":520.0},
                "order_line_items":[],"request_id":"r"}"#,
        )
        .unwrap();
        let o = d.order_info.unwrap();
        assert_eq!(o.status, status::PENDING_PAYMENT);
        assert_eq!(
            o.pending_payment_end_time.as_deref(),
            Some("2024-08-16T10:00:00Z")
        );
    }
}

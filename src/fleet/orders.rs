//! The order tracker: what became of the flavor-change orders this process
//! follows, as BSS (the billing service) tells it, and the wait for an order
//! to show on its server.
//!
//! BSS says whether an order is pending payment (then, with `auto_pay`, it
//! is paid), processing, completed or cancelled, and whether it exists at
//! all. Without BSS (no billing permission, an outage) the wait is what it
//! always was, watching the server detail, and the caller is told why with a
//! warning. An account whose BSS answers 401/403 once is not asked again by
//! this process. When the wait reads what is `order_schedule`'s: an order
//! left unpaid costs one BSS read per 30 s and no server read.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::go_duration;
use super::order_schedule::Schedule;
use super::routing::WaitEnded;
use crate::cph::models::{OrderInfo, OrderStatus, SERVER_STATUS_NORMAL, Server};
use crate::cph::{self, Client};

/// How long a completed order may go without its server showing the target
/// flavors before that is an error (the server detail may lag a little).
pub const COMPLETED_GRACE: Duration = Duration::from_secs(10);

/// What BSS says of an order.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderFate {
    /// BSS knows the order.
    Known(OrderInfo),
    /// BSS says it does not exist.
    Unknown,
    /// BSS could not be asked: why.
    Unreadable(String),
}

impl OrderFate {
    /// True when the order will never change the server: cancelled, or
    /// unknown to BSS. Another order may be placed.
    pub fn is_gone(&self) -> bool {
        match self {
            OrderFate::Unknown => true,
            OrderFate::Known(o) => o.status == OrderStatus::Cancelled,
            OrderFate::Unreadable(_) => false,
        }
    }
}

/// A status in words.
pub fn status_name(status: OrderStatus) -> String {
    match status {
        OrderStatus::Processing => "processing".into(),
        OrderStatus::Cancelled => "cancelled".into(),
        OrderStatus::Completed => "completed".into(),
        OrderStatus::PendingPayment => "pending payment".into(),
        OrderStatus::Other(1) => "pending approval".into(),
        OrderStatus::Other(2) => "pending refund".into(),
        OrderStatus::Other(9) => "pending confirmation".into(),
        OrderStatus::Other(code) => format!("in state {code}"),
    }
}

/// `error_code` of BSS pay when the payment deadline has lapsed.
const PAYMENT_LAPSED_CODE: &str = "CBC.99003110";
/// `error_code` of BSS pay when the order is not pending payment.
const NOT_PENDING_PAYMENT_CODE: &str = "CBC.99003106";

/// BSS refused a payment because the deadline lapsed (the order is cancelled).
pub fn is_payment_lapsed(e: &cph::Error) -> bool {
    e.code() == Some(PAYMENT_LAPSED_CODE)
}

/// BSS refused a payment because the order is not (or no longer) pending
/// payment: paid meanwhile.
pub fn is_not_pending_payment(e: &cph::Error) -> bool {
    e.code() == Some(NOT_PENDING_PAYMENT_CODE)
}

/// The caller may not use BSS (401/403): no billing permissions.
pub fn is_forbidden(e: &cph::Error) -> bool {
    matches!(e.status(), Some(401 | 403))
}

fn pending_payment_note(o: &OrderInfo) -> String {
    let until = o
        .pending_payment_end_time
        .as_deref()
        .map(|t| format!(" until {t}"))
        .unwrap_or_default();
    format!(
        "order {} is pending payment{until} (BSS status 6): pay it in the Huawei Cloud console, \
         or set auto_pay = true and apply again to pay it",
        o.order_id
    )
}

/// Why following an order ended without the target flavors.
#[derive(Debug)]
pub enum FollowError {
    /// The wait ended before the order did: the deadline passed, or
    /// Terraform stopped the provider. The order (if any) may still
    /// complete: keep it.
    Ended(WaitEnded),
    /// The server's detail could not be read. The order (if any) may still
    /// complete: keep it.
    ServerUnread(cph::Error),
    /// BSS says the order was cancelled: it will never change the server.
    Cancelled(OrderInfo),
    /// BSS does not know the order.
    Unknown(String),
    /// The order completed, but the server does not show the target flavors.
    CompletedWithoutFlavor { order_id: String, server: Server },
    /// `auto_pay` is set but paying the pending order failed.
    PayFailed { order: OrderInfo, error: cph::Error },
}

impl FollowError {
    /// True when the order will never be seen through: the caller forgets
    /// it, so that the next apply places a new one.
    pub fn order_is_over(&self) -> bool {
        match self {
            FollowError::Cancelled(_)
            | FollowError::Unknown(_)
            | FollowError::CompletedWithoutFlavor { .. } => true,
            FollowError::PayFailed { error, .. } => is_payment_lapsed(error),
            FollowError::Ended(_) | FollowError::ServerUnread(_) => false,
        }
    }

    /// For people: what happened and what the next apply does.
    pub fn message(&self) -> String {
        match self {
            FollowError::Ended(e) => e.to_string(),
            FollowError::ServerUnread(e) => e.to_string(),
            FollowError::Cancelled(o) => format!(
                "Order {} was cancelled (BSS status 4{}); the server keeps its flavors. \
                 The next apply places a new order.",
                o.order_id,
                o.pending_payment_end_time
                    .as_deref()
                    .map(|t| format!(", payment deadline {t}"))
                    .unwrap_or_default()
            ),
            FollowError::Unknown(id) => format!(
                "Order {id} does not exist in BSS (billing); the server keeps its flavors. \
                 The next apply places a new order."
            ),
            FollowError::CompletedWithoutFlavor { order_id, server } => format!(
                "Order {order_id} is completed in BSS, but server {} shows {} / {} (status {}), \
                 not the flavors ordered. Check the order in the Huawei Cloud console; \
                 the next apply places a new order.",
                server.server_id, server.server_model_name, server.phone_model_name, server.status
            ),
            FollowError::PayFailed { order, error } if is_payment_lapsed(error) => format!(
                "Order {} could not be paid: its payment deadline{} has passed and BSS cancelled it ({error}). \
                 The next apply places a new order.",
                order.order_id,
                order
                    .pending_payment_end_time
                    .as_deref()
                    .map(|t| format!(" ({t})"))
                    .unwrap_or_default()
            ),
            FollowError::PayFailed { order, error } => format!(
                "auto_pay is set, but order {} (pending payment{}) could not be paid: {error}. \
                 Pay it in the Huawei Cloud console (the account may lack balance or the user \
                 BSS permissions); the next apply waits for it.",
                order.order_id,
                order
                    .pending_payment_end_time
                    .as_deref()
                    .map(|t| format!(" until {t}"))
                    .unwrap_or_default()
            ),
        }
    }
}

/// What to follow: the server, the flavors ordered, the order.
pub struct Follow<'a> {
    pub server_id: &'a str,
    pub server_model_name: &'a str,
    pub phone_model_name: &'a str,
    /// None when the order's id is not known (the server shows an order in
    /// progress): then only the server detail is watched.
    pub order_id: Option<&'a str>,
    /// Pay the order if it is pending payment.
    pub auto_pay: bool,
    pub deadline: Instant,
}

/// The fleet's order tracker.
#[derive(Default)]
pub struct OrderTracker {
    /// Set once BSS refused this process (401/403): why.
    forbidden: Mutex<Option<String>>,
}

impl OrderTracker {
    fn forbidden(&self) -> Option<String> {
        self.forbidden
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// What BSS says of `order_id` now; an error ([`WaitEnded::Stopped`])
    /// only when Terraform stopped the provider.
    pub async fn fate(&self, client: &Client, order_id: &str) -> Result<OrderFate, WaitEnded> {
        if let Some(why) = self.forbidden() {
            return Ok(OrderFate::Unreadable(why));
        }
        Ok(match client.show_order(order_id).await {
            Ok(o) => OrderFate::Known(o),
            Err(e) if e.is_order_not_found() => OrderFate::Unknown,
            Err(cph::Error::Cancelled) => return Err(WaitEnded::Stopped),
            Err(e) => {
                let why = unreadable_reason(client, &e);
                if is_forbidden(&e) {
                    *self.forbidden.lock().unwrap_or_else(|p| p.into_inner()) = Some(why.clone());
                }
                OrderFate::Unreadable(why)
            }
        })
    }

    /// Waits until the server shows the target flavors with a normal
    /// status, following the order through BSS: pays it when it is pending
    /// payment and `auto_pay` is set, ends when BSS says it was cancelled,
    /// does not exist, or completed without the server showing the target.
    /// While it is unpaid only BSS is read, rarely (`order_schedule`).
    /// Why BSS could not be asked goes to `warnings` (once).
    pub async fn follow(
        &self,
        client: &Client,
        f: &Follow<'_>,
        cancel: &CancellationToken,
        warnings: &mut Vec<String>,
    ) -> Result<Server, FollowError> {
        let client = client
            .with_deadline(f.deadline)
            .with_cancellation(cancel.clone());
        let (mut seen, mut schedule) = (Progress::new(f), Schedule::default());
        loop {
            if cancel.is_cancelled() {
                return Err(FollowError::Ended(WaitEnded::Stopped));
            }
            // An unpaid order is asked first; the server is read once BSS
            // says it moved on.
            let asked = !schedule.reads_server();
            if asked {
                self.ask_bss(&client, f, &mut seen, None, warnings).await?;
                schedule.order_seen(seen.started.elapsed(), seen.unpaid);
            }
            if schedule.reads_server() {
                let server = seen.read_server(&client, f).await?;
                if f.target_shown_by(&server) && server.status == SERVER_STATUS_NORMAL {
                    return Ok(server);
                }
                if !asked {
                    let read = Some(&server);
                    self.ask_bss(&client, f, &mut seen, read, warnings).await?;
                    schedule.order_seen(seen.started.elapsed(), seen.unpaid);
                }
                seen.last_server = Some(server);
            }
            seen.log(f, asked);
            if Instant::now() >= f.deadline {
                return Err(FollowError::Ended(WaitEnded::TimedOut(
                    seen.timeout_text(f),
                )));
            }
            let pause = schedule.pause(seen.started.elapsed());
            let pause = pause.min(f.deadline.saturating_duration_since(Instant::now()));
            tokio::select! {
                _ = cancel.cancelled() => return Err(FollowError::Ended(WaitEnded::Stopped)),
                _ = tokio::time::sleep(pause) => {}
            }
            // A last look at the deadline, except at an order still unpaid.
            if !schedule.reads_server() && Instant::now() >= f.deadline {
                return Err(FollowError::Ended(WaitEnded::TimedOut(
                    seen.timeout_text(f),
                )));
            }
        }
    }

    /// What BSS says of the order now, acted on (`server`: the detail read
    /// in this round, if any); nothing once BSS cannot be asked.
    async fn ask_bss(
        &self,
        client: &Client,
        f: &Follow<'_>,
        seen: &mut Progress<'_>,
        server: Option<&Server>,
        warnings: &mut Vec<String>,
    ) -> Result<(), FollowError> {
        let Some(order_id) = seen.bss else {
            return Ok(());
        };
        let fate = self.fate(client, order_id).await;
        let fate = fate.map_err(FollowError::Ended)?;
        seen.judge(client, f, fate, server, warnings).await
    }
}

impl Follow<'_> {
    fn target_shown_by(&self, server: &Server) -> bool {
        server.server_model_name == self.server_model_name
            && server.phone_model_name == self.phone_model_name
    }
}

/// What following an order has seen so far.
struct Progress<'a> {
    started: Instant,
    last_server: Option<Server>,
    last_order: Option<OrderInfo>,
    /// The order to ask BSS about; None once BSS cannot be asked.
    bss: Option<&'a str>,
    paid: bool,
    /// BSS last said the order is pending payment and nothing pays it.
    unpaid: bool,
    reported_pending: bool,
    /// Since when, and for how many polls, BSS says completed while the
    /// server does not show the target.
    completed_since: Option<(Instant, u32)>,
}

impl<'a> Progress<'a> {
    fn new(f: &Follow<'a>) -> Progress<'a> {
        Progress {
            started: Instant::now(),
            last_server: None,
            last_order: None,
            bss: f.order_id.filter(|id| !id.is_empty()),
            paid: false,
            unpaid: false,
            reported_pending: false,
            completed_since: None,
        }
    }

    /// The server's detail; a transient failure past the deadline is a
    /// timeout that says what was seen, a call cut short by Terraform's stop
    /// a stop.
    async fn read_server(&self, client: &Client, f: &Follow<'_>) -> Result<Server, FollowError> {
        let e = match client.show_server(f.server_id).await {
            Ok(s) => return Ok(s),
            Err(e) => e,
        };
        let transient = matches!(e, cph::Error::Transport { .. })
            || e.status().is_some_and(|s| s == 429 || s >= 500);
        if transient && Instant::now() >= f.deadline {
            let text = format!("{}; last error: {e}", self.timeout_text(f));
            return Err(FollowError::Ended(WaitEnded::TimedOut(text)));
        }
        if matches!(e, cph::Error::Cancelled) {
            return Err(FollowError::Ended(WaitEnded::Stopped));
        }
        Err(FollowError::ServerUnread(e))
    }

    /// What BSS says of the order, acted on: the end of the wait when the
    /// order is over, a payment when it is pending and `auto_pay` is set.
    /// `server` is the detail read in the same round, if any: a completed
    /// order is judged against it only.
    async fn judge(
        &mut self,
        client: &Client,
        f: &Follow<'_>,
        fate: OrderFate,
        server: Option<&Server>,
        warnings: &mut Vec<String>,
    ) -> Result<(), FollowError> {
        let order_id = self.bss.unwrap_or_default();
        self.unpaid = false;
        let o = match fate {
            OrderFate::Unreadable(why) => {
                warnings.push(bss_unreadable_warning(client, order_id, &why));
                self.bss = None;
                return Ok(());
            }
            OrderFate::Unknown => return Err(FollowError::Unknown(order_id.to_string())),
            OrderFate::Known(o) => o,
        };
        match (o.status, server) {
            (OrderStatus::Cancelled, _) => return Err(FollowError::Cancelled(o)),
            (OrderStatus::Completed, None) => {}
            (OrderStatus::Completed, Some(server)) if !f.target_shown_by(server) => {
                let (since, polls) = self.completed_since.get_or_insert((Instant::now(), 0));
                *polls += 1;
                if *polls >= 3 && since.elapsed() >= COMPLETED_GRACE {
                    let order_id = order_id.to_string();
                    let server = server.clone();
                    return Err(FollowError::CompletedWithoutFlavor { order_id, server });
                }
            }
            (OrderStatus::PendingPayment, _) if f.auto_pay && !self.paid => {
                self.paid = pay(client, order_id, &o).await?;
            }
            (OrderStatus::PendingPayment, _) => {
                self.unpaid = !f.auto_pay;
                if !self.reported_pending {
                    tracing::warn!(
                        order_id,
                        pending_payment_end_time =
                            o.pending_payment_end_time.as_deref().unwrap_or(""),
                        "{}; reading it at most once every 30s after the first minute",
                        pending_payment_note(&o)
                    );
                    self.reported_pending = true;
                }
            }
            _ => self.completed_since = None,
        }
        self.last_order = Some(o);
        Ok(())
    }

    fn log(&self, f: &Follow<'_>, bss_first: bool) {
        let server = self.last_server.as_ref();
        tracing::debug!(
            target: "cph",
            server_id = f.server_id,
            server_model_name = server.map(|s| s.server_model_name.as_str()),
            phone_model_name = server.map(|s| s.phone_model_name.as_str()),
            status = server.map(|s| s.status),
            order_status = self.last_order.as_ref().map(|o| i64::from(o.status)),
            unpaid = self.unpaid,
            bss_first,
            "polled server flavor and order"
        );
    }

    fn timeout_text(&self, f: &Follow<'_>) -> String {
        timeout_text(f, self.started, &self.last_server, &self.last_order)
    }
}

/// Pays an order pending payment (`auto_pay`): true once it is paid, or
/// was paid meanwhile (in the console).
async fn pay(client: &Client, order_id: &str, o: &OrderInfo) -> Result<bool, FollowError> {
    match client.pay_order(order_id).await {
        Ok(()) => {
            tracing::info!(order_id, "paid the order (auto_pay)");
            Ok(true)
        }
        Err(e) if is_not_pending_payment(&e) => Ok(true),
        Err(cph::Error::Cancelled) => Err(FollowError::Ended(WaitEnded::Stopped)),
        Err(error) => Err(FollowError::PayFailed {
            order: o.clone(),
            error,
        }),
    }
}

/// Why BSS cannot tell what became of an order (`e`), and what to do.
fn unreadable_reason(client: &Client, e: &cph::Error) -> String {
    // Each reason is followed by a sentence of ours: no doubled full stop.
    let sentence = |e: &cph::Error| e.to_string().trim_end_matches('.').to_string();
    if e.is_international_account() {
        // BSS's own words, not the credentials refusal wrapped around them:
        // these credentials are right, the endpoint is not.
        let said = match e {
            cph::Error::Refused { cause, .. } => sentence(cause),
            _ => sentence(e),
        };
        let bss = &client.config().bss_endpoint;
        return format!(
            "{said}. BSS at {bss} refuses this account as an international one: its orders are \
             at BSS's international endpoint. Set bss_endpoint = \"{}\", or remove \
             bss_endpoint and the provider finds the right one",
            international_bss(bss)
        );
    }
    format!(
        "{}. Grant the user BSS read (and pay) permissions, or set bss_endpoint",
        sentence(e)
    )
}

/// The international BSS of the cloud whose Chinese-mainland BSS is `bss`.
fn international_bss(bss: &str) -> String {
    match bss.split_once("://bss.") {
        Some((scheme, cloud)) => format!("{scheme}://bss-intl.{cloud}"),
        None => "https://bss-intl.myhuaweicloud.com".to_string(),
    }
}

pub fn bss_unreadable_warning(client: &Client, order_id: &str, why: &str) -> String {
    let mut text = format!(
        "Order {order_id} could not be followed through BSS (billing): {why}. \
         Until then the wait watches only the server, so a cancelled order or one pending \
         payment shows only as a timeout, and auto_pay cannot pay an order left pending."
    );
    if matches!(client.config().credentials, cph::Credentials::Token(_)) {
        text.push_str(TOKEN_SCOPE_HINT);
    }
    text
}

/// Why a token may work for CPH and not for BSS: CPH wants a token scoped to
/// the region's project, BSS, a global service, one scoped to the account.
const TOKEN_SCOPE_HINT: &str = " With auth_token: BSS is a global service and \
     refuses a token scoped to a project; follow orders with access_key/secret_key \
     (or a token scoped to the account's domain, which CPH in turn refuses).";

fn timeout_text(
    f: &Follow<'_>,
    started: Instant,
    server: &Option<Server>,
    order: &Option<OrderInfo>,
) -> String {
    let shown = match server {
        Some(s) => format!(
            "server still shows {} / {} (status {})",
            s.server_model_name, s.phone_model_name, s.status
        ),
        None => "the server could not be read".to_string(),
    };
    let order_text = match order {
        Some(o) if o.status == OrderStatus::PendingPayment => {
            format!("; {}", pending_payment_note(o))
        }
        Some(o) => format!("; BSS says the order is {}", status_name(o.status)),
        None => String::new(),
    };
    format!(
        "flavor change order {} for server {} did not complete within {}: {shown}{order_text}",
        f.order_id.unwrap_or("(unknown)"),
        f.server_id,
        go_duration(f.deadline.saturating_duration_since(started)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client_with(credentials: cph::Credentials) -> Client {
        let config = cph::ClientConfig::new("http://127.0.0.1:9", "cn-east-3", "p1", credentials);
        Client::new(config).expect("a client")
    }

    #[tokio::test]
    async fn a_refused_bss_warning_says_what_scope_a_token_needs_and_only_for_tokens() {
        let token = client_with(cph::Credentials::Token("t".into()));
        let text = bss_unreadable_warning(&token, "CS1", "HTTP 401");
        assert!(text.contains("Order CS1"), "{text}");
        assert!(text.contains("scoped to a project"), "{text}");
        let keys = client_with(cph::Credentials::AkSk {
            access_key: "ak".into(),
            secret_key: "sk".into(),
            security_token: None,
        });
        let text = bss_unreadable_warning(&keys, "CS1", "HTTP 403");
        assert!(!text.contains("auth_token"), "{text}");
    }

    fn order(status: i64) -> OrderInfo {
        OrderInfo {
            order_id: "CS1".into(),
            status: status.into(),
            pending_payment_end_time: Some("2024-08-16T10:00:00Z".into()),
            ..Default::default()
        }
    }

    #[test]
    fn an_international_account_refused_at_a_chinese_bss_is_told_where_its_orders_are() {
        let mut config = cph::ClientConfig::new(
            "http://127.0.0.1:9",
            "cn-east-3",
            "p1",
            cph::Credentials::Token("t".into()),
        );
        config.bss_endpoint = "https://bss.example.test".into();
        let client = Client::new(config).expect("a client");
        let refused = || cph::Error::Api {
            status: 403,
            code: "CBC.0150".into(),
            message: "m".into(),
            request_id: None,
        };
        let wrapped = cph::Error::Refused {
            endpoint: "https://bss.example.test".into(),
            credential_source: "the provider block".into(),
            cause: Box::new(refused()),
        };
        for e in [&refused(), &wrapped] {
            let why = unreadable_reason(&client, e);
            assert!(why.contains("international"), "{why}");
            assert!(why.contains("CBC.0150"), "{why}");
            assert!(!why.contains("refused the credentials"), "{why}");
            assert!(
                why.contains("bss_endpoint = \"https://bss-intl.example.test\""),
                "{why}"
            );
        }
        let denied = cph::Error::Api {
            status: 403,
            code: "CBC.0151".into(),
            message: "m".into(),
            request_id: None,
        };
        let why = unreadable_reason(&client, &denied);
        assert!(!why.contains("international"), "{why}");
        assert!(why.contains("permissions"), "{why}");
        let refused_keys = cph::Error::Refused {
            endpoint: "https://bss.example.test".into(),
            credential_source: "the provider block".into(),
            cause: Box::new(denied),
        };
        let why = unreadable_reason(&client, &refused_keys);
        assert!(!why.contains(".."), "{why}");
        assert_eq!(
            international_bss("http://127.0.0.1:8"),
            "https://bss-intl.myhuaweicloud.com"
        );
    }

    #[test]
    fn bss_codes_are_recognised() {
        let api = |status: u16, code: &str| cph::Error::Api {
            status,
            code: code.into(),
            message: "m".into(),
            request_id: None,
        };
        assert!(is_payment_lapsed(&api(400, "CBC.99003110")));
        assert!(is_not_pending_payment(&api(400, "CBC.99003106")));
        assert!(is_forbidden(&api(403, "CBC.0150")));
        assert!(!is_forbidden(&api(400, "CBC.0100")));
    }

    #[test]
    fn cancelled_and_unknown_orders_are_gone() {
        assert!(OrderFate::Unknown.is_gone());
        assert!(OrderFate::Known(order(4)).is_gone());
        assert!(!OrderFate::Known(order(6)).is_gone());
        assert!(!OrderFate::Known(order(3)).is_gone());
        assert!(!OrderFate::Unreadable("403".into()).is_gone());
    }

    #[test]
    fn errors_say_whether_the_order_is_over() {
        assert!(FollowError::Cancelled(order(4)).order_is_over());
        assert!(FollowError::Unknown("CS1".into()).order_is_over());
        assert!(!FollowError::Ended(WaitEnded::Stopped).order_is_over());
        assert!(!FollowError::ServerUnread(cph::Error::Config("x".into())).order_is_over());
        let denied = FollowError::PayFailed {
            order: order(6),
            error: cph::Error::Api {
                status: 403,
                code: "CBC.0150".into(),
                message: "no permission".into(),
                request_id: None,
            },
        };
        assert!(!denied.order_is_over());
        let m = denied.message();
        assert!(
            m.contains("CS1") && m.contains("2024-08-16T10:00:00Z"),
            "{m}"
        );
    }

    #[test]
    fn a_timeout_pending_payment_names_the_order_and_deadline() {
        let f = Follow {
            server_id: "s1",
            server_model_name: "a",
            phone_model_name: "b",
            order_id: Some("CS1"),
            auto_pay: false,
            deadline: Instant::now(),
        };
        let t = timeout_text(&f, Instant::now(), &None, &Some(order(6)));
        assert!(t.contains("CS1"), "{t}");
        assert!(
            t.contains("pending payment until 2024-08-16T10:00:00Z"),
            "{t}"
        );
        assert!(t.contains("auto_pay = true"), "{t}");
    }
}

//! A flavor change carried out: its deadline, what it reports to the
//! resource, placing the order and following it through the
//! [`OrderBook`](super::OrderBook) until the server shows the target.

use super::*;

/// How long a change may wait, and the setting that says so.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    pub at: Instant,
    pub length: Duration,
    /// The setting to raise, e.g. `timeouts.create`.
    pub setting: &'static str,
}

impl Deadline {
    /// `length` from now.
    pub fn after(length: Duration, setting: &'static str) -> Deadline {
        let at = Instant::now() + length;
        Deadline {
            at,
            length,
            setting,
        }
    }
}

/// A create or update of a server's flavors to carry out.
pub struct FlavorChange {
    /// The server's detail, read at the start of the apply.
    pub server: Server,
    pub target: Flavors,
    /// `extend_param.is_auto_pay` as configured (None: not sent).
    pub auto_pay: Option<bool>,
    pub state: OrderState,
    pub deadline: Deadline,
}

/// What a change did, for the resource to record.
#[derive(Debug)]
pub struct ChangeReport {
    /// The server's latest detail.
    pub server: Server,
    /// The order this apply placed or followed, when its id is known.
    pub order: Option<OrderIds>,
    pub state: OrderState,
    /// Why BSS could not be asked (warnings), and why the change ended
    /// without the target flavors (an error).
    pub findings: Vec<Finding>,
}

impl ChangeReport {
    fn warn(&mut self, detail: String) {
        self.findings.push(Finding::warning(
            "Order not followed through BSS",
            detail,
            None,
        ));
    }

    fn fail(&mut self, detail: String) {
        self.findings
            .push(Finding::error("Flavor change not completed", detail, None));
    }

    /// CPH refused the order or did not answer.
    fn refused(&mut self, target: &Flavors, e: &cph::Error) {
        let mut detail = e.to_string();
        if matches!(e, cph::Error::Transport { .. }) {
            // No answer: the order may have been placed all the same.
            detail.push_str(
                "\nThe request may have reached CPH before the connection failed. \
                 If an order was placed, the next apply waits for it: CPH refuses \
                 a second flavor change while one is in progress.",
            );
        }
        self.findings.push(Finding {
            severity: Severity::Error,
            summary: format!(
                "Failed to change the flavor of server {} to {} / {}",
                self.server.server_id, target.server_model_name, target.phone_model_name
            ),
            detail,
            attribute: Some("server_model_name"),
        });
    }
}

impl OrderBook {
    /// Carries out a change: forgets an order BSS says is gone, decides the
    /// [`Step`], places the order if needed and follows it until the server
    /// shows the target, the order is over, or the wait ends.
    pub async fn carry_out(
        &self,
        client: &Client,
        change: FlavorChange,
        cancel: &CancellationToken,
    ) -> ChangeReport {
        let mut report = ChangeReport {
            server: change.server.clone(),
            order: None,
            state: change.state.clone(),
            findings: Vec::new(),
        };
        if let OrderState::Pending(p) = &report.state {
            match self.tracker.fate(client, &p.order_id).await {
                Ok(OrderFate::Unreadable(why)) => {
                    report.warn(bss_unreadable_warning(client, &p.order_id, &why))
                }
                Ok(fate) => {
                    if fate.is_gone() {
                        tracing::info!(
                            order_id = p.order_id,
                            "the recorded order is gone; ordering again"
                        );
                    }
                    report.state = report.state.clone().judged(&fate);
                }
                Err(_) => {}
            }
        }
        let order_id = match Step::decide(&change.server, &change.target, &report.state) {
            Step::Done => {
                tracing::info!(
                    server_id = change.server.server_id,
                    "server already has the target flavors"
                );
                report.state = OrderState::Settled;
                return report;
            }
            Step::Follow(p) => {
                tracing::info!(
                    order_id = p.order_id,
                    "waiting for the order placed by an earlier apply"
                );
                report.order = Some(OrderIds {
                    order_id: Some(p.order_id.clone()),
                    product_id: None,
                });
                Some(p.order_id)
            }
            Step::WatchServer => None,
            Step::Place => match place(client, &change).await {
                Ok(Placed::Order(ids, pending)) => {
                    let id = pending.order_id.clone();
                    report.order = Some(ids);
                    report.state = OrderState::Pending(pending);
                    Some(id)
                }
                Ok(Placed::AlreadyInProgress) => None,
                Err(e) => {
                    report.refused(&change.target, &e);
                    return report;
                }
            },
        };
        self.follow(client, &change, order_id, cancel, report).await
    }

    async fn follow(
        &self,
        client: &Client,
        change: &FlavorChange,
        order_id: Option<String>,
        cancel: &CancellationToken,
        mut report: ChangeReport,
    ) -> ChangeReport {
        let follow = Follow {
            server_id: &change.server.server_id,
            server_model_name: &change.target.server_model_name,
            phone_model_name: &change.target.phone_model_name,
            order_id: order_id.as_deref(),
            auto_pay: change.auto_pay == Some(true),
            deadline: change.deadline.at,
        };
        let mut warnings = Vec::new();
        let ended = self
            .tracker
            .follow(client, &follow, cancel, &mut warnings)
            .await;
        warnings.into_iter().for_each(|w| report.warn(w));
        report.state = report.state.clone().followed(&ended);
        match ended {
            Ok(server) => report.server = server,
            Err(FollowError::Ended(e)) => {
                report.fail(wait_ended(&e, order_id.as_deref(), &change.deadline))
            }
            Err(FollowError::ServerUnread(e)) => report.fail(format!(
                "While waiting for order {}: {e}",
                order_text(order_id.as_deref())
            )),
            Err(e) => report.fail(e.message()),
        }
        report
    }
}

/// What placing an order came to.
pub(super) enum Placed {
    Order(OrderIds, PendingOrder),
    /// CPH refuses a second order while one is in progress (say, one whose
    /// answer was lost on the way): watch the server instead.
    AlreadyInProgress,
}

pub(super) async fn place(client: &Client, change: &FlavorChange) -> cph::Result<Placed> {
    let server_id = change.server.server_id.clone();
    let order = ChangeServerModelRequest {
        server_id: server_id.clone(),
        server_model_name: change.target.server_model_name.clone(),
        phone_model_name: change.target.phone_model_name.clone(),
        extend_param: change.auto_pay.map(|pay| ExtendParam {
            is_auto_pay: Some(i32::from(pay)),
        }),
    };
    match client.change_server_model(&order).await {
        Ok(resp) => {
            tracing::info!(server_id, order_id = resp.order_id, "flavor change ordered");
            let pending = PendingOrder {
                order_id: resp.order_id.clone(),
                target: change.target.clone(),
            };
            let ids = OrderIds {
                order_id: Some(resp.order_id),
                product_id: Some(resp.product_id),
            };
            Ok(Placed::Order(ids, pending))
        }
        Err(e) if e.is_order_in_progress() => {
            tracing::info!(server_id, "an order is already in progress; waiting for it");
            Ok(Placed::AlreadyInProgress)
        }
        Err(e) => Err(e),
    }
}

/// The order in words: its id, or "in progress" when it is not known.
pub(super) fn order_text(order_id: Option<&str>) -> String {
    order_id.map_or_else(|| "in progress".to_string(), |id| id.to_string())
}

/// Why a wait for an order ended without the target flavors, and what the
/// next apply does.
pub(super) fn wait_ended(ended: &WaitEnded, order_id: Option<&str>, deadline: &Deadline) -> String {
    let order = order_text(order_id);
    match ended {
        WaitEnded::TimedOut(msg) => format!(
            "{msg}. The order {order} stays recorded; the next apply waits for it without ordering again. \
             An upgrade without auto_pay waits for payment in the console. Raise {} (now {}) if the change needs longer.",
            deadline.setting,
            go_duration(deadline.length),
        ),
        WaitEnded::Stopped => format!(
            "Stopped while waiting for order {order}; it stays recorded and the next apply waits for it without ordering again."
        ),
    }
}

//! The plan-time check of a flavor change against the catalogue and the
//! server's current flavors: an unknown server flavor, a phone flavor not
//! sold on it or withdrawn, or another phone capacity is refused, naming the
//! setting to fix and the valid targets; an upgrade without `auto_pay` is
//! a warning. What cannot be read (server, catalogue) is a warning and the
//! plan goes on: the API judges at apply.

use super::catalogue::{Catalogue, CatalogueCache, Pair, Refusal};
use super::flavor_orders::Flavors;
use crate::cph::Client;
use crate::cph::models::Server;

/// How grave a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// What the check (or a change, `flavor_orders`) found, for the resource
/// to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    pub summary: String,
    pub detail: String,
    /// The setting the finding is about, when it is one.
    pub attribute: Option<&'static str>,
}

impl Finding {
    pub fn warning(summary: &str, detail: String, attribute: Option<&'static str>) -> Self {
        Finding {
            severity: Severity::Warning,
            summary: summary.to_string(),
            detail,
            attribute,
        }
    }

    pub fn error(summary: &str, detail: String, attribute: Option<&'static str>) -> Self {
        Finding {
            severity: Severity::Error,
            ..Finding::warning(summary, detail, attribute)
        }
    }
}

/// A flavor change proposed by a plan.
pub struct Proposed<'a> {
    pub server_id: &'a str,
    pub target: &'a Flavors,
    pub auto_pay: bool,
}

impl<'a> Proposed<'a> {
    pub fn new(server_id: &'a str, target: &'a Flavors, auto_pay: bool) -> Self {
        Proposed {
            server_id,
            target,
            auto_pay,
        }
    }
}

/// Checks `proposed` (see the module doc); None when all is well or when
/// the server does not exist (judged where the server is read).
pub async fn check(
    catalogue: &CatalogueCache,
    client: &Client,
    proposed: &Proposed<'_>,
) -> Option<Finding> {
    let server_id = proposed.server_id;
    let server = match client.show_server(server_id).await {
        Ok(s) => s,
        Err(e) if e.is_not_found() => return None,
        Err(e) => {
            return Some(Finding::warning(
                "Flavor change not checked",
                format!(
                    "Server {server_id} could not be read, so the target flavors are not checked at plan: {e}"
                ),
                Some("server_id"),
            ));
        }
    };
    if proposed.target.shown_by(&server) {
        return None;
    }
    let target = proposed.target;
    let catalogue = match catalogue.get(client).await {
        Ok(c) => c,
        Err(why) => {
            return Some(Finding::warning(
                "Flavor catalogue not readable",
                format!(
                    "The flavor catalogue (server-models, phone-models) could not be read, so \
                     {} / {} is not checked at plan; CPH judges it when the order is placed. {why}",
                    target.server_model_name, target.phone_model_name
                ),
                None,
            ));
        }
    };
    judge(&catalogue, &server, proposed)
}

/// The judgement once the server and the catalogue are known.
fn judge(catalogue: &Catalogue, server: &Server, proposed: &Proposed<'_>) -> Option<Finding> {
    let (sm, pm) = (
        proposed.target.server_model_name.as_str(),
        proposed.target.phone_model_name.as_str(),
    );
    let current = catalogue.pair(&server.server_model_name, &server.phone_model_name);
    if let Err(refusal) = catalogue.check(current.as_ref(), sm, pm) {
        let detail = format!(
            "{} {}",
            refusal_detail(&refusal, server, sm, pm),
            valid_targets(catalogue, current.as_ref(), server)
        );
        let summary = refusal_summary(&refusal);
        return Some(Finding::error(summary, detail, Some(refusal.attribute())));
    }
    let upgrade = current.as_ref().zip(catalogue.pair(sm, pm));
    if !upgrade.is_some_and(|(from, to)| to.is_upgrade_from(from)) || proposed.auto_pay {
        return None;
    }
    Some(Finding::warning(
        "Upgrade waits for payment",
        format!(
            "{sm} / {pm} is an upgrade of server {} (now {} / {}). Without auto_pay = true the \
             order waits, pending payment, until it is paid in the Huawei Cloud console; the \
             apply waits for it until its timeout.",
            server.server_id, server.server_model_name, server.phone_model_name
        ),
        Some("auto_pay"),
    ))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::catalogue::tests::emulator_catalogue;

    fn server() -> Server {
        Server {
            server_id: "s1".into(),
            server_model_name: "physical.rx1.xlarge".into(),
            phone_model_name: "rx1.cp.c15.d46.e1v1".into(),
            status: 5,
            ..Default::default()
        }
    }

    fn judged(sm: &str, pm: &str, auto_pay: bool) -> Option<Finding> {
        let target = Flavors {
            server_model_name: sm.into(),
            phone_model_name: pm.into(),
        };
        let proposed = Proposed {
            server_id: "s1",
            target: &target,
            auto_pay,
        };
        judge(&emulator_catalogue(), &server(), &proposed)
    }

    #[test]
    fn a_refusal_names_the_attribute_and_the_valid_targets() {
        let f = judged("physical.rx9.none", "rx1.cp.c15.d46.e1v1", true).unwrap();
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(f.attribute, Some("server_model_name"));
        assert!(
            f.detail.contains("Valid targets for server s1"),
            "{}",
            f.detail
        );
        let f = judged("physical.rx1.xlarge.special", "rx1.cp.sp.c52.d4.e5v5", true).unwrap();
        assert_eq!(f.summary, "Phone flavor of another phone capacity");
        assert_eq!(f.attribute, Some("phone_model_name"));
        assert!(
            f.detail.contains("holds 30") && f.detail.contains("holds 15"),
            "{}",
            f.detail
        );
    }

    #[test]
    fn an_upgrade_without_auto_pay_warns_at_auto_pay() {
        let up = ("physical.rx1.xlarge.special", "rx1.cp.sp.c105.d8.e5v5");
        let f = judged(up.0, up.1, false).unwrap();
        assert_eq!(
            (f.severity, f.summary.as_str(), f.attribute),
            (
                Severity::Warning,
                "Upgrade waits for payment",
                Some("auto_pay")
            )
        );
        assert_eq!(judged(up.0, up.1, true), None);
    }
}

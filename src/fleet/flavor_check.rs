//! The plan-time check of a flavor change against the catalogue and the
//! server's current flavors: a server that does not exist is refused at
//! `server_id` (a warning when a refresh of this plan just removed it from
//! the state); a target [`Catalogue::check`] refuses (an unknown server
//! flavor, another product type, a phone flavor not sold on it or withdrawn,
//! another phone capacity) is refused naming the setting to fix and the
//! valid targets, the same rule as `cph_server_flavor_options`; an upgrade
//! without `auto_pay` is a warning. What cannot be read (server, catalogue)
//! is a warning and the plan goes on: the API judges at apply. Reads only.

use super::catalogue::{Catalogue, CatalogueCache, FlavorRefusal, Pair};
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
    /// None while the target flavors are unknown (known after apply): then
    /// only the server's existence is checked.
    pub target: Option<&'a Flavors>,
    pub auto_pay: bool,
    /// The server was in the state until a refresh in this process found it
    /// gone: its absence is a warning (the destroy of what was built on it
    /// must stay possible), not the error a new resource gets.
    pub vanished: bool,
}

/// Checks `proposed` (see the module doc); None when all is well.
pub async fn check(
    catalogue: &CatalogueCache,
    client: &Client,
    proposed: &Proposed<'_>,
) -> Option<Finding> {
    let server_id = proposed.server_id;
    let server = match client.show_server(server_id).await {
        Ok(s) => s,
        Err(e) if e.is_not_found() => {
            return Some(server_missing(server_id, &e, proposed.vanished));
        }
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
    let target = proposed.target?;
    if target.shown_by(&server) {
        return None;
    }
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
    judge(&catalogue, &server, target, proposed.auto_pay)
}

/// A `server_id` that names no server: refused at plan, before any order;
/// a warning when the server `vanished` from the state in this plan.
fn server_missing(server_id: &str, e: &crate::cph::Error, vanished: bool) -> Finding {
    let summary = "Cloud phone server not found";
    if vanished {
        let detail = format!(
            "Server {server_id:?} was deleted outside Terraform ({e}): its cph_server_flavor has \
             left the state and is planned anew, which its apply cannot do. Remove the resource \
             from the configuration; destroying it needs nothing."
        );
        return Finding::warning(summary, detail, Some("server_id"));
    }
    let detail = format!(
        "server_id {server_id:?} names no cloud phone server of this project ({e}), so its \
         flavor cannot be changed. Check the id (data source cph_servers lists the project's \
         servers)."
    );
    Finding::error(summary, detail, Some("server_id"))
}

/// The judgement once the server and the catalogue are known.
fn judge(
    catalogue: &Catalogue,
    server: &Server,
    target: &Flavors,
    auto_pay: bool,
) -> Option<Finding> {
    let (sm, pm) = (
        target.server_model_name.as_str(),
        target.phone_model_name.as_str(),
    );
    let current = catalogue.pair(&server.server_model_name, &server.phone_model_name);
    let admitted = match catalogue.check(current.as_ref(), sm, pm) {
        Ok(pair) => pair,
        Err(refusal) => {
            let detail = format!(
                "{} {}",
                refusal_detail(&refusal, server, sm, pm),
                valid_targets(catalogue, current.as_ref(), server)
            );
            let summary = refusal_summary(&refusal);
            return Some(Finding::error(summary, detail, Some(refusal.attribute())));
        }
    };
    let Some(current) = current else {
        return Some(Finding::warning(
            "Current flavors not in the catalogue",
            format!(
                "Server {} is on {} / {}, which the flavor catalogue does not list, so only that \
                 {sm} / {pm} exists and is on sale is checked at plan (cph_server_flavor_options \
                 lists no targets); CPH judges the rest when the order is placed.",
                server.server_id, server.server_model_name, server.phone_model_name
            ),
            Some("server_id"),
        ));
    };
    if !admitted.is_upgrade_from(&current) || auto_pay {
        return None;
    }
    Some(Finding::warning(
        "Upgrade waits for payment",
        format!(
            "{sm} / {pm} is an upgrade of server {} (now {} / {}). Without auto_pay = true the \
             order waits, pending payment, until it is paid in the Huawei Cloud console; the \
             apply waits for it until its timeout (20m by default), reading the order at most \
             once every 30 seconds after the first minute. To keep a pipeline from blocking, \
             set a short timeouts.create (timeouts.update for a change), e.g. \"2m\": the \
             apply then fails naming the order, and the next apply follows the same order \
             (never a second one) once it is paid, or pays it with auto_pay = true.",
            server.server_id, server.server_model_name, server.phone_model_name
        ),
        Some("auto_pay"),
    ))
}

fn refusal_summary(r: &FlavorRefusal) -> &'static str {
    match r {
        FlavorRefusal::UnknownServerFlavor => "Unknown server flavor",
        FlavorRefusal::ProductType { .. } => "Server flavor of another product type",
        FlavorRefusal::NotSold => "Phone flavor not sold on this server flavor",
        FlavorRefusal::Withdrawn => "Phone flavor withdrawn",
        FlavorRefusal::Capacity { .. } => "Phone flavor of another phone capacity",
    }
}

fn refusal_detail(
    r: &FlavorRefusal,
    server: &Server,
    server_model: &str,
    phone_model: &str,
) -> String {
    match r {
        FlavorRefusal::UnknownServerFlavor => format!(
            "server_model_name {server_model:?} is not a server flavor of the CPH catalogue."
        ),
        FlavorRefusal::ProductType { target, current } => format!(
            "server_model_name {server_model:?} is a {} flavor (product type {target}), but server \
             {} is a {} server ({} / {}, product type {current}): a flavor change keeps the \
             product type.",
            product_name(*target),
            server.server_id,
            product_name(*current),
            server.server_model_name,
            server.phone_model_name
        ),
        FlavorRefusal::NotSold => format!(
            "phone_model_name {phone_model:?} is not sold on server flavor {server_model:?}."
        ),
        FlavorRefusal::Withdrawn => format!(
            "phone_model_name {phone_model:?} is withdrawn (status 0) on server flavor {server_model:?}."
        ),
        FlavorRefusal::Capacity { target, current } => format!(
            "phone_model_name {phone_model:?} holds {target} phones per server, but server {} \
             now holds {current} ({} / {}): a flavor change keeps the phone capacity.",
            server.server_id, server.server_model_name, server.phone_model_name
        ),
    }
}

/// A product type in words.
fn product_name(product_type: i64) -> &'static str {
    match product_type {
        0 => "cloud phone",
        1 => "cloud game",
        _ => "other",
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
        judge(&emulator_catalogue(), &server(), &target, auto_pay)
    }

    #[test]
    fn another_product_type_is_refused_at_server_model_name_listing_the_targets() {
        let f = judged("physical.kg1.4xlarge.cp", "kg1.cp.c15.d46.e1v1", true).unwrap();
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(f.summary, "Server flavor of another product type");
        assert_eq!(f.attribute, Some("server_model_name"));
        for word in [
            "cloud game flavor (product type 1)",
            "cloud phone server",
            "Valid targets for server s1",
            "physical.rx1.2xlarge.special / rx1.cp.sp.c210.d16.e5v5",
        ] {
            assert!(f.detail.contains(word), "{word:?}: {}", f.detail);
        }
        assert!(!f.detail.contains("  - physical.kg1"), "{}", f.detail);
    }

    /// The plan refuses exactly what `cph_server_flavor_options` leaves out:
    /// every pair of the catalogue but the current one, judged.
    #[test]
    fn the_plan_refuses_exactly_the_pairs_the_options_leave_out() {
        let c = emulator_catalogue();
        let s = server();
        let current = c.pair(&s.server_model_name, &s.phone_model_name).unwrap();
        let options: Vec<_> = c
            .targets_from(&current)
            .iter()
            .map(|p| (p.server.name.clone(), p.phone.phone_model_name.clone()))
            .collect();
        let mut refused = 0;
        for p in c
            .phones
            .iter()
            .filter(|p| p.phone_model_name != s.phone_model_name)
        {
            let f = judged(&p.server_model_name, &p.phone_model_name, true);
            let is_refused = f.as_ref().is_some_and(|f| f.severity == Severity::Error);
            let listed =
                options.contains(&(p.server_model_name.clone(), p.phone_model_name.clone()));
            assert_eq!(is_refused, !listed, "{p:?}: {f:?}");
            refused += usize::from(is_refused);
        }
        assert!(refused >= 5 && !options.is_empty(), "{refused} {options:?}");
    }

    #[test]
    fn current_flavors_unknown_to_the_catalogue_warn_at_server_id() {
        let mut s = server();
        s.phone_model_name = "rx1.cp.unlisted".into();
        let target = Flavors {
            server_model_name: "physical.rx1.xlarge.special".into(),
            phone_model_name: "rx1.cp.sp.c105.d8.e5v5".into(),
        };
        let f = judge(&emulator_catalogue(), &s, &target, true).unwrap();
        assert_eq!(
            (f.severity, f.attribute),
            (Severity::Warning, Some("server_id"))
        );
    }

    #[test]
    fn a_missing_server_is_an_error_at_server_id() {
        let e = crate::cph::Error::Api {
            status: 404,
            code: "CPS.0005".into(),
            message: "not found".into(),
            request_id: None,
        };
        let f = server_missing("s9", &e, false);
        assert_eq!(
            (f.severity, f.attribute),
            (Severity::Error, Some("server_id"))
        );
        let gone = server_missing("s9", &e, true);
        assert_eq!(
            (gone.severity, gone.attribute),
            (Severity::Warning, Some("server_id"))
        );
        assert!(
            gone.detail.contains("deleted outside Terraform"),
            "{}",
            gone.detail
        );
        assert!(
            f.detail.contains("\"s9\"") && f.detail.contains("cph_servers"),
            "{}",
            f.detail
        );
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
        assert!(f.detail.contains("timeouts.create"), "{}", f.detail);
        assert!(f.detail.contains("same order"), "{}", f.detail);
        assert_eq!(judged(up.0, up.1, true), None);
    }
}

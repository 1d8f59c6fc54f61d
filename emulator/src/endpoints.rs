//! The API's endpoints by name: the names used by call counters and faults,
//! and the classification of a method and path into one of them (the gateway
//! uses it before routing, so that unauthenticated calls count too).

use axum::http::Method;

pub const CHANGE_SERVER_MODEL: &str = "change_server_model";
pub const PHONES_TRAFFIC: &str = "phones_traffic";
pub const SHOW_SERVER: &str = "show_server";
pub const LIST_SERVERS: &str = "list_servers";
pub const SHOW_PHONE: &str = "show_phone";
pub const LIST_PHONES: &str = "list_phones";
pub const SHOW_JOB: &str = "show_job";
pub const LIST_JOBS: &str = "list_jobs";
pub const LIST_SERVER_MODELS: &str = "list_server_models";
pub const LIST_PHONE_MODELS: &str = "list_phone_models";
pub const IAM_TOKENS: &str = "iam_tokens";
pub const IAM_PROJECTS: &str = "iam_projects";
pub const IAM_DOMAINS: &str = "iam_domains";
pub const IAM_SECURITY_TOKENS: &str = "iam_securitytokens";
pub const BSS_SHOW_ORDER: &str = "bss_show_order";
pub const BSS_PAY_ORDER: &str = "bss_pay_order";
pub const BSS_CANCEL_ORDER: &str = "bss_cancel_order";
pub const RESTART_PHONES: &str = "restart_phones";
pub const RESET_PHONES: &str = "reset_phones";
pub const STOP_PHONES: &str = "stop_phones";
pub const RESTART_SERVERS: &str = "restart_servers";
pub const BSS_SERVICE_TYPES: &str = "bss_service_types";
pub const UPDATE_PHONE_PROPERTY: &str = "update_phone_property";
pub const PHONE_COMMANDS: &str = "phone_commands";
pub const PHONE_CONNECTION: &str = "phone_connection";
/// Where BSS's international endpoint is served (same port).
pub const BSS_INTL_PREFIX: &str = "/intl";

pub const ENDPOINT_NAMES: [&str; 25] = [
    CHANGE_SERVER_MODEL,
    PHONES_TRAFFIC,
    SHOW_SERVER,
    LIST_SERVERS,
    SHOW_PHONE,
    LIST_PHONES,
    SHOW_JOB,
    LIST_JOBS,
    LIST_SERVER_MODELS,
    LIST_PHONE_MODELS,
    IAM_TOKENS,
    IAM_PROJECTS,
    IAM_DOMAINS,
    IAM_SECURITY_TOKENS,
    BSS_SHOW_ORDER,
    BSS_PAY_ORDER,
    BSS_CANCEL_ORDER,
    RESTART_PHONES,
    RESET_PHONES,
    STOP_PHONES,
    RESTART_SERVERS,
    BSS_SERVICE_TYPES,
    UPDATE_PHONE_PROPERTY,
    PHONE_COMMANDS,
    PHONE_CONNECTION,
];

/// A classified API call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub name: &'static str,
    /// The `{project_id}` path segment (None for IAM and BSS).
    pub project_id: Option<String>,
    /// Whether the gateway authenticates it (every call but IAM's tokens).
    pub authenticated: bool,
    /// A global service (BSS): AK/SK calls must sign `X-Domain-Id`.
    pub global: bool,
}

/// Which endpoint `method path` is, if any. Must agree with `api::router`.
pub fn classify(method: &Method, path: &str) -> Option<Endpoint> {
    if path == "/v3/auth/tokens" {
        return (method == Method::POST).then_some(Endpoint {
            name: IAM_TOKENS,
            project_id: None,
            authenticated: false,
            global: false,
        });
    }
    let iam = match (method.as_str(), path) {
        ("GET", "/v3/projects") => Some(IAM_PROJECTS),
        ("GET", "/v3/auth/domains") => Some(IAM_DOMAINS),
        ("POST", "/v3.0/OS-CREDENTIAL/securitytokens") => Some(IAM_SECURITY_TOKENS),
        _ => None,
    };
    if let Some(name) = iam {
        return Some(Endpoint {
            name,
            project_id: None,
            authenticated: true,
            global: false,
        });
    }
    if let Some(name) = classify_bss(method, path) {
        return Some(Endpoint {
            name,
            project_id: None,
            authenticated: true,
            global: true,
        });
    }
    let rest = path.strip_prefix("/v1/")?;
    let segments: Vec<&str> = rest.split('/').collect();
    let (project, tail) = segments.split_first()?;
    if project.is_empty() || tail.first() != Some(&"cloud-phone") {
        return None;
    }
    let nonempty = |s: &&str| !s.is_empty();
    let name = match (method.as_str(), &tail[1..]) {
        ("POST", ["servers", "change-server-model"]) => CHANGE_SERVER_MODEL,
        ("POST", ["phones-traffic"]) => PHONES_TRAFFIC,
        ("GET", ["servers"]) => LIST_SERVERS,
        ("POST", ["phones", "batch-restart"]) => RESTART_PHONES,
        ("POST", ["phones", "batch-reset"]) => RESET_PHONES,
        ("POST", ["phones", "batch-stop"]) => STOP_PHONES,
        ("POST", ["servers", "batch-restart"]) => RESTART_SERVERS,
        ("POST", ["phones", "batch-update-property"]) => UPDATE_PHONE_PROPERTY,
        ("POST", ["phones", "commands"]) => PHONE_COMMANDS,
        ("POST", ["phones", "batch-connection"]) => PHONE_CONNECTION,
        ("GET", ["servers", id]) if nonempty(id) && *id != "change-server-model" => SHOW_SERVER,
        ("GET", ["phones"]) => LIST_PHONES,
        ("GET", ["phones", id]) if nonempty(id) => SHOW_PHONE,
        ("GET", ["jobs"]) => LIST_JOBS,
        ("GET", ["jobs", id]) if nonempty(id) => SHOW_JOB,
        ("GET", ["server-models"]) => LIST_SERVER_MODELS,
        ("GET", ["phone-models"]) => LIST_PHONE_MODELS,
        _ => return None,
    };
    Some(Endpoint {
        name,
        project_id: Some((*project).to_string()),
        authenticated: true,
        global: false,
    })
}

/// The BSS (billing) calls: no project id in their paths; the same under
/// the international endpoint's prefix.
fn classify_bss(method: &Method, path: &str) -> Option<&'static str> {
    let path = path.strip_prefix(BSS_INTL_PREFIX).unwrap_or(path);
    match (method.as_str(), path) {
        ("GET", "/v2/products/service-types") => Some(BSS_SERVICE_TYPES),
        ("POST", "/v3/orders/customer-orders/pay") => Some(BSS_PAY_ORDER),
        ("PUT", "/v2/orders/customer-orders/cancel") => Some(BSS_CANCEL_ORDER),
        ("GET", p) => {
            let id = p.strip_prefix("/v2/orders/customer-orders/details/")?;
            (!id.is_empty() && !id.contains('/')).then_some(BSS_SHOW_ORDER)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_known_paths() {
        let p = "/v1/abc/cloud-phone";
        let c = |m: Method, path: String| classify(&m, &path).map(|e| e.name);
        assert_eq!(c(Method::GET, format!("{p}/servers")), Some(LIST_SERVERS));
        assert_eq!(c(Method::GET, format!("{p}/servers/x")), Some(SHOW_SERVER));
        assert_eq!(
            c(Method::POST, format!("{p}/servers/change-server-model")),
            Some(CHANGE_SERVER_MODEL)
        );
        assert_eq!(
            c(Method::POST, format!("{p}/phones-traffic")),
            Some(PHONES_TRAFFIC)
        );
        assert_eq!(
            c(Method::POST, format!("{p}/phones/batch-update-property")),
            Some(UPDATE_PHONE_PROPERTY)
        );
        assert_eq!(
            c(Method::POST, format!("{p}/phones/commands")),
            Some(PHONE_COMMANDS)
        );
        assert_eq!(
            c(Method::POST, format!("{p}/phones/batch-connection")),
            Some(PHONE_CONNECTION)
        );
        assert_eq!(c(Method::DELETE, format!("{p}/servers/x")), None);
        assert_eq!(c(Method::GET, format!("{p}/servers/")), None);
        assert_eq!(c(Method::GET, format!("{p}/nope")), None);
        assert_eq!(c(Method::POST, "/v3/auth/tokens".into()), Some(IAM_TOKENS));
        assert_eq!(c(Method::GET, "/v3/projects".into()), Some(IAM_PROJECTS));
        assert_eq!(c(Method::GET, "/v3/auth/domains".into()), Some(IAM_DOMAINS));
        assert_eq!(c(Method::POST, "/v3/auth/domains".into()), None);
        assert_eq!(
            c(Method::GET, "/v2/orders/customer-orders/details/CS1".into()),
            Some(BSS_SHOW_ORDER)
        );
        assert_eq!(
            c(Method::GET, "/v2/orders/customer-orders/details/".into()),
            None
        );
        assert_eq!(
            c(Method::POST, "/v3/orders/customer-orders/pay".into()),
            Some(BSS_PAY_ORDER)
        );
        assert_eq!(
            c(Method::PUT, "/v2/orders/customer-orders/cancel".into()),
            Some(BSS_CANCEL_ORDER)
        );
        assert_eq!(
            c(Method::POST, "/v2/orders/customer-orders/cancel".into()),
            None
        );
    }
}

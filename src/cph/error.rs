//! Typed CPH errors that keep what a person needs to act: HTTP status, the
//! API's `error_code` and `error_msg`, and the request id.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    /// The API answered with an error body.
    #[error("{}", render_api(.status, .code, .message, .request_id))]
    Api {
        status: u16,
        code: String,
        message: String,
        request_id: Option<String>,
    },
    /// No usable answer: connection (DNS, refused, TLS) or timeout failure
    /// after all retries. `host` is the `host:port` called; `url` names the
    /// call (`GET /v1/...`, no query string); `connect_to` is set (to
    /// `host`) when no connection could be made (nothing was sent), `None`
    /// when the failure came later. `setting` names the provider setting
    /// that chose the host, when the client knows it.
    #[error("{}", render_transport(self))]
    Transport {
        host: String,
        url: String,
        message: String,
        connect_to: Option<String>,
        setting: Option<String>,
    },
    /// The answer could not be understood.
    #[error("unexpected response from {url}: {message}")]
    Decode { url: String, message: String },
    /// An IAM call (a token, the project or account look-up) failed;
    /// `cause` keeps how: unreachable ([`Error::Transport`]), refused (401,
    /// 403, an API gateway auth code) or another answer.
    #[error("IAM at {url}: {cause}")]
    Iam { url: String, cause: Box<Error> },
    /// IAM answered, but would not give the agency's temporary keys (a
    /// refusal, an error answer, or an answer without keys). An agency
    /// that cannot be reached is an [`Error::Iam`] instead.
    #[error("cannot assume agency {agency:?} at IAM {url}: {cause}")]
    AgencyRefused {
        agency: String,
        url: String,
        cause: Box<Error>,
    },
    /// The configuration cannot work (bad endpoint, missing credentials).
    #[error("invalid client configuration: {0}")]
    Config(String),
    /// Terraform asked the provider to stop before the call was sent.
    #[error("cancelled: Terraform asked the provider to stop")]
    Cancelled,
    /// Terraform asked the provider to stop while a write was out, and how
    /// it ended is not known (its answer did not come in time, or it failed
    /// in a way that may still have taken effect): count it as done.
    #[error("stopped with a call that may have taken effect: {0}")]
    Unsettled(Box<Error>),
    /// The API refused the credentials in use (HTTP 401 or 403, or an API
    /// gateway authentication code): every other call would be refused too.
    /// Its status, code and request id are the API error's (`cause`).
    #[error(
        "{endpoint} refused the credentials in use ({credential_source}): {cause}. \
         Check these credentials and their permissions on this project; the refused call changed nothing."
    )]
    Refused {
        endpoint: String,
        credential_source: String,
        cause: Box<Error>,
    },
}

/// API gateway `error_code`s about who calls (authentication and
/// authorization; `APIGW.0301` is "incorrect IAM authentication information").
const AUTH_CODE_PREFIXES: &[&str] = &[
    "APIGW.0301",
    "APIGW.0302",
    "APIGW.0303",
    "APIGW.0304",
    "APIGW.0305",
    "APIGW.0306",
    "APIGW.0307",
];

/// `error_code`s meaning "no such object", as the CPH API reference's error
/// code table has them: `CPS.0005` a phone that does not exist, `CPS.0016`
/// a server id that is not valid (the code of a server that does not exist).
const NOT_FOUND_CODES: &[&str] = &["CPS.0005", "CPS.0016"];

/// What the account's state keeps the API from doing, by the reference's
/// account-state codes: the code, what it means, and what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountState {
    pub code: &'static str,
    pub meaning: &'static str,
    pub remedy: &'static str,
}

/// The reference's account-state codes: the account (not the phone or the
/// server) keeps the call from being served.
const ACCOUNT_STATES: &[AccountState] = &[
    AccountState {
        code: "CPS.0006",
        meaning: "the account is in arrears (restricted)",
        remedy: "top up the account, then run Terraform again",
    },
    AccountState {
        code: "CPS.0007",
        meaning: "the account is frozen (suspended)",
        remedy: "contact Huawei Cloud customer service",
    },
    AccountState {
        code: "CPS.0008",
        meaning: "the account has not completed real-name authentication",
        remedy: "complete real-name authentication in the console, then run Terraform again",
    },
];

impl AccountState {
    /// The state an `error_code` names, if it is an account-state code.
    pub fn of_code(code: &str) -> Option<AccountState> {
        ACCOUNT_STATES.iter().copied().find(|s| s.code == code)
    }
}

impl std::fmt::Display for AccountState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}; nothing is served for this account until then: {}",
            self.code, self.meaning, self.remedy
        )
    }
}
/// BSS `error_code`s meaning "no such order" (`CBC.30000010` in BSS's error
/// code list as far as this project knows it; HTTP 404 counts too).
const ORDER_NOT_FOUND_CODES: &[&str] = &["CBC.30000010"];
/// `error_code` of a flavor change refused because the server already has an
/// order in progress.
const ORDER_IN_PROGRESS_CODE: &str = "CPS.0040";
/// The codes BSS's Chinese-mainland endpoint refuses an international
/// account with (the official provider's probe reads them the same way).
const INTERNATIONAL_ACCOUNT_CODES: &[&str] = &["CBC.0150", "CBC.0156"];

fn render_api(status: &u16, code: &str, message: &str, request_id: &Option<String>) -> String {
    let mut s = if code.is_empty() {
        format!("HTTP {status}: {message}")
    } else {
        format!("{code}: {message}")
    };
    if let Some(id) = request_id {
        s.push_str(&format!(" (HTTP {status}, request {id})"));
    } else {
        s.push_str(&format!(" (HTTP {status})"));
    }
    if let Some(state) = AccountState::of_code(code) {
        s.push_str(&format!(
            ". {}: {}; nothing is changed or forgotten, {}",
            state.code, state.meaning, state.remedy
        ));
    }
    s
}

/// True for an `error_code` meaning "no such object" (server or phone);
/// never an account-state code ([`AccountState`]).
pub fn is_not_found_code(code: &str) -> bool {
    NOT_FOUND_CODES.contains(&code)
}

fn render_transport(e: &Error) -> String {
    let Error::Transport {
        host,
        url,
        message,
        connect_to,
        setting,
    } = e
    else {
        return String::new();
    };
    let mut s = match connect_to {
        Some(_) => format!("could not reach {host} ({message}): {url} was not sent"),
        None => format!("could not reach {host} ({message}): no answer to {url}"),
    };
    if let Some(setting) = setting {
        s.push_str(&format!("; {host} is chosen by {setting}"));
    }
    s
}

impl Error {
    /// True when the API said the addressed object does not exist: HTTP 404,
    /// or the reference's codes for a missing phone (`CPS.0005`) or server
    /// (`CPS.0016`) whatever the status. Never an account-state code: an
    /// account in arrears or frozen does not make its phones vanish.
    pub fn is_not_found(&self) -> bool {
        match self {
            Error::Api { status, code, .. } => {
                AccountState::of_code(code).is_none()
                    && (*status == 404 || NOT_FOUND_CODES.contains(&code.as_str()))
            }
            _ => false,
        }
    }

    /// The account state the API refused the call for (arrears, frozen,
    /// not verified), if that is why it failed.
    pub fn account_state(&self) -> Option<AccountState> {
        match self {
            Error::Api { code, .. } => AccountState::of_code(code),
            Error::Refused { cause, .. } | Error::Unsettled(cause) => cause.account_state(),
            _ => None,
        }
    }

    /// True when no answer came: the host could not be reached (DNS,
    /// connection refused, TLS) or did not answer, at CPH, BSS or IAM.
    pub fn is_unreachable(&self) -> bool {
        match self {
            Error::Transport { .. } => true,
            Error::Iam { cause, .. } => cause.is_unreachable(),
            _ => false,
        }
    }

    /// The host that could not be reached (see [`Error::is_unreachable`]).
    pub fn unreachable_host(&self) -> Option<&str> {
        match self {
            Error::Transport { host, .. } => Some(host),
            Error::Iam { cause, .. } => cause.unreachable_host(),
            _ => None,
        }
    }

    /// Names, in a transport failure, the setting that chose its host:
    /// `setting_of(host)` gives it (`None`: not known). Other errors, and
    /// one whose setting is named already, are returned as they are.
    pub fn naming_setting(self, setting_of: &dyn Fn(&str) -> Option<String>) -> Error {
        match self {
            Error::Transport {
                host,
                url,
                message,
                connect_to,
                setting: None,
            } => Error::Transport {
                setting: setting_of(&host),
                host,
                url,
                message,
                connect_to,
            },
            Error::Iam { url, cause } => Error::Iam {
                url,
                cause: Box::new(cause.naming_setting(setting_of)),
            },
            Error::Unsettled(cause) => Error::Unsettled(Box::new(cause.naming_setting(setting_of))),
            other => other,
        }
    }

    /// True when BSS says the order does not exist: HTTP 404, or an order
    /// code BSS uses for an unknown order.
    pub fn is_order_not_found(&self) -> bool {
        self.is_not_found()
            || self
                .code()
                .is_some_and(|c| ORDER_NOT_FOUND_CODES.contains(&c))
    }

    /// True when a flavor change was refused because another order for the
    /// server is still in progress.
    pub fn is_order_in_progress(&self) -> bool {
        self.code() == Some(ORDER_IN_PROGRESS_CODE)
    }

    /// True when BSS refused the call because the account is an
    /// international one, served by BSS's international endpoint: HTTP 403
    /// with `CBC.0150` or `CBC.0156`.
    pub fn is_international_account(&self) -> bool {
        self.status() == Some(403)
            && self
                .code()
                .is_some_and(|c| INTERNATIONAL_ACCOUNT_CODES.contains(&c))
    }

    /// True when the API refused who calls rather than what was asked:
    /// HTTP 401 or 403, or an API gateway authentication code.
    pub fn is_auth_refusal(&self) -> bool {
        match self {
            Error::Api { status, code, .. } => {
                matches!(status, 401 | 403) || AUTH_CODE_PREFIXES.contains(&code.as_str())
            }
            Error::Refused { .. } | Error::AgencyRefused { .. } => true,
            Error::Iam { cause, .. } => cause.is_auth_refusal(),
            _ => false,
        }
    }

    /// True when the credentials cannot work: refused by the API or by IAM,
    /// or the agency's keys refused. An IAM that cannot be reached, or that
    /// fails otherwise, is not a refusal.
    pub fn is_credential_failure(&self) -> bool {
        self.is_auth_refusal()
    }

    /// True when a failed write may still have taken effect: its request
    /// went out and the answer (if any) does not say it was not processed.
    pub fn may_have_landed(&self) -> bool {
        match self {
            Error::Transport { connect_to, .. } => connect_to.is_none(),
            Error::Api { status, .. } => matches!(status, 500 | 502 | 504),
            Error::Decode { .. } => true,
            _ => false,
        }
    }

    /// The API's `error_code` (may be empty when the answer had none).
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api { code, .. } => Some(code),
            Error::Refused { cause, .. }
            | Error::Iam { cause, .. }
            | Error::AgencyRefused { cause, .. } => cause.code(),
            _ => None,
        }
    }

    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            Error::Refused { cause, .. }
            | Error::Iam { cause, .. }
            | Error::AgencyRefused { cause, .. } => cause.status(),
            _ => None,
        }
    }

    /// The request id of an API error, for support cases.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api { request_id, .. } => request_id.as_deref(),
            Error::Refused { cause, .. }
            | Error::Iam { cause, .. }
            | Error::AgencyRefused { cause, .. } => cause.request_id(),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, code: &str) -> Error {
        Error::Api {
            status,
            code: code.into(),
            message: "m".into(),
            request_id: Some("r1".into()),
        }
    }

    fn transport(connect_to: Option<&str>) -> Error {
        Error::Transport {
            host: "127.0.0.1:1".into(),
            url: "GET /v3/projects".into(),
            message: "Connection refused (os error 111)".into(),
            connect_to: connect_to.map(str::to_string),
            setting: None,
        }
    }

    fn at_iam(cause: Error) -> Error {
        Error::Iam {
            url: "http://127.0.0.1:1/v3/projects".into(),
            cause: Box::new(cause),
        }
    }

    #[test]
    fn not_found_by_status_or_the_references_codes() {
        assert!(api(404, "").is_not_found());
        assert!(api(400, "CPS.0005").is_not_found(), "phone does not exist");
        assert!(api(400, "CPS.0016").is_not_found(), "server id not valid");
        assert!(!api(400, "CPS.0001").is_not_found());
        assert!(!Error::Cancelled.is_not_found());
        for code in ["CPS.0006", "CPS.0007", "CPS.0008"] {
            assert!(!api(400, code).is_not_found(), "{code}");
            assert!(!api(404, code).is_not_found(), "{code} even with 404");
            assert!(!is_not_found_code(code), "{code}");
        }
    }

    #[test]
    fn account_states_are_their_own_kind() {
        let arrears = api(400, "CPS.0006").account_state().expect("arrears");
        assert!(arrears.meaning.contains("arrears") && arrears.remedy.contains("top up"));
        let text = arrears.to_string();
        assert!(
            text.starts_with("CPS.0006: the account is in arrears"),
            "{text}"
        );
        let frozen = AccountState::of_code("CPS.0007").expect("frozen");
        assert!(frozen.meaning.contains("frozen") && frozen.remedy.contains("customer service"));
        assert!(AccountState::of_code("CPS.0008").is_some());
        assert_eq!(api(400, "CPS.0005").account_state(), None);
        assert!(!api(400, "CPS.0006").is_credential_failure());
        let refused = Error::Refused {
            endpoint: "e".into(),
            credential_source: "s".into(),
            cause: Box::new(api(403, "CPS.0007")),
        };
        assert_eq!(refused.account_state(), Some(frozen));
    }

    #[test]
    fn only_refusals_are_credential_failures() {
        assert!(api(401, "").is_auth_refusal());
        assert!(api(403, "CPS.0001").is_auth_refusal());
        assert!(api(400, "APIGW.0301").is_auth_refusal());
        assert!(!api(429, "APIGW.0308").is_auth_refusal());
        assert!(!api(404, "CPS.0005").is_credential_failure());
        // IAM: refused, unreachable, or failing otherwise.
        assert!(at_iam(api(401, "")).is_credential_failure());
        assert!(at_iam(api(400, "APIGW.0301")).is_credential_failure());
        assert!(!at_iam(transport(Some("127.0.0.1:1"))).is_credential_failure());
        assert!(!at_iam(transport(None)).is_credential_failure());
        assert!(!at_iam(api(500, "")).is_credential_failure());
        let decode = Error::Decode {
            url: "u".into(),
            message: "no token".into(),
        };
        assert!(!at_iam(decode).is_credential_failure());
        // The agency: its own kind, a refusal whatever IAM answered.
        let agency = Error::AgencyRefused {
            agency: "ops".into(),
            url: "u".into(),
            cause: Box::new(api(400, "IAM.0001")),
        };
        assert!(agency.is_credential_failure() && !agency.is_unreachable());
        assert!(
            agency
                .to_string()
                .starts_with("cannot assume agency \"ops\"")
        );
    }

    #[test]
    fn unreachable_hosts_at_cph_bss_or_iam() {
        assert!(transport(Some("127.0.0.1:1")).is_unreachable());
        assert!(transport(None).is_unreachable());
        let iam = at_iam(transport(Some("127.0.0.1:1")));
        assert!(iam.is_unreachable());
        assert_eq!(iam.unreachable_host(), Some("127.0.0.1:1"));
        assert!(!api(503, "").is_unreachable() && !at_iam(api(401, "")).is_unreachable());
        let named =
            iam.naming_setting(&|host| (host == "127.0.0.1:1").then(|| "`auth_url`".to_string()));
        let text = named.to_string();
        assert!(
            text.contains("could not reach 127.0.0.1:1 (Connection refused (os error 111))")
                && text.ends_with("127.0.0.1:1 is chosen by `auth_url`"),
            "{text}"
        );
        let other = transport(None).naming_setting(&|_| None);
        assert!(!other.to_string().contains("chosen by"), "{other}");
    }

    #[test]
    fn writes_that_may_have_landed() {
        assert!(api(502, "").may_have_landed() && api(504, "").may_have_landed());
        assert!(!api(503, "").may_have_landed() && !api(400, "").may_have_landed());
        assert!(transport(None).may_have_landed());
        assert!(!transport(Some("h:1")).may_have_landed());
        assert!(!Error::Cancelled.may_have_landed());
        assert!(!at_iam(transport(None)).may_have_landed());
    }

    #[test]
    fn order_not_found() {
        assert!(api(404, "").is_order_not_found());
        assert!(api(400, "CBC.30000010").is_order_not_found());
        assert!(!api(400, "CBC.0101").is_order_not_found());
    }

    #[test]
    fn transport_errors_name_the_host_and_the_call() {
        let refused = Error::Transport {
            host: "127.0.0.1:4567".into(),
            url: "GET /v1/p/cloud-phone/servers/x".into(),
            message: "Connection refused (os error 111)".into(),
            connect_to: Some("127.0.0.1:4567".into()),
            setting: Some("`endpoint`".into()),
        };
        assert_eq!(
            refused.to_string(),
            "could not reach 127.0.0.1:4567 (Connection refused (os error 111)): GET /v1/p/cloud-phone/servers/x was not sent; 127.0.0.1:4567 is chosen by `endpoint`"
        );
        let timeout = Error::Transport {
            host: "h:443".into(),
            url: "GET /x".into(),
            message: "timed out".into(),
            connect_to: None,
            setting: None,
        };
        assert_eq!(
            timeout.to_string(),
            "could not reach h:443 (timed out): no answer to GET /x"
        );
    }

    #[test]
    fn renders_for_people() {
        assert_eq!(
            api(404, "CPS.0005").to_string(),
            "CPS.0005: m (HTTP 404, request r1)"
        );
        assert_eq!(api(404, "CPS.0005").request_id(), Some("r1"));
        assert_eq!(api(404, "CPS.0005").status(), Some(404));
    }
}

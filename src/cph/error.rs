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
    /// No usable answer: connection, TLS or timeout failure after all
    /// retries. `url` names the call (`GET /v1/...`, no query string);
    /// `connect_to` is the `host:port` a connection could not be made to
    /// (nothing was sent), `None` when the failure came later.
    #[error("{}", render_transport(.url, .message, .connect_to))]
    Transport {
        url: String,
        message: String,
        connect_to: Option<String>,
    },
    /// The answer could not be understood.
    #[error("unexpected response from {url}: {message}")]
    Decode { url: String, message: String },
    /// Getting a token from IAM failed.
    #[error("authentication failed: {0}")]
    Auth(String),
    /// The configuration cannot work (bad endpoint, missing credentials).
    #[error("invalid client configuration: {0}")]
    Config(String),
    /// A wait ran past its deadline.
    #[error("{0}")]
    Timeout(String),
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

/// `error_code`s meaning "no such object".
const NOT_FOUND_CODES: &[&str] = &["CPS.0005", "CPS.0006"];
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
    s
}

/// True for an `error_code` meaning "no such object" (server or phone).
pub fn is_not_found_code(code: &str) -> bool {
    NOT_FOUND_CODES.contains(&code)
}

fn render_transport(url: &str, message: &str, connect_to: &Option<String>) -> String {
    match connect_to {
        Some(host) => format!("could not connect to {host} ({url}): {message}"),
        None => format!("request {url} failed: {message}"),
    }
}

impl Error {
    /// True when the API said the addressed object does not exist: HTTP 404,
    /// or the codes CPH uses for a missing server (`CPS.0005`) or phone
    /// (`CPS.0006`) whatever the status.
    pub fn is_not_found(&self) -> bool {
        match self {
            Error::Api { status, code, .. } => {
                *status == 404 || NOT_FOUND_CODES.contains(&code.as_str())
            }
            _ => false,
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
            Error::Refused { .. } => true,
            _ => false,
        }
    }

    /// True when the credentials cannot work: refused by the API, or no
    /// token could be had from IAM.
    pub fn is_credential_failure(&self) -> bool {
        matches!(self, Error::Refused { .. } | Error::Auth(_)) || self.is_auth_refusal()
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
            Error::Refused { cause, .. } => cause.code(),
            _ => None,
        }
    }

    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            Error::Refused { cause, .. } => cause.status(),
            _ => None,
        }
    }

    /// The request id of an API error, for support cases.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api { request_id, .. } => request_id.as_deref(),
            Error::Refused { cause, .. } => cause.request_id(),
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

    #[test]
    fn not_found_by_status_or_code() {
        assert!(api(404, "").is_not_found());
        assert!(api(400, "CPS.0005").is_not_found());
        assert!(api(400, "CPS.0006").is_not_found());
        assert!(!api(400, "CPS.0001").is_not_found());
        assert!(!Error::Cancelled.is_not_found());
    }

    #[test]
    fn auth_refusals_and_writes_that_may_have_landed() {
        assert!(api(401, "").is_auth_refusal());
        assert!(api(403, "CPS.0001").is_auth_refusal());
        assert!(api(400, "APIGW.0301").is_auth_refusal());
        assert!(!api(429, "APIGW.0308").is_auth_refusal());
        assert!(!api(404, "CPS.0005").is_credential_failure());
        assert!(Error::Auth("x".into()).is_credential_failure());
        assert!(api(502, "").may_have_landed() && api(504, "").may_have_landed());
        assert!(!api(503, "").may_have_landed() && !api(400, "").may_have_landed());
        let sent = |connect_to: Option<&str>| Error::Transport {
            url: "POST /x".into(),
            message: "m".into(),
            connect_to: connect_to.map(str::to_string),
        };
        assert!(sent(None).may_have_landed());
        assert!(!sent(Some("h:1")).may_have_landed());
        assert!(!Error::Cancelled.may_have_landed());
    }

    #[test]
    fn order_not_found() {
        assert!(api(404, "").is_order_not_found());
        assert!(api(400, "CBC.30000010").is_order_not_found());
        assert!(!api(400, "CBC.0101").is_order_not_found());
    }

    #[test]
    fn transport_errors_name_the_call_and_host() {
        let refused = Error::Transport {
            url: "GET /v1/p/cloud-phone/servers/x".into(),
            message: "Connection refused (os error 111)".into(),
            connect_to: Some("127.0.0.1:4567".into()),
        };
        assert_eq!(
            refused.to_string(),
            "could not connect to 127.0.0.1:4567 (GET /v1/p/cloud-phone/servers/x): Connection refused (os error 111)"
        );
        let timeout = Error::Transport {
            url: "GET /x".into(),
            message: "timed out".into(),
            connect_to: None,
        };
        assert_eq!(timeout.to_string(), "request GET /x failed: timed out");
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

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
    /// No usable answer: connection, TLS or timeout failure after all retries.
    #[error("request to {url} failed: {message}")]
    Transport { url: String, message: String },
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
    /// Terraform asked the provider to stop.
    #[error("cancelled: Terraform asked the provider to stop")]
    Cancelled,
}

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

impl Error {
    /// True when the API said the addressed object does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Api { status: 404, .. })
    }

    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

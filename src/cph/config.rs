//! The client's settings: how to reach CPH and BSS (endpoints, project,
//! credentials) and how to behave (TLS, retries, timeouts, rate limit).

use std::time::Duration;

/// Credentials, one kind at a time.
#[derive(Clone)]
pub enum Credentials {
    /// AK/SK request signing (`SDK-HMAC-SHA256`); `security_token` for
    /// temporary credentials.
    AkSk {
        access_key: String,
        secret_key: String,
        security_token: Option<String>,
    },
    /// A ready IAM token sent as `X-Auth-Token`.
    Token(String),
    /// IAM user name and password in a domain, exchanged at `auth_url` for a
    /// project-scoped token (and renewed before it expires).
    Password {
        auth_url: String,
        domain_name: String,
        user_name: String,
        password: String,
    },
}

impl std::fmt::Debug for Credentials {
    /// Never prints a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::AkSk {
                access_key,
                security_token,
                ..
            } => f
                .debug_struct("AkSk")
                .field("access_key", access_key)
                .field("secret_key", &"<redacted>")
                .field(
                    "security_token",
                    &security_token.as_ref().map(|_| "<redacted>"),
                )
                .finish(),
            Credentials::Token(_) => f.write_str("Token(<redacted>)"),
            Credentials::Password {
                auth_url,
                domain_name,
                user_name,
                ..
            } => f
                .debug_struct("Password")
                .field("auth_url", auth_url)
                .field("domain_name", domain_name)
                .field("user_name", user_name)
                .field("password", &"<redacted>")
                .finish(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Base URL without a trailing slash, e.g. `https://cph.cn-east-3.myhuaweicloud.com`.
    pub endpoint: String,
    pub region: String,
    pub project_id: String,
    pub credentials: Credentials,
    /// Accept any TLS certificate (for test endpoints only).
    pub insecure: bool,
    /// Retries after the first attempt for retryable failures.
    pub max_retries: u32,
    /// Timeout of one HTTP attempt.
    pub request_timeout: Duration,
    /// Client-side rate limit, requests per second across all callers (0:
    /// none). Halved on a 429 and recovered step by step after successes.
    pub max_requests_per_second: f64,
    /// Base URL of BSS, the billing service (orders), without a trailing
    /// slash; `https://bss-intl.myhuaweicloud.com` for international accounts.
    pub bss_endpoint: String,
    /// Where the credentials come from, in words for error messages, e.g.
    /// "access_key/secret_key from the provider block" or
    /// "HW_ACCESS_KEY/HW_SECRET_KEY environment variables".
    pub credential_source: String,
}

impl ClientConfig {
    pub const DEFAULT_MAX_RETRIES: u32 = 5;
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
    pub const DEFAULT_MAX_REQUESTS_PER_SECOND: f64 = 30.0;
    pub const DEFAULT_BSS_ENDPOINT: &str = "https://bss.myhuaweicloud.com";

    pub fn new(
        endpoint: impl Into<String>,
        region: impl Into<String>,
        project_id: impl Into<String>,
        credentials: Credentials,
    ) -> ClientConfig {
        ClientConfig {
            endpoint: endpoint.into().trim_end_matches('/').to_string(),
            region: region.into(),
            project_id: project_id.into(),
            credentials,
            insecure: false,
            max_retries: Self::DEFAULT_MAX_RETRIES,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            max_requests_per_second: Self::DEFAULT_MAX_REQUESTS_PER_SECOND,
            bss_endpoint: Self::DEFAULT_BSS_ENDPOINT.to_string(),
            credential_source: "the configured credentials".to_string(),
        }
    }
}

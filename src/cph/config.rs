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

/// The account an agency belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgencyDomain {
    Name(String),
    Id(String),
}

/// An agency to assume with AK/SK credentials: the keys sign only the
/// exchange for temporary keys, which sign everything else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRole {
    pub agency_name: String,
    pub domain: AgencyDomain,
    /// Lifetime asked for the temporary keys (IAM: 900 to 43200 seconds;
    /// IAM's default when `None`).
    pub duration_seconds: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Base URL without a trailing slash, e.g. `https://cph.cn-east-3.myhuaweicloud.com`.
    pub endpoint: String,
    pub region: String,
    /// The project of `region`; empty to look it up at IAM once, by
    /// [`Client::connect`](super::Client::connect).
    pub project_id: String,
    /// The account id global services (BSS) are signed for (`X-Domain-Id`,
    /// AK/SK only); `None` to look it up at IAM at the first global call.
    pub domain_id: Option<String>,
    /// IAM, for every IAM call (project and domain look-ups, tokens,
    /// agencies): `https://iam.{region}.{cloud}/v3` by default.
    pub iam_endpoint: String,
    /// Where the credentials come from, in words, for error messages
    /// (e.g. "access_key/secret_key from the provider block").
    pub credential_source: String,
    pub credentials: Credentials,
    /// An agency to assume (AK/SK credentials only).
    pub assume_role: Option<AssumeRole>,
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
    /// When set, international accounts are told apart as the official
    /// provider does: at the first BSS call, `GET {bss_endpoint}/v2/products/
    /// service-types?limit=1` answered 403 `CBC.0150` or `CBC.0156` means
    /// BSS is this endpoint instead (`https://bss-intl.{cloud}`).
    pub bss_international_endpoint: Option<String>,
    /// The settings that chose each host, for messages about a host that
    /// cannot be reached.
    pub host_settings: HostSettings,
}

/// The provider settings that chose the CPH, BSS and IAM hosts, in words
/// (e.g. "`endpoint`", "`region` and `cloud`").
#[derive(Debug, Clone)]
pub struct HostSettings {
    pub cph: String,
    pub bss: String,
    pub iam: String,
}

impl Default for HostSettings {
    fn default() -> Self {
        HostSettings {
            cph: "`endpoint`".into(),
            bss: "`bss_endpoint`".into(),
            iam: "`auth_url`".into(),
        }
    }
}

/// `host:port` of `url` (the port its scheme implies when none is given).
fn authority(url: &str) -> Option<String> {
    let url = reqwest::Url::parse(url).ok()?;
    let host = url.host_str()?;
    Some(match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    })
}

impl ClientConfig {
    pub const DEFAULT_MAX_RETRIES: u32 = 5;
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
    pub const DEFAULT_MAX_REQUESTS_PER_SECOND: f64 = 30.0;
    pub const DEFAULT_BSS_ENDPOINT: &str = "https://bss.myhuaweicloud.com";
    pub const DEFAULT_CLOUD: &str = "myhuaweicloud.com";

    /// `https://iam.{region}.{cloud}/v3`, the official provider's default.
    pub fn default_iam_endpoint(region: &str, cloud: &str) -> String {
        format!("https://iam.{region}.{cloud}/v3")
    }

    pub fn new(
        endpoint: impl Into<String>,
        region: impl Into<String>,
        project_id: impl Into<String>,
        credentials: Credentials,
    ) -> ClientConfig {
        let region = region.into();
        ClientConfig {
            endpoint: endpoint.into().trim_end_matches('/').to_string(),
            iam_endpoint: Self::default_iam_endpoint(&region, Self::DEFAULT_CLOUD),
            region,
            project_id: project_id.into(),
            domain_id: None,
            credentials,
            assume_role: None,
            insecure: false,
            max_retries: Self::DEFAULT_MAX_RETRIES,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            max_requests_per_second: Self::DEFAULT_MAX_REQUESTS_PER_SECOND,
            bss_endpoint: Self::DEFAULT_BSS_ENDPOINT.to_string(),
            credential_source: "the configured credentials".to_string(),
            bss_international_endpoint: None,
            host_settings: HostSettings::default(),
        }
    }

    /// The setting that chose `host` (`host:port`): CPH's, BSS's or IAM's.
    pub fn setting_of_host(&self, host: &str) -> Option<String> {
        let s = &self.host_settings;
        let hosts = [
            (Some(&self.endpoint), &s.cph),
            (Some(&self.bss_endpoint), &s.bss),
            (self.bss_international_endpoint.as_ref(), &s.bss),
            (Some(&self.iam_endpoint), &s.iam),
        ];
        hosts
            .into_iter()
            .find(|(url, _)| url.and_then(|u| authority(u)).as_deref() == Some(host))
            .map(|(_, setting)| setting.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_host_names_its_setting() {
        let mut c = ClientConfig::new(
            "https://cph.r.example",
            "r",
            "p",
            Credentials::Token("t".into()),
        );
        c.iam_endpoint = "http://127.0.0.1:1/v3".into();
        c.bss_endpoint = "https://bss.example".into();
        assert_eq!(
            c.setting_of_host("127.0.0.1:1").as_deref(),
            Some("`auth_url`")
        );
        assert_eq!(
            c.setting_of_host("cph.r.example:443").as_deref(),
            Some("`endpoint`")
        );
        assert_eq!(
            c.setting_of_host("bss.example:443").as_deref(),
            Some("`bss_endpoint`")
        );
        assert_eq!(c.setting_of_host("elsewhere:443"), None);
    }
}

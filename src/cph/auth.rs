//! How requests prove who sends them: AK/SK signatures, a ready IAM token, or
//! an IAM user's password exchanged for a token that is cached, shared by all
//! callers and renewed before it expires.
//!
//! Secrets live in [`Secret`], whose `Debug` and `Display` never show them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde::Deserialize;

use super::error::{Error, Result};
use super::retry::Safety;
use super::signer::Signer;
use super::transport::{CallScope, HttpCall, Transport};

/// A string that must never be printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: String) -> Secret {
        Secret(s)
    }
    /// The secret itself, for putting it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The header carrying an IAM token.
pub const HEADER_AUTH_TOKEN: &str = "X-Auth-Token";
/// The IAM answer header carrying a new token.
pub const HEADER_SUBJECT_TOKEN: &str = "X-Subject-Token";
/// Renew a password token this long before IAM says it expires.
pub const TOKEN_RENEW_BEFORE: Duration = Duration::from_secs(10 * 60);
/// Lifetime assumed when IAM does not say (its tokens last 24 hours).
const TOKEN_DEFAULT_LIFETIME: Duration = Duration::from_secs(60 * 60);

/// The credentials of a client, ready for use.
#[derive(Debug)]
pub enum Auth {
    AkSk(Signer),
    Token(Secret),
    Password(TokenCache),
}

/// A password-derived token, fetched once for all concurrent callers.
pub struct TokenCache {
    tokens_url: String,
    domain_name: String,
    user_name: String,
    password: Secret,
    project_id: String,
    state: tokio::sync::Mutex<Option<CachedToken>>,
    generation: AtomicU64,
    fetches: AtomicU64,
}

#[derive(Clone)]
struct CachedToken {
    token: Secret,
    renew_at: Instant,
    generation: u64,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("tokens_url", &self.tokens_url)
            .field("domain_name", &self.domain_name)
            .field("user_name", &self.user_name)
            .field("password", &self.password)
            .field("fetches", &self.fetches.load(Ordering::Relaxed))
            .finish()
    }
}

/// A token to send and the cache generation it came from (to invalidate
/// exactly that token when the API rejects it).
pub struct IssuedToken {
    pub token: Secret,
    pub generation: u64,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TokenBody {
    token: TokenInfo,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TokenInfo {
    expires_at: String,
}

/// `{auth_url}/v3/auth/tokens`; an `auth_url` that already ends in `/v3` is
/// accepted too.
pub fn tokens_url(auth_url: &str) -> String {
    let base = auth_url.trim_end_matches('/');
    let base = base.strip_suffix("/v3").unwrap_or(base);
    format!("{base}/v3/auth/tokens")
}

impl TokenCache {
    pub fn new(
        auth_url: &str,
        domain_name: &str,
        user_name: &str,
        password: &str,
        project_id: &str,
    ) -> TokenCache {
        TokenCache {
            tokens_url: tokens_url(auth_url),
            domain_name: domain_name.to_string(),
            user_name: user_name.to_string(),
            password: Secret::new(password.to_string()),
            project_id: project_id.to_string(),
            state: tokio::sync::Mutex::new(None),
            generation: AtomicU64::new(0),
            fetches: AtomicU64::new(0),
        }
    }

    /// How many tokens were fetched from IAM so far.
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// A valid token: the cached one, or a new one from IAM. Concurrent
    /// callers wait for the one fetch in progress instead of starting their
    /// own.
    pub async fn get(&self, transport: &Transport, scope: &CallScope) -> Result<IssuedToken> {
        let mut state = self.state.lock().await;
        if let Some(cached) = state.as_ref()
            && Instant::now() < cached.renew_at
        {
            return Ok(IssuedToken {
                token: cached.token.clone(),
                generation: cached.generation,
            });
        }
        // Boxed: fetching goes through the transport, which calls back here
        // for API requests (never for this one).
        let fresh = Box::pin(self.fetch(transport, scope)).await?;
        let issued = IssuedToken {
            token: fresh.token.clone(),
            generation: fresh.generation,
        };
        *state = Some(fresh);
        Ok(issued)
    }

    /// Forgets the token of `generation` (the API refused it), unless a newer
    /// one has replaced it already.
    pub async fn invalidate(&self, generation: u64) {
        let mut state = self.state.lock().await;
        if state.as_ref().is_some_and(|c| c.generation == generation) {
            *state = None;
        }
    }

    async fn fetch(&self, transport: &Transport, scope: &CallScope) -> Result<CachedToken> {
        let body = serde_json::json!({
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": self.user_name,
                            "password": self.password.expose(),
                            "domain": { "name": self.domain_name },
                        }
                    }
                },
                "scope": { "project": { "id": self.project_id } }
            }
        });
        let body = serde_json::to_vec(&body).map_err(|e| Error::Auth(e.to_string()))?;
        let call = HttpCall {
            op: "iam_create_token",
            method: Method::POST,
            url: self.tokens_url.clone(),
            log_path: self.tokens_url.clone(),
            body: Some(body),
            // Issuing a token twice does no harm.
            safety: Safety::IdempotentWrite,
            authenticate: false,
        };
        let started = Instant::now();
        let response = transport.execute(&call, scope).await.map_err(|e| match e {
            Error::Api { .. } | Error::Transport { .. } | Error::Decode { .. } => {
                Error::Auth(format!("IAM at {}: {e}", self.tokens_url))
            }
            other => other,
        })?;
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let token = response
            .headers
            .get(HEADER_SUBJECT_TOKEN)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                Error::Auth(format!(
                    "IAM at {} answered without an {HEADER_SUBJECT_TOKEN} header",
                    self.tokens_url
                ))
            })?
            .to_string();
        let lifetime = serde_json::from_slice::<TokenBody>(&response.body)
            .ok()
            .and_then(|b| lifetime_until(&b.token.expires_at))
            .unwrap_or(TOKEN_DEFAULT_LIFETIME);
        let renew_before = TOKEN_RENEW_BEFORE.min(lifetime / 2);
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::debug!(
            target: "cph",
            lifetime_s = lifetime.as_secs(),
            "obtained an IAM token for user {} in domain {}",
            self.user_name,
            self.domain_name
        );
        Ok(CachedToken {
            token: Secret::new(token),
            renew_at: started + lifetime.saturating_sub(renew_before),
            generation,
        })
    }
}

/// Time left until an IAM `expires_at` (RFC 3339).
fn lifetime_until(expires_at: &str) -> Option<Duration> {
    let at = time::OffsetDateTime::parse(
        expires_at.trim(),
        &time::format_description::well_known::Rfc3339,
    )
    .ok()?;
    let left = at - time::OffsetDateTime::now_utc();
    Duration::try_from(left).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_tokens_url() {
        assert_eq!(
            tokens_url("https://iam.example.com"),
            "https://iam.example.com/v3/auth/tokens"
        );
        assert_eq!(
            tokens_url("https://iam.example.com:443/v3/"),
            "https://iam.example.com:443/v3/auth/tokens"
        );
    }

    #[test]
    fn parses_expiry() {
        let soon = time::OffsetDateTime::now_utc() + time::Duration::hours(2);
        let text = soon
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let left = lifetime_until(&text).unwrap_or_default();
        assert!(left > Duration::from_secs(7000) && left <= Duration::from_secs(7200));
        assert!(lifetime_until("2000-01-01T00:00:00.000000Z").is_none());
        assert!(lifetime_until("garbage").is_none());
    }

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("hunter2".into());
        assert_eq!(format!("{s:?} {s}"), "<redacted> <redacted>");
        let cache = TokenCache::new("https://iam", "d", "u", "hunter2", "p");
        assert!(!format!("{cache:?}").contains("hunter2"));
    }

    #[test]
    fn credentials_and_config_debug_hide_secrets() {
        use super::super::config::{ClientConfig, Credentials};
        let all = [
            Credentials::AkSk {
                access_key: "AK".into(),
                secret_key: "hunter2".into(),
                security_token: Some("hunter2".into()),
            },
            Credentials::Token("hunter2".into()),
            Credentials::Password {
                auth_url: "https://iam".into(),
                domain_name: "d".into(),
                user_name: "u".into(),
                password: "hunter2".into(),
            },
        ];
        for creds in all {
            let cfg = ClientConfig::new("https://cph", "r", "p", creds.clone());
            assert!(!format!("{creds:?}").contains("hunter2"));
            assert!(!format!("{cfg:?}").contains("hunter2"));
            let client = super::super::Client::new(cfg).expect("valid config");
            assert!(!format!("{client:?}").contains("hunter2"));
        }
    }
}

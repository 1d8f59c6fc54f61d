//! The password token cache: an IAM user's name and password exchanged at
//! `{auth_url}/v3/auth/tokens` for a project-scoped token that is cached,
//! shared by all callers and renewed before it expires.
//!
//! It owns its own [`Sender`] for the IAM call, so the authenticator never
//! calls back into the client that uses it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde::Deserialize;

use crate::cph::config::{ClientConfig, Credentials};
use crate::cph::error::{Error, Result};
use crate::cph::secret::Secret;
use crate::cph::sender::retry::Safety;
use crate::cph::sender::{Anonymous, CallScope, Request, Response, Sender};

/// The IAM answer header carrying a new token.
const HEADER_SUBJECT_TOKEN: &str = "X-Subject-Token";
/// Renew a password token this long before IAM says it expires.
const TOKEN_RENEW_BEFORE: Duration = Duration::from_secs(10 * 60);
/// Lifetime assumed when IAM does not say (its tokens last 24 hours).
const TOKEN_DEFAULT_LIFETIME: Duration = Duration::from_secs(60 * 60);

/// A password-derived token, fetched once for all concurrent callers.
pub(crate) struct TokenCache {
    sender: Sender,
    tokens_url: String,
    domain_name: String,
    user_name: String,
    password: Secret,
    /// The token's scope: this project, or when empty the project named
    /// `region` (before its id is known).
    project_id: String,
    region: String,
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
pub(crate) struct IssuedToken {
    pub(crate) token: Secret,
    pub(crate) generation: u64,
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
fn tokens_url(auth_url: &str) -> String {
    let base = auth_url.trim_end_matches('/');
    let base = base.strip_suffix("/v3").unwrap_or(base);
    format!("{base}/v3/auth/tokens")
}

/// Every password setting must be there, and `auth_url` must be an HTTP(S) URL.
fn check_settings(settings: [(&str, &str); 4]) -> Result<()> {
    for (name, value) in settings {
        if value.is_empty() {
            return Err(Error::Config(format!(
                "{name} is required for password authentication"
            )));
        }
    }
    let auth_url = settings[0].1;
    let iam = reqwest::Url::parse(auth_url)
        .map_err(|e| Error::Config(format!("auth_url {auth_url:?} is not a URL: {e}")))?;
    if iam.scheme() != "https" && iam.scheme() != "http" {
        return Err(Error::Config(format!(
            "auth_url {auth_url:?} must start with https://"
        )));
    }
    Ok(())
}

impl TokenCache {
    /// A cache for the password credentials of `config` (an error for
    /// other credentials or missing settings). Sends nothing.
    pub(crate) fn new(config: &ClientConfig) -> Result<TokenCache> {
        let Credentials::Password {
            auth_url,
            domain_name,
            user_name,
            password,
        } = &config.credentials
        else {
            return Err(Error::Config("not password credentials".into()));
        };
        check_settings([
            ("auth_url", auth_url),
            ("domain_name", domain_name),
            ("user_name", user_name),
            ("password", password),
        ])?;
        Ok(TokenCache {
            sender: Sender::new(config),
            tokens_url: tokens_url(auth_url),
            domain_name: domain_name.clone(),
            user_name: user_name.clone(),
            password: Secret::new(password.clone()),
            project_id: config.project_id.clone(),
            region: config.region.clone(),
            state: tokio::sync::Mutex::new(None),
            generation: AtomicU64::new(0),
            fetches: AtomicU64::new(0),
        })
    }

    /// How many tokens were fetched from IAM so far.
    pub(crate) fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// A valid token: the cached one, or a new one from IAM. Concurrent
    /// callers wait for the one fetch in progress instead of starting their
    /// own.
    pub(crate) async fn get(&self, scope: &CallScope) -> Result<IssuedToken> {
        let mut state = self.state.lock().await;
        if let Some(cached) = state.as_ref()
            && Instant::now() < cached.renew_at
        {
            return Ok(cached.issue());
        }
        let fresh = self.fetch(scope).await?;
        let issued = fresh.issue();
        *state = Some(fresh);
        Ok(issued)
    }

    /// Forgets the token of `generation` (the API refused it), unless a newer
    /// one has replaced it already.
    pub(crate) async fn invalidate(&self, generation: u64) {
        let mut state = self.state.lock().await;
        if state.as_ref().is_some_and(|c| c.generation == generation) {
            *state = None;
        }
    }

    /// Asks IAM for a new token.
    async fn fetch(&self, scope: &CallScope) -> Result<CachedToken> {
        let request = self.token_request()?;
        let started = Instant::now();
        let response = self
            .sender
            .send(&request, scope, &Anonymous)
            .await
            .map_err(|e| self.auth_error(e))?;
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let token = self.subject_token(&response)?;
        let lifetime = token_lifetime(&response.body);
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
            token,
            renew_at: started + lifetime.saturating_sub(renew_before),
            generation,
        })
    }

    fn token_request(&self) -> Result<Request> {
        let project = if self.project_id.is_empty() {
            serde_json::json!({ "name": self.region })
        } else {
            serde_json::json!({ "id": self.project_id })
        };
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
                "scope": { "project": project }
            }
        });
        let body = serde_json::to_vec(&body).map_err(|e| Error::Config(e.to_string()))?;
        // Issuing a token twice does no harm.
        Request::new(
            "iam_create_token",
            Method::POST,
            &self.tokens_url,
            Some(body),
            Safety::IdempotentWrite,
        )
    }

    /// What IAM answered, as an authentication error naming IAM.
    fn auth_error(&self, e: Error) -> Error {
        super::iam::at_iam(&self.tokens_url, e)
    }

    fn subject_token(&self, response: &Response) -> Result<Secret> {
        response
            .headers
            .get(HEADER_SUBJECT_TOKEN)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map(|v| Secret::new(v.to_string()))
            .ok_or_else(|| {
                super::iam::at_iam(
                    &self.tokens_url,
                    Error::Decode {
                        url: self.tokens_url.clone(),
                        message: format!("the answer has no {HEADER_SUBJECT_TOKEN} header"),
                    },
                )
            })
    }
}

impl CachedToken {
    fn issue(&self) -> IssuedToken {
        IssuedToken {
            token: self.token.clone(),
            generation: self.generation,
        }
    }
}

/// How long a token in this IAM answer body lives.
fn token_lifetime(body: &[u8]) -> Duration {
    serde_json::from_slice::<TokenBody>(body)
        .ok()
        .and_then(|b| lifetime_until(&b.token.expires_at))
        .unwrap_or(TOKEN_DEFAULT_LIFETIME)
}

/// Time left until an IAM `expires_at` (RFC 3339).
pub(crate) fn lifetime_until(expires_at: &str) -> Option<Duration> {
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

    fn password_config(password: &str) -> ClientConfig {
        ClientConfig::new(
            "https://cph",
            "r",
            "p",
            Credentials::Password {
                auth_url: "https://iam".into(),
                domain_name: "d".into(),
                user_name: "u".into(),
                password: password.into(),
            },
        )
    }

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
        assert_eq!(token_lifetime(b"{}"), TOKEN_DEFAULT_LIFETIME);
    }

    #[test]
    fn secret_never_prints() {
        let cache = TokenCache::new(&password_config("hunter2")).expect("valid");
        assert!(!format!("{cache:?}").contains("hunter2"));
    }

    #[test]
    fn refuses_bad_auth_url() {
        let mut cfg = password_config("pw");
        if let Credentials::Password { auth_url, .. } = &mut cfg.credentials {
            *auth_url = "ftp://iam".into();
        }
        assert!(matches!(TokenCache::new(&cfg), Err(Error::Config(_))));
    }

    #[test]
    fn credentials_and_config_debug_hide_secrets() {
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
            let client = crate::cph::Client::new(cfg).expect("valid config");
            assert!(!format!("{client:?}").contains("hunter2"));
        }
    }
}

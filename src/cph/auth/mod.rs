//! The authenticator: who sends a request. It sits above the
//! [sender](super::sender) and answers its [`Authorize`] questions once per
//! attempt, with one of three kinds of credentials:
//! - AK/SK: a fresh `SDK-HMAC-SHA256` signature ([`signer`](super::signer));
//! - a ready IAM token in `X-Auth-Token`;
//! - an IAM user's password, exchanged for a token by the
//!   [`password::TokenCache`], which owns its own sender for the IAM call
//!   (so nothing calls back into the client).
//!
//! With AK/SK, project calls are signed with `X-Project-Id` and global
//! ones (BSS) with `X-Domain-Id`, as the SDK's `BasicCredentials` and
//! `GlobalCredentials` sign them; the account id is looked up at IAM
//! ([`iam`]) at the first global call when not given.
//!
//! It also checks credentials before anything is sent.

pub(crate) mod agency;
pub(crate) mod iam;
pub(crate) mod password;

use std::sync::OnceLock;

use reqwest::header::{HeaderName, HeaderValue};

use super::config::{ClientConfig, Credentials};
use super::error::{Error, Result};
use super::secret::Secret;
use super::sender::{Authorization, Authorize, CallScope, Request, Sender};
use super::signer::{SignableRequest, Signer};
use password::TokenCache;

/// The header carrying an IAM token.
pub(crate) const HEADER_AUTH_TOKEN: &str = "X-Auth-Token";

/// The credentials of a client, ready for use.
#[derive(Debug)]
pub(crate) enum Authenticator {
    AkSk(AkSk),
    Token(Secret),
    Password(TokenCache),
}

/// AK/SK keys and the three scopes they sign for.
#[derive(Debug)]
pub(crate) struct AkSk {
    keys: Keys,
    /// For `X-Project-Id` (CPH); set once the project id is known.
    project_id: OnceLock<String>,
    /// For `X-Domain-Id` (global services): from `domain_id`, or at the
    /// first global call from IAM.
    domain_id: tokio::sync::OnceCell<String>,
    /// For the account look-up: its own sender (nothing calls back into
    /// the client) and IAM's address.
    lookup: Sender,
    iam_endpoint: String,
}

/// The keys that sign: the user's own, or an agency's temporary ones.
#[derive(Debug)]
enum Keys {
    Own(Signer),
    Agency(Box<agency::AgencyKeys>),
}

/// Which services a request goes to: project-scoped (CPH), global (BSS),
/// or IAM's look-ups (neither id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    Project,
    Global,
    Iam,
}

/// An [`Authenticator`] for requests of one [`Scope`].
pub(crate) struct Scoped<'a> {
    auth: &'a Authenticator,
    scope: Scope,
}

impl Authenticator {
    /// Checks `config.credentials` and makes them ready. Sends nothing.
    pub(crate) fn new(config: &ClientConfig) -> Result<Authenticator> {
        match &config.credentials {
            Credentials::AkSk {
                access_key,
                secret_key,
                security_token,
            } => aksk(access_key, secret_key, security_token, config),
            Credentials::Token(token) => static_token(token),
            Credentials::Password { .. } => Ok(Authenticator::Password(TokenCache::new(config)?)),
        }
    }

    /// This authenticator for requests of `scope`.
    pub(crate) fn scoped(&self, scope: Scope) -> Scoped<'_> {
        Scoped { auth: self, scope }
    }

    /// Signs project calls for `project_id` from now on (once the
    /// project is known; a second call changes nothing).
    pub(crate) fn set_project_id(&self, project_id: &str) {
        if let Authenticator::AkSk(keys) = self {
            let _ = keys.project_id.set(project_id.to_string());
        }
    }

    /// Assumes the agency now, when the credentials name one.
    pub(crate) async fn assume(&self, call: &CallScope) -> Result<()> {
        match self {
            Authenticator::AkSk(keys) => keys.assume(call).await,
            _ => Ok(()),
        }
    }

    /// How many times an agency's temporary keys were fetched.
    pub(crate) fn agency_fetches(&self) -> u64 {
        match self {
            Authenticator::AkSk(keys) => match &keys.keys {
                Keys::Agency(a) => a.fetch_count(),
                Keys::Own(_) => 0,
            },
            _ => 0,
        }
    }

    /// The password token cache, when the client uses one.
    pub(crate) fn token_cache(&self) -> Option<&TokenCache> {
        match self {
            Authenticator::Password(cache) => Some(cache),
            _ => None,
        }
    }
}

fn aksk(
    access_key: &str,
    secret_key: &str,
    security_token: &Option<String>,
    config: &ClientConfig,
) -> Result<Authenticator> {
    if access_key.is_empty() || secret_key.is_empty() {
        return Err(Error::Config(
            "access_key and secret_key must both be set".into(),
        ));
    }
    let token = security_token.clone().filter(|t| !t.is_empty());
    let own = Signer::new(access_key, secret_key, token, "");
    let keys = match &config.assume_role {
        Some(role) => Keys::Agency(Box::new(agency::AgencyKeys::new(own, config, role))),
        None => Keys::Own(own),
    };
    let project_id = OnceLock::new();
    if !config.project_id.is_empty() {
        let _ = project_id.set(config.project_id.clone());
    }
    let domain_id = tokio::sync::OnceCell::new();
    if let Some(id) = config.domain_id.as_deref().filter(|d| !d.is_empty()) {
        let _ = domain_id.set(id.to_string());
    }
    Ok(Authenticator::AkSk(AkSk {
        keys,
        project_id,
        domain_id,
        lookup: Sender::new(config),
        iam_endpoint: config.iam_endpoint.clone(),
    }))
}

impl AkSk {
    /// The signer for `scope` and, for an agency's keys, their generation.
    /// The account id is looked up at IAM (once) at the first global call.
    async fn signer(&self, scope: Scope, call: &CallScope) -> Result<(Signer, Option<u64>)> {
        let (bare, generation) = match &self.keys {
            Keys::Own(s) => (s.clone(), None),
            Keys::Agency(a) => {
                let (s, g) = a.current(call).await?;
                (s, Some(g))
            }
        };
        let signer = match scope {
            Scope::Iam => bare,
            Scope::Project => {
                let id = self.project_id.get().ok_or_else(|| {
                    Error::Config("the project id is not known yet (look it up first)".into())
                })?;
                bare.for_project(id)
            }
            Scope::Global => {
                let id = self
                    .domain_id
                    .get_or_try_init(|| async {
                        let id = iam::domain_id(
                            &self.lookup,
                            &BareKeys(&bare),
                            &self.iam_endpoint,
                            call,
                        )
                        .await?;
                        tracing::debug!(target: "cph", "account (domain) id found at IAM");
                        Ok::<_, Error>(id)
                    })
                    .await?;
                bare.for_domain(id)
            }
        };
        Ok((signer, generation))
    }

    /// The agency's keys, fetched now if not yet (an agency that cannot be
    /// assumed fails here, before anything else is sent).
    pub(crate) async fn assume(&self, call: &CallScope) -> Result<()> {
        if let Keys::Agency(a) = &self.keys {
            a.current(call).await?;
        }
        Ok(())
    }
}

/// The bare keys as an authorizer, for the account look-up.
struct BareKeys<'a>(&'a Signer);

impl Authorize for BareKeys<'_> {
    async fn authorize(&self, request: &Request, _: &CallScope) -> Result<Authorization> {
        sign(self.0, request)
    }
    async fn refused(&self, _: &Authorization) {}
}

fn static_token(token: &str) -> Result<Authenticator> {
    if token.is_empty() {
        return Err(Error::Config("auth_token is empty".into()));
    }
    if HeaderValue::from_str(token).is_err() {
        return Err(Error::Config(
            "auth_token contains characters not allowed in an HTTP header".into(),
        ));
    }
    Ok(Authenticator::Token(Secret::new(token.to_string())))
}

impl Authorize for Scoped<'_> {
    async fn authorize(&self, request: &Request, scope: &CallScope) -> Result<Authorization> {
        match self.auth {
            Authenticator::AkSk(keys) => {
                let (signer, generation) = keys.signer(self.scope, scope).await?;
                let mut authorization = sign(&signer, request)?;
                authorization.renewable = generation;
                Ok(authorization)
            }
            Authenticator::Token(token) => Ok(Authorization {
                headers: vec![token_header(token.expose())?],
                renewable: None,
            }),
            Authenticator::Password(cache) => {
                let issued = cache.get(scope).await?;
                Ok(Authorization {
                    headers: vec![token_header(issued.token.expose())?],
                    renewable: Some(issued.generation),
                })
            }
        }
    }

    async fn refused(&self, authorization: &Authorization) {
        let Some(generation) = authorization.renewable else {
            return;
        };
        match self.auth {
            Authenticator::Password(cache) => cache.invalidate(generation).await,
            Authenticator::AkSk(keys) => {
                if let Keys::Agency(a) = &keys.keys {
                    a.invalidate(generation).await;
                }
            }
            Authenticator::Token(_) => {}
        }
    }
}

/// The signature headers of one attempt, signed now.
pub(crate) fn sign(signer: &Signer, request: &Request) -> Result<Authorization> {
    let host = request.host();
    let signable = SignableRequest {
        method: request.method.as_str(),
        host: &host,
        path: request.path(),
        canonical_query: request.query(),
        content_type: request.content_type(),
        body: request.body.as_deref().unwrap_or(b""),
    };
    let signed = signer.sign(&signable, &Signer::now_sdk_date());
    let headers = signed
        .headers
        .into_iter()
        .map(|(name, value)| header(name, &value))
        .collect::<Result<Vec<_>>>()?;
    Ok(Authorization {
        headers,
        renewable: None,
    })
}

fn token_header(token: &str) -> Result<(HeaderName, HeaderValue)> {
    header(HEADER_AUTH_TOKEN, token)
}

/// A header for the wire, marked sensitive (kept out of HTTP logs): every
/// header the authenticator sets carries or protects a credential.
fn header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue)> {
    let header_name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| Error::Config(format!("{name} is not a valid header name")))?;
    let mut header_value = HeaderValue::from_str(value)
        .map_err(|_| Error::Config(format!("a value of header {name} is not allowed in HTTP")))?;
    header_value.set_sensitive(true);
    Ok((header_name, header_value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cph::sender::retry::Safety;
    use reqwest::Method;

    fn config(credentials: Credentials) -> ClientConfig {
        ClientConfig::new("https://cph", "r", "p", credentials)
    }

    fn aksk_config() -> ClientConfig {
        config(Credentials::AkSk {
            access_key: "AK".into(),
            secret_key: "SK".into(),
            security_token: None,
        })
    }

    #[test]
    fn refuses_empty_credentials() {
        let bad = [
            Credentials::AkSk {
                access_key: "AK".into(),
                secret_key: String::new(),
                security_token: None,
            },
            Credentials::Token(String::new()),
            Credentials::Token("bad\ntoken".into()),
            Credentials::Password {
                auth_url: "https://iam".into(),
                domain_name: "d".into(),
                user_name: "u".into(),
                password: String::new(),
            },
        ];
        for creds in bad {
            assert!(
                matches!(Authenticator::new(&config(creds)), Err(Error::Config(_))),
                "accepted"
            );
        }
    }

    #[tokio::test]
    async fn signs_project_calls_with_project_id_and_global_calls_with_domain_id() {
        let mut cfg = aksk_config();
        cfg.domain_id = Some("D".into());
        let auth = Authenticator::new(&cfg).expect("valid");
        let request =
            Request::new("op", Method::GET, "https://bss/v2/x", None, Safety::Read).expect("url");
        let names = |a: Authorization| -> Vec<String> {
            a.headers.iter().map(|(n, _)| n.to_string()).collect()
        };
        let project = auth
            .scoped(Scope::Project)
            .authorize(&request, &CallScope::default())
            .await
            .expect("signed");
        let global = auth
            .scoped(Scope::Global)
            .authorize(&request, &CallScope::default())
            .await
            .expect("signed");
        assert!(names(project).contains(&"x-project-id".to_string()));
        let global = names(global);
        assert!(!global.contains(&"x-project-id".to_string()), "{global:?}");
        assert!(global.contains(&"x-domain-id".to_string()), "{global:?}");
        assert!(global.contains(&"authorization".to_string()));
        let bare = auth
            .scoped(Scope::Iam)
            .authorize(&request, &CallScope::default())
            .await
            .expect("signed");
        let bare = names(bare);
        assert!(
            !bare
                .iter()
                .any(|n| n == "x-project-id" || n == "x-domain-id"),
            "{bare:?}"
        );
    }

    #[tokio::test]
    async fn token_header_is_sensitive() {
        let auth = Authenticator::new(&config(Credentials::Token("tok".into()))).expect("valid");
        let request =
            Request::new("op", Method::GET, "https://cph/x", None, Safety::Read).expect("url");
        let a = auth
            .scoped(Scope::Project)
            .authorize(&request, &CallScope::default())
            .await
            .expect("token");
        assert_eq!(a.headers.len(), 1);
        assert_eq!(a.headers[0].0.as_str(), "x-auth-token");
        assert!(a.headers[0].1.is_sensitive());
        assert_eq!(a.renewable, None);
    }
}

//! The authenticator: who sends a request. It sits above the
//! [sender](super::sender) and answers its [`Authorize`] questions once per
//! attempt, with one of three kinds of credentials:
//! - AK/SK: a fresh `SDK-HMAC-SHA256` signature ([`signer`](super::signer));
//! - a ready IAM token in `X-Auth-Token`;
//! - an IAM user's password, exchanged for a token by the
//!   [`password::TokenCache`], which owns its own sender for the IAM call
//!   (so nothing calls back into the client).
//!
//! It also checks credentials before anything is sent.

pub(crate) mod password;

use reqwest::header::{HeaderName, HeaderValue};

use super::config::{ClientConfig, Credentials};
use super::error::{Error, Result};
use super::secret::Secret;
use super::sender::{Authorization, Authorize, CallScope, Request};
use super::signer::{SignableRequest, Signer};
use password::TokenCache;

/// The header carrying an IAM token.
pub(crate) const HEADER_AUTH_TOKEN: &str = "X-Auth-Token";

/// The credentials of a client, ready for use.
#[derive(Debug)]
pub(crate) enum Authenticator {
    /// Two signers: one sends `X-Project-Id` (CPH), one does not (global
    /// services such as BSS).
    AkSk {
        project: Signer,
        global: Signer,
    },
    Token(Secret),
    Password(TokenCache),
}

/// Which services a request goes to: project-scoped (CPH) or global (BSS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    Project,
    Global,
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
            } => aksk(access_key, secret_key, security_token, &config.project_id),
            Credentials::Token(token) => static_token(token),
            Credentials::Password { .. } => Ok(Authenticator::Password(TokenCache::new(config)?)),
        }
    }

    /// This authenticator for requests of `scope`.
    pub(crate) fn scoped(&self, scope: Scope) -> Scoped<'_> {
        Scoped { auth: self, scope }
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
    project_id: &str,
) -> Result<Authenticator> {
    if access_key.is_empty() || secret_key.is_empty() {
        return Err(Error::Config(
            "access_key and secret_key must both be set".into(),
        ));
    }
    let token = security_token.clone().filter(|t| !t.is_empty());
    Ok(Authenticator::AkSk {
        project: Signer::new(access_key, secret_key, token.clone(), project_id),
        global: Signer::new(access_key, secret_key, token, ""),
    })
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
            Authenticator::AkSk { project, global } => {
                let signer = match self.scope {
                    Scope::Project => project,
                    Scope::Global => global,
                };
                sign(signer, request)
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
        if let (Some(cache), Some(generation)) = (self.auth.token_cache(), authorization.renewable)
        {
            cache.invalidate(generation).await;
        }
    }
}

/// The signature headers of one attempt, signed now.
fn sign(signer: &Signer, request: &Request) -> Result<Authorization> {
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
    async fn signs_project_calls_with_and_global_calls_without_project_id() {
        let auth = Authenticator::new(&aksk_config()).expect("valid");
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
        assert!(global.contains(&"authorization".to_string()));
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

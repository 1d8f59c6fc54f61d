//! An agency's temporary keys: the user's own AK/SK exchanged at
//! `{iam}/v3.0/OS-CREDENTIAL/securitytokens` (method `assume_role`) for
//! temporary keys and a security token, cached, shared by all callers and
//! renewed before they expire (or at once when the API refuses them).
//!
//! Like the password token cache it owns its own [`Sender`], so nothing
//! calls back into the client.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde::Deserialize;

use super::iam::iam_url;
use super::password::lifetime_until;
use crate::cph::config::{AgencyDomain, AssumeRole, ClientConfig};
use crate::cph::error::{Error, Result};
use crate::cph::sender::retry::Safety;
use crate::cph::sender::{Authorization, Authorize, CallScope, Request, Sender};
use crate::cph::signer::Signer;

/// Renew temporary keys this long before they expire (at most half their life).
const RENEW_BEFORE: Duration = Duration::from_secs(5 * 60);
/// IAM's default lifetime, assumed when it does not say.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(900);

#[derive(Deserialize, Default)]
#[serde(default)]
struct Answer {
    credential: Credential,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Credential {
    access: String,
    secret: String,
    securitytoken: String,
    expires_at: String,
}

/// Temporary keys of one generation.
#[derive(Clone)]
struct Issued {
    signer: Signer,
    renew_at: Instant,
    generation: u64,
}

pub(crate) struct AgencyKeys {
    /// The user's own keys: they sign the exchange only.
    user: Signer,
    sender: Sender,
    url: String,
    agency: String,
    body: Vec<u8>,
    state: tokio::sync::Mutex<Option<Issued>>,
    generation: AtomicU64,
    fetches: AtomicU64,
}

impl std::fmt::Debug for AgencyKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgencyKeys")
            .field("url", &self.url)
            .field("agency", &self.agency)
            .field("fetches", &self.fetches.load(Ordering::Relaxed))
            .finish()
    }
}

/// The exchange's body.
fn request_body(role: &AssumeRole) -> serde_json::Value {
    let mut assume = serde_json::json!({ "agency_name": role.agency_name });
    match &role.domain {
        AgencyDomain::Name(n) => assume["domain_name"] = n.clone().into(),
        AgencyDomain::Id(i) => assume["domain_id"] = i.clone().into(),
    }
    if let Some(d) = role.duration_seconds {
        assume["duration_seconds"] = d.into();
    }
    serde_json::json!({
        "auth": { "identity": { "methods": ["assume_role"], "assume_role": assume } }
    })
}

/// The user's keys for `AssumeRole`'s exchange.
struct UserKeys<'a>(&'a Signer);

impl Authorize for UserKeys<'_> {
    async fn authorize(&self, request: &Request, _: &CallScope) -> Result<Authorization> {
        super::sign(self.0, request)
    }
    async fn refused(&self, _: &Authorization) {}
}

impl AgencyKeys {
    pub(crate) fn new(user: Signer, config: &ClientConfig, role: &AssumeRole) -> AgencyKeys {
        AgencyKeys {
            user,
            sender: Sender::new(config),
            url: iam_url(&config.iam_endpoint, "/v3.0/OS-CREDENTIAL/securitytokens"),
            agency: role.agency_name.clone(),
            body: request_body(role).to_string().into_bytes(),
            state: tokio::sync::Mutex::new(None),
            generation: AtomicU64::new(0),
            fetches: AtomicU64::new(0),
        }
    }

    /// How many times temporary keys were fetched.
    pub(crate) fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// Valid temporary keys (without a scope header) and their generation.
    pub(crate) async fn current(&self, scope: &CallScope) -> Result<(Signer, u64)> {
        let mut state = self.state.lock().await;
        if let Some(issued) = state.as_ref()
            && Instant::now() < issued.renew_at
        {
            return Ok((issued.signer.clone(), issued.generation));
        }
        let fresh = self.fetch(scope).await?;
        let out = (fresh.signer.clone(), fresh.generation);
        *state = Some(fresh);
        Ok(out)
    }

    /// Forgets the keys of `generation` (the API refused them).
    pub(crate) async fn invalidate(&self, generation: u64) {
        let mut state = self.state.lock().await;
        if state.as_ref().is_some_and(|i| i.generation == generation) {
            *state = None;
        }
    }

    async fn fetch(&self, scope: &CallScope) -> Result<Issued> {
        let request = Request::new(
            "iam_assume_role",
            Method::POST,
            &self.url,
            Some(self.body.clone()),
            // Asking twice does no harm.
            Safety::IdempotentWrite,
        )?;
        let started = Instant::now();
        let refused = |cause: Error| Error::AgencyRefused {
            agency: self.agency.clone(),
            url: self.url.clone(),
            cause: Box::new(cause),
        };
        let answer = self
            .sender
            .send(&request, scope, &UserKeys(&self.user))
            .await
            .map_err(|e| match e {
                Error::Api { .. } | Error::Decode { .. } => refused(e),
                other => super::iam::at_iam(&self.url, other),
            })?;
        let c = serde_json::from_slice::<Answer>(&answer.body)
            .map(|a| a.credential)
            .unwrap_or_default();
        if c.access.is_empty() || c.secret.is_empty() {
            return Err(refused(Error::Decode {
                url: self.url.clone(),
                message: "the answer holds no temporary keys".into(),
            }));
        }
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let lifetime = lifetime_until(&c.expires_at).unwrap_or(DEFAULT_LIFETIME);
        let renew_before = RENEW_BEFORE.min(lifetime / 2);
        let token = (!c.securitytoken.is_empty()).then_some(c.securitytoken);
        tracing::debug!(target: "cph", lifetime_s = lifetime.as_secs(), agency = %self.agency, "assumed the agency");
        Ok(Issued {
            signer: Signer::new(c.access, c.secret, token, ""),
            renew_at: started + lifetime.saturating_sub(renew_before),
            generation: self.generation.fetch_add(1, Ordering::Relaxed) + 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_names_the_agency_and_its_account() {
        let role = AssumeRole {
            agency_name: "ops".into(),
            domain: AgencyDomain::Id("D".into()),
            duration_seconds: Some(3600),
        };
        let body = request_body(&role);
        assert_eq!(body["auth"]["identity"]["methods"][0], "assume_role");
        let a = &body["auth"]["identity"]["assume_role"];
        assert_eq!(a["agency_name"], "ops");
        assert_eq!(a["domain_id"], "D");
        assert_eq!(a["duration_seconds"], 3600);
        assert!(a.get("domain_name").is_none());
    }
}

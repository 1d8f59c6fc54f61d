//! The client: one method per endpoint the provider uses, on top of the
//! [authenticator](super::auth) and the [sender](super::sender).
//!
//! This module owns the handle ([`Client`]: settings, deadline and
//! cancellation of its calls) and the plumbing every endpoint shares (build
//! a request, send it, decode the answer). The endpoints live in [`cph`]
//! (servers, phones, jobs, the flavor catalogue), [`device`] (properties,
//! commands, connections) and [`bss`] (orders).

mod bss;
mod cph;
mod device;
mod endpoint;

use std::sync::Arc;
use std::time::Instant;

use reqwest::Method;
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

use super::auth::{self, Authenticator, Scope};
use super::config::ClientConfig;
use super::error::{Error, Result};
use super::sender::retry::Safety;
use super::sender::{CallScope, Request, Sender};
use super::signer::encode_component;
use endpoint::Endpoint;

pub use cph::{JOBS_PAGE_SIZE, MAX_REQUEST_IDS_PER_CALL};

/// A cheap-to-clone handle; clones share the connection pool, token cache and
/// rate limiter.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Connection>,
    scope: CallScope,
}

/// The connection every clone shares: endpoints, authenticator and sender.
#[derive(Debug)]
struct Connection {
    config: ClientConfig,
    /// CPH: `{endpoint}/v1/{project_id}/cloud-phone`.
    cph: Endpoint,
    /// BSS: `{bss_endpoint}`.
    bss: Endpoint,
    /// BSS for international accounts, when it is to be told apart.
    bss_international: Option<Endpoint>,
    /// Whether the account is international (probed once).
    international: tokio::sync::OnceCell<bool>,
    auth: Authenticator,
    sender: Sender,
}

/// Which service a call goes to.
#[derive(Debug, Clone, Copy)]
enum Service {
    Cph,
    Bss,
}

impl Client {
    /// Builds a client. Fails on an unusable configuration (bad endpoint URL,
    /// empty credentials or project id, bad rate limit); sends nothing.
    pub fn new(config: ClientConfig) -> Result<Client> {
        if config.project_id.trim().is_empty() {
            return Err(Error::Config("project_id is empty".into()));
        }
        let auth = Authenticator::new(&config)?;
        let sender = Sender::new(&config);
        Client::assemble(config, auth, sender)
    }

    /// [`Client::new`], but an agency is assumed first (when configured)
    /// and a configuration without a project id is completed: the project
    /// named after the region is looked up at IAM, as the official SDK does.
    /// Those IAM calls are the only ones sent here; they end early when
    /// `cancel` fires.
    pub async fn connect(
        mut config: ClientConfig,
        cancel: Option<CancellationToken>,
    ) -> Result<Client> {
        let auth = Authenticator::new(&config)?;
        let sender = Sender::new(&config);
        let scope = CallScope {
            deadline: None,
            cancel,
        };
        auth.assume(&scope).await?;
        if config.project_id.trim().is_empty() {
            let found = auth::iam::project_id(
                &sender,
                &auth.scoped(Scope::Iam),
                &config.iam_endpoint,
                &config.region,
                &scope,
            )
            .await?;
            tracing::debug!(target: "cph", region = %config.region, "project id found at IAM");
            auth.set_project_id(&found);
            config.project_id = found;
        }
        Client::assemble(config, auth, sender)
    }

    fn assemble(config: ClientConfig, auth: Authenticator, sender: Sender) -> Result<Client> {
        let rate = config.max_requests_per_second;
        if !rate.is_finite() || rate < 0.0 {
            return Err(Error::Config(format!(
                "max_requests_per_second must be a number from 0 (no limit) up, got {rate}"
            )));
        }
        let cph_prefix = format!("/v1/{}/cloud-phone", encode_component(&config.project_id));
        let connection = Connection {
            cph: Endpoint::parse("endpoint", &config.endpoint, &cph_prefix)?,
            bss: Endpoint::parse("bss_endpoint", &config.bss_endpoint, "")?,
            bss_international: config
                .bss_international_endpoint
                .as_deref()
                .map(|url| Endpoint::parse("bss_endpoint", url, ""))
                .transpose()?,
            international: tokio::sync::OnceCell::new(),
            auth,
            sender,
            config,
        };
        Ok(Client {
            inner: Arc::new(connection),
            scope: CallScope::default(),
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// A clone whose calls (retries included) stop at `deadline`: no retry
    /// starts that could not finish before it.
    pub fn with_deadline(&self, deadline: Instant) -> Client {
        let mut c = self.clone();
        c.scope.deadline = Some(deadline);
        c
    }

    /// A clone whose calls end with [`Error::Cancelled`] as soon as `cancel`
    /// fires (reads and idempotent writes at once; a write that must not
    /// happen twice, in flight, is allowed to finish so that its outcome is
    /// known).
    pub fn with_cancellation(&self, cancel: CancellationToken) -> Client {
        let mut c = self.clone();
        c.scope.cancel = Some(cancel);
        c
    }

    /// How many tokens were fetched from IAM (password auth), for tests and
    /// diagnostics; 0 for other credentials.
    pub fn iam_token_fetches(&self) -> u64 {
        self.inner
            .auth
            .token_cache()
            .map(|c| c.fetch_count())
            .unwrap_or(0)
    }

    /// How many times an agency's temporary keys were fetched from IAM, for
    /// tests and diagnostics; 0 without an agency.
    pub fn agency_key_fetches(&self) -> u64 {
        self.inner.auth.agency_fetches()
    }

    /// Sends `request` to `service` and returns the raw 2xx body.
    async fn send(&self, service: Service, request: &Request) -> Result<Vec<u8>> {
        let scope = match service {
            Service::Cph => Scope::Project,
            Service::Bss => Scope::Global,
        };
        let auth = self.inner.auth.scoped(scope);
        let response = self
            .inner
            .sender
            .send(request, &self.scope, &auth)
            .await
            .map_err(|e| self.refused(service, e))?;
        Ok(response.body)
    }

    /// An API refusal of the credentials as [`Error::Refused`], naming them
    /// and the endpoint; any other error as it is.
    fn refused(&self, service: Service, error: Error) -> Error {
        if !error.is_auth_refusal() || matches!(error, Error::Refused { .. }) {
            return error;
        }
        let config = &self.inner.config;
        let endpoint = match service {
            Service::Cph => &config.endpoint,
            Service::Bss => &config.bss_endpoint,
        };
        Error::Refused {
            endpoint: endpoint.clone(),
            credential_source: config.credential_source.clone(),
            cause: Box::new(error),
        }
    }

    /// The URL of `path` with `query` on `service`, BSS's international
    /// endpoint for an international account.
    async fn resolved_url(
        &self,
        service: Service,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<String> {
        if let (Service::Bss, Some(intl)) = (service, &self.inner.bss_international)
            && self.is_international().await?
        {
            return Ok(intl.url(path, query));
        }
        Ok(self.url(service, path, query))
    }

    /// Whether the account is international: the official provider's probe,
    /// once per client (a failed probe is tried again at the next call).
    async fn is_international(&self) -> Result<bool> {
        let probe = || async {
            let url = self
                .inner
                .bss
                .url("/v2/products/service-types", &[("limit", "1".into())]);
            let request = Request::new("bss_probe", Method::GET, &url, None, Safety::Read)?;
            match self.send(Service::Bss, &request).await {
                Ok(_) => Ok(false),
                Err(e) if e.is_international_account() => {
                    tracing::debug!(target: "cph", "international account: BSS at its international endpoint");
                    Ok(true)
                }
                Err(e) => Err(e),
            }
        };
        self.inner
            .international
            .get_or_try_init(probe)
            .await
            .copied()
    }

    /// The URL of `path` with `query` on `service`.
    fn url(&self, service: Service, path: &str, query: &[(&str, String)]) -> String {
        let endpoint = match service {
            Service::Cph => &self.inner.cph,
            Service::Bss => &self.inner.bss,
        };
        endpoint.url(path, query)
    }

    /// `GET` `path` of `service` and decode the answer.
    async fn get<T: DeserializeOwned>(
        &self,
        service: Service,
        op: &'static str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T> {
        let url = self.resolved_url(service, path, query).await?;
        let request = Request::new(op, Method::GET, &url, None, Safety::Read)?;
        let body = self.send(service, &request).await?;
        decode(&request, &body)
    }

    /// `POST` `body` as JSON to `path` of `service`; returns the raw answer.
    async fn post_raw<B: serde::Serialize>(
        &self,
        service: Service,
        op: &'static str,
        path: &str,
        body: &B,
        safety: Safety,
    ) -> Result<(Request, Vec<u8>)> {
        let body = serde_json::to_vec(body)
            .map_err(|e| Error::Config(format!("cannot encode the {op} request: {e}")))?;
        let url = self.resolved_url(service, path, &[]).await?;
        let request = Request::new(op, Method::POST, &url, Some(body), safety)?;
        let answer = self.send(service, &request).await?;
        Ok((request, answer))
    }

    /// `POST` `body` as JSON to `path` of `service` and decode the answer.
    async fn post<B: serde::Serialize, T: DeserializeOwned>(
        &self,
        service: Service,
        op: &'static str,
        path: &str,
        body: &B,
        safety: Safety,
    ) -> Result<T> {
        let (request, answer) = self.post_raw(service, op, path, body, safety).await?;
        decode(&request, &answer)
    }
}

fn require_id(name: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::Config(format!("{name} is empty")));
    }
    Ok(())
}

fn decode<T: DeserializeOwned>(request: &Request, body: &[u8]) -> Result<T> {
    // An empty 2xx body decodes as an empty object.
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| Error::Decode {
        url: request.path().to_string(),
        message: format!("{} answer is not the expected JSON: {e}", request.op),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cph::config::Credentials;

    #[test]
    fn rejects_bad_settings() {
        let creds = Credentials::Token("t".into());
        for bad in ["not a url", "ftp://x", "https://h?x=1"] {
            let cfg = ClientConfig::new(bad, "r", "p", creds.clone());
            assert!(matches!(Client::new(cfg), Err(Error::Config(_))), "{bad}");
            let mut cfg = ClientConfig::new("https://h", "r", "p", creds.clone());
            cfg.bss_endpoint = bad.into();
            assert!(
                matches!(Client::new(cfg), Err(Error::Config(_))),
                "bss {bad}"
            );
        }
        let cfg = ClientConfig::new("https://h", "r", " ", creds.clone());
        assert!(matches!(Client::new(cfg), Err(Error::Config(_))));
        for rate in [-1.0, f64::NAN, f64::INFINITY] {
            let mut cfg = ClientConfig::new("https://h", "r", "p", creds.clone());
            cfg.max_requests_per_second = rate;
            assert!(matches!(Client::new(cfg), Err(Error::Config(_))), "{rate}");
        }
    }

    #[test]
    fn builds_cph_and_bss_urls() {
        let mut cfg = ClientConfig::new(
            "https://h:8443/base/",
            "r",
            "p 1",
            Credentials::Token("t".into()),
        );
        cfg.bss_endpoint = "https://bss.example.com/".into();
        let client = Client::new(cfg).expect("valid");
        let url = client.url(Service::Cph, "/servers", &[]);
        let r = Request::new("op", Method::GET, &url, None, Safety::Read).expect("url");
        assert_eq!(r.host(), "h:8443");
        assert_eq!(r.path(), "/base/v1/p%201/cloud-phone/servers");
        assert_eq!(
            client.url(Service::Bss, "/v2/x", &[]),
            "https://bss.example.com/v2/x"
        );
    }
}

//! The CPH HTTP client: one method per endpoint the provider uses.
//!
//! Transport, authentication, retries and rate limiting live in
//! [`transport`](super::transport); this file maps endpoints to calls and
//! answers to [models](super::models).

use std::sync::Arc;
use std::time::Instant;

use reqwest::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

use super::config::ClientConfig;
use super::error::{Error, Result};
use super::models::*;
use super::retry::Safety;
use super::signer::encode_component;
use super::transport::{CallScope, HttpCall, Transport};

/// Page size of list-phones (the API allows 1..200).
pub const PHONES_PAGE_SIZE: u64 = 200;
/// Page size of list-jobs (the API allows 1..100).
pub const JOBS_PAGE_SIZE: u64 = 100;
/// Most request ids one list-jobs call takes.
pub const MAX_REQUEST_IDS_PER_CALL: usize = 20;
/// Most phones one phones-traffic call takes.
pub const MAX_PHONES_PER_TRAFFIC_CALL: usize = 100;
/// Upper bound on pages read by one listing, against a server that never
/// says it is done.
const MAX_PAGES: u64 = 10_000;

/// A cheap-to-clone handle; clones share the connection pool, token cache and
/// rate limiter.
#[derive(Clone, Debug)]
pub struct Client {
    config: Arc<ClientConfig>,
    transport: Arc<Transport>,
    scope: CallScope,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ServerModelList {
    server_models: Vec<ServerModel>,
    page_info: Option<PageInfo>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PageInfo {
    next_marker: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PhoneModelList {
    phone_models: Vec<PhoneModel>,
}

impl Client {
    /// Builds a client. Fails on an unusable configuration (bad endpoint URL,
    /// empty credentials); sends nothing.
    pub fn new(config: ClientConfig) -> Result<Client> {
        let transport = Transport::new(&config)?;
        Ok(Client {
            config: Arc::new(config),
            transport: Arc::new(transport),
            scope: CallScope::default(),
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// A clone whose calls (retries included) stop at `deadline`: no retry
    /// starts that could not finish before it.
    pub fn with_deadline(&self, deadline: Instant) -> Client {
        let mut c = self.clone();
        c.scope.deadline = Some(deadline);
        c
    }

    /// A clone whose calls end with [`Error::Cancelled`] as soon as `cancel`
    /// fires (reads and idempotent writes at once; a `change-server-model`
    /// in flight is allowed to finish so that its outcome is known).
    pub fn with_cancellation(&self, cancel: CancellationToken) -> Client {
        let mut c = self.clone();
        c.scope.cancel = Some(cancel);
        c
    }

    /// How many tokens were fetched from IAM (password auth), for tests and
    /// diagnostics; 0 for other credentials.
    pub fn iam_token_fetches(&self) -> u64 {
        self.transport
            .token_cache()
            .map(|c| c.fetch_count())
            .unwrap_or(0)
    }

    async fn call<T: DeserializeOwned>(&self, call: HttpCall) -> Result<T> {
        let response = self.transport.execute(&call, &self.scope).await?;
        decode(&call, &response.body)
    }

    /// Sends a call built elsewhere in `cph` (BSS calls, [`super::bss`]).
    pub(super) async fn send<T: DeserializeOwned>(&self, call: HttpCall) -> Result<T> {
        self.call(call).await
    }

    async fn get<T: DeserializeOwned>(
        &self,
        op: &'static str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T> {
        let call = self
            .transport
            .api_call(op, Method::GET, path, query, None, Safety::Read);
        self.call(call).await
    }

    async fn post<B: serde::Serialize, T: DeserializeOwned>(
        &self,
        op: &'static str,
        path: &str,
        body: &B,
        safety: Safety,
    ) -> Result<T> {
        let body = serde_json::to_vec(body)
            .map_err(|e| Error::Config(format!("cannot encode the {op} request: {e}")))?;
        let call = self
            .transport
            .api_call(op, Method::POST, path, &[], Some(body), safety);
        self.call(call).await
    }

    /// `GET /v1/{project_id}/cloud-phone/servers/{server_id}`.
    pub async fn show_server(&self, server_id: &str) -> Result<Server> {
        require_id("server_id", server_id)?;
        self.get(
            "show_server",
            &format!("/servers/{}", encode_component(server_id)),
            &[],
        )
        .await
    }

    /// One page of `GET /v1/{project_id}/cloud-phone/servers`.
    pub async fn list_servers(&self, offset: u64, limit: u64) -> Result<ServerList> {
        self.get(
            "list_servers",
            "/servers",
            &[("offset", offset.to_string()), ("limit", limit.to_string())],
        )
        .await
    }

    /// `GET /v1/{project_id}/cloud-phone/phones/{phone_id}`.
    pub async fn show_phone(&self, phone_id: &str) -> Result<Phone> {
        require_id("phone_id", phone_id)?;
        self.get(
            "show_phone",
            &format!("/phones/{}", encode_component(phone_id)),
            &[],
        )
        .await
    }

    /// One page (limit 1..200) of `GET /v1/{project_id}/cloud-phone/phones`.
    pub async fn list_phones(
        &self,
        query: &PhoneQuery,
        offset: u64,
        limit: u64,
    ) -> Result<PhoneList> {
        let mut q: Vec<(&str, String)> = vec![
            ("offset", offset.to_string()),
            ("limit", limit.clamp(1, PHONES_PAGE_SIZE).to_string()),
        ];
        if let Some(server_id) = &query.server_id {
            q.push(("server_id", server_id.clone()));
        }
        if let Some(phone_name) = &query.phone_name {
            q.push(("phone_name", phone_name.clone()));
        }
        if let Some(status) = query.status {
            q.push(("status", status.to_string()));
        }
        self.get("list_phones", "/phones", &q).await
    }

    /// Every phone matching `query`, all pages (200 a page).
    pub async fn list_all_phones(&self, query: &PhoneQuery) -> Result<Vec<Phone>> {
        let mut phones = Vec::new();
        let mut offset = 0;
        for _ in 0..MAX_PAGES {
            let page = self.list_phones(query, offset, PHONES_PAGE_SIZE).await?;
            let n = page.phones.len() as u64;
            phones.extend(page.phones);
            offset += n;
            if n < PHONES_PAGE_SIZE || (page.count > 0 && offset >= page.count) {
                break;
            }
        }
        Ok(phones)
    }

    /// `POST /v1/{project_id}/cloud-phone/servers/change-server-model`.
    /// Not retried once the request may have reached the server (an order
    /// must never be placed twice): only connection failures and 429/503
    /// answers are retried.
    pub async fn change_server_model(
        &self,
        req: &ChangeServerModelRequest,
    ) -> Result<ChangeServerModelResponse> {
        require_id("server_id", &req.server_id)?;
        self.post(
            "change_server_model",
            "/servers/change-server-model",
            req,
            Safety::NonIdempotent,
        )
        .await
    }

    /// `POST /v1/{project_id}/cloud-phone/phones-traffic` for at most 100
    /// phones. Setting a route is idempotent, so this is safe to retry.
    pub async fn set_phones_traffic(
        &self,
        traffic_type: &str,
        phone_ids: &[String],
    ) -> Result<PhonesTrafficResponse> {
        if phone_ids.is_empty() || phone_ids.len() > MAX_PHONES_PER_TRAFFIC_CALL {
            return Err(Error::Config(format!(
                "phones-traffic takes 1 to {MAX_PHONES_PER_TRAFFIC_CALL} phones, got {}",
                phone_ids.len()
            )));
        }
        let body = PhonesTrafficRequest {
            traffic_type: traffic_type.to_string(),
            phone_ids: phone_ids.to_vec(),
        };
        self.post(
            "set_phones_traffic",
            "/phones-traffic",
            &body,
            Safety::IdempotentWrite,
        )
        .await
    }

    /// `GET /v1/{project_id}/cloud-phone/jobs/{job_id}`.
    pub async fn show_job(&self, job_id: &str) -> Result<Job> {
        require_id("job_id", job_id)?;
        self.get(
            "show_job",
            &format!("/jobs/{}", encode_component(job_id)),
            &[],
        )
        .await
    }

    /// Every job of up to 20 request ids, all pages (`request_ids=a,b,c`).
    pub async fn list_jobs(&self, request_ids: &[String]) -> Result<Vec<Job>> {
        if request_ids.is_empty() {
            return Ok(Vec::new());
        }
        if request_ids.len() > MAX_REQUEST_IDS_PER_CALL {
            return Err(Error::Config(format!(
                "list-jobs takes at most {MAX_REQUEST_IDS_PER_CALL} request ids, got {}",
                request_ids.len()
            )));
        }
        let ids = request_ids.join(",");
        let mut jobs = Vec::new();
        let mut offset = 0;
        for _ in 0..MAX_PAGES {
            let page: JobList = self
                .get(
                    "list_jobs",
                    "/jobs",
                    &[
                        ("request_ids", ids.clone()),
                        ("offset", offset.to_string()),
                        ("limit", JOBS_PAGE_SIZE.to_string()),
                    ],
                )
                .await?;
            let n = page.jobs.len() as u64;
            jobs.extend(page.jobs);
            offset += n;
            if n < JOBS_PAGE_SIZE || (page.count > 0 && offset >= page.count) {
                break;
            }
        }
        Ok(jobs)
    }

    /// `GET /v1/{project_id}/cloud-phone/server-models`, all pages.
    pub async fn list_server_models(&self) -> Result<Vec<ServerModel>> {
        let mut models = Vec::new();
        let mut marker: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut q = vec![("limit", "100".to_string())];
            if let Some(m) = &marker {
                q.push(("marker", m.clone()));
            }
            let page: ServerModelList =
                self.get("list_server_models", "/server-models", &q).await?;
            let empty = page.server_models.is_empty();
            models.extend(page.server_models);
            match page
                .page_info
                .and_then(|p| p.next_marker)
                .filter(|m| !m.is_empty())
            {
                Some(next) if !empty && marker.as_deref() != Some(next.as_str()) => {
                    marker = Some(next)
                }
                _ => break,
            }
        }
        Ok(models)
    }

    /// `GET /v1/{project_id}/cloud-phone/phone-models`, optionally only those
    /// of one server flavor.
    pub async fn list_phone_models(
        &self,
        server_model_name: Option<&str>,
    ) -> Result<Vec<PhoneModel>> {
        let mut q = Vec::new();
        if let Some(name) = server_model_name {
            q.push(("server_model_name", name.to_string()));
        }
        let list: PhoneModelList = self.get("list_phone_models", "/phone-models", &q).await?;
        // Filter here too: not every API version filters by server flavor.
        Ok(list
            .phone_models
            .into_iter()
            .filter(|m| server_model_name.is_none_or(|name| m.server_model_name == name))
            .collect())
    }
}

fn require_id(name: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::Config(format!("{name} is empty")));
    }
    Ok(())
}

fn decode<T: DeserializeOwned>(call: &HttpCall, body: &[u8]) -> Result<T> {
    // An empty 2xx body decodes as an empty object.
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| Error::Decode {
        url: call.log_path.clone(),
        message: format!("{} answer is not the expected JSON: {e}", call.op),
    })
}

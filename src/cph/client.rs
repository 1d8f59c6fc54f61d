//! The CPH HTTP client: one method per endpoint the provider uses.
//! (Interface fixed here; transport, auth, retries and rate limiting are
//! filled in by issue [C].)

use super::config::ClientConfig;
use super::error::{Error, Result};
use super::models::*;

/// A cheap-to-clone handle; clones share the connection pool, token cache and
/// rate limiter.
#[derive(Clone, Debug)]
pub struct Client {
    config: std::sync::Arc<ClientConfig>,
}

fn todo_c() -> Error {
    Error::Config("not implemented yet".into())
}

impl Client {
    /// Builds a client. Fails on an unusable configuration (bad endpoint URL,
    /// empty credentials); sends nothing.
    pub fn new(config: ClientConfig) -> Result<Client> {
        Ok(Client {
            config: std::sync::Arc::new(config),
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// `GET /v1/{project_id}/cloud-phone/servers/{server_id}`.
    pub async fn show_server(&self, _server_id: &str) -> Result<Server> {
        Err(todo_c())
    }

    /// One page of `GET /v1/{project_id}/cloud-phone/servers`.
    pub async fn list_servers(&self, _offset: u64, _limit: u64) -> Result<ServerList> {
        Err(todo_c())
    }

    /// `GET /v1/{project_id}/cloud-phone/phones/{phone_id}`.
    pub async fn show_phone(&self, _phone_id: &str) -> Result<Phone> {
        Err(todo_c())
    }

    /// One page (limit 1..200) of `GET /v1/{project_id}/cloud-phone/phones`.
    pub async fn list_phones(
        &self,
        _query: &PhoneQuery,
        _offset: u64,
        _limit: u64,
    ) -> Result<PhoneList> {
        Err(todo_c())
    }

    /// Every phone matching `query`, all pages (200 a page).
    pub async fn list_all_phones(&self, _query: &PhoneQuery) -> Result<Vec<Phone>> {
        Err(todo_c())
    }

    /// `POST /v1/{project_id}/cloud-phone/servers/change-server-model`.
    /// Not retried once the request may have reached the server (an order
    /// must never be placed twice).
    pub async fn change_server_model(
        &self,
        _req: &ChangeServerModelRequest,
    ) -> Result<ChangeServerModelResponse> {
        Err(todo_c())
    }

    /// `POST /v1/{project_id}/cloud-phone/phones-traffic` for at most 100
    /// phones. Setting a route is idempotent, so this is safe to retry.
    pub async fn set_phones_traffic(
        &self,
        _traffic_type: &str,
        _phone_ids: &[String],
    ) -> Result<PhonesTrafficResponse> {
        Err(todo_c())
    }

    /// `GET /v1/{project_id}/cloud-phone/jobs/{job_id}`.
    pub async fn show_job(&self, _job_id: &str) -> Result<Job> {
        Err(todo_c())
    }

    /// Every job of up to 20 request ids, all pages (`request_ids=a,b,c`).
    pub async fn list_jobs(&self, _request_ids: &[String]) -> Result<Vec<Job>> {
        Err(todo_c())
    }

    /// `GET /v1/{project_id}/cloud-phone/server-models`.
    pub async fn list_server_models(&self) -> Result<Vec<ServerModel>> {
        Err(todo_c())
    }

    /// `GET /v1/{project_id}/cloud-phone/phone-models`.
    pub async fn list_phone_models(
        &self,
        _server_model_name: Option<&str>,
    ) -> Result<Vec<PhoneModel>> {
        Err(todo_c())
    }
}

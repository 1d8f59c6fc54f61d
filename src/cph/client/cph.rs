//! The CPH endpoints: servers, phones, jobs, routes, flavor changes and the
//! flavor catalogue, under `/v1/{project_id}/cloud-phone`.

use serde::Deserialize;

use super::{Client, Service, require_id};
use crate::cph::error::{Error, Result};
use crate::cph::models::*;
use crate::cph::sender::retry::Safety;
use crate::cph::signer::encode_component;

/// Page size of list-phones (the API allows 1..200).
pub(crate) const PHONES_PAGE_SIZE: u64 = 200;
/// Page size of list-servers (the API allows 1..100).
pub(crate) const SERVERS_PAGE_SIZE: u64 = 100;
/// Page size of list-jobs (the API allows 1..100).
pub const JOBS_PAGE_SIZE: u64 = 100;
/// Most request ids one list-jobs call takes.
pub const MAX_REQUEST_IDS_PER_CALL: usize = 20;
/// Most phones one phones-traffic call takes.
pub(crate) const MAX_PHONES_PER_TRAFFIC_CALL: usize = 100;
/// Page size of list-server-models.
const SERVER_MODELS_PAGE_SIZE: u64 = 100;
/// Upper bound on pages read by one listing, against a server that never
/// says it is done.
const MAX_PAGES: u64 = 10_000;

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

/// Whether an offset-paged listing is done after a page of `n` items,
/// `offset` items in all, when the API said `count` (0: did not say).
fn last_page(n: u64, page_size: u64, offset: u64, count: u64) -> bool {
    n < page_size || (count > 0 && offset >= count)
}

/// The marker of the next server-models page, if there is one: the page
/// was not empty and the marker moves on.
fn next_marker(page_info: Option<PageInfo>, empty: bool, current: Option<&str>) -> Option<String> {
    let next = page_info?.next_marker.filter(|m| !m.is_empty())?;
    (!empty && current != Some(next.as_str())).then_some(next)
}

impl Client {
    async fn cph_get<T: serde::de::DeserializeOwned>(
        &self,
        op: &'static str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T> {
        self.get(Service::Cph, op, path, query).await
    }

    /// `GET /v1/{project_id}/cloud-phone/servers/{server_id}`.
    pub async fn show_server(&self, server_id: &str) -> Result<Server> {
        require_id("server_id", server_id)?;
        let path = format!("/servers/{}", encode_component(server_id));
        self.cph_get("show_server", &path, &[]).await
    }

    /// One page of `GET /v1/{project_id}/cloud-phone/servers`.
    pub async fn list_servers(&self, offset: u64, limit: u64) -> Result<ServerList> {
        let query = [("offset", offset.to_string()), ("limit", limit.to_string())];
        self.cph_get("list_servers", "/servers", &query).await
    }

    /// One page (limit 1..100) of `GET /v1/{project_id}/cloud-phone/servers`
    /// with the filters of `query`.
    pub async fn list_servers_matching(
        &self,
        query: &ServerQuery,
        offset: u64,
        limit: u64,
    ) -> Result<ServerList> {
        let mut q: Vec<(&str, String)> = vec![
            ("offset", offset.to_string()),
            ("limit", limit.clamp(1, SERVERS_PAGE_SIZE).to_string()),
        ];
        let texts = [
            ("server_name", &query.server_name),
            ("server_id", &query.server_id),
            ("network_version", &query.network_version),
            ("phone_model_name", &query.phone_model_name),
        ];
        for (name, value) in texts {
            if let Some(v) = value {
                q.push((name, v.clone()));
            }
        }
        let numbers = [
            ("create_since", query.create_since),
            ("create_until", query.create_until),
            ("status", query.status.map(i64::from)),
        ];
        for (name, value) in numbers {
            if let Some(v) = value {
                q.push((name, v.to_string()));
            }
        }
        self.cph_get("list_servers", "/servers", &q).await
    }

    /// Every server matching `query`, all pages (100 a page).
    pub async fn list_all_servers(&self, query: &ServerQuery) -> Result<Vec<Server>> {
        let mut servers = Vec::new();
        let mut offset = 0;
        for _ in 0..MAX_PAGES {
            let page = self
                .list_servers_matching(query, offset, SERVERS_PAGE_SIZE)
                .await?;
            let n = page.servers.len() as u64;
            servers.extend(page.servers);
            offset += n;
            if last_page(n, SERVERS_PAGE_SIZE, offset, page.count) {
                break;
            }
        }
        Ok(servers)
    }

    /// `GET /v1/{project_id}/cloud-phone/phones/{phone_id}`.
    pub async fn show_phone(&self, phone_id: &str) -> Result<Phone> {
        require_id("phone_id", phone_id)?;
        let path = format!("/phones/{}", encode_component(phone_id));
        self.cph_get("show_phone", &path, &[]).await
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
        self.cph_get("list_phones", "/phones", &q).await
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
            if last_page(n, PHONES_PAGE_SIZE, offset, page.count) {
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
            Service::Cph,
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
            Service::Cph,
            "set_phones_traffic",
            "/phones-traffic",
            &body,
            Safety::IdempotentWrite,
        )
        .await
    }

    /// `POST /v1/{project_id}/cloud-phone/phones/batch-restart` for 1 to 100
    /// phones. Not retried once it may have reached the server: a repeat
    /// would restart the phones again.
    pub async fn restart_phones(&self, req: &BatchPhonesRequest) -> Result<BatchJobsResponse> {
        check_batch("phones", req.phones.len())?;
        self.batch_post("restart_phones", "/phones/batch-restart", req)
            .await
    }

    /// `POST /v1/{project_id}/cloud-phone/phones/batch-reset` for 1 to 100
    /// phones. Not retried once it may have reached the server.
    pub async fn reset_phones(&self, req: &BatchPhonesRequest) -> Result<BatchJobsResponse> {
        check_batch("phones", req.phones.len())?;
        self.batch_post("reset_phones", "/phones/batch-reset", req)
            .await
    }

    /// `POST /v1/{project_id}/cloud-phone/phones/batch-stop` for 1 to 100
    /// phones. Not retried once it may have reached the server.
    pub async fn stop_phones(&self, phone_ids: &[String]) -> Result<BatchJobsResponse> {
        check_batch("phones", phone_ids.len())?;
        let body = BatchStopRequest {
            phone_ids: phone_ids.to_vec(),
        };
        self.batch_post("stop_phones", "/phones/batch-stop", &body)
            .await
    }

    /// `POST /v1/{project_id}/cloud-phone/servers/batch-restart` for 1 to
    /// 100 servers. Not retried once it may have reached the server.
    pub async fn restart_servers(&self, server_ids: &[String]) -> Result<BatchJobsResponse> {
        check_batch("servers", server_ids.len())?;
        let body = BatchServersRequest {
            server_ids: server_ids.to_vec(),
        };
        self.batch_post("restart_servers", "/servers/batch-restart", &body)
            .await
    }

    async fn batch_post<B: serde::Serialize>(
        &self,
        op: &'static str,
        path: &str,
        body: &B,
    ) -> Result<BatchJobsResponse> {
        self.post(Service::Cph, op, path, body, Safety::NonIdempotent)
            .await
    }

    /// `GET /v1/{project_id}/cloud-phone/jobs/{job_id}`.
    pub async fn show_job(&self, job_id: &str) -> Result<Job> {
        require_id("job_id", job_id)?;
        let path = format!("/jobs/{}", encode_component(job_id));
        self.cph_get("show_job", &path, &[]).await
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
            let query = [
                ("request_ids", ids.clone()),
                ("offset", offset.to_string()),
                ("limit", JOBS_PAGE_SIZE.to_string()),
            ];
            let page: JobList = self.cph_get("list_jobs", "/jobs", &query).await?;
            let n = page.jobs.len() as u64;
            jobs.extend(page.jobs);
            offset += n;
            if last_page(n, JOBS_PAGE_SIZE, offset, page.count) {
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
            let mut q = vec![("limit", SERVER_MODELS_PAGE_SIZE.to_string())];
            if let Some(m) = &marker {
                q.push(("marker", m.clone()));
            }
            let page: ServerModelList = self
                .cph_get("list_server_models", "/server-models", &q)
                .await?;
            let empty = page.server_models.is_empty();
            models.extend(page.server_models);
            match next_marker(page.page_info, empty, marker.as_deref()) {
                Some(next) => marker = Some(next),
                None => break,
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
        let list: PhoneModelList = self
            .cph_get("list_phone_models", "/phone-models", &q)
            .await?;
        // Filter here too: not every API version filters by server flavor.
        Ok(list
            .phone_models
            .into_iter()
            .filter(|m| server_model_name.is_none_or(|name| m.server_model_name == name))
            .collect())
    }
}

/// A batch call takes 1 to [`MAX_IDS_PER_BATCH_CALL`] phones or servers.
fn check_batch(what: &str, n: usize) -> Result<()> {
    if n == 0 || n > MAX_IDS_PER_BATCH_CALL {
        return Err(Error::Config(format!(
            "a batch call takes 1 to {MAX_IDS_PER_BATCH_CALL} {what}, got {n}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_decisions() {
        assert!(last_page(3, 200, 3, 0));
        assert!(!last_page(200, 200, 200, 0));
        assert!(last_page(200, 200, 400, 400));
        let info = |m: &str| {
            Some(PageInfo {
                next_marker: Some(m.to_string()),
            })
        };
        assert_eq!(next_marker(info("b"), false, Some("a")), Some("b".into()));
        assert_eq!(next_marker(info("a"), false, Some("a")), None);
        assert_eq!(next_marker(info("b"), true, None), None);
        assert_eq!(next_marker(info(""), false, None), None);
        assert_eq!(next_marker(None, false, None), None);
    }
}

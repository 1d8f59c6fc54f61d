//! Job endpoints: job detail and list jobs by `request_id` or `request_ids`.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use serde_json::json;

use super::query::{Query, page};
use crate::app::App;
use crate::errors::{ApiError, ApiResult, code, ok};

/// At most this many ids in `request_ids`.
const MAX_REQUEST_IDS: usize = 20;

pub async fn show(
    State(app): State<App>,
    p: Result<Path<(String, String)>, PathRejection>,
) -> ApiResult {
    let id = super::path_param(p)?;
    let world = app.world.lock();
    let job = world
        .jobs
        .get(&id)
        .ok_or_else(|| ApiError::not_found(code::JOB_NOT_FOUND, "The job does not exist"))?;
    ok(job.to_json())
}

pub async fn list(State(app): State<App>, RawQuery(raw): RawQuery) -> ApiResult {
    let q = Query::parse(raw.as_deref());
    let request_ids: Vec<String> = match (q.str("request_id"), q.str("request_ids")) {
        (Some(one), _) => vec![one.to_string()],
        (None, Some(many)) => many
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        (None, None) => Vec::new(),
    };
    if request_ids.is_empty() || request_ids.len() > MAX_REQUEST_IDS {
        return Err(ApiError::bad_request(
            code::BAD_JOB_QUERY,
            format!("Either request_id or request_ids (1 to {MAX_REQUEST_IDS} ids) is required"),
        ));
    }
    let offset = q.offset()?;
    let limit = q.limit(100, 100)?;
    let world = app.world.lock();
    let matching = request_ids
        .iter()
        .filter_map(|r| world.jobs_by_request.get(r))
        .flatten()
        .filter_map(|id| world.jobs.get(id));
    let (items, count) = page(matching, offset, limit);
    let jobs: Vec<_> = items.iter().map(|j| j.to_json()).collect();
    ok(json!({"jobs": jobs, "count": count}))
}

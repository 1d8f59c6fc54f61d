//! Catalogue endpoints: server flavors (`product_type`, `marker`/`limit`
//! paging with `page_info.next_marker`) and phone flavors (`status`,
//! `server_model_name`, `product_type`, `offset`/`limit`).

use axum::extract::{RawQuery, State};
use serde_json::json;

use super::query::{Query, page};
use crate::app::App;
use crate::catalogue::{PHONE_MODELS, SERVER_MODELS};
use crate::errors::{ApiResult, ok};

pub async fn server_models(State(_app): State<App>, RawQuery(raw): RawQuery) -> ApiResult {
    let q = Query::parse(raw.as_deref());
    let product_type = q.int("product_type")?;
    let limit = q.limit(100, 100)?;
    let marker = q.str("marker");
    let matching: Vec<_> = SERVER_MODELS
        .iter()
        .filter(|m| product_type.is_none_or(|v| m.product_type == v))
        .collect();
    // The marker is the name of the last flavor of the previous page.
    let start = marker
        .and_then(|mk| matching.iter().position(|m| m.name == mk))
        .map_or(0, |i| i + 1);
    let rest = &matching[start.min(matching.len())..];
    let models: Vec<_> = rest.iter().take(limit).map(|m| m.to_json()).collect();
    let next_marker = (rest.len() > limit).then(|| rest[limit - 1].name);
    ok(json!({"server_models": models, "page_info": {"next_marker": next_marker}}))
}

pub async fn phone_models(State(_app): State<App>, RawQuery(raw): RawQuery) -> ApiResult {
    let q = Query::parse(raw.as_deref());
    let status = q.int("status")?;
    let product_type = q.int("product_type")?;
    let server_model = q.str("server_model_name");
    let offset = q.offset()?;
    let limit = q.limit(100, 100)?;
    let matching = PHONE_MODELS.iter().filter(|m| {
        status.is_none_or(|v| m.status == v)
            && product_type.is_none_or(|v| m.product_type == v)
            && server_model.is_none_or(|v| m.server_model == v)
    });
    let (items, _) = page(matching, offset, limit);
    let models: Vec<_> = items.iter().map(|m| m.to_json()).collect();
    ok(json!({"phone_models": models}))
}

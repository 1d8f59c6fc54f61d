//! Catalogue endpoints: server flavors and phone flavors, with filters.

use axum::extract::{RawQuery, State};
use serde_json::json;

use super::query::Query;
use crate::app::App;
use crate::catalogue::{PHONE_MODELS, SERVER_MODELS};
use crate::errors::{ApiResult, ok};

pub async fn server_models(State(_app): State<App>, RawQuery(raw): RawQuery) -> ApiResult {
    let q = Query::parse(raw.as_deref());
    let product_type = q.int("product_type")?;
    let models: Vec<_> = SERVER_MODELS
        .iter()
        .filter(|m| product_type.is_none_or(|v| m.product_type == v))
        .map(|m| m.to_json())
        .collect();
    ok(json!({"server_models": models}))
}

pub async fn phone_models(State(_app): State<App>, RawQuery(raw): RawQuery) -> ApiResult {
    let q = Query::parse(raw.as_deref());
    let status = q.int("status")?;
    let product_type = q.int("product_type")?;
    let server_model = q.str("server_model_name");
    let models: Vec<_> = PHONE_MODELS
        .iter()
        .filter(|m| {
            status.is_none_or(|v| m.status == v)
                && product_type.is_none_or(|v| m.product_type == v)
                && server_model.is_none_or(|v| m.server_model == v)
        })
        .map(|m| m.to_json())
        .collect();
    ok(json!({"phone_models": models}))
}

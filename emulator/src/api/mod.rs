//! The CPH API's routes (`/v1/{project_id}/cloud-phone/...`), the BSS order
//! calls (`/v2|v3/orders/customer-orders/...`), and the router that puts them,
//! IAM and the admin API behind the gateway. Unknown paths and methods answer
//! like the gateway: 404 `APIGW.0101`.

mod batch;
mod bss;
mod commands;
mod connection;
mod jobs;
mod models;
mod phones;
mod properties;
mod query;
mod servers;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};

use crate::app::App;
use crate::errors::ApiError;

/// The whole application router. Must agree with `endpoints::classify`.
pub fn router(app: App) -> Router {
    let p = "/v1/{project_id}/cloud-phone";
    Router::new()
        .route(
            &format!("{p}/servers/change-server-model"),
            post(servers::change_model),
        )
        .route(&format!("{p}/servers"), get(servers::list))
        .route(&format!("{p}/servers/{{server_id}}"), get(servers::show))
        .route(&format!("{p}/phones-traffic"), post(phones::route))
        .route(
            &format!("{p}/phones/batch-restart"),
            post(batch::restart_phones),
        )
        .route(
            &format!("{p}/phones/batch-reset"),
            post(batch::reset_phones),
        )
        .route(&format!("{p}/phones/batch-stop"), post(batch::stop_phones))
        .route(
            &format!("{p}/servers/batch-restart"),
            post(batch::restart_servers),
        )
        .merge(device_routes(p))
        .route(&format!("{p}/phones"), get(phones::list))
        .route(&format!("{p}/phones/{{phone_id}}"), get(phones::show))
        .route(&format!("{p}/jobs"), get(jobs::list))
        .route(&format!("{p}/jobs/{{job_id}}"), get(jobs::show))
        .route(&format!("{p}/server-models"), get(models::server_models))
        .route(&format!("{p}/phone-models"), get(models::phone_models))
        .route("/v3/auth/tokens", post(crate::iam::issue_token))
        .route("/v3/projects", get(crate::iam::list_projects))
        .route("/v3/auth/domains", get(crate::iam::list_domains))
        .route(
            "/v3.0/OS-CREDENTIAL/securitytokens",
            post(crate::iam::assume_role),
        )
        .merge(bss_routes())
        .nest("/intl", bss_routes())
        .nest("/_emulator", crate::admin::router())
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .layer(from_fn_with_state(app.clone(), crate::gateway::gateway))
        .with_state(app)
}

/// Properties, ADB commands and connections of phones.
fn device_routes(p: &str) -> Router<App> {
    Router::new()
        .route(
            &format!("{p}/phones/batch-update-property"),
            post(properties::update),
        )
        .route(&format!("{p}/phones/commands"), post(commands::run))
        .route(
            &format!("{p}/phones/batch-connection"),
            post(connection::batch_connection),
        )
}

/// BSS's routes, served at the root and again under `/intl` (its
/// international endpoint).
fn bss_routes() -> Router<App> {
    Router::new()
        .route(
            "/v2/orders/customer-orders/details/{order_id}",
            get(bss::show_order),
        )
        .route("/v3/orders/customer-orders/pay", post(bss::pay_order))
        .route("/v2/orders/customer-orders/cancel", put(bss::cancel_order))
        .route("/v2/products/service-types", get(bss::service_types))
}

async fn not_found() -> Response {
    ApiError::api_not_found().into_response()
}

/// A path parameter, or the gateway's 404 when it cannot be read.
fn path_param(
    p: Result<axum::extract::Path<(String, String)>, axum::extract::rejection::PathRejection>,
) -> Result<String, ApiError> {
    p.map(|axum::extract::Path((_, id))| id)
        .map_err(|_| ApiError::api_not_found())
}

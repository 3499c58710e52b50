//! Route table for `/api/v1`.

pub mod accounts;
pub mod analytics;
pub mod anomaly;
pub mod categorization;
pub mod document;
pub mod forecast;
pub mod health;
pub mod ingest;
pub mod ops;
pub mod training;
pub mod ws;

use actix_web::http::header::{self, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::Stream;
use scale_actors::cache::service::Invalidate;
use scale_actors::ingest::store::ImportOutcome;
use utoipa::OpenApi;
use uuid::Uuid;

use crate::openapi::Problems;
use crate::problem::ApiError;
use crate::AppState;

/// Registers every `/api/v1` route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(accounts::configure)
        .configure(analytics::configure)
        .configure(anomaly::configure)
        .configure(categorization::configure)
        .configure(forecast::configure)
        .configure(health::configure)
        .configure(ingest::configure)
        .configure(ops::configure)
        .configure(training::configure)
        .configure(ws::configure)
        .configure(document::configure);
}

/// Every route module's OpenAPI description with its extra problem codes (the `/ops` page's
/// included), for [`document::document`].
pub fn openapi() -> Vec<(utoipa::openapi::OpenApi, Problems)> {
    vec![
        (accounts::Api::openapi(), accounts::PROBLEMS),
        (analytics::Api::openapi(), analytics::PROBLEMS),
        (anomaly::Api::openapi(), anomaly::PROBLEMS),
        (categorization::Api::openapi(), categorization::PROBLEMS),
        (document::Api::openapi(), &[]),
        (forecast::Api::openapi(), forecast::PROBLEMS),
        (health::Api::openapi(), health::PROBLEMS),
        (ingest::Api::openapi(), ingest::PROBLEMS),
        (ops::Api::openapi(), ops::PROBLEMS),
        (ops::page::Api::openapi(), &[]),
        (training::Api::openapi(), training::PROBLEMS),
        (ws::Api::openapi(), ws::PROBLEMS),
    ]
}

/// The answer for paths no route matches.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found(format!(
        "No route for {} {}",
        req.method(),
        req.path()
    )))
}

/// A Server-Sent Events answer streaming `frames`, which proxies must neither cache nor buffer.
pub(crate) fn event_stream(
    frames: impl Stream<Item = Result<Bytes, std::convert::Infallible>> + 'static,
) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .insert_header(("x-accel-buffering", HeaderValue::from_static("no")))
        .streaming(frames)
}

/// Drops `user`'s cached answers after their data changed. A cache failure is logged, not
/// returned: the change itself succeeded.
pub(crate) async fn invalidate_cache(state: &AppState, user: Uuid) {
    if let Err(err) = state.cache.ask(Invalidate { user }).await {
        tracing::warn!(%err, %user, "cache invalidation failed");
    }
}

/// What follows every import, once its rows are committed: `user`'s cached answers are dropped
/// and the rows it stored are scanned for anomalies in the background (the answer does not
/// wait for the scan).
pub(crate) async fn after_import(state: &web::Data<AppState>, user: Uuid, outcome: &ImportOutcome) {
    invalidate_cache(state, user).await;
    anomaly::scan_after_import(state, user, outcome);
}

//! Route table for `/api/v1`.

pub mod accounts;
pub mod analytics;
pub mod categorization;
pub mod forecast;
pub mod health;
pub mod ingest;
pub mod ops;
pub mod training;
pub mod ws;

use actix_web::{web, HttpRequest, HttpResponse};
use scale_actors::cache::service::Invalidate;
use uuid::Uuid;

use crate::problem::ApiError;
use crate::AppState;

/// Registers every `/api/v1` route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(accounts::configure)
        .configure(analytics::configure)
        .configure(categorization::configure)
        .configure(forecast::configure)
        .configure(health::configure)
        .configure(ingest::configure)
        .configure(ops::configure)
        .configure(training::configure)
        .configure(ws::configure);
}

/// The answer for paths no route matches.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found(format!(
        "No route for {} {}",
        req.method(),
        req.path()
    )))
}

/// Drops `user`'s cached answers after their data changed. A cache failure is logged, not
/// returned: the change itself succeeded.
pub(crate) async fn invalidate_cache(state: &AppState, user: Uuid) {
    if let Err(err) = state.cache.ask(Invalidate { user }).await {
        tracing::warn!(%err, %user, "cache invalidation failed");
    }
}

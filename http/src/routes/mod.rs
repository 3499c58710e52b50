//! Route table for `/api/v1`.

pub mod accounts;
pub mod analytics;
pub mod health;
pub mod ingest;
pub mod ops;

use actix_web::{web, HttpRequest, HttpResponse};

use crate::problem::ApiError;

/// Registers every `/api/v1` route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(accounts::configure)
        .configure(analytics::configure)
        .configure(health::configure)
        .configure(ingest::configure)
        .configure(ops::configure);
}

/// The answer for paths no route matches.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found(format!(
        "No route for {} {}",
        req.method(),
        req.path()
    )))
}

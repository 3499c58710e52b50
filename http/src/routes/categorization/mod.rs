//! Categorization routes (`/api/v1/categorization/*`, the classify rate-limit tier), answered by
//! the classifier actor: [`classify`] (one narration, a batch, the web client's map).

mod classify;

use actix_web::web;

/// Registers the categorization routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(classify::configure);
}

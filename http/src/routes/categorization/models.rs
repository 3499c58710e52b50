//! `GET /categorization/models`: the caller's trained models (the newest 50), as the training
//! actor reads them under the caller's row-level security: what each is and how it scored, never
//! its bytes or where it is kept.

use actix_web::{web, HttpResponse};
use scale_actors::training::service::ListModels;
use serde_json::json;

use crate::auth::AuthUser;
use crate::problem::ApiError;
use crate::AppState;

/// Registers the models route.
pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/categorization/models").get(models));
}

/// `GET /categorization/models` → `{models: [{id, kind, job_id, format, size_bytes, metrics,
/// created_at}]}`, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/categorization/models",
    tag = "categorization",
    responses((status = 200, description = "`{models: [{id, kind, job_id, format, size_bytes, metrics, created_at}]}`, newest first.", body = Object))
)]
async fn models(user: AuthUser, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let models = state.training.ask(ListModels { user: user.id }).await??;
    Ok(HttpResponse::Ok().json(json!({ "models": models })))
}

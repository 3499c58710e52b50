//! `PATCH /categorization/transactions/{id}/category` (§5.7): the caller sets a transaction's
//! category by hand, optionally carrying it over to the transactions like it (same
//! description, or same known merchant) that nobody set by hand. In one database transaction the
//! rows become `manual` (the Income sign rule applies, the first category is kept in
//! `original_category`) and their corrections are upserted; then the caller's layer is rebuilt.

use actix_web::{web, HttpResponse};
use scale_actors::accounts::service::CorrectCategory;
use scale_actors::text;
use scale_statements::text::CATEGORY;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::problem::ApiError;
use crate::AppState;

/// Registers the route.
pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/categorization/transactions/{id}/category").patch(correct_category),
    );
}

/// The body: the new category, and whether the caller's similar transactions take it too.
#[derive(Deserialize, ToSchema)]
struct CategoryBody {
    /// The category.
    category: String,
    /// Also recategorise the caller's transactions with the same narration.
    #[serde(default)]
    apply_to_similar: bool,
}

/// Sets the category → `{updated_ids, updated_categories: [category], training_job_id}`.
#[utoipa::path(
    patch,
    path = "/api/v1/categorization/transactions/{id}/category",
    tag = "categorization",
    params(("id" = Uuid, Path, description = "The transaction (another user's answers 404).")),
    request_body = CategoryBody,
    responses((status = 200, description = "`{updated_ids, updated_categories: [category], training_job_id}`.", body = Object))
)]
async fn correct_category(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: web::Json<CategoryBody>,
) -> Result<HttpResponse, ApiError> {
    let CategoryBody {
        category,
        apply_to_similar,
    } = body.into_inner();
    let category = text::trimmed("category", &category, CATEGORY)?;
    if category.is_empty() {
        return Err(ApiError::validation("`category` must not be empty"));
    }
    let msg = CorrectCategory {
        user: user.id,
        id: id.into_inner(),
        category: category.clone(),
        apply_to_similar,
    };
    let updated_ids = state.accounts.local().ask(msg).await??;
    crate::routes::invalidate_cache(&state, user.id).await;
    let job = super::corrections_changed(&state, &user).await;
    Ok(HttpResponse::Ok().json(json!({
        "updated_ids": updated_ids,
        "updated_categories": [category],
        "training_job_id": job,
    })))
}

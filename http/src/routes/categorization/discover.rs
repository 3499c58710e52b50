//! `POST /categorization/discover`: groups of similar narrations (spherical k-means over the
//! classifier's text features), from the narrations sent or, without any, from the caller's own
//! transactions that are `Uncategorized` or need review. The classifier actor clusters them.

use actix_web::{web, HttpResponse};
use scale_actors::categorization::discovery::request::{Discover, Narrations};
use scale_actors::categorization::discovery::{Params, MAX_DESCRIPTIONS};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::problem::ApiError;
use crate::AppState;

/// Registers the discovery route.
pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/categorization/discover").post(discover));
}

/// The body (unknown fields are ignored).
#[derive(Deserialize, ToSchema)]
struct DiscoverBody {
    /// The narrations to cluster; absent: the caller's stored ones that need a category.
    descriptions: Option<Vec<String>>,
    /// One signed amount (or null) per description, when known.
    amounts: Option<Vec<Option<f64>>>,
    /// Clusters to look for.
    #[serde(default = "default_clusters")]
    n_clusters: usize,
    /// Confidence above which a cluster is `is_known`.
    #[serde(default = "default_threshold")]
    confidence_threshold: f64,
}

fn default_clusters() -> usize {
    5
}

fn default_threshold() -> f64 {
    0.7
}

/// `POST /categorization/discover` → `{discovered_categories, total_descriptions,
/// distinct_descriptions, n_clusters}`.
#[utoipa::path(
    post,
    path = "/api/v1/categorization/discover",
    tag = "categorization",
    request_body = DiscoverBody,
    responses((status = 200, description = "`{discovered_categories, total_descriptions, distinct_descriptions, n_clusters}`.", body = Object))
)]
async fn discover(
    user: AuthUser,
    state: web::Data<AppState>,
    body: web::Json<DiscoverBody>,
) -> Result<HttpResponse, ApiError> {
    let DiscoverBody {
        descriptions,
        amounts,
        n_clusters,
        confidence_threshold,
    } = body.into_inner();
    let params = Params::new(n_clusters, confidence_threshold)?;
    let narrations = match descriptions {
        Some(descriptions) => {
            Narrations::Given(super::narrations(descriptions, amounts, MAX_DESCRIPTIONS)?)
        }
        None if amounts.is_some() => {
            return Err(ApiError::validation("`amounts` needs `descriptions`"))
        }
        None => Narrations::Stored,
    };
    let msg = Discover {
        user: user.id,
        narrations,
        params,
    };
    Ok(HttpResponse::Ok().json(state.classifier.ask(msg).await??))
}

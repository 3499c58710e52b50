//! The classification routes: one narration, a batch (order kept, at most 5,000) and the web
//! client's legacy map. The classifier actor answers with the shipped rules and global model.

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use scale_actors::categorization::resolve::Classification;
use scale_actors::categorization::service::{Classify, MAX_BATCH};
use scale_statements::text;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::problem::ApiError;
use crate::AppState;

/// The model name every answer reports.
const MODEL_USED: &str = "scale-cat-v2";

/// Registers the classification routes.
pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/categorization/classify").post(classify))
        .service(web::resource("/categorization/classify/batch").post(classify_batch))
        .service(web::resource("/categorization/classify/map").post(classify_map));
}

/// `POST /categorization/classify` body (`use_latest_model` and `model_path` are accepted and
/// ignored, as before).
#[derive(Deserialize, ToSchema)]
struct ClassifyBody {
    /// The narration (no NUL character).
    #[schema(max_length = 1000)]
    description: String,
    /// The signed amount, when known (Salary needs a credit).
    amount: Option<f64>,
}

/// `POST /categorization/classify/batch` and `/classify/map` body.
#[derive(Deserialize, ToSchema)]
struct BatchBody {
    /// The narrations (1..=5000, each at most 1000 characters, no NUL character).
    #[schema(min_items = 1, max_items = 5000)]
    descriptions: Vec<String>,
    /// One signed amount (or null) per description, when known.
    amounts: Option<Vec<Option<f64>>>,
}

/// One answer: the original fields (`category`, `confidence`, `model_used`) and what decided it.
#[derive(Serialize, ToSchema)]
struct Prediction {
    /// The category.
    category: String,
    /// Calibrated confidence, 0..=1.
    confidence: f64,
    /// The shipped model's name.
    model_used: &'static str,
    /// What decided: `rule`, `model`, `user`, `fallback`…
    source: &'static str,
    /// Whether a person should check it.
    needs_review: bool,
    /// The narration as classified.
    cleaned: String,
}

impl From<Classification> for Prediction {
    fn from(c: Classification) -> Self {
        Prediction {
            category: c.category,
            confidence: c.confidence,
            model_used: MODEL_USED,
            source: c.source.as_str(),
            needs_review: c.needs_review,
            cleaned: c.cleaned,
        }
    }
}

/// `POST /categorization/classify`: one narration's category.
#[utoipa::path(
    post,
    path = "/api/v1/categorization/classify",
    tag = "categorization",
    request_body = ClassifyBody,
    responses((status = 200, description = "The narration's category.", body = Prediction))
)]
async fn classify(
    user: AuthUser,
    state: web::Data<AppState>,
    body: web::Json<ClassifyBody>,
) -> Result<HttpResponse, ApiError> {
    let ClassifyBody {
        description,
        amount,
    } = body.into_inner();
    text::check("description", &description, text::DESCRIPTION)?;
    let mut answers = state
        .classifier
        .ask(Classify {
            user: Some(user.id),
            items: vec![(description, amount)],
        })
        .await??;
    let answer = answers.pop().map(Prediction::from);
    Ok(HttpResponse::Ok().json(answer))
}

/// `POST /categorization/classify/batch`: a category per narration, in order.
#[utoipa::path(
    post,
    path = "/api/v1/categorization/classify/batch",
    tag = "categorization",
    request_body = BatchBody,
    responses((status = 200, description = "`{predictions}`: a category per narration, in order.", body = Object))
)]
async fn classify_batch(
    user: AuthUser,
    state: web::Data<AppState>,
    body: web::Json<BatchBody>,
) -> Result<HttpResponse, ApiError> {
    let answers = classify_all(&state, &user, body.into_inner()).await?;
    let predictions: Vec<Prediction> = answers.into_iter().map(Prediction::from).collect();
    Ok(HttpResponse::Ok().json(json!({ "predictions": predictions })))
}

/// `POST /categorization/classify/map`: the web client's contract, `{description: category}`
/// for every description that got a category (`Uncategorized` ones are left out).
#[utoipa::path(
    post,
    path = "/api/v1/categorization/classify/map",
    tag = "categorization",
    request_body = BatchBody,
    responses((status = 200, description = "The web client's map `{description: category}` (`Uncategorized` ones left out).", body = BTreeMap<String, String>))
)]
async fn classify_map(
    user: AuthUser,
    state: web::Data<AppState>,
    body: web::Json<BatchBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let descriptions = body.descriptions.clone();
    let answers = classify_all(&state, &user, body).await?;
    let map: BTreeMap<String, String> = descriptions
        .into_iter()
        .zip(answers)
        .filter(|(_, answer)| answer.category != scale_statements::rows::UNCATEGORIZED)
        .map(|(description, answer)| (description, answer.category))
        .collect();
    Ok(HttpResponse::Ok().json(map))
}

/// Checks a batch (not empty, at most [`MAX_BATCH`], text within limits, one amount per
/// description) and classifies it in one call.
async fn classify_all(
    state: &AppState,
    user: &AuthUser,
    body: BatchBody,
) -> Result<Vec<Classification>, ApiError> {
    let items = super::narrations(body.descriptions, body.amounts, MAX_BATCH)?;
    let user = Some(user.id);
    Ok(state.classifier.ask(Classify { user, items }).await??)
}

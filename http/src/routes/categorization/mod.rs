//! Categorization routes (`/api/v1/categorization/*`): `classify` (one narration, a batch, the
//! web client's map; the classify rate-limit tier) and `discover` (groups among narrations
//! nothing categorised; the same tier), answered by the classifier actor, `models` (the
//! caller's trained models), answered by the training actor, and the corrections that teach the
//! classifier: `feedback` (free text) and `corrections` (a category set by hand). Every
//! correction feeds the caller's layer at once and, every `CATEGORIZER_RETRAIN_AFTER` of them,
//! queues a categorizer job.

mod classify;
mod corrections;
mod discover;
mod feedback;
mod models;

use actix_web::http::StatusCode;
use actix_web::web;
use scale_actors::categorization::service::CorrectionsChanged;
use scale_statements::text;
use utoipa::OpenApi;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::openapi::Problems;
use crate::problem::{ApiError, Code};
use crate::AppState;

/// The categorization routes' description.
#[derive(OpenApi)]
#[openapi(paths(
    classify::classify,
    classify::classify_batch,
    classify::classify_map,
    feedback::feedback,
    corrections::correct_category,
    discover::discover,
    models::models
))]
pub struct Api;

/// What a batch of narrations can be refused with besides the JSON body's codes.
const TOO_MANY: &[Code] = &[Code::PayloadTooLarge, Code::Validation];

/// Codes the categorization routes answer besides the ones their kind shares.
pub const PROBLEMS: Problems = &[
    ("classify_batch", TOO_MANY),
    ("classify_map", TOO_MANY),
    ("feedback", TOO_MANY),
    ("discover", &[Code::BadRequest]),
];

/// Registers the categorization routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(classify::configure)
        .configure(feedback::configure)
        .configure(corrections::configure)
        .configure(discover::configure)
        .configure(models::configure);
}

/// Tells every process that the caller's corrections changed (stored elsewhere), then
/// [`learn_from_corrections`].
pub(crate) async fn corrections_changed(state: &AppState, user: &AuthUser) -> Option<Uuid> {
    match state
        .classifier
        .ask(CorrectionsChanged { user: user.id })
        .await
    {
        Ok(Ok(pending)) => learn_from_corrections(state, user, pending).await,
        Ok(Err(err)) => {
            tracing::warn!(user = %user.id, error = %err, "cannot count corrections");
            None
        }
        Err(err) => {
            tracing::warn!(user = %user.id, error = %err, "cannot reach the classifier");
            None
        }
    }
}

/// Queues a categorizer job once `pending` corrections (made since the newest one was queued)
/// reach `CATEGORIZER_RETRAIN_AFTER`; the job (new or already active) is returned. A failure
/// to queue is logged: the corrections are stored and apply already.
async fn learn_from_corrections(state: &AppState, user: &AuthUser, pending: i64) -> Option<Uuid> {
    if pending < i64::from(state.retrain_after) {
        return None;
    }
    match crate::routes::training::queue_categorizer(state, user).await {
        Ok(job) => Some(job.id),
        Err(err) => {
            tracing::warn!(user = %user.id, error = %err.detail, "cannot queue a retrain");
            None
        }
    }
}

/// Checks a list of narrations sent by a client (not empty, at most `max`, each free of NUL
/// characters and within the description limit, one amount or null per description when
/// amounts are sent) and pairs each with its amount.
fn narrations(
    descriptions: Vec<String>,
    amounts: Option<Vec<Option<f64>>>,
    max: usize,
) -> Result<Vec<(String, Option<f64>)>, ApiError> {
    if descriptions.is_empty() {
        return Err(ApiError::bad_request(
            Code::BadRequest,
            "No descriptions provided",
        ));
    }
    if descriptions.len() > max {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            Code::PayloadTooLarge,
            format!("At most {max} descriptions per request"),
        ));
    }
    for (index, description) in descriptions.iter().enumerate() {
        text::check(
            format_args!("descriptions[{index}]"),
            description,
            text::DESCRIPTION,
        )?;
    }
    let amounts = match amounts {
        Some(amounts) if amounts.len() != descriptions.len() => {
            return Err(ApiError::validation(
                "`amounts` must hold one value (or null) per description",
            ))
        }
        Some(amounts) => amounts,
        None => vec![None; descriptions.len()],
    };
    Ok(descriptions.into_iter().zip(amounts).collect())
}

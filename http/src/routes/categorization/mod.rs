//! Categorization routes (`/api/v1/categorization/*`, the classify rate-limit tier), answered by
//! the classifier actor: `classify` (one narration, a batch, the web client's map),
//! `feedback` (free-text corrections) and `corrections` (a category set by hand). Every
//! correction feeds the caller's layer at once and, every `CATEGORIZER_RETRAIN_AFTER` of them,
//! queues a categorizer job.

mod classify;
mod corrections;
mod feedback;

use actix_web::web;
use scale_actors::categorization::service::CorrectionsChanged;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::AppState;

/// Registers the categorization routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(classify::configure)
        .configure(feedback::configure)
        .configure(corrections::configure);
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

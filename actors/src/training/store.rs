//! The training-jobs SQL. User-facing reads run in the caller's row-level-security context
//! ([`as_user`]), so another user's job is indistinguishable from a missing one.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use scale_schema::tables::training_jobs;
use scale_schema::{as_user, PgPool};
use serde::Serialize;
use uuid::Uuid;

use super::events::JobEvent;
use super::{JobStatus, TrainingError};

/// A job as clients see it (no lease internals).
#[derive(Debug, Clone, PartialEq, Serialize, Queryable, Selectable)]
#[diesel(table_name = training_jobs)]
pub struct JobView {
    /// Job id.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// `categorizer` or `forecaster`.
    pub kind: String,
    /// `pending`, `processing`, `completed`, `failed` or `cancelled`.
    pub status: String,
    /// Fraction done, 0..=1.
    pub progress: f32,
    /// Quality figures of the fitted model.
    pub metrics: Option<serde_json::Value>,
    /// Attempts started so far.
    pub attempts: i32,
    /// Attempts allowed.
    pub max_attempts: i32,
    /// Why the last attempt failed.
    pub error: Option<String>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// When the first attempt started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it reached a final status.
    pub finished_at: Option<DateTime<Utc>>,
    /// Steps done so far.
    pub step: i32,
    /// Steps in all (0 when unknown).
    pub total: i32,
    /// The latest progress message.
    pub message: String,
    /// Sequence number of the latest event (see [`JobEvent::seq`]).
    pub event_seq: i64,
}

impl JobView {
    /// The event describing the job's current state (as logged by the trigger that bumped
    /// [`JobView::event_seq`]).
    pub fn event(&self) -> JobEvent {
        let status = JobStatus::parse(&self.status).unwrap_or(JobStatus::Failed);
        JobEvent {
            job_id: self.id,
            user_id: self.user_id,
            seq: self.event_seq,
            status,
            step: u32::try_from(self.step).unwrap_or(0),
            total: u32::try_from(self.total).unwrap_or(0),
            progress: self.progress,
            message: self.message.clone(),
            metrics: (status == JobStatus::Completed)
                .then(|| self.metrics.clone())
                .flatten(),
            at: self.updated_at,
        }
    }
}

/// The caller's job `id`.
pub async fn get(pool: &PgPool, user: Uuid, id: Uuid) -> Result<JobView, TrainingError> {
    let mut conn = pool.get().await.map_err(TrainingError::database)?;
    as_user(&mut conn, user, async |conn| {
        training_jobs::table
            .filter(training_jobs::id.eq(id))
            .filter(training_jobs::user_id.eq(user))
            .select(JobView::as_select())
            .first(conn)
            .await
            .optional()?
            .ok_or(TrainingError::NotFound)
    })
    .await
}

//! The SQL of the API's training jobs and stored models. Every operation runs in the caller's
//! row-level-security context ([`as_user`], one database transaction) and still filters by
//! `user_id`, so another user's job is indistinguishable from a missing one. Changes return the job's new
//! [`JobView`]; the caller publishes [`JobView::event`] after the commit.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::DecoratableTarget;
use diesel_async::pooled_connection::bb8::PooledConnection;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use scale_schema::tables::{training_job_events, training_jobs, training_models};
use scale_schema::{as_user, PgPool};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::listing::JobQuery;
use super::TrainingError;
use crate::accounts::store::ensure_user;
use crate::error::CoreError;
use crate::events::JobEvent;
use crate::jobs::{JobKind, JobStatus};
use crate::pagination::Cursor;

/// Most logged events one [`events`] call returns.
pub const EVENTS_PAGE: i64 = 256;
/// Most models one [`models`] call returns (the newest).
pub const MODELS_LISTED: i64 = 50;

/// A job as clients see it (no lease internals).
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, Queryable, Selectable, utoipa::ToSchema,
)]
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
    #[schema(value_type = Option<Object>)]
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
        let completed = self.status == JobStatus::Completed.as_str();
        LoggedEvent {
            job_id: self.id,
            seq: self.event_seq,
            user_id: self.user_id,
            status: self.status.clone(),
            step: self.step,
            total: self.total,
            progress: self.progress,
            message: self.message.clone(),
            metrics: self.metrics.clone().filter(|_| completed),
            created_at: self.updated_at,
        }
        .into()
    }
}

/// A `training_job_events` row.
#[derive(Queryable, Selectable)]
#[diesel(table_name = training_job_events)]
struct LoggedEvent {
    job_id: Uuid,
    seq: i64,
    user_id: Uuid,
    status: String,
    step: i32,
    total: i32,
    progress: f32,
    message: String,
    metrics: Option<serde_json::Value>,
    created_at: DateTime<Utc>,
}

impl From<LoggedEvent> for JobEvent {
    fn from(row: LoggedEvent) -> Self {
        JobEvent {
            job_id: row.job_id,
            user_id: row.user_id,
            seq: row.seq,
            status: JobStatus::parse(&row.status).unwrap_or(JobStatus::Failed),
            step: u32::try_from(row.step).unwrap_or(0),
            total: u32::try_from(row.total).unwrap_or(0),
            progress: row.progress,
            message: row.message,
            metrics: row.metrics,
            at: row.created_at,
        }
    }
}

/// A stored model as clients see it: what it is and how it scored, never its bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Queryable)]
pub struct ModelView {
    /// Model id.
    pub id: Uuid,
    /// `categorizer` or `forecaster`.
    pub kind: String,
    /// The job that fitted it.
    pub job_id: Uuid,
    /// The artefact's format and version.
    pub format: String,
    /// The artefact's size.
    pub size_bytes: i64,
    /// Quality figures of the fit.
    pub metrics: serde_json::Value,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
}

/// One page of the caller's jobs.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct JobPage {
    /// The jobs, newest first (`created_at DESC, id DESC`).
    pub jobs: Vec<JobView>,
    /// Cursor of the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

async fn connect(pool: &PgPool) -> Result<PooledConnection<'_, AsyncPgConnection>, TrainingError> {
    scale_schema::checkout(pool)
        .await
        .map_err(|e| TrainingError::Core(CoreError::Database(e)))
}

/// The caller's job `id`.
pub async fn get(pool: &PgPool, user: Uuid, id: Uuid) -> Result<JobView, TrainingError> {
    let mut conn = connect(pool).await?;
    as_user(&mut conn, user, async |conn| find(conn, user, id).await).await
}

async fn find(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    id: Uuid,
) -> Result<JobView, TrainingError> {
    training_jobs::table
        .filter(training_jobs::id.eq(id))
        .filter(training_jobs::user_id.eq(user))
        .select(JobView::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(super::job_not_found)
}

/// How often [`create`] retries when the active job it collided with finished meanwhile.
const CREATE_ATTEMPTS: usize = 3;

/// Queues a pending `kind` job for `user` (creating the `users` row with `role` if missing),
/// allowed `max_attempts` attempts (the table's default when `None`). An active job of the same
/// kind (index `uq_training_jobs_active`) is [`TrainingError::Conflict`] with its id.
pub async fn create(
    pool: &PgPool,
    user: Uuid,
    role: &str,
    kind: JobKind,
    max_attempts: Option<i32>,
) -> Result<JobView, TrainingError> {
    let mut conn = connect(pool).await?;
    as_user(&mut conn, user, async |conn| {
        ensure_user(conn, user, role).await?;
        for _ in 0..CREATE_ATTEMPTS {
            // ON CONFLICT … DO NOTHING instead of catching the violation: the transaction stays
            // usable, and a concurrent insert is waited for, so the SELECT below sees it.
            let inserted = diesel::insert_into(training_jobs::table)
                .values((
                    training_jobs::user_id.eq(user),
                    training_jobs::kind.eq(kind.as_str()),
                    max_attempts.map(|n| training_jobs::max_attempts.eq(n)),
                ))
                .on_conflict((training_jobs::user_id, training_jobs::kind))
                .filter_target(training_jobs::status.eq_any(ACTIVE))
                .do_nothing()
                .returning(JobView::as_returning())
                .get_result(conn)
                .await
                .optional()?;
            if let Some(job) = inserted {
                return Ok(job);
            }
            let active: Option<Uuid> = training_jobs::table
                .filter(training_jobs::user_id.eq(user))
                .filter(training_jobs::kind.eq(kind.as_str()))
                .filter(training_jobs::status.eq_any(ACTIVE))
                .select(training_jobs::id)
                .first(conn)
                .await
                .optional()?;
            if let Some(id) = active {
                return Err(TrainingError::Conflict(id));
            }
        }
        Err(TrainingError::Core(CoreError::Database(
            scale_schema::DbFailure::query("the active job kept changing while queueing a new one"),
        )))
    })
    .await
}

/// Records what followed the completion of `job` (a new message, `metrics` merged into its
/// own) as one more logged event of the completed job; `None` when it is no longer completed.
pub async fn annotate(
    pool: &PgPool,
    job: &JobView,
    message: &str,
    metrics: serde_json::Map<String, serde_json::Value>,
) -> Result<Option<JobView>, TrainingError> {
    let mut merged = match &job.metrics {
        Some(serde_json::Value::Object(fields)) => fields.clone(),
        _ => serde_json::Map::new(),
    };
    merged.extend(metrics);
    let mut conn = connect(pool).await?;
    as_user(&mut conn, job.user_id, async |conn| {
        diesel::update(training_jobs::table)
            .filter(training_jobs::id.eq(job.id))
            .filter(training_jobs::user_id.eq(job.user_id))
            .filter(training_jobs::status.eq(JobStatus::Completed.as_str()))
            .set((
                training_jobs::message.eq(message),
                training_jobs::metrics.eq(serde_json::Value::Object(merged)),
            ))
            .returning(JobView::as_returning())
            .get_result(conn)
            .await
            .optional()
    })
    .await
    .map_err(TrainingError::from)
}

/// The statuses of an active job.
const ACTIVE: [&str; 2] = ["pending", "processing"];

/// One page of `user`'s jobs matching `q`, by keyset over `(created_at DESC, id DESC)` (index
/// `idx_training_jobs_user_created`).
pub async fn list(pool: &PgPool, user: Uuid, q: &JobQuery) -> Result<JobPage, TrainingError> {
    let mut query = training_jobs::table
        .filter(training_jobs::user_id.eq(user))
        .select(JobView::as_select())
        .order((training_jobs::created_at.desc(), training_jobs::id.desc()))
        .limit(q.limit + 1)
        .into_boxed();
    if let Some(after) = q.after {
        query = query.filter(
            training_jobs::created_at
                .lt(after.key)
                .or(training_jobs::created_at
                    .eq(after.key)
                    .and(training_jobs::id.lt(after.id))),
        );
    }
    if let Some(status) = q.status {
        query = query.filter(training_jobs::status.eq(status.as_str()));
    }
    if let Some(kind) = q.kind {
        query = query.filter(training_jobs::kind.eq(kind.as_str()));
    }
    let mut conn = connect(pool).await?;
    let mut jobs: Vec<JobView> =
        as_user::<_, TrainingError, _>(&mut conn, user, async move |conn| {
            Ok(query.load(conn).await?)
        })
        .await?;
    let limit = usize::try_from(q.limit).unwrap_or(usize::MAX);
    let next_cursor = if jobs.len() > limit {
        jobs.truncate(limit);
        jobs.last().map(|last| {
            Cursor {
                key: last.created_at,
                id: last.id,
            }
            .encode()
        })
    } else {
        None
    };
    Ok(JobPage { jobs, next_cursor })
}

/// Cancels `user`'s job `id`: a pending or running job becomes `cancelled` at once (a worker
/// running it notices through its fenced writes and its status watch); a finished job is
/// [`TrainingError::Finished`].
pub async fn cancel(pool: &PgPool, user: Uuid, id: Uuid) -> Result<JobView, TrainingError> {
    let mut conn = connect(pool).await?;
    as_user(&mut conn, user, async |conn| {
        let cancelled = diesel::update(
            training_jobs::table
                .filter(training_jobs::id.eq(id))
                .filter(training_jobs::user_id.eq(user))
                .filter(training_jobs::status.eq_any(ACTIVE)),
        )
        .set((
            training_jobs::status.eq(JobStatus::Cancelled.as_str()),
            training_jobs::finished_at.eq(diesel::dsl::now),
            training_jobs::message.eq("cancelled by the user"),
        ))
        .returning(JobView::as_returning())
        .get_result(conn)
        .await
        .optional()?;
        match cancelled {
            Some(job) => Ok(job),
            // Not active: either missing (404) or final (409).
            None => find(conn, user, id).await.and(Err(TrainingError::Finished)),
        }
    })
    .await
}

/// The logged events of `user`'s job `job` after sequence number `after_seq`, oldest first, at
/// most [`EVENTS_PAGE`] of them (ask again after the last one for more).
pub async fn events(
    pool: &PgPool,
    user: Uuid,
    job: Uuid,
    after_seq: i64,
) -> Result<Vec<JobEvent>, TrainingError> {
    let mut conn = connect(pool).await?;
    let rows: Vec<LoggedEvent> = as_user::<_, TrainingError, _>(&mut conn, user, async |conn| {
        Ok(training_job_events::table
            .filter(training_job_events::job_id.eq(job))
            .filter(training_job_events::user_id.eq(user))
            .filter(training_job_events::seq.gt(after_seq))
            .order(training_job_events::seq.asc())
            .limit(EVENTS_PAGE)
            .select(LoggedEvent::as_select())
            .load(conn)
            .await?)
    })
    .await?;
    Ok(rows.into_iter().map(JobEvent::from).collect())
}

/// `user`'s newest job, if any.
pub async fn latest(pool: &PgPool, user: Uuid) -> Result<Option<JobView>, TrainingError> {
    let mut conn = connect(pool).await?;
    as_user(&mut conn, user, async |conn| {
        Ok(training_jobs::table
            .filter(training_jobs::user_id.eq(user))
            .order((training_jobs::created_at.desc(), training_jobs::id.desc()))
            .select(JobView::as_select())
            .first(conn)
            .await
            .optional()?)
    })
    .await
}

/// `user`'s newest [`MODELS_LISTED`] models, newest first (index
/// `idx_training_models_user_kind`); the artefacts stay in the database, only their size is read.
pub async fn models(pool: &PgPool, user: Uuid) -> Result<Vec<ModelView>, TrainingError> {
    let mut conn = connect(pool).await?;
    as_user(&mut conn, user, async |conn| {
        Ok(training_models::table
            .filter(training_models::user_id.eq(user))
            .order((
                training_models::created_at.desc(),
                training_models::id.desc(),
            ))
            .limit(MODELS_LISTED)
            .select((
                training_models::id,
                training_models::kind,
                training_models::job_id,
                training_models::format,
                diesel::dsl::sql::<diesel::sql_types::BigInt>("octet_length(artefact)::int8"),
                training_models::metrics,
                training_models::created_at,
            ))
            .load(conn)
            .await?)
    })
    .await
}

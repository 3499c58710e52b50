//! The worker side of the training queue: claiming, lease renewal, progress, completion,
//! failure with retries and the reaper.
//!
//! Cross-user work (claim, reap and the fenced writes of a running job) runs in one transaction
//! under `SET LOCAL ROLE scale_worker`, whose policy sees every job. Completion runs in the job
//! owner's row-level-security context (as `scale_schema::as_user` sets it) because it also
//! stores the model. Each transaction is opened by `Acting::begin` and closed by `finish`
//! around a plain async function.
//!
//! Writes of a running job are fenced by its lease token (`status = 'processing' AND
//! lease_owner = token`): `None` (or `false`) means the job was cancelled or reaped meanwhile
//! and the worker has lost it. Every state change returns the job's [`JobView`]; the caller
//! publishes [`JobView::event`] after the commit.

use std::time::Duration;

use diesel::dsl::{exists, now, sql, AsExprOf};
use diesel::expression::{SqlLiteral, TypedExpressionType, UncheckedBind};
use diesel::pg::data_types::PgInterval;
use diesel::prelude::*;
use diesel::sql_types::{Interval, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::pooled_connection::bb8::PooledConnection;
use diesel_async::{AnsiTransactionManager, AsyncPgConnection, RunQueryDsl, TransactionManager};
use scale_schema::rls::USER_SETTING;
use scale_schema::tables::{training_jobs, training_models};
use scale_schema::PgPool;
use uuid::Uuid;

use super::fitting::TrainingOutput;
use super::store::JobView;
use super::TrainingError;
use crate::error::CoreError;
use crate::jobs::JobStatus;

/// The role whose policy sees every user's job (migration `2026-11-25-000003`).
pub const WORKER_ROLE: &str = "scale_worker";

/// Most expired leases one reaper pass settles (the next pass takes the rest).
const REAP_BATCH: i64 = 100;

/// A claimed job's lease: writes carrying another token (or none) no longer land.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The job.
    pub job: Uuid,
    /// Its owner (completion runs in their row-level-security context).
    pub user: Uuid,
    /// Unique to this claim: process id and a random UUID.
    pub token: String,
    /// Which attempt of the job this claim is (1 for the first).
    pub attempt: i32,
}

/// A job this worker just claimed.
#[derive(Debug, Clone)]
pub struct Claim {
    /// The job as it is now (`processing`, attempts counted).
    pub view: JobView,
    /// The lease that fences every later write.
    pub lease: Lease,
}

/// How long a job waits before its next attempt: `base · 2^(attempts-1)`, at most `cap`, with
/// "equal jitter" (between half and all of that).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failed attempt (before jitter).
    pub base: Duration,
    /// The longest wait.
    pub cap: Duration,
}

impl Backoff {
    /// The wait after `attempts` failed attempts; `unit` in `0..1` picks the jitter.
    pub fn delay(&self, attempts: i32, unit: f64) -> Duration {
        let exponent = u32::try_from(attempts.saturating_sub(1))
            .unwrap_or(0)
            .min(30);
        let ceiling = self.base.saturating_mul(1 << exponent).min(self.cap);
        ceiling.div_f64(2.0) + ceiling.div_f64(2.0).mul_f64(unit.clamp(0.0, 1.0))
    }
}

/// Why an attempt ended without a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Retrying cannot help (the data gives no model): the job fails now.
    Permanent(String),
    /// The attempt failed (error, panic, timeout, lost lease): retried while attempts remain.
    Transient(String),
}

impl Failure {
    fn text(&self) -> &str {
        match self {
            Self::Permanent(text) | Self::Transient(text) => text,
        }
    }
}

/// A progress report of a running job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Steps done.
    pub step: u32,
    /// Steps in all (0 when unknown).
    pub total: u32,
    /// What was done, for people.
    pub message: String,
}

impl Step {
    /// The fraction done, 0..=1 (0 while the total is unknown).
    pub fn progress(&self) -> f32 {
        if self.total == 0 {
            0.0
        } else {
            (self.step as f32 / self.total as f32).clamp(0.0, 1.0)
        }
    }
}

/// The columns the retry decision needs, read with the row locked.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = training_jobs)]
struct Attempted {
    id: Uuid,
    attempts: i32,
    max_attempts: i32,
}

/// Claims the oldest due pending job, if any, under a fresh lease of `lease_for`. Concurrent
/// claimers skip each other's locked rows, so a job is claimed by one of them only.
pub async fn claim(pool: &PgPool, lease_for: Duration) -> Result<Option<Claim>, TrainingError> {
    let token = format!("{}:{}", std::process::id(), Uuid::new_v4());
    let mut conn = Acting::Worker.begin(pool).await?;
    let claimed = claim_due(&mut conn, &token, lease_for).await;
    let view = finish(&mut conn, claimed).await?;
    Ok(view.map(|view| Claim {
        lease: Lease {
            job: view.id,
            user: view.user_id,
            token,
            attempt: view.attempts,
        },
        view,
    }))
}

/// Renews the lease for another `lease_for`; `false` when the job was lost.
pub async fn heartbeat(
    pool: &PgPool,
    lease: &Lease,
    lease_for: Duration,
) -> Result<bool, TrainingError> {
    let mut conn = Acting::Worker.begin(pool).await?;
    let renewed = diesel::update(fenced(lease))
        .set(training_jobs::lease_until.eq(now_plus(lease_for)))
        .execute(&mut conn)
        .await;
    Ok(finish(&mut conn, renewed).await? == 1)
}

/// Whether this lease still holds the job (it is neither cancelled nor reaped).
pub async fn holds(pool: &PgPool, lease: &Lease) -> Result<bool, TrainingError> {
    let mut conn = Acting::Worker.begin(pool).await?;
    let held = diesel::select(exists(fenced(lease)))
        .get_result(&mut conn)
        .await;
    finish(&mut conn, held).await
}

/// Records a step of the running job.
pub async fn progress(
    pool: &PgPool,
    lease: &Lease,
    step: &Step,
) -> Result<Option<JobView>, TrainingError> {
    let mut conn = Acting::Worker.begin(pool).await?;
    let moved = diesel::update(fenced(lease))
        .set((
            training_jobs::step.eq(i32::try_from(step.step).unwrap_or(i32::MAX)),
            training_jobs::total.eq(i32::try_from(step.total).unwrap_or(i32::MAX)),
            training_jobs::progress.eq(step.progress()),
            training_jobs::message.eq(&step.message),
        ))
        .returning(JobView::as_returning())
        .get_result(&mut conn)
        .await
        .optional();
    finish(&mut conn, moved).await
}

/// Marks the job completed and stores its model, in one transaction: both land or neither.
pub async fn complete(
    pool: &PgPool,
    lease: &Lease,
    output: &TrainingOutput,
) -> Result<Option<JobView>, TrainingError> {
    let mut conn = Acting::User(lease.user).begin(pool).await?;
    let done = complete_held(&mut conn, lease, output).await;
    finish(&mut conn, done).await
}

/// Ends the attempt with `failure`: back to `pending` after a backoff while attempts remain
/// and the failure is transient, else `failed`.
pub async fn fail(
    pool: &PgPool,
    lease: &Lease,
    failure: &Failure,
    backoff: Backoff,
) -> Result<Option<JobView>, TrainingError> {
    let mut conn = Acting::Worker.begin(pool).await?;
    let failed = fail_held(&mut conn, lease, failure, backoff).await;
    finish(&mut conn, failed).await
}

/// Hands the job back to the queue at once without counting the attempt (a stopping worker).
pub async fn release(pool: &PgPool, lease: &Lease) -> Result<Option<JobView>, TrainingError> {
    let mut conn = Acting::Worker.begin(pool).await?;
    let released = diesel::update(fenced(lease))
        .set((
            training_jobs::status.eq(JobStatus::Pending.as_str()),
            training_jobs::attempts.eq(training_jobs::attempts - 1),
            training_jobs::run_after.eq(now),
            training_jobs::lease_owner.eq(None::<String>),
            training_jobs::lease_until.eq(None::<chrono::DateTime<chrono::Utc>>),
            training_jobs::message.eq("released by a stopping worker"),
        ))
        .returning(JobView::as_returning())
        .get_result(&mut conn)
        .await
        .optional();
    finish(&mut conn, released).await
}

/// Settles jobs whose lease expired (their worker died or hung): back to `pending` after a
/// backoff, or `failed` after the last attempt. Returns the jobs changed.
pub async fn reap(pool: &PgPool, backoff: Backoff) -> Result<Vec<JobView>, TrainingError> {
    let mut conn = Acting::Worker.begin(pool).await?;
    let reaped = reap_expired(&mut conn, backoff).await;
    finish(&mut conn, reaped).await
}

/// Whose rights a queue transaction has.
#[derive(Debug, Clone, Copy)]
pub(super) enum Acting {
    /// [`WORKER_ROLE`]: every user's job, no other user table.
    Worker,
    /// One user's rows (row-level security), like `scale_schema::as_user`.
    User(Uuid),
}

impl Acting {
    /// Checks a connection out of `pool` and opens a transaction with these rights; end it
    /// with [`finish`]. A connection dropped mid-transaction is discarded by the pool.
    pub(super) async fn begin(
        self,
        pool: &PgPool,
    ) -> Result<PooledConnection<'_, AsyncPgConnection>, TrainingError> {
        let mut conn = scale_schema::checkout(pool)
            .await
            .map_err(|e| TrainingError::Core(CoreError::Database(e)))?;
        AnsiTransactionManager::begin_transaction(&mut *conn).await?;
        let scoped = match self {
            Acting::Worker => {
                diesel::sql_query(format!("SET LOCAL ROLE {WORKER_ROLE}"))
                    .execute(&mut *conn)
                    .await
            }
            Acting::User(user) => {
                diesel::sql_query("SELECT set_config($1, $2::text, true)")
                    .bind::<Text, _>(USER_SETTING)
                    .bind::<SqlUuid, _>(user)
                    .execute(&mut *conn)
                    .await
            }
        };
        if let Err(err) = scoped {
            let _ = AnsiTransactionManager::rollback_transaction(&mut *conn).await;
            return Err(err.into());
        }
        Ok(conn)
    }
}

/// Commits when `outcome` is a success (the rights end with the transaction), else rolls back.
pub(super) async fn finish<T, E>(
    conn: &mut AsyncPgConnection,
    outcome: Result<T, E>,
) -> Result<T, TrainingError>
where
    TrainingError: From<E>,
{
    match outcome {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(conn).await?;
            Ok(value)
        }
        Err(err) => {
            let _ = AnsiTransactionManager::rollback_transaction(conn).await;
            Err(err.into())
        }
    }
}

async fn claim_due(
    conn: &mut AsyncPgConnection,
    token: &str,
    lease_for: Duration,
) -> QueryResult<Option<JobView>> {
    let due = training_jobs::table
        .filter(training_jobs::status.eq(JobStatus::Pending.as_str()))
        .filter(training_jobs::run_after.le(now))
        .order((training_jobs::run_after, training_jobs::created_at))
        .select(Attempted::as_select())
        .limit(1)
        .for_update()
        .skip_locked()
        .first(conn)
        .await
        .optional()?;
    let Some(job) = due else {
        return Ok(None);
    };
    let attempt = job.attempts + 1;
    diesel::update(training_jobs::table.find(job.id))
        .set((
            training_jobs::status.eq(JobStatus::Processing.as_str()),
            training_jobs::attempts.eq(attempt),
            training_jobs::lease_owner.eq(token),
            training_jobs::lease_until.eq(now_plus(lease_for)),
            training_jobs::started_at
                .eq(sql::<Nullable<Timestamptz>>("coalesce(started_at, now())")),
            training_jobs::step.eq(0),
            training_jobs::total.eq(0),
            training_jobs::progress.eq(0.0_f32),
            training_jobs::message.eq(format!("started attempt {attempt}")),
        ))
        .returning(JobView::as_returning())
        .get_result(conn)
        .await
        .map(Some)
}

async fn complete_held(
    conn: &mut AsyncPgConnection,
    lease: &Lease,
    output: &TrainingOutput,
) -> QueryResult<Option<JobView>> {
    let done = diesel::update(fenced(lease))
        .set((
            training_jobs::status.eq(JobStatus::Completed.as_str()),
            training_jobs::metrics.eq(&output.metrics),
            training_jobs::finished_at.eq(now),
            training_jobs::progress.eq(1.0_f32),
            training_jobs::message.eq("completed"),
            // An earlier attempt's failure (e.g. `lease expired`) is not this job's outcome.
            training_jobs::error.eq(None::<String>),
        ))
        .returning(JobView::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    let Some(view) = done else {
        return Ok(None);
    };
    diesel::insert_into(training_models::table)
        .values((
            training_models::user_id.eq(view.user_id),
            training_models::kind.eq(&view.kind),
            training_models::job_id.eq(view.id),
            training_models::format.eq(output.format),
            training_models::artefact.eq(&output.artefact),
            training_models::metrics.eq(&output.metrics),
        ))
        .execute(conn)
        .await?;
    Ok(Some(view))
}

async fn fail_held(
    conn: &mut AsyncPgConnection,
    lease: &Lease,
    failure: &Failure,
    backoff: Backoff,
) -> QueryResult<Option<JobView>> {
    let held = fenced(lease)
        .select(Attempted::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?;
    match held {
        Some(job) => settle(conn, job, failure, backoff).await.map(Some),
        None => Ok(None),
    }
}

async fn reap_expired(conn: &mut AsyncPgConnection, backoff: Backoff) -> QueryResult<Vec<JobView>> {
    let expired = training_jobs::table
        .filter(training_jobs::status.eq(JobStatus::Processing.as_str()))
        .filter(training_jobs::lease_until.lt(now))
        .order(training_jobs::lease_until)
        .select(Attempted::as_select())
        .limit(REAP_BATCH)
        .for_update()
        .skip_locked()
        .load(conn)
        .await?;
    let failure = Failure::Transient("lease expired".into());
    let mut settled = Vec::with_capacity(expired.len());
    for job in expired {
        settled.push(settle(conn, job, &failure, backoff).await?);
    }
    Ok(settled)
}

/// The job held by `lease`, while it is still held.
#[diesel::dsl::auto_type(no_type_alias)]
fn fenced<'a>(lease: &'a Lease) -> _ {
    let token: &'a str = lease.token.as_str();
    let processing: &'static str = "processing";
    let job: Uuid = lease.job;
    training_jobs::table
        .find(job)
        .filter(training_jobs::status.eq(processing))
        .filter(training_jobs::lease_owner.eq(token))
}

/// Moves a locked `processing` job after a failed attempt.
async fn settle(
    conn: &mut AsyncPgConnection,
    job: Attempted,
    failure: &Failure,
    backoff: Backoff,
) -> QueryResult<JobView> {
    let text = failure.text();
    let target = training_jobs::table.find(job.id);
    if matches!(failure, Failure::Transient(_)) && job.attempts < job.max_attempts {
        let delay = backoff.delay(job.attempts, rand::random());
        return diesel::update(target)
            .set((
                training_jobs::status.eq(JobStatus::Pending.as_str()),
                training_jobs::run_after.eq(now_plus(delay)),
                training_jobs::lease_owner.eq(None::<String>),
                training_jobs::lease_until.eq(None::<chrono::DateTime<chrono::Utc>>),
                training_jobs::error.eq(text),
                training_jobs::message
                    .eq(format!("attempt {} failed: {text}; retrying", job.attempts)),
            ))
            .returning(JobView::as_returning())
            .get_result(conn)
            .await;
    }
    let message = match failure {
        Failure::Permanent(_) => format!("failed: {text}"),
        Failure::Transient(_) => format!("failed after {} attempts: {text}", job.attempts),
    };
    diesel::update(target)
        .set((
            training_jobs::status.eq(JobStatus::Failed.as_str()),
            training_jobs::finished_at.eq(now),
            training_jobs::error.eq(text),
            training_jobs::message.eq(message),
        ))
        .returning(JobView::as_returning())
        .get_result(conn)
        .await
}

/// `now() + after` on the database's clock (every process compares leases on the same clock).
fn now_plus<ST: TypedExpressionType>(
    after: Duration,
) -> UncheckedBind<SqlLiteral<ST>, AsExprOf<PgInterval, Interval>> {
    let micros = i64::try_from(after.as_micros()).unwrap_or(i64::MAX);
    sql::<ST>("now() + ").bind::<Interval, _>(PgInterval::from_microseconds(micros))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BACKOFF: Backoff = Backoff {
        base: Duration::from_secs(2),
        cap: Duration::from_secs(60),
    };

    #[test]
    fn backoff_doubles_per_attempt_up_to_the_cap_with_equal_jitter() {
        assert_eq!(BACKOFF.delay(1, 1.0), Duration::from_secs(2));
        assert_eq!(BACKOFF.delay(1, 0.0), Duration::from_secs(1));
        assert_eq!(BACKOFF.delay(3, 1.0), Duration::from_secs(8));
        assert_eq!(BACKOFF.delay(3, 0.5), Duration::from_secs(6));
        assert_eq!(BACKOFF.delay(10, 1.0), Duration::from_secs(60));
        assert_eq!(BACKOFF.delay(i32::MAX, 0.0), Duration::from_secs(30));
        assert_eq!(BACKOFF.delay(0, 2.0), Duration::from_secs(2));
    }

    #[test]
    fn progress_is_a_clamped_fraction() {
        let step = |step, total| Step {
            step,
            total,
            message: String::new(),
        };
        assert_eq!(step(1, 4).progress(), 0.25);
        assert_eq!(step(3, 0).progress(), 0.0);
        assert_eq!(step(5, 4).progress(), 1.0);
    }
}

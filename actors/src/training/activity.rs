//! What the job table says about the workers of every process: when a job was last claimed,
//! how many leases are live now, how long the oldest due job has waited and how many jobs are
//! pending, processing (also by kind) or recently failed. A process that runs no worker reports this instead of
//! assuming that some worker is up.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Jsonb, Nullable, Timestamptz};
use diesel_async::RunQueryDsl;
use scale_schema::PgPool;
use serde::{Deserialize, Serialize};

use super::queue::{finish, Acting};
use super::TrainingError;

/// The workers' footprint in the job table, read as the worker role (every user's jobs).
#[derive(Debug, Clone, PartialEq, Serialize, QueryableByName)]
pub struct WorkerActivity {
    /// When a worker last claimed a job for the first time (`None`: never).
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub last_claim_at: Option<DateTime<Utc>>,
    /// Jobs held by a worker whose lease has not expired: workers alive now.
    #[diesel(sql_type = BigInt)]
    pub live_leases: i64,
    /// Since when the oldest pending job has been due (`None`: nothing waits).
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub oldest_due_since: Option<DateTime<Utc>>,
    /// The oldest last change of a job being processed (`None`: none is): a job whose worker
    /// stopped reporting stays processing with this in the past.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub stalest_processing_since: Option<DateTime<Utc>>,
    /// Jobs waiting to be claimed (due or not).
    #[diesel(sql_type = BigInt)]
    pub pending: i64,
    /// Jobs a worker is running (lease live or not).
    #[diesel(sql_type = BigInt)]
    pub processing: i64,
    /// Jobs that failed for good in the last 24 hours.
    #[diesel(sql_type = BigInt)]
    pub failed_last_day: i64,
    /// Pending and processing jobs by kind.
    #[diesel(sql_type = Jsonb, deserialize_as = serde_json::Value)]
    pub live_jobs: LiveJobs,
}

/// How many jobs of a kind are in a live status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveJobCount {
    /// The job kind, as stored.
    pub kind: String,
    /// `pending` or `processing`.
    pub status: String,
    /// Jobs of that kind in that status.
    pub count: i64,
}

/// Every kind and live status with at least one job.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LiveJobs(pub Vec<LiveJobCount>);

/// Reads the `live_jobs` column (the query builds its exact shape; anything else reads as none).
impl From<serde_json::Value> for LiveJobs {
    fn from(value: serde_json::Value) -> Self {
        serde_json::from_value(value).unwrap_or_default()
    }
}

const ACTIVITY: &str = "SELECT \
    (SELECT max(started_at) FROM training_jobs) AS last_claim_at, \
    (SELECT count(*) FROM training_jobs \
        WHERE status = 'processing' AND lease_until > now()) AS live_leases, \
    (SELECT min(run_after) FROM training_jobs \
        WHERE status = 'pending' AND run_after <= now()) AS oldest_due_since, \
    (SELECT min(updated_at) FROM training_jobs \
        WHERE status = 'processing') AS stalest_processing_since, \
    (SELECT count(*) FROM training_jobs WHERE status = 'pending') AS pending, \
    (SELECT count(*) FROM training_jobs WHERE status = 'processing') AS processing, \
    (SELECT count(*) FROM training_jobs \
        WHERE status = 'failed' AND finished_at > now() - interval '1 day') AS failed_last_day, \
    (SELECT coalesce(jsonb_agg(jsonb_build_object('kind', kind, 'status', status, 'count', n) \
        ORDER BY kind, status), '[]') \
        FROM (SELECT kind, status, count(*) AS n FROM training_jobs \
            WHERE status IN ('pending', 'processing') GROUP BY kind, status) live) AS live_jobs";

/// Reads the workers' activity from the job table.
pub async fn worker_activity(pool: &PgPool) -> Result<WorkerActivity, TrainingError> {
    let mut conn = Acting::Worker.begin(pool).await?;
    let read = diesel::sql_query(ACTIVITY)
        .get_result::<WorkerActivity>(&mut conn)
        .await;
    finish(&mut conn, read).await
}

//! What the forecasting actor reads, in one transaction as the user (row-level security): the
//! user's timezone, the newest forecaster model with the job that fitted it, and how the user's
//! transactions stand now, from which [`is_current`] decides whether that model still describes
//! the data.
//!
//! A model is **current** when the data its job read is the data now: no transaction was
//! inserted or edited since the job started (`transactions.updated_at`, set at insert and by
//! every edit, is before `training_jobs.started_at`, which is set before the job reads the
//! ledger), and no transaction was deleted (the job's metrics record the rows it read, `rows`,
//! which must equal today's count, capped like the job's read at [`MAX_ENTRIES`]). A model
//! without `rows` (stored before it was recorded) is never current.

use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Bytea, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::{OptionalExtension, QueryableByName};
use diesel_async::RunQueryDsl;
use scale_schema::{as_user, checkout, PgPool};
use uuid::Uuid;

use super::model::ForecastModel;
use crate::artefact::JsonArtefact;
use crate::error::CoreError;
use crate::training::loader::MAX_ENTRIES;

/// The user's zone, newest forecaster model and transaction count and last change.
const SNAPSHOT: &str = "
SELECT u.timezone,
       (SELECT count(*) FROM transactions t WHERE t.user_id = $1) AS rows_now,
       (SELECT max(t.updated_at) FROM transactions t WHERE t.user_id = $1) AS changed_at,
       m.job_id, m.artefact, (m.metrics ->> 'rows')::bigint AS model_rows, j.started_at
FROM users u
LEFT JOIN LATERAL (
    SELECT job_id, artefact, metrics FROM training_models
    WHERE user_id = $1 AND kind = 'forecaster'
    ORDER BY created_at DESC LIMIT 1
) m ON true
LEFT JOIN training_jobs j ON j.id = m.job_id
WHERE u.id = $1";

#[derive(QueryableByName)]
struct SnapshotRow {
    #[diesel(sql_type = Text)]
    timezone: String,
    #[diesel(sql_type = BigInt)]
    rows_now: i64,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    changed_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    job_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Bytea>)]
    artefact: Option<Vec<u8>>,
    #[diesel(sql_type = Nullable<BigInt>)]
    model_rows: Option<i64>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    started_at: Option<DateTime<Utc>>,
}

/// The newest stored forecaster model of a user and the job that fitted it.
#[derive(Debug, Clone)]
pub struct StoredModel {
    /// The job that fitted it.
    pub job_id: Uuid,
    /// The model.
    pub model: ForecastModel,
}

/// A user as the forecasting actor sees them.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The user's IANA zone (what "today" is).
    pub timezone: String,
    /// The newest forecaster model, when there is one, it can be read and it is current.
    pub current: Option<StoredModel>,
}

/// Reads `user`'s snapshot; `None` for a user without a `users` row (who never stored
/// anything).
pub async fn snapshot(pool: &PgPool, user: Uuid) -> Result<Option<Snapshot>, CoreError> {
    let mut conn = checkout(pool).await?;
    let row = as_user::<_, diesel::result::Error, _>(&mut conn, user, async |conn| {
        diesel::sql_query(SNAPSHOT)
            .bind::<SqlUuid, _>(user)
            .get_result::<SnapshotRow>(conn)
            .await
            .optional()
    })
    .await?;
    Ok(row.map(|row| {
        let current = match (row.job_id, row.artefact, row.started_at) {
            (Some(job_id), Some(artefact), Some(started_at))
                if is_current(row.model_rows, started_at, row.rows_now, row.changed_at) =>
            {
                match ForecastModel::from_artefact(&artefact) {
                    Ok(model) => Some(StoredModel { job_id, model }),
                    Err(error) => {
                        tracing::warn!(%user, %error, "stored forecaster model skipped");
                        None
                    }
                }
            }
            _ => None,
        };
        Snapshot {
            timezone: row.timezone,
            current,
        }
    }))
}

/// Whether a model whose job started at `started_at` and read `model_rows` rows describes the
/// data now: `rows_now` transactions (the job read at most [`MAX_ENTRIES`]) whose last insert
/// or edit was at `changed_at`.
pub fn is_current(
    model_rows: Option<i64>,
    started_at: DateTime<Utc>,
    rows_now: i64,
    changed_at: Option<DateTime<Utc>>,
) -> bool {
    model_rows == Some(rows_now.min(MAX_ENTRIES)) && changed_at.is_none_or(|at| at < started_at)
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    #[test]
    fn a_model_is_current_until_the_data_changes() {
        let started = Utc::now();
        let before = Some(started - Duration::seconds(5));
        assert!(is_current(Some(10), started, 10, before));
        // An import or an edit after the job started.
        assert!(!is_current(Some(10), started, 11, Some(started)));
        assert!(!is_current(
            Some(10),
            started,
            10,
            Some(started + Duration::seconds(1))
        ));
        // A delete.
        assert!(!is_current(Some(10), started, 9, before));
        // A model stored before its rows were recorded.
        assert!(!is_current(None, started, 10, before));
        // The job read the newest MAX_ENTRIES rows.
        assert!(is_current(
            Some(MAX_ENTRIES),
            started,
            MAX_ENTRIES + 5,
            before
        ));
    }
}

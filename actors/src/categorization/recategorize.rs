//! The learning loop's last step: once a categorizer job completed, the user's transactions are
//! classified again with the new layer (corrections and the model just stored) in bounded
//! batches, each its own database transaction as the user. Rows set by hand are never touched
//! (the update re-checks it, so a correction made meanwhile wins), and an answer of
//! `Uncategorized` does not replace a category a rule, the user or the client gave. The job then
//! records how many rows changed: that logged event is the `recategorized` event.

use std::sync::Arc;

use diesel::sql_types::{Array, BigInt, Bool, Double, Float4, Nullable, Text, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use scale_schema::{as_user, checkout, PgPool};
use uuid::Uuid;

use super::brain::Brain;
use super::corrections::teachings;
use super::telemetry;
use crate::error::CoreError;
use crate::events::JobEvent;
use crate::training::store::{annotate, JobView};

/// Rows classified and written per database transaction.
pub const BATCH: i64 = 1_000;

/// The next batch of rows that may change, by id.
const NEXT: &str = "
SELECT id, description, amount::float8 AS amount FROM transactions
WHERE user_id = $1 AND id > $2 AND category_source <> 'manual'
ORDER BY id
LIMIT $3";

/// Writes the answers that differ from what is stored.
const UPDATE: &str = "
UPDATE transactions t SET
    category = u.category,
    category_source = u.source,
    category_confidence = u.confidence,
    needs_review = u.review,
    updated_at = now()
FROM unnest($2::uuid[], $3::text[], $4::text[], $5::real[], $6::bool[])
    AS u(id, category, source, confidence, review)
WHERE t.user_id = $1 AND t.id = u.id AND t.category_source <> 'manual'
  AND (u.source <> 'fallback' OR t.category_source IN ('fallback', 'model'))
  AND (t.category, t.category_source, t.category_confidence, t.needs_review)
      IS DISTINCT FROM (u.category, u.source, u.confidence, u.review)";

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    description: String,
    #[diesel(sql_type = Double)]
    amount: f64,
}

/// [`recategorize`]s the owner's transactions after `job` completed and records the count on
/// the job; the job as changed, or `None` (logged) when that failed.
pub async fn after_training(pool: PgPool, brain: Arc<Brain>, job: JobView) -> Option<JobView> {
    let changed = match recategorize(&pool, brain, job.user_id).await {
        Ok(changed) => changed,
        Err(error) => {
            tracing::warn!(job = %job.id, %error, "re-categorisation after training failed");
            return None;
        }
    };
    let metrics = serde_json::Map::from_iter([(
        JobEvent::RECATEGORIZED.to_owned(),
        serde_json::Value::from(changed),
    )]);
    let message = format!("recategorized {changed} transactions");
    match annotate(&pool, &job, &message, metrics).await {
        Ok(annotated) => annotated,
        Err(error) => {
            tracing::warn!(job = %job.id, %error, "cannot record the re-categorisation");
            None
        }
    }
}

/// Classifies every transaction of `user` not set by hand again with `brain` and the user's
/// current layer; returns how many changed.
pub async fn recategorize(pool: &PgPool, brain: Arc<Brain>, user: Uuid) -> Result<u64, CoreError> {
    let taught = teachings(pool, user).await?;
    let layer = Arc::new(
        tokio::task::spawn_blocking(move || taught.layer())
            .await
            .unwrap_or_else(|err| std::panic::resume_unwind(err.into_panic())),
    );
    let (mut after, mut changed) = (Uuid::nil(), 0u64);
    loop {
        let mut conn = checkout(pool).await?;
        let rows: Vec<Row> = as_user::<_, diesel::result::Error, _>(&mut conn, user, async |c| {
            diesel::sql_query(NEXT)
                .bind::<SqlUuid, _>(user)
                .bind::<SqlUuid, _>(after)
                .bind::<BigInt, _>(BATCH)
                .load(c)
                .await
        })
        .await?;
        let Some(last) = rows.last() else {
            return Ok(changed);
        };
        after = last.id;
        let (layer, brain) = (Arc::clone(&layer), Arc::clone(&brain));
        let (ids, answers) = tokio::task::spawn_blocking(move || {
            let items: Vec<(&str, Option<f64>)> = rows
                .iter()
                .map(|row| (row.description.as_str(), Some(row.amount)))
                .collect();
            let answers = brain.classifier().classify_batch(&items, layer.as_ref());
            telemetry::record_decisions("recategorize", &answers);
            (rows.iter().map(|row| row.id).collect::<Vec<_>>(), answers)
        })
        .await
        .unwrap_or_else(|err| std::panic::resume_unwind(err.into_panic()));
        let categories: Vec<&str> = answers.iter().map(|a| a.category.as_str()).collect();
        let sources: Vec<&str> = answers.iter().map(|a| a.source.as_str()).collect();
        let confidences: Vec<Option<f32>> =
            answers.iter().map(|a| Some(a.confidence as f32)).collect();
        let reviews: Vec<bool> = answers.iter().map(|a| a.needs_review).collect();
        let written = as_user::<_, diesel::result::Error, _>(&mut conn, user, async |c| {
            diesel::sql_query(UPDATE)
                .bind::<SqlUuid, _>(user)
                .bind::<Array<SqlUuid>, _>(&ids)
                .bind::<Array<Text>, _>(&categories)
                .bind::<Array<Text>, _>(&sources)
                .bind::<Array<Nullable<Float4>>, _>(&confidences)
                .bind::<Array<Bool>, _>(&reviews)
                .execute(c)
                .await
        })
        .await?;
        changed += written as u64;
    }
}

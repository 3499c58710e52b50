//! What users teach the classifier, in the database: their corrections (from `/feedback`, a
//! category set by hand, or an import of a transaction they corrected before) and their latest
//! trained categorizer, read as one user under row-level security; and when enough new
//! corrections call for a retrain.

use diesel::sql_types::{Array, BigInt, Bytea, Text, Uuid as SqlUuid};
use diesel::{OptionalExtension, QueryableByName};
use diesel_async::RunQueryDsl;
use scale_schema::{as_user, checkout, PgPool};
use uuid::Uuid;

use super::model::CategorizerModel;
use super::personal::{Correction, PersonalLayer};
use crate::accounts::store::ensure_user;
use crate::artefact::JsonArtefact;
use crate::error::CoreError;

/// Most corrections (the newest) one user's layer is built from: with prototypes of at most
/// `personal::MAX_PROTOTYPE_ENTRIES`, a layer stays under about 2 MB.
pub const MAX_LAYER_CORRECTIONS: i64 = 5_000;

/// The user's corrections, newest first, with the merchant of the transaction each corrects.
const CORRECTIONS: &str = "
SELECT c.description, coalesce(t.merchant_name, '') AS merchant, c.corrected_category AS category
FROM training_corrections c
LEFT JOIN transactions t ON t.id = c.transaction_id AND t.user_id = c.user_id
WHERE c.user_id = $1
ORDER BY c.updated_at DESC, c.id DESC
LIMIT $2";

/// The user's newest categorizer model.
const LATEST_MODEL: &str = "
SELECT artefact FROM training_models
WHERE user_id = $1 AND kind = 'categorizer'
ORDER BY created_at DESC
LIMIT 1";

/// Corrections made (or changed) since the user's newest categorizer job was queued.
const SINCE_LAST_JOB: &str = "
SELECT count(*) AS n FROM training_corrections c
WHERE c.user_id = $1
  AND c.updated_at > coalesce(
      (SELECT max(created_at) FROM training_jobs WHERE user_id = $1 AND kind = 'categorizer'),
      '-infinity')";

const INSERT_FEEDBACK: &str = "
INSERT INTO training_corrections (user_id, description, corrected_category)
SELECT $1, description, category FROM unnest($2::text[], $3::text[]) AS f(description, category)";

#[derive(QueryableByName)]
struct CorrectionRow {
    #[diesel(sql_type = Text)]
    description: String,
    #[diesel(sql_type = Text)]
    merchant: String,
    #[diesel(sql_type = Text)]
    category: String,
}

#[derive(QueryableByName)]
struct ModelRow {
    #[diesel(sql_type = Bytea)]
    artefact: Vec<u8>,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// What one user taught: corrections (newest first) and the latest trained model, if it can
/// still be read (a model fitted with other features is skipped until refitted).
pub struct Teachings {
    /// At most [`MAX_LAYER_CORRECTIONS`], newest first.
    pub corrections: Vec<Correction>,
    /// The newest categorizer model.
    pub trained: Option<CategorizerModel>,
}

impl Teachings {
    /// The per-user layer they make (CPU work for many corrections).
    pub fn layer(&self) -> PersonalLayer {
        PersonalLayer::new(&self.corrections, self.trained.as_ref())
    }
}

/// Reads what `user` taught, in one transaction as that user.
pub async fn teachings(pool: &PgPool, user: Uuid) -> Result<Teachings, CoreError> {
    let mut conn = checkout(pool).await?;
    let (rows, model) = as_user::<_, diesel::result::Error, _>(&mut conn, user, async |conn| {
        let rows: Vec<CorrectionRow> = diesel::sql_query(CORRECTIONS)
            .bind::<SqlUuid, _>(user)
            .bind::<BigInt, _>(MAX_LAYER_CORRECTIONS)
            .load(conn)
            .await?;
        let model: Option<ModelRow> = diesel::sql_query(LATEST_MODEL)
            .bind::<SqlUuid, _>(user)
            .get_result(conn)
            .await
            .optional()?;
        Ok((rows, model))
    })
    .await?;
    let trained = model.and_then(|row| match CategorizerModel::from_artefact(&row.artefact) {
        Ok(model) => Some(model),
        Err(error) => {
            tracing::warn!(%user, %error, "stored categorizer model skipped");
            None
        }
    });
    Ok(Teachings {
        corrections: rows
            .into_iter()
            .map(|row| Correction {
                description: row.description,
                merchant: row.merchant,
                category: row.category,
            })
            .collect(),
        trained,
    })
}

/// Stores `pairs` of `(description, category)` as `user`'s corrections (a `users` row with
/// `role` is created if missing); returns how many corrections were made since the user's
/// newest categorizer job was queued.
pub async fn record_feedback(
    pool: &PgPool,
    user: Uuid,
    role: &str,
    pairs: &[(String, String)],
) -> Result<i64, CoreError> {
    let (descriptions, categories): (Vec<&str>, Vec<&str>) =
        pairs.iter().map(|(d, c)| (d.as_str(), c.as_str())).unzip();
    let mut conn = checkout(pool).await?;
    let pending = as_user::<_, diesel::result::Error, _>(&mut conn, user, async |conn| {
        ensure_user(conn, user, role).await?;
        diesel::sql_query(INSERT_FEEDBACK)
            .bind::<SqlUuid, _>(user)
            .bind::<Array<Text>, _>(&descriptions)
            .bind::<Array<Text>, _>(&categories)
            .execute(conn)
            .await?;
        since_last_job(conn, user).await
    })
    .await?;
    Ok(pending)
}

/// How many corrections `user` made since the newest categorizer job was queued.
pub async fn pending_corrections(pool: &PgPool, user: Uuid) -> Result<i64, CoreError> {
    let mut conn = checkout(pool).await?;
    Ok(
        as_user::<_, diesel::result::Error, _>(&mut conn, user, async |conn| {
            since_last_job(conn, user).await
        })
        .await?,
    )
}

async fn since_last_job(
    conn: &mut diesel_async::AsyncPgConnection,
    user: Uuid,
) -> diesel::QueryResult<i64> {
    let count: Count = diesel::sql_query(SINCE_LAST_JOB)
        .bind::<SqlUuid, _>(user)
        .get_result(conn)
        .await?;
    Ok(count.n)
}

//! The classifier actor's discovery request: cluster the narrations a client sent, or the
//! caller's own stored transactions that are `Uncategorized` or need review (newest first, at
//! most [`MAX_DESCRIPTIONS`], read under the caller's row-level security). The clustering is CPU
//! work, so it runs on the blocking pool, as classification does.

use diesel::sql_types::{BigInt, Double, Text, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use scale_schema::{as_user, PgPool};
use scale_supervision::{Handles, Reply, Request, ServiceContext};
use uuid::Uuid;

use super::{discover, Discovery, DiscoveryError, Params, MAX_DESCRIPTIONS};
use crate::categorization::resolve::UNCATEGORIZED;
use crate::categorization::service::ClassifierService;
use crate::error::CoreError;

/// Where the narrations come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Narrations {
    /// Sent by the client: `(description, amount)` rows (at most [`MAX_DESCRIPTIONS`]).
    Given(Vec<(String, Option<f64>)>),
    /// The caller's stored transactions that are `Uncategorized` or need review.
    Stored,
}

/// Discover groups among narrations.
pub struct Discover {
    /// The caller (whose stored rows [`Narrations::Stored`] reads).
    pub user: Uuid,
    /// What to cluster.
    pub narrations: Narrations,
    /// Clusters and threshold.
    pub params: Params,
}

impl Request for Discover {
    type Output = Result<Discovery, DiscoveryError>;
}

impl Handles<Discover> for ClassifierService {
    fn handle(
        &mut self,
        msg: Discover,
        _: &mut ServiceContext<Self>,
    ) -> Reply<<Discover as Request>::Output> {
        let pool = self.pool().clone();
        Reply::later(async move {
            let items = match msg.narrations {
                Narrations::Given(items) => items,
                Narrations::Stored => {
                    let items = to_review(&pool, msg.user).await?;
                    if items.is_empty() {
                        return Err(DiscoveryError::NothingToReview);
                    }
                    items
                }
            };
            let task = tokio::task::spawn_blocking(move || {
                let items: Vec<(&str, Option<f64>)> = items
                    .iter()
                    .map(|(description, amount)| (description.as_str(), *amount))
                    .collect();
                discover(&items, msg.params)
            });
            task.await
                .unwrap_or_else(|err| std::panic::resume_unwind(err.into_panic()))
        })
    }
}

/// The caller's rows nothing categorised confidently, newest first (index
/// `idx_transactions_needs_review` serves the review half).
const TO_REVIEW: &str = "\
SELECT description, amount::float8 AS amount
FROM transactions
WHERE user_id = $1 AND (category = $2 OR needs_review)
ORDER BY transaction_date DESC, id DESC
LIMIT $3";

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    description: String,
    #[diesel(sql_type = Double)]
    amount: f64,
}

/// `user`'s newest [`MAX_DESCRIPTIONS`] transactions that are `Uncategorized` or need review.
async fn to_review(
    pool: &PgPool,
    user: Uuid,
) -> Result<Vec<(String, Option<f64>)>, DiscoveryError> {
    let mut conn = scale_schema::checkout(pool)
        .await
        .map_err(CoreError::from)?;
    let rows: Vec<Row> = as_user::<_, DiscoveryError, _>(&mut conn, user, async |conn| {
        Ok(diesel::sql_query(TO_REVIEW)
            .bind::<SqlUuid, _>(user)
            .bind::<Text, _>(UNCATEGORIZED)
            .bind::<BigInt, _>(MAX_DESCRIPTIONS as i64)
            .load(conn)
            .await?)
    })
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.description, Some(row.amount)))
        .collect())
}

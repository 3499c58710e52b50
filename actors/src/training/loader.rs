//! Loads what a job fits from (the [`Loadable`] inputs of the fitters), in the job owner's
//! row-level-security context: bounded, so one user's history cannot exhaust a worker's memory.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Date, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use rust_decimal::Decimal;
use scale_schema::tables::users;
use scale_schema::PgPool;
use scale_statements::rows::UNCATEGORIZED;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::fitting::{LabelSource, LabelledExample, Ledger, LedgerEntry, Loadable};
use super::queue::{finish, Acting};
use super::TrainingError;
use crate::error::CoreError;

/// Most labelled examples a categorizer job reads (corrections first, then the newest rows).
pub const MAX_EXAMPLES: i64 = 50_000;

/// Most transactions a forecaster job reads (the newest).
pub const MAX_ENTRIES: i64 = 100_000;

/// Corrections (joined to their transaction when it still exists) and the labelled
/// transactions nobody corrected whose label a rule, the user or the client gave (never the
/// model's own guesses, which it would only learn back); corrections first, newest first.
const EXAMPLES: &str = "
SELECT description, merchant, amount, category, correction FROM (
    SELECT coalesce(t.description, c.description) AS description,
           coalesce(t.merchant_name, '') AS merchant,
           t.amount::text AS amount,
           c.corrected_category AS category,
           true AS correction,
           c.updated_at AS newest
    FROM training_corrections c
    LEFT JOIN transactions t ON t.id = c.transaction_id AND t.user_id = c.user_id
    WHERE c.user_id = $1
    UNION ALL
    SELECT t.description, t.merchant_name, t.amount::text, t.category, false,
           t.transaction_date::timestamptz
    FROM transactions t
    WHERE t.user_id = $1 AND t.category <> $2
      AND t.category_source IN ('rule', 'user', 'client', 'manual')
      AND NOT EXISTS (SELECT 1 FROM training_corrections c
                      WHERE c.user_id = $1 AND c.transaction_id = t.id)
) examples
ORDER BY correction DESC, newest DESC
LIMIT $3";

/// The newest transactions, oldest first.
const ENTRIES: &str = "
SELECT transaction_date, amount, merchant_name, status FROM (
    SELECT id, transaction_date, amount::text AS amount, merchant_name, status
    FROM transactions
    WHERE user_id = $1
    ORDER BY transaction_date DESC, id DESC
    LIMIT $2
) newest
ORDER BY transaction_date, id";

#[derive(QueryableByName)]
struct ExampleRow {
    #[diesel(sql_type = Text)]
    description: String,
    #[diesel(sql_type = Text)]
    merchant: String,
    #[diesel(sql_type = Nullable<Text>)]
    amount: Option<String>,
    #[diesel(sql_type = Text)]
    category: String,
    #[diesel(sql_type = Bool)]
    correction: bool,
}

#[derive(QueryableByName)]
struct EntryRow {
    #[diesel(sql_type = Date)]
    transaction_date: NaiveDate,
    #[diesel(sql_type = Text)]
    amount: String,
    #[diesel(sql_type = Text)]
    merchant_name: String,
    #[diesel(sql_type = Text)]
    status: String,
}

/// The categorizer's input: the user's corrections and labelled rows.
impl Loadable for Vec<LabelledExample> {
    async fn read(pool: &PgPool, user: Uuid) -> Result<Self, TrainingError> {
        let mut conn = Acting::User(user).begin(pool).await?;
        let input = examples(&mut conn, user).await;
        finish(&mut conn, input).await
    }
}

/// The forecaster's input: the user's transactions as of today in the user's timezone.
impl Loadable for Ledger {
    async fn read(pool: &PgPool, user: Uuid) -> Result<Self, TrainingError> {
        let mut conn = Acting::User(user).begin(pool).await?;
        let input = ledger(&mut conn, user).await;
        finish(&mut conn, input).await
    }
}

async fn ledger(conn: &mut AsyncPgConnection, user: Uuid) -> Result<Ledger, TrainingError> {
    let timezone: String = users::table
        .find(user)
        .select(users::timezone)
        .first(conn)
        .await?;
    Ok(Ledger {
        entries: entries(conn, user).await?,
        today: today_in(&timezone, Utc::now()),
        seed: seed(user),
    })
}

async fn examples(
    conn: &mut AsyncPgConnection,
    user: Uuid,
) -> Result<Vec<LabelledExample>, TrainingError> {
    let rows: Vec<ExampleRow> = diesel::sql_query(EXAMPLES)
        .bind::<SqlUuid, _>(user)
        .bind::<Text, _>(UNCATEGORIZED)
        .bind::<BigInt, _>(MAX_EXAMPLES)
        .load(conn)
        .await?;
    rows.into_iter()
        .map(|row| {
            Ok(LabelledExample {
                description: row.description,
                merchant: row.merchant,
                amount: row.amount.as_deref().map(decimal).transpose()?,
                category: row.category,
                source: if row.correction {
                    LabelSource::Correction
                } else {
                    LabelSource::Labelled
                },
            })
        })
        .collect()
}

async fn entries(
    conn: &mut AsyncPgConnection,
    user: Uuid,
) -> Result<Vec<LedgerEntry>, TrainingError> {
    let rows: Vec<EntryRow> = diesel::sql_query(ENTRIES)
        .bind::<SqlUuid, _>(user)
        .bind::<BigInt, _>(MAX_ENTRIES)
        .load(conn)
        .await?;
    rows.into_iter()
        .map(|row| {
            Ok(LedgerEntry {
                date: row.transaction_date,
                amount: decimal(&row.amount)?,
                merchant: row.merchant_name,
                status: row.status,
            })
        })
        .collect()
}

fn decimal(text: &str) -> Result<Decimal, TrainingError> {
    text.parse().map_err(|_| {
        TrainingError::Core(CoreError::Database(scale_schema::DbFailure::query(
            format!("not a decimal amount: `{text}`"),
        )))
    })
}

/// The calendar date at `at` in the IANA zone `timezone` (UTC when the name is unknown).
pub(crate) fn today_in(timezone: &str, at: DateTime<Utc>) -> NaiveDate {
    match timezone.parse::<Tz>() {
        Ok(zone) => at.with_timezone(&zone).date_naive(),
        Err(_) => at.date_naive(),
    }
}

/// A stable seed per user: the first eight bytes of the SHA-256 of the user id.
pub(crate) fn seed(user: Uuid) -> u64 {
    let digest = Sha256::digest(user.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn today_follows_the_users_zone() {
        let at = Utc.with_ymd_and_hms(2026, 11, 25, 20, 0, 0).unwrap();
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        assert_eq!(today_in("Asia/Kolkata", at), day(26));
        assert_eq!(today_in("America/New_York", at), day(25));
        assert_eq!(today_in("Not/AZone", at), day(25));
    }

    #[test]
    fn the_seed_is_stable_per_user_and_differs_between_users() {
        let user = Uuid::parse_str("00000000-0000-0000-0000-0000000000c1").unwrap();
        assert_eq!(seed(user), seed(user));
        assert_ne!(seed(user), seed(Uuid::nil()));
    }

    #[test]
    fn amounts_parse_exactly() {
        assert_eq!(decimal("-349.50").unwrap(), Decimal::new(-34950, 2));
        assert!(decimal("abc").is_err());
    }
}

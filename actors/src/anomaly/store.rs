//! The anomaly SQL. Every operation runs in one database transaction scoped to the user by
//! [`as_user`] (row-level security), and every statement still filters by `user_id`, so another
//! user's alert is indistinguishable from a missing one.
//!
//! Storing is idempotent: an alert whose id the user already has is left as it is (a seen or
//! dismissed alert never comes back as new), and a merchant outlier at a merchant whose outlier
//! the user dismissed in the last [`SUPPRESS_DAYS`] days is not stored at all.

use std::collections::BTreeSet;

use chrono::{DateTime, Days, NaiveDate, Utc};
use diesel::sql_types::{
    Array, BigInt, Date, Double, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid,
};
use diesel::{OptionalExtension, QueryableByName};
use diesel_async::pooled_connection::bb8::PooledConnection;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use scale_schema::{as_user, PgPool};
use serde::Serialize;
use uuid::Uuid;

use super::alert::{Alert, Severity};
use super::detectors::Thresholds;
use super::ledger::{merchant_key, HISTORY_DAYS};
use super::query::{AlertQuery, AlertStatus};
use super::Transaction;
use crate::analytics::period::{parse_tz, today_in, DEFAULT_TZ};
use crate::error::CoreError;
use crate::pagination::Cursor;

/// Days a dismissed merchant outlier keeps new ones at its merchant from being raised.
pub const SUPPRESS_DAYS: i32 = 90;
/// Most transactions one scan reads (the newest in its window).
pub const MAX_LEDGER_ROWS: i64 = 100_000;

/// One stored alert as the API shows it (§7.3).
#[derive(Debug, Clone, PartialEq, Serialize, QueryableByName)]
pub struct AlertView {
    /// The stable id (hex SHA-256).
    #[diesel(sql_type = Text)]
    pub id: String,
    /// The detector.
    #[diesel(sql_type = Text)]
    #[serde(rename = "type")]
    pub kind: String,
    /// `low`, `medium` or `high`.
    #[diesel(sql_type = Text)]
    pub severity: String,
    /// `new`, `seen` or `dismissed`.
    #[diesel(sql_type = Text)]
    pub status: String,
    /// The transactions it is about.
    #[diesel(sql_type = Array<SqlUuid>)]
    pub transaction_ids: Vec<Uuid>,
    /// The period it is about.
    #[diesel(sql_type = Text)]
    pub period_key: String,
    /// The day it concerns.
    #[diesel(sql_type = Date)]
    pub date: NaiveDate,
    /// The amount at stake, signed like a transaction.
    #[diesel(sql_type = Double)]
    pub amount: f64,
    /// ISO 4217 code.
    #[diesel(sql_type = Text)]
    pub currency: String,
    /// The merchant, when one.
    #[diesel(sql_type = Nullable<Text>)]
    pub merchant: Option<String>,
    /// The category, when one.
    #[diesel(sql_type = Nullable<Text>)]
    pub category: Option<String>,
    /// How far from usual.
    #[diesel(sql_type = Double)]
    pub score: f64,
    /// The plain-language explanation.
    #[diesel(sql_type = Text)]
    pub message: String,
    /// The numbers behind it.
    #[diesel(sql_type = Jsonb)]
    pub details: serde_json::Value,
    /// When it was raised.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    /// When its status last changed.
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
    /// The paging tie-breaker.
    #[diesel(sql_type = SqlUuid)]
    #[serde(skip)]
    pub row_id: Uuid,
}

/// One page of alerts, newest day first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertPage {
    /// The alerts (`date DESC`, then newest row first).
    pub alerts: Vec<AlertView>,
    /// Cursor of the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// What a scan judges: the rows, which of them are new, the user's today and thresholds.
#[derive(Debug, Clone)]
pub struct ScanInput {
    /// The rows in the scan's window.
    pub rows: Vec<Transaction>,
    /// The rows being judged.
    pub new_ids: BTreeSet<Uuid>,
    /// Today in the user's time zone.
    pub today: NaiveDate,
    /// The user's thresholds.
    pub thresholds: Thresholds,
}

/// Which rows a scan judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judged {
    /// The rows stored by one import (of this `uploaded_files` row).
    Upload(Uuid),
    /// Every row of the 180 days up to the user's latest transaction.
    Recent,
}

async fn connect(pool: &PgPool) -> Result<PooledConnection<'_, AsyncPgConnection>, CoreError> {
    pool.get().await.map_err(|e| CoreError::Database(e.into()))
}

#[derive(QueryableByName)]
struct Settings {
    #[diesel(sql_type = Jsonb)]
    thresholds: serde_json::Value,
    #[diesel(sql_type = Nullable<Text>)]
    timezone: Option<String>,
}

/// The user's thresholds (the defaults where none are stored) and time zone.
async fn settings(
    conn: &mut AsyncPgConnection,
    user: Uuid,
) -> Result<(Thresholds, Option<String>), CoreError> {
    let row: Option<Settings> = diesel::sql_query(
        "SELECT coalesce(s.thresholds, '{}'::jsonb) AS thresholds, u.timezone \
         FROM users u LEFT JOIN anomaly_settings s ON s.user_id = u.id WHERE u.id = $1",
    )
    .bind::<SqlUuid, _>(user)
    .get_result(conn)
    .await
    .optional()?;
    let Some(row) = row else {
        return Ok((Thresholds::default(), None));
    };
    // Stored thresholds were validated; a field a later version dropped is ignored.
    let thresholds = serde_json::from_value(row.thresholds).unwrap_or_default();
    Ok((thresholds, row.timezone))
}

/// The user's thresholds (the defaults when none are stored).
pub async fn thresholds(pool: &PgPool, user: Uuid) -> Result<Thresholds, CoreError> {
    let mut conn = connect(pool).await?;
    as_user::<_, CoreError, _>(&mut conn, user, async |conn| {
        Ok(settings(conn, user).await?.0)
    })
    .await
}

/// Stores the user's thresholds (validated by the caller), creating the user's row if needed.
pub async fn put_thresholds(
    pool: &PgPool,
    user: Uuid,
    thresholds: &Thresholds,
) -> Result<(), CoreError> {
    let json = serde_json::to_value(thresholds).map_err(|e| CoreError::invalid(e.to_string()))?;
    let mut conn = connect(pool).await?;
    as_user::<_, CoreError, _>(&mut conn, user, async |conn| {
        diesel::sql_query("INSERT INTO users (id) VALUES ($1) ON CONFLICT (id) DO NOTHING")
            .bind::<SqlUuid, _>(user)
            .execute(conn)
            .await?;
        diesel::sql_query(
            "INSERT INTO anomaly_settings (user_id, thresholds) VALUES ($1, $2) \
             ON CONFLICT (user_id) DO UPDATE SET thresholds = EXCLUDED.thresholds, updated_at = now()",
        )
        .bind::<SqlUuid, _>(user)
        .bind::<Jsonb, _>(json)
        .execute(conn)
        .await?;
        Ok(())
    })
    .await
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    fingerprint: String,
    #[diesel(sql_type = Date)]
    transaction_date: NaiveDate,
    #[diesel(sql_type = Text)]
    amount: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Text)]
    merchant_name: String,
    #[diesel(sql_type = Text)]
    description: String,
    #[diesel(sql_type = Text)]
    category: String,
}

#[derive(QueryableByName)]
struct Latest {
    #[diesel(sql_type = Nullable<Date>)]
    last: Option<NaiveDate>,
}

#[derive(QueryableByName)]
struct Stamp {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Date)]
    transaction_date: NaiveDate,
}

/// The rows of the window `from..=to`, the newest [`MAX_LEDGER_ROWS`].
const WINDOW: &str = "\
SELECT id, fingerprint::text AS fingerprint, transaction_date, amount::text AS amount, status,
       merchant_name, description, category
FROM transactions
WHERE user_id = $1 AND transaction_date BETWEEN $2 AND $3
ORDER BY transaction_date DESC, id DESC
LIMIT $4";

/// What a scan of `judged` reads for `user`; `None` when there is nothing to judge.
pub async fn scan_input(
    pool: &PgPool,
    user: Uuid,
    judged: Judged,
    now: DateTime<Utc>,
) -> Result<Option<ScanInput>, CoreError> {
    let mut conn = connect(pool).await?;
    as_user::<_, CoreError, _>(&mut conn, user, async |conn| {
        let (thresholds, timezone) = settings(conn, user).await?;
        let tz = timezone
            .as_deref()
            .and_then(|name| parse_tz(name).ok())
            .unwrap_or(DEFAULT_TZ);
        let today = today_in(tz, now);
        let (first_new, new_ids) = match judged {
            Judged::Upload(upload) => {
                let stored: Vec<Stamp> = diesel::sql_query(
                    "SELECT id, transaction_date FROM transactions \
                     WHERE user_id = $1 AND uploaded_file_id = $2 AND transaction_date <= $3",
                )
                .bind::<SqlUuid, _>(user)
                .bind::<SqlUuid, _>(upload)
                .bind::<Date, _>(today)
                .load(conn)
                .await?;
                let Some(first) = stored.iter().map(|r| r.transaction_date).min() else {
                    return Ok(None);
                };
                (first, Some(stored.into_iter().map(|r| r.id).collect()))
            }
            Judged::Recent => {
                let latest: Latest = diesel::sql_query(
                    "SELECT max(transaction_date) AS last \
                     FROM transactions WHERE user_id = $1 AND transaction_date <= $2",
                )
                .bind::<SqlUuid, _>(user)
                .bind::<Date, _>(today)
                .get_result(conn)
                .await?;
                let Some(last) = latest.last else {
                    return Ok(None);
                };
                (last - Days::new(HISTORY_DAYS), None)
            }
        };
        let from = first_new - Days::new(HISTORY_DAYS);
        let rows: Vec<Row> = diesel::sql_query(WINDOW)
            .bind::<SqlUuid, _>(user)
            .bind::<Date, _>(from)
            .bind::<Date, _>(today)
            .bind::<BigInt, _>(MAX_LEDGER_ROWS)
            .load(conn)
            .await?;
        let rows: Vec<Transaction> = rows.into_iter().map(Transaction::from).collect();
        let new_ids = new_ids.unwrap_or_else(|| {
            rows.iter()
                .filter(|r| r.date > first_new)
                .map(|r| r.id)
                .collect()
        });
        Ok(Some(ScanInput {
            rows,
            new_ids,
            today,
            thresholds,
        }))
    })
    .await
}

impl From<Row> for Transaction {
    fn from(row: Row) -> Self {
        Transaction {
            id: row.id,
            fingerprint: row.fingerprint,
            date: row.transaction_date,
            time: None,
            amount: row.amount.parse().unwrap_or_default(),
            status: row.status,
            merchant_name: row.merchant_name,
            description: row.description,
            category: row.category,
        }
    }
}

/// Stores an alert unless the user has it already or a dismissed outlier at its merchant
/// suppresses it; answers its id when it was stored now.
const INSERT: &str = "\
INSERT INTO anomaly_alerts (user_id, id, type, severity, transaction_ids, period_key, date,
    amount, currency, merchant, merchant_key, category, score, message, details)
SELECT $1, $2, $3, $4, $5, $6, $7, $8, $16, $9, $10, $11, $12, $13, $14
WHERE NOT ($3 = 'merchant_amount_outlier' AND EXISTS (
    SELECT 1 FROM anomaly_alerts d
    WHERE d.user_id = $1 AND d.type = 'merchant_amount_outlier' AND d.status = 'dismissed'
      AND d.merchant_key = $10 AND d.updated_at > now() - make_interval(days => $15)))
ON CONFLICT (user_id, id) DO NOTHING
RETURNING id::text AS id";

#[derive(QueryableByName)]
struct Stored {
    #[diesel(sql_type = Text)]
    id: String,
}

/// Alerts stored now, and the user's currency (their amounts' unit).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAlerts {
    /// ISO 4217 code of the user's amounts.
    pub currency: String,
    /// The alerts stored now, in order.
    pub alerts: Vec<Alert>,
}

#[derive(QueryableByName)]
struct Currency {
    #[diesel(sql_type = Text)]
    currency: String,
}

/// Stores `alerts` for `user` in one transaction and answers those stored now (in order): an
/// alert the user already has, or one a dismissal suppresses, is left out.
pub async fn store(
    pool: &PgPool,
    user: Uuid,
    alerts: Vec<Alert>,
) -> Result<StoredAlerts, CoreError> {
    let mut conn = connect(pool).await?;
    as_user::<_, CoreError, _>(&mut conn, user, async |conn| {
        let currency = diesel::sql_query(
            "SELECT coalesce((SELECT currency::text FROM users WHERE id = $1), 'INR') AS currency",
        )
        .bind::<SqlUuid, _>(user)
        .get_result::<Currency>(conn)
        .await?
        .currency;
        let mut stored = Vec::new();
        for alert in alerts {
            let key = alert
                .merchant
                .as_deref()
                .map(|m| merchant_key(m, ""))
                .unwrap_or_default();
            let inserted: Option<Stored> = diesel::sql_query(INSERT)
                .bind::<SqlUuid, _>(user)
                .bind::<Text, _>(&alert.id)
                .bind::<Text, _>(alert.kind.name())
                .bind::<Text, _>(severity(&alert))
                .bind::<Array<SqlUuid>, _>(&alert.transaction_ids)
                .bind::<Text, _>(&alert.period_key)
                .bind::<Date, _>(alert.date)
                .bind::<Double, _>(finite(alert.amount))
                .bind::<Nullable<Text>, _>(alert.merchant.as_deref())
                .bind::<Text, _>(&key)
                .bind::<Nullable<Text>, _>(alert.category.as_deref())
                .bind::<Double, _>(finite(alert.score))
                .bind::<Text, _>(&alert.message)
                .bind::<Jsonb, _>(&alert.details)
                .bind::<diesel::sql_types::Integer, _>(SUPPRESS_DAYS)
                .bind::<Text, _>(&currency)
                .get_result(conn)
                .await
                .optional()?;
            if inserted.is_some_and(|row| row.id == alert.id) {
                stored.push(alert);
            }
        }
        Ok(StoredAlerts {
            currency,
            alerts: stored,
        })
    })
    .await
}

/// The stored text of the alert's severity.
fn severity(alert: &Alert) -> &'static str {
    match alert.severity {
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
    }
}

/// `value`, or 0 when it is not a finite number (the column and JSON take only those).
fn finite(value: f64) -> f64 {
    if value.is_finite() {
        value
    } else {
        0.0
    }
}

const ALERT_COLUMNS: &str = "id::text AS id, type AS kind, severity, status, transaction_ids, \
    period_key, date, amount, currency::text AS currency, merchant, category, score, message, \
    details, created_at, updated_at, row_id";

/// One page of `user`'s alerts.
pub async fn list(pool: &PgPool, user: Uuid, query: AlertQuery) -> Result<AlertPage, CoreError> {
    let sql = format!(
        "SELECT {ALERT_COLUMNS} FROM anomaly_alerts \
         WHERE user_id = $1 AND ($2::text IS NULL OR status = $2) \
           AND ($3::date IS NULL OR date >= $3) \
           AND ($4::date IS NULL OR (date, row_id) < ($4, $5)) \
         ORDER BY date DESC, row_id DESC LIMIT $6"
    );
    let mut conn = connect(pool).await?;
    let mut alerts: Vec<AlertView> = as_user::<_, CoreError, _>(&mut conn, user, async |conn| {
        Ok(diesel::sql_query(sql)
            .bind::<SqlUuid, _>(user)
            .bind::<Nullable<Text>, _>(query.status.map(AlertStatus::as_str))
            .bind::<Nullable<Date>, _>(query.since)
            .bind::<Nullable<Date>, _>(query.after.map(|c| c.key))
            .bind::<SqlUuid, _>(query.after.map_or(Uuid::nil(), |c| c.id))
            .bind::<BigInt, _>(query.limit + 1)
            .load(conn)
            .await?)
    })
    .await?;
    let more = alerts.len() as i64 > query.limit;
    alerts.truncate(query.limit as usize);
    let next_cursor = more.then(|| alerts.last()).flatten().map(|last| {
        Cursor {
            key: last.date,
            id: last.row_id,
        }
        .encode()
    });
    Ok(AlertPage {
        alerts,
        next_cursor,
    })
}

/// Marks `user`'s alert `id` as `status` (seen: only a new alert changes; dismissed: keeps the
/// first dismissal's time); [`CoreError::NotFound`] when the user has no such alert.
pub async fn mark(
    pool: &PgPool,
    user: Uuid,
    id: &str,
    status: AlertStatus,
) -> Result<(), CoreError> {
    let not_found = CoreError::NotFound("alert");
    if !is_alert_id(id) {
        return Err(not_found);
    }
    let sql = match status {
        AlertStatus::New => return Err(CoreError::invalid("an alert cannot become new again")),
        AlertStatus::Seen => {
            "UPDATE anomaly_alerts SET status = CASE WHEN status = 'new' THEN 'seen' ELSE status END, \
             updated_at = CASE WHEN status = 'new' THEN now() ELSE updated_at END \
             WHERE user_id = $1 AND id = $2 RETURNING id::text AS id"
        }
        AlertStatus::Dismissed => {
            "UPDATE anomaly_alerts SET status = 'dismissed', \
             updated_at = CASE WHEN status = 'dismissed' THEN updated_at ELSE now() END \
             WHERE user_id = $1 AND id = $2 RETURNING id::text AS id"
        }
    };
    let mut conn = connect(pool).await?;
    let changed: Option<Stored> = as_user::<_, CoreError, _>(&mut conn, user, async |conn| {
        Ok(diesel::sql_query(sql)
            .bind::<SqlUuid, _>(user)
            .bind::<Text, _>(id)
            .get_result(conn)
            .await
            .optional()?)
    })
    .await?;
    changed.map(drop).ok_or(not_found)
}

/// Whether `text` can be an alert id (64 lowercase hex digits).
pub fn is_alert_id(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_ids_are_64_lowercase_hex_digits() {
        let id = crate::anomaly::alert::alert_id(
            crate::anomaly::alert::AlertKind::DuplicateCharge,
            &[],
            "2026-02-13",
        );
        assert!(is_alert_id(&id));
        assert!(!is_alert_id(&id.to_uppercase()));
        assert!(!is_alert_id(&id[1..]));
        assert!(!is_alert_id(&format!("{}\0", &id[1..])));
        assert!(!is_alert_id(""));
    }
}

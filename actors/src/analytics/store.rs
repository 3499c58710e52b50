//! The analytics SQL. Every statement filters by the caller's `user_id` and aggregates in
//! Postgres (`GROUP BY`, `sum`, `LIMIT`), so no query returns more than a month of daily totals
//! or a handful of rows. Expenses are `amount < 0`, summed exactly as `numeric(-amount)` and read
//! as text.

use chrono::{NaiveDate, Weekday};
use diesel::sql_types::{BigInt, Date, Integer, Text, Uuid as SqlUuid};
use diesel::{OptionalExtension, QueryableByName};
use diesel_async::pooled_connection::bb8::PooledConnection;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use rust_decimal::Decimal;
use scale_schema::{as_user, PgPool};
use uuid::Uuid;

use super::period::{self, Timeframe};
use super::report::{self, decimal, money, Overview, Splurge, Summary};
use crate::error::CoreError;

/// Bounds that cover every date Postgres stores, for all-history aggregates.
fn all_history() -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(1, 1, 1).expect("valid date"),
        NaiveDate::from_ymd_opt(9999, 12, 31).expect("valid date"),
    )
}

const TIMEZONE: &str = "SELECT timezone AS name FROM users WHERE id = $1";

const DAILY: &str = "\
SELECT transaction_date AS day, sum(-amount)::text AS total
FROM transactions
WHERE user_id = $1 AND amount < 0 AND transaction_date BETWEEN $2 AND $3
GROUP BY transaction_date";

const CATEGORIES: &str = "\
SELECT COALESCE(NULLIF(btrim(category), ''), 'Uncategorized') AS name,
       sum(-amount)::text AS total
FROM transactions
WHERE user_id = $1 AND amount < 0 AND transaction_date BETWEEN $2 AND $3
GROUP BY 1
ORDER BY sum(-amount) DESC, name
LIMIT $4";

const SPLURGES: &str = "\
SELECT id, transaction_date, description, merchant_name, category, (-amount)::text AS amount
FROM transactions
WHERE user_id = $1 AND amount < 0 AND transaction_date BETWEEN $2 AND $3
ORDER BY transactions.amount, transaction_date DESC, id
LIMIT $4";

const MONTHS: &str = "\
SELECT COALESCE(sum(-amount) FILTER (WHERE transaction_date >= $4), 0)::text AS current,
       COALESCE(sum(-amount) FILTER (WHERE transaction_date < $4), 0)::text AS previous
FROM transactions
WHERE user_id = $1 AND amount < 0 AND transaction_date BETWEEN $2 AND $3";

const WEEKDAYS: &str = "\
SELECT extract(dow FROM transaction_date)::int4 AS dow, sum(-amount)::text AS total
FROM transactions
WHERE user_id = $1 AND amount < 0
GROUP BY 1";

/// Merchant names per §8.1: `merchant_name || description || 'Unknown'` (empty counts as
/// missing), cut at the first `*`, trimmed.
const MERCHANTS: &str = "\
SELECT name, sum(-amount)::text AS total, count(*) AS visits
FROM (SELECT btrim(split_part(COALESCE(NULLIF(merchant_name, ''), NULLIF(description, ''),
                                      'Unknown'), '*', 1), E' \\t\\r\\n') AS name,
             amount
      FROM transactions
      WHERE user_id = $1 AND amount < 0) AS expenses
GROUP BY name
ORDER BY sum(-amount) DESC, name
LIMIT $2";

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct DayTotal {
    #[diesel(sql_type = Date)]
    day: NaiveDate,
    #[diesel(sql_type = Text)]
    total: String,
}

#[derive(QueryableByName)]
struct NamedTotal {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    total: String,
}

#[derive(QueryableByName)]
struct SplurgeRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Date)]
    transaction_date: NaiveDate,
    #[diesel(sql_type = Text)]
    description: String,
    #[diesel(sql_type = Text)]
    merchant_name: String,
    #[diesel(sql_type = Text)]
    category: String,
    #[diesel(sql_type = Text)]
    amount: String,
}

#[derive(QueryableByName)]
struct MonthTotals {
    #[diesel(sql_type = Text)]
    current: String,
    #[diesel(sql_type = Text)]
    previous: String,
}

#[derive(QueryableByName)]
struct WeekdayTotal {
    #[diesel(sql_type = Integer)]
    dow: i32,
    #[diesel(sql_type = Text)]
    total: String,
}

#[derive(QueryableByName)]
struct MerchantTotal {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    total: String,
    #[diesel(sql_type = BigInt)]
    visits: i64,
}

async fn connect(pool: &PgPool) -> Result<PooledConnection<'_, AsyncPgConnection>, CoreError> {
    pool.get().await.map_err(|e| CoreError::Database(e.into()))
}

/// `user`'s stored time zone; `None` when the user has no profile row yet.
pub async fn timezone(pool: &PgPool, user: Uuid) -> Result<Option<String>, CoreError> {
    let mut conn = connect(pool).await?;
    as_user::<_, CoreError, _>(&mut conn, user, async |conn| {
        let row: Option<Name> = diesel::sql_query(TIMEZONE)
            .bind::<SqlUuid, _>(user)
            .get_result(conn)
            .await
            .optional()?;
        Ok(row.map(|r| r.name))
    })
    .await
}

/// `user`'s overview of `timeframe` at `today`.
pub async fn overview(
    pool: &PgPool,
    user: Uuid,
    timeframe: Timeframe,
    today: NaiveDate,
) -> Result<Overview, CoreError> {
    let range = period::period(timeframe, today);
    let mut conn = connect(pool).await?;
    as_user::<_, CoreError, _>(&mut conn, user, async |conn| {
        let daily: Vec<DayTotal> = diesel::sql_query(DAILY)
            .bind::<SqlUuid, _>(user)
            .bind::<Date, _>(range.start)
            .bind::<Date, _>(range.end)
            .load(conn)
            .await?;
        let daily = daily
            .into_iter()
            .map(|r| Ok((r.day, decimal(&r.total)?)))
            .collect::<Result<Vec<_>, CoreError>>()?;
        let categories =
            categories(conn, user, (range.start, range.end), report::TOP_CATEGORIES).await?;
        let splurges: Vec<SplurgeRow> = diesel::sql_query(SPLURGES)
            .bind::<SqlUuid, _>(user)
            .bind::<Date, _>(range.start)
            .bind::<Date, _>(range.end)
            .bind::<BigInt, _>(report::SPLURGES as i64)
            .load(conn)
            .await?;
        let splurges = splurges
            .into_iter()
            .map(|r| {
                Ok(Splurge {
                    id: r.id,
                    transaction_date: r.transaction_date,
                    description: r.description,
                    merchant_name: r.merchant_name,
                    category: r.category,
                    amount: money(decimal(&r.amount)?),
                })
            })
            .collect::<Result<Vec<_>, CoreError>>()?;
        Ok(report::overview(
            timeframe, today, &daily, categories, splurges,
        ))
    })
    .await
}

/// `user`'s all-history summary, this month being `today`'s.
pub async fn summary(pool: &PgPool, user: Uuid, today: NaiveDate) -> Result<Summary, CoreError> {
    let (month_start, month_end) = period::month_of(today);
    let (prev_start, _) = period::previous_month(today);
    let mut conn = connect(pool).await?;
    as_user::<_, CoreError, _>(&mut conn, user, async |conn| {
        let months: MonthTotals = diesel::sql_query(MONTHS)
            .bind::<SqlUuid, _>(user)
            .bind::<Date, _>(prev_start)
            .bind::<Date, _>(month_end)
            .bind::<Date, _>(month_start)
            .get_result(conn)
            .await?;
        let weekdays: Vec<WeekdayTotal> = diesel::sql_query(WEEKDAYS)
            .bind::<SqlUuid, _>(user)
            .load(conn)
            .await?;
        let weekdays = weekdays
            .into_iter()
            .map(|r| {
                let day = u8::try_from(r.dow)
                    .ok()
                    .and_then(|n| Weekday::try_from((n + 6) % 7).ok())
                    .ok_or_else(|| {
                        CoreError::Database(scale_schema::DbFailure::query(format!(
                            "bad weekday {}",
                            r.dow
                        )))
                    })?;
                Ok((day, decimal(&r.total)?))
            })
            .collect::<Result<Vec<_>, CoreError>>()?;
        let categories =
            categories(conn, user, all_history(), report::CATEGORY_DISTRIBUTION).await?;
        let merchants: Vec<MerchantTotal> = diesel::sql_query(MERCHANTS)
            .bind::<SqlUuid, _>(user)
            .bind::<BigInt, _>(report::MERCHANT_LEADERBOARD as i64)
            .load(conn)
            .await?;
        let merchants = merchants
            .into_iter()
            .map(|r| Ok((r.name, decimal(&r.total)?, r.visits)))
            .collect::<Result<Vec<_>, CoreError>>()?;
        Ok(report::summary(
            decimal(&months.current)?,
            decimal(&months.previous)?,
            &weekdays,
            categories,
            merchants,
        ))
    })
    .await
}

/// `user`'s top `limit` categories by spend within `range` (inclusive).
async fn categories(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    range: (NaiveDate, NaiveDate),
    limit: usize,
) -> Result<Vec<(String, Decimal)>, CoreError> {
    let rows: Vec<NamedTotal> = diesel::sql_query(CATEGORIES)
        .bind::<SqlUuid, _>(user)
        .bind::<Date, _>(range.0)
        .bind::<Date, _>(range.1)
        .bind::<BigInt, _>(i64::try_from(limit).unwrap_or(i64::MAX))
        .load(conn)
        .await?;
    rows.into_iter()
        .map(|r| Ok((r.name, decimal(&r.total)?)))
        .collect()
}

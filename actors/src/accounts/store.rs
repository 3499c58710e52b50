//! The accounts SQL. Every operation runs in one database transaction scoped to the caller by
//! [`as_user`] (row-level security), and every statement still filters by the caller's
//! `user_id`, so another user's row is indistinguishable from a missing one. Amounts are read
//! as `float8` of the `numeric(12,2)` column (two decimals) and compared as `numeric`.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::serialize::ToSql;
use diesel::sql_types::{
    Array, BigInt, Bool, Date, Double, Float4, HasSqlType, Nullable, Text, Timestamptz,
    Uuid as SqlUuid,
};
use diesel::{OptionalExtension, QueryResult, Queryable, QueryableByName};
use diesel_async::pooled_connection::bb8::PooledConnection;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use scale_schema::{as_user, PgPool, UserScope};
use serde::Serialize;
use uuid::Uuid;

use super::edits::{sign_change, ProfileUpdate, SignChange, TransactionEdit};
use super::filters::ListQuery;
use super::AccountsError;
use crate::category_source;
use crate::error::CoreError;
use crate::pagination::Cursor;
use scale_monitoring::metrics::names;

/// One transaction as the API shows it. Read by name from single-row queries, by position
/// (cheaper per row) from the page query, whose columns are `TRANSACTION_COLUMNS` in order.
#[derive(Debug, Clone, PartialEq, Serialize, Queryable, QueryableByName, utoipa::ToSchema)]
pub struct TransactionView {
    /// Transaction id.
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    /// Statement-local calendar date.
    #[diesel(sql_type = Date)]
    pub transaction_date: NaiveDate,
    /// Signed amount, two decimals (debits negative).
    #[diesel(sql_type = Double)]
    pub amount: f64,
    /// ISO 4217 code.
    #[diesel(sql_type = Text)]
    pub currency: String,
    /// `credit` or `debit`.
    #[diesel(sql_type = Text)]
    #[serde(rename = "type")]
    pub kind: String,
    /// The statement's narration.
    #[diesel(sql_type = Text)]
    pub description: String,
    /// Extracted or corrected merchant.
    #[diesel(sql_type = Text)]
    pub merchant_name: String,
    /// Current category.
    #[diesel(sql_type = Text)]
    pub category: String,
    /// The category before the first manual correction.
    #[diesel(sql_type = Nullable<Text>)]
    pub original_category: Option<String>,
    /// UPI, card, NEFT…
    #[diesel(sql_type = Text)]
    pub payment_method: String,
    /// Bank reference.
    #[diesel(sql_type = Text)]
    pub reference: String,
    /// `completed`, `pending`, `refunded`, `cancelled` or `failed`.
    #[diesel(sql_type = Text)]
    pub status: String,
    /// Whether the user corrected the category.
    #[diesel(sql_type = Bool)]
    pub is_manual: bool,
    /// When the row was stored.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    /// What decided the category: `rule`, `model`, `user`, `client`, `fallback` or `manual`.
    #[diesel(sql_type = Text)]
    pub category_source: String,
    /// The model's calibrated confidence, when a model decided.
    #[diesel(sql_type = Nullable<Float4>)]
    pub category_confidence: Option<f32>,
    /// Whether a person should check the category.
    #[diesel(sql_type = Bool)]
    pub needs_review: bool,
}

/// One page of the transaction list.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TransactionPage {
    /// The rows, newest first (`transaction_date DESC, id DESC`).
    pub transactions: Vec<TransactionView>,
    /// Cursor of the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// The caller's `users` row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, QueryableByName, utoipa::ToSchema)]
pub struct Profile {
    /// The user's id (the JWT `sub`).
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    /// E-mail address, if set.
    #[diesel(sql_type = Nullable<Text>)]
    pub email: Option<String>,
    /// `user` or `admin`.
    #[diesel(sql_type = Text)]
    pub role: String,
    /// Display currency (ISO 4217).
    #[diesel(sql_type = Text)]
    pub currency: String,
    /// IANA time zone.
    #[diesel(sql_type = Text)]
    pub timezone: String,
    /// When the row was created.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

const TRANSACTION_COLUMNS: &str = "id, transaction_date, amount::float8 AS amount, \
    currency::text AS currency, type AS kind, description, merchant_name, category, \
    original_category, payment_method, reference, status, is_manual, created_at, \
    category_source, category_confidence, needs_review";

const PROFILE_COLUMNS: &str = "id, email, role, currency::text AS currency, timezone, created_at";

async fn connect(pool: &PgPool) -> Result<PooledConnection<'_, AsyncPgConnection>, AccountsError> {
    pool.get()
        .await
        .map_err(|e| AccountsError::Core(CoreError::Database(e.into())))
}

/// The list's page query. Only the filters present appear in the SQL, and the page size is a
/// bind, so each combination of filters is one fixed statement: diesel's statement cache
/// prepares it once per connection (at most 2^10 shapes), where a `sql_query` would be parsed
/// on every request. Postgres re-plans a statement with `LIMIT $n` on every execution unless
/// told to keep its generic plan, so [`PageQuery::scope`] asks for generic plans where they
/// are as good as custom ones.
struct PageQuery<'a> {
    user: Uuid,
    q: &'a ListQuery,
    fetch: i64,
}

impl PageQuery<'_> {
    /// The user context to run in. Generic plans keep the keyset index whatever the values,
    /// except with an amount range: its generic estimate is narrow, so the plan would read the
    /// amount index and sort every match (`EXPLAIN` with `force_generic_plan`), and only a
    /// custom plan, seeing the actual bounds, knows when the keyset walk is cheaper.
    fn scope(&self) -> UserScope {
        let scope = UserScope::new(self.user);
        if self.q.amount_min.is_some() || self.q.amount_max.is_some() {
            scope
        } else {
            scope.with_generic_plans()
        }
    }
}

impl QueryId for PageQuery<'_> {
    type QueryId = ();
    // The SQL depends on the filters present: cache by SQL text, not by type.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for PageQuery<'_> {
    /// [`TRANSACTION_COLUMNS`], by position.
    type SqlType = (
        SqlUuid,
        Date,
        Double,
        Text,
        Text,
        Text,
        Text,
        Text,
        Nullable<Text>,
        Text,
        Text,
        Text,
        Bool,
        Timestamptz,
        Text,
        Nullable<Float4>,
        Bool,
    );
}

/// Pushes ` AND {left}<bind>{right}`.
fn and<'b, T, U>(
    out: &mut AstPass<'_, 'b, Pg>,
    left: &str,
    value: &'b U,
    right: &str,
) -> QueryResult<()>
where
    Pg: HasSqlType<T>,
    U: ToSql<T, Pg> + ?Sized,
{
    out.push_sql(" AND ");
    out.push_sql(left);
    out.push_bind_param::<T, U>(value)?;
    out.push_sql(right);
    Ok(())
}

impl QueryFragment<Pg> for PageQuery<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let q = self.q;
        out.push_sql("SELECT ");
        out.push_sql(TRANSACTION_COLUMNS);
        out.push_sql(" FROM transactions WHERE user_id = ");
        out.push_bind_param::<SqlUuid, _>(&self.user)?;
        if let Some(after) = &q.after {
            and::<Date, _>(&mut out, "(transaction_date, id) < (", &after.key, ", ")?;
            out.push_bind_param::<SqlUuid, _>(&after.id)?;
            out.push_sql(")");
        }
        // Each present filter adds `AND left $n right`.
        let dates = [
            (&q.date_from, "transaction_date >= ", ""),
            (&q.date_to, "transaction_date <= ", ""),
        ];
        for (value, left, right) in dates {
            if let Some(value) = value {
                and::<Date, _>(&mut out, left, value, right)?;
            }
        }
        let texts = [
            (&q.amount_min, "amount >= ", "::numeric"),
            (&q.amount_max, "amount <= ", "::numeric"),
            (&q.category, "lower(category) = lower(", ")"),
            (&q.merchant, "lower(merchant_name) = lower(", ")"),
            (&q.kind, "type = ", ""),
            (&q.status, "status = ", ""),
            (&q.category_source, "category_source = ", ""),
        ];
        for (value, left, right) in texts {
            if let Some(value) = value {
                and::<Text, _>(&mut out, left, value, right)?;
            }
        }
        if let Some(needs_review) = &q.needs_review {
            and::<Bool, _>(&mut out, "needs_review = ", needs_review, "")?;
        }
        if let Some(pattern) = &q.search {
            and::<Text, _>(&mut out, "(description ILIKE ", pattern, r" ESCAPE '\'")?;
            out.push_sql(" OR merchant_name ILIKE ");
            out.push_bind_param::<Text, _>(pattern)?;
            out.push_sql(r" ESCAPE '\')");
        }
        out.push_sql(" ORDER BY transaction_date DESC, id DESC LIMIT ");
        out.push_bind_param::<BigInt, _>(&self.fetch)?;
        Ok(())
    }
}

/// One page of `user`'s transactions matching `q`, by keyset over
/// `(transaction_date DESC, id DESC)` (index `idx_transactions_user_keyset`).
pub async fn list(
    pool: &PgPool,
    user: Uuid,
    q: &ListQuery,
) -> Result<TransactionPage, AccountsError> {
    let query = PageQuery {
        user,
        q,
        fetch: q.limit + 1,
    };
    let mut conn = connect(pool).await?;
    let scope = query.scope();
    let mut rows: Vec<TransactionView> =
        as_user::<_, AccountsError, _>(&mut conn, scope, async move |conn| {
            Ok(query.load(conn).await?)
        })
        .await?;
    let limit = usize::try_from(q.limit).unwrap_or(usize::MAX);
    let next_cursor = (rows.len() > limit).then(|| {
        rows.truncate(limit);
        rows.last().map(|last| {
            Cursor {
                key: last.transaction_date,
                id: last.id,
            }
            .encode()
        })
    });
    Ok(TransactionPage {
        transactions: rows,
        next_cursor: next_cursor.flatten(),
    })
}

/// `user`'s transaction `id`.
pub async fn get(pool: &PgPool, user: Uuid, id: Uuid) -> Result<TransactionView, AccountsError> {
    let mut conn = connect(pool).await?;
    as_user(&mut conn, user, async |conn| {
        diesel::sql_query(format!(
            "SELECT {TRANSACTION_COLUMNS} FROM transactions WHERE user_id = $1 AND id = $2"
        ))
        .bind::<SqlUuid, _>(user)
        .bind::<SqlUuid, _>(id)
        .get_result(conn)
        .await
        .optional()?
        .ok_or(AccountsError::Core(CoreError::NotFound("transaction")))
    })
    .await
}

/// The current category of a locked row, and what decided it.
#[derive(QueryableByName)]
struct CurrentCategory {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    category: String,
    #[diesel(sql_type = Text)]
    category_source: String,
}

const UPDATE_TRANSACTION: &str = "\
UPDATE transactions SET
    category = COALESCE($3, category),
    description = COALESCE($4, description),
    merchant_name = COALESCE($5, merchant_name),
    is_manual = is_manual OR $6,
    category_source = CASE WHEN $6 THEN 'manual' ELSE category_source END,
    category_confidence = CASE WHEN $6 THEN NULL ELSE category_confidence END,
    needs_review = needs_review AND NOT $6,
    original_category = CASE WHEN $6 THEN COALESCE(original_category, category)
                             ELSE original_category END,
    amount = CASE $7 WHEN 'credit' THEN abs(amount) WHEN 'debit' THEN -abs(amount)
                     ELSE amount END,
    type = COALESCE($7, type),
    updated_at = now()
WHERE user_id = $1 AND id = ANY($2)
RETURNING ";

/// Records the current category of `user`'s transactions `$2` as their corrections.
const UPSERT_CORRECTIONS: &str = "\
INSERT INTO training_corrections
    (user_id, transaction_id, description, original_category, corrected_category)
SELECT user_id, id, description, original_category, category
FROM transactions WHERE user_id = $1 AND id = ANY($2)
ON CONFLICT (user_id, transaction_id) WHERE transaction_id IS NOT NULL
DO UPDATE SET description = EXCLUDED.description,
              corrected_category = EXCLUDED.corrected_category,
              updated_at = now()";

/// Most rows one correction may carry over to similar transactions.
pub const MAX_SIMILAR: i64 = 10_000;

/// Locks `user`'s transaction `$2` and, when `$3`, the other transactions like it that nobody
/// corrected by hand (same description, case aside, or same known merchant), at most `$4` of
/// them; returns their ids and categories, the named transaction first (none when it does not
/// exist).
const LOCK_SIMILAR: &str = "\
SELECT t.id, t.category, t.category_source
FROM transactions t JOIN transactions n ON n.user_id = $1 AND n.id = $2
WHERE t.user_id = $1
  AND (t.id = n.id
       OR ($3 AND t.category_source <> 'manual'
           AND (lower(t.description) = lower(n.description)
                OR (t.merchant_name = n.merchant_name
                    AND n.merchant_name NOT IN ('', 'Unknown')))))
ORDER BY t.id <> n.id, t.id
LIMIT $4 + 1
FOR UPDATE OF t";

/// Applies `edit` to `user`'s transaction `id` in one database transaction. A category change
/// is a manual correction (categorisation spec §5.7): `is_manual` is set, `original_category`
/// keeps the first category, the Income sign rule applies and the `training_corrections` row
/// of this transaction is upserted. The correction is counted by the source it overrides.
pub async fn update(
    pool: &PgPool,
    user: Uuid,
    id: Uuid,
    edit: &TransactionEdit,
) -> Result<TransactionView, AccountsError> {
    let mut conn = connect(pool).await?;
    let (row, corrected) = as_user::<_, AccountsError, _>(&mut conn, user, async |conn| {
        let current: CurrentCategory = diesel::sql_query(
            "SELECT id, category, category_source FROM transactions \
             WHERE user_id = $1 AND id = $2 FOR UPDATE",
        )
        .bind::<SqlUuid, _>(user)
        .bind::<SqlUuid, _>(id)
        .get_result(conn)
        .await
        .optional()?
        .ok_or(AccountsError::Core(CoreError::NotFound("transaction")))?;
        let corrected = edit
            .category
            .as_deref()
            .filter(|new| *new != current.category);
        let sign = corrected.map_or(SignChange::Keep, |new| sign_change(&current.category, new));
        let row: TransactionView =
            diesel::sql_query(format!("{UPDATE_TRANSACTION}{TRANSACTION_COLUMNS}"))
                .bind::<SqlUuid, _>(user)
                .bind::<Array<SqlUuid>, _>(&[id][..])
                .bind::<Nullable<Text>, _>(edit.category.as_deref())
                .bind::<Nullable<Text>, _>(edit.description.as_deref())
                .bind::<Nullable<Text>, _>(edit.merchant_name.as_deref())
                .bind::<Bool, _>(corrected.is_some())
                .bind::<Nullable<Text>, _>(sign.kind())
                .get_result(conn)
                .await?;
        if corrected.is_some() {
            diesel::sql_query(UPSERT_CORRECTIONS)
                .bind::<SqlUuid, _>(user)
                .bind::<Array<SqlUuid>, _>(&[id][..])
                .execute(conn)
                .await?;
        }
        Ok((row, corrected.map(|_| current.category_source)))
    })
    .await?;
    if let Some(source) = corrected {
        record_correction(&source);
    }
    Ok(row)
}

/// Sets `user`'s transaction `id` to `category` by hand (categorisation spec §5.7), and with
/// `apply_to_similar` the transactions like it that nobody corrected by hand (at most
/// [`MAX_SIMILAR`]), in one database transaction: each becomes `manual` with its first
/// category kept, the Income sign rule applies per row, and each row's correction is upserted.
/// Returns the ids changed, the named transaction first. Each row whose category changed is
/// counted as a correction of the source that had decided it.
pub async fn correct_category(
    pool: &PgPool,
    user: Uuid,
    id: Uuid,
    category: &str,
    apply_to_similar: bool,
) -> Result<Vec<Uuid>, AccountsError> {
    let mut conn = connect(pool).await?;
    let rows = as_user::<_, AccountsError, _>(&mut conn, user, async |conn| {
        let rows: Vec<CurrentCategory> = diesel::sql_query(LOCK_SIMILAR)
            .bind::<SqlUuid, _>(user)
            .bind::<SqlUuid, _>(id)
            .bind::<Bool, _>(apply_to_similar)
            .bind::<BigInt, _>(MAX_SIMILAR)
            .load(conn)
            .await?;
        if !matches!(rows.as_slice(), [named, ..] if named.id == id) {
            return Err(AccountsError::Core(CoreError::NotFound("transaction")));
        }
        let mut by_sign: BTreeMap<Option<&'static str>, Vec<Uuid>> = BTreeMap::new();
        for row in &rows {
            let sign = sign_change(&row.category, category).kind();
            by_sign.entry(sign).or_default().push(row.id);
        }
        for (sign, ids) in &by_sign {
            diesel::sql_query(format!("{UPDATE_TRANSACTION}id"))
                .bind::<SqlUuid, _>(user)
                .bind::<Array<SqlUuid>, _>(ids)
                .bind::<Nullable<Text>, _>(Some(category))
                .bind::<Nullable<Text>, _>(None::<&str>)
                .bind::<Nullable<Text>, _>(None::<&str>)
                .bind::<Bool, _>(true)
                .bind::<Nullable<Text>, _>(*sign)
                .execute(conn)
                .await?;
        }
        let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
        diesel::sql_query(UPSERT_CORRECTIONS)
            .bind::<SqlUuid, _>(user)
            .bind::<Array<SqlUuid>, _>(&ids)
            .execute(conn)
            .await?;
        Ok(rows)
    })
    .await?;
    for row in rows.iter().filter(|row| row.category != category) {
        record_correction(&row.category_source);
    }
    Ok(rows.into_iter().map(|row| row.id).collect())
}

/// Counts one category changed by hand, decided before by `source` (as stored).
fn record_correction(source: &str) {
    metrics::counter!(names::CORRECTIONS, "source" => category_source::label(source)).increment(1);
}

/// Deletes `user`'s transaction `id`.
pub async fn delete(pool: &PgPool, user: Uuid, id: Uuid) -> Result<(), AccountsError> {
    let mut conn = connect(pool).await?;
    as_user(&mut conn, user, async |conn| {
        let deleted = diesel::sql_query("DELETE FROM transactions WHERE user_id = $1 AND id = $2")
            .bind::<SqlUuid, _>(user)
            .bind::<SqlUuid, _>(id)
            .execute(conn)
            .await?;
        if deleted == 0 {
            return Err(AccountsError::Core(CoreError::NotFound("transaction")));
        }
        Ok(())
    })
    .await
}

/// Deletes everything `user` stored — corrections, anomaly alerts, transactions, uploads,
/// training jobs — in one database transaction; the `users` row (profile and settings, the
/// anomaly thresholds among them) stays. Returns the ids of
/// the deleted jobs, whose cached status must go too.
pub async fn delete_all(pool: &PgPool, user: Uuid) -> Result<Vec<Uuid>, AccountsError> {
    let mut conn = connect(pool).await?;
    as_user::<_, AccountsError, _>(&mut conn, user, async |conn| {
        for table in [
            "training_corrections",
            "anomaly_alerts",
            "transactions",
            "uploaded_files",
        ] {
            diesel::sql_query(format!("DELETE FROM {table} WHERE user_id = $1"))
                .bind::<SqlUuid, _>(user)
                .execute(conn)
                .await?;
        }
        let jobs: Vec<DeletedJob> =
            diesel::sql_query("DELETE FROM training_jobs WHERE user_id = $1 RETURNING id")
                .bind::<SqlUuid, _>(user)
                .load(conn)
                .await?;
        Ok(jobs.into_iter().map(|job| job.id).collect())
    })
    .await
}

/// A training job removed by [`delete_all`].
#[derive(QueryableByName)]
struct DeletedJob {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

/// `user`'s profile, creating the row with `role` on first access.
pub async fn profile(pool: &PgPool, user: Uuid, role: &str) -> Result<Profile, AccountsError> {
    let mut conn = connect(pool).await?;
    as_user(&mut conn, user, async |conn| {
        ensure_user(conn, user, role).await?;
        Ok(
            diesel::sql_query(format!("SELECT {PROFILE_COLUMNS} FROM users WHERE id = $1"))
                .bind::<SqlUuid, _>(user)
                .get_result(conn)
                .await?,
        )
    })
    .await
}

/// Applies a validated `update` to `user`'s profile (created with `role` if missing).
pub async fn update_profile(
    pool: &PgPool,
    user: Uuid,
    role: &str,
    update: &ProfileUpdate,
) -> Result<Profile, AccountsError> {
    let mut conn = connect(pool).await?;
    as_user(&mut conn, user, async |conn| {
        ensure_user(conn, user, role).await?;
        diesel::sql_query(format!(
            "UPDATE users SET email = COALESCE($2, email), currency = COALESCE($3, currency), \
             timezone = COALESCE($4, timezone) WHERE id = $1 RETURNING {PROFILE_COLUMNS}"
        ))
        .bind::<SqlUuid, _>(user)
        .bind::<Nullable<Text>, _>(update.email.as_deref())
        .bind::<Nullable<Text>, _>(update.currency.as_deref())
        .bind::<Nullable<Text>, _>(update.timezone.as_deref())
        .get_result(conn)
        .await
        .map_err(|err| match err {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                AccountsError::EmailTaken
            }
            other => other.into(),
        })
    })
    .await
}

/// Creates `user`'s `users` row with `role` unless it exists (a JWT user is known before any
/// row of theirs is stored).
pub(crate) async fn ensure_user(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    role: &str,
) -> diesel::QueryResult<()> {
    diesel::sql_query("INSERT INTO users (id, role) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING")
        .bind::<SqlUuid, _>(user)
        .bind::<Text, _>(role)
        .execute(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::filters::RawListQuery;

    #[test]
    fn page_queries_keep_generic_plans_except_with_an_amount_range() {
        let user = Uuid::new_v4();
        let scope = |raw: RawListQuery| {
            let q = raw.validate().unwrap();
            PageQuery {
                user,
                q: &q,
                fetch: q.limit + 1,
            }
            .scope()
        };
        let generic = UserScope::new(user).with_generic_plans();
        assert_eq!(scope(RawListQuery::default()), generic);
        let search = RawListQuery {
            q: Some("coffee".into()),
            category: Some("Food".into()),
            ..RawListQuery::default()
        };
        assert_eq!(scope(search), generic);
        for (min, max) in [(Some("1"), None), (None, Some("-1"))] {
            let amounts = RawListQuery {
                amount_min: min.map(Into::into),
                amount_max: max.map(Into::into),
                ..RawListQuery::default()
            };
            assert_eq!(scope(amounts), UserScope::new(user));
        }
    }
}

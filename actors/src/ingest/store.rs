//! Writing an import: one database transaction, scoped to the user by [`as_user`] (row-level
//! security), records the upload and inserts its rows in batches
//! (`INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING`), so a failure leaves
//! nothing behind and stored duplicates are counted, not fatal.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Date, Jsonb, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use scale_schema::tables::uploaded_files;
use scale_schema::{as_user, PgPool};
use scale_statements::fingerprint::FINGERPRINT_VERSION;
use scale_statements::pipeline::ParsedStatement;
use scale_statements::rows::{ParsedTransaction, Truncated};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::IngestError;
use crate::error::CoreError;
use scale_statements::warning::Warning;

/// Rows per INSERT statement. Ids are UUIDv7 (time-ordered), so the primary key grows at its
/// right edge instead of splitting pages at random.
const BATCH: usize = 5_000;

/// What an import did.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ImportOutcome {
    /// Rows stored now.
    pub inserted: usize,
    /// Rows already stored (by an earlier import or an overlapping statement).
    pub skipped_duplicates: usize,
    /// Zero-amount rows.
    pub skipped_zero_amount: usize,
    /// Rows without a valid date.
    pub skipped_invalid_date: usize,
    /// Rows that are not transactions.
    pub skipped_invalid_row: usize,
    /// `skipped_invalid_date + skipped_invalid_row` (the web client's older field).
    pub skipped_invalid: usize,
    /// Rows of the file whose text was cut to its limit, by field.
    pub truncated: Truncated,
    /// SHA-256 of the uploaded bytes.
    pub file_hash: String,
    /// The `uploaded_files` row of this import.
    pub uploaded_file_id: Uuid,
    /// What the parser decided that the user should check.
    pub warnings: Vec<Warning>,
}

/// One row of `GET /ingest/uploaded-files`.
#[derive(Debug, Clone, Serialize, Queryable, Selectable)]
#[diesel(table_name = uploaded_files)]
pub struct UploadedFile {
    /// Upload id.
    pub id: Uuid,
    /// Original file name.
    pub filename: Option<String>,
    /// SHA-256 of the bytes.
    pub file_hash: String,
    /// `import`, `training` or `forecast`.
    pub upload_type: String,
    /// Transactions parsed from the file.
    pub row_count: Option<i32>,
    /// Transactions stored from the file.
    pub inserted: Option<i32>,
    /// When it was uploaded.
    pub created_at: DateTime<Utc>,
}

/// Stores a parsed statement for `user` in one transaction. A file already imported by this
/// user is refused with [`IngestError::FileAlreadyImported`] unless `force`.
pub async fn import(
    pool: &PgPool,
    user: Uuid,
    filename: Option<&str>,
    statement: &ParsedStatement,
    force: bool,
) -> Result<ImportOutcome, IngestError> {
    let mut conn = pool
        .get()
        .await
        .map_err(|e| IngestError::Core(CoreError::Database(e.into())))?;
    let (uploaded_file_id, inserted) = as_user::<_, TxError, _>(&mut conn, user, async |conn| {
        let id = record_upload(conn, user, filename, statement, force).await?;
        let inserted = insert_rows(conn, user, id, statement).await?;
        diesel::update(uploaded_files::table.find(id))
            .set(uploaded_files::inserted.eq(i32::try_from(inserted).unwrap_or(i32::MAX)))
            .execute(conn)
            .await?;
        Ok((id, inserted))
    })
    .await
    .map_err(IngestError::from)?;
    let skipped = statement.skipped;
    Ok(ImportOutcome {
        inserted,
        skipped_duplicates: statement.transactions.len() - inserted,
        skipped_zero_amount: skipped.zero_amount,
        skipped_invalid_date: skipped.invalid_date,
        skipped_invalid_row: skipped.invalid_row,
        skipped_invalid: skipped.invalid_date + skipped.invalid_row,
        truncated: statement.truncated,
        file_hash: statement.file_hash.clone(),
        uploaded_file_id,
        warnings: statement.warnings.clone(),
    })
}

/// The user's uploads, newest first (at most 500).
pub async fn uploaded_files(pool: &PgPool, user: Uuid) -> Result<Vec<UploadedFile>, IngestError> {
    let mut conn = pool
        .get()
        .await
        .map_err(|e| IngestError::Core(CoreError::Database(e.into())))?;
    as_user(&mut conn, user, async |conn| {
        uploaded_files::table
            .filter(uploaded_files::user_id.eq(user))
            .order((uploaded_files::created_at.desc(), uploaded_files::id.desc()))
            .limit(500)
            .select(UploadedFile::as_select())
            .load(conn)
            .await
    })
    .await
    .map_err(|e: diesel::result::Error| IngestError::Core(CoreError::Database(e.into())))
}

/// Errors inside the import transaction (rolled back).
enum TxError {
    Db(diesel::result::Error),
    Ingest(IngestError),
}

impl From<diesel::result::Error> for TxError {
    fn from(err: diesel::result::Error) -> Self {
        TxError::Db(err)
    }
}

impl From<TxError> for IngestError {
    fn from(err: TxError) -> Self {
        match err {
            TxError::Db(e) => IngestError::Core(CoreError::Database(e.into())),
            TxError::Ingest(e) => e,
        }
    }
}

async fn record_upload(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    filename: Option<&str>,
    statement: &ParsedStatement,
    force: bool,
) -> Result<Uuid, TxError> {
    diesel::sql_query("INSERT INTO users (id) VALUES ($1) ON CONFLICT (id) DO NOTHING")
        .bind::<SqlUuid, _>(user)
        .execute(conn)
        .await?;
    // Serialises concurrent imports of the same file by the same user.
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind::<Text, _>(format!("{user}:{}", statement.file_hash))
        .execute(conn)
        .await?;
    let existing: Option<Uuid> = uploaded_files::table
        .filter(uploaded_files::user_id.eq(user))
        .filter(uploaded_files::file_hash.eq(&statement.file_hash))
        .filter(uploaded_files::upload_type.eq("import"))
        .select(uploaded_files::id)
        .first(conn)
        .await
        .optional()?;
    let row_count = i32::try_from(statement.transactions.len()).unwrap_or(i32::MAX);
    match existing {
        Some(id) if !force => Err(TxError::Ingest(IngestError::FileAlreadyImported {
            uploaded_file_id: id,
        })),
        Some(id) => {
            diesel::update(uploaded_files::table.find(id))
                .set((
                    uploaded_files::row_count.eq(row_count),
                    uploaded_files::created_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?;
            Ok(id)
        }
        None => Ok(diesel::insert_into(uploaded_files::table)
            .values((
                uploaded_files::user_id.eq(user),
                uploaded_files::file_hash.eq(&statement.file_hash),
                uploaded_files::filename.eq(filename),
                uploaded_files::upload_type.eq("import"),
                uploaded_files::row_count.eq(row_count),
            ))
            .returning(uploaded_files::id)
            .get_result(conn)
            .await?),
    }
}

async fn insert_rows(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    upload: Uuid,
    statement: &ParsedStatement,
) -> Result<usize, TxError> {
    let mut inserted = 0;
    for batch in statement.transactions.chunks(BATCH) {
        let column = |f: fn(&ParsedTransaction) -> String| batch.iter().map(f).collect::<Vec<_>>();
        inserted += diesel::sql_query(INSERT_BATCH)
            .bind::<SqlUuid, _>(user)
            .bind::<SqlUuid, _>(upload)
            .bind::<diesel::sql_types::SmallInt, _>(FINGERPRINT_VERSION)
            .bind::<Array<SqlUuid>, _>(batch.iter().map(|_| Uuid::now_v7()).collect::<Vec<_>>())
            .bind::<Array<Date>, _>(batch.iter().map(|t| t.date).collect::<Vec<_>>())
            .bind::<Array<Text>, _>(column(|t| t.amount.to_string()))
            .bind::<Array<Text>, _>(column(|t| t.currency.to_owned()))
            .bind::<Array<Text>, _>(column(|t| t.kind.to_owned()))
            .bind::<Array<Text>, _>(column(|t| t.description.clone()))
            .bind::<Array<Text>, _>(column(|t| t.merchant.clone()))
            .bind::<Array<Text>, _>(column(|t| t.category.to_owned()))
            .bind::<Array<Text>, _>(column(|t| t.payment_method.clone()))
            .bind::<Array<Text>, _>(column(|t| t.reference.clone()))
            .bind::<Array<Text>, _>(column(|t| t.status.to_owned()))
            .bind::<Array<Text>, _>(column(|t| t.fingerprint.clone()))
            .bind::<Array<Jsonb>, _>(
                batch
                    .iter()
                    .map(|t| json!({"source": t.raw, "meta": t.meta, "source_row": t.source_row}))
                    .collect::<Vec<_>>(),
            )
            .execute(conn)
            .await?;
    }
    Ok(inserted)
}

const INSERT_BATCH: &str = "\
INSERT INTO transactions (user_id, uploaded_file_id, fingerprint_version, id, transaction_date,
    amount, currency, type, description, merchant_name, category, payment_method, reference,
    status, fingerprint, raw_data)
SELECT $1, $2, $3, r.* FROM unnest($4::uuid[], $5::date[], $6::numeric[], $7::text[], $8::text[],
    $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[],
    $16::jsonb[]) AS r
ON CONFLICT (user_id, fingerprint) DO NOTHING";

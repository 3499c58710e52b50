//! Writing an import: one database transaction, scoped to the user by [`as_user`] (row-level
//! security), records the upload (or one part of a chunked upload, see [`uploads`]) and inserts its rows in
//! batches as the parser hands them over (`INSERT … SELECT FROM unnest(…) ON CONFLICT DO
//! NOTHING`), then commits only once the parser has finished cleanly, so a failure leaves
//! nothing behind and stored duplicates are counted, not fatal.

use std::future::Future;

use diesel::sql_types::{Array, BigInt, Bool, Date, Float4, Nullable, Text, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use rust_decimal::prelude::ToPrimitive;
use scale_schema::{as_user, PgPool};
use scale_statements::fingerprint::FINGERPRINT_VERSION;
use scale_statements::pipeline::{ParsedStatement, Summary};
use scale_statements::record::{Meta, RawRow};
use scale_statements::rows::{ParsedTransaction, Truncated};
use serde::Serialize;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::uploads::{self, ChunkProgress, UploadRecord};
use super::{IngestError, TxError};
use crate::categorization::brain::Brain;
use crate::categorization::corrections::teachings;
use crate::categorization::model::known_label;
use crate::categorization::resolve::{Classifier, Overrides};
use crate::categorization::telemetry;
use crate::error::CoreError;
use scale_statements::warning::Warning;

/// Rows per INSERT statement (and per chunk the parser hands over). Ids are UUIDv7
/// (time-ordered), so the primary key grows at its right edge instead of splitting pages at
/// random.
pub const BATCH: usize = 2_000;

/// The transactions of one import, in source order, as the parser finishes them (each chunk
/// already laid out as the insert binds it, on the parser's thread).
pub type Chunks = mpsc::Receiver<Batch>;

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
    /// For a chunk of a chunked upload, how far the upload got (left out otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<ChunkProgress>,
}

/// Stores the transactions of a file (or of one part of a chunked upload) with hash `file_hash` for `user` in
/// one transaction, as `chunks` delivers them; `parsed` ends the parse and tells what it found
/// besides them. The transaction commits only when `parsed` succeeds after the last chunk, so a
/// parse failing half-way stores nothing. A file already imported by this user is refused with
/// [`IngestError::FileAlreadyImported`] unless `force`, and so is whatever else
/// `uploads::begin` refuses (the parse is then abandoned: `chunks` is dropped).
pub async fn import(
    pool: &PgPool,
    user: Uuid,
    upload: UploadRecord<'_>,
    mut chunks: Chunks,
    parsed: impl Future<Output = Result<Summary, IngestError>> + Send,
) -> Result<ImportOutcome, IngestError> {
    let mut conn = pool
        .get()
        .await
        .map_err(|e| IngestError::Core(CoreError::Database(e.into())))?;
    let (uploaded_file_id, stored, summary, progress) =
        as_user::<_, TxError, _>(&mut conn, user, async |conn| {
            let slot = uploads::begin(conn, user, upload).await?;
            let mut stored = Vec::new();
            while let Some(chunk) = chunks.recv().await {
                stored.extend(insert_rows(conn, user, slot.id, chunk).await?);
            }
            let inserted = stored.iter().map(|s| s.rows as usize).sum();
            let summary = parsed.await.map_err(TxError::Ingest)?;
            let progress = uploads::finish(conn, &slot, inserted, summary.transactions).await?;
            Ok((slot.id, stored, summary, progress))
        })
        .await
        .map_err(IngestError::from)?;
    for decided in &stored {
        telemetry::record_stored(&decided.source, decided.needs_review, decided.rows as u64);
    }
    let inserted = stored.iter().map(|s| s.rows as usize).sum();
    let skipped = summary.skipped;
    Ok(ImportOutcome {
        inserted,
        skipped_duplicates: summary.transactions - inserted,
        skipped_zero_amount: skipped.zero_amount,
        skipped_invalid_date: skipped.invalid_date,
        skipped_invalid_row: skipped.invalid_row,
        skipped_invalid: skipped.invalid_date + skipped.invalid_row,
        truncated: summary.truncated,
        file_hash: summary.file_hash,
        uploaded_file_id,
        warnings: summary.warnings,
        progress,
    })
}

/// [`import`] of a statement parsed whole (the `scale import` command, benchmarks, tests).
pub async fn import_parsed(
    pool: &PgPool,
    brain: &Brain,
    user: Uuid,
    filename: Option<&str>,
    statement: ParsedStatement,
    force: bool,
) -> Result<ImportOutcome, IngestError> {
    let ParsedStatement {
        transactions,
        skipped,
        truncated,
        file_hash,
        detected_format,
        warnings,
    } = statement;
    let summary = Summary {
        transactions: transactions.len(),
        skipped,
        truncated,
        file_hash,
        detected_format,
        warnings,
    };
    let layer = teachings(pool, user).await?.layer();
    let (sender, chunks) = mpsc::channel(transactions.len().div_ceil(BATCH).max(1));
    let mut rows = transactions.into_iter();
    loop {
        let chunk: Vec<ParsedTransaction> = rows.by_ref().take(BATCH).collect();
        if chunk.is_empty()
            || sender
                .try_send(Batch::of(chunk, &brain.classifier(), &layer))
                .is_err()
        {
            break;
        }
    }
    drop(sender);
    let upload = UploadRecord {
        filename,
        file_hash: &summary.file_hash.clone(),
        force,
        chunk: None,
    };
    import(pool, user, upload, chunks, async { Ok(summary) }).await
}

/// A transaction's `raw_data`: its source row, what extraction found, and where it came from.
#[derive(Serialize)]
struct RawData<'a> {
    source: &'a RawRow,
    meta: &'a Meta,
    source_row: usize,
}

/// One batch of transactions as the insert binds them: a column each, strings moved out of
/// the transactions (not copied) and `raw_data` already serialised.
#[derive(Default)]
pub struct Batch {
    ids: Vec<Uuid>,
    dates: Vec<chrono::NaiveDate>,
    amounts: Vec<String>,
    currencies: Vec<&'static str>,
    kinds: Vec<&'static str>,
    descriptions: Vec<String>,
    merchants: Vec<String>,
    categories: Vec<String>,
    category_sources: Vec<&'static str>,
    category_confidences: Vec<Option<f32>>,
    needs_review: Vec<bool>,
    methods: Vec<String>,
    references: Vec<String>,
    statuses: Vec<&'static str>,
    fingerprints: Vec<String>,
    raw: Vec<String>,
}

impl Batch {
    /// Categorises `batch` and lays it out (CPU work: the parser's thread does it). A row whose
    /// client gave it a known category keeps it (`client`); the others are classified in one
    /// call by `classifier`, the user's `overrides` first.
    pub fn of(
        batch: Vec<ParsedTransaction>,
        classifier: &Classifier<'_>,
        overrides: &dyn Overrides,
    ) -> Self {
        let mut c = Batch::default();
        let known: Vec<Option<&'static str>> = batch
            .iter()
            .map(|t| t.client_category.as_deref().and_then(known_label))
            .collect();
        let to_classify: Vec<(&str, Option<f64>)> = batch
            .iter()
            .zip(&known)
            .filter(|(_, known)| known.is_none())
            .map(|(t, _)| (t.description.as_str(), t.amount.to_f64()))
            .collect();
        let mut classified = classifier
            .classify_batch(&to_classify, overrides)
            .into_iter();
        drop(to_classify);
        for (t, known) in batch.into_iter().zip(known) {
            match known {
                Some(label) => {
                    c.categories.push(label.to_owned());
                    c.category_sources.push("client");
                    c.category_confidences.push(None);
                    c.needs_review.push(false);
                }
                None => {
                    let answer = classified.next().expect("one answer per classified row");
                    c.category_sources.push(answer.source.as_str());
                    c.category_confidences.push(Some(answer.confidence as f32));
                    c.needs_review.push(answer.needs_review);
                    c.categories.push(answer.category);
                }
            }
            let raw = RawData {
                source: &t.raw,
                meta: &t.meta,
                source_row: t.source_row,
            };
            c.raw
                .push(serde_json::to_string(&raw).expect("raw data serialises"));
            c.ids.push(Uuid::now_v7());
            c.dates.push(t.date);
            c.amounts.push(t.amount.to_string());
            c.currencies.push(t.currency);
            c.kinds.push(t.kind);
            c.descriptions.push(t.description);
            c.merchants.push(t.merchant);
            c.methods.push(t.payment_method);
            c.references.push(t.reference);
            c.statuses.push(t.status);
            c.fingerprints.push(t.fingerprint.to_string());
        }
        c
    }
}

/// Rows a batch stored with the same category source and review flag.
#[derive(QueryableByName)]
struct Stored {
    #[diesel(sql_type = Text)]
    source: String,
    #[diesel(sql_type = Bool)]
    needs_review: bool,
    #[diesel(sql_type = BigInt)]
    rows: i64,
}

/// Inserts a batch; returns what was stored (rows already stored are skipped) by category
/// source and review flag.
async fn insert_rows(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    upload: Uuid,
    c: Batch,
) -> Result<Vec<Stored>, TxError> {
    Ok(diesel::sql_query(INSERT_BATCH)
        .bind::<SqlUuid, _>(user)
        .bind::<SqlUuid, _>(upload)
        .bind::<diesel::sql_types::SmallInt, _>(FINGERPRINT_VERSION)
        .bind::<Array<SqlUuid>, _>(c.ids)
        .bind::<Array<Date>, _>(c.dates)
        .bind::<Array<Text>, _>(c.amounts)
        .bind::<Array<Text>, _>(c.currencies)
        .bind::<Array<Text>, _>(c.kinds)
        .bind::<Array<Text>, _>(c.descriptions)
        .bind::<Array<Text>, _>(c.merchants)
        .bind::<Array<Text>, _>(c.categories)
        .bind::<Array<Text>, _>(c.methods)
        .bind::<Array<Text>, _>(c.references)
        .bind::<Array<Text>, _>(c.statuses)
        .bind::<Array<Text>, _>(c.fingerprints)
        .bind::<Array<Text>, _>(c.raw)
        .bind::<Array<Text>, _>(c.category_sources)
        .bind::<Array<Nullable<Float4>>, _>(c.category_confidences)
        .bind::<Array<Bool>, _>(c.needs_review)
        .load(conn)
        .await?)
}

const INSERT_BATCH: &str = "\
WITH stored AS (
INSERT INTO transactions (user_id, uploaded_file_id, fingerprint_version, id, transaction_date,
    amount, currency, type, description, merchant_name, category, payment_method, reference,
    status, fingerprint, raw_data, category_source, category_confidence, needs_review)
SELECT $1, $2, $3, r.* FROM unnest($4::uuid[], $5::date[], $6::numeric[], $7::text[], $8::text[],
    $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[],
    $16::text[]::jsonb[], $17::text[], $18::real[], $19::bool[]) AS r
ON CONFLICT (user_id, fingerprint) DO NOTHING
RETURNING category_source, needs_review)
SELECT category_source AS source, needs_review, count(*) AS rows FROM stored GROUP BY 1, 2";

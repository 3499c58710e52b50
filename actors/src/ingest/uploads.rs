//! The `uploaded_files` bookkeeping of an import, inside the import's database transaction.
//! `begin` finds or opens the file's row, refusing a file already imported, and for one
//! chunk of a chunked upload claims the chunk's index; `finish` records what was stored and
//! completes a chunked upload once its last chunk is in.
//!
//! No lock outlives the statements' own rows: requests for the same file wait only for the
//! request that opens (or starts over) its upload to commit — `INSERT … ON CONFLICT DO NOTHING`
//! and `UPDATE … WHERE generation = seen` block on it, then re-read — so exactly one request
//! opens an upload, across processes, and only it passes the [`Admission`]. Chunks of an open
//! upload are then stored side by side; each counts itself in with one `UPDATE` of the upload's
//! row at the end of its transaction, so the last one to commit sees every other and completes
//! the upload.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use futures_util::future::BoxFuture;
use scale_schema::tables::{upload_chunks, uploaded_files};
use scale_schema::{as_user, PgPool};
use serde::Serialize;
use uuid::Uuid;

use super::{IngestError, TxError};
use crate::error::CoreError;

/// Most chunks one upload may have (400 chunks of 2,500 rows: a million rows).
pub const MAX_CHUNKS: u32 = 400;

/// How often `begin` reads an upload again that other requests keep changing under it
/// before it gives up with [`IngestError::UploadRestarted`].
const ATTEMPTS: usize = 8;

/// Asked once, by the request that opens an upload (its first chunk to arrive, or one that
/// starts it over under `force`), whether it may: the HTTP layer charges the import rate limit
/// here. A refusal rolls the chunk back ([`IngestError::NotAdmitted`]), and a chunk waiting on
/// it opens the upload in its place.
pub type Admission = Box<dyn FnOnce() -> BoxFuture<'static, bool> + Send>;

/// One chunk of a chunked upload: its place among the upload's chunks and its rows' hash.
pub struct Chunk {
    index: u32,
    count: u32,
    rows_hash: String,
    admission: Admission,
}

impl Chunk {
    /// Chunk `index` (0-based) of `count` (1 to [`MAX_CHUNKS`]) whose rows, as sent, hash to
    /// `rows_hash` (64 hexadecimal characters, SHA-256); `admission` is asked if it opens its
    /// upload.
    pub fn new(
        index: u32,
        count: u32,
        rows_hash: String,
        admission: Admission,
    ) -> Result<Self, CoreError> {
        if !(1..=MAX_CHUNKS).contains(&count) {
            return Err(CoreError::invalid(format!(
                "`chunk.count` must be 1 to {MAX_CHUNKS}"
            )));
        }
        if index >= count {
            return Err(CoreError::invalid(format!(
                "`chunk.index` must be below `chunk.count` ({count})"
            )));
        }
        if rows_hash.len() != 64 || !rows_hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(CoreError::invalid(
                "a chunk's rows hash must be SHA-256 hex",
            ));
        }
        Ok(Self {
            index,
            count,
            rows_hash: rows_hash.to_ascii_lowercase(),
            admission,
        })
    }
}

/// The `uploaded_files` row an import records.
pub struct UploadRecord<'a> {
    /// The client's file name.
    pub filename: Option<&'a str>,
    /// SHA-256 of the bytes (or the client's hash of its file).
    pub file_hash: &'a str,
    /// Import even if this exact file was imported before; for a chunk, also start over an
    /// open upload of the file that has another chunk count.
    pub force: bool,
    /// The chunk this request stores, when the file is sent in chunks.
    pub chunk: Option<Chunk>,
}

/// How far a chunked upload got, as a chunk's answer reports it.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct ChunkProgress {
    /// Distinct chunks stored.
    pub chunks_received: u32,
    /// Chunks the upload has.
    pub chunks_expected: u32,
    /// Whether every chunk is stored: the file counts as imported.
    pub complete: bool,
}

/// Whether an upload counts as imported.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UploadStatus {
    /// Stored whole (or every chunk of it).
    Complete,
    /// A chunked upload still waiting for chunks.
    InProgress,
}

impl From<Option<DateTime<Utc>>> for UploadStatus {
    fn from(completed_at: Option<DateTime<Utc>>) -> Self {
        match completed_at {
            Some(_) => UploadStatus::Complete,
            None => UploadStatus::InProgress,
        }
    }
}

/// One row of `GET /ingest/uploaded-files`.
#[derive(Debug, Clone, Serialize, Queryable, Selectable, utoipa::ToSchema)]
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
    /// Transactions parsed from the file (so far, for a chunked upload).
    pub row_count: Option<i32>,
    /// Transactions stored from the file (so far, for a chunked upload).
    pub inserted: Option<i32>,
    /// When it was uploaded (its first chunk, for a chunked upload).
    pub created_at: DateTime<Utc>,
    /// Whether it counts as imported.
    #[diesel(
        select_expression = uploaded_files::completed_at,
        select_expression_type = uploaded_files::completed_at,
        deserialize_as = Option<DateTime<Utc>>
    )]
    pub status: UploadStatus,
    /// Chunks of a chunked upload (`None`: sent whole).
    pub chunks_expected: Option<i32>,
    /// Chunks stored so far (0 for a file sent whole).
    pub chunks_received: i32,
    /// When it became complete.
    pub completed_at: Option<DateTime<Utc>>,
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

/// Where an import's rows go: its upload and, for a chunk, the part it stores.
pub(super) struct Slot {
    /// The `uploaded_files` row.
    pub(super) id: Uuid,
    part: Option<Part>,
}

/// A chunk's claim on its index in one round of its upload.
struct Part {
    generation: i32,
    /// Whether the index was new (not a chunk sent again).
    new: bool,
}

/// The import's upload as it stands.
#[derive(Queryable, Selectable)]
#[diesel(table_name = uploaded_files)]
struct Existing {
    id: Uuid,
    generation: i32,
    chunks_expected: Option<i32>,
    chunks_received: i32,
    completed_at: Option<DateTime<Utc>>,
}

/// An upload this request opened (or started over).
#[derive(QueryableByName)]
struct Opened {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Integer)]
    generation: i32,
}

/// Finds or opens `user`'s upload of the file (see the module docs), refusing a file already
/// imported ([`IngestError::FileAlreadyImported`]), an unchunked import of a file whose chunked
/// upload is open ([`IngestError::UploadInProgress`]) and a chunk that disagrees with its open
/// upload ([`IngestError::ChunkMismatch`]) — each unless `force`, which starts the upload over.
pub(super) async fn begin(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    upload: UploadRecord<'_>,
) -> Result<Slot, TxError> {
    diesel::sql_query("INSERT INTO users (id) VALUES ($1) ON CONFLICT (id) DO NOTHING")
        .bind::<SqlUuid, _>(user)
        .execute(conn)
        .await?;
    let UploadRecord {
        filename,
        file_hash,
        force,
        chunk,
    } = upload;
    let (wanted, admission) = chunk
        .map(|c| ((c.index, c.count, c.rows_hash), c.admission))
        .unzip();
    let count = wanted.as_ref().map(|&(_, count, _)| count_i32(count));
    for _ in 0..ATTEMPTS {
        let existing: Option<Existing> = uploaded_files::table
            .filter(uploaded_files::user_id.eq(user))
            .filter(uploaded_files::file_hash.eq(file_hash))
            .filter(uploaded_files::upload_type.eq("import"))
            .select(Existing::as_select())
            .first(conn)
            .await
            .optional()?;
        let opened = match existing {
            None => open(conn, user, filename, file_hash, count).await?,
            Some(upload) => {
                if let Some((index, _, rows_hash)) = &wanted {
                    if upload.completed_at.is_none() && upload.chunks_expected == count {
                        let id = (upload.id, upload.generation);
                        match claim(conn, user, id, *index, rows_hash).await? {
                            Claim::New => return Ok(Slot::part(id, true)),
                            Claim::Again => return Ok(Slot::part(id, false)),
                            // Forced, other rows start the upload over (below).
                            Claim::Taken if force => {}
                            Claim::Taken => {
                                return Err(TxError::Ingest(IngestError::ChunkMismatch {
                                    uploaded_file_id: upload.id,
                                    detail: format!(
                                        "chunk {index} of this upload was already stored with \
                                         other rows; send ?force=true to start the upload over"
                                    ),
                                }))
                            }
                        }
                    }
                }
                if !force {
                    return Err(TxError::Ingest(refusal(&upload, count)));
                }
                restart(conn, &upload, count).await?
            }
        };
        let Some(Opened { id, generation }) = opened else {
            // Another request opened or changed it first, and has committed: read it again.
            continue;
        };
        let (Some((index, _, rows_hash)), Some(admission)) = (wanted, admission) else {
            return Ok(Slot { id, part: None });
        };
        if !admission().await {
            return Err(TxError::Ingest(IngestError::NotAdmitted));
        }
        // A new round: the index is free.
        let id = (id, generation);
        let new = matches!(claim(conn, user, id, index, &rows_hash).await?, Claim::New);
        return Ok(Slot::part(id, new));
    }
    Err(TxError::Ingest(IngestError::UploadRestarted))
}

impl Slot {
    /// A chunk's slot in round `generation` of upload `id`.
    fn part((id, generation): (Uuid, i32), new: bool) -> Self {
        Self {
            id,
            part: Some(Part { generation, new }),
        }
    }
}

/// Opens a new upload of the file (`count` chunks, or `None`: whole, complete on commit);
/// `None` when another request's row for it appeared meanwhile.
async fn open(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    filename: Option<&str>,
    file_hash: &str,
    count: Option<i32>,
) -> Result<Option<Opened>, TxError> {
    Ok(diesel::sql_query(
        "INSERT INTO uploaded_files (user_id, file_hash, filename, upload_type, row_count,
             inserted, chunks_expected, completed_at)
         VALUES ($1, $2, $3, 'import', 0, 0, $4, CASE WHEN $4 IS NULL THEN now() END)
         ON CONFLICT (user_id, file_hash, upload_type) DO NOTHING
         RETURNING id, generation",
    )
    .bind::<SqlUuid, _>(user)
    .bind::<Text, _>(file_hash)
    .bind::<Nullable<Text>, _>(filename)
    .bind::<Nullable<Integer>, _>(count)
    .get_result(conn)
    .await
    .optional()?)
}

/// Starts `upload` over as a new round (`count` chunks, or whole); `None` when another request
/// changed it since it was read.
async fn restart(
    conn: &mut AsyncPgConnection,
    upload: &Existing,
    count: Option<i32>,
) -> Result<Option<Opened>, TxError> {
    let opened: Option<Opened> = diesel::sql_query(
        "UPDATE uploaded_files SET generation = generation + 1, chunks_expected = $3,
             chunks_received = 0, completed_at = CASE WHEN $3 IS NULL THEN now() END,
             created_at = now(), row_count = 0, inserted = 0
         WHERE id = $1 AND generation = $2
         RETURNING id, generation",
    )
    .bind::<SqlUuid, _>(upload.id)
    .bind::<Integer, _>(upload.generation)
    .bind::<Nullable<Integer>, _>(count)
    .get_result(conn)
    .await
    .optional()?;
    if opened.is_some() {
        diesel::delete(
            upload_chunks::table
                .filter(upload_chunks::uploaded_file_id.eq(upload.id))
                .filter(upload_chunks::generation.le(upload.generation)),
        )
        .execute(conn)
        .await?;
    }
    Ok(opened)
}

/// What claiming a chunk's index found.
enum Claim {
    /// The index was free: the chunk is new.
    New,
    /// The index holds the same rows: the chunk was sent again.
    Again,
    /// The index holds other rows.
    Taken,
}

/// Claims chunk `index` of round `generation` of upload `id` for rows hashing to `rows_hash`.
/// A claim of the same index still being stored by another request waits for it.
async fn claim(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    (id, generation): (Uuid, i32),
    index: u32,
    rows_hash: &str,
) -> Result<Claim, TxError> {
    let index = count_i32(index);
    let claimed = diesel::insert_into(upload_chunks::table)
        .values((
            upload_chunks::uploaded_file_id.eq(id),
            upload_chunks::generation.eq(generation),
            upload_chunks::chunk_index.eq(index),
            upload_chunks::user_id.eq(user),
            upload_chunks::rows_hash.eq(rows_hash),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    if claimed == 1 {
        return Ok(Claim::New);
    }
    let stored: String = upload_chunks::table
        .find((id, generation, index))
        .select(upload_chunks::rows_hash)
        .first(conn)
        .await?;
    Ok(if stored == rows_hash {
        Claim::Again
    } else {
        Claim::Taken
    })
}

/// Why a request may not store into `upload` without `force` (`count`: the chunk's count).
fn refusal(upload: &Existing, count: Option<i32>) -> IngestError {
    let expected = upload.chunks_expected.unwrap_or_default();
    match (upload.completed_at, count) {
        (Some(_), _) => IngestError::FileAlreadyImported {
            uploaded_file_id: upload.id,
        },
        (None, None) => IngestError::UploadInProgress {
            uploaded_file_id: upload.id,
            chunks_received: count_u32(upload.chunks_received),
            chunks_expected: count_u32(expected),
        },
        (None, Some(count)) => IngestError::ChunkMismatch {
            uploaded_file_id: upload.id,
            detail: format!(
                "the open upload of this file has {expected} chunks, this chunk says {count}; \
                 send ?force=true to start the upload over"
            ),
        },
    }
}

/// What a chunk's bookkeeping left its upload at.
#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = Integer)]
    chunks_received: i32,
    #[diesel(sql_type = Integer)]
    chunks_expected: i32,
    #[diesel(sql_type = Bool)]
    complete: bool,
}

/// Records that `slot` stored `inserted` new rows out of `rows` transactions: the totals of a
/// whole file, or a chunk added to its upload's (a chunk sent again adds only rows it stored
/// now) — completing the upload when it was the last chunk missing. A chunk whose upload was
/// started over meanwhile is [`IngestError::UploadRestarted`].
pub(super) async fn finish(
    conn: &mut AsyncPgConnection,
    slot: &Slot,
    inserted: usize,
    rows: usize,
) -> Result<Option<ChunkProgress>, TxError> {
    let Some(part) = &slot.part else {
        diesel::update(uploaded_files::table.find(slot.id))
            .set((
                uploaded_files::inserted.eq(count_i32(inserted)),
                uploaded_files::row_count.eq(count_i32(rows)),
            ))
            .execute(conn)
            .await?;
        return Ok(None);
    };
    let (rows, received) = if part.new {
        (count_i32(rows), 1)
    } else {
        (0, 0)
    };
    let counted: Option<Counted> = diesel::sql_query(
        "UPDATE uploaded_files SET inserted = coalesce(inserted, 0) + $3,
             row_count = coalesce(row_count, 0) + $4, chunks_received = chunks_received + $5,
             completed_at = CASE WHEN completed_at IS NULL
                 AND chunks_received + $5 = chunks_expected THEN now() ELSE completed_at END
         WHERE id = $1 AND generation = $2
         RETURNING chunks_received, chunks_expected, completed_at IS NOT NULL AS complete",
    )
    .bind::<SqlUuid, _>(slot.id)
    .bind::<Integer, _>(part.generation)
    .bind::<Integer, _>(count_i32(inserted))
    .bind::<Integer, _>(rows)
    .bind::<Integer, _>(received)
    .get_result(conn)
    .await
    .optional()?;
    let counted = counted.ok_or(TxError::Ingest(IngestError::UploadRestarted))?;
    Ok(Some(ChunkProgress {
        chunks_received: count_u32(counted.chunks_received),
        chunks_expected: count_u32(counted.chunks_expected),
        complete: counted.complete,
    }))
}

/// A count as Postgres `integer` (saturating).
pub(super) fn count_i32(n: impl TryInto<i32>) -> i32 {
    n.try_into().unwrap_or(i32::MAX)
}

/// A stored count (never negative) as `u32`.
fn count_u32(n: i32) -> u32 {
    u32::try_from(n).unwrap_or_default()
}

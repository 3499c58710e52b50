//! An import as a stream: the parser runs on the blocking pool and, once its first pass has
//! made the file-wide decisions, hands its transactions to the store's database transaction a
//! chunk at a time while it finishes the rest. Parsing overlaps with Postgres writing, and no
//! more than a few chunks of finished transactions exist at once, whatever the file's size.

use std::any::Any;
use std::ops::ControlFlow;
use std::panic;
use std::sync::Arc;

use scale_schema::{DbFailure, PgPool};
use scale_statements::error::StatementError;
use scale_statements::pipeline::{self, Prepared, Summary};
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::store::{self, Batch, ImportOutcome, BATCH};
use super::uploads::{Chunk, UploadRecord};
use super::IngestError;
use crate::categorization::brain::Brain;
use crate::categorization::corrections::{teachings, Teachings};
use crate::error::CoreError;

/// An uploaded file: bytes, name and optional workbook password (never logged).
pub struct Upload {
    /// The raw bytes (at most the upload limit).
    pub bytes: Vec<u8>,
    /// The client's file name (its extension is checked).
    pub filename: String,
    /// Password of an encrypted workbook.
    pub password: Option<String>,
}

/// Chunks finished ahead of the insert: one queued while the store writes another.
const CHUNKS_AHEAD: usize = 1;

/// Parses an uploaded file and stores it for `user` (see [`store::import`]).
pub async fn import_file(
    target: &Target,
    user: Uuid,
    upload: Upload,
    force: bool,
) -> Result<ImportOutcome, IngestError> {
    let filename = upload.filename.clone();
    stream(target, user, Some(&filename), force, None, move |handoff| {
        let prepared =
            pipeline::prepare(&upload.bytes, &upload.filename, upload.password.as_deref())?;
        handoff.run(prepared)
    })
    .await
}

/// Stores JSON rows a client sent for `user` (see [`pipeline::prepare_objects`]): a whole file,
/// or the `chunk` of a chunked upload they are.
pub async fn import_rows(
    target: &Target,
    user: Uuid,
    rows: Vec<Option<Map<String, Value>>>,
    filename: Option<&str>,
    file_hash: String,
    force: bool,
    chunk: Option<Chunk>,
) -> Result<ImportOutcome, IngestError> {
    stream(target, user, filename, force, chunk, move |handoff| {
        handoff.run(pipeline::prepare_objects(rows, file_hash)?)
    })
    .await
}

/// Where an import goes: the database, and the brain that categorises its rows.
#[derive(Clone)]
pub struct Target {
    /// The database.
    pub pool: PgPool,
    /// The rules and global model in use.
    pub brain: Arc<Brain>,
}

/// Where a parse on the blocking pool hands its file hash and then its transactions, and what
/// the user taught the classifier (their corrections apply to the rows first).
pub struct Handoff {
    file_hash: oneshot::Sender<String>,
    chunks: mpsc::Sender<Batch>,
    brain: Arc<Brain>,
    taught: Teachings,
}

impl Handoff {
    /// Hands over the prepared file's hash, then its transactions as they are finished; stops
    /// early when the store no longer wants them (it refused the file or failed).
    pub fn run(self, prepared: Prepared<'_>) -> Result<Summary, StatementError> {
        // Without a listener (the request went away), the first chunk's send fails and stops
        // the parse.
        let _ = self.file_hash.send(prepared.file_hash().to_owned());
        let layer = self.taught.layer();
        let classifier = self.brain.classifier();
        prepared.finish(BATCH, |chunk| {
            match self
                .chunks
                .blocking_send(Batch::of(chunk, &classifier, &layer))
            {
                Ok(()) => ControlFlow::Continue(()),
                Err(_) => ControlFlow::Break(()),
            }
        })
    }
}

/// Runs `parse` on the blocking pool and stores what it hands over in one database
/// transaction, committed only when the parse ends cleanly. A panic in the parser rolls the
/// transaction back and is then re-raised here, so supervision sees it.
async fn stream(
    target: &Target,
    user: Uuid,
    filename: Option<&str>,
    force: bool,
    chunk: Option<Chunk>,
    parse: impl FnOnce(Handoff) -> Result<Summary, StatementError> + Send + 'static,
) -> Result<ImportOutcome, IngestError> {
    let Target { pool, brain } = target;
    let taught = teachings(pool, user).await?;
    let (hash_sender, hash) = oneshot::channel();
    let (chunk_sender, chunks) = mpsc::channel(CHUNKS_AHEAD);
    let handoff = Handoff {
        file_hash: hash_sender,
        chunks: chunk_sender,
        brain: Arc::clone(brain),
        taught,
    };
    let task = tokio::task::spawn_blocking(move || parse(handoff));
    let Ok(file_hash) = hash.await else {
        // The parse ended before its first pass did: an error (or a panic) to report.
        return match task.await {
            Ok(result) => Err(result.map_or_else(IngestError::from, |_| ended_early())),
            Err(join) => panic::resume_unwind(join.into_panic()),
        };
    };
    let mut panicked: Option<Box<dyn Any + Send>> = None;
    let parsed = async {
        match task.await {
            Ok(result) => result.map_err(IngestError::from),
            Err(join) => {
                panicked = Some(join.into_panic());
                Err(ended_early())
            }
        }
    };
    let upload = UploadRecord {
        filename,
        file_hash: &file_hash,
        force,
        chunk,
    };
    let outcome = store::import(pool, user, upload, chunks, parsed).await;
    if let Some(payload) = panicked {
        panic::resume_unwind(payload);
    }
    outcome
}

/// What a parse that stopped without a result or an error is reported as (its panic is
/// re-raised instead wherever there is one).
fn ended_early() -> IngestError {
    IngestError::Core(CoreError::Database(DbFailure::query(
        "the parser stopped before the end of the file",
    )))
}

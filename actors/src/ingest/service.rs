//! The ingest actor. It owns the Postgres pool used for imports and a bound on concurrent
//! parses; parsing runs on tokio's blocking pool so no arbiter is ever busy with it. A panic in
//! a parser restarts the actor like any handler panic. Every import is counted and timed by
//! format and outcome, with its rows by result ([`names::IMPORTS`], [`names::IMPORT_ROWS`]).

use std::sync::Arc;
use std::time::Instant;

use scale_schema::PgPool;
use scale_statements::pipeline::{self, Page, Window};
use serde_json::{Map, Value};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

use super::store::ImportOutcome;
use super::streaming::{self, Target, Upload};
use super::uploads::{self, Chunk, UploadedFile};
use super::IngestError;
use crate::categorization::brain::BrainCell;
use crate::error::CoreError;
use scale_monitoring::metrics::names;
use scale_supervision::{Handles, Reply, Request, Service, ServiceContext};

/// Parse without writing (`POST /ingest/parse`), returning the transactions `window` selects.
pub struct ParseUpload {
    /// The file.
    pub upload: Upload,
    /// Which transactions to return (all are parsed and counted).
    pub window: Window,
}

impl Request for ParseUpload {
    type Output = Result<Page, IngestError>;
}

/// Parse and store for a user (`POST /ingest/import`, multipart).
pub struct ImportUpload {
    /// The importing user.
    pub user: Uuid,
    /// The file.
    pub upload: Upload,
    /// Import even if this exact file was imported before.
    pub force: bool,
}

impl Request for ImportUpload {
    type Output = Result<ImportOutcome, IngestError>;
}

/// Store JSON rows for a user (`POST /ingest/import`, JSON body): a whole file, or one chunk
/// of a chunked upload.
pub struct ImportRows {
    /// The importing user.
    pub user: Uuid,
    /// The rows (`None` for items that are not objects).
    pub rows: Vec<Option<Map<String, Value>>>,
    /// Original file name, if the client sent one.
    pub filename: Option<String>,
    /// The client's hash of the original file, else a hash of the rows.
    pub file_hash: String,
    /// Import even if this hash was imported before.
    pub force: bool,
    /// The chunk these rows are, when the file is sent in chunks.
    pub chunk: Option<Chunk>,
}

impl Request for ImportRows {
    type Output = Result<ImportOutcome, IngestError>;
}

/// The user's uploads (`GET /ingest/uploaded-files`).
pub struct ListUploads {
    /// Whose uploads.
    pub user: Uuid,
}

impl Request for ListUploads {
    type Output = Result<Vec<UploadedFile>, IngestError>;
}

/// The ingest actor's state.
pub struct IngestService {
    pool: PgPool,
    parsers: Arc<Semaphore>,
    brain: BrainCell,
}

impl IngestService {
    /// A service writing through `pool`, running at most `max_parsers` parses at once and
    /// categorising with `brain`.
    pub fn new(pool: PgPool, max_parsers: usize, brain: BrainCell) -> Self {
        Self {
            pool,
            parsers: Arc::new(Semaphore::new(max_parsers.max(1))),
            brain,
        }
    }

    /// Where an import goes now.
    fn target(&self) -> Target {
        Target {
            pool: self.pool.clone(),
            brain: self.brain.current(),
        }
    }
}

impl Service for IngestService {
    const NAME: &'static str = "ingest";
}

/// One of the `permits` for a parse (or an import, which parses).
async fn parser_permit(permits: Arc<Semaphore>) -> Result<OwnedSemaphorePermit, IngestError> {
    permits.acquire_owned().await.map_err(|_| {
        IngestError::Core(CoreError::Database(scale_schema::DbFailure::query(
            "ingest is shutting down",
        )))
    })
}

/// Parses on the blocking pool, at most `permits` at a time, keeping the transactions
/// `window` selects; a parser panic is re-raised here so supervision sees it.
async fn parse_off_arbiter(
    permits: Arc<Semaphore>,
    upload: Upload,
    window: Window,
) -> Result<Page, IngestError> {
    let _permit = parser_permit(permits).await?;
    let task = tokio::task::spawn_blocking(move || {
        pipeline::prepare(&upload.bytes, &upload.filename, upload.password.as_deref())?
            .collect_window(window)
    });
    match task.await {
        Ok(result) => Ok(result?),
        Err(err) => std::panic::resume_unwind(err.into_panic()),
    }
}

impl Handles<ParseUpload> for IngestService {
    fn handle(
        &mut self,
        msg: ParseUpload,
        _: &mut ServiceContext<Self>,
    ) -> Reply<Result<Page, IngestError>> {
        Reply::later(parse_off_arbiter(
            self.parsers.clone(),
            msg.upload,
            msg.window,
        ))
    }
}

impl Handles<ImportUpload> for IngestService {
    fn handle(
        &mut self,
        msg: ImportUpload,
        _: &mut ServiceContext<Self>,
    ) -> Reply<Result<ImportOutcome, IngestError>> {
        let (target, permits) = (self.target(), self.parsers.clone());
        Reply::later(async move {
            let import = ImportMetrics::start(file_format(&msg.upload.filename));
            let _permit = parser_permit(permits).await?;
            import.ended(streaming::import_file(&target, msg.user, msg.upload, msg.force).await)
        })
    }
}

impl Handles<ImportRows> for IngestService {
    fn handle(
        &mut self,
        msg: ImportRows,
        _: &mut ServiceContext<Self>,
    ) -> Reply<Result<ImportOutcome, IngestError>> {
        let (target, permits) = (self.target(), self.parsers.clone());
        Reply::later(async move {
            let import = ImportMetrics::start("json");
            let _permit = parser_permit(permits).await?;
            let filename = msg.filename.as_deref();
            let imported = streaming::import_rows(
                &target,
                msg.user,
                msg.rows,
                filename,
                msg.file_hash,
                msg.force,
                msg.chunk,
            )
            .await;
            import.ended(imported)
        })
    }
}

/// The format label of an uploaded file, from its extension.
fn file_format(filename: &str) -> &'static str {
    let extension = filename
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase());
    match extension.as_deref() {
        Some("csv") => "csv",
        Some("xlsx") => "xlsx",
        Some("xls") => "xls",
        Some("json") => "json",
        _ => "other",
    }
}

/// One import being counted: [`ImportMetrics::ended`] records its outcome; dropped before that
/// (its parser panicked, or its permit was refused) it counts as `failed`.
struct ImportMetrics {
    format: &'static str,
    started: Instant,
    recorded: bool,
}

impl ImportMetrics {
    fn start(format: &'static str) -> Self {
        Self {
            format,
            started: Instant::now(),
            recorded: false,
        }
    }

    /// Records how the import ended and passes its result on.
    fn ended(
        mut self,
        result: Result<ImportOutcome, IngestError>,
    ) -> Result<ImportOutcome, IngestError> {
        let outcome = match &result {
            Ok(imported) => {
                for (rows, result) in [
                    (imported.inserted, "inserted"),
                    (imported.skipped_duplicates, "duplicate"),
                    (imported.skipped_zero_amount, "zero_amount"),
                    (imported.skipped_invalid_date, "invalid_date"),
                    (imported.skipped_invalid_row, "invalid_row"),
                ] {
                    metrics::counter!(names::IMPORT_ROWS, "result" => result)
                        .increment(rows as u64);
                }
                // A chunked upload is one import: counted once its last chunk is stored.
                if imported.progress.is_some_and(|progress| !progress.complete) {
                    self.recorded = true;
                    return result;
                }
                "imported"
            }
            Err(IngestError::FileAlreadyImported { .. }) => "duplicate_file",
            Err(IngestError::Core(_)) => "failed",
            Err(_) => "rejected",
        };
        self.record(outcome);
        result
    }

    fn record(&mut self, outcome: &'static str) {
        self.recorded = true;
        let format = self.format;
        metrics::counter!(names::IMPORTS, "format" => format, "outcome" => outcome).increment(1);
        metrics::histogram!(names::IMPORT_DURATION, "format" => format, "outcome" => outcome)
            .record(self.started.elapsed().as_secs_f64());
    }
}

impl Drop for ImportMetrics {
    fn drop(&mut self) {
        if !self.recorded {
            self.record("failed");
        }
    }
}

impl Handles<ListUploads> for IngestService {
    fn handle(
        &mut self,
        msg: ListUploads,
        _: &mut ServiceContext<Self>,
    ) -> Reply<Result<Vec<UploadedFile>, IngestError>> {
        let pool = self.pool.clone();
        Reply::later(async move { uploads::uploaded_files(&pool, msg.user).await })
    }
}

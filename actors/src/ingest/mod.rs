//! Statement ingestion: one server-side pipeline (parse → normalise → extract → fingerprint →
//! de-duplicate → insert) owned by the ingest actor ([`service`]), which writes through
//! [`store`]. The pure steps are the `scale_statements` crate; parsing runs on the blocking
//! pool, never on an arbiter, and an import [`streaming`] hands finished rows to the store
//! while the rest of the file is still being finished. The `uploaded_files` bookkeeping — one
//! row per file, opened and completed chunk by chunk for a chunked upload — is [`uploads`].

use scale_statements::error::StatementError;

use crate::error::{core_error, CoreError};

pub mod service;
pub mod store;
pub mod streaming;
pub mod uploads;

/// Why a file or request could not be ingested. Each maps to a stable problem code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    /// A failure every domain shares (here: the database).
    #[error(transparent)]
    Core(CoreError),
    /// The file or rows could not be parsed.
    #[error(transparent)]
    Statement(#[from] StatementError),
    /// This exact file was imported before.
    #[error("this file was already imported")]
    FileAlreadyImported {
        /// The earlier upload.
        uploaded_file_id: uuid::Uuid,
    },
    /// An unchunked import of a file whose chunked upload is still open.
    #[error("a chunked upload of this file is in progress ({chunks_received} of {chunks_expected} chunks stored)")]
    UploadInProgress {
        /// The open upload.
        uploaded_file_id: uuid::Uuid,
        /// Chunks stored so far.
        chunks_received: u32,
        /// Chunks the upload has.
        chunks_expected: u32,
    },
    /// A chunk disagrees with the open upload of its file (its count, or other rows under an
    /// index already stored); the text says how.
    #[error("{detail}")]
    ChunkMismatch {
        /// The open upload.
        uploaded_file_id: uuid::Uuid,
        /// How the chunk disagrees.
        detail: String,
    },
    /// The upload was started over (or kept changing) while this request was being stored.
    #[error("the upload was started over by another request meanwhile; send this one again")]
    UploadRestarted,
    /// The chunk would open its upload, and the caller's admission (the import rate limit)
    /// refused it.
    #[error("over the import rate limit")]
    NotAdmitted,
}

core_error!(IngestError);

/// Errors inside the import transaction (rolled back).
enum TxError {
    /// A statement failed.
    Db(diesel::result::Error),
    /// The import was refused or its parse failed.
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

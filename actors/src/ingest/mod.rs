//! Statement ingestion: one server-side pipeline (parse → normalise → extract → fingerprint →
//! de-duplicate → insert) owned by the ingest actor ([`service`]), which writes through
//! [`store`]. The pure steps are the `scale_statements` crate; parsing runs on the blocking
//! pool, never on an arbiter, and an import [`streaming`] hands finished rows to the store
//! while the rest of the file is still being finished.

use scale_statements::error::StatementError;

use crate::error::{core_error, CoreError};

pub mod service;
pub mod store;
pub mod streaming;

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
}

core_error!(IngestError);

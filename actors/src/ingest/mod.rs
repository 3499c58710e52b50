//! Statement ingestion: one server-side pipeline (parse → normalise → extract → fingerprint →
//! de-duplicate → insert) owned by the ingest actor ([`service`]), which writes through
//! [`store`]. The pure steps are the `scale_statements` crate; parsing runs on the blocking
//! pool, never on an arbiter.

use scale_statements::error::StatementError;

pub mod service;
pub mod store;

/// Why a file or request could not be ingested. Each maps to a stable problem code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    /// The file or rows could not be parsed.
    #[error(transparent)]
    Statement(#[from] StatementError),
    /// This exact file was imported before.
    #[error("this file was already imported")]
    FileAlreadyImported {
        /// The earlier upload.
        uploaded_file_id: uuid::Uuid,
    },
    /// Postgres failed.
    #[error("database error: {0}")]
    Database(scale_schema::DbFailure),
}

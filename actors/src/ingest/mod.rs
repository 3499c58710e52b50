//! Statement ingestion: one server-side pipeline (parse → normalise → extract → fingerprint →
//! de-duplicate → insert) owned by the ingest actor ([`service`]). The pure steps live in their
//! own modules with unit tests; parsing runs on the blocking pool, never on an arbiter.

pub mod amount;
pub mod cell;
pub mod date;
pub mod fingerprint;
pub mod header;
pub mod merchant;
pub mod pipeline;
pub mod rows;
pub mod service;
pub mod source;
pub mod store;
pub mod workbook;

/// Why a file or request could not be ingested. Each maps to a stable problem code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    /// The extension is not accepted.
    #[error("unsupported file type: {0}")]
    UnsupportedFileType(String),
    /// Over a size or row limit.
    #[error("file too large: {0}")]
    TooLarge(String),
    /// An encrypted workbook and no password.
    #[error("this workbook is password-protected: send its password")]
    PasswordRequired,
    /// The password does not open the workbook.
    #[error("the password does not open this workbook")]
    InvalidPassword,
    /// An encryption scheme we cannot open.
    #[error("unsupported encryption: {0}")]
    UnsupportedEncryption(String),
    /// Corrupt, truncated or not what its name says.
    #[error("unreadable file: {0}")]
    Unreadable(String),
    /// No row names a date, a description and an amount.
    #[error("no header row with a date, a description and an amount column in the first 30 rows")]
    NoHeaderRow,
    /// The request body is invalid.
    #[error("{0}")]
    Validation(String),
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

impl From<crate::text::TextError> for IngestError {
    fn from(err: crate::text::TextError) -> Self {
        IngestError::Validation(err.to_string())
    }
}

//! Why a statement could not be parsed ([`StatementError`]).

use crate::text::TextError;

/// Why a file or JSON rows could not be parsed. Each maps to a stable problem code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
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
    /// A JSON row a client sent holds a field it may not, or an amount column's decimal
    /// separator cannot be told from its values.
    #[error("{0}")]
    Validation(String),
}

impl From<TextError> for StatementError {
    fn from(err: TextError) -> Self {
        StatementError::Validation(err.to_string())
    }
}

//! The failures every domain shares ([`CoreError`]): a row the caller cannot see, an invalid
//! parameter, a cursor we did not issue, a failed database operation (its cause kept for logs
//! and Sentry, never shown to clients). A domain's own error enum wraps it in a `Core` variant
//! next to what only that domain can fail with, and `core_error!` gives it
//! the conversions `?` needs. The HTTP layer maps each to a problem in one place.

use scale_schema::DbFailure;

use crate::pagination::CursorError;
use scale_statements::text::TextError;

/// A failure any domain can have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoreError {
    /// No such row for this user (including another user's row): what was looked for.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A parameter or body field is out of range or malformed.
    #[error("{0}")]
    Validation(String),
    /// The pagination cursor was not issued by us or was altered.
    #[error("invalid cursor: {0}")]
    InvalidCursor(String),
    /// Postgres failed.
    #[error("database error: {0}")]
    Database(#[from] DbFailure),
}

impl CoreError {
    /// A validation error with `detail`.
    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::Validation(detail.into())
    }
}

impl From<diesel::result::Error> for CoreError {
    fn from(err: diesel::result::Error) -> Self {
        Self::Database(err.into())
    }
}

impl From<CursorError> for CoreError {
    fn from(err: CursorError) -> Self {
        Self::InvalidCursor(err.to_string())
    }
}

impl From<TextError> for CoreError {
    fn from(err: TextError) -> Self {
        Self::Validation(err.to_string())
    }
}

/// Gives a domain error enum with a `Core(CoreError)` variant the conversions `?` needs from
/// everything a [`CoreError`] is made from.
macro_rules! core_error {
    ($domain:ty) => {
        impl From<crate::error::CoreError> for $domain {
            fn from(err: crate::error::CoreError) -> Self {
                Self::Core(err)
            }
        }
        crate::error::core_error!(@via $domain: diesel::result::Error, scale_schema::DbFailure,
            crate::pagination::CursorError, scale_statements::text::TextError);
    };
    (@via $domain:ty: $($source:ty),*) => {
        $(impl From<$source> for $domain {
            fn from(err: $source) -> Self {
                Self::Core(err.into())
            }
        })*
    };
}

pub(crate) use core_error;

//! The caller's own data: transactions (keyset-paginated listing with filters, read, edit,
//! delete), deleting everything the user stored, and the profile/settings row. The accounts
//! actor ([`service`]) owns the Postgres pool; [`filters`] and [`edits`] are pure
//! validation with unit tests; [`store`] holds the SQL. Every query is scoped to the caller, so
//! another user's row is simply not found.

pub mod edits;
pub mod filters;
pub mod service;
pub mod store;

/// Why an accounts request failed. Each maps to a stable problem code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountsError {
    /// No such row for this user (including another user's row).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The pagination cursor was not issued by us or was altered.
    #[error("invalid cursor: {0}")]
    InvalidCursor(String),
    /// A parameter or body field is out of range or malformed.
    #[error("{0}")]
    Validation(String),
    /// The e-mail address belongs to another user.
    #[error("this e-mail address is already in use")]
    EmailTaken,
    /// Postgres failed.
    #[error("database error: {0}")]
    Database(scale_schema::DbFailure),
}

impl From<diesel::result::Error> for AccountsError {
    fn from(err: diesel::result::Error) -> Self {
        AccountsError::Database(err.into())
    }
}

impl From<scale_statements::text::TextError> for AccountsError {
    fn from(err: scale_statements::text::TextError) -> Self {
        AccountsError::Validation(err.to_string())
    }
}

impl From<crate::pagination::CursorError> for AccountsError {
    fn from(err: crate::pagination::CursorError) -> Self {
        AccountsError::InvalidCursor(err.to_string())
    }
}

/// A validation error with `detail`.
pub(crate) fn invalid(detail: impl Into<String>) -> AccountsError {
    AccountsError::Validation(detail.into())
}

//! The caller's own data: transactions (keyset-paginated listing with filters, read, edit,
//! delete), deleting everything the user stored, and the profile/settings row. The accounts
//! actor ([`service`]) owns the Postgres pool; [`filters`] and [`edits`] are pure
//! validation with unit tests; [`store`] holds the SQL. Every query is scoped to the caller, so
//! another user's row is simply not found.

pub mod edits;
pub mod filters;
pub mod service;
pub mod store;

use crate::error::{core_error, CoreError};

/// Why an accounts request failed. Each maps to a stable problem code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountsError {
    /// A failure every domain shares (not found, validation, cursor, database).
    #[error(transparent)]
    Core(CoreError),
    /// The e-mail address belongs to another user.
    #[error("this e-mail address is already in use")]
    EmailTaken,
}

core_error!(AccountsError);

/// A validation error with `detail`.
pub(crate) fn invalid(detail: impl Into<String>) -> AccountsError {
    CoreError::invalid(detail).into()
}

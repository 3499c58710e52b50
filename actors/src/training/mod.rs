//! Training: the job runtime that fits each user's models in the background. The training actor
//! ([`service`]) answers the API's job requests with the SQL in [`store`] ([`listing`] validates
//! the list's query string); what a job is lives in [`crate::jobs`] and its progress goes out
//! on [`crate::events`]. The
//! [`scheduler`] actor claims jobs from the worker-side [`queue`] and runs each attempt (the
//! private `runner`) under the [`config`] settings: [`loader`] reads its input and the job
//! kind's [`fitting::Fitter`] fits it. The fitters live with their domains
//! (`crate::categorization`, `crate::forecasting`) and are registered in `crate::fitters`; this
//! module never names them.

pub mod activity;
pub mod config;
pub mod fitting;
pub mod listing;
pub mod loader;
pub mod queue;
mod runner;
pub mod scheduler;
pub mod service;
pub mod store;
#[cfg(test)]
pub(crate) mod testing;

use uuid::Uuid;

/// Why a training request failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainingError {
    /// No such job for this user (including another user's job).
    #[error("job not found")]
    NotFound,
    /// The user already has an active (pending or processing) job of this kind: its id.
    #[error("an active job of this kind already exists: {0}")]
    Conflict(Uuid),
    /// The job reached a final status and can no longer change.
    #[error("the job has already finished")]
    Finished,
    /// The pagination cursor was not issued by us or was altered.
    #[error("invalid cursor: {0}")]
    InvalidCursor(String),
    /// A parameter or body field is out of range or malformed.
    #[error("{0}")]
    Validation(String),
    /// Postgres failed.
    #[error("database error: {0}")]
    Database(scale_schema::DbFailure),
}

impl From<crate::pagination::CursorError> for TrainingError {
    fn from(err: crate::pagination::CursorError) -> Self {
        Self::InvalidCursor(err.to_string())
    }
}

impl From<diesel::result::Error> for TrainingError {
    fn from(err: diesel::result::Error) -> Self {
        Self::Database(err.into())
    }
}

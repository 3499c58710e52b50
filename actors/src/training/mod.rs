//! Training: background jobs that fit each user's models. The training actor ([`service`])
//! answers the API's job requests with the SQL in [`store`] ([`listing`] validates the list's
//! query string); what a job is lives in [`crate::jobs`] and its progress goes out on
//! [`crate::events`]. The [`scheduler`] actor claims jobs from the worker-side [`queue`], loads
//! their data with [`loader`] and runs each attempt (the private `runner`) through [`trainer`],
//! the seam to the pure model fitting in [`categorizer`] (on [`features`]) and [`forecaster`]
//! (on [`daily_series`], [`recurring`], [`ets`] and [`backtest`]); [`artefact`] (de)serialises
//! the fitted models.

pub mod artefact;
pub mod backtest;
pub mod categorizer;
pub mod daily_series;
pub mod ets;
pub mod features;
pub mod forecaster;
pub mod listing;
pub mod loader;
pub mod queue;
pub mod recurring;
mod runner;
pub mod scheduler;
pub mod service;
pub mod stats;
pub mod store;
#[cfg(test)]
mod testing;
pub mod trainer;

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

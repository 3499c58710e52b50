//! Training: the job runtime that fits each user's models in the background. The training actor
//! ([`service`]) answers the API's job and model requests with the SQL in [`store`]
//! ([`listing`] validates the list's query string); what a job is lives in [`crate::jobs`] and
//! its progress goes out on [`crate::events`]. The
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

use crate::error::{core_error, CoreError};

/// Why a training request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrainingError {
    /// A failure every domain shares (not found, validation, cursor, database).
    #[error(transparent)]
    Core(CoreError),
    /// The user already has an active (pending or processing) job of this kind: its id.
    #[error("an active job of this kind already exists: {0}")]
    Conflict(Uuid),
    /// The job reached a final status and can no longer change.
    #[error("the job has already finished")]
    Finished,
}

core_error!(TrainingError);

/// The job is not the caller's, or does not exist.
pub(crate) fn job_not_found() -> TrainingError {
    CoreError::NotFound("job").into()
}

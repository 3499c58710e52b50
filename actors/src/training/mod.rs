//! Training: the job runtime that fits each user's models in the background. The training actor
//! ([`service`]) answers the API's job requests with the SQL in [`store`] ([`listing`] validates
//! the list's query string); [`events`] carries job progress to every process. The
//! [`scheduler`] actor claims jobs from the worker-side [`queue`] and runs each attempt (the
//! private `runner`) under the [`config`] settings: [`loader`] reads its input and the job
//! kind's [`fitting::Fitter`] fits it. The fitters live with their domains
//! (`crate::categorization`, `crate::forecasting`) and are registered in `crate::fitters`; this
//! module never names them.

pub mod activity;
pub mod config;
pub mod events;
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

use serde::{Deserialize, Serialize};
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

/// What a training job fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// The per-user categorisation model (categorization spec §4.7).
    Categorizer,
    /// The per-user spending forecast (categorization spec §6.5).
    Forecaster,
}

impl JobKind {
    /// The kind as stored in `training_jobs.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Categorizer => "categorizer",
            Self::Forecaster => "forecaster",
        }
    }

    /// Parses a stored or requested kind.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "categorizer" => Some(Self::Categorizer),
            "forecaster" => Some(Self::Forecaster),
            _ => None,
        }
    }
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting to be claimed (new, or back after a failed attempt).
    Pending,
    /// Claimed by a worker holding a lease.
    Processing,
    /// Finished; its model is stored.
    Completed,
    /// Gave up (permanent error or attempts exhausted).
    Failed,
    /// Cancelled by its owner.
    Cancelled,
}

impl JobStatus {
    /// The status as stored in `training_jobs.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Processing => "processing",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses a stored status.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(Self::Pending),
            "processing" => Some(Self::Processing),
            "completed" => Some(Self::Completed),
            "failed" => Some(Self::Failed),
            "cancelled" => Some(Self::Cancelled),
            _ => None,
        }
    }

    /// Whether the job can no longer change.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }
}

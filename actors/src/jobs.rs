//! What a background job is: its kind (the model it fits) and its status (where it is in its
//! life), as stored in `training_jobs` and sent to clients.

use serde::{Deserialize, Serialize};

/// What a training job fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// The per-user categorisation model (categorization spec §4.7).
    Categorizer,
    /// The per-user spending forecast (categorization spec §6.5).
    Forecaster,
}

impl JobKind {
    /// Every kind.
    pub const ALL: [JobKind; 2] = [Self::Categorizer, Self::Forecaster];

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
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

//! The seam between the job runner and model fitting: inputs loaded from the database, a
//! control handle for progress and cancellation, and the output stored with the completed job.
//! Fitting is pure, synchronous and CPU-bound; the runner calls it on a blocking thread.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::{categorizer, forecaster};
use crate::jobs::JobKind;

/// Why fitting stopped without a model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainError {
    /// The job was cancelled or timed out; the runner knows which.
    #[error("stopped")]
    Stopped,
    /// The data cannot give a model (too little, no labels); retrying will not help.
    #[error("{0}")]
    Unusable(String),
    /// Anything else; the job may be retried.
    #[error("{0}")]
    Failed(String),
}

/// Progress reporting and cancellation, as seen from inside fitting.
pub trait JobControl {
    /// Reports that `step` of `total` steps is done; returns [`TrainError::Stopped`] when the
    /// job must stop now (fitting returns that error at once).
    fn step(&mut self, step: u32, total: u32, message: &str) -> Result<(), TrainError>;

    /// Returns [`TrainError::Stopped`] when the job must stop now; cheap, publishes nothing.
    /// Long loops call it often (at least every ~50 ms of work).
    fn check(&self) -> Result<(), TrainError>;
}

/// Where a labelled example comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelSource {
    /// The user corrected the category (strongest signal).
    Correction,
    /// A stored transaction's category (imported or edited).
    Labelled,
}

/// One labelled text for the categorizer.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledExample {
    /// The statement's description.
    pub description: String,
    /// The extracted merchant ('' when none).
    pub merchant: String,
    /// Signed amount when known (corrections from free-text feedback have none).
    pub amount: Option<Decimal>,
    /// The category, verbatim.
    pub category: String,
    /// Where the label comes from.
    pub source: LabelSource,
}

/// One stored transaction for the forecaster.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerEntry {
    /// The statement-local date.
    pub date: NaiveDate,
    /// Signed amount (negative = spend).
    pub amount: Decimal,
    /// The extracted merchant ('' when none).
    pub merchant: String,
    /// The transaction's status (`completed`, `pending`, `refunded`, `cancelled`, `failed`).
    pub status: String,
}

/// What a job fits from.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainingInput {
    /// The user's corrections and labelled rows.
    Categorizer(Vec<LabelledExample>),
    /// The user's transactions and today's date in the user's timezone.
    Forecaster {
        /// Every transaction of the user.
        entries: Vec<LedgerEntry>,
        /// Today in the user's timezone.
        today: NaiveDate,
        /// Seed of the interval simulation (derived from the user's id), so a refit of the
        /// same data gives the same model.
        seed: u64,
    },
}

impl TrainingInput {
    /// The kind of job this input is for.
    pub fn kind(&self) -> JobKind {
        match self {
            Self::Categorizer(_) => JobKind::Categorizer,
            Self::Forecaster { .. } => JobKind::Forecaster,
        }
    }
}

/// A fitted model.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingOutput {
    /// Quality figures shown to the user (`training_jobs.metrics`).
    pub metrics: serde_json::Value,
    /// The serialised model, stored in Postgres and never shown to clients.
    pub artefact: Vec<u8>,
    /// The artefact's format and version, e.g. `categorizer-prototypes-v1+json`.
    pub format: &'static str,
}

/// Fits the model `input` is for.
pub fn train(
    input: &TrainingInput,
    control: &mut dyn JobControl,
) -> Result<TrainingOutput, TrainError> {
    match input {
        TrainingInput::Categorizer(examples) => categorizer::train(examples, control),
        TrainingInput::Forecaster {
            entries,
            today,
            seed,
        } => forecaster::train(entries, *today, *seed, control),
    }
}

//! Placeholder: the per-user spending forecaster (categorization spec §6.5) lands here.

use chrono::NaiveDate;

use super::trainer::{JobControl, LedgerEntry, TrainError, TrainingOutput};

/// Fits the user's spending forecast from `entries` as of `today`.
pub fn train(
    entries: &[LedgerEntry],
    today: NaiveDate,
    seed: u64,
    control: &mut dyn JobControl,
) -> Result<TrainingOutput, TrainError> {
    if entries.len() < 7 {
        return Err(TrainError::Unusable("fewer than 7 transactions".into()));
    }
    control.step(1, 1, "fitted")?;
    Ok(TrainingOutput {
        metrics: serde_json::json!({ "transactions": entries.len(), "as_of": today, "seed": seed }),
        artefact: Vec::new(),
        format: "forecaster-placeholder",
    })
}

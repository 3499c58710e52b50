//! Placeholder: the per-user categorizer (categorization spec §4.7) lands here.

use super::trainer::{JobControl, LabelledExample, TrainError, TrainingOutput};

/// Fits the per-user categorizer from `examples`.
pub fn train(
    examples: &[LabelledExample],
    control: &mut dyn JobControl,
) -> Result<TrainingOutput, TrainError> {
    if examples.is_empty() {
        return Err(TrainError::Unusable(
            "no labelled transactions or corrections".into(),
        ));
    }
    control.step(1, 1, "fitted")?;
    Ok(TrainingOutput {
        metrics: serde_json::json!({ "examples": examples.len() }),
        artefact: Vec::new(),
        format: "categorizer-placeholder",
    })
}

//! The categorizer's training job: fits [`model`](super::model) from the user's labelled
//! examples.

use super::model::train;
use crate::jobs::JobKind;
use crate::training::fitting::{Fitter, JobControl, LabelledExample, TrainError, TrainingOutput};

/// Fits the per-user categorizer for [`JobKind::Categorizer`] jobs.
#[derive(Debug, Clone, Copy, Default)]
pub struct CategorizerFitter;

impl Fitter for CategorizerFitter {
    const KIND: JobKind = JobKind::Categorizer;
    type Input = Vec<LabelledExample>;

    fn fit(
        &self,
        input: Vec<LabelledExample>,
        control: &mut dyn JobControl,
    ) -> Result<TrainingOutput, TrainError> {
        train(&input, control)
    }
}

//! The categorizer's training job: fits [`model`](super::model) from the user's labelled
//! examples, then [`recategorize`](super::recategorize)s the user's transactions with it.

use futures_util::future::LocalBoxFuture;
use scale_schema::PgPool;

use super::brain::BrainCell;
use super::model::train;
use super::recategorize::after_training;
use crate::jobs::JobKind;
use crate::training::fitting::{Fitter, JobControl, LabelledExample, TrainError, TrainingOutput};
use crate::training::store::JobView;

/// Fits the per-user categorizer for [`JobKind::Categorizer`] jobs, then re-categorises with
/// its brain.
#[derive(Clone)]
pub struct CategorizerFitter {
    brain: BrainCell,
}

impl CategorizerFitter {
    /// A fitter re-categorising with `brain`.
    pub fn new(brain: BrainCell) -> Self {
        Self { brain }
    }
}

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

    fn completed(&self, pool: PgPool, job: JobView) -> LocalBoxFuture<'static, Option<JobView>> {
        Box::pin(after_training(pool, self.brain.current(), job))
    }
}

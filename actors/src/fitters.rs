//! The one registration point of training job kinds: each kind's fitter (from its domain) with
//! its per-kind attempt timeout. Adding a job kind is one line here plus its fitter.

use crate::categorization::brain::BrainCell;
use crate::categorization::fitter::CategorizerFitter;
use crate::forecasting::fitter::ForecasterFitter;
use crate::training::config::SchedulerConfig;
use crate::training::fitting::Fitters;

/// Every job kind's fitter, with the attempt timeouts of `config`; the categorizer applies its
/// models with `brain`.
pub fn registered(config: &SchedulerConfig, brain: &BrainCell) -> Fitters {
    Fitters::default()
        .register(
            CategorizerFitter::new(brain.clone()),
            config.categorizer_timeout,
        )
        .register(ForecasterFitter, config.forecaster_timeout)
}

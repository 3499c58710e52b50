//! The one registration point of training job kinds: each kind's fitter (from its domain) with
//! its per-kind attempt timeout. Adding a job kind is one line here plus its fitter.

use crate::categorization::fitter::CategorizerFitter;
use crate::forecasting::fitter::ForecasterFitter;
use crate::training::config::SchedulerConfig;
use crate::training::fitting::Fitters;

/// Every job kind's fitter, with the attempt timeouts of `config`.
pub fn registered(config: &SchedulerConfig) -> Fitters {
    Fitters::default()
        .register(CategorizerFitter, config.categorizer_timeout)
        .register(ForecasterFitter, config.forecaster_timeout)
}

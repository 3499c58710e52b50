//! The forecaster's training job: reads the usable flows, fits the [`model`](super::model),
//! previews a week (spend and safe-to-spend), [`backtest`]s it (accuracy against the baselines
//! and safe-to-spend stability) and stores the model with its metrics.

use chrono::NaiveDate;

use super::backtest;
use super::daily_series::flows;
use super::model::{fit, forecast, ForecastModel};
use super::safe_to_spend::{self, Horizon};
use super::stats::money;
use crate::artefact::JsonArtefact;
use crate::jobs::JobKind;
use crate::training::fitting::{
    Fitter, JobControl, Ledger, LedgerEntry, TrainError, TrainingOutput,
};

/// Horizon of the metrics preview (the safe-to-spend default).
const PREVIEW_DAYS: u32 = 7;

/// Fits the per-user spending forecast for [`JobKind::Forecaster`] jobs.
#[derive(Debug, Clone, Copy, Default)]
pub struct ForecasterFitter;

impl Fitter for ForecasterFitter {
    const KIND: JobKind = JobKind::Forecaster;
    type Input = Ledger;

    fn fit(
        &self,
        input: Ledger,
        control: &mut dyn JobControl,
    ) -> Result<TrainingOutput, TrainError> {
        train(&input.entries, input.today, input.seed, control)
    }
}

/// Fits the user's spending forecast from `entries` as of `today`.
pub fn train(
    entries: &[LedgerEntry],
    today: NaiveDate,
    seed: u64,
    control: &mut dyn JobControl,
) -> Result<TrainingOutput, TrainError> {
    const STEPS: u32 = 5;
    let flows = flows(entries, today);
    if flows.is_empty() {
        return Err(TrainError::Unusable(
            "no settled transactions (cancelled, failed and pending rows are ignored)".into(),
        ));
    }
    control.step(1, STEPS, "transactions read")?;
    let fitted = fit(&flows, today, seed, control)?;
    control.step(2, STEPS, "model fitted")?;
    let preview = forecast(&fitted.model, PREVIEW_DAYS);
    control.step(3, STEPS, "intervals simulated")?;
    let backtest = backtest::run(&flows, &fitted.series, seed, control)?;
    control.step(4, STEPS, "backtest done")?;

    let model = &fitted.model;
    let metrics = serde_json::json!({
        "model": model.model,
        "days": model.days,
        "transactions": flows.len(),
        "rows": entries.len(),
        "first_date": fitted.series.start,
        "last_date": model.last_date,
        "alpha": model.state.alpha,
        "gamma": model.state.gamma,
        "one_step_mae": fitted.one_step_mae.map(money),
        "winsor_cap": model.cap.map(money),
        "recurring": model.recurring.len(),
        "recurring_monthly": money(model.recurring.iter().map(|r| r.amount).sum()),
        "paydays": fitted.series.paydays().keys().collect::<Vec<_>>(),
        "income_rate": money(model.income_rate),
        "spend_7d": preview.total,
        "confidence_7d": preview.confidence,
        "safe_to_spend_7d": safe_to_spend::v2(Some(model), model.last_date, Horizon::default()).safe_amount,
        "backtest": backtest,
    });
    let output = TrainingOutput {
        metrics,
        artefact: model.to_artefact(),
        format: ForecastModel::FORMAT,
    };
    control.step(5, STEPS, "model serialised")?;
    Ok(output)
}

#[cfg(test)]
mod tests;

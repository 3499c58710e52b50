//! The per-user spending forecaster (categorization spec §6.5).
//!
//! Fitting: usable flows → hole-free daily series → recurring debits taken out → discretionary
//! spend winsorised at its 99th percentile → `y = ln(1+d)` → ETS(A,N,A) m=7 (≥ 14 days), the
//! plain log-mean (7–13 days) or, below 7 days, an `insufficient_data` model that forecasts
//! zero discretionary spend (the routes report it with confidence 0). No usable transaction at
//! all is [`TrainError::Unusable`].
//!
//! Forecasting ([`forecast`]) is a pure function of the stored model: 1,000 paths through the
//! model driven by a circular 7-day block bootstrap of the in-sample residuals (ChaCha8 seeded
//! by the user's seed, stream = the last day's number, so the same model always gives the same
//! numbers), back-transformed, clipped to 0..=the winsorising cap, plus the recurring debits due; per-day quantiles
//! across paths and horizon totals from per-path sums.

use std::collections::BTreeSet;

use chrono::{Datelike, Days, NaiveDate};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::daily_series::{DailySeries, Flow};
use super::ets::{EtsFit, EtsState, MIN_SEASONAL_DAYS, SEASON};
use super::recurring::{self, RecurringDebit};
use super::stats::{mean, money, quantile, quantile_sorted};
use crate::artefact::JsonArtefact;
use crate::training::fitting::{JobControl, TrainError};

/// Simulated paths per forecast.
pub const PATHS: usize = 1000;
/// Longest forecast horizon in days.
pub const MAX_HORIZON: u32 = 90;
/// Days below which there is no model, only zeros.
pub const MIN_DAYS: usize = 7;
/// Residuals kept for the bootstrap (the latest year).
const MAX_RESIDUALS: usize = 52 * SEASON;
/// Days of history for full confidence.
const COVERAGE_DAYS: f64 = 90.0;

/// Which model a forecast comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// ETS(A,N,A) with a weekly season on log spend.
    EtsWeeklyV1,
    /// The mean of log spend (7–13 days of data).
    LogMean,
    /// Fewer than 7 days: zero discretionary spend, confidence 0.
    InsufficientData,
}

/// A fitted forecaster: everything [`forecast`] needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastModel {
    /// Always [`ForecastModel::FORMAT`].
    pub format: String,
    /// The model behind the discretionary spend.
    pub model: ModelKind,
    /// The last day of the fitted series; forecasts start the day after.
    pub last_date: NaiveDate,
    /// Days of history.
    pub days: usize,
    /// The smoothing state on the `ln(1+spend)` scale.
    pub state: EtsState,
    /// In-sample one-step residuals (latest year), bootstrapped in 7-day blocks.
    pub residuals: Vec<f64>,
    /// Recurring debits, projected on their due days.
    pub recurring: Vec<RecurringDebit>,
    /// Income per day (§6.5 `r`).
    pub income_rate: f64,
    /// The winsorising cap of discretionary spend, also the most a simulated day spends beyond
    /// its recurring debits (`None` in models stored before it: no bound).
    #[serde(default)]
    pub cap: Option<f64>,
    /// Seed of the path simulation.
    pub seed: u64,
}

impl JsonArtefact for ForecastModel {
    const FORMAT: &'static str = "forecaster-ets-v1+json";

    fn format(&self) -> &str {
        &self.format
    }

    fn validate(&self) -> Result<(), String> {
        let numbers = [
            self.state.level,
            self.state.alpha,
            self.state.gamma,
            self.income_rate,
        ];
        let finite = numbers
            .iter()
            .chain(&self.state.season)
            .chain(&self.residuals)
            .chain(self.recurring.iter().map(|r| &r.amount))
            .chain(&self.cap)
            .all(|v| v.is_finite());
        if !finite || self.residuals.len() > MAX_RESIDUALS {
            return Err("non-finite numbers or too many residuals".into());
        }
        Ok(())
    }
}

/// Low, middle and high quantiles of spend.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Quantiles {
    /// 10th percentile.
    pub p10: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
}

impl Quantiles {
    /// The quantiles of `values` (sorted here), rounded to 2 dp.
    fn of(values: &mut [f64]) -> Self {
        values.sort_by(f64::total_cmp);
        Self {
            p10: money(quantile_sorted(values, 0.1)),
            p50: money(quantile_sorted(values, 0.5)),
            p90: money(quantile_sorted(values, 0.9)),
        }
    }
}

/// One forecast day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ForecastDay {
    /// The day.
    pub date: NaiveDate,
    /// Spend quantiles of the day (recurring debits included).
    #[serde(flatten)]
    pub spend: Quantiles,
}

/// A spend forecast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    /// The model behind it.
    pub model: ModelKind,
    /// Income per day, rounded to 2 dp.
    pub income_rate: f64,
    /// Each day from the day after the model's last date.
    pub days: Vec<ForecastDay>,
    /// Quantiles of the horizon's total spend (per-path sums).
    pub total: Quantiles,
    /// §6.5 confidence: history [`coverage`] × `clamp(1 − (Q90−Q10)/(2·Q50+ε),
    /// 0.2, 1)` of the total, 2 dp; 0 for `insufficient_data`.
    pub confidence: f64,
}

/// Forecasts spend for `horizon_days` (clamped to 1..=[`MAX_HORIZON`]) from the day after the
/// model's last date.
pub fn forecast(model: &ForecastModel, horizon_days: u32) -> Forecast {
    forecast_after(model, 0, horizon_days)
}

/// Forecasts spend for `horizon_days` (clamped to 1..=[`MAX_HORIZON`]) starting `skip` days
/// after the day after the model's last date (the days between the fit and today): the paths
/// run through the skipped days, which count neither in the days nor in the total.
pub fn forecast_after(model: &ForecastModel, skip: u32, horizon_days: u32) -> Forecast {
    let horizon = horizon_days.clamp(1, MAX_HORIZON) as usize;
    let skip = skip.min(MAX_HORIZON) as usize;
    let first = model.last_date + Days::new(1 + skip as u64);
    let scheduled = recurring::scheduled(&model.recurring, first, horizon);
    let cap = model.cap.unwrap_or(f64::INFINITY);
    let mut rng = ChaCha8Rng::seed_from_u64(model.seed);
    rng.set_stream(model.last_date.num_days_from_ce().unsigned_abs().into());
    let mut days: Vec<Vec<f64>> = vec![Vec::with_capacity(PATHS); horizon];
    let mut totals = Vec::with_capacity(PATHS);
    for _ in 0..PATHS {
        let path = model
            .state
            .simulate(block_bootstrap(&model.residuals, &mut rng), skip + horizon);
        let mut total = 0.0;
        for ((log_spend, due), day) in path[skip..].iter().zip(&scheduled).zip(&mut days) {
            let spend = log_spend.exp_m1().clamp(0.0, cap) + due;
            day.push(spend);
            total += spend;
        }
        totals.push(total);
    }
    let total = Quantiles::of(&mut totals);
    let confidence = match model.model {
        ModelKind::InsufficientData => 0.0,
        _ => {
            let width = 1.0 - (total.p90 - total.p10) / (2.0 * total.p50 + f64::EPSILON);
            (coverage(model.days) * width.clamp(0.2, 1.0) * 100.0).round() / 100.0
        }
    };
    Forecast {
        model: model.model,
        income_rate: money(model.income_rate),
        days: days
            .iter_mut()
            .zip(first.iter_days())
            .map(|(values, date)| ForecastDay {
                date,
                spend: Quantiles::of(values),
            })
            .collect(),
        total,
        confidence,
    }
}

/// The v1 confidence, history coverage only: `round(min(days/90, 1), 2)` (§6.3).
pub fn coverage(days: usize) -> f64 {
    ((days as f64 / COVERAGE_DAYS).min(1.0) * 100.0).round() / 100.0
}

/// An endless error sequence: circular 7-day blocks of `residuals` from uniform random starts
/// (zeros without residuals).
fn block_bootstrap<'a>(
    residuals: &'a [f64],
    rng: &'a mut ChaCha8Rng,
) -> impl Iterator<Item = f64> + 'a {
    let (mut start, mut k) = (0, 0);
    std::iter::from_fn(move || {
        let n = residuals.len();
        if n == 0 {
            return Some(0.0);
        }
        if k % SEASON == 0 {
            // Multiply-shift maps a uniform u64 onto 0..n (bias below n / 2^64).
            start = ((u128::from(rng.next_u64()) * n as u128) >> 64) as usize;
        }
        let error = residuals[(start + k % SEASON) % n];
        k += 1;
        Some(error)
    })
}

/// A fitted forecaster with what the metrics report about the fit.
#[derive(Debug, Clone)]
pub struct Fitted {
    /// The model.
    pub model: ForecastModel,
    /// The daily series it was fitted on.
    pub series: DailySeries,
    /// Mean absolute one-step error of discretionary spend (money), when a model was fitted.
    pub one_step_mae: Option<f64>,
}

/// Fits the forecaster to date-sorted `flows` as of `today`.
pub fn fit(
    flows: &[Flow],
    today: NaiveDate,
    seed: u64,
    control: &dyn JobControl,
) -> Result<Fitted, TrainError> {
    let series = DailySeries::aggregate(flows, today)
        .ok_or_else(|| TrainError::Unusable("no settled transactions".into()))?;
    let recurring = recurring::detect(flows, series.end());
    let merchants: BTreeSet<&str> = recurring.iter().map(|r| r.merchant.as_str()).collect();
    let mut discretionary = series.spend.clone();
    for flow in flows {
        if flow.amount < 0.0 && merchants.contains(flow.merchant.as_str()) {
            let day = &mut discretionary[series.index(flow.date)];
            *day = (*day + flow.amount).max(0.0);
        }
    }
    let cap = quantile(&discretionary, 0.99);
    let capped: Vec<f64> = discretionary.iter().map(|d| d.min(cap)).collect();
    let y: Vec<f64> = capped.iter().map(|d| d.ln_1p()).collect();
    let (kind, fit) = match y.len() {
        n if n < MIN_DAYS => (ModelKind::InsufficientData, EtsFit::mean(&[])),
        n if n < MIN_SEASONAL_DAYS => (ModelKind::LogMean, EtsFit::mean(&y)),
        _ => (ModelKind::EtsWeeklyV1, EtsFit::seasonal(&y, control)?),
    };
    let residuals = fit.residuals(&y);
    let one_step_errors: Vec<f64> = fit
        .fitted
        .iter()
        .zip(&capped)
        .map(|(f, d)| (f.exp_m1() - d).abs())
        .collect();
    let model = ForecastModel {
        format: ForecastModel::FORMAT.to_owned(),
        model: kind,
        last_date: series.end(),
        days: series.len(),
        state: fit.state,
        residuals: residuals[residuals.len().saturating_sub(MAX_RESIDUALS)..].to_vec(),
        recurring,
        income_rate: series.income_rate(),
        cap: Some(cap),
        seed,
    };
    Ok(Fitted {
        model,
        series,
        one_step_mae: (!one_step_errors.is_empty()).then(|| mean(&one_step_errors)),
    })
}

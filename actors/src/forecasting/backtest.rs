//! The forecaster's accuracy check (categorization spec §6.6): rolling origins every 7 days over
//! the last 8 weeks, each with at least 28 days of history, refit on the data up to the origin
//! and compared over the next 7 days with the actual spend and with baselines B1 (the mean of
//! the last 30 days, the v1 forecast) and B2 (seasonal naive: the same weekday a week before);
//! plus the stability of safe-to-spend, v2 against v1, over consecutive daily origins.

use chrono::Days;
use serde::Serialize;

use super::daily_series::{DailySeries, Flow};
use super::model::{fit, forecast_after};
use super::safe_to_spend::{self, Horizon};
use super::stats::{mean, median, money, round4, std_dev};
use crate::training::fitting::{JobControl, TrainError};

/// Days forecast from each origin.
const HORIZON: usize = 7;
/// Most origins (8 weeks).
const ORIGINS: usize = 8;
/// Least history before an origin.
const MIN_HISTORY: usize = 28;
/// Days behind baseline B1.
const BASELINE_DAYS: usize = 30;
/// Days of history the v1 safe-to-spend reads.
const V1_LOOKBACK_DAYS: u64 = 90;
/// The pinball-loss quantiles.
const PINBALL_QUANTILES: [f64; 3] = [0.1, 0.5, 0.9];

/// Backtest summary stored in the job's metrics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Backtest {
    /// Origins evaluated.
    pub origins: usize,
    /// Mean absolute error of daily spend (p50).
    pub mae_daily: f64,
    /// The same for baseline B1.
    pub mae_daily_b1: f64,
    /// Median over origins of the absolute error of the 7-day total (p50 of the per-path sums).
    pub mae_total: f64,
    /// The same for baseline B1.
    pub mae_total_b1: f64,
    /// The same for baseline B2.
    pub mae_total_b2: f64,
    /// Mean absolute error of the 7-day total over B2's (`None` when B2 was never wrong).
    pub mase: Option<f64>,
    /// Mean pinball loss of daily spend at q = 0.1, 0.5, 0.9.
    pub pinball: Pinball,
    /// Share of days whose actual spend lies within [p10, p90] (target 0.8 ± 0.1).
    pub coverage: f64,
    /// How much safe-to-spend moves from day to day.
    pub stability: Stability,
}

/// Mean pinball losses of daily spend.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Pinball {
    /// At q = 0.1 (against p10).
    pub q10: f64,
    /// At q = 0.5 (against p50).
    pub q50: f64,
    /// At q = 0.9 (against p90).
    pub q90: f64,
}

/// Standard deviations of the 7-day safe-to-spend over consecutive daily origins.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stability {
    /// Daily origins.
    pub origins: usize,
    /// Of v1 (the rolling average).
    pub v1_std: f64,
    /// Of v2.
    pub v2_std: f64,
}

impl Stability {
    /// How many times steadier v2 is than v1 (`None` when v2 never moved).
    pub fn ratio(&self) -> Option<f64> {
        (self.v2_std > 0.0).then(|| self.v1_std / self.v2_std)
    }
}

/// Backtests the forecaster on date-sorted `flows` whose full series is `series`; `None` when no
/// origin has 28 days of history and 7 days after it.
pub fn run(
    flows: &[Flow],
    series: &DailySeries,
    seed: u64,
    control: &dyn JobControl,
) -> Result<Option<Backtest>, TrainError> {
    let (mut daily, mut daily_b1, mut covered) = (Vec::new(), Vec::new(), 0usize);
    let mut pinball = [Vec::new(), Vec::new(), Vec::new()];
    let (mut total, mut total_b1, mut total_b2) = (Vec::new(), Vec::new(), Vec::new());
    let mut first_origin = None;
    for k in 0..ORIGINS {
        let Some(origin) = series.len().checked_sub(1 + HORIZON * (k + 1)) else {
            break;
        };
        if origin + 1 < MIN_HISTORY {
            break;
        }
        control.check()?;
        first_origin = Some(origin);
        let origin_date = series.date(origin);
        let fitted = fit(history(flows, origin_date), origin_date, seed, control)?;
        let gap = (origin_date - fitted.model.last_date).num_days() as u32;
        let predicted = forecast_after(&fitted.model, gap, HORIZON as u32);
        let actual = &series.spend[origin + 1..=origin + HORIZON];
        let baseline = mean(&series.spend[(origin + 1).saturating_sub(BASELINE_DAYS)..=origin]);
        for (day, &spend) in predicted.days.iter().zip(actual) {
            let q = day.spend;
            daily.push((q.p50 - spend).abs());
            daily_b1.push((baseline - spend).abs());
            covered += usize::from(q.p10 <= spend && spend <= q.p90);
            for ((losses, quantile), value) in pinball
                .iter_mut()
                .zip(PINBALL_QUANTILES)
                .zip([q.p10, q.p50, q.p90])
            {
                losses.push(pinball_loss(quantile, spend, value));
            }
        }
        let actual_total: f64 = actual.iter().sum();
        let seasonal_naive: f64 = series.spend[origin + 1 - HORIZON..=origin].iter().sum();
        total.push((predicted.total.p50 - actual_total).abs());
        total_b1.push((baseline * HORIZON as f64 - actual_total).abs());
        total_b2.push((seasonal_naive - actual_total).abs());
    }
    let Some(first_origin) = first_origin else {
        return Ok(None);
    };
    let b2 = mean(&total_b2);
    Ok(Some(Backtest {
        origins: total.len(),
        mae_daily: money(mean(&daily)),
        mae_daily_b1: money(mean(&daily_b1)),
        mae_total: money(median(&total)),
        mae_total_b1: money(median(&total_b1)),
        mae_total_b2: money(median(&total_b2)),
        mase: (b2 > 0.0).then(|| round4(mean(&total) / b2)),
        pinball: Pinball {
            q10: money(mean(&pinball[0])),
            q50: money(mean(&pinball[1])),
            q90: money(mean(&pinball[2])),
        },
        coverage: round4(covered as f64 / daily.len() as f64),
        stability: stability(flows, series, first_origin, seed, control)?,
    }))
}

/// The stability of the 7-day safe-to-spend on every day from `first` to the series' end, each
/// as of that day: v2 refit on the data up to it, v1 over its 90-day lookback.
pub fn stability(
    flows: &[Flow],
    series: &DailySeries,
    first: usize,
    seed: u64,
    control: &dyn JobControl,
) -> Result<Stability, TrainError> {
    let (mut v1, mut v2) = (Vec::new(), Vec::new());
    for origin in first..series.len() {
        control.check()?;
        let today = series.date(origin);
        let seen = history(flows, today);
        let oldest = today - Days::new(V1_LOOKBACK_DAYS);
        let recent = &seen[seen.partition_point(|f| f.date <= oldest)..];
        v1.push(safe_to_spend::v1(recent, Horizon::default()).safe_amount);
        let model = fit(seen, today, seed, control)?.model;
        v2.push(safe_to_spend::v2(Some(&model), today, Horizon::default()).safe_amount);
    }
    Ok(Stability {
        origins: v1.len(),
        v1_std: money(std_dev(&v1)),
        v2_std: money(std_dev(&v2)),
    })
}

/// The flows dated up to `date`.
fn history(flows: &[Flow], date: chrono::NaiveDate) -> &[Flow] {
    &flows[..flows.partition_point(|f| f.date <= date)]
}

/// The pinball (quantile) loss of forecasting `predicted` at quantile `q` for `actual`.
fn pinball_loss(q: f64, actual: f64, predicted: f64) -> f64 {
    let error = actual - predicted;
    (q * error).max((q - 1.0) * error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinball_loss_weighs_the_side_of_the_miss() {
        assert!((pinball_loss(0.9, 100.0, 90.0) - 9.0).abs() < 1e-9);
        assert!((pinball_loss(0.9, 80.0, 90.0) - 1.0).abs() < 1e-9);
        assert_eq!(pinball_loss(0.5, 10.0, 10.0), 0.0);
    }
}

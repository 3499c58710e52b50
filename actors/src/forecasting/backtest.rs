//! The forecaster's accuracy check (categorization spec §6.6, first part): rolling origins every
//! 7 days over the last 8 weeks, each with at least 28 days of history, refit on the data up to
//! the origin and compared over the next 7 days with the actual spend and with baseline B1 (the
//! mean of the last 30 days, the v1 forecast).

use serde::Serialize;

use super::daily_series::{DailySeries, Flow};
use super::model::{fit, forecast};
use super::stats::{mean, median, money};
use crate::training::fitting::{JobControl, TrainError};

/// Days forecast from each origin.
const HORIZON: usize = 7;
/// Most origins (8 weeks).
const ORIGINS: usize = 8;
/// Least history before an origin.
const MIN_HISTORY: usize = 28;
/// Days behind baseline B1.
const BASELINE_DAYS: usize = 30;

/// Backtest summary stored in the job's metrics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Backtest {
    /// Origins evaluated.
    pub origins: usize,
    /// Mean absolute error of daily spend (p50).
    pub mae_daily: f64,
    /// The same for baseline B1.
    pub mae_daily_b1: f64,
    /// Median over origins of the absolute error of the 7-day total (p50).
    pub mae_total: f64,
    /// The same for baseline B1.
    pub mae_total_b1: f64,
    /// Share of days whose actual spend lies within [p10, p90] (target 0.8 ± 0.1).
    pub coverage: f64,
}

/// Backtests the forecaster on date-sorted `flows` whose full series is `series`; `None` when no
/// origin has 28 days of history and 7 days after it.
pub fn run(
    flows: &[Flow],
    series: &DailySeries,
    seed: u64,
    control: &dyn JobControl,
) -> Result<Option<Backtest>, TrainError> {
    let (mut daily, mut daily_b1) = (Vec::new(), Vec::new());
    let (mut total, mut total_b1, mut covered) = (Vec::new(), Vec::new(), 0usize);
    for k in 0..ORIGINS {
        let Some(origin) = series.len().checked_sub(1 + HORIZON * (k + 1)) else {
            break;
        };
        if origin + 1 < MIN_HISTORY {
            break;
        }
        control.check()?;
        let origin_date = series.date(origin);
        let history = &flows[..flows.partition_point(|f| f.date <= origin_date)];
        let fitted = fit(history, origin_date, seed, control)?;
        let gap = (origin_date - fitted.model.last_date).num_days() as usize;
        let predicted = forecast(&fitted.model, (gap + HORIZON) as u32);
        let actual = &series.spend[origin + 1..=origin + HORIZON];
        let baseline = mean(&series.spend[(origin + 1).saturating_sub(BASELINE_DAYS)..=origin]);
        let days = &predicted.days[gap..];
        for (day, &spend) in days.iter().zip(actual) {
            daily.push((day.spend.p50 - spend).abs());
            daily_b1.push((baseline - spend).abs());
            covered += usize::from(day.spend.p10 <= spend && spend <= day.spend.p90);
        }
        let actual_total: f64 = actual.iter().sum();
        let predicted_total: f64 = days.iter().map(|d| d.spend.p50).sum();
        total.push((predicted_total - actual_total).abs());
        total_b1.push((baseline * HORIZON as f64 - actual_total).abs());
    }
    if total.is_empty() {
        return Ok(None);
    }
    Ok(Some(Backtest {
        origins: total.len(),
        mae_daily: money(mean(&daily)),
        mae_daily_b1: money(mean(&daily_b1)),
        mae_total: money(median(&total)),
        mae_total_b1: money(median(&total_b1)),
        coverage: (covered as f64 / daily.len() as f64 * 1e4).round() / 1e4,
    }))
}

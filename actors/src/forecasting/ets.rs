//! Additive weekly exponential smoothing, ETS(A,N,A) with m = 7 (categorization spec §6.5), fitted
//! by grid search on the one-step sum of squared errors.

use serde::{Deserialize, Serialize};

use super::stats::mean;
use crate::training::fitting::{JobControl, TrainError};

/// Season length.
pub const SEASON: usize = 7;
/// Days needed for the seasonal fit (two full weeks initialise it).
pub const MIN_SEASONAL_DAYS: usize = 2 * SEASON;
/// Level smoothing candidates.
const ALPHAS: [f64; 8] = [0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5];
/// Seasonal smoothing candidates.
const GAMMAS: [f64; 7] = [0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3];

/// The state after the last fitted day; `season[k]` is the seasonal term `k` days after the
/// next one. A state with `alpha = gamma = 0` and a flat season is a constant mean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EtsState {
    /// Level ℓ_T.
    pub level: f64,
    /// Seasonal terms of the next seven days.
    pub season: [f64; SEASON],
    /// Level smoothing α.
    pub alpha: f64,
    /// Seasonal smoothing γ.
    pub gamma: f64,
}

impl EtsState {
    /// A constant forecast at `level`.
    pub fn constant(level: f64) -> Self {
        Self {
            level,
            season: [0.0; SEASON],
            alpha: 0.0,
            gamma: 0.0,
        }
    }

    /// Runs `horizon` days ahead with the one-step errors `errors` (zeros give the point
    /// forecast `ℓ_T + s_{T+h−7⌈h/7⌉}`), updating the state as the model does.
    pub fn simulate(&self, errors: impl Iterator<Item = f64>, horizon: usize) -> Vec<f64> {
        let mut level = self.level;
        let mut season = self.season;
        errors
            .take(horizon)
            .enumerate()
            .map(|(k, error)| {
                let slot = k % SEASON;
                let value = level + season[slot] + error;
                level += self.alpha * error;
                season[slot] += self.gamma * error;
                value
            })
            .collect()
    }
}

/// A fitted model with its in-sample one-step predictions.
#[derive(Debug, Clone, PartialEq)]
pub struct EtsFit {
    /// The state after the last day.
    pub state: EtsState,
    /// One-step-ahead prediction of each day.
    pub fitted: Vec<f64>,
}

impl EtsFit {
    /// The in-sample one-step errors `y_t − ŷ_t`.
    pub fn residuals(&self, y: &[f64]) -> Vec<f64> {
        y.iter().zip(&self.fitted).map(|(y, f)| y - f).collect()
    }

    /// The plain mean of `y` (the 7–13 day fallback).
    pub fn mean(y: &[f64]) -> Self {
        let level = mean(y);
        Self {
            state: EtsState::constant(level),
            fitted: vec![level; y.len()],
        }
    }

    /// Fits ETS(A,N,A) to `y` (at least [`MIN_SEASONAL_DAYS`] values): ℓ_0 = mean of the first 14
    /// days, seasonal terms = their weekday means − ℓ_0, (α, γ) = the grid point with the least
    /// one-step SSE (the first one on ties).
    pub fn seasonal(y: &[f64], control: &dyn JobControl) -> Result<Self, TrainError> {
        assert!(y.len() >= MIN_SEASONAL_DAYS, "too short for a seasonal fit");
        let level = mean(&y[..MIN_SEASONAL_DAYS]);
        let mut season = [0.0; SEASON];
        for (slot, s) in season.iter_mut().enumerate() {
            *s = (y[slot] + y[slot + SEASON]) / 2.0 - level;
        }
        let mut best: Option<(f64, Self)> = None;
        for alpha in ALPHAS {
            control.check()?;
            for gamma in GAMMAS {
                let fit = run(y, level, season, alpha, gamma);
                let sse: f64 = fit.residuals(y).iter().map(|e| e * e).sum();
                if best.as_ref().is_none_or(|(top, _)| sse < *top) {
                    best = Some((sse, fit));
                }
            }
        }
        Ok(best.expect("the grid is not empty").1)
    }
}

/// Filters `y` from the initial state with fixed smoothing parameters.
fn run(y: &[f64], level: f64, season: [f64; SEASON], alpha: f64, gamma: f64) -> EtsFit {
    let (mut level, mut season) = (level, season);
    let fitted = y
        .iter()
        .enumerate()
        .map(|(t, &value)| {
            let slot = t % SEASON;
            let prediction = level + season[slot];
            let previous = level;
            level = alpha * (value - season[slot]) + (1.0 - alpha) * level;
            season[slot] = gamma * (value - previous) + (1.0 - gamma) * season[slot];
            prediction
        })
        .collect();
    let next = y.len() % SEASON;
    EtsFit {
        state: EtsState {
            level,
            season: std::array::from_fn(|k| season[(next + k) % SEASON]),
            alpha,
            gamma,
        },
        fitted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::training::testing::RecordingControl;

    #[test]
    fn reproduces_a_noise_free_weekly_pattern() {
        let pattern = [1.0, 2.0, 3.0, 2.5, 4.0, 6.0, 5.0];
        let y: Vec<f64> = (0..40).map(|t| pattern[t % 7]).collect();
        let fit = EtsFit::seasonal(&y, &RecordingControl::running()).unwrap();
        assert!(fit.residuals(&y).iter().all(|e| e.abs() < 1e-9));
        let ahead = fit.state.simulate(std::iter::repeat(0.0), 10);
        for (k, value) in ahead.iter().enumerate() {
            assert!((value - pattern[(40 + k) % 7]).abs() < 1e-9);
        }
    }

    #[test]
    fn picks_smoothing_that_follows_a_level_shift() {
        let y: Vec<f64> = (0..60).map(|t| if t < 30 { 2.0 } else { 5.0 }).collect();
        let fit = EtsFit::seasonal(&y, &RecordingControl::running()).unwrap();
        assert_eq!(fit.state.alpha, 0.5, "{:?}", fit.state);
        let ahead = fit.state.simulate(std::iter::repeat(0.0), 7);
        assert!(ahead.iter().all(|v| (v - 5.0).abs() < 0.02), "{ahead:?}");
    }

    #[test]
    fn errors_move_the_simulated_state() {
        let state = EtsState {
            level: 1.0,
            season: [0.0; SEASON],
            alpha: 0.5,
            gamma: 0.0,
        };
        assert_eq!(state.simulate([2.0, 0.0].into_iter(), 2), [3.0, 2.0]);
        assert_eq!(EtsFit::mean(&[1.0, 3.0]).state, EtsState::constant(2.0));
    }

    #[test]
    fn stops_when_cancelled() {
        let y = vec![1.0; 30];
        let control = RecordingControl::stopping_after(1);
        assert_eq!(
            EtsFit::seasonal(&y, &control).unwrap_err(),
            TrainError::Stopped
        );
    }
}

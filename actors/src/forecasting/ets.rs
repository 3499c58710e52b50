//! Additive weekly exponential smoothing, ETS(A,N,A) with m = 7 (categorization spec §6.5), fitted
//! by grid search on the one-step errors.
//!
//! Robust updates (a departure from the plain recursions of §6.5): the error that moves the level
//! and the season is clipped at ±`CLIP_SCALES` robust scales of the data (Huber's ψ, as in
//! Gelper, Fried & Croux, *Robust forecasting with exponential and Holt–Winters smoothing*, 2010),
//! and the grid minimises the Huber loss of the one-step errors instead of their squares. On
//! `ln(1+spend)` a day without spending is an error near −6 and a large purchase one near +3:
//! unclipped, each moved the level by α times that, so one purchase raised the forecast week's
//! spend several-fold and simulated paths wandered with every bootstrapped spike. Clipped, the
//! spikes stay in the residuals — the intervals still allow for them — without steering the
//! level. With no spread in the data (scale 0) nothing is clipped.

use serde::{Deserialize, Serialize};

use super::stats::{mean, quantile_sorted};
use crate::training::fitting::{JobControl, TrainError};

/// Season length.
pub const SEASON: usize = 7;
/// Days needed for the seasonal fit (two full weeks initialise it).
pub const MIN_SEASONAL_DAYS: usize = 2 * SEASON;
/// Level smoothing candidates.
const ALPHAS: [f64; 8] = [0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5];
/// Seasonal smoothing candidates.
const GAMMAS: [f64; 7] = [0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3];
/// The clip of the state-moving error, in robust scales.
const CLIP_SCALES: f64 = 2.0;
/// The MAD of a normal sample times this estimates its standard deviation.
const MAD_TO_SIGMA: f64 = 1.4826;

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
    /// The largest error, either way, that moves the state (`None`: no clip; models stored
    /// before robust updates have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip: Option<f64>,
}

impl EtsState {
    /// A constant forecast at `level`.
    pub fn constant(level: f64) -> Self {
        Self {
            level,
            season: [0.0; SEASON],
            alpha: 0.0,
            gamma: 0.0,
            clip: None,
        }
    }

    /// The part of `error` that moves the state: Huber's ψ at the clip.
    fn psi(&self, error: f64) -> f64 {
        self.clip.map_or(error, |c| error.clamp(-c, c))
    }

    /// Runs `horizon` days ahead with the one-step errors `errors` (zeros give the point
    /// forecast `ℓ_T + s_{T+h−7⌈h/7⌉}`), updating the state as the model does (with the clipped
    /// error).
    pub fn simulate(&self, errors: impl Iterator<Item = f64>, horizon: usize) -> Vec<f64> {
        let mut level = self.level;
        let mut season = self.season;
        errors
            .take(horizon)
            .enumerate()
            .map(|(k, error)| {
                let slot = k % SEASON;
                let value = level + season[slot] + error;
                let moving = self.psi(error);
                level += self.alpha * moving;
                season[slot] += self.gamma * moving;
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
    /// days, seasonal terms = their weekday means − ℓ_0, the clip = `CLIP_SCALES` robust scales
    /// of `y` (`robust_scale`), (α, γ) = the grid point with the least Huber loss of the
    /// one-step errors at that clip (the first one on ties).
    pub fn seasonal(y: &[f64], control: &dyn JobControl) -> Result<Self, TrainError> {
        assert!(y.len() >= MIN_SEASONAL_DAYS, "too short for a seasonal fit");
        let level = mean(&y[..MIN_SEASONAL_DAYS]);
        let mut season = [0.0; SEASON];
        for (slot, s) in season.iter_mut().enumerate() {
            *s = (y[slot] + y[slot + SEASON]) / 2.0 - level;
        }
        let clip = Some(CLIP_SCALES * robust_scale(y)).filter(|c| *c > 0.0);
        let mut best: Option<(f64, Self)> = None;
        for alpha in ALPHAS {
            control.check()?;
            for gamma in GAMMAS {
                let start = EtsState {
                    level,
                    season,
                    alpha,
                    gamma,
                    clip,
                };
                let fit = run(y, start);
                let loss: f64 = fit.residuals(y).iter().map(|e| huber(*e, clip)).sum();
                if best.as_ref().is_none_or(|(top, _)| loss < *top) {
                    best = Some((loss, fit));
                }
            }
        }
        Ok(best.expect("the grid is not empty").1)
    }
}

/// Filters `y` from the initial state `start` (its season starting with `y[0]`'s weekday).
fn run(y: &[f64], start: EtsState) -> EtsFit {
    let mut state = start;
    let fitted = y
        .iter()
        .enumerate()
        .map(|(t, &value)| {
            let slot = t % SEASON;
            let prediction = state.level + state.season[slot];
            let moving = state.psi(value - prediction);
            state.level += state.alpha * moving;
            state.season[slot] += state.gamma * moving;
            prediction
        })
        .collect();
    let next = y.len() % SEASON;
    let season = state.season;
    state.season = std::array::from_fn(|k| season[(next + k) % SEASON]);
    EtsFit { state, fitted }
}

/// A robust scale of `y`'s one-step noise: the MAD of the week-on-week differences, scaled to a
/// standard deviation and divided by √2 (a difference holds two days' noise).
fn robust_scale(y: &[f64]) -> f64 {
    let mut diffs: Vec<f64> = y.windows(SEASON + 1).map(|w| w[SEASON] - w[0]).collect();
    let centre = median_in_place(&mut diffs);
    let mut deviations: Vec<f64> = diffs.iter().map(|d| (d - centre).abs()).collect();
    MAD_TO_SIGMA * median_in_place(&mut deviations) / std::f64::consts::SQRT_2
}

/// The median of `values` (sorted here; 0 when empty).
fn median_in_place(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    quantile_sorted(values, 0.5)
}

/// Huber's loss of `error` at `clip` (the square's half within it, linear beyond; the plain
/// half square without a clip).
fn huber(error: f64, clip: Option<f64>) -> f64 {
    match clip {
        Some(c) if error.abs() > c => c * (error.abs() - c / 2.0),
        _ => error * error / 2.0,
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
            clip: Some(1.5),
        };
        // The error of 2 counts in full on its day but moves the level by α × the clip only.
        assert_eq!(state.simulate([2.0, 0.0].into_iter(), 2), [3.0, 1.75]);
        assert_eq!(EtsFit::mean(&[1.0, 3.0]).state, EtsState::constant(2.0));
    }

    #[test]
    fn a_spike_does_not_steer_the_level() {
        // A weekly pattern with a little noise and a few large purchases (+3 on the log scale).
        let pattern = [6.0, 6.2, 5.9, 6.1, 6.3, 6.8, 6.6];
        let y: Vec<f64> = (0..84)
            .map(|t| {
                let spike = if t % 23 == 20 { 3.0 } else { 0.0 };
                pattern[t % 7] + 0.1 * (t as f64 * 1.7).sin() + spike
            })
            .collect();
        let fit = EtsFit::seasonal(&y, &RecordingControl::running()).unwrap();
        let clip = fit.state.clip.expect("the data has spread");
        assert!(clip < 1.0, "{clip}");
        let ahead = fit.state.simulate(std::iter::repeat(0.0), 7);
        for (k, value) in ahead.iter().enumerate() {
            assert!((value - pattern[(84 + k) % 7]).abs() < 0.3, "{ahead:?}");
        }
        assert_eq!(robust_scale(&[1.0; 20]), 0.0);
        assert_eq!(huber(3.0, Some(1.0)), 2.5);
        assert_eq!(huber(3.0, None), 4.5);
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

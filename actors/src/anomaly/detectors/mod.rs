//! The seven explainable detectors of §7.2, one file each, every one a pure
//! `detect(&Ledger, &Thresholds) -> Vec<Alert>` that only reports what involves the new rows (or,
//! for a month or a day, the period holding them). [`Thresholds`] holds the per-user amounts and
//! [`Spread`] the robust statistics the outlier tests share.

pub mod category_spike;
pub mod daily_spend_spike;
pub mod duplicate_charge;
pub mod merchant_amount_outlier;
pub mod missed_income;
pub mod new_merchant_large;
pub mod subscription_price_change;

use serde::{Deserialize, Serialize};

use crate::forecasting::stats::{mean, median};

/// The per-user amounts of §7.2 in rupees (the defaults are the spec's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Thresholds {
    /// `merchant_amount_outlier`: the least excess over the merchant's median (₹500).
    pub outlier_min_excess: f64,
    /// `new_merchant_large`: the least amount (₹5,000, or the user's P95 when higher).
    pub new_merchant_min: f64,
    /// `new_merchant_large`: high severity from this amount (₹20,000, or the user's P99).
    pub new_merchant_high: f64,
    /// `duplicate_charge`: smaller amounts are never duplicates (₹100).
    pub duplicate_min: f64,
    /// `category_spike`: the least increase over the baseline (₹2,000).
    pub category_spike_min_increase: f64,
    /// `daily_spend_spike`: the least day total (₹3,000).
    pub daily_spike_min: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            outlier_min_excess: 500.0,
            new_merchant_min: 5_000.0,
            new_merchant_high: 20_000.0,
            duplicate_min: 100.0,
            category_spike_min_increase: 2_000.0,
            daily_spike_min: 3_000.0,
        }
    }
}

/// The robust spread of a sample: median, median absolute deviation and mean absolute deviation
/// from the median.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// The median.
    pub median: f64,
    /// The median absolute deviation.
    pub mad: f64,
    /// The mean absolute deviation from the median.
    pub mean_abs_dev: f64,
}

impl Spread {
    /// The spread of `sample`.
    pub fn of(sample: &[f64]) -> Self {
        let m = median(sample);
        let deviations: Vec<f64> = sample.iter().map(|v| (v - m).abs()).collect();
        Self {
            median: m,
            mad: median(&deviations),
            mean_abs_dev: mean(&deviations),
        }
    }

    /// The robust z of `x`: `0.6745 (x − median) / MAD`, or `(x − median) / (1.253 · mean abs
    /// dev)` when the MAD is 0; `None` when both are 0 (the caller falls back to a multiple of
    /// the median).
    pub fn z(&self, x: f64) -> Option<f64> {
        if self.mad > 0.0 {
            Some(0.6745 * (x - self.median) / self.mad)
        } else if self.mean_abs_dev > 0.0 {
            Some((x - self.median) / (1.253 * self.mean_abs_dev))
        } else {
            None
        }
    }
}

/// `1st`, `2nd`, `3rd`, `14th`, … for a day of month.
pub fn ordinal(day: u32) -> String {
    let suffix = match (day % 10, day % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{day}{suffix}")
}

#[cfg(test)]
pub(crate) mod fixtures;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robust_z_falls_back_when_the_mad_is_zero() {
        let spread = Spread::of(&[100.0, 110.0, 90.0, 100.0, 105.0]);
        assert_eq!(spread.median, 100.0);
        assert_eq!(spread.mad, 5.0);
        assert!((spread.z(200.0).unwrap() - 13.49).abs() < 1e-9);
        // Most values equal: MAD 0, mean absolute deviation 20.
        let mostly = Spread::of(&[100.0, 100.0, 100.0, 100.0, 200.0]);
        assert_eq!(mostly.mad, 0.0);
        assert!((mostly.z(300.0).unwrap() - 200.0 / (1.253 * 20.0)).abs() < 1e-9);
        // All equal: no z at all.
        assert_eq!(Spread::of(&[50.0; 6]).z(500.0), None);
    }

    #[test]
    fn ordinals() {
        let days: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 31].map(ordinal).to_vec();
        assert_eq!(
            days,
            ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "31st"]
        );
    }

    #[test]
    fn thresholds_default_to_the_spec_and_read_partial_json() {
        let partial: Thresholds = serde_json::from_str(r#"{"daily_spike_min": 5000}"#).unwrap();
        assert_eq!(partial.daily_spike_min, 5_000.0);
        assert_eq!(
            partial.new_merchant_min,
            Thresholds::default().new_merchant_min
        );
    }
}

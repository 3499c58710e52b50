//! Small descriptive statistics over `f64` samples.

/// The arithmetic mean (0 for no samples).
pub fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

/// The `q` quantile of ascending `sorted` samples with linear interpolation (numpy's default);
/// 0 for no samples.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => 0.0,
        n => {
            let position = q.clamp(0.0, 1.0) * (n - 1) as f64;
            let low = position.floor() as usize;
            let high = (low + 1).min(n - 1);
            let fraction = position - low as f64;
            sorted[low] + (sorted[high] - sorted[low]) * fraction
        }
    }
}

/// The `q` quantile of unsorted samples.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    quantile_sorted(&sorted, q)
}

/// The median of unsorted samples.
pub fn median(values: &[f64]) -> f64 {
    quantile(values, 0.5)
}

/// The coefficient of variation (population standard deviation / mean); infinite when the
/// mean is 0.
pub fn coefficient_of_variation(values: &[f64]) -> f64 {
    let m = mean(values);
    if m == 0.0 {
        return f64::INFINITY;
    }
    std_dev(values) / m.abs()
}

/// The population standard deviation (0 for no samples).
pub fn std_dev(values: &[f64]) -> f64 {
    let m = mean(values);
    mean(&values.iter().map(|v| (v - m).powi(2)).collect::<Vec<_>>()).sqrt()
}

/// Rounds money to 2 decimal places.
pub fn money(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// Rounds a ratio to 4 decimal places.
pub fn round4(value: f64) -> f64 {
    (value * 1e4).round() / 1e4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let values = [4.0, 1.0, 3.0, 2.0];
        assert_eq!(quantile(&values, 0.5), 2.5);
        assert!((quantile(&values, 0.9) - 3.7).abs() < 1e-12);
        assert_eq!(quantile(&values, 0.0), 1.0);
        assert_eq!(quantile(&[], 0.5), 0.0);
        assert_eq!(median(&[5.0]), 5.0);
    }

    #[test]
    fn spread_and_rounding() {
        assert_eq!(mean(&[1.0, 2.0, 3.0]), 2.0);
        assert_eq!(coefficient_of_variation(&[10.0, 10.0]), 0.0);
        assert!((coefficient_of_variation(&[8.0, 12.0]) - 0.2).abs() < 1e-12);
        assert_eq!(money(1971.0935), 1971.09);
        assert_eq!(round4(0.123_456), 0.1235);
        assert_eq!(std_dev(&[1.0, 3.0]), 1.0);
    }
}

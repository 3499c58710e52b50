//! Unit tests of the forecaster's training: fits, forecasts, fallbacks, seeds and stops.

use super::*;
use crate::forecasting::daily_series::tests::{day, entry, worked_example};
use crate::forecasting::model::{Quantiles, MAX_HORIZON};
use crate::training::testing::RecordingControl;

fn trained(entries: &[LedgerEntry], today: NaiveDate) -> (ForecastModel, serde_json::Value) {
    let mut control = RecordingControl::running();
    let output = train(entries, today, 42, &mut control).unwrap();
    assert_eq!(output.format, ForecastModel::FORMAT);
    let steps: Vec<u32> = control.steps.iter().map(|s| s.0).collect();
    assert_eq!(steps, [1, 2, 3, 4, 5]);
    (
        ForecastModel::from_artefact(&output.artefact).unwrap(),
        output.metrics,
    )
}

fn daily(start: NaiveDate, amounts: impl IntoIterator<Item = f64>) -> Vec<LedgerEntry> {
    start
        .iter_days()
        .zip(amounts)
        .map(|(date, amount)| entry(date, -amount, ""))
        .collect()
}

#[test]
fn reproduces_a_noise_free_weekly_series() {
    let pattern = [100.0, 200.0, 300.0, 150.0, 250.0, 500.0, 800.0];
    let start = day(2024, 1, 1);
    let entries = daily(start, (0..70).map(|t| pattern[t % 7]));
    let (model, metrics) = trained(&entries, day(2024, 3, 10));
    assert_eq!(metrics["model"], "ets_weekly_v1");
    let forecast = forecast(&model, 14);
    assert_eq!(forecast.days[0].date, day(2024, 3, 11));
    for (k, day) in forecast.days.iter().enumerate() {
        let expected = pattern[(70 + k) % 7];
        assert!(
            (day.spend.p50 - expected).abs() <= expected * 0.01,
            "{day:?}"
        );
    }
}

#[test]
fn constant_spend_has_zero_width_intervals() {
    let entries = daily(day(2024, 1, 1), std::iter::repeat_n(500.0, 60));
    let (model, metrics) = trained(&entries, day(2024, 2, 29));
    let forecast = forecast(&model, 7);
    for day in &forecast.days {
        assert_eq!(
            (day.spend.p10, day.spend.p50, day.spend.p90),
            (500.0, 500.0, 500.0)
        );
    }
    assert_eq!(
        forecast.total,
        Quantiles {
            p10: 3500.0,
            p50: 3500.0,
            p90: 3500.0
        }
    );
    assert_eq!(metrics["spend_7d"]["p90"], 3500.0);
    assert_eq!(metrics["safe_to_spend_7d"], -3500.0);
    assert_eq!(metrics["confidence_7d"], 0.67);
    assert_eq!(metrics["backtest"]["origins"], 4);
    assert_eq!(metrics["backtest"]["coverage"], 1.0);
}

#[test]
fn worked_example_projects_rent_and_income() {
    let end = day(2025, 12, 31);
    let (model, metrics) = trained(&worked_example(end), end);
    assert_eq!(metrics["recurring"], 1);
    assert_eq!(metrics["paydays"], serde_json::json!([1]));
    assert!((metrics["income_rate"].as_f64().unwrap() - 1971.09).abs() < 0.01);
    let forecast = forecast(&model, 7);
    assert_eq!(forecast.days[4].date, day(2026, 1, 5));
    assert!(forecast.days[4].spend.p10 >= 20_000.0);
    assert!(forecast.days[3].spend.p90 < 2_000.0);
    let total = forecast.total;
    assert!(total.p10 < total.p50 && total.p50 < total.p90, "{total:?}");
    assert!(total.p50 > 22_000.0 && total.p50 < 27_000.0, "{total:?}");
    // The rent falls in the week but is set aside pro rata (7 of 30.44 days).
    let safe = metrics["safe_to_spend_7d"].as_f64().unwrap();
    let expected = model.income_rate * 7.0 - 20_000.0 * 7.0 / 30.44 - (total.p90 - 20_000.0);
    assert!((safe - expected).abs() <= 0.02, "{safe} vs {expected}");
    let backtest = &metrics["backtest"];
    assert!(backtest["mae_total"].as_f64().unwrap() > 0.0);
    assert!(backtest["mase"].as_f64().unwrap() > 0.0, "{backtest}");
    assert!(backtest["pinball"]["q90"].as_f64().unwrap() > 0.0);
    assert!(backtest["stability"]["origins"].as_u64().unwrap() >= 28);
    assert!(backtest["stability"]["v1_std"].as_f64().unwrap() > 0.0);
}

#[test]
fn the_same_seed_gives_the_same_model() {
    let end = day(2025, 12, 31);
    let entries = worked_example(end);
    let mut first = RecordingControl::running();
    let mut second = RecordingControl::running();
    let a = train(&entries, end, 7, &mut first).unwrap();
    let b = train(&entries, end, 7, &mut second).unwrap();
    assert_eq!(a, b);
    let model = ForecastModel::from_artefact(&a.artefact).unwrap();
    assert_eq!(forecast(&model, 10), forecast(&model, 10));
    let other = ForecastModel {
        seed: 8,
        ..model.clone()
    };
    assert_ne!(forecast(&model, 10).total, forecast(&other, 10).total);
}

#[test]
fn short_histories_fall_back() {
    let ten = daily(day(2024, 1, 1), (0..10).map(|t| 100.0 + 10.0 * t as f64));
    let (model, metrics) = trained(&ten, day(2024, 1, 10));
    assert_eq!(metrics["model"], "log_mean");
    assert!(metrics["backtest"].is_null());
    let short = forecast(&model, 3);
    assert!(short
        .days
        .iter()
        .all(|d| d.spend.p50 > 100.0 && d.spend.p50 < 200.0));

    let three = daily(day(2024, 1, 1), [50.0, 60.0, 70.0]);
    let (model, metrics) = trained(&three, day(2024, 1, 3));
    assert_eq!(metrics["model"], "insufficient_data");
    assert!(metrics["one_step_mae"].is_null());
    let zeros = forecast(&model, 2);
    assert_eq!((zeros.total.p90, zeros.confidence), (0.0, 0.0));
}

#[test]
fn unusable_and_stopped() {
    let mut control = RecordingControl::running();
    let mut pending = entry(day(2024, 1, 1), -10.0, "");
    pending.status = "pending".into();
    for entries in [vec![], vec![pending]] {
        assert!(matches!(
            train(&entries, day(2024, 1, 1), 1, &mut control),
            Err(TrainError::Unusable(_))
        ));
    }
    let entries = worked_example(day(2025, 12, 31));
    let mut stopping = RecordingControl::stopping_after(3);
    assert_eq!(
        train(&entries, day(2025, 12, 31), 1, &mut stopping),
        Err(TrainError::Stopped)
    );
    assert_eq!(stopping.steps.len(), 1);
}

#[test]
fn horizons_are_bounded() {
    let entries = daily(day(2024, 1, 1), std::iter::repeat_n(10.0, 20));
    let (model, _) = trained(&entries, day(2024, 1, 20));
    assert_eq!(forecast(&model, 0).days.len(), 1);
    assert_eq!(forecast(&model, 1000).days.len(), MAX_HORIZON as usize);
}

#[test]
fn days_padded_to_today_do_not_drag_the_forecast() {
    // 90 days of weekday ₹400 / weekend ₹600 spend, read up to 3 days after its last row: the
    // days in between are padded with zero spend (§6.5), which must not sink the forecast.
    let start = day(2024, 1, 1);
    let spend = (0..90).map(|t| {
        let weekend = if t % 7 >= 5 { 200.0 } else { 0.0 };
        400.0 + weekend + 30.0 * (f64::from(t) * 1.3).sin()
    });
    let entries = daily(start, spend);
    let last = start + chrono::Days::new(89);
    let week = |stale: u64| {
        let (model, _) = trained(&entries, last + chrono::Days::new(stale));
        forecast(&model, 7).total.p50
    };
    let fresh = week(0);
    assert!((fresh / 7.0 - 457.0).abs() < 30.0, "{fresh}");
    for stale in 1..=3 {
        let padded = week(stale);
        assert!(
            padded > 0.95 * fresh,
            "{stale} padded days: {padded} against {fresh}"
        );
    }
}

//! Unit tests of safe-to-spend: the original answers byte for byte, the §6.1 rows, the §6.3 v1
//! numbers, confidence rounding, and the v2 answer whose explanation adds up.

use chrono::Datelike;

use super::*;
use crate::forecasting::daily_series::flows;
use crate::forecasting::daily_series::tests::{day, entry, worked_example};
use crate::forecasting::model::fit;
use crate::training::fitting::LedgerEntry;
use crate::training::testing::RecordingControl;

fn model_of(entries: &[LedgerEntry], today: NaiveDate) -> ForecastModel {
    fit(
        &flows(entries, today),
        today,
        42,
        &RecordingControl::running(),
    )
    .unwrap()
    .model
}

#[test]
fn no_data_is_the_original_json_byte_for_byte() {
    let expected = r#"{"safe_amount":0.0,"currency":"INR","horizon_days":7,"confidence":0.0,"model":"statistical_mvp","note":"No transactions found in the last 90 days."}"#;
    let answer = no_data(Horizon::default());
    assert_eq!(serde_json::to_string(&answer).unwrap(), expected);
    assert_eq!(v1(&[], Horizon::default()), answer);
    assert_eq!(v2(None, day(2026, 1, 1), Horizon::default()), answer);
    // A model whose data ended 90 days ago has nothing recent either.
    let model = model_of(&worked_example(day(2025, 12, 31)), day(2025, 12, 31));
    assert_eq!(
        v2(Some(&model), day(2026, 3, 31), Horizon::default()),
        answer
    );
    assert_ne!(
        v2(Some(&model), day(2026, 3, 30), Horizon::default()),
        answer
    );
}

#[test]
fn horizons_run_from_one_to_thirty_days() {
    assert!(Horizon::new(0).is_err());
    assert!(Horizon::new(31).is_err());
    assert_eq!(Horizon::new(1).unwrap().days(), 1);
    assert_eq!(Horizon::new(30).unwrap().days(), 30);
    assert_eq!(Horizon::default().days(), 7);
}

#[test]
fn compat_rows_are_the_spec_table_with_its_holes() {
    let table = [
        entry(day(2024, 1, 1), -50.0, ""),
        entry(day(2024, 1, 1), -20.0, ""),
        entry(day(2024, 1, 2), 1000.0, ""),
        entry(day(2024, 1, 4), -10.0, ""),
    ];
    let rows: Vec<_> = compat_daily(&flows(&table, day(2024, 1, 4)))
        .into_iter()
        .collect();
    assert_eq!(
        rows,
        [
            (day(2024, 1, 1), (0.0, 70.0)),
            (day(2024, 1, 2), (1000.0, 0.0)),
            (day(2024, 1, 3), (0.0, 0.0)),
            (day(2024, 1, 4), (0.0, 10.0)),
        ]
    );
    // Income on the 10th, spend on the 1st–3rd: four rows, not ten.
    let holes = [
        entry(day(2024, 1, 10), 500.0, ""),
        entry(day(2024, 1, 1), -1.0, ""),
        entry(day(2024, 1, 3), -1.0, ""),
    ];
    let dates: Vec<u32> = compat_daily(&flows(&holes, day(2024, 1, 10)))
        .keys()
        .map(|d| d.day())
        .collect();
    assert_eq!(dates, [1, 2, 3, 10]);
}

/// The §6.3 worked-example user with December's spend set so that the original's figures come
/// out: Dec 2–31 spend 35,272.84 in all (rent included), Dec 2 alone 84.41.
fn v1_example(with_new_year: bool) -> Vec<LedgerEntry> {
    let mut entries: Vec<LedgerEntry> = worked_example(day(2025, 12, 1));
    entries.push(entry(day(2025, 12, 2), -84.41, "Shop"));
    entries.push(entry(day(2025, 12, 5), -20_000.0, "Landlord"));
    for d in 3..=30 {
        entries.push(entry(day(2025, 12, d), -523.74, "Shop"));
    }
    entries.push(entry(day(2025, 12, 31), -523.71, "Shop"));
    if with_new_year {
        entries.push(entry(day(2026, 1, 1), 60_000.0, "ACME PAYROLL"));
        entries.push(entry(day(2026, 1, 1), -500.0, "Shop"));
    }
    entries
}

#[test]
fn v1_reproduces_the_worked_example_in_compat_mode() {
    let end = day(2025, 12, 31);
    let before = v1(&flows(&v1_example(false), end), Horizon::default());
    assert_eq!(
        serde_json::to_value(&before).unwrap(),
        serde_json::json!({
            "safe_amount": -8230.33, "currency": "INR", "horizon_days": 7, "confidence": 1.0,
            "avg_daily_income": 0.0, "avg_daily_spend": 1175.76, "days_analyzed": 92,
            "model": "statistical_mvp", "note": "Based on 92 days of transaction history.",
            "forecast_breakdown": []
        })
    );
    let next = day(2026, 1, 1);
    let after = v1(&flows(&v1_example(true), next), Horizon::default());
    assert_eq!(
        (
            after.avg_daily_income,
            after.avg_daily_spend,
            after.safe_amount
        ),
        (Some(2000.0), Some(1189.61), 5672.70)
    );
}

#[test]
fn confidence_is_history_coverage_rounded_to_two_places() {
    for (days, expected) in [
        (0, 0.0),
        (1, 0.01),
        (45, 0.5),
        (61, 0.68),
        (89, 0.99),
        (90, 1.0),
        (400, 1.0),
    ] {
        assert_eq!(coverage(days), expected, "{days} days");
    }
    let start = day(2024, 1, 1);
    let entries: Vec<LedgerEntry> = start
        .iter_days()
        .take(61)
        .map(|d| entry(d, -100.0, ""))
        .collect();
    assert_eq!(
        v1(&flows(&entries, day(2024, 3, 1)), Horizon::default()).confidence,
        0.68
    );
}

#[test]
fn v2_explains_its_amount_to_the_cent() {
    let end = day(2025, 12, 31);
    let model = model_of(&worked_example(end), end);
    for days in [1, 7, 30] {
        let answer = v2(Some(&model), end, Horizon::new(days).unwrap());
        let why = answer.explanation.as_ref().unwrap();
        let parts = cents(why.expected_income)
            - cents(why.committed_total)
            - cents(why.discretionary.p50)
            - cents(why.buffer);
        assert_eq!(parts, cents(answer.safe_amount), "{days} days: {why:?}");
        assert_eq!(
            why.committed
                .iter()
                .map(|c| cents(c.set_aside))
                .sum::<i64>(),
            cents(why.committed_total)
        );
        assert_eq!(
            why.committed_total,
            money(20_000.0 * f64::from(days) / 30.44),
            "the rent's share of {days} days"
        );
        assert_eq!(
            answer.forecast_breakdown.as_ref().unwrap().len(),
            days as usize
        );
        assert!(why.text.ends_with(&format!(
            "= {} safe to spend.",
            rupee_text(cents(answer.safe_amount))
        )));
    }
    let week = v2(Some(&model), end, Horizon::default());
    let why = week.explanation.as_ref().unwrap();
    assert_eq!(
        why.committed,
        [Commitment {
            merchant: "landlord".into(),
            due_date: day(2026, 1, 5),
            due_in_horizon: true,
            amount: 20_000.0,
            set_aside: 4_599.21,
        }]
    );
    assert_eq!(why.expected_income, money(model.income_rate * 7.0));
    assert!(
        why.buffer > 0.0 && why.discretionary.p50 > 2_000.0,
        "{why:?}"
    );
    assert!(
        why.text
            .contains("landlord ₹20000.00 a month, next due 2026-01-05"),
        "{}",
        why.text
    );
    // The §6.5 formula, the rent set aside pro rata.
    let set_aside = 20_000.0 * 7.0 / 30.44;
    let expected = model.income_rate * 7.0 - set_aside - why.discretionary.p90;
    assert!((week.safe_amount - expected).abs() <= 0.02, "{week:?}");
    // The breakdown still shows the rent on its due day.
    let rent_day = &week.forecast_breakdown.as_ref().unwrap()[4];
    assert_eq!(rent_day.date, day(2026, 1, 5));
    assert!(rent_day.spend.p10 >= 20_000.0, "{rent_day:?}");
    let json = serde_json::to_value(&week).unwrap();
    assert_eq!(json["model"], "ets_weekly_v1");
    for field in [
        "currency",
        "horizon_days",
        "confidence",
        "note",
        "days_analyzed",
    ] {
        assert!(!json[field].is_null(), "{field}");
    }
    let first = &json["forecast_breakdown"][0];
    assert_eq!(first["date"], "2026-01-01");
    assert!(first["p10"].as_f64() <= first["p50"].as_f64());
    assert!(first["p50"].as_f64() <= first["p90"].as_f64());
}

#[test]
fn v2_starts_after_today_and_does_not_swing_at_payday() {
    let end = day(2025, 12, 31);
    let model = model_of(&worked_example(end), end);
    // Two days after the fit: the forecast covers Jan 3–9, after the skipped days.
    let later = v2(Some(&model), day(2026, 1, 2), Horizon::default());
    assert_eq!(later.forecast_breakdown.unwrap()[0].date, day(2026, 1, 3));
    // v1 swings by about ₹14k from Dec 31 to Jan 1; v2 by far less.
    let next = day(2026, 1, 1);
    let next_model = model_of(&worked_example(next), next);
    let v2_swing = (v2(Some(&next_model), next, Horizon::default()).safe_amount
        - v2(Some(&model), end, Horizon::default()).safe_amount)
        .abs();
    let v1_swing = (v1(&flows(&worked_example(next), next), Horizon::default()).safe_amount
        - v1(&flows(&worked_example(end), end), Horizon::default()).safe_amount)
        .abs();
    assert!(v1_swing > 10_000.0, "{v1_swing}");
    assert!(v2_swing * 5.0 < v1_swing, "v2 {v2_swing}, v1 {v1_swing}");
}

#[test]
fn a_due_date_entering_the_window_does_not_move_the_answer() {
    // Dec 28: the window Dec 29–Jan 4 misses the rent of Jan 5; Dec 29: it holds it.
    let answers: Vec<SafeToSpend> = [day(2025, 12, 28), day(2025, 12, 29)]
        .into_iter()
        .map(|today| {
            v2(
                Some(&model_of(&worked_example(today), today)),
                today,
                Horizon::default(),
            )
        })
        .collect();
    let due: Vec<bool> = answers
        .iter()
        .map(|a| a.explanation.as_ref().unwrap().committed[0].due_in_horizon)
        .collect();
    assert_eq!(due, [false, true]);
    let swing = (answers[0].safe_amount - answers[1].safe_amount).abs();
    assert!(swing < 1_000.0, "moved by {swing}: {answers:?}");
}

#[test]
fn short_histories_say_so() {
    let entries = [
        entry(day(2024, 1, 1), -50.0, ""),
        entry(day(2024, 1, 2), -60.0, ""),
    ];
    let model = model_of(&entries, day(2024, 1, 2));
    let answer = v2(Some(&model), day(2024, 1, 2), Horizon::default());
    assert_eq!(answer.model, Method::Fitted(ModelKind::InsufficientData));
    assert_eq!(answer.confidence, 0.0);
    assert_eq!(
        serde_json::to_value(&answer).unwrap()["model"],
        "insufficient_data"
    );
}

//! Unit tests of the daily series, plus the ledger builders other forecasting tests share.

use rust_decimal::Decimal;

use super::*;

/// A completed ledger entry.
pub(crate) fn entry(date: NaiveDate, amount: f64, merchant: &str) -> LedgerEntry {
    LedgerEntry {
        date,
        amount: Decimal::from_f64_retain(amount).unwrap().round_dp(2),
        merchant: merchant.into(),
        status: "completed".into(),
    }
}

/// The series of `entries` as of `today`.
fn series_of(entries: &[LedgerEntry], today: NaiveDate) -> DailySeries {
    DailySeries::aggregate(&flows(entries, today), today).unwrap()
}

/// A date.
pub(crate) fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn aggregates_the_spec_table_exactly() {
    let entries = [
        entry(day(2024, 1, 1), -50.0, ""),
        entry(day(2024, 1, 1), -20.0, ""),
        entry(day(2024, 1, 2), 1000.0, ""),
        entry(day(2024, 1, 4), -10.0, ""),
    ];
    let series = series_of(&entries, day(2024, 1, 4));
    let closing: Vec<f64> = series
        .income
        .iter()
        .zip(&series.spend)
        .scan(0.0, |balance, (i, s)| {
            *balance += i - s;
            Some(*balance)
        })
        .collect();
    assert_eq!(series.start, day(2024, 1, 1));
    assert_eq!(series.income, [0.0, 1000.0, 0.0, 0.0]);
    assert_eq!(series.spend, [70.0, 0.0, 0.0, 10.0]);
    assert_eq!(closing, [-70.0, 930.0, 930.0, 920.0]);
}

#[test]
fn pads_recent_data_to_today_and_skips_unsettled_rows() {
    let mut entries = vec![
        entry(day(2024, 1, 1), -50.0, " Big  Bazaar "),
        entry(day(2024, 1, 2), -30.0, ""),
    ];
    for status in ["pending", "Cancelled", "failed"] {
        let mut row = entry(day(2024, 1, 2), -99.0, "");
        row.status = status.into();
        entries.push(row);
    }
    entries.push(entry(day(2024, 1, 9), -99.0, "future"));
    entries.push(entry(day(2022, 1, 1), -99.0, "too old"));
    let usable = flows(&entries, day(2024, 1, 5));
    assert_eq!(usable.len(), 2);
    assert_eq!(usable[0].merchant, "big bazaar");
    let padded = DailySeries::aggregate(&usable, day(2024, 1, 5)).unwrap();
    assert_eq!(padded.end(), day(2024, 1, 5));
    assert_eq!(padded.spend, [50.0, 30.0, 0.0, 0.0, 0.0]);
    let stale = DailySeries::aggregate(&usable, day(2024, 1, 6)).unwrap();
    assert_eq!(stale.end(), day(2024, 1, 2));
    assert_eq!(DailySeries::aggregate(&[], day(2024, 1, 6)), None);
}

/// The §6.3 worked-example user from 2025-10-01 to `end`: salary 60,000 on the 1st, rent
/// 20,000 on the 5th, daily spend averaging 400 on weekdays and 900 on weekends.
pub(crate) fn worked_example(end: NaiveDate) -> Vec<LedgerEntry> {
    let mut entries = Vec::new();
    let mut date = day(2025, 10, 1);
    let mut wobble = 0.0f64;
    while date <= end {
        if date.day() == 1 {
            entries.push(entry(date, 60_000.0, "ACME PAYROLL"));
        }
        if date.day() == 5 {
            entries.push(entry(date, -20_000.0, "Landlord"));
        }
        wobble = (wobble + 0.37).fract();
        let weekend = date.weekday().number_from_monday() >= 6;
        let base = if weekend { 900.0 } else { 400.0 };
        entries.push(entry(date, -(base * (0.6 + 0.8 * wobble)), "Shop"));
        date = date.succ_opt().unwrap();
    }
    entries
}

#[test]
fn payday_on_the_first_is_detected() {
    let entries = worked_example(day(2025, 12, 31));
    let series = series_of(&entries, day(2025, 12, 31));
    assert_eq!(
        series.paydays().into_iter().collect::<Vec<_>>(),
        [(1, 60_000.0)]
    );
    let single = [entry(day(2025, 10, 1), 60_000.0, "")];
    let series = series_of(&single, day(2025, 10, 1));
    assert!(series.paydays().is_empty());
}

#[test]
fn a_payday_moved_before_a_weekend_keeps_its_day() {
    // The 10th: a Saturday in January and a Sunday in May 2026, paid on the Friday before.
    let paid = [
        day(2026, 1, 9),
        day(2026, 2, 10),
        day(2026, 3, 10),
        day(2026, 4, 10),
        day(2026, 5, 8),
        day(2026, 6, 10),
    ];
    for today in [day(2026, 5, 20), day(2026, 6, 14)] {
        let mut entries: Vec<LedgerEntry> = paid
            .iter()
            .filter(|d| **d <= today)
            .map(|d| entry(*d, 49_300.0, "acme payroll"))
            .collect();
        entries.extend(
            day(2026, 1, 1)
                .iter_days()
                .take_while(|d| *d <= today)
                .map(|d| entry(d, -300.0, "shop")),
        );
        let series = series_of(&entries, today);
        assert_eq!(
            series.paydays().into_iter().collect::<Vec<_>>(),
            [(10, 49_300.0)],
            "{today}"
        );
        let rate = series.income_rate();
        assert!(
            (rate - 49_300.0 / DAYS_PER_MONTH).abs() < 0.01,
            "{today}: {rate}"
        );
    }
    // The 7th, moved to Friday the 6th as often as it was paid on the 7th: still one payday.
    let paid = [
        day(2026, 1, 7),
        day(2026, 2, 6),
        day(2026, 3, 6),
        day(2026, 4, 7),
    ];
    let entries: Vec<LedgerEntry> = paid.iter().map(|d| entry(*d, 94_800.0, "acme")).collect();
    let series = series_of(&entries, day(2026, 4, 7));
    assert_eq!(series.paydays().into_keys().collect::<Vec<_>>(), [7]);
}

#[test]
fn income_rate_does_not_swing_with_the_window() {
    for end in [
        day(2025, 11, 20),
        day(2025, 12, 2),
        day(2025, 12, 31),
        day(2026, 1, 1),
        day(2026, 1, 15),
    ] {
        let entries = worked_example(end);
        let series = series_of(&entries, end);
        let rate = series.income_rate();
        assert!((rate - 1971.0).abs() < 1971.0 * 0.02, "{end}: {rate}");
    }
}

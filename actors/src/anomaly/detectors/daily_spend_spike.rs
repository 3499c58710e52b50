//! `daily_spend_spike` (§7.2): a day whose spend has a robust z of at least 4 against the 90
//! days before it (days without spend count as 0; see [`Spread::z`], falling back to 3× the
//! median when those days do not vary) and reaches the user's minimum (₹3,000). Debits of
//! monthly recurring merchants (rent, EMIs, subscriptions: `forecasting::recurring`) are left out
//! of the day totals, or every rent day would be a spike. Judged for the days of new debits; one
//! alert per day (its id hashes the date only). Medium severity.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Days, NaiveDate};
use serde_json::json;
use uuid::Uuid;

use super::{Spread, Thresholds};
use crate::anomaly::alert::{day_month, round2, rupees, times, Alert, AlertKind, Severity};
use crate::anomaly::ledger::Ledger;
use crate::forecasting::daily_series::Flow;
use crate::forecasting::recurring;

/// Days behind the baseline.
const BASELINE_DAYS: u64 = 90;
/// The robust z that fires.
const FIRE_Z: f64 = 4.0;
/// The multiple of the median that fires when the baseline days do not vary.
const FALLBACK_MULTIPLE: f64 = 3.0;

/// The spending spikes of the days holding new debits.
pub fn detect(ledger: &Ledger, thresholds: &Thresholds) -> Vec<Alert> {
    let flows: Vec<Flow> = ledger
        .debits
        .iter()
        .map(|d| Flow {
            date: d.row.date,
            amount: -d.x,
            merchant: d.merchant.clone(),
        })
        .collect();
    let scheduled: BTreeSet<String> = recurring::detect(&flows, ledger.as_of())
        .into_iter()
        .map(|r| r.merchant)
        .collect();
    let mut days: BTreeMap<NaiveDate, (f64, Vec<Uuid>)> = BTreeMap::new();
    let mut judged = BTreeSet::new();
    for debit in ledger
        .debits
        .iter()
        .filter(|d| !scheduled.contains(&d.merchant))
    {
        let day = days.entry(debit.row.date).or_default();
        day.0 += debit.x;
        day.1.push(debit.row.id);
        if debit.is_new {
            judged.insert(debit.row.date);
        }
    }
    judged
        .into_iter()
        .filter_map(|date| {
            let (total, ids) = days.get(&date)?;
            if *total < thresholds.daily_spike_min
                || !ledger.covers(date - Days::new(BASELINE_DAYS))
            {
                return None;
            }
            let baseline: Vec<f64> = (1..=BASELINE_DAYS)
                .map(|k| days.get(&(date - Days::new(k))).map_or(0.0, |d| d.0))
                .collect();
            let spread = Spread::of(&baseline);
            let z = spread.z(*total);
            let spike = match z {
                Some(z) => z >= FIRE_Z,
                None => *total >= FALLBACK_MULTIPLE * spread.median,
            };
            spike.then(|| Alert {
                severity: Severity::Medium,
                date,
                amount: -total,
                score: round2(z.unwrap_or(total / spread.median.max(1.0))),
                message: if spread.median > 0.0 {
                    format!(
                        "{} spent on {}, {} your usual day of {}",
                        rupees(*total),
                        day_month(date),
                        times(total / spread.median),
                        rupees(spread.median)
                    )
                } else {
                    format!(
                        "{} spent on {}; on most days you spend nothing",
                        rupees(*total),
                        day_month(date)
                    )
                },
                details: json!({
                    "total": round2(*total),
                    "median": round2(spread.median),
                    "mad": round2(spread.mad),
                    "robust_z": z.map(round2),
                    "baseline_days": BASELINE_DAYS,
                    "recurring_excluded": scheduled.iter().collect::<Vec<_>>(),
                }),
                ..Alert::new(AlertKind::DailySpendSpike, ids.clone(), date.to_string())
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anomaly::detectors::fixtures::{day, Book};

    /// 120 days of ₹400–₹900 a day and rent on the 5th.
    fn usual(book: &mut Book) {
        for k in 0..120u64 {
            let date = day(2025, 10, 1) + Days::new(k);
            book.add(date, -(400.0 + (k * 37 % 500) as f64), "Swiggy", "Food");
        }
        for month in [10, 11, 12] {
            book.add(day(2025, month, 5), -20_000.0, "Landlord", "Housing");
        }
    }

    #[test]
    fn a_day_far_above_usual_fires_and_rent_days_do_not() {
        let mut book = Book::default();
        usual(&mut book);
        let rent = book.add_new(day(2026, 1, 5), -20_000.0, "Landlord", "Housing");
        let tv = book.add_new(day(2026, 1, 20), -6_500.0, "Croma", "Shopping");
        let alerts = book.run(day(2026, 1, 31), detect);
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!(alerts[0].period_key, "2026-01-20");
        assert!(alerts[0].transaction_ids.contains(&tv));
        assert!(!alerts[0].transaction_ids.contains(&rent));
        assert!(
            alerts[0].message.starts_with("₹7,"),
            "{}",
            alerts[0].message
        );
        assert_eq!(book.run(day(2026, 1, 31), detect), alerts);
    }

    #[test]
    fn ordinary_days_and_small_totals_do_not_fire() {
        let mut book = Book::default();
        usual(&mut book);
        book.add_new(day(2026, 1, 20), -1_200.0, "Amazon", "Shopping");
        assert_eq!(book.run(day(2026, 1, 31), detect), []);
        // A spender who rarely spends: the median day is 0, so ₹2,500 is a lot but under ₹3,000.
        let mut rare = Book::default();
        rare.add(day(2025, 9, 1), -100.0, "Swiggy", "Food");
        rare.add_new(day(2026, 1, 20), -2_500.0, "Amazon", "Shopping");
        assert_eq!(rare.run(day(2026, 1, 31), detect), []);
        rare.add_new(day(2026, 1, 21), -3_500.0, "Amazon", "Shopping");
        assert_eq!(rare.run(day(2026, 1, 31), detect).len(), 1);
    }
}

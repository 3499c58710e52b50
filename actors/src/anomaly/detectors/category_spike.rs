//! `category_spike` (§7.2): a category's spend this month, up to the last day with data, is at
//! least 1.5× its baseline and at least the user's minimum increase (₹2,000) above it. The
//! baseline is the median of the previous 3 months' spend in the category up to the same day of
//! month (the history must reach back to the first of them). Beyond the spec, the spend must
//! also beat the category's peak to that day over the previous 6 months (those the history
//! covers) by the minimum increase: categories bought now and then (shopping, fuel) swing by more
//! than 1.5× from month to month, and a month inside the user's own range is not a spike. Judged
//! for the months and categories holding new debits; one alert per category and month (its id
//! hashes the month and category only). Low severity; medium from 2.5×.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Days, Months, NaiveDate};
use serde_json::json;

use super::{ordinal, Thresholds};
use crate::anomaly::alert::{round2, rupees, times, Alert, AlertKind, Severity};
use crate::anomaly::ledger::{month_key, Ledger};
use crate::forecasting::stats::median;

/// Months behind the baseline.
const BASELINE_MONTHS: u32 = 3;
/// Months behind the peak (those the history covers, at least the baseline's).
const PEAK_MONTHS: u32 = 6;
/// The multiple of the baseline that fires.
const SPIKE_MULTIPLE: f64 = 1.5;
/// The multiple of the baseline of medium severity.
const MEDIUM_MULTIPLE: f64 = 2.5;

/// A category's spend over some days and the debits behind it.
#[derive(Default)]
struct Spend {
    total: f64,
    ids: Vec<uuid::Uuid>,
    has_new: bool,
}

/// The category spikes of the months holding new debits.
pub fn detect(ledger: &Ledger, thresholds: &Thresholds) -> Vec<Alert> {
    let months: BTreeSet<NaiveDate> = ledger
        .new_debits()
        .map(|i| first_of_month(ledger.debits[i].row.date))
        .collect();
    months
        .into_iter()
        .flat_map(|month| judge_month(ledger, month, thresholds))
        .collect()
}

fn judge_month(ledger: &Ledger, month: NaiveDate, thresholds: &Thresholds) -> Vec<Alert> {
    let cutoff = ledger.as_of().min(last_of_month(month));
    let earliest = month - Months::new(BASELINE_MONTHS);
    if cutoff < month || !ledger.covers(earliest) {
        return Vec::new();
    }
    let day = cutoff.day();
    let current = by_category(ledger, month, cutoff);
    let previous: Vec<BTreeMap<String, Spend>> = (1..=PEAK_MONTHS)
        .map(|k| month - Months::new(k))
        .take_while(|&start| ledger.covers(start))
        .map(|start| {
            let end = last_of_month(start).min(start + Days::new(u64::from(day) - 1));
            by_category(ledger, start, end)
        })
        .collect();
    current
        .into_iter()
        .filter(|(_, spend)| spend.has_new)
        .filter_map(|(category, spend)| {
            let past: Vec<f64> = previous
                .iter()
                .map(|b| b.get(&category).map_or(0.0, |s| s.total))
                .collect();
            let baseline = median(&past[..BASELINE_MONTHS as usize]);
            let peak = past.iter().copied().fold(0.0, f64::max);
            let mtd = spend.total;
            let increase = thresholds.category_spike_min_increase;
            if mtd < SPIKE_MULTIPLE * baseline || mtd < baseline.max(peak) + increase {
                return None;
            }
            let severity = if mtd >= MEDIUM_MULTIPLE * baseline {
                Severity::Medium
            } else {
                Severity::Low
            };
            let (score, usual) = if baseline > 0.0 {
                (
                    mtd / baseline,
                    format!(
                        "{} your usual {} by the {}",
                        times(mtd / baseline),
                        rupees(baseline),
                        ordinal(day)
                    ),
                )
            } else {
                (
                    mtd / thresholds.category_spike_min_increase,
                    format!(
                        "when by the {} you usually spend nothing on it",
                        ordinal(day)
                    ),
                )
            };
            Some(Alert {
                severity,
                date: cutoff,
                amount: -mtd,
                score: round2(score),
                message: format!("{} on {category} so far this month, {usual}", rupees(mtd)),
                details: json!({
                    "month_to_date": round2(mtd),
                    "baseline": round2(baseline),
                    "peak": round2(peak),
                    "previous_months": past.iter().map(|&v| round2(v)).collect::<Vec<_>>(),
                    "day_of_month": day,
                }),
                category: Some(category.clone()),
                ..Alert::new(
                    AlertKind::CategorySpike,
                    spend.ids,
                    format!("{}/{category}", month_key(month)),
                )
            })
        })
        .collect()
}

/// The debits from `start` to `end` by category.
fn by_category(ledger: &Ledger, start: NaiveDate, end: NaiveDate) -> BTreeMap<String, Spend> {
    let first = ledger.debits.partition_point(|d| d.row.date < start);
    let mut spend: BTreeMap<String, Spend> = BTreeMap::new();
    for debit in ledger.debits[first..]
        .iter()
        .take_while(|d| d.row.date <= end)
    {
        if let Some(category) = debit.category() {
            let entry = spend.entry(category).or_default();
            entry.total += debit.x;
            entry.ids.push(debit.row.id);
            entry.has_new |= debit.is_new;
        }
    }
    spend
}

/// The first day of `date`'s month.
pub fn first_of_month(date: NaiveDate) -> NaiveDate {
    date.with_day(1).unwrap_or(date)
}

/// The last day of `date`'s month.
pub fn last_of_month(date: NaiveDate) -> NaiveDate {
    first_of_month(date) + Months::new(1) - Days::new(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anomaly::detectors::fixtures::{day, Book};

    /// ₹3,000 of shopping by the 14th in each of November to January.
    fn usual(book: &mut Book) {
        for month in [11, 12] {
            book.add(day(2025, month, 3), -1_500.0, "Amazon", "Shopping");
            book.add(day(2025, month, 10), -1_500.0, "Myntra", "Shopping");
            book.add(day(2025, month, 20), -4_000.0, "Myntra", "Shopping");
        }
        book.add(day(2026, 1, 3), -1_400.0, "Amazon", "Shopping");
        book.add(day(2026, 1, 10), -1_600.0, "Myntra", "Shopping");
        book.add(day(2025, 10, 28), -500.0, "Swiggy", "Food");
    }

    #[test]
    fn a_month_well_ahead_of_its_usual_pace_fires_once() {
        let mut book = Book::default();
        usual(&mut book);
        book.add_new(day(2026, 2, 2), -2_000.0, "Amazon", "Shopping");
        book.add_new(day(2026, 2, 9), -3_000.0, "Ajio", "Shopping");
        let first = book.run(day(2026, 2, 14), detect);
        assert_eq!(first.len(), 1, "{first:?}");
        book.add_new(day(2026, 2, 14), -2_800.0, "Nykaa", "Shopping");
        let alerts = book.run(day(2026, 2, 14), detect);
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        let alert = &alerts[0];
        assert_eq!(alert.period_key, "2026-02/Shopping");
        assert_eq!(alert.severity, Severity::Medium);
        assert_eq!(
            alert.message,
            "₹7,800 on Shopping so far this month, 2.6× your usual ₹3,000 by the 14th"
        );
        assert_eq!(alert.transaction_ids.len(), 3);
        // The same month and category keep their id as rows arrive.
        assert_eq!(first[0].id, alert.id);
        assert_eq!(first[0].transaction_ids.len(), 2);
    }

    #[test]
    fn usual_pace_small_increases_and_short_histories_do_not_fire() {
        let mut book = Book::default();
        usual(&mut book);
        book.add_new(day(2026, 2, 4), -3_200.0, "Amazon", "Shopping");
        book.add_new(day(2026, 2, 12), -1_700.0, "Amazon", "Shopping");
        // 4,900 ≥ 1.5 × 3,000 but under 3,000 + 2,000.
        assert_eq!(book.run(day(2026, 2, 14), detect), []);
        let mut short = Book::default();
        short.add(day(2025, 12, 3), -100.0, "Amazon", "Shopping");
        short.add_new(day(2026, 2, 3), -9_000.0, "Amazon", "Shopping");
        assert_eq!(short.run(day(2026, 2, 14), detect), []);
    }
}

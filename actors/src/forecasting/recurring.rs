//! Recurring monthly debits (rent, EMIs, bills, subscriptions; categorization spec §6.5): found
//! per merchant, projected on their due day and kept out of the discretionary series.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::daily_series::{Flow, ACTIVE_DAYS};
use super::stats::{coefficient_of_variation, median};

/// Largest distance in days between a payment's day of month and the median day.
const DAY_TOLERANCE: u32 = 3;
/// Largest coefficient of variation of the amounts.
const MAX_AMOUNT_CV: f64 = 0.25;

/// A debit that comes back every month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecurringDebit {
    /// The normalised merchant.
    pub merchant: String,
    /// The due day of month (the median; clamped to shorter months).
    pub day: u32,
    /// The median amount (positive).
    pub amount: f64,
    /// The latest payment.
    pub last: NaiveDate,
}

impl RecurringDebit {
    /// Whether the debit falls due on `date` (and this month's payment is not made yet).
    pub fn due_on(&self, date: NaiveDate) -> bool {
        let due = (1..=self.day)
            .rev()
            .find_map(|d| NaiveDate::from_ymd_opt(date.year(), date.month(), d));
        due == Some(date) && (date.year(), date.month()) != (self.last.year(), self.last.month())
    }
}

/// The recurring debits among date-sorted `flows` ending at `end`: same merchant, one payment in
/// each of at least two distinct months, every day of month within ±3 of the median, amount CV
/// ≤ 0.25, and the latest payment within [`ACTIVE_DAYS`] of `end` (a cancelled subscription
/// stops being projected).
pub fn detect(flows: &[Flow], end: NaiveDate) -> Vec<RecurringDebit> {
    let mut by_merchant: BTreeMap<&str, Vec<&Flow>> = BTreeMap::new();
    for flow in flows {
        if flow.amount < 0.0 && !flow.merchant.is_empty() {
            by_merchant.entry(&flow.merchant).or_default().push(flow);
        }
    }
    by_merchant
        .into_iter()
        .filter_map(|(merchant, payments)| {
            let months: BTreeSet<(i32, u32)> = payments
                .iter()
                .map(|p| (p.date.year(), p.date.month()))
                .collect();
            let last = payments.last()?.date;
            if months.len() < 2
                || months.len() != payments.len()
                || (end - last).num_days() > ACTIVE_DAYS
            {
                return None;
            }
            let mut days: Vec<u32> = payments.iter().map(|p| p.date.day()).collect();
            days.sort_unstable();
            let day = days[(days.len() - 1) / 2];
            let amounts: Vec<f64> = payments.iter().map(|p| -p.amount).collect();
            (days.iter().all(|d| d.abs_diff(day) <= DAY_TOLERANCE)
                && coefficient_of_variation(&amounts) <= MAX_AMOUNT_CV)
                .then(|| RecurringDebit {
                    merchant: merchant.to_owned(),
                    day,
                    amount: median(&amounts),
                    last,
                })
        })
        .collect()
}

/// The recurring debits falling due on the `days` days from `first`, by date.
pub fn due(
    debits: &[RecurringDebit],
    first: NaiveDate,
    days: usize,
) -> impl Iterator<Item = (NaiveDate, &RecurringDebit)> {
    first.iter_days().take(days).flat_map(move |date| {
        debits
            .iter()
            .filter(move |d| d.due_on(date))
            .map(move |d| (date, d))
    })
}

/// The scheduled recurring spend on each of `days` days from `first`.
pub fn scheduled(debits: &[RecurringDebit], first: NaiveDate, days: usize) -> Vec<f64> {
    let mut spend = vec![0.0; days];
    for (date, debit) in due(debits, first, days) {
        spend[(date - first).num_days() as usize] += debit.amount;
    }
    spend
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecasting::daily_series::flows;
    use crate::forecasting::daily_series::tests::{day, entry, worked_example};

    #[test]
    fn rent_is_recurring_and_groceries_are_not() {
        let end = day(2025, 12, 31);
        let found = detect(&flows(&worked_example(end), end), end);
        assert_eq!(
            found,
            [RecurringDebit {
                merchant: "landlord".into(),
                day: 5,
                amount: 20_000.0,
                last: day(2025, 12, 5),
            }]
        );
        let projected = scheduled(&found, day(2026, 1, 1), 40);
        assert_eq!(projected[4], 20_000.0);
        assert_eq!(projected.iter().sum::<f64>(), 40_000.0);
        // Already paid this month: not projected again.
        assert_eq!(
            scheduled(&found, day(2025, 12, 1), 10).iter().sum::<f64>(),
            0.0
        );
    }

    #[test]
    fn rejects_irregular_days_amounts_and_lapsed_debits() {
        let end = day(2024, 6, 30);
        let rows = [
            entry(day(2024, 4, 2), -500.0, "gym"),
            entry(day(2024, 5, 20), -500.0, "gym"),
            entry(day(2024, 4, 10), -100.0, "phone"),
            entry(day(2024, 5, 10), -300.0, "phone"),
            entry(day(2024, 1, 3), -900.0, "old emi"),
            entry(day(2024, 2, 3), -900.0, "old emi"),
            entry(day(2024, 5, 28), -1000.0, "netflix"),
            entry(day(2024, 6, 30), -1000.0, "netflix"),
        ];
        let found = detect(&flows(&rows, end), end);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].merchant, "netflix");
        // Due on the 28th: clamped to the 28th of February too.
        let short = RecurringDebit {
            day: 31,
            ..found[0].clone()
        };
        assert!(short.due_on(day(2025, 2, 28)));
    }
}

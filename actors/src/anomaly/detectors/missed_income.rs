//! `missed_income` (§7.2, optional): a monthly income more than 3 days past its day with no
//! credit of at least half the usual amount since 5 days before it. A monthly income is a source
//! (the credit's merchant key) paying once in each of at least two months, every time within ±3
//! days of the same day of month, amounts varying by at most 25% (CV), at least ₹5,000, the
//! latest within 62 days — found by `forecasting::recurring` as it finds recurring debits. (The
//! §6.1 payday test, a percentile of daily income, misses a salary whenever a refund lands on a
//! payday and lifts the percentile above the others.) "Past" is counted to the last day with
//! data, and only a new row dated after the grace days can raise it (the alert's id hashes the
//! due date only). Medium severity.

use chrono::{Days, Months, NaiveDate};
use rust_decimal::prelude::ToPrimitive;
use serde_json::json;

use super::{ordinal, Thresholds};
use crate::anomaly::alert::{day_month, round2, rupees, Alert, AlertKind, Severity};
use crate::anomaly::ledger::{merchant_key, Ledger};
use crate::forecasting::daily_series::Flow;
use crate::forecasting::recurring;

/// Days an income may be late without an alert.
const GRACE_DAYS: u64 = 3;
/// Days before its day an early credit may come.
const EARLY_DAYS: u64 = 5;
/// The share of the usual amount that counts as the income arriving.
const MIN_SHARE: f64 = 0.5;
/// Smaller monthly credits (cashback, interest) are not incomes to miss.
const MIN_INCOME: f64 = 5_000.0;

/// The missed incomes up to the ledger's last day with data.
pub fn detect(ledger: &Ledger, _thresholds: &Thresholds) -> Vec<Alert> {
    let credits: Vec<(f64, String)> = ledger
        .credits
        .iter()
        .map(|c| {
            (
                c.amount.to_f64().unwrap_or(0.0),
                merchant_key(&c.merchant_name, &c.description),
            )
        })
        .collect();
    // `recurring` finds debits: the credits go in negated.
    let flows: Vec<Flow> = ledger
        .credits
        .iter()
        .zip(&credits)
        .map(|(c, (amount, source))| Flow {
            date: c.date,
            amount: -amount,
            merchant: source.clone(),
        })
        .collect();
    let as_of = ledger.as_of();
    let late_from = as_of - Days::new(GRACE_DAYS + 1);
    recurring::detect(&flows, as_of)
        .into_iter()
        .filter(|income| income.amount >= MIN_INCOME)
        .filter_map(|income| {
            let due = latest(income.day, late_from)?;
            let usual = income.amount;
            let arrived = ledger.credits.iter().zip(&credits).any(|(c, (amount, _))| {
                c.date >= due - Days::new(EARLY_DAYS) && *amount >= MIN_SHARE * usual
            });
            let reported = ledger
                .new_dates
                .range(due + Days::new(GRACE_DAYS + 1)..)
                .next()
                .is_some();
            if arrived || !reported {
                return None;
            }
            let source = ledger
                .credits
                .iter()
                .zip(&credits)
                .rev()
                .find(|(_, (_, key))| *key == income.merchant)
                .map(|(c, _)| c.merchant_name.trim().to_owned())
                .filter(|m| !m.is_empty());
            let days_late = (as_of - due).num_days();
            let from = source
                .as_ref()
                .map_or(String::new(), |s| format!(" from {s}"));
            Some(Alert {
                severity: Severity::Medium,
                date: due,
                amount: usual,
                score: days_late as f64,
                message: format!(
                    "Your usual {} credit{from} on the {} has not arrived: due {}, {days_late} days ago",
                    rupees(usual),
                    ordinal(income.day),
                    day_month(due)
                ),
                details: json!({
                    "usual_amount": round2(usual),
                    "source": income.merchant,
                    "payday": income.day,
                    "due": due,
                    "last_received": income.last,
                    "days_late": days_late,
                }),
                merchant: source,
                ..Alert::new(AlertKind::MissedIncome, Vec::new(), due.to_string())
            })
        })
        .collect()
}

/// The latest date on or before `limit` that falls on day `payday` of its month (the month's
/// last day when it is shorter).
fn latest(payday: u32, limit: NaiveDate) -> Option<NaiveDate> {
    let in_month = |month_start: NaiveDate| {
        (1..=payday)
            .rev()
            .find_map(|d| chrono::Datelike::with_day(&month_start, d))
    };
    let this_month = chrono::Datelike::with_day(&limit, 1)?;
    let due = in_month(this_month)?;
    if due <= limit {
        Some(due)
    } else {
        in_month(this_month - Months::new(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anomaly::detectors::fixtures::{day, Book};

    /// Salary of ₹85,000 on the 1st from September to January, and daily spend up to `end`.
    fn salaried(book: &mut Book, end: NaiveDate) {
        for (year, month) in [(2025, 9), (2025, 10), (2025, 11), (2025, 12), (2026, 1)] {
            book.add(day(year, month, 1), 85_000.0, "Acme Payroll", "Salary");
        }
        book.add(day(2025, 10, 14), 1_200.0, "Refund", "Shopping");
        let days = (end - day(2025, 9, 1)).num_days() as u64;
        book.daily(day(2025, 9, 1), days, 500.0, "Swiggy");
    }

    #[test]
    fn a_salary_four_days_late_fires() {
        let mut book = Book::default();
        salaried(&mut book, day(2026, 2, 5));
        book.add_new(day(2026, 2, 5), -300.0, "Uber", "Transport");
        let alerts = book.run(day(2026, 2, 6), detect);
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!(alerts[0].period_key, "2026-02-01");
        assert_eq!(
            alerts[0].message,
            "Your usual ₹85,000 credit from Acme Payroll on the 1st has not arrived: due 1 Feb, 4 days \
             ago"
        );
        assert_eq!(alerts[0].merchant.as_deref(), Some("Acme Payroll"));
        assert!(alerts[0].transaction_ids.is_empty());
        assert_eq!(book.run(day(2026, 2, 6), detect), alerts);
    }

    #[test]
    fn paid_early_late_by_three_days_or_partly_does_not_fire() {
        // Three days late is within the grace.
        let mut book = Book::default();
        salaried(&mut book, day(2026, 2, 4));
        book.add_new(day(2026, 2, 4), -300.0, "Uber", "Transport");
        assert_eq!(book.run(day(2026, 2, 6), detect), []);
        // Paid on the Friday before.
        let mut early = Book::default();
        salaried(&mut early, day(2026, 2, 10));
        early.add(day(2026, 1, 30), 85_000.0, "Acme Payroll", "Salary");
        early.add_new(day(2026, 2, 9), -300.0, "Uber", "Transport");
        assert_eq!(early.run(day(2026, 2, 10), detect), []);
        // Half of it arrived.
        let mut half = Book::default();
        salaried(&mut half, day(2026, 2, 10));
        half.add(day(2026, 2, 2), 42_500.0, "Acme Payroll", "Salary");
        half.add_new(day(2026, 2, 9), -300.0, "Uber", "Transport");
        assert_eq!(half.run(day(2026, 2, 10), detect), []);
        // No new row after the grace days: nothing new to say.
        let mut old = Book::default();
        salaried(&mut old, day(2026, 2, 10));
        old.add_new(day(2026, 2, 3), -300.0, "Uber", "Transport");
        assert_eq!(old.run(day(2026, 2, 10), detect), []);
    }

    #[test]
    fn due_dates_clamp_to_short_months() {
        assert_eq!(latest(31, day(2026, 2, 27)), Some(day(2026, 1, 31)));
        assert_eq!(latest(31, day(2026, 2, 28)), Some(day(2026, 2, 28)));
        assert_eq!(latest(1, day(2026, 2, 1)), Some(day(2026, 2, 1)));
    }
}

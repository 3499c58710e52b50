//! `duplicate_charge` (§7.2): the same amount, to the paisa, charged more than once at a
//! merchant within 48 hours — on the same date when a row has no time — by rows with different
//! fingerprints (the same fingerprint is the same transaction). Amounts under the user's minimum
//! (₹100) and merchants the user pays nearly every day (20 of the 30 days before) are left out.
//! Rows linked by such pairs form one alert, which needs at least one new row. Medium severity.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Days, NaiveDate, TimeDelta};
use serde_json::json;

use super::Thresholds;
use crate::anomaly::alert::{day_month, rupees, Alert, AlertKind, Severity};
use crate::anomaly::ledger::{moment, Debit, Ledger};

/// Hours within which a repeated charge is a duplicate.
const WINDOW_HOURS: i64 = 48;
/// The days before a charge looked at for daily payments.
const DAILY_WINDOW_DAYS: u64 = 30;
/// Days with a payment in that window that make a merchant a daily one.
const DAILY_MIN_DAYS: usize = 20;

/// The duplicate charges involving new debits.
pub fn detect(ledger: &Ledger, thresholds: &Thresholds) -> Vec<Alert> {
    let mut groups: BTreeMap<(&str, i64), Vec<usize>> = BTreeMap::new();
    for (i, debit) in ledger.debits.iter().enumerate() {
        if !debit.merchant.is_empty() && debit.x >= thresholds.duplicate_min {
            groups
                .entry((&debit.merchant, debit.paise))
                .or_default()
                .push(i);
        }
    }
    groups
        .into_values()
        .filter(|group| group.len() > 1 && group.iter().any(|&i| ledger.debits[i].is_new))
        .flat_map(|group| clusters(ledger, &group))
        .filter(|cluster| cluster.iter().any(|&i| ledger.debits[i].is_new))
        .filter(|cluster| !pays_daily(ledger, cluster[0]))
        .map(|cluster| alert(ledger, &cluster))
        .collect()
}

/// Whether two charges of the same amount at the same merchant are a duplicate pair.
fn duplicates(a: &Debit, b: &Debit) -> bool {
    a.row.fingerprint != b.row.fingerprint
        && match (a.row.time, b.row.time) {
            (Some(_), Some(_)) => {
                (moment(b.row) - moment(a.row)).abs() <= TimeDelta::hours(WINDOW_HOURS)
            }
            _ => a.row.date == b.row.date,
        }
}

/// The date-ordered `group`'s rows linked by duplicate pairs, each cluster of two or more in
/// ledger order.
fn clusters(ledger: &Ledger, group: &[usize]) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..group.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for (a, &earlier) in group.iter().enumerate() {
        let first = &ledger.debits[earlier];
        for (b, &later) in group.iter().enumerate().skip(a + 1) {
            let second = &ledger.debits[later];
            if (second.row.date - first.row.date).num_days() > WINDOW_HOURS / 24 {
                break;
            }
            if duplicates(first, second) {
                let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
                parent[ra.max(rb)] = ra.min(rb);
            }
        }
    }
    let mut by_root: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, &debit) in group.iter().enumerate() {
        by_root.entry(root(&mut parent, i)).or_default().push(debit);
    }
    by_root.into_values().filter(|c| c.len() > 1).collect()
}

/// Whether the merchant of debit `index` was paid on most of the days before it.
fn pays_daily(ledger: &Ledger, index: usize) -> bool {
    let debit = &ledger.debits[index];
    let date = debit.row.date;
    let since = date - Days::new(DAILY_WINDOW_DAYS);
    let days: BTreeSet<NaiveDate> = ledger
        .merchant_debits(&debit.merchant)
        .iter()
        .map(|&i| ledger.debits[i].row.date)
        .filter(|d| (since..date).contains(d))
        .collect();
    days.len() >= DAILY_MIN_DAYS
}

fn alert(ledger: &Ledger, cluster: &[usize]) -> Alert {
    let first = &ledger.debits[cluster[0]];
    let last = &ledger.debits[cluster[cluster.len() - 1]];
    let merchant = first.display_merchant();
    let count = match cluster.len() {
        2 => "twice".to_owned(),
        n => format!("{n} times"),
    };
    let when = if first.row.date == last.row.date {
        format!("on {}", day_month(first.row.date))
    } else {
        format!(
            "within 48 hours ({} and {})",
            day_month(first.row.date),
            day_month(last.row.date)
        )
    };
    let ids = cluster.iter().map(|&i| ledger.debits[i].row.id).collect();
    Alert {
        severity: Severity::Medium,
        date: first.row.date,
        amount: -first.x,
        category: first.category(),
        score: cluster.len() as f64,
        message: format!("{} charged {count} at {merchant} {when}", rupees(first.x)),
        details: json!({
            "charges": cluster.len(),
            "amount": first.x,
            "fingerprints": cluster.iter().map(|&i| ledger.debits[i].row.fingerprint.clone()).collect::<Vec<_>>(),
        }),
        merchant: Some(merchant),
        ..Alert::new(AlertKind::DuplicateCharge, ids, first.row.date.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anomaly::detectors::fixtures::{day, Book};

    #[test]
    fn the_same_charge_twice_within_48_hours_fires_once() {
        let mut book = Book::default();
        let a = book.add(day(2026, 2, 12), -2_499.0, "Amazon", "Shopping");
        book.at(a, 22, 10);
        let b = book.add_new(day(2026, 2, 14), -2_499.0, "Amazon", "Shopping");
        book.at(b, 9, 0);
        let alerts = book.run(day(2026, 2, 14), detect);
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!(alerts[0].transaction_ids, [a, b]);
        assert_eq!(alerts[0].severity, Severity::Medium);
        assert_eq!(
            alerts[0].message,
            "₹2,499 charged twice at Amazon within 48 hours (12 Feb and 14 Feb)"
        );
        assert_eq!(book.run(day(2026, 2, 14), detect), alerts);
    }

    #[test]
    fn without_times_only_the_same_date_counts() {
        let mut book = Book::default();
        let a = book.add(day(2026, 2, 13), -799.5, "Zomato", "Food");
        let b = book.add_new(day(2026, 2, 13), -799.5, "Zomato", "Food");
        book.add_new(day(2026, 2, 14), -799.5, "Zomato", "Food");
        let alerts = book.run(day(2026, 2, 14), detect);
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!(alerts[0].transaction_ids, [a, b]);
        assert_eq!(alerts[0].message, "₹800 charged twice at Zomato on 13 Feb");
    }

    #[test]
    fn exclusions_small_amounts_daily_merchants_same_fingerprint_and_far_apart() {
        let mut book = Book::default();
        // Under ₹100.
        book.add(day(2026, 2, 13), -99.0, "Chai Point", "Food");
        book.add_new(day(2026, 2, 13), -99.0, "Chai Point", "Food");
        // Paid every day: the same parking fee twice is normal.
        for k in 1..=25 {
            book.add(
                day(2026, 2, 13) - Days::new(k),
                -150.0 - k as f64,
                "City Parking",
                "Transport",
            );
        }
        book.add(day(2026, 2, 13), -150.0, "City Parking", "Transport");
        book.add_new(day(2026, 2, 13), -150.0, "City Parking", "Transport");
        // The same fingerprint is the same transaction seen twice.
        book.add(day(2026, 2, 13), -1_200.0, "Myntra", "Shopping");
        let again = book.add_new(day(2026, 2, 13), -1_200.0, "Myntra", "Shopping");
        book.row(again).fingerprint = format!("fp-{}", uuid::Uuid::from_u128(again.as_u128() - 1));
        // 49 hours apart.
        let a = book.add(day(2026, 2, 11), -2_499.0, "Amazon", "Shopping");
        book.at(a, 8, 0);
        let b = book.add_new(day(2026, 2, 13), -2_499.0, "Amazon", "Shopping");
        book.at(b, 9, 0);
        // A different amount by one paisa.
        book.add(day(2026, 2, 13), -500.0, "Uber", "Transport");
        book.add_new(day(2026, 2, 13), -500.01, "Uber", "Transport");
        // A failed attempt and its retry.
        let failed = book.add(day(2026, 2, 13), -640.0, "Swiggy", "Food");
        book.row(failed).status = "failed".into();
        book.add_new(day(2026, 2, 13), -640.0, "Swiggy", "Food");
        assert_eq!(book.run(day(2026, 2, 14), detect), []);
    }

    #[test]
    fn only_history_rows_do_not_fire() {
        let mut book = Book::default();
        book.add(day(2026, 2, 13), -2_499.0, "Amazon", "Shopping");
        book.add(day(2026, 2, 13), -2_499.0, "Amazon", "Shopping");
        book.add_new(day(2026, 2, 14), -300.0, "Amazon", "Shopping");
        assert_eq!(book.run(day(2026, 2, 14), detect), []);
    }
}

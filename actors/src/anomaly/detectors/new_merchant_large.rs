//! `new_merchant_large` (§7.2): a large new debit at a merchant with no debit in the 180 days
//! before, at least the user's minimum (₹5,000) and the 95th percentile of the user's debits over
//! those days; high severity from ₹20,000 and the 99th percentile. The history must reach back
//! 90 days before the debit, so a user's first import does not call every merchant new.

use chrono::Days;
use serde_json::json;

use super::Thresholds;
use crate::anomaly::alert::{round2, rupees, Alert, AlertKind, Severity};
use crate::anomaly::ledger::{window_start, Ledger};
use crate::forecasting::stats::quantile;

/// Days of history needed before the debit.
const MIN_HISTORY_DAYS: u64 = 90;

/// The large debits at new merchants among the new debits.
pub fn detect(ledger: &Ledger, thresholds: &Thresholds) -> Vec<Alert> {
    ledger.judge_new_debits(|i| judge(ledger, i, thresholds))
}

fn judge(ledger: &Ledger, index: usize, thresholds: &Thresholds) -> Option<Alert> {
    let debit = &ledger.debits[index];
    let date = debit.row.date;
    if debit.merchant.is_empty()
        || !ledger.covers(date - Days::new(MIN_HISTORY_DAYS))
        || !ledger.merchant_history(index).is_empty()
    {
        return None;
    }
    let since = window_start(date);
    let first = ledger.debits.partition_point(|d| d.row.date < since);
    let amounts: Vec<f64> = ledger.debits[first..index].iter().map(|d| d.x).collect();
    let (p95, p99) = (quantile(&amounts, 0.95), quantile(&amounts, 0.99));
    let floor = thresholds.new_merchant_min.max(p95);
    let x = debit.x;
    if x < floor {
        return None;
    }
    let severity = if x >= thresholds.new_merchant_high.max(p99) {
        Severity::High
    } else {
        Severity::Medium
    };
    let merchant = debit.display_merchant();
    Some(Alert {
        severity,
        date,
        amount: -x,
        category: debit.category(),
        score: round2(x / floor),
        message: format!(
            "{} at {merchant}, a merchant you have not paid in 180 days",
            rupees(x)
        ),
        details: json!({
            "p95": round2(p95),
            "p99": round2(p99),
            "threshold": round2(floor),
            "history_count": amounts.len(),
        }),
        merchant: Some(merchant),
        ..Alert::new(
            AlertKind::NewMerchantLarge,
            vec![debit.row.id],
            date.to_string(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anomaly::detectors::fixtures::{day, Book};

    fn history(book: &mut Book) {
        book.daily(day(2025, 9, 1), 150, 400.0, "Swiggy");
    }

    #[test]
    fn a_large_first_purchase_fires_and_a_huge_one_is_high() {
        let mut book = Book::default();
        history(&mut book);
        let tv = book.add_new(day(2026, 1, 30), -42_999.0, "Croma", "Shopping");
        let bag = book.add_new(day(2026, 1, 30), -6_000.0, "Hidesign", "Shopping");
        let alerts = book.run(day(2026, 1, 31), detect);
        assert_eq!(alerts.len(), 2, "{alerts:?}");
        assert_eq!(alerts[0].transaction_ids, [tv]);
        assert_eq!(alerts[0].severity, Severity::High);
        assert_eq!(
            alerts[0].message,
            "₹42,999 at Croma, a merchant you have not paid in 180 days"
        );
        assert_eq!(alerts[1].transaction_ids, [bag]);
        assert_eq!(alerts[1].severity, Severity::Medium);
    }

    #[test]
    fn known_merchants_small_amounts_and_short_histories_do_not_fire() {
        let mut book = Book::default();
        history(&mut book);
        book.add(day(2025, 12, 1), -30_000.0, "Croma", "Shopping");
        book.add_new(day(2026, 1, 30), -42_999.0, "Croma", "Shopping");
        book.add_new(day(2026, 1, 30), -4_999.0, "Hidesign", "Shopping");
        assert_eq!(book.run(day(2026, 1, 31), detect), []);
        // Only 30 days of history: nothing is "new" yet.
        let mut short = Book::default();
        short.daily(day(2026, 1, 1), 29, 400.0, "Swiggy");
        short.add_new(day(2026, 1, 30), -42_999.0, "Croma", "Shopping");
        assert_eq!(short.run(day(2026, 1, 31), detect), []);
    }

    #[test]
    fn the_users_p95_raises_the_bar() {
        let mut book = Book::default();
        // A big spender: most debits are ₹8,000 and above.
        for k in 0..150 {
            book.add(
                day(2025, 9, 1) + Days::new(k),
                -8_000.0 - k as f64,
                "Club",
                "Food",
            );
        }
        book.add_new(day(2026, 1, 30), -7_000.0, "Taj Hotels", "Food");
        assert_eq!(book.run(day(2026, 1, 31), detect), []);
    }
}

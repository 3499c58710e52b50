//! What a detector reports (§7.2–7.3): the [`Alert`], its stable id and the rupee amounts of
//! its message, written the Indian way (`₹1,25,000`).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The detectors, in the order [`crate::anomaly::scan`] runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A debit far above the merchant's usual amount.
    MerchantAmountOutlier,
    /// A large debit at a merchant not seen in 180 days.
    NewMerchantLarge,
    /// The same amount charged twice at a merchant within 48 hours.
    DuplicateCharge,
    /// A category's month-to-date spend well above its usual pace.
    CategorySpike,
    /// A subscription charged a different price.
    SubscriptionPriceChange,
    /// A day's spend far above the usual day.
    DailySpendSpike,
    /// A salary that has not arrived.
    MissedIncome,
}

impl AlertKind {
    /// Every kind, in scan order.
    pub const ALL: [AlertKind; 7] = [
        Self::MerchantAmountOutlier,
        Self::NewMerchantLarge,
        Self::DuplicateCharge,
        Self::CategorySpike,
        Self::SubscriptionPriceChange,
        Self::DailySpendSpike,
        Self::MissedIncome,
    ];

    /// The serde name (`merchant_amount_outlier`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::MerchantAmountOutlier => "merchant_amount_outlier",
            Self::NewMerchantLarge => "new_merchant_large",
            Self::DuplicateCharge => "duplicate_charge",
            Self::CategorySpike => "category_spike",
            Self::SubscriptionPriceChange => "subscription_price_change",
            Self::DailySpendSpike => "daily_spend_spike",
            Self::MissedIncome => "missed_income",
        }
    }

    /// Whether the alert is about a period (a month's category, a day, a payday) rather than
    /// particular rows: its id then hashes no transaction ids, so rows added to the same period
    /// later update the alert instead of raising another.
    pub fn is_about_a_period(self) -> bool {
        matches!(
            self,
            Self::CategorySpike | Self::DailySpendSpike | Self::MissedIncome
        )
    }
}

/// How urgent an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth a look.
    Low,
    /// Probably needs the user.
    Medium,
    /// Needs the user.
    High,
}

/// One anomaly found in a user's ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Hex SHA-256 of `type|sorted transaction ids|period_key` (see [`alert_id`]).
    pub id: String,
    /// The detector.
    #[serde(rename = "type")]
    pub kind: AlertKind,
    /// How urgent it is.
    pub severity: Severity,
    /// The transactions it is about, sorted (for a period: the rows that make it up).
    pub transaction_ids: Vec<Uuid>,
    /// The period it is about: a date, a month or `month/category`.
    pub period_key: String,
    /// The day it concerns.
    pub date: NaiveDate,
    /// The amount at stake, signed like a transaction (negative = spend).
    pub amount: f64,
    /// The merchant, when one.
    pub merchant: Option<String>,
    /// The category, when one.
    pub category: Option<String>,
    /// How far from usual (the detector's statistic; see the detector).
    pub score: f64,
    /// The plain-language explanation, with the numbers.
    pub message: String,
    /// The numbers behind the decision.
    pub details: serde_json::Value,
}

impl Alert {
    /// An alert of `kind` about `transaction_ids` in `period_key`, with its id; the detector
    /// fills in the rest (`Alert { severity, …, ..Alert::new(…) }`).
    pub fn new(kind: AlertKind, mut transaction_ids: Vec<Uuid>, period_key: String) -> Self {
        transaction_ids.sort_unstable();
        transaction_ids.dedup();
        let identity: &[Uuid] = if kind.is_about_a_period() {
            &[]
        } else {
            &transaction_ids
        };
        Self {
            id: alert_id(kind, identity, &period_key),
            kind,
            severity: Severity::Low,
            transaction_ids,
            period_key,
            date: NaiveDate::default(),
            amount: 0.0,
            merchant: None,
            category: None,
            score: 0.0,
            message: String::new(),
            details: serde_json::Value::Null,
        }
    }
}

/// `sha256(type|id,id,…|period_key)` in hex, over the ids sorted.
pub fn alert_id(kind: AlertKind, transaction_ids: &[Uuid], period_key: &str) -> String {
    let mut ids = transaction_ids.to_vec();
    ids.sort_unstable();
    let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    let digest = Sha256::digest(format!("{}|{}|{period_key}", kind.name(), ids.join(",")));
    format!("{digest:x}")
}

/// Whole rupees with Indian digit grouping: `₹1,25,000`, `₹12,499`, `₹999` (the sign dropped).
pub fn rupees(amount: f64) -> String {
    let digits = format!("{:.0}", amount.abs().round());
    let (head, last3) = digits.split_at(digits.len().saturating_sub(3));
    let mut groups: Vec<&str> = Vec::new();
    let mut rest = head;
    while rest.len() > 2 {
        let (left, pair) = rest.split_at(rest.len() - 2);
        groups.push(pair);
        rest = left;
    }
    if !rest.is_empty() {
        groups.push(rest);
    }
    groups.reverse();
    groups.push(last3);
    format!("₹{}", groups.join(","))
}

/// A multiple for a message: `9.6×`.
pub fn times(ratio: f64) -> String {
    format!("{ratio:.1}×")
}

/// A date for a message: `13 Feb`.
pub fn day_month(date: NaiveDate) -> String {
    date.format("%-d %b").to_string()
}

/// Rounds a figure of the details to 2 decimal places.
pub fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rupees_group_the_indian_way() {
        assert_eq!(rupees(125_000.0), "₹1,25,000");
        assert_eq!(rupees(12_499.0), "₹12,499");
        assert_eq!(rupees(-12_499.4), "₹12,499");
        assert_eq!(rupees(999.0), "₹999");
        assert_eq!(rupees(1_000.0), "₹1,000");
        assert_eq!(rupees(10_000_000.0), "₹1,00,00,000");
        assert_eq!(rupees(1_234.6), "₹1,235");
        assert_eq!(rupees(0.0), "₹0");
        assert_eq!(rupees(7.0), "₹7");
    }

    #[test]
    fn ids_hash_the_sorted_ids_and_ignore_them_for_periods() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let one = Alert::new(AlertKind::DuplicateCharge, vec![b, a], "2026-02-13".into());
        let two = Alert::new(AlertKind::DuplicateCharge, vec![a, b], "2026-02-13".into());
        assert_eq!(one.id, two.id);
        assert_eq!(one.transaction_ids, [a, b]);
        assert_eq!(one.id.len(), 64);
        assert_eq!(
            one.id,
            alert_id(AlertKind::DuplicateCharge, &[a, b], "2026-02-13")
        );
        let digest = Sha256::digest(format!("duplicate_charge|{a},{b}|2026-02-13"));
        assert_eq!(one.id, format!("{digest:x}"));
        let day = Alert::new(AlertKind::DailySpendSpike, vec![a], "2026-02-13".into());
        let later = Alert::new(AlertKind::DailySpendSpike, vec![a, b], "2026-02-13".into());
        assert_eq!(day.id, later.id);
        assert_ne!(day.id, one.id);
    }

    #[test]
    fn kinds_and_severities_serialise_in_snake_case() {
        for kind in AlertKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.name());
        }
        assert_eq!(serde_json::to_value(Severity::High).unwrap(), "high");
        assert_eq!(times(9.63), "9.6×");
        assert_eq!(
            day_month(NaiveDate::from_ymd_opt(2026, 2, 3).unwrap()),
            "3 Feb"
        );
    }
}

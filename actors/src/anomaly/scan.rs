//! Running every detector (§7.2) over a user's ledger: [`scan`].

use std::collections::BTreeSet;

use chrono::NaiveDate;
use uuid::Uuid;

use super::alert::{Alert, AlertKind};
use super::detectors::{
    category_spike, daily_spend_spike, duplicate_charge, merchant_amount_outlier, missed_income,
    new_merchant_large, subscription_price_change, Thresholds,
};
use super::ledger::Ledger;
use super::Transaction;

/// A detector.
type Detector = fn(&Ledger, &Thresholds) -> Vec<Alert>;

/// The detector of each kind.
fn detector(kind: AlertKind) -> Detector {
    match kind {
        AlertKind::MerchantAmountOutlier => merchant_amount_outlier::detect,
        AlertKind::NewMerchantLarge => new_merchant_large::detect,
        AlertKind::DuplicateCharge => duplicate_charge::detect,
        AlertKind::CategorySpike => category_spike::detect,
        AlertKind::SubscriptionPriceChange => subscription_price_change::detect,
        AlertKind::DailySpendSpike => daily_spend_spike::detect,
        AlertKind::MissedIncome => missed_income::detect,
    }
}

/// Every alert about the rows of `ledger` whose id is in `new_ids` (their history being the
/// other rows) as of `today`, by date, kind and id; the same data always gives the same alerts.
pub fn scan(
    ledger: &[Transaction],
    new_ids: &BTreeSet<Uuid>,
    today: NaiveDate,
    thresholds: &Thresholds,
) -> Vec<Alert> {
    let view = Ledger::new(ledger, new_ids, today);
    let mut alerts: Vec<Alert> = AlertKind::ALL
        .into_iter()
        .flat_map(|kind| detector(kind)(&view, thresholds))
        .collect();
    alerts.sort_by(|a, b| (a.date, a.kind, &a.id).cmp(&(b.date, b.kind, &b.id)));
    alerts.dedup_by(|a, b| a.id == b.id);
    alerts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anomaly::synthetic::{inject, Scenario, SyntheticLedger};

    #[test]
    fn a_rerun_gives_identical_alerts_and_the_order_does_not_depend_on_the_rows_order() {
        let clean = SyntheticLedger::generate(7);
        let mut planted = clean.clone();
        for kind in AlertKind::ALL {
            inject(&mut planted, Scenario::Planted(kind));
        }
        let first = scan(
            &planted.rows,
            &planted.new_ids,
            planted.today,
            &Thresholds::default(),
        );
        assert!(first.len() >= AlertKind::ALL.len(), "{first:#?}");
        let again = scan(
            &planted.rows,
            &planted.new_ids,
            planted.today,
            &Thresholds::default(),
        );
        assert_eq!(first, again);
        let mut shuffled = planted.rows.clone();
        shuffled.reverse();
        assert_eq!(
            scan(
                &shuffled,
                &planted.new_ids,
                planted.today,
                &Thresholds::default()
            ),
            first
        );
        let kinds: BTreeSet<AlertKind> = first.iter().map(|a| a.kind).collect();
        assert_eq!(kinds.len(), AlertKind::ALL.len(), "{kinds:?}");
    }
}

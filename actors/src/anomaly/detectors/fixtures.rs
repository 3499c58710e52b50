//! Hand-built ledgers for the detectors' tests.

use std::collections::BTreeSet;

use chrono::{Days, NaiveDate, NaiveTime};
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::Thresholds;
use crate::anomaly::alert::Alert;
use crate::anomaly::ledger::Ledger;
use crate::anomaly::Transaction;

/// A date.
pub fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A ledger under construction: rows with sequential ids, some marked new.
#[derive(Default)]
pub struct Book {
    pub rows: Vec<Transaction>,
    pub new: BTreeSet<Uuid>,
}

impl Book {
    /// Adds a completed history row; returns its id.
    pub fn add(&mut self, date: NaiveDate, amount: f64, merchant: &str, category: &str) -> Uuid {
        let id = Uuid::from_u128(self.rows.len() as u128 + 1);
        self.rows.push(Transaction {
            id,
            fingerprint: format!("fp-{id}"),
            date,
            time: None,
            amount: Decimal::from_f64(amount).unwrap().round_dp(2),
            status: "completed".into(),
            merchant_name: merchant.into(),
            description: format!("UPI/{merchant}"),
            category: category.into(),
        });
        id
    }

    /// Adds a new row; returns its id.
    pub fn add_new(
        &mut self,
        date: NaiveDate,
        amount: f64,
        merchant: &str,
        category: &str,
    ) -> Uuid {
        let id = self.add(date, amount, merchant, category);
        self.new.insert(id);
        id
    }

    /// The row with `id`, to adjust.
    pub fn row(&mut self, id: Uuid) -> &mut Transaction {
        self.rows.iter_mut().find(|r| r.id == id).unwrap()
    }

    /// Sets a row's time of day.
    pub fn at(&mut self, id: Uuid, h: u32, m: u32) {
        self.row(id).time = NaiveTime::from_hms_opt(h, m, 0);
    }

    /// Runs `detect` as of `today` with the default thresholds.
    pub fn run(
        &self,
        today: NaiveDate,
        detect: fn(&Ledger, &Thresholds) -> Vec<Alert>,
    ) -> Vec<Alert> {
        detect(
            &Ledger::new(&self.rows, &self.new, today),
            &Thresholds::default(),
        )
    }

    /// Steady daily spend of `amount` at `merchant` on every day from `first` for `days` days.
    pub fn daily(&mut self, first: NaiveDate, days: u64, amount: f64, merchant: &str) {
        for k in 0..days {
            // Varies by a few rupees so that no two days are equal.
            let jitter = (k % 7) as f64 * 3.0;
            self.add(first + Days::new(k), -(amount + jitter), merchant, "Food");
        }
    }
}

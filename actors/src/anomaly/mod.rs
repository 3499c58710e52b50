//! Anomaly detection (categorization spec §7.2–7.3, the proposed design): seven explainable,
//! deterministic detectors over a user's ledger, judging the rows an import just added.
//!
//! A [`ledger::Ledger`] is the scoped view of the user's [`Transaction`]s (debits that moved
//! money, merchant keys, which rows are new); each of the [`detectors`] turns it into
//! [`alert::Alert`]s with a plain-language message and the numbers behind it, under the user's
//! [`detectors::Thresholds`]; [`scan`] runs them all in a fixed order. An alert's id hashes what
//! it is about, so a re-run on the same data yields the same alerts. [`synthetic`] builds seeded
//! ledgers with one planted anomaly per detector (and clean controls) and [`evaluation`]
//! measures the detectors on them (`scale eval anomaly`). The serving half: the alert list's
//! [`query`], the user's [`settings`], the SQL in [`store`] and the actor in [`service`], which
//! scans after imports and on demand and publishes new alerts on its bus.

pub mod alert;
pub mod detectors;
pub mod evaluation;
pub mod ledger;
pub mod query;
pub mod scan;
pub mod service;
pub mod settings;
pub mod store;
pub mod synthetic;

use chrono::{NaiveDate, NaiveTime};
use rust_decimal::Decimal;
use uuid::Uuid;

/// One of the user's transactions, as the detectors read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Transaction {
    /// The transaction's id.
    pub id: Uuid,
    /// The ingestion fingerprint (two rows with the same one are the same transaction).
    pub fingerprint: String,
    /// The statement-local date.
    pub date: NaiveDate,
    /// The time of day, when the statement gives one.
    pub time: Option<NaiveTime>,
    /// Signed amount (negative = debit).
    pub amount: Decimal,
    /// `completed`, `pending`, `refunded`, `cancelled` or `failed`.
    pub status: String,
    /// The extracted merchant ('' when none).
    pub merchant_name: String,
    /// The statement narration.
    pub description: String,
    /// The category ('' or `Uncategorized` when none).
    pub category: String,
}

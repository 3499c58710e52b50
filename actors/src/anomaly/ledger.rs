//! The detectors' view of a user's ledger (§7.2 scope): the rows that moved money up to today,
//! the debits among them with their amounts and merchant keys, which rows are new, and how far
//! the history reaches.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::alert::Alert;
use super::Transaction;
use crate::categorization::features::clean;

/// Statuses that never moved money.
const EXCLUDED_STATUSES: [&str; 2] = ["cancelled", "failed"];
/// Days of history a detector looks back over.
pub const HISTORY_DAYS: u64 = 180;

/// A debit in scope.
#[derive(Debug, Clone)]
pub struct Debit<'a> {
    /// The row.
    pub row: &'a Transaction,
    /// |amount| in rupees.
    pub x: f64,
    /// |amount| in paise (exact, for comparing amounts).
    pub paise: i64,
    /// The merchant key (uppercase letters, single spaces; '' when none).
    pub merchant: String,
    /// Whether the row is one of those being judged.
    pub is_new: bool,
}

impl Debit<'_> {
    /// The merchant for a message: the row's merchant name, else the key in title case.
    pub fn display_merchant(&self) -> String {
        let name = self.row.merchant_name.trim();
        if !name.is_empty() {
            return name.to_owned();
        }
        self.merchant
            .split(' ')
            .map(|w| {
                let mut chars = w.chars();
                chars.next().map_or(String::new(), |first| {
                    first.to_string() + &chars.as_str().to_lowercase()
                })
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The row's category, when it has one.
    pub fn category(&self) -> Option<String> {
        let category = self.row.category.trim();
        (!category.is_empty()).then(|| category.to_owned())
    }
}

/// The scoped ledger.
#[derive(Debug, Clone)]
pub struct Ledger<'a> {
    /// Today in the user's timezone.
    pub today: NaiveDate,
    /// Debits (status not cancelled or failed, dated up to today), by date, time and id.
    pub debits: Vec<Debit<'a>>,
    /// Credits in the same scope, by date.
    pub credits: Vec<&'a Transaction>,
    /// Dates of the new rows in scope.
    pub new_dates: BTreeSet<NaiveDate>,
    /// The first and last dates of the rows in scope.
    pub span: Option<(NaiveDate, NaiveDate)>,
    /// Indices into `debits` per merchant key.
    by_merchant: BTreeMap<String, Vec<usize>>,
}

impl<'a> Ledger<'a> {
    /// The view of `rows` as of `today`, judging the rows whose id is in `new_ids`.
    pub fn new(rows: &'a [Transaction], new_ids: &BTreeSet<Uuid>, today: NaiveDate) -> Self {
        let scoped: Vec<&Transaction> = rows
            .iter()
            .filter(|r| {
                r.date <= today
                    && !EXCLUDED_STATUSES
                        .iter()
                        .any(|s| s.eq_ignore_ascii_case(r.status.trim()))
            })
            .collect();
        let span = scoped
            .iter()
            .map(|r| r.date)
            .min()
            .zip(scoped.iter().map(|r| r.date).max());
        let new_dates = scoped
            .iter()
            .filter(|r| new_ids.contains(&r.id))
            .map(|r| r.date)
            .collect();
        let mut debits: Vec<Debit> = scoped
            .iter()
            .filter(|r| r.amount < Decimal::ZERO)
            .map(|&row| Debit {
                row,
                x: row.amount.abs().to_f64().unwrap_or(0.0),
                paise: (row.amount.abs() * Decimal::ONE_HUNDRED)
                    .round()
                    .to_i64()
                    .unwrap_or(i64::MAX),
                merchant: merchant_key(&row.merchant_name, &row.description),
                is_new: new_ids.contains(&row.id),
            })
            .collect();
        debits.sort_by_key(|d| (d.row.date, d.row.time, d.row.id));
        let mut credits: Vec<&Transaction> = scoped
            .into_iter()
            .filter(|r| r.amount > Decimal::ZERO)
            .collect();
        credits.sort_by_key(|r| (r.date, r.time, r.id));
        let mut by_merchant: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, debit) in debits.iter().enumerate() {
            if !debit.merchant.is_empty() {
                by_merchant
                    .entry(debit.merchant.clone())
                    .or_default()
                    .push(i);
            }
        }
        Self {
            today,
            debits,
            credits,
            new_dates,
            span,
            by_merchant,
        }
    }

    /// The new debits, as indices into `debits`.
    pub fn new_debits(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.debits.len()).filter(|&i| self.debits[i].is_new)
    }

    /// The alerts `judge` raises for the new debits (given by index), in order.
    pub fn judge_new_debits(&self, judge: impl FnMut(usize) -> Option<Alert>) -> Vec<Alert> {
        self.new_debits().filter_map(judge).collect()
    }

    /// Indices of the merchant's debits within [`HISTORY_DAYS`] before debit `index` (earlier
    /// in the ledger's order), oldest first.
    pub fn merchant_history(&self, index: usize) -> Vec<usize> {
        let debit = &self.debits[index];
        let since = window_start(debit.row.date);
        self.by_merchant
            .get(&debit.merchant)
            .map(|all| {
                all.iter()
                    .copied()
                    .filter(|&i| i < index && self.debits[i].row.date >= since)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Indices of the merchant's debits, by date.
    pub fn merchant_debits(&self, merchant: &str) -> &[usize] {
        self.by_merchant.get(merchant).map_or(&[], Vec::as_slice)
    }

    /// Whether the history reaches back to `date` (the ledger starts on or before it).
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.span.is_some_and(|(first, _)| first <= date)
    }

    /// The last date with data (`today` when there is none).
    pub fn as_of(&self) -> NaiveDate {
        self.span.map_or(self.today, |(_, last)| last)
    }
}

/// The first day of the [`HISTORY_DAYS`] window before `date`.
pub fn window_start(date: NaiveDate) -> NaiveDate {
    date - Days::new(HISTORY_DAYS)
}

/// The merchant key (§7.2): the merchant name uppercased with everything but letters dropped and
/// spaces collapsed, else the v2-cleaned description likewise; '' when both are empty.
pub fn merchant_key(merchant_name: &str, description: &str) -> String {
    let key = letters_only(merchant_name);
    if key.is_empty() {
        letters_only(&clean(description))
    } else {
        key
    }
}

fn letters_only(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_alphabetic() { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
}

/// When a row happened, to the minute when it has a time (midnight otherwise).
pub fn moment(row: &Transaction) -> NaiveDateTime {
    row.date.and_time(row.time.unwrap_or_default())
}

/// `YYYY-MM` of a date.
pub fn month_key(date: NaiveDate) -> String {
    format!("{:04}-{:02}", date.year(), date.month())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merchant_keys_keep_letters_and_fall_back_to_the_description() {
        assert_eq!(merchant_key("Swiggy Ltd.", ""), "SWIGGY LTD");
        assert_eq!(
            merchant_key("  ", "UPI-REF-123456789-NETFLIX.COM"),
            "NETFLIX COM"
        );
        assert_eq!(merchant_key("", "79SWIGGY"), "SWIGGY");
        assert_eq!(merchant_key("", "1234567890"), "");
    }
}

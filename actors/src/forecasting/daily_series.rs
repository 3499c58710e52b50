//! The forecaster's input (categorization spec §6.1 fixed as in §6.5): usable money flows and
//! the hole-free daily income and spend series built from them, plus payday detection and the
//! income rate.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use rust_decimal::prelude::ToPrimitive;

use super::stats::{median, quantile};
use crate::training::fitting::LedgerEntry;

/// Statuses that never moved money.
const EXCLUDED_STATUSES: [&str; 3] = ["cancelled", "failed", "pending"];
/// Data at most this many days old is padded with zero days up to today.
const MAX_STALE_DAYS: i64 = 3;
/// Days of history the forecaster looks at.
pub const MAX_HISTORY_DAYS: u64 = 2 * 365;
/// Days of history behind the non-recurring income mean.
const INCOME_WINDOW_DAYS: usize = 90;
/// Average days per month.
pub const DAYS_PER_MONTH: f64 = 30.44;
/// A recurring flow (payday, monthly debit) counts only when seen within this many days of the
/// series end.
pub const ACTIVE_DAYS: i64 = 62;

/// One transaction that moved money.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    /// Statement-local date.
    pub date: NaiveDate,
    /// Signed amount (negative = spend).
    pub amount: f64,
    /// Normalised merchant (lowercase, single spaces; '' when none).
    pub merchant: String,
}

/// The usable flows of `entries` as of `today`, by date: status not cancelled, failed or
/// pending, dated within the [`MAX_HISTORY_DAYS`] up to today (future-dated rows are not history;
/// the bound keeps the series' memory bounded whatever the dates).
pub fn flows(entries: &[LedgerEntry], today: NaiveDate) -> Vec<Flow> {
    let oldest = today - Days::new(MAX_HISTORY_DAYS - 1);
    let mut flows: Vec<Flow> = entries
        .iter()
        .filter(|e| {
            (oldest..=today).contains(&e.date)
                && !EXCLUDED_STATUSES
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(e.status.trim()))
        })
        .map(|e| Flow {
            date: e.date,
            amount: e.amount.to_f64().unwrap_or(0.0),
            merchant: e
                .merchant
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase(),
        })
        .collect();
    flows.sort_by_key(|f| f.date);
    flows
}

/// Daily income (Σ credits) and spend (|Σ debits|) on every day from `start`.
#[derive(Debug, Clone, PartialEq)]
pub struct DailySeries {
    /// The first day.
    pub start: NaiveDate,
    /// Σ of positive amounts per day.
    pub income: Vec<f64>,
    /// |Σ of negative amounts| per day.
    pub spend: Vec<f64>,
}

impl DailySeries {
    /// Aggregates date-sorted `flows` from the first to the last date, padded with zero days
    /// up to `today` when the last date is at most 3 days before it; `None` without flows.
    pub fn aggregate(flows: &[Flow], today: NaiveDate) -> Option<Self> {
        let start = flows.first()?.date;
        let last = flows.last()?.date;
        let stale = (today - last).num_days();
        let end = if (1..=MAX_STALE_DAYS).contains(&stale) {
            today
        } else {
            last
        };
        let days = (end - start).num_days() as usize + 1;
        let mut series = Self {
            start,
            income: vec![0.0; days],
            spend: vec![0.0; days],
        };
        for flow in flows {
            let day = series.index(flow.date);
            if flow.amount > 0.0 {
                series.income[day] += flow.amount;
            } else {
                series.spend[day] -= flow.amount;
            }
        }
        Some(series)
    }

    /// Number of days.
    pub fn len(&self) -> usize {
        self.spend.len()
    }

    /// Whether the series has no day (never true for an aggregated series).
    pub fn is_empty(&self) -> bool {
        self.spend.is_empty()
    }

    /// The date of day `index`.
    pub fn date(&self, index: usize) -> NaiveDate {
        self.start + Days::new(index as u64)
    }

    /// The last day.
    pub fn end(&self) -> NaiveDate {
        self.date(self.len() - 1)
    }

    /// The index of `date` (which must lie in the series).
    pub fn index(&self, date: NaiveDate) -> usize {
        (date - self.start).num_days() as usize
    }

    /// Paydays (§6.1 `detect_paydays(pct=90)`): days of month with at least two income days at or
    /// above the 90th percentile of income days, the latest within [`ACTIVE_DAYS`] of the end;
    /// each with the median of those incomes. A payday moved to the Friday before a weekend
    /// counts for its usual day.
    pub fn paydays(&self) -> BTreeMap<u32, f64> {
        let mut by_day: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        for (i, day) in self.payday_incomes() {
            by_day.entry(day).or_default().push(i);
        }
        by_day
            .into_iter()
            .filter(|(_, days)| {
                days.len() >= 2 && (self.len() - 1 - days[days.len() - 1]) as i64 <= ACTIVE_DAYS
            })
            .map(|(day, days)| {
                let amounts: Vec<f64> = days.iter().map(|&i| self.income[i]).collect();
                (day, median(&amounts))
            })
            .collect()
    }

    /// The days with payday-sized income (at or above the 90th percentile of income days), in
    /// order, each with the day of month it was meant for: its own, or for a Friday the Saturday
    /// or Sunday after it when at least as many payday-sized incomes fall on that day of month
    /// (salary paid early because the payday is a weekend).
    fn payday_incomes(&self) -> Vec<(usize, u32)> {
        let positive: Vec<f64> = self.income.iter().copied().filter(|&i| i > 0.0).collect();
        let threshold = quantile(&positive, 0.9);
        let large: Vec<usize> = (0..self.len())
            .filter(|&i| self.income[i] > 0.0 && self.income[i] >= threshold)
            .collect();
        let mut hits: BTreeMap<u32, usize> = BTreeMap::new();
        for &i in &large {
            *hits.entry(self.date(i).day()).or_default() += 1;
        }
        let count = |day: u32| hits.get(&day).copied().unwrap_or(0);
        large
            .into_iter()
            .map(|i| {
                let date = self.date(i);
                let mut day = date.day();
                if date.weekday() == Weekday::Fri {
                    for ahead in [1, 2] {
                        let later = (date + Days::new(ahead)).day();
                        if count(later) >= count(day) {
                            day = later;
                        }
                    }
                }
                (i, day)
            })
            .collect()
    }

    /// The income rate per day (§6.5): (Σ payday medians + mean monthly income of the last 90
    /// days outside paydays) / 30.44.
    pub fn income_rate(&self) -> f64 {
        let paydays = self.paydays();
        let window = self.len().min(INCOME_WINDOW_DAYS);
        let first = self.len() - window;
        let mut other: f64 = self.income[first..].iter().sum();
        for (i, day) in self.payday_incomes() {
            if i >= first && paydays.contains_key(&day) {
                other -= self.income[i];
            }
        }
        paydays.values().sum::<f64>() / DAYS_PER_MONTH + other.max(0.0) / window as f64
    }
}

#[cfg(test)]
pub(crate) mod tests;

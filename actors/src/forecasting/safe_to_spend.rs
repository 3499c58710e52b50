//! Safe-to-spend (categorization spec §6.3 and §6.5): how much a user can spend over the next
//! 1–30 days. [`v2`] answers from the fitted [`ForecastModel`]: the income rate over the horizon,
//! minus the share of every recurring debit that falls on the horizon (set aside pro rata, as the
//! income is a rate), minus the 90th percentile of the simulated discretionary spend (per-path
//! sums), with an [`Explanation`] whose components add up to the cent. [`v1`] is the original
//! rolling average (compat mode) and [`no_data`] the original answer without transactions; all
//! three keep the original response fields.
//!
//! Departure from §6.5, which subtracts the horizon's 90th percentile of *all* spend, recurring
//! debits on their due days included: there the income arrives as a steady rate but a ₹20,000
//! rent drops in and out of a 7-day window, so `safe_amount` swung by the whole rent with how
//! the window met the due date — the same flaw v1 had with payday. Setting each commitment aside
//! at `amount × H / 30.44` keeps both sides of the budget on the same footing; the per-day
//! `forecast_breakdown` still shows each debit on its due day, and the explanation names every
//! commitment with its next due date.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use serde::Serialize;

use super::daily_series::{Flow, DAYS_PER_MONTH};
use super::model::{coverage, forecast_after, ForecastDay, ForecastModel, ModelKind, PATHS};
use super::recurring;
use super::stats::{mean, money};
use crate::error::CoreError;

/// The currency of every amount.
pub const CURRENCY: &str = "INR";
/// The horizon when none is asked for.
pub const DEFAULT_HORIZON: u32 = 7;
/// The longest horizon.
pub const MAX_HORIZON: u32 = 30;
/// A model whose data ends this many days or more before today has no recent data.
const LOOKBACK_DAYS: u64 = 90;
/// How far ahead a commitment's next due date is looked for (two months).
const NEXT_DUE_WITHIN: usize = 62;
/// Days behind the v1 averages.
const V1_WINDOW: usize = 30;

/// A safe-to-spend horizon in days, 1..=[`MAX_HORIZON`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Horizon(u32);

impl Horizon {
    /// `days` as a horizon; a validation error outside 1..=[`MAX_HORIZON`].
    pub fn new(days: u32) -> Result<Self, CoreError> {
        if (1..=MAX_HORIZON).contains(&days) {
            Ok(Self(days))
        } else {
            Err(CoreError::invalid(format!(
                "horizon must be between 1 and {MAX_HORIZON} days"
            )))
        }
    }

    /// The number of days.
    pub fn days(self) -> u32 {
        self.0
    }
}

impl Default for Horizon {
    fn default() -> Self {
        Self(DEFAULT_HORIZON)
    }
}

/// Where an answer comes from (the response's `model`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// The v1 rolling average, or no data at all.
    StatisticalMvp,
    /// The fitted forecaster (`ets_weekly_v1`, `log_mean`, `insufficient_data`).
    #[serde(untagged)]
    Fitted(ModelKind),
}

/// The safe-to-spend answer, field for field the original response (§6.3 step 5, api_compat:
/// `safe_amount, currency, horizon_days, confidence, model, note, forecast_breakdown`) plus the
/// v2 `explanation`. Fields that are `None` are left out, as the original no-data answer does.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SafeToSpend {
    /// What can be spent over the horizon (2 dp; may be negative).
    pub safe_amount: f64,
    /// Always [`CURRENCY`].
    pub currency: &'static str,
    /// The horizon in days.
    pub horizon_days: u32,
    /// 0..=1, 2 dp.
    pub confidence: f64,
    /// Income per day (v2: the income rate `r`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avg_daily_income: Option<f64>,
    /// Spend per day (v2: the mean of the daily p50s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avg_daily_spend: Option<f64>,
    /// Days of history behind the answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_analyzed: Option<usize>,
    /// The method.
    #[schema(value_type = String)]
    pub model: Method,
    /// One sentence on the basis of the answer.
    pub note: String,
    /// Per-day spend quantiles over the horizon (v1: empty).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forecast_breakdown: Option<Vec<ForecastDay>>,
    /// How `safe_amount` is made up (v2 only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
}

/// The parts of a v2 `safe_amount`:
/// `safe_amount = expected_income − committed_total − discretionary.p50 − buffer`, exactly.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Explanation {
    /// Income per day (§6.5 `r`: paydays at their median plus other recent income).
    pub income_rate: f64,
    /// `r` × the horizon.
    pub expected_income: f64,
    /// Every recurring debit, with its share of the horizon.
    pub committed: Vec<Commitment>,
    /// The sum of their shares ([`Commitment::set_aside`]).
    pub committed_total: f64,
    /// Spend beyond the commitments over the horizon: the median and the 90th percentile of the
    /// simulated totals.
    pub discretionary: DiscretionarySpend,
    /// `discretionary.p90 − discretionary.p50`: kept back for a heavier than usual stretch.
    pub buffer: f64,
    /// The same in one sentence.
    pub text: String,
}

/// A recurring debit and what the horizon sets aside for it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Commitment {
    /// The normalised merchant.
    pub merchant: String,
    /// When it next falls due (from the horizon's first day).
    pub due_date: NaiveDate,
    /// Whether that is within the horizon.
    pub due_in_horizon: bool,
    /// Its usual (median) monthly amount.
    pub amount: f64,
    /// Its share of the horizon: `amount × H / 30.44`.
    pub set_aside: f64,
}

/// Quantiles of the horizon's discretionary spend.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DiscretionarySpend {
    /// Median total.
    pub p50: f64,
    /// 90th percentile total.
    pub p90: f64,
}

/// The original answer when there are no transactions (§6.3 step 2).
pub fn no_data(horizon: Horizon) -> SafeToSpend {
    SafeToSpend {
        safe_amount: 0.0,
        currency: CURRENCY,
        horizon_days: horizon.days(),
        confidence: 0.0,
        avg_daily_income: None,
        avg_daily_spend: None,
        days_analyzed: None,
        model: Method::StatisticalMvp,
        note: "No transactions found in the last 90 days.".into(),
        forecast_breakdown: None,
        explanation: None,
    }
}

/// The v1 answer (§6.3 step 3, compat mode) from the caller's flows (the original read the
/// last 90 days): days = the §6.1 daily rows, whose last ≤ 30 give the average income and spend,
/// `safe_amount = round((avg_income − avg_spend) · H, 2)`.
pub fn v1(flows: &[Flow], horizon: Horizon) -> SafeToSpend {
    let rows = compat_daily(flows);
    if rows.is_empty() {
        return no_data(horizon);
    }
    let recent: Vec<(f64, f64)> = rows.values().rev().take(V1_WINDOW).copied().collect();
    let income = mean(&recent.iter().map(|r| r.0).collect::<Vec<_>>());
    let spend = mean(&recent.iter().map(|r| r.1).collect::<Vec<_>>());
    SafeToSpend {
        safe_amount: money((income - spend) * f64::from(horizon.days())),
        currency: CURRENCY,
        horizon_days: horizon.days(),
        confidence: coverage(rows.len()),
        avg_daily_income: Some(money(income)),
        avg_daily_spend: Some(money(spend)),
        days_analyzed: Some(rows.len()),
        model: Method::StatisticalMvp,
        note: format!("Based on {} days of transaction history.", rows.len()),
        forecast_breakdown: Some(Vec::new()),
        explanation: None,
    }
}

/// The §6.1 `aggregate_daily` rows: income and spend each cover their own first-to-last day
/// range, and the rows are the union of the two ranges (so the calendar can have holes).
fn compat_daily(flows: &[Flow]) -> BTreeMap<NaiveDate, (f64, f64)> {
    let mut rows = BTreeMap::new();
    for income in [true, false] {
        let mut dates = flows
            .iter()
            .filter(|f| (f.amount > 0.0) == income && f.amount != 0.0)
            .map(|f| f.date);
        let Some(first) = dates.next() else { continue };
        let (low, high) = dates.fold((first, first), |(l, h), d| (l.min(d), h.max(d)));
        for date in low.iter_days().take_while(|d| *d <= high) {
            rows.insert(date, (0.0, 0.0));
        }
    }
    for flow in flows {
        if let Some(row) = rows.get_mut(&flow.date) {
            if flow.amount > 0.0 {
                row.0 += flow.amount;
            } else {
                row.1 -= flow.amount;
            }
        }
    }
    rows
}

/// The v2 answer (§6.5, commitments set aside pro rata: see the module doc) for the days after
/// `today` from the user's fitted model; [`no_data`] without a model or when its data ends 90 days
/// or more before today. `safe_amount = round(r·H) − Σ round(amount·H/30.44) − round(Q90(Σ_{h≤H}
/// discretionary_h))` to the cent, the discretionary totals being per-path sums.
pub fn v2(model: Option<&ForecastModel>, today: NaiveDate, horizon: Horizon) -> SafeToSpend {
    let Some(model) = model.filter(|m| m.last_date + Days::new(LOOKBACK_DAYS) > today) else {
        return no_data(horizon);
    };
    let skip = (today - model.last_date).num_days().max(0) as u32;
    let forecast = forecast_after(model, skip, horizon.days());
    let first = model.last_date + Days::new(1 + u64::from(skip));
    let days = horizon.days() as usize;
    let committed: Vec<Commitment> = model
        .recurring
        .iter()
        .filter_map(|debit| {
            let due_date = first
                .iter_days()
                .take(NEXT_DUE_WITHIN)
                .find(|d| debit.due_on(*d))?;
            Some(Commitment {
                merchant: debit.merchant.clone(),
                due_date,
                due_in_horizon: (due_date - first).num_days() < i64::from(horizon.days()),
                amount: money(debit.amount),
                set_aside: money(debit.amount * f64::from(horizon.days()) / DAYS_PER_MONTH),
            })
        })
        .collect();
    // In cents, so that the parts add up exactly. The simulated totals are the discretionary
    // totals shifted by the (fixed) debits due within the horizon, so their quantiles shift by
    // the same amount.
    let income = cents(model.income_rate * f64::from(horizon.days()));
    let due: i64 = recurring::due(&model.recurring, first, days)
        .map(|(_, debit)| cents(debit.amount))
        .sum();
    let committed_total: i64 = committed.iter().map(|c| cents(c.set_aside)).sum();
    let (p50, p90) = (
        cents(forecast.total.p50) - due,
        cents(forecast.total.p90) - due,
    );
    let explanation = Explanation {
        income_rate: money(model.income_rate),
        expected_income: rupees(income),
        committed_total: rupees(committed_total),
        discretionary: DiscretionarySpend {
            p50: rupees(p50),
            p90: rupees(p90),
        },
        buffer: rupees(p90 - p50),
        text: explain(horizon, income, &committed, committed_total, p50, p90 - p50),
        committed,
    };
    let note = match model.model {
        ModelKind::InsufficientData => {
            "Fewer than 7 days of transaction history: spending cannot be forecast yet.".into()
        }
        _ => format!(
            "Based on {} days of transaction history: expected income, minus the share of \
             recurring payments, minus the 90th percentile of {PATHS} simulated {}-day \
             spending paths.",
            model.days,
            horizon.days()
        ),
    };
    SafeToSpend {
        safe_amount: rupees(income - committed_total - p90),
        currency: CURRENCY,
        horizon_days: horizon.days(),
        confidence: forecast.confidence,
        avg_daily_income: Some(forecast.income_rate),
        avg_daily_spend: Some(money(mean(
            &forecast
                .days
                .iter()
                .map(|d| d.spend.p50)
                .collect::<Vec<_>>(),
        ))),
        days_analyzed: Some(model.days),
        model: Method::Fitted(model.model),
        note,
        forecast_breakdown: Some(forecast.days),
        explanation: Some(explanation),
    }
}

/// The explanation as a sentence.
fn explain(
    horizon: Horizon,
    income: i64,
    committed: &[Commitment],
    committed_total: i64,
    typical: i64,
    buffer: i64,
) -> String {
    let bills = if committed.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = committed
            .iter()
            .map(|c| {
                format!(
                    "{} {} a month, next due {}",
                    c.merchant,
                    rupee_text(cents(c.amount)),
                    c.due_date
                )
            })
            .collect();
        format!(" ({})", list.join(", "))
    };
    format!(
        "Over the next {} days: expected income {} − set aside for recurring payments {}{} − \
         typical spending {} − a buffer of {} for a heavier stretch = {} safe to spend.",
        horizon.days(),
        rupee_text(income),
        rupee_text(committed_total),
        bills,
        rupee_text(typical),
        rupee_text(buffer),
        rupee_text(income - committed_total - typical - buffer),
    )
}

/// Money in whole cents.
fn cents(amount: f64) -> i64 {
    (amount * 100.0).round() as i64
}

/// Cents as money.
fn rupees(cents: i64) -> f64 {
    cents as f64 / 100.0
}

/// Cents as text: `₹1234.50`, `−₹80.00`.
fn rupee_text(cents: i64) -> String {
    let sign = if cents < 0 { "−" } else { "" };
    let cents = cents.unsigned_abs();
    format!("{sign}₹{}.{:02}", cents / 100, cents % 100)
}

#[cfg(test)]
mod tests;

//! The answers of §8.2, assembled from aggregates Postgres computed. Money arrives as exact
//! `numeric` text, is kept as [`Decimal`] and leaves as a number with two decimals.

use chrono::{NaiveDate, Weekday};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use uuid::Uuid;

use super::period::{self, Timeframe};
use crate::error::CoreError;

/// Top categories in the overview.
pub const TOP_CATEGORIES: usize = 4;
/// Largest expenses in the overview.
pub const SPLURGES: usize = 3;
/// Categories in the summary's distribution.
pub const CATEGORY_DISTRIBUTION: usize = 6;
/// Merchants in the summary's leaderboard.
pub const MERCHANT_LEADERBOARD: usize = 5;

/// `GET /analytics/overview`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Overview {
    /// `weekly` or `monthly`.
    pub timeframe: Timeframe,
    /// First day of the period.
    pub period_start: NaiveDate,
    /// Last day of the period.
    pub period_end: NaiveDate,
    /// Σ|amount| of the period's expenses.
    pub total_expenses: f64,
    /// Spend per active day (weekly) or active week (monthly).
    pub average: f64,
    /// `day` or `week`.
    pub average_unit: &'static str,
    /// Spend per bucket, in order.
    pub trend: Vec<TrendPoint>,
    /// The period's top categories by spend.
    pub top_categories: Vec<NameValue>,
    /// The period's largest expenses.
    pub splurges: Vec<Splurge>,
}

/// One trend bar.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TrendPoint {
    /// `Mon` or `W1`.
    pub label: String,
    /// `5 Jan` or `1 Jan - 7 Jan`.
    pub full_label: String,
    /// The bucket's first day.
    pub date_start: NaiveDate,
    /// Spend in the bucket.
    pub amount: f64,
}

/// A category and its spend.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct NameValue {
    /// Category (`Uncategorized` when empty).
    pub name: String,
    /// Spend.
    pub value: f64,
}

/// One large expense; `amount` is the spend, |amount|.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Splurge {
    /// Transaction id.
    pub id: Uuid,
    /// Its date.
    pub transaction_date: NaiveDate,
    /// Its narration.
    pub description: String,
    /// Its merchant.
    pub merchant_name: String,
    /// Its category.
    pub category: String,
    /// Spend, |amount|.
    pub amount: f64,
}

/// `GET /analytics/summary`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Summary {
    /// This calendar month against the previous one.
    pub monthly_comparison: MonthlyComparison,
    /// All-history spend per weekday, Sunday first.
    pub weekday_spend: Vec<WeekdaySpend>,
    /// All-history top categories.
    pub category_distribution: Vec<NameValue>,
    /// All-history top merchants.
    pub merchant_leaderboard: Vec<MerchantSpend>,
}

/// This month against the previous one.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MonthlyComparison {
    /// Spend in the current calendar month.
    pub current_month_spend: f64,
    /// Spend in the previous calendar month.
    pub prev_month_spend: f64,
    /// Signed change in percent, two decimals (see [`period::percent_change`]).
    pub percent_change: f64,
}

/// Spend on one weekday.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WeekdaySpend {
    /// `Sun`…`Sat`.
    pub day: &'static str,
    /// Spend.
    pub amount: f64,
}

/// A merchant's spend and visits.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MerchantSpend {
    /// `merchant_name`, else `description`, else `Unknown`, cut at the first `*` and trimmed.
    pub name: String,
    /// Spend.
    pub amount: f64,
    /// Expenses counted.
    pub count: i64,
}

/// Exact money from Postgres `numeric` text.
pub fn decimal(text: &str) -> Result<Decimal, CoreError> {
    text.parse().map_err(|_| {
        CoreError::Database(scale_schema::DbFailure::query(format!(
            "not a decimal amount: `{text}`"
        )))
    })
}

/// A decimal as a JSON number with two decimals (half away from zero).
pub fn money(value: Decimal) -> f64 {
    let rounded = value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    rounded.to_string().parse().unwrap_or(f64::NAN)
}

/// Builds the overview of `timeframe` at `today` from the daily expense totals of the period
/// (days without expenses absent), its categories by spend and its largest expenses.
pub fn overview(
    timeframe: Timeframe,
    today: NaiveDate,
    daily: &[(NaiveDate, Decimal)],
    categories: Vec<(String, Decimal)>,
    splurges: Vec<Splurge>,
) -> Overview {
    let period = period::period(timeframe, today);
    let in_period: Vec<_> = daily
        .iter()
        .filter(|(day, _)| (period.start..=period.end).contains(day))
        .collect();
    let total: Decimal = in_period.iter().map(|(_, v)| *v).sum();
    let active: Vec<NaiveDate> = in_period.iter().map(|(day, _)| *day).collect();
    let trend = period
        .buckets
        .iter()
        .map(|b| TrendPoint {
            label: b.label.clone(),
            full_label: b.full_label.clone(),
            date_start: b.start,
            amount: money(
                in_period
                    .iter()
                    .filter(|(day, _)| (b.start..=b.end).contains(day))
                    .map(|(_, v)| *v)
                    .sum(),
            ),
        })
        .collect();
    Overview {
        timeframe,
        period_start: period.start,
        period_end: period.end,
        total_expenses: money(total),
        average: money(period::average(timeframe, total, &active)),
        average_unit: period::average_unit(timeframe),
        trend,
        top_categories: name_values(categories, TOP_CATEGORIES),
        splurges: splurges.into_iter().take(SPLURGES).collect(),
    }
}

/// Builds the summary from this and last month's spend, spend per weekday, categories and
/// merchants (name, spend, visits), the last two already ordered by spend.
pub fn summary(
    current: Decimal,
    previous: Decimal,
    weekdays: &[(Weekday, Decimal)],
    categories: Vec<(String, Decimal)>,
    merchants: Vec<(String, Decimal, i64)>,
) -> Summary {
    const SUNDAY_FIRST: [Weekday; 7] = [
        Weekday::Sun,
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
    ];
    let weekday_spend = SUNDAY_FIRST
        .iter()
        .map(|day| WeekdaySpend {
            day: period::weekday_name(*day),
            amount: money(
                weekdays
                    .iter()
                    .filter(|(d, _)| d == day)
                    .map(|(_, v)| *v)
                    .sum(),
            ),
        })
        .collect();
    Summary {
        monthly_comparison: MonthlyComparison {
            current_month_spend: money(current),
            prev_month_spend: money(previous),
            percent_change: money(period::percent_change(current, previous)),
        },
        weekday_spend,
        category_distribution: name_values(categories, CATEGORY_DISTRIBUTION),
        merchant_leaderboard: merchants
            .into_iter()
            .take(MERCHANT_LEADERBOARD)
            .map(|(name, amount, count)| MerchantSpend {
                name,
                amount: money(amount),
                count,
            })
            .collect(),
    }
}

fn name_values(rows: Vec<(String, Decimal)>, limit: usize) -> Vec<NameValue> {
    rows.into_iter()
        .take(limit)
        .map(|(name, value)| NameValue {
            name,
            value: money(value),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn m(s: &str) -> Decimal {
        decimal(s).unwrap()
    }

    #[test]
    fn money_is_exact_and_two_decimal() {
        let sum: Decimal = ["0.10", "0.20", "0.30"].iter().map(|s| m(s)).sum();
        assert_eq!(money(sum), 0.6);
        assert_eq!(money(m("100") / Decimal::from(3)), 33.33);
        assert_eq!(money(m("0.125")), 0.13);
        assert!(decimal("abc").is_err());
    }

    #[test]
    fn weekly_overview_buckets_days_and_averages_over_active_days() {
        let today = d("2026-11-25");
        let daily = [
            (d("2026-11-19"), m("100.50")),
            (d("2026-11-25"), m("200.00")),
            (d("2026-11-18"), m("999.00")), // before the period: ignored
        ];
        let o = overview(Timeframe::Weekly, today, &daily, vec![], vec![]);
        assert_eq!(o.period_start, d("2026-11-19"));
        assert_eq!(o.total_expenses, 300.5);
        assert_eq!(o.average, 150.25);
        assert_eq!(o.average_unit, "day");
        let amounts: Vec<f64> = o.trend.iter().map(|t| t.amount).collect();
        assert_eq!(amounts, [100.5, 0.0, 0.0, 0.0, 0.0, 0.0, 200.0]);
        assert_eq!(o.trend[6].label, "Wed");
        assert_eq!(o.trend[6].full_label, "25 Nov");
    }

    #[test]
    fn monthly_overview_sums_weeks_and_averages_over_active_weeks() {
        let daily = [
            (d("2026-11-01"), m("10")),
            (d("2026-11-07"), m("20")),
            (d("2026-11-29"), m("30")),
        ];
        let cats = (1..=6).map(|i| (format!("C{i}"), m("1"))).collect();
        let o = overview(Timeframe::Monthly, d("2026-11-10"), &daily, cats, vec![]);
        let amounts: Vec<f64> = o.trend.iter().map(|t| t.amount).collect();
        assert_eq!(amounts, [30.0, 0.0, 0.0, 0.0, 30.0]);
        assert_eq!(o.total_expenses, 60.0);
        assert_eq!(o.average, 30.0);
        assert_eq!(o.top_categories.len(), TOP_CATEGORIES);
        assert_eq!(o.period_end, d("2026-11-30"));
    }

    #[test]
    fn summary_orders_weekdays_from_sunday_and_limits_lists() {
        let s = summary(
            m("150"),
            m("100"),
            &[(Weekday::Sun, m("5")), (Weekday::Sat, m("7.25"))],
            (1..=8).map(|i| (format!("C{i}"), m("1"))).collect(),
            (1..=8).map(|i| (format!("M{i}"), m("2"), i)).collect(),
        );
        assert_eq!(s.monthly_comparison.percent_change, 50.0);
        let days: Vec<_> = s.weekday_spend.iter().map(|w| w.day).collect();
        assert_eq!(days, ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]);
        assert_eq!(s.weekday_spend[0].amount, 5.0);
        assert_eq!(s.weekday_spend[6].amount, 7.25);
        assert_eq!(s.category_distribution.len(), CATEGORY_DISTRIBUTION);
        assert_eq!(s.merchant_leaderboard.len(), MERCHANT_LEADERBOARD);
        let none = summary(Decimal::ZERO, Decimal::ZERO, &[], vec![], vec![]);
        assert_eq!(none.monthly_comparison.percent_change, 0.0);
    }
}

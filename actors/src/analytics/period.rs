//! Periods and their buckets (spec §8.1), over an explicit `today` so they are testable: the
//! weekly period is `today−6…today` in daily buckets, the monthly one the current calendar month
//! in buckets `W1…` of seven days from the 1st (days outside the month excluded).

use std::str::FromStr;

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc, Weekday};
/// An IANA time zone (re-exported so callers need no `chrono-tz` dependency).
pub use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::error::CoreError;

/// The zone used when neither the request nor the profile names one.
pub const DEFAULT_TZ: Tz = chrono_tz::Asia::Kolkata;

/// The overview's period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Timeframe {
    /// The last seven days, today included.
    Weekly,
    /// The current calendar month.
    Monthly,
}

impl Timeframe {
    /// Parses `?timeframe=` (absent: weekly).
    pub fn parse(raw: Option<&str>) -> Result<Self, CoreError> {
        match raw {
            None | Some("weekly") => Ok(Timeframe::Weekly),
            Some("monthly") => Ok(Timeframe::Monthly),
            Some(other) => Err(CoreError::Validation(format!(
                "`timeframe` must be weekly or monthly, not `{other}`"
            ))),
        }
    }

    /// The name used in responses and cache keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Timeframe::Weekly => "weekly",
            Timeframe::Monthly => "monthly",
        }
    }
}

/// Parses an IANA time zone name (`?tz=`).
pub fn parse_tz(raw: &str) -> Result<Tz, CoreError> {
    Tz::from_str(raw)
        .map_err(|_| CoreError::Validation(format!("`tz` is not an IANA time zone: `{raw}`")))
}

/// The calendar date in `tz` at `now`.
pub fn today_in(tz: Tz, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

/// One trend bar: the days `start..=end`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// Short label: `Mon` (weekly) or `W1` (monthly).
    pub label: String,
    /// Long label: `5 Jan` (weekly) or `1 Jan - 7 Jan` (monthly).
    pub full_label: String,
    /// First day.
    pub start: NaiveDate,
    /// Last day.
    pub end: NaiveDate,
}

/// A period and its trend buckets, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    /// First day.
    pub start: NaiveDate,
    /// Last day.
    pub end: NaiveDate,
    /// The trend's buckets.
    pub buckets: Vec<Bucket>,
}

/// The period of `timeframe` around `today`.
pub fn period(timeframe: Timeframe, today: NaiveDate) -> Period {
    match timeframe {
        Timeframe::Weekly => {
            let start = today - Days::new(6);
            let buckets = start
                .iter_days()
                .take(7)
                .map(|day| Bucket {
                    label: weekday_name(day.weekday()).to_owned(),
                    full_label: day_month(day),
                    start: day,
                    end: day,
                })
                .collect();
            Period {
                start,
                end: today,
                buckets,
            }
        }
        Timeframe::Monthly => {
            let (start, end) = month_of(today);
            let buckets = (0..)
                .map(|week: u64| start + Days::new(week * 7))
                .take_while(|first| *first <= end)
                .enumerate()
                .map(|(i, first)| {
                    let last = (first + Days::new(6)).min(end);
                    Bucket {
                        label: format!("W{}", i + 1),
                        full_label: format!("{} - {}", day_month(first), day_month(last)),
                        start: first,
                        end: last,
                    }
                })
                .collect();
            Period {
                start,
                end,
                buckets,
            }
        }
    }
}

/// The first and last day of `day`'s calendar month.
pub fn month_of(day: NaiveDate) -> (NaiveDate, NaiveDate) {
    let first = day.with_day(1).expect("every month has a 1st");
    let last = first + Months::new(1) - Days::new(1);
    (first, last)
}

/// The first and last day of the month before `day`'s.
pub fn previous_month(day: NaiveDate) -> (NaiveDate, NaiveDate) {
    month_of(month_of(day).0 - Days::new(1))
}

/// The average spend (§8.1): `total` over the distinct active days (weekly) or active week
/// indices `floor((day−1)/7)` (monthly), the divisor at least 1.
pub fn average(timeframe: Timeframe, total: Decimal, active_days: &[NaiveDate]) -> Decimal {
    let mut units: Vec<u32> = active_days
        .iter()
        .map(|d| match timeframe {
            Timeframe::Weekly => d.num_days_from_ce().unsigned_abs(),
            Timeframe::Monthly => (d.day() - 1) / 7,
        })
        .collect();
    units.sort_unstable();
    units.dedup();
    total / Decimal::from(units.len().max(1))
}

/// The unit of [`average`]: `day` (weekly) or `week` (monthly).
pub fn average_unit(timeframe: Timeframe) -> &'static str {
    match timeframe {
        Timeframe::Weekly => "day",
        Timeframe::Monthly => "week",
    }
}

/// Month-over-month change in percent (§8.1): 0 when both are 0, 100 when only the previous
/// month is 0, else `(current − previous) / previous · 100`.
pub fn percent_change(current: Decimal, previous: Decimal) -> Decimal {
    if previous.is_zero() {
        if current.is_zero() {
            Decimal::ZERO
        } else {
            Decimal::ONE_HUNDRED
        }
    } else {
        (current - previous) / previous * Decimal::ONE_HUNDRED
    }
}

/// English short weekday (`Sun`…`Sat`), as en-IN shows it.
pub fn weekday_name(day: Weekday) -> &'static str {
    ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][day.num_days_from_monday() as usize]
}

/// `d Mon` as en-IN shows it (`5 Jan`, `9 Sept`).
pub fn day_month(day: NaiveDate) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sept", "Oct", "Nov", "Dec",
    ];
    format!("{} {}", day.day(), MONTHS[day.month0() as usize])
}

#[cfg(test)]
mod tests;

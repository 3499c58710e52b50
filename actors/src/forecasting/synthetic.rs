//! Seeded synthetic ledgers for the forecaster's evaluation: salary on a payday (moved to the
//! previous working day when it falls on a weekend), rent and EMIs, subscriptions, weekday and
//! weekend discretionary spend, occasional large purchases and refunds, days and stretches
//! without transactions, a few unsettled rows; and the §6.3 worked-example user with gamma
//! daily spend.

use chrono::{Datelike, Days, NaiveDate, Weekday};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;

use crate::training::fitting::LedgerEntry;

/// Shops of everyday spending (each seen many times a month, so never recurring).
const SHOPS: [&str; 8] = [
    "swiggy",
    "zomato",
    "bigbasket",
    "uber",
    "amazon",
    "dmart",
    "indian oil",
    "flipkart",
];
/// Subscriptions with their monthly price.
const SUBSCRIPTIONS: [(&str, f64); 6] = [
    ("netflix", 649.0),
    ("spotify", 119.0),
    ("jio recharge", 299.0),
    ("cult fit", 1500.0),
    ("youtube premium", 129.0),
    ("act broadband", 999.0),
];
/// Lenders of EMIs.
const LENDERS: [&str; 3] = ["hdfc loan emi", "bajaj finserv emi", "icici car loan"];
/// The last day of every synthetic ledger's latest possible end.
const LATEST_END: (i32, u32, u32) = (2026, 6, 30);

/// A synthetic user's ledger and the day it is read.
#[derive(Debug, Clone)]
pub struct SyntheticUser {
    /// Every transaction.
    pub entries: Vec<LedgerEntry>,
    /// Today (the last day of the ledger).
    pub today: NaiveDate,
}

/// A completed ledger entry (amount to 2 dp).
fn entry(date: NaiveDate, amount: f64, merchant: &str) -> LedgerEntry {
    LedgerEntry {
        date,
        amount: Decimal::from_f64_retain(amount)
            .unwrap_or_default()
            .round_dp(2),
        merchant: merchant.into(),
        status: "completed".into(),
    }
}

/// A gamma(2) draw with mean `mean` (the sum of two exponentials).
fn gamma2(rng: &mut ChaCha8Rng, mean: f64) -> f64 {
    let u: f64 = rng.random_range(f64::EPSILON..1.0);
    let v: f64 = rng.random_range(f64::EPSILON..1.0);
    -(u.ln() + v.ln()) * mean / 2.0
}

/// `date` moved back to the Friday before when it falls on a weekend.
fn working_day(date: NaiveDate) -> NaiveDate {
    match date.weekday() {
        Weekday::Sat => date - Days::new(1),
        Weekday::Sun => date - Days::new(2),
        _ => date,
    }
}

/// The date of `day` (clamped to the month's length) in the month of `date`.
fn in_month(date: NaiveDate, day: u32) -> NaiveDate {
    (1..=day)
        .rev()
        .find_map(|d| NaiveDate::from_ymd_opt(date.year(), date.month(), d))
        .unwrap_or(date)
}

/// User `index` of the users drawn from `seed`.
pub fn user(seed: u64, index: u64) -> SyntheticUser {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index);
    let (y, m, d) = LATEST_END;
    let latest = NaiveDate::from_ymd_opt(y, m, d).expect("a valid date");
    let today = latest - Days::new(rng.random_range(0..28));
    let start = today - Days::new(rng.random_range(150..=240));

    let salary = (rng.random_range(25_000.0f64..150_000.0) / 100.0).round() * 100.0;
    let payday = *[1, 1, 1, 5, 7, 10, 25, 28]
        .choose(&mut rng)
        .expect("not empty");
    let mut monthly: Vec<(String, u32, f64)> = Vec::new();
    if rng.random_bool(0.7) {
        let rent = (salary * rng.random_range(0.2..0.35) / 500.0).round() * 500.0;
        monthly.push(("landlord".into(), rng.random_range(1..=7), rent));
    }
    let lenders = rng.random_range(0..=2);
    for lender in LENDERS.choose_multiple(&mut rng, lenders) {
        let emi = (salary * rng.random_range(0.03..0.15)).round();
        monthly.push(((*lender).into(), rng.random_range(1..=15), emi));
    }
    let subscriptions = rng.random_range(1..=4);
    for (name, price) in SUBSCRIPTIONS.choose_multiple(&mut rng, subscriptions) {
        monthly.push(((*name).into(), rng.random_range(1..=28), *price));
    }
    let weekday_mean = rng.random_range(200.0..1200.0) * (salary / 60_000.0).sqrt();
    let weekend_mean = weekday_mean * rng.random_range(1.2..2.5);
    let gap_start = rng
        .random_bool(0.5)
        .then(|| start + Days::new(rng.random_range(30..120)));
    let gap_days = rng.random_range(3..=7);

    let mut entries = Vec::new();
    for date in start.iter_days().take_while(|d| *d <= today) {
        if date.day() == 1 || date == start {
            let pay = working_day(in_month(date, payday));
            if (start..=today).contains(&pay) {
                entries.push(entry(pay, salary, "acme payroll"));
            }
            for (merchant, day, amount) in &monthly {
                let due = in_month(date, *day);
                if (start..=today).contains(&due) {
                    entries.push(entry(due, -amount, merchant));
                }
            }
        }
        if gap_start.is_some_and(|g| (g..g + Days::new(gap_days)).contains(&date)) {
            continue;
        }
        if rng.random_bool(0.08) {
            continue;
        }
        let weekend = date.weekday().number_from_monday() >= 6;
        let spend = gamma2(&mut rng, if weekend { weekend_mean } else { weekday_mean });
        let parts = rng.random_range(1..=3);
        for _ in 0..parts {
            let shop = SHOPS.choose(&mut rng).expect("not empty");
            entries.push(entry(date, -(spend / f64::from(parts)).max(1.0), shop));
        }
        if rng.random_bool(1.0 / 45.0) {
            let shop = SHOPS.choose(&mut rng).expect("not empty");
            entries.push(entry(date, -rng.random_range(5_000.0..40_000.0), shop));
        }
        if rng.random_bool(1.0 / 30.0) {
            entries.push(entry(date, rng.random_range(50.0..2_000.0), "refund"));
        }
        if rng.random_bool(0.02) {
            let mut unsettled = entry(date, -rng.random_range(100.0..5_000.0), "amazon");
            unsettled.status = (*["pending", "failed"].choose(&mut rng).expect("not empty")).into();
            entries.push(unsettled);
        }
    }
    SyntheticUser { entries, today }
}

/// The §6.3 worked-example user from 2025-10-01 to `today`: salary 60,000 on the 1st, rent
/// 20,000 on the 5th, gamma daily spend with mean 400 on weekdays and 900 at weekends.
pub fn worked_example(seed: u64, today: NaiveDate) -> SyntheticUser {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let start = NaiveDate::from_ymd_opt(2025, 10, 1).expect("a valid date");
    let mut entries = Vec::new();
    for date in start.iter_days().take_while(|d| *d <= today) {
        if date.day() == 1 {
            entries.push(entry(date, 60_000.0, "acme payroll"));
        }
        if date.day() == 5 {
            entries.push(entry(date, -20_000.0, "landlord"));
        }
        let weekend = date.weekday().number_from_monday() >= 6;
        let spend = gamma2(&mut rng, if weekend { 900.0 } else { 400.0 });
        entries.push(entry(date, -spend.max(1.0), "shop"));
    }
    SyntheticUser { entries, today }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_seeded_and_paydays_avoid_weekends() {
        let a = user(7, 3);
        assert_eq!(a.entries, user(7, 3).entries);
        assert_ne!(a.entries, user(7, 4).entries);
        for e in a.entries.iter().filter(|e| e.merchant == "acme payroll") {
            assert!(e.date.weekday().number_from_monday() <= 5, "{e:?}");
        }
        assert_eq!(
            working_day(NaiveDate::from_ymd_opt(2026, 2, 1).unwrap()),
            NaiveDate::from_ymd_opt(2026, 1, 30).unwrap()
        );
    }
}

//! Seeded synthetic ledgers for measuring the detectors: 240 days of an Indian salaried user
//! (salary on a payday, rent, EMIs, subscriptions, a monthly electricity bill
//! varying by up to ±30%, weekday and
//! weekend spend at everyday merchants, a few refunds and failed payments, quiet days without
//! any spend), the last 30 days being the "new" rows of an import. [`inject`] plants one known anomaly of a kind in the new rows and says where it is;
//! a ledger left alone is a clean control.
//!
//! Everyday spend follows routines: each merchant is visited every few days (±1; weekends pull
//! the next visit forward), at 0.8–1.25× the user's usual amount there, and a day's visits stay
//! within 2× the user's average day. The clean ledgers model ordinary behaviour, so that an
//! alert on them is a false alarm of a detector rather than an unusual day the generator
//! happened to draw; the gates measured on them say nothing about heavier-tailed real ledgers.

use std::collections::BTreeSet;

use chrono::{Datelike, Days, Months, NaiveDate, NaiveTime, Timelike, Weekday};
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::alert::AlertKind;
use super::ledger::month_key;
use super::Transaction;
use crate::forecasting::stats::{median, quantile};

/// Days of history generated, today included.
pub const HISTORY_DAYS: u64 = 240;
/// The last this many days are the new rows.
pub const NEW_DAYS: u64 = 30;
/// Days of month salaries are paid on.
const PAYDAYS: [u32; 4] = [1, 3, 5, 7];
/// Share of days without any everyday spend.
const QUIET_DAY: f64 = 0.08;
/// An ordinary day's everyday spend stays within this multiple of the user's average day
/// (errands beyond it wait for the next day).
const DAY_BUDGET: f64 = 2.0;

/// A merchant people spend at every day: name, category, range of usual amounts, how often (4:
/// every 2–3 days, 3: 3–5, 2: 5–7, 1: 9–15).
type Shop = (&'static str, &'static str, f64, f64, u32);

const SHOPS: [Shop; 20] = [
    ("Swiggy", "Food", 250.0, 600.0, 4),
    ("Zomato", "Food", 250.0, 600.0, 4),
    ("Blinkit", "Food", 300.0, 800.0, 3),
    ("Zepto", "Food", 200.0, 700.0, 3),
    ("BigBasket", "Food", 700.0, 1_300.0, 1),
    ("Starbucks", "Food", 300.0, 500.0, 2),
    ("Chai Point", "Food", 60.0, 120.0, 3),
    ("Sagar Ratna", "Food", 400.0, 900.0, 1),
    ("Uber", "Transport", 150.0, 450.0, 3),
    ("Ola", "Transport", 150.0, 400.0, 2),
    ("Rapido", "Transport", 60.0, 150.0, 3),
    ("Namma Metro", "Transport", 40.0, 90.0, 3),
    ("Indian Oil", "Transport", 700.0, 1_300.0, 1),
    ("Amazon", "Shopping", 300.0, 1_400.0, 1),
    ("Flipkart", "Shopping", 300.0, 1_400.0, 1),
    ("Myntra", "Shopping", 600.0, 1_400.0, 1),
    ("BookMyShow", "Entertainment", 300.0, 800.0, 1),
    ("Apollo Pharmacy", "Health", 150.0, 700.0, 1),
    ("Tata 1mg", "Health", 200.0, 800.0, 1),
    ("Rahul Sharma", "People", 200.0, 1_000.0, 1),
];

/// Subscriptions: name, category, price, days between charges (0 = the same day each month).
const SUBSCRIPTIONS: [(&str, &str, f64, u64); 8] = [
    ("Netflix", "Entertainment", 649.0, 0),
    ("Spotify", "Entertainment", 119.0, 0),
    ("Disney+ Hotstar", "Entertainment", 299.0, 0),
    ("YouTube Premium", "Entertainment", 129.0, 0),
    ("Airtel Postpaid", "Utilities", 599.0, 0),
    ("Jio Recharge", "Utilities", 349.0, 28),
    ("Cult.fit", "Health", 1_499.0, 0),
    ("ACT Fibernet", "Utilities", 1_049.0, 0),
];

/// Loans: name, range of the instalment.
const LOANS: [(&str, f64, f64); 3] = [
    ("Bajaj Finance EMI", 3_000.0, 12_000.0),
    ("HDFC Car Loan EMI", 8_000.0, 20_000.0),
    ("SBI Home Loan EMI", 15_000.0, 40_000.0),
];

const EMPLOYERS: [&str; 5] = [
    "Infosys Ltd",
    "TCS Payroll",
    "Wipro Limited",
    "Accenture Solutions",
    "Flipkart Internet",
];
const ELECTRICITY: [&str; 3] = ["BESCOM", "Tata Power", "Adani Electricity"];
/// Merchants no synthetic user visits in the ordinary way.
const BIG_TICKET: [&str; 6] = [
    "Croma",
    "Reliance Digital",
    "Tanishq",
    "MakeMyTrip",
    "IKEA",
    "Apple Store",
];

/// A merchant a user spends at, at their usual amount.
#[derive(Debug, Clone, PartialEq)]
pub struct Habit {
    /// The merchant.
    pub merchant: &'static str,
    /// Its category.
    pub category: &'static str,
    /// The user's usual amount there.
    pub usual: f64,
    /// Days between visits (±1).
    pub every: u64,
}

/// A user's generated ledger.
#[derive(Debug, Clone)]
pub struct SyntheticLedger {
    /// The generator's seed.
    pub seed: u64,
    /// Every row (by date; planted rows last).
    pub rows: Vec<Transaction>,
    /// The rows of the last [`NEW_DAYS`] days.
    pub new_ids: BTreeSet<Uuid>,
    /// The day of the import.
    pub today: NaiveDate,
    /// The everyday merchants.
    pub habits: Vec<Habit>,
    /// The salary's day of month and amount.
    pub salary: (u32, f64),
    /// The subscriptions.
    pub subscriptions: Vec<&'static str>,
    /// Whether the bank gives times of day.
    with_time: bool,
    /// Whether the bank gives merchant names (else only narrations).
    with_names: bool,
}

/// What a ledger is measured as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Nothing planted.
    Clean,
    /// One anomaly of this kind planted.
    Planted(AlertKind),
}

/// Where a planted anomaly is.
#[derive(Debug, Clone, PartialEq)]
pub struct Planted {
    /// Its kind.
    pub kind: AlertKind,
    /// The rows it added or changed.
    pub transaction_ids: Vec<Uuid>,
    /// The period it concerns (as the detector keys it).
    pub period_key: String,
}

impl SyntheticLedger {
    /// The ledger of seed `seed`.
    pub fn generate(seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let month = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap_or_default()
            + Months::new((seed % 12) as u32);
        let today = month
            .with_day(12 + (seed / 12 % 16) as u32)
            .unwrap_or(month);
        let mut ledger = Self {
            seed,
            rows: Vec::new(),
            new_ids: BTreeSet::new(),
            today,
            habits: Vec::new(),
            salary: (
                *PAYDAYS.choose(&mut rng).unwrap_or(&1),
                1_000.0 * f64::from(rng.random_range(30..=150u32)),
            ),
            subscriptions: Vec::new(),
            with_time: rng.random_bool(0.6),
            with_names: rng.random_bool(0.8),
        };
        let mut shops = SHOPS.to_vec();
        shops.shuffle(&mut rng);
        ledger.habits = shops
            .iter()
            .take(rng.random_range(10..=14))
            .map(|&(merchant, category, low, high, weight)| Habit {
                merchant,
                category,
                usual: rng.random_range(low..high),
                every: match weight {
                    4 => rng.random_range(2..=3),
                    3 => rng.random_range(3..=5),
                    2 => rng.random_range(5..=7),
                    _ => rng.random_range(9..=15),
                },
            })
            .collect();
        let start = today - Days::new(HISTORY_DAYS - 1);
        let mut next: Vec<NaiveDate> = ledger
            .habits
            .iter()
            .map(|h| start + Days::new(rng.random_range(0..h.every)))
            .collect();
        let mut subscriptions = SUBSCRIPTIONS.to_vec();
        subscriptions.shuffle(&mut rng);
        subscriptions.truncate(rng.random_range(2..=4));
        ledger.subscriptions = subscriptions.iter().map(|s| s.0).collect();
        let employer = *EMPLOYERS.choose(&mut rng).unwrap_or(&EMPLOYERS[0]);
        let rent = rng
            .random_bool(0.7)
            .then(|| (ledger.salary.1 * rng.random_range(0.18..0.3) / 500.0).round() * 500.0);
        let rent_day = rng.random_range(1..=5u32);
        let mut loans = LOANS.to_vec();
        loans.shuffle(&mut rng);
        let loans: Vec<(&str, f64, u32)> = loans
            .iter()
            .take(rng.random_range(0..=2))
            .map(|&(name, low, high)| {
                (
                    name,
                    rng.random_range(low..high).round(),
                    rng.random_range(2..=10),
                )
            })
            .collect();
        let electricity = *ELECTRICITY.choose(&mut rng).unwrap_or(&ELECTRICITY[0]);
        let bill = (
            rng.random_range(700.0..2_200.0),
            rng.random_range(10..=20u32),
        );
        let sub_days: Vec<u32> = subscriptions
            .iter()
            .map(|_| rng.random_range(1..=28))
            .collect();

        for date in start.iter_days().take(HISTORY_DAYS as usize) {
            let dom = date.day();
            if dom == ledger.salary.0 {
                let amount = ledger.salary.1;
                ledger.push(&mut rng, date, amount, employer, "Salary", "completed");
            }
            if let Some(rent) = rent.filter(|_| dom == rent_day) {
                ledger.push(&mut rng, date, -rent, "NoBroker Rent", "Misc", "completed");
            }
            for &(name, amount, day) in &loans {
                if dom == day {
                    ledger.push(&mut rng, date, -amount, name, "Finance", "completed");
                }
            }
            if dom == bill.1 {
                let amount = bill.0 * rng.random_range(0.7..1.3);
                ledger.push(
                    &mut rng,
                    date,
                    -amount,
                    electricity,
                    "Utilities",
                    "completed",
                );
            }
            for (&(name, category, price, cycle), &day) in subscriptions.iter().zip(&sub_days) {
                let due = match cycle {
                    0 => dom == day,
                    n => (date - start).num_days() as u64 % n == u64::from(day) % n,
                };
                if due {
                    ledger.push(&mut rng, date, -price, name, category, "completed");
                }
            }
            ledger.everyday(&mut rng, date, &mut next);
            if rng.random_bool(0.015) {
                let amount = rng.random_range(100.0..1_500.0);
                ledger.push(
                    &mut rng,
                    date,
                    amount,
                    "Amazon Refund",
                    "Shopping",
                    "completed",
                );
            }
        }
        ledger
    }

    /// A day's everyday purchases: the habits due (on a weekend, also those due tomorrow), none
    /// on a quiet day and none past the day's budget (they wait for the next day), at least one
    /// today so that the import reaches today.
    fn everyday(&mut self, rng: &mut ChaCha8Rng, date: NaiveDate, next: &mut [NaiveDate]) {
        if date != self.today && rng.random_bool(QUIET_DAY) {
            return;
        }
        let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
        let horizon = if weekend { date + Days::new(1) } else { date };
        let mut due: Vec<usize> = (0..next.len()).filter(|&i| next[i] <= horizon).collect();
        if due.is_empty() && date == self.today {
            due.extend((0..next.len()).min_by_key(|&i| next[i]));
        }
        let budget = DAY_BUDGET
            * self
                .habits
                .iter()
                .map(|h| h.usual / h.every as f64)
                .sum::<f64>();
        let mut spent = 0.0;
        for i in due {
            let habit = self.habits[i].clone();
            if spent > 0.0 && spent + habit.usual > budget {
                continue;
            }
            spent += habit.usual;
            let amount = self.unrepeated(
                date,
                habit.merchant,
                habit.usual * rng.random_range(0.8..1.25),
            );
            if rng.random_bool(0.01) {
                self.spend_at(rng, date, amount, &habit, "failed");
            }
            self.spend_at(rng, date, amount, &habit, "completed");
            next[i] = date + Days::new(habit.every + rng.random_range(0..=2)) - Days::new(1);
        }
    }

    /// `amount`, moved by a paisa at a time until no payment at `merchant` in the 2 days before
    /// `date` has it: two different purchases costing the same to the paisa is what
    /// `duplicate_charge` looks for, so clean ledgers do not draw them by chance.
    fn unrepeated(&self, date: NaiveDate, merchant: &str, amount: f64) -> f64 {
        let mut paise = (amount * 100.0).round() as i64;
        let recent: Vec<i64> = self
            .rows
            .iter()
            .rev()
            .take_while(|r| r.date + Days::new(2) >= date)
            .filter(|r| paid_to(r, merchant))
            .filter_map(|r| (r.amount.abs() * Decimal::ONE_HUNDRED).to_i64())
            .collect();
        while recent.contains(&paise) {
            paise += 1;
        }
        paise as f64 / 100.0
    }

    /// Adds a row (new when dated in the last [`NEW_DAYS`]); returns its id.
    /// A debit of `amount` at `habit`'s merchant with `status`.
    fn spend_at(
        &mut self,
        rng: &mut ChaCha8Rng,
        date: NaiveDate,
        amount: f64,
        habit: &Habit,
        status: &str,
    ) -> Uuid {
        self.push(rng, date, -amount, habit.merchant, habit.category, status)
    }

    fn push(
        &mut self,
        rng: &mut ChaCha8Rng,
        date: NaiveDate,
        amount: f64,
        merchant: &str,
        category: &str,
        status: &str,
    ) -> Uuid {
        let id = Uuid::from_u128(rng.random());
        let time = self
            .with_time
            .then(|| NaiveTime::from_hms_opt(rng.random_range(7..23), rng.random_range(0..60), 0))
            .flatten();
        let reference: u64 = rng.random_range(100_000_000_000..1_000_000_000_000);
        self.rows.push(Transaction {
            id,
            fingerprint: format!("{:016x}", rng.random::<u64>()),
            date,
            time,
            amount: Decimal::new((amount * 100.0).round() as i64, 2),
            status: status.into(),
            merchant_name: if self.with_names {
                merchant.into()
            } else {
                String::new()
            },
            description: format!("UPI/{reference}/{}/PAYMENT", merchant.to_uppercase()),
            category: category.into(),
        });
        if date > self.today - Days::new(NEW_DAYS) {
            self.new_ids.insert(id);
        }
        id
    }

    /// The new dates, oldest first.
    fn new_dates(&self) -> Vec<NaiveDate> {
        let first = self.today - Days::new(NEW_DAYS - 1);
        first.iter_days().take(NEW_DAYS as usize).collect()
    }

    /// Completed debits as (row index, |amount|).
    fn debits(&self) -> impl Iterator<Item = (usize, f64)> + '_ {
        self.rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r.status == "completed" && r.amount < Decimal::ZERO)
            .map(|(i, r)| (i, r.amount.abs().to_f64().unwrap_or(0.0)))
    }

    /// Σ of completed debits of `category` (all when `None`) dated in `from..=to`.
    fn spend(&self, category: Option<&str>, from: NaiveDate, to: NaiveDate) -> f64 {
        self.debits()
            .filter(|&(i, _)| {
                let row = &self.rows[i];
                (from..=to).contains(&row.date) && category.is_none_or(|c| row.category == c)
            })
            .map(|(_, x)| x)
            .sum()
    }
}

/// Whether `row` is a payment to `merchant` (the narration names it whether or not the bank
/// gives merchant names).
fn paid_to(row: &Transaction, merchant: &str) -> bool {
    row.description
        .contains(&format!("/{}/", merchant.to_uppercase()))
}

/// Plants one anomaly of `scenario`'s kind in `ledger`'s new rows; `None` for a clean control.
pub fn inject(ledger: &mut SyntheticLedger, scenario: Scenario) -> Option<Planted> {
    let Scenario::Planted(kind) = scenario else {
        return None;
    };
    let mut rng = ChaCha8Rng::seed_from_u64(ledger.seed ^ (0x9e37_79b9 * (kind as u64 + 1)));
    let dates = ledger.new_dates();
    let date = *dates.choose(&mut rng)?;
    let period = date.to_string();
    let (transaction_ids, period_key) = match kind {
        AlertKind::MerchantAmountOutlier => {
            let habit = ledger
                .habits
                .iter()
                .filter(|h| h.usual >= 150.0)
                .min_by_key(|h| h.every)?
                .clone();
            let amount = habit.usual * rng.random_range(6.0..10.0);
            let id = ledger.spend_at(&mut rng, date, amount, &habit, "completed");
            (vec![id], period)
        }
        AlertKind::NewMerchantLarge => {
            let merchant = *BIG_TICKET.choose(&mut rng)?;
            let amount = rng.random_range(9_000.0..60_000.0);
            let id = ledger.push(&mut rng, date, -amount, merchant, "Shopping", "completed");
            (vec![id], period)
        }
        AlertKind::DuplicateCharge => {
            let candidates: Vec<usize> = ledger
                .debits()
                .filter(|&(i, x)| {
                    let row = &ledger.rows[i];
                    x >= 200.0 && ledger.new_ids.contains(&row.id) && row.category != "Misc"
                })
                .map(|(i, _)| i)
                .collect();
            let original = ledger.rows[*candidates.choose(&mut rng)?].clone();
            let copy = Transaction {
                id: Uuid::from_u128(rng.random()),
                fingerprint: format!("{:016x}", rng.random::<u64>()),
                time: original.time.map(|t| {
                    let minutes = chrono::TimeDelta::minutes(rng.random_range(1..120));
                    if t.hour() >= 21 {
                        t - minutes
                    } else {
                        t + minutes
                    }
                }),
                ..original.clone()
            };
            ledger.new_ids.insert(copy.id);
            let ids = vec![original.id, copy.id];
            ledger.rows.push(copy);
            (ids, original.date.to_string())
        }
        AlertKind::CategorySpike => plant_category_spike(ledger, &mut rng)?,
        AlertKind::SubscriptionPriceChange => {
            let names = ledger.subscriptions.clone();
            let first_new = ledger.today - Days::new(NEW_DAYS - 1);
            let row = ledger
                .rows
                .iter_mut()
                .rev()
                .find(|r| r.date >= first_new && names.iter().any(|&n| paid_to(r, n)))?;
            let factor = Decimal::new(rng.random_range(115..140), 2);
            row.amount = (row.amount * factor).round_dp(2);
            (vec![row.id], month_key(row.date))
        }
        AlertKind::DailySpendSpike => plant_daily_spike(ledger, &mut rng, date)?,
        AlertKind::MissedIncome => {
            let (payday, _) = ledger.salary;
            let limit = ledger.today - Days::new(4);
            let due = (0..2)
                .map(|k| limit.with_day(1).unwrap_or(limit) - Months::new(k))
                .filter_map(|m| m.with_day(payday))
                .find(|&d| d <= limit)?;
            let before = ledger.rows.len();
            ledger
                .rows
                .retain(|r| !(r.date == due && r.amount > Decimal::ZERO && r.category == "Salary"));
            if ledger.rows.len() == before {
                return None;
            }
            (Vec::new(), due.to_string())
        }
    };
    Some(Planted {
        kind,
        transaction_ids,
        period_key,
    })
}

/// Extra purchases in one category this month, at the user's usual amounts: a usual month's
/// worth (at least ₹2,000) and ₹2,000 more.
fn plant_category_spike(
    ledger: &mut SyntheticLedger,
    rng: &mut ChaCha8Rng,
) -> Option<(Vec<Uuid>, String)> {
    let today = ledger.today;
    let month = today.with_day(1)?;
    let categories: BTreeSet<&str> = ledger.habits.iter().map(|h| h.category).collect();
    let category = *categories.iter().copied().collect::<Vec<_>>().choose(rng)?;
    let habits: Vec<Habit> = ledger
        .habits
        .iter()
        .filter(|h| h.category == category)
        .cloned()
        .collect();
    let months: Vec<f64> = (1..=3)
        .map(|k| {
            let start = month - Months::new(k);
            ledger.spend(Some(category), start, start + Months::new(1) - Days::new(1))
        })
        .collect();
    let extra = median(&months).max(2_000.0) + 2_000.0;
    let mut ids = Vec::new();
    let mut total = 0.0;
    while total < extra {
        let habit = habits.choose(rng)?;
        let day = month + Days::new(rng.random_range(0..u64::from(today.day())));
        let amount = habit.usual * rng.random_range(0.9..1.2);
        ids.push(ledger.push(rng, day, -amount, habit.merchant, category, "completed"));
        total += amount;
    }
    Some((ids, format!("{}/{category}", month_key(month))))
}

/// Extra purchases on one day at the user's usual merchants and amounts, far past a usual day.
fn plant_daily_spike(
    ledger: &mut SyntheticLedger,
    rng: &mut ChaCha8Rng,
    date: NaiveDate,
) -> Option<(Vec<Uuid>, String)> {
    let days: Vec<f64> = (1..=90)
        .map(|k| {
            let day = date - Days::new(k);
            ledger.spend(None, day, day)
        })
        .collect();
    let target = (3.0 * quantile(&days, 0.95)).max(6_000.0);
    let habits: Vec<Habit> = ledger
        .habits
        .iter()
        .filter(|h| h.usual >= 150.0)
        .cloned()
        .collect();
    let mut total = ledger.spend(None, date, date);
    let mut ids = Vec::new();
    while total < target {
        let habit = habits.choose(rng)?;
        let amount = habit.usual * rng.random_range(1.0..1.2);
        ids.push(ledger.spend_at(rng, date, amount, habit, "completed"));
        total += amount;
    }
    Some((ids, date.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_always_gives_the_same_ledger() {
        let (a, b) = (SyntheticLedger::generate(3), SyntheticLedger::generate(3));
        assert_eq!(a.rows, b.rows);
        assert_eq!(a.new_ids, b.new_ids);
        assert_ne!(a.rows, SyntheticLedger::generate(4).rows);
    }

    #[test]
    fn a_ledger_looks_like_a_salaried_user() {
        let ledger = SyntheticLedger::generate(11);
        let salaries = ledger
            .rows
            .iter()
            .filter(|r| r.category == "Salary")
            .count();
        assert!((7..=9).contains(&salaries), "{salaries}");
        assert!(ledger.rows.len() > 300, "{}", ledger.rows.len());
        let new = ledger
            .rows
            .iter()
            .filter(|r| ledger.new_ids.contains(&r.id));
        assert!(new
            .clone()
            .all(|r| r.date > ledger.today - Days::new(NEW_DAYS)));
        assert!(new.clone().any(|r| r.date == ledger.today));
        assert_eq!(ledger.rows.iter().map(|r| r.date).max(), Some(ledger.today));
    }

    #[test]
    fn every_kind_can_be_planted() {
        for seed in 0..5 {
            for kind in AlertKind::ALL {
                let mut ledger = SyntheticLedger::generate(seed);
                let planted = inject(&mut ledger, Scenario::Planted(kind));
                assert!(planted.is_some(), "seed {seed}: {kind:?}");
            }
            let mut clean = SyntheticLedger::generate(seed);
            assert_eq!(inject(&mut clean, Scenario::Clean), None);
        }
    }
}

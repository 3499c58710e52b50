//! `scale seed`: demo users for development. Each user's history is a seeded synthetic ledger
//! of the forecaster's evaluation (salary on a working-day payday, rent, EMIs, subscriptions,
//! weekday and weekend spend, large purchases, refunds), written as monthly bank statements
//! (an HDFC-style CSV export with Indian narrations: UPI, NEFT, NACH, card standing
//! instructions, BBPS) and imported through the ingest pipeline of `POST /ingest/import`, so
//! the rows are parsed, de-duplicated, categorised and counted in `uploaded_files`. A statement
//! imported before is refused by the pipeline and skipped, so seeding again changes nothing.

use std::time::Duration;

use anyhow::Context as _;
use chrono::{Datelike, Days, Months, NaiveDate};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use scale_actors::categorization::synthetic::Vocabulary;
use scale_actors::forecasting::synthetic;
use scale_actors::ingest::streaming::{self, Target, Upload};
use scale_actors::ingest::IngestError;
use scale_actors::training::fitting::LedgerEntry;
use scale_http::auth::{mint_token, Role};
use serde_json::json;
use uuid::Uuid;

use crate::config::Config;

/// Options of `scale seed`.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// Demo users to create (1–100).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=100))]
    users: u64,
    /// Calendar months of statements per user, the current one included (1–5).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=5))]
    months: u32,
    /// Seed of the users' ids and histories: the same seed gives the same users.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The last day of the histories (default: today, UTC). Seeding again with the same day
    /// changes nothing; a later day shifts the histories, which then import as new rows.
    #[arg(long)]
    until: Option<NaiveDate>,
    /// Lifetime of the printed tokens, in seconds.
    #[arg(long, default_value_t = 86_400)]
    ttl_secs: i64,
}

/// Runs the seed and prints one JSON line per user, then (on standard error) how to call the
/// API with a token.
pub fn run(config: &Config, options: &Options) -> anyhow::Result<()> {
    let until = options
        .until
        .unwrap_or_else(|| chrono::Utc::now().date_naive());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        scale_schema::run_migrations(&config.database_url).await?;
        let target = Target {
            pool: scale_schema::connect(&config.database_url, 1, Duration::from_secs(10)),
            brain: config.brain()?.current(),
        };
        for index in 0..options.users {
            let user = DemoUser::new(options.seed, index);
            let (id, name) = (user.id, user.name.clone());
            let mut totals = Totals::default();
            for statement in user.statements(until, options.months) {
                totals.add(import(&target, id, statement).await?);
            }
            let token = mint_token(&config.jwt_secret, id, Role::User, options.ttl_secs);
            crate::output::print(json!({
                "user_id": id,
                "name": name,
                "token": token,
                "statements": totals.statements,
                "already_imported": totals.already_imported,
                "inserted": totals.inserted,
                "skipped_duplicates": totals.skipped_duplicates,
            }))?;
        }
        anyhow::Ok(())
    })?;
    eprintln!(
        "scale seed: call the API as a user with its token, e.g. curl -H \"Authorization: \
         Bearer $TOKEN\" http://{}/api/v1/accounts/transactions (start it with ./scripts/dev.sh)",
        config.bind_addr
    );
    Ok(())
}

/// What importing one statement did.
enum Imported {
    /// Stored now: rows inserted and rows that were already there.
    Stored { inserted: usize, duplicates: usize },
    /// This exact file was imported before (an earlier seed).
    Before,
}

/// Imports one statement for `user`; a file imported before is not an error.
async fn import(target: &Target, user: Uuid, statement: Statement) -> anyhow::Result<Imported> {
    let upload = Upload {
        bytes: statement.csv.into_bytes(),
        filename: statement.filename.clone(),
        password: None,
    };
    match streaming::import_file(target, user, upload, false).await {
        Ok(outcome) => Ok(Imported::Stored {
            inserted: outcome.inserted,
            duplicates: outcome.skipped_duplicates,
        }),
        Err(IngestError::FileAlreadyImported { .. }) => Ok(Imported::Before),
        Err(err) => Err(err).with_context(|| format!("importing {}", statement.filename)),
    }
}

/// A user's import figures.
#[derive(Default)]
struct Totals {
    statements: usize,
    already_imported: usize,
    inserted: usize,
    skipped_duplicates: usize,
}

impl Totals {
    fn add(&mut self, imported: Imported) {
        self.statements += 1;
        match imported {
            Imported::Stored {
                inserted,
                duplicates,
            } => {
                self.inserted += inserted;
                self.skipped_duplicates += duplicates;
            }
            Imported::Before => self.already_imported += 1,
        }
    }
}

/// One monthly statement file.
struct Statement {
    filename: String,
    csv: String,
}

/// A demo user: an id, a name and the references of their statements, all drawn from the seed.
struct DemoUser {
    /// Which synthetic ledger (of the seed) is theirs.
    seed: u64,
    index: u64,
    id: Uuid,
    name: String,
    account: String,
    landlord: String,
    rng: ChaCha8Rng,
}

impl DemoUser {
    fn new(seed: u64, index: u64) -> DemoUser {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(index);
        let id = uuid::Builder::from_random_bytes(rng.random()).into_uuid();
        let vocabulary = Vocabulary::shipped();
        let person = |rng: &mut ChaCha8Rng| {
            let given = vocabulary
                .given_names
                .choose(rng)
                .map_or("", String::as_str);
            let surname = vocabulary.surnames.choose(rng).map_or("", String::as_str);
            format!("{given} {surname}")
        };
        let name = person(&mut rng);
        let landlord = person(&mut rng);
        let account = format!("XXXXXXXX{:04}", rng.random_range(0..10_000));
        DemoUser {
            seed,
            index,
            id,
            name,
            account,
            landlord,
            rng,
        }
    }

    /// The user's completed transactions from the first day of the month `months - 1` before
    /// `until`'s up to `until`, as one statement per calendar month.
    fn statements(mut self, until: NaiveDate, months: u32) -> Vec<Statement> {
        let ledger = synthetic::user(self.seed, self.index);
        let shift = (until - ledger.today).num_days();
        let first = until
            .with_day(1)
            .and_then(|d| d.checked_sub_months(Months::new(months - 1)))
            .unwrap_or(until);
        let mut entries: Vec<LedgerEntry> = ledger
            .entries
            .into_iter()
            .filter(|e| e.status == "completed")
            .map(|mut e| {
                e.date = shifted(e.date, shift);
                e
            })
            .filter(|e| (first..=until).contains(&e.date))
            .collect();
        entries.sort_by_key(|e| e.date);
        let mut balance = Decimal::from(self.rng.random_range(20_000..80_000));
        let mut statements = Vec::new();
        for month in entries
            .chunk_by(|a, b| (a.date.year(), a.date.month()) == (b.date.year(), b.date.month()))
        {
            let start = month[0].date.with_day(1).unwrap_or(month[0].date);
            let end = start
                .checked_add_months(Months::new(1))
                .and_then(|d| d.checked_sub_days(Days::new(1)))
                .unwrap_or(until)
                .min(until);
            let mut csv = format!(
                "HDFC BANK Ltd.\nAccount Holder,{}\nAccount No,{}\nStatement From,{},To,{}\n\n\
                 Date,Narration,Chq./Ref.No.,Value Dt,Withdrawal Amt.,Deposit Amt.,Closing Balance\n",
                self.name,
                self.account,
                start.format("%d/%m/%Y"),
                end.format("%d/%m/%Y"),
            );
            for entry in month {
                let (narration, reference) = self.narration(entry);
                balance += entry.amount;
                let amount = format!("{:.2}", entry.amount.abs());
                let (debit, credit) = if entry.amount.is_sign_negative() {
                    (amount.as_str(), "")
                } else {
                    ("", amount.as_str())
                };
                let date = entry.date.format("%d/%m/%Y");
                csv.push_str(&format!(
                    "{date},{narration},{reference},{date},{debit},{credit},{balance:.2}\n"
                ));
            }
            statements.push(Statement {
                filename: format!("hdfc-{}-{}.csv", self.account, start.format("%Y-%m")),
                csv,
            });
        }
        statements
    }

    /// A bank narration for a ledger entry and its reference number.
    fn narration(&mut self, entry: &LedgerEntry) -> (String, String) {
        let utr: u64 = self.rng.random_range(100_000_000_000..1_000_000_000_000);
        let reference = format!("{utr:016}");
        let month = entry.date.format("%b %Y").to_string().to_uppercase();
        let card = self.rng.random_range(1000..10_000);
        let upi = |payee: &str, handle: &str, ifsc: &str, note: &str| {
            format!("UPI-{payee}-{handle}-{ifsc}-{utr}-{note}")
        };
        let text = match entry.merchant.as_str() {
            "acme payroll" => {
                format!("NEFT CR-CITI0000002-ACME TECHNOLOGIES PVT LTD-SALARY {month}-CITIN{utr}")
            }
            "landlord" => {
                let handle = format!("{}@okicici", self.landlord.to_lowercase().replace(' ', "."));
                upi(
                    &self.landlord,
                    &handle,
                    "ICIC0001234",
                    &format!("RENT {month}"),
                )
            }
            "hdfc loan emi" => format!("NACH DR HDFC BANK LOAN EMI {utr}"),
            "bajaj finserv emi" => format!("NACH DR BAJAJ FINANCE LTD EMI {utr}"),
            "icici car loan" => format!("NACH DR ICICI BANK CAR LOAN EMI {utr}"),
            "netflix" => format!("ME DC SI {card} NETFLIX"),
            "youtube premium" => format!("ME DC SI {card} GOOGLE YOUTUBE PREMIUM"),
            "spotify" => upi(
                "SPOTIFY INDIA",
                "spotify.bdsi@icici",
                "ICIC0DC0099",
                "AUTOPAY",
            ),
            "jio recharge" => upi("RELIANCE JIO", "jio@hdfcbank", "HDFC0000499", "RECHARGE"),
            "cult fit" => upi("CULTFIT", "cultfit@ybl", "YESB0YBLUPI", "MEMBERSHIP"),
            "act broadband" => format!("BBPS/ACT FIBERNET/{utr}"),
            "swiggy" => upi("SWIGGY", "swiggy.stores@axb", "UTIB0000553", "PAYMENT"),
            "zomato" => upi(
                "ZOMATO LTD",
                "zomato.order@hdfcbank",
                "HDFC0000499",
                "ORDER",
            ),
            "bigbasket" => upi("BIGBASKET", "bigbasket@ybl", "YESB0YBLUPI", "GROCERIES"),
            "uber" => upi("UBER INDIA", "uber.rides@axisbank", "UTIB0000100", "TRIP"),
            "amazon" => upi("AMAZON PAY", "amazon@apl", "UTIB0000100", "ORDER"),
            "dmart" => upi(
                "AVENUE SUPERMARTS DMART",
                "dmart@ybl",
                "YESB0YBLUPI",
                "PAYMENT",
            ),
            "flipkart" => upi("FLIPKART INTERNET", "fkrt@ybl", "YESB0YBLUPI", "ORDER"),
            "indian oil" => format!("POS {card} INDIAN OIL PETROL PUMP BANGALORE"),
            "refund" => upi("AMAZON PAY", "amazon@apl", "UTIB0000100", "REFUND"),
            other => {
                let payee = other.to_uppercase();
                let handle = format!("{}@ybl", other.replace(' ', ""));
                upi(&payee, &handle, "YESB0YBLUPI", "PAYMENT")
            }
        };
        (text, reference)
    }
}

/// `date` moved by `days` (either way).
fn shifted(date: NaiveDate, days: i64) -> NaiveDate {
    let moved = Days::new(days.unsigned_abs());
    if days >= 0 {
        date.checked_add_days(moved)
    } else {
        date.checked_sub_days(moved)
    }
    .unwrap_or(date)
}

#[cfg(test)]
mod tests {
    use scale_statements::pipeline;

    use super::*;

    fn statements(seed: u64, index: u64) -> Vec<Statement> {
        let until = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        DemoUser::new(seed, index).statements(until, 3)
    }

    #[test]
    fn users_and_statements_are_drawn_from_the_seed() {
        assert_eq!(DemoUser::new(1, 0).id, DemoUser::new(1, 0).id);
        assert_ne!(DemoUser::new(1, 0).id, DemoUser::new(1, 1).id);
        assert_ne!(DemoUser::new(1, 0).id, DemoUser::new(2, 0).id);
        let names = |s: &[Statement]| s.iter().map(|s| s.filename.clone()).collect::<Vec<_>>();
        let (a, b) = (statements(1, 0), statements(1, 0));
        assert_eq!(names(&a), names(&b));
        assert!(a.iter().zip(&b).all(|(a, b)| a.csv == b.csv));
        assert_eq!(a.len(), 3, "{:?}", names(&a));
        assert!(a[0].filename.ends_with("-2026-09.csv"), "{:?}", names(&a));
    }

    #[test]
    fn every_statement_parses_as_the_bank_export_it_imitates() {
        for index in 0..5 {
            for statement in statements(7, index) {
                let rows = statement.csv.lines().count() - 6;
                let parsed =
                    pipeline::parse_file(statement.csv.as_bytes(), &statement.filename, None)
                        .unwrap();
                assert_eq!(parsed.transactions.len(), rows, "{}", statement.csv);
                assert!(
                    parsed
                        .transactions
                        .iter()
                        .any(|t| t.amount.is_sign_negative()),
                    "{}",
                    statement.csv
                );
            }
        }
    }
}

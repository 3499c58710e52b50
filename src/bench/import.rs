//! `scale bench import`: a realistic statement parsed, imported through the real store, and
//! COPYed raw into the same table, in one run.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures_util::SinkExt;
use scale_actors::ingest::store;
use scale_statements::error::StatementError;
use scale_statements::fingerprint::FINGERPRINT_VERSION;
use scale_statements::pipeline::{self, ParsedStatement};
use serde_json::json;
use uuid::Uuid;

/// Runs the import benchmark against `database_url` with a statement of `rows` rows.
pub async fn run(database_url: &str, rows: usize) -> anyhow::Result<serde_json::Value> {
    scale_schema::run_migrations(database_url).await?;
    let csv = statement(rows);

    let parse = best_of(3, || {
        pipeline::parse_file(&csv, "bench.csv", None).map(drop)
    })?;

    let pool = scale_schema::connect(database_url, 2, Duration::from_secs(30));
    let (import_user, copy_user) = (Uuid::new_v4(), Uuid::new_v4());
    let started = Instant::now();
    let statement = pipeline::parse_file(&csv, "bench.csv", None)?;
    let outcome = store::import(&pool, import_user, Some("bench.csv"), &statement, false).await?;
    let import = started.elapsed();
    anyhow::ensure!(
        outcome.inserted == statement.transactions.len(),
        "import stored {} of {} rows",
        outcome.inserted,
        statement.transactions.len()
    );

    let copy = copy_baseline(database_url, copy_user, &statement).await?;
    let parsed = statement.transactions.len();
    let rate = |d: Duration| parsed as f64 / d.as_secs_f64();
    Ok(json!({
        "benchmark": "import",
        "rows_generated": rows,
        "rows_parsed": parsed,
        "csv_bytes": csv.len(),
        "parse_only": { "seconds": parse.as_secs_f64(), "rows_per_sec": rate(parse) },
        "parse_and_insert": { "seconds": import.as_secs_f64(), "rows_per_sec": rate(import) },
        "raw_copy_baseline": { "seconds": copy.as_secs_f64(), "rows_per_sec": rate(copy) },
        "ratios": {
            "parse_and_insert_vs_copy": copy.as_secs_f64() / import.as_secs_f64(),
            "parse_only_vs_copy": copy.as_secs_f64() / parse.as_secs_f64(),
        },
        "targets": {
            "import_under_3s": import < Duration::from_secs(3),
            "import_at_least_half_of_copy_rate": import.as_secs_f64() <= 2.0 * copy.as_secs_f64(),
        },
    }))
}

fn best_of(
    runs: usize,
    mut f: impl FnMut() -> Result<(), StatementError>,
) -> anyhow::Result<Duration> {
    let mut best = Duration::MAX;
    for _ in 0..runs {
        let started = Instant::now();
        f()?;
        best = best.min(started.elapsed());
    }
    Ok(best)
}

/// COPYs the already-parsed rows into `transactions` for `user` (fresh user, no conflicts):
/// the fastest way Postgres can take these rows, with the same table and indexes. Connects as
/// `url`'s user directly, not as the pool's application role: Postgres refuses `COPY FROM`
/// under row-level security, so that user must bypass it (a superuser or `BYPASSRLS`).
async fn copy_baseline(
    url: &str,
    user: Uuid,
    statement: &ParsedStatement,
) -> anyhow::Result<Duration> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .context("connect for COPY")?;
    tokio::spawn(connection);
    let bypasses: bool = client
        .query_one(
            "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user",
            &[],
        )
        .await?
        .get(0);
    anyhow::ensure!(
        bypasses,
        "raw COPY baseline: DATABASE_URL's user must bypass row-level security \
         (superuser or BYPASSRLS)"
    );
    client
        .execute("INSERT INTO users (id) VALUES ($1)", &[&user])
        .await?;
    let mut data = String::with_capacity(statement.transactions.len() * 256);
    for t in &statement.transactions {
        let raw = json!({"source": t.raw, "meta": t.meta, "source_row": t.source_row}).to_string();
        let fields = [
            user.to_string(),
            t.date.to_string(),
            t.amount.to_string(),
            t.currency.to_owned(),
            t.kind.to_owned(),
            t.description.clone(),
            t.merchant.clone(),
            t.category.to_owned(),
            t.payment_method.clone(),
            t.reference.clone(),
            t.status.to_owned(),
            t.fingerprint.clone(),
            FINGERPRINT_VERSION.to_string(),
            raw,
        ];
        let line = fields
            .iter()
            .map(|f| format!("\"{}\"", f.replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join(",");
        let _ = writeln!(data, "{line}");
    }
    let started = Instant::now();
    let sink = client
        .copy_in(
            "COPY transactions (user_id, transaction_date, amount, currency, type, description, merchant_name, \
             category, payment_method, reference, status, fingerprint, fingerprint_version, raw_data) FROM STDIN (FORMAT csv)",
        )
        .await?;
    futures_util::pin_mut!(sink);
    sink.send(bytes::Bytes::from(data)).await?;
    sink.finish().await?;
    let elapsed = started.elapsed();
    client
        .execute("DELETE FROM users WHERE id = $1", &[&user])
        .await?;
    Ok(elapsed)
}

/// A realistic SBI-style statement of `rows` transactions: UPI, POS, ATM, NEFT and card rows
/// with varying payees, references, dates and amounts (deterministic).
fn statement(rows: usize) -> Vec<u8> {
    const PAYEES: &[&str] = &[
        "SHAIK YA",
        "RAVI KUMAR",
        "MEERA MOHIDDIN",
        "John Doe",
        "Zomatofo",
        "SWIGGY",
        "PADMA M",
        "AMAZON PAY",
    ];
    const PLACES: &[&str] = &["BANGALORE", "NELLORE", "CHENNAI", "MUMBAI"];
    let mut seed: u64 = 0x5EED;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        seed >> 33
    };
    let mut out = String::from("State Bank of India,,,,,\nAccount Number,XXXXXXX1234,,,,\n,,,,,\nDate,Details,Ref No.,Debit,Credit,Balance\n");
    let start = chrono::NaiveDate::from_ymd_opt(2023, 1, 1).expect("valid date");
    let mut balance: i64 = 5_000_000;
    for i in 0..rows {
        let day = start + chrono::Duration::days((i / 100) as i64);
        let payee = PAYEES[(next() % PAYEES.len() as u64) as usize];
        let place = PLACES[(next() % PLACES.len() as u64) as usize];
        let reference = 100_000_000_000 + next() % 899_999_999_999;
        let paise = 100 + (next() % 500_000) as i64;
        let credit = next() % 5 == 0;
        balance += if credit { paise } else { -paise };
        let details = match next() % 4 {
            0 => format!(
                "WDL TFR UPI/DR/{reference}/{payee}/SBIN/upi{i}/Paym... AT 04413 PBB {place}"
            ),
            1 => format!("POS ATM PURCH OTHPG {reference} 17Pho*{payee} {place}"),
            2 => format!("NEFT/N{reference}/{payee}/HDFC/SBI"),
            _ => format!("ATM WDL ATM CASH {} SP OFFICE, {place}", reference % 10_000),
        };
        let amount = format!("\"{}.{:02}\"", paise / 100, paise % 100);
        let (debit, credit) = if credit {
            (String::new(), amount)
        } else {
            (amount, String::new())
        };
        let _ = writeln!(
            out,
            "{},\"{details}\",{reference},{debit},{credit},{:.2}",
            day.format("%d/%m/%Y"),
            balance as f64 / 100.0
        );
    }
    out.into_bytes()
}

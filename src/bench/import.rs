//! `scale bench import`: a realistic statement parsed, imported through the real store, and
//! COPYed raw into the same table, in one run; next to them, the alternative way of writing the
//! rows that was measured against the store's (binary `COPY` into a staging table).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures_util::SinkExt;
use scale_actors::ingest::store;
use scale_statements::error::StatementError;
use scale_statements::fingerprint::FINGERPRINT_VERSION;
use scale_statements::pipeline::{self, ParsedStatement};
use serde_json::json;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use uuid::Uuid;

/// The original Python parser's documented throughput (issue #12), for `parse_only_vs_python`.
const REFERENCE_PYTHON_PARSE_ROWS_PER_SEC: f64 = 21_000.0;

/// Runs the import benchmark against `database_url` with a statement of `rows` rows.
pub async fn run(database_url: &str, rows: usize) -> anyhow::Result<serde_json::Value> {
    scale_schema::run_migrations(database_url).await?;
    let csv = statement(rows);

    let parse = best_of(3, || {
        pipeline::parse_file(&csv, "bench.csv", None).map(drop)
    })?;

    let pool = scale_schema::connect(database_url, 2, Duration::from_secs(30));
    let (import_user, copy_user, staging_user) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let started = Instant::now();
    let statement = pipeline::parse_file(&csv, "bench.csv", None)?;
    let parsed_at = started.elapsed();
    let outcome = store::import(&pool, import_user, Some("bench.csv"), &statement, false).await?;
    let import = started.elapsed();
    let store_insert = import - parsed_at;
    anyhow::ensure!(
        outcome.inserted == statement.transactions.len(),
        "import stored {} of {} rows",
        outcome.inserted,
        statement.transactions.len()
    );

    let copy = copy_baseline(database_url, copy_user, &statement).await?;
    let staging = copy_via_staging(database_url, staging_user, &statement).await?;
    let parsed = statement.transactions.len();
    let rate = |d: Duration| parsed as f64 / d.as_secs_f64();
    let vs_copy = |d: Duration| copy.as_secs_f64() / d.as_secs_f64();
    Ok(json!({
        "benchmark": "import",
        "rows_generated": rows,
        "rows_parsed": parsed,
        "csv_bytes": csv.len(),
        "peak_rss_mib": peak_rss_mib(),
        "parse_only": { "seconds": parse.as_secs_f64(), "rows_per_sec": rate(parse) },
        "parse_and_insert": { "seconds": import.as_secs_f64(), "rows_per_sec": rate(import) },
        "raw_copy_baseline": { "seconds": copy.as_secs_f64(), "rows_per_sec": rate(copy) },
        "reference_python_parse_rows_per_sec": REFERENCE_PYTHON_PARSE_ROWS_PER_SEC,
        "insert_only": {
            "store": {
                "seconds": store_insert.as_secs_f64(),
                "rows_per_sec": rate(store_insert),
                "vs_copy": vs_copy(store_insert),
            },
            "binary_copy_into_staging_then_insert_select": {
                "seconds": staging.as_secs_f64(),
                "rows_per_sec": rate(staging),
                "vs_copy": vs_copy(staging),
            },
        },
        "ratios": {
            "parse_and_insert_vs_copy": vs_copy(import),
            "parse_only_vs_copy": vs_copy(parse),
            "parse_only_vs_python": rate(parse) / REFERENCE_PYTHON_PARSE_ROWS_PER_SEC,
        },
        "targets": {
            "import_under_3s": import < Duration::from_secs(3),
            "import_at_least_0_9_of_copy_rate": vs_copy(import) >= 0.9,
        },
    }))
}

/// This process's peak resident set (`VmHWM` in `/proc/self/status`), in MiB; `null` where
/// `/proc` is not available.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
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

/// The alternative to the store's `INSERT … SELECT FROM unnest(…)` batches: as the application
/// role, under row-level security, in one transaction, a binary `COPY` of the rows into a
/// temporary staging table (RLS refuses `COPY` into `transactions` itself) and one
/// `INSERT … SELECT … ON CONFLICT DO NOTHING` from it. Timed from the parsed rows to the commit,
/// like the store's insert.
async fn copy_via_staging(
    url: &str,
    user: Uuid,
    statement: &ParsedStatement,
) -> anyhow::Result<Duration> {
    let (mut client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .context("connect for the staging COPY")?;
    tokio::spawn(connection);
    client
        .batch_execute(&format!("SET ROLE {}", scale_schema::APP_ROLE))
        .await?;
    let started = Instant::now();
    let tx = client.transaction().await?;
    tx.batch_execute(&format!(
        "SET LOCAL app.user_id = '{user}';
         INSERT INTO users (id) VALUES ('{user}') ON CONFLICT (id) DO NOTHING;
         INSERT INTO uploaded_files (user_id, file_hash, filename, upload_type)
             VALUES ('{user}', '{hash}', 'bench.csv', 'import');
         CREATE TEMP TABLE import_rows (id uuid, transaction_date text, amount text,
             currency text, type text, description text, merchant_name text, category text,
             payment_method text, reference text, status text, fingerprint text, raw_data text)
             ON COMMIT DROP",
        hash = statement.file_hash
    ))
    .await?;
    let sink = tx
        .copy_in("COPY import_rows FROM STDIN (FORMAT binary)")
        .await?;
    let mut types = vec![Type::UUID];
    types.resize(13, Type::TEXT);
    let writer = BinaryCopyInWriter::new(sink, &types);
    futures_util::pin_mut!(writer);
    for t in &statement.transactions {
        let raw = json!({"source": t.raw, "meta": t.meta, "source_row": t.source_row}).to_string();
        let (id, date, amount) = (Uuid::now_v7(), t.date.to_string(), t.amount.to_string());
        let row: [&(dyn ToSql + Sync); 13] = [
            &id,
            &date,
            &amount,
            &t.currency,
            &t.kind,
            &t.description,
            &t.merchant,
            &t.category,
            &t.payment_method,
            &t.reference,
            &t.status,
            &t.fingerprint,
            &raw,
        ];
        writer.as_mut().write(&row).await?;
    }
    writer.finish().await?;
    let inserted = tx
        .execute(
            "INSERT INTO transactions (user_id, fingerprint_version, uploaded_file_id, id,
                 transaction_date, amount,
                 currency, type, description, merchant_name, category, payment_method, reference,
                 status, fingerprint, raw_data)
             SELECT $1, $2, (SELECT id FROM uploaded_files WHERE user_id = $1), id,
                 transaction_date::date, amount::numeric, currency, type,
                 description, merchant_name, category, payment_method, reference, status,
                 fingerprint, raw_data::jsonb
             FROM import_rows
             ON CONFLICT (user_id, fingerprint) DO NOTHING",
            &[&user, &FINGERPRINT_VERSION],
        )
        .await?;
    tx.commit().await?;
    let elapsed = started.elapsed();
    anyhow::ensure!(
        inserted == statement.transactions.len() as u64,
        "staging COPY stored {inserted} of {} rows",
        statement.transactions.len()
    );
    client
        .batch_execute(&format!(
            "RESET ROLE; DELETE FROM users WHERE id = '{user}'"
        ))
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

//! `scale bench import`: a realistic statement parsed, imported through the real store, and
//! COPYed raw into the same table, in one run; next to them, the alternative way of writing the
//! rows that was measured against the store's (binary `COPY` into a staging table).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures_util::SinkExt;
use scale_actors::categorization::brain::Brain;
use scale_actors::ingest::streaming::Upload;
use scale_actors::ingest::{store, streaming};
use scale_http::auth::{mint_token, Role};
use scale_statements::error::StatementError;
use scale_statements::fingerprint::FINGERPRINT_VERSION;
use scale_statements::pipeline::{self, ParsedStatement};
use serde_json::json;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use uuid::Uuid;

use super::server::Server;
use crate::config::Config;

/// The original Python parser's documented throughput (issue #12), for `parse_only_vs_python`.
const REFERENCE_PYTHON_PARSE_ROWS_PER_SEC: f64 = 21_000.0;

/// Runs the import benchmark against `config`'s database with a statement of `rows` rows.
pub async fn run(config: &Config, rows: usize) -> anyhow::Result<serde_json::Value> {
    let database_url = &config.database_url;
    scale_schema::run_migrations(database_url).await?;
    let csv = statement(rows);

    let parse = best_of(5, || {
        pipeline::parse_file(&csv, "bench.csv", None).map(drop)
    })?;

    let pool = scale_schema::connect(database_url, 2, Duration::from_secs(30));
    let users: [Uuid; 4] = std::array::from_fn(|_| Uuid::new_v4());
    let [import_user, insert_user, copy_user, staging_user] = users;
    let upload = Upload {
        bytes: csv.clone(),
        filename: "bench.csv".into(),
        password: None,
    };
    let started = Instant::now();
    let brain = Brain::shipped();
    let target = streaming::Target {
        pool: pool.clone(),
        brain: brain.clone(),
    };
    let outcome = streaming::import_file(&target, import_user, upload, false).await?;
    let import = started.elapsed();

    let statement = pipeline::parse_file(&csv, "bench.csv", None)?;
    let parsed = statement.transactions.len();
    anyhow::ensure!(
        outcome.inserted == parsed,
        "import stored {} of {parsed} rows",
        outcome.inserted,
    );
    let started = Instant::now();
    let stored =
        store::import_parsed(&pool, &brain, insert_user, None, statement.clone(), false).await?;
    let store_insert = started.elapsed();
    anyhow::ensure!(
        stored.inserted == parsed,
        "insert stored {} of {parsed} rows",
        stored.inserted
    );

    let copy = copy_baseline(database_url, copy_user, &statement).await?;
    let staging = copy_via_staging(database_url, staging_user, &statement).await?;
    drop(statement);
    cleanup(database_url, &users).await?;
    let memory = server_import_memory(config, &csv)?;

    let rate = |d: Duration| parsed as f64 / d.as_secs_f64();
    let vs_copy = |d: Duration| copy.as_secs_f64() / d.as_secs_f64();
    Ok(json!({
        "benchmark": "import",
        "rows_generated": rows,
        "rows_parsed": parsed,
        "csv_bytes": csv.len(),
        "peak_rss_mib": peak_rss_mib(std::process::id()),
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
        "server_import": memory.report(csv.len()),
        "ratios": {
            "parse_and_insert_vs_copy": vs_copy(import),
            "parse_only_vs_copy": vs_copy(parse),
            "parse_only_vs_python": rate(parse) / REFERENCE_PYTHON_PARSE_ROWS_PER_SEC,
            "server_import_rss_growth_vs_file": memory.growth_vs(csv.len()),
        },
        "targets": {
            "import_under_3s": import < Duration::from_secs(3),
            "import_at_least_0_9_of_copy_rate": vs_copy(import) >= 0.9,
            "parse_at_least_20x_python": rate(parse) >= 20.0 * REFERENCE_PYTHON_PARSE_ROWS_PER_SEC,
            "server_import_rss_growth_at_most_5x_file": memory.growth_vs(csv.len()) <= 5.0,
        },
    }))
}

/// The resident memory of a real server around one import of the benchmark file over HTTP.
struct ServerImport {
    seconds: f64,
    rss_before: f64,
    peak_rss: f64,
    status: u16,
}

impl ServerImport {
    /// Peak RSS growth of the import over the file's size.
    fn growth_vs(&self, file_bytes: usize) -> f64 {
        (self.peak_rss - self.rss_before) * 1024.0 * 1024.0 / file_bytes as f64
    }

    fn report(&self, file_bytes: usize) -> serde_json::Value {
        json!({
            "status": self.status,
            "seconds": self.seconds,
            "rss_before_mib": self.rss_before,
            "peak_rss_mib": self.peak_rss,
            "rss_growth_mib": self.peak_rss - self.rss_before,
            "rss_growth_vs_file": self.growth_vs(file_bytes),
        })
    }
}

/// Starts the real binary, then posts `csv` to `POST /ingest/import` (multipart, with `curl`)
/// and reads the server's resident set just before and its peak (`VmHWM`) just after.
fn server_import_memory(config: &Config, csv: &[u8]) -> anyhow::Result<ServerImport> {
    let server = Server::start(config, &[])?;
    let user = Uuid::new_v4();
    let token = mint_token(&config.jwt_secret, user, Role::User, 3600);
    let file = std::env::temp_dir().join(format!("scale-bench-{user}.csv"));
    std::fs::write(&file, csv)?;
    let curl = |path: &str, extra: &[String]| {
        std::process::Command::new("curl")
            .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}"])
            .args(["-H", &format!("Authorization: Bearer {token}")])
            .args(extra)
            .arg(format!("{}{path}", server.base))
            .output()
    };
    // One small request first, so the server's pools and caches exist before measuring.
    curl("/health", &[]).context("curl (is it installed?)")?;
    let rss_before = rss_mib(server.pid(), "VmRSS:").context("server RSS")?;
    let started = Instant::now();
    let output = curl(
        "/ingest/import",
        &[
            "-F".into(),
            format!("file=@{};filename=bench.csv", file.display()),
        ],
    )?;
    let seconds = started.elapsed().as_secs_f64();
    let peak_rss = rss_mib(server.pid(), "VmHWM:").context("server peak RSS")?;
    std::fs::remove_file(&file)?;
    let status = String::from_utf8_lossy(&output.stdout).parse().unwrap_or(0);
    anyhow::ensure!(
        status == 200,
        "the server answered the import with {status}"
    );
    Ok(ServerImport {
        seconds,
        rss_before,
        peak_rss,
        status,
    })
}

/// Deletes the benchmark's users (and with them their rows).
async fn cleanup(url: &str, users: &[Uuid]) -> anyhow::Result<()> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    client
        .execute("DELETE FROM users WHERE id = ANY($1)", &[&users])
        .await?;
    Ok(())
}

/// Peak resident set of process `pid` (`VmHWM` in `/proc/PID/status`), in MiB; `null` where
/// `/proc` is not available.
fn peak_rss_mib(pid: u32) -> Option<f64> {
    rss_mib(pid, "VmHWM:")
}

/// A memory line (`VmRSS:`, `VmHWM:`) of `/proc/PID/status`, in MiB.
fn rss_mib(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix(field))?
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
            t.fingerprint.to_string(),
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
        let fingerprint = t.fingerprint.to_string();
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
            &fingerprint,
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

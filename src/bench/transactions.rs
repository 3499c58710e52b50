//! `scale bench transactions`: requests/s and latency percentiles of the first page of
//! `GET /api/v1/accounts/transactions` served by the real binary and driven by wrk, next to
//! pgbench running the same SQL on the same database at the same concurrency, in the same run,
//! and next to a second server recording no metrics (`METRICS_ENABLED=false`): what metrics
//! cost the hot path. The sides alternate over several rounds, so a change in the machine's
//! background load weighs on all of them rather than on whichever side ran during it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context as _};
use scale_http::auth::{mint_token, Role};
use serde_json::{json, Value};
use uuid::Uuid;

use super::server::Server;
use super::{delete_users, percentiles};
use crate::config::Config;

/// Options of `scale bench transactions`.
#[derive(clap::Args)]
pub struct Options {
    /// Transactions stored for the benchmark user.
    #[arg(long, default_value_t = 100_000)]
    rows: usize,
    /// Requests in flight at once (HTTP clients and pgbench clients alike).
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Seconds each side is measured per round (after one second of warm-up).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Rounds; each measures HTTP with and without metrics (taking turns going first), then
    /// pgbench.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Page size.
    #[arg(long, default_value_t = 50)]
    limit: usize,
}

/// The statements the list route runs for a first page (see `actors/src/accounts/store.rs` and
/// `scale_schema::as_user`): a transaction that sets the row-level-security user, the page
/// query, and the commit. pgbench runs them as the application role, like the pool does, one
/// round trip per statement (the app sends `BEGIN` and its `SET LOCAL`s in one message). The
/// app's `SET LOCAL plan_cache_mode` is left out: it only keeps the app's parameterised plan,
/// and pgbench's statement, with the values inlined, is planned once anyway.
const PAGE_SQL: &str = "BEGIN;
SET LOCAL app.user_id = '{user}';
SELECT id, transaction_date, amount::float8 AS amount, currency::text AS currency, \
type AS kind, description, merchant_name, category, original_category, payment_method, reference, \
status, is_manual, created_at FROM transactions WHERE user_id = '{user}' \
ORDER BY transaction_date DESC, id DESC LIMIT {limit};
COMMIT;
";

/// Runs both sides and returns the report.
pub fn run(config: &Config, options: &Options) -> anyhow::Result<Value> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let user = Uuid::new_v4();
    runtime.block_on(seed(&config.database_url, user, options.rows))?;
    let result = (|| {
        let server = Server::start(config, &[("METRICS_ADDR", "127.0.0.1:0")])?;
        let bare = Server::start(config, &[("METRICS_ENABLED", "false")])?;
        let token = mint_token(&config.jwt_secret, user, Role::User, 3600);
        let page = |server: &Server| {
            format!(
                "{}/accounts/transactions?limit={}",
                server.base, options.limit
            )
        };
        let sql = PAGE_SQL
            .replace("{user}", &user.to_string())
            .replace("{limit}", &(options.limit + 1).to_string());
        (0..options.rounds.max(1))
            .map(|round| {
                // The two servers take turns going first, so neither always meets a machine
                // just woken (or tired) by pgbench.
                let (http, bare_http) = if round % 2 == 0 {
                    let http = http_load(&page(&server), &token, options)?;
                    (http, http_load(&page(&bare), &token, options)?)
                } else {
                    let bare_http = http_load(&page(&bare), &token, options)?;
                    (http_load(&page(&server), &token, options)?, bare_http)
                };
                let pg = pgbench(&config.database_url, &sql, options)?;
                anyhow::Ok(Round {
                    http: http.report(),
                    bare: bare_http.report(),
                    pg: pg.report(),
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()
            .and_then(|rounds| {
                // The measured server did record: its request counter moved.
                let recorded = server.scrape()?.contains("scale_http_requests_total");
                anyhow::ensure!(recorded, "the measured server recorded no request");
                Ok(rounds)
            })
    })();
    runtime.block_on(delete_users(&config.database_url, &[user]))?;
    let rounds = result?;
    let http = Round::summary(&rounds, |r| &r.http);
    let bare = Round::summary(&rounds, |r| &r.bare);
    let pg = Round::summary(&rounds, |r| &r.pg);
    let ratio = http.rps / pg.rps;
    let metrics_ratio = http.rps / bare.rps;
    // Each round pairs the sides measured back to back; the median of those ratios shrugs
    // off a round where the machine favoured one side. The targets stay on the mean rates.
    let round_ratios: Vec<f64> = rounds.iter().map(Round::ratio).collect();
    let [median_ratio] = percentiles(&round_ratios, [0.5]);
    let metrics_ratios: Vec<f64> = rounds.iter().map(Round::metrics_ratio).collect();
    let [median_metrics_ratio] = percentiles(&metrics_ratios, [0.5]);
    Ok(json!({
        "benchmark": "transactions",
        "rows": options.rows,
        "concurrency": options.concurrency,
        "seconds_per_round": options.seconds,
        "rounds": rounds.iter().map(Round::report).collect::<Vec<_>>(),
        "page_size": options.limit,
        "http": http.report(),
        "http_without_metrics": bare.report(),
        "postgres_pgbench": pg.report(),
        "ratios": {
            "http_rps_vs_postgres": ratio,
            "median_of_round_ratios": median_ratio,
            "http_rps_with_metrics_vs_without": metrics_ratio,
            "median_of_round_metrics_ratios": median_metrics_ratio,
        },
        "targets": {
            "http_p95_under_10ms": http.p95_ms < 10.0,
            "http_at_least_half_of_postgres_rate": ratio >= 0.5,
            "metrics_cost_at_most_3_percent": metrics_ratio >= 0.97,
        },
    }))
}

/// One side's figures: requests/s and latency percentiles in milliseconds.
#[derive(Clone, Copy)]
struct Figures {
    requests: u64,
    errors: u64,
    rps: f64,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
}

impl Figures {
    fn report(&self) -> Value {
        json!({
            "requests": self.requests,
            "errors": self.errors,
            "requests_per_sec": self.rps,
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "p99_ms": self.p99_ms,
        })
    }
}

/// Every side of one round.
struct Round {
    http: Figures,
    /// The server recording no metrics.
    bare: Figures,
    pg: Figures,
}

impl Round {
    fn report(&self) -> Value {
        json!({
            "http_requests_per_sec": self.http.rps,
            "http_p95_ms": self.http.p95_ms,
            "http_without_metrics_requests_per_sec": self.bare.rps,
            "postgres_requests_per_sec": self.pg.rps,
            "ratio": self.ratio(),
            "metrics_ratio": self.metrics_ratio(),
        })
    }

    fn ratio(&self) -> f64 {
        self.http.rps / self.pg.rps
    }

    fn metrics_ratio(&self) -> f64 {
        self.http.rps / self.bare.rps
    }

    /// One side over every round: the mean rate (rounds last equally long) and the median of
    /// the rounds' percentiles.
    fn summary(rounds: &[Round], side: impl Fn(&Round) -> &Figures) -> Figures {
        let all: Vec<&Figures> = rounds.iter().map(side).collect();
        let median = |pick: fn(&Figures) -> f64| {
            let mut values: Vec<f64> = all.iter().map(|f| pick(f)).collect();
            values.sort_by(f64::total_cmp);
            values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
        };
        Figures {
            requests: all.iter().map(|f| f.requests).sum(),
            errors: all.iter().map(|f| f.errors).sum(),
            rps: all.iter().map(|f| f.rps).sum::<f64>() / all.len().max(1) as f64,
            p50_ms: median(|f| f.p50_ms),
            p95_ms: median(|f| f.p95_ms),
            p99_ms: median(|f| f.p99_ms),
        }
    }
}

/// pgbench latencies (ms) of completed transactions over a measured span.
struct Sample {
    latencies_ms: Vec<f64>,
    errors: usize,
    span: Duration,
}

impl Sample {
    fn rps(&self) -> f64 {
        self.latencies_ms.len() as f64 / self.span.as_secs_f64()
    }

    fn report(&self) -> Figures {
        let [p50, p95, p99] = percentiles(&self.latencies_ms, [0.50, 0.95, 0.99]);
        Figures {
            requests: self.latencies_ms.len() as u64,
            errors: self.errors as u64,
            rps: self.rps(),
            p50_ms: p50,
            p95_ms: p95,
            p99_ms: p99,
        }
    }
}

async fn seed(url: &str, user: Uuid, rows: usize) -> anyhow::Result<()> {
    scale_schema::run_migrations(url).await?;
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    client
        .execute("INSERT INTO users (id) VALUES ($1)", &[&user])
        .await?;
    let rows = i32::try_from(rows)?;
    client
        .execute(
            "INSERT INTO transactions (user_id, transaction_date, amount, type, description, merchant_name, \
             category, fingerprint, fingerprint_version, raw_data) \
             SELECT $1, date '2020-01-01' + (g % 2000), -(g % 9000 + 1)::numeric / 100, 'debit', \
             'UPI/DR/' || g || '/MERCHANT ' || (g % 500) || '/SBIN', 'Merchant ' || (g % 500), \
             (ARRAY['Food','Travel','Bills','Shopping'])[g % 4 + 1], encode(sha256((g::text || $3)::bytea), 'hex'), 2, \
             jsonb_build_object('source', jsonb_build_object('row', g)) FROM generate_series(1, $2) g",
            &[&user, &rows, &user.to_string()],
        )
        .await?;
    // Settle the new rows (visibility map, hint bits, statistics) before measuring, so neither
    // side's first round pays for autovacuum.
    client.batch_execute("VACUUM ANALYZE transactions").await?;
    Ok(())
}

/// Reports what wrk measured as one JSON line (latencies in microseconds).
const WRK_REPORT: &str = r#"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"errors":%d,"duration_us":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d}\n',
    summary.requests, e.connect + e.read + e.write + e.status + e.timeout, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"#;

/// HTTP figures from wrk, an external C load generator like pgbench, with `concurrency`
/// connections on two threads after a one-second warm-up run.
fn http_load(url: &str, token: &str, options: &Options) -> anyhow::Result<HttpFigures> {
    let dir = std::env::temp_dir().join(format!("scale-wrk-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let script = dir.join("report.lua");
    std::fs::write(&script, WRK_REPORT)?;
    let wrk = |seconds: u64| {
        Command::new("wrk")
            .args(["-t2", "--timeout", "5s", "-H"])
            .arg(format!("Authorization: Bearer {token}"))
            .arg(format!("-c{}", options.concurrency.max(2)))
            .arg(format!("-d{seconds}s"))
            .arg("-s")
            .arg(&script)
            .arg(url)
            .output()
            .context("wrk is required (Debian package wrk)")
    };
    wrk(1)?;
    let output = wrk(options.seconds)?;
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .rfind(|l| l.starts_with('{'))
        .with_context(|| format!("wrk printed no report: {stdout}"))?;
    Ok(serde_json::from_str(line)?)
}

/// wrk's report.
#[derive(serde::Deserialize)]
struct HttpFigures {
    requests: u64,
    errors: u64,
    duration_us: u64,
    p50_us: u64,
    p95_us: u64,
    p99_us: u64,
}

impl HttpFigures {
    fn rps(&self) -> f64 {
        self.requests as f64 / (self.duration_us as f64 / 1e6)
    }

    fn report(&self) -> Figures {
        Figures {
            requests: self.requests,
            errors: self.errors,
            rps: self.rps(),
            p50_ms: self.p50_us as f64 / 1000.0,
            p95_ms: self.p95_us as f64 / 1000.0,
            p99_ms: self.p99_us as f64 / 1000.0,
        }
    }
}

/// pgbench with the same SQL, clients and duration; latencies from its per-transaction log.
fn pgbench(url: &str, sql: &str, options: &Options) -> anyhow::Result<Sample> {
    let dir = std::env::temp_dir().join(format!("scale-pgbench-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let script = dir.join("page.sql");
    std::fs::write(&script, sql)?;
    let status = Command::new("pgbench")
        .env("PGOPTIONS", format!("-c role={}", scale_schema::APP_ROLE))
        .args(["-n", "-M", "prepared", "-j", "2", "-l"])
        .arg(format!("-c{}", options.concurrency))
        .arg(format!("-T{}", options.seconds + 1))
        .arg(format!("--log-prefix={}", dir.join("log").display()))
        .arg("-f")
        .arg(&script)
        .arg(url)
        .stdout(Stdio::null())
        .status()
        .context("pgbench is required (Debian: postgresql-client / postgresql-contrib)")?;
    if !status.success() {
        bail!("pgbench failed: {status}");
    }
    let sample = read_pgbench_logs(&dir, options.seconds);
    let _ = std::fs::remove_dir_all(&dir);
    sample
}

/// Reads `log.*` files: `client tx latency_us script epoch_s epoch_us`; the first second of
/// the run is warm-up, as on the HTTP side.
fn read_pgbench_logs(dir: &Path, seconds: u64) -> anyhow::Result<Sample> {
    let mut entries = Vec::new();
    for file in std::fs::read_dir(dir)? {
        let path = file?.path();
        if !path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("log"))
        {
            continue;
        }
        for line in BufReader::new(std::fs::File::open(&path)?).lines() {
            let line = line?;
            let fields: Vec<&str> = line.split_whitespace().collect();
            if let (Some(latency), Some(epoch), Some(micros)) =
                (fields.get(2), fields.get(4), fields.get(5))
            {
                let at = epoch.parse::<f64>()? + micros.parse::<f64>()? / 1e6;
                entries.push((at, latency.parse::<f64>()? / 1000.0));
            }
        }
    }
    let start = entries.iter().map(|e| e.0).fold(f64::INFINITY, f64::min);
    let latencies_ms = entries
        .into_iter()
        .filter(|(at, _)| *at >= start + 1.0)
        .map(|(_, ms)| ms)
        .collect();
    Ok(Sample {
        latencies_ms,
        errors: 0,
        span: Duration::from_secs(seconds),
    })
}

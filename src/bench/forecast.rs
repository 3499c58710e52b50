//! `scale bench forecast`: `GET /api/v1/forecast/safe-to-spend` of the real binary for users
//! with two years of synthetic history (the §6.3 worked-example user of
//! `forecasting::synthetic`, moved so that it ends today). Cold: the first request after the
//! user's import, so the model is fitted on request and the cache is empty (one fresh user per
//! sample). Warm: the same user again, answered from the cached model. Baseline: `GET /health`
//! over the same connection in the same run.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{Days, NaiveDate, Utc};
use scale_actors::forecasting::synthetic;
use scale_http::auth::{mint_token, Role};
use serde_json::{json, Value};
use uuid::Uuid;

use super::percentiles;
use super::server::Server;
use crate::config::Config;

/// Days of history per user.
const HISTORY_DAYS: u64 = 2 * 365;
/// Seed of the synthetic history.
const SEED: u64 = 17;

/// Options of `scale bench forecast`.
#[derive(clap::Args)]
pub struct Options {
    /// Cold samples (one user imported per sample).
    #[arg(long, default_value_t = 10)]
    cold: usize,
    /// Warm requests (and as many baseline requests), after one warm-up each.
    #[arg(long, default_value_t = 500)]
    warm: usize,
}

/// Runs the benchmark and returns the report.
pub fn run(config: &Config, options: &Options) -> anyhow::Result<Value> {
    anyhow::ensure!(
        options.cold > 0 && options.warm > 0,
        "--cold and --warm must be positive"
    );
    let rows = history(Utc::now().date_naive());
    let server = Server::start(config, &[])?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (cold, warm, health, answer) =
        runtime.block_on(measure(config, &server, &rows, options))?;
    let [cold_p50, cold_p95, cold_p99] = percentiles(&cold, [0.5, 0.95, 0.99]);
    let [warm_p50, warm_p95, warm_p99] = percentiles(&warm, [0.5, 0.95, 0.99]);
    let [health_p50, health_p95, health_p99] = percentiles(&health, [0.5, 0.95, 0.99]);
    Ok(json!({
        "benchmark": "forecast",
        "build": if cfg!(debug_assertions) { "debug" } else { "release" },
        "history_days": HISTORY_DAYS,
        "rows_per_user": rows.len(),
        "cold_samples": cold.len(),
        "warm_requests": warm.len(),
        "answer": {
            "model": answer["model"],
            "source": answer["source"],
            "days_analyzed": answer["days_analyzed"],
        },
        "cold_ms": {"p50": cold_p50, "p95": cold_p95, "p99": cold_p99},
        "warm_ms": {"p50": warm_p50, "p95": warm_p95, "p99": warm_p99},
        "health_baseline_ms": {"p50": health_p50, "p95": health_p95, "p99": health_p99},
        "ratios": {
            "warm_p50_vs_health_p50": warm_p50 / health_p50,
            "warm_p95_vs_health_p95": warm_p95 / health_p95,
            "cold_p50_vs_warm_p50": cold_p50 / warm_p50,
        },
        "targets": {
            "warm_p95_under_5ms": warm_p95 < 5.0,
            "cold_p95_under_1s": cold_p95 < 1000.0,
        },
    }))
}

/// The worked-example user over [`HISTORY_DAYS`] ending `today`, as import rows (each
/// description made unique so that no row is a duplicate of another).
fn history(today: NaiveDate) -> Vec<Value> {
    let start = NaiveDate::from_ymd_opt(2025, 10, 1).expect("a valid date");
    let end = start + Days::new(HISTORY_DAYS - 1);
    let user = synthetic::worked_example(SEED, end);
    let shift = (end - today).num_days();
    user.entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let date = entry.date - chrono::Duration::days(shift);
            json!({
                "date": date.to_string(),
                "description": format!("{} {i}", entry.merchant.to_uppercase()),
                "merchant_name": entry.merchant,
                "amount": entry.amount.to_string(),
            })
        })
        .collect()
}

/// Cold, warm and baseline latencies in milliseconds, and the last answer.
async fn measure(
    config: &Config,
    server: &Server,
    rows: &[Value],
    options: &Options,
) -> anyhow::Result<(Vec<f64>, Vec<f64>, Vec<f64>, Value)> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let safe = format!("{}/forecast/safe-to-spend", server.base);
    let health = format!("{}/health", server.base);
    let body = json!({ "transactions": rows });
    let mut cold = Vec::with_capacity(options.cold);
    let mut token = String::new();
    let mut answer = Value::Null;
    for _ in 0..options.cold {
        token = mint_token(&config.jwt_secret, Uuid::new_v4(), Role::User, 3600);
        let imported: Value = client
            .post(format!("{}/ingest/import", server.base))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await?
            .error_for_status()
            .context("the import")?
            .json()
            .await?;
        anyhow::ensure!(
            imported["inserted"] == rows.len(),
            "imported {imported}, not {} rows",
            rows.len()
        );
        let started = Instant::now();
        answer = client
            .get(&safe)
            .bearer_auth(&token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        cold.push(millis(started.elapsed()));
        anyhow::ensure!(
            answer["source"] == "fitted_on_request",
            "not fitted on request: {answer}"
        );
    }
    let timed = async |url: &str, auth: bool| -> anyhow::Result<Vec<f64>> {
        let mut latencies = Vec::with_capacity(options.warm);
        for i in 0..=options.warm {
            let mut request = client.get(url);
            if auth {
                request = request.bearer_auth(&token);
            }
            let started = Instant::now();
            request.send().await?.error_for_status()?.bytes().await?;
            if i > 0 {
                latencies.push(millis(started.elapsed()));
            }
        }
        Ok(latencies)
    };
    let warm = timed(&safe, true).await?;
    let baseline = timed(&health, false).await?;
    Ok((cold, warm, baseline, answer))
}

fn millis(elapsed: Duration) -> f64 {
    elapsed.as_secs_f64() * 1000.0
}

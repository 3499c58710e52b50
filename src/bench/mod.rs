//! `scale bench …`: benchmarks with a JSON report. Every figure comes with a baseline measured
//! in the same run on the same machine and database, and their ratio.

mod classify;
mod forecast;
mod import;
pub(crate) mod load;
pub(crate) mod server;
mod transactions;
pub(crate) mod ws;

use clap::Subcommand;

use crate::config::Config;

/// The available benchmarks.
#[derive(Subcommand)]
pub enum Bench {
    /// A 5,000-narration classification batch through the real binary
    /// (`POST /categorization/classify/batch`), next to the same batch classified in-process.
    Classify(classify::Options),
    /// `GET /forecast/safe-to-spend` for users with two years of history through the real
    /// binary: cold (fitted on request, cache empty) and warm (cached), next to `GET /health`.
    Forecast(forecast::Options),
    /// Statement import: parse only, parse + insert, and raw COPY of the same rows.
    Import {
        /// Rows in the generated statement.
        #[arg(long, default_value_t = 100_000)]
        rows: usize,
    },
    /// The load test: virtual users making the mixed journey (gated: p95 under 500 ms and
    /// under 1 % errors, else the exit status is non-zero), the highest request rate kept at
    /// p95 under 100 ms, and how many WebSocket clients one server holds; next to `GET /health`.
    Load(load::Options),
    /// `GET /accounts/transactions` (first page) through the real binary, next to pgbench
    /// running the same SQL at the same concurrency.
    Transactions(transactions::Options),
    /// Job events to many concurrent WebSocket subscribers of the real binary, published through
    /// Redis, next to the same burst over an in-process broadcast channel.
    Ws(ws::Options),
}

/// Runs a benchmark against `DATABASE_URL` and prints its report; fails when the report has a
/// `gate` that did not pass.
pub fn run(config: &Config, bench: Bench) -> anyhow::Result<()> {
    let report = match bench {
        Bench::Classify(options) => classify::run(config, &options)?,
        Bench::Forecast(options) => forecast::run(config, &options)?,
        Bench::Import { rows } => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(import::run(config, rows))?,
        Bench::Load(options) => load::run(config, &options)?,
        Bench::Transactions(options) => transactions::run(config, &options)?,
        Bench::Ws(options) => ws::run(config, &options)?,
    };
    crate::output::print(serde_json::to_string_pretty(&report)?)?;
    // A report with a gate that failed makes the command fail, after printing it.
    if report["gate"]["passed"] == false {
        anyhow::bail!("the gate failed: {}", report["gate"]["failures"]);
    }
    Ok(())
}

/// Deletes the benchmark's `users` and, by cascade, everything they own.
pub(crate) async fn delete_users(url: &str, users: &[uuid::Uuid]) -> anyhow::Result<()> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    client
        .execute("DELETE FROM users WHERE id = ANY($1)", &[&users])
        .await?;
    Ok(())
}

/// The `qs` quantiles of `values` (nearest rank; NaN when empty).
fn percentiles<const N: usize>(values: &[f64], qs: [f64; N]) -> [f64; N] {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    qs.map(|q| {
        let rank = (sorted.len() as f64 * q).ceil() as usize;
        sorted
            .get(rank.clamp(1, sorted.len().max(1)) - 1)
            .copied()
            .unwrap_or(f64::NAN)
    })
}

#[cfg(test)]
mod tests {
    use super::percentiles;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let values: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        assert_eq!(percentiles(&values, [0.5, 0.99, 1.0]), [50.0, 99.0, 100.0]);
        assert!(percentiles(&[], [0.5])[0].is_nan());
    }
}

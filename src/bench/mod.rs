//! `scale bench …`: benchmarks with a JSON report. Every figure comes with a baseline measured
//! in the same run on the same machine and database, and their ratio.

mod import;
mod transactions;

use clap::Subcommand;

use crate::config::Config;

/// The available benchmarks.
#[derive(Subcommand)]
pub enum Bench {
    /// Statement import: parse only, parse + insert, and raw COPY of the same rows.
    Import {
        /// Rows in the generated statement.
        #[arg(long, default_value_t = 100_000)]
        rows: usize,
    },
    /// `GET /accounts/transactions` (first page) through the real binary, next to pgbench
    /// running the same SQL at the same concurrency.
    Transactions(transactions::Options),
}

/// Runs a benchmark against `DATABASE_URL` and prints its report.
pub fn run(config: &Config, bench: Bench) -> anyhow::Result<()> {
    let report = match bench {
        Bench::Import { rows } => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(import::run(&config.database_url, rows))?,
        Bench::Transactions(options) => transactions::run(config, &options)?,
    };
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

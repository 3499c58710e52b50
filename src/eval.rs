//! `scale eval …`: offline measurements printed as JSON. `scale eval categorize FILE.csv`
//! classifies every `description,amount,category` row with the shipped rules and global model
//! (no user data) and reports accuracy, per-label precision/recall/support and the confusion
//! table; `--model PATH` evaluates a candidate model file instead of the shipped one.
//! `scale eval forecast [--users N] [--seed S]` backtests the spending forecaster on seeded
//! synthetic users (held-out seed by default) and reports the ship-gate targets.
//! `scale eval anomaly` runs the anomaly detectors on seeded synthetic ledgers (held-out seeds by
//! default) and reports per-detector precision and recall against the targets.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use scale_actors::anomaly::evaluation::{self as anomaly_evaluation, HELD_OUT_FIRST};
use scale_actors::categorization::evaluation::{evaluate, read_csv};
use scale_actors::categorization::global::GlobalModel;
use scale_actors::categorization::resolve::Classifier;
use scale_actors::categorization::rules::RuleTable;
use scale_actors::forecasting::evaluation::{self, DEFAULT_USERS, HELD_OUT_SEED};

/// The available evaluations.
#[derive(Subcommand)]
pub enum Eval {
    /// The shipped categorizer on a labelled CSV (`description,amount,category`).
    Categorize {
        /// The labelled narrations.
        file: PathBuf,
        /// A model file (from `scale train-global-categorizer`) to use instead of the shipped one.
        #[arg(long)]
        model: Option<PathBuf>,
        /// Also list the rows predicted wrong.
        #[arg(long)]
        mistakes: bool,
    },
    /// The spending forecaster's backtest on seeded synthetic users, per user and overall.
    Forecast {
        /// How many users.
        #[arg(long, default_value_t = DEFAULT_USERS)]
        users: u64,
        /// The users' seed (the default is the held-out split; 1 is the tuning split).
        #[arg(long, default_value_t = HELD_OUT_SEED)]
        seed: u64,
    },
    /// The anomaly detectors on seeded synthetic ledgers: one planted anomaly per detector and
    /// a clean control per user.
    Anomaly {
        /// Synthetic users.
        #[arg(long, default_value_t = 50)]
        users: u64,
        /// The first seed (the default is the held-out split; the detectors were tuned on
        /// seeds 0..50).
        #[arg(long, default_value_t = HELD_OUT_FIRST)]
        seed: u64,
    },
}

/// An error naming `what` unless it was `met`: the command fails after printing its report, so
/// CI can gate on it.
fn gate(met: bool, what: &str) -> anyhow::Result<()> {
    anyhow::ensure!(met, "{what} is not met (see `targets` in the report)");
    Ok(())
}

/// Runs an evaluation and prints its report; a forecast or anomaly evaluation that misses its
/// targets fails.
pub fn run(eval: Eval) -> anyhow::Result<()> {
    match eval {
        Eval::Categorize {
            file,
            model,
            mistakes,
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let rows = read_csv(&text)?;
            let candidate = match model {
                Some(path) => Some(GlobalModel::from_bytes(
                    &std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?,
                )?),
                None => None,
            };
            let classifier = match &candidate {
                Some(model) => Classifier::new(RuleTable::shipped(), model),
                None => Classifier::shipped(),
            };
            let report = evaluate(&classifier, &rows, mistakes);
            crate::output::print(serde_json::to_string_pretty(&report)?)?;
        }
        Eval::Forecast { users, seed } => {
            let report = evaluation::evaluate(users, seed)?;
            crate::output::print(serde_json::to_string_pretty(&report)?)?;
            gate(report.all_met, "the forecaster's ship gate (§6.6)")?;
        }
        Eval::Anomaly { users, seed } => {
            let end = seed
                .checked_add(users)
                .context("--seed + --users overflows")?;
            let report = anomaly_evaluation::evaluate(seed..end);
            crate::output::print(serde_json::to_string_pretty(&report)?)?;
            gate(
                report.targets.met,
                "the detectors' precision and recall targets",
            )?;
        }
    }
    Ok(())
}

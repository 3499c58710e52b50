//! `scale sre run [--smoke] [SCENARIO...] [--report DIR]`: the SRE scenario suite. Each scenario
//! starts real servers (`scale serve`) behind its own fault proxies, drives realistic traffic
//! ([`traffic`]) while its fault runs, then checks its invariants against the database and what
//! the clients saw, and reports figures, `passed` and what failed ([`harness`]). The run fails
//! (exit status non-zero) when any scenario fails.
//!
//! Scenarios: concurrent imports ([`imports`]), an API process killed under load
//! ([`failover`]), Redis unreachable ([`redis_outage`]), Postgres slow ([`slow_postgres`]), a
//! worker killed mid-training ([`worker_kill`]), an actor crash storm ([`crash_storm`]) and a
//! Postgres restart ([`postgres_restart`]).

mod crash_storm;
mod failover;
mod harness;
mod imports;
mod postgres_restart;
mod redis_outage;
mod slow_postgres;
mod traffic;
mod worker_kill;

use std::path::PathBuf;

use anyhow::Context as _;
use clap::ValueEnum;
use serde_json::{json, Value};

use crate::config::Config;
use harness::Ctx;

/// `scale sre …`.
#[derive(clap::Subcommand)]
pub enum Sre {
    /// Run scenarios (all of them by default) and print their JSON reports; fails when one
    /// fails.
    Run(Options),
}

/// Options of `scale sre run`.
#[derive(clap::Args)]
pub struct Options {
    /// Short faults and little traffic (seconds per scenario), same invariants.
    #[arg(long)]
    smoke: bool,
    /// Also write each scenario's report to `DIR/<scenario>.json`.
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
    /// The scenarios to run [default: all, in this order].
    #[arg(value_enum)]
    scenarios: Vec<Scenario>,
}

/// A scenario of the suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// 50 users import at once: every import stored exactly once, a repeat refused.
    Imports,
    /// One of two API processes killed with SIGKILL under load; clients retry on the survivor.
    Failover,
    /// Redis unreachable: ready-degraded (never 503), rate limits still enforced, recovery.
    RedisOutage,
    /// Postgres answering 300 ms late: latency, timeouts, no pool exhaustion.
    SlowPostgres,
    /// A worker killed with SIGKILL mid-training: every job ends exactly once.
    WorkerKill,
    /// An actor crash storm: escalation, readiness 503, what clients see.
    CrashStorm,
    /// Postgres unreachable for seconds, then back: the pools recover without a restart.
    PostgresRestart,
}

impl Scenario {
    /// Every scenario, in the order a full run takes them.
    const ALL: [Scenario; 7] = [
        Scenario::Imports,
        Scenario::Failover,
        Scenario::RedisOutage,
        Scenario::SlowPostgres,
        Scenario::WorkerKill,
        Scenario::CrashStorm,
        Scenario::PostgresRestart,
    ];

    /// The scenario's name in reports (its command-line spelling).
    fn name(self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default()
    }
}

/// Runs the scenarios, prints a JSON report of them all and fails when one failed.
pub fn run(config: &Config, which: Sre) -> anyhow::Result<()> {
    let Sre::Run(options) = which;
    let scenarios = if options.scenarios.is_empty() {
        Scenario::ALL.to_vec()
    } else {
        options.scenarios.clone()
    };
    if let Some(dir) = &options.report {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut reports = Vec::new();
    for scenario in scenarios {
        let name = scenario.name();
        let ctx = Ctx::new(config, options.smoke, &name);
        let started = std::time::Instant::now();
        let result = runtime.block_on(run_one(&ctx, scenario));
        runtime.block_on(ctx.cleanup());
        let report = harness::report(&ctx, &name, started.elapsed(), result);
        if let Some(dir) = &options.report {
            let path = dir.join(format!("{name}.json"));
            std::fs::write(&path, serde_json::to_string_pretty(&report)?)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        reports.push(report);
    }
    let failed: Vec<&Value> = reports
        .iter()
        .filter(|r| r["passed"] != true)
        .map(|r| &r["scenario"])
        .collect();
    let summary = json!({
        "suite": "sre",
        "build": if cfg!(debug_assertions) { "debug" } else { "release" },
        "smoke": options.smoke,
        "passed": failed.is_empty(),
        "scenarios": reports,
    });
    crate::output::print(serde_json::to_string_pretty(&summary)?)?;
    anyhow::ensure!(failed.is_empty(), "scenarios failed: {failed:?}");
    Ok(())
}

/// Runs one scenario: its figures and failed invariants.
async fn run_one(ctx: &Ctx, scenario: Scenario) -> anyhow::Result<harness::Verdict> {
    match scenario {
        Scenario::Imports => imports::run(ctx).await,
        Scenario::Failover => failover::run(ctx).await,
        Scenario::RedisOutage => redis_outage::run(ctx).await,
        Scenario::SlowPostgres => slow_postgres::run(ctx).await,
        Scenario::WorkerKill => worker_kill::run(ctx).await,
        Scenario::CrashStorm => crash_storm::run(ctx).await,
        Scenario::PostgresRestart => postgres_restart::run(ctx).await,
    }
}

//! `scale bench load`: the load test with thresholds, against the real binary. Four phases in
//! one run, each reported:
//!
//! 1. the baseline: as many clients as virtual users calling `GET /health` back to back;
//! 2. the journey (closed model, gated): virtual users started gradually over the ramp-up,
//!    each making the mixed journey ([`journey`]) again and again; latency percentiles and
//!    error rate per route template and overall, against the baseline's. The run fails (exit
//!    status non-zero) when the overall p95 is 500 ms or more or 1 % of requests or more
//!    failed (the seed's k6 gate);
//! 3. the step search (open model, [`open`]) for the highest offered rate kept at p95 under
//!    100 ms with under 1 % errors, of the journey's read and compute mix and of `GET /health`;
//! 4. WebSocket capacity ([`hold`]) on a fresh server: how many subscribed clients it holds
//!    and its resident memory per connection.
//!
//! Latencies live in HDR histograms ([`stats`]): memory stays bounded however long the run.

pub(crate) mod api;
mod hold;
mod journey;
mod open;
pub(crate) mod stats;

use std::time::Duration;

use anyhow::Context as _;
use scale_http::auth::{mint_token, Role};
use serde_json::{json, Value};
use uuid::Uuid;

use super::delete_users;
use super::server::Server;
use crate::config::Config;
use api::{Api, Call};
use journey::Shape;
use open::Steps;
use stats::{Recorder, GATE, SUSTAINABLE};

/// Options of `scale bench load`; each one left out takes its full-run default, or its
/// `--smoke` one.
#[derive(clap::Args)]
pub struct Options {
    /// Small numbers everywhere (a few seconds in all), same phases and checks.
    #[arg(long)]
    smoke: bool,
    /// Virtual users of the journey (and baseline clients) [default: 50; smoke: 4].
    #[arg(long)]
    users: Option<usize>,
    /// Seconds over which the users start [default: 10; smoke: 1].
    #[arg(long)]
    ramp_up_secs: Option<f64>,
    /// Seconds of the journey phase, ramp-up included [default: 60; smoke: 3].
    #[arg(long)]
    duration_secs: Option<f64>,
    /// Pause after each step of a journey, in milliseconds [default: 100; smoke: 20].
    #[arg(long)]
    think_ms: Option<u64>,
    /// Seconds of the `GET /health` baseline [default: 10; smoke: 1].
    #[arg(long)]
    baseline_secs: Option<f64>,
    /// Offered rate of the first step, requests per second [default: 50; smoke: 20].
    #[arg(long)]
    step_start: Option<f64>,
    /// Each step's rate over the previous one's [default: 1.25; smoke: 2].
    #[arg(long)]
    step_factor: Option<f64>,
    /// Seconds of each step [default: 5; smoke: 1].
    #[arg(long)]
    step_secs: Option<f64>,
    /// Steps at most in each search [default: 32; smoke: 2].
    #[arg(long)]
    max_steps: Option<usize>,
    /// WebSocket clients to open at once [default: 10000; smoke: 50].
    #[arg(long)]
    ws_clients: Option<usize>,
}

/// The resolved numbers of a run.
#[derive(Clone, Copy, Debug)]
struct Plan {
    shape: Shape,
    baseline: Duration,
    steps: Steps,
    ws_clients: usize,
}

impl Plan {
    /// `options` over the full-run or smoke defaults.
    fn new(options: &Options) -> anyhow::Result<Self> {
        let smoke = options.smoke;
        let pick = |full: f64, small: f64| if smoke { small } else { full };
        let secs = |given: Option<f64>, full, small| {
            Duration::try_from_secs_f64(given.unwrap_or(pick(full, small)))
                .context("durations must be finite and not negative")
        };
        let users = options.users.unwrap_or(if smoke { 4 } else { 50 });
        let max_steps = options.max_steps.unwrap_or(if smoke { 2 } else { 32 });
        let ws_clients = options
            .ws_clients
            .unwrap_or(if smoke { 50 } else { 10_000 });
        let plan = Self {
            shape: Shape {
                users,
                ramp_up: secs(options.ramp_up_secs, 10.0, 1.0)?,
                duration: secs(options.duration_secs, 60.0, 3.0)?,
                think: Duration::from_millis(options.think_ms.unwrap_or(if smoke {
                    20
                } else {
                    100
                })),
            },
            baseline: secs(options.baseline_secs, 10.0, 1.0)?,
            steps: Steps {
                start: options.step_start.unwrap_or(pick(50.0, 20.0)),
                factor: options.step_factor.unwrap_or(pick(1.25, 2.0)),
                max: max_steps,
                span: secs(options.step_secs, 5.0, 1.0)?,
            },
            ws_clients,
        };
        anyhow::ensure!(
            users > 0 && max_steps > 0 && ws_clients > 0,
            "--users, --max-steps and --ws-clients must be positive"
        );
        anyhow::ensure!(
            plan.steps.start > 0.0 && plan.steps.factor > 1.0 && !plan.steps.span.is_zero(),
            "--step-start must be positive, --step-factor over 1 and --step-secs positive"
        );
        Ok(plan)
    }
}

/// Runs every phase and returns the report.
pub fn run(config: &Config, options: &Options) -> anyhow::Result<Value> {
    let plan = Plan::new(options)?;
    // Raised before the servers start: they inherit it.
    let nofile = raise_nofile_limit();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let users: Vec<Uuid> = (0..plan.shape.users).map(|_| Uuid::new_v4()).collect();
    let tokens: Vec<String> = users
        .iter()
        .map(|user| mint_token(&config.jwt_secret, *user, Role::User, 24 * 3600))
        .collect();
    let prefix = format!(
        "{}bench-load-{}:",
        config.redis_key_prefix,
        Uuid::new_v4().simple()
    );
    let mut env = vec![("REDIS_KEY_PREFIX", prefix.as_str())];
    if let Some(url) = &config.redis_url {
        env.push(("REDIS_URL", url));
    }
    let result = phases(config, &runtime, &plan, &tokens, &env);
    runtime.block_on(delete_users(&config.database_url, &users))?;
    let (baseline, journey, health_search, mix_search, websockets) = result?;

    let failures = stats::gate(&journey.http.overall, &journey.jobs.overall);
    let health_max = health_search["max_sustainable_per_sec"].as_f64();
    let mix_max = mix_search["max_sustainable_per_sec"].as_f64();
    let held = websockets["held"].as_u64().unwrap_or(0);
    Ok(json!({
        "benchmark": "load",
        "build": if cfg!(debug_assertions) { "debug" } else { "release" },
        "smoke": options.smoke,
        "plan": {
            "users": plan.shape.users,
            "ramp_up_secs": plan.shape.ramp_up.as_secs_f64(),
            "duration_secs": plan.shape.duration.as_secs_f64(),
            "think_ms": plan.shape.think.as_millis() as u64,
            "baseline_secs": plan.baseline.as_secs_f64(),
            "step_start_per_sec": plan.steps.start,
            "step_factor": plan.steps.factor,
            "step_secs": plan.steps.span.as_secs_f64(),
            "max_steps": plan.steps.max,
            "ws_clients": plan.ws_clients,
        },
        "baseline_health": baseline.overall.report(),
        "journey": {
            "journeys": journey.journeys,
            "span_secs": journey.span.as_secs_f64(),
            "http": journey.http.report(&baseline.overall),
            "training_jobs": journey.jobs.overall.report(),
            "training_job_failures": journey.jobs.failures,
        },
        "gate": {
            "thresholds": { "p95_ms_under": GATE.p95_ms, "error_rate_under": GATE.error_rate },
            "passed": failures.is_empty(),
            "failures": failures,
        },
        "max_sustainable_rate": {
            "thresholds": {
                "p95_ms_under": SUSTAINABLE.p95_ms,
                "error_rate_under": SUSTAINABLE.error_rate,
            },
            "mix": Call::MIX.iter().map(|call| format!("{call:?}")).collect::<Vec<_>>(),
            "journey_mix": mix_search,
            "health_baseline": health_search,
            "mix_vs_health": mix_max.zip(health_max).map(|(mix, health)| mix / health),
        },
        "websockets": websockets,
        "nofile_limit": nofile,
        "targets": {
            "gate_passed": failures.is_empty(),
            // 10,000 by default: the target.
            "every_websocket_held": held == plan.ws_clients as u64,
        },
    }))
}

/// What the phases measured: the baseline, the journey, the two step searches and the
/// WebSocket capacity.
type Phases = (stats::Summary, journey::Outcome, Value, Value, Value);

/// Runs the phases against servers started with `env`.
fn phases(
    config: &Config,
    runtime: &tokio::runtime::Runtime,
    plan: &Plan,
    tokens: &[String],
    env: &[(&str, &str)],
) -> anyhow::Result<Phases> {
    let server = Server::start(config, env)?;
    let api = Api::new(&server.base, Recorder::shared())?;
    let ws_url = format!("ws://{}/api/v1/ws/jobs", server.addr);
    let baseline = runtime.block_on(journey::health(&api, plan.shape.users, plan.baseline));
    let journey = runtime.block_on(journey::journeys(&api, &ws_url, tokens, plan.shape));
    let health = runtime.block_on(open::search(&api, tokens, &[Call::Health], &plan.steps));
    let mix = runtime.block_on(open::search(&api, tokens, &Call::MIX, &plan.steps));
    drop(server);

    // A fresh server, so the memory per connection is not blurred by the phases before.
    let server = Server::start(config, env)?;
    let mut websockets = runtime.block_on(hold::hold(
        &server.addr,
        server.pid(),
        tokens,
        plan.ws_clients,
    ));
    websockets["server_nofile_limit"] = json!(open_files_limit(server.pid()));
    Ok((baseline, journey, health, mix, websockets))
}

/// Raises this process's soft limit of open files to its hard limit (the servers it starts
/// inherit it); the limits before and after.
fn raise_nofile_limit() -> Value {
    let before = rlimit::getrlimit(rlimit::Resource::NOFILE).ok();
    let raised = rlimit::increase_nofile_limit(u64::MAX).ok();
    json!({
        "soft_before": before.map(|(soft, _)| soft),
        "hard": before.map(|(_, hard)| hard),
        "soft_after": raised,
    })
}

/// The soft "Max open files" of process `pid`, from `/proc/{pid}/limits`.
fn open_files_limit(pid: u32) -> Option<u64> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    limits
        .lines()
        .find_map(|line| line.strip_prefix("Max open files"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(smoke: bool) -> Options {
        Options {
            smoke,
            users: None,
            ramp_up_secs: None,
            duration_secs: None,
            think_ms: None,
            baseline_secs: None,
            step_start: None,
            step_factor: None,
            step_secs: None,
            max_steps: None,
            ws_clients: None,
        }
    }

    #[test]
    fn smoke_takes_small_defaults_and_options_override_them() {
        let full = Plan::new(&options(false)).unwrap();
        assert_eq!(full.shape.users, 50);
        assert_eq!(full.ws_clients, 10_000);
        let smoke = Plan::new(&options(true)).unwrap();
        assert_eq!(smoke.shape.users, 4);
        assert_eq!(smoke.steps.max, 2);
        let mut given = options(true);
        given.users = Some(7);
        assert_eq!(Plan::new(&given).unwrap().shape.users, 7);
        given.step_factor = Some(1.0);
        assert!(Plan::new(&given).is_err());
        given.step_factor = None;
        given.duration_secs = Some(-1.0);
        assert!(Plan::new(&given).is_err());
    }

    #[test]
    fn this_process_has_an_open_files_limit() {
        assert!(open_files_limit(std::process::id()).unwrap() > 0);
        assert!(raise_nofile_limit()["soft_after"].as_u64().unwrap() > 0);
    }
}

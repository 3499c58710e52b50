//! `scale chaos run SCENARIO --target URL [--token T]`: starts a chaos scenario on a running
//! server through `POST /api/v1/ops/chaos`, follows it through `GET /api/v1/ops/chaos` until it
//! ends and prints a JSON report: the faults injected, the errors the monkey saw and the polls
//! that failed meanwhile.

use std::time::Duration;

use anyhow::{bail, Context as _};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::config::Config;

/// How often the run is looked at.
const POLL: Duration = Duration::from_millis(250);
/// How long after the scenario's length the CLI waits for its end.
const GRACE: Duration = Duration::from_secs(30);
/// The admin the default token is minted for.
const TESTER: Uuid = Uuid::from_u128(0xc4a0_5000_0000_0000_0000_0000_0000_0002);

/// `scale chaos …`.
#[derive(clap::Subcommand)]
pub enum Chaos {
    /// Run a scenario on a server started with CHAOS_ENABLED=true and report what it did.
    Run {
        /// The scenario (`GET /api/v1/ops/chaos` lists them).
        scenario: String,
        /// The server, e.g. `http://127.0.0.1:8000`.
        #[arg(long)]
        target: String,
        /// An admin bearer token (default: one minted with JWT_SECRET).
        #[arg(long)]
        token: Option<String>,
    },
}

/// Runs a `scale chaos` command.
pub fn run(config: &Config, which: Chaos) -> anyhow::Result<()> {
    let Chaos::Run {
        scenario,
        target,
        token,
    } = which;
    let token = token.unwrap_or_else(|| {
        scale_http::auth::mint_token(
            &config.jwt_secret,
            TESTER,
            scale_http::auth::Role::Admin,
            3600,
        )
    });
    let url = format!("{}/api/v1/ops/chaos", target.trim_end_matches('/'));
    let report = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(follow(&url, &token, &scenario))?;
    crate::output::print(report)?;
    Ok(())
}

/// Starts `scenario` and polls until it ended; answers the report.
async fn follow(url: &str, token: &str, scenario: &str) -> anyhow::Result<Value> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let started = http
        .post(url)
        .bearer_auth(token)
        .json(&json!({ "action": "start", "scenario": scenario }))
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let status = started.status();
    let body: Value = started.json().await.unwrap_or(Value::Null);
    if status != StatusCode::ACCEPTED {
        bail!(
            "the server refused to start {scenario:?} ({status}): {}",
            body["detail"]
        );
    }
    let length = Duration::from_millis(body["running"]["length_ms"].as_u64().unwrap_or(0));
    let deadline = tokio::time::Instant::now() + length + GRACE;
    let mut failed_polls: Vec<String> = Vec::new();
    loop {
        tokio::time::sleep(POLL).await;
        if tokio::time::Instant::now() > deadline {
            bail!("{scenario:?} did not end within its length and {GRACE:?}");
        }
        let answer = match http.get(url).bearer_auth(token).send().await {
            Ok(res) if res.status().is_success() => res.json::<Value>().await,
            Ok(res) => {
                failed_polls.push(format!("GET answered {}", res.status()));
                continue;
            }
            Err(err) => Err(err),
        };
        let status = match answer {
            Ok(status) => status,
            Err(err) => {
                failed_polls.push(err.to_string());
                continue;
            }
        };
        if status["running"]["scenario"] == scenario {
            continue;
        }
        let last = &status["last"];
        if last["scenario"] != scenario {
            bail!("{scenario:?} is neither running nor the last run: {status}");
        }
        let injected = last["injected"].as_object().cloned().unwrap_or_default();
        let total: u64 = injected.values().filter_map(Value::as_u64).sum();
        return Ok(json!({
            "scenario": scenario,
            "ended": last["ended"],
            "elapsed_ms": last["elapsed_ms"],
            "faults_injected": total,
            "injected": injected,
            "errors": last["errors"],
            "failed_polls": failed_polls,
        }));
    }
}

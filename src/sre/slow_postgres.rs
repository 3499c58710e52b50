//! (c) Postgres slow: under traffic, the proxy in front of Postgres holds back every chunk by
//! 150 ms each way (+300 ms per round trip) for 30 s (smoke: 3 s). Reported: latency
//! percentiles and timeouts before, during and after, and what readiness said. Invariants: no
//! pool exhaustion (under 1 % of requests answered 503 `database_unavailable`: a pool checkout
//! that timed out, or a request shed while a failed probe says Postgres is down), readiness
//! reports the latency (a Postgres probe of 300 ms or more, or a status other than `ready`) and
//! the service is back to under 1 % errors afterwards. The server runs with the default health
//! probe timeout (500 ms): a probe that times out is awaited for its late answer, which shows
//! Postgres slow, not down.

use std::time::Duration;

use scale_chaos::FaultMode;
use serde_json::json;

use super::harness::{readiness, readiness_word, Ctx, Verdict, POLL};
use super::traffic::{Plan, Traffic};

/// Added to every round trip to Postgres.
const LATENCY: Duration = Duration::from_millis(300);
/// Requests answered 503 while Postgres is slow must stay under this share.
const UNAVAILABLE_RATE: f64 = 0.01;
/// Client requests failing after Postgres is fast again must stay under this.
const ERROR_RATE_AFTER: f64 = 0.01;

/// Runs the scenario.
pub async fn run(ctx: &Ctx) -> anyhow::Result<Verdict> {
    let (links, routed) = ctx.links()?;
    let proxy = links.postgres.clone().expect("Postgres is always proxied");
    let server = ctx
        .server(&["serve"], &[("DATABASE_URL", routed.database_url)])
        .await?;
    let client = reqwest::Client::new();
    let bases = [server.base.clone()];
    let traffic = Traffic::warm_up(Plan::usual(ctx, &bases), ctx.secs(10.0, 2.0)).await?;

    traffic.phase("slow");
    proxy.set_mode(FaultMode::Slow(LATENCY / 2));
    let until = tokio::time::Instant::now() + ctx.secs(30.0, 3.0);
    let mut words = std::collections::BTreeMap::<String, u64>::new();
    let mut probe_ms = Vec::new();
    while tokio::time::Instant::now() < until {
        let (status, body) = readiness(&client, &server.base).await;
        *words.entry(readiness_word(status, &body)).or_default() += 1;
        let checks = if status == Some(503) {
            &body["checks"]
        } else {
            &body
        };
        if let Some(ms) = checks["postgres"]["latency_ms"].as_f64() {
            probe_ms.push(ms);
        }
        tokio::time::sleep(POLL).await;
    }
    traffic.phase("after");
    proxy.set_mode(FaultMode::Pass);
    tokio::time::sleep(ctx.secs(10.0, 2.0)).await;
    let outcome = traffic.finish().await;

    let mut verdict = Verdict::default();
    let slow = outcome.phase("slow").expect("the slow phase ran");
    let unavailable = slow.seen_with_status(503);
    let requests = slow.seen.overall.requests;
    let share = unavailable as f64 / requests.max(1) as f64;
    verdict.check(requests > 0, || {
        "no request was made while Postgres was slow".into()
    });
    verdict.check(share < UNAVAILABLE_RATE, || {
        format!("pool exhaustion: {unavailable} of {requests} requests answered 503 while Postgres was slow")
    });
    let slowest_probe = probe_ms.iter().copied().fold(0.0, f64::max);
    let reported =
        slowest_probe >= LATENCY.as_secs_f64() * 1000.0 || words.keys().any(|word| word != "ready");
    verdict.check(reported, || {
        format!(
            "readiness never showed the latency (slowest probe {slowest_probe:.0} ms: {words:?})"
        )
    });
    outcome
        .phase("after")
        .expect("the after phase ran")
        .check_error_rate(&mut verdict, ERROR_RATE_AFTER);
    let timeouts = |phase: &super::traffic::PhaseFigures| {
        phase
            .seen
            .failures
            .iter()
            .filter(|(why, _)| why.ends_with(": timeout") || why.contains(": status 504"))
            .map(|(_, n)| n)
            .sum::<u64>()
    };

    verdict.figure("added_latency_ms", json!(LATENCY.as_millis() as u64));
    verdict.figure("traffic", outcome.report());
    verdict.figure(
        "while_slow",
        json!({
            "p95_ms": slow.seen.overall.p95_ms,
            "p95_before_ms": outcome.phase("before").map(|p| p.seen.overall.p95_ms),
            "timeouts": timeouts(slow),
            "answered_503": unavailable,
            "readiness": words,
            "slowest_postgres_probe_ms": slowest_probe,
        }),
    );
    verdict.figure(
        "thresholds",
        json!({
            "share_503_under": UNAVAILABLE_RATE,
            "readiness_shows_latency_ms_at_least": LATENCY.as_millis() as u64,
            "error_rate_after_under": ERROR_RATE_AFTER,
        }),
    );
    Ok(verdict)
}

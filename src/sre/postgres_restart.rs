//! (g) Postgres restart: under traffic, the proxy in front of Postgres goes `Down` (every
//! connection cut, new ones refused) for 10 s (smoke: 3 s), then `Pass`, as a restarting
//! database would. Invariants: the same process (no restart) serves again — readiness `ready`
//! and a user's request answered — within 10 s of Postgres returning, and under 1 % of requests
//! fail afterwards.

use std::time::Instant;

use scale_chaos::FaultMode;
use serde_json::json;

use super::harness::{readiness, readiness_word, until, watch_readiness, Ctx, Verdict};
use super::traffic::{Plan, Traffic};

/// The service must serve again within this many seconds of Postgres returning.
const RECOVERY_SECS: f64 = 10.0;
/// Client requests failing after the recovery must stay under this.
const ERROR_RATE_AFTER: f64 = 0.01;

/// Runs the scenario.
pub async fn run(ctx: &Ctx) -> anyhow::Result<Verdict> {
    let (links, routed) = ctx.links()?;
    let proxy = links.postgres.clone().expect("Postgres is always proxied");
    let mut server = ctx
        .server(&["serve"], &[("DATABASE_URL", routed.database_url)])
        .await?;
    let pid = server.pid();
    let client = reqwest::Client::new();
    let (_, probe_token) = ctx.user();
    let bases = [server.base.clone()];
    let traffic = Traffic::warm_up(Plan::usual(ctx, &bases), ctx.secs(10.0, 2.0)).await?;

    traffic.phase("down");
    proxy.set_mode(FaultMode::Down);
    let readiness_down = watch_readiness(&client, &server.base, ctx.secs(10.0, 3.0)).await;
    traffic.phase("recovering");
    proxy.set_mode(FaultMode::Pass);
    let returned = Instant::now();
    let recovered = until(ctx.secs(60.0, 30.0), || async {
        let (status, body) = readiness(&client, &server.base).await;
        let served = client
            .get(format!("{}/accounts/transactions?limit=20", server.base))
            .bearer_auth(&probe_token)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        served && readiness_word(status, &body) == "ready"
    })
    .await;
    let recovery = recovered.map(|_| returned.elapsed());
    traffic.phase("after");
    tokio::time::sleep(ctx.secs(10.0, 2.0)).await;
    let outcome = traffic.finish().await;

    let mut verdict = Verdict::default();
    verdict.check(
        recovery.is_some_and(|d| d.as_secs_f64() <= RECOVERY_SECS),
        || {
            format!(
                "not serving again within {RECOVERY_SECS} s of Postgres returning ({recovery:?})"
            )
        },
    );
    verdict.check(server.running() && server.pid() == pid, || {
        "the server process exited".into()
    });
    outcome
        .phase("after")
        .expect("the after phase ran")
        .check_error_rate(&mut verdict, ERROR_RATE_AFTER);

    verdict.figure("traffic", outcome.report());
    verdict.figure("readiness_while_down", json!(readiness_down));
    verdict.figure(
        "error_rate_while_down",
        json!(outcome.phase("down").map(|p| p.seen.overall.error_rate())),
    );
    verdict.figure("recovery_secs", json!(recovery.map(|d| d.as_secs_f64())));
    verdict.figure(
        "thresholds",
        json!({ "recovery_secs_at_most": RECOVERY_SECS, "error_rate_after_under": ERROR_RATE_AFTER, "process_restarts": 0 }),
    );
    Ok(verdict)
}

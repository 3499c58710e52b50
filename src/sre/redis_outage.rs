//! (b) Redis unreachable: under traffic, the proxy in front of Redis goes `Down` for 30 s (smoke:
//! 3 s), then `Pass`. Invariants: readiness stays 200 and turns `degraded` (never 503), client
//! requests keep succeeding (under 1 % errors), the rate limit is still enforced in process (a
//! burst of one user over the default tier's limit is refused beyond it) and readiness is
//! `ready` again within 15 s of Redis returning.

use std::time::Instant;

use futures_util::future::join_all;
use scale_chaos::FaultMode;
use serde_json::json;

use super::harness::{readiness, readiness_word, until, watch_readiness, Ctx, Verdict};
use super::traffic::{Plan, Traffic};

/// The default tier's limit per minute the server runs with (the traffic's users stay far below).
const LIMIT: usize = 1000;
/// Requests of the bursting user, all at once in waves.
const BURST: usize = LIMIT + 200;
/// Client requests failing during the outage must stay under this.
const ERROR_RATE: f64 = 0.01;
/// Readiness must say `ready` within this many seconds of Redis returning.
const RECOVERY_SECS: f64 = 15.0;

/// Runs the scenario.
pub async fn run(ctx: &Ctx) -> anyhow::Result<Verdict> {
    let (links, routed) = ctx.links()?;
    let (Some(proxy), Some(redis_url)) = (links.redis.clone(), routed.redis_url.clone()) else {
        anyhow::bail!("the scenario needs REDIS_URL");
    };
    let server = ctx
        .server(
            &["serve"],
            &[
                ("REDIS_URL", redis_url),
                ("RATE_LIMIT_DEFAULT_PER_MIN", LIMIT.to_string()),
            ],
        )
        .await?;
    let client = reqwest::Client::new();
    let bases = [server.base.clone()];
    let traffic = Traffic::warm_up(Plan::usual(ctx, &bases), ctx.secs(10.0, 2.0)).await?;

    traffic.phase("outage");
    proxy.set_mode(FaultMode::Down);
    let outage = ctx.secs(30.0, 3.0);
    let outage_started = Instant::now();
    let (_, burster) = ctx.user();
    let burst = burst(&client, &server.base, &burster);
    let (refused, readiness_seen) = tokio::join!(burst, async {
        watch_readiness(&client, &server.base, outage).await
    });
    let (admitted, limited) = refused?;

    traffic.phase("recovery");
    proxy.set_mode(FaultMode::Pass);
    let outage_span = outage_started.elapsed();
    let recovered = until(ctx.secs(30.0, 30.0), || async {
        let (status, body) = readiness(&client, &server.base).await;
        readiness_word(status, &body) == "ready"
    })
    .await;
    tokio::time::sleep(ctx.secs(5.0, 1.0)).await;
    let outcome = traffic.finish().await;

    let mut verdict = Verdict::default();
    let during = outcome.phase("outage").expect("the outage phase ran");
    let rate = during.seen.overall.error_rate();
    during.check_error_rate(&mut verdict, ERROR_RATE);
    let unready = readiness_seen
        .iter()
        .filter(|(word, _)| !matches!(word.as_str(), "ready" | "degraded"))
        .map(|(_, n)| n)
        .sum::<u64>();
    verdict.check(unready == 0, || {
        format!("readiness was not 200 during the outage: {readiness_seen:?}")
    });
    verdict.check(readiness_seen.contains_key("degraded"), || {
        format!("readiness never said degraded: {readiness_seen:?}")
    });
    verdict.check(admitted <= LIMIT && limited >= BURST - LIMIT, || {
        format!(
            "the rate limit was not enforced without Redis: {admitted} of {BURST} admitted, \
             {limited} refused (limit {LIMIT})"
        )
    });
    verdict.check(
        recovered.is_some_and(|d| d.as_secs_f64() <= RECOVERY_SECS),
        || format!("readiness was not ready within {RECOVERY_SECS} s of Redis returning"),
    );

    verdict.figure("outage_secs", json!(outage_span.as_secs_f64()));
    verdict.figure("traffic", outcome.report());
    verdict.figure("outage_error_rate", json!(rate));
    verdict.figure("readiness_during_outage", json!(readiness_seen));
    verdict.figure(
        "burst",
        json!({ "limit_per_min": LIMIT, "sent": BURST, "admitted": admitted, "refused_429": limited }),
    );
    verdict.figure(
        "recovery_to_ready_secs",
        json!(recovered.map(|d| d.as_secs_f64())),
    );
    verdict.figure(
        "thresholds",
        json!({
            "outage_error_rate_under": ERROR_RATE,
            "readiness": "200 (ready or degraded) throughout",
            "burst_admitted_at_most": LIMIT,
            "recovery_secs_at_most": RECOVERY_SECS,
        }),
    );
    Ok(verdict)
}

/// One user sends [`BURST`] requests of the default tier, 50 at a time: how many were admitted
/// and how many refused with 429.
async fn burst(
    client: &reqwest::Client,
    base: &str,
    token: &str,
) -> anyhow::Result<(usize, usize)> {
    let url = format!("{base}/accounts/profile");
    let (mut admitted, mut limited) = (0, 0);
    for wave in 0..BURST.div_ceil(50) {
        let size = (BURST - wave * 50).min(50);
        let answers = join_all((0..size).map(|_| client.get(&url).bearer_auth(token).send())).await;
        for answer in answers {
            match answer?.status().as_u16() {
                429 => limited += 1,
                status if status < 400 => admitted += 1,
                _ => {}
            }
        }
    }
    Ok((admitted, limited))
}

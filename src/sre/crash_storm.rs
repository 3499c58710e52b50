//! (f) Actor crash storm: under traffic, a server started with `CHAOS_ENABLED=true` runs the
//! `crash-storm` chaos scenario (`POST /ops/chaos`): the analytics actor crashes ten times a
//! second, past its restart intensity, then random actors crash now and then. Reported: when
//! the escalation showed, what readiness said and the status codes clients got from the
//! escalated actor's routes (`/analytics/*`) and the others. Invariants: the escalation is seen
//! (readiness 503 naming `analytics`) within 10 s, readiness stays 503 while it lasts (until the
//! process restarts), the escalated routes answer 503 — never a 500 or a timeout — and no other
//! request gets a 500.

use std::collections::BTreeMap;
use std::time::Instant;

use reqwest::StatusCode;
use scale_http::auth::Role;
use serde_json::json;
use uuid::Uuid;

use super::harness::{readiness, readiness_word, Ctx, Verdict, POLL};
use super::traffic::{Plan, Traffic};

/// The escalation must show in readiness within this many seconds of the storm's start.
const ESCALATION_SECS: f64 = 10.0;
/// The routes of the actor the storm escalates.
const ESCALATED_ROUTES: &str = "GET /analytics/";

/// Runs the scenario.
pub async fn run(ctx: &Ctx) -> anyhow::Result<Verdict> {
    let server = ctx
        .server(&["serve"], &[("CHAOS_ENABLED", "true".to_owned())])
        .await?;
    let client = reqwest::Client::new();
    let bases = [server.base.clone()];
    let traffic = Traffic::warm_up(Plan::usual(ctx, &bases), ctx.secs(5.0, 1.0)).await?;

    traffic.phase("storm");
    let admin = ctx.token(Uuid::new_v4(), Role::Admin);
    let started = client
        .post(format!("{}/ops/chaos", server.base))
        .bearer_auth(&admin)
        .json(&json!({ "action": "start", "scenario": "crash-storm" }))
        .send()
        .await?;
    anyhow::ensure!(
        started.status() == StatusCode::ACCEPTED,
        "the server refused to start crash-storm: {}",
        started.status()
    );
    let storm = Instant::now();
    let watch = ctx.secs(15.0, 6.0);
    let mut escalated_at = None;
    let mut words = BTreeMap::<String, u64>::new();
    let mut ready_while_escalated = 0;
    while storm.elapsed() < watch {
        let (status, body) = readiness(&client, &server.base).await;
        let word = readiness_word(status, &body);
        let names_analytics = body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("analytics"));
        if word == "unavailable" && names_analytics && escalated_at.is_none() {
            escalated_at = Some(storm.elapsed());
        } else if escalated_at.is_some() && word != "unavailable" {
            ready_while_escalated += 1;
        }
        *words.entry(word).or_default() += 1;
        tokio::time::sleep(POLL).await;
    }
    let outcome = traffic.finish().await;

    let mut verdict = Verdict::default();
    verdict.check(
        escalated_at.is_some_and(|d| d.as_secs_f64() <= ESCALATION_SECS),
        || format!("readiness never named the escalated analytics actor in a 503: {words:?}"),
    );
    verdict.check(ready_while_escalated == 0, || {
        format!(
            "readiness answered 200 {ready_while_escalated} times while analytics was escalated"
        )
    });
    let phase = outcome.phase("storm").expect("the storm phase ran");
    let escalated: BTreeMap<&String, &u64> = phase
        .seen
        .failures
        .iter()
        .filter(|(why, _)| why.starts_with(ESCALATED_ROUTES))
        .collect();
    let refused_503 = escalated
        .iter()
        .filter(|(why, _)| why.contains(": status 503"))
        .map(|(_, n)| **n)
        .sum::<u64>();
    let escalated_requests = phase
        .seen
        .routes
        .iter()
        .filter(|(route, _)| route.starts_with(ESCALATED_ROUTES))
        .map(|(_, figures)| figures.requests)
        .sum::<u64>();
    verdict.check(
        refused_503 > 0 && refused_503 == escalated.values().copied().sum::<u64>(),
        || format!("the escalated routes answered other errors than 503: {escalated:?}"),
    );
    let broken: Vec<&String> = phase
        .seen
        .failures
        .keys()
        .filter(|why| why.contains(": status 500") || why.ends_with(": timeout"))
        .collect();
    verdict.check(broken.is_empty(), || {
        format!("requests failed with a 500 or a timeout: {broken:?}")
    });
    let others = phase
        .seen
        .routes
        .iter()
        .filter(|(route, _)| !route.starts_with(ESCALATED_ROUTES))
        .fold((0, 0), |(requests, errors), (_, f)| {
            (requests + f.requests, errors + f.errors)
        });

    verdict.figure("traffic", outcome.report());
    verdict.figure(
        "escalation_seen_after_secs",
        json!(escalated_at.map(|d| d.as_secs_f64())),
    );
    verdict.figure("readiness_during_storm", json!(words));
    verdict.figure(
        "escalated_routes",
        json!({ "requests": escalated_requests, "answered_503": refused_503, "errors": escalated }),
    );
    verdict.figure(
        "other_routes",
        json!({ "requests": others.0, "errors": others.1 }),
    );
    verdict.figure(
        "thresholds",
        json!({
            "escalation_seen_within_secs": ESCALATION_SECS,
            "readiness_while_escalated": 503,
            "escalated_routes_answer": 503,
            "status_500_or_timeouts": 0,
        }),
    );
    Ok(verdict)
}

//! `scale bench classify`: one batch of distinct bank-style narrations (the seeded synthetic
//! training corpus, deduplicated by normalised description) classified in-process with the
//! shipped classifier, shared among every core as the route does — the limit, best of N — and
//! the same batch POSTed N times in a row to `POST /api/v1/categorization/classify/batch` of the
//! real binary, in the same run: the requests' latency percentiles and their rate against the
//! in-process one.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use scale_actors::categorization::normalize::normalize_description;
use scale_actors::categorization::resolve::{Classification, Classifier, NoOverrides};
use scale_actors::categorization::service::{CLASSIFY_THREADS, MAX_BATCH};
use scale_actors::categorization::synthetic;
use scale_http::auth::{mint_token, Role};
use serde_json::{json, Value};
use uuid::Uuid;

use super::percentiles;
use super::server::Server;
use crate::config::Config;

/// Seed of the synthetic corpus the narrations come from.
const CORPUS_SEED: u64 = 13;

/// Options of `scale bench classify`.
#[derive(clap::Args)]
pub struct Options {
    /// Distinct narrations in the batch (at most the route's 5,000).
    #[arg(long, default_value_t = MAX_BATCH)]
    descriptions: usize,
    /// Batches classified on each side (after one warm-up each).
    #[arg(long, default_value_t = 20)]
    requests: usize,
}

/// Runs both sides and returns the report.
pub fn run(config: &Config, options: &Options) -> anyhow::Result<Value> {
    anyhow::ensure!(
        (1..=MAX_BATCH).contains(&options.descriptions) && options.requests > 0,
        "--descriptions must be 1..={MAX_BATCH} and --requests positive"
    );
    let batch = narrations(options.descriptions)?;
    let items: Vec<(&str, Option<f64>)> = batch.iter().map(|(d, a)| (d.as_str(), *a)).collect();
    let classifier = Classifier::shipped();
    let threads = *CLASSIFY_THREADS;
    let expected = classifier.classify_batch_on(&items, &NoOverrides, threads);
    let in_process: Vec<f64> = (0..options.requests)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(classifier.classify_batch_on(&items, &NoOverrides, threads));
            millis(started.elapsed())
        })
        .collect();

    let body = Bytes::from(serde_json::to_vec(&json!({
        "descriptions": batch.iter().map(|(d, _)| d).collect::<Vec<_>>(),
        "amounts": batch.iter().map(|(_, a)| a).collect::<Vec<_>>(),
    }))?);
    let http = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(over_http(config, &body, options.requests, &expected))?;

    let n = options.descriptions as f64;
    let best = in_process.iter().copied().fold(f64::INFINITY, f64::min);
    let [in_p50] = percentiles(&in_process, [0.5]);
    let [p50, p95, max] = percentiles(&http, [0.5, 0.95, 1.0]);
    let in_process_rate = n / (best / 1000.0);
    let http_rate = n * http.len() as f64 / (http.iter().sum::<f64>() / 1000.0);
    let ratio = http_rate / in_process_rate;
    Ok(json!({
        "benchmark": "classify",
        "descriptions": options.descriptions,
        "requests": options.requests,
        "body_bytes": body.len(),
        "in_process": {
            "best_ms": best,
            "p50_ms": in_p50,
            "descriptions_per_sec": in_process_rate,
        },
        "http": {
            "p50_ms": p50,
            "p95_ms": p95,
            "max_ms": max,
            "descriptions_per_sec": http_rate,
        },
        "ratios": {
            "http_rate_vs_in_process": ratio,
            "http_p50_vs_in_process_best": p50 / best,
        },
        "targets": {
            "classify_batch_p50_under_50ms": p50 < 50.0,
            "http_at_least_half_in_process_rate": ratio >= 0.5,
        },
    }))
}

/// The first `n` narrations of the synthetic corpus with distinct normalised descriptions, with
/// their amounts (deterministic).
fn narrations(n: usize) -> anyhow::Result<Vec<(String, Option<f64>)>> {
    let mut seen = HashSet::new();
    let batch: Vec<(String, Option<f64>)> = synthetic::corpus(CORPUS_SEED)
        .into_iter()
        .filter(|example| seen.insert(normalize_description(&example.text)))
        .take(n)
        .map(|example| (example.text, example.amount))
        .collect();
    anyhow::ensure!(
        batch.len() == n,
        "the corpus holds only {} distinct narrations",
        batch.len()
    );
    Ok(batch)
}

/// Starts the real binary (rate limits out of the way) and POSTs `body` `requests` times in a
/// row after one warm-up, over one kept-alive connection; the latency of each, in milliseconds.
/// The warm-up's answer must match the in-process `expected` categories.
async fn over_http(
    config: &Config,
    body: &Bytes,
    requests: usize,
    expected: &[Classification],
) -> anyhow::Result<Vec<f64>> {
    let server = Server::start(config, &[])?;
    let token = mint_token(&config.jwt_secret, Uuid::new_v4(), Role::User, 3600);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let url = format!("{}/categorization/classify/batch", server.base);
    let post = || {
        client
            .post(&url)
            .bearer_auth(&token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.clone())
            .send()
    };
    let answer: Value = post()
        .await?
        .error_for_status()
        .context("the warm-up batch")?
        .json()
        .await?;
    let categories: Vec<&str> = answer["predictions"]
        .as_array()
        .context("no predictions")?
        .iter()
        .map(|p| p["category"].as_str().unwrap_or_default())
        .collect();
    anyhow::ensure!(
        categories
            .iter()
            .copied()
            .eq(expected.iter().map(|c| c.category.as_str())),
        "the server's categories differ from the in-process ones"
    );
    let mut latencies = Vec::with_capacity(requests);
    for _ in 0..requests {
        let started = Instant::now();
        let response = post().await?.error_for_status()?;
        response.bytes().await?;
        latencies.push(millis(started.elapsed()));
    }
    Ok(latencies)
}

fn millis(elapsed: Duration) -> f64 {
    elapsed.as_secs_f64() * 1000.0
}

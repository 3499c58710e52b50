//! The open model: requests arrive at an offered rate whatever the server's pace, each timed
//! from the moment it was due (a slow server cannot slow the arrivals down and so hide its
//! latency), and the step search for the highest rate kept at p95 under 100 ms with under 1 %
//! errors.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::api::{Api, Call};
use super::stats::{Figures, Recorder, SUSTAINABLE};

/// Requests in flight at most; an arrival beyond them is shed and counts as an error (the
/// server is far behind), which keeps the driver's memory bounded.
const MAX_IN_FLIGHT: usize = 2048;

/// The offered rates tried: `start`, then × `factor` per step, at most `max` steps.
#[derive(Clone, Copy, Debug)]
pub struct Steps {
    /// The first step's offered rate (requests per second).
    pub start: f64,
    /// Each step's rate over the previous one's.
    pub factor: f64,
    /// Steps at most.
    pub max: usize,
    /// How long each step offers its rate.
    pub span: Duration,
}

/// One step: the rate offered and what it got.
#[derive(Clone, Debug)]
pub struct Step {
    /// Offered requests per second.
    pub offered: f64,
    /// Arrivals shed because `MAX_IN_FLIGHT` requests were still unanswered (also counted
    /// in `figures` as errors).
    pub shed: u64,
    /// Every request of the step, shed ones included.
    pub figures: Figures,
    /// Failures by `route: why` (shed arrivals left out).
    pub failures: BTreeMap<String, u64>,
}

impl Step {
    /// Why the step is not sustainable; empty when it is.
    fn failures(&self) -> Vec<String> {
        SUSTAINABLE.failures(&format!("{:.0} req/s", self.offered), &self.figures)
    }
}

/// The rate to offer after the steps `done`, or `None` when the search is over: the last
/// step was not sustainable, or every step was made.
pub fn next_rate(steps: &Steps, done: &[Step]) -> Option<f64> {
    let over = done.last().is_some_and(|step| !step.failures().is_empty());
    (!over && done.len() < steps.max).then(|| steps.start * steps.factor.powi(done.len() as i32))
}

/// The last sustainable step before the first one that was not.
pub fn sustainable(done: &[Step]) -> Option<&Step> {
    done.iter()
        .take_while(|step| step.failures().is_empty())
        .last()
}

/// Raises the offered rate of `calls` (taken in turn, by `tokens` in turn) step by step until
/// a step is not sustainable; the report of every step and the answer.
pub async fn search(api: &Api, tokens: &[String], calls: &[Call], steps: &Steps) -> Value {
    let mut done = Vec::new();
    while let Some(rate) = next_rate(steps, &done) {
        done.push(offer(api, tokens, calls, rate, steps.span).await);
    }
    let best = sustainable(&done);
    json!({
        "steps": done.iter().map(|step| json!({
            "offered_per_sec": step.offered,
            "shed": step.shed,
            "figures": step.figures.report(),
            "errors_by_kind": step.failures,
            "sustainable": step.failures().is_empty(),
        })).collect::<Vec<_>>(),
        "max_sustainable_per_sec": best.map(|step| step.offered),
        "p95_ms_at_max": best.map(|step| step.figures.p95_ms),
        "stopped_by": done.last().map(Step::failures).unwrap_or_default(),
        "ceiling_reached": done.last().is_some_and(|step| !step.failures().is_empty()),
    })
}

/// Offers `rate` requests per second for `span`.
async fn offer(api: &Api, tokens: &[String], calls: &[Call], rate: f64, span: Duration) -> Step {
    let recorder = Recorder::shared();
    let api = api.recording_into(recorder.clone());
    let arrivals = (rate * span.as_secs_f64()).round().max(1.0) as usize;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut requests = JoinSet::new();
    let mut shed = 0;
    let start = Instant::now();
    for i in 0..arrivals {
        let due = start + interval.mul_f64(i as f64);
        tokio::time::sleep_until(due.into()).await;
        while requests.try_join_next().is_some() {}
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            shed += 1;
            continue;
        };
        let api = api.clone();
        let call = calls[i % calls.len()];
        let token = tokens[i % tokens.len()].clone();
        requests.spawn(async move {
            api.call(call, &token, due).await.ok();
            drop(slot);
        });
    }
    requests.join_all().await;
    let summary = Recorder::summary_shared(&recorder, span);
    let mut figures = summary.overall;
    figures.requests += shed;
    figures.errors += shed;
    Step {
        offered: rate,
        shed,
        figures,
        failures: summary.failures,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(offered: f64, p95_ms: f64, errors: u64) -> Step {
        Step {
            offered,
            shed: 0,
            figures: Figures {
                requests: 1000,
                errors,
                rps: offered,
                p50_ms: p95_ms / 2.0,
                p95_ms,
                p99_ms: p95_ms,
                max_ms: p95_ms,
            },
            failures: BTreeMap::new(),
        }
    }

    const STEPS: Steps = Steps {
        start: 100.0,
        factor: 2.0,
        max: 4,
        span: Duration::from_secs(1),
    };

    #[test]
    fn rates_rise_by_the_factor_while_steps_hold() {
        assert_eq!(next_rate(&STEPS, &[]), Some(100.0));
        assert_eq!(next_rate(&STEPS, &[step(100.0, 5.0, 0)]), Some(200.0));
        let good = [step(100.0, 5.0, 0), step(200.0, 9.0, 3)];
        assert_eq!(next_rate(&STEPS, &good), Some(400.0));
    }

    #[test]
    fn the_search_stops_at_the_first_step_over_100_ms_or_1_percent_errors() {
        let slow = [step(100.0, 5.0, 0), step(200.0, 100.0, 0)];
        assert_eq!(next_rate(&STEPS, &slow), None);
        assert_eq!(sustainable(&slow).unwrap().offered, 100.0);
        let failing = [step(100.0, 5.0, 0), step(200.0, 20.0, 10)];
        assert_eq!(next_rate(&STEPS, &failing), None);
        assert_eq!(sustainable(&failing).unwrap().offered, 100.0);
        // Nothing sustainable at all.
        assert!(sustainable(&[step(100.0, 150.0, 0)]).is_none());
    }

    #[test]
    fn the_search_ends_after_its_last_step() {
        let all: Vec<Step> = [100.0, 200.0, 400.0, 800.0]
            .into_iter()
            .map(|rate| step(rate, 5.0, 0))
            .collect();
        assert_eq!(next_rate(&STEPS, &all), None);
        assert_eq!(sustainable(&all).unwrap().offered, 800.0);
    }
}

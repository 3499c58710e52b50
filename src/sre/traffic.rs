//! The traffic a scenario drives while its fault runs: users each importing a statement, reading
//! list pages and analytics, classifying, asking safe-to-spend and queueing training jobs, again
//! and again, plus one WebSocket subscriber counting job events. Each request is tried on the
//! user's server, then (when there are several) retried on the others after a 5xx or a
//! transport failure, as a client behind a load balancer would. Figures come per phase
//! ([`Traffic::phase`]): the first attempts (what one process answered) and the outcome the
//! clients saw after their retries.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::harness::{Ctx, Verdict};
use crate::bench::load::api::{Answer, Api, Call};
use crate::bench::load::stats::{Recorder, Shared, Summary};
use crate::bench::ws::subscriber;

/// The route the clients' outcomes of imports are recorded under.
const IMPORT: &str = "POST /ingest/import";
/// The route the clients' outcomes of job requests are recorded under.
const JOBS: &str = "POST /training/jobs";

/// One phase's recorders.
struct Phase {
    name: &'static str,
    started: Instant,
    /// Every attempt, retries included.
    attempts: Shared,
    /// One entry per client request: its final outcome after retries.
    seen: Shared,
}

impl Phase {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            started: Instant::now(),
            attempts: Recorder::shared(),
            seen: Recorder::shared(),
        }
    }
}

/// The phases so far, the current one last.
type Phases = Arc<Mutex<Vec<Phase>>>;

/// Traffic under way.
pub struct Traffic {
    stop: watch::Sender<bool>,
    users: JoinSet<Vec<String>>,
    subscriber: tokio::task::JoinHandle<u64>,
    phases: Phases,
}

/// What a phase measured.
pub struct PhaseFigures {
    /// The phase's name.
    pub name: &'static str,
    /// How long it lasted.
    pub span: Duration,
    /// Every attempt (a request retried elsewhere counts twice).
    pub attempts: Summary,
    /// Every client request once, by its final outcome.
    pub seen: Summary,
}

impl PhaseFigures {
    /// The figures as JSON.
    pub fn report(&self) -> Value {
        json!({
            "span_secs": self.span.as_secs_f64(),
            "first_attempts": self.attempts.overall.report(),
            "first_attempt_errors": self.attempts.failures,
            "as_clients_saw": self.seen.overall.report(),
            "client_errors": self.seen.failures,
        })
    }

    /// Fails `verdict` unless clients made requests in this phase and under `limit` of them
    /// failed (after their retries).
    pub fn check_error_rate(&self, verdict: &mut Verdict, limit: f64) {
        let figures = &self.seen.overall;
        verdict.check(figures.requests > 0 && figures.error_rate() < limit, || {
            format!(
                "{} of {} client requests failed during `{}` ({:.2} %; the limit is under {} %)",
                figures.errors,
                figures.requests,
                self.name,
                figures.error_rate() * 100.0,
                limit * 100.0
            )
        });
    }

    /// Requests the clients saw answered with `status` (any route).
    pub fn seen_with_status(&self, status: u16) -> u64 {
        let needle = format!(": status {status}");
        self.seen
            .failures
            .iter()
            .filter(|(why, _)| why.contains(&needle))
            .map(|(_, n)| n)
            .sum()
    }
}

/// What the traffic did.
pub struct Outcome {
    /// Each phase, in order.
    pub phases: Vec<PhaseFigures>,
    /// The ids of the training jobs the users queued.
    pub jobs: Vec<String>,
    /// Job events the WebSocket subscriber received.
    pub ws_events: u64,
}

impl Outcome {
    /// The phase called `name`.
    pub fn phase(&self, name: &str) -> Option<&PhaseFigures> {
        self.phases.iter().find(|p| p.name == name)
    }

    /// Every phase as JSON, by name, with the job and event counts.
    pub fn report(&self) -> Value {
        json!({
            "phases": self
                .phases
                .iter()
                .map(|p| (p.name.to_owned(), p.report()))
                .collect::<serde_json::Map<_, _>>(),
            "training_jobs_queued": self.jobs.len(),
            "websocket_job_events": self.ws_events,
        })
    }
}

/// How the traffic runs.
pub struct Plan<'a> {
    /// The servers' APIs (`http://host:port/api/v1`); user `i` starts on server `i % len`.
    pub bases: &'a [String],
    /// One token per user.
    pub tokens: Vec<String>,
    /// Pause after each request.
    pub think: Duration,
    /// Whether failed requests are retried on the other servers.
    pub retry: bool,
    /// Whether each user queues training jobs (one categorizer, one forecaster).
    pub jobs: bool,
}

impl<'a> Plan<'a> {
    /// The usual traffic: 10 users (smoke: 4) on `bases`, each pausing 50 ms (smoke: 20 ms)
    /// after a request, queueing jobs, never retrying.
    pub fn usual(ctx: &Ctx, bases: &'a [String]) -> Self {
        Self {
            bases,
            tokens: ctx.tokens(ctx.pick(10, 4)),
            think: ctx.secs(0.05, 0.02),
            retry: false,
            jobs: true,
        }
    }
}

impl Traffic {
    /// Starts the traffic in a phase `before` and lets it run for `span`.
    pub async fn warm_up(plan: Plan<'_>, span: Duration) -> anyhow::Result<Self> {
        let traffic = Self::start(plan, "before")?;
        tokio::time::sleep(span).await;
        Ok(traffic)
    }

    /// Starts the users and the subscriber (on the first server), in a first phase `name`.
    pub fn start(plan: Plan<'_>, name: &'static str) -> anyhow::Result<Self> {
        let apis = plan
            .bases
            .iter()
            .map(|base| Api::new(base, Recorder::shared()))
            .collect::<anyhow::Result<Vec<_>>>()?;
        anyhow::ensure!(!apis.is_empty(), "traffic needs a server");
        let (stop, stopped) = watch::channel(false);
        let phases: Phases = Arc::new(Mutex::new(vec![Phase::new(name)]));
        let ws_url = plan.bases[0].replacen("http://", "ws://", 1) + "/ws/jobs";
        let subscriber = tokio::spawn(count_events(
            ws_url,
            plan.tokens.first().cloned().unwrap_or_default(),
            stopped.clone(),
        ));
        let mut users = JoinSet::new();
        for (i, token) in plan.tokens.into_iter().enumerate() {
            let mut order = apis.clone();
            order.rotate_left(i % apis.len());
            if !plan.retry {
                order.truncate(1);
            }
            let user = User {
                apis: order,
                token,
                think: plan.think,
                jobs: plan.jobs,
                phases: phases.clone(),
            };
            users.spawn(user.run(stopped.clone()));
        }
        Ok(Self {
            stop,
            users,
            subscriber,
            phases,
        })
    }

    /// Ends the current phase and starts one called `name`.
    pub fn phase(&self, name: &'static str) {
        lock(&self.phases).push(Phase::new(name));
    }

    /// Stops the users (each finishes its request under way) and the subscriber; what they did.
    pub async fn finish(self) -> Outcome {
        let ended = Instant::now();
        self.stop.send_replace(true);
        let jobs = self.users.join_all().await.concat();
        let ws_events = self.subscriber.await.unwrap_or(0);
        let phases = std::mem::take(&mut *lock(&self.phases));
        let mut ends: Vec<Instant> = phases.iter().skip(1).map(|p| p.started).collect();
        ends.push(ended);
        let phases = phases
            .into_iter()
            .zip(ends)
            .map(|(phase, end)| {
                let span = end.saturating_duration_since(phase.started);
                PhaseFigures {
                    name: phase.name,
                    span,
                    attempts: Recorder::summary_shared(&phase.attempts, span),
                    seen: Recorder::summary_shared(&phase.seen, span),
                }
            })
            .collect();
        Outcome {
            phases,
            jobs,
            ws_events,
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One user: its servers in the order it tries them.
struct User {
    apis: Vec<Api>,
    token: String,
    think: Duration,
    jobs: bool,
    phases: Phases,
}

impl User {
    /// Makes rounds until stopped; the ids of the jobs it queued.
    async fn run(self, stopped: watch::Receiver<bool>) -> Vec<String> {
        // Signing in creates the user's row; not part of the figures.
        self.apis[0].profile(&self.token).await.ok();
        let mut jobs = Vec::new();
        let mut n = 0;
        while !*stopped.borrow() {
            self.round(n, &mut jobs, &stopped).await;
            n += 1;
        }
        jobs
    }

    /// Round `n`: an import of statement `n`, the read mix, and a job in the first two rounds.
    async fn round(&self, n: u64, jobs: &mut Vec<String>, stopped: &watch::Receiver<bool>) {
        let token = self.token.as_str();
        self.step(IMPORT, |api| async move { api.import(token, n).await })
            .await
            .ok();
        for call in Call::MIX {
            if *stopped.borrow() {
                return;
            }
            self.step(call.route(), |api| async move {
                api.call(call, token, Instant::now()).await
            })
            .await
            .ok();
        }
        if self.jobs && n < 2 {
            let kind = if n == 0 { "categorizer" } else { "forecaster" };
            let job = self
                .step(JOBS, |api| async move { api.start_job(token, kind).await })
                .await;
            if let Some(id) = job
                .ok()
                .and_then(|job| job["id"].as_str().map(str::to_owned))
            {
                jobs.push(id);
            }
        }
    }

    /// Sends a request through `send` to each server in turn until one answers it (a 4xx is an
    /// answer); records every attempt and the outcome.
    async fn step<F, Fut>(&self, route: &'static str, send: F) -> Answer
    where
        F: Fn(Api) -> Fut,
        Fut: Future<Output = Answer>,
    {
        let (attempts, seen) = {
            let phases = lock(&self.phases);
            let current = phases.last().expect("traffic has a phase");
            (current.attempts.clone(), current.seen.clone())
        };
        let started = Instant::now();
        let mut answer = Err("not sent".to_owned());
        let mut retried = false;
        for (i, api) in self.apis.iter().enumerate() {
            answer = send(api.recording_into(attempts.clone())).await;
            retried = i > 0;
            if !retryable(&answer) {
                break;
            }
        }
        let why = match &answer {
            // A retried import the first server stored before failing is refused as already
            // imported by the next one: the import happened, once.
            Err(why) if !(retried && route == IMPORT && why.starts_with("status 409")) => {
                Some(why.as_str())
            }
            _ => None,
        };
        Recorder::record_shared(&seen, route, started.elapsed(), why);
        if !self.think.is_zero() {
            tokio::time::sleep(self.think).await;
        }
        answer
    }
}

/// Whether a client would try another server after `answer`: a 5xx or no answer at all.
fn retryable(answer: &Answer) -> bool {
    matches!(answer, Err(why) if !why.starts_with("status 4"))
}

/// Subscribes to the jobs of `token`'s user over `url` and counts text messages until
/// stopped or the connection ends.
async fn count_events(url: String, token: String, mut stopped: watch::Receiver<bool>) -> u64 {
    let Ok(mut ws) = subscriber(&url, &token).await else {
        return 0;
    };
    let mut events = 0;
    loop {
        tokio::select! {
            _ = stopped.wait_for(|stop| *stop) => break,
            message = ws.next() => match message {
                Some(Ok(message)) if message.is_text() => events += 1,
                Some(Ok(_)) => {}
                _ => break,
            },
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_server_errors_and_lost_requests_are_retried() {
        assert!(retryable(&Err("status 503".into())));
        assert!(retryable(&Err("connect".into())));
        assert!(!retryable(&Err("status 409".into())));
        assert!(!retryable(&Ok(Value::Null)));
    }
}

//! The closed model: virtual users, started gradually, each making the mixed journey again and
//! again until the phase ends (sign in, import a small statement, list pages with filters,
//! analytics, classify, safe-to-spend, queue a training job and follow it over the WebSocket
//! until it ends); and the same number of users calling `GET /health` back to back, the
//! baseline.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use scale_actors::jobs::JobStatus;
use serde::Deserialize;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

use super::super::ws::subscriber;
use super::api::{Api, Call};
use super::stats::{Recorder, Summary};

/// Longest a followed training job may take from its request to its final event.
const JOB_DEADLINE: Duration = Duration::from_secs(120);

/// How the journey phase runs.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// Virtual users.
    pub users: usize,
    /// Users start evenly spread over this span.
    pub ramp_up: Duration,
    /// How long users keep starting new journeys (from the first user's start).
    pub duration: Duration,
    /// Pause after each step of a journey.
    pub think: Duration,
}

/// What the journey phase measured.
pub struct Outcome {
    /// Every HTTP request, per route template.
    pub http: Summary,
    /// Training jobs, from the request queueing them to their final event over the WebSocket;
    /// a job that did not complete in time is an error, of the kind its ending (`failed`,
    /// `cancelled`, or why it was lost).
    pub jobs: Summary,
    /// Journeys finished.
    pub journeys: u64,
    /// From the first user's start to the last user's end.
    pub span: Duration,
}

/// Runs the journey for `tokens.len()` users (`shape.users` of them) against `api`.
pub async fn journeys(api: &Api, ws_url: &str, tokens: &[String], shape: Shape) -> Outcome {
    let http = Recorder::shared();
    let jobs = Recorder::shared();
    let started = Instant::now();
    let until = started + shape.duration;
    let mut users = JoinSet::new();
    for (i, token) in tokens.iter().enumerate() {
        let user = User {
            api: api.recording_into(http.clone()),
            jobs: jobs.clone(),
            ws_url: ws_url.to_owned(),
            token: token.clone(),
            think: shape.think,
        };
        let start_at = started + shape.ramp_up.mul_f64(i as f64 / tokens.len().max(1) as f64);
        users.spawn(async move {
            tokio::time::sleep_until(start_at.into()).await;
            user.run(until).await
        });
    }
    let journeys = users.join_all().await.into_iter().sum();
    let span = started.elapsed();
    Outcome {
        http: Recorder::summary_shared(&http, span),
        jobs: Recorder::summary_shared(&jobs, span),
        journeys,
        span,
    }
}

/// `concurrency` users calling `GET /health` back to back for `span`.
pub async fn health(api: &Api, concurrency: usize, span: Duration) -> Summary {
    let recorder = Recorder::shared();
    let api = api.recording_into(recorder.clone());
    let started = Instant::now();
    let until = started + span;
    let mut callers = JoinSet::new();
    for _ in 0..concurrency {
        let api = api.clone();
        callers.spawn(async move {
            while Instant::now() < until {
                api.call(Call::Health, "", Instant::now()).await.ok();
            }
        });
    }
    callers.join_all().await;
    Recorder::summary_shared(&recorder, started.elapsed())
}

/// One virtual user.
struct User {
    api: Api,
    jobs: super::stats::Shared,
    ws_url: String,
    token: String,
    think: Duration,
}

impl User {
    /// Signs in, then makes journeys until `until`; how many it finished.
    async fn run(self, until: Instant) -> u64 {
        self.api.profile(&self.token).await.ok();
        let mut n = 0;
        while Instant::now() < until {
            self.journey(n).await;
            n += 1;
        }
        n
    }

    /// Journey `n` of this user (its statement is the `n`th; even journeys train the
    /// categorizer, odd ones the forecaster).
    async fn journey(&self, n: u64) {
        let token = self.token.as_str();
        self.api.import(token, n).await.ok();
        self.pause().await;
        let page = self.api.call(Call::List, token, Instant::now()).await;
        if let Some(cursor) = page.as_ref().ok().and_then(|p| p["next_cursor"].as_str()) {
            self.pause().await;
            self.api.next_page(token, cursor).await.ok();
        }
        for call in [
            Call::ListFiltered,
            Call::Summary,
            Call::Overview,
            Call::Classify,
            Call::SafeToSpend,
        ] {
            self.pause().await;
            self.api.call(call, token, Instant::now()).await.ok();
        }
        self.pause().await;
        let kind = if n.is_multiple_of(2) {
            "categorizer"
        } else {
            "forecaster"
        };
        self.follow_job(kind).await;
        self.pause().await;
    }

    async fn pause(&self) {
        if !self.think.is_zero() {
            tokio::time::sleep(self.think).await;
        }
    }

    /// Subscribes to the user's jobs over the WebSocket, queues a job of `kind` and reads
    /// events until the job's final one; records the time taken and, unless it completed, how it ended.
    async fn follow_job(&self, kind: &str) {
        let started = Instant::now();
        let ending = self.job_ending(kind, started + JOB_DEADLINE).await;
        Recorder::record_shared(
            &self.jobs,
            "POST /training/jobs → final event on WS /ws/jobs",
            started.elapsed(),
            (ending != "completed").then_some(ending.as_str()),
        );
    }

    /// The final status of a job of `kind` queued now, or why none was seen by `deadline`.
    async fn job_ending(&self, kind: &str, deadline: Instant) -> String {
        let Ok(mut ws) = subscriber(&self.ws_url, &self.token).await else {
            return "websocket_refused".into();
        };
        let Ok(job) = self.api.start_job(&self.token, kind).await else {
            return "not_queued".into();
        };
        let Some(id) = job["id"].as_str() else {
            return "not_queued".into();
        };
        let ending = loop {
            match tokio::time::timeout_at(deadline.into(), ws.next()).await {
                Err(_) => break "timed_out".to_owned(),
                Ok(Some(Ok(Message::Text(text)))) => {
                    let Ok(event) = serde_json::from_str::<Event>(&text) else {
                        continue;
                    };
                    let ended = JobStatus::parse(&event.status).is_some_and(JobStatus::is_final);
                    if event.kind == "event" && event.job_id == id && ended {
                        break event.status;
                    }
                }
                Ok(Some(Ok(_))) => {}
                Ok(_) => break "websocket_closed".to_owned(),
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(None)).await;
        ending
    }
}

/// The fields of a WebSocket message the journey reads.
#[derive(Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    job_id: String,
    #[serde(default)]
    status: String,
}

//! `GET /api/v1/ops/stream` (admin only): the ops dashboard's live feed as Server-Sent Events.
//! Every [`PERIOD`] the feed reads the registry, the health actor's report and this process's
//! request metrics; it pushes a `snapshot` event when something an operator would notice
//! changed (see [`feed::changed`]) and at least every [`REFRESH`] (so ages and traffic stay
//! current, and a closed connection is noticed). One feed per connection; it ends when the
//! client goes.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::web::{self, Bytes};
use actix_web::HttpResponse;
use chrono::Utc;
use metrics_exporter_prometheus::PrometheusHandle;
use scale_actors::health::{GetHealth, HealthReport};
use scale_chaos::Status;
use scale_monitoring::metrics::LiveConnection;

use super::feed::{self, HttpTotals, Inputs, Problem, Snapshot, Traffic};
use crate::auth::AdminUser;
use crate::AppState;

/// How often the feed looks; no two snapshots are pushed closer together.
pub const PERIOD: Duration = Duration::from_millis(500);
/// Longest time between two pushed snapshots.
pub const REFRESH: Duration = Duration::from_secs(5);
/// How far back the request rate, 5xx share and p95 look.
pub const WINDOW: Duration = Duration::from_secs(60);
/// How many recent problems a snapshot carries.
pub const KEPT_PROBLEMS: usize = 20;

/// `GET /api/v1/ops/stream`: `event: snapshot` frames whose data is a [`Snapshot`].
#[utoipa::path(get, path = "/api/v1/ops/stream", tag = "ops", security(("bearer" = ["admin"])),
    responses((status = 200, description = "Server-Sent Events: `event: snapshot` frames whose data is the dashboard's snapshot (actors, health, traffic, recent problems, chaos).", content_type = "text/event-stream", body = String)))]
pub(super) async fn stream(_: AdminUser, state: web::Data<AppState>) -> HttpResponse {
    let feed = Feed::new(state.into_inner(), scale_monitoring::metrics::installed());
    let frames = futures_util::stream::unfold(feed, |mut feed| async move {
        let frame = feed.next_frame().await;
        Some((Ok::<_, Infallible>(frame), feed))
    });
    super::super::event_stream(frames)
}

/// One connection's feed.
struct Feed {
    state: Arc<AppState>,
    /// The process's metrics (`None` when it records none: no request figures).
    metrics: Option<PrometheusHandle>,
    /// When the feed looks next: [`PERIOD`] after the last look ended.
    next_look: tokio::time::Instant,
    /// Request totals read over the last [`WINDOW`], oldest first.
    samples: VecDeque<(Instant, HttpTotals)>,
    /// The health actor's latest answer (kept while it restarts).
    report: Option<HealthReport>,
    /// The latest problems, newest first.
    problems: VecDeque<Problem>,
    /// The last snapshot observed.
    last: Option<Snapshot>,
    /// When a snapshot was last pushed.
    sent_at: Instant,
    /// This connection in the live-connection metrics.
    live: LiveConnection,
}

impl Feed {
    fn new(state: Arc<AppState>, metrics: Option<PrometheusHandle>) -> Self {
        Self {
            state,
            metrics,
            next_look: tokio::time::Instant::now(),
            samples: VecDeque::new(),
            report: None,
            problems: VecDeque::new(),
            last: None,
            sent_at: Instant::now(),
            live: LiveConnection::open("ops_sse"),
        }
    }

    /// Waits for the next snapshot worth pushing and frames it.
    async fn next_frame(&mut self) -> Bytes {
        loop {
            tokio::time::sleep_until(self.next_look).await;
            let next = self.observe().await;
            self.next_look = tokio::time::Instant::now() + PERIOD;
            let push = self
                .last
                .as_ref()
                .is_none_or(|last| feed::changed(last, &next) || self.sent_at.elapsed() >= REFRESH);
            let data = push.then(|| serde_json::to_string(&next));
            self.last = Some(next);
            match data {
                Some(Ok(json)) => {
                    self.sent_at = Instant::now();
                    self.live.delivered(1);
                    return Bytes::from(format!("event: snapshot\ndata: {json}\n\n"));
                }
                Some(Err(err)) => tracing::warn!(%err, "cannot encode an ops snapshot"),
                None => {}
            }
        }
    }

    /// The process's metrics in the exposition format (empty when it records none).
    fn rendered_metrics(&self) -> String {
        self.metrics
            .as_ref()
            .map(PrometheusHandle::render)
            .unwrap_or_default()
    }

    /// Reads everything once and builds the snapshot, with the problems seen since the last.
    async fn observe(&mut self) -> Snapshot {
        if let Ok(report) = self.state.health.ask_within(GetHealth, PERIOD).await {
            self.report = Some(report);
        }
        let now = Instant::now();
        self.samples
            .push_back((now, HttpTotals::parse(&self.rendered_metrics())));
        while self
            .samples
            .get(1)
            .is_some_and(|(at, _)| now.duration_since(*at) >= WINDOW)
        {
            self.samples.pop_front();
        }
        let traffic = match (self.samples.front(), self.samples.back()) {
            (Some((then_at, then)), Some((_, latest))) => {
                Traffic::between(then, latest, now.duration_since(*then_at).as_secs_f64())
            }
            _ => Traffic::default(),
        };
        let chaos = match &self.state.chaos {
            Some(monkey) => monkey.ask_within(Status, PERIOD).await.ok(),
            None => None,
        };
        let mut snapshot = feed::build(Inputs {
            actors: self.state.registry.snapshot(),
            report: self.report.as_ref(),
            traffic,
            chaos_enabled: self.state.chaos_enabled,
            chaos,
            now: Utc::now(),
        });
        for problem in feed::problems(self.last.as_ref(), &snapshot) {
            self.problems.push_front(problem);
        }
        self.problems.truncate(KEPT_PROBLEMS);
        snapshot.problems = self.problems.iter().cloned().collect();
        snapshot
    }
}

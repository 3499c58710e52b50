//! The ops dashboard's snapshot, built by pure functions: what the registry and the health
//! report say ([`build`]), this process's request rate, 5xx share and p95 from its own
//! Prometheus exposition ([`HttpTotals::parse`], [`Traffic::between`]), the problems seen
//! between two snapshots ([`problems`]) and whether a snapshot is worth pushing ([`changed`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use scale_actors::events::BusStatus;
use scale_actors::health::{
    DependencyHealth, DependencyStatus, HealthReport, Readiness, WorkerStatus,
};
use scale_chaos::{ChaosStatus, FaultKind};
use scale_monitoring::metrics::names;
use scale_supervision::{ActorSnapshot, ActorStatus};
use serde::Serialize;

use crate::metrics::status_name;

/// The route template of the feed itself, left out of the traffic figures (a stream lasts as
/// long as the page is open and would dominate the p95).
pub const STREAM_ROUTE: &str = "/api/v1/ops/stream";

/// One pushed view of this process, as the dashboard renders it.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    /// When it was built.
    pub at: DateTime<Utc>,
    /// Overall readiness (`None`: the health actor has not answered yet).
    pub readiness: Option<Readiness>,
    /// Why readiness is not `ready`.
    pub reasons: Vec<String>,
    /// Every supervised actor and shard, by name.
    pub actors: Vec<ActorView>,
    /// Postgres at its last probe.
    pub postgres: Option<DependencyHealth>,
    /// Redis at its last probe.
    pub redis: Option<DependencyHealth>,
    /// How job events travel (`None`: no bus watched or no report yet).
    pub events: Option<BusStatus>,
    /// The training job queue (`None`: not read yet, or the read failed).
    pub jobs: Option<JobQueue>,
    /// This process's requests over the last window.
    pub traffic: Traffic,
    /// The latest warnings the feed saw, newest first.
    pub problems: Vec<Problem>,
    /// Whether the crash controls work (`CHAOS_ENABLED`).
    pub chaos_enabled: bool,
    /// The chaos monkey's scenarios, its running one (progress, active faults) and its last
    /// (`None`: chaos disabled, or the monkey did not answer).
    pub chaos: Option<ChaosStatus>,
}

/// One actor as the dashboard shows it: the registry's snapshot and whether it escalated.
#[derive(Debug, Clone, Serialize)]
pub struct ActorView {
    /// Name, status, restarts, last error, backlog and last heartbeat.
    #[serde(flatten)]
    pub actor: ActorSnapshot,
    /// Whether it was pushed over its restart intensity (the supervisor gave up).
    pub escalated: bool,
}

impl From<ActorSnapshot> for ActorView {
    fn from(actor: ActorSnapshot) -> Self {
        Self {
            escalated: actor.status == ActorStatus::Escalated,
            actor,
        }
    }
}

/// The training job queue across every process.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobQueue {
    /// Jobs waiting to be claimed.
    pub pending: i64,
    /// Jobs being run.
    pub processing: i64,
    /// Jobs that failed for good in the last 24 hours.
    pub failed_last_day: i64,
    /// Seconds the oldest due pending job has waited (`None`: none waits).
    pub oldest_pending_age_s: Option<f64>,
    /// Jobs held under a live lease: workers busy now.
    pub live_leases: i64,
    /// Whether workers are seen at all.
    pub workers: WorkerStatus,
    /// This process's role (`api`, `worker`, `all`).
    pub role: &'static str,
}

/// Request figures of this process over a window.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Traffic {
    /// Length of the window in seconds (0 until two samples exist).
    pub window_s: f64,
    /// Requests answered per second.
    pub requests_per_s: f64,
    /// Share of those answered with a 5xx (0..=1).
    pub error_rate: f64,
    /// Upper bound in milliseconds of the duration bucket holding the 95th percentile (`None`:
    /// no request in the window).
    pub p95_ms: Option<f64>,
}

/// Cumulative request counters of this process, read from its Prometheus exposition.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HttpTotals {
    /// Requests answered.
    pub requests: f64,
    /// Of which 5xx.
    pub errors: f64,
    /// Cumulative duration buckets `(upper bound in seconds, count)`, ascending, `+Inf` last.
    pub buckets: Vec<(f64, f64)>,
}

impl HttpTotals {
    /// Sums the request counter and the duration histogram over every series but the feed's
    /// own route.
    pub fn parse(exposition: &str) -> Self {
        let requests = format!("{}{{", names::HTTP_REQUESTS);
        let buckets = format!("{}_bucket{{", names::HTTP_DURATION);
        let mut totals = Self::default();
        for line in exposition.lines() {
            let Some((series, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let Ok(value) = value.parse::<f64>() else {
                continue;
            };
            if let Some(labels) = series.strip_prefix(&requests) {
                if label(labels, "route") == Some(STREAM_ROUTE) {
                    continue;
                }
                totals.requests += value;
                if label(labels, "status") == Some("5xx") {
                    totals.errors += value;
                }
            } else if let Some(labels) = series.strip_prefix(&buckets) {
                if label(labels, "route") == Some(STREAM_ROUTE) {
                    continue;
                }
                let Some(le) = label(labels, "le").and_then(bound) else {
                    continue;
                };
                match totals.buckets.iter_mut().find(|(at, _)| *at == le) {
                    Some((_, count)) => *count += value,
                    None => totals.buckets.push((le, value)),
                }
            }
        }
        totals.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        totals
    }
}

/// The value of `name` in a label set `a="x",b="y"}` (values never hold quotes here).
fn label<'a>(labels: &'a str, name: &str) -> Option<&'a str> {
    labels
        .trim_end_matches('}')
        .split("\",")
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix("=\""))
        .map(|value| value.trim_end_matches('"'))
}

/// A bucket bound: a number or `+Inf`.
fn bound(le: &str) -> Option<f64> {
    if le == "+Inf" {
        Some(f64::INFINITY)
    } else {
        le.parse().ok()
    }
}

impl Traffic {
    /// The figures between two readings `elapsed_s` seconds apart (zero when no time passed).
    pub fn between(then: &HttpTotals, now: &HttpTotals, elapsed_s: f64) -> Self {
        if elapsed_s <= 0.0 {
            return Self::default();
        }
        let requests = (now.requests - then.requests).max(0.0);
        let errors = (now.errors - then.errors).max(0.0);
        let before = |le: f64| {
            then.buckets
                .iter()
                .find(|(at, _)| *at == le)
                .map_or(0.0, |(_, count)| *count)
        };
        let deltas: Vec<(f64, f64)> = now
            .buckets
            .iter()
            .map(|&(le, count)| (le, (count - before(le)).max(0.0)))
            .collect();
        let total = deltas.last().map_or(0.0, |(_, count)| *count);
        let p95_ms = (total > 0.0)
            .then(|| {
                let finite = deltas.iter().map(|(le, _)| *le).filter(|le| le.is_finite());
                let largest = finite.fold(0.0, f64::max);
                deltas
                    .iter()
                    .find(|(_, count)| *count >= 0.95 * total)
                    .map(|(le, _)| if le.is_finite() { *le } else { largest } * 1000.0)
            })
            .flatten();
        Self {
            window_s: elapsed_s,
            requests_per_s: requests / elapsed_s,
            error_rate: if requests > 0.0 {
                errors / requests
            } else {
                0.0
            },
            p95_ms,
        }
    }
}

/// Something an operator should notice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// When the feed saw it.
    pub at: DateTime<Utc>,
    /// `warning` or `error` (an escalation, a dependency down).
    pub level: &'static str,
    /// What happened.
    pub message: String,
}

/// What a snapshot is built from.
pub struct Inputs<'a> {
    /// The registry's view of every actor (fresher than the report's).
    pub actors: Vec<ActorSnapshot>,
    /// The health actor's latest report (`None`: it has not answered yet).
    pub report: Option<&'a HealthReport>,
    /// This process's request figures.
    pub traffic: Traffic,
    /// Whether chaos is enabled.
    pub chaos_enabled: bool,
    /// What the chaos monkey reports.
    pub chaos: Option<ChaosStatus>,
    /// The time of the snapshot.
    pub now: DateTime<Utc>,
}

/// Builds a snapshot (its `problems` left empty: the feed fills them from [`problems`]).
pub fn build(inputs: Inputs<'_>) -> Snapshot {
    let Inputs {
        actors,
        report,
        traffic,
        chaos_enabled,
        chaos,
        now,
    } = inputs;
    let mut actors: Vec<ActorView> = actors.into_iter().map(ActorView::from).collect();
    actors.sort_by(|a, b| a.actor.name.cmp(b.actor.name));
    let jobs = report.and_then(|report| {
        let seen = report.workers.activity.as_ref()?;
        Some(JobQueue {
            pending: seen.pending,
            processing: seen.processing,
            failed_last_day: seen.failed_last_day,
            oldest_pending_age_s: seen
                .oldest_due_since
                .map(|at| (now - at).as_seconds_f64().max(0.0)),
            live_leases: seen.live_leases,
            workers: report.workers.status,
            role: report.workers.role,
        })
    });
    Snapshot {
        at: now,
        readiness: report.map(|r| r.status),
        reasons: report.map(|r| r.reasons.clone()).unwrap_or_default(),
        actors,
        postgres: report.map(|r| r.postgres.clone()),
        redis: report.map(|r| r.redis.clone()),
        events: report.and_then(|r| r.events),
        jobs,
        traffic,
        problems: Vec::new(),
        chaos_enabled,
        chaos,
    }
}

/// The problems `next` shows that `prev` did not: restarts, status changes of actors
/// (escalations are errors), dependencies going down or coming back, the event bus changing
/// mode. Without `prev` (the first snapshot of a feed) every current problem is listed.
pub fn problems(prev: Option<&Snapshot>, next: &Snapshot) -> Vec<Problem> {
    let mut found = Vec::new();
    let mut note = |level: &'static str, message: String| {
        found.push(Problem {
            at: next.at,
            level,
            message,
        })
    };
    for ActorView { actor, escalated } in &next.actors {
        let before = prev.and_then(|p| {
            p.actors
                .iter()
                .map(|view| &view.actor)
                .find(|a| a.name == actor.name)
        });
        let restarts_before = before.map_or(0, |a| a.restarts);
        if actor.restarts > restarts_before {
            let why = actor.last_error.as_deref().unwrap_or("no error recorded");
            note(
                "warning",
                format!(
                    "actor {} restarted ({} restarts in all): {why}",
                    actor.name, actor.restarts
                ),
            );
        }
        let status_before = before.map(|a| a.status);
        if status_before != Some(actor.status) && !healthy(actor.status) {
            let level = if *escalated { "error" } else { "warning" };
            note(
                level,
                format!("actor {} is {}", actor.name, status_name(actor.status)),
            );
        }
    }
    for (name, before, now) in [
        (
            "postgres",
            prev.and_then(|p| p.postgres.as_ref()),
            next.postgres.as_ref(),
        ),
        (
            "redis",
            prev.and_then(|p| p.redis.as_ref()),
            next.redis.as_ref(),
        ),
    ] {
        let Some(now) = now else { continue };
        let was = before.map(|b| b.status);
        match now.status {
            DependencyStatus::Down if was != Some(DependencyStatus::Down) => {
                let why = now.error.as_deref().unwrap_or("no answer");
                note("error", format!("{name} is down: {why}"));
            }
            DependencyStatus::Up if was == Some(DependencyStatus::Down) => {
                note("warning", format!("{name} is back up"));
            }
            _ => {}
        }
    }
    let bus_before = prev.and_then(|p| p.events);
    if next.events == Some(BusStatus::Degraded) && bus_before != next.events {
        note(
            "warning",
            "event bus degraded: job events reach this process only".into(),
        );
    } else if bus_before == Some(BusStatus::Degraded) && next.events == Some(BusStatus::Redis) {
        note("warning", "event bus back on Redis".into());
    }
    let scenario = |s: Option<&Snapshot>| {
        s.and_then(|s| s.chaos.as_ref()?.running.as_ref())
            .map(|run| run.scenario.clone())
    };
    let (was, now) = (scenario(prev), scenario(Some(next)));
    if was != now {
        if let Some(name) = &was {
            note("warning", format!("chaos scenario {name} ended"));
        }
        if let Some(name) = &now {
            note("warning", format!("chaos scenario {name} running"));
        }
    }
    found
}

fn healthy(status: ActorStatus) -> bool {
    matches!(status, ActorStatus::Starting | ActorStatus::Running)
}

/// What makes two snapshots different for an operator: statuses, restarts, errors, backlogs,
/// counts and problems — not heartbeat ages, probe latencies or traffic, which the feed
/// refreshes on its own slower beat.
#[derive(PartialEq)]
struct Essence<'a> {
    readiness: Option<Readiness>,
    actors: Vec<(&'a str, ActorStatus, u64, Option<&'a str>, u64)>,
    dependencies: [Option<(DependencyStatus, Option<&'a str>)>; 2],
    events: Option<BusStatus>,
    jobs: Option<(i64, i64, i64, i64, WorkerStatus)>,
    problems: Option<&'a Problem>,
    chaos_enabled: bool,
    /// The running scenario, its active faults and its counts (not its elapsed time).
    chaos: Option<(&'a str, Vec<FaultKind>, &'a BTreeMap<&'static str, u64>)>,
}

impl<'a> Essence<'a> {
    fn of(snapshot: &'a Snapshot) -> Self {
        let dependency = |health: &'a Option<DependencyHealth>| {
            health.as_ref().map(|h| (h.status, h.error.as_deref()))
        };
        Self {
            readiness: snapshot.readiness,
            actors: snapshot
                .actors
                .iter()
                .map(|ActorView { actor: a, .. }| {
                    (
                        a.name,
                        a.status,
                        a.restarts,
                        a.last_error.as_deref(),
                        a.backlog,
                    )
                })
                .collect(),
            dependencies: [dependency(&snapshot.postgres), dependency(&snapshot.redis)],
            events: snapshot.events,
            jobs: snapshot.jobs.as_ref().map(|j| {
                (
                    j.pending,
                    j.processing,
                    j.failed_last_day,
                    j.live_leases,
                    j.workers,
                )
            }),
            problems: snapshot.problems.first(),
            chaos_enabled: snapshot.chaos_enabled,
            chaos: snapshot
                .chaos
                .as_ref()
                .and_then(|c| c.running.as_ref())
                .map(|run| {
                    let active = run.active.iter().map(|a| a.fault).collect();
                    (run.scenario.as_str(), active, &run.injected)
                }),
        }
    }
}

/// Whether `next` differs from the last pushed snapshot in anything but its ages, latencies and
/// traffic (see [`Essence`]).
pub fn changed(last: &Snapshot, next: &Snapshot) -> bool {
    Essence::of(last) != Essence::of(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(name: &'static str, status: ActorStatus, restarts: u64) -> ActorSnapshot {
        ActorSnapshot {
            name,
            status,
            restarts,
            last_error: (restarts > 0).then(|| "chaos: boom".to_owned()),
            backlog: 0,
            last_heartbeat_ms: 10,
        }
    }

    fn snapshot(actors: Vec<ActorSnapshot>) -> Snapshot {
        build(Inputs {
            actors,
            report: None,
            traffic: Traffic::default(),
            chaos_enabled: true,
            chaos: None,
            now: Utc::now(),
        })
    }

    fn dependency(status: DependencyStatus) -> Option<DependencyHealth> {
        Some(DependencyHealth {
            status,
            latency_ms: None,
            error: (status == DependencyStatus::Down).then(|| "refused".to_owned()),
            checked_at: None,
        })
    }

    const EXPOSITION: &str = r#"# TYPE scale_http_requests_total counter
scale_http_requests_total{method="GET",route="/api/v1/a",status="2xx"} 90
scale_http_requests_total{method="GET",route="/api/v1/a",status="5xx"} 10
scale_http_requests_total{method="GET",route="/api/v1/ops/stream",status="2xx"} 7
scale_http_request_duration_seconds_bucket{method="GET",route="/api/v1/a",status="2xx",le="0.1"} 80
scale_http_request_duration_seconds_bucket{method="GET",route="/api/v1/a",status="2xx",le="0.5"} 90
scale_http_request_duration_seconds_bucket{method="GET",route="/api/v1/a",status="2xx",le="+Inf"} 90
scale_http_request_duration_seconds_bucket{method="GET",route="/api/v1/a",status="5xx",le="0.1"} 0
scale_http_request_duration_seconds_bucket{method="GET",route="/api/v1/a",status="5xx",le="0.5"} 8
scale_http_request_duration_seconds_bucket{method="GET",route="/api/v1/a",status="5xx",le="+Inf"} 10
scale_http_request_duration_seconds_bucket{method="GET",route="/api/v1/ops/stream",status="2xx",le="+Inf"} 7
scale_http_request_duration_seconds_sum{method="GET",route="/api/v1/a",status="2xx"} 4.5
"#;

    #[test]
    fn totals_sum_every_series_but_the_feed() {
        let totals = HttpTotals::parse(EXPOSITION);
        assert_eq!(totals.requests, 100.0);
        assert_eq!(totals.errors, 10.0);
        assert_eq!(
            totals.buckets,
            vec![(0.1, 80.0), (0.5, 98.0), (f64::INFINITY, 100.0)]
        );
        assert_eq!(HttpTotals::parse("garbage\n{}\n"), HttpTotals::default());
    }

    #[test]
    fn traffic_is_the_difference_over_the_window() {
        let now = HttpTotals::parse(EXPOSITION);
        let traffic = Traffic::between(&HttpTotals::default(), &now, 10.0);
        assert_eq!(traffic.requests_per_s, 10.0);
        assert!((traffic.error_rate - 0.1).abs() < 1e-9);
        // 95 of 100 requests are within 0.5 s, 80 within 0.1 s.
        assert_eq!(traffic.p95_ms, Some(500.0));
        let idle = Traffic::between(&now, &now, 5.0);
        assert_eq!(
            (idle.requests_per_s, idle.error_rate, idle.p95_ms),
            (0.0, 0.0, None)
        );
        assert_eq!(Traffic::between(&now, &now, 0.0), Traffic::default());
    }

    #[test]
    fn a_p95_beyond_the_largest_bucket_reports_that_bucket() {
        let slow = HttpTotals {
            requests: 10.0,
            errors: 0.0,
            buckets: vec![(0.5, 0.0), (30.0, 1.0), (f64::INFINITY, 10.0)],
        };
        let traffic = Traffic::between(&HttpTotals::default(), &slow, 1.0);
        assert_eq!(traffic.p95_ms, Some(30_000.0));
    }

    #[test]
    fn a_restart_and_an_escalation_are_problems_once() {
        let before = snapshot(vec![actor("analytics", ActorStatus::Running, 0)]);
        assert!(problems(None, &before).is_empty());
        let after = snapshot(vec![actor("analytics", ActorStatus::Running, 1)]);
        let found = problems(Some(&before), &after);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0]
            .message
            .contains("analytics restarted (1 restarts in all): chaos: boom"));
        assert!(problems(Some(&after), &after).is_empty());
        let escalated = snapshot(vec![actor("analytics", ActorStatus::Escalated, 4)]);
        let found = problems(Some(&after), &escalated);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[1].level, "error");
        assert_eq!(found[1].message, "actor analytics is escalated");
        assert!(escalated.actors[0].escalated);
    }

    #[test]
    fn the_first_snapshot_lists_what_is_already_wrong() {
        let mut first = snapshot(vec![
            actor("cache", ActorStatus::Stalled, 2),
            actor("accounts", ActorStatus::Running, 0),
        ]);
        first.postgres = dependency(DependencyStatus::Down);
        first.events = Some(BusStatus::Degraded);
        let messages: Vec<String> = problems(None, &first)
            .into_iter()
            .map(|p| p.message)
            .collect();
        assert_eq!(
            messages,
            vec![
                "actor cache restarted (2 restarts in all): chaos: boom",
                "actor cache is stalled",
                "postgres is down: refused",
                "event bus degraded: job events reach this process only",
            ]
        );
    }

    #[test]
    fn dependencies_coming_back_are_noted() {
        let mut down = snapshot(vec![]);
        down.redis = dependency(DependencyStatus::Down);
        let mut up = snapshot(vec![]);
        up.redis = dependency(DependencyStatus::Up);
        let found = problems(Some(&down), &up);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].message, "redis is back up");
        assert!(problems(Some(&up), &up).is_empty());
    }

    #[test]
    fn actors_are_sorted_by_name() {
        let built = snapshot(vec![
            actor("training", ActorStatus::Running, 0),
            actor("accounts", ActorStatus::Running, 0),
        ]);
        let names: Vec<&str> = built.actors.iter().map(|a| a.actor.name).collect();
        assert_eq!(names, ["accounts", "training"]);
        assert!(built.chaos_enabled);
        assert_eq!(built.readiness, None);
    }

    #[test]
    fn ages_and_traffic_alone_are_not_a_change() {
        let last = snapshot(vec![actor("cache", ActorStatus::Running, 0)]);
        let mut next = last.clone();
        next.actors[0].actor.last_heartbeat_ms = 900;
        next.traffic.requests_per_s = 12.0;
        assert!(!changed(&last, &next));
        next.actors[0].actor.restarts = 1;
        assert!(changed(&last, &next));
        let mut backlog = last.clone();
        backlog.actors[0].actor.backlog = 3;
        assert!(changed(&last, &backlog));
        let mut down = last.clone();
        down.postgres = dependency(DependencyStatus::Down);
        assert!(changed(&last, &down));
    }

    fn chaos(running: Option<(&str, u64)>) -> Option<ChaosStatus> {
        Some(ChaosStatus {
            scenarios: Vec::new(),
            running: running.map(|(name, crashes)| scale_chaos::RunView {
                scenario: name.to_owned(),
                elapsed_ms: crashes * 100,
                length_ms: 3000,
                progress: 0.1,
                active: Vec::new(),
                injected: [("crash", crashes)].into(),
                errors: Vec::new(),
                slow_clients_dropped: 0,
                ended: None,
            }),
            last: None,
        })
    }

    #[test]
    fn a_scenario_starting_counting_and_ending_is_a_change_and_noted() {
        let idle = snapshot(vec![]);
        let mut running = idle.clone();
        running.chaos = chaos(Some(("smoke", 1)));
        assert!(changed(&idle, &running));
        assert_eq!(
            problems(Some(&idle), &running)[0].message,
            "chaos scenario smoke running"
        );
        let mut more = idle.clone();
        more.chaos = chaos(Some(("smoke", 2)));
        assert!(changed(&running, &more));
        assert!(problems(Some(&running), &more).is_empty());
        let mut ended = idle.clone();
        ended.chaos = chaos(None);
        assert_eq!(
            problems(Some(&more), &ended)[0].message,
            "chaos scenario smoke ended"
        );
    }
}

//! `GET /metrics`: the Prometheus exposition of this process, served by [`admin_app`] on its own
//! listener (`METRICS_ADDR`) so it needs no user token and stays off the public port.
//!
//! Counters and histograms are recorded where things happen (requests in
//! [`crate::request_context`], refusals in [`crate::rate_limit`], handlers and escalations in the
//! supervision crate, jobs, imports and classifications in their domains, live connections in
//! their routes); the state-like gauges — actors, dependencies, readiness, event bus, job queue,
//! cache — are read from their owners when Prometheus scrapes.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{web, App, Error, HttpResponse};
use metrics::{counter, gauge};
use metrics_exporter_prometheus::PrometheusHandle;
use scale_actors::cache::service::Stats;
use scale_actors::cache::Backend;
use scale_actors::events::BusStatus;
use scale_actors::health::{DependencyHealth, DependencyStatus, GetHealth, Readiness};
use scale_actors::jobs::{JobKind, JobStatus};
use scale_monitoring::metrics::names;
use scale_supervision::ActorStatus;

use crate::AppState;

/// The exposition's content type (text format 0.0.4).
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The metrics listener's application: `GET /metrics`, nothing else (404).
pub fn admin_app(
    state: web::Data<AppState>,
    handle: PrometheusHandle,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(state)
        .app_data(web::Data::new(handle))
        .service(web::resource("/metrics").get(scrape))
}

/// Refreshes the gauges and renders every metric.
async fn scrape(state: web::Data<AppState>, handle: web::Data<PrometheusHandle>) -> HttpResponse {
    collect(&state).await;
    handle.run_upkeep();
    HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        .body(handle.render())
}

/// Sets the gauges from the pools, the registry, the health actor and the cache actor. An actor that does
/// not answer leaves its gauges as they were (its own status says why).
async fn collect(state: &AppState) {
    pool("postgres", state.pools.postgres.state());
    if let Some(redis) = &state.pools.redis {
        pool("redis", redis.state());
    }
    for actor in state.registry.snapshot() {
        for status in ACTOR_STATUSES {
            gauge!(names::ACTOR_STATUS, "actor" => actor.name, "status" => status_name(status))
                .set(f64::from(u8::from(actor.status == status)));
        }
        counter!(names::ACTOR_RESTARTS, "actor" => actor.name).absolute(actor.restarts);
        gauge!(names::ACTOR_BACKLOG, "actor" => actor.name).set(actor.backlog as f64);
        gauge!(names::ACTOR_HEARTBEAT_AGE, "actor" => actor.name)
            .set(actor.last_heartbeat_ms as f64 / 1000.0);
    }
    if let Ok(report) = state.health.ask(GetHealth).await {
        dependency("postgres", &report.postgres);
        dependency("redis", &report.redis);
        for (status, name) in [
            (Readiness::Ready, "ready"),
            (Readiness::Degraded, "degraded"),
            (Readiness::Unavailable, "unavailable"),
        ] {
            gauge!(names::READINESS, "status" => name)
                .set(f64::from(u8::from(report.status == status)));
        }
        if let Some(bus) = report.events {
            for (mode, name) in [
                (BusStatus::Redis, "redis"),
                (BusStatus::Degraded, "degraded"),
                (BusStatus::Local, "local"),
            ] {
                gauge!(names::EVENT_BUS, "mode" => name).set(f64::from(u8::from(bus == mode)));
            }
        }
        if let Some(activity) = report.workers.activity {
            let age = |since: Option<chrono::DateTime<chrono::Utc>>| {
                since.map_or(0.0, |at| {
                    (chrono::Utc::now() - at).as_seconds_f64().max(0.0)
                })
            };
            gauge!(names::JOBS_LEASED).set(activity.live_leases as f64);
            gauge!(names::JOBS_OLDEST_PENDING_AGE).set(age(activity.oldest_due_since));
            gauge!(names::JOBS_PROCESSING_STALE).set(age(activity.stalest_processing_since));
            for kind in JobKind::ALL.map(JobKind::as_str) {
                for status in [JobStatus::Pending, JobStatus::Processing].map(JobStatus::as_str) {
                    let live = &activity.live_jobs.0;
                    let count = live
                        .iter()
                        .find(|c| c.kind == kind && c.status == status)
                        .map_or(0, |c| c.count);
                    gauge!(names::JOBS, "kind" => kind, "status" => status).set(count as f64);
                }
            }
        }
    }
    if let Ok(stats) = state.cache.ask(Stats).await {
        counter!(names::CACHE_LOOKUPS, "result" => "hit").absolute(stats.hits);
        counter!(names::CACHE_LOOKUPS, "result" => "miss").absolute(stats.misses);
        for (backend, name) in [(Backend::Redis, "redis"), (Backend::Memory, "memory")] {
            gauge!(names::CACHE_BACKEND, "backend" => name)
                .set(f64::from(u8::from(stats.backend == backend)));
        }
        gauge!(names::CACHE_MEMORY_ENTRIES).set(stats.memory_entries as f64);
    }
}

/// The connection gauges of pool `name`.
fn pool(name: &'static str, state: bb8::State) {
    gauge!(names::POOL_CONNECTIONS, "pool" => name).set(f64::from(state.connections));
    gauge!(names::POOL_IDLE, "pool" => name).set(f64::from(state.idle_connections));
}

/// Every actor status, each a series of [`names::ACTOR_STATUS`].
const ACTOR_STATUSES: [ActorStatus; 5] = [
    ActorStatus::Starting,
    ActorStatus::Running,
    ActorStatus::Restarting,
    ActorStatus::Stalled,
    ActorStatus::Escalated,
];

/// The name of an actor status, as labels and the ops dashboard spell it.
pub(crate) fn status_name(status: ActorStatus) -> &'static str {
    match status {
        ActorStatus::Starting => "starting",
        ActorStatus::Running => "running",
        ActorStatus::Restarting => "restarting",
        ActorStatus::Stalled => "stalled",
        ActorStatus::Escalated => "escalated",
    }
}

/// The up gauge and, after a successful probe, the latency gauge of `name`. A disabled
/// dependency (Redis not configured) has no series.
fn dependency(name: &'static str, health: &DependencyHealth) {
    if health.status == DependencyStatus::Disabled {
        return;
    }
    gauge!(names::DEPENDENCY_UP, "dependency" => name)
        .set(f64::from(u8::from(health.status == DependencyStatus::Up)));
    if let Some(ms) = health.latency_ms {
        gauge!(names::DEPENDENCY_LATENCY, "dependency" => name).set(ms / 1000.0);
    }
}

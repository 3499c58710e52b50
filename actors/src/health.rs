//! The health actor: probes Postgres and Redis on an interval (each probe bounded by a timeout)
//! and answers [`GetHealth`] from the latest results plus the registry, so readiness checks
//! never wait on a hanging dependency.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use diesel_async::RunQueryDsl;
use scale_schema::PgPool;
use serde::Serialize;

use crate::redis_pool::RedisPool;
use scale_supervision::{
    every, spawn_then, ActorSnapshot, ActorStatus, Handles, Registry, Reply, Request, Service,
    ServiceContext,
};

use crate::events::{BusStatus, EventBus};

/// Probe timing.
#[derive(Debug, Clone, Copy)]
pub struct ProbeConfig {
    /// Time between probes.
    pub interval: Duration,
    /// Longest a single probe may take before the dependency counts as down.
    pub timeout: Duration,
}

/// Whether the health actor's last Postgres probe failed, readable without a message, so the
/// HTTP layer can refuse database work at once while Postgres is down. Cloning shares the flag.
#[derive(Debug, Clone, Default)]
pub struct PostgresFlag(Arc<AtomicBool>);

impl PostgresFlag {
    /// Whether the last probe failed (`false` before the first probe).
    pub fn is_down(&self) -> bool {
        AtomicBool::load(&self.0, Ordering::Relaxed)
    }

    fn set_down(&self, down: bool) {
        self.0.store(down, Ordering::Relaxed);
    }
}

/// State of one dependency at its last probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DependencyStatus {
    /// Not probed yet.
    Unknown,
    /// Answered the probe.
    Up,
    /// Failed or timed out.
    Down,
    /// Not configured.
    Disabled,
}

/// The last probe of one dependency.
#[derive(Debug, Clone, Serialize)]
pub struct DependencyHealth {
    /// Outcome.
    pub status: DependencyStatus,
    /// Round-trip time of a successful probe.
    pub latency_ms: Option<f64>,
    /// Why the probe failed.
    pub error: Option<String>,
    /// When the probe finished.
    pub checked_at: Option<DateTime<Utc>>,
}

impl DependencyHealth {
    fn with_status(status: DependencyStatus) -> Self {
        Self {
            status,
            latency_ms: None,
            error: None,
            checked_at: None,
        }
    }

    fn from_probe(started: Instant, outcome: Result<(), String>) -> Self {
        let checked_at = Some(Utc::now());
        match outcome {
            Ok(()) => Self {
                status: DependencyStatus::Up,
                latency_ms: Some(started.elapsed().as_secs_f64() * 1000.0),
                error: None,
                checked_at,
            },
            Err(error) => Self {
                status: DependencyStatus::Down,
                latency_ms: None,
                error: Some(error),
                checked_at,
            },
        }
    }
}

/// Overall readiness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Readiness {
    /// Everything is up.
    Ready,
    /// Serving, with reduced function (e.g. Redis down: in-memory fallback).
    Degraded,
    /// Cannot serve: Postgres is down or an actor escalated.
    Unavailable,
}

/// What the health actor knows.
#[derive(Debug, Clone, Serialize)]
pub struct HealthReport {
    /// Overall readiness derived from the parts below.
    pub status: Readiness,
    /// Why the status is not `ready`.
    pub reasons: Vec<String>,
    /// Postgres (required).
    pub postgres: DependencyHealth,
    /// Redis (optional).
    pub redis: DependencyHealth,
    /// How job events are delivered (`None`: no event bus watched).
    pub events: Option<BusStatus>,
    /// Every supervised actor.
    pub actors: Vec<ActorSnapshot>,
}

/// Asks the health actor for a [`HealthReport`].
pub struct GetHealth;

impl Request for GetHealth {
    type Output = HealthReport;
}

/// The health actor's state.
pub struct HealthService {
    postgres_pool: PgPool,
    redis_pool: Option<RedisPool>,
    probe: ProbeConfig,
    registry: Registry,
    postgres: DependencyHealth,
    redis: DependencyHealth,
    events: Option<EventBus>,
    postgres_flag: PostgresFlag,
    probing: bool,
}

impl HealthService {
    /// Fresh state: nothing probed yet. `redis_pool` is `None` when Redis is not configured.
    pub fn new(
        postgres_pool: PgPool,
        redis_pool: Option<RedisPool>,
        probe: ProbeConfig,
        registry: Registry,
    ) -> Self {
        let redis = if redis_pool.is_some() {
            DependencyStatus::Unknown
        } else {
            DependencyStatus::Disabled
        };
        Self {
            postgres_pool,
            redis_pool,
            probe,
            registry,
            postgres: DependencyHealth::with_status(DependencyStatus::Unknown),
            redis: DependencyHealth::with_status(redis),
            events: None,
            postgres_flag: PostgresFlag::default(),
            probing: false,
        }
    }

    /// Also reports the job event bus, degraded while it delivers in process only.
    pub fn with_events(mut self, events: EventBus) -> Self {
        self.events = Some(events);
        self
    }

    /// Keeps `flag` set to whether Postgres is down after every probe.
    pub fn with_postgres_flag(mut self, flag: PostgresFlag) -> Self {
        self.postgres_flag = flag;
        self
    }

    /// Starts a probe round unless one is still running.
    fn probe(&mut self, ctx: &mut ServiceContext<Self>) {
        if self.probing {
            return;
        }
        self.probing = true;
        let postgres = self.postgres_pool.clone();
        let redis = self.redis_pool.clone();
        let timeout = self.probe.timeout;
        // Each probe times itself, so one hanging dependency never shows as the other's latency.
        let round = async move {
            tokio::join!(probe(timeout, ping_postgres(postgres)), async {
                match redis {
                    Some(pool) => Some(probe(timeout, ping_redis(pool)).await),
                    None => None,
                }
            })
        };
        spawn_then(ctx, round, |state: &mut Self, (pg, rd), _| {
            state
                .postgres_flag
                .set_down(pg.status == DependencyStatus::Down);
            state.postgres = pg;
            if let Some(rd) = rd {
                state.redis = rd;
            }
            state.probing = false;
        });
    }

    fn report(&self) -> HealthReport {
        let actors = self.registry.snapshot();
        let mut status = Readiness::Ready;
        let mut reasons = Vec::new();
        let mut downgrade = |to: Readiness, reason: String| {
            if to == Readiness::Unavailable || status == Readiness::Ready {
                status = to;
            }
            reasons.push(reason);
        };
        if self.postgres.status != DependencyStatus::Up {
            let why = self.postgres.error.as_deref().unwrap_or("not probed yet");
            downgrade(Readiness::Unavailable, format!("postgres: {why}"));
        }
        match self.redis.status {
            DependencyStatus::Up => {}
            DependencyStatus::Disabled => downgrade(
                Readiness::Degraded,
                "redis: not configured; using in-memory fallback".into(),
            ),
            _ => {
                let why = self.redis.error.as_deref().unwrap_or("not probed yet");
                downgrade(
                    Readiness::Degraded,
                    format!("redis: {why}; using in-memory fallback"),
                );
            }
        }
        let events = self.events.as_ref().map(EventBus::status);
        if events == Some(BusStatus::Degraded) {
            downgrade(
                Readiness::Degraded,
                "events: Redis pub/sub unavailable; job events reach this process only".into(),
            );
        }
        for actor in &actors {
            match actor.status {
                ActorStatus::Escalated => downgrade(
                    Readiness::Unavailable,
                    format!(
                        "actor {}: escalated after {} restarts",
                        actor.name, actor.restarts
                    ),
                ),
                ActorStatus::Stalled | ActorStatus::Restarting => downgrade(
                    Readiness::Degraded,
                    format!("actor {}: {:?}", actor.name, actor.status).to_lowercase(),
                ),
                ActorStatus::Starting | ActorStatus::Running => {}
            }
        }
        HealthReport {
            status,
            reasons,
            postgres: self.postgres.clone(),
            redis: self.redis.clone(),
            events,
            actors,
        }
    }
}

impl Service for HealthService {
    const NAME: &'static str = "health";

    fn started(&mut self, ctx: &mut ServiceContext<Self>) {
        self.probe(ctx);
        every(ctx, self.probe.interval, Self::probe);
    }
}

impl Handles<GetHealth> for HealthService {
    fn handle(&mut self, _: GetHealth, _: &mut ServiceContext<Self>) -> Reply<HealthReport> {
        Reply::Ready(self.report())
    }
}

/// Runs one probe, bounded by `timeout` and timed from its own start.
async fn probe(
    timeout: Duration,
    ping: impl std::future::Future<Output = Result<(), String>>,
) -> DependencyHealth {
    let started = Instant::now();
    let outcome = tokio::time::timeout(timeout, ping)
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {} ms", timeout.as_millis())));
    DependencyHealth::from_probe(started, outcome)
}

async fn ping_postgres(pool: PgPool) -> Result<(), String> {
    let mut conn = pool.get().await.map_err(|e| e.to_string())?;
    diesel::sql_query("SELECT 1")
        .execute(&mut conn)
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

async fn ping_redis(pool: RedisPool) -> Result<(), String> {
    let mut conn = pool.get().await.map_err(|e| e.to_string())?;
    redis::cmd("PING")
        .query_async::<String>(&mut *conn)
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

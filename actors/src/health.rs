//! The health actor: probes Postgres, Redis and the job table on an interval (each probe bounded
//! by a timeout) and answers [`GetHealth`] from the latest results plus the registry, so
//! readiness checks never wait on a hanging dependency. What it says about training workers
//! comes from this process's scheduler (when its role runs one) and the job table, never from
//! an assumption.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use diesel_async::SimpleAsyncConnection;
use scale_schema::PgPool;
use serde::Serialize;

use crate::events::{BusStatus, EventBus};
use crate::redis_pool::RedisPool;
use crate::training::activity::{worker_activity, WorkerActivity};
use crate::training::scheduler::TrainingScheduler;
use scale_supervision::{every, spawn_then, Handles, Reply, Request, Service, ServiceContext};
use scale_supervision::{ActorSnapshot, ActorStatus, Registry};

/// A worker claim this recent (or a live lease) shows a worker is up.
const RECENT_CLAIM: chrono::TimeDelta = chrono::TimeDelta::minutes(10);
/// A due job left unclaimed this long, with no sign of a worker, shows the workers are down.
const UNCLAIMED_FOR: chrono::TimeDelta = chrono::TimeDelta::minutes(2);

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

/// Probes in a row that may time out before a dependency counts as down. A slow dependency is
/// reported but still used; a probe that fails outright (connection refused or cut) is down at
/// once.
pub const TIMEOUTS_BEFORE_DOWN: u32 = 3;

/// How long a Postgres probe that timed out is still awaited: an answer within this shows
/// Postgres slow but alive (it stays [`DependencyStatus::Slow`], never down, with the
/// latency measured), where no answer at all counts towards [`TIMEOUTS_BEFORE_DOWN`].
pub const LATE_ANSWER_LIMIT: Duration = Duration::from_secs(30);

/// A Postgres probe still running when its timeout passed.
struct LateProbe {
    started: Instant,
    task: tokio::task::JoinHandle<Result<(), String>>,
}

/// While Postgres or Redis is down or slow, it is probed this often (instead of every
/// [`ProbeConfig::interval`]), so the service notices it back (or confirms it down) within a
/// fraction of a second: while Postgres counts as down every database route is shed. The other
/// dependency keeps its interval.
pub const RECOVERY_INTERVAL: Duration = Duration::from_millis(100);

/// State of one dependency at its last probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DependencyStatus {
    /// Not probed yet.
    Unknown,
    /// Answered the probe.
    Up,
    /// Did not answer its last probe in time, but fewer than [`TIMEOUTS_BEFORE_DOWN`] probes in a
    /// row: still used (requests are not shed), reported as degraded.
    Slow,
    /// Failed, or timed out [`TIMEOUTS_BEFORE_DOWN`] probes in a row.
    Down,
    /// Not configured.
    Disabled,
}

/// The last probe of one dependency.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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

    /// This probe counted against the `timeouts` in a row so far: a timed-out probe is
    /// [`DependencyStatus::Slow`] until the [`TIMEOUTS_BEFORE_DOWN`]th in a row, then down; any
    /// answer (or failure) starts the count again.
    fn settled(mut self, timeouts: &mut u32) -> Self {
        if self.status == DependencyStatus::Slow {
            *timeouts += 1;
            if *timeouts >= TIMEOUTS_BEFORE_DOWN {
                self.status = DependencyStatus::Down;
            }
        } else {
            *timeouts = 0;
        }
        self
    }

    /// A probe that got no answer within `timeout`.
    fn timed_out(timeout: Duration) -> Self {
        Self {
            status: DependencyStatus::Slow,
            latency_ms: None,
            error: Some(format!("no answer within {} ms", timeout.as_millis())),
            checked_at: Some(Utc::now()),
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
    #[schema(value_type = Option<serde_json::Value>)]
    pub events: Option<BusStatus>,
    /// Every supervised actor.
    #[schema(value_type = Vec<serde_json::Value>)]
    pub actors: Vec<ActorSnapshot>,
    /// The training workers, as this process and the job table see them.
    pub workers: WorkerHealth,
}

/// Whether training jobs are being worked on, across every process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WorkerStatus {
    /// This process runs a scheduler, a lease is live or a job was claimed recently.
    Up,
    /// A due job has waited unclaimed with no sign of any worker.
    Down,
    /// No sign either way (nothing claimed recently, nothing waiting).
    Unknown,
}

/// What this process and the job table say about training workers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WorkerHealth {
    /// The verdict from the parts below.
    pub status: WorkerStatus,
    /// This process's role (`api`, `worker` or `all`).
    pub role: &'static str,
    /// This process's training scheduler (`None`: its role runs none).
    #[schema(value_type = Option<serde_json::Value>)]
    pub scheduler: Option<ActorStatus>,
    /// The job table at the last probe (`None`: not read yet, or the read failed).
    #[schema(value_type = Option<serde_json::Value>)]
    pub activity: Option<WorkerActivity>,
}

impl WorkerHealth {
    fn judge(
        role: &'static str,
        scheduler: Option<ActorStatus>,
        activity: Option<WorkerActivity>,
        now: DateTime<Utc>,
    ) -> Self {
        let local = matches!(
            scheduler,
            Some(ActorStatus::Running | ActorStatus::Starting)
        );
        let status = match &activity {
            _ if local => WorkerStatus::Up,
            Some(seen)
                if seen.live_leases > 0
                    || seen
                        .last_claim_at
                        .is_some_and(|at| now - at <= RECENT_CLAIM) =>
            {
                WorkerStatus::Up
            }
            Some(seen)
                if seen
                    .oldest_due_since
                    .is_some_and(|at| now - at > UNCLAIMED_FOR) =>
            {
                WorkerStatus::Down
            }
            _ => WorkerStatus::Unknown,
        };
        Self {
            status,
            role,
            scheduler,
            activity,
        }
    }
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
    role: &'static str,
    activity: Option<WorkerActivity>,
    probing: bool,
    /// When the last probe round started.
    last_round: Option<Instant>,
    /// When the last round of every dependency started.
    last_full_round: Option<Instant>,
    /// Probes in a row that timed out, per dependency.
    postgres_timeouts: u32,
    redis_timeouts: u32,
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
            role: "api",
            activity: None,
            probing: false,
            last_round: None,
            last_full_round: None,
            postgres_timeouts: 0,
            redis_timeouts: 0,
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

    /// Reports this process's role (`api` unless told).
    pub fn with_role(mut self, role: &'static str) -> Self {
        self.role = role;
        self
    }

    /// Starts a probe round when one is due: of everything every [`ProbeConfig::interval`], and
    /// of whichever dependency is down or slow every [`RECOVERY_INTERVAL`] in between.
    fn tick(&mut self, ctx: &mut ServiceContext<Self>) {
        let since = |at: Option<Instant>, gap: Duration| at.is_none_or(|at| at.elapsed() >= gap);
        if since(self.last_full_round, self.probe.interval) {
            self.probe(ctx, true, true);
        } else if since(self.last_round, RECOVERY_INTERVAL) {
            let unwell = |status| matches!(status, DependencyStatus::Down | DependencyStatus::Slow);
            let (postgres, redis) = (unwell(self.postgres.status), unwell(self.redis.status));
            if postgres || redis {
                self.probe(ctx, postgres, redis);
            }
        }
    }

    /// Starts a probe round of Postgres and/or Redis unless one is still running; a round of both
    /// also reads the job table.
    fn probe(&mut self, ctx: &mut ServiceContext<Self>, postgres: bool, redis: bool) {
        if self.probing {
            return;
        }
        self.probing = true;
        let full = postgres && redis;
        self.last_round = Some(Instant::now());
        if full {
            self.last_full_round = self.last_round;
        }
        let pool = self.postgres_pool.clone();
        let redis = self.redis_pool.clone().filter(|_| redis);
        let timeout = self.probe.timeout;
        // Each probe times itself, so one hanging dependency never shows as the other's latency.
        let round = async move {
            let activity = {
                let pool = pool.clone();
                async move {
                    if !full {
                        return None;
                    }
                    let read = detached(async move { worker_activity(&pool).await.ok() });
                    tokio::time::timeout(timeout, read)
                        .await
                        .ok()
                        .and_then(Result::ok)
                        .flatten()
                }
            };
            let postgres = async move {
                if postgres {
                    Some(probe_postgres(timeout, pool).await)
                } else {
                    None
                }
            };
            let redis = async {
                match redis {
                    Some(pool) => Some(probe(timeout, ping_redis(pool)).await),
                    None => None,
                }
            };
            tokio::join!(postgres, activity, redis)
        };
        spawn_then(
            ctx,
            round,
            move |state: &mut Self, (pg, activity, rd), ctx| {
                if let Some((pg, late)) = pg {
                    if let Some(late) = late {
                        state.await_late(late, ctx);
                    }
                    let pg = pg.settled(&mut state.postgres_timeouts);
                    state
                        .postgres_flag
                        .set_down(pg.status == DependencyStatus::Down);
                    state.postgres = pg;
                }
                if full {
                    state.activity = activity;
                }
                if let Some(rd) = rd {
                    state.redis = rd.settled(&mut state.redis_timeouts);
                }
                state.probing = false;
            },
        );
    }

    /// Waits (up to [`LATE_ANSWER_LIMIT`]) for the answer of a Postgres probe that timed out.
    fn await_late(&mut self, late: LateProbe, ctx: &mut ServiceContext<Self>) {
        let LateProbe { started, task } = late;
        let answer = tokio::time::timeout(LATE_ANSWER_LIMIT, task);
        spawn_then(ctx, answer, move |state: &mut Self, answer, _| {
            if let Ok(Ok(Ok(()))) = answer {
                state.answered_late(started.elapsed());
            }
        });
    }

    /// A Postgres probe answered after its timeout: Postgres is slow, not down. Only a report
    /// made by timeouts is replaced (a later probe's answer or failure stands), and the count of
    /// timeouts in a row starts again.
    fn answered_late(&mut self, took: Duration) {
        if self.postgres_timeouts == 0 {
            return;
        }
        self.postgres_timeouts = 0;
        let ms = took.as_secs_f64() * 1000.0;
        self.postgres = DependencyHealth {
            status: DependencyStatus::Slow,
            latency_ms: Some(ms),
            error: Some(format!(
                "answered after {ms:.0} ms (probe timeout {} ms)",
                self.probe.timeout.as_millis()
            )),
            checked_at: Some(Utc::now()),
        };
        self.postgres_flag.set_down(false);
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
        let why = self.postgres.error.as_deref().unwrap_or("not probed yet");
        match self.postgres.status {
            DependencyStatus::Up => {}
            DependencyStatus::Slow => {
                downgrade(Readiness::Degraded, format!("postgres: slow: {why}"))
            }
            _ => downgrade(Readiness::Unavailable, format!("postgres: {why}")),
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
        let scheduler = actors
            .iter()
            .find(|actor| actor.name == TrainingScheduler::NAME)
            .map(|actor| actor.status);
        HealthReport {
            status,
            reasons,
            postgres: self.postgres.clone(),
            redis: self.redis.clone(),
            events,
            workers: WorkerHealth::judge(self.role, scheduler, self.activity.clone(), Utc::now()),
            actors,
        }
    }
}

impl Service for HealthService {
    const NAME: &'static str = "health";

    fn started(&mut self, ctx: &mut ServiceContext<Self>) {
        self.probe(ctx, true, true);
        every(ctx, self.probe.interval.min(RECOVERY_INTERVAL), Self::tick);
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
    match tokio::time::timeout(timeout, ping).await {
        Ok(outcome) => DependencyHealth::from_probe(started, outcome),
        Err(_) => DependencyHealth::timed_out(timeout),
    }
}

/// Probes Postgres with a `SELECT 1` of its own task, bounded by `timeout`. The task is left to
/// finish when the probe stops waiting for it (a query cancelled mid-flight breaks its
/// connection, and opening another over a slow link takes several round trips, so every probe
/// after one timeout would time out as well); it is handed back to be awaited for a late answer.
async fn probe_postgres(timeout: Duration, pool: PgPool) -> (DependencyHealth, Option<LateProbe>) {
    let started = Instant::now();
    let mut task = tokio::spawn(ping_postgres(pool));
    match tokio::time::timeout(timeout, &mut task).await {
        Ok(joined) => {
            let outcome = joined.unwrap_or_else(|e| Err(e.to_string()));
            (DependencyHealth::from_probe(started, outcome), None)
        }
        Err(_) => (
            DependencyHealth::timed_out(timeout),
            Some(LateProbe { started, task }),
        ),
    }
}

/// `SELECT 1` over the simple query protocol: one round trip (a prepared statement would take
/// two, and a slow link would read as Postgres down twice as soon).
async fn ping_postgres(pool: PgPool) -> Result<(), String> {
    let mut conn = pool.get().await.map_err(|e| e.to_string())?;
    conn.batch_execute("SELECT 1")
        .await
        .map_err(|e| e.to_string())
}

/// Runs `work` as a task of its own, so it ends even when the probe stops waiting for it (see
/// [`probe_postgres`]). `Err` when the task panicked.
async fn detached<T: Send + 'static>(
    work: impl std::future::Future<Output = T> + Send + 'static,
) -> Result<T, String> {
    tokio::spawn(work).await.map_err(|e| e.to_string())
}

async fn ping_redis(pool: RedisPool) -> Result<(), String> {
    let mut conn = pool.get().await.map_err(|e| e.to_string())?;
    redis::cmd("PING")
        .query_async::<String>(&mut *conn)
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(claimed_ago: Option<i64>, leases: i64, due_ago: Option<i64>) -> WorkerActivity {
        let now = Utc::now();
        WorkerActivity {
            last_claim_at: claimed_ago.map(|m| now - chrono::TimeDelta::minutes(m)),
            live_leases: leases,
            oldest_due_since: due_ago.map(|m| now - chrono::TimeDelta::minutes(m)),
            stalest_processing_since: None,
            pending: 0,
            processing: 0,
            failed_last_day: 0,
            live_jobs: Default::default(),
        }
    }

    #[test]
    fn timeouts_count_as_slow_until_enough_in_a_row_then_down() {
        let slow = || DependencyHealth::with_status(DependencyStatus::Slow);
        let mut timeouts = 0;
        for _ in 1..TIMEOUTS_BEFORE_DOWN {
            assert_eq!(slow().settled(&mut timeouts).status, DependencyStatus::Slow);
        }
        assert_eq!(slow().settled(&mut timeouts).status, DependencyStatus::Down);
        let up = DependencyHealth::with_status(DependencyStatus::Up).settled(&mut timeouts);
        assert_eq!((up.status, timeouts), (DependencyStatus::Up, 0));
        assert_eq!(slow().settled(&mut timeouts).status, DependencyStatus::Slow);
        let failed = DependencyHealth::from_probe(Instant::now(), Err("refused".into()));
        assert_eq!(failed.settled(&mut timeouts).status, DependencyStatus::Down);
        assert_eq!(timeouts, 0);
    }

    fn verdict(scheduler: Option<ActorStatus>, activity: Option<WorkerActivity>) -> WorkerStatus {
        WorkerHealth::judge("api", scheduler, activity, Utc::now()).status
    }

    #[test]
    fn a_running_scheduler_in_this_process_is_up() {
        assert_eq!(verdict(Some(ActorStatus::Running), None), WorkerStatus::Up);
        assert_eq!(
            verdict(Some(ActorStatus::Running), Some(seen(None, 0, Some(60)))),
            WorkerStatus::Up
        );
    }

    #[test]
    fn without_a_local_scheduler_the_job_table_decides() {
        assert_eq!(verdict(None, None), WorkerStatus::Unknown);
        assert_eq!(
            verdict(None, Some(seen(None, 0, None))),
            WorkerStatus::Unknown
        );
        assert_eq!(
            verdict(None, Some(seen(Some(3), 0, None))),
            WorkerStatus::Up
        );
        assert_eq!(
            verdict(None, Some(seen(Some(60), 1, None))),
            WorkerStatus::Up
        );
        assert_eq!(
            verdict(None, Some(seen(Some(60), 0, None))),
            WorkerStatus::Unknown
        );
        assert_eq!(
            verdict(None, Some(seen(None, 0, Some(1)))),
            WorkerStatus::Unknown
        );
        assert_eq!(
            verdict(None, Some(seen(Some(60), 0, Some(5)))),
            WorkerStatus::Down
        );
    }

    #[test]
    fn an_escalated_local_scheduler_is_not_proof_of_a_worker() {
        assert_eq!(
            verdict(Some(ActorStatus::Escalated), Some(seen(None, 0, Some(5)))),
            WorkerStatus::Down
        );
    }
}

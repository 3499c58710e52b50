//! The state every handler shares, and the one function that wires it: [`AppState::wire`]
//! spawns each actor under the registry from a [`Wiring`]. `src/serve.rs` fills the wiring from
//! the configuration, the tests' builder from test defaults, so both run the same wiring.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::web;
use scale_actors::accounts::service::AccountsService;
use scale_actors::analytics::service::AnalyticsService;
use scale_actors::anomaly::service::{AlertRaised, AnomalyService};
use scale_actors::cache::service::{CacheConfig, CacheService};
use scale_actors::categorization::brain::BrainCell;
use scale_actors::categorization::service::{ClassifierService, LayerChanged};
use scale_actors::events::{Bus, EventBus};
use scale_actors::forecasting::service::ForecastService;
use scale_actors::health::{HealthService, PostgresFlag, ProbeConfig};
use scale_actors::ingest::service::IngestService;
use scale_actors::redis_pool::RedisPool;
use scale_actors::training::service::TrainingService;
use scale_chaos::{Board, ChaosMonkey, Levers};
use scale_schema::PgPool;
use scale_supervision::{spawn, Handle, Registry, Sharded};

use crate::{Authenticator, RateLimiter};

/// What handlers share: actor handles, the registry, the authenticator and the rate limiter.
pub struct AppState {
    /// The process's shared Postgres pool and the cache's Redis pool, for their metrics only
    /// (actors own the work done with them).
    pub pools: Pools,
    /// The health actor.
    pub health: Handle<HealthService>,
    /// Whether the health actor's last Postgres probe failed (database work is refused at once).
    pub postgres: PostgresFlag,
    /// The ingest actor.
    pub ingest: Handle<IngestService>,
    /// How long a parse or an import may take (`INGEST_TIMEOUT_SECS`), apart from waiting for
    /// the ingest actor's mailbox.
    pub ingest_timeout: Duration,
    /// The accounts actor (the caller's transactions, data and profile), one shard per HTTP
    /// worker so the hot list query never leaves the worker's thread.
    pub accounts: Sharded<AccountsService>,
    /// The analytics actor (dashboard numbers).
    pub analytics: Handle<AnalyticsService>,
    /// The classifier actor (categories of narrations).
    pub classifier: Handle<ClassifierService>,
    /// The cache actor (Redis, with an in-process fallback).
    pub cache: Handle<CacheService>,
    /// The forecasting actor (forecasts and safe-to-spend).
    pub forecast: Handle<ForecastService>,
    /// How long analytics answers stay cached.
    pub analytics_cache_ttl: Duration,
    /// Corrections that queue a categorizer job (`CATEGORIZER_RETRAIN_AFTER`).
    pub retrain_after: u32,
    /// Every supervised actor, for readiness and ops.
    pub registry: Registry,
    /// Verifies bearer tokens.
    pub auth: Arc<Authenticator>,
    /// Whether the chaos endpoints (crash an actor) are enabled.
    pub chaos_enabled: bool,
    /// The chaos monkey (`None` unless `CHAOS_ENABLED=true` wired its levers).
    pub chaos: Option<Handle<ChaosMonkey>>,
    /// When the process started (liveness uptime).
    pub started_at: Instant,
    /// Limits `/api/v1` requests per caller (Redis, with an in-process fallback).
    pub rate_limiter: RateLimiter,
    /// The training actor (the caller's jobs).
    pub training: Handle<TrainingService>,
    /// Job progress events of every process (Redis pub/sub, with an in-process fallback).
    pub events: EventBus,
    /// The anomaly actor (scans, the caller's alerts and thresholds).
    pub anomaly: Handle<AnomalyService>,
    /// New anomaly alerts of every process.
    pub alerts: Bus<AlertRaised>,
}

/// The pools whose state `/metrics` reports.
pub struct Pools {
    /// The shared Postgres pool.
    pub postgres: PgPool,
    /// The cache's Redis pool (`None`: no Redis).
    pub redis: Option<RedisPool>,
}

/// What one process's [`AppState`] is built from.
pub struct Wiring {
    /// The pool of the health, analytics, training and ingest actors.
    pub pg: PgPool,
    /// Builds a pool of its own: one per accounts shard (one shard per HTTP worker) and one for
    /// the health probes, so a pool busy with requests never reads as Postgres being down.
    pub shard_pool: Arc<dyn Fn() -> PgPool + Send + Sync>,
    /// Redis for the health probes (`None`: not configured).
    pub redis: Option<RedisPool>,
    /// Redis for the cache (`None`: in-process only).
    pub cache_redis: Option<RedisPool>,
    /// How the cache is set up.
    pub cache: CacheConfig,
    /// Job progress events of every process.
    pub events: EventBus,
    /// Changes of users' categorization layers, from every process.
    pub layer_changes: Bus<LayerChanged>,
    /// New anomaly alerts, from every process.
    pub alerts: Bus<AlertRaised>,
    /// The categorizer's rules and global model in use.
    pub brain: BrainCell,
    /// Where every actor reports its health.
    pub registry: Registry,
    /// Health probe timing.
    pub probe: ProbeConfig,
    /// This process's role, as health reports it (`api`, `worker`, `all`).
    pub role: &'static str,
    /// Parser threads of the ingest actor.
    pub ingest_parsers: usize,
    /// How long a parse or an import may take.
    pub ingest_timeout: Duration,
    /// How long analytics answers stay cached.
    pub analytics_cache_ttl: Duration,
    /// Corrections that queue a categorizer job.
    pub retrain_after: u32,
    /// Limits `/api/v1` requests per caller.
    pub rate_limiter: RateLimiter,
    /// Verifies bearer tokens.
    pub auth: Arc<Authenticator>,
    /// Whether the chaos endpoints are enabled.
    pub chaos_enabled: bool,
    /// What the chaos monkey acts on; it runs only when given (with `CHAOS_ENABLED=true`).
    pub chaos: Option<Arc<Levers>>,
}

impl AppState {
    /// Spawns every actor the handlers talk to under `wiring.registry` and returns the state.
    pub fn wire(wiring: Wiring) -> web::Data<AppState> {
        let Wiring {
            pg,
            shard_pool,
            redis,
            cache_redis,
            cache,
            events,
            layer_changes,
            alerts,
            brain,
            registry,
            probe,
            role,
            ingest_parsers,
            ingest_timeout,
            analytics_cache_ttl,
            retrain_after,
            rate_limiter,
            auth,
            chaos_enabled,
            chaos,
        } = wiring;
        let pools = Pools {
            postgres: pg.clone(),
            redis: cache_redis.clone(),
        };
        let postgres = PostgresFlag::default();
        let health = {
            let (registry, events, flag) = (registry.clone(), events.clone(), postgres.clone());
            let probes = shard_pool();
            spawn(&registry.clone(), move || {
                HealthService::new(probes.clone(), redis.clone(), probe, registry.clone())
                    .with_events(events.clone())
                    .with_postgres_flag(flag.clone())
                    .with_role(role)
            })
        };
        let accounts = Sharded::new(&registry, move || AccountsService::new(shard_pool()));
        let analytics = {
            let pg = pg.clone();
            spawn(&registry, move || AnalyticsService::new(pg.clone()))
        };
        let classifier = {
            let (pg, events, brain) = (pg.clone(), events.clone(), brain.clone());
            spawn(&registry, move || {
                ClassifierService::new(
                    brain.clone(),
                    pg.clone(),
                    events.clone(),
                    layer_changes.clone(),
                )
            })
        };
        let cache = spawn(&registry, move || {
            CacheService::new(cache_redis.clone(), cache.clone())
        });
        let forecast = {
            let (pg, cache, events) = (pg.clone(), cache.clone(), events.clone());
            spawn(&registry, move || {
                ForecastService::new(pg.clone(), cache.clone(), events.clone())
            })
        };
        let training = {
            let (pg, events) = (pg.clone(), events.clone());
            spawn(&registry, move || {
                TrainingService::new(pg.clone(), events.clone())
            })
        };
        let anomaly = {
            let (pg, alerts) = (pg.clone(), alerts.clone());
            spawn(&registry, move || {
                AnomalyService::new(pg.clone(), alerts.clone())
            })
        };
        let chaos = chaos.map(|levers| {
            let board = Board::default();
            spawn(&registry, move || {
                ChaosMonkey::new(levers.clone(), board.clone())
            })
        });
        let ingest = spawn(&registry, move || {
            IngestService::new(pg.clone(), ingest_parsers, brain.clone())
        });
        web::Data::new(AppState {
            pools,
            health,
            postgres,
            ingest,
            ingest_timeout,
            accounts,
            analytics,
            classifier,
            cache,
            forecast,
            analytics_cache_ttl,
            retrain_after,
            registry,
            auth,
            chaos_enabled,
            chaos,
            started_at: Instant::now(),
            rate_limiter,
            training,
            events,
            anomaly,
            alerts,
        })
    }
}

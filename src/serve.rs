//! Start-up: logging and Sentry, migrations, pools, supervised actors, then the HTTP server.
//! The role decides whether this process runs training jobs (see [`Role`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, HttpServer};
use anyhow::Context as _;
use metrics_exporter_prometheus::PrometheusHandle;
use scale_actors::cache::service::{CacheConfig, MEMORY_CAPACITY, MEMORY_TTL};
use scale_actors::categorization::brain::BrainCell;
use scale_actors::events::{Bus, EventBus};
use scale_actors::fitters;
use scale_actors::redis_pool;
use scale_actors::training::scheduler::{Drain, TrainingScheduler};
use scale_chaos::{Levers, Links, Routed, WsTarget};
use scale_http::auth::{mint_token, Role as TokenRole};
use scale_http::{AppState, Authenticator, HttpSettings, RateLimiter, Wiring};
use scale_supervision::{spawn, Registry};

use crate::config::{Config, Environment};

/// How long a stopping worker waits for its running jobs to hand themselves back.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// The user the chaos monkey's slow WebSocket clients connect as.
const CHAOS_CLIENT: uuid::Uuid = uuid::Uuid::from_u128(0xc4a0_5000_0000_0000_0000_0000_0000_0001);
/// Lifetime of a slow client's token (each client mints its own).
const CHAOS_TOKEN_TTL_SECS: i64 = 3600;

/// What a `scale serve` process does. Every role serves the whole HTTP app (health, readiness
/// and ops included); only the training scheduler differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    /// HTTP only: never claims a training job.
    Api,
    /// Claims and runs training jobs (and still answers HTTP, e.g. health and ops).
    Worker,
    /// Both.
    All,
}

impl Role {
    /// Whether this role runs the training scheduler.
    fn runs_jobs(self) -> bool {
        matches!(self, Role::Worker | Role::All)
    }

    fn as_str(self) -> &'static str {
        match self {
            Role::Api => "api",
            Role::Worker => "worker",
            Role::All => "all",
        }
    }
}

/// `scale migrate`.
pub fn migrate_only(config: &Config) -> anyhow::Result<()> {
    init_logging(config)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let applied = runtime.block_on(scale_schema::run_migrations(&config.database_url))?;
    tracing::info!(applied = ?applied, "migrations applied");
    Ok(())
}

/// `scale serve --role ROLE`.
pub fn run(config: Config, role: Role) -> anyhow::Result<()> {
    // Sentry first: logging installs its layers only when a client is bound.
    let _sentry = scale_monitoring::init_sentry(
        &config.sentry_dsn,
        config.environment.as_str(),
        concat!("scale@", env!("CARGO_PKG_VERSION")),
        config.sentry_traces_sample_rate,
    );
    init_logging(&config)?;
    let jwks = config
        .jwt_jwks_file
        .as_ref()
        .map(|path| {
            std::fs::read_to_string(path)
                .with_context(|| format!("JWT_JWKS_FILE: cannot read {}", path.display()))
        })
        .transpose()?;
    let auth = Arc::new(Authenticator::new(&config.jwt_secret, jwks.as_deref())?);
    let brain = config.brain()?;
    tracing::info!(brain = brain.current().origin(), "categorizer");
    actix_rt::System::new().block_on(serve(config, role, auth, brain))
}

async fn serve(
    config: Config,
    role: Role,
    auth: Arc<Authenticator>,
    brain: BrainCell,
) -> anyhow::Result<()> {
    let applied = scale_schema::run_migrations(&config.database_url)
        .await
        .context("cannot prepare the database (is Postgres running and DATABASE_URL right?)")?;
    tracing::info!(applied = ?applied, "database schema is current");

    // With chaos enabled every pool goes through a fault proxy the chaos monkey can break.
    let (links, routed) = if config.chaos_enabled {
        let (links, routed) = Links::start(&config.database_url, config.redis_url.as_deref())
            .map_err(|e| anyhow::anyhow!("CHAOS_ENABLED: cannot proxy the dependencies: {e}"))?;
        tracing::warn!("chaos enabled: Postgres and Redis are reached through fault proxies");
        (links, routed)
    } else {
        let routed = Routed {
            database_url: config.database_url.clone(),
            redis_url: config.redis_url.clone(),
            bus_url: config.redis_url.clone(),
        };
        (Links::default(), routed)
    };
    let pg = scale_schema::connect(
        &routed.database_url,
        config.db_pool_size,
        config.db_checkout_timeout,
    );
    let redis = match &routed.redis_url {
        Some(url) => Some(
            redis_pool::connect(url, config.probe.timeout)
                .map_err(|e| anyhow::anyhow!("REDIS_URL: {e}"))?,
        ),
        None => {
            tracing::warn!("REDIS_URL is empty: running without Redis (degraded)");
            None
        }
    };

    // The limiter's Redis round trip is on every request: one pool per HTTP worker.
    let rate_limiter = RateLimiter::new(
        routed.redis_url.as_deref(),
        config.redis_key_prefix.clone(),
        config.rate_limits,
        config.rate_limit_redis_timeout,
    )
    .map_err(|e| anyhow::anyhow!("REDIS_URL: {e}"))?;

    let cache = CacheConfig {
        prefix: config.redis_key_prefix.clone(),
        timeout: config.cache_redis_timeout,
        memory_capacity: MEMORY_CAPACITY,
        memory_ttl: MEMORY_TTL,
    };
    let bus_url = routed.bus_url.as_deref();
    let events = EventBus::connect(bus_url, &config.redis_key_prefix)
        .map_err(|e| anyhow::anyhow!("REDIS_URL: {e}"))?;
    let layer_changes = Bus::connect(bus_url, &config.redis_key_prefix)
        .map_err(|e| anyhow::anyhow!("REDIS_URL: {e}"))?;
    let alerts = Bus::connect(bus_url, &config.redis_key_prefix)
        .map_err(|e| anyhow::anyhow!("REDIS_URL: {e}"))?;
    let bus = events.live_within(config.probe.timeout).await;
    tracing::info!(status = ?bus, "job event bus");

    // Before any actor starts: actors resolve their metric series once, at start.
    let recorder = config
        .metrics_enabled
        .then(scale_monitoring::metrics::install);
    let registry = Registry::new(config.supervisor);
    // One accounts shard per HTTP worker, each with its own pool (see `scale_actors::per_thread`).
    let (url, shard_size) = (routed.database_url.clone(), shard_pool_size(&config));
    let checkout = config.db_checkout_timeout;
    let scheduler = role.runs_jobs().then(|| {
        let (training, pg, events) = (config.training.clone(), pg.clone(), events.clone());
        let fitters = fitters::registered(&training, &brain);
        spawn(&registry, move || {
            TrainingScheduler::new(
                training.clone(),
                fitters.clone(),
                pg.clone(),
                events.clone(),
            )
        })
    });
    let levers = config.chaos_enabled.then(|| {
        let secret = config.jwt_secret.clone();
        Arc::new(Levers {
            registry: registry.clone(),
            links,
            training: config.training.chaos.clone(),
            clients: WsTarget::new(move || {
                mint_token(&secret, CHAOS_CLIENT, TokenRole::User, CHAOS_TOKEN_TTL_SECS)
            }),
        })
    });
    let state = AppState::wire(Wiring {
        pg,
        shard_pool: Arc::new(move || scale_schema::connect(&url, shard_size, checkout)),
        cache_redis: redis.clone(),
        redis,
        cache,
        events,
        layer_changes,
        alerts,
        brain,
        registry,
        probe: config.probe,
        role: role.as_str(),
        ingest_parsers: config.ingest_parsers,
        ingest_timeout: config.ingest_timeout,
        analytics_cache_ttl: config.analytics_cache_ttl,
        retrain_after: config.categorizer_retrain_after,
        rate_limiter,
        auth,
        chaos_enabled: config.chaos_enabled,
        chaos: levers.clone(),
    });
    if let Some(upkeep) = recorder.clone() {
        actix_rt::spawn(async move {
            let mut every = tokio::time::interval(scale_monitoring::metrics::UPKEEP_INTERVAL);
            loop {
                every.tick().await;
                upkeep.run_upkeep();
            }
        });
    }
    let metrics = match (config.metrics_addr, recorder) {
        (Some(addr), Some(recorder)) => Some(serve_metrics(addr, state.clone(), recorder)?),
        _ => None,
    };
    let settings = HttpSettings {
        allowed_origins: config.allowed_origins.clone(),
        hsts: config.environment == Environment::Production,
        ..HttpSettings::default()
    };
    let server = HttpServer::new(move || scale_http::app(state.clone(), &settings))
        .workers(config.http_workers)
        // Small writes (job events on WebSockets, short JSON answers) must not wait for Nagle.
        .tcp_nodelay(true)
        .on_connect(scale_http::stalled_peers::cut_after(
            config.stalled_peer_timeout,
        ))
        .shutdown_timeout(10)
        .bind(config.bind_addr)
        .with_context(|| format!("BIND_ADDR: cannot listen on {}", config.bind_addr))?;
    for addr in server.addrs() {
        if let Some(levers) = &levers {
            levers.clients.listening_on(addr);
        }
        tracing::info!(
            addr = %addr,
            environment = config.environment.as_str(),
            role = role.as_str(),
            "listening"
        );
    }
    let served = server.run().await.context("HTTP server failed");
    if let Some(metrics) = metrics {
        metrics.stop(true).await;
    }
    // SIGTERM stopped the server: stop claiming and hand the running jobs back.
    if let Some(scheduler) = scheduler {
        if let Err(err) = scheduler.ask_within(Drain, DRAIN_TIMEOUT).await {
            tracing::warn!(error = %err, "running training jobs did not stop in time; their leases will expire");
        }
    }
    served
}

/// Starts the `GET /metrics` listener on `addr` (one worker, stopped with the API server).
fn serve_metrics(
    addr: SocketAddr,
    state: web::Data<AppState>,
    handle: PrometheusHandle,
) -> anyhow::Result<ServerHandle> {
    let server =
        HttpServer::new(move || scale_http::metrics::admin_app(state.clone(), handle.clone()))
            .workers(1)
            .disable_signals()
            .bind(addr)
            .with_context(|| format!("METRICS_ADDR: cannot listen on {addr}"))?;
    for addr in server.addrs() {
        tracing::info!(addr = %addr, "metrics listening");
    }
    let server = server.run();
    let handle = server.handle();
    actix_rt::spawn(server);
    Ok(handle)
}

/// Connections of each HTTP worker's accounts shard: `DB_POOL_SIZE` split across the workers,
/// at least two each.
fn shard_pool_size(config: &Config) -> u32 {
    let workers = u32::try_from(config.http_workers).unwrap_or(u32::MAX);
    (config.db_pool_size / workers.max(1)).max(2)
}

fn init_logging(config: &Config) -> anyhow::Result<()> {
    scale_monitoring::init_logging(&config.log_level, config.log_format)?;
    Ok(())
}

//! Service configuration from environment variables, each with a documented default (see
//! `.env.example`). A bad value stops start-up with one line naming the variable.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use scale_actors::categorization::brain::BrainCell;
use scale_actors::health::ProbeConfig;
use scale_actors::training::config::SchedulerConfig;
use scale_actors::training::queue::Backoff;
use scale_chaos::TrainingKnobs;
use scale_http::rate_limit::Limit;
use scale_http::RateLimits;
use scale_monitoring::LogFormat;
use scale_supervision::SupervisorConfig;

/// A variable that is missing or malformed.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {message}")]
pub struct ConfigError {
    /// The offending variable.
    pub var: &'static str,
    /// What is wrong with it.
    pub message: String,
}

/// The deployment environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// A developer's machine.
    Development,
    /// Automated tests.
    Test,
    /// Pre-production.
    Staging,
    /// Production: strict secrets, HSTS.
    Production,
}

impl Environment {
    /// The name reported to Sentry and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Development => "development",
            Environment::Test => "test",
            Environment::Staging => "staging",
            Environment::Production => "production",
        }
    }
}

/// Everything the service reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL`: Postgres (required at run time).
    pub database_url: String,
    /// `REDIS_URL`: Redis, `None` when empty (degraded mode).
    pub redis_url: Option<String>,
    /// `BIND_ADDR`: where the HTTP server listens (port 0 picks a free port).
    pub bind_addr: SocketAddr,
    /// `METRICS_ADDR`: where `GET /metrics` is served, apart from the API (`None` when empty: not
    /// served). Bind it to a private interface: it has no authentication.
    pub metrics_addr: Option<SocketAddr>,
    /// `METRICS_ENABLED`: whether the process records metrics at all (default true). Off, no
    /// recorder is installed (every metric call is a no-op), `METRICS_ADDR` must stay empty and
    /// the ops dashboard shows no request figures; `scale bench transactions` uses it to measure
    /// what metrics cost.
    pub metrics_enabled: bool,
    /// `JWT_SECRET`: HS256 signing secret (at least 32 bytes).
    pub jwt_secret: String,
    /// `JWT_JWKS_FILE`: optional JWKS with RS256/ES256 public keys.
    pub jwt_jwks_file: Option<PathBuf>,
    /// `ALLOWED_ORIGINS`: CORS allowlist.
    pub allowed_origins: Vec<String>,
    /// `LOG_LEVEL`: tracing filter directive.
    pub log_level: String,
    /// `LOG_FORMAT`: `json` or `pretty`.
    pub log_format: LogFormat,
    /// `SENTRY_DSN`: empty disables Sentry.
    pub sentry_dsn: String,
    /// `SENTRY_TRACES_SAMPLE_RATE`: share of requests traced for Sentry performance (0.0–1.0).
    pub sentry_traces_sample_rate: f32,
    /// `ENVIRONMENT`.
    pub environment: Environment,
    /// `DB_POOL_SIZE`: Postgres connections of the shared pool (and, split across the HTTP
    /// workers, of the accounts shards' pools).
    pub db_pool_size: u32,
    /// `HTTP_WORKERS`: actix-web worker threads.
    pub http_workers: usize,
    /// `SUPERVISOR_MAX_RESTARTS` / `SUPERVISOR_RESTART_WINDOW_SECS` / `ACTOR_CALL_TIMEOUT_MS`.
    pub supervisor: SupervisorConfig,
    /// `HEALTH_PROBE_INTERVAL_MS` / `HEALTH_PROBE_TIMEOUT_MS`.
    pub probe: ProbeConfig,
    /// `INGEST_PARSERS`: statement parses run at once per process.
    pub ingest_parsers: usize,
    /// `INGEST_TIMEOUT_SECS`: how long parsing and storing one import may take (waiting for a
    /// parser slot included); separate from `ACTOR_CALL_TIMEOUT_MS`.
    pub ingest_timeout: Duration,
    /// `DB_CHECKOUT_TIMEOUT_MS`: longest wait for a pooled Postgres connection; shorter than
    /// `ACTOR_CALL_TIMEOUT_MS`, so an unreachable database answers 503, not an actor timeout.
    pub db_checkout_timeout: Duration,
    /// `STALLED_PEER_TIMEOUT_MS`: a connection whose peer acknowledges none of the data sent to
    /// it for this long (a client that stopped reading, or is gone) is cut by the kernel
    /// (`TCP_USER_TIMEOUT`).
    pub stalled_peer_timeout: Duration,
    /// `CHAOS_ENABLED`: runs the chaos monkey (with proxies in front of Postgres and Redis) and
    /// exposes the chaos routes to admins; refused in production.
    pub chaos_enabled: bool,
    /// `REDIS_KEY_PREFIX`: prepended to every Redis key this process writes.
    pub redis_key_prefix: String,
    /// `RATE_LIMIT_DEFAULT_PER_MIN` / `RATE_LIMIT_IMPORT_PER_MIN` / `RATE_LIMIT_CLASSIFY_PER_MIN`
    /// / `RATE_LIMIT_TRAINING_PER_HOUR`.
    pub rate_limits: RateLimits,
    /// `RATE_LIMIT_REDIS_TIMEOUT_MS`: longest wait for Redis (pool checkout and script) before
    /// the limiter treats it as down and limits in process; a connection error falls back at
    /// once.
    pub rate_limit_redis_timeout: Duration,
    /// `CACHE_REDIS_TIMEOUT_MS`: longest wait for a Redis read or write before the cache falls
    /// back to memory.
    pub cache_redis_timeout: Duration,
    /// `ANALYTICS_CACHE_TTL_SECS`: how long analytics answers stay cached.
    pub analytics_cache_ttl: Duration,
    /// `CATEGORIZER_RETRAIN_AFTER`: corrections that queue a categorizer job (default 10).
    pub categorizer_retrain_after: u32,
    /// `CATEGORIZER_DIR`: a directory with `rules.toml` and `global.bin` to classify with
    /// instead of the shipped ones (`None`: the shipped ones).
    pub categorizer_dir: Option<PathBuf>,
    /// `CATEGORIZER_RELOAD_SECS`: how often `CATEGORIZER_DIR` is checked for a new version.
    pub categorizer_reload: Duration,
    /// `TRAINING_WORKERS` / `TRAINING_LEASE_SECS` / `TRAINING_POLL_MS` / `TRAINING_TIMEOUT_SECS`
    /// (and `TRAINING_TIMEOUT_{CATEGORIZER,FORECASTER}_SECS`) / `TRAINING_BACKOFF_BASE_MS` /
    /// `TRAINING_BACKOFF_CAP_SECS`, and `CHAOS_TRAINING_STEP_DELAY_MS` when chaos is enabled.
    pub training: SchedulerConfig,
}

/// The development-only JWT secret used when `JWT_SECRET` is unset outside production.
const DEV_JWT_SECRET: &str = "scale-development-secret-not-for-production";

impl Config {
    /// The categorizer's rules and model: `CATEGORIZER_DIR`'s, loaded now, or the shipped ones.
    pub fn brain(&self) -> Result<BrainCell, ConfigError> {
        match &self.categorizer_dir {
            Some(dir) => BrainCell::from_dir(dir, self.categorizer_reload)
                .map_err(|message| invalid("CATEGORIZER_DIR", message)),
            None => Ok(BrainCell::shipped()),
        }
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `raw` (a variable's value, `None` when unset). An empty value
    /// means unset, except for `REDIS_URL`, where empty disables Redis.
    pub fn from_lookup(raw: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let lookup = |name: &str| raw(name).filter(|v| !v.is_empty());
        let get = |var: &'static str, default: &str| -> String {
            lookup(var).unwrap_or_else(|| default.to_owned())
        };
        let environment = match get("ENVIRONMENT", "development").as_str() {
            "development" => Environment::Development,
            "test" => Environment::Test,
            "staging" => Environment::Staging,
            "production" => Environment::Production,
            other => {
                return Err(invalid(
                    "ENVIRONMENT",
                    format!("`{other}` is not one of development, test, staging, production"),
                ))
            }
        };
        let database_url = get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/scale");
        if !database_url.starts_with("postgres://") && !database_url.starts_with("postgresql://") {
            return Err(invalid(
                "DATABASE_URL",
                "must start with postgres:// or postgresql://",
            ));
        }
        let redis_url = Some(raw("REDIS_URL").unwrap_or_else(|| "redis://127.0.0.1:6379".into()))
            .filter(|u| !u.is_empty());
        if let Some(url) = &redis_url {
            if !["redis://", "rediss://", "unix://"]
                .iter()
                .any(|p| url.starts_with(p))
            {
                return Err(invalid(
                    "REDIS_URL",
                    "must start with redis://, rediss:// or unix:// (or be empty)",
                ));
            }
        }
        let jwt_secret = match lookup("JWT_SECRET") {
            Some(secret) if secret.len() >= 32 => secret,
            Some(_) => return Err(invalid("JWT_SECRET", "must be at least 32 bytes")),
            None if environment == Environment::Production => {
                return Err(invalid(
                    "JWT_SECRET",
                    "is required when ENVIRONMENT=production",
                ))
            }
            None => DEV_JWT_SECRET.to_owned(),
        };
        let log_format = match get("LOG_FORMAT", "json").as_str() {
            "json" => LogFormat::Json,
            "pretty" => LogFormat::Pretty,
            other => {
                return Err(invalid(
                    "LOG_FORMAT",
                    format!("`{other}` is not json or pretty"),
                ))
            }
        };
        let supervisor = SupervisorConfig {
            max_restarts: parse(&get, "SUPERVISOR_MAX_RESTARTS", "5")?,
            restart_window: Duration::from_secs(positive(
                &get,
                "SUPERVISOR_RESTART_WINDOW_SECS",
                "60",
            )?),
            call_timeout: Duration::from_millis(positive(&get, "ACTOR_CALL_TIMEOUT_MS", "5000")?),
            ..SupervisorConfig::default()
        };
        let db_checkout_timeout =
            Duration::from_millis(positive(&get, "DB_CHECKOUT_TIMEOUT_MS", "2000")?);
        if db_checkout_timeout >= supervisor.call_timeout {
            return Err(invalid(
                "DB_CHECKOUT_TIMEOUT_MS",
                "must be shorter than ACTOR_CALL_TIMEOUT_MS",
            ));
        }
        let probe = ProbeConfig {
            interval: Duration::from_millis(positive(&get, "HEALTH_PROBE_INTERVAL_MS", "1000")?),
            timeout: Duration::from_millis(positive(&get, "HEALTH_PROBE_TIMEOUT_MS", "500")?),
        };
        let minute = Duration::from_secs(60);
        let per = |var: &'static str, default: &str, window: Duration| {
            positive(&get, var, default).map(|max| Limit { max, window })
        };
        let rate_limits = RateLimits {
            default: per("RATE_LIMIT_DEFAULT_PER_MIN", "100", minute)?,
            import: per("RATE_LIMIT_IMPORT_PER_MIN", "5", minute)?,
            classify: per("RATE_LIMIT_CLASSIFY_PER_MIN", "50", minute)?,
            training: per(
                "RATE_LIMIT_TRAINING_PER_HOUR",
                "3",
                Duration::from_secs(3600),
            )?,
        };
        let default_workers = std::thread::available_parallelism()
            .map_or(2, usize::from)
            .to_string();
        let chaos_enabled = parse(&get, "CHAOS_ENABLED", "false")?;
        if chaos_enabled && environment == Environment::Production {
            return Err(invalid(
                "CHAOS_ENABLED",
                "must not be true when ENVIRONMENT=production",
            ));
        }
        let training = training(&get, &default_workers, chaos_enabled)?;
        let metrics_enabled: bool = parse(&get, "METRICS_ENABLED", "true")?;
        let metrics_addr = lookup("METRICS_ADDR")
            .map(|raw| {
                raw.trim()
                    .parse()
                    .map_err(|_| invalid("METRICS_ADDR", format!("`{raw}` is not host:port")))
            })
            .transpose()?;
        if metrics_addr.is_some() && !metrics_enabled {
            return Err(invalid(
                "METRICS_ADDR",
                "cannot serve metrics with METRICS_ENABLED=false",
            ));
        }
        Ok(Self {
            database_url,
            redis_url,
            bind_addr: parse(&get, "BIND_ADDR", "127.0.0.1:8000")?,
            metrics_addr,
            metrics_enabled,
            jwt_secret,
            jwt_jwks_file: lookup("JWT_JWKS_FILE").map(PathBuf::from),
            allowed_origins: origins(&get("ALLOWED_ORIGINS", "http://localhost:3000"))?,
            log_level: get("LOG_LEVEL", "info"),
            log_format,
            sentry_dsn: get("SENTRY_DSN", ""),
            sentry_traces_sample_rate: share(&get, "SENTRY_TRACES_SAMPLE_RATE", "0")?,
            environment,
            db_pool_size: positive(&get, "DB_POOL_SIZE", "10")?,
            http_workers: positive(&get, "HTTP_WORKERS", &default_workers)?,
            ingest_parsers: positive(&get, "INGEST_PARSERS", &default_workers)?,
            ingest_timeout: Duration::from_secs(positive(&get, "INGEST_TIMEOUT_SECS", "120")?),
            db_checkout_timeout,
            stalled_peer_timeout: Duration::from_millis(positive(
                &get,
                "STALLED_PEER_TIMEOUT_MS",
                "30000",
            )?),
            supervisor,
            probe,
            chaos_enabled,
            redis_key_prefix: get("REDIS_KEY_PREFIX", "scale:"),
            rate_limits,
            rate_limit_redis_timeout: Duration::from_millis(positive(
                &get,
                "RATE_LIMIT_REDIS_TIMEOUT_MS",
                "1000",
            )?),
            cache_redis_timeout: Duration::from_millis(positive(
                &get,
                "CACHE_REDIS_TIMEOUT_MS",
                "50",
            )?),
            analytics_cache_ttl: Duration::from_secs(positive(
                &get,
                "ANALYTICS_CACHE_TTL_SECS",
                "300",
            )?),
            categorizer_retrain_after: positive(&get, "CATEGORIZER_RETRAIN_AFTER", "10")?,
            categorizer_dir: lookup("CATEGORIZER_DIR").map(PathBuf::from),
            categorizer_reload: Duration::from_secs(positive(
                &get,
                "CATEGORIZER_RELOAD_SECS",
                "10",
            )?),
            training,
        })
    }
}

/// The training scheduler's settings; the step delay is a chaos knob, ignored unless
/// `CHAOS_ENABLED=true`.
fn training(
    get: &impl Fn(&'static str, &str) -> String,
    default_workers: &str,
    chaos_enabled: bool,
) -> Result<SchedulerConfig, ConfigError> {
    let secs = |var, default: &str| positive(get, var, default).map(Duration::from_secs);
    let millis = |var, default: &str| positive(get, var, default).map(Duration::from_millis);
    // The per-kind timeouts default to the common one.
    let timeout = positive::<u64>(get, "TRAINING_TIMEOUT_SECS", "1800")?.to_string();
    let (step_delay, panic_attempts) = if chaos_enabled {
        let delay = Some(parse(get, "CHAOS_TRAINING_STEP_DELAY_MS", "0")?)
            .filter(|ms| *ms > 0)
            .map(Duration::from_millis);
        (delay, parse(get, "CHAOS_TRAINING_PANIC_ATTEMPTS", "0")?)
    } else {
        (None, 0)
    };
    Ok(SchedulerConfig {
        workers: positive(get, "TRAINING_WORKERS", default_workers)?,
        lease: secs("TRAINING_LEASE_SECS", "30")?,
        poll_interval: millis("TRAINING_POLL_MS", "500")?,
        categorizer_timeout: secs("TRAINING_TIMEOUT_CATEGORIZER_SECS", &timeout)?,
        forecaster_timeout: secs("TRAINING_TIMEOUT_FORECASTER_SECS", &timeout)?,
        backoff: Backoff {
            base: millis("TRAINING_BACKOFF_BASE_MS", "5000")?,
            cap: secs("TRAINING_BACKOFF_CAP_SECS", "300")?,
        },
        chaos: TrainingKnobs::new(step_delay, panic_attempts),
    })
}

fn invalid(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        message: message.into(),
    }
}

fn parse<T: FromStr>(
    get: &impl Fn(&'static str, &str) -> String,
    var: &'static str,
    default: &str,
) -> Result<T, ConfigError> {
    let raw = get(var, default);
    raw.trim()
        .parse()
        .map_err(|_| invalid(var, format!("cannot parse `{raw}`")))
}

fn positive<T: FromStr + PartialOrd + Default>(
    get: &impl Fn(&'static str, &str) -> String,
    var: &'static str,
    default: &str,
) -> Result<T, ConfigError> {
    let value: T = parse(get, var, default)?;
    if value > T::default() {
        Ok(value)
    } else {
        Err(invalid(var, "must be greater than zero"))
    }
}

/// Parses a share between 0.0 and 1.0 inclusive.
fn share(
    get: &impl Fn(&'static str, &str) -> String,
    var: &'static str,
    default: &str,
) -> Result<f32, ConfigError> {
    let value: f32 = parse(get, var, default)?;
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(invalid(var, "must be between 0.0 and 1.0"))
    }
}

/// Parses a comma-separated origin list; rejects `*` (credentials are allowed) and paths.
fn origins(raw: &str) -> Result<Vec<String>, ConfigError> {
    raw.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|origin| {
            let rest = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"));
            match rest {
                Some(host) if !host.is_empty() && !host.contains('/') && origin != "*" => {
                    Ok(origin.to_owned())
                }
                _ => Err(invalid(
                    "ALLOWED_ORIGINS",
                    format!("`{origin}` is not an origin like https://app.example.com (no wildcard, no path)"),
                )),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;

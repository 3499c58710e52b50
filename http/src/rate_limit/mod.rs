//! Per-caller rate limits on `/api/v1` (health routes exempt), in tiers: imports, classification,
//! training and everything else. The tier follows the route the router matched (its resource
//! pattern), so no spelling of a path (percent-encoding, say) changes it. The caller is the user
//! of a valid bearer token, else the peer IP (`X-Forwarded-For` is not trusted).
//!
//! Windows slide and live in Redis — a sorted set per `{prefix}rl:{tier}:{subject}`, updated
//! atomically by a Lua script — so every process shares them: while Redis answers, no process,
//! alone or together with others, admits more than the limit. Redis counts as down when it
//! fails (a connection error falls back at once) or does not answer within the timeout (default
//! [`DEFAULT_REDIS_TIMEOUT`], a pool checkout included): a slow answer is waited for. Then the
//! limiter falls back to an in-process window ([`window`]) that starts from the count Redis
//! last reported for the caller and admits only this process's share of what remained, split
//! between the live processes (each renews its entry in `{prefix}rl:live` from inside the
//! script, at most once per [`LIVE_REFRESH`]). Redis is tried again after
//! [`REDIS_RETRY_AFTER`], by one request at a time. A caller far below a high limit is admitted
//! from a lease of permits taken from its Redis window ([`lease`]), one round trip per lease
//! instead of per request.
//!
//! `POST /ingest/import` by an authenticated user is counted by its handler instead ([`charge`]):
//! once per request, except a chunk stored into an upload already open, which is free.

pub mod charge;
pub mod lease;
pub mod limit;
pub mod window;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage};
use redis::RedisError;
use scale_actors::redis_pool::{self, ErrorSink, RedisPool};
use scale_monitoring::metrics::names;
use scale_supervision::PerThread;
use tokio::sync::Notify;

pub use charge::Charge;
pub use lease::Leases;
pub use limit::Limit;
pub use window::{Decision, SlidingWindows};

use crate::problem::ApiError;
use crate::problem::Code;
use crate::AppState;

/// The limit the caller is under on this route.
pub const X_RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
/// Requests the caller has left in the current window.
pub const X_RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
/// Default longest wait for Redis (pool checkout and script) before it counts as down.
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_secs(1);
/// How long the limiter stays on the fallback after Redis failed, before trying it again.
pub const REDIS_RETRY_AFTER: Duration = Duration::from_secs(1);
/// Most callers the in-process fallback tracks at once.
pub const FALLBACK_MAX_KEYS: usize = 10_000;
/// How often at most a process renews its entry among the live limiters.
pub const LIVE_REFRESH: Duration = Duration::from_secs(1);
/// How long a process counts as live after it last renewed its entry (a process that stopped
/// is still counted that long, which only makes the others' fallback shares smaller).
pub const LIVE_TTL: Duration = Duration::from_secs(60);

/// Renews this process among the live limiters when asked, removes expired entries, then grants
/// up to `wanted` permits if the window has room: one, stamped now, or (while the window stays
/// under half full) a lease of several, stamped with the lease's end so they stay counted for
/// as long as they may be spent.
/// KEYS[1] the window, KEYS[2] the live limiters; ARGV: now (ms), window (ms), limit, a unique
/// member prefix, permits wanted, lease lifetime (ms), this process's id, how long an entry
/// among the live limiters lasts (ms; 0: do not renew it this time).
/// Returns {permits granted, requests counted, ms until the oldest entry leaves the window,
/// live limiters}.
const SLIDING_WINDOW: &str = r"
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local wanted = tonumber(ARGV[5])
local lease = tonumber(ARGV[6])
local live_ttl = tonumber(ARGV[8])
if live_ttl > 0 then
  redis.call('ZADD', KEYS[2], now, ARGV[7])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - live_ttl)
  redis.call('PEXPIRE', KEYS[2], live_ttl)
end
local live = redis.call('ZCARD', KEYS[2])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count < limit then
  local granted, stamp = 1, now
  if wanted > 1 and count + wanted <= limit / 2 then
    granted, stamp = wanted, now + lease
  end
  local entries = {}
  for i = 1, granted do
    entries[2 * i - 1] = stamp
    entries[2 * i] = ARGV[4] .. ':' .. i
  end
  redis.call('ZADD', key, unpack(entries))
  redis.call('PEXPIRE', key, window + lease)
  return {granted, count + granted, 0, live}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
local wait = window
if oldest[2] then wait = tonumber(oldest[2]) + window - now end
return {0, count, wait, live}
";

/// A group of routes sharing a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// Every other `/api/v1` route.
    Default,
    /// Statement imports and training uploads.
    Import,
    /// Transaction classification and category discovery.
    Classify,
    /// Starting model training.
    Training,
}

impl Tier {
    /// The tier's name in Redis keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Default => "default",
            Tier::Import => "import",
            Tier::Classify => "classify",
            Tier::Training => "training",
        }
    }

    /// The tier of a `method` request to the route whose resource pattern is `pattern` (e.g.
    /// `/api/v1/training/jobs/{id}`; `None` when no route matches, which is never exempt);
    /// `None` for exempt routes (health).
    pub fn of(method: &Method, pattern: Option<&str>) -> Option<Self> {
        let Some(route) = pattern.and_then(|p| p.strip_prefix("/api/v1")) else {
            return Some(Tier::Default);
        };
        let under = |prefix: &str| {
            route
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        };
        let post = method == Method::POST;
        Some(match route {
            _ if under("/health") => return None,
            "/ingest/import" | "/training/upload" if post => Tier::Import,
            "/training/train" | "/training/jobs" if post => Tier::Training,
            _ if under("/categorization/classify") || under("/categorization/discover") => {
                Tier::Classify
            }
            _ => Tier::Default,
        })
    }

    /// Whether the handler of a `method` request to the route `pattern` makes the charge
    /// itself ([`Charge`]): `POST /api/v1/ingest/import`, where a chunk of an open upload is
    /// free, which only the body tells.
    pub fn charged_by_handler(method: &Method, pattern: Option<&str>) -> bool {
        method == Method::POST && pattern == Some("/api/v1/ingest/import")
    }
}

/// The limit of each tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Every other route (default 100 per minute).
    pub default: Limit,
    /// Imports and training uploads (default 5 per minute).
    pub import: Limit,
    /// Classification (default 50 per minute).
    pub classify: Limit,
    /// Training (default 3 per hour).
    pub training: Limit,
}

impl RateLimits {
    /// The limit of `tier`.
    pub fn get(&self, tier: Tier) -> Limit {
        match tier {
            Tier::Default => self.default,
            Tier::Import => self.import,
            Tier::Classify => self.classify,
            Tier::Training => self.training,
        }
    }

    /// Every tier allowing `max` requests per `window` (tests).
    pub fn uniform(max: u32, window: Duration) -> Self {
        let limit = Limit { max, window };
        Self {
            default: limit,
            import: limit,
            classify: limit,
            training: limit,
        }
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        let minute = Duration::from_secs(60);
        Self {
            default: Limit {
                max: 100,
                window: minute,
            },
            import: Limit {
                max: 5,
                window: minute,
            },
            classify: Limit {
                max: 50,
                window: minute,
            },
            training: Limit {
                max: 3,
                window: Duration::from_secs(3600),
            },
        }
    }
}

/// Where the limiter's pools report connection failures (which a checkout only sees as a wait
/// until its timeout): wakes every check waiting on Redis, so it falls back at once.
#[derive(Debug, Clone, Default)]
struct ConnectionFailures(Arc<Notify>);

impl ErrorSink<RedisError> for ConnectionFailures {
    fn sink(&self, error: RedisError) {
        tracing::debug!(%error, "rate limiter: a Redis connection failed");
        self.0.notify_waiters();
    }

    fn boxed_clone(&self) -> Box<dyn ErrorSink<RedisError>> {
        Box::new(self.clone())
    }
}

/// Decides whether a caller may make a request: in Redis when it answers, else in process.
pub struct RateLimiter {
    redis: Option<PerThread<RedisPool>>,
    prefix: String,
    limits: RateLimits,
    redis_timeout: Duration,
    connection_failures: ConnectionFailures,
    /// This process's member among the live limiters.
    id: String,
    /// The Redis key of the live limiters.
    live_key: String,
    /// When this process next renews its entry among the live limiters.
    live_renewal_due: Mutex<Instant>,
    /// Live limiters Redis last reported (0 before it first answered).
    live: AtomicU32,
    fallback: Mutex<SlidingWindows>,
    leases: Mutex<Leases>,
    redis_paused_until: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// A limiter over Redis at `redis_url` (none: in process only) with keys under `prefix`,
    /// waiting up to `redis_timeout` for Redis (a pool checkout included; one pool per thread,
    /// see `scale_actors::redis_pool::per_thread`) before treating it as down. Fails only on a
    /// malformed URL.
    pub fn new(
        redis_url: Option<&str>,
        prefix: impl Into<String>,
        limits: RateLimits,
        redis_timeout: Duration,
    ) -> Result<Self, String> {
        let connection_failures = ConnectionFailures::default();
        let redis = redis_url
            .map(|url| {
                redis_pool::per_thread(url, redis_timeout, connection_failures.boxed_clone())
            })
            .transpose()?;
        let prefix = prefix.into();
        Ok(Self {
            redis,
            live_key: format!("{prefix}rl:live"),
            prefix,
            limits,
            redis_timeout,
            connection_failures,
            id: uuid::Uuid::new_v4().simple().to_string(),
            live_renewal_due: Mutex::new(Instant::now()),
            live: AtomicU32::new(0),
            fallback: Mutex::new(SlidingWindows::new(FALLBACK_MAX_KEYS)),
            leases: Mutex::new(Leases::new(FALLBACK_MAX_KEYS)),
            redis_paused_until: Mutex::new(None),
        })
    }

    /// The limits in force.
    pub fn limits(&self) -> &RateLimits {
        &self.limits
    }

    /// The Redis key of `subject`'s window in `tier`.
    pub fn key(&self, tier: Tier, subject: &str) -> String {
        format!("{}rl:{}:{subject}", self.prefix, tier.as_str())
    }

    /// The Redis key of the live limiters: a sorted set of process ids scored by their last
    /// renewal (ms since the epoch).
    pub fn live_key(&self) -> &str {
        &self.live_key
    }

    /// Counts a request by `subject` in `tier` and says whether it may proceed.
    pub async fn check(&self, tier: Tier, subject: &str) -> Decision {
        let limit = self.limits.get(tier);
        let key = self.key(tier, subject);
        if let Some(decision) = self.check_in_redis(&key, limit).await {
            return decision;
        }
        // Never heard from Redis: this process is the only one it knows of.
        let processes = self.live.load(Ordering::Relaxed).max(1);
        lock(&self.fallback).hit(&key, limit, processes, Instant::now())
    }

    async fn check_in_redis(&self, key: &str, limit: Limit) -> Option<Decision> {
        let pool = self.redis.as_ref()?.get();
        let now = Instant::now();
        let wanted = {
            let mut leases = lock(&self.leases);
            if let Some(remaining) = leases.spend(key, limit, now) {
                let counted = limit.max.saturating_sub(remaining);
                return Some(Decision::new(limit, true, counted, Duration::ZERO));
            }
            leases.wanted(key, limit, now)
        };
        if !self.may_ask_redis(now) {
            return None;
        }
        let renew = self.renews_liveness(now);
        // Registered before asking, so a failure reported meanwhile is not missed.
        let connection_failed = self.connection_failures.0.notified();
        let asked = tokio::time::timeout(
            self.redis_timeout,
            self.redis_hit(pool, key, limit, wanted, renew),
        );
        let outcome = tokio::select! {
            outcome = asked => outcome
                .unwrap_or_else(|_| Err(format!("no answer within {:?}", self.redis_timeout))),
            () = connection_failed => Err("cannot connect".to_owned()),
        };
        match outcome {
            Ok(grant) => {
                if self.paused().take().is_some() {
                    tracing::info!("rate limiter: Redis answers again");
                }
                self.live.store(grant.live, Ordering::Relaxed);
                let answered = Instant::now();
                lock(&self.leases).record(key, grant.granted, grant.counted, now);
                lock(&self.fallback).remember(key, limit, grant.counted, answered);
                // The lease's unspent permits are still this process's to give.
                let unspent = grant.granted.saturating_sub(1);
                Some(Decision::new(
                    limit,
                    grant.granted > 0,
                    grant.counted.saturating_sub(unspent),
                    grant.wait,
                ))
            }
            Err(error) => {
                let mut paused = self.paused();
                if paused.is_none() {
                    tracing::warn!(%error, "rate limiter: Redis failed, limiting in process");
                }
                *paused = Some(Instant::now() + REDIS_RETRY_AFTER);
                None
            }
        }
    }

    /// Whether a check at `now` may ask Redis: always while it answers; after a failure, once
    /// [`REDIS_RETRY_AFTER`] has passed, one check (the others keep limiting in process until
    /// it has its answer, so an outage costs them no wait).
    fn may_ask_redis(&self, now: Instant) -> bool {
        let mut paused = self.paused();
        match *paused {
            Some(until) if now < until => false,
            Some(_) => {
                *paused = Some(now + self.redis_timeout + REDIS_RETRY_AFTER);
                true
            }
            None => true,
        }
    }

    /// Whether a check at `now` renews this process among the live limiters: at most one per
    /// [`LIVE_REFRESH`].
    fn renews_liveness(&self, now: Instant) -> bool {
        let mut due = lock(&self.live_renewal_due);
        if now < *due {
            return false;
        }
        *due = now + LIVE_REFRESH;
        true
    }

    fn paused(&self) -> MutexGuard<'_, Option<Instant>> {
        lock(&self.redis_paused_until)
    }

    /// Runs the sliding-window script for `key`, asking for `wanted` permits and renewing this
    /// process among the live limiters when `renew`.
    async fn redis_hit(
        &self,
        pool: &RedisPool,
        key: &str,
        limit: Limit,
        wanted: u32,
        renew: bool,
    ) -> Result<Grant, String> {
        let mut conn = pool.get().await.map_err(|e| e.to_string())?;
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        let member = format!("{now_ms}-{}", uuid::Uuid::new_v4().simple());
        let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let (granted, counted, wait_ms, live): (u32, u32, u64, u32) = redis::cmd("EVAL")
            .arg(SLIDING_WINDOW)
            .arg(2)
            .arg(key)
            .arg(&self.live_key)
            .arg(u64::try_from(now_ms).unwrap_or(u64::MAX))
            .arg(millis(limit.window))
            .arg(limit.max)
            .arg(member)
            .arg(wanted)
            .arg(millis(lease::LEASE_TTL))
            .arg(&self.id)
            .arg(if renew { millis(LIVE_TTL) } else { 0 })
            .query_async(&mut *conn)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Grant {
            granted,
            counted,
            wait: Duration::from_millis(wait_ms),
            live,
        })
    }
}

/// Locks `mutex`; a poisoned lock only means a panic elsewhere, the state stays consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What the sliding-window script answered.
struct Grant {
    /// Permits granted (0: denied).
    granted: u32,
    /// Requests counted in the window, the granted permits included.
    counted: u32,
    /// When denied, until the oldest counted request leaves the window.
    wait: Duration,
    /// Live limiters, this process included.
    live: u32,
}

/// The resource pattern of the route the router will pick for `req` (`None`: no route, a
/// 404). It is looked up with the path as the router matches it — percent-decoded except for
/// `%`, `/` and `+` (`actix_router::Url`) — not with the raw path, so any spelling of a route
/// finds the route's pattern.
fn route_pattern(req: &ServiceRequest) -> Option<String> {
    req.resource_map().match_pattern(req.match_info().as_str())
}

/// The middleware (`from_fn`): answers 429 `rate_limited` with `Retry-After` over the limit, and
/// adds `X-RateLimit-Limit` / `X-RateLimit-Remaining` to every limited route's response. A
/// route whose handler charges an authenticated caller itself gets a [`Charge`] instead, and
/// the headers of whatever the handler decided.
pub async fn limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let pattern = route_pattern(&req);
    let tier = Tier::of(req.method(), pattern.as_deref());
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let (Some(tier), Some(state)) = (tier, state) else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let (subject, authenticated) = match state.auth.authenticate(req.headers()) {
        Ok(user) => {
            user.remember(&req);
            (format!("user:{}", user.id), true)
        }
        Err(_) => (
            req.peer_addr().map_or_else(
                || "ip:unknown".to_owned(),
                |addr| format!("ip:{}", addr.ip()),
            ),
            false,
        ),
    };
    if authenticated && Tier::charged_by_handler(req.method(), pattern.as_deref()) {
        let charge = Charge::new(state, tier, subject);
        req.extensions_mut().insert(charge.clone());
        let mut res = next.call(req).await?;
        if let Some(decision) = charge.decision() {
            add_headers(res.headers_mut(), &decision);
        }
        return Ok(res.map_into_left_body());
    }
    let decision = state.rate_limiter.check(tier, &subject).await;
    if decision.allowed {
        let mut res = next.call(req).await?;
        add_headers(res.headers_mut(), &decision);
        return Ok(res.map_into_left_body());
    }
    let mut res = req.error_response(rate_limited(tier, &decision));
    add_headers(res.headers_mut(), &decision);
    Ok(res.map_into_right_body())
}

/// 429 `rate_limited` with `Retry-After`, for a request `decision` refused in `tier` (counted
/// in [`names::RATE_LIMITED`]).
fn rate_limited(tier: Tier, decision: &Decision) -> ApiError {
    metrics::counter!(names::RATE_LIMITED, "tier" => tier.as_str()).increment(1);
    let wait = decision.retry_after_secs();
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        Code::RateLimited,
        format!(
            "Rate limit of {} requests exceeded for this route; retry in {wait} s",
            decision.limit
        ),
    )
    .with_header(header::RETRY_AFTER, HeaderValue::from(wait))
}

fn add_headers(headers: &mut HeaderMap, decision: &Decision) {
    headers.insert(X_RATELIMIT_LIMIT, HeaderValue::from(decision.limit));
    headers.insert(X_RATELIMIT_REMAINING, HeaderValue::from(decision.remaining));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_patterns_map_to_tiers() {
        let post = Method::POST;
        let get = Method::GET;
        for (method, pattern, tier) in [
            (&get, Some("/api/v1/health"), None),
            (&get, Some("/api/v1/health/ready"), None),
            (&post, Some("/api/v1/health"), None),
            (&get, Some("/api/v1/healthy"), Some(Tier::Default)),
            (&post, Some("/api/v1/ingest/import"), Some(Tier::Import)),
            (&post, Some("/api/v1/training/upload"), Some(Tier::Import)),
            (&get, Some("/api/v1/ingest/import"), Some(Tier::Default)),
            (
                &post,
                Some("/api/v1/categorization/classify"),
                Some(Tier::Classify),
            ),
            (
                &post,
                Some("/api/v1/categorization/classify/batch"),
                Some(Tier::Classify),
            ),
            (
                &get,
                Some("/api/v1/categorization/classify/{id}"),
                Some(Tier::Classify),
            ),
            (
                &post,
                Some("/api/v1/categorization/classifyx"),
                Some(Tier::Default),
            ),
            (
                &post,
                Some("/api/v1/categorization/discover"),
                Some(Tier::Classify),
            ),
            (
                &get,
                Some("/api/v1/categorization/models"),
                Some(Tier::Default),
            ),
            (&post, Some("/api/v1/training/train"), Some(Tier::Training)),
            (&post, Some("/api/v1/training/jobs"), Some(Tier::Training)),
            (&get, Some("/api/v1/training/jobs"), Some(Tier::Default)),
            (
                &post,
                Some("/api/v1/training/jobs/{id}"),
                Some(Tier::Default),
            ),
            (&post, Some("/api/v1/ingest/parse"), Some(Tier::Default)),
            // No route: never exempt, whatever the path looked like.
            (&get, None, Some(Tier::Default)),
            (&post, None, Some(Tier::Default)),
        ] {
            assert_eq!(Tier::of(method, pattern), tier, "{method} {pattern:?}");
        }
    }

    #[test]
    fn only_post_ingest_import_is_charged_by_its_handler() {
        let import = Some("/api/v1/ingest/import");
        assert!(Tier::charged_by_handler(&Method::POST, import));
        assert!(!Tier::charged_by_handler(&Method::GET, import));
        for pattern in [
            Some("/api/v1/training/upload"),
            Some("/api/v1/ingest/parse"),
            None,
        ] {
            assert!(
                !Tier::charged_by_handler(&Method::POST, pattern),
                "{pattern:?}"
            );
        }
    }

    #[test]
    fn keys_carry_prefix_tier_and_subject() {
        let limiter =
            RateLimiter::new(None, "t:", RateLimits::default(), DEFAULT_REDIS_TIMEOUT).unwrap();
        assert_eq!(limiter.key(Tier::Import, "user:1"), "t:rl:import:user:1");
        assert_eq!(limiter.live_key(), "t:rl:live");
    }

    #[actix_rt::test]
    async fn without_redis_the_in_process_window_limits() {
        let limits = RateLimits::uniform(2, Duration::from_secs(60));
        let limiter = RateLimiter::new(None, "t:", limits, DEFAULT_REDIS_TIMEOUT).unwrap();
        assert!(limiter.check(Tier::Default, "ip:1").await.allowed);
        assert!(limiter.check(Tier::Default, "ip:1").await.allowed);
        let denied = limiter.check(Tier::Default, "ip:1").await;
        assert!(!denied.allowed);
        assert_eq!(denied.remaining, 0);
        assert!(limiter.check(Tier::Import, "ip:1").await.allowed);
    }
}

//! Per-caller rate limits on `/api/v1` (health routes exempt), in tiers: imports, classification,
//! training and everything else. The caller is the user of a valid bearer token, else the peer IP
//! (`X-Forwarded-For` is not trusted). Windows slide and live in Redis — a sorted set per
//! `{prefix}rl:{tier}:{subject}`, updated atomically by a Lua script — so every process shares
//! them. When Redis fails or is slower than the timeout, the limiter falls back to an in-process
//! window ([`window`]) and tries Redis again after [`REDIS_RETRY_AFTER`]. A caller far below a
//! high limit is admitted from a lease of permits taken from its Redis window ([`lease`]),
//! one round trip per lease instead of per request.

pub mod lease;
pub mod window;

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, Error};
use scale_actors::redis_pool::RedisPool;
use scale_actors::PerThread;

pub use lease::Leases;
pub use window::{Decision, Limit, SlidingWindows};

use crate::problem::ApiError;
use crate::AppState;

/// The limit the caller is under on this route.
pub const X_RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
/// Requests the caller has left in the current window.
pub const X_RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
/// Default longest wait for Redis before the in-process fallback answers.
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_millis(50);
/// How long the limiter stays on the fallback after Redis failed, before trying it again.
pub const REDIS_RETRY_AFTER: Duration = Duration::from_secs(1);
/// Most callers the in-process fallback tracks at once.
pub const FALLBACK_MAX_KEYS: usize = 10_000;

/// Removes expired entries, then grants up to `wanted` permits if the window has room: one,
/// stamped now, or (while the window stays under half full) a lease of several, stamped with
/// the lease's end so they stay counted for as long as they may be spent.
/// KEYS[1] the window; ARGV: now (ms), window (ms), limit, a unique member prefix, permits
/// wanted, lease lifetime (ms).
/// Returns {permits granted, requests counted, ms until the oldest entry leaves the window}.
const SLIDING_WINDOW: &str = r"
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local wanted = tonumber(ARGV[5])
local lease = tonumber(ARGV[6])
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
  return {granted, count + granted, 0}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
local wait = window
if oldest[2] then wait = tonumber(oldest[2]) + window - now end
return {0, count, wait}
";

/// A group of routes sharing a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// Every other `/api/v1` route.
    Default,
    /// Statement imports and training uploads.
    Import,
    /// Transaction classification.
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

    /// The tier of a request to `path`; `None` for exempt routes (health).
    pub fn of(method: &Method, path: &str) -> Option<Self> {
        let route = path.strip_prefix("/api/v1").unwrap_or(path);
        let route = route.strip_suffix('/').unwrap_or(route);
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
            _ if under("/categorization/classify") => Tier::Classify,
            _ => Tier::Default,
        })
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

/// Decides whether a caller may make a request: in Redis when it answers, else in process.
pub struct RateLimiter {
    redis: Option<PerThread<RedisPool>>,
    prefix: String,
    limits: RateLimits,
    redis_timeout: Duration,
    fallback: Mutex<SlidingWindows>,
    leases: Mutex<Leases>,
    redis_paused_until: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// A limiter over `redis` (none: in process only; one pool per thread, see
    /// `scale_actors::redis_pool::per_thread`) with keys under `prefix`.
    pub fn new(
        redis: Option<PerThread<RedisPool>>,
        prefix: impl Into<String>,
        limits: RateLimits,
    ) -> Self {
        Self {
            redis,
            prefix: prefix.into(),
            limits,
            redis_timeout: DEFAULT_REDIS_TIMEOUT,
            fallback: Mutex::new(SlidingWindows::new(FALLBACK_MAX_KEYS)),
            leases: Mutex::new(Leases::new(FALLBACK_MAX_KEYS)),
            redis_paused_until: Mutex::new(None),
        }
    }

    /// Sets the longest wait for Redis (pool checkout and script) before falling back.
    pub fn with_redis_timeout(mut self, timeout: Duration) -> Self {
        self.redis_timeout = timeout;
        self
    }

    /// The limits in force.
    pub fn limits(&self) -> &RateLimits {
        &self.limits
    }

    /// The Redis key of `subject`'s window in `tier`.
    pub fn key(&self, tier: Tier, subject: &str) -> String {
        format!("{}rl:{}:{subject}", self.prefix, tier.as_str())
    }

    /// Counts a request by `subject` in `tier` and says whether it may proceed.
    pub async fn check(&self, tier: Tier, subject: &str) -> Decision {
        let limit = self.limits.get(tier);
        let key = self.key(tier, subject);
        if let Some(decision) = self.check_in_redis(&key, limit).await {
            return decision;
        }
        lock(&self.fallback).hit(&key, limit, Instant::now())
    }

    async fn check_in_redis(&self, key: &str, limit: Limit) -> Option<Decision> {
        let pool = self.redis.as_ref()?.get();
        let paused_until = *self.paused();
        if paused_until.is_some_and(|until| Instant::now() < until) {
            return None;
        }
        let now = Instant::now();
        let wanted = {
            let mut leases = lock(&self.leases);
            if let Some(remaining) = leases.spend(key, limit, now) {
                let counted = limit.max.saturating_sub(remaining);
                return Some(Decision::new(limit, true, counted, Duration::ZERO));
            }
            leases.wanted(key, limit, now)
        };
        let outcome = tokio::time::timeout(self.redis_timeout, redis_hit(pool, key, limit, wanted))
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {:?}", self.redis_timeout)));
        let mut paused = self.paused();
        match outcome {
            Ok(grant) => {
                if paused.take().is_some() {
                    tracing::info!("rate limiter: Redis answers again");
                }
                lock(&self.leases).record(key, grant.granted, grant.counted, now);
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
                if paused.is_none() {
                    tracing::warn!(%error, "rate limiter: Redis failed, limiting in process");
                }
                *paused = Some(Instant::now() + REDIS_RETRY_AFTER);
                None
            }
        }
    }

    fn paused(&self) -> MutexGuard<'_, Option<Instant>> {
        lock(&self.redis_paused_until)
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
}

/// Runs the sliding-window script for `key`, asking for `wanted` permits.
async fn redis_hit(
    pool: &RedisPool,
    key: &str,
    limit: Limit,
    wanted: u32,
) -> Result<Grant, String> {
    let mut conn = pool.get().await.map_err(|e| e.to_string())?;
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    let member = format!("{now_ms}-{}", uuid::Uuid::new_v4().simple());
    let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    let (granted, counted, wait_ms): (u32, u32, u64) = redis::cmd("EVAL")
        .arg(SLIDING_WINDOW)
        .arg(1)
        .arg(key)
        .arg(u64::try_from(now_ms).unwrap_or(u64::MAX))
        .arg(millis(limit.window))
        .arg(limit.max)
        .arg(member)
        .arg(wanted)
        .arg(millis(lease::LEASE_TTL))
        .query_async(&mut *conn)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Grant {
        granted,
        counted,
        wait: Duration::from_millis(wait_ms),
    })
}

/// The middleware (`from_fn`): answers 429 `rate_limited` with `Retry-After` over the limit, and
/// adds `X-RateLimit-Limit` / `X-RateLimit-Remaining` to every limited route's response.
pub async fn limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let tier = Tier::of(req.method(), req.path());
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let (Some(tier), Some(state)) = (tier, state) else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let subject = match state.auth.authenticate(req.headers()) {
        Ok(user) => {
            user.remember(&req);
            format!("user:{}", user.id)
        }
        Err(_) => req.peer_addr().map_or_else(
            || "ip:unknown".to_owned(),
            |addr| format!("ip:{}", addr.ip()),
        ),
    };
    let decision = state.rate_limiter.check(tier, &subject).await;
    if decision.allowed {
        let mut res = next.call(req).await?;
        add_headers(res.headers_mut(), &decision);
        return Ok(res.map_into_left_body());
    }
    let wait = decision.retry_after_secs();
    let error = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!(
            "Rate limit of {} requests exceeded for this route; retry in {wait} s",
            decision.limit
        ),
    )
    .with_header(header::RETRY_AFTER, HeaderValue::from(wait));
    let mut res = req.error_response(error);
    add_headers(res.headers_mut(), &decision);
    Ok(res.map_into_right_body())
}

fn add_headers(headers: &mut HeaderMap, decision: &Decision) {
    headers.insert(X_RATELIMIT_LIMIT, HeaderValue::from(decision.limit));
    headers.insert(X_RATELIMIT_REMAINING, HeaderValue::from(decision.remaining));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_map_to_tiers() {
        let post = Method::POST;
        let get = Method::GET;
        for (method, path, tier) in [
            (&get, "/api/v1/health", None),
            (&get, "/api/v1/health/ready", None),
            (&get, "/api/v1/healthy", Some(Tier::Default)),
            (&post, "/api/v1/ingest/import", Some(Tier::Import)),
            (&post, "/api/v1/training/upload", Some(Tier::Import)),
            (&get, "/api/v1/ingest/import", Some(Tier::Default)),
            (
                &post,
                "/api/v1/categorization/classify",
                Some(Tier::Classify),
            ),
            (
                &post,
                "/api/v1/categorization/classify/batch",
                Some(Tier::Classify),
            ),
            (&post, "/api/v1/training/train", Some(Tier::Training)),
            (&post, "/api/v1/training/jobs", Some(Tier::Training)),
            (&get, "/api/v1/training/jobs", Some(Tier::Default)),
            (&post, "/api/v1/ingest/parse", Some(Tier::Default)),
        ] {
            assert_eq!(Tier::of(method, path), tier, "{method} {path}");
        }
    }

    #[test]
    fn keys_carry_prefix_tier_and_subject() {
        let limiter = RateLimiter::new(None, "t:", RateLimits::default());
        assert_eq!(limiter.key(Tier::Import, "user:1"), "t:rl:import:user:1");
    }

    #[actix_rt::test]
    async fn without_redis_the_in_process_window_limits() {
        let limiter = RateLimiter::new(None, "t:", RateLimits::uniform(2, Duration::from_secs(60)));
        assert!(limiter.check(Tier::Default, "ip:1").await.allowed);
        assert!(limiter.check(Tier::Default, "ip:1").await.allowed);
        let denied = limiter.check(Tier::Default, "ip:1").await;
        assert!(!denied.allowed);
        assert_eq!(denied.remaining, 0);
        assert!(limiter.check(Tier::Import, "ip:1").await.allowed);
    }
}

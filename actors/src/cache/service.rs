//! The cache actor: owns the Redis pool and an in-process [`Lru`]. Each Redis command is bounded
//! by the configured timeout; a failure or timeout switches the actor to the LRU (backend
//! `memory`). While on memory, invalidations are remembered, and every [`RETRY_AFTER`] a probe
//! replays them on Redis and pings it; once that succeeds the actor goes back to Redis and
//! empties the LRU, so neither store serves a value an invalidation should have removed.

use std::collections::HashSet;
use std::future::Future;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;
use uuid::Uuid;

use super::lru::Lru;
use super::{keys, Backend, CacheStats};
use crate::redis_pool::RedisPool;
use crate::supervision::{every, spawn_then, Handles, Reply, Request, Service, ServiceContext};

/// How long the actor stays on memory after Redis failed before probing it again.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);
/// Default cap on the in-process LRU.
pub const MEMORY_CAPACITY: usize = 10_000;
/// Users whose invalidation is remembered while Redis is down; beyond it, every user's keys are
/// dropped when Redis answers again.
const MAX_PENDING: usize = 10_000;
/// Shortest bound on multi-command work (invalidation scans, recovery).
const BULK_TIMEOUT: Duration = Duration::from_secs(1);

/// How the cache is set up.
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// Prepended to every Redis key (`REDIS_KEY_PREFIX`).
    pub prefix: String,
    /// Longest wait for one Redis command before falling back to memory.
    pub timeout: Duration,
    /// Most entries the in-process LRU holds.
    pub memory_capacity: usize,
}

/// The value under `key`, if any (counted as a hit or a miss).
pub struct Get {
    /// The key, without the prefix.
    pub key: String,
}

/// Stores `value` under `key` for `ttl`.
pub struct Set {
    /// The key, without the prefix.
    pub key: String,
    /// The value.
    pub value: String,
    /// How long it lives.
    pub ttl: Duration,
}

/// Drops every key of `user`: `cat:{user}` and `an:{user}:*`.
pub struct Invalidate {
    /// Whose keys.
    pub user: Uuid,
}

/// Drops the given keys (e.g. the `job:{id}` entries of deleted jobs).
pub struct Forget {
    /// The keys, without the prefix.
    pub keys: Vec<String>,
}

/// The backend in use and the hit/miss counters.
pub struct Stats;

impl Request for Get {
    type Output = Option<String>;
}
impl Request for Set {
    type Output = ();
}
impl Request for Invalidate {
    type Output = ();
}
impl Request for Forget {
    type Output = ();
}
impl Request for Stats {
    type Output = CacheStats;
}

/// The cache actor's state.
pub struct CacheService {
    redis: Option<RedisPool>,
    config: CacheConfig,
    memory: Lru,
    /// Set while Redis is considered down (values live in memory).
    down_since: Option<Instant>,
    /// Users invalidated while Redis was down, replayed on Redis before it is used again.
    pending: HashSet<Uuid>,
    /// Whether more users were invalidated than [`MAX_PENDING`]: drop every key on recovery.
    flush_all: bool,
    probing: bool,
    hits: u64,
    misses: u64,
}

impl CacheService {
    /// A cache over `redis` (`None`: memory only).
    pub fn new(redis: Option<RedisPool>, config: CacheConfig) -> Self {
        Self {
            redis,
            memory: Lru::new(config.memory_capacity),
            config,
            down_since: None,
            pending: HashSet::new(),
            flush_all: false,
            probing: false,
            hits: 0,
            misses: 0,
        }
    }

    fn backend(&self) -> Backend {
        if self.redis.is_some() && self.down_since.is_none() {
            Backend::Redis
        } else {
            Backend::Memory
        }
    }

    fn full_key(&self, key: &str) -> String {
        format!("{}{key}", self.config.prefix)
    }

    fn redis_failed(&mut self, error: String) {
        if self.down_since.is_none() {
            tracing::warn!(%error, "cache: Redis failed, caching in process");
            self.down_since = Some(Instant::now());
        }
    }

    fn remember_invalidation(&mut self, user: Uuid) {
        if self.pending.len() < MAX_PENDING {
            self.pending.insert(user);
        } else {
            self.flush_all = true;
        }
    }

    /// Runs `op` on Redis when it is in use, bounded by `timeout`; a failure switches to
    /// memory. `finish` then completes the request with the state and Redis's answer (`None`
    /// when Redis was not used or failed).
    fn through_redis<T, O, F>(
        &mut self,
        ctx: &mut ServiceContext<Self>,
        timeout: Duration,
        op: impl FnOnce(RedisPool) -> F,
        finish: impl FnOnce(&mut Self, Option<T>) -> O + 'static,
    ) -> Reply<O>
    where
        T: 'static,
        O: Default + Send + 'static,
        F: Future<Output = Result<T, String>> + 'static,
    {
        let pool = match (&self.redis, self.down_since) {
            (Some(pool), None) => pool.clone(),
            _ => return Reply::Ready(finish(self, None)),
        };
        let (tx, rx) = oneshot::channel();
        spawn_then(ctx, bounded(timeout, op(pool)), move |state, outcome, _| {
            let answer = match outcome {
                Ok(value) => Some(value),
                Err(error) => {
                    state.redis_failed(error);
                    None
                }
            };
            let _ = tx.send(finish(state, answer));
        });
        Reply::later(async move { rx.await.unwrap_or_default() })
    }

    /// While on memory: replays the remembered invalidations on Redis and pings it; on success
    /// goes back to Redis and empties the LRU.
    fn probe(&mut self, ctx: &mut ServiceContext<Self>) {
        let Some(pool) = self.redis.clone() else {
            return;
        };
        if self.down_since.is_none() || self.probing {
            return;
        }
        self.probing = true;
        let users: Vec<Uuid> = self.pending.iter().copied().collect();
        let flush_all = self.flush_all;
        let prefix = self.config.prefix.clone();
        let replayed = users.clone();
        let recovery = async move {
            let mut conn = pool.get().await.map_err(|e| e.to_string())?;
            redis::cmd("PING")
                .query_async::<String>(&mut *conn)
                .await
                .map_err(|e| e.to_string())?;
            if flush_all {
                for namespace in ["an:", "cat:"] {
                    let pattern = format!("{}{namespace}*", keys::glob_escape(&prefix));
                    delete_matching(&mut conn, &pattern).await?;
                }
            }
            for user in users {
                forget(&mut conn, &prefix, user).await?;
            }
            Ok(())
        };
        spawn_then(
            ctx,
            bounded(BULK_TIMEOUT.max(self.config.timeout), recovery),
            move |state: &mut Self, outcome, _| {
                state.probing = false;
                if let Err(error) = outcome {
                    tracing::debug!(%error, "cache: Redis still down");
                    return;
                }
                for user in &replayed {
                    state.pending.remove(user);
                }
                state.flush_all &= !flush_all;
                if state.pending.is_empty() && !state.flush_all {
                    tracing::info!("cache: Redis answers again");
                    state.down_since = None;
                    state.memory.clear();
                }
            },
        );
    }
}

impl Service for CacheService {
    const NAME: &'static str = "cache";

    fn started(&mut self, ctx: &mut ServiceContext<Self>) {
        every(ctx, RETRY_AFTER, Self::probe);
    }
}

impl Handles<Get> for CacheService {
    fn handle(&mut self, msg: Get, ctx: &mut ServiceContext<Self>) -> Reply<Option<String>> {
        let key = self.full_key(&msg.key);
        self.through_redis(
            ctx,
            self.config.timeout,
            |pool| async move {
                let mut conn = pool.get().await.map_err(|e| e.to_string())?;
                redis::cmd("GET")
                    .arg(key)
                    .query_async::<Option<String>>(&mut *conn)
                    .await
                    .map_err(|e| e.to_string())
            },
            move |state, found| {
                let value = match found {
                    Some(value) => value,
                    None => state.memory.get(&msg.key, Instant::now()),
                };
                if value.is_some() {
                    state.hits += 1;
                } else {
                    state.misses += 1;
                }
                value
            },
        )
    }
}

impl Handles<Set> for CacheService {
    fn handle(&mut self, msg: Set, ctx: &mut ServiceContext<Self>) -> Reply<()> {
        let key = self.full_key(&msg.key);
        let value = msg.value.clone();
        let millis = u64::try_from(msg.ttl.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        self.through_redis(
            ctx,
            self.config.timeout,
            move |pool| async move {
                let mut conn = pool.get().await.map_err(|e| e.to_string())?;
                redis::cmd("SET")
                    .arg(key)
                    .arg(value)
                    .arg("PX")
                    .arg(millis)
                    .query_async::<()>(&mut *conn)
                    .await
                    .map_err(|e| e.to_string())
            },
            move |state, stored| {
                if stored.is_none() {
                    state
                        .memory
                        .set(&msg.key, msg.value, msg.ttl, Instant::now());
                }
            },
        )
    }
}

impl Handles<Invalidate> for CacheService {
    fn handle(&mut self, msg: Invalidate, ctx: &mut ServiceContext<Self>) -> Reply<()> {
        let prefix = self.config.prefix.clone();
        let user = msg.user;
        self.through_redis(
            ctx,
            BULK_TIMEOUT.max(self.config.timeout),
            move |pool| async move {
                let mut conn = pool.get().await.map_err(|e| e.to_string())?;
                forget(&mut conn, &prefix, user).await
            },
            move |state, done| {
                state.memory.remove_where(|key| keys::belongs_to(key, user));
                if done.is_none() && state.redis.is_some() {
                    state.remember_invalidation(user);
                }
            },
        )
    }
}

impl Handles<Forget> for CacheService {
    fn handle(&mut self, msg: Forget, ctx: &mut ServiceContext<Self>) -> Reply<()> {
        for key in &msg.keys {
            self.memory.remove(key);
        }
        if msg.keys.is_empty() {
            return Reply::Ready(());
        }
        let keys: Vec<String> = msg.keys.iter().map(|key| self.full_key(key)).collect();
        // While Redis is unreachable its entries cannot be dropped; they expire with their TTL.
        self.through_redis(
            ctx,
            BULK_TIMEOUT.max(self.config.timeout),
            move |pool| async move {
                let mut conn = pool.get().await.map_err(|e| e.to_string())?;
                redis::cmd("UNLINK")
                    .arg(keys)
                    .query_async::<i64>(&mut *conn)
                    .await
                    .map_err(|e| e.to_string())
            },
            |_, _| (),
        )
    }
}

impl Handles<Stats> for CacheService {
    fn handle(&mut self, _: Stats, _: &mut ServiceContext<Self>) -> Reply<CacheStats> {
        Reply::Ready(CacheStats {
            backend: self.backend(),
            hits: self.hits,
            misses: self.misses,
            memory_entries: self.memory.len(),
        })
    }
}

type Connection<'a> = bb8::PooledConnection<'a, bb8_redis::RedisConnectionManager>;

/// Deletes `user`'s category key and every analytics key (`SCAN … MATCH`, then `UNLINK`).
async fn forget(conn: &mut Connection<'_>, prefix: &str, user: Uuid) -> Result<(), String> {
    redis::cmd("UNLINK")
        .arg(format!("{prefix}{}", keys::categories(user)))
        .query_async::<i64>(&mut **conn)
        .await
        .map_err(|e| e.to_string())?;
    let pattern = format!(
        "{}{}*",
        keys::glob_escape(prefix),
        keys::glob_escape(&keys::analytics_of(user))
    );
    delete_matching(conn, &pattern).await
}

/// Deletes every key matching the glob `pattern`, one `SCAN` page at a time.
async fn delete_matching(conn: &mut Connection<'_>, pattern: &str) -> Result<(), String> {
    let mut cursor = 0_u64;
    loop {
        let (next, found): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut **conn)
            .await
            .map_err(|e| e.to_string())?;
        if !found.is_empty() {
            redis::cmd("UNLINK")
                .arg(found)
                .query_async::<i64>(&mut **conn)
                .await
                .map_err(|e| e.to_string())?;
        }
        if next == 0 {
            return Ok(());
        }
        cursor = next;
    }
}

async fn bounded<T>(
    timeout: Duration,
    op: impl Future<Output = Result<T, String>>,
) -> Result<T, String> {
    tokio::time::timeout(timeout, op)
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {} ms", timeout.as_millis())))
}

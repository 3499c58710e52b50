//! The cache actor: owns the Redis pool and an in-process [`Lru`]. Each Redis command is bounded
//! by the configured timeout; a failure or timeout switches the actor to the LRU (backend
//! `memory`), whose entries live at most [`CacheConfig::memory_ttl`]. While on memory,
//! invalidations are remembered, and every [`RETRY_AFTER`] a probe replays them on Redis and pings
//! it; once that succeeds the actor goes back to Redis and empties the LRU, so neither store
//! serves a value an invalidation should have removed.
//!
//! A value of a user's key is computed between a [`Get`] and a [`Set`], so it may predate an
//! invalidation that ran meanwhile. The [`Version`] the `Get` returns prevents storing it then: in
//! Redis, the read returns the user's generation (`gen:{user}`, minted by the first read after an
//! invalidation deleted it) and the write is a script that stores only while the generation is
//! unchanged; in process, the write is refused if the user was invalidated since the read
//! ([`Invalidations`]).

use std::collections::HashSet;
use std::future::Future;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;
use uuid::Uuid;

use super::invalidations::Invalidations;
use super::lru::Lru;
use super::{keys, Backend, CacheStats};
use crate::redis_pool::RedisPool;
use scale_supervision::{every, spawn_then, Handles, Reply, Request, Service, ServiceContext};

/// How long the actor stays on memory after Redis failed before probing it again.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);
/// Default cap on the in-process LRU.
pub const MEMORY_CAPACITY: usize = 10_000;
/// Default longest life of an in-process entry, whatever TTL was asked: while Redis is down,
/// another process's invalidations cannot reach this one, so data it changed stays visible here
/// for at most this long.
pub const MEMORY_TTL: Duration = Duration::from_secs(5);
/// How long a user's Redis generation lives once minted; it only has to outlast a computation.
const GENERATION_TTL: Duration = Duration::from_secs(3600);
/// Stores `ARGV[2]` under `KEYS[2]` for `ARGV[3]` ms if the generation `KEYS[1]` is `ARGV[1]`.
const SET_IF_GENERATION: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
end
return 0
";
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
    /// Longest life of an in-process entry ([`MEMORY_TTL`]).
    pub memory_ttl: Duration,
}

/// The value under `key`, if any (counted as a hit or a miss), and the [`Version`] of its
/// user's data.
pub struct Get {
    /// The key, without the prefix.
    pub key: String,
}

/// What a [`Get`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lookup {
    /// The cached value.
    pub value: Option<String>,
    /// To present when storing a value computed after this read.
    pub version: Version,
}

/// The version of a user's data a [`Get`] saw. A [`Set`] of a user's key (`an:…`, `cat:…`)
/// presents the version of the read that preceded the computation, and is dropped if the user was
/// invalidated since. `Version::default()` is for keys no user owns (`job:{id}`); a user's key set
/// with it is dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Version {
    /// The user's Redis generation, when Redis answered the read.
    redis: Option<String>,
    /// The in-process token ([`Invalidations::token`]), for a user's key.
    memory: Option<u64>,
}

/// Stores `value` under `key` for `ttl`, unless `key` is a user's and `version` is outdated.
pub struct Set {
    /// The key, without the prefix.
    pub key: String,
    /// The value.
    pub value: String,
    /// How long it lives.
    pub ttl: Duration,
    /// What the [`Get`] before computing `value` returned.
    pub version: Version,
}

/// Drops every key of `user` (`cat:{user}`, `fc:{user}`, `an:{user}:*`) and moves the user's
/// data version.
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
    type Output = Lookup;
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
    /// Every invalidation of this process, whatever the backend.
    invalidations: Invalidations,
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
            memory: Lru::new(config.memory_capacity, config.memory_ttl),
            invalidations: Invalidations::new(config.memory_capacity),
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

    /// Stores `msg` in the LRU, unless it is a user's value whose version predates an
    /// invalidation of the user.
    fn keep_in_memory(&mut self, msg: Set, owner: Option<Uuid>) {
        let current = owner.is_none_or(|user| {
            msg.version
                .memory
                .is_some_and(|token| self.invalidations.unchanged_since(user, token))
        });
        if current {
            self.memory
                .set(&msg.key, msg.value, msg.ttl, Instant::now());
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
                for namespace in ["gen:", "an:", "cat:", "fc:"] {
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
    fn handle(&mut self, msg: Get, ctx: &mut ServiceContext<Self>) -> Reply<Lookup> {
        let owner = keys::owner(&msg.key);
        let key = self.full_key(&msg.key);
        let generation = owner.map(|user| self.full_key(&keys::generation(user)));
        self.through_redis(
            ctx,
            self.config.timeout,
            |pool| read(pool, key, generation),
            move |state, found| {
                let (redis, value) = match found {
                    Some(found) => found,
                    None => (None, state.memory.get(&msg.key, Instant::now())),
                };
                if value.is_some() {
                    state.hits += 1;
                } else {
                    state.misses += 1;
                }
                let memory = owner.map(|_| state.invalidations.token());
                Lookup {
                    value,
                    version: Version { redis, memory },
                }
            },
        )
    }
}

impl Handles<Set> for CacheService {
    fn handle(&mut self, msg: Set, ctx: &mut ServiceContext<Self>) -> Reply<()> {
        let owner = keys::owner(&msg.key);
        // A user's value goes to Redis only while the generation its read saw is current.
        let guard = match (owner, &msg.version.redis, self.backend()) {
            (None, ..) => None,
            (Some(user), Some(generation), _) => {
                Some((self.full_key(&keys::generation(user)), generation.clone()))
            }
            // Read from memory: Redis may hold newer data than the value was computed from.
            (Some(_), None, Backend::Redis) => return Reply::Ready(()),
            // On memory Redis is not written.
            (Some(_), None, Backend::Memory) => None,
        };
        let key = self.full_key(&msg.key);
        let value = msg.value.clone();
        let millis = millis(msg.ttl);
        self.through_redis(
            ctx,
            self.config.timeout,
            move |pool| async move {
                let mut conn = pool.get().await.map_err(|e| e.to_string())?;
                let mut cmd;
                match guard {
                    Some((generation, expected)) => {
                        cmd = redis::cmd("EVAL");
                        cmd.arg(SET_IF_GENERATION).arg(2).arg(generation).arg(key);
                        cmd.arg(expected).arg(value).arg(millis);
                    }
                    None => {
                        cmd = redis::cmd("SET");
                        cmd.arg(key).arg(value).arg("PX").arg(millis);
                    }
                }
                cmd.query_async::<()>(&mut *conn)
                    .await
                    .map_err(|e| e.to_string())
            },
            move |state, stored| {
                if stored.is_none() {
                    state.keep_in_memory(msg, owner);
                }
            },
        )
    }
}

impl Handles<Invalidate> for CacheService {
    fn handle(&mut self, msg: Invalidate, ctx: &mut ServiceContext<Self>) -> Reply<()> {
        let prefix = self.config.prefix.clone();
        let user = msg.user;
        self.invalidations.record(user);
        self.memory.remove_where(|key| keys::belongs_to(key, user));
        self.through_redis(
            ctx,
            BULK_TIMEOUT.max(self.config.timeout),
            move |pool| async move {
                let mut conn = pool.get().await.map_err(|e| e.to_string())?;
                forget(&mut conn, &prefix, user).await
            },
            move |state, done| {
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

/// The generation under `generation` (minted first if missing) and the value under `key`, in
/// one round trip; just the value for a key no user owns (`generation` is `None`).
async fn read(
    pool: RedisPool,
    key: String,
    generation: Option<String>,
) -> Result<(Option<String>, Option<String>), String> {
    let mut conn = pool.get().await.map_err(|e| e.to_string())?;
    let Some(generation) = generation else {
        let value = redis::cmd("GET").arg(key).query_async(&mut *conn).await;
        return Ok((None, value.map_err(|e| e.to_string())?));
    };
    redis::pipe()
        .cmd("SET")
        .arg(&generation)
        .arg(Uuid::new_v4().simple().to_string())
        .arg("NX")
        .arg("PX")
        .arg(millis(GENERATION_TTL))
        .ignore()
        .cmd("GET")
        .arg(&generation)
        .cmd("GET")
        .arg(key)
        .query_async(&mut *conn)
        .await
        .map_err(|e| e.to_string())
}

/// Deletes `user`'s generation (so no value computed before can be stored), then the category
/// and forecast keys and every analytics key (`SCAN … MATCH`, then `UNLINK`).
async fn forget(conn: &mut Connection<'_>, prefix: &str, user: Uuid) -> Result<(), String> {
    redis::cmd("UNLINK")
        .arg(format!("{prefix}{}", keys::generation(user)))
        .arg(format!("{prefix}{}", keys::categories(user)))
        .arg(format!("{prefix}{}", keys::forecast(user)))
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

/// `duration` in whole milliseconds, at least one (Redis refuses `PX 0`).
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

async fn bounded<T>(
    timeout: Duration,
    op: impl Future<Output = Result<T, String>>,
) -> Result<T, String> {
    tokio::time::timeout(timeout, op)
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {} ms", timeout.as_millis())))
}

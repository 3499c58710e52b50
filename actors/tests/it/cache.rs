//! The cache actor on its own: values round-trip through Redis under the configured prefix,
//! `Invalidate` drops exactly the user's keys (in Redis and in memory), and without Redis the
//! in-process LRU serves with the same semantics. A value computed from a read that preceded an
//! invalidation is never stored after it, in either store and across an outage; while Redis is
//! down, entries live only the short in-process TTL.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use scale_actors::cache::keys;
use scale_actors::cache::service::{
    CacheConfig, CacheService, Get, Invalidate, Lookup, Set, Stats, Version, MEMORY_CAPACITY,
    MEMORY_TTL,
};
use scale_actors::cache::Backend;
use scale_actors::redis_pool::{self, RedisPool};
use scale_chaos::{FaultMode, FaultProxy};
use scale_supervision::{spawn, Handle, Registry, SupervisorConfig};
use uuid::Uuid;

const TTL: Duration = Duration::from_secs(60);

fn config(prefix: &str) -> CacheConfig {
    CacheConfig {
        prefix: prefix.to_owned(),
        timeout: Duration::from_secs(2),
        memory_capacity: MEMORY_CAPACITY,
        memory_ttl: MEMORY_TTL,
    }
}

fn cache(redis: Option<RedisPool>, config: CacheConfig) -> Handle<CacheService> {
    let registry = Registry::new(SupervisorConfig::default());
    spawn(&registry, move || {
        CacheService::new(redis.clone(), config.clone())
    })
}

fn unique_prefix() -> String {
    format!("scale-test-{}:", Uuid::new_v4())
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

/// A Redis pool through `proxy` that gives up after 300 ms.
fn through(proxy: &FaultProxy) -> RedisPool {
    let url = format!("redis://{}", proxy.addr());
    redis_pool::connect(&url, Duration::from_millis(300)).unwrap()
}

/// `config` with a 300 ms Redis timeout, so a cut Redis fails fast.
fn impatient(prefix: &str) -> CacheConfig {
    CacheConfig {
        timeout: Duration::from_millis(300),
        ..config(prefix)
    }
}

async fn lookup(cache: &Handle<CacheService>, key: &str) -> Lookup {
    cache
        .ask(Get {
            key: key.to_owned(),
        })
        .await
        .unwrap()
}

async fn get(cache: &Handle<CacheService>, key: &str) -> Option<String> {
    lookup(cache, key).await.value
}

async fn set(
    cache: &Handle<CacheService>,
    key: &str,
    value: &str,
    ttl: Duration,
    version: Version,
) {
    let msg = Set {
        key: key.to_owned(),
        value: value.to_owned(),
        ttl,
        version,
    };
    cache.ask(msg).await.unwrap();
}

/// Reads `key` (a miss), then stores `value` under the version the read saw.
async fn store(cache: &Handle<CacheService>, key: &str, value: &str) {
    let version = lookup(cache, key).await.version;
    set(cache, key, value, TTL, version).await;
}

/// Stores an overview, a summary and a category entry for `alice` and `bob`, invalidates
/// `alice`, and checks only `bob`'s entries remain.
async fn invalidation_is_per_user(cache: &Handle<CacheService>) -> (Uuid, Uuid) {
    let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
    let keys_of = |user| {
        [
            keys::overview(user, "weekly", "Asia/Kolkata", day()),
            keys::summary(user, "UTC", day()),
            keys::categories(user),
        ]
    };
    for user in [alice, bob] {
        for key in keys_of(user) {
            store(cache, &key, "v").await;
            assert_eq!(get(cache, &key).await.as_deref(), Some("v"));
        }
    }
    cache.ask(Invalidate { user: alice }).await.unwrap();
    for key in keys_of(alice) {
        assert_eq!(get(cache, &key).await, None, "{key}");
    }
    for key in keys_of(bob) {
        assert_eq!(get(cache, &key).await.as_deref(), Some("v"), "{key}");
    }
    (alice, bob)
}

#[actix_rt::test]
async fn redis_holds_values_under_the_prefix_and_invalidation_drops_a_users_keys() {
    let redis = redis_pool::connect("redis://127.0.0.1:6379", Duration::from_secs(2)).unwrap();
    let prefix = unique_prefix();
    let cache = cache(Some(redis.clone()), config(&prefix));
    let (alice, bob) = invalidation_is_per_user(&cache).await;
    let mut conn = redis.get().await.unwrap();
    let mut stored: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut *conn)
        .await
        .unwrap();
    stored.sort();
    // Besides `bob`'s values: both generations (`alice`'s minted again by the reads after her
    // invalidation).
    let mut expected = vec![
        format!("{prefix}an:{bob}:overview:weekly:Asia/Kolkata:2026-11-25"),
        format!("{prefix}an:{bob}:summary:UTC:2026-11-25"),
        format!("{prefix}cat:{bob}"),
        format!("{prefix}gen:{alice}"),
        format!("{prefix}gen:{bob}"),
    ];
    expected.sort();
    assert_eq!(stored, expected);
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&expected[0])
        .query_async(&mut *conn)
        .await
        .unwrap();
    assert!(ttl > 0 && ttl <= 60_000, "{ttl}");
    let stats = cache.ask(Stats).await.unwrap();
    assert_eq!(stats.backend, Backend::Redis);
    assert_eq!((stats.hits, stats.misses), (9, 9));
    assert_eq!(stats.memory_entries, 0);
    redis::cmd("DEL")
        .arg(expected)
        .query_async::<i64>(&mut *conn)
        .await
        .unwrap();
}

#[actix_rt::test]
async fn without_redis_the_memory_cache_behaves_the_same() {
    let cache = cache(None, config("unused:"));
    invalidation_is_per_user(&cache).await;
    let stats = cache.ask(Stats).await.unwrap();
    assert_eq!(stats.backend, Backend::Memory);
    assert_eq!((stats.hits, stats.misses), (9, 9));
    assert_eq!(stats.memory_entries, 3);
}

/// The race in order: a read misses, the user is invalidated, then the value computed after the
/// read is stored with the read's version: it must not be served. A value from a read after the
/// invalidation is stored; a key no user owns needs no version, and a user's key without one is
/// not stored.
async fn a_value_read_before_an_invalidation_is_not_stored(cache: &Handle<CacheService>) {
    let user = Uuid::new_v4();
    let key = keys::overview(user, "weekly", "UTC", day());
    let before = lookup(cache, &key).await;
    assert_eq!(before.value, None);
    cache.ask(Invalidate { user }).await.unwrap();
    set(cache, &key, "stale", TTL, before.version).await;
    let after = lookup(cache, &key).await;
    assert_eq!(after.value, None, "the stale value was stored");

    set(cache, &key, "fresh", TTL, after.version).await;
    assert_eq!(get(cache, &key).await.as_deref(), Some("fresh"));

    let job = keys::job(Uuid::new_v4());
    set(cache, &job, "job", TTL, Version::default()).await;
    assert_eq!(get(cache, &job).await.as_deref(), Some("job"));
    let summary = keys::summary(user, "UTC", day());
    set(cache, &summary, "unversioned", TTL, Version::default()).await;
    assert_eq!(get(cache, &summary).await, None);
}

#[actix_rt::test]
async fn in_redis_a_value_read_before_an_invalidation_is_not_stored() {
    let redis = redis_pool::connect("redis://127.0.0.1:6379", Duration::from_secs(2)).unwrap();
    let cache = cache(Some(redis), config(&unique_prefix()));
    a_value_read_before_an_invalidation_is_not_stored(&cache).await;
    assert_eq!(cache.ask(Stats).await.unwrap().backend, Backend::Redis);
}

#[actix_rt::test]
async fn in_memory_a_value_read_before_an_invalidation_is_not_stored() {
    let cache = cache(None, config("unused:"));
    a_value_read_before_an_invalidation_is_not_stored(&cache).await;
}

/// A read answered by Redis, then an outage during which the user is invalidated: the value
/// computed after the read is refused by memory, and once Redis is back (the invalidation
/// replayed), by Redis too.
#[actix_rt::test]
async fn an_invalidation_during_an_outage_outdates_earlier_reads_in_both_stores() {
    let proxy = FaultProxy::start("127.0.0.1:6379".parse().unwrap());
    let cache = cache(Some(through(&proxy)), impatient(&unique_prefix()));
    let user = Uuid::new_v4();
    let key = keys::summary(user, "UTC", day());
    let before = lookup(&cache, &key).await;
    assert_eq!(before.value, None);
    assert_eq!(cache.ask(Stats).await.unwrap().backend, Backend::Redis);

    proxy.set_mode(FaultMode::Down);
    cache.ask(Invalidate { user }).await.unwrap();
    assert_eq!(cache.ask(Stats).await.unwrap().backend, Backend::Memory);
    set(&cache, &key, "stale", TTL, before.version.clone()).await;
    assert_eq!(get(&cache, &key).await, None, "memory stored a stale value");

    proxy.set_mode(FaultMode::Pass);
    let deadline = Instant::now() + Duration::from_secs(10);
    while cache.ask(Stats).await.unwrap().backend != Backend::Redis {
        assert!(Instant::now() < deadline, "Redis never took over again");
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
    set(&cache, &key, "stale", TTL, before.version).await;
    assert_eq!(get(&cache, &key).await, None, "Redis stored a stale value");
    store(&cache, &key, "fresh").await;
    assert_eq!(get(&cache, &key).await.as_deref(), Some("fresh"));
    cache.ask(Invalidate { user }).await.unwrap();
}

/// With Redis cut, a user's value and a job status asked to live 300 s expire within the
/// in-process TTL (here 200 ms, so the test waits little).
#[actix_rt::test]
async fn while_redis_is_down_values_live_only_the_memory_ttl() {
    let proxy = FaultProxy::start("127.0.0.1:6379".parse().unwrap());
    proxy.set_mode(FaultMode::Down);
    let memory_ttl = Duration::from_millis(200);
    let config = CacheConfig {
        memory_ttl,
        ..impatient(&unique_prefix())
    };
    let cache = cache(Some(through(&proxy)), config);
    let user = Uuid::new_v4();
    let keys = [keys::summary(user, "UTC", day()), keys::job(user)];
    for key in &keys {
        let version = lookup(&cache, key).await.version;
        set(&cache, key, "v", Duration::from_secs(300), version).await;
    }
    let stored = Instant::now();
    assert_eq!(cache.ask(Stats).await.unwrap().backend, Backend::Memory);
    for key in &keys {
        assert_eq!(get(&cache, key).await.as_deref(), Some("v"), "{key}");
    }
    let deadline = stored + memory_ttl + Duration::from_secs(3);
    for key in &keys {
        while get(&cache, key).await.is_some() {
            assert!(Instant::now() < deadline, "{key} outlived the memory TTL");
            actix_rt::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

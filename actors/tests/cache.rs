//! The cache actor on its own: values round-trip through Redis under the configured prefix,
//! `Invalidate` drops exactly the user's keys (in Redis and in memory), and without Redis the
//! in-process LRU serves with the same semantics.

use std::time::Duration;

use chrono::NaiveDate;
use scale_actors::cache::keys;
use scale_actors::cache::service::{
    CacheConfig, CacheService, Get, Invalidate, Set, Stats, MEMORY_CAPACITY,
};
use scale_actors::cache::Backend;
use scale_actors::redis_pool::{self, RedisPool};
use scale_actors::{spawn, Handle, Registry, SupervisorConfig};
use uuid::Uuid;

const TTL: Duration = Duration::from_secs(60);

fn cache(redis: Option<RedisPool>, prefix: &str) -> Handle<CacheService> {
    let config = CacheConfig {
        prefix: prefix.to_owned(),
        timeout: Duration::from_secs(2),
        memory_capacity: MEMORY_CAPACITY,
    };
    let registry = Registry::new(SupervisorConfig::default());
    spawn(&registry, move || {
        CacheService::new(redis.clone(), config.clone())
    })
}

async fn set(cache: &Handle<CacheService>, key: &str, value: &str) {
    let msg = Set {
        key: key.to_owned(),
        value: value.to_owned(),
        ttl: TTL,
    };
    cache.ask(msg).await.unwrap();
}

async fn get(cache: &Handle<CacheService>, key: &str) -> Option<String> {
    cache
        .ask(Get {
            key: key.to_owned(),
        })
        .await
        .unwrap()
}

/// Stores an overview, a summary and a category entry for `alice` and `bob`, invalidates
/// `alice`, and checks only `bob`'s entries remain.
async fn invalidation_is_per_user(cache: &Handle<CacheService>) -> (Uuid, Uuid) {
    let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
    let day = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let keys_of = |user| {
        [
            keys::overview(user, "weekly", "Asia/Kolkata", day),
            keys::summary(user, "UTC", day),
            keys::categories(user),
        ]
    };
    for user in [alice, bob] {
        for key in keys_of(user) {
            set(cache, &key, "v").await;
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
    let prefix = format!("scale-test-{}:", Uuid::new_v4());
    let cache = cache(Some(redis.clone()), &prefix);
    let (_, bob) = invalidation_is_per_user(&cache).await;
    let mut conn = redis.get().await.unwrap();
    let mut stored: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut *conn)
        .await
        .unwrap();
    stored.sort();
    let mut expected = vec![
        format!("{prefix}an:{bob}:overview:weekly:Asia/Kolkata:2026-11-25"),
        format!("{prefix}an:{bob}:summary:UTC:2026-11-25"),
        format!("{prefix}cat:{bob}"),
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
    assert_eq!((stats.hits, stats.misses), (9, 3));
    assert_eq!(stats.memory_entries, 0);
    redis::cmd("DEL")
        .arg(expected)
        .query_async::<i64>(&mut *conn)
        .await
        .unwrap();
}

#[actix_rt::test]
async fn without_redis_the_memory_cache_behaves_the_same() {
    let cache = cache(None, "unused:");
    invalidation_is_per_user(&cache).await;
    let stats = cache.ask(Stats).await.unwrap();
    assert_eq!(stats.backend, Backend::Memory);
    assert_eq!((stats.hits, stats.misses), (9, 3));
    assert_eq!(stats.memory_entries, 3);
}

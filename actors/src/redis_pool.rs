//! The Redis connection pool (bb8-redis). Redis is optional: the pool is built lazily, so the
//! service starts and serves (degraded) while Redis is down.

use std::time::Duration;

use bb8_redis::RedisConnectionManager;

/// A bb8 pool of Redis connections.
pub type RedisPool = bb8::Pool<RedisConnectionManager>;

/// Builds a pool for `url` without connecting; fails only on a malformed URL.
pub fn connect(url: &str, connection_timeout: Duration) -> Result<RedisPool, String> {
    let manager = RedisConnectionManager::new(url).map_err(|e| e.to_string())?;
    Ok(bb8::Pool::builder()
        .max_size(16)
        .connection_timeout(connection_timeout)
        .build_unchecked(manager))
}

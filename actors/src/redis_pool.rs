//! The Redis connection pool (bb8-redis). Redis is optional: the pool is built lazily, so the
//! service starts and serves (degraded) while Redis is down.

use std::time::Duration;

use bb8_redis::RedisConnectionManager;

use crate::per_thread::PerThread;

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

/// A pool for `url` per thread that uses it, so a hot path's Redis round trip stays on its
/// thread (see [`crate::per_thread`]); fails only on a malformed URL.
pub fn per_thread(url: &str, connection_timeout: Duration) -> Result<PerThread<RedisPool>, String> {
    connect(url, connection_timeout)?;
    let url = url.to_owned();
    Ok(PerThread::new(move || {
        connect(&url, connection_timeout).expect("the URL was parsed once already")
    }))
}

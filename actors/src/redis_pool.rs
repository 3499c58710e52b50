//! The Redis connection pool (bb8-redis). Redis is optional: the pool is built lazily, so the
//! service starts and serves (degraded) while Redis is down.

use std::time::Duration;

pub use bb8::ErrorSink;
use bb8_redis::redis::RedisError;
use bb8_redis::RedisConnectionManager;

use scale_supervision::PerThread;

/// A bb8 pool of Redis connections.
pub type RedisPool = bb8::Pool<RedisConnectionManager>;

/// Builds a pool for `url` without connecting; fails only on a malformed URL.
pub fn connect(url: &str, connection_timeout: Duration) -> Result<RedisPool, String> {
    Ok(builder(connection_timeout).build_unchecked(manager(url)?))
}

/// A pool for `url` per thread that uses it, so a hot path's Redis round trip stays on its
/// thread (see [`PerThread`]); each pool reports to `errors` what it does not return
/// to callers (a failed connection attempt, a failed check of an idle connection), which a
/// checkout otherwise only sees as waiting until `connection_timeout`. Fails only on a
/// malformed URL.
pub fn per_thread(
    url: &str,
    connection_timeout: Duration,
    errors: Box<dyn ErrorSink<RedisError>>,
) -> Result<PerThread<RedisPool>, String> {
    manager(url)?;
    let url = url.to_owned();
    Ok(PerThread::new(move || {
        builder(connection_timeout)
            .error_sink(errors.boxed_clone())
            .build_unchecked(manager(&url).expect("the URL was parsed once already"))
    }))
}

fn manager(url: &str) -> Result<RedisConnectionManager, String> {
    RedisConnectionManager::new(url).map_err(|e| e.to_string())
}

fn builder(connection_timeout: Duration) -> bb8::Builder<RedisConnectionManager> {
    bb8::Pool::builder()
        .max_size(16)
        .connection_timeout(connection_timeout)
}

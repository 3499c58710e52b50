//! The Postgres connection pool (diesel-async over tokio-postgres, pooled by bb8).

use std::time::Duration;

use diesel_async::pooled_connection::{bb8, AsyncDieselConnectionManager};
use diesel_async::AsyncPgConnection;

/// A bb8 pool of async Postgres connections.
pub type PgPool = bb8::Pool<AsyncPgConnection>;

/// Database errors raised while connecting or migrating.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The pool could not be built.
    #[error("cannot build the Postgres pool: {0}")]
    Pool(String),
    /// Connecting to Postgres failed.
    #[error("cannot connect to Postgres: {0}")]
    Connect(String),
    /// A migration failed to apply.
    #[error("migration failed: {0}")]
    Migration(String),
}

/// Builds a pool of at most `max_size` connections. Connections are opened lazily, so this
/// succeeds while Postgres is down; `connection_timeout` bounds how long a checkout may wait.
pub fn connect(url: &str, max_size: u32, connection_timeout: Duration) -> PgPool {
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(url);
    bb8::Pool::builder()
        .max_size(max_size)
        .connection_timeout(connection_timeout)
        .build_unchecked(manager)
}

//! The Postgres connection pool (diesel-async over tokio-postgres, pooled by bb8).

use std::time::Duration;

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::ConnectionError;
use diesel_async::pooled_connection::{
    bb8, AsyncDieselConnectionManager, ManagerConfig, PoolableConnection, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::rls::APP_ROLE;

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
///
/// Every connection runs `SET ROLE scale_app` ([`APP_ROLE`]) as soon as it is opened, so the
/// service acts as a non-superuser that row-level security applies to, whoever `url` logs in
/// as (that user must be a member of the role — the migration grants it). Without the role
/// (migrations not applied) no connection can be made: the pool fails closed.
pub fn connect(url: &str, max_size: u32, connection_timeout: Duration) -> PgPool {
    let mut config = ManagerConfig::default();
    // Check a connection on checkout without a round trip (the default runs `SELECT 1` before
    // every request): a connection whose socket closed (Postgres restarted, backend killed) is
    // known to its driver task and is replaced; one that fails during a query is discarded when
    // it comes back to the pool.
    config.recycling_method =
        RecyclingMethod::CustomFunction(Box::new(|conn: &mut AsyncPgConnection| {
            let closed = conn.is_broken();
            Box::pin(async move {
                if closed {
                    Err(DieselError::DatabaseError(
                        DatabaseErrorKind::ClosedConnection,
                        Box::new("the pooled connection was closed".to_owned()),
                    ))
                } else {
                    Ok(())
                }
            })
        }));
    config.custom_setup = Box::new(|url| {
        let url = url.to_owned();
        Box::pin(async move {
            let mut conn = AsyncPgConnection::establish(&url).await?;
            diesel::sql_query(format!("SET ROLE {APP_ROLE}"))
                .execute(&mut conn)
                .await
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
            Ok(conn)
        })
    });
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
    bb8::Pool::builder()
        .max_size(max_size)
        .connection_timeout(connection_timeout)
        .build_unchecked(manager)
}

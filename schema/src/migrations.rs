//! The SQL migrations in `migrations/`, embedded in the binary and applied in order.

use diesel::Connection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::AsyncPgConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::DbError;

/// Every migration shipped with this build.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations");

/// Applies every pending migration to the database at `url` and returns the versions applied
/// (empty when the schema is already current). Runs on a blocking thread: diesel's migration
/// harness is synchronous. Migrations run as the user `url` logs in as (the tables' owner),
/// not as the application role.
pub async fn run_migrations(url: &str) -> Result<Vec<String>, DbError> {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || run_migrations_blocking(&url))
        .await
        .map_err(|e| DbError::Migration(format!("migration task failed: {e}")))?
}

/// [`run_migrations`] for synchronous callers outside an async runtime (the connection wrapper
/// brings its own); blocks the calling thread.
pub fn run_migrations_blocking(url: &str) -> Result<Vec<String>, DbError> {
    let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(url)
        .map_err(|e| DbError::Connect(e.to_string()))?;
    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .map_err(|e| DbError::Migration(e.to_string()))?;
    Ok(applied.iter().map(ToString::to_string).collect())
}

//! The SQL migrations in `migrations/`, embedded in the binary and applied in order.

use diesel::connection::SimpleConnection;
use diesel::Connection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::AsyncPgConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::DbError;

/// Every migration shipped with this build.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations");

/// The Postgres advisory lock held while migrating, so processes starting together on one
/// database migrate one after the other (the later ones then find nothing pending).
const MIGRATION_LOCK: i64 = 0x5CA1_E000_0001;

/// Applies every pending migration to the database at `url` and returns the versions applied
/// (empty when the schema is already current). Holds a Postgres advisory lock meanwhile, so
/// processes starting at once apply each migration once. Runs on a blocking thread: diesel's migration
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
    // Session-level: released by the unlock below, or when the connection closes on an error.
    advisory(&mut conn, "pg_advisory_lock")?;
    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|applied| applied.iter().map(ToString::to_string).collect())
        .map_err(|e| DbError::Migration(e.to_string()));
    advisory(&mut conn, "pg_advisory_unlock")?;
    applied
}

/// Calls the advisory-lock function `function` on [`MIGRATION_LOCK`].
fn advisory(conn: &mut impl SimpleConnection, function: &str) -> Result<(), DbError> {
    conn.batch_execute(&format!("SELECT {function}({MIGRATION_LOCK})"))
        .map_err(|e| DbError::Migration(format!("migration lock: {e}")))
}

//! SCALE database schema: diesel table definitions, the embedded SQL migrations and the
//! Postgres connection pool shared by every actor.

pub mod migrations;
pub mod pool;
pub mod tables;
#[cfg(feature = "testing")]
pub mod testing;

pub use migrations::run_migrations;
pub use pool::{connect, DbError, PgPool};

//! SCALE database schema: diesel table definitions, the embedded SQL migrations and the
//! Postgres connection pool shared by every actor, and the row-level security user context.

pub mod failure;
pub mod migrations;
pub mod pool;
pub mod rls;
pub mod tables;
#[cfg(feature = "testing")]
pub mod testing;

pub use failure::{checkout, DbFailure};
pub use migrations::run_migrations;
pub use pool::{connect, DbError, PgPool};
pub use rls::{as_user, UserScope, APP_ROLE};

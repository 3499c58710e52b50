//! Test support: a throw-away database per test, created on a live Postgres and dropped after.

use diesel::Connection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::AsyncPgConnection;

/// The server tests run against; override with `SCALE_TEST_PG` (a URL without a database name).
pub fn server_url() -> String {
    std::env::var("SCALE_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// A fresh, empty database that is dropped (with its connections) when this value is dropped.
pub struct TestDatabase {
    name: String,
}

impl TestDatabase {
    /// Creates a uniquely named empty database.
    pub fn create() -> Self {
        let name = format!("scale_test_{}", uuid::Uuid::new_v4().simple());
        admin(&format!("CREATE DATABASE {name}"));
        Self { name }
    }

    /// Creates a uniquely named database with every migration applied (the application role
    /// the pool assumes exists only once migrations ran).
    pub fn migrated() -> Self {
        let db = Self::create();
        let url = db.url();
        std::thread::spawn(move || crate::migrations::run_migrations_blocking(&url))
            .join()
            .expect("migration thread panicked")
            .unwrap_or_else(|e| panic!("migrating {}: {e}", db.name));
        db
    }

    /// The connection URL of this database.
    pub fn url(&self) -> String {
        format!("{}/{}", server_url(), self.name)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        admin(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}

/// Runs one statement on the maintenance database from a thread of its own (outside any async
/// runtime, so the connection wrapper brings its own), whatever the caller's context; panics if
/// it fails. For cluster-wide objects a test creates, such as roles.
pub fn admin(sql: &str) {
    let url = format!("{}/postgres", server_url());
    let sql = sql.to_owned();
    std::thread::spawn(move || {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url)
            .unwrap_or_else(|e| panic!("test Postgres at {url} is unreachable: {e}"));
        diesel::RunQueryDsl::execute(diesel::sql_query(&sql), &mut conn)
            .unwrap_or_else(|e| panic!("`{sql}` failed: {e}"));
    })
    .join()
    .expect("admin statement thread panicked");
}

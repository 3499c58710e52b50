//! The embedded migrations against a real, empty Postgres database.

use diesel::migration::MigrationSource;
use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, QueryableByName};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::MigrationHarness;
use scale_schema::migrations::MIGRATIONS;
use scale_schema::testing::{admin, TestDatabase};

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// A migrated database holding one user, [`USER`].
async fn migrated() -> (TestDatabase, AsyncPgConnection) {
    let db = TestDatabase::create();
    scale_schema::run_migrations(&db.url()).await.unwrap();
    let mut conn = AsyncPgConnection::establish(&db.url()).await.unwrap();
    exec(
        &mut conn,
        &format!("INSERT INTO users (id) VALUES ('{USER}')"),
    )
    .await
    .unwrap();
    (db, conn)
}

async fn count(conn: &mut AsyncPgConnection, table: &str) -> i64 {
    let rows: Vec<Count> = diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
        .load(conn)
        .await
        .unwrap();
    rows[0].n
}

async fn names(conn: &mut AsyncPgConnection, sql: &str) -> Vec<String> {
    let rows: Vec<Name> = diesel::sql_query(sql).load(conn).await.unwrap();
    rows.into_iter().map(|r| r.name).collect()
}

fn assert_has(found: &[String], expected: &[&str]) {
    for name in expected {
        assert!(
            found.iter().any(|f| f == name),
            "{name} missing from {found:?}"
        );
    }
}

async fn exec(conn: &mut AsyncPgConnection, sql: &str) -> Result<usize, String> {
    diesel::sql_query(sql)
        .execute(conn)
        .await
        .map_err(|e| e.to_string())
}

const USER: &str = "11111111-1111-1111-1111-111111111111";

#[tokio::test]
async fn processes_starting_at_once_apply_them_once_without_colliding() {
    let db = TestDatabase::create();
    let url = db.url();
    // As several `scale serve` starting together on an empty database: each its own connection.
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || scale_schema::migrations::run_migrations_blocking(&url))
        })
        .collect();
    let mut applied = Vec::new();
    for run in runs {
        applied.push(run.join().unwrap().expect("a concurrent run failed"));
    }
    let shipped = MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
        .unwrap()
        .len();
    let total: usize = applied.iter().map(Vec::len).sum();
    assert_eq!(
        total, shipped,
        "each migration applied exactly once: {applied:?}"
    );
}

#[tokio::test]
async fn apply_to_an_empty_database_and_are_idempotent() {
    let db = TestDatabase::create();
    let first = scale_schema::run_migrations(&db.url()).await.unwrap();
    assert!(!first.is_empty());
    let second = scale_schema::run_migrations(&db.url()).await.unwrap();
    assert!(second.is_empty(), "second run applied {second:?}");

    let mut conn = AsyncPgConnection::establish(&db.url()).await.unwrap();
    let tables = names(
        &mut conn,
        "SELECT table_name::text AS name FROM information_schema.tables \
         WHERE table_schema = 'public' ORDER BY 1",
    )
    .await;
    assert_has(
        &tables,
        &[
            "training_corrections",
            "training_jobs",
            "transactions",
            "upload_chunks",
            "uploaded_files",
            "users",
        ],
    );
    let indexes = names(
        &mut conn,
        "SELECT indexname::text AS name FROM pg_indexes WHERE schemaname = 'public'",
    )
    .await;
    assert_has(
        &indexes,
        &[
            "idx_transactions_user_keyset",
            "idx_transactions_user_merchant",
            "idx_transactions_user_amount",
            "idx_transactions_raw_data",
            "transactions_user_fingerprint_key",
            "uq_training_jobs_active",
            "idx_training_jobs_pending",
        ],
    );
    let columns = names(
        &mut conn,
        "SELECT column_name::text AS name FROM information_schema.columns WHERE table_name = 'transactions'",
    )
    .await;
    assert_has(
        &columns,
        &[
            "type",
            "fingerprint",
            "fingerprint_version",
            "is_manual",
            "original_category",
            "raw_data",
        ],
    );
}

#[tokio::test]
async fn one_active_job_per_user_and_kind() {
    let (_db, mut conn) = migrated().await;
    let job = |kind: &str, status: &str| {
        let lease = if status == "processing" {
            "now() + interval '1 minute'"
        } else {
            "NULL"
        };
        format!("INSERT INTO training_jobs (user_id, kind, status, lease_until) VALUES ('{USER}', '{kind}', '{status}', {lease})")
    };
    exec(&mut conn, &job("categorizer", "pending"))
        .await
        .unwrap();
    let err = exec(&mut conn, &job("categorizer", "processing"))
        .await
        .unwrap_err();
    assert!(err.contains("uq_training_jobs_active"), "{err}");
    // Another kind, or finished jobs of the same kind, are fine.
    exec(&mut conn, &job("forecaster", "processing"))
        .await
        .unwrap();
    exec(&mut conn, &job("categorizer", "completed"))
        .await
        .unwrap();
    exec(&mut conn, &job("categorizer", "failed"))
        .await
        .unwrap();
    // Unknown statuses are refused, and a processing job must hold a lease.
    for bad in [
        format!("INSERT INTO training_jobs (user_id, kind, status) VALUES ('{USER}', 'categorizer', 'bogus')"),
        "UPDATE training_jobs SET lease_until = NULL WHERE status = 'processing'".to_owned(),
    ] {
        let err = exec(&mut conn, &bad).await.unwrap_err();
        assert!(err.contains("check"), "{err}");
    }
    assert_eq!(count(&mut conn, "training_jobs").await, 4);
}

#[tokio::test]
async fn transactions_reject_zero_amounts_wrong_types_and_duplicate_fingerprints() {
    let (_db, mut conn) = migrated().await;
    let row = |amount: &str, kind: &str, fp: char| {
        format!(
            "INSERT INTO transactions (user_id, transaction_date, amount, type, fingerprint, fingerprint_version) \
             VALUES ('{USER}', '2026-01-31', {amount}, '{kind}', '{}', 2)",
            fp.to_string().repeat(64)
        )
    };
    exec(&mut conn, &row("-12.50", "debit", 'a')).await.unwrap();
    assert!(exec(&mut conn, &row("0", "credit", 'b'))
        .await
        .unwrap_err()
        .contains("check"));
    assert!(exec(&mut conn, &row("5", "debit", 'c'))
        .await
        .unwrap_err()
        .contains("check"));
    let dup = exec(&mut conn, &row("7", "credit", 'a')).await.unwrap_err();
    assert!(dup.contains("transactions_user_fingerprint_key"), "{dup}");
    // Deleting the user removes their rows.
    exec(&mut conn, &format!("DELETE FROM users WHERE id = '{USER}'"))
        .await
        .unwrap();
    assert_eq!(count(&mut conn, "transactions").await, 0);
}

/// A role of the cluster, dropped with this value (declare it before the databases it owns
/// objects in, so they are dropped first).
struct ClusterRole(String);

impl ClusterRole {
    fn create() -> Self {
        let name = format!("scale_owner_{}", uuid::Uuid::new_v4().simple());
        admin(&format!("CREATE ROLE {name} NOLOGIN"));
        Self(name)
    }
}

impl Drop for ClusterRole {
    fn drop(&mut self) {
        admin(&format!("DROP ROLE IF EXISTS {}", self.0));
    }
}

const CASE_MIGRATION: &str = "email_case_insensitive";

/// A synchronous connection, for diesel's migration harness (call it off the runtime).
fn blocking(url: &str) -> AsyncConnectionWrapper<AsyncPgConnection> {
    <AsyncConnectionWrapper<AsyncPgConnection> as Connection>::establish(url).unwrap()
}

#[tokio::test]
async fn emails_become_unique_whatever_their_case_keeping_the_oldest_address() {
    let owner = ClusterRole::create();
    let db = TestDatabase::create();
    // Every migration before the e-mail one, as the superuser.
    let url = db.url();
    tokio::task::spawn_blocking(move || {
        let mut conn = blocking(&url);
        loop {
            let pending = conn.pending_migrations(MIGRATIONS).unwrap();
            let next = pending
                .into_iter()
                .next()
                .expect("the e-mail migration is embedded");
            if next.name().to_string().ends_with(CASE_MIGRATION) {
                break;
            }
            conn.run_migration(next.as_ref()).unwrap();
        }
    })
    .await
    .unwrap();
    let mut conn = AsyncPgConnection::establish(&db.url()).await.unwrap();
    let users = [
        (1, Some("A@X.com"), "2026-01-01"),
        (2, Some("a@x.COM"), "2026-01-02"),
        (3, Some(" a@x.com "), "2026-01-01 12:00"),
        (4, Some("Other@Example.org"), "2026-01-04"),
        (5, None, "2026-01-05"),
        (6, Some("  "), "2026-01-06"),
    ];
    for (n, email, created) in users {
        let email = email.map_or("NULL".to_owned(), |e| format!("'{e}'"));
        let sql = format!(
            "INSERT INTO users (id, email, created_at) VALUES \
             ('00000000-0000-0000-0000-00000000000{n}', {email}, '{created}')"
        );
        exec(&mut conn, &sql).await.unwrap();
    }
    // The rest run as the tables' owner who is no superuser, as in production: row-level
    // security (FORCE) applies to it.
    let role = owner.0.clone();
    for sql in [
        format!(
            "DO $$ DECLARE t text; BEGIN \
             FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP \
             EXECUTE format('ALTER TABLE %I OWNER TO {role}', t); END LOOP; END $$"
        ),
        format!("GRANT CREATE ON SCHEMA public TO {role}"),
    ] {
        exec(&mut conn, &sql).await.unwrap();
    }
    let url = db.url();
    let applied = tokio::task::spawn_blocking(move || {
        let mut conn = blocking(&url);
        diesel::RunQueryDsl::execute(diesel::sql_query(format!("SET ROLE {role}")), &mut conn)
            .unwrap();
        conn.run_pending_migrations(MIGRATIONS)
            .map(|applied| applied.len())
            .map_err(|e| e.to_string())
    })
    .await
    .unwrap();
    assert!(applied.unwrap() >= 1);

    let emails = names(
        &mut conn,
        "SELECT coalesce(email, '-') AS name FROM users ORDER BY id",
    )
    .await;
    assert_eq!(emails, ["a@x.com", "-", "-", "other@example.org", "-", "-"]);
    let err = exec(
        &mut conn,
        "UPDATE users SET email = 'A@x.Com' WHERE id = '00000000-0000-0000-0000-000000000005'",
    )
    .await
    .unwrap_err();
    assert!(err.contains("users_email_lower_key"), "{err}");
    let forced = names(
        &mut conn,
        "SELECT relforcerowsecurity::text AS name FROM pg_class WHERE relname = 'users'",
    )
    .await;
    assert_eq!(forced, ["true"]);
}

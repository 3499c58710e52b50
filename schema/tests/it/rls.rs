//! Row-level security against a real Postgres: what the pool's connections (the application
//! role) can see and write inside and outside a user context.

use std::time::Duration;

use diesel::sql_types::{BigInt, Bool, Text};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use scale_schema::testing::TestDatabase;
use scale_schema::{as_user, PgPool, UserScope, APP_ROLE};
use uuid::Uuid;

const TABLES: [&str; 8] = [
    "users",
    "transactions",
    "uploaded_files",
    "upload_chunks",
    "training_jobs",
    "training_corrections",
    "anomaly_alerts",
    "anomaly_settings",
];

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Session {
    #[diesel(sql_type = Text)]
    role: String,
    #[diesel(sql_type = Bool)]
    superuser: bool,
    #[diesel(sql_type = Bool)]
    bypass_rls: bool,
}

/// A migrated database holding one row per user table for each of two users, and a pool of
/// one connection (so every checkout reuses the same session).
async fn two_users() -> (TestDatabase, PgPool, Uuid, Uuid) {
    let db = TestDatabase::migrated();
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let mut owner = AsyncPgConnection::establish(&db.url()).await.unwrap();
    for (user, fp) in [(a, 'a'), (b, 'b')] {
        let fp = fp.to_string().repeat(64);
        for sql in [
            format!("INSERT INTO users (id) VALUES ('{user}')"),
            format!(
                "INSERT INTO uploaded_files (user_id, file_hash, upload_type) \
                 VALUES ('{user}', '{fp}', 'import')"
            ),
            format!(
                "INSERT INTO upload_chunks (uploaded_file_id, generation, chunk_index, user_id, \
                 rows_hash) SELECT id, 0, 0, user_id, '{fp}' FROM uploaded_files \
                 WHERE user_id = '{user}'"
            ),
            format!(
                "INSERT INTO transactions (user_id, transaction_date, amount, type, fingerprint, \
                 fingerprint_version) VALUES ('{user}', '2026-01-31', -5, 'debit', '{fp}', 2)"
            ),
            format!("INSERT INTO training_jobs (user_id, kind) VALUES ('{user}', 'categorizer')"),
            format!(
                "INSERT INTO training_corrections (user_id, description, corrected_category) \
                 VALUES ('{user}', 'SWIGGY', 'Food')"
            ),
            format!(
                "INSERT INTO anomaly_alerts (user_id, id, type, severity, transaction_ids, \
                 period_key, date, amount, score, message) VALUES ('{user}', '{fp}', \
                 'daily_spend_spike', 'medium', '{{}}', '2026-01-31', '2026-01-31', -5, 4.2, 'x')"
            ),
            format!("INSERT INTO anomaly_settings (user_id, thresholds) VALUES ('{user}', '{{}}')"),
        ] {
            diesel::sql_query(sql).execute(&mut owner).await.unwrap();
        }
    }
    // The owner (a superuser here) bypasses RLS: both users' rows are really there.
    for table in TABLES {
        assert_eq!(count(&mut owner, table, "").await.unwrap(), 2, "{table}");
    }
    let pool = scale_schema::connect(&db.url(), 1, Duration::from_secs(5));
    (db, pool, a, b)
}

/// `SELECT count(*) FROM <table> <rest>`.
async fn count(
    conn: &mut AsyncPgConnection,
    table: &str,
    rest: &str,
) -> Result<i64, diesel::result::Error> {
    let rows: Vec<Count> = diesel::sql_query(format!("SELECT count(*) AS n FROM {table} {rest}"))
        .load(conn)
        .await?;
    Ok(rows[0].n)
}

#[tokio::test]
async fn pooled_connections_act_as_the_app_role_which_is_no_superuser() {
    let (_db, pool, _, _) = two_users().await;
    let mut conn = pool.get().await.unwrap();
    let session: Session = diesel::sql_query(
        "SELECT current_user::text AS role, rolsuper AS superuser, rolbypassrls AS bypass_rls \
         FROM pg_roles WHERE rolname = current_user",
    )
    .get_result(&mut *conn)
    .await
    .unwrap();
    assert_eq!(session.role, APP_ROLE);
    assert!(!session.superuser && !session.bypass_rls);
}

#[tokio::test]
async fn unscoped_queries_in_a_user_context_see_only_that_users_rows() {
    let (_db, pool, a, b) = two_users().await;
    let mut conn = pool.get().await.unwrap();
    for user in [a, b] {
        as_user::<_, diesel::result::Error, _>(&mut conn, user, async |conn| {
            for table in TABLES {
                // Deliberately no WHERE: the policy alone scopes the rows.
                assert_eq!(count(conn, table, "").await?, 1, "{table}");
                let owner = if table == "users" { "id" } else { "user_id" };
                let mine = format!("WHERE {owner} = '{user}'");
                assert_eq!(count(conn, table, &mine).await?, 1, "{table}");
            }
            Ok(())
        })
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn without_a_user_context_nothing_is_visible() {
    let (_db, pool, a, _) = two_users().await;
    let mut conn = pool.get().await.unwrap();
    for table in TABLES {
        assert_eq!(count(&mut conn, table, "").await.unwrap(), 0, "{table}");
    }
    // Once a context ended, the same session reads the setting as '' and still sees nothing.
    as_user::<_, diesel::result::Error, _>(&mut conn, a, async |conn| {
        assert_eq!(count(conn, "transactions", "").await?, 1);
        Ok(())
    })
    .await
    .unwrap();
    for table in TABLES {
        assert_eq!(count(&mut conn, table, "").await.unwrap(), 0, "{table}");
    }
}

#[tokio::test]
async fn writes_for_another_user_are_refused_and_unscoped_deletes_stay_scoped() {
    let (db, pool, a, b) = two_users().await;
    let mut conn = pool.get().await.unwrap();
    for sql in [
        format!(
            "INSERT INTO transactions (user_id, transaction_date, amount, type, fingerprint, \
             fingerprint_version) VALUES ('{b}', '2026-02-01', 7, 'credit', '{}', 2)",
            "c".repeat(64)
        ),
        format!("INSERT INTO users (id) VALUES ('{}')", Uuid::new_v4()),
        format!("UPDATE transactions SET user_id = '{b}'"),
    ] {
        let err = as_user(&mut conn, a, async |conn| {
            diesel::sql_query(&sql).execute(conn).await
        })
        .await
        .unwrap_err();
        assert!(
            err.to_string().contains("row-level security"),
            "{sql}: {err}"
        );
    }
    // An unscoped DELETE removes the context user's rows only.
    let deleted = as_user(&mut conn, a, async |conn| {
        diesel::sql_query("DELETE FROM transactions")
            .execute(conn)
            .await
    })
    .await
    .unwrap();
    assert_eq!(deleted, 1);
    let mut owner = AsyncPgConnection::establish(&db.url()).await.unwrap();
    let left = format!("WHERE user_id = '{b}'");
    assert_eq!(count(&mut owner, "transactions", &left).await.unwrap(), 1);
    assert_eq!(count(&mut owner, "transactions", "").await.unwrap(), 1);
}

#[tokio::test]
async fn a_failed_context_rolls_back_leaves_no_setting_and_contexts_do_not_nest() {
    let (_db, pool, a, _) = two_users().await;
    let mut conn = pool.get().await.unwrap();
    let failed = as_user(&mut conn, a, async |conn| {
        diesel::sql_query("DELETE FROM transactions")
            .execute(conn)
            .await?;
        diesel::sql_query("SELECT 1 / 0").execute(conn).await
    })
    .await;
    assert!(failed.is_err());
    // The same session: the setting is gone and the delete was rolled back.
    assert_eq!(count(&mut conn, "transactions", "").await.unwrap(), 0);
    let kept = as_user::<_, diesel::result::Error, _>(&mut conn, a, async |conn| {
        count(conn, "transactions", "").await
    })
    .await
    .unwrap();
    assert_eq!(kept, 1);
    let nested = as_user(&mut conn, a, async |conn| {
        as_user(conn, a, async |_| Ok(())).await
    })
    .await;
    assert!(matches!(
        nested,
        Err(diesel::result::Error::AlreadyInTransaction)
    ));
}

#[derive(QueryableByName)]
struct Settings {
    #[diesel(sql_type = Text)]
    user_id: String,
    #[diesel(sql_type = Text)]
    plans: String,
}

async fn settings(conn: &mut AsyncPgConnection) -> diesel::QueryResult<Settings> {
    diesel::sql_query(
        "SELECT current_setting('app.user_id', true) AS user_id, \
         current_setting('plan_cache_mode') AS plans",
    )
    .get_result(conn)
    .await
}

#[tokio::test]
async fn a_scope_sets_its_user_and_plans_only_inside_its_transaction() {
    let (_db, pool, a, _) = two_users().await;
    let mut conn = pool.get().await.unwrap();
    let inside = as_user(&mut conn, UserScope::new(a).with_generic_plans(), settings)
        .await
        .unwrap();
    assert_eq!(inside.user_id, a.to_string());
    assert_eq!(inside.plans, "force_generic_plan");
    let plain = as_user(&mut conn, a, settings).await.unwrap();
    assert_eq!(plain.user_id, a.to_string());
    assert_eq!(plain.plans, "auto");
    let after = settings(&mut conn).await.unwrap();
    assert_eq!(after.user_id, "");
    assert_eq!(after.plans, "auto");
}

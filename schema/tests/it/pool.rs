//! The Postgres pool against a real server: checkout costs no round trip, and a connection
//! whose backend went away is replaced.

use std::time::{Duration, Instant};

use diesel::sql_types::{Integer, Text};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use scale_schema::testing::TestDatabase;
use scale_schema::PgPool;

#[derive(QueryableByName)]
struct Pid {
    #[diesel(sql_type = Integer)]
    pid: i32,
}

#[derive(QueryableByName)]
struct Activity {
    #[diesel(sql_type = Text)]
    query: String,
}

/// The backend pid of the pool's (only) connection, asked with a recognisable statement.
async fn backend_pid(pool: &PgPool) -> diesel::QueryResult<i32> {
    let mut conn = pool.get().await.expect("a connection");
    let row: Pid = diesel::sql_query("SELECT pg_backend_pid() AS pid /* pool-test */")
        .get_result(&mut *conn)
        .await?;
    Ok(row.pid)
}

/// A superuser connection, outside the pool.
async fn admin(db: &TestDatabase) -> AsyncPgConnection {
    AsyncPgConnection::establish(&db.url()).await.unwrap()
}

#[tokio::test]
async fn a_checkout_sends_nothing_to_postgres() {
    let db = TestDatabase::migrated();
    let pool = scale_schema::connect(&db.url(), 1, Duration::from_secs(5));
    let pid = backend_pid(&pool).await.unwrap();
    // Check the connection out and back in without using it.
    drop(pool.get().await.unwrap());
    let last: Activity = diesel::sql_query("SELECT query FROM pg_stat_activity WHERE pid = $1")
        .bind::<Integer, _>(pid)
        .get_result(&mut admin(&db).await)
        .await
        .unwrap();
    assert!(
        last.query.contains("pool-test"),
        "the checkout ran `{}`",
        last.query
    );
}

#[tokio::test]
async fn a_connection_whose_backend_was_terminated_is_replaced() {
    let db = TestDatabase::migrated();
    let pool = scale_schema::connect(&db.url(), 1, Duration::from_secs(5));
    let pid = backend_pid(&pool).await.unwrap();
    diesel::sql_query("SELECT pg_terminate_backend($1)")
        .bind::<Integer, _>(pid)
        .execute(&mut admin(&db).await)
        .await
        .unwrap();
    // The driver notices the closed socket on its own; until its task has run (on a loaded
    // machine that can take a second scheduling round), a query may still fail on the dead
    // connection, which the pool then drops. It must never keep handing it out.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut failures = 0;
    let fresh = loop {
        match backend_pid(&pool).await {
            Ok(fresh) => break fresh,
            Err(_) => failures += 1,
        }
        assert!(Instant::now() < deadline, "never replaced");
        tokio::task::yield_now().await;
    };
    assert_ne!(fresh, pid);
    assert!(failures <= 2, "{failures} failed queries");
}

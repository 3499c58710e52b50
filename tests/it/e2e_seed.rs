//! `scale seed` on a fresh database: each demo user's statements are imported through the real
//! pipeline and the API shows them, categorised, to that user alone; seeding again with the
//! same arguments changes nothing.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use scale_schema::testing::TestDatabase;
use serde_json::Value;

use crate::common::Server;
use crate::e2e_backup::scale;

const SEED: [&str; 9] = [
    "seed",
    "--users",
    "2",
    "--months",
    "2",
    "--seed",
    "5",
    "--until",
    "2026-11-20",
];

/// Rows of the tables an import writes.
async fn counts(url: &str) -> Vec<i64> {
    let (db, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let mut counts = Vec::new();
    for table in ["users", "transactions", "uploaded_files"] {
        let row = db
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await
            .unwrap();
        counts.push(row.get(0));
    }
    counts
}

/// Every transaction the API lists to `token`'s user, page by page.
async fn transactions(server: &Server, token: &str) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut query = String::new();
    loop {
        let page: Value = server
            .get_as(token, &format!("/accounts/transactions?limit=200{query}"))
            .await
            .json()
            .await
            .unwrap();
        rows.extend(page["transactions"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => query = format!("&cursor={cursor}"),
            None => return rows,
        }
    }
}

#[tokio::test]
async fn seeded_users_see_their_categorised_statements_and_a_second_seed_changes_nothing() {
    let db = TestDatabase::create();
    let users = scale(&SEED, &db.url()).unwrap();
    assert_eq!(users.len(), 2, "{users:?}");
    let server = Server::start(&db.url(), &[]);
    let mut seen = BTreeSet::new();
    for user in &users {
        assert_eq!(user["statements"], 2, "{user}");
        assert_eq!(user["already_imported"], 0, "{user}");
        let inserted = user["inserted"].as_u64().unwrap();
        assert!(inserted > 40, "{user}");
        let token = user["token"].as_str().unwrap();
        let rows = transactions(&server, token).await;
        assert_eq!(rows.len() as u64, inserted, "{user}");
        for row in &rows {
            assert!(seen.insert(row["id"].as_str().unwrap().to_owned()));
        }
        let categorised = rows
            .iter()
            .filter(|r| r["category"].as_str().is_some_and(|c| c != "Misc"))
            .count();
        assert!(
            categorised * 4 >= rows.len() * 3,
            "{categorised} of {}",
            rows.len()
        );
        let salary = rows.iter().find(|r| r["category"] == "Salary");
        assert!(salary.is_some(), "no salary credit: {rows:?}");

        let files: Value = server
            .get_as(token, "/ingest/uploaded-files")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(files.as_array().map(Vec::len), Some(2), "{files}");
    }
    // One user's token never reaches another's rows.
    let other = users[1]["token"].as_str().unwrap();
    let page: Value = server
        .get_as(
            users[0]["token"].as_str().unwrap(),
            "/accounts/transactions?limit=1",
        )
        .await
        .json()
        .await
        .unwrap();
    let first = page["transactions"][0]["id"].as_str().unwrap();
    let res = server
        .get_as(other, &format!("/accounts/transactions/{first}"))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    let before = counts(&db.url()).await;
    let again = scale(&SEED, &db.url()).unwrap();
    for (first, second) in users.iter().zip(&again) {
        assert_eq!(second["user_id"], first["user_id"]);
        assert_eq!(second["already_imported"], 2, "{second}");
        assert_eq!(second["inserted"], 0, "{second}");
    }
    assert_eq!(counts(&db.url()).await, before);
}

#[test]
fn seed_refuses_arguments_out_of_range() {
    for args in [["--users", "0"], ["--months", "0"], ["--months", "6"]] {
        let out = crate::common::cli(&[&["seed"], &args[..]].concat(), &[]);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

//! The import store against a real Postgres database.

use scale_actors::error::CoreError;
use scale_actors::ingest::{store, IngestError};
use scale_schema::testing::TestDatabase;
use scale_statements::fingerprint::hex_sha256;
use scale_statements::pipeline::{parse_file, ParsedStatement};
use uuid::Uuid;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse(name: &str) -> ParsedStatement {
    parse_file(&fixture(name), name, None).unwrap()
}

/// One database per test, with migrations applied.
async fn database() -> (TestDatabase, scale_schema::PgPool) {
    let db = TestDatabase::create();
    scale_schema::run_migrations(&db.url()).await.unwrap();
    let pool = scale_schema::connect(&db.url(), 2, std::time::Duration::from_secs(5));
    (db, pool)
}

#[tokio::test]
async fn import_then_reimport_is_a_no_op() {
    let (_db, pool) = database().await;
    let user = Uuid::new_v4();
    let s = parse("generic_signed_amount.csv");
    let first = store::import(&pool, user, Some("g.csv"), &s, false)
        .await
        .unwrap();
    assert_eq!(first.inserted, 8);
    assert_eq!(first.skipped_duplicates, 0);
    assert_eq!(first.skipped_zero_amount, 1);
    assert_eq!(first.skipped_invalid_date, 1);

    let refused = store::import(&pool, user, Some("g.csv"), &s, false)
        .await
        .unwrap_err();
    assert_eq!(
        refused,
        IngestError::FileAlreadyImported {
            uploaded_file_id: first.uploaded_file_id
        }
    );

    let forced = store::import(&pool, user, Some("g.csv"), &s, true)
        .await
        .unwrap();
    assert_eq!(forced.inserted, 0);
    assert_eq!(forced.skipped_duplicates, 8);
    assert_eq!(forced.uploaded_file_id, first.uploaded_file_id);

    let files = store::uploaded_files(&pool, user).await.unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].inserted, Some(0));
    assert!(store::uploaded_files(&pool, Uuid::new_v4())
        .await
        .unwrap()
        .is_empty());
}

/// A statement of `n` copies of the fixture's first row, each with its own fingerprint.
fn distinct_rows(n: usize) -> ParsedStatement {
    let mut s = parse("generic_signed_amount.csv");
    let template = s.transactions[0].clone();
    s.transactions = (0..n)
        .map(|i| {
            let mut t = template.clone();
            t.fingerprint = hex_sha256(i.to_string().as_bytes());
            t
        })
        .collect();
    s
}

#[tokio::test]
async fn a_failure_mid_import_leaves_nothing_behind() {
    let (_db, pool) = database().await;
    let user = Uuid::new_v4();
    // Enough rows for two batches, the last of which violates a CHECK constraint.
    let mut s = distinct_rows(6_000);
    s.transactions[5_999].currency = "xx";
    let err = store::import(&pool, user, Some("g.csv"), &s, false)
        .await
        .unwrap_err();
    assert!(
        matches!(err, IngestError::Core(CoreError::Database(_))),
        "{err:?}"
    );
    assert!(store::uploaded_files(&pool, user).await.unwrap().is_empty());
    s.transactions.truncate(5_999);
    let ok = store::import(&pool, user, Some("g.csv"), &s, false)
        .await
        .unwrap();
    assert_eq!(ok.inserted, 5_999);
}

#[tokio::test]
async fn a_failure_in_the_first_of_several_batches_rolls_back_and_frees_the_connection() {
    let (_db, pool) = database().await;
    let user = Uuid::new_v4();
    // Three batches; the first fails.
    let mut s = distinct_rows(11_000);
    s.transactions[10].currency = "xx";
    for _ in 0..3 {
        // Every pooled connection comes back usable, out of the failed transaction.
        let err = store::import(&pool, user, Some("g.csv"), &s, false)
            .await
            .unwrap_err();
        assert!(
            matches!(err, IngestError::Core(CoreError::Database(_))),
            "{err:?}"
        );
    }
    assert!(store::uploaded_files(&pool, user).await.unwrap().is_empty());
    s.transactions[10].currency = "INR";
    let ok = store::import(&pool, user, Some("g.csv"), &s, false)
        .await
        .unwrap();
    assert_eq!(ok.inserted, 11_000);
    assert_eq!(store::uploaded_files(&pool, user).await.unwrap().len(), 1);
}

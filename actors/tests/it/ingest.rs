//! The import store against a real Postgres database.

use scale_actors::categorization::brain::Brain;
use scale_actors::categorization::resolve::{Classifier, NoOverrides};
use scale_actors::error::CoreError;
use scale_actors::ingest::store::{self, Batch};
use scale_actors::ingest::streaming::Upload;
use scale_actors::ingest::uploads::{self, UploadRecord};
use scale_actors::ingest::{streaming, IngestError};
use scale_schema::testing::TestDatabase;
use scale_statements::error::StatementError;
use scale_statements::fingerprint::{hex_sha256, Fingerprint};
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
    let first = store::import_parsed(
        &pool,
        &Brain::shipped(),
        user,
        Some("g.csv"),
        s.clone(),
        false,
    )
    .await
    .unwrap();
    assert_eq!(first.inserted, 8);
    assert_eq!(first.skipped_duplicates, 0);
    assert_eq!(first.skipped_zero_amount, 1);
    assert_eq!(first.skipped_invalid_date, 1);

    let refused = store::import_parsed(
        &pool,
        &Brain::shipped(),
        user,
        Some("g.csv"),
        s.clone(),
        false,
    )
    .await
    .unwrap_err();
    assert_eq!(
        refused,
        IngestError::FileAlreadyImported {
            uploaded_file_id: first.uploaded_file_id
        }
    );

    let forced = store::import_parsed(
        &pool,
        &Brain::shipped(),
        user,
        Some("g.csv"),
        s.clone(),
        true,
    )
    .await
    .unwrap();
    assert_eq!(forced.inserted, 0);
    assert_eq!(forced.skipped_duplicates, 8);
    assert_eq!(forced.uploaded_file_id, first.uploaded_file_id);

    let files = uploads::uploaded_files(&pool, user).await.unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].inserted, Some(0));
    assert!(uploads::uploaded_files(&pool, Uuid::new_v4())
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
            t.fingerprint = Fingerprint::of(i.to_string().as_bytes());
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
    let err = store::import_parsed(
        &pool,
        &Brain::shipped(),
        user,
        Some("g.csv"),
        s.clone(),
        false,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, IngestError::Core(CoreError::Database(_))),
        "{err:?}"
    );
    assert!(uploads::uploaded_files(&pool, user)
        .await
        .unwrap()
        .is_empty());
    s.transactions.truncate(5_999);
    let ok = store::import_parsed(
        &pool,
        &Brain::shipped(),
        user,
        Some("g.csv"),
        s.clone(),
        false,
    )
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
        let err = store::import_parsed(
            &pool,
            &Brain::shipped(),
            user,
            Some("g.csv"),
            s.clone(),
            false,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, IngestError::Core(CoreError::Database(_))),
            "{err:?}"
        );
    }
    assert!(uploads::uploaded_files(&pool, user)
        .await
        .unwrap()
        .is_empty());
    s.transactions[10].currency = "INR";
    let ok = store::import_parsed(
        &pool,
        &Brain::shipped(),
        user,
        Some("g.csv"),
        s.clone(),
        false,
    )
    .await
    .unwrap();
    assert_eq!(ok.inserted, 11_000);
    assert_eq!(uploads::uploaded_files(&pool, user).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_parse_failing_after_rows_were_written_stores_nothing() {
    let (_db, pool) = database().await;
    let user = Uuid::new_v4();
    let s = distinct_rows(6_000);
    let classifier = Classifier::shipped();
    let (sender, chunks) = tokio::sync::mpsc::channel(2);
    sender
        .send(Batch::of(
            s.transactions[..5_000].to_vec(),
            &classifier,
            &NoOverrides,
        ))
        .await
        .unwrap();
    sender
        .send(Batch::of(
            s.transactions[5_000..].to_vec(),
            &classifier,
            &NoOverrides,
        ))
        .await
        .unwrap();
    drop(sender);
    let upload = UploadRecord {
        filename: Some("g.csv"),
        file_hash: &s.file_hash,
        force: false,
        chunk: None,
    };
    let failed = async { Err(IngestError::Statement(StatementError::NoHeaderRow)) };
    let err = store::import(&pool, user, upload, chunks, failed)
        .await
        .unwrap_err();
    assert_eq!(err, IngestError::Statement(StatementError::NoHeaderRow));
    assert!(uploads::uploaded_files(&pool, user)
        .await
        .unwrap()
        .is_empty());
    // Nothing was left behind, so the same rows import in full afterwards.
    let ok = store::import_parsed(&pool, &Brain::shipped(), user, Some("g.csv"), s, false)
        .await
        .unwrap();
    assert_eq!(ok.inserted, 6_000);
}

/// A comma-separated statement of `rows` distinct debits (one a day).
fn long_statement(rows: usize) -> Vec<u8> {
    let mut csv = String::from("Date,Description,Amount\n");
    for i in 0..rows {
        let day =
            chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap() + chrono::Days::new(i as u64);
        csv.push_str(&format!(
            "{},UPI/DR/{i}/SHOP {i},-{}.50\n",
            day.format("%d/%m/%Y"),
            i + 1
        ));
    }
    csv.into_bytes()
}

#[tokio::test]
async fn a_streamed_import_of_several_chunks_stores_every_row_once_with_its_counts() {
    let (_db, pool) = database().await;
    let user = Uuid::new_v4();
    let rows = store::BATCH * 2 + 321;
    let bytes = long_statement(rows);
    let upload = |bytes: &[u8]| Upload {
        bytes: bytes.to_vec(),
        filename: "long.csv".into(),
        password: None,
    };
    let outcome = streaming::import_file(&target(&pool), user, upload(&bytes), false)
        .await
        .unwrap();
    assert_eq!(outcome.inserted, rows);
    assert_eq!(outcome.skipped_duplicates, 0);
    assert_eq!(outcome.file_hash, hex_sha256(&bytes));
    let files = uploads::uploaded_files(&pool, user).await.unwrap();
    assert_eq!(
        (files[0].row_count, files[0].inserted),
        (Some(rows as i32), Some(rows as i32))
    );
    // The parse's first pass already knows the file: refused before any row is written.
    let refused = streaming::import_file(&target(&pool), user, upload(&bytes), false)
        .await
        .unwrap_err();
    assert!(matches!(refused, IngestError::FileAlreadyImported { .. }));
    let forced = streaming::import_file(&target(&pool), user, upload(&bytes), true)
        .await
        .unwrap();
    assert_eq!((forced.inserted, forced.skipped_duplicates), (0, rows));
}

#[tokio::test]
async fn a_streamed_import_reports_a_file_it_cannot_read_and_stores_nothing() {
    let (_db, pool) = database().await;
    let user = Uuid::new_v4();
    let upload = Upload {
        bytes: b"no,header,here\n1,2,3\n".to_vec(),
        filename: "bad.csv".into(),
        password: None,
    };
    let err = streaming::import_file(&target(&pool), user, upload, false)
        .await
        .unwrap_err();
    assert_eq!(err, IngestError::Statement(StatementError::NoHeaderRow));
    assert!(uploads::uploaded_files(&pool, user)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn every_imported_row_is_categorised_with_what_decided_it() {
    use diesel::prelude::*;
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
    use scale_schema::tables::transactions;

    let (db, pool) = database().await;
    let user = Uuid::new_v4();
    let row = |description: &str, amount: f64, category: Option<&str>| {
        let mut row =
            serde_json::json!({"date": "2025-03-01", "description": description, "amount": amount});
        if let Some(category) = category {
            row["category"] = category.into();
        }
        row.as_object().cloned()
    };
    let rows = vec![
        row(
            "UPI/DR/412345678901/SWIGGY/YESB/swiggy@ybl/Paym",
            -250.0,
            None,
        ),
        row(
            "UPI/DR/5123/RAMESH KUMAR/SBIN/ramesh.k@okaxis/Payment",
            -500.0,
            None,
        ),
        row("12345", -5.0, None),
        row("weekly vegetables", -300.0, Some("grocery")),
        row("SRI LAKSHMI MEDICALS", -320.0, Some("Uncategorized")),
    ];
    let outcome = streaming::import_rows(
        &target(&pool),
        user,
        rows,
        None,
        "c".repeat(64),
        false,
        None,
    )
    .await
    .unwrap();
    assert_eq!(outcome.inserted, 5);
    let mut admin = AsyncPgConnection::establish(&db.url()).await.unwrap();
    let stored: Vec<(String, String, String, bool)> = transactions::table
        .filter(transactions::user_id.eq(user))
        .order(transactions::amount.desc())
        .select((
            transactions::description,
            transactions::category,
            transactions::category_source,
            transactions::needs_review,
        ))
        .load(&mut admin)
        .await
        .unwrap();
    let decided = |description: &str| {
        let (_, category, source, review) = stored.iter().find(|r| r.0 == description).unwrap();
        (category.as_str(), source.as_str(), *review)
    };
    assert_eq!(
        decided("UPI/DR/412345678901/SWIGGY/YESB/swiggy@ybl/Paym"),
        ("Food", "rule", false)
    );
    assert_eq!(
        decided("UPI/DR/5123/RAMESH KUMAR/SBIN/ramesh.k@okaxis/Payment"),
        ("People", "model", false)
    );
    assert_eq!(decided("12345"), ("Uncategorized", "fallback", true));
    // A known category the client sent is kept in its own spelling; `Uncategorized` is not one.
    assert_eq!(decided("weekly vegetables"), ("Grocery", "client", false));
    assert_eq!(decided("SRI LAKSHMI MEDICALS"), ("Health", "rule", false));
}

/// Imports into `pool`, categorised by the shipped brain.
fn target(pool: &scale_schema::PgPool) -> streaming::Target {
    streaming::Target {
        pool: pool.clone(),
        brain: Brain::shipped(),
    }
}

//! Ingestion over HTTP: parse preview, import (multipart and JSON), whole-file de-duplication,
//! per-user isolation, and problem+json for every bad upload.

use actix_web::http::{header, StatusCode};
use actix_web::test;
use scale_http::auth::{mint_token, Role};
use scale_schema::testing::TestDatabase;
use serde_json::{json, Value};
use uuid::Uuid;

mod common;
/// The spreadsheet builders of the actors' tests.
#[path = "../../actors/tests/common/workbooks.rs"]
mod workbooks;

use common::{app, bearer, fixture, multipart, problem, SECRET};

fn upload(path: &str, token: &str, fields: &[(&str, Option<&str>, &[u8])]) -> actix_http::Request {
    let (content_type, body) = multipart(fields);
    test::TestRequest::post()
        .uri(path)
        .insert_header(bearer(token))
        .insert_header((header::CONTENT_TYPE, content_type))
        .set_payload(body)
        .to_request()
}

fn user_token() -> String {
    mint_token(SECRET, Uuid::new_v4(), Role::User, 600)
}

#[actix_rt::test]
async fn parse_previews_without_writing_and_csv_is_an_alias() {
    let db = TestDatabase::create();
    let app = app(&db).await;
    let token = user_token();
    let csv = fixture("generic_signed_amount.csv");
    for path in ["/api/v1/ingest/parse", "/api/v1/ingest/csv"] {
        let res =
            test::call_service(&app, upload(path, &token, &[("file", Some("g.csv"), &csv)])).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = test::read_body_json(res).await;
        assert_eq!(body["count"], 7);
        assert_eq!(body["transactions"].as_array().unwrap().len(), 7);
        assert_eq!(body["transactions"][0]["amount"], 50.0);
        assert_eq!(body["transactions"][0]["category"], "Uncategorized");
        assert_eq!(body["skipped"]["duplicate_in_file"], 1);
        assert_eq!(body["detected_format"], "csv");
    }
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/api/v1/ingest/uploaded-files")
            .insert_header(bearer(&token))
            .to_request(),
    )
    .await;
    let files: Value = test::read_body_json(res).await;
    assert_eq!(files, json!([]), "parse must not write");
}

#[actix_rt::test]
async fn import_dedups_files_and_rows_and_isolates_users() {
    let db = TestDatabase::create();
    let app = app(&db).await;
    let (alice, bob) = (user_token(), user_token());
    let csv = fixture("sbi_statement_with_preamble.csv");
    let file = [("file", Some("sbi.csv"), csv.as_slice())];

    let res = test::call_service(&app, upload("/api/v1/ingest/import", &alice, &file)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = test::read_body_json(res).await;
    assert_eq!(body["inserted"], 6);
    assert_eq!(body["skipped_zero_amount"], 1);
    assert_eq!(body["skipped_invalid_date"], 1);

    let res = test::call_service(&app, upload("/api/v1/ingest/import", &alice, &file)).await;
    let problem_body = problem(res, 409, "file_already_imported").await;
    assert_eq!(problem_body["uploaded_file_id"], body["uploaded_file_id"]);

    let res = test::call_service(
        &app,
        upload("/api/v1/ingest/import?force=true", &alice, &file),
    )
    .await;
    let forced: Value = test::read_body_json(res).await;
    assert_eq!(forced["inserted"], 0);
    assert_eq!(forced["skipped_duplicates"], 6);

    // Bob imports the same file independently and sees only his own upload.
    let res = test::call_service(&app, upload("/api/v1/ingest/import", &bob, &file)).await;
    let bobs: Value = test::read_body_json(res).await;
    assert_eq!(bobs["inserted"], 6);
    for (token, expected) in [(&alice, &body), (&bob, &bobs)] {
        let res = test::call_service(
            &app,
            test::TestRequest::get()
                .uri("/api/v1/ingest/uploaded-files")
                .insert_header(bearer(token))
                .to_request(),
        )
        .await;
        let files: Value = test::read_body_json(res).await;
        assert_eq!(files.as_array().unwrap().len(), 1);
        assert_eq!(files[0]["id"], expected["uploaded_file_id"]);
        assert_eq!(files[0]["upload_type"], "import");
    }
}

#[actix_rt::test]
async fn json_rows_import() {
    let db = TestDatabase::create();
    let app = app(&db).await;
    let token = user_token();
    let body = json!({
        "filename": "export.csv",
        "transactions": [
            {"transaction_date": "2026-01-10", "amount": -250.0, "currency": "INR", "description": "UPI-ZOMATO-67890@okaxis", "merchant_name": "Zomato", "category": "Food", "payment_method": "upi", "status": "completed", "raw_data": {"ref": "R1"}},
            {"transaction_date": "2026-01-11", "amount": 0, "description": "zero"},
            "not an object"
        ]
    });
    let req = || {
        test::TestRequest::post()
            .uri("/api/v1/ingest/import")
            .insert_header(bearer(&token))
            .set_json(&body)
            .to_request()
    };
    let res = test::call_service(&app, req()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let out: Value = test::read_body_json(res).await;
    assert_eq!(out["inserted"], 1);
    assert_eq!(out["skipped_zero_amount"], 1);
    assert_eq!(out["skipped_invalid_row"], 1);
    let res = test::call_service(&app, req()).await;
    problem(res, 409, "file_already_imported").await;

    let bad = test::TestRequest::post()
        .uri("/api/v1/ingest/import")
        .insert_header(bearer(&token))
        .set_json(json!({"transactions": []}))
        .to_request();
    problem(test::call_service(&app, bad).await, 422, "validation").await;
    let bad = test::TestRequest::post()
        .uri("/api/v1/ingest/import")
        .insert_header(bearer(&token))
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .set_payload("{\"transactions\": [")
        .to_request();
    problem(test::call_service(&app, bad).await, 400, "malformed_json").await;
}

#[actix_rt::test]
async fn bad_uploads_are_4xx_problems() {
    let db = TestDatabase::create();
    let app = app(&db).await;
    let token = user_token();
    let junk: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    let truncated_zip = b"PK\x03\x04\x14\x00\x08\x00\x08\x00".to_vec();
    let deep_json = "[".repeat(100_000).into_bytes();
    let long_line = vec![b'x'; 1024 * 1024];
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "report.pdf",
            b"%PDF-1.7".to_vec(),
            400,
            "unsupported_file_type",
        ),
        ("junk.csv", junk, 400, "unreadable_file"),
        ("statement.xlsx", truncated_zip, 400, "unreadable_file"),
        ("deep.json", deep_json, 400, "unreadable_file"),
        ("long.csv", long_line, 400, "no_header_row"),
        ("empty.csv", Vec::new(), 400, "unreadable_file"),
    ];
    for (name, bytes, status, code) in cases {
        for path in ["/api/v1/ingest/parse", "/api/v1/ingest/import"] {
            let res =
                test::call_service(&app, upload(path, &token, &[("file", Some(name), &bytes)]))
                    .await;
            problem(res, status, code).await;
        }
    }
    let big = vec![b'a'; 11 * 1024 * 1024];
    let res = test::call_service(
        &app,
        upload(
            "/api/v1/ingest/import",
            &token,
            &[("file", Some("big.csv"), &big)],
        ),
    )
    .await;
    problem(res, 413, "file_too_large").await;
    // An ignored field counts too, also when no Content-Length announces the body (chunked).
    for path in ["/api/v1/ingest/import", "/api/v1/ingest/parse"] {
        let csv = fixture("generic_signed_amount.csv");
        let mut req = upload(
            path,
            &token,
            &[("file", Some("g.csv"), &csv), ("padding", None, &big)],
        );
        req.headers_mut().remove(header::CONTENT_LENGTH);
        problem(test::call_service(&app, req).await, 413, "file_too_large").await;
    }
    let res = test::call_service(
        &app,
        upload("/api/v1/ingest/parse", &token, &[("password", None, b"x")]),
    )
    .await;
    problem(res, 422, "validation").await;
    let anonymous = test::TestRequest::post()
        .uri("/api/v1/ingest/parse")
        .to_request();
    problem(
        test::call_service(&app, anonymous).await,
        401,
        "missing_credentials",
    )
    .await;
}

#[actix_rt::test]
async fn encrypted_workbooks_need_the_right_password() {
    let db = TestDatabase::create();
    let app = app(&db).await;
    let token = user_token();
    let locked = workbooks::encrypt(&workbooks::sbi_statement(), "test123");
    let file = ("file", Some("statement.xlsx"), locked.as_slice());
    let res = test::call_service(&app, upload("/api/v1/ingest/parse", &token, &[file])).await;
    problem(res, 400, "password_required").await;
    let res = test::call_service(
        &app,
        upload(
            "/api/v1/ingest/parse",
            &token,
            &[file, ("password", None, b"wrong")],
        ),
    )
    .await;
    problem(res, 400, "invalid_password").await;
    let res = test::call_service(
        &app,
        upload(
            "/api/v1/ingest/import",
            &token,
            &[file, ("password", None, b"test123")],
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = test::read_body_json(res).await;
    assert_eq!(body["inserted"], 6);
}

//! Ingestion over HTTP: parse preview, import (multipart and JSON), whole-file de-duplication,
//! per-user isolation, problem+json for every bad upload, NUL characters (refused in requests,
//! stripped from statement files) and the text limits (long text cut and counted).

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::test;
use scale_actors::text::FILENAME;
use scale_schema::testing::TestDatabase;
use scale_statements::text;
use serde_json::{json, Value};

/// The spreadsheet builders of the actors' tests.
#[path = "../../../statements/tests/it/workbooks.rs"]
mod workbooks;

use crate::common::{bearer, fixture, multipart, problem, scalar, user, TestApp};

fn upload(path: &str, token: &str, fields: &[(&str, Option<&str>, &[u8])]) -> actix_http::Request {
    let (content_type, body) = multipart(fields);
    test::TestRequest::post()
        .uri(path)
        .insert_header(bearer(token))
        .insert_header((header::CONTENT_TYPE, content_type))
        .set_payload(body)
        .to_request()
}

/// `GET /ingest/uploaded-files` as `token`.
pub(crate) async fn uploaded_files<S, B>(app: &S, token: &str) -> Value
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let req = test::TestRequest::get()
        .uri("/api/v1/ingest/uploaded-files")
        .insert_header(bearer(token))
        .to_request();
    test::read_body_json(test::call_service(app, req).await).await
}

#[actix_rt::test]
async fn parse_previews_without_writing_and_csv_is_an_alias() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let token = user().1;
    let csv = fixture("generic_signed_amount.csv");
    for path in ["/api/v1/ingest/parse", "/api/v1/ingest/csv"] {
        let res =
            test::call_service(&app, upload(path, &token, &[("file", Some("g.csv"), &csv)])).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = test::read_body_json(res).await;
        assert_eq!(body["count"], 8);
        assert_eq!(body["transactions"].as_array().unwrap().len(), 8);
        assert_eq!(body["transactions"][0]["amount"], 50.0);
        assert_eq!(body["transactions"][0]["category"], "Uncategorized");
        assert_eq!(body["skipped"]["zero_amount"], 1);
        assert_eq!(body["warnings"], json!([]));
        assert_eq!(body["detected_format"], "csv");
    }
    let files = uploaded_files(&app, &token).await;
    assert_eq!(files, json!([]), "parse must not write");
}

#[actix_rt::test]
async fn parse_pages_a_large_file_and_counts_all_of_it() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let token = user().1;
    let csv = fixture("generic_signed_amount.csv");
    let parse = |query: &'static str| {
        upload(
            &format!("/api/v1/ingest/parse{query}"),
            &token,
            &[("file", Some("g.csv"), &csv)],
        )
    };
    let whole: Value = test::read_body_json(test::call_service(&app, parse("")).await).await;
    let res = test::call_service(&app, parse("?offset=2&limit=3")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = test::read_body_json(res).await;
    assert_eq!(
        (body["count"].clone(), body["offset"].clone()),
        (json!(8), json!(2))
    );
    assert_eq!(
        body["transactions"].as_array().unwrap()[..],
        whole["transactions"].as_array().unwrap()[2..5]
    );
    assert_eq!(body["skipped"], whole["skipped"]);
    // Past the end: an empty page, still counted.
    let body: Value =
        test::read_body_json(test::call_service(&app, parse("?offset=100&limit=5")).await).await;
    assert_eq!(
        (body["count"].clone(), body["transactions"].clone()),
        (json!(8), json!([]))
    );
    // Hostile windows are problems, not panics.
    for (query, status, code) in [
        ("?limit=0", 422, "validation"),
        ("?limit=-1", 400, "invalid_query"),
        ("?offset=99999999999999999999999", 400, "invalid_query"),
        ("?limit=%00", 400, "invalid_query"),
    ] {
        problem(test::call_service(&app, parse(query)).await, status, code).await;
    }
}

#[actix_rt::test]
async fn parse_and_import_answers_carry_the_parsers_warnings() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let token = user().1;
    // A card statement that marks only refunds `Cr`: charges become debits, and it says so.
    let card =
        include_bytes!("../../../statements/tests/fixtures/amounts_hdfc_card_cr_refunds.csv");
    let file = [("file", Some("hdfc-card.csv"), card.as_slice())];
    for path in ["/api/v1/ingest/parse", "/api/v1/ingest/import"] {
        let res = test::call_service(&app, upload(path, &token, &file)).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let body: Value = test::read_body_json(res).await;
        let codes: Vec<&str> = body["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["sign_convention_inferred"], "{path}: {body}");
    }
    let debits = scalar(&db, "(SELECT count(*) FROM transactions WHERE amount < 0)").await;
    assert_eq!(debits, "5");
}

#[actix_rt::test]
async fn import_dedups_files_and_rows_and_isolates_users() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let (alice, bob) = (user().1, user().1);
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
        let files = uploaded_files(&app, token).await;
        assert_eq!(files.as_array().unwrap().len(), 1);
        assert_eq!(files[0]["id"], expected["uploaded_file_id"]);
        assert_eq!(files[0]["upload_type"], "import");
    }
}

#[actix_rt::test]
async fn json_rows_import() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let token = user().1;
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
    let app = TestApp::new(&db).service().await;
    let token = user().1;
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
    let app = TestApp::new(&db).service().await;
    let token = user().1;
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

fn json_import(token: &str, body: &Value) -> actix_http::Request {
    test::TestRequest::post()
        .uri("/api/v1/ingest/import?force=true")
        .insert_header(bearer(token))
        .set_json(body)
        .to_request()
}

#[actix_rt::test]
async fn nul_characters_are_refused_in_requests_and_stripped_from_statement_files() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let token = user().1;
    let row =
        json!({"transaction_date": "2026-01-10", "amount": -250.0, "description": "UPI-ZOMATO"});
    let with = |field: &str, value: &str| {
        let mut row = row.clone();
        row[field] = json!(value);
        json!({"transactions": [row.clone(), row]})
    };
    let cases = [
        (
            with("description", "TEA\u{0}"),
            "transactions[0].description",
        ),
        (
            with("merchant_name", "\u{0}"),
            "transactions[0].merchant_name",
        ),
        (with("reference", "R\u{0}1"), "transactions[0].reference"),
        (with("category", "Food\u{0}"), "transactions[0].category"),
        (
            with("transaction_date", "2026-01-11\u{0}"),
            "transactions[0].transaction_date",
        ),
        (with("no\u{0}te", "x"), "transactions[0].no\\0te"),
        (
            json!({"transactions": [row, {"amount": -1, "status": "\u{0}"}]}),
            "transactions[1].status",
        ),
        (
            json!({"transactions": [row], "filename": "a\u{0}.csv"}),
            "filename",
        ),
        (
            json!({"transactions": [row], "filename": "a".repeat(FILENAME + 1)}),
            "filename",
        ),
    ];
    for (body, field) in cases {
        let res = test::call_service(&app, json_import(&token, &body)).await;
        let refused = problem(res, 422, "validation").await;
        let detail = refused["detail"].as_str().unwrap();
        assert!(detail.contains(&format!("`{field}`")), "{field}: {detail}");
    }
    let long_name = format!("{}.csv", "a".repeat(FILENAME));
    let csv = fixture("generic_signed_amount.csv");
    let file = [("file", Some(long_name.as_str()), csv.as_slice())];
    for path in ["/api/v1/ingest/parse", "/api/v1/ingest/import"] {
        let res = test::call_service(&app, upload(path, &token, &file)).await;
        let refused = problem(res, 422, "validation").await;
        assert!(refused["detail"].as_str().unwrap().contains("`filename`"));
    }
    let files = uploaded_files(&app, &token).await;
    assert_eq!(files, json!([]), "a refused import writes nothing");

    // A statement file's cells and keys lose their NULs; the row is kept.
    let statement = br#"[{"Date": "2026-01-12", "Amount": "-99.00",
        "Narration": "UPI-SWIGGY\u0000-ORDER", "Ref\u0000": "R\u00001"}]"#;
    let file = [("file", Some("statement.json"), statement.as_slice())];
    let res = test::call_service(&app, upload("/api/v1/ingest/parse", &token, &file)).await;
    let parsed: Value = test::read_body_json(res).await;
    assert_eq!(parsed["transactions"][0]["description"], "UPI-SWIGGY-ORDER");
    let res = test::call_service(&app, upload("/api/v1/ingest/import", &token, &file)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let out: Value = test::read_body_json(res).await;
    assert_eq!(out["inserted"], 1);
    let stored = scalar(
        &db,
        "(SELECT description || '|' || reference || '|' || (raw_data->'source'->>'Ref') \
         FROM transactions)",
    )
    .await;
    assert_eq!(stored, "UPI-SWIGGY-ORDER|R1|R1");
    use workbooks::{number, text as cell};
    let sheet = workbooks::xlsx(&[
        vec![cell("Date"), cell("Amount"), cell("Description")],
        vec![cell("2026-01-13"), number(-5.0), cell("UPI\0CHAI")],
    ]);
    let file = [("file", Some("statement.xlsx"), sheet.as_slice())];
    let res = test::call_service(&app, upload("/api/v1/ingest/import", &token, &file)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let stored = scalar(
        &db,
        "(SELECT description FROM transactions WHERE transaction_date = '2026-01-13')",
    )
    .await;
    assert_eq!(stored, "UPICHAI");
}

#[actix_rt::test]
async fn over_long_import_text_is_cut_and_counted_and_long_categories_refused() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let token = user().1;
    let row = |amount: i32, description: String, merchant: String, reference: String| {
        json!({"transaction_date": "2026-01-10", "amount": amount, "description": description,
               "merchant_name": merchant, "reference": reference,
               "category": "c".repeat(text::CATEGORY)})
    };
    let body = json!({"transactions": [
        row(-1, "€".repeat(200_000), "Zomato".into(), "R1".into()),
        row(-2, "d".repeat(text::DESCRIPTION), "m".repeat(text::MERCHANT + 50), "r".repeat(text::REFERENCE + 1)),
        row(-3, "TEA".into(), "Chai Point".into(), "R3".into()),
    ]});
    let res = test::call_service(&app, json_import(&token, &body)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let out: Value = test::read_body_json(res).await;
    assert_eq!(out["inserted"], 3);
    assert_eq!(out["truncated_descriptions"], 1);
    assert_eq!(out["truncated_merchant_names"], 1);
    assert_eq!(out["truncated_references"], 1);
    assert_eq!(out["truncated_payment_methods"], 0);
    let lengths =
        "(SELECT string_agg(char_length(description) || ':' || char_length(merchant_name) \
                   || ':' || char_length(reference), ' ' ORDER BY amount DESC) FROM transactions)";
    assert_eq!(scalar(&db, lengths).await, "1000:6:2 1000:100:100 3:10:2");

    let mut long = body.clone();
    long["transactions"][2]["category"] = json!("c".repeat(text::CATEGORY + 1));
    let res = test::call_service(&app, json_import(&token, &long)).await;
    let refused = problem(res, 422, "validation").await;
    assert!(refused["detail"]
        .as_str()
        .unwrap()
        .contains("`transactions[2].category` must be at most 100 characters"));

    // The same limits for statement files, in the preview and in the import.
    let csv = format!(
        "Date,Amount,Description,Merchant,Mode\n2026-02-01,-10,{},{},{}\n2026-02-02,-20,SHORT,Shop,UPI\n",
        "x".repeat(5000),
        "y".repeat(300),
        "z".repeat(200)
    );
    let file = [("file", Some("long.csv"), csv.as_bytes())];
    let res = test::call_service(&app, upload("/api/v1/ingest/parse", &token, &file)).await;
    let parsed: Value = test::read_body_json(res).await;
    assert_eq!(
        parsed["truncated"],
        json!({"description": 1, "merchant_name": 1, "reference": 0, "payment_method": 1})
    );
    let res = test::call_service(&app, upload("/api/v1/ingest/import", &token, &file)).await;
    let out: Value = test::read_body_json(res).await;
    assert_eq!(out["inserted"], 2);
    assert_eq!(out["truncated_descriptions"], 1);
    assert_eq!(out["truncated_merchant_names"], 1);
    assert_eq!(out["truncated_payment_methods"], 1);
    let longest =
        "(SELECT max(char_length(description)) || ':' || max(char_length(merchant_name)) \
                   || ':' || max(char_length(payment_method)) FROM transactions \
                   WHERE transaction_date >= '2026-02-01')";
    assert_eq!(scalar(&db, longest).await, "1000:100:100");
}

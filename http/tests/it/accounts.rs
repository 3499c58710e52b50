//! The accounts API over HTTP with the real accounts actor and a fresh database per test:
//! keyset pagination (stable while rows are inserted), every filter, bad cursors and limits,
//! manual recategorisation (§5.7), deletes, profile and settings, and a cross-user matrix over
//! every endpoint.

use std::collections::HashSet;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::test;
use scale_actors::text::{EMAIL, FILTER};
use scale_http::auth::Role;
use scale_schema::testing::TestDatabase;
use scale_statements::text;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{
    bearer, execute, expect, problem, scalar, send, try_execute, user_as, TestApp,
};

const LIST: &str = "/api/v1/accounts/transactions";

async fn list<S, B>(app: &S, token: &str, query: &str) -> Value
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    expect(
        app,
        Method::GET,
        &format!("{LIST}?{query}"),
        token,
        None,
        200,
    )
    .await
}

fn ids(page: &Value) -> Vec<String> {
    page["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

fn field(page: &Value, name: &str) -> Vec<String> {
    let mut out: Vec<String> = page["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t[name].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

/// A seeded transaction: date, signed amount, category, merchant, description, status.
type Row<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str, &'a str);

/// Inserts rows for `user` (creating the user) with direct SQL.
async fn seed(db: &TestDatabase, user: Uuid, rows: &[Row<'_>]) {
    let values: Vec<String> = rows
        .iter()
        .map(|(date, amount, category, merchant, description, status)| {
            let kind = if amount.starts_with('-') {
                "debit"
            } else {
                "credit"
            };
            format!(
                "('{user}', '{date}', {amount}, '{kind}', '{description}', '{merchant}', \
                 '{category}', '{status}', md5(random()::text) || md5(random()::text), 2)"
            )
        })
        .collect();
    execute(
        db,
        &format!("INSERT INTO users (id) VALUES ('{user}') ON CONFLICT DO NOTHING"),
    )
    .await;
    execute(
        db,
        &format!(
            "INSERT INTO transactions (user_id, transaction_date, amount, type, description, \
             merchant_name, category, status, fingerprint, fingerprint_version) VALUES {}",
            values.join(", ")
        ),
    )
    .await;
}

/// Inserts `count` debits for `user` spread over the 20 days after `start` (many per day).
async fn seed_many(db: &TestDatabase, user: Uuid, start: &str, count: u32) {
    execute(
        db,
        &format!("INSERT INTO users (id) VALUES ('{user}') ON CONFLICT DO NOTHING"),
    )
    .await;
    execute(
        db,
        &format!(
            "INSERT INTO transactions (user_id, transaction_date, amount, type, description, \
             fingerprint, fingerprint_version) \
             SELECT '{user}', DATE '{start}' + (g % 20), -g - 0.25, 'debit', 'row ' || g, \
                    md5(random()::text) || md5(random()::text), 2 \
             FROM generate_series(1, {count}) AS g"
        ),
    )
    .await;
}

fn sample_rows() -> Vec<Row<'static>> {
    vec![
        (
            "2025-01-05",
            "-450.00",
            "Food",
            "Swiggy",
            "UPI SWIGGY ORDER",
            "completed",
        ),
        (
            "2025-01-10",
            "50000.00",
            "Income",
            "Acme Corp",
            "SALARY ACME",
            "completed",
        ),
        (
            "2025-01-15",
            "-1299.50",
            "Shopping",
            "Amazon",
            "AMAZON 50% OFF SALE",
            "pending",
        ),
        (
            "2025-01-20",
            "-99.99",
            "Entertainment",
            "Netflix",
            "NETFLIX 500 OFF",
            "completed",
        ),
        (
            "2025-02-01",
            "-2000.00",
            "Transport",
            "Uber",
            "UBER_TRIP",
            "failed",
        ),
        (
            "2025-02-10",
            "250.00",
            "Shopping",
            "Amazon",
            "AMAZON REFUND",
            "refunded",
        ),
    ]
}

#[actix_rt::test]
async fn keyset_pages_have_no_gaps_or_duplicates_even_while_rows_are_inserted() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let (alice, token) = user_as(Role::User);
    seed_many(&db, alice, "2025-03-01", 137).await;

    let all = list(&app, &token, "limit=200").await;
    let original = ids(&all);
    assert_eq!(original.len(), 137);
    assert_eq!(all["next_cursor"], Value::Null);
    let first = &all["transactions"][0];
    for key in [
        "id",
        "transaction_date",
        "amount",
        "currency",
        "type",
        "description",
        "merchant_name",
        "category",
        "original_category",
        "payment_method",
        "reference",
        "status",
        "is_manual",
        "created_at",
        "category_source",
        "category_confidence",
        "needs_review",
    ] {
        assert!(first.get(key).is_some(), "missing {key}: {first}");
    }
    assert!(first["amount"].is_number());
    assert_eq!(first["transaction_date"], "2025-03-20");
    assert_eq!(first["currency"], "INR");
    assert_eq!(first["type"], "debit");
    assert_eq!(
        list(&app, &token, "").await["transactions"]
            .as_array()
            .unwrap()
            .len(),
        50,
        "default limit"
    );

    let mut seen = Vec::new();
    let mut keys = Vec::new();
    let mut cursor: Option<String> = None;
    for page_no in 0.. {
        let query = match &cursor {
            Some(c) => format!("limit=10&cursor={c}"),
            None => "limit=10".to_owned(),
        };
        let page = list(&app, &token, &query).await;
        for t in page["transactions"].as_array().unwrap() {
            keys.push((
                t["transaction_date"].as_str().unwrap().to_owned(),
                t["id"].as_str().unwrap().to_owned(),
            ));
        }
        seen.extend(ids(&page));
        if page_no == 1 || page_no == 6 {
            // Newer, older and same-period rows arrive mid-traversal.
            seed_many(&db, alice, "2026-01-01", 15).await;
            seed_many(&db, alice, "2024-01-01", 15).await;
            seed_many(&db, alice, "2025-03-01", 5).await;
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "a row was returned twice");
    for id in &original {
        assert_eq!(
            seen.iter().filter(|s| *s == id).count(),
            1,
            "original row {id} missing or repeated"
        );
    }
    assert!(
        keys.windows(2).all(|w| w[0] > w[1]),
        "pages must be strictly ordered by (date DESC, id DESC)"
    );
}

#[actix_rt::test]
async fn every_filter_narrows_the_list() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let (alice, token) = user_as(Role::User);
    seed(&db, alice, &sample_rows()).await;

    let cases: [(&str, &[&str]); 14] = [
        (
            "date_from=2025-01-15&date_to=2025-02-01",
            &["AMAZON 50% OFF SALE", "NETFLIX 500 OFF", "UBER_TRIP"],
        ),
        ("date_from=2025-02-01", &["AMAZON REFUND", "UBER_TRIP"]),
        ("date_to=2025-01-05", &["UPI SWIGGY ORDER"]),
        ("amount_min=0", &["AMAZON REFUND", "SALARY ACME"]),
        ("amount_max=-1000", &["AMAZON 50% OFF SALE", "UBER_TRIP"]),
        (
            "amount_min=-500&amount_max=-99.99",
            &["NETFLIX 500 OFF", "UPI SWIGGY ORDER"],
        ),
        (
            "category=shopping",
            &["AMAZON 50% OFF SALE", "AMAZON REFUND"],
        ),
        ("merchant=AMAZON", &["AMAZON 50% OFF SALE", "AMAZON REFUND"]),
        ("merchant=amaz", &[]),
        ("type=credit", &["AMAZON REFUND", "SALARY ACME"]),
        ("status=pending", &["AMAZON 50% OFF SALE"]),
        ("q=50%25", &["AMAZON 50% OFF SALE"]),
        ("q=_", &["UBER_TRIP"]),
        ("q=swig", &["UPI SWIGGY ORDER"]),
    ];
    for (query, expected) in cases {
        let page = list(&app, &token, query).await;
        assert_eq!(field(&page, "description"), *expected, "{query}");
    }
    // A merchant search and a combined filter.
    let page = list(&app, &token, "q=acme&type=credit&category=Income").await;
    assert_eq!(field(&page, "description"), ["SALARY ACME"]);
    let salary = &page["transactions"][0];
    assert_eq!(salary["amount"], 50000.0);
    let page = list(&app, &token, "q=netflix").await;
    assert_eq!(page["transactions"][0]["amount"], -99.99);
}

#[actix_rt::test]
async fn invalid_cursor_limit_and_filters_are_problems() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let (alice, token) = user_as(Role::User);
    seed_many(&db, alice, "2025-03-01", 5).await;
    let page = list(&app, &token, "limit=2").await;
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let mut tampered = cursor.clone().into_bytes();
    tampered[5] = if tampered[5] == b'x' { b'y' } else { b'x' };
    let tampered = String::from_utf8(tampered).unwrap();
    for bad in [
        "garbage",
        "%21%21",
        tampered.as_str(),
        &format!("{cursor}AA"),
    ] {
        let res = send(
            &app,
            Method::GET,
            &format!("{LIST}?cursor={bad}"),
            Some(&token),
            None,
        )
        .await;
        problem(res, 400, "invalid_cursor").await;
    }
    for query in [
        "limit=0",
        "limit=201",
        "limit=-5",
        "limit=ten",
        "date_from=2025-13-01",
        "date_to=yesterday",
        "date_from=2025-02-01&date_to=2025-01-01",
        "amount_min=lots",
        "amount_min=10&amount_max=1",
        "type=transfer",
        "status=done",
    ] {
        let res = send(
            &app,
            Method::GET,
            &format!("{LIST}?{query}"),
            Some(&token),
            None,
        )
        .await;
        problem(res, 422, "validation").await;
    }
}

#[actix_rt::test]
async fn recategorising_records_a_correction_and_flips_the_income_sign() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let (alice, token) = user_as(Role::User);
    seed(&db, alice, &sample_rows()[..1]).await;
    let id = ids(&list(&app, &token, "").await)[0].clone();
    let path = format!("{LIST}/{id}");

    let tx = expect(&app, Method::GET, &path, &token, None, 200).await;
    assert_eq!(tx["category"], "Food");
    assert_eq!(tx["original_category"], Value::Null);
    assert_eq!(tx["is_manual"], false);

    // Food → Income: +|a|, credit, manual, original kept, correction upserted.
    let tx = expect(
        &app,
        Method::PATCH,
        &path,
        &token,
        Some(json!({"category": "Income"})),
        200,
    )
    .await;
    assert_eq!(tx["id"], id.as_str());
    assert_eq!(tx["amount"], 450.0);
    assert_eq!(tx["type"], "credit");
    assert_eq!(tx["category"], "Income");
    assert_eq!(tx["original_category"], "Food");
    assert_eq!(tx["is_manual"], true);
    // A manual correction is what decided the category now.
    let decided = format!(
        "SELECT category_source || ' ' || coalesce(category_confidence::text, '-') || ' ' \
         || needs_review FROM transactions WHERE id = '{id}'"
    );
    assert_eq!(scalar(&db, &decided).await, "manual - false");
    let corrections = "SELECT coalesce(string_agg(transaction_id || ' ' || description || ' ' \
        || coalesce(original_category, '-') || '>' || corrected_category, ','), '') \
        FROM training_corrections";
    assert_eq!(
        scalar(&db, corrections).await,
        format!("{id} UPI SWIGGY ORDER Food>Income")
    );

    // Income → Shopping: −|a|, debit; still one correction row, first category kept.
    let tx = expect(
        &app,
        Method::PATCH,
        &path,
        &token,
        Some(json!({"category": "Shopping"})),
        200,
    )
    .await;
    assert_eq!(tx["amount"], -450.0);
    assert_eq!(tx["type"], "debit");
    assert_eq!(tx["original_category"], "Food");
    assert_eq!(
        scalar(&db, corrections).await,
        format!("{id} UPI SWIGGY ORDER Food>Shopping")
    );

    // Other fields alone: no sign change, no new correction.
    let body = json!({"description": "Lunch", "merchant_name": "Swiggy Instamart"});
    let tx = expect(&app, Method::PATCH, &path, &token, Some(body), 200).await;
    assert_eq!(tx["description"], "Lunch");
    assert_eq!(tx["merchant_name"], "Swiggy Instamart");
    assert_eq!(
        (tx["category"].as_str(), tx["amount"].as_f64()),
        (Some("Shopping"), Some(-450.0))
    );
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM training_corrections").await,
        "1"
    );
    let stored = expect(&app, Method::GET, &path, &token, None, 200).await;
    assert_eq!(stored, tx);

    for body in [json!({}), json!({"category": "  "}), json!({"category": 5})] {
        let res = send(&app, Method::PATCH, &path, Some(&token), Some(body)).await;
        problem(res, 422, "validation").await;
    }
    let res = test::call_service(
        &app,
        test::TestRequest::patch()
            .uri(&path)
            .insert_header(bearer(&token))
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .set_payload("{not json")
            .to_request(),
    )
    .await;
    problem(res, 400, "malformed_json").await;
}

#[actix_rt::test]
async fn delete_one_and_delete_all_data() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let (alice, token) = user_as(Role::User);
    // Through the real import path: transactions plus an uploaded_files row.
    let import = json!({"transactions": [
        {"date": "2025-01-02", "description": "SWIGGY", "amount": "-100"},
        {"date": "2025-01-03", "description": "UBER", "amount": "-200"},
        {"date": "2025-01-04", "description": "SALARY", "amount": "5000"},
    ]});
    let body = expect(
        &app,
        Method::POST,
        "/api/v1/ingest/import",
        &token,
        Some(import),
        200,
    )
    .await;
    assert_eq!(body["inserted"], 3);
    // And an open chunked upload, with the record of its first chunk.
    let chunk = json!({
        "filename": "big.csv",
        "file_hash": "d".repeat(64),
        "chunk": {"index": 0, "count": 2},
        "transactions": [{"date": "2025-01-05", "description": "ZOMATO", "amount": "-50"}],
    });
    let import = "/api/v1/ingest/import";
    expect(&app, Method::POST, import, &token, Some(chunk), 200).await;
    let profile = expect(
        &app,
        Method::GET,
        "/api/v1/accounts/profile",
        &token,
        None,
        200,
    )
    .await;

    let all = ids(&list(&app, &token, "").await);
    let path = format!("{LIST}/{}", all[0]);
    expect(
        &app,
        Method::PATCH,
        &format!("{LIST}/{}", all[1]),
        &token,
        Some(json!({"category": "Food"})),
        200,
    )
    .await;
    assert_eq!(
        expect(&app, Method::DELETE, &path, &token, None, 204).await,
        Value::Null
    );
    problem(
        send(&app, Method::GET, &path, Some(&token), None).await,
        404,
        "not_found",
    )
    .await;
    problem(
        send(&app, Method::DELETE, &path, Some(&token), None).await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(ids(&list(&app, &token, "").await), all[1..]);

    execute(
        &db,
        &format!("INSERT INTO training_jobs (user_id, kind) VALUES ('{alice}', 'categorizer')"),
    )
    .await;
    let count = |table: &str| format!("SELECT count(*) FROM {table} WHERE user_id = '{alice}'");
    for table in [
        "transactions",
        "uploaded_files",
        "upload_chunks",
        "training_jobs",
        "training_corrections",
    ] {
        assert_ne!(scalar(&db, &count(table)).await, "0", "{table}");
    }
    let res = send(
        &app,
        Method::DELETE,
        "/api/v1/accounts/data",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    for table in [
        "transactions",
        "uploaded_files",
        "upload_chunks",
        "training_jobs",
        "training_corrections",
    ] {
        assert_eq!(scalar(&db, &count(table)).await, "0", "{table}");
    }
    assert_eq!(
        list(&app, &token, "").await,
        json!({"transactions": [], "next_cursor": null})
    );
    let after = expect(
        &app,
        Method::GET,
        "/api/v1/accounts/profile",
        &token,
        None,
        200,
    )
    .await;
    assert_eq!(after, profile, "the users row stays");
}

#[actix_rt::test]
async fn profile_and_settings_read_update_and_validate() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let (admin, token) = user_as(Role::Admin);
    let profile_path = "/api/v1/accounts/profile";
    let settings_path = "/api/v1/accounts/settings";

    let profile = expect(&app, Method::GET, profile_path, &token, None, 200).await;
    assert_eq!(profile["id"], admin.to_string());
    assert_eq!(profile["email"], Value::Null);
    assert_eq!(profile["role"], "admin");
    assert_eq!(profile["currency"], "INR");
    assert_eq!(profile["timezone"], "Asia/Kolkata");
    assert!(profile["created_at"].is_string());

    let body = json!({"email": "a@scale.test", "currency": "usd", "timezone": "Europe/Berlin"});
    let updated = expect(&app, Method::PUT, profile_path, &token, Some(body), 200).await;
    assert_eq!(updated["email"], "a@scale.test");
    assert_eq!(updated["currency"], "USD");
    assert_eq!(updated["timezone"], "Europe/Berlin");
    assert_eq!(updated["created_at"], profile["created_at"]);

    let settings = expect(&app, Method::GET, settings_path, &token, None, 200).await;
    assert_eq!(
        settings,
        json!({"currency": "USD", "timezone": "Europe/Berlin"})
    );
    let body = json!({"timezone": "America/New_York"});
    let settings = expect(&app, Method::PUT, settings_path, &token, Some(body), 200).await;
    assert_eq!(
        settings,
        json!({"currency": "USD", "timezone": "America/New_York"})
    );
    let profile = expect(&app, Method::GET, profile_path, &token, None, 200).await;
    assert_eq!(profile["timezone"], "America/New_York");
    assert_eq!(profile["email"], "a@scale.test");

    for (path, body) in [
        (profile_path, json!({})),
        (profile_path, json!({"email": "nope"})),
        (profile_path, json!({"currency": "EURO"})),
        (profile_path, json!({"currency": "E1"})),
        (profile_path, json!({"timezone": "Mars/Olympus"})),
        (profile_path, json!({"timezone": 5})),
        (settings_path, json!({})),
        (settings_path, json!({"timezone": "Not/AZone"})),
        (settings_path, json!({"currency": "rupees"})),
    ] {
        let res = send(&app, Method::PUT, path, Some(&token), Some(body.clone())).await;
        problem(res, 422, "validation").await;
    }
    // Another user's profile is theirs (e-mail clashes: see the e-mail test).
    let (_, other) = user_as(Role::User);
    let theirs = expect(&app, Method::GET, profile_path, &other, None, 200).await;
    assert_eq!(theirs["role"], "user");
    assert_eq!(theirs["email"], Value::Null);
}

#[actix_rt::test]
async fn no_endpoint_reaches_another_users_data() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let (alice, a_token) = user_as(Role::User);
    let (_, b_token) = user_as(Role::User);
    seed(&db, alice, &sample_rows()).await;
    let before = list(&app, &a_token, "").await;
    let a_ids = ids(&before);
    assert_eq!(a_ids.len(), 6);

    for id in &a_ids {
        let path = format!("{LIST}/{id}");
        problem(
            send(&app, Method::GET, &path, Some(&b_token), None).await,
            404,
            "not_found",
        )
        .await;
        let body = Some(json!({"category": "Income"}));
        problem(
            send(&app, Method::PATCH, &path, Some(&b_token), body).await,
            404,
            "not_found",
        )
        .await;
        problem(
            send(&app, Method::DELETE, &path, Some(&b_token), None).await,
            404,
            "not_found",
        )
        .await;
    }
    for query in [
        "",
        "q=amazon",
        "category=Shopping",
        "merchant=Amazon",
        "type=credit",
        "limit=200",
    ] {
        assert_eq!(
            list(&app, &b_token, query).await["transactions"],
            json!([]),
            "{query}"
        );
    }
    // A's cursor gives B nothing of A's either.
    let a_cursor = list(&app, &a_token, "limit=1").await["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        list(&app, &b_token, &format!("cursor={a_cursor}")).await["transactions"],
        json!([])
    );

    let res = send(
        &app,
        Method::DELETE,
        "/api/v1/accounts/data",
        Some(&b_token),
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let b_profile = expect(
        &app,
        Method::PUT,
        "/api/v1/accounts/profile",
        &b_token,
        Some(json!({"currency": "EUR"})),
        200,
    )
    .await;
    assert_ne!(b_profile["id"], alice.to_string());
    expect(
        &app,
        Method::PUT,
        "/api/v1/accounts/settings",
        &b_token,
        Some(json!({"timezone": "UTC"})),
        200,
    )
    .await;

    assert_eq!(
        list(&app, &a_token, "").await,
        before,
        "A's rows are untouched"
    );
    let a_profile = expect(
        &app,
        Method::GET,
        "/api/v1/accounts/settings",
        &a_token,
        None,
        200,
    )
    .await;
    assert_eq!(
        a_profile,
        json!({"currency": "INR", "timezone": "Asia/Kolkata"})
    );
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM training_corrections").await,
        "0"
    );
}

#[actix_rt::test]
async fn bad_ids_and_missing_tokens_are_problems() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let (_, token) = user_as(Role::User);
    for method in [Method::GET, Method::PATCH, Method::DELETE] {
        for id in ["not-a-uuid", &Uuid::new_v4().to_string()] {
            let body = (method == Method::PATCH).then(|| json!({"category": "Food"}));
            let res = send(
                &app,
                method.clone(),
                &format!("{LIST}/{id}"),
                Some(&token),
                body,
            )
            .await;
            problem(res, 404, "not_found").await;
        }
    }
    let id = Uuid::new_v4();
    for (method, path) in [
        (Method::GET, LIST.to_owned()),
        (Method::GET, format!("{LIST}/{id}")),
        (Method::PATCH, format!("{LIST}/{id}")),
        (Method::DELETE, format!("{LIST}/{id}")),
        (Method::DELETE, "/api/v1/accounts/data".to_owned()),
        (Method::GET, "/api/v1/accounts/profile".to_owned()),
        (Method::PUT, "/api/v1/accounts/profile".to_owned()),
        (Method::GET, "/api/v1/accounts/settings".to_owned()),
        (Method::PUT, "/api/v1/accounts/settings".to_owned()),
    ] {
        let res = send(&app, method, &path, None, None).await;
        problem(res, 401, "missing_credentials").await;
    }
}

/// Sends `body` and expects a 422 `validation` problem whose detail names `field`.
async fn refused<S, B>(
    app: &S,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
    field: &str,
) where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = send(app, method.clone(), path, Some(token), body.clone()).await;
    let problem = problem(res, 422, "validation").await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("`{field}`")),
        "{method} {path} {body:?}: {detail}"
    );
}

#[actix_rt::test]
async fn nul_characters_and_over_long_text_are_422_naming_the_field() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let (alice, token) = user_as(Role::User);
    seed(&db, alice, &sample_rows()[..1]).await;
    let id = ids(&list(&app, &token, "").await)[0].clone();
    let path = format!("{LIST}/{id}");

    let limits = [
        ("category", text::CATEGORY),
        ("description", text::DESCRIPTION),
        ("merchant_name", text::MERCHANT),
    ];
    for (field, max) in limits {
        let fits = expect(
            &app,
            Method::PATCH,
            &path,
            &token,
            Some(json!({ field: "é".repeat(max) })),
            200,
        )
        .await;
        assert_eq!(fits[field].as_str().unwrap().chars().count(), max);
        for bad in ["é".repeat(max + 1), "Food\u{0}".into(), "\u{0}".into()] {
            let body = json!({ field: bad });
            refused(&app, Method::PATCH, &path, &token, Some(body), field).await;
        }
    }
    let profile = "/api/v1/accounts/profile";
    let settings = "/api/v1/accounts/settings";
    for (path, field) in [
        (profile, "email"),
        (profile, "currency"),
        (profile, "timezone"),
        (settings, "currency"),
        (settings, "timezone"),
    ] {
        for bad in ["a@b.io\u{0}", "\u{0}USD", "Asia/Kolkata\u{0}"] {
            let body = json!({ field: bad });
            refused(&app, Method::PUT, path, &token, Some(body), field).await;
        }
    }
    for param in ["q", "category", "merchant"] {
        for bad in ["a%00b".to_owned(), "%00".to_owned(), "x".repeat(FILTER + 1)] {
            let path = format!("{LIST}?{param}={bad}");
            refused(&app, Method::GET, &path, &token, None, param).await;
        }
    }
    let fits = list(&app, &token, &format!("q={}", "x".repeat(FILTER))).await;
    assert_eq!(fits["transactions"], json!([]));
}

#[actix_rt::test]
async fn email_addresses_are_normalised_unique_whatever_their_case_and_checked() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let path = "/api/v1/accounts/profile";
    let ((alice, alice_token), (bob, bob_token)) = (user_as(Role::User), user_as(Role::User));

    let body = json!({"email": "  A@X.com "});
    let mine = expect(&app, Method::PUT, path, &alice_token, Some(body), 200).await;
    assert_eq!(mine["email"], "a@x.com");
    let stored = scalar(
        &db,
        &format!("(SELECT email FROM users WHERE id = '{alice}')"),
    )
    .await;
    assert_eq!(stored, "a@x.com");

    let res = send(
        &app,
        Method::PUT,
        path,
        Some(&bob_token),
        Some(json!({"email": "a@x.COM"})),
    )
    .await;
    problem(res, 409, "email_taken").await;
    let bobs = expect(&app, Method::GET, path, &bob_token, None, 200).await;
    assert_eq!(bobs["email"], Value::Null);
    // A row written around the service still cannot take it (the index is on lower(email)).
    let clash = format!("UPDATE users SET email = 'A@x.Com' WHERE id = '{bob}'");
    let err = try_execute(&db, &clash).await.unwrap_err();
    assert!(err.contains("users_email_lower_key"), "{err}");

    // The owner may send their address in any case.
    let body = json!({"email": "A@X.COM"});
    let mine = expect(&app, Method::PUT, path, &alice_token, Some(body), 200).await;
    assert_eq!(mine["email"], "a@x.com");
    let body = json!({"email": "Bob.Smith+bills@Mail.Example.org"});
    let bobs = expect(&app, Method::PUT, path, &bob_token, Some(body), 200).await;
    assert_eq!(bobs["email"], "bob.smith+bills@mail.example.org");

    let too_long = format!("{}@x.io", "a".repeat(EMAIL));
    for bad in [
        "a@b.", "a@.b", "@b.c", "a b@c.d", "a@b", "a@-b.c", "", &too_long,
    ] {
        let body = json!({ "email": bad });
        refused(&app, Method::PUT, path, &bob_token, Some(body), "email").await;
    }
    let bobs = expect(&app, Method::GET, path, &bob_token, None, 200).await;
    assert_eq!(bobs["email"], "bob.smith+bills@mail.example.org");
}

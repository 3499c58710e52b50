//! The forecast API over HTTP with real actors, a fresh database and Redis prefix per test:
//! authentication on every route, the no-data answers, forecasts of stored history (the model
//! fitted on request and cached), per-user isolation, hostile input, a multipart forecast that
//! stores nothing, and the cache dropped by an import, an edit and a delete.

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::Method;
use actix_web::test;
use chrono::{Days, NaiveDate, Utc};
use scale_actors::analytics::period::{parse_tz, today_in};
use scale_actors::cache::keys;
use scale_actors::cache::service::Get;
use scale_http::AppState;
use scale_schema::testing::TestDatabase;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{
    bearer, expect, get, import_rows, multipart, problem, scalar, send, user, TestApp,
};

const SAFE: &str = "/api/v1/forecast/safe-to-spend";
const PREDICT: &str = "/api/v1/forecast/predict";

/// Today in the default profile zone (what the forecast starts after).
fn users_today() -> NaiveDate {
    today_in(parse_tz("Asia/Kolkata").unwrap(), Utc::now())
}

/// `days` of history up to yesterday: salary on the 1st, rent on the 5th, a daily grocery bill.
fn history(days: u64) -> Vec<Value> {
    (1..=days)
        .flat_map(|ago| {
            let date = users_today() - Days::new(ago);
            let day = date.format("%d").to_string();
            let mut rows = vec![json!({
                "date": date.to_string(),
                "description": format!("GROCER {ago}"),
                "amount": format!("-{}", 300 + (ago * 37) % 400),
            })];
            if day == "01" {
                rows.push(json!({"date": date.to_string(), "description": "SALARY ACME", "amount": "60000"}));
            }
            if day == "05" {
                rows.push(json!({"date": date.to_string(), "description": "RENT HOUSING", "amount": "-20000"}));
            }
            rows
        })
        .collect()
}

/// Whether the user's forecast model is cached.
async fn cached(state: &AppState, user: Uuid) -> bool {
    let key = keys::forecast(user);
    state.cache.ask(Get { key }).await.unwrap().value.is_some()
}

#[actix_web::test]
async fn every_route_needs_a_valid_token() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    for token in [None, Some("not-a-jwt")] {
        let res = test::call_service(&app, get(SAFE, token)).await;
        let code = match token {
            Some(_) => "malformed_token",
            None => "missing_credentials",
        };
        problem(res, 401, code).await;
        let res = send(&app, Method::POST, PREDICT, token, Some(json!({}))).await;
        assert_eq!(res.status().as_u16(), 401);
    }
}

#[actix_web::test]
async fn without_data_the_answers_are_the_original_no_data_ones() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let (_, token) = user();
    let answer = expect(&app, Method::GET, SAFE, &token, None, 200).await;
    assert_eq!(
        answer,
        json!({"safe_amount":0.0,"currency":"INR","horizon_days":7,"confidence":0.0,
               "model":"statistical_mvp","note":"No transactions found in the last 90 days."})
    );
    let answer = expect(
        &app,
        Method::GET,
        &format!("{SAFE}?horizon=30"),
        &token,
        None,
        200,
    )
    .await;
    assert_eq!(answer["horizon_days"], 30);
    let answer = expect(&app, Method::POST, PREDICT, &token, Some(json!({})), 200).await;
    assert_eq!(answer["model"], "statistical_mvp");
    assert_eq!(answer["predictions"].as_array().unwrap().len(), 7);
    assert_eq!(answer["predictions"][0]["predicted_spend"], 0.0);
    assert!(answer.get("source").is_none());
}

#[actix_web::test]
async fn stored_history_is_forecast_for_its_owner_only() {
    let db = TestDatabase::create();
    let (state, app) = TestApp::new(&db).start().await;
    let (owner, token) = user();
    let (_, stranger_token) = user();
    import_rows(&app, &token, history(120)).await;

    let safe = expect(&app, Method::GET, SAFE, &token, None, 200).await;
    for field in [
        "safe_amount",
        "currency",
        "horizon_days",
        "confidence",
        "model",
        "note",
        "forecast_breakdown",
        "avg_daily_income",
        "avg_daily_spend",
        "days_analyzed",
        "explanation",
    ] {
        assert!(safe.get(field).is_some(), "{field} missing: {safe}");
    }
    assert_eq!(safe["model"], "ets_weekly_v1");
    assert_eq!(safe["source"], "fitted_on_request");
    assert_eq!(safe["forecast_breakdown"].as_array().unwrap().len(), 7);
    let first = &safe["forecast_breakdown"][0];
    assert_eq!(first["date"], (users_today() + Days::new(1)).to_string());
    assert!(
        first["p10"].as_f64() <= first["p50"].as_f64()
            && first["p50"].as_f64() <= first["p90"].as_f64()
    );
    // The explanation's parts add up to the amount, to the cent.
    let e = &safe["explanation"];
    let parts = e["expected_income"].as_f64().unwrap()
        - e["committed_total"].as_f64().unwrap()
        - e["discretionary"]["p50"].as_f64().unwrap()
        - e["buffer"].as_f64().unwrap();
    assert!(
        (parts - safe["safe_amount"].as_f64().unwrap()).abs() < 0.005,
        "{safe}"
    );
    assert!(cached(&state, owner).await);

    let week = expect(
        &app,
        Method::POST,
        PREDICT,
        &token,
        Some(json!({"horizon_days": 14})),
        200,
    )
    .await;
    assert_eq!(week["horizon_days"], 14);
    assert_eq!(week["model"], "ets_weekly_v1");
    let days = week["predictions"].as_array().unwrap();
    assert_eq!(days.len(), 14);
    for (k, day) in days.iter().enumerate() {
        assert_eq!(day["day_offset"], k + 1);
        for field in [
            "predicted_spend",
            "predicted_income",
            "predicted_net",
            "date",
            "p10",
            "p90",
        ] {
            assert!(day.get(field).is_some(), "{field}: {day}");
        }
    }
    // The same cached model answers both routes: the breakdown's days are the prediction's.
    let week = expect(&app, Method::POST, PREDICT, &token, None, 200).await;
    let breakdown = safe["forecast_breakdown"].as_array().unwrap();
    for (day, expected) in week["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .zip(breakdown)
    {
        assert_eq!(day["predicted_spend"], expected["p50"]);
        assert_eq!(day["date"], expected["date"]);
    }

    // Another user sees none of it.
    let theirs = expect(&app, Method::GET, SAFE, &stranger_token, None, 200).await;
    assert_eq!(theirs["safe_amount"], 0.0);
    assert!(theirs.get("explanation").is_none());
    let theirs = expect(&app, Method::POST, PREDICT, &stranger_token, None, 200).await;
    assert_eq!(theirs["predictions"][0]["predicted_income"], 0.0);
}

#[actix_web::test]
async fn hostile_input_is_a_problem() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let (_, token) = user();
    for (query, status, code) in [
        ("horizon=0", 422, "validation"),
        ("horizon=31", 422, "validation"),
        ("horizon=-1", 422, "validation"),
        ("horizon=99999999999999999999999", 400, "invalid_query"),
        ("horizon=abc", 400, "invalid_query"),
        ("horizon=%00", 400, "invalid_query"),
        ("horizon=7%00", 400, "invalid_query"),
    ] {
        eprintln!("safe-to-spend ?{query}");
        let res = test::call_service(&app, get(&format!("{SAFE}?{query}"), Some(&token))).await;
        problem(res, status, code).await;
    }
    for (body, status, code) in [
        (json!({"horizon_days": 0}), 422, "validation"),
        (json!({"horizon_days": 91}), 422, "validation"),
        (json!({"horizon_days": -5}), 422, "validation"),
        (json!({"horizon_days": "7"}), 422, "validation"),
        (json!({"horizon_days": 7.5}), 422, "validation"),
        (json!({"horizon_days": 1e300}), 422, "validation"),
        (json!({"horizon_days": "\u{0}"}), 422, "validation"),
        (json!([7]), 422, "validation"),
    ] {
        let res = send(
            &app,
            Method::POST,
            PREDICT,
            Some(&token),
            Some(body.clone()),
        )
        .await;
        problem(res, status, code).await;
    }
    let raw = |content_type: &str, body: Vec<u8>| {
        test::TestRequest::post()
            .uri(PREDICT)
            .insert_header(bearer(&token))
            .insert_header(("content-type", content_type.to_owned()))
            .set_payload(body)
            .to_request()
    };
    let res = test::call_service(
        &app,
        raw("application/json", b"{\"horizon_days\":".to_vec()),
    )
    .await;
    problem(res, 400, "malformed_json").await;
    let huge = format!(
        "{{\"horizon_days\": 7, \"pad\": \"{}\"}}",
        "x".repeat(1 << 20)
    );
    let res = test::call_service(&app, raw("application/json", huge.into_bytes())).await;
    problem(res, 413, "payload_too_large").await;
    let res = test::call_service(&app, raw("text/plain", b"7".to_vec())).await;
    problem(res, 415, "unsupported_media_type").await;

    let csv = b"Date,Description,Amount\n2026-01-01,SHOP,-10\n".to_vec();
    for (fields, status, code) in [
        (
            vec![("file", Some("a\0.csv"), csv.clone())],
            400,
            "malformed_multipart",
        ),
        (
            vec![("file", Some("s.csv"), b"\0\0\0garbage".to_vec())],
            400,
            "unreadable_file",
        ),
        (
            vec![("file", Some("s.pdf"), csv.clone())],
            400,
            "unsupported_file_type",
        ),
        (
            vec![
                ("file", Some("s.csv"), csv.clone()),
                ("horizon_days", None, b"abc".to_vec()),
            ],
            422,
            "validation",
        ),
        (
            vec![
                ("file", Some("s.csv"), csv.clone()),
                ("horizon_days", None, b"91".to_vec()),
            ],
            422,
            "validation",
        ),
        (
            vec![("horizon_days", None, b"7".to_vec())],
            422,
            "validation",
        ),
    ] {
        let fields: Vec<(&str, Option<&str>, &[u8])> = fields
            .iter()
            .map(|(n, f, b)| (*n, *f, b.as_slice()))
            .collect();
        eprintln!(
            "multipart {:?}",
            fields.iter().map(|f| f.0).collect::<Vec<_>>()
        );
        let (content_type, body) = multipart(&fields);
        let res = test::call_service(&app, raw(&content_type, body)).await;
        problem(res, status, code).await;
    }
}

#[actix_web::test]
async fn an_uploaded_statement_is_forecast_and_nothing_is_stored() {
    let db = TestDatabase::create();
    let (state, app) = TestApp::new(&db).start().await;
    let (owner, token) = user();
    let mut csv = String::from("Date,Description,Amount\n");
    let last = NaiveDate::from_ymd_opt(2026, 3, 31).unwrap();
    for ago in 0..60u64 {
        let date = last - Days::new(ago);
        csv.push_str(&format!(
            "{date},GROCER {ago},-{}\n",
            200 + (ago * 53) % 300
        ));
    }
    let (content_type, body) = multipart(&[
        ("file", Some("statement.csv"), csv.as_bytes()),
        ("horizon_days", None, b"10"),
    ]);
    let req = test::TestRequest::post()
        .uri(PREDICT)
        .insert_header(bearer(&token))
        .insert_header(("content-type", content_type))
        .set_payload(body)
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status().as_u16(), 200);
    let answer: Value = test::read_body_json(res).await;
    assert_eq!(answer["source"], "uploaded_file");
    assert_eq!(answer["horizon_days"], 10);
    assert_eq!(answer["model"], "ets_weekly_v1");
    assert_eq!(answer["predictions"][0]["date"], "2026-04-01");
    let spend = answer["predictions"][0]["predicted_spend"]
        .as_f64()
        .unwrap();
    assert!(spend > 100.0 && spend < 600.0, "{answer}");
    for table in ["transactions", "uploaded_files", "users"] {
        assert_eq!(
            scalar(&db, &format!("SELECT count(*) FROM {table}")).await,
            "0",
            "{table}"
        );
    }
    assert!(!cached(&state, owner).await);
}

/// Safe-to-spend as `token` once the cache was dropped (polled: the invalidation is awaited by
/// the change's request, so the first read already sees it).
async fn fresh_safe<S, B>(app: &S, state: &AppState, user: Uuid, token: &str) -> Value
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    assert!(
        !cached(state, user).await,
        "the change left the forecast cached"
    );
    let answer = expect(app, Method::GET, SAFE, token, None, 200).await;
    assert!(cached(state, user).await);
    answer
}

#[actix_web::test]
async fn an_import_an_edit_and_a_delete_drop_the_cached_forecast() {
    let db = TestDatabase::create();
    let (state, app) = TestApp::new(&db).start().await;
    let (owner, token) = user();
    import_rows(&app, &token, history(60)).await;
    let first = expect(&app, Method::GET, SAFE, &token, None, 200).await;
    assert!(cached(&state, owner).await);
    assert_eq!(
        expect(&app, Method::GET, SAFE, &token, None, 200).await,
        first
    );

    // An import of today's big purchase.
    let big = vec![
        json!({"date": users_today().to_string(), "description": "TELEVISION", "amount": "-90000"}),
    ];
    import_rows(&app, &token, big).await;
    let imported = fresh_safe(&app, &state, owner, &token).await;
    assert_ne!(imported["safe_amount"], first["safe_amount"]);

    // An edit (a merchant name: the numbers stay, the cached model is still dropped).
    let id = scalar(
        &db,
        "SELECT id FROM transactions WHERE description = 'TELEVISION'",
    )
    .await;
    let path = format!("/api/v1/accounts/transactions/{id}");
    let edit = json!({"merchant_name": "Telly Shop"});
    expect(&app, Method::PATCH, &path, &token, Some(edit), 200).await;
    let edited = fresh_safe(&app, &state, owner, &token).await;
    assert_eq!(edited, imported);

    // A delete.
    expect(&app, Method::DELETE, &path, &token, None, 204).await;
    let deleted = fresh_safe(&app, &state, owner, &token).await;
    assert_ne!(deleted["safe_amount"], edited["safe_amount"]);
    // The same data as at first: the refit gives the first answer again (it is seeded).
    assert_eq!(deleted, first);
}

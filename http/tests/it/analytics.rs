//! The analytics API over HTTP with real actors and a fresh database per test: the §8.2 shapes
//! and numbers on rows imported through the real import endpoint (dated relative to today),
//! time-zone and timeframe validation, authentication, per-user isolation, and the cache:
//! read-through hits, invalidation by imports, edits and deletes, an answer computed before an
//! import never cached after it, and the in-memory fallback while Redis is cut (then Redis taking
//! over again).

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use std::time::{Duration, Instant};

use actix_web::http::{Method, StatusCode};
use actix_web::test;
use chrono::{Datelike, Days, NaiveDate, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use scale_actors::analytics::period::{parse_tz, today_in, Timeframe};
use scale_actors::analytics::service::GetOverview;
use scale_actors::cache::keys;
use scale_actors::cache::service::{Get, Set};
use scale_chaos::{FaultMode, FaultProxy};
use scale_http::auth::{mint_token, Role};
use scale_http::{HttpSettings, RateLimiter, RateLimits};
use scale_schema::testing::TestDatabase;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{bearer, get, problem, unique_prefix, user, TestApp, SECRET};

/// Today in UTC: the tests ask with `tz=UTC`.
fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// One imported row: days before today, signed amount, description, merchant, category.
type Row = (u64, &'static str, &'static str, &'static str, &'static str);

/// Imports `rows` for `token` through `POST /ingest/import` (JSON), then sets each row's
/// category with SQL (the import stores every row as `Uncategorized`).
async fn import<S, B>(app: &S, db: &TestDatabase, user: Uuid, token: &str, rows: &[Row])
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let transactions: Vec<Value> = rows
        .iter()
        .map(|(ago, amount, description, merchant, _)| {
            json!({
                "transaction_date": (today() - Days::new(*ago)).to_string(),
                "amount": amount,
                "description": description,
                "merchant_name": merchant,
            })
        })
        .collect();
    let req = test::TestRequest::post()
        .uri("/api/v1/ingest/import")
        .insert_header(bearer(token))
        .set_json(json!({ "transactions": transactions }))
        .to_request();
    let res = test::call_service(app, req).await;
    assert_eq!(res.status(), StatusCode::OK);
    let out: Value = test::read_body_json(res).await;
    assert_eq!(out["inserted"], rows.len(), "{out}");
    let mut conn = AsyncPgConnection::establish(&db.url()).await.unwrap();
    for (_, amount, description, merchant, category) in rows {
        // An empty merchant stays empty (the import would derive one from the narration).
        diesel::sql_query(
            "UPDATE transactions SET category = $1, \
             merchant_name = CASE WHEN $5 = '' THEN '' ELSE merchant_name END \
             WHERE user_id = $2 AND description = $3 AND amount = $4::numeric",
        )
        .bind::<diesel::sql_types::Text, _>(*category)
        .bind::<diesel::sql_types::Uuid, _>(user)
        .bind::<diesel::sql_types::Text, _>(*description)
        .bind::<diesel::sql_types::Text, _>(*amount)
        .bind::<diesel::sql_types::Text, _>(*merchant)
        .execute(&mut conn)
        .await
        .unwrap();
    }
}

/// `GET path` as `token`, expecting 200 and a JSON body.
async fn fetch<S, B>(app: &S, path: &str, token: &str) -> Value
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = test::call_service(app, get(path, Some(token))).await;
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    test::read_body_json(res).await
}

/// Σ|amount| of the expenses among `rows` whose date satisfies `keep`.
fn spend(rows: &[Row], keep: impl Fn(NaiveDate) -> bool) -> f64 {
    let cents: i64 = rows
        .iter()
        .filter(|(ago, amount, ..)| amount.starts_with('-') && keep(today() - Days::new(*ago)))
        .map(|(_, amount, ..)| {
            let value: f64 = amount.parse().unwrap();
            (value.abs() * 100.0).round() as i64
        })
        .sum();
    cents as f64 / 100.0
}

const ROWS: &[Row] = &[
    (0, "-100.10", "UPI SWIGGY ORDER", "Swiggy*Bangalore", "Food"),
    (1, "-200.20", "AMAZON PAY", "Amazon", "Shopping"),
    (
        1,
        "-50.05",
        "UPI SWIGGY ORDER 2",
        "Swiggy*Koramangala",
        "Food",
    ),
    (3, "-0.10", "TEA", "", "Food"),
    (3, "-0.20", "TEA AGAIN", "", "Food"),
    (0, "5000.00", "SALARY", "Employer", "Income"),
    (9, "-700.00", "RENT", "Landlord", "Rent"),
    (40, "-300.00", "ELECTRICITY", "BESCOM", "Bills"),
];

#[actix_rt::test]
async fn overview_weekly_shape_and_numbers() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let (id, token) = user();
    import(&app, &db, id, &token, ROWS).await;
    let o = fetch(
        &app,
        "/api/v1/analytics/overview?timeframe=weekly&tz=UTC",
        &token,
    )
    .await;
    let keys: Vec<&str> = o.as_object().unwrap().keys().map(String::as_str).collect();
    let mut expected = [
        "timeframe",
        "period_start",
        "period_end",
        "total_expenses",
        "average",
        "average_unit",
        "trend",
        "top_categories",
        "splurges",
    ];
    expected.sort_unstable();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(o["timeframe"], "weekly");
    assert_eq!(o["period_end"], today().to_string());
    assert_eq!(o["period_start"], (today() - Days::new(6)).to_string());
    // 100.10 + 200.20 + 50.05 + 0.10 + 0.20, exactly.
    assert_eq!(o["total_expenses"], json!(350.65));
    // Three active days.
    assert_eq!(o["average"], json!(116.88));
    assert_eq!(o["average_unit"], "day");
    let trend = o["trend"].as_array().unwrap();
    assert_eq!(trend.len(), 7);
    assert_eq!(trend[6]["date_start"], today().to_string());
    assert_eq!(trend[6]["amount"], json!(100.1));
    assert_eq!(trend[5]["amount"], json!(250.25));
    assert_eq!(trend[3]["amount"], json!(0.3));
    assert_eq!(trend[0]["amount"], json!(0.0));
    for point in trend {
        assert!(point["label"].as_str().unwrap().len() == 3, "{point}");
        assert!(point["full_label"].is_string());
    }
    assert_eq!(
        o["top_categories"],
        json!([{"name": "Shopping", "value": 200.2}, {"name": "Food", "value": 150.45}])
    );
    let splurges = o["splurges"].as_array().unwrap();
    assert_eq!(splurges.len(), 3);
    assert_eq!(splurges[0]["description"], "AMAZON PAY");
    assert_eq!(splurges[0]["amount"], json!(200.2));
    assert_eq!(splurges[0]["category"], "Shopping");
    assert_eq!(splurges[0]["merchant_name"], "Amazon");
    assert!(splurges[0]["id"].is_string());
    assert_eq!(splurges[1]["amount"], json!(100.1));
    assert_eq!(splurges[2]["amount"], json!(50.05));
}

#[actix_rt::test]
async fn overview_monthly_covers_the_calendar_month() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let (id, token) = user();
    import(&app, &db, id, &token, ROWS).await;
    let o = fetch(
        &app,
        "/api/v1/analytics/overview?timeframe=monthly&tz=UTC",
        &token,
    )
    .await;
    let first = today().with_day(1).unwrap();
    let this_month = |d: NaiveDate| d >= first;
    assert_eq!(o["timeframe"], "monthly");
    assert_eq!(o["average_unit"], "week");
    assert_eq!(o["period_start"], first.to_string());
    assert_eq!(o["total_expenses"], json!(spend(ROWS, this_month)));
    let trend = o["trend"].as_array().unwrap();
    assert!((4..=5).contains(&trend.len()));
    assert_eq!(trend[0]["label"], "W1");
    assert_eq!(trend[0]["date_start"], first.to_string());
    let cents: i64 = trend
        .iter()
        .map(|t| (t["amount"].as_f64().unwrap() * 100.0).round() as i64)
        .sum();
    assert_eq!(cents as f64 / 100.0, spend(ROWS, this_month));
}

#[actix_rt::test]
async fn summary_shape_and_numbers() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let (id, token) = user();
    import(&app, &db, id, &token, ROWS).await;
    let s = fetch(&app, "/api/v1/analytics/summary?tz=UTC", &token).await;
    let first = today().with_day(1).unwrap();
    let prev_first = (first - Days::new(1)).with_day(1).unwrap();
    let current = spend(ROWS, |d| d >= first);
    let previous = spend(ROWS, |d| d >= prev_first && d < first);
    let mc = &s["monthly_comparison"];
    assert_eq!(mc["current_month_spend"], json!(current));
    assert_eq!(mc["prev_month_spend"], json!(previous));
    let pct = if previous == 0.0 {
        100.0
    } else {
        ((current - previous) / previous * 100.0 * 100.0).round() / 100.0
    };
    assert_eq!(mc["percent_change"], json!(pct));
    let weekdays = s["weekday_spend"].as_array().unwrap();
    let days: Vec<&str> = weekdays
        .iter()
        .map(|w| w["day"].as_str().unwrap())
        .collect();
    assert_eq!(days, ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]);
    let total: f64 = weekdays.iter().map(|w| w["amount"].as_f64().unwrap()).sum();
    assert!((total - spend(ROWS, |_| true)).abs() < 0.001);
    let dow = today().weekday().num_days_from_sunday() as usize;
    assert_eq!(
        weekdays[dow]["amount"],
        json!(spend(ROWS, |d| d == today()))
    );
    assert_eq!(
        s["category_distribution"],
        json!([
            {"name": "Rent", "value": 700.0},
            {"name": "Bills", "value": 300.0},
            {"name": "Shopping", "value": 200.2},
            {"name": "Food", "value": 150.45},
        ])
    );
    // Names cut at `*`: both Swiggy rows are one merchant; empty merchants use the narration.
    assert_eq!(
        s["merchant_leaderboard"],
        json!([
            {"name": "Landlord", "amount": 700.0, "count": 1},
            {"name": "BESCOM", "amount": 300.0, "count": 1},
            {"name": "Amazon", "amount": 200.2, "count": 1},
            {"name": "Swiggy", "amount": 150.15, "count": 2},
            {"name": "TEA AGAIN", "amount": 0.2, "count": 1},
        ])
    );
}

#[actix_rt::test]
async fn empty_history_answers_zeros() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let (_, token) = user();
    let o = fetch(&app, "/api/v1/analytics/overview", &token).await;
    assert_eq!(o["timeframe"], "weekly");
    assert_eq!(o["total_expenses"], json!(0.0));
    assert_eq!(o["average"], json!(0.0));
    assert_eq!(o["top_categories"], json!([]));
    assert_eq!(o["splurges"], json!([]));
    let s = fetch(&app, "/api/v1/analytics/summary", &token).await;
    assert_eq!(s["monthly_comparison"]["percent_change"], json!(0.0));
    assert_eq!(s["merchant_leaderboard"], json!([]));
}

#[actix_rt::test]
async fn the_profile_zone_is_the_default() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let (_, token) = user();
    // Pacific/Kiritimati is UTC+14: "today" there is the UTC date or the next one.
    let req = test::TestRequest::put()
        .uri("/api/v1/accounts/settings")
        .insert_header(bearer(&token))
        .set_json(json!({"timezone": "Pacific/Kiritimati"}))
        .to_request();
    assert_eq!(test::call_service(&app, req).await.status(), StatusCode::OK);
    let o = fetch(&app, "/api/v1/analytics/overview", &token).await;
    let kiritimati = today_in(parse_tz("Pacific/Kiritimati").unwrap(), Utc::now());
    assert_eq!(o["period_end"], kiritimati.to_string());
}

#[actix_rt::test]
async fn bad_parameters_and_missing_tokens_are_problems() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let (_, token) = user();
    for path in [
        "/api/v1/analytics/overview?tz=Mars/Olympus",
        "/api/v1/analytics/overview?timeframe=yearly",
        "/api/v1/analytics/overview?timeframe=",
        "/api/v1/analytics/summary?tz=",
        "/api/v1/analytics/summary?tz=UTC%2B5",
    ] {
        let res = test::call_service(&app, get(path, Some(&token))).await;
        problem(res, 422, "validation").await;
    }
    for path in ["/api/v1/analytics/overview", "/api/v1/analytics/summary"] {
        let res = test::call_service(&app, get(path, None)).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        problem(res, 401, "missing_credentials").await;
    }
}

#[actix_rt::test]
async fn another_users_rows_never_count() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let (alice, alice_token) = user();
    let (bob, bob_token) = user();
    import(&app, &db, alice, &alice_token, ROWS).await;
    import(
        &app,
        &db,
        bob,
        &bob_token,
        &[(0, "-9999.99", "BOB ONLY", "Bobmart", "Bob")],
    )
    .await;
    let o = fetch(&app, "/api/v1/analytics/overview?tz=UTC", &alice_token).await;
    assert_eq!(o["total_expenses"], json!(350.65));
    let s = fetch(&app, "/api/v1/analytics/summary?tz=UTC", &alice_token).await;
    assert!(!s.to_string().contains("Bob"));
    let o = fetch(&app, "/api/v1/analytics/overview?tz=UTC", &bob_token).await;
    assert_eq!(o["total_expenses"], json!(9999.99));
    assert_eq!(
        o["top_categories"],
        json!([{"name": "Bob", "value": 9999.99}])
    );
}

/// `GET /ops/cache` as an admin.
async fn cache_stats<S, B>(app: &S) -> Value
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let admin = mint_token(SECRET, Uuid::new_v4(), Role::Admin, 600);
    fetch(app, "/api/v1/ops/cache", &admin).await
}

const WEEK: &str = "/api/v1/analytics/overview?timeframe=weekly&tz=UTC";

#[actix_rt::test]
async fn answers_are_cached_until_the_users_data_changes() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let (id, token) = user();
    import(&app, &db, id, &token, ROWS).await;
    let before = cache_stats(&app).await;
    assert_eq!(before["backend"], "redis");
    let first = fetch(&app, WEEK, &token).await;
    let second = fetch(&app, WEEK, &token).await;
    assert_eq!(first, second);
    let after = cache_stats(&app).await;
    assert_eq!(after["hits"], before["hits"].as_u64().unwrap() + 1);
    assert_eq!(after["misses"], before["misses"].as_u64().unwrap() + 1);
    fetch(&app, "/api/v1/analytics/summary?tz=UTC", &token).await;

    // An import invalidates the overview and the summary.
    import(
        &app,
        &db,
        id,
        &token,
        &[(0, "-10.00", "SNACK", "Kiosk", "Food")],
    )
    .await;
    let o = fetch(&app, WEEK, &token).await;
    assert_eq!(o["total_expenses"], json!(360.65));
    let s = fetch(&app, "/api/v1/analytics/summary?tz=UTC", &token).await;
    assert!(s["merchant_leaderboard"].to_string().contains("Kiosk"));

    // So does a correction…
    let amazon = o["splurges"][0]["id"].as_str().unwrap().to_owned();
    let req = test::TestRequest::default()
        .method(Method::PATCH)
        .uri(&format!("/api/v1/accounts/transactions/{amazon}"))
        .insert_header(bearer(&token))
        .set_json(json!({"category": "Travel"}))
        .to_request();
    assert_eq!(test::call_service(&app, req).await.status(), StatusCode::OK);
    let o = fetch(&app, WEEK, &token).await;
    assert_eq!(
        o["top_categories"][0],
        json!({"name": "Travel", "value": 200.2})
    );

    // …deleting a transaction…
    let req = test::TestRequest::delete()
        .uri(&format!("/api/v1/accounts/transactions/{amazon}"))
        .insert_header(bearer(&token))
        .to_request();
    assert_eq!(
        test::call_service(&app, req).await.status(),
        StatusCode::NO_CONTENT
    );
    let o = fetch(&app, WEEK, &token).await;
    assert_eq!(o["total_expenses"], json!(160.45));

    // …and deleting everything.
    let req = test::TestRequest::delete()
        .uri("/api/v1/accounts/data")
        .insert_header(bearer(&token))
        .to_request();
    assert_eq!(
        test::call_service(&app, req).await.status(),
        StatusCode::NO_CONTENT
    );
    let o = fetch(&app, WEEK, &token).await;
    assert_eq!(o["total_expenses"], json!(0.0));
}

/// The race in the order the overview route runs it: the cache lookup misses, the overview is
/// computed, an import commits and invalidates, then the computed answer is stored with the
/// lookup's version. The next request must see the import.
#[actix_rt::test]
async fn an_answer_computed_before_an_import_is_not_served_after_it() {
    let db = TestDatabase::migrated();
    let (state, app) = TestApp::new(&db).start().await;
    let (id, token) = user();
    import(&app, &db, id, &token, ROWS).await;
    let key = keys::overview(id, "weekly", "UTC", today());
    let read = state.cache.ask(Get { key: key.clone() }).await.unwrap();
    assert_eq!(read.value, None);
    let compute = GetOverview {
        user: id,
        timeframe: Timeframe::Weekly,
        today: today(),
    };
    let computed = state.analytics.ask(compute).await.unwrap().unwrap();
    let snack = (0, "-10.00", "SNACK", "Kiosk", "Food");
    import(&app, &db, id, &token, &[snack]).await;
    let set = Set {
        key,
        value: serde_json::to_string(&computed).unwrap(),
        ttl: state.analytics_cache_ttl,
        version: read.version,
    };
    state.cache.ask(set).await.unwrap();
    assert_eq!(
        fetch(&app, WEEK, &token).await["total_expenses"],
        json!(360.65)
    );
}

#[actix_rt::test]
async fn without_redis_the_cache_lives_in_memory_and_redis_takes_over_again() {
    let db = TestDatabase::create();
    scale_schema::run_migrations(&db.url()).await.unwrap();
    let proxy = FaultProxy::start("127.0.0.1:6379".parse().unwrap());
    let limiter = RateLimiter::new(
        None,
        unique_prefix(),
        RateLimits::uniform(100_000, Duration::from_secs(60)),
        Duration::from_secs(1),
    )
    .unwrap();
    let state = TestApp::new(&db)
        .with_rate_limiter(limiter)
        .with_cache_redis(
            &format!("redis://{}", proxy.addr()),
            Duration::from_millis(300),
        )
        .state();
    let app = test::init_service(scale_http::app(state, &HttpSettings::default())).await;
    let (id, token) = user();
    import(&app, &db, id, &token, ROWS).await;
    assert_eq!(
        fetch(&app, WEEK, &token).await["total_expenses"],
        json!(350.65)
    );
    assert_eq!(cache_stats(&app).await["backend"], "redis");

    proxy.set_mode(FaultMode::Down);
    let started = Instant::now();
    assert_eq!(
        fetch(&app, WEEK, &token).await["total_expenses"],
        json!(350.65)
    );
    let stats = cache_stats(&app).await;
    assert_eq!(stats["backend"], "memory");
    let hits = stats["hits"].as_u64().unwrap();
    assert_eq!(
        fetch(&app, WEEK, &token).await["total_expenses"],
        json!(350.65)
    );
    let stats = cache_stats(&app).await;
    assert_eq!(stats["hits"], hits + 1, "the memory cache answered");
    assert!(stats["memory_entries"].as_u64().unwrap() >= 1);
    // An import while Redis is down invalidates the memory entries at once…
    import(
        &app,
        &db,
        id,
        &token,
        &[(0, "-10.00", "SNACK", "Kiosk", "Food")],
    )
    .await;
    assert_eq!(
        fetch(&app, WEEK, &token).await["total_expenses"],
        json!(360.65)
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the fallback was slow"
    );

    proxy.set_mode(FaultMode::Pass);
    let deadline = Instant::now() + Duration::from_secs(10);
    while cache_stats(&app).await["backend"] != "redis" {
        assert!(Instant::now() < deadline, "Redis never took over again");
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
    // …and the stale Redis entry from before the outage was dropped on recovery.
    assert_eq!(
        fetch(&app, WEEK, &token).await["total_expenses"],
        json!(360.65)
    );
    assert_eq!(
        fetch(&app, WEEK, &token).await["total_expenses"],
        json!(360.65)
    );
}

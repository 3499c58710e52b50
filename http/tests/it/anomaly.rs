//! The anomaly routes (`/api/v1/anomaly/*`) and live alerts: 401 on every route, another
//! user's alerts never shown or changed, hostile input, an import with a duplicate charge
//! raising exactly one alert over a real WebSocket (and a re-import or re-scan none), dismissal
//! suppressing merchant outliers, thresholds changing what fires, the SSE stream, and an alert
//! raised in one process reaching a WebSocket of another through Redis.

use std::future::poll_fn;
use std::pin::pin;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::{test, web, HttpServer};
use chrono::{Days, Utc};
use futures_util::{SinkExt, StreamExt};
use scale_actors::anomaly::alert::{Alert, AlertKind};
use scale_actors::anomaly::query::AlertStatus;
use scale_actors::anomaly::service::AlertRaised;
use scale_actors::events::{Bus, BusStatus};
use scale_http::{AppState, HttpSettings};
use scale_schema::testing::TestDatabase;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

use crate::common::{
    bearer, execute, expect, multipart, problem, send, unique_prefix, user, TestApp, REDIS_URL,
};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long any single expected message or state may take.
const WAIT: Duration = Duration::from_secs(10);
const ALERTS: &str = "/api/v1/anomaly/alerts";
const SCAN: &str = "/api/v1/anomaly/scan";
const SETTINGS: &str = "/api/v1/anomaly/settings";

fn days_ago(days: u64) -> String {
    (Utc::now().date_naive() - Days::new(days)).to_string()
}

/// An import body: `(days ago, signed amount, narration)` rows.
fn import_body(rows: &[(u64, &str, &str)]) -> Value {
    let rows: Vec<Value> = rows
        .iter()
        .map(|(ago, amount, description)| {
            json!({"date": days_ago(*ago), "description": description, "amount": amount})
        })
        .collect();
    json!({ "transactions": rows })
}

/// A small clean ledger with one duplicate charge (the same ₹1,499 twice yesterday).
fn with_duplicate() -> Value {
    import_body(&[
        (9, "-250", "ZOMATO ORDER"),
        (7, "-120", "UBER TRIP"),
        (5, "-300", "BIGBASKET"),
        (3, "-80", "CHAI POINT"),
        (1, "-1499", "AMAZON PAY"),
        (1, "-1499", "AMAZON PAY"),
    ])
}

/// Stores rows for `user` with SQL (no import, so no background scan): `(days ago, signed
/// amount, merchant)`.
async fn seed(db: &TestDatabase, user: Uuid, rows: &[(u64, &str, &str)]) {
    execute(
        db,
        &format!("INSERT INTO users (id) VALUES ('{user}') ON CONFLICT DO NOTHING"),
    )
    .await;
    for (ago, amount, merchant) in rows {
        let kind = if amount.starts_with('-') {
            "debit"
        } else {
            "credit"
        };
        execute(
            db,
            &format!(
                "INSERT INTO transactions (user_id, transaction_date, amount, type, description, \
                 merchant_name, fingerprint, fingerprint_version) VALUES ('{user}', '{}', {amount}, \
                 '{kind}', '{merchant}', '{merchant}', md5(random()::text) || md5(random()::text), 2)",
                days_ago(*ago)
            ),
        )
        .await;
    }
}

/// The caller's alerts (first page, up to 200).
async fn alerts<S, B>(app: &S, token: &str, query: &str) -> Vec<Value>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let page = expect(
        app,
        Method::GET,
        &format!("{ALERTS}?limit=200{query}"),
        token,
        None,
        200,
    )
    .await;
    page["alerts"].as_array().unwrap().clone()
}

/// Polls the caller's alerts until there are `n` (the import's scan runs in the background).
async fn await_alerts<S, B>(app: &S, token: &str, n: usize) -> Vec<Value>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let deadline = Instant::now() + WAIT;
    loop {
        let got = alerts(app, token, "").await;
        if got.len() >= n {
            assert_eq!(got.len(), n, "{got:#?}");
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "only {} alerts: {got:#?}",
            got.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `POST /anomaly/scan` → the alerts raised now.
async fn scan<S, B>(app: &S, token: &str) -> Vec<Value>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let body = expect(app, Method::POST, SCAN, token, None, 200).await;
    assert_eq!(body["count"], body["alerts"].as_array().unwrap().len());
    body["alerts"].as_array().unwrap().clone()
}

fn kinds(alerts: &[Value]) -> Vec<&str> {
    alerts.iter().map(|a| a["type"].as_str().unwrap()).collect()
}

/// The app over `state` serving on a free loopback port; answers the WebSocket URL.
fn serve(state: web::Data<AppState>) -> String {
    let server = HttpServer::new(move || scale_http::app(state.clone(), &HttpSettings::default()))
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
    let url = format!("ws://{}/api/v1/ws/jobs", server.addrs()[0]);
    actix_rt::spawn(server.run());
    url
}

/// A WebSocket authenticated as `token`'s user and subscribed to its alerts.
async fn subscribed(url: &str, token: &str) -> Ws {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    ws_send(&mut ws, json!({"type": "auth", "token": token})).await;
    assert_eq!(ws_recv(&mut ws).await["type"], "authenticated");
    ws_send(&mut ws, json!({"type": "subscribe", "alerts": true})).await;
    let ack = ws_recv(&mut ws).await;
    assert_eq!(ack, json!({"type": "subscribed", "alerts": true}));
    ws
}

async fn ws_send(ws: &mut Ws, message: Value) {
    ws.send(Message::text(message.to_string())).await.unwrap();
}

/// The next JSON text message (control frames skipped).
async fn ws_recv(ws: &mut Ws) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, ws.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => return serde_json::from_str(&text).unwrap(),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}

/// Asserts nothing but the answers to two pings arrives: an alert already published would
/// come before the second `pong`.
async fn ws_quiet(ws: &mut Ws) {
    for _ in 0..2 {
        ws_send(ws, json!({"type": "ping"})).await;
        assert_eq!(ws_recv(ws).await, json!({"type": "pong"}));
    }
}

#[actix_rt::test]
async fn every_route_requires_a_bearer_token() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let (id, _) = user();
    let alert = "a".repeat(64);
    let routes = [
        (Method::GET, ALERTS.to_owned()),
        (Method::GET, format!("{ALERTS}/{id}")),
        (Method::GET, format!("{ALERTS}/stream")),
        (Method::POST, format!("{ALERTS}/{alert}/seen")),
        (Method::POST, format!("{ALERTS}/{alert}/dismiss")),
        (Method::GET, SETTINGS.to_owned()),
        (Method::PUT, SETTINGS.to_owned()),
        (Method::POST, SCAN.to_owned()),
    ];
    for (method, path) in routes {
        let res = send(&app, method.clone(), &path, None, None).await;
        problem(res, 401, "missing_credentials").await;
        let res = send(&app, method, &path, Some("not.a.jwt"), None).await;
        assert_eq!(res.status().as_u16(), 401, "{path}");
    }
}

#[actix_rt::test]
async fn an_import_with_a_duplicate_charge_raises_one_alert_over_the_websocket() {
    let db = TestDatabase::migrated();
    let state = TestApp::new(&db).state();
    let url = serve(state.clone());
    let app = test::init_service(scale_http::app(state, &HttpSettings::default())).await;
    let (_, token) = user();
    let (_, other) = user();
    let mut ws = subscribed(&url, &token).await;
    let mut watcher = subscribed(&url, &other).await;

    let imported = expect(
        &app,
        Method::POST,
        "/api/v1/ingest/import",
        &token,
        Some(with_duplicate()),
        200,
    )
    .await;
    assert_eq!(imported["inserted"], 6, "{imported}");
    let alert = ws_recv(&mut ws).await;
    assert_eq!(alert["type"], "alert", "{alert}");
    assert_eq!(alert["alert_type"], "duplicate_charge", "{alert}");
    assert_eq!(alert["status"], "new");
    assert_eq!(alert["amount"], -1499.0);
    assert_eq!(alert["transaction_ids"].as_array().unwrap().len(), 2);
    assert!(
        alert["message"].as_str().unwrap().contains("₹1,499"),
        "{alert}"
    );
    let stored = await_alerts(&app, &token, 1).await;
    assert_eq!(stored[0]["id"], alert["id"]);
    assert_eq!(stored[0]["type"], "duplicate_charge");

    // The same file again: refused, then forced (every row a duplicate): no alert.
    let again = send(
        &app,
        Method::POST,
        "/api/v1/ingest/import",
        Some(&token),
        Some(with_duplicate()),
    )
    .await;
    problem(again, 409, "file_already_imported").await;
    let forced = expect(
        &app,
        Method::POST,
        "/api/v1/ingest/import?force=true",
        &token,
        Some(with_duplicate()),
        200,
    )
    .await;
    assert_eq!(forced["inserted"], 0);
    // A re-scan of the whole history raises nothing either.
    assert_eq!(scan(&app, &token).await, Vec::<Value>::new());
    ws_quiet(&mut ws).await;
    assert_eq!(alerts(&app, &token, "").await.len(), 1);
    // The other user heard nothing of it.
    ws_quiet(&mut watcher).await;
    // Deleting the user's data deletes the alerts about it.
    let deleted = send(
        &app,
        Method::DELETE,
        "/api/v1/accounts/data",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(alerts(&app, &token, "").await, Vec::<Value>::new());
}

#[actix_rt::test]
async fn a_training_upload_and_a_chunked_import_are_scanned_too() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    // `POST /training/upload`: a CSV file with the duplicate.
    let (_, token) = user();
    let mut csv = String::from("Date,Amount,Description,Merchant\n");
    for (ago, amount, merchant) in [
        (6, "-250", "Zomato"),
        (4, "-300", "BigBasket"),
        (2, "-1499", "Amazon"),
        (2, "-1499", "Amazon"),
    ] {
        csv.push_str(&format!("{},{amount},Order,{merchant}\n", days_ago(ago)));
    }
    let (content_type, body) = multipart(&[("file", Some("s.csv"), csv.as_bytes())]);
    let req = test::TestRequest::post()
        .uri("/api/v1/training/upload")
        .insert_header(bearer(&token))
        .insert_header((header::CONTENT_TYPE, content_type))
        .set_payload(body)
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status().as_u16(), 200);
    let raised = await_alerts(&app, &token, 1).await;
    assert_eq!(kinds(&raised), ["duplicate_charge"]);

    // A chunked import: the history in one chunk, the duplicate in the other.
    let (_, token) = user();
    let rows = with_duplicate()["transactions"].as_array().unwrap().clone();
    for (index, part) in [&rows[..4], &rows[4..]].into_iter().enumerate() {
        let chunk = json!({
            "filename": "big.csv",
            "file_hash": "e".repeat(64),
            "chunk": {"index": index, "count": 2},
            "transactions": part,
        });
        expect(
            &app,
            Method::POST,
            "/api/v1/ingest/import",
            &token,
            Some(chunk),
            200,
        )
        .await;
    }
    let raised = await_alerts(&app, &token, 1).await;
    assert_eq!(kinds(&raised), ["duplicate_charge"]);
}

#[actix_rt::test]
async fn another_users_alerts_are_never_shown_or_changed() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let (alice, token) = user();
    let (bob, bobs) = user();
    expect(
        &app,
        Method::POST,
        "/api/v1/ingest/import",
        &token,
        Some(with_duplicate()),
        200,
    )
    .await;
    let id = await_alerts(&app, &token, 1).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    assert!(alerts(&app, &bobs, "").await.is_empty());
    problem(
        send(
            &app,
            Method::GET,
            &format!("{ALERTS}/{alice}"),
            Some(&bobs),
            None,
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let own = expect(
        &app,
        Method::GET,
        &format!("{ALERTS}/{bob}"),
        &bobs,
        None,
        200,
    )
    .await;
    assert_eq!(own["user_id"], bob.to_string());
    assert_eq!(own["alerts"], json!([]));
    for action in ["seen", "dismiss"] {
        let path = format!("{ALERTS}/{id}/{action}");
        problem(
            send(&app, Method::POST, &path, Some(&bobs), None).await,
            404,
            "not_found",
        )
        .await;
    }
    assert!(alerts(&app, &bobs, "").await.is_empty());
    assert_eq!(alerts(&app, &token, "&status=new").await.len(), 1);
    // Bob's scan of his (empty) history finds nothing of Alice's.
    assert!(scan(&app, &bobs).await.is_empty());

    // Alice's own: the old route, seen, then dismissed (both idempotent).
    let mine = expect(
        &app,
        Method::GET,
        &format!("{ALERTS}/{alice}"),
        &token,
        None,
        200,
    )
    .await;
    assert_eq!(mine["alerts"][0]["id"], id.as_str());
    assert!(mine["generated_at"].is_string());
    for _ in 0..2 {
        expect(
            &app,
            Method::POST,
            &format!("{ALERTS}/{id}/seen"),
            &token,
            None,
            204,
        )
        .await;
    }
    assert!(alerts(&app, &token, "&status=new").await.is_empty());
    assert_eq!(alerts(&app, &token, "&status=seen").await.len(), 1);
    for _ in 0..2 {
        expect(
            &app,
            Method::POST,
            &format!("{ALERTS}/{id}/dismiss"),
            &token,
            None,
            204,
        )
        .await;
    }
    // Seen after dismissed leaves it dismissed.
    expect(
        &app,
        Method::POST,
        &format!("{ALERTS}/{id}/seen"),
        &token,
        None,
        204,
    )
    .await;
    assert_eq!(alerts(&app, &token, "&status=dismissed").await.len(), 1);
    let unknown = format!("{ALERTS}/{}/seen", "b".repeat(64));
    problem(
        send(&app, Method::POST, &unknown, Some(&token), None).await,
        404,
        "not_found",
    )
    .await;
    // A dismissed alert never comes back as new.
    assert!(scan(&app, &token).await.is_empty());
    assert_eq!(alerts(&app, &token, "&status=dismissed").await.len(), 1);
}

#[actix_rt::test]
async fn hostile_input_is_refused_with_problems() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let (_, token) = user();
    for query in [
        "limit=0",
        "limit=1000000000",
        "limit=-1",
        "limit=abc",
        "limit=%00",
        "since=2026-02-30",
        "since=yesterday",
        "since=2026-01-01%00",
        "status=bogus",
        "status=new%00",
    ] {
        let res = send(
            &app,
            Method::GET,
            &format!("{ALERTS}?{query}"),
            Some(&token),
            None,
        )
        .await;
        problem(res, 422, "validation").await;
    }
    for cursor in ["nonsense", "%00", &"A".repeat(500)] {
        let res = send(
            &app,
            Method::GET,
            &format!("{ALERTS}?cursor={cursor}"),
            Some(&token),
            None,
        )
        .await;
        problem(res, 400, "invalid_cursor").await;
    }
    for path in [
        "not-a-uuid",
        "%00",
        "12345678-1234-1234-1234-12345678901%00",
    ] {
        let res = send(
            &app,
            Method::GET,
            &format!("{ALERTS}/{path}"),
            Some(&token),
            None,
        )
        .await;
        problem(res, 404, "not_found").await;
    }
    for id in ["short", "%00", &"g".repeat(64), &"A".repeat(64)] {
        let res = send(
            &app,
            Method::POST,
            &format!("{ALERTS}/{id}/dismiss"),
            Some(&token),
            None,
        )
        .await;
        problem(res, 404, "not_found").await;
    }
    for body in [
        json!({"duplicate_min": "NaN"}),
        json!({"duplicate_min": "Infinity"}),
        json!({"duplicate_min": -1}),
        json!({"duplicate_min": 1e300}),
        json!({"duplicate_min": null}),
        json!({"nul\u{0}": 1}),
        json!({"unknown": 1}),
        json!([1, 2]),
        json!("thresholds"),
    ] {
        let res = send(&app, Method::PUT, SETTINGS, Some(&token), Some(body)).await;
        problem(res, 422, "validation").await;
    }
    let huge = json!({"duplicate_min": 1, "padding": "x".repeat(2 * 1024 * 1024)});
    let res = send(&app, Method::PUT, SETTINGS, Some(&token), Some(huge)).await;
    problem(res, 413, "payload_too_large").await;
    let req = test::TestRequest::put()
        .uri(SETTINGS)
        .insert_header(bearer(&token))
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .set_payload("{\"duplicate_min\": NaN}")
        .to_request();
    problem(test::call_service(&app, req).await, 400, "malformed_json").await;
    // Nothing was stored by the refusals.
    let settings = expect(&app, Method::GET, SETTINGS, &token, None, 200).await;
    assert_eq!(settings["duplicate_min"], 100.0);
}

#[actix_rt::test]
async fn thresholds_change_what_fires() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let (id, token) = user();
    seed(
        &db,
        id,
        &[
            (4, "-300", "BIGBASKET"),
            (1, "-1499", "AMAZON PAY"),
            (1, "-1499", "AMAZON PAY"),
        ],
    )
    .await;
    let defaults = expect(&app, Method::GET, SETTINGS, &token, None, 200).await;
    assert_eq!(defaults["duplicate_min"], 100.0);
    assert_eq!(defaults["outlier_min_excess"], 500.0);
    let set = expect(
        &app,
        Method::PUT,
        SETTINGS,
        &token,
        Some(json!({"duplicate_min": 2000})),
        200,
    )
    .await;
    assert_eq!(set["duplicate_min"], 2000.0);
    assert_eq!(set["daily_spike_min"], 3000.0);
    assert_eq!(
        expect(&app, Method::GET, SETTINGS, &token, None, 200).await,
        set
    );
    assert!(scan(&app, &token).await.is_empty());
    expect(
        &app,
        Method::PUT,
        SETTINGS,
        &token,
        Some(json!({"duplicate_min": 1000})),
        200,
    )
    .await;
    let raised = scan(&app, &token).await;
    assert_eq!(kinds(&raised), ["duplicate_charge"]);
    assert_eq!(alerts(&app, &token, "").await.len(), 1);
    // Another user's settings are their own.
    let (_, other) = user();
    assert_eq!(
        expect(&app, Method::GET, SETTINGS, &other, None, 200).await,
        defaults
    );
}

/// Six ordinary orders at `merchant` over the last weeks.
fn usual(merchant: &'static str) -> Vec<(u64, &'static str, &'static str)> {
    [40, 33, 26, 19, 12, 8]
        .into_iter()
        .zip(["-300", "-320", "-280", "-310", "-290", "-305"])
        .map(|(ago, amount)| (ago, amount, merchant))
        .collect()
}

#[actix_rt::test]
async fn dismissing_a_merchant_outlier_suppresses_the_next_one() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let (alice, token) = user();
    let (bob, bobs) = user();
    for id in [alice, bob] {
        seed(&db, id, &usual("SWIGGY")).await;
        seed(&db, id, &[(5, "-2900", "SWIGGY")]).await;
    }
    let first = scan(&app, &token).await;
    assert_eq!(kinds(&first), ["merchant_amount_outlier"], "{first:#?}");
    assert!(
        first[0]["message"].as_str().unwrap().contains("Swiggy")
            || first[0]["message"].as_str().unwrap().contains("SWIGGY")
    );
    let id = first[0]["id"].as_str().unwrap();
    expect(
        &app,
        Method::POST,
        &format!("{ALERTS}/{id}/dismiss"),
        &token,
        None,
        204,
    )
    .await;
    assert_eq!(kinds(&scan(&app, &bobs).await), ["merchant_amount_outlier"]);

    // A second outlier at the same merchant: suppressed for Alice, raised for Bob.
    for id in [alice, bob] {
        seed(&db, id, &[(2, "-3100", "SWIGGY")]).await;
    }
    assert!(scan(&app, &token).await.is_empty());
    assert_eq!(kinds(&scan(&app, &bobs).await), ["merchant_amount_outlier"]);
    assert_eq!(alerts(&app, &token, "").await.len(), 1);
    assert_eq!(alerts(&app, &bobs, "").await.len(), 2);
    // Paging: one alert per page, the cursor leads to the other, then the end.
    let page = expect(
        &app,
        Method::GET,
        &format!("{ALERTS}?limit=1"),
        &bobs,
        None,
        200,
    )
    .await;
    assert_eq!(page["alerts"].as_array().unwrap().len(), 1);
    let cursor = page["next_cursor"].as_str().unwrap();
    let next = expect(
        &app,
        Method::GET,
        &format!("{ALERTS}?limit=1&cursor={cursor}"),
        &bobs,
        None,
        200,
    )
    .await;
    assert_eq!(next["alerts"].as_array().unwrap().len(), 1);
    assert_ne!(next["alerts"][0]["id"], page["alerts"][0]["id"]);
    assert!(next["alerts"][0]["date"].as_str() <= page["alerts"][0]["date"].as_str());
    assert_eq!(next["next_cursor"], Value::Null);
    // `since` keeps only the alerts of that day or later.
    assert_eq!(
        alerts(&app, &bobs, &format!("&since={}", days_ago(3)))
            .await
            .len(),
        1
    );
    // A merchant the dismissal is not about still raises.
    seed(&db, alice, &usual("ZOMATO")).await;
    seed(&db, alice, &[(1, "-2800", "ZOMATO")]).await;
    assert_eq!(
        kinds(&scan(&app, &token).await),
        ["merchant_amount_outlier"]
    );
}

fn raised(user: Uuid, period: &str) -> AlertRaised {
    AlertRaised {
        user_id: user,
        status: AlertStatus::New,
        currency: "INR".into(),
        alert: Alert::new(AlertKind::DailySpendSpike, vec![], period.into()),
    }
}

/// The next SSE frame that is not a keep-alive comment.
async fn next_frame<B: MessageBody + Unpin>(body: &mut B) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(
            left,
            poll_fn(|cx| std::pin::Pin::new(&mut *body).poll_next(cx)),
        )
        .await
        .expect("a frame in time");
        let Some(Ok(bytes)) = chunk else {
            panic!("the stream ended");
        };
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        if !text.starts_with(':') {
            return text;
        }
    }
}

#[actix_rt::test]
async fn the_alert_stream_sends_only_the_callers_alerts() {
    let db = TestDatabase::create();
    let (state, app) = TestApp::new(&db).start().await;
    let (alice, token) = user();
    let (bob, _) = user();
    let res = send(
        &app,
        Method::GET,
        &format!("{ALERTS}/stream"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        res.headers().get(header::CONTENT_TYPE).unwrap(),
        "text/event-stream"
    );
    let mut body = pin!(res.into_body());
    let (bobs, alices) = (raised(bob, "2026-02-12"), raised(alice, "2026-02-13"));
    state.alerts.publish(bobs).await;
    state.alerts.publish(alices.clone()).await;
    let frame = next_frame(&mut body).await;
    let expected = format!("id: {}\nevent: alert\ndata: ", alices.alert.id);
    assert!(frame.starts_with(&expected), "{frame}");
    let data: Value = serde_json::from_str(frame[expected.len()..].trim_end()).unwrap();
    assert_eq!(data["type"], "daily_spend_spike");
    assert_eq!(data["period_key"], "2026-02-13");
    assert!(data.get("user_id").is_none());
}

#[actix_rt::test]
async fn an_alert_raised_in_one_process_reaches_a_websocket_of_another() {
    let db = TestDatabase::migrated();
    let prefix = unique_prefix();
    let bus = || Bus::<AlertRaised>::connect(Some(REDIS_URL), &prefix).unwrap();
    let (bus_a, bus_b) = (bus(), bus());
    for bus in [&bus_a, &bus_b] {
        assert_eq!(bus.live_within(WAIT).await, BusStatus::Redis);
    }
    let a = TestApp::new(&db).with_alert_bus(bus_a).state();
    let b = TestApp::new(&db).with_alert_bus(bus_b).state();
    let url_b = serve(b);
    let app_a = test::init_service(scale_http::app(a, &HttpSettings::default())).await;
    let (id, token) = user();
    let mut ws = subscribed(&url_b, &token).await;
    seed(&db, id, &[(3, "-999", "NETFLIX"), (3, "-999", "NETFLIX")]).await;
    let raised = scan(&app_a, &token).await;
    assert_eq!(kinds(&raised), ["duplicate_charge"]);
    let alert = ws_recv(&mut ws).await;
    assert_eq!(alert["type"], "alert");
    assert_eq!(alert["alert_type"], "duplicate_charge");
    assert_eq!(alert["id"], raised[0]["id"]);
    ws_quiet(&mut ws).await;
}

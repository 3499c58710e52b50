//! The ops dashboard's feed (`GET /api/v1/ops/stream`) and page (`GET /ops`): snapshots of every
//! actor, the job queue and the problems seen, pushed at most every 500 ms; admin only.

use std::future::poll_fn;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::{header, Method};
use actix_web::test;
use scale_http::auth::Role;
use scale_schema::testing::TestDatabase;
use serde_json::{json, Value};

use crate::common::{bearer, execute, expect, get, problem, user, user_as, TestApp};

const STREAM: &str = "/api/v1/ops/stream";

/// The next `snapshot` event of a feed (each frame is one chunk), within ten seconds.
async fn next_snapshot<B: MessageBody>(body: &mut std::pin::Pin<Box<B>>) -> Value {
    let chunk = tokio::time::timeout(
        Duration::from_secs(10),
        poll_fn(|cx| body.as_mut().poll_next(cx)),
    )
    .await
    .expect("no snapshot within 10 s")
    .expect("the feed ended")
    .map_err(Into::into)
    .unwrap();
    let text = std::str::from_utf8(&chunk).unwrap();
    let data = text
        .strip_prefix("event: snapshot\ndata: ")
        .and_then(|rest| rest.strip_suffix("\n\n"))
        .unwrap_or_else(|| panic!("not one snapshot frame: {text:?}"));
    serde_json::from_str(data).unwrap()
}

/// Reads snapshots until `want` holds for one (ten-second deadline); returns it.
async fn snapshot_where<B: MessageBody>(
    body: &mut std::pin::Pin<Box<B>>,
    want: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let snapshot = next_snapshot(body).await;
        if want(&snapshot) {
            return snapshot;
        }
        assert!(Instant::now() < deadline, "last snapshot: {snapshot}");
    }
}

fn actor<'a>(snapshot: &'a Value, name: &str) -> &'a Value {
    snapshot["actors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("no actor {name} in {snapshot}"))
}

#[actix_rt::test]
async fn the_feed_lists_every_actor_and_follows_a_crash_and_the_queue() {
    let db = TestDatabase::migrated();
    let (state, app) = TestApp::new(&db).start().await;
    let (_, admin) = user_as(Role::Admin);
    let res = test::call_service(&app, get(STREAM, Some(&admin))).await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        res.headers().get(header::CONTENT_TYPE).unwrap(),
        "text/event-stream"
    );
    assert_eq!(
        res.headers().get(header::CACHE_CONTROL).unwrap(),
        "no-cache"
    );
    let mut body = Box::pin(res.into_body());

    let first = next_snapshot(&mut body).await;
    let mut listed: Vec<&str> = first["actors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    let mut registered: Vec<&str> = state.registry.snapshot().iter().map(|a| a.name).collect();
    listed.sort_unstable();
    registered.sort_unstable();
    assert_eq!(listed, registered);
    assert!(listed.contains(&"analytics") && listed.contains(&"health"));
    assert_eq!(first["chaos_enabled"], true);
    assert_eq!(actor(&first, "analytics")["restarts"], 0);
    assert_eq!(actor(&first, "analytics")["escalated"], false);
    assert!(first["traffic"]["requests_per_s"].is_number(), "{first}");

    // A queued job shows in the queue counts once the health actor probed the table.
    let (_, owner) = user();
    let body_json = Some(json!({ "kind": "categorizer" }));
    expect(
        &app,
        Method::POST,
        "/api/v1/training/jobs",
        &owner,
        body_json,
        202,
    )
    .await;
    let queued = snapshot_where(&mut body, |s| s["jobs"]["pending"] == 1).await;
    assert_eq!(queued["jobs"]["processing"], 0);
    assert_eq!(queued["jobs"]["role"], "api");
    execute(
        &db,
        "UPDATE training_jobs SET status = 'failed', finished_at = now(), error = 'boom'",
    )
    .await;
    let failed = snapshot_where(&mut body, |s| s["jobs"]["failed_last_day"] == 1).await;
    assert_eq!(failed["jobs"]["pending"], 0);

    // A crash shows as a restart and a problem.
    let crash = test::TestRequest::post()
        .uri("/api/v1/ops/actors/analytics/crash")
        .insert_header(bearer(&admin))
        .to_request();
    problem(test::call_service(&app, crash).await, 500, "actor_crashed").await;
    let crashed = snapshot_where(&mut body, |s| actor(s, "analytics")["restarts"] == 1).await;
    let messages: Vec<&str> = crashed["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["message"].as_str())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("actor analytics restarted (1 restarts in all)")),
        "{messages:?}"
    );
    // The next push (a change, or the five-second refresh) waits at least ~500 ms.
    let previous = Instant::now();
    next_snapshot(&mut body).await;
    let gap = previous.elapsed();
    assert!(gap >= Duration::from_millis(400), "pushed after {gap:?}");
}

#[actix_rt::test]
async fn the_feed_is_for_admins_only() {
    let db = TestDatabase::migrated();
    let app = TestApp::new(&db).service().await;
    problem(
        test::call_service(&app, get(STREAM, None)).await,
        401,
        "missing_credentials",
    )
    .await;
    let (_, plain) = user();
    let res = test::call_service(&app, get(STREAM, Some(&plain))).await;
    let refused = problem(res, 403, "forbidden").await;
    assert!(refused.get("actors").is_none());
    // A token in the query string is not a credential.
    let (_, admin) = user_as(Role::Admin);
    let res = test::call_service(&app, get(&format!("{STREAM}?token={admin}"), None)).await;
    assert_eq!(res.status().as_u16(), 401);
    // Hostile headers: garbage, a huge value, a non-UTF-8 one.
    for value in [
        "Bearer \"; DROP TABLE users; --".to_owned(),
        format!("Bearer {}", "A".repeat(64 * 1024)),
        "Basic YWRtaW46YWRtaW4=".to_owned(),
    ] {
        let req = test::TestRequest::get()
            .uri(STREAM)
            .insert_header((header::AUTHORIZATION, value))
            .to_request();
        assert_eq!(test::call_service(&app, req).await.status().as_u16(), 401);
    }
    let req = test::TestRequest::get()
        .uri(STREAM)
        .insert_header((
            header::AUTHORIZATION,
            header::HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap(),
        ))
        .to_request();
    assert_eq!(test::call_service(&app, req).await.status().as_u16(), 401);
    // Other methods are not routed to the feed.
    let req = test::TestRequest::post()
        .uri(STREAM)
        .insert_header(bearer(&admin))
        .to_request();
    assert!(test::call_service(&app, req)
        .await
        .status()
        .is_client_error());
}

/// A page or asset answer: 200 with `content_type` and the page's own narrow policy.
async fn asset(res: ServiceResponse<impl MessageBody>, content_type: &str) -> String {
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        res.headers().get(header::CONTENT_TYPE).unwrap(),
        content_type
    );
    let csp = res
        .headers()
        .get(header::CONTENT_SECURITY_POLICY)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(res.headers().get(header::X_FRAME_OPTIONS).unwrap(), "DENY");
    String::from_utf8(test::read_body(res).await.to_vec()).unwrap()
}

#[actix_rt::test]
async fn the_page_and_its_assets_are_served_from_the_binary() {
    let db = TestDatabase::migrated();
    let app = TestApp::new(&db).service().await;
    let html = asset(
        test::call_service(&app, get("/ops", None)).await,
        "text/html; charset=utf-8",
    )
    .await;
    assert!(html.contains(r#"<script src="/ops/dashboard.js" defer></script>"#));
    assert!(html.contains(r#"href="/ops/dashboard.css""#));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no CDN"
    );
    let script = asset(
        test::call_service(&app, get("/ops/dashboard.js", None)).await,
        "text/javascript; charset=utf-8",
    )
    .await;
    assert!(script.contains("sessionStorage") && script.contains("Authorization"));
    assert!(!script.contains("localStorage") && !script.contains("EventSource("));
    asset(
        test::call_service(&app, get("/ops/dashboard.css", None)).await,
        "text/css; charset=utf-8",
    )
    .await;
    // API answers keep the deny-all policy.
    let (_, admin) = user_as(Role::Admin);
    let res = test::call_service(&app, get("/api/v1/ops/actors", Some(&admin))).await;
    assert_eq!(
        res.headers().get(header::CONTENT_SECURITY_POLICY).unwrap(),
        "default-src 'none'; frame-ancestors 'none'"
    );
}

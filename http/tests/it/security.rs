//! Security hardening of the HTTP front: security headers on every response (success, problems,
//! caught panics), HSTS only in production, no `Server` header; per-caller rate limits in Redis
//! with an in-process fallback while Redis is down; and a property test sending arbitrary text
//! (NUL and other control characters included) to every text field of every route, where no
//! answer may be a 5xx.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header::{self, HeaderMap};
use actix_web::http::{Method, StatusCode};
use actix_web::test;
use proptest::prelude::*;
use proptest::test_runner::{TestCaseResult, TestRunner};
use scale_actors::redis_pool;
use scale_chaos::{FaultMode, FaultProxy};
use scale_http::auth::{mint_token, Role};
use scale_http::rate_limit::lease::max_lease;
use scale_http::rate_limit::{
    Limit, Tier, DEFAULT_REDIS_TIMEOUT, X_RATELIMIT_LIMIT, X_RATELIMIT_REMAINING,
};
use scale_http::security_headers::{ALWAYS, HSTS};
use scale_http::{HttpSettings, RateLimiter, RateLimits};
use scale_schema::testing::TestDatabase;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{
    get, multipart, probe_routes, problem, redis_count, unique_prefix, TestApp, REDIS_URL, SECRET,
};

async fn service(
    state: actix_web::web::Data<scale_http::AppState>,
    hsts: bool,
) -> impl Service<
    actix_http::Request,
    Response = ServiceResponse<impl MessageBody>,
    Error = actix_web::Error,
> {
    let settings = HttpSettings {
        hsts,
        ..HttpSettings::default()
    };
    test::init_service(scale_http::app(state, &settings).configure(probe_routes)).await
}

/// Asserts the security headers (HSTS as given) and no `Server` header.
fn assert_secured(headers: &HeaderMap, hsts: bool, what: &str) {
    for (name, value) in ALWAYS {
        assert_eq!(headers.get(&name).unwrap(), value, "{name} on {what}");
    }
    assert_eq!(
        headers
            .get(header::STRICT_TRANSPORT_SECURITY)
            .map(|v| v.to_str().unwrap()),
        hsts.then_some(HSTS),
        "HSTS on {what}"
    );
    assert!(!headers.contains_key(header::SERVER), "Server on {what}");
}

/// The panic route's answer: an error that renders its own 500 response.
async fn panic_response(
    app: &impl Service<actix_http::Request, Error = actix_web::Error>,
) -> actix_web::HttpResponse {
    let err = app
        .call(get("/test/explode", None))
        .await
        .err()
        .expect("a panic surfaces as an error that renders itself");
    let res = err.error_response();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    res
}

fn admin_token() -> String {
    mint_token(SECRET, Uuid::new_v4(), Role::Admin, 600)
}

/// A GET from the peer `ip`, with a bearer token when given.
fn get_from(ip: &str, path: &str, token: Option<&str>) -> actix_http::Request {
    let mut req = test::TestRequest::get()
        .uri(path)
        .peer_addr(format!("{ip}:40000").parse().unwrap());
    if let Some(token) = token {
        req = req.insert_header(crate::common::bearer(token));
    }
    req.to_request()
}

fn header_u64(headers: &HeaderMap, name: impl header::AsHeaderName) -> u64 {
    headers
        .get(name)
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// A limiter on Redis at `url` under a fresh prefix (returned too).
fn limiter(url: &str, limits: RateLimits, timeout: Duration) -> (RateLimiter, String) {
    let prefix = unique_prefix();
    (process(url, &prefix, limits, timeout), prefix)
}

/// A limiter on Redis at `url` under `prefix`: one process among those sharing the prefix.
fn process(url: &str, prefix: &str, limits: RateLimits, timeout: Duration) -> RateLimiter {
    RateLimiter::new(Some(url), prefix, limits, timeout).unwrap()
}

/// A limited route that answers 200 to any admin without touching the database.
const LIMITED: &str = "/api/v1/ops/actors";

#[actix_rt::test]
async fn every_response_carries_the_security_headers() {
    let db = TestDatabase::migrated();
    let app = service(TestApp::new(&db).state(), false).await;
    let res = test::call_service(&app, get("/api/v1/health", None)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_secured(res.headers(), false, "200");
    let res = test::call_service(&app, get(LIMITED, None)).await;
    assert_secured(res.headers(), false, "401");
    problem(res, 401, "missing_credentials").await;
    for path in ["/api/v1/nope", "/nope"] {
        let res = test::call_service(&app, get(path, None)).await;
        assert_secured(res.headers(), false, path);
        problem(res, 404, "not_found").await;
    }
    let big = format!(
        "{{\"n\": 1, \"pad\": \"{}\"}}",
        "x".repeat(scale_http::JSON_LIMIT)
    );
    let req = test::TestRequest::post()
        .uri("/test/echo")
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .set_payload(big)
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_secured(res.headers(), false, "413");
    problem(res, 413, "payload_too_large").await;
    let res = panic_response(&app).await;
    assert_secured(res.headers(), false, "a caught panic");
}

#[actix_rt::test]
async fn hsts_is_sent_only_when_enabled() {
    let db = TestDatabase::migrated();
    let app = service(TestApp::new(&db).state(), true).await;
    let res = test::call_service(&app, get("/api/v1/health", None)).await;
    assert_secured(res.headers(), true, "200");
    let res = test::call_service(&app, get("/api/v1/nope", None)).await;
    assert_secured(res.headers(), true, "404");
    let res = panic_response(&app).await;
    assert_secured(res.headers(), true, "a caught panic");
}

#[actix_rt::test]
async fn callers_over_their_limit_get_429_keyed_by_user_or_ip() {
    let db = TestDatabase::migrated();
    let limits = RateLimits {
        import: Limit {
            max: 7,
            window: Duration::from_secs(60),
        },
        ..RateLimits::uniform(3, Duration::from_secs(60))
    };
    let (limiter, prefix) = limiter(REDIS_URL, limits, Duration::from_secs(2));
    let app = service(TestApp::new(&db).with_rate_limiter(limiter).state(), false).await;
    let alice = Uuid::new_v4();
    let alice_token = mint_token(SECRET, alice, Role::Admin, 600);

    for remaining in (0..3u64).rev() {
        let res = test::call_service(&app, get_from("10.0.0.1", LIMITED, Some(&alice_token))).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(header_u64(res.headers(), X_RATELIMIT_LIMIT), 3);
        assert_eq!(header_u64(res.headers(), X_RATELIMIT_REMAINING), remaining);
    }
    let res = test::call_service(&app, get_from("10.0.0.1", LIMITED, Some(&alice_token))).await;
    let retry_after = header_u64(res.headers(), header::RETRY_AFTER);
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    assert_eq!(header_u64(res.headers(), X_RATELIMIT_LIMIT), 3);
    assert_eq!(header_u64(res.headers(), X_RATELIMIT_REMAINING), 0);
    problem(res, 429, "rate_limited").await;
    let redis = redis_pool::connect(REDIS_URL, Duration::from_secs(2)).unwrap();
    let key = format!("{prefix}rl:default:user:{alice}");
    assert_eq!(
        redis_count(&redis, &key).await,
        3,
        "denied requests are not counted"
    );

    // Another user from the same address is unaffected; so are Alice's other tiers.
    let res = test::call_service(&app, get_from("10.0.0.1", LIMITED, Some(&admin_token()))).await;
    assert_eq!(res.status(), StatusCode::OK);
    let import = test::TestRequest::post()
        .uri("/api/v1/ingest/import")
        .insert_header(crate::common::bearer(&alice_token))
        .to_request();
    let res = test::call_service(&app, import).await;
    assert_eq!(header_u64(res.headers(), X_RATELIMIT_LIMIT), 7);
    assert_ne!(res.status(), StatusCode::TOO_MANY_REQUESTS);

    // Anonymous callers are keyed by peer address; X-Forwarded-For is not trusted.
    for _ in 0..3 {
        let res = test::call_service(&app, get_from("10.0.0.2", LIMITED, None)).await;
        problem(res, 401, "missing_credentials").await;
    }
    let spoofed = test::TestRequest::get()
        .uri(LIMITED)
        .peer_addr("10.0.0.2:40001".parse().unwrap())
        .insert_header(("x-forwarded-for", "192.0.2.77"))
        .to_request();
    problem(test::call_service(&app, spoofed).await, 429, "rate_limited").await;
    let res = test::call_service(&app, get_from("10.0.0.3", LIMITED, None)).await;
    problem(res, 401, "missing_credentials").await;

    // Health routes are exempt.
    for _ in 0..5 {
        let res = test::call_service(&app, get_from("10.0.0.2", "/api/v1/health", None)).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(!res.headers().contains_key(X_RATELIMIT_LIMIT));
    }
}

#[actix_rt::test]
async fn processes_sharing_a_window_lease_permits_but_never_pass_the_limit() {
    // Two limiters on one prefix stand for two processes; the limit is high enough to lease.
    let timeout = Duration::from_secs(2);
    let limits = RateLimits::uniform(1_000, Duration::from_secs(60));
    let (a, prefix) = limiter(REDIS_URL, limits, timeout);
    let b = process(REDIS_URL, &prefix, limits, timeout);
    let mut admitted = 0;
    for i in 0..1_500 {
        let limiter = if i % 3 == 0 { &b } else { &a };
        let decision = limiter.check(Tier::Default, "user:x").await;
        assert!(decision.remaining < 1_000);
        admitted += u32::from(decision.allowed);
    }
    let key = a.key(Tier::Default, "user:x");
    let redis = redis_pool::connect(REDIS_URL, timeout).unwrap();
    assert_eq!(
        redis_count(&redis, &key).await,
        1_000,
        "every permit is counted"
    );
    assert!(admitted <= 1_000, "admitted {admitted}");
    // At worst each process is left holding one lease it could not spend in time.
    let slack = 2 * (max_lease(limits.default) - 1);
    assert!(admitted >= 1_000 - slack, "admitted {admitted}");
    let mut conn = redis.get().await.unwrap();
    let members: Vec<String> = redis::cmd("ZRANGE")
        .arg(&key)
        .arg(0)
        .arg(-1)
        .query_async(&mut *conn)
        .await
        .unwrap();
    assert!(
        members.iter().any(|m| m.ends_with(":2")),
        "some round trip leased more than one permit"
    );
}

#[actix_rt::test]
async fn the_window_slides_open_again() {
    let db = TestDatabase::migrated();
    let window = Duration::from_secs(2);
    let (limiter, _) = limiter(
        REDIS_URL,
        RateLimits::uniform(2, window),
        Duration::from_secs(2),
    );
    let app = service(TestApp::new(&db).with_rate_limiter(limiter).state(), false).await;
    let token = admin_token();
    let call = || test::call_service(&app, get(LIMITED, Some(&token)));
    // Fill the window; on a machine too loaded to make three calls within it, the first ones
    // may already have left, so retry until a denial is observed.
    let deadline = Instant::now() + Duration::from_secs(15);
    let denied = loop {
        let res = call().await;
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            break res;
        }
        assert_eq!(res.status(), StatusCode::OK);
        assert!(Instant::now() < deadline, "never limited");
    };
    assert!((1..=2).contains(&header_u64(denied.headers(), header::RETRY_AFTER)));
    problem(denied, 429, "rate_limited").await;
    loop {
        let res = call().await;
        if res.status() == StatusCode::OK {
            assert!(header_u64(res.headers(), X_RATELIMIT_REMAINING) <= 1);
            break;
        }
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(Instant::now() < deadline, "the window never slid open");
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
}

#[actix_rt::test]
async fn without_redis_limits_hold_in_process_and_redis_takes_over_again() {
    let db = TestDatabase::migrated();
    let proxy = FaultProxy::start("127.0.0.1:6379".parse().unwrap());
    let (limiter, prefix) = limiter(
        &format!("redis://{}", proxy.addr()),
        RateLimits::uniform(2, Duration::from_secs(60)),
        Duration::from_millis(300),
    );
    let app = service(TestApp::new(&db).with_rate_limiter(limiter).state(), false).await;
    let redis = redis_pool::connect(REDIS_URL, Duration::from_secs(2)).unwrap();
    let key = |user: Uuid| format!("{prefix}rl:default:user:{user}");
    let call = |user: Uuid| {
        let token = mint_token(SECRET, user, Role::Admin, 600);
        test::call_service(&app, get(LIMITED, Some(&token)))
    };

    let before = Uuid::new_v4();
    assert_eq!(call(before).await.status(), StatusCode::OK);
    assert_eq!(redis_count(&redis, &key(before)).await, 1);

    proxy.set_mode(FaultMode::Down);
    let during = Uuid::new_v4();
    let started = Instant::now();
    assert_eq!(call(during).await.status(), StatusCode::OK);
    assert_eq!(call(during).await.status(), StatusCode::OK);
    problem(call(during).await, 429, "rate_limited").await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the fallback answered slowly"
    );
    assert_eq!(redis_count(&redis, &key(during)).await, 0);

    proxy.set_mode(FaultMode::Pass);
    let after = Uuid::new_v4();
    let deadline = Instant::now() + Duration::from_secs(10);
    while redis_count(&redis, &key(after)).await == 0 {
        assert!(Instant::now() < deadline, "Redis never took over again");
        let _ = call(after).await;
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
    // Back on Redis: a fresh caller's window is counted there and enforced.
    let fresh = Uuid::new_v4();
    assert_eq!(call(fresh).await.status(), StatusCode::OK);
    assert_eq!(call(fresh).await.status(), StatusCode::OK);
    problem(call(fresh).await, 429, "rate_limited").await;
    assert_eq!(redis_count(&redis, &key(fresh)).await, 2);
}

/// The answers of the caller behind `token` to every path in `paths` (each sent `times` times,
/// in turn), with how many reached a handler: anything but 404, 405 and 429. Every answer but
/// a handler's in an exempt tier carries the limit of the tier it was counted in.
async fn spell(
    app: &impl Service<
        actix_http::Request,
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
    >,
    method: &Method,
    paths: &[&str],
    token: &str,
    times: usize,
) -> (u32, Vec<(String, StatusCode, Option<u64>)>) {
    let mut handled = 0;
    let mut answers = Vec::new();
    for _ in 0..times {
        for path in paths {
            let req = test::TestRequest::default()
                .method(method.clone())
                .uri(path)
                .insert_header(crate::common::bearer(token))
                .to_request();
            let res = test::call_service(app, req).await;
            let status = res.status();
            if ![404, 405, 429].contains(&status.as_u16()) {
                handled += 1;
            }
            let limit = res
                .headers()
                .contains_key(X_RATELIMIT_LIMIT)
                .then(|| header_u64(res.headers(), X_RATELIMIT_LIMIT));
            answers.push(((*path).to_owned(), status, limit));
        }
    }
    (handled, answers)
}

#[actix_rt::test]
async fn no_spelling_of_a_path_changes_its_tier() {
    let db = TestDatabase::migrated();
    let minute = Duration::from_secs(60);
    let per_minute = |max| Limit {
        max,
        window: minute,
    };
    // Distinct limits, so every answer names the tier it was counted in.
    let limits = RateLimits {
        default: per_minute(4),
        import: per_minute(2),
        classify: per_minute(5),
        training: per_minute(3),
    };
    let (limiter, _) = limiter(REDIS_URL, limits, Duration::from_secs(2));
    let app = service(TestApp::new(&db).with_rate_limiter(limiter).state(), false).await;
    let default = u64::from(limits.default.max);
    // Each group: a route's spellings (the router's path for them is the route's), then paths
    // that look alike but match no route (404: the default tier).
    let groups: [(Method, Tier, &[&str], &[&str]); 5] = [
        (
            Method::POST,
            Tier::Import,
            &[
                "/api/v1/ingest/imp%6Frt",
                "/api/v1/ingest/imp%6frt",
                "/api/v1/%69ngest/%69mport",
                "/api/v%31/ingest/import",
                "/api/v1/ingest/import",
            ],
            &[
                "/api/v1/ingest%2Fimport",
                "/api/v1/ingest%2fimport",
                "/api/v1/ingest/import/",
                "/api/v1//ingest/import",
                "/api/v1/ingest//import",
            ],
        ),
        (
            Method::POST,
            Tier::Import,
            &["/api/v1/training/upl%6Fad", "/api/v1/tr%61ining/upload"],
            &["/api/v1/training/upload/", "/api/v1/training%2Fupload"],
        ),
        (
            Method::POST,
            Tier::Training,
            &[
                "/api/v1/training/tr%61in",
                "/api/v1/training/trai%6E",
                "/api/v1/training/trai%6e",
                "/api/v1/training/j%6Fbs",
                "/api/v1/training/train",
            ],
            &[
                "/api/v1/training/train/",
                "/api/v1//training/train",
                "/api/v1/training%2Ftrain",
                "/api/v1/training%2ftrain",
            ],
        ),
        (
            Method::GET,
            Tier::Default,
            &[
                "/api/v1/ops/act%6Frs",
                "/api/v1/ops/act%6frs",
                "/api/v1/%6Fps/actors",
                "/api/v1/ops/actors",
            ],
            &["/api/v1/ops/actors/", "/api/v1//ops/actors"],
        ),
        (
            Method::POST,
            Tier::Default,
            &[
                "/api/v1/ingest/p%61rse",
                "/api/v1/ing%65st/pars%65",
                "/api/v1/ingest/parse",
            ],
            &[],
        ),
    ];
    for (method, tier, routed, unrouted) in groups {
        let limit = limits.get(tier).max;
        let paths = [routed, unrouted].concat();
        let (handled, answers) = spell(&app, &method, &paths, &admin_token(), 3).await;
        assert_eq!(handled, limit, "{method} {tier:?}: {answers:?}");
        for (path, status, counted_in) in &answers {
            let want = if routed.contains(&path.as_str()) {
                u64::from(limit)
            } else {
                assert_ne!(*status, StatusCode::OK, "{method} {path}");
                default
            };
            assert_eq!(*counted_in, Some(want), "{method} {path}: {status}");
        }
    }

    // The health routes are exempt however they are spelled; paths that only look like them
    // are not.
    let health = [
        "/api/v1/health",
        "/api/v1/h%65alth",
        "/api/v1/health/re%61dy",
        "/api/v1/%68ealth/ready",
    ];
    let (handled, answers) = spell(&app, &Method::GET, &health, &admin_token(), 3).await;
    assert_eq!(handled, 12, "{answers:?}");
    assert!(
        answers.iter().all(|(_, _, limit)| limit.is_none()),
        "{answers:?}"
    );
    let lookalikes = [
        "/api/v1/health/",
        "/api/v1/health/nope",
        "/api/v1/h%65alth/nope",
        "/api/v1//health",
        "/api/v1/health%2Fready",
    ];
    let (handled, answers) = spell(&app, &Method::GET, &lookalikes, &admin_token(), 1).await;
    assert_eq!(handled, 0, "{answers:?}");
    let statuses: Vec<u16> = answers
        .iter()
        .map(|(_, status, _)| status.as_u16())
        .collect();
    assert_eq!(statuses, [404, 404, 404, 404, 429], "{answers:?}");
    assert!(
        answers.iter().all(|(_, _, limit)| *limit == Some(default)),
        "{answers:?}"
    );
}

/// Sends `n` checks by `subject` at once (spawned tasks), in turn through each of `processes`;
/// returns how many were admitted.
async fn burst(processes: &[Arc<RateLimiter>], subject: &str, n: usize) -> u64 {
    let checks: Vec<_> = (0..n)
        .map(|i| {
            let limiter = Arc::clone(&processes[i % processes.len()]);
            let subject = subject.to_owned();
            tokio::spawn(async move { limiter.check(Tier::Default, &subject).await.allowed })
        })
        .collect();
    let mut admitted = 0;
    for check in checks {
        admitted += u64::from(check.await.unwrap());
    }
    admitted
}

/// Two limiters on `url` sharing a fresh prefix: two processes, with the default timeout.
fn two_processes(url: &str, limits: RateLimits) -> [Arc<RateLimiter>; 2] {
    let prefix = unique_prefix();
    [(); 2].map(|()| Arc::new(process(url, &prefix, limits, DEFAULT_REDIS_TIMEOUT)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_admit_exactly_the_limit_under_a_concurrent_burst() {
    let limits = RateLimits::default();
    let processes = two_processes(REDIS_URL, limits);
    let redis = redis_pool::connect(REDIS_URL, Duration::from_secs(2)).unwrap();
    for round in 0..3 {
        let subject = format!("user:{}", Uuid::new_v4());
        let admitted = burst(&processes, &subject, 150).await;
        assert_eq!(admitted, 100, "round {round}");
        let key = processes[0].key(Tier::Default, &subject);
        assert_eq!(redis_count(&redis, &key).await, 100, "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_redis_is_waited_for_and_a_burst_still_admits_exactly_the_limit() {
    let proxy = FaultProxy::start("127.0.0.1:6379".parse().unwrap());
    // 20 ms a round trip, well under the timeout but enough to queue 150 checks for longer.
    proxy.set_mode(FaultMode::Slow(Duration::from_millis(10)));
    let processes = two_processes(&format!("redis://{}", proxy.addr()), RateLimits::default());
    let redis = redis_pool::connect(REDIS_URL, Duration::from_secs(2)).unwrap();
    let subject = format!("user:{}", Uuid::new_v4());
    let started = Instant::now();
    let admitted = burst(&processes, &subject, 150).await;
    let took = started.elapsed();
    assert_eq!(admitted, 100, "the burst took {took:?}");
    let key = processes[0].key(Tier::Default, &subject);
    assert_eq!(
        redis_count(&redis, &key).await,
        100,
        "every admitted check was counted in Redis: none fell back"
    );
    assert!(
        took > Duration::from_millis(100),
        "Redis was not slow: {took:?}"
    );
}

#[actix_rt::test]
async fn cut_from_redis_a_process_admits_only_its_share_of_what_was_left() {
    let limits = RateLimits::uniform(10, Duration::from_secs(60));
    // Far longer than the test may take: the fallback must come from the connection error.
    let timeout = Duration::from_secs(10);
    let proxy = FaultProxy::start("127.0.0.1:6379".parse().unwrap());
    let prefix = unique_prefix();
    let other = process(REDIS_URL, &prefix, limits, timeout);
    let cut = process(
        &format!("redis://{}", proxy.addr()),
        &prefix,
        limits,
        timeout,
    );
    let subject = "user:cut";
    // Two live processes; Redis counts 5 of the 10, the last answer to `cut` says so.
    assert!(other.check(Tier::Default, subject).await.allowed);
    for remaining in (5..9).rev() {
        let decision = cut.check(Tier::Default, subject).await;
        assert!(decision.allowed);
        assert_eq!(decision.remaining, remaining);
    }

    proxy.set_mode(FaultMode::Down);
    let started = Instant::now();
    let mut decisions = Vec::new();
    for _ in 0..4 {
        decisions.push(cut.check(Tier::Default, subject).await);
    }
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "fell back after {took:?}");
    // Its share of the 5 left: 5 / 2 = 2.
    let allowed: Vec<(bool, u32)> = decisions.iter().map(|d| (d.allowed, d.remaining)).collect();
    assert_eq!(allowed, [(true, 1), (true, 0), (false, 0), (false, 0)]);
    let redis = redis_pool::connect(REDIS_URL, Duration::from_secs(2)).unwrap();
    assert_eq!(
        redis_count(&redis, &cut.key(Tier::Default, subject)).await,
        5
    );
    let live: u64 = redis::cmd("ZCARD")
        .arg(cut.live_key())
        .query_async(&mut *redis.get().await.unwrap())
        .await
        .unwrap();
    assert_eq!(live, 2, "both processes registered as live");
}

/// Text for the fields: any Unicode, with NUL and the other control characters favoured.
fn any_text() -> impl Strategy<Value = String> {
    let character = prop_oneof![
        4 => any::<char>(),
        3 => prop::char::range('a', 'z'),
        2 => Just('\0'),
        2 => prop::char::range('\u{1}', '\u{1f}'),
        1 => prop::sample::select(vec!['\u{7f}', '\u{85}', '\u{feff}', '\u{2028}', '%', '"', '\\', '@', '.', '/', '&', '=']),
    ];
    prop::collection::vec(character, 0..16).prop_map(String::from_iter)
}

/// `text` percent-encoded for a query string.
fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Sends `text` to every text field of every route (as a JSON field, a query parameter, a
/// JSON row's field and key, a statement file's cell and key, a file name) and fails on any
/// 5xx answer.
async fn send_everywhere<S, B>(
    app: &S,
    token: &str,
    transaction: &str,
    text: &str,
) -> TestCaseResult
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut requests: Vec<(String, test::TestRequest)> = Vec::new();
    let json_request = |method: Method, path: &str, body: Value| {
        let req = test::TestRequest::default()
            .method(method.clone())
            .uri(path)
            .set_json(&body);
        (format!("{method} {path} {body}"), req)
    };
    let patch = format!("/api/v1/accounts/transactions/{transaction}");
    for field in ["category", "description", "merchant_name"] {
        requests.push(json_request(Method::PATCH, &patch, json!({ field: text })));
    }
    for field in ["email", "currency", "timezone"] {
        let body = json!({ field: text });
        requests.push(json_request(
            Method::PUT,
            "/api/v1/accounts/profile",
            body.clone(),
        ));
        if field != "email" {
            requests.push(json_request(Method::PUT, "/api/v1/accounts/settings", body));
        }
    }
    let encoded = percent(text);
    let queries = [
        (
            "/api/v1/accounts/transactions",
            &[
                "limit",
                "cursor",
                "date_from",
                "date_to",
                "amount_min",
                "amount_max",
                "category",
                "merchant",
                "type",
                "status",
                "q",
            ][..],
        ),
        (
            "/api/v1/training/jobs",
            &["limit", "cursor", "status", "kind"][..],
        ),
        ("/api/v1/analytics/overview", &["timeframe", "tz"][..]),
        ("/api/v1/analytics/summary", &["tz"][..]),
        (
            &format!("/api/v1/training/jobs/{transaction}/events"),
            &["last_event_id"][..],
        ),
    ];
    for (path, params) in queries {
        for param in params {
            let uri = format!("{path}?{param}={encoded}");
            requests.push((format!("GET {uri}"), test::TestRequest::get().uri(&uri)));
        }
    }
    requests.push(json_request(
        Method::POST,
        "/api/v1/training/jobs",
        json!({"kind": text}),
    ));
    let row = json!({"transaction_date": "2026-01-10", "amount": -12.5, "description": "UPI-TEA"});
    let import = "/api/v1/ingest/import?force=true";
    for field in [
        "transaction_date",
        "amount",
        "currency",
        "type",
        "status",
        "description",
        "merchant_name",
        "category",
        "payment_method",
        "reference",
    ] {
        let mut row = row.clone();
        row[field] = json!(text);
        requests.push(json_request(
            Method::POST,
            import,
            json!({"transactions": [row]}),
        ));
    }
    let mut keyed = row.clone();
    keyed[text] = json!("x");
    requests.push(json_request(
        Method::POST,
        import,
        json!({"transactions": [keyed]}),
    ));
    for field in ["filename", "file_hash"] {
        let body = json!({"transactions": [row], field: text});
        requests.push(json_request(Method::POST, import, body));
        // The same in a chunk of a chunked upload.
        let mut chunk = json!({
            "transactions": [row],
            "filename": "s.csv",
            "file_hash": "c".repeat(64),
            "chunk": {"index": 0, "count": 2},
        });
        chunk[field] = json!(text);
        requests.push(json_request(Method::POST, import, chunk));
    }
    let mut statement = json!({"Date": "2026-01-11", "Amount": "-3", "Narration": text});
    statement[text] = json!(text);
    let statement = serde_json::to_vec(&json!([statement])).unwrap();
    let csv = b"Date,Amount,Description\n2026-01-12,-4,TEA\n";
    let named = format!("{text}.csv");
    for path in ["/api/v1/ingest/parse", import, "/api/v1/training/upload"] {
        for (name, bytes) in [
            ("statement.json", &statement[..]),
            (named.as_str(), &csv[..]),
        ] {
            let (content_type, body) = multipart(&[("file", Some(name), bytes)]);
            let req = test::TestRequest::post()
                .uri(path)
                .insert_header((header::CONTENT_TYPE, content_type))
                .set_payload(body);
            requests.push((format!("POST {path} file {name:?}"), req));
        }
    }
    for (what, req) in requests {
        let req = req.insert_header(crate::common::bearer(token)).to_request();
        let status = test::call_service(app, req).await.status();
        prop_assert!(!status.is_server_error(), "{what}: {status} for {text:?}");
    }
    Ok(())
}

// Synchronous: each case runs on the system's runtime (`actix_web::test` shadows `#[test]`).
#[::core::prelude::v1::test]
fn no_text_in_any_field_of_any_route_is_a_server_error() {
    let system = actix_rt::System::new();
    let db = TestDatabase::create();
    let token = mint_token(SECRET, Uuid::new_v4(), Role::User, 600);
    let (app, transaction) = system.block_on(async {
        let app = TestApp::new(&db).service().await;
        let row = json!({"transaction_date": "2026-01-09", "amount": -1, "description": "SEED"});
        let req = test::TestRequest::post()
            .uri("/api/v1/ingest/import")
            .insert_header(crate::common::bearer(&token))
            .set_json(json!({"transactions": [row]}))
            .to_request();
        assert_eq!(test::call_service(&app, req).await.status(), StatusCode::OK);
        let page = test::call_service(&app, get("/api/v1/accounts/transactions", Some(&token)));
        let page: Value = test::read_body_json(page.await).await;
        let id = page["transactions"][0]["id"].as_str().unwrap().to_owned();
        (app, id)
    });
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(16);
    let mut runner = TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let fixed = ["\0", "a\0b", "\u{1}\u{7f}\r\n\t", ""];
    for text in fixed {
        system
            .block_on(send_everywhere(&app, &token, &transaction, text))
            .unwrap();
    }
    runner
        .run(&any_text(), |text| {
            system.block_on(send_everywhere(&app, &token, &transaction, &text))
        })
        .unwrap();
}

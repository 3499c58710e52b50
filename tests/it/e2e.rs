//! End-to-end: the real `scale` binary on a free port, against real Postgres and Redis (through
//! fault proxies where a test cuts them).

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use scale_chaos::{FaultMode, FaultProxy};
use scale_http::auth::{mint_token, Role};
use scale_schema::testing::TestDatabase;
use serde_json::Value;
use uuid::Uuid;

use crate::common::{admin_token, cli, user_token, Server, SECRET};

/// Asserts the problem+json contract on a response's parts.
fn assert_problem(headers: &HeaderMap, body: &Value, status: u16, code: &str) {
    assert_eq!(headers["content-type"], "application/problem+json");
    assert_eq!(body["status"], status);
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(
        body["request_id"],
        headers["x-request-id"].to_str().unwrap()
    );
}

/// Server-side handling time from `X-Response-Time` (e.g. `1.234ms`).
fn response_time(headers: &HeaderMap) -> Duration {
    let raw = headers["x-response-time"].to_str().unwrap();
    Duration::from_secs_f64(raw.trim_end_matches("ms").parse::<f64>().unwrap() / 1000.0)
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn the_binary_serves_health_and_readiness() {
    let db = TestDatabase::create();
    let server = Server::start(&db.url(), &[]);
    let res = server.get("/health").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().contains_key("x-request-id"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    let (_, body) = server.ready_becomes(StatusCode::OK).await;
    assert_eq!(body["status"], "ready");
    let res = server.get("/no/such/route").await;
    let headers = res.headers().clone();
    assert_problem(&headers, &res.json().await.unwrap(), 404, "not_found");
}

#[tokio::test]
async fn redis_down_is_reported_as_degraded() {
    let db = TestDatabase::create();
    let redis_url = format!("redis://127.0.0.1:{}", closed_port());
    let server = Server::start(&db.url(), &[("REDIS_URL", &redis_url)]);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, body) = server.ready_becomes(StatusCode::OK).await;
        if body["status"] == "degraded" {
            assert_eq!(body["redis"]["status"], "down");
            let reasons = body["reasons"].to_string();
            assert!(reasons.contains("redis"), "{reasons}");
            break;
        }
        assert!(Instant::now() < deadline, "never degraded: {body}");
    }
}

#[tokio::test]
async fn postgres_down_is_503_at_once_and_a_frozen_one_never_500() {
    let db = TestDatabase::create();
    let proxy = FaultProxy::start("127.0.0.1:5432".parse().unwrap());
    let url = db
        .url()
        .replace("127.0.0.1:5432", &proxy.addr().to_string());
    let server = Server::start(
        &url,
        &[
            ("ACTOR_CALL_TIMEOUT_MS", "1500"),
            ("DB_CHECKOUT_TIMEOUT_MS", "1000"),
        ],
    );
    server.ready_becomes(StatusCode::OK).await;

    proxy.set_mode(FaultMode::Down);
    let (headers, body) = server.ready_becomes(StatusCode::SERVICE_UNAVAILABLE).await;
    assert_problem(&headers, &body, 503, "not_ready");
    assert!(
        body["detail"].as_str().unwrap().starts_with("postgres:"),
        "{body}"
    );

    // Requests needing the database are refused at once, not after a checkout timeout.
    let token = user_token();
    for path in [
        "/accounts/transactions",
        "/analytics/summary",
        "/training/jobs",
    ] {
        let res = server.get_as(&token, path).await;
        let headers = res.headers().clone();
        assert_problem(
            &headers,
            &res.json().await.unwrap(),
            503,
            "database_unavailable",
        );
        assert_eq!(headers["retry-after"], "2", "{path}");
        assert!(
            response_time(&headers) < Duration::from_millis(100),
            "{path}"
        );
    }

    proxy.set_mode(FaultMode::Pass);
    server.ready_becomes(StatusCode::OK).await;
    assert_eq!(
        server
            .get_as(&token, "/accounts/transactions")
            .await
            .status(),
        StatusCode::OK
    );

    proxy.set_mode(FaultMode::Hang);
    // A frozen database: whatever a request meets (a query that never returns, a checkout that
    // times out, the gate once the probe noticed), it is 503 or 504 within the actor budget
    // (`ACTOR_CALL_TIMEOUT_MS` 1,500 ms here), never a 500.
    let started = Instant::now();
    let answers = futures_util::future::join_all((0..6).map(|_| async {
        let res = server.get_as(&token, "/accounts/transactions").await;
        let headers = res.headers().clone();
        let body: Value = res.json().await.unwrap();
        (headers, body)
    }))
    .await;
    for (headers, body) in &answers {
        let status = body["status"].as_u64().unwrap();
        assert!(status == 503 || status == 504, "{body}");
        assert!(
            response_time(headers) < Duration::from_millis(1_800),
            "{body}"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    server.ready_becomes(StatusCode::SERVICE_UNAVAILABLE).await;
    // Neither route waits for the hanging probe (300 ms timeout): the typical answer is well
    // under 50 ms and none comes near the probe timeout, even on a loaded test machine.
    for path in ["/health", "/health/ready"] {
        let mut times = Vec::new();
        for _ in 0..5 {
            times.push(response_time(server.get(path).await.headers()));
        }
        times.sort();
        assert!(
            times[2] < Duration::from_millis(50),
            "{path}: {times:?} while Postgres hangs"
        );
        assert!(
            times[4] < Duration::from_millis(250),
            "{path}: {times:?} while Postgres hangs"
        );
    }
    proxy.set_mode(FaultMode::Pass);
    server.ready_becomes(StatusCode::OK).await;
}

#[tokio::test]
async fn every_actor_survives_a_panic_and_the_restart_limit_escalates() {
    let db = TestDatabase::create();
    let server = Server::start(
        &db.url(),
        &[("CHAOS_ENABLED", "true"), ("SUPERVISOR_MAX_RESTARTS", "1")],
    );
    server.ready_becomes(StatusCode::OK).await;
    let token = admin_token();
    let res = server
        .http
        .get(format!("{}/ops/actors", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let listing: Value = res.json().await.unwrap();
    let names: Vec<String> = listing["actors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(names.contains(&"health".to_owned()), "{names:?}");

    for name in &names {
        let started = Instant::now();
        let res = server
            .post_as(&token, &format!("/ops/actors/{name}/crash"))
            .await;
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{name}: crash answer took {:?}",
            started.elapsed()
        );
        assert!(res.status().is_server_error());
        let headers = res.headers().clone();
        assert_problem(&headers, &res.json().await.unwrap(), 500, "actor_crashed");
        let res = server
            .post_as(&token, &format!("/ops/actors/{name}/ping"))
            .await;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "{name} did not answer after its restart"
        );
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["restarts"], 1, "{name}");
    }

    // A second crash within the window exceeds SUPERVISOR_MAX_RESTARTS=1.
    let res = server.post_as(&token, "/ops/actors/health/crash").await;
    assert!(res.status().is_server_error());
    let (headers, body) = server.ready_becomes(StatusCode::SERVICE_UNAVAILABLE).await;
    assert_problem(&headers, &body, 503, "not_ready");
    assert!(
        body["detail"].as_str().unwrap().contains("escalated"),
        "{body}"
    );
}

#[test]
fn bad_configuration_fails_start_up_with_one_line_naming_the_variable() {
    let out = cli(&["serve"], &[("BIND_ADDR", "not-an-address")]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("BIND_ADDR"), "{stderr}");
}

#[test]
fn migrate_is_idempotent() {
    let db = TestDatabase::create();
    for _ in 0..2 {
        let out = cli(&["migrate"], &[("DATABASE_URL", &db.url())]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn spec_fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn import_command_parses_stores_and_refuses_a_second_import() {
    let db = TestDatabase::create();
    let env = [("DATABASE_URL", db.url())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let user = "00000000-0000-0000-0000-0000000000c1";
    let file = spec_fixture("generic_signed_amount.csv");
    let run = |extra: &[&str]| {
        let mut args = vec!["import", "--user", user, &file];
        args.extend_from_slice(extra);
        cli(&args, &env)
    };
    let out = run(&["--dry-run"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["count"], 8);

    let out = run(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["inserted"], 8);

    let out = run(&[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already imported"));

    let out = run(&["--force"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["inserted"], 0);
    assert_eq!(report["skipped_duplicates"], 8);
}

#[tokio::test]
async fn the_binary_imports_a_multipart_upload() {
    let db = TestDatabase::create();
    let server = Server::start(&db.url(), &[]);
    let out = cli(
        &["token", "--user", "00000000-0000-0000-0000-0000000000c2"],
        &[],
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let bytes = std::fs::read(spec_fixture("sbi_statement_with_preamble.csv")).unwrap();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name("sbi.csv"),
    );
    let res = server
        .http
        .post(format!("{}/ingest/import", server.base))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["inserted"], 6);
}

/// A CSV statement of `rows` distinct transactions.
fn large_statement(rows: usize) -> Vec<u8> {
    let mut csv = String::from("Date,Description,Amount\n");
    for i in 0..rows {
        let day = i % 28 + 1;
        let month = i / 28 % 12 + 1;
        csv.push_str(&format!(
            "{day:02}/{month:02}/2025,UPI/DR/{i}/SHOP {i}/okaxis,-{}.{:02}\n",
            i % 5000 + 1,
            i % 100
        ));
    }
    csv.into_bytes()
}

#[tokio::test]
async fn an_import_longer_than_the_actor_call_timeout_completes() {
    let db = TestDatabase::create();
    // A 200 ms actor budget: parsing and storing 30,000 rows takes far longer than that.
    let server = Server::start(
        &db.url(),
        &[
            ("ACTOR_CALL_TIMEOUT_MS", "200"),
            ("DB_CHECKOUT_TIMEOUT_MS", "150"),
        ],
    );
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(large_statement(30_000)).file_name("large.csv"),
    );
    let res = server
        .http
        .post(format!("{}/ingest/import", server.base))
        .bearer_auth(user_token())
        .multipart(form)
        .send()
        .await
        .unwrap();
    let headers = res.headers().clone();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["inserted"], 30_000, "{body}");
    assert!(
        response_time(&headers) > Duration::from_millis(200),
        "{body}"
    );
}

/// Runs `scale bench …` and returns its JSON report.
fn bench_report(args: &[&str], env: &[(&str, &str)]) -> Value {
    let out = cli(args, env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs `scale bench …` on a new database and its own Redis prefix; its JSON report.
fn isolated_bench_report(args: &[&str]) -> Value {
    let db = TestDatabase::create();
    let prefix = format!("scale-e2e-{}:", uuid::Uuid::new_v4());
    let env = [
        ("DATABASE_URL", db.url()),
        ("LOG_LEVEL", "warn".to_owned()),
        ("REDIS_KEY_PREFIX", prefix),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    bench_report(args, &env)
}

#[test]
fn benchmarks_report_their_baselines() {
    let db = TestDatabase::create();
    let env = [("DATABASE_URL", db.url()), ("LOG_LEVEL", "warn".to_owned())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let report = bench_report(&["bench", "import", "--rows", "300"], &env);
    assert_eq!(report["rows_parsed"], 300);
    assert!(
        report["raw_copy_baseline"]["rows_per_sec"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    assert!(
        report["ratios"]["parse_and_insert_vs_copy"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    assert!(report["targets"]["import_at_least_0_9_of_copy_rate"].is_boolean());
    assert_eq!(report["reference_python_parse_rows_per_sec"], 21_000.0);
    assert!(report["ratios"]["parse_only_vs_python"].as_f64().unwrap() > 0.0);
    assert!(report["peak_rss_mib"].as_f64().unwrap() > 0.0);
    let staging = &report["insert_only"]["binary_copy_into_staging_then_insert_select"];
    assert!(staging["rows_per_sec"].as_f64().unwrap() > 0.0);

    let args = [
        "bench",
        "transactions",
        "--rows",
        "300",
        "--seconds",
        "1",
        "--concurrency",
        "2",
        "--rounds",
        "2",
    ];
    let report = bench_report(&args, &env);
    assert_eq!(report["http"]["errors"], 0);
    assert!(report["http"]["requests"].as_u64().unwrap() > 0);
    assert!(report["postgres_pgbench"]["requests"].as_u64().unwrap() > 0);
    assert!(report["ratios"]["http_rps_vs_postgres"].as_f64().unwrap() > 0.0);
    assert_eq!(report["rounds"].as_array().unwrap().len(), 2);
}

#[test]
fn websocket_benchmark_reports_its_baseline() {
    let args = [
        "bench",
        "ws",
        "--connections",
        "6",
        "--events",
        "5",
        "--users",
        "2",
    ];
    let report = isolated_bench_report(&args);
    for side in ["websocket_via_redis", "in_process_broadcast_baseline"] {
        // Users 0 and 1 own events 0, 2, 4 and 1, 3: three subscribers each.
        assert_eq!(report[side]["expected"], 15, "{report}");
        assert_eq!(report[side]["delivered"], 15, "{report}");
        assert_eq!(report[side]["in_order"], true);
        assert!(report[side]["latency"]["p99_ms"].as_f64().unwrap() > 0.0);
    }
    assert!(report["websocket_via_redis"]["bytes_per_connection"].is_number());
    assert!(report["ratios"]["p50_vs_broadcast"].as_f64().unwrap() > 0.0);
}

#[test]
fn load_smoke_run_passes_its_gate_and_reports_every_phase() {
    let report = isolated_bench_report(&["bench", "load", "--smoke"]);
    assert_eq!(report["gate"]["passed"], true, "{report}");
    let http = &report["journey"]["http"];
    for route in [
        "GET /accounts/transactions",
        "POST /ingest/import",
        "GET /forecast/safe-to-spend",
        "POST /training/jobs",
    ] {
        assert!(
            http["routes"][route]["requests"].as_u64().unwrap() > 0,
            "{route}: {report}"
        );
        assert!(http["routes"][route]["p95_vs_baseline"].as_f64().unwrap() > 0.0);
    }
    // Every followed training job completed.
    let jobs = &report["journey"]["training_jobs"];
    assert!(jobs["requests"].as_u64().unwrap() > 0, "{report}");
    assert_eq!(jobs["errors"], 0, "{report}");
    assert!(report["baseline_health"]["requests"].as_u64().unwrap() > 0);
    assert_eq!(
        report["max_sustainable_rate"]["journey_mix"]["steps"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "{report}"
    );
    assert_eq!(report["websockets"]["held"], 50, "{report}");
    assert!(report["websockets"]["server_bytes_per_connection"].is_number());
}

/// A token for a new user.
fn new_user_token() -> String {
    mint_token(SECRET, Uuid::new_v4(), Role::User, 600)
}

/// Sends each of `paths` (from the server's root) `times` times, in turn, as the user of
/// `token`; returns how many reached a handler (anything but 404, 405 and 429) and every
/// answer: path, status and the `X-RateLimit-Limit` it was counted under.
async fn spell(
    server: &Server,
    method: Method,
    paths: &[&str],
    token: &str,
    times: usize,
) -> (u32, Vec<(String, u16, Option<u64>)>) {
    let root = server.base.trim_end_matches("/api/v1");
    let (mut handled, mut answers) = (0, Vec::new());
    for _ in 0..times {
        for path in paths {
            let res = server
                .http
                .request(method.clone(), format!("{root}{path}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(
                res.url().path(),
                *path,
                "the client sent the path as written"
            );
            let status = res.status().as_u16();
            handled += u32::from(![404, 405, 429].contains(&status));
            let limit = res
                .headers()
                .get("x-ratelimit-limit")
                .map(|v| v.to_str().unwrap().parse().unwrap());
            answers.push(((*path).to_owned(), status, limit));
        }
    }
    (handled, answers)
}

#[tokio::test]
async fn no_spelling_of_a_route_changes_its_rate_limit_tier() {
    let db = TestDatabase::create();
    let server = Server::start(
        &db.url(),
        &[
            ("RATE_LIMIT_DEFAULT_PER_MIN", "4"),
            ("RATE_LIMIT_IMPORT_PER_MIN", "2"),
            ("RATE_LIMIT_TRAINING_PER_HOUR", "3"),
        ],
    );
    // Each group: spellings of a route, with its tier's limit, then paths that only look like
    // it (no route: 404, counted in the default tier).
    let groups: [(Method, u64, &[&str], &[&str]); 3] = [
        (
            Method::POST,
            2,
            &[
                "/api/v1/ingest/imp%6Frt",
                "/api/v1/ingest/imp%6frt",
                "/api/v1/%69ngest/import",
                "/api/v1/ingest/import",
            ],
            &[
                "/api/v1/ingest%2Fimport",
                "/api/v1/ingest/import/",
                "/api/v1//ingest/import",
            ],
        ),
        (
            Method::POST,
            3,
            &[
                "/api/v1/training/tr%61in",
                "/api/v1/training/trai%6E",
                "/api/v1/training/trai%6e",
                "/api/v1/training/train",
            ],
            &["/api/v1/training%2ftrain", "/api/v1/training/train/"],
        ),
        (
            Method::GET,
            4,
            &[
                "/api/v1/acc%6Funts/profile",
                "/api/v1/accounts/pr%6ffile",
                "/api/v1/accounts/profile",
                "/api/v%31/accounts/profile",
            ],
            &["/api/v1/accounts/profile/", "/api/v1//accounts/profile"],
        ),
    ];
    for (method, limit, routed, unrouted) in groups {
        let paths = [routed, unrouted].concat();
        let (handled, answers) = spell(&server, method.clone(), &paths, &new_user_token(), 3).await;
        assert_eq!(u64::from(handled), limit, "{method}: {answers:?}");
        for (path, status, counted_in) in &answers {
            let want = if routed.contains(&path.as_str()) {
                limit
            } else {
                4
            };
            assert_eq!(*counted_in, Some(want), "{method} {path}: {status}");
        }
    }
    // Health is exempt however it is spelled; paths that only look like it are limited.
    let health = [
        "/api/v1/h%65alth",
        "/api/v1/%68ealth/ready",
        "/api/v1/health",
    ];
    let (handled, answers) = spell(&server, Method::GET, &health, &new_user_token(), 3).await;
    assert_eq!(handled, 9, "{answers:?}");
    assert!(
        answers.iter().all(|(_, _, limit)| limit.is_none()),
        "{answers:?}"
    );
    let lookalikes = [
        "/api/v1/health/",
        "/api/v1/h%65alth/x",
        "/api/v1/health%2Fready",
    ];
    let (handled, answers) = spell(&server, Method::GET, &lookalikes, &new_user_token(), 2).await;
    assert_eq!(handled, 0, "{answers:?}");
    let statuses: Vec<u16> = answers.iter().map(|(_, status, _)| *status).collect();
    assert_eq!(statuses, [404, 404, 404, 404, 429, 429], "{answers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_api_processes_together_never_admit_more_than_the_limit() {
    const BURST: usize = 150;
    let db = TestDatabase::create();
    let prefix = format!("scale-e2e-{}:", Uuid::new_v4());
    let env = [("REDIS_KEY_PREFIX", prefix.as_str())];
    // One after the other: the first one migrates the database.
    let servers: Vec<Server> = (0..2)
        .map(|_| Server::start_with(&["serve", "--role", "api"], &db.url(), &env))
        .collect();
    for round in 0..3 {
        // A new user each round: a fresh window of the default tier (100 per minute).
        let token = new_user_token();
        let requests = (0..BURST).map(|i| {
            let server = &servers[i % servers.len()];
            server
                .http
                .get(format!("{}/accounts/profile", server.base))
                .bearer_auth(&token)
                .send()
        });
        // All at once: BURST requests in flight, split across both processes.
        let statuses: Vec<u16> = join_all(requests)
            .await
            .into_iter()
            .map(|res| res.unwrap().status().as_u16())
            .collect();
        let ok = statuses.iter().filter(|&&s| s == 200).count();
        let limited = statuses.iter().filter(|&&s| s == 429).count();
        assert!(ok <= 100, "round {round}: {ok} admitted");
        assert_eq!(ok + limited, BURST, "round {round}: {statuses:?}");
    }
}

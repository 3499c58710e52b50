//! The chaos monkey end to end: scenarios run through `POST /api/v1/ops/chaos` and through
//! `scale chaos run`, their faults counted in `/metrics` and shown on the dashboard's feed,
//! readiness degraded by a cut Redis and recovering, slow clients cut by the server, the proxy
//! faults (slow Postgres, Redis refused and hanging, the event bus stalled) felt by readiness, a crash storm escalating its actor while
//! the monkey survives its own crash, and the routes refused without chaos or to a plain user.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use scale_schema::testing::TestDatabase;
use serde_json::{json, Value};

use crate::common::{admin_token, cli, metric_value, user_token, Server};

/// `POST /ops/chaos` with `body` as `token`.
async fn act(server: &Server, token: &str, body: &Value) -> reqwest::Response {
    server
        .http
        .post(format!("{}/ops/chaos", server.base))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// `GET /ops/chaos` as admin.
async fn status(server: &Server, admin: &str) -> Value {
    let res = server.get_as(admin, "/ops/chaos").await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

/// Polls `GET /ops/chaos` until `done` holds (deadline `within`); answers that status.
async fn status_until(
    server: &Server,
    admin: &str,
    within: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let body = status(server, admin).await;
        if done(&body) {
            return body;
        }
        assert!(Instant::now() < deadline, "chaos status stayed {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls readiness until its `status` is `want` (ten-second deadline).
async fn readiness_becomes(server: &Server, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let body: Value = server.get("/health/ready").await.json().await.unwrap();
        if body["status"] == want {
            return;
        }
        assert!(Instant::now() < deadline, "readiness stayed {body}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Reads the dashboard feed until a snapshot satisfies `wanted` (ten-second deadline).
async fn snapshot_where(server: &Server, admin: &str, wanted: impl Fn(&Value) -> bool) -> Value {
    let mut res = server.get_as(admin, "/ops/stream").await;
    assert_eq!(res.status(), StatusCode::OK);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut buffer = String::new();
    loop {
        let chunk = tokio::time::timeout_at(deadline, res.chunk())
            .await
            .expect("no snapshot as wanted within ten seconds")
            .unwrap()
            .expect("the feed ended");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data: ")) else {
                continue;
            };
            let snapshot: Value = serde_json::from_str(data).unwrap();
            if wanted(&snapshot) {
                return snapshot;
            }
        }
    }
}

/// The actor called `name` as `GET /ops/actors` shows it.
async fn actor(server: &Server, admin: &str, name: &str) -> Value {
    let body: Value = server
        .get_as(admin, "/ops/actors")
        .await
        .json()
        .await
        .unwrap();
    let actors = body["actors"].as_array().unwrap();
    let found = actors.iter().find(|a| a["name"] == name);
    found.cloned().unwrap_or(Value::Null)
}

/// The value of a metric series in `server`'s exposition (`None`: not exposed).
async fn metric(server: &Server, series: &str) -> Option<f64> {
    metric_value(&server.exposition().await, series)
}

#[tokio::test]
async fn a_scenario_runs_through_the_route_shows_everywhere_and_ends_by_itself() {
    let db = TestDatabase::create();
    // Slow clients fill their windows within the fault's 2.5 s; the kernel then cuts them soon.
    let server = Server::start(
        &db.url(),
        &[
            ("CHAOS_ENABLED", "true"),
            ("METRICS_ADDR", "127.0.0.1:0"),
            ("STALLED_PEER_TIMEOUT_MS", "300"),
        ],
    );
    let admin = admin_token();
    readiness_becomes(&server, "ready").await;
    let listed = status(&server, &admin).await;
    let names: Vec<&str> = listed["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    for name in [
        "crash-storm",
        "redis-flap",
        "slow-postgres",
        "bus-stall",
        "mixed",
        "smoke",
    ] {
        assert!(names.contains(&name), "{names:?}");
    }
    assert_eq!(listed["running"], Value::Null);

    // Plain users are refused; hostile bodies are problems.
    let user = user_token();
    let res = server.get_as(&user, "/ops/chaos").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let start = json!({"action": "start", "scenario": "smoke"});
    assert_eq!(
        act(&server, &user, &start).await.status(),
        StatusCode::FORBIDDEN
    );
    for (body, want) in [
        (json!({"action": "start", "scenario": "no\u{0}such"}), 422),
        (
            json!({"action": "start", "scenario": "x".repeat(100_000)}),
            422,
        ),
        (json!({"action": "explode"}), 422),
        (json!({"action": "start"}), 422),
        (json!({"action": "stop"}), 409),
    ] {
        let res = act(&server, &admin, &body).await;
        assert_eq!(res.status().as_u16(), want, "{body:.80}");
        let problem: Value = res.json().await.unwrap();
        assert!(problem["code"].is_string(), "{problem}");
    }
    let res = server
        .http
        .post(format!("{}/ops/chaos", server.base))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{\"action\":")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    let res = act(&server, &admin, &start).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let res = act(&server, &admin, &start).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);

    // Redis is cut: readiness degrades, the dashboard shows the fault.
    readiness_becomes(&server, "degraded").await;
    let shown = snapshot_where(&server, &admin, |s| {
        let active = &s["chaos"]["running"]["active"];
        active
            .as_array()
            .is_some_and(|a| a.iter().any(|f| f["fault"] == "redis-down"))
    })
    .await;
    assert_eq!(shown["chaos"]["running"]["scenario"], "smoke");
    assert!(metric(&server, "scale_chaos_active_faults").await >= Some(1.0));

    // It ends by itself, every fault injected once, and readiness recovers.
    let ended = status_until(&server, &admin, Duration::from_secs(15), |s| {
        s["running"].is_null() && s["last"]["scenario"] == "smoke"
    })
    .await;
    let last = &ended["last"];
    assert_eq!(last["ended"], "completed", "{last}");
    assert_eq!(last["errors"], json!([]), "{last}");
    assert!(
        last["slow_clients_dropped"].as_u64() > Some(0),
        "the server never cut a client that reads nothing: {last}"
    );
    for fault in [
        "crash",
        "redis-down",
        "fill-mailbox",
        "slow-clients",
        "training-hang",
    ] {
        assert_eq!(last["injected"][fault], 1, "{fault}: {last}");
        let series = format!("scale_chaos_faults_total{{fault=\"{fault}\"}}");
        assert_eq!(metric(&server, &series).await, Some(1.0), "{series}");
    }
    assert_eq!(
        metric(&server, "scale_chaos_active_faults").await,
        Some(0.0)
    );
    readiness_becomes(&server, "ready").await;
    let cache = actor(&server, &admin, "cache").await;
    assert_eq!(cache["restarts"], 1, "{cache}");
}

#[tokio::test]
async fn a_crash_storm_escalates_its_actor_while_the_crashed_monkey_carries_on() {
    let db = TestDatabase::create();
    let server = Server::start(
        &db.url(),
        &[("CHAOS_ENABLED", "true"), ("SUPERVISOR_MAX_RESTARTS", "3")],
    );
    let admin = admin_token();
    let start = json!({"action": "start", "scenario": "crash-storm"});
    assert_eq!(
        act(&server, &admin, &start).await.status(),
        StatusCode::ACCEPTED
    );
    let res = server
        .post_as(&admin, "/ops/actors/chaos-monkey/crash")
        .await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let analytics = actor(&server, &admin, "analytics").await;
        let monkey = actor(&server, &admin, "chaos-monkey").await;
        if analytics["status"] == "escalated" && monkey["status"] == "running" {
            assert_eq!(monkey["restarts"], 1, "{monkey}");
            break;
        }
        assert!(Instant::now() < deadline, "{analytics} {monkey}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The restarted monkey finishes the run it was in.
    let ended = status_until(&server, &admin, Duration::from_secs(15), |s| {
        s["last"]["scenario"] == "crash-storm"
    })
    .await;
    assert_eq!(ended["last"]["ended"], "completed");
    assert!(ended["last"]["injected"]["crash"].as_u64().unwrap() >= 4);
    let res = server.get_as(&user_token(), "/analytics/summary").await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let res = server.get_as(&user_token(), "/accounts/transactions").await;
    assert_eq!(res.status(), StatusCode::OK, "the rest keeps serving");
}

#[tokio::test]
async fn the_cli_runs_a_scenario_and_reports_what_it_injected() {
    let db = TestDatabase::create();
    let server = Server::start(&db.url(), &[("CHAOS_ENABLED", "true")]);
    let target = server.base.trim_end_matches("/api/v1").to_owned();
    let out = tokio::task::spawn_blocking(move || {
        cli(&["chaos", "run", "smoke", "--target", &target], &[])
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["scenario"], "smoke");
    assert_eq!(report["ended"], "completed");
    assert_eq!(report["faults_injected"], 5, "{report}");
    assert_eq!(report["errors"], json!([]), "{report}");

    let target = server.base.trim_end_matches("/api/v1").to_owned();
    let out = tokio::task::spawn_blocking(move || {
        cli(&["chaos", "run", "meteor", "--target", &target], &[])
    })
    .await
    .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("422"));
}

#[tokio::test]
async fn chaos_is_refused_without_chaos_enabled_and_in_production() {
    let db = TestDatabase::create();
    let server = Server::start(&db.url(), &[]);
    let admin = admin_token();
    let res = server.get_as(&admin, "/ops/chaos").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = act(
        &server,
        &admin,
        &json!({"action": "start", "scenario": "smoke"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "not_found");
    assert_eq!(actor(&server, &admin, "chaos-monkey").await, Value::Null);

    let out = cli(
        &["serve"],
        &[
            ("ENVIRONMENT", "production"),
            ("CHAOS_ENABLED", "true"),
            ("DATABASE_URL", &db.url()),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("CHAOS_ENABLED"));
}

/// Polls readiness until its body satisfies `check` (`within`); answers that body.
async fn readiness_where(
    server: &Server,
    within: Duration,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let body: Value = server.get("/health/ready").await.json().await.unwrap();
        let checks = body.get("checks").unwrap_or(&body);
        if check(checks) {
            return checks.clone();
        }
        assert!(Instant::now() < deadline, "readiness stayed {body}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn the_monkeys_link_faults_are_felt_by_the_service() {
    let db = TestDatabase::create();
    let server = Server::start(
        &db.url(),
        &[
            ("CHAOS_ENABLED", "true"),
            ("RATE_LIMIT_DEFAULT_PER_MIN", "100000"),
        ],
    );
    let admin = admin_token();
    readiness_becomes(&server, "ready").await;
    let start = |scenario: &str| json!({"action": "start", "scenario": scenario});

    // Postgres 150 ms slower each way: the probe's one round trip takes 300 ms more, past the
    // tests' 300 ms probe timeout; its late answer measures it, and nothing is shed.
    let res = act(&server, &admin, &start("slow-postgres")).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let slow = readiness_where(&server, Duration::from_secs(4), |c| {
        c["postgres"]["latency_ms"].as_f64() >= Some(300.0)
    })
    .await;
    assert_ne!(slow["postgres"]["status"], "down", "{slow}");
    let ended = status_until(&server, &admin, Duration::from_secs(20), |s| {
        s["running"].is_null()
    })
    .await;
    assert_eq!(ended["last"]["ended"], "completed", "{ended}");
    assert_eq!(ended["last"]["errors"], json!([]), "{ended}");
    readiness_becomes(&server, "ready").await;

    // Redis refused twice, then hanging: three times not up, each time back up in between.
    let res = act(&server, &admin, &start("redis-flap")).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let (mut outages, mut was_up) = (0, true);
    let deadline = Instant::now() + Duration::from_secs(20);
    let ended = loop {
        let checks = readiness_where(&server, Duration::ZERO, |_| true).await;
        let up = checks["redis"]["status"] == "up";
        outages += usize::from(was_up && !up);
        was_up = up;
        let chaos = status(&server, &admin).await;
        if chaos["running"].is_null() {
            break chaos;
        }
        assert!(Instant::now() < deadline, "redis-flap did not end: {chaos}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert_eq!(outages, 3, "Redis outages seen by readiness");
    assert_eq!(ended["last"]["injected"]["redis-down"], 2, "{ended}");
    assert_eq!(ended["last"]["injected"]["redis-hang"], 1, "{ended}");
    readiness_becomes(&server, "ready").await;

    // The event bus's Redis hangs: events stay in this process until the bus reconnects.
    let res = act(&server, &admin, &start("bus-stall")).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    readiness_where(&server, Duration::from_secs(3), |c| {
        c["events"] == "degraded"
    })
    .await;
    status_until(&server, &admin, Duration::from_secs(10), |s| {
        s["running"].is_null()
    })
    .await;
    readiness_where(&server, Duration::from_secs(10), |c| c["events"] == "redis").await;
    readiness_becomes(&server, "ready").await;
}

//! End-to-end: `GET /metrics` on its own listener, read directly and scraped by a real
//! Prometheus (Debian's `prometheus`, installed by `scripts/test.sh`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use scale_schema::testing::TestDatabase;
use serde_json::Value;

use crate::common::{metric_value, user_token, Server};

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_report_actors() {
    let db = TestDatabase::create();
    let server = Server::start(&db.url(), &[("METRICS_ADDR", "127.0.0.1:0")]);
    let token = user_token();
    let id = uuid::Uuid::new_v4();
    for _ in 0..3 {
        let res = server
            .get_as(&token, &format!("/accounts/transactions/{id}"))
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(
        server.get("/no/such/route").await.status(),
        StatusCode::NOT_FOUND
    );
    server.ready_becomes(StatusCode::OK).await;
    let text = server.exposition().await;
    let series = r#"scale_http_requests_total{method="GET",route="/api/v1/accounts/transactions/{id}",status="4xx"}"#;
    assert_eq!(metric_value(&text, series), Some(3.0), "{text}");
    assert!(
        !text.contains(&id.to_string()),
        "a raw path leaked into a label"
    );
    let unmatched = r#"scale_http_requests_total{method="GET",route="unmatched",status="4xx"}"#;
    assert_eq!(metric_value(&text, unmatched), Some(1.0), "{text}");
    assert!(text.contains("# TYPE scale_http_request_duration_seconds histogram"));
    assert!(
        text.contains(r#"scale_actor_status{actor="ingest",status="running"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"scale_dependency_up{dependency="postgres"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"scale_readiness{status="ready"} 1"#),
        "{text}"
    );
    // The API port does not serve it.
    let res = server
        .http
        .get(server.base.replace("/api/v1", "/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

/// A Prometheus server scraping one target every 200 ms, killed on drop.
struct Prometheus {
    child: Child,
    api: String,
    dir: PathBuf,
}

impl Prometheus {
    /// Starts Debian's `prometheus` scraping `target` (`host:port`), or `None` when it is not
    /// installed (`scripts/test.sh` installs it).
    fn start(target: &str) -> Option<Self> {
        let binary = Path::new("/usr/bin/prometheus");
        if !binary.exists() {
            eprintln!(
                "SKIPPED: /usr/bin/prometheus is not installed (scripts/test.sh installs it)"
            );
            return None;
        }
        let dir = std::env::temp_dir().join(format!("scale-prometheus-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 200ms\n  scrape_timeout: 150ms\n\
                 scrape_configs:\n  - job_name: scale\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus");
        Some(Self {
            child,
            api: format!("http://127.0.0.1:{port}/api/v1"),
            dir,
        })
    }

    /// The value of instant `query`, polled until `accept` takes it (panics after 30 s).
    async fn eventually(&self, query: &str, accept: impl Fn(f64) -> bool) -> f64 {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut last = String::new();
        while Instant::now() < deadline {
            if let Ok(res) = http
                .get(format!("{}/query", self.api))
                .query(&[("query", query)])
                .send()
                .await
            {
                if let Ok(body) = res.json::<Value>().await {
                    let found = body["data"]["result"][0]["value"][1]
                        .as_str()
                        .and_then(|v| v.parse::<f64>().ok());
                    if let Some(v) = found.filter(|v| accept(*v)) {
                        return v;
                    }
                    last = body.to_string();
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("`{query}` never met the expectation; last answer: {last}");
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn a_real_prometheus_scrapes_the_binary() {
    let db = TestDatabase::create();
    let server = Server::start(&db.url(), &[("METRICS_ADDR", "127.0.0.1:0")]);
    let target = server.metrics_url();
    let target = target
        .trim_start_matches("http://")
        .trim_end_matches("/metrics");
    let Some(prometheus) = Prometheus::start(target) else {
        return;
    };
    assert_eq!(prometheus.eventually("up", |v| v == 1.0).await, 1.0);
    let query = r#"sum(scale_http_requests_total{route="/api/v1/health"})"#;
    assert_eq!(server.get("/health").await.status(), StatusCode::OK);
    let before = prometheus.eventually(query, |v| v >= 1.0).await;
    for _ in 0..5 {
        assert_eq!(server.get("/health").await.status(), StatusCode::OK);
    }
    let after = prometheus.eventually(query, |v| v >= before + 5.0).await;
    assert!(after >= before + 5.0);
}

/// Uploads `bytes` as `filename` to `/ingest/import`; returns the status.
async fn upload(server: &Server, token: &str, filename: &str, bytes: &[u8]) -> StatusCode {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(filename.to_owned()),
    );
    let res = server
        .http
        .post(format!("{}/ingest/import", server.base))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    res.status()
}

#[tokio::test]
async fn imports_classifications_corrections_jobs_and_live_connections_are_counted() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Message;

    let db = TestDatabase::create();
    let server = Server::start(
        &db.url(),
        &[("METRICS_ADDR", "127.0.0.1:0"), ("TRAINING_POLL_MS", "100")],
    );
    let token = user_token();

    // A WebSocket following every job of the user.
    let url = format!("{}/ws/jobs", server.base.replacen("http", "ws", 1));
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        format!("bearer, {token}").parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let within = Duration::from_secs(5);
    assert_eq!(
        crate::e2e_training::next_text(&mut ws, within).await["type"],
        "authenticated"
    );
    let subscribe = serde_json::json!({"type": "subscribe", "all": true});
    ws.send(Message::text(subscribe.to_string())).await.unwrap();
    assert_eq!(
        crate::e2e_training::next_text(&mut ws, within).await["type"],
        "subscribed"
    );

    // A CSV with a rule's row, a zero amount and a row without a date; then the same file
    // again, and a file that is no statement.
    let csv = "Date,Description,Amount\n\
               2025-03-01,UPI/DR/412345678901/SWIGGY/YESB/swiggy@ybl/Paym,-320\n\
               2025-03-02,KAVERI TEXTILE MILLS 55667788,0\n\
               not a date,KAVERI TEXTILE MILLS 99887766,-1800\n\
               2025-03-04,zq,-15\n";
    assert_eq!(
        upload(&server, &token, "march.CSV", csv.as_bytes()).await,
        StatusCode::OK
    );
    assert_eq!(
        upload(&server, &token, "march.csv", csv.as_bytes()).await,
        StatusCode::CONFLICT
    );
    let refused = upload(&server, &token, "junk.csv", b"\0\0\0 no statement here\n").await;
    assert!(refused.is_client_error(), "{refused}");
    let (status, _) = server
        .post_json_as(
            &token,
            "/categorization/classify",
            &serde_json::json!({"description": "SWIGGY ORDER 991", "amount": -250}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // The rule's row is corrected by hand.
    let listed: Value = server
        .get_as(&token, "/accounts/transactions?limit=10")
        .await
        .json()
        .await
        .unwrap();
    let swiggy = listed["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["description"].as_str().unwrap().contains("SWIGGY"))
        .unwrap_or_else(|| panic!("{listed}"));
    assert_eq!(swiggy["category_source"], "rule", "{swiggy}");
    let res = server
        .http
        .patch(format!(
            "{}/accounts/transactions/{}",
            server.base,
            swiggy["id"].as_str().unwrap()
        ))
        .bearer_auth(&token)
        .json(&serde_json::json!({"category": "Groceries"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // A job runs to its end; its events reach the WebSocket.
    let (status, created) = server
        .post_json_as(
            &token,
            "/training/jobs",
            &serde_json::json!({"kind": "categorizer"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{created}");
    loop {
        let event = crate::e2e_training::next_text(&mut ws, Duration::from_secs(60)).await;
        if event["status"] == "completed" || event["status"] == "failed" {
            assert_eq!(event["status"], "completed", "{event}");
            break;
        }
    }

    let counted = |text: &str, series: &str| metric_value(text, series).unwrap_or(0.0);
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        // The attempt is counted once its end is written, just after the event went out; the
        // queue gauges appear once the health actor has read the job table (a read can time out
        // on a loaded machine, then the next probe's does it).
        let text = server.exposition().await;
        let attempts = r#"scale_job_attempts_total{kind="categorizer",outcome="completed"}"#;
        let queue_read = text.contains(r#"scale_jobs{kind="categorizer",status="pending"} 0"#);
        if (counted(&text, attempts) == 1.0 && queue_read) || Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    for (series, want) in [
        (
            r#"scale_imports_total{format="csv",outcome="imported"}"#,
            1.0,
        ),
        (
            r#"scale_imports_total{format="csv",outcome="duplicate_file"}"#,
            1.0,
        ),
        (
            r#"scale_imports_total{format="csv",outcome="rejected"}"#,
            1.0,
        ),
        (r#"scale_import_rows_total{result="inserted"}"#, 2.0),
        (r#"scale_import_rows_total{result="zero_amount"}"#, 1.0),
        (r#"scale_import_rows_total{result="invalid_date"}"#, 1.0),
        (
            r#"scale_classifications_total{path="import",source="rule",needs_review="false"}"#,
            1.0,
        ),
        (r#"scale_category_corrections_total{source="rule"}"#, 1.0),
        (
            r#"scale_job_attempts_total{kind="categorizer",outcome="completed"}"#,
            1.0,
        ),
        (r#"scale_stream_connections{stream="websocket"}"#, 1.0),
    ] {
        assert_eq!(counted(&text, series), want, "{series} in\n{text}");
    }
    let classified: f64 = text
        .lines()
        .filter(|line| line.starts_with(r#"scale_classifications_total{path="classify""#))
        .map(|line| line.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum();
    assert_eq!(classified, 1.0, "{text}");
    let delivered = r#"scale_stream_events_total{stream="websocket",result="delivered"}"#;
    assert!(counted(&text, delivered) >= 2.0, "{text}");
    assert!(
        text.contains(r#"scale_jobs{kind="categorizer",status="pending"} 0"#),
        "{text}"
    );
    assert!(text.contains(r#"scale_job_attempt_duration_seconds_bucket{kind="categorizer",outcome="completed",le="+Inf"} 1"#), "{text}");

    // Closing the WebSocket closes its gauge.
    drop(ws);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = server.exposition().await;
        if counted(&text, r#"scale_stream_connections{stream="websocket"}"#) == 0.0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the closed WebSocket is still counted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_chunked_upload_counts_as_one_import_with_every_row() {
    let db = TestDatabase::create();
    let server = Server::start(&db.url(), &[("METRICS_ADDR", "127.0.0.1:0")]);
    let token = user_token();
    let hash = "c".repeat(64);
    for index in 0..3u32 {
        let rows: Vec<Value> = (0..2)
            .map(|row| {
                let day = index * 2 + row + 1;
                serde_json::json!({
                    "transaction_date": format!("2024-03-{day:02}"),
                    "amount": -(f64::from(day) * 10.0),
                    "description": format!("UPI/DR/{day}/CHUNKED SHOP {day}"),
                })
            })
            .collect();
        let chunk = serde_json::json!({
            "filename": "chunked.csv",
            "file_hash": hash,
            "transactions": rows,
            "chunk": {"index": index, "count": 3},
        });
        let (status, body) = server.post_json_as(&token, "/ingest/import", &chunk).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let text = server.exposition().await;
    let imported = r#"scale_imports_total{format="json",outcome="imported"}"#;
    assert_eq!(metric_value(&text, imported), Some(1.0), "{text}");
    let rows = r#"scale_import_rows_total{result="inserted"}"#;
    assert_eq!(metric_value(&text, rows), Some(6.0), "{text}");
}

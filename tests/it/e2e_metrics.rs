//! End-to-end: `GET /metrics` on its own listener, read directly and scraped by a real
//! Prometheus (Debian's `prometheus`, installed by `scripts/test.sh`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use scale_schema::testing::TestDatabase;
use serde_json::Value;

use crate::common::{user_token, Server};

/// Reads the metrics listener's exposition.
async fn exposition(server: &Server) -> String {
    let res = server.http.get(server.metrics_url()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    res.text().await.unwrap()
}

/// The value of the series whose line starts with `series` (name and labels, exactly).
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.parse().unwrap())
}

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
    let text = exposition(&server).await;
    let series = r#"scale_http_requests_total{method="GET",route="/api/v1/accounts/transactions/{id}",status="4xx"}"#;
    assert_eq!(value(&text, series), Some(3.0), "{text}");
    assert!(
        !text.contains(&id.to_string()),
        "a raw path leaked into a label"
    );
    let unmatched = r#"scale_http_requests_total{method="GET",route="unmatched",status="4xx"}"#;
    assert_eq!(value(&text, unmatched), Some(1.0), "{text}");
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

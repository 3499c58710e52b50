//! Shared helpers of the end-to-end tests: the real `scale` binary started on a free port, and
//! its command line.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::Value;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_scale");
/// The JWT secret every test process shares.
pub const SECRET: &str = "e2e-test-secret-0123456789abcdef01234567";

/// How many of a server's latest warning and error log lines are kept for a failing test.
const KEPT_LOG_LINES: usize = 200;

/// A running `scale serve`, killed on drop. When the test fails, its latest warnings and errors
/// are printed, so a failure on CI shows what the server saw.
pub struct Server {
    /// The process.
    pub child: Child,
    /// `http://addr/api/v1`.
    pub base: String,
    /// A client for it.
    pub http: reqwest::Client,
    /// The latest warning and error lines of its log (at most [`KEPT_LOG_LINES`]).
    log: Arc<Mutex<VecDeque<String>>>,
    /// Where `GET /metrics` listens, when `METRICS_ADDR` was set.
    metrics_addr: Arc<Mutex<Option<String>>>,
}

impl Server {
    /// Starts the binary with `env` (plus a free port and a test secret) and waits until it
    /// reports the address it listens on.
    pub fn start(database_url: &str, env: &[(&str, &str)]) -> Server {
        Self::start_with(&["serve"], database_url, env)
    }

    /// [`Server::start`] with other arguments, e.g. `serve --role worker`.
    pub fn start_with(args: &[&str], database_url: &str, env: &[(&str, &str)]) -> Server {
        let mut child = Command::new(BIN)
            .args(args)
            .env("DATABASE_URL", database_url)
            .env("BIND_ADDR", "127.0.0.1:0")
            .env("JWT_SECRET", SECRET)
            .env("ENVIRONMENT", "test")
            .env("HTTP_WORKERS", "2")
            .env("HEALTH_PROBE_INTERVAL_MS", "100")
            .env("HEALTH_PROBE_TIMEOUT_MS", "300")
            // The chaos tests panic on purpose: a debug build resolving a backtrace for each
            // (as `RUST_BACKTRACE=1` in the runner's environment asks) takes up to a second on
            // a loaded machine and would be measured as the service's latency.
            .env("RUST_BACKTRACE", "0")
            .env(
                "REDIS_KEY_PREFIX",
                format!("scale-e2e-{}:", uuid::Uuid::new_v4()),
            )
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start scale");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let log = Arc::new(Mutex::new(VecDeque::new()));
        let kept = log.clone();
        let metrics_addr = Arc::new(Mutex::new(None));
        let metrics_seen = metrics_addr.clone();
        // Drains the log for the whole run so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let Ok(entry) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                let addr = entry["addr"].as_str().map(str::to_owned);
                if entry["message"] == "listening" {
                    if let Some(addr) = addr {
                        let _ = tx.send(addr);
                    }
                } else if entry["message"] == "metrics listening" {
                    *metrics_seen.lock().unwrap_or_else(|e| e.into_inner()) = addr;
                }
                if matches!(entry["level"].as_str(), Some("WARN" | "ERROR")) {
                    let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
                    if kept.len() == KEPT_LOG_LINES {
                        kept.pop_front();
                    }
                    kept.push_back(line);
                }
            }
        });
        let addr: SocketAddr = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("scale did not report a listening address")
            .parse()
            .unwrap();
        Server {
            child,
            base: format!("http://{addr}/api/v1"),
            http: reqwest::Client::new(),
            log,
            metrics_addr,
        }
    }

    /// `http://addr/metrics` of the metrics listener (logged before the API's address).
    pub fn metrics_url(&self) -> String {
        let addr = self.metrics_addr.lock().unwrap_or_else(|e| e.into_inner());
        format!(
            "http://{}/metrics",
            addr.as_deref().expect("METRICS_ADDR was not set")
        )
    }

    /// `GET path` without credentials.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    /// `GET path` with a bearer token.
    pub async fn get_as(&self, token: &str, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// `POST path` with a JSON body and a bearer token: the status and the JSON answer
    /// (`null` when it has none).
    pub async fn post_json_as(&self, token: &str, path: &str, body: &Value) -> (StatusCode, Value) {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// The metrics listener's exposition (`METRICS_ADDR` must be set), checked to be served as
    /// Prometheus text.
    pub async fn exposition(&self) -> String {
        let res = self.http.get(self.metrics_url()).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"));
        res.text().await.unwrap()
    }

    /// `POST path` with a bearer token.
    pub async fn post_as(&self, token: &str, path: &str) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Polls `/health/ready` until its status code is `want` (ten-second deadline); returns the
    /// headers and body of that answer.
    pub async fn ready_becomes(&self, want: StatusCode) -> (HeaderMap, Value) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let res = self.get("/health/ready").await;
            if res.status() == want {
                let headers = res.headers().clone();
                return (headers, res.json().await.unwrap());
            }
            assert!(Instant::now() < deadline, "/ready stayed {}", res.status());
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
            eprintln!("--- warnings and errors of the server at {} ---", self.base);
            for line in log.iter() {
                eprintln!("{line}");
            }
        }
    }
}

/// Runs the binary with `args` and waits for it.
pub fn cli(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env("JWT_SECRET", SECRET)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// A token for an admin user.
pub fn admin_token() -> String {
    token(&[
        "--user",
        "00000000-0000-0000-0000-00000000a11a",
        "--role",
        "admin",
    ])
}

/// A token for a plain user with a fresh id.
pub fn user_token() -> String {
    token(&["--user", &uuid::Uuid::new_v4().to_string()])
}

/// `scale token` with `args`.
fn token(args: &[&str]) -> String {
    let out = cli(&[&["token"], args].concat(), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The value of the series whose exposition line starts with `series` (name and labels,
/// exactly); `None` when it is not exposed.
pub fn metric_value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

//! End-to-end: the binary started with a `SENTRY_DSN` pointing at a fake Sentry reports a crashed
//! actor tagged with its name, the failed request tagged with its id, route and user, and the
//! request's sampled performance transaction.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use scale_schema::testing::TestDatabase;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::common::{admin_token, Server};

/// The user `admin_token` is minted for.
const ADMIN: &str = "00000000-0000-0000-0000-00000000a11a";

/// A Sentry ingest endpoint that keeps every JSON line of every envelope posted to it.
struct FakeSentry {
    addr: SocketAddr,
    lines: Arc<Mutex<Vec<Value>>>,
}

impl FakeSentry {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let seen = lines.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(receive(stream, seen.clone()));
            }
        });
        Self { addr, lines }
    }

    fn dsn(&self) -> String {
        format!("http://public@{}/1", self.addr)
    }

    /// Polls until a received line satisfies `want` (ten-second deadline) and returns it.
    async fn received(&self, what: &str, want: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(line) = self.lines.lock().unwrap().iter().find(|l| want(l)) {
                return line.clone();
            }
            if Instant::now() >= deadline {
                let lines = self.lines.lock().unwrap();
                let lines: Vec<_> = lines.iter().map(Value::to_string).collect();
                panic!(
                    "Sentry never received {what}; it got:\n{}",
                    lines.join("\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// Answers `200 {}` to each HTTP/1.1 request on `stream`, keeping its body's JSON lines.
async fn receive(mut stream: TcpStream, seen: Arc<Mutex<Vec<Value>>>) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .map_or(0, |v| v.trim().parse().unwrap());
        while buf.len() < head_end + length {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let body: Vec<u8> = buf.drain(..head_end + length).skip(head_end).collect();
        let parsed = String::from_utf8_lossy(&body)
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect::<Vec<Value>>();
        seen.lock().unwrap().extend(parsed);
        stream
            .write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}",
            )
            .await?;
    }
}

/// Whether an envelope line is a transaction's payload (events have no start).
fn is_transaction(line: &Value) -> bool {
    line["start_timestamp"].is_number()
}

#[tokio::test]
async fn sentry_gets_the_crashed_actor_and_the_tagged_request_from_the_binary() {
    let sentry = FakeSentry::start().await;
    let db = TestDatabase::create();
    let dsn = sentry.dsn();
    let server = Server::start(
        &db.url(),
        &[
            ("SENTRY_DSN", dsn.as_str()),
            ("SENTRY_TRACES_SAMPLE_RATE", "1.0"),
            ("CHAOS_ENABLED", "true"),
        ],
    );
    let res = server
        .http
        .post(format!("{}/ops/actors/health/crash", server.base))
        .bearer_auth(admin_token())
        .header("x-request-id", "e2e-sentry-crash")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);

    let tag = |line: &Value, key: &str| line["tags"][key].as_str().map(str::to_owned);
    let actor = sentry
        .received("the actor's panic", |l| tag(l, "actor").is_some())
        .await;
    assert_eq!(tag(&actor, "actor").as_deref(), Some("health"));
    // `error` is Sentry's default level, left out of the payload.
    assert!(
        matches!(actor["level"].as_str(), None | Some("error")),
        "{actor}"
    );
    assert!(
        actor
            .to_string()
            .contains("actor health panicked: chaos crash"),
        "{actor}"
    );

    let request = sentry
        .received("the failed request", |l| {
            !is_transaction(l) && tag(l, "request_id").is_some()
        })
        .await;
    assert_eq!(
        tag(&request, "request_id").as_deref(),
        Some("e2e-sentry-crash")
    );
    assert_eq!(
        tag(&request, "route").as_deref(),
        Some("/api/v1/ops/actors/{name}/crash")
    );
    assert_eq!(tag(&request, "user_id").as_deref(), Some(ADMIN));

    let transaction = sentry
        .received("the request's transaction", is_transaction)
        .await;
    assert_eq!(
        transaction["transaction"],
        "POST /api/v1/ops/actors/{name}/crash"
    );
    assert_eq!(
        tag(&transaction, "request_id").as_deref(),
        Some("e2e-sentry-crash")
    );
}

//! `GET /api/v1/ws/jobs` over a real socket (the app on a free port, a tungstenite client):
//! both ways to authenticate and the refusals, subscriptions to one job and to all of the
//! caller's jobs with events published on the app's bus, cross-user refusal, ping/pong,
//! malformed messages, and a client that does not keep up being closed with bounded memory.

use std::time::{Duration, Instant};

use actix_web::{web, HttpServer};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures_util::{SinkExt, StreamExt};
use scale_actors::events::JobEvent;
use scale_actors::jobs::{JobKind, JobStatus};
use scale_http::auth::{mint_token, Role};
use scale_http::routes::ws::Limits;
use scale_http::{AppState, HttpSettings};
use scale_schema::testing::TestDatabase;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

use crate::common::{user, TestApp, SECRET};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long any single expected message may take.
const WAIT: Duration = Duration::from_secs(5);

/// The app serving on a free loopback port over a fresh database.
struct Rig {
    db: TestDatabase,
    state: web::Data<AppState>,
    url: String,
}

async fn rig() -> Rig {
    rig_with(Limits::default()).await
}

/// The app with these connection timings.
async fn rig_with(websocket: Limits) -> Rig {
    let db = TestDatabase::migrated();
    let state = TestApp::new(&db).state();
    let app_state = state.clone();
    let settings = HttpSettings {
        websocket,
        ..HttpSettings::default()
    };
    let server = HttpServer::new(move || scale_http::app(app_state.clone(), &settings))
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
    let url = format!("ws://{}/api/v1/ws/jobs", server.addrs()[0]);
    actix_rt::spawn(server.run());
    Rig { db, state, url }
}

impl Rig {
    /// A pending job of `user` fitting `kind` (the user row is created if needed).
    async fn job_of(&self, user: Uuid, kind: JobKind) -> Uuid {
        let mut conn = AsyncPgConnection::establish(&self.db.url()).await.unwrap();
        let job = Uuid::new_v4();
        for sql in [
            format!("INSERT INTO users (id) VALUES ('{user}') ON CONFLICT DO NOTHING"),
            format!(
                "INSERT INTO training_jobs (id, user_id, kind) VALUES ('{job}', '{user}', '{}')",
                kind.as_str()
            ),
        ] {
            diesel::sql_query(sql).execute(&mut conn).await.unwrap();
        }
        job
    }

    /// Connects offering `Sec-WebSocket-Protocol: bearer, <token>`; checks the answer is `bearer`.
    async fn connect_with_protocol(&self, token: &str) -> Ws {
        let mut request = self.url.as_str().into_client_request().unwrap();
        request.headers_mut().insert(
            "sec-websocket-protocol",
            format!("bearer, {token}").parse().unwrap(),
        );
        let (ws, response) = tokio_tungstenite::connect_async(request).await.unwrap();
        assert_eq!(response.headers()["sec-websocket-protocol"], "bearer");
        ws
    }

    async fn connect(&self) -> Ws {
        tokio_tungstenite::connect_async(self.url.as_str())
            .await
            .unwrap()
            .0
    }

    /// A connection authenticated as `token`'s user.
    async fn authenticated(&self, token: &str) -> Ws {
        let mut ws = self.connect_with_protocol(token).await;
        assert_eq!(recv(&mut ws).await["type"], "authenticated");
        ws
    }

    async fn publish(&self, user: Uuid, job: Uuid, seq: i64) {
        self.state.events.publish(event(user, job, seq, "")).await;
    }
}

fn event(user: Uuid, job: Uuid, seq: i64, message: &str) -> JobEvent {
    JobEvent {
        job_id: job,
        user_id: user,
        seq,
        status: JobStatus::Processing,
        step: 0,
        total: 0,
        progress: 0.0,
        message: message.to_owned(),
        metrics: None,
        at: chrono::Utc::now(),
    }
}

async fn send(ws: &mut Ws, message: Value) {
    ws.send(Message::text(message.to_string())).await.unwrap();
}

/// The next JSON text message (control frames are skipped; tungstenite answers pings).
async fn recv(ws: &mut Ws) -> Value {
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

/// Sends `subscribe` with `scope` and expects the acknowledgement.
async fn subscribe(ws: &mut Ws, scope: Value) {
    let mut message = scope.clone();
    message["type"] = json!("subscribe");
    send(ws, message).await;
    let mut ack = scope;
    ack["type"] = json!("subscribed");
    assert_eq!(recv(ws).await, ack);
}

/// Expects an `error` message with `code`.
async fn expect_error(ws: &mut Ws, code: &str) {
    let message = recv(ws).await;
    assert_eq!(message["type"], "error", "{message}");
    assert_eq!(message["code"], code, "{message}");
    assert!(message["message"].is_string());
}

/// Reads until the server closes; returns the close code (`None`: the socket ended without a
/// close frame) and the `seq` of every event received before.
async fn until_closed(ws: &mut Ws) -> (Option<CloseCode>, Vec<i64>) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seqs = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, ws.next())
            .await
            .expect("the server never closed")
        {
            Some(Ok(Message::Text(text))) => {
                let value: Value = serde_json::from_str(&text).unwrap();
                if value["type"] == "event" {
                    seqs.push(value["seq"].as_i64().unwrap());
                }
            }
            Some(Ok(Message::Close(frame))) => return (frame.map(|f| f.code), seqs),
            Some(Ok(_)) => {}
            None | Some(Err(_)) => return (None, seqs),
        }
    }
}

async fn ping_pong(ws: &mut Ws) {
    send(ws, json!({"type": "ping"})).await;
    assert_eq!(recv(ws).await, json!({"type": "pong"}));
}

#[actix_rt::test]
async fn authenticates_by_protocol_header_or_first_message() {
    let rig = rig().await;
    let (id, token) = user();
    let mut ws = rig.connect_with_protocol(&token).await;
    assert_eq!(
        recv(&mut ws).await,
        json!({"type": "authenticated", "user_id": id})
    );
    ping_pong(&mut ws).await;

    let mut ws = rig.connect().await;
    send(&mut ws, json!({"type": "auth", "token": token})).await;
    assert_eq!(
        recv(&mut ws).await,
        json!({"type": "authenticated", "user_id": id})
    );
    // Sending a token again re-authenticates (how a client replaces an expiring token).
    send(&mut ws, json!({"type": "auth", "token": token})).await;
    assert_eq!(
        recv(&mut ws).await,
        json!({"type": "authenticated", "user_id": id})
    );
    ping_pong(&mut ws).await;
}

#[actix_rt::test]
async fn a_connection_closes_when_its_token_expires_unless_renewed() {
    let rig = rig().await;
    let (id, _) = user();
    let policy = Some(CloseCode::Policy);

    // Expires within two seconds: closed with `token_expired` soon after.
    let short = mint_token(SECRET, id, Role::User, 2);
    let mut ws = rig.connect_with_protocol(&short).await;
    recv(&mut ws).await;
    let opened = Instant::now();
    expect_error(&mut ws, "token_expired").await;
    assert_eq!(until_closed(&mut ws).await.0, policy);
    assert!(opened.elapsed() < Duration::from_secs(4));

    // Renewed with a fresher token of the same user: still open past the first expiry.
    let short = mint_token(SECRET, id, Role::User, 2);
    let mut ws = rig.connect_with_protocol(&short).await;
    recv(&mut ws).await;
    let opened = Instant::now();
    let (other, other_token) = user();
    assert_ne!(other, id);
    send(&mut ws, json!({"type": "auth", "token": other_token})).await;
    expect_error(&mut ws, "user_mismatch").await;
    send(&mut ws, json!({"type": "auth", "token": "not-a-jwt"})).await;
    expect_error(&mut ws, "malformed_token").await;
    let long = mint_token(SECRET, id, Role::User, 600);
    send(&mut ws, json!({"type": "auth", "token": long})).await;
    assert_eq!(
        recv(&mut ws).await,
        json!({"type": "authenticated", "user_id": id})
    );
    while opened.elapsed() < Duration::from_secs(3) {
        ping_pong(&mut ws).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[actix_rt::test]
async fn bad_credentials_are_refused_with_the_http_codes() {
    let rig = rig_with(Limits {
        auth_window: Duration::from_millis(300),
        ..Limits::default()
    })
    .await;
    let (id, _) = user();
    let policy = Some(CloseCode::Policy);

    let mut ws = rig.connect_with_protocol("not-a-jwt").await;
    expect_error(&mut ws, "malformed_token").await;
    assert_eq!(until_closed(&mut ws).await.0, policy);

    let mut ws = rig.connect_with_protocol("").await;
    expect_error(&mut ws, "missing_token").await;
    assert_eq!(until_closed(&mut ws).await.0, policy);

    let expired = mint_token(SECRET, id, Role::User, -600);
    let mut ws = rig.connect().await;
    send(&mut ws, json!({"type": "auth", "token": expired})).await;
    expect_error(&mut ws, "token_expired").await;
    assert_eq!(until_closed(&mut ws).await.0, policy);

    let forged = mint_token(
        "another-secret-0123456789abcdef0123456789",
        id,
        Role::User,
        600,
    );
    let mut ws = rig.connect().await;
    send(&mut ws, json!({"type": "auth", "token": forged})).await;
    expect_error(&mut ws, "invalid_signature").await;
    assert_eq!(until_closed(&mut ws).await.0, policy);

    let mut ws = rig.connect().await;
    send(&mut ws, json!({"type": "subscribe", "all": true})).await;
    expect_error(&mut ws, "auth_required").await;
    assert_eq!(until_closed(&mut ws).await.0, policy);

    // Silence: refused once the auth window is over.
    let mut ws = rig.connect().await;
    expect_error(&mut ws, "auth_required").await;
    assert_eq!(until_closed(&mut ws).await.0, policy);
}

#[actix_rt::test]
async fn a_subscriber_receives_its_jobs_events_in_order_and_nothing_else() {
    let rig = rig().await;
    let (me, token) = user();
    let (other, _) = user();
    let (job, my_other_job, their_job) = (
        rig.job_of(me, JobKind::Categorizer).await,
        rig.job_of(me, JobKind::Forecaster).await,
        rig.job_of(other, JobKind::Categorizer).await,
    );
    let mut ws = rig.authenticated(&token).await;
    subscribe(&mut ws, json!({"job_id": job})).await;
    for seq in 1..=5 {
        rig.publish(other, their_job, seq).await;
        rig.publish(me, my_other_job, seq).await;
        rig.publish(me, job, seq).await;
    }
    for seq in 1..=5 {
        let got = recv(&mut ws).await;
        assert_eq!(got["type"], "event");
        assert_eq!(
            (got["job_id"].clone(), got["seq"].clone()),
            (json!(job), json!(seq))
        );
        assert_eq!(got["status"], "processing");
    }
    // Unsubscribed: the next event is not delivered.
    send(&mut ws, json!({"type": "unsubscribe", "job_id": job})).await;
    assert_eq!(
        recv(&mut ws).await,
        json!({"type": "unsubscribed", "job_id": job})
    );
    rig.publish(me, job, 6).await;
    ping_pong(&mut ws).await;
}

#[actix_rt::test]
async fn another_users_job_is_refused_and_never_delivered() {
    let rig = rig().await;
    let (owner, _) = user();
    let (intruder, token) = user();
    let job = rig.job_of(owner, JobKind::Categorizer).await;
    let mut ws = rig.authenticated(&token).await;
    send(&mut ws, json!({"type": "subscribe", "job_id": job})).await;
    expect_error(&mut ws, "job_not_found").await;
    send(
        &mut ws,
        json!({"type": "subscribe", "job_id": Uuid::new_v4()}),
    )
    .await;
    expect_error(&mut ws, "job_not_found").await;
    // Even subscribed to all of their own jobs, the owner's events never reach the intruder.
    subscribe(&mut ws, json!({"all": true})).await;
    let own = rig.job_of(intruder, JobKind::Categorizer).await;
    rig.publish(owner, job, 1).await;
    rig.publish(intruder, own, 1).await;
    let got = recv(&mut ws).await;
    assert_eq!(
        (got["job_id"].clone(), got["user_id"].clone()),
        (json!(own), json!(intruder))
    );
}

#[actix_rt::test]
async fn all_delivers_every_own_job_and_only_those() {
    let rig = rig().await;
    let (me, token) = user();
    let (other, _) = user();
    let (first, second, theirs) = (
        rig.job_of(me, JobKind::Categorizer).await,
        rig.job_of(me, JobKind::Forecaster).await,
        rig.job_of(other, JobKind::Categorizer).await,
    );
    let mut ws = rig.authenticated(&token).await;
    subscribe(&mut ws, json!({"all": true})).await;
    // Jobs created after subscribing are included too.
    let third = Uuid::new_v4();
    for seq in 1..=3 {
        for (user, job) in [(me, first), (other, theirs), (me, second), (me, third)] {
            rig.publish(user, job, seq).await;
        }
    }
    for seq in 1..=3 {
        for job in [first, second, third] {
            let got = recv(&mut ws).await;
            assert_eq!(
                (got["job_id"].clone(), got["seq"].clone()),
                (json!(job), json!(seq))
            );
        }
    }
    send(&mut ws, json!({"type": "unsubscribe", "all": true})).await;
    assert_eq!(
        recv(&mut ws).await,
        json!({"type": "unsubscribed", "all": true})
    );
    rig.publish(me, first, 4).await;
    ping_pong(&mut ws).await;
}

#[actix_rt::test]
async fn malformed_messages_get_errors_not_a_closed_connection() {
    let rig = rig().await;
    let (_, token) = user();
    let mut ws = rig.authenticated(&token).await;
    for bad in [
        "not json".to_owned(),
        json!({"type": "dance"}).to_string(),
        json!({"type": "subscribe"}).to_string(),
        json!({"type": "subscribe", "all": true, "job_id": Uuid::new_v4()}).to_string(),
        json!({"type": "subscribe", "job_id": "42"}).to_string(),
    ] {
        ws.send(Message::text(bad)).await.unwrap();
        expect_error(&mut ws, "invalid_message").await;
    }
    ws.send(Message::binary(vec![1, 2, 3])).await.unwrap();
    expect_error(&mut ws, "invalid_message").await;
    ping_pong(&mut ws).await;
}

#[actix_rt::test]
async fn a_plain_get_is_a_problem() {
    let db = TestDatabase::migrated();
    let app = TestApp::new(&db).service().await;
    let res =
        actix_web::test::call_service(&app, crate::common::get("/api/v1/ws/jobs", None)).await;
    crate::common::problem(res, 400, "websocket_upgrade_required").await;
}

/// Resident memory of this process (the server runs in it), in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap();
    kb * 1024
}

#[actix_rt::test]
async fn clients_that_do_not_keep_up_are_closed_with_bounded_memory() {
    const BURST: i64 = 20_000;
    const BODY: usize = 4096;
    let rig = rig().await;
    let (me, token) = user();
    let job = Uuid::new_v4();
    let mut never_reads = rig.authenticated(&token).await;
    subscribe(&mut never_reads, json!({"all": true})).await;
    let mut reads_late = rig.authenticated(&token).await;
    subscribe(&mut reads_late, json!({"all": true})).await;

    let before = rss();
    let body = "x".repeat(BODY);
    for seq in 1..=BURST {
        rig.state.events.publish(event(me, job, seq, &body)).await;
    }
    let grown = rss().saturating_sub(before);
    // The burst is 80 MiB; what the server holds is bounded by the bus buffer and the outboxes.
    assert!(grown < 40 << 20, "the server grew by {grown} bytes");

    for ws in [&mut reads_late, &mut never_reads] {
        let (code, seqs) = until_closed(ws).await;
        assert!(
            matches!(code, None | Some(CloseCode::Again)),
            "closed with {code:?}"
        );
        assert!((seqs.len() as i64) < BURST, "a slow client got everything");
        // What it did get is the start of the burst, in order, without gaps.
        assert!(seqs.iter().copied().eq(1..=seqs.len() as i64));
    }
}

/// A bare-TCP client that completes the handshake (token by sub-protocol) and then only reads
/// raw frames, never answering pings; returns the server's close code and how many pings came
/// before it.
async fn silent_client(url: &str, token: &str) -> (u16, usize) {
    let addr = url.trim_start_matches("ws://").split('/').next().unwrap();
    let mut socket = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET /api/v1/ws/jobs HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Protocol: bearer, {token}\r\n\r\n"
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    let deadline = Instant::now() + WAIT;
    let mut buffer = Vec::new();
    let head = loop {
        read_more(&mut socket, &mut buffer, deadline).await;
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    assert!(buffer.starts_with(b"HTTP/1.1 101"));
    buffer.drain(..head);
    let mut pings = 0;
    loop {
        // Server frames are unmasked, and these are all short (length < 126).
        while let [first, len, ..] = buffer[..] {
            let end = 2 + usize::from(len & 0x7f);
            if buffer.len() < end {
                break;
            }
            match first & 0x0f {
                0x9 => pings += 1,
                0x8 => return (u16::from_be_bytes([buffer[2], buffer[3]]), pings),
                _ => {}
            }
            buffer.drain(..end);
        }
        read_more(&mut socket, &mut buffer, deadline).await;
    }
}

/// Appends what the socket has next; fails at `deadline` or when the connection ends.
async fn read_more(socket: &mut TcpStream, buffer: &mut Vec<u8>, deadline: Instant) {
    let mut chunk = [0_u8; 4096];
    let left = deadline.saturating_duration_since(Instant::now());
    let read = tokio::time::timeout(left, socket.read(&mut chunk))
        .await
        .expect("the server never closed the silent client")
        .unwrap();
    assert!(read > 0, "the connection ended without a close frame");
    buffer.extend_from_slice(&chunk[..read]);
}

#[actix_rt::test]
async fn a_client_that_answers_no_ping_is_closed() {
    let rig = rig_with(Limits {
        ping_interval: Duration::from_millis(100),
        // Ten intervals, so that three pings arrive even on a loaded machine.
        client_timeout: Duration::from_millis(1000),
        ..Limits::default()
    })
    .await;
    let (_, token) = user();
    let (code, pings) = silent_client(&rig.url, &token).await;
    assert_eq!(code, 1008);
    assert!(pings >= 3, "{pings} pings before the close");
    // A client that talks stays connected all along.
    let mut ws = rig.authenticated(&token).await;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(1) {
        ping_pong(&mut ws).await;
    }
}

//! `scale bench ws`: many concurrent WebSocket subscribers of the real binary receive a burst of
//! job events published through Redis by this process (as a worker process would). Reports
//! publish → receipt latency and the server's memory per connection, next to the same burst
//! over an in-process broadcast channel with as many receivers, measured in the same run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::Utc;
use futures_util::{SinkExt, StreamExt, TryStreamExt};
use scale_actors::events::{EventBus, JobEvent, SUBSCRIBER_BUFFER};
use scale_actors::jobs::JobStatus;
use scale_http::auth::{mint_token, Role};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

use super::percentiles;
use super::server::Server;
use crate::config::Config;

/// Options of `scale bench ws`.
#[derive(clap::Args)]
pub struct Options {
    /// Concurrent WebSocket subscribers.
    #[arg(long, default_value_t = 1000)]
    connections: usize,
    /// Events in the burst.
    #[arg(long, default_value_t = 200)]
    events: usize,
    /// Users the subscribers and events are spread over (each subscriber takes all its
    /// user's jobs).
    #[arg(long, default_value_t = 1)]
    users: usize,
}

/// Connections opened at once.
const OPENING: usize = 64;
/// Longest the whole burst may take to arrive.
const DELIVERY_DEADLINE: Duration = Duration::from_secs(60);

pub(crate) type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What subscriber `i` saw: `(seq, when)` of each event, and whether the server closed it early.
struct Received {
    events: Vec<(usize, Instant)>,
    closed_early: bool,
}

/// Runs both sides and returns the report.
pub fn run(config: &Config, options: &Options) -> anyhow::Result<Value> {
    anyhow::ensure!(
        options.connections > 0 && options.events > 0 && options.users > 0,
        "--connections, --events and --users must be positive"
    );
    let redis_url = config
        .redis_url
        .clone()
        .context("bench ws needs Redis (REDIS_URL): events reach the server through pub/sub")?;
    let prefix = format!(
        "{}bench-ws-{}:",
        config.redis_key_prefix,
        Uuid::new_v4().simple()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let users: Vec<(Uuid, String)> = (0..options.users)
        .map(|_| {
            let id = Uuid::new_v4();
            (id, mint_token(&config.jwt_secret, id, Role::User, 3600))
        })
        .collect();
    let baseline = runtime.block_on(baseline(options, &users));
    let server = Server::start(
        config,
        &[("REDIS_URL", &redis_url), ("REDIS_KEY_PREFIX", &prefix)],
    )?;
    let ws = runtime.block_on(websockets(&server, &redis_url, &prefix, options, &users))?;
    drop(server);
    let ratio = |key: &str| {
        ws["latency"][key].as_f64().unwrap_or(f64::NAN)
            / baseline["latency"][key].as_f64().unwrap_or(f64::NAN)
    };
    let p99_ms = ws["latency"]["p99_ms"].as_f64().unwrap_or(f64::NAN);
    Ok(json!({
        "benchmark": "ws",
        "build": if cfg!(debug_assertions) { "debug" } else { "release" },
        "connections": options.connections,
        "events": options.events,
        "users": options.users,
        "websocket_via_redis": ws,
        "in_process_broadcast_baseline": baseline,
        "ratios": {
            "p50_vs_broadcast": ratio("p50_ms"),
            "p99_vs_broadcast": ratio("p99_ms"),
        },
        "targets": {
            "every_event_delivered": ws["delivered"] == ws["expected"],
            "p99_under_200ms": p99_ms < 200.0,
        },
    }))
}

/// The burst's events: event `seq` belongs to user `seq % users`, on one job per user.
fn burst(options: &Options, users: &[(Uuid, String)]) -> Vec<JobEvent> {
    let jobs: Vec<Uuid> = users.iter().map(|_| Uuid::new_v4()).collect();
    (0..options.events)
        .map(|seq| {
            let user = seq % users.len();
            JobEvent {
                job_id: jobs[user],
                user_id: users[user].0,
                seq: i64::try_from(seq).unwrap_or(i64::MAX),
                status: JobStatus::Processing,
                step: u32::try_from(seq).unwrap_or(u32::MAX),
                total: u32::try_from(options.events).unwrap_or(u32::MAX),
                progress: seq as f32 / options.events as f32,
                message: format!("step {seq}"),
                metrics: None,
                at: Utc::now(),
            }
        })
        .collect()
}

/// Events subscriber `i` (of user `i % users`) should receive.
fn expected_for(i: usize, options: &Options) -> usize {
    (0..options.events)
        .filter(|seq| seq % options.users == i % options.users)
        .count()
}

/// The same burst over a raw broadcast channel (the bus's capacity) with as many receivers,
/// each filtering by user like a WebSocket connection does.
async fn baseline(options: &Options, users: &[(Uuid, String)]) -> Value {
    let events = burst(options, users);
    let (tx, _) = broadcast::channel::<Arc<JobEvent>>(SUBSCRIBER_BUFFER);
    let rss_before = rss_bytes(std::process::id());
    let receivers: Vec<_> = (0..options.connections)
        .map(|i| {
            let mut rx = tx.subscribe();
            let user = users[i % users.len()].0;
            let expected = expected_for(i, options);
            tokio::spawn(async move {
                let mut got = Received {
                    events: Vec::with_capacity(expected),
                    closed_early: false,
                };
                while got.events.len() < expected {
                    match rx.recv().await {
                        Ok(event) => {
                            let at = Instant::now();
                            if event.user_id == user {
                                got.events
                                    .push((usize::try_from(event.seq).unwrap_or(0), at));
                            }
                        }
                        Err(_) => {
                            got.closed_early = true;
                            break;
                        }
                    }
                }
                got
            })
        })
        .collect();
    tokio::task::yield_now().await;
    let rss_after = rss_bytes(std::process::id());
    let mut published = Vec::with_capacity(events.len());
    for event in events {
        published.push(Instant::now());
        let _ = tx.send(Arc::new(event));
    }
    let mut received = Vec::with_capacity(receivers.len());
    for receiver in receivers {
        received.push(receiver.await.unwrap_or(Received {
            events: Vec::new(),
            closed_early: true,
        }));
    }
    let mut report = figures(options, &published, &received);
    report["bytes_per_receiver"] =
        json!(per_connection(rss_before, rss_after, options.connections));
    report
}

/// Opens the subscribers, publishes the burst through Redis, and collects what arrived.
async fn websockets(
    server: &Server,
    redis_url: &str,
    prefix: &str,
    options: &Options,
    users: &[(Uuid, String)],
) -> anyhow::Result<Value> {
    let url = format!("ws://{}/api/v1/ws/jobs", server.addr);
    let bus = EventBus::connect(Some(redis_url), prefix).map_err(|e| anyhow::anyhow!(e))?;
    let events = burst(options, users);
    warm_up(&url, &bus, &users[0].1, &events[0]).await?;

    let rss_idle = rss_bytes(server.pid());
    let clients: Vec<Ws> = futures_util::stream::iter(0..options.connections)
        .map(|i| subscriber(&url, &users[i % users.len()].1))
        .buffered(OPENING)
        .try_collect()
        .await?;
    let rss_connected = rss_bytes(server.pid());

    let deadline = Instant::now() + DELIVERY_DEADLINE;
    let readers: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(i, ws)| tokio::spawn(read_events(ws, expected_for(i, options), deadline)))
        .collect();
    let cpu_before = (cpu_ms(server.pid()), cpu_ms(std::process::id()));
    let mut published = Vec::with_capacity(options.events);
    for event in events {
        published.push(Instant::now());
        bus.publish(event).await;
    }
    let mut received = Vec::with_capacity(readers.len());
    for reader in readers {
        received.push(reader.await?);
    }
    let rss_after_burst = rss_bytes(server.pid());
    let cpu_after = (cpu_ms(server.pid()), cpu_ms(std::process::id()));
    let spent = |before: Option<f64>, after: Option<f64>| Some(after? - before?);

    let mut report = figures(options, &published, &received);
    report["bus_stayed_on_redis"] = json!(!bus.is_degraded());
    report["server_rss_bytes"] = json!({
        "idle": rss_idle,
        "connected": rss_connected,
        "after_burst": rss_after_burst,
    });
    report["bytes_per_connection"] =
        json!(per_connection(rss_idle, rss_connected, options.connections));
    // Which side the burst kept busy: both share this machine's cores.
    report["burst_cpu_ms"] = json!({
        "server": spent(cpu_before.0, cpu_after.0),
        "bench_clients": spent(cpu_before.1, cpu_after.1),
    });
    Ok(report)
}

/// Waits until the server's bus is subscribed to Redis: publishes a copy of `event` (with
/// `seq` -1, which readers ignore) every 50 ms until a subscriber of its user (`token`)
/// receives one.
async fn warm_up(url: &str, bus: &EventBus, token: &str, event: &JobEvent) -> anyhow::Result<()> {
    let mut probe = subscriber(url, token).await?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let probe_event = JobEvent {
        seq: -1,
        ..event.clone()
    };
    loop {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the server never received an event through Redis"
        );
        bus.publish(probe_event.clone()).await;
        if let Ok(Some(Ok(Message::Text(_)))) =
            tokio::time::timeout(Duration::from_millis(50), probe.next()).await
        {
            return Ok(());
        }
    }
}

/// A connection authenticated by the `bearer` sub-protocol and subscribed to all its user's
/// jobs.
pub(crate) async fn subscriber(url: &str, token: &str) -> anyhow::Result<Ws> {
    let mut request = url.into_client_request()?;
    request.headers_mut().insert(
        "sec-websocket-protocol",
        format!("bearer, {token}").parse()?,
    );
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(request, None, true).await?;
    expect(&mut ws, "authenticated").await?;
    ws.send(Message::text(r#"{"type":"subscribe","all":true}"#))
        .await?;
    expect(&mut ws, "subscribed").await?;
    Ok(ws)
}

#[derive(Deserialize)]
struct Typed {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    seq: i64,
}

async fn expect(ws: &mut Ws, kind: &str) -> anyhow::Result<()> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .with_context(|| format!("no `{kind}` message in time"))?
            .with_context(|| format!("closed before `{kind}`"))??;
        if let Message::Text(text) = message {
            let typed: Typed = serde_json::from_str(&text)?;
            anyhow::ensure!(typed.kind == kind, "expected `{kind}`, got {text}");
            return Ok(());
        }
    }
}

/// Reads events until `expected` arrived, the server closed, or `deadline`.
async fn read_events(mut ws: Ws, expected: usize, deadline: Instant) -> Received {
    let mut got = Received {
        events: Vec::with_capacity(expected),
        closed_early: false,
    };
    while got.events.len() < expected {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(Some(Ok(message))) = tokio::time::timeout(left, ws.next()).await else {
            got.closed_early = true;
            break;
        };
        let at = Instant::now();
        if let Message::Text(text) = message {
            match serde_json::from_str::<Typed>(&text) {
                Ok(typed) if typed.kind == "event" && typed.seq >= 0 => {
                    got.events
                        .push((usize::try_from(typed.seq).unwrap_or(0), at));
                }
                _ => {}
            }
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(None)).await;
    got
}

/// Delivery counts and publish → receipt latency percentiles.
fn figures(options: &Options, published: &[Instant], received: &[Received]) -> Value {
    let expected: usize = (0..received.len()).map(|i| expected_for(i, options)).sum();
    let latencies_ms: Vec<f64> = received
        .iter()
        .flat_map(|r| &r.events)
        .filter_map(|(seq, at)| {
            let sent = published.get(*seq)?;
            Some(at.saturating_duration_since(*sent).as_secs_f64() * 1000.0)
        })
        .collect();
    let in_order = received
        .iter()
        .all(|r| r.events.windows(2).all(|w| w[0].0 < w[1].0));
    let [p50, p99, max] = percentiles(&latencies_ms, [0.50, 0.99, 1.0]);
    json!({
        "expected": expected,
        "delivered": latencies_ms.len(),
        "closed_early": received.iter().filter(|r| r.closed_early).count(),
        "in_order": in_order,
        "latency": { "p50_ms": p50, "p99_ms": p99, "max_ms": max },
    })
}

/// Resident memory grown from `before` to `after`, per connection of `connections`.
pub(super) fn per_connection(
    before: Option<u64>,
    after: Option<u64>,
    connections: usize,
) -> Option<f64> {
    Some(after?.saturating_sub(before?) as f64 / connections.max(1) as f64)
}

/// CPU time (user + system, all threads) of process `pid` so far, from `/proc/{pid}/stat`, in
/// milliseconds (Linux reports it in ticks of 1/100 s on every mainstream architecture).
fn cpu_ms(pid: u32) -> Option<f64> {
    const TICK_MS: f64 = 10.0;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks * TICK_MS)
}

/// Resident memory of process `pid` from `/proc` (`None` where there is no `/proc`).
pub(super) fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse::<u64>()
        .ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_spread_over_users() {
        let options = Options {
            connections: 4,
            events: 5,
            users: 2,
        };
        assert_eq!(expected_for(0, &options), 3);
        assert_eq!(expected_for(1, &options), 2);
        assert_eq!(expected_for(2, &options), 3);
    }

    #[test]
    fn memory_and_cpu_of_this_process_are_known() {
        assert!(rss_bytes(std::process::id()).unwrap() > 0);
        let spent = cpu_ms(std::process::id()).unwrap();
        let busy = Instant::now();
        while Instant::now() < busy + Duration::from_millis(50) {
            std::hint::black_box(0);
        }
        assert!(cpu_ms(std::process::id()).unwrap() > spent);
    }
}

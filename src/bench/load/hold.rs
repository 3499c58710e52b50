//! How many concurrent WebSocket clients one server holds, and the server's memory per
//! connection: clients subscribed to their user's jobs are opened up to a target, kept reading
//! (so they answer the server's pings), then each must still get `pong` for a `ping`.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

use super::super::ws::{per_connection, rss_bytes, subscriber, Ws};

/// Connections opened at once.
const OPENING: usize = 64;
/// Longest wait for every held client's `pong`.
const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

/// Opens up to `target` clients of the server at `addr` (process `pid`), by `tokens` in turn,
/// and reports how many it held and the server's resident memory per connection.
pub async fn hold(addr: &str, pid: u32, tokens: &[String], target: usize) -> Value {
    let url = format!("ws://{addr}/api/v1/ws/jobs");
    let rss_idle = rss_bytes(pid);
    let (probe, probed) = watch::channel(false);
    let mut clients = JoinSet::new();
    let mut refused = 0_usize;
    let mut first_refusal = None;
    let started = Instant::now();
    let mut opening = futures_util::stream::iter(0..target)
        .map(|i| subscriber(&url, &tokens[i % tokens.len()]))
        .buffer_unordered(OPENING);
    while let Some(opened) = opening.next().await {
        match opened {
            Ok(ws) => {
                clients.spawn(held(ws, probed.clone()));
            }
            Err(err) => {
                refused += 1;
                first_refusal.get_or_insert_with(|| format!("{err:#}"));
            }
        }
    }
    let opening_secs = started.elapsed().as_secs_f64();
    let opened = clients.len();
    let rss_connected = rss_bytes(pid);
    let _ = probe.send(true);
    let answered = clients
        .join_all()
        .await
        .into_iter()
        .filter(|answered| *answered)
        .count();
    json!({
        "target": target,
        "opened": opened,
        "refused": refused,
        "first_refusal": first_refusal,
        "held": answered,
        "opening_secs": opening_secs,
        "server_rss_bytes": { "idle": rss_idle, "connected": rss_connected },
        "server_bytes_per_connection": per_connection(rss_idle, rss_connected, opened),
    })
}

/// Keeps `ws` read until the probe, then sends `ping`; whether `pong` came back.
async fn held(mut ws: Ws, mut probe: watch::Receiver<bool>) -> bool {
    loop {
        tokio::select! {
            changed = probe.changed() => {
                if changed.is_err() {
                    return false;
                }
                break;
            }
            message = ws.next() => {
                if !matches!(message, Some(Ok(_))) {
                    return false;
                }
            }
        }
    }
    let pong = async {
        ws.send(Message::text(r#"{"type":"ping"}"#)).await.ok()?;
        loop {
            if let Message::Text(text) = ws.next().await?.ok()? {
                let message: Value = serde_json::from_str(&text).ok()?;
                if message["type"] == "pong" {
                    return Some(());
                }
            }
        }
    };
    let answered = tokio::time::timeout(PROBE_TIMEOUT, pong)
        .await
        .is_ok_and(|pong| pong.is_some());
    let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(None)).await;
    answered
}

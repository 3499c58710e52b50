//! Job progress events and the bus that carries them (and any other [`Topic`]) to every
//! subscriber of every process.
//!
//! An event is published on every state change and step of a job. With Redis configured, the bus
//! publishes each event as JSON on one pub/sub channel per topic (`{prefix}training:events` for
//! jobs) and one
//! background task per bus holds a dedicated subscriber connection that forwards every event on
//! the channel (this process's included) into the local broadcast channel, so an event reaches
//! each subscriber exactly once, whichever process published it. While that link is down (a
//! publish failed or timed out, or the subscriber lost its connection) the bus is degraded:
//! events go straight to the local broadcast, and the task reconnects with backoff until the
//! link is back. Subscribers (WebSocket and SSE connections) each hold a bounded receiver and
//! filter by user and job themselves; a receiver that falls behind sees `Lagged` and must drop
//! its client rather than buffer.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::{FutureExt, StreamExt};
use redis::aio::{MultiplexedConnection, PubSubSink, PubSubStream};
use redis::AsyncConnectionConfig;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, oneshot, watch, Notify};
use uuid::Uuid;

use crate::jobs::JobStatus;

/// How many events a subscriber may fall behind before it is cut off.
pub const SUBSCRIBER_BUFFER: usize = 1024;
/// Longest wait for Redis to take one event before it goes to this process only.
pub const PUBLISH_TIMEOUT: Duration = Duration::from_millis(250);
/// Longest a (re)connection of the subscriber may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the subscriber connection is pinged, so a hanging Redis is noticed.
const PING_INTERVAL: Duration = Duration::from_secs(2);
/// First and longest wait between reconnection attempts.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(50), Duration::from_secs(2));

/// One change of a job, as clients receive it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JobEvent {
    /// The job.
    pub job_id: Uuid,
    /// Its owner: only this user's connections receive the event.
    pub user_id: Uuid,
    /// Per-job sequence number, strictly increasing; the SSE event id.
    pub seq: i64,
    /// The job's status after this change.
    pub status: JobStatus,
    /// Steps done so far.
    pub step: u32,
    /// Steps in all (0 when unknown).
    pub total: u32,
    /// Fraction done, 0..=1.
    pub progress: f32,
    /// What happened, for people.
    pub message: String,
    /// The job's metrics, on completion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub metrics: Option<serde_json::Value>,
    /// When it happened.
    pub at: DateTime<Utc>,
}

impl JobEvent {
    /// Metrics key of the transactions a completed categorizer job re-categorised.
    pub const RECATEGORIZED: &'static str = "recategorized";

    /// Whether this is the event that follows a completed categorizer job once the user's
    /// transactions were re-categorised with its model (its metrics carry
    /// [`JobEvent::RECATEGORIZED`]).
    pub fn is_recategorized(&self) -> bool {
        self.status == JobStatus::Completed
            && self
                .metrics
                .as_ref()
                .is_some_and(|m| m.get(Self::RECATEGORIZED).is_some())
    }
}

/// What a [`Bus`] carries: a JSON message on its own pub/sub channel.
pub trait Topic: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The channel's name after the deployment's key prefix.
    const CHANNEL: &'static str;
}

impl Topic for JobEvent {
    const CHANNEL: &'static str = "training:events";
}

/// How the bus is delivering events right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BusStatus {
    /// Through Redis pub/sub: every process sees every event.
    Redis,
    /// Redis is configured but unreachable: events reach this process only until it is back.
    Degraded,
    /// No Redis configured: events reach this process only.
    Local,
}

/// Fans messages of one topic out to the subscribers of every process sharing its Redis channel.
pub struct Bus<E: Topic> {
    shared: Arc<Shared<E>>,
}

/// The bus of job events.
pub type EventBus = Bus<JobEvent>;

impl<E: Topic> Clone for Bus<E> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

struct Shared<E> {
    local: broadcast::Sender<Arc<E>>,
    link: Option<Arc<Link>>,
    /// Dropped with the last handle, which stops the subscriber task.
    _stop: Option<oneshot::Sender<()>>,
}

/// The Redis side: the channel, and the publishing connection while the subscriber is live.
struct Link {
    channel: String,
    /// `Some` exactly while the subscriber is subscribed: publishing through Redis then reaches
    /// this process too.
    publisher: RwLock<Option<MultiplexedConnection>>,
    /// Whether the subscriber is live (one log line per transition; [`EventBus::live_within`]).
    live: watch::Sender<bool>,
    /// Asks the subscriber task to drop its connection and reconnect (a publish failed).
    reconnect: Notify,
}

impl<E: Topic> Default for Bus<E> {
    fn default() -> Self {
        Self::local()
    }
}

impl<E: Topic> Bus<E> {
    /// A bus that reaches this process only.
    pub fn local() -> Self {
        let (local, _) = broadcast::channel(SUBSCRIBER_BUFFER);
        Self {
            shared: Arc::new(Shared {
                local,
                link: None,
                _stop: None,
            }),
        }
    }

    /// A bus over Redis at `redis_url` (`None`: this process only) on the channel
    /// `{key_prefix}{E::CHANNEL}`. Starts the subscriber task, so it must be called inside a
    /// Tokio runtime; until that task has subscribed the bus is [`BusStatus::Degraded`]. Fails
    /// only on a malformed URL.
    pub fn connect(redis_url: Option<&str>, key_prefix: &str) -> Result<Self, String> {
        let Some(url) = redis_url else {
            return Ok(Self::local());
        };
        let client = redis::Client::open(url).map_err(|e| e.to_string())?;
        let (local, _) = broadcast::channel(SUBSCRIBER_BUFFER);
        let link = Arc::new(Link {
            channel: channel::<E>(key_prefix),
            publisher: RwLock::new(None),
            live: watch::Sender::new(false),
            reconnect: Notify::new(),
        });
        let (stop, stopped) = oneshot::channel();
        tokio::spawn(subscribe_loop(
            Arc::clone(&link),
            local.clone(),
            client,
            stopped,
        ));
        Ok(Self {
            shared: Arc::new(Shared {
                local,
                link: Some(link),
                _stop: Some(stop),
            }),
        })
    }

    /// Publishes `event` to every subscriber: through Redis while the link is up (bounded by
    /// [`PUBLISH_TIMEOUT`]), else straight to this process's subscribers.
    pub async fn publish(&self, event: E) {
        if let Some(link) = &self.shared.link {
            if let Some(conn) = link.publisher() {
                let sent = tokio::time::timeout(PUBLISH_TIMEOUT, link.send(conn, &event))
                    .await
                    .unwrap_or_else(|_| Err(format!("no answer within {PUBLISH_TIMEOUT:?}")));
                match sent {
                    Ok(()) => return,
                    Err(error) => link.failed(&error),
                }
            }
        }
        // No subscriber is not an error: nobody is watching.
        let _ = self.shared.local.send(Arc::new(event));
    }

    /// A new subscriber, receiving every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<E>> {
        self.shared.local.subscribe()
    }

    /// How events are delivered right now (cheap: no I/O).
    pub fn status(&self) -> BusStatus {
        match &self.shared.link {
            None => BusStatus::Local,
            Some(link) if link.publisher().is_some() => BusStatus::Redis,
            Some(_) => BusStatus::Degraded,
        }
    }

    /// Whether Redis is configured but events currently reach this process only.
    pub fn is_degraded(&self) -> bool {
        self.status() == BusStatus::Degraded
    }

    /// Waits at most `within` for the Redis link to be live (at start-up); returns the status
    /// then.
    pub async fn live_within(&self, within: Duration) -> BusStatus {
        if let Some(link) = &self.shared.link {
            let mut live = link.live.subscribe();
            let _ = tokio::time::timeout(within, live.wait_for(|live| *live)).await;
        }
        self.status()
    }
}

impl Link {
    fn publisher(&self) -> Option<MultiplexedConnection> {
        self.publisher
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Goes live with `conn` (`None`: down, after `error`), logging each transition once.
    fn set_publisher(&self, conn: Option<MultiplexedConnection>, error: &str) {
        let live = conn.is_some();
        *self
            .publisher
            .write()
            .unwrap_or_else(PoisonError::into_inner) = conn;
        match (self.live.send_replace(live), live) {
            (false, true) => {
                tracing::info!(channel = %self.channel, "event bus: Redis pub/sub is live")
            }
            (true, false) => {
                tracing::warn!(%error, channel = %self.channel, "event bus: Redis pub/sub lost; delivering in process only")
            }
            _ => {}
        }
    }

    async fn send(
        &self,
        mut conn: MultiplexedConnection,
        event: &impl Serialize,
    ) -> Result<(), String> {
        let payload = serde_json::to_vec(event).map_err(|e| e.to_string())?;
        redis::cmd("PUBLISH")
            .arg(&self.channel)
            .arg(payload)
            .query_async::<i64>(&mut conn)
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }

    /// Marks the link down (publishing goes local) and has the subscriber reconnect.
    fn failed(&self, error: &str) {
        self.set_publisher(None, error);
        self.reconnect.notify_one();
    }
}

/// The pub/sub channel of topic `E` every process of a deployment shares.
fn channel<E: Topic>(key_prefix: &str) -> String {
    format!("{key_prefix}{}", E::CHANNEL)
}

/// Why [`pump`] returned.
enum Ended {
    /// The bus was dropped.
    Stopped,
    /// The connection failed, or a publish did.
    Lost(String),
}

/// The subscriber task: connect, subscribe, forward until the link fails, back off, repeat;
/// ends when the bus is dropped.
async fn subscribe_loop<E: Topic>(
    link: Arc<Link>,
    local: broadcast::Sender<Arc<E>>,
    client: redis::Client,
    mut stop: oneshot::Receiver<()>,
) {
    let mut backoff = BACKOFF.0;
    loop {
        let attempt = tokio::select! {
            opened = tokio::time::timeout(CONNECT_TIMEOUT, open(&client, &link.channel)) => opened,
            _ = &mut stop => return,
        };
        let error = match attempt {
            Ok(Ok((sink, stream, publisher))) => {
                // A reconnect asked for before this connection existed is stale.
                let _ = link.reconnect.notified().now_or_never();
                link.set_publisher(Some(publisher), "");
                backoff = BACKOFF.0;
                match pump(&link, &local, sink, stream, &mut stop).await {
                    Ended::Stopped => return,
                    Ended::Lost(error) => error,
                }
            }
            Ok(Err(error)) => error,
            Err(_) => format!("no connection within {CONNECT_TIMEOUT:?}"),
        };
        link.set_publisher(None, &error);
        tracing::debug!(%error, retry_in = ?backoff, "event bus: Redis pub/sub unavailable");
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = &mut stop => return,
        }
        backoff = (backoff * 2).min(BACKOFF.1);
    }
}

/// A pub/sub connection subscribed to `channel`, and a publishing connection.
async fn open(
    client: &redis::Client,
    channel: &str,
) -> Result<(PubSubSink, PubSubStream, MultiplexedConnection), String> {
    let (mut sink, stream) = client
        .get_async_pubsub()
        .await
        .map_err(|e| e.to_string())?
        .split();
    sink.subscribe(channel).await.map_err(|e| e.to_string())?;
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(PUBLISH_TIMEOUT));
    let publisher = client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .map_err(|e| e.to_string())?;
    Ok((sink, stream, publisher))
}

/// Whether the subscribed connection answers a ping within [`PUBLISH_TIMEOUT`]. Subscribed,
/// Redis answers `["pong", ""]` (RESP2), not `PONG`: any answer will do.
async fn answers_ping(sink: &mut PubSubSink) -> bool {
    let pong = tokio::time::timeout(PUBLISH_TIMEOUT, sink.ping::<redis::Value>()).await;
    matches!(pong, Ok(Ok(_)))
}

/// Forwards every message on the channel to the local subscribers, pinging the connection now
/// and then, until it fails, a publish fails, or the bus is dropped.
async fn pump<E: Topic>(
    link: &Link,
    local: &broadcast::Sender<Arc<E>>,
    mut sink: PubSubSink,
    mut stream: PubSubStream,
    stop: &mut oneshot::Receiver<()>,
) -> Ended {
    let mut ping = tokio::time::interval(PING_INTERVAL);
    ping.tick().await;
    let requested = link.reconnect.notified();
    tokio::pin!(requested);
    loop {
        tokio::select! {
            message = stream.next() => {
                let Some(message) = message else {
                    return Ended::Lost("subscriber connection closed".into());
                };
                match serde_json::from_slice::<E>(message.get_payload_bytes()) {
                    Ok(event) => {
                        let _ = local.send(Arc::new(event));
                    }
                    Err(error) => tracing::warn!(%error, "event bus: ignored a malformed event"),
                }
            }
            _ = ping.tick() => {
                if !answers_ping(&mut sink).await {
                    return Ended::Lost("subscriber connection does not answer pings".into());
                }
            }
            () = &mut requested => return Ended::Lost("a publish failed".into()),
            _ = &mut *stop => return Ended::Stopped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: i64) -> JobEvent {
        JobEvent {
            job_id: Uuid::nil(),
            user_id: Uuid::nil(),
            seq,
            status: JobStatus::Processing,
            step: 1,
            total: 2,
            progress: 0.5,
            message: "half way".into(),
            metrics: None,
            at: Utc::now(),
        }
    }

    #[test]
    fn channel_is_prefixed() {
        assert_eq!(channel::<JobEvent>("scale:"), "scale:training:events");
    }

    #[test]
    fn events_round_trip_as_json_without_absent_metrics() {
        let original = event(3);
        let text = serde_json::to_string(&original).unwrap();
        assert!(!text.contains("metrics"));
        assert_eq!(serde_json::from_str::<JobEvent>(&text).unwrap(), original);
    }

    #[tokio::test]
    async fn a_local_bus_delivers_in_process() {
        let bus = EventBus::local();
        assert_eq!(bus.status(), BusStatus::Local);
        assert!(!bus.is_degraded());
        let mut rx = bus.subscribe();
        bus.publish(event(1)).await;
        bus.publish(event(2)).await;
        assert_eq!(rx.recv().await.unwrap().seq, 1);
        assert_eq!(rx.recv().await.unwrap().seq, 2);
    }

    #[tokio::test]
    async fn without_a_url_the_bus_is_local() {
        let bus = EventBus::connect(None, "p:").unwrap();
        assert_eq!(bus.live_within(Duration::ZERO).await, BusStatus::Local);
    }

    #[tokio::test]
    async fn a_subscribed_connection_answers_pings() {
        let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
        let channel = format!("scale-test-{}:ping", Uuid::new_v4());
        let (mut sink, _stream, _publisher) = open(&client, &channel).await.unwrap();
        assert!(answers_ping(&mut sink).await);
        assert!(answers_ping(&mut sink).await);
    }

    #[tokio::test]
    async fn a_malformed_url_is_refused() {
        assert!(EventBus::connect(Some("nonsense"), "p:").is_err());
    }
}

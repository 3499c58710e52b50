//! Job progress events and the bus that carries them to every subscriber in this process.
//!
//! An event is published on every state change and step of a job. Subscribers (WebSocket and
//! SSE connections) each hold a bounded receiver and filter by user and job themselves; a
//! receiver that falls behind sees `Lagged` and must drop its client rather than buffer.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use uuid::Uuid;

use super::JobStatus;

/// How many events a subscriber may fall behind before it is cut off.
pub const SUBSCRIBER_BUFFER: usize = 1024;

/// One change of a job, as clients receive it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    pub metrics: Option<serde_json::Value>,
    /// When it happened.
    pub at: DateTime<Utc>,
}

/// Fans job events out to this process's subscribers.
#[derive(Clone)]
pub struct EventBus {
    local: broadcast::Sender<Arc<JobEvent>>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::local()
    }
}

impl EventBus {
    /// A bus that reaches this process only.
    pub fn local() -> Self {
        let (local, _) = broadcast::channel(SUBSCRIBER_BUFFER);
        Self { local }
    }

    /// Publishes `event` to every subscriber.
    pub async fn publish(&self, event: JobEvent) {
        // No subscriber is not an error: nobody is watching.
        let _ = self.local.send(Arc::new(event));
    }

    /// A new subscriber, receiving every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<JobEvent>> {
        self.local.subscribe()
    }
}

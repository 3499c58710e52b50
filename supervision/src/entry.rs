//! One supervised actor's live record (status, restarts, last error, mailbox backlog, last
//! heartbeat), updated by its [`crate::Managed`] wrapper, and the [`ActorSnapshot`] view of it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::config::SupervisorConfig;

/// Lifecycle state of a supervised actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorStatus {
    /// Registered, not yet started.
    Starting,
    /// Taking messages.
    Running,
    /// Crashed and being restarted.
    Restarting,
    /// Running, but no heartbeat for three intervals: its arbiter is blocked.
    Stalled,
    /// Too many restarts: refuses work until the process restarts.
    Escalated,
}

/// A point-in-time view of one actor, as reported by `/ready` and `/ops/actors`.
#[derive(Debug, Clone, Serialize)]
pub struct ActorSnapshot {
    /// Registry name.
    pub name: &'static str,
    /// Current status.
    pub status: ActorStatus,
    /// Restarts since the process started.
    pub restarts: u64,
    /// The last panic message, if any.
    pub last_error: Option<String>,
    /// Messages sent but not yet handled.
    pub backlog: u64,
    /// Milliseconds since the last heartbeat.
    pub last_heartbeat_ms: u64,
}

struct EntryState {
    status: ActorStatus,
    restarts: u64,
    recent_restarts: VecDeque<Instant>,
    last_error: Option<String>,
    last_heartbeat: Instant,
}

/// One actor's live record, updated by its [`crate::Managed`] wrapper.
pub(crate) struct Entry {
    name: &'static str,
    config: SupervisorConfig,
    state: Mutex<EntryState>,
    sent: AtomicU64,
    handled: AtomicU64,
}

impl Entry {
    /// A fresh record for the actor called `name`, starting.
    pub(crate) fn new(name: &'static str, config: SupervisorConfig) -> Self {
        Entry {
            name,
            config,
            state: Mutex::new(EntryState {
                status: ActorStatus::Starting,
                restarts: 0,
                recent_restarts: VecDeque::new(),
                last_error: None,
                last_heartbeat: Instant::now(),
            }),
            sent: AtomicU64::new(0),
            handled: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, EntryState> {
        // A poisoned lock only means a panic elsewhere; the record itself stays consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn name(&self) -> &'static str {
        self.name
    }

    pub(crate) fn heartbeat_interval(&self) -> Duration {
        self.config.heartbeat_interval
    }

    pub(crate) fn sent(&self) {
        self.sent.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn handled(&self) {
        self.handled.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn beat(&self) {
        self.lock().last_heartbeat = Instant::now();
    }

    pub(crate) fn mark_running(&self) {
        let mut state = self.lock();
        if state.status != ActorStatus::Escalated {
            state.status = ActorStatus::Running;
        }
        state.last_heartbeat = Instant::now();
    }

    pub(crate) fn record_failure(&self, reason: String) {
        let mut state = self.lock();
        if state.status != ActorStatus::Escalated {
            state.status = ActorStatus::Restarting;
        }
        state.last_error = Some(reason);
    }

    /// Counts a restart; returns true when it pushes the actor over its restart intensity.
    pub(crate) fn record_restart(&self) -> bool {
        let now = Instant::now();
        let mut state = self.lock();
        state.restarts += 1;
        state.recent_restarts.push_back(now);
        while state
            .recent_restarts
            .front()
            .is_some_and(|t| now.duration_since(*t) > self.config.restart_window)
        {
            state.recent_restarts.pop_front();
        }
        if state.recent_restarts.len() > self.config.max_restarts as usize {
            state.status = ActorStatus::Escalated;
        }
        state.status == ActorStatus::Escalated
    }

    pub(crate) fn restarts(&self) -> u64 {
        self.lock().restarts
    }

    pub(crate) fn is_escalated(&self) -> bool {
        self.lock().status == ActorStatus::Escalated
    }

    pub(crate) fn snapshot(&self) -> ActorSnapshot {
        let state = self.lock();
        let since_beat = state.last_heartbeat.elapsed();
        let status = if state.status == ActorStatus::Running
            && since_beat > self.config.heartbeat_interval * 3
        {
            ActorStatus::Stalled
        } else {
            state.status
        };
        let handled = self.handled.load(Ordering::Relaxed);
        ActorSnapshot {
            name: self.name,
            status,
            restarts: state.restarts,
            last_error: state.last_error.clone(),
            backlog: self.sent.load(Ordering::Relaxed).saturating_sub(handled),
            last_heartbeat_ms: u64::try_from(since_beat.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

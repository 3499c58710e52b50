//! The actor registry: per supervised actor its status, restart count, last error, mailbox
//! backlog and last heartbeat, plus a way to reach it by name with a [`Control`] message.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use actix::Recipient;
use serde::Serialize;

use crate::supervision::{ActorError, Control, ControlReply};

/// Supervision settings shared by every actor.
#[derive(Debug, Clone, Copy)]
pub struct SupervisorConfig {
    /// More than this many restarts within `restart_window` escalates the actor.
    pub max_restarts: u32,
    /// The window restart intensity is measured over.
    pub restart_window: Duration,
    /// How often a live actor records a heartbeat.
    pub heartbeat_interval: Duration,
    /// How long a caller waits for an actor's answer.
    pub call_timeout: Duration,
}

impl Default for SupervisorConfig {
    fn default() -> Self {
        Self {
            max_restarts: 5,
            restart_window: Duration::from_secs(60),
            heartbeat_interval: Duration::from_secs(1),
            call_timeout: Duration::from_secs(5),
        }
    }
}

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
pub struct Entry {
    name: &'static str,
    config: SupervisorConfig,
    state: Mutex<EntryState>,
    sent: AtomicU64,
    handled: AtomicU64,
}

impl Entry {
    fn lock(&self) -> std::sync::MutexGuard<'_, EntryState> {
        // A poisoned lock only means a panic elsewhere; the record itself stays consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
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

    fn snapshot(&self) -> ActorSnapshot {
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

struct Registered {
    entry: Arc<Entry>,
    control: Recipient<Control>,
}

/// Every supervised actor of this process, by name. Cheap to clone.
#[derive(Clone)]
pub struct Registry {
    config: SupervisorConfig,
    actors: Arc<RwLock<BTreeMap<&'static str, Registered>>>,
}

impl Registry {
    /// An empty registry whose actors use `config`.
    pub fn new(config: SupervisorConfig) -> Self {
        Self {
            config,
            actors: Arc::default(),
        }
    }

    /// The supervision settings.
    pub fn config(&self) -> SupervisorConfig {
        self.config
    }

    pub(crate) fn entry(&self, name: &'static str) -> Arc<Entry> {
        Arc::new(Entry {
            name,
            config: self.config,
            state: Mutex::new(EntryState {
                status: ActorStatus::Starting,
                restarts: 0,
                recent_restarts: VecDeque::new(),
                last_error: None,
                last_heartbeat: Instant::now(),
            }),
            sent: AtomicU64::new(0),
            handled: AtomicU64::new(0),
        })
    }

    pub(crate) fn register(&self, entry: Arc<Entry>, control: Recipient<Control>) {
        let name = entry.name;
        let previous = self
            .actors
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name, Registered { entry, control });
        assert!(previous.is_none(), "actor `{name}` registered twice");
    }

    /// Snapshots of every actor, sorted by name.
    pub fn snapshot(&self) -> Vec<ActorSnapshot> {
        let actors = self.actors.read().unwrap_or_else(|p| p.into_inner());
        actors.values().map(|r| r.entry.snapshot()).collect()
    }

    /// Sends a [`Control`] message to the actor called `name`; `None` if there is no such actor.
    pub async fn control(
        &self,
        name: &str,
        op: Control,
    ) -> Option<Result<ControlReply, ActorError>> {
        let (entry, control) = {
            let actors = self.actors.read().unwrap_or_else(|p| p.into_inner());
            let registered = actors.get(name)?;
            (registered.entry.clone(), registered.control.clone())
        };
        entry.sent();
        let timeout = self.config.call_timeout;
        let answer = control.send(op).timeout(timeout).await;
        Some(answer.unwrap_or_else(|e| Err(ActorError::from_mailbox(entry.name, e, timeout))))
    }
}

//! Supervision settings shared by every actor of a registry.

use std::time::Duration;

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

//! How this process runs training jobs (`TRAINING_*` settings), shared by the scheduler and the
//! attempts it runs.

use std::time::Duration;

use super::queue::Backoff;

/// How the scheduler runs jobs (`TRAINING_*` settings).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SchedulerConfig {
    /// Jobs run at once by this process.
    pub workers: usize,
    /// Lease length: renewed every third of it; a job whose lease expired is reaped.
    pub lease: Duration,
    /// How often to look for due jobs when nothing else wakes the scheduler.
    pub poll_interval: Duration,
    /// Longest a categorizer attempt may run.
    pub categorizer_timeout: Duration,
    /// Longest a forecaster attempt may run.
    pub forecaster_timeout: Duration,
    /// Wait before retrying a failed attempt.
    pub backoff: Backoff,
    /// Chaos: pause after every fitting step (`None` in production).
    pub step_delay: Option<Duration>,
    /// Chaos: attempts up to this number panic at their first fitting step (0 in production).
    pub panic_attempts: i32,
}

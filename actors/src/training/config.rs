//! How this process runs training jobs (`TRAINING_*` settings), shared by the scheduler and the
//! attempts it runs.

use std::time::Duration;

use scale_chaos::TrainingKnobs;

use super::queue::Backoff;

/// How the scheduler runs jobs (`TRAINING_*` settings).
#[derive(Debug, Clone, PartialEq)]
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
    /// Chaos: a pause after every fitting step and attempts that panic at their first step
    /// (neither in production), read at every step: the chaos monkey sets them at run time.
    pub chaos: TrainingKnobs,
}

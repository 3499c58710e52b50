//! The training chaos knobs, read by every fitting step and set at run time: by the
//! configuration at start-up (`CHAOS_TRAINING_*`) and by the chaos monkey while a
//! `training-panic` or `training-hang` fault is active.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Default)]
struct Knobs {
    /// Configured pause after each step, in milliseconds (0: none).
    base_delay_ms: u64,
    /// Configured number of attempts that panic.
    base_panic_attempts: i32,
    /// A `training-hang` fault's pause in milliseconds (0: none active).
    hang_ms: AtomicU64,
    /// Whether a `training-panic` fault is active.
    panic: AtomicBool,
}

/// Shared chaos knobs of the training runner; cheap to clone, all clones see one setting.
#[derive(Debug, Clone, Default)]
pub struct TrainingKnobs(Arc<Knobs>);

impl TrainingKnobs {
    /// Knobs with the configured pause after each step and number of attempts that panic at
    /// their first step (`None` and 0 in production).
    pub fn new(step_delay: Option<Duration>, panic_attempts: i32) -> Self {
        let base_delay_ms =
            step_delay.map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        Self(Arc::new(Knobs {
            base_delay_ms,
            base_panic_attempts: panic_attempts,
            ..Knobs::default()
        }))
    }

    /// The pause after each fitting step: an active `training-hang` fault's, else the
    /// configured one.
    pub fn step_delay(&self) -> Option<Duration> {
        let hang = self.0.hang_ms.load(Ordering::Relaxed);
        let ms = if hang > 0 { hang } else { self.0.base_delay_ms };
        (ms > 0).then(|| Duration::from_millis(ms))
    }

    /// Whether attempt number `attempt` (from 1) panics at its first step.
    pub fn panics(&self, attempt: i32) -> bool {
        self.0.panic.load(Ordering::Relaxed) || attempt <= self.0.base_panic_attempts
    }

    /// The configured pause and number of panicking attempts (what the knobs return to).
    pub fn configured(&self) -> (Option<Duration>, i32) {
        let ms = self.0.base_delay_ms;
        (
            (ms > 0).then(|| Duration::from_millis(ms)),
            self.0.base_panic_attempts,
        )
    }

    /// Sets the chaos faults: every attempt panics while `panic`; each step pauses for `hang`
    /// (`None`: back to the configured pause).
    pub fn set_faults(&self, panic: bool, hang: Option<Duration>) {
        self.0.panic.store(panic, Ordering::Relaxed);
        let hang_ms = hang.map_or(0, |d| {
            u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
        });
        self.0.hang_ms.store(hang_ms, Ordering::Relaxed);
    }
}

impl PartialEq for TrainingKnobs {
    /// Knobs are equal when they are configured alike (faults come and go at run time).
    fn eq(&self, other: &Self) -> bool {
        self.configured() == other.configured()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_override_the_configuration_until_cleared() {
        let knobs = TrainingKnobs::new(Some(Duration::from_millis(5)), 1);
        let seen = knobs.clone();
        assert_eq!(seen.step_delay(), Some(Duration::from_millis(5)));
        assert!(seen.panics(1));
        assert!(!seen.panics(2));
        knobs.set_faults(true, Some(Duration::from_secs(3)));
        assert_eq!(seen.step_delay(), Some(Duration::from_secs(3)));
        assert!(seen.panics(7));
        knobs.set_faults(false, None);
        assert_eq!(seen.step_delay(), Some(Duration::from_millis(5)));
        assert!(!seen.panics(2));
        assert_eq!(TrainingKnobs::default().step_delay(), None);
        assert_eq!(knobs, TrainingKnobs::new(Some(Duration::from_millis(5)), 1));
    }
}

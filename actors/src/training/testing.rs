//! A [`JobControl`] for unit tests: records every step and can stop after a number of checks.

use std::cell::Cell;

use super::fitting::{JobControl, TrainError};

/// Records progress; stops once `stop_after` checks or steps have passed.
#[derive(Debug, Default)]
pub struct RecordingControl {
    /// Every `(step, total, message)` reported.
    pub steps: Vec<(u32, u32, String)>,
    /// How many `check`/`step` calls succeed before [`TrainError::Stopped`] (`None` = never stop).
    pub stop_after: Option<usize>,
    calls: Cell<usize>,
}

impl RecordingControl {
    /// A control that never stops.
    pub fn running() -> Self {
        Self::default()
    }

    /// A control that stops after `calls` successful `check`/`step` calls.
    pub fn stopping_after(calls: usize) -> Self {
        Self {
            stop_after: Some(calls),
            ..Self::default()
        }
    }

    /// How many `check`/`step` calls have been made.
    pub fn calls(&self) -> usize {
        self.calls.get()
    }

    fn tick(&self) -> Result<(), TrainError> {
        let calls = self.calls.get();
        self.calls.set(calls + 1);
        match self.stop_after {
            Some(limit) if calls >= limit => Err(TrainError::Stopped),
            _ => Ok(()),
        }
    }
}

impl JobControl for RecordingControl {
    fn step(&mut self, step: u32, total: u32, message: &str) -> Result<(), TrainError> {
        assert!(step <= total && total <= 10, "step {step}/{total}");
        self.steps.push((step, total, message.to_owned()));
        self.tick()
    }

    fn check(&self) -> Result<(), TrainError> {
        self.tick()
    }
}

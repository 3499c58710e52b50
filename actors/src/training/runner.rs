//! One attempt of a claimed job: load its data, fit on tokio's blocking pool, persist and
//! publish each step, and meanwhile renew the lease, watch for cancellation and enforce the
//! timeout. The attempt ends with exactly one fenced write (completed, failed or retried,
//! released) unless the job was lost to a cancel or the reaper. Each attempt is counted and
//! timed by kind and outcome ([`names::JOB_ATTEMPTS`], [`names::JOB_ATTEMPT_DURATION`]).

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use scale_chaos::TrainingKnobs;
use scale_schema::PgPool;
use tokio::sync::watch;
use tokio::time::{interval_at, sleep_until, Instant, MissedTickBehavior};

use super::config::SchedulerConfig;
use super::fitting::{Fitters, JobControl, Registered, TrainError, TrainingOutput};
use super::queue::{self, Failure, Lease, Step};
use super::store::JobView;
use super::TrainingError;
use crate::events::EventBus;
use crate::jobs::{JobKind, JobStatus};
use scale_monitoring::metrics::names;
use scale_supervision::panic_text;

/// How often a running job checks that it still holds its lease (a cancel lands within this).
pub const STATUS_CHECK: Duration = Duration::from_millis(200);

/// Why a running job must stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// Cancelled or reaped: another party owns the job now.
    Lost,
    /// The per-kind timeout elapsed.
    TimedOut,
    /// The worker is shutting down: hand the job back.
    Shutdown,
    /// The scheduler dropped the attempt (it restarted): the lease will expire.
    Abandoned,
}

/// The stop flag shared by an attempt's watcher and its fitting thread; the first reason wins.
#[derive(Debug, Default)]
pub struct StopSignal {
    stopped: AtomicBool,
    reason: Mutex<Option<StopReason>>,
    wake: Condvar,
}

impl StopSignal {
    /// Asks the job to stop (a later reason does not replace the first).
    pub fn stop(&self, reason: StopReason) {
        let mut current = self.lock();
        current.get_or_insert(reason);
        self.stopped.store(true, Ordering::Release);
        self.wake.notify_all();
    }

    /// Whether the job must stop (a cheap atomic read).
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// Why the job must stop, if it must.
    pub fn reason(&self) -> Option<StopReason> {
        *self.lock()
    }

    /// Blocks the calling thread for `pause`, or less when the job is asked to stop meanwhile.
    fn pause(&self, pause: Duration) {
        let guard = self.lock();
        let _ = self
            .wake
            .wait_timeout_while(guard, pause, |reason| reason.is_none());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<StopReason>> {
        self.reason.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Stops the fitting thread when the attempt is dropped before it ended.
struct AbandonOnDrop(Arc<StopSignal>);

impl Drop for AbandonOnDrop {
    fn drop(&mut self) {
        self.0.stop(StopReason::Abandoned);
    }
}

/// The [`JobControl`] fitting sees: steps go to the attempt's persister (latest wins, so a
/// fast fit never queues writes), stops come from the shared [`StopSignal`].
struct WorkerControl {
    stop: Arc<StopSignal>,
    steps: watch::Sender<Option<Step>>,
    /// Chaos: a pause after each step (cut short by a stop) and whether this attempt panics at
    /// a step, as the knobs say at that step.
    chaos: TrainingKnobs,
    /// This attempt's number (from 1), for [`TrainingKnobs::panics`].
    attempt: i32,
}

impl JobControl for WorkerControl {
    fn step(&mut self, step: u32, total: u32, message: &str) -> Result<(), TrainError> {
        self.check()?;
        assert!(
            !self.chaos.panics(self.attempt),
            "chaos: fitting panicked at step {step}"
        );
        self.steps.send_replace(Some(Step {
            step,
            total,
            message: message.to_owned(),
        }));
        if let Some(delay) = self.chaos.step_delay() {
            self.stop.pause(delay);
        }
        self.check()
    }

    fn check(&self) -> Result<(), TrainError> {
        if self.stop.is_stopped() {
            Err(TrainError::Stopped)
        } else {
            Ok(())
        }
    }
}

/// How an attempt ended.
enum Outcome {
    Fitted(TrainingOutput),
    Failed(Failure),
    Released,
    Lost,
}

/// A claimed job being run by this process.
pub struct Attempt {
    pool: PgPool,
    bus: EventBus,
    config: SchedulerConfig,
    fitters: Fitters,
    lease: Lease,
    stop: Arc<StopSignal>,
}

impl Attempt {
    /// An attempt under `lease`, fitting with `fitters` and stopped through `stop`.
    pub fn new(
        pool: PgPool,
        bus: EventBus,
        config: SchedulerConfig,
        fitters: Fitters,
        lease: Lease,
        stop: Arc<StopSignal>,
    ) -> Self {
        Self {
            pool,
            bus,
            config,
            fitters,
            lease,
            stop,
        }
    }

    /// Runs the attempt of the job just claimed as `claimed` to its end, publishing every change.
    pub async fn run(self, claimed: JobView) {
        let started = Instant::now();
        self.bus.publish(claimed.event()).await;
        let _abandon = AbandonOnDrop(self.stop.clone());
        let registered = JobKind::parse(&claimed.kind).and_then(|kind| self.fitters.get(kind));
        let outcome = match (registered, JobKind::parse(&claimed.kind)) {
            (Some(job), _) => self.outcome(job).await,
            (None, Some(_)) => Outcome::Failed(Failure::Permanent(format!(
                "no fitter registered for job kind `{}`",
                claimed.kind
            ))),
            (None, None) => Outcome::Failed(Failure::Permanent(format!(
                "unknown job kind `{}`",
                claimed.kind
            ))),
        };
        let (pool, lease) = (&self.pool, &self.lease);
        let written = match &outcome {
            Outcome::Fitted(output) => queue::complete(pool, lease, output).await,
            Outcome::Failed(failure) => {
                queue::fail(pool, lease, failure, self.config.backoff).await
            }
            Outcome::Released => queue::release(pool, lease).await,
            Outcome::Lost => Ok(None),
        };
        let ended = match (&outcome, &written) {
            (Outcome::Fitted(_), Ok(Some(_))) => "completed",
            (Outcome::Failed(_), Ok(Some(view))) if view.status == JobStatus::Pending.as_str() => {
                "retried"
            }
            (Outcome::Failed(_), Ok(Some(_))) => "failed",
            (Outcome::Released, Ok(Some(_))) => "released",
            (_, Ok(_)) => "lost",
            (_, Err(_)) => "unrecorded",
        };
        let kind = JobKind::parse(&claimed.kind).map_or("unknown", JobKind::as_str);
        metrics::counter!(names::JOB_ATTEMPTS, "kind" => kind, "outcome" => ended).increment(1);
        metrics::histogram!(names::JOB_ATTEMPT_DURATION, "kind" => kind, "outcome" => ended)
            .record(started.elapsed().as_secs_f64());
        match written {
            Ok(Some(view)) => {
                self.bus.publish(view.event()).await;
                if let (Outcome::Fitted(_), Some(job)) = (&outcome, registered) {
                    if let Some(after) = job.completed(pool, view).await {
                        self.bus.publish(after.event()).await;
                    }
                }
            }
            Ok(None) => tracing::info!(job = %lease.job, "job lost (cancelled or reaped)"),
            Err(err) => tracing::error!(
                job = %lease.job, error = %err,
                "cannot record the end of an attempt; the reaper will settle it"
            ),
        }
    }

    async fn outcome(&self, job: &Registered) -> Outcome {
        let timeout = job.timeout();
        let fitted = tokio::select! {
            fitted = self.fit(job) => fitted,
            never = self.watch(timeout) => match never {},
        };
        match fitted {
            Ok(Ok(output)) => Outcome::Fitted(output),
            Ok(Err(TrainError::Stopped)) => match self.stop.reason() {
                Some(StopReason::TimedOut) => Outcome::Failed(Failure::Transient(format!(
                    "timed out after {} s",
                    timeout.as_secs()
                ))),
                Some(StopReason::Shutdown) => Outcome::Released,
                _ => Outcome::Lost,
            },
            Ok(Err(TrainError::Unusable(text))) => Outcome::Failed(Failure::Permanent(text)),
            Ok(Err(TrainError::Failed(text))) => Outcome::Failed(Failure::Transient(text)),
            Err(panic) => {
                Outcome::Failed(Failure::Transient(format!("training panicked: {panic}")))
            }
        }
    }

    /// Loads the data and fits on the blocking pool while persisting its steps; `Err` carries
    /// the panic of the fitting thread.
    async fn fit(&self, job: &Registered) -> Result<Result<TrainingOutput, TrainError>, String> {
        let fit = match job.load(&self.pool, self.lease.user).await {
            Ok(fit) => fit,
            Err(err) => return Ok(Err(TrainError::Failed(format!("cannot load data: {err}")))),
        };
        let (steps, reports) = watch::channel(None);
        let mut control = WorkerControl {
            stop: self.stop.clone(),
            steps,
            chaos: self.config.chaos.clone(),
            attempt: self.lease.attempt,
        };
        if let Err(stopped) = control.check() {
            return Ok(Err(stopped));
        }
        let fitting = tokio::task::spawn_blocking(move || fit(&mut control));
        let (fitted, ()) = tokio::join!(fitting, self.persist(reports));
        fitted.map_err(|err| match err.try_into_panic() {
            Ok(payload) => panic_text(payload.as_ref()),
            Err(err) => err.to_string(),
        })
    }

    /// Writes and publishes each step until fitting ends (its sender drops).
    async fn persist(&self, mut reports: watch::Receiver<Option<Step>>) {
        while reports.changed().await.is_ok() {
            let Some(step) = reports.borrow_and_update().clone() else {
                continue;
            };
            match queue::progress(&self.pool, &self.lease, &step).await {
                Ok(Some(view)) => self.bus.publish(view.event()).await,
                Ok(None) => self.stop.stop(StopReason::Lost),
                Err(err) => self.database_trouble(&err),
            }
        }
    }

    /// Renews the lease every third of it, checks the job is still held every
    /// [`STATUS_CHECK`] and stops the job after `timeout`; runs until dropped.
    async fn watch(&self, timeout: Duration) -> Infallible {
        let start = Instant::now();
        let beat = self.config.lease / 3;
        let mut heartbeat = interval_at(start + beat, beat);
        let mut status = interval_at(start + STATUS_CHECK, STATUS_CHECK);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        status.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let expiry = sleep_until(start + timeout);
        tokio::pin!(expiry);
        let mut expired = false;
        loop {
            let held = tokio::select! {
                _ = heartbeat.tick() => {
                    queue::heartbeat(&self.pool, &self.lease, self.config.lease).await
                }
                _ = status.tick() => queue::holds(&self.pool, &self.lease).await,
                () = &mut expiry, if !expired => {
                    expired = true;
                    self.stop.stop(StopReason::TimedOut);
                    continue;
                }
            };
            match held {
                Ok(true) => {}
                Ok(false) => self.stop.stop(StopReason::Lost),
                Err(err) => self.database_trouble(&err),
            }
        }
    }

    fn database_trouble(&self, err: &TrainingError) {
        tracing::warn!(job = %self.lease.job, error = %err, "training job bookkeeping failed");
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn control(stop: &Arc<StopSignal>, delay: Option<Duration>) -> WorkerControl {
        WorkerControl {
            stop: stop.clone(),
            steps: watch::channel(None).0,
            chaos: TrainingKnobs::new(delay, 0),
            attempt: 1,
        }
    }

    #[test]
    fn the_first_stop_reason_wins() {
        let stop = StopSignal::default();
        assert!(!stop.is_stopped());
        assert_eq!(stop.reason(), None);
        stop.stop(StopReason::TimedOut);
        stop.stop(StopReason::Lost);
        assert!(stop.is_stopped());
        assert_eq!(stop.reason(), Some(StopReason::TimedOut));
    }

    #[test]
    fn steps_reach_the_persister_and_a_stop_ends_fitting() {
        let stop = Arc::new(StopSignal::default());
        let mut control = control(&stop, None);
        let reports = control.steps.subscribe();
        control.step(1, 4, "tokenised").unwrap();
        assert_eq!(
            reports.borrow().clone(),
            Some(Step {
                step: 1,
                total: 4,
                message: "tokenised".into()
            })
        );
        stop.stop(StopReason::Lost);
        assert_eq!(control.check(), Err(TrainError::Stopped));
        assert_eq!(control.step(2, 4, "fitted"), Err(TrainError::Stopped));
    }

    #[test]
    fn the_chaos_pause_is_cut_short_by_a_stop() {
        let stop = Arc::new(StopSignal::default());
        let mut control = control(&stop, Some(Duration::from_secs(60)));
        let started = Instant::now();
        let stopper = {
            let stop = stop.clone();
            std::thread::spawn(move || stop.stop(StopReason::Shutdown))
        };
        assert_eq!(control.step(1, 2, "slow"), Err(TrainError::Stopped));
        stopper.join().unwrap();
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}

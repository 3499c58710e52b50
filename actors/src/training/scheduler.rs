//! The training scheduler: a supervised actor that claims due jobs from Postgres and runs at
//! most [`SchedulerConfig::workers`] of them at once in this process (fitting on tokio's
//! blocking pool), plus the reaper that settles jobs whose worker died.
//!
//! It claims on a timer, at once when a slot frees, and when a `pending` event arrives on the
//! bus. A panic restarts it with fresh state: the attempts it was running are dropped (their
//! fitting threads are told to stop), their leases expire and the reaper — here or in another
//! process — hands the jobs back to the queue, so none stays `processing`. [`Drain`] stops
//! claiming and releases the running jobs back to `pending` (graceful shutdown).

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use scale_schema::PgPool;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

use super::config::SchedulerConfig;
use super::fitting::Fitters;
use super::queue::{self, Claim};
use super::runner::{Attempt, StopReason, StopSignal};
use crate::events::{EventBus, JobEvent};
use crate::jobs::JobStatus;
use scale_monitoring::metrics::names;
use scale_supervision::{every, spawn_then, Handles, Reply, Request, Service, ServiceContext};

/// Stops claiming and hands every running job back to the queue; answers once they all
/// ended (ask it with a deadline).
pub struct Drain;

impl Request for Drain {
    type Output = ();
}

/// The scheduler's state.
pub struct TrainingScheduler {
    config: SchedulerConfig,
    /// The fitter and timeout of every job kind.
    fitters: Fitters,
    pool: PgPool,
    bus: EventBus,
    /// One permit per job run at once.
    slots: Arc<Semaphore>,
    /// The stop signals of the attempts running now.
    running: HashMap<Uuid, Arc<StopSignal>>,
    claiming: bool,
    reaping: bool,
    draining: bool,
}

impl TrainingScheduler {
    /// A scheduler claiming through `pool`, fitting with `fitters` and publishing on `bus`.
    pub fn new(config: SchedulerConfig, fitters: Fitters, pool: PgPool, bus: EventBus) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(config.workers)),
            config,
            fitters,
            pool,
            bus,
            running: HashMap::new(),
            claiming: false,
            reaping: false,
            draining: false,
        }
    }

    /// Claims one job if a slot is free and no claim is in flight; on success, starts it and
    /// tries the next.
    fn claim(&mut self, ctx: &mut ServiceContext<Self>) {
        if self.claiming || self.draining {
            return;
        }
        let Ok(slot) = self.slots.clone().try_acquire_owned() else {
            return;
        };
        self.claiming = true;
        let (pool, lease) = (self.pool.clone(), self.config.lease);
        let claiming = async move { (queue::claim(&pool, lease).await, slot) };
        spawn_then(ctx, claiming, |state, (claimed, slot), ctx| {
            state.claiming = false;
            match claimed {
                Ok(Some(claim)) => {
                    state.start(claim, slot, ctx);
                    state.claim(ctx);
                }
                Ok(None) => {}
                Err(err) => tracing::warn!(error = %err, "cannot claim a training job"),
            }
        });
    }

    /// Runs a claimed job in `slot`; when it ends, the slot frees and the next claim starts.
    fn start(&mut self, claim: Claim, slot: OwnedSemaphorePermit, ctx: &mut ServiceContext<Self>) {
        let Claim { view, lease } = claim;
        let id = lease.job;
        let stop = Arc::new(StopSignal::default());
        if self.draining {
            stop.stop(StopReason::Shutdown);
        }
        self.running.insert(id, stop.clone());
        let attempt = Attempt::new(
            self.pool.clone(),
            self.bus.clone(),
            self.config.clone(),
            self.fitters.clone(),
            lease,
            stop,
        );
        let run = AssertUnwindSafe(async move {
            attempt.run(view).await;
            drop(slot);
        })
        .catch_unwind();
        spawn_then(ctx, run, move |state, ran, ctx| {
            state.running.remove(&id);
            if let Err(panic) = ran {
                // Restart the actor like any handler panic; the job's lease will expire.
                std::panic::resume_unwind(panic);
            }
            state.claim(ctx);
        });
    }

    /// Settles expired leases (one pass at a time) and claims when jobs came back.
    fn reap(&mut self, ctx: &mut ServiceContext<Self>) {
        if self.reaping {
            return;
        }
        self.reaping = true;
        let (pool, bus, backoff) = (self.pool.clone(), self.bus.clone(), self.config.backoff);
        let reaping = async move {
            match queue::reap(&pool, backoff).await {
                Ok(views) => {
                    for view in &views {
                        tracing::warn!(job = %view.id, status = %view.status, "reaped an expired lease");
                        let outcome = if view.status == JobStatus::Pending.as_str() {
                            "retried"
                        } else {
                            "failed"
                        };
                        metrics::counter!(names::JOBS_REAPED, "outcome" => outcome).increment(1);
                        bus.publish(view.event()).await;
                    }
                    !views.is_empty()
                }
                Err(err) => {
                    tracing::warn!(error = %err, "cannot reap expired training leases");
                    false
                }
            }
        };
        spawn_then(ctx, reaping, |state, reaped, ctx| {
            state.reaping = false;
            if reaped {
                state.claim(ctx);
            }
        });
    }

    /// Follows the bus: a new pending job wakes the claimer, a cancel stops its job at once.
    fn listen(ctx: &mut ServiceContext<Self>, mut events: broadcast::Receiver<Arc<JobEvent>>) {
        let next = async move {
            let event = events.recv().await;
            (events, event)
        };
        spawn_then(ctx, next, |state, (events, event), ctx| {
            match event {
                Ok(event) => state.notice(&event, ctx),
                Err(RecvError::Lagged(_)) => state.claim(ctx),
                Err(RecvError::Closed) => return,
            }
            Self::listen(ctx, events);
        });
    }

    fn notice(&mut self, event: &JobEvent, ctx: &mut ServiceContext<Self>) {
        match event.status {
            JobStatus::Pending => self.claim(ctx),
            JobStatus::Cancelled => {
                if let Some(stop) = self.running.get(&event.job_id) {
                    stop.stop(StopReason::Lost);
                }
            }
            _ => {}
        }
    }
}

impl Service for TrainingScheduler {
    const NAME: &'static str = "training-scheduler";

    fn started(&mut self, ctx: &mut ServiceContext<Self>) {
        Self::listen(ctx, self.bus.subscribe());
        every(ctx, self.config.poll_interval, Self::claim);
        every(ctx, self.config.lease / 2, Self::reap);
        self.reap(ctx);
        self.claim(ctx);
    }
}

impl Handles<Drain> for TrainingScheduler {
    fn handle(&mut self, _: Drain, _: &mut ServiceContext<Self>) -> Reply<()> {
        self.draining = true;
        for stop in self.running.values() {
            stop.stop(StopReason::Shutdown);
        }
        let slots = self.slots.clone();
        let all = u32::try_from(self.config.workers).unwrap_or(u32::MAX);
        Reply::later(async move {
            let _ = slots.acquire_many_owned(all).await;
        })
    }
}

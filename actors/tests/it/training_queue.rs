//! The worker side of training jobs against real Postgres (one database per test): claiming
//! under concurrency, fenced writes, the reaper, retries with backoff, atomic completion, and
//! the scheduler actor running real fits (cancel, timeout, restart, drain, events).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::{Array, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use scale_actors::categorization::brain::BrainCell;
use scale_actors::categorization::fitter::CategorizerFitter;
use scale_actors::events::{EventBus, JobEvent};
use scale_actors::fitters;
use scale_actors::jobs::JobKind;
use scale_actors::training::config::SchedulerConfig;
use scale_actors::training::fitting::{
    Fitter, JobControl, LabelSource, LabelledExample, Ledger, Loadable, TrainError,
};
use scale_actors::training::queue::{self, Backoff, Claim, Failure, Step};
use scale_actors::training::scheduler::{Drain, TrainingScheduler};
use scale_actors::training::store::JobView;
use scale_chaos::TrainingKnobs;
use scale_schema::tables::{training_job_events, training_jobs, training_models};
use scale_schema::testing::TestDatabase;
use scale_schema::PgPool;
use scale_supervision::{spawn, Control, Handle, Registry, Service, SupervisorConfig};
use tokio::sync::broadcast;
use uuid::Uuid;

/// Users with 45 days of labelled history and corrections each.
const SEED: &str = include_str!("../fixtures/training_users.sql");

const LONG_LEASE: Duration = Duration::from_secs(30);
const NO_BACKOFF: Backoff = Backoff {
    base: Duration::ZERO,
    cap: Duration::ZERO,
};

struct Fixture {
    pool: PgPool,
    admin: AsyncPgConnection,
    _db: TestDatabase,
}

impl Fixture {
    async fn new() -> Self {
        let db = TestDatabase::migrated();
        let pool = scale_schema::connect(&db.url(), 12, Duration::from_secs(10));
        let admin = AsyncPgConnection::establish(&db.url()).await.unwrap();
        Self {
            pool,
            admin,
            _db: db,
        }
    }

    /// `n` new users with realistic history.
    async fn users(&mut self, n: usize) -> Vec<Uuid> {
        let users: Vec<Uuid> = (0..n).map(|_| Uuid::new_v4()).collect();
        diesel::sql_query(SEED)
            .bind::<Array<SqlUuid>, _>(&users)
            .execute(&mut self.admin)
            .await
            .unwrap();
        users
    }

    /// A job of a new user (the only job in the database).
    async fn lone_job(&mut self, kind: JobKind, max_attempts: i32) -> Uuid {
        let user = self.users(1).await[0];
        self.job(user, kind, max_attempts).await
    }

    /// Queues a `kind` job for `user`, as the API does.
    async fn job(&mut self, user: Uuid, kind: JobKind, max_attempts: i32) -> Uuid {
        diesel::insert_into(training_jobs::table)
            .values((
                training_jobs::user_id.eq(user),
                training_jobs::kind.eq(kind.as_str()),
                training_jobs::max_attempts.eq(max_attempts),
            ))
            .returning(training_jobs::id)
            .get_result(&mut self.admin)
            .await
            .unwrap()
    }

    /// The job now, with its lease columns.
    async fn row(&mut self, id: Uuid) -> (JobView, Option<String>, bool) {
        training_jobs::table
            .find(id)
            .select((
                JobView::as_select(),
                training_jobs::lease_owner,
                diesel::dsl::sql::<diesel::sql_types::Bool>("run_after > now()"),
            ))
            .first(&mut self.admin)
            .await
            .unwrap()
    }

    async fn view(&mut self, id: Uuid) -> JobView {
        self.row(id).await.0
    }

    /// Cancels a job the way the API does (status and finish time, lease columns left).
    async fn cancel(&mut self, id: Uuid) {
        diesel::update(training_jobs::table.find(id))
            .set((
                training_jobs::status.eq("cancelled"),
                training_jobs::finished_at.eq(diesel::dsl::now),
            ))
            .execute(&mut self.admin)
            .await
            .unwrap();
    }

    async fn models(&mut self, job: Uuid) -> Vec<(String, serde_json::Value)> {
        training_models::table
            .filter(training_models::job_id.eq(job))
            .select((training_models::format, training_models::metrics))
            .load(&mut self.admin)
            .await
            .unwrap()
    }

    /// The job's logged statuses in sequence order, consecutive repeats collapsed.
    async fn path(&mut self, job: Uuid) -> Vec<String> {
        let mut statuses: Vec<String> = training_job_events::table
            .filter(training_job_events::job_id.eq(job))
            .order(training_job_events::seq)
            .select(training_job_events::status)
            .load(&mut self.admin)
            .await
            .unwrap();
        statuses.dedup();
        statuses
    }

    /// Polls the job until `done` holds (deadline `within`); returns it then.
    async fn until(
        &mut self,
        id: Uuid,
        within: Duration,
        done: impl Fn(&JobView) -> bool,
    ) -> JobView {
        let deadline = Instant::now() + within;
        loop {
            let view = self.view(id).await;
            if done(&view) {
                return view;
            }
            assert!(Instant::now() < deadline, "job never got there: {view:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A [`JobControl`] that never stops fitting.
struct Unstoppable;

impl JobControl for Unstoppable {
    fn step(&mut self, _: u32, _: u32, _: &str) -> Result<(), TrainError> {
        Ok(())
    }

    fn check(&self) -> Result<(), TrainError> {
        Ok(())
    }
}

async fn claim(pool: &PgPool) -> Claim {
    queue::claim(pool, LONG_LEASE)
        .await
        .unwrap()
        .expect("a due job")
}

#[tokio::test]
async fn concurrent_claimers_claim_each_job_exactly_once() {
    let mut fx = Fixture::new().await;
    let mut queued = HashSet::new();
    for user in fx.users(50).await {
        for kind in [JobKind::Categorizer, JobKind::Forecaster] {
            queued.insert(fx.job(user, kind, 3).await);
        }
    }
    let claimer = |pool: PgPool| async move {
        let mut mine = Vec::new();
        while let Some(claim) = queue::claim(&pool, LONG_LEASE).await.unwrap() {
            assert_eq!(claim.view.status, "processing");
            assert_eq!(claim.view.attempts, 1);
            assert_eq!(claim.view.message, "started attempt 1");
            mine.push((claim.lease.job, claim.lease.token));
        }
        mine
    };
    let handles: Vec<_> = (0..4)
        .map(|_| tokio::spawn(claimer(fx.pool.clone())))
        .collect();
    let mut claimed = Vec::new();
    for handle in handles {
        claimed.extend(handle.await.unwrap());
    }
    let ids: HashSet<Uuid> = claimed.iter().map(|(id, _)| *id).collect();
    assert_eq!(claimed.len(), 100, "a job was claimed twice");
    assert_eq!(ids, queued);
    let tokens: HashSet<&String> = claimed.iter().map(|(_, token)| token).collect();
    assert_eq!(tokens.len(), 100, "lease tokens are unique per claim");
    for (id, token) in &claimed {
        let (view, owner, _) = fx.row(*id).await;
        assert_eq!((view.status.as_str(), view.attempts), ("processing", 1));
        assert_eq!(owner.as_ref(), Some(token));
        assert!(view.started_at.is_some());
    }
}

#[tokio::test]
async fn fenced_writes_fail_once_the_job_is_cancelled() {
    let mut fx = Fixture::new().await;
    let user = fx.users(1).await[0];
    let id = fx.job(user, JobKind::Categorizer, 3).await;
    let Claim { lease, .. } = claim(&fx.pool).await;
    let step = Step {
        step: 1,
        total: 2,
        message: "half way".into(),
    };
    let moved = queue::progress(&fx.pool, &lease, &step).await.unwrap();
    assert_eq!(
        moved.map(|v| (v.step, v.total, v.progress)),
        Some((1, 2, 0.5))
    );
    assert!(queue::holds(&fx.pool, &lease).await.unwrap());
    assert!(queue::heartbeat(&fx.pool, &lease, LONG_LEASE)
        .await
        .unwrap());

    fx.cancel(id).await;
    let pool = &fx.pool;
    assert!(!queue::holds(pool, &lease).await.unwrap());
    assert!(!queue::heartbeat(pool, &lease, LONG_LEASE).await.unwrap());
    assert_eq!(queue::progress(pool, &lease, &step).await.unwrap(), None);
    let input = Vec::<LabelledExample>::read(pool, user).await.unwrap();
    let output = CategorizerFitter::new(BrainCell::shipped())
        .fit(input, &mut Unstoppable)
        .unwrap();
    assert_eq!(queue::complete(pool, &lease, &output).await.unwrap(), None);
    let failure = Failure::Transient("boom".into());
    assert_eq!(
        queue::fail(pool, &lease, &failure, NO_BACKOFF)
            .await
            .unwrap(),
        None
    );
    assert_eq!(queue::release(pool, &lease).await.unwrap(), None);
    // A stale token is fenced out just the same.
    let stale = queue::Lease {
        token: "someone-else".into(),
        ..lease
    };
    assert!(!queue::holds(pool, &stale).await.unwrap());

    let view = fx.view(id).await;
    assert_eq!(view.status, "cancelled");
    assert_eq!(view.step, 1);
    assert!(fx.models(id).await.is_empty());
}

#[tokio::test]
async fn the_reaper_requeues_an_expired_lease_then_fails_the_last_attempt() {
    let mut fx = Fixture::new().await;
    let user = fx.users(1).await[0];
    let id = fx.job(user, JobKind::Forecaster, 2).await;
    let live = fx.job(user, JobKind::Categorizer, 2).await;
    let reap_until_settled = |pool: PgPool| async move {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let reaped = queue::reap(&pool, NO_BACKOFF).await.unwrap();
            if !reaped.is_empty() {
                return reaped;
            }
            assert!(
                Instant::now() < deadline,
                "the expired lease was never reaped"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };

    // The forecaster job is claimed under an instantly expiring lease, the other under a long one.
    let first = queue::claim(&fx.pool, Duration::ZERO)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.lease.job, id);
    claim(&fx.pool).await;
    let reaped = reap_until_settled(fx.pool.clone()).await;
    assert_eq!(reaped.len(), 1, "only the expired lease is reaped");
    let (view, owner, _) = fx.row(id).await;
    assert_eq!(reaped[0], view);
    assert_eq!((view.status.as_str(), view.attempts), ("pending", 1));
    assert_eq!(view.message, "attempt 1 failed: lease expired; retrying");
    assert_eq!(view.error.as_deref(), Some("lease expired"));
    assert_eq!(owner, None);
    assert_eq!(fx.view(live).await.status, "processing");

    let second = queue::claim(&fx.pool, Duration::ZERO)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((second.lease.job, second.view.attempts), (id, 2));
    reap_until_settled(fx.pool.clone()).await;
    let view = fx.view(id).await;
    assert_eq!((view.status.as_str(), view.attempts), ("failed", 2));
    assert_eq!(view.message, "failed after 2 attempts: lease expired");
    assert!(view.finished_at.is_some());
    assert_eq!(
        fx.path(id).await,
        ["pending", "processing", "pending", "processing", "failed"]
    );
}

#[tokio::test]
async fn failures_retry_after_a_backoff_until_attempts_run_out_and_unusable_data_fails_at_once() {
    let mut fx = Fixture::new().await;
    let users = fx.users(2).await;
    let retried = fx.job(users[0], JobKind::Categorizer, 3).await;
    let backoff = Backoff {
        base: Duration::from_secs(60),
        cap: Duration::from_secs(600),
    };
    let Claim { lease, .. } = claim(&fx.pool).await;
    let failure = Failure::Transient("database hiccup".into());
    let view = queue::fail(&fx.pool, &lease, &failure, backoff)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((view.status.as_str(), view.attempts), ("pending", 1));
    assert_eq!(view.error.as_deref(), Some("database hiccup"));
    assert_eq!(view.message, "attempt 1 failed: database hiccup; retrying");
    let (_, owner, later) = fx.row(retried).await;
    assert!(later, "the retry waits for its backoff");
    assert_eq!(owner, None);
    let not_before: bool = training_jobs::table
        .find(retried)
        .select(diesel::dsl::sql::<diesel::sql_types::Bool>(
            "run_after >= now() + interval '29 seconds'",
        ))
        .first(&mut fx.admin)
        .await
        .unwrap();
    assert!(not_before, "equal jitter waits at least half the backoff");
    assert!(queue::claim(&fx.pool, LONG_LEASE).await.unwrap().is_none());

    // The last attempt's transient failure is final.
    let last = fx.job(users[1], JobKind::Forecaster, 1).await;
    let Claim { lease, .. } = claim(&fx.pool).await;
    assert_eq!(lease.job, last);
    let view = queue::fail(&fx.pool, &lease, &failure, NO_BACKOFF)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((view.status.as_str(), view.attempts), ("failed", 1));
    assert_eq!(view.message, "failed after 1 attempts: database hiccup");

    // Unusable data is not retried, whatever attempts remain.
    let unusable = fx.job(users[1], JobKind::Categorizer, 3).await;
    let Claim { lease, .. } = claim(&fx.pool).await;
    assert_eq!(lease.job, unusable);
    let failure = Failure::Permanent("no labelled transactions".into());
    let view = queue::fail(&fx.pool, &lease, &failure, NO_BACKOFF)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((view.status.as_str(), view.attempts), ("failed", 1));
    assert_eq!(view.message, "failed: no labelled transactions");
    assert!(view.finished_at.is_some());
}

#[tokio::test]
async fn completion_stores_the_model_and_metrics_together_or_not_at_all() {
    let mut fx = Fixture::new().await;
    let user = fx.users(1).await[0];
    let id = fx.job(user, JobKind::Categorizer, 3).await;
    let Claim { lease, .. } = claim(&fx.pool).await;
    let input = Vec::<LabelledExample>::read(&fx.pool, user).await.unwrap();
    let output = CategorizerFitter::new(BrainCell::shipped())
        .fit(input, &mut Unstoppable)
        .unwrap();

    // A model row already holding this job id makes the insert fail: the job must stay running.
    diesel::sql_query(
        "INSERT INTO training_models (user_id, kind, job_id, format, artefact, metrics) \
         VALUES ($1, 'categorizer', $2, 'squatter', '', '{}')",
    )
    .bind::<SqlUuid, _>(user)
    .bind::<SqlUuid, _>(id)
    .execute(&mut fx.admin)
    .await
    .unwrap();
    assert!(queue::complete(&fx.pool, &lease, &output).await.is_err());
    assert_eq!(fx.view(id).await.status, "processing");
    diesel::delete(training_models::table.filter(training_models::job_id.eq(id)))
        .execute(&mut fx.admin)
        .await
        .unwrap();

    let view = queue::complete(&fx.pool, &lease, &output)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(view.status, "completed");
    assert_eq!(view.progress, 1.0);
    assert_eq!(view.metrics.as_ref(), Some(&output.metrics));
    assert!(view.finished_at.is_some());
    assert_eq!(view.event().metrics.as_ref(), Some(&output.metrics));
    assert_eq!(
        fx.models(id).await,
        [(output.format.to_owned(), output.metrics.clone())]
    );
    // Final: nothing lands any more.
    assert_eq!(
        queue::complete(&fx.pool, &lease, &output).await.unwrap(),
        None
    );
    assert_eq!(fx.models(id).await.len(), 1);
}

#[tokio::test]
async fn the_loader_reads_corrections_labels_and_history_in_the_users_context() {
    let mut fx = Fixture::new().await;
    let users = fx.users(2).await;
    let examples = Vec::<LabelledExample>::read(&fx.pool, users[0])
        .await
        .unwrap();
    use LabelSource::{Correction, Labelled};
    let corrections: Vec<_> = examples.iter().filter(|e| e.source == Correction).collect();
    assert_eq!(corrections.len(), 2);
    assert!(examples[..2].iter().all(|e| e.source == Correction));
    let linked = corrections.iter().find(|e| e.amount.is_some()).unwrap();
    assert_eq!(
        (linked.merchant.as_str(), linked.category.as_str()),
        ("Uber", "Travel")
    );
    assert!(corrections
        .iter()
        .any(|e| e.amount.is_none() && e.description == "zomato dinner with friends"));
    let labelled = examples.iter().filter(|e| e.source == Labelled).count();
    // 45 rows, minus the weekly uncategorised withdrawals, minus the corrected one.
    assert_eq!(labelled, 45 - 6 - 1);
    assert!(examples.iter().all(|e| e.category != "Uncategorized"));

    let Ledger { entries, today, .. } = Ledger::read(&fx.pool, users[1]).await.unwrap();
    assert_eq!(entries.len(), 45);
    assert!(entries.windows(2).all(|w| w[0].date <= w[1].date));
    assert!(today >= entries[44].date);
}

/// A scheduler for tests: fast polling, short leases, no backoff.
fn scheduler_config(workers: usize, step_delay: Option<Duration>) -> SchedulerConfig {
    SchedulerConfig {
        workers,
        lease: Duration::from_secs(2),
        poll_interval: Duration::from_millis(100),
        categorizer_timeout: Duration::from_secs(60),
        forecaster_timeout: Duration::from_secs(60),
        backoff: NO_BACKOFF,
        chaos: TrainingKnobs::new(step_delay, 0),
    }
}

fn scheduler(
    fx: &Fixture,
    config: SchedulerConfig,
    bus: &EventBus,
) -> (Handle<TrainingScheduler>, Registry) {
    let registry = Registry::new(SupervisorConfig::default());
    let (pool, bus) = (fx.pool.clone(), bus.clone());
    let fitters = fitters::registered(&config, &BrainCell::shipped());
    let handle = spawn(&registry, move || {
        TrainingScheduler::new(config.clone(), fitters.clone(), pool.clone(), bus.clone())
    });
    (handle, registry)
}

/// Every event received so far, per job.
fn received(events: &mut broadcast::Receiver<Arc<JobEvent>>) -> BTreeMap<Uuid, Vec<JobEvent>> {
    let mut by_job: BTreeMap<Uuid, Vec<JobEvent>> = BTreeMap::new();
    while let Ok(event) = events.try_recv() {
        by_job
            .entry(event.job_id)
            .or_default()
            .push((*event).clone());
    }
    by_job
}

#[actix_rt::test]
async fn the_scheduler_runs_every_job_once_and_publishes_every_change_in_order() {
    let mut fx = Fixture::new().await;
    let bus = EventBus::local();
    let mut events = bus.subscribe();
    let mut jobs = Vec::new();
    for user in fx.users(4).await {
        for kind in [JobKind::Categorizer, JobKind::Forecaster] {
            jobs.push(fx.job(user, kind, 3).await);
        }
    }
    let (_scheduler, registry) = scheduler(&fx, scheduler_config(2, None), &bus);
    for id in &jobs {
        let view = fx
            .until(*id, Duration::from_secs(30), |v| v.status == "completed")
            .await;
        assert_eq!(view.attempts, 1);
        assert_eq!(fx.models(*id).await.len(), 1);
        assert_eq!(fx.path(*id).await, ["pending", "processing", "completed"]);
    }
    assert!(registry
        .snapshot()
        .iter()
        .any(|a| a.name == "training-scheduler"));

    let published = received(&mut events);
    for id in &jobs {
        let logged: Vec<i64> = training_job_events::table
            .filter(training_job_events::job_id.eq(id))
            .order(training_job_events::seq)
            .select(training_job_events::seq)
            .load(&mut fx.admin)
            .await
            .unwrap();
        let seqs: Vec<i64> = published[id].iter().map(|e| e.seq).collect();
        // The insert (seq 1) was ours, not the scheduler's; every later change is published
        // once, in order.
        assert_eq!(seqs, logged[1..], "job {id}");
        let last = published[id].last().unwrap();
        assert_eq!(last.status, scale_actors::jobs::JobStatus::Completed);
        assert!(last.metrics.is_some());
    }
}

#[actix_rt::test]
async fn a_cancel_stops_the_running_job_within_a_second_and_drain_hands_jobs_back() {
    let mut fx = Fixture::new().await;
    let user = fx.users(1).await[0];
    let slow = fx.job(user, JobKind::Categorizer, 3).await;
    let next = fx.job(user, JobKind::Forecaster, 3).await;
    let bus = EventBus::local();
    let config = scheduler_config(1, Some(Duration::from_secs(600)));
    let (scheduler, _registry) = scheduler(&fx, config, &bus);
    // Mid-run: the first step is persisted and fitting pauses (chaos step delay).
    fx.until(slow, Duration::from_secs(20), |v| {
        v.status == "processing" && v.step >= 1
    })
    .await;
    assert_eq!(fx.view(next).await.status, "pending", "one worker slot");

    // Cancelled in the database only (no event): the job's own status watch must notice.
    fx.cancel(slow).await;
    let cancelled = Instant::now();
    fx.until(next, Duration::from_secs(5), |v| v.status == "processing")
        .await;
    assert!(
        cancelled.elapsed() < Duration::from_secs(1),
        "the cancelled job held its slot for {:?}",
        cancelled.elapsed()
    );
    let view = fx.view(slow).await;
    assert_eq!(view.status, "cancelled");
    assert!(fx.models(slow).await.is_empty());

    // Graceful shutdown: the running job goes back to the queue, its attempt not counted.
    fx.until(next, Duration::from_secs(20), |v| v.step >= 1)
        .await;
    scheduler
        .ask_within(Drain, Duration::from_secs(10))
        .await
        .unwrap();
    let (view, owner, _) = fx.row(next).await;
    assert_eq!((view.status.as_str(), view.attempts), ("pending", 0));
    assert_eq!(view.message, "released by a stopping worker");
    assert_eq!(owner, None);
}

#[actix_rt::test]
async fn a_timed_out_attempt_is_retried_then_fails_after_the_last() {
    let mut fx = Fixture::new().await;
    let id = fx.lone_job(JobKind::Forecaster, 2).await;
    let bus = EventBus::local();
    let config = SchedulerConfig {
        forecaster_timeout: Duration::from_secs(1),
        ..scheduler_config(1, Some(Duration::from_secs(600)))
    };
    let (_scheduler, _registry) = scheduler(&fx, config, &bus);
    let view = fx
        .until(id, Duration::from_secs(20), |v| v.status == "failed")
        .await;
    assert_eq!(view.attempts, 2);
    assert_eq!(view.error.as_deref(), Some("timed out after 1 s"));
    assert_eq!(view.message, "failed after 2 attempts: timed out after 1 s");
    assert_eq!(
        fx.path(id).await,
        ["pending", "processing", "pending", "processing", "failed"]
    );
    assert!(fx.models(id).await.is_empty());
}

#[actix_rt::test]
async fn a_panic_in_fitting_fails_the_attempt_and_the_retry_completes() {
    let mut fx = Fixture::new().await;
    let id = fx.lone_job(JobKind::Categorizer, 3).await;
    let bus = EventBus::local();
    let config = SchedulerConfig {
        chaos: TrainingKnobs::new(None, 1),
        ..scheduler_config(1, None)
    };
    let (_scheduler, registry) = scheduler(&fx, config, &bus);
    let view = fx
        .until(id, Duration::from_secs(20), |v| v.status == "completed")
        .await;
    assert_eq!(view.attempts, 2);
    // The first attempt's panic is history once the retry succeeded.
    assert_eq!(view.error, None, "{view:?}");
    assert_eq!(
        fx.path(id).await,
        [
            "pending",
            "processing",
            "pending",
            "processing",
            "completed"
        ]
    );
    assert_eq!(fx.models(id).await.len(), 1);
    // The panic stayed on the fitting thread: the scheduler itself never restarted.
    let me = registry
        .snapshot()
        .into_iter()
        .find(|a| a.name == TrainingScheduler::NAME)
        .unwrap();
    assert_eq!(me.restarts, 0);
}

#[actix_rt::test]
async fn after_a_scheduler_crash_the_abandoned_job_is_reaped_and_retried() {
    let mut fx = Fixture::new().await;
    let id = fx.lone_job(JobKind::Categorizer, 3).await;
    let bus = EventBus::local();
    let config = scheduler_config(1, Some(Duration::from_secs(600)));
    let (scheduler, registry) = scheduler(&fx, config, &bus);
    fx.until(id, Duration::from_secs(20), |v| v.step >= 1).await;
    let crash = Control::Crash(scale_supervision::Crash::new("test"));
    assert!(registry
        .control(TrainingScheduler::NAME, crash)
        .await
        .unwrap()
        .is_err());
    // The restarted scheduler reaps the expired lease (2 s) and runs the job again.
    let view = fx
        .until(id, Duration::from_secs(20), |v| {
            v.attempts == 2 && v.status == "processing"
        })
        .await;
    assert_eq!(view.error.as_deref(), Some("lease expired"));
    scheduler
        .ask_within(Drain, Duration::from_secs(10))
        .await
        .unwrap();
}

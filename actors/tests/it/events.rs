//! The job event bus against real Redis: two buses on one channel stand for two processes;
//! a fault proxy in front of Redis cuts or stalls one of them to exercise the in-process fallback,
//! its report in readiness, and the recovery.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use scale_actors::events::{BusStatus, EventBus, JobEvent};
use scale_actors::health::{GetHealth, HealthService, ProbeConfig, Readiness};
use scale_actors::jobs::JobStatus;
use scale_actors::redis_pool;
use scale_chaos::{FaultMode, FaultProxy};
use scale_schema::testing::TestDatabase;
use scale_supervision::{spawn, Handle, Registry, SupervisorConfig};
use tokio::sync::broadcast;
use uuid::Uuid;

const REDIS: &str = "127.0.0.1:6379";
/// The longest an event may take from one process to another.
const CROSS_PROCESS: Duration = Duration::from_millis(200);
/// The longest a link may take to come up (reconnection backs off up to 2 s).
const LINK_UP: Duration = Duration::from_secs(10);

fn prefix() -> String {
    format!("scale-test-{}:", Uuid::new_v4())
}

fn bus(redis: &str, prefix: &str) -> EventBus {
    EventBus::connect(Some(&format!("redis://{redis}")), prefix).unwrap()
}

fn event(job_id: Uuid, seq: i64) -> JobEvent {
    JobEvent {
        job_id,
        user_id: Uuid::new_v4(),
        seq,
        status: JobStatus::Processing,
        step: u32::try_from(seq).unwrap(),
        total: 100,
        progress: 0.01 * seq as f32,
        message: format!("step {seq}"),
        metrics: None,
        at: Utc::now(),
    }
}

/// Polls `check` until it holds (five-second deadline).
async fn until(what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn next(rx: &mut broadcast::Receiver<Arc<JobEvent>>, within: Duration) -> Arc<JobEvent> {
    tokio::time::timeout(within, rx.recv())
        .await
        .expect("no event in time")
        .expect("bus closed or lagged")
}

#[actix_rt::test]
async fn events_cross_processes_in_order_once() {
    let prefix = prefix();
    let (a, b) = (bus(REDIS, &prefix), bus(REDIS, &prefix));
    for bus in [&a, &b] {
        assert_eq!(bus.live_within(LINK_UP).await, BusStatus::Redis);
    }
    let (mut on_a, mut on_b) = (a.subscribe(), b.subscribe());
    let job = Uuid::new_v4();
    for seq in 1..=50 {
        let published = Instant::now();
        a.publish(event(job, seq)).await;
        let got = next(&mut on_b, CROSS_PROCESS).await;
        assert_eq!(
            (got.job_id, got.seq),
            (job, seq),
            "B sees A's events in order"
        );
        assert!(published.elapsed() < CROSS_PROCESS);
    }
    // A's own subscribers see each event exactly once (through Redis, not also locally): the
    // next event after the 50 is the sentinel.
    a.publish(event(job, 51)).await;
    for seq in 1..=51 {
        assert_eq!(next(&mut on_a, CROSS_PROCESS).await.seq, seq);
    }
    assert_eq!(next(&mut on_b, CROSS_PROCESS).await.seq, 51);
    assert!(on_a.try_recv().is_err() && on_b.try_recv().is_err());
    // Another prefix is another deployment: it hears nothing.
    let other = bus(REDIS, &self::prefix());
    assert_eq!(other.live_within(LINK_UP).await, BusStatus::Redis);
    let mut on_other = other.subscribe();
    a.publish(event(job, 52)).await;
    assert_eq!(next(&mut on_b, CROSS_PROCESS).await.seq, 52);
    assert!(on_other.try_recv().is_err());
}

/// A bus behind a fault proxy, a health actor watching it, and a second bus straight on Redis
/// (another process) to tell what went through Redis.
struct Rig {
    _db: TestDatabase,
    proxy: FaultProxy,
    cut: EventBus,
    direct: EventBus,
    health: Handle<HealthService>,
}

async fn rig() -> Rig {
    let db = TestDatabase::migrated();
    let proxy = FaultProxy::start(REDIS.parse::<SocketAddr>().unwrap());
    let prefix = prefix();
    let cut = bus(&proxy.addr().to_string(), &prefix);
    let direct = bus(REDIS, &prefix);
    let probe = ProbeConfig {
        interval: Duration::from_millis(50),
        timeout: Duration::from_millis(500),
    };
    let pg = scale_schema::connect(&db.url(), 2, probe.timeout);
    let redis = redis_pool::connect(&format!("redis://{REDIS}"), probe.timeout).unwrap();
    let registry = Registry::new(SupervisorConfig::default());
    let (reg, watched) = (registry.clone(), cut.clone());
    let health = spawn(&registry, move || {
        HealthService::new(pg.clone(), Some(redis.clone()), probe, reg.clone())
            .with_events(watched.clone())
    });
    for bus in [&cut, &direct] {
        assert_eq!(bus.live_within(LINK_UP).await, BusStatus::Redis);
    }
    Rig {
        _db: db,
        proxy,
        cut,
        direct,
        health,
    }
}

impl Rig {
    /// Asks the health actor until its readiness is `want` (five-second deadline); returns the
    /// reasons given.
    async fn readiness_becomes(&self, want: Readiness) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let report = self.health.ask(GetHealth).await.unwrap();
            if report.status == want {
                assert_eq!(report.events, Some(self.cut.status()));
                return report.reasons;
            }
            assert!(Instant::now() < deadline, "{report:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Publishes on the proxied bus until the direct bus receives through Redis again.
    async fn recovers(&self, job: Uuid) {
        assert_eq!(self.cut.live_within(LINK_UP).await, BusStatus::Redis);
        let mut on_direct = self.direct.subscribe();
        let mut on_cut = self.cut.subscribe();
        self.cut.publish(event(job, 100)).await;
        assert_eq!(next(&mut on_direct, CROSS_PROCESS).await.seq, 100);
        assert_eq!(next(&mut on_cut, CROSS_PROCESS).await.seq, 100);
        self.direct.publish(event(job, 101)).await;
        assert_eq!(next(&mut on_cut, CROSS_PROCESS).await.seq, 101);
        self.readiness_becomes(Readiness::Ready).await;
    }
}

#[actix_rt::test]
async fn redis_down_falls_back_in_process_then_recovers() {
    let rig = rig().await;
    rig.readiness_becomes(Readiness::Ready).await;
    let job = Uuid::new_v4();
    let mut local = rig.cut.subscribe();
    let mut remote = rig.direct.subscribe();

    rig.proxy.set_mode(FaultMode::Down);
    // The subscriber notices its connection was cut.
    until("the bus reports degraded", || rig.cut.is_degraded()).await;
    for seq in 1..=5 {
        rig.cut.publish(event(job, seq)).await;
        assert_eq!(next(&mut local, Duration::from_secs(1)).await.seq, seq);
    }
    assert!(rig.cut.is_degraded());
    let reasons = rig.readiness_becomes(Readiness::Degraded).await;
    assert!(
        reasons.iter().any(|r| r.starts_with("events:")),
        "{reasons:?}"
    );
    // Nothing went through Redis meanwhile.
    assert!(remote.try_recv().is_err());

    rig.proxy.set_mode(FaultMode::Pass);
    rig.recovers(job).await;
}

#[actix_rt::test]
async fn a_hanging_redis_is_bounded_and_recovers() {
    let rig = rig().await;
    let job = Uuid::new_v4();
    let mut local = rig.cut.subscribe();

    rig.proxy.set_mode(FaultMode::Hang);
    let started = Instant::now();
    rig.cut.publish(event(job, 1)).await;
    assert_eq!(next(&mut local, Duration::from_secs(1)).await.seq, 1);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "publish is bounded"
    );
    until("the bus reports degraded", || rig.cut.is_degraded()).await;

    rig.proxy.set_mode(FaultMode::Pass);
    rig.recovers(job).await;
}

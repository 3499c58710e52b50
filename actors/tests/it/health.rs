//! The health actor against real Postgres and Redis, reached through fault proxies so each
//! dependency can be cut or made to hang.

use std::net::SocketAddr;
use std::time::Duration;

use scale_actors::health::{
    DependencyStatus, GetHealth, HealthReport, HealthService, PostgresFlag, ProbeConfig, Readiness,
};
use scale_actors::redis_pool;
use scale_chaos::{FaultMode, FaultProxy};
use scale_schema::testing::TestDatabase;
use scale_supervision::{spawn, Handle, Registry, SupervisorConfig};

const PROBE: ProbeConfig = ProbeConfig {
    interval: Duration::from_millis(50),
    timeout: Duration::from_millis(200),
};

struct Rig {
    _db: TestDatabase,
    pg_proxy: FaultProxy,
    redis_proxy: FaultProxy,
    health: Handle<HealthService>,
    postgres: PostgresFlag,
}

fn rig() -> Rig {
    rig_probing(PROBE)
}

fn rig_probing(probe: ProbeConfig) -> Rig {
    let db = TestDatabase::migrated();
    let pg_proxy = FaultProxy::start("127.0.0.1:5432".parse::<SocketAddr>().unwrap());
    let redis_proxy = FaultProxy::start("127.0.0.1:6379".parse::<SocketAddr>().unwrap());
    let pg_url = db
        .url()
        .replace("127.0.0.1:5432", &pg_proxy.addr().to_string());
    let pg = scale_schema::connect(&pg_url, 2, probe.timeout);
    let redis =
        redis_pool::connect(&format!("redis://{}", redis_proxy.addr()), probe.timeout).unwrap();
    let registry = Registry::new(SupervisorConfig::default());
    let reg = registry.clone();
    let postgres = PostgresFlag::default();
    let flag = postgres.clone();
    let health = spawn(&registry, move || {
        HealthService::new(pg.clone(), Some(redis.clone()), probe, reg.clone())
            .with_postgres_flag(flag.clone())
    });
    Rig {
        _db: db,
        pg_proxy,
        redis_proxy,
        health,
        postgres,
    }
}

/// Asks for reports until one satisfies `check` (five-second deadline).
async fn until(
    health: &Handle<HealthService>,
    check: impl Fn(&HealthReport) -> bool,
) -> HealthReport {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let report = health.ask(GetHealth).await.unwrap();
        if check(&report) {
            return report;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "last report: {report:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[actix_rt::test]
async fn reports_ready_when_both_dependencies_answer() {
    let rig = rig();
    let report = until(&rig.health, |r| r.status == Readiness::Ready).await;
    assert_eq!(report.postgres.status, DependencyStatus::Up);
    assert_eq!(report.redis.status, DependencyStatus::Up);
    assert!(report.reasons.is_empty());
    assert_eq!(report.actors.len(), 1);
}

#[actix_rt::test]
async fn postgres_down_or_hanging_is_unavailable_and_recovers() {
    let rig = rig();
    until(&rig.health, |r| r.status == Readiness::Ready).await;

    rig.pg_proxy.set_mode(FaultMode::Down);
    let report = until(&rig.health, |r| r.status == Readiness::Unavailable).await;
    assert_eq!(report.postgres.status, DependencyStatus::Down);
    assert!(
        report.reasons[0].starts_with("postgres:"),
        "{:?}",
        report.reasons
    );
    // The flag the HTTP layer reads follows the probes.
    assert!(rig.postgres.is_down());

    rig.pg_proxy.set_mode(FaultMode::Pass);
    until(&rig.health, |r| r.status == Readiness::Ready).await;
    assert!(!rig.postgres.is_down());

    rig.pg_proxy.set_mode(FaultMode::Hang);
    let report = until(&rig.health, |r| r.status == Readiness::Unavailable).await;
    assert!(report.postgres.error.is_some());
    // Asking stays instant while the probe hangs.
    let started = std::time::Instant::now();
    rig.health.ask(GetHealth).await.unwrap();
    assert!(started.elapsed() < PROBE.timeout);
}

#[actix_rt::test]
async fn a_postgres_slower_than_the_probe_timeout_is_slow_with_its_latency_measured() {
    let rig = rig();
    until(&rig.health, |r| r.status == Readiness::Ready).await;
    // 150 ms each way: a round trip of over 300 ms, past the 200 ms probe timeout.
    rig.pg_proxy
        .set_mode(FaultMode::Slow(Duration::from_millis(150)));
    let report = until(&rig.health, |r| {
        r.postgres.status == DependencyStatus::Slow
            && r.postgres.latency_ms.is_some_and(|ms| ms >= 300.0)
    })
    .await;
    assert_eq!(report.status, Readiness::Degraded, "{report:?}");
    assert!(!rig.postgres.is_down());
    rig.pg_proxy.set_mode(FaultMode::Pass);
    until(&rig.health, |r| r.status == Readiness::Ready).await;
}

#[actix_rt::test]
async fn a_dependency_that_comes_back_is_noticed_long_before_the_next_interval() {
    // Probes a minute apart: only the quicker probing while something is down can notice the
    // return within `until`'s five seconds.
    let rig = rig_probing(ProbeConfig {
        interval: Duration::from_secs(60),
        timeout: PROBE.timeout,
    });
    rig.pg_proxy.set_mode(FaultMode::Down);
    rig.redis_proxy.set_mode(FaultMode::Down);
    until(&rig.health, |r| {
        r.postgres.status == DependencyStatus::Down && r.redis.status == DependencyStatus::Down
    })
    .await;
    assert!(rig.postgres.is_down());

    rig.pg_proxy.set_mode(FaultMode::Pass);
    until(&rig.health, |r| r.postgres.status == DependencyStatus::Up).await;
    assert!(!rig.postgres.is_down());
    rig.redis_proxy.set_mode(FaultMode::Pass);
    until(&rig.health, |r| r.status == Readiness::Ready).await;
}

#[actix_rt::test]
async fn redis_down_is_degraded_not_unavailable() {
    let rig = rig();
    until(&rig.health, |r| r.status == Readiness::Ready).await;
    rig.redis_proxy.set_mode(FaultMode::Down);
    let report = until(&rig.health, |r| r.status == Readiness::Degraded).await;
    assert_eq!(report.redis.status, DependencyStatus::Down);
    assert!(
        report.reasons.iter().any(|r| r.starts_with("redis:")),
        "{:?}",
        report.reasons
    );
    rig.redis_proxy.set_mode(FaultMode::Pass);
    until(&rig.health, |r| r.status == Readiness::Ready).await;
}

#[actix_rt::test]
async fn a_hanging_redis_does_not_show_as_postgres_latency() {
    let rig = rig();
    until(&rig.health, |r| r.status == Readiness::Ready).await;
    rig.redis_proxy.set_mode(FaultMode::Hang);
    // Both results come from one round, whose Redis probe waited out its whole timeout.
    let report = until(&rig.health, |r| r.redis.status == DependencyStatus::Down).await;
    let latency = report.postgres.latency_ms.unwrap();
    assert!(
        latency < PROBE.timeout.as_secs_f64() * 1000.0 / 2.0,
        "Postgres latency {latency} ms while only Redis hangs"
    );
}

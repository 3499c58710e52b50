//! The SRE scenario suite (`scale sre run --smoke SCENARIO`) against the debug binary, one test
//! per scenario, each on a new database and its own Redis prefix. The tests take turns: each
//! scenario's thresholds are timings, which scenarios running side by side on a small machine
//! would blur.

use std::sync::{Mutex, PoisonError};

use scale_schema::testing::TestDatabase;
use serde_json::Value;

use crate::common::cli;

/// Held by the running scenario.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Runs `scale sre run --smoke SCENARIO --report DIR` and returns the scenario's report, as
/// printed and as written to `DIR`, after checking the exit status matches `passed`.
fn smoke(scenario: &str) -> Value {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let db = TestDatabase::create();
    let dir = std::env::temp_dir().join(format!("scale-sre-{}", uuid::Uuid::new_v4()));
    let prefix = format!("scale-e2e-{}:", uuid::Uuid::new_v4());
    let report_dir = dir.to_string_lossy().into_owned();
    let out = cli(
        &["sre", "run", "--smoke", scenario, "--report", &report_dir],
        &[
            ("DATABASE_URL", &db.url()),
            ("REDIS_KEY_PREFIX", &prefix),
            ("LOG_LEVEL", "error"),
        ],
    );
    let suite: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let report = suite["scenarios"][0].clone();
    let written: Value = serde_json::from_slice(
        &std::fs::read(dir.join(format!("{scenario}.json"))).expect("the report file"),
    )
    .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(written, report);
    assert_eq!(report["scenario"], scenario);
    assert_eq!(out.status.success(), report["passed"] == true, "{report:#}");
    assert_eq!(report["passed"], true, "{report:#}");
    report["figures"].clone()
}

#[test]
fn concurrent_imports_are_stored_exactly_once() {
    let figures = smoke("imports");
    assert_eq!(figures["stored_exactly_once"], figures["users"]);
    assert_eq!(figures["repeats_refused"], figures["users"]);
}

#[test]
fn a_killed_api_process_loses_no_import_and_no_job() {
    let figures = smoke("failover");
    assert!(figures["jobs"]["created"].as_u64().unwrap() > 0);
    assert!(figures["uploads"]["stored"].as_u64().unwrap() > 0);
    // The killed process's share of first attempts failed; the clients' retries hid it.
    assert!(
        figures["failover_error_rate"]["first_attempts"]
            .as_f64()
            .unwrap()
            > 0.0
    );
}

#[test]
fn redis_down_keeps_the_service_degraded_and_rate_limited() {
    let figures = smoke("redis-outage");
    assert!(
        figures["readiness_during_outage"]["degraded"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert!(figures["burst"]["refused_429"].as_u64().unwrap() > 0);
    assert!(figures["recovery_to_ready_secs"].is_number());
}

#[test]
fn slow_postgres_exhausts_no_pool() {
    let figures = smoke("slow-postgres");
    assert!(figures["while_slow"]["p95_ms"].as_f64().unwrap() >= 300.0);
}

#[test]
fn a_worker_killed_mid_training_ends_every_job_once() {
    let figures = smoke("worker-kill");
    assert!(figures["jobs"]["interrupted_by_the_kill"].as_u64().unwrap() > 0);
}

#[test]
fn a_crash_storm_escalates_and_clients_get_503() {
    let figures = smoke("crash-storm");
    assert!(
        figures["escalated_routes"]["answered_503"]
            .as_u64()
            .unwrap()
            > 0
    );
}

#[test]
fn postgres_restarting_needs_no_service_restart() {
    let figures = smoke("postgres-restart");
    assert!(figures["recovery_secs"].as_f64().unwrap() <= 10.0);
}

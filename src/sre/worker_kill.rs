//! (e) A worker killed mid-training: an API process and one worker whose fits pause ten minutes
//! after their first step (`CHAOS_TRAINING_STEP_DELAY_MS`, a runtime knob honoured with
//! `CHAOS_ENABLED=true`); users import a statement and queue two jobs each, under traffic. Once
//! a job is mid-run on that worker, it is killed with SIGKILL and a healthy worker starts.
//! Invariant: every job ends exactly once — one final status (`completed` or `failed`) each,
//! reached within 120 s (smoke: 90 s), its history entering a final status once and ending
//! there, and at most one model —
//! and the interrupted jobs were retried (attempts counted and reported).

use scale_actors::jobs::JobStatus;
use serde_json::json;

use super::harness::{jobs_final, until, Ctx, Verdict};
use super::traffic::{Plan, Traffic};
use crate::bench::load::api::Api;
use crate::bench::load::stats::Recorder;

/// The lease of a job: how soon a killed worker's job is taken back.
const LEASE_SECS: &str = "2";

/// Whether a job status is final.
fn is_final(status: &str) -> bool {
    JobStatus::parse(status).is_some_and(JobStatus::is_final)
}

/// Runs the scenario.
pub async fn run(ctx: &Ctx) -> anyhow::Result<Verdict> {
    let lease = [
        ("TRAINING_LEASE_SECS", LEASE_SECS.to_owned()),
        ("TRAINING_BACKOFF_BASE_MS", "100".to_owned()),
    ];
    let api = ctx.server(&["serve", "--role", "api"], &lease).await?;
    let mut stalling = lease.to_vec();
    stalling.push(("CHAOS_ENABLED", "true".to_owned()));
    stalling.push(("CHAOS_TRAINING_STEP_DELAY_MS", "600000".to_owned()));
    let mut doomed = ctx
        .server(&["serve", "--role", "worker"], &stalling)
        .await?;

    let bases = [api.base.clone()];
    let plan = Plan {
        jobs: false,
        ..Plan::usual(ctx, &bases)
    };
    let traffic = Traffic::warm_up(plan, std::time::Duration::ZERO).await?;
    let queuer = Api::new(&api.base, Recorder::shared())?;
    let mut acknowledged = 0;
    for n in 0..ctx.pick(10, 4) {
        let (_, token) = ctx.user();
        queuer.profile(&token).await.ok();
        queuer.import(&token, n).await.ok();
        for kind in ["categorizer", "forecaster"] {
            acknowledged += usize::from(queuer.start_job(&token, kind).await.is_ok());
        }
    }

    let users = ctx.users();
    let db = ctx.db().await?;
    let owner = format!("{}:%", doomed.pid());
    let mid_job = until(ctx.secs(60.0, 30.0), || async {
        db.query_one(
            "SELECT count(*) FROM training_jobs WHERE user_id = ANY($1) \
             AND status = 'processing' AND step >= 1 AND lease_owner LIKE $2",
            &[&users, &owner],
        )
        .await
        .is_ok_and(|row| row.get::<_, i64>(0) > 0)
    })
    .await;
    anyhow::ensure!(mid_job.is_some(), "no job ever ran on the stalling worker");
    let interrupted: Vec<uuid::Uuid> = db
        .query(
            "SELECT id FROM training_jobs WHERE user_id = ANY($1) \
             AND status = 'processing' AND lease_owner LIKE $2",
            &[&users, &owner],
        )
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    traffic.phase("after_kill");
    doomed.kill()?;
    let _survivor = ctx.server(&["serve", "--role", "worker"], &lease).await?;
    let all_final = jobs_final(&db, &users, ctx.secs(120.0, 90.0)).await;
    let outcome = traffic.finish().await;

    let jobs = db
        .query(
            "SELECT j.id, j.status, j.attempts, \
                    (SELECT coalesce(array_agg(e.status ORDER BY e.seq), '{}') \
                     FROM training_job_events e WHERE e.job_id = j.id), \
                    (SELECT count(*) FROM training_models m WHERE m.job_id = j.id) \
             FROM training_jobs j WHERE j.user_id = ANY($1)",
            &[&users],
        )
        .await?;
    let mut verdict = Verdict::default();
    verdict.check(all_final.is_some(), || {
        "a job never reached a final status".into()
    });
    verdict.check(jobs.len() >= acknowledged && acknowledged > 0, || {
        format!("{acknowledged} jobs acknowledged, {} stored", jobs.len())
    });
    let mut by_status = std::collections::BTreeMap::<String, u64>::new();
    let mut attempts = std::collections::BTreeMap::<i32, u64>::new();
    for job in &jobs {
        let (id, status, tries, mut path, models): (uuid::Uuid, String, i32, Vec<String>, i64) =
            (job.get(0), job.get(1), job.get(2), job.get(3), job.get(4));
        // Consecutive events of one status are one transition (progress, then the metrics).
        path.dedup();
        let finals = path.iter().filter(|s| is_final(s)).count();
        let ends_final = path.last().is_some_and(|s| s == &status && is_final(s));
        verdict.check(finals == 1 && ends_final && models <= 1, || {
            format!(
                "job {id} ({status}) went {} and has {models} models",
                path.join(",")
            )
        });
        verdict.check(!interrupted.contains(&id) || tries >= 2, || {
            format!("interrupted job {id} ended after {tries} attempt(s) without a retry")
        });
        *by_status.entry(status).or_default() += 1;
        *attempts.entry(tries).or_default() += 1;
    }

    verdict.figure("traffic", outcome.report());
    verdict.figure(
        "jobs",
        json!({
            "acknowledged": acknowledged,
            "by_status": by_status,
            "by_attempts": attempts,
            "interrupted_by_the_kill": interrupted.len(),
            "all_final_after_secs": all_final.map(|d| d.as_secs_f64()),
            "lease_secs": LEASE_SECS,
        }),
    );
    verdict.figure(
        "thresholds",
        json!({ "final_transitions_per_job": 1, "models_per_job_at_most": 1, "interrupted_jobs_retried": true }),
    );
    Ok(verdict)
}

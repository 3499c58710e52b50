//! (a) Failover: two processes serve the API (and run training jobs) on the same Postgres and
//! Redis; under traffic, one is killed with SIGKILL. Clients retry a failed request on the
//! survivor. Invariants: no import half-written (every upload has all its rows, or no upload
//! row at all), no job lost (every job created reaches a final status, the killed process's
//! running ones through their leases expiring: its fits pause after their first step, so the
//! jobs it took are mid-run when it dies) and under 1 % of client requests failing during the
//! failover, retries included; the first attempts' error rate is reported beside it.

use serde_json::json;

use super::harness::{jobs_final, Ctx, Verdict};
use super::traffic::{Plan, Traffic};
use crate::bench::load::api::STATEMENT_ROWS;

/// Client requests failing during the failover (after their retry) must stay under this.
const ERROR_RATE: f64 = 0.01;

/// Runs the scenario.
pub async fn run(ctx: &Ctx) -> anyhow::Result<Verdict> {
    let env = [
        ("TRAINING_LEASE_SECS", "2".to_owned()),
        ("TRAINING_BACKOFF_BASE_MS", "100".to_owned()),
    ];
    // The doomed process's fits pause after their first step (a chaos knob), so the jobs it
    // takes are still running when it is killed and must be taken over through their leases.
    let mut stalling = env.to_vec();
    stalling.push(("CHAOS_ENABLED", "true".to_owned()));
    stalling.push(("CHAOS_TRAINING_STEP_DELAY_MS", "600000".to_owned()));
    let mut doomed = ctx.server(&["serve"], &stalling).await?;
    let survivor = ctx.server(&["serve"], &env).await?;
    // Half the users start on each; the WebSocket subscriber is on the survivor.
    let bases = [survivor.base.clone(), doomed.base.clone()];
    let plan = Plan {
        tokens: ctx.tokens(ctx.pick(20, 6)),
        retry: true,
        ..Plan::usual(ctx, &bases)
    };
    let traffic = Traffic::warm_up(plan, ctx.secs(10.0, 2.0)).await?;
    traffic.phase("failover");
    let db = ctx.db().await?;
    let users = ctx.users();
    let running: i64 = db
        .query_one(
            "SELECT count(*) FROM training_jobs \
             WHERE user_id = ANY($1) AND status = 'processing' AND lease_owner LIKE $2",
            &[&users, &format!("{}:%", doomed.pid())],
        )
        .await?
        .get(0);
    doomed.kill()?;
    tokio::time::sleep(ctx.secs(20.0, 3.0)).await;
    let outcome = traffic.finish().await;

    let mut verdict = Verdict::default();
    let failover = outcome.phase("failover").expect("the failover phase ran");
    let rate = failover.seen.overall.error_rate();
    failover.check_error_rate(&mut verdict, ERROR_RATE);

    let final_jobs = jobs_final(&db, &users, ctx.secs(120.0, 60.0)).await;
    let jobs = db
        .query_one(
            "SELECT count(*), count(*) FILTER (WHERE status = 'completed'), \
                    coalesce(max(attempts), 0), count(*) FILTER (WHERE attempts > 1) \
             FROM training_jobs WHERE user_id = ANY($1)",
            &[&users],
        )
        .await?;
    let (created, completed, max_attempts, retried): (i64, i64, i32, i64) =
        (jobs.get(0), jobs.get(1), jobs.get(2), jobs.get(3));
    verdict.check(created > 0, || "no training job was created".into());
    verdict.check(created as usize >= outcome.jobs.len(), || {
        format!(
            "{} jobs were acknowledged but only {created} are stored",
            outcome.jobs.len()
        )
    });
    verdict.check(final_jobs.is_some(), || {
        "a job never reached a final status (lost)".into()
    });

    let uploads = db
        .query_one(
            "SELECT count(*), \
                    count(*) FILTER (WHERE f.inserted = $2 AND (SELECT count(*) FROM transactions t \
                                     WHERE t.uploaded_file_id = f.id) = $2), \
                    (SELECT count(*) FROM transactions t \
                     WHERE t.user_id = ANY($1) AND t.uploaded_file_id IS NULL) \
             FROM uploaded_files f WHERE f.user_id = ANY($1) AND f.upload_type = 'import'",
            &[&users, &(STATEMENT_ROWS as i32)],
        )
        .await?;
    let (uploads, whole, orphans): (i64, i64, i64) =
        (uploads.get(0), uploads.get(1), uploads.get(2));
    verdict.check(uploads > 0 && whole == uploads && orphans == 0, || {
        format!(
            "imports half-written: {whole} of {uploads} uploads hold all {STATEMENT_ROWS} rows, \
             {orphans} rows belong to no upload"
        )
    });

    verdict.figure("traffic", outcome.report());
    verdict.figure(
        "failover_error_rate",
        json!({
            "first_attempts": failover.attempts.overall.error_rate(),
            "as_clients_saw": rate,
        }),
    );
    verdict.figure(
        "jobs",
        json!({
            "created": created,
            "completed": completed,
            "max_attempts": max_attempts,
            "retried": retried,
            "running_on_the_killed_process": running,
            "all_final_after_secs": final_jobs.map(|d| d.as_secs_f64()),
        }),
    );
    verdict.figure(
        "uploads",
        json!({ "stored": uploads, "whole": whole, "rows_outside_an_upload": orphans }),
    );
    verdict.figure(
        "thresholds",
        json!({ "failover_error_rate_under": ERROR_RATE, "jobs_lost": 0, "half_written_uploads": 0 }),
    );
    Ok(verdict)
}

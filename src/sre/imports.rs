//! (d) Concurrent imports: 50 users (smoke: 20) each import a statement at the same moment.
//! Invariant: every import succeeds exactly once — each answer says all its rows were inserted,
//! each user then has exactly the statement's rows and one `uploaded_files` row — and the same
//! file sent again by every user at once is refused as a duplicate (409
//! `file_already_imported`), leaving the counts as they were.

use std::time::Instant;

use serde_json::json;
use tokio::task::JoinSet;
use uuid::Uuid;

use super::harness::{Ctx, Verdict};
use crate::bench::load::api::{Answer, Api, STATEMENT_ROWS};
use crate::bench::load::stats::Recorder;

/// Each user's rows and import uploads, in the database.
async fn counts(ctx: &Ctx, users: &[Uuid]) -> anyhow::Result<Vec<(i64, i64)>> {
    let db = ctx.db().await?;
    let rows = db
        .query(
            "SELECT (SELECT count(*) FROM transactions t WHERE t.user_id = u), \
                    (SELECT count(*) FROM uploaded_files f \
                     WHERE f.user_id = u AND f.upload_type = 'import') \
             FROM unnest($1::uuid[]) WITH ORDINALITY AS x(u, i) ORDER BY i",
            &[&users],
        )
        .await?;
    Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
}

/// Every user imports their statement at once through `api`; the answers in user order.
async fn import_all(api: &Api, tokens: &[String]) -> Vec<Answer> {
    let mut imports = JoinSet::new();
    for (i, token) in tokens.iter().enumerate() {
        let (api, token) = (api.clone(), token.clone());
        imports.spawn(async move { (i, api.import(&token, i as u64).await) });
    }
    let mut answers = imports.join_all().await;
    answers.sort_by_key(|(i, _)| *i);
    answers.into_iter().map(|(_, answer)| answer).collect()
}

/// Runs the scenario.
pub async fn run(ctx: &Ctx) -> anyhow::Result<Verdict> {
    let n = ctx.pick(50, 20);
    let users: Vec<(Uuid, String)> = (0..n).map(|_| ctx.user()).collect();
    let (ids, tokens): (Vec<Uuid>, Vec<String>) = users.into_iter().unzip();
    let server = ctx.server(&["serve"], &[]).await?;
    let setup = Api::new(&server.base, Recorder::shared())?;
    for token in &tokens {
        setup.profile(token).await.ok();
    }

    let mut verdict = Verdict::default();
    let first = Recorder::shared();
    let started = Instant::now();
    let answers = import_all(&setup.recording_into(first.clone()), &tokens).await;
    let span = started.elapsed();
    let stored = answers
        .iter()
        .filter(|a| matches!(a, Ok(body) if body["inserted"] == STATEMENT_ROWS))
        .count();
    verdict.check(stored == n, || {
        format!("{stored} of {n} concurrent imports stored all {STATEMENT_ROWS} rows")
    });
    let after_first = counts(ctx, &ids).await?;
    let exact = after_first
        .iter()
        .filter(|&&c| c == (STATEMENT_ROWS as i64, 1))
        .count();
    verdict.check(exact == n, || {
        format!(
            "{exact} of {n} users have exactly {STATEMENT_ROWS} rows and one upload: {:?}",
            after_first
                .iter()
                .filter(|&&c| c != (STATEMENT_ROWS as i64, 1))
                .collect::<Vec<_>>()
        )
    });

    let repeat = Recorder::shared();
    let again = import_all(&setup.recording_into(repeat.clone()), &tokens).await;
    let refused = again
        .iter()
        .filter(|a| matches!(a, Err(why) if why == "status 409 file_already_imported"))
        .count();
    verdict.check(refused == n, || {
        format!("{refused} of {n} repeated imports were refused as duplicates (409)")
    });
    let after_repeat = counts(ctx, &ids).await?;
    verdict.check(after_repeat == after_first, || {
        "the repeated imports changed the stored rows or uploads".into()
    });

    verdict.figure("users", json!(n));
    verdict.figure("rows_per_statement", json!(STATEMENT_ROWS));
    verdict.figure(
        "concurrent_imports",
        Recorder::summary_shared(&first, span).overall.report(),
    );
    verdict.figure("stored_exactly_once", json!(exact));
    verdict.figure("repeats_refused", json!(refused));
    verdict.figure(
        "thresholds",
        json!({ "stored_exactly_once": n, "repeats_refused": n }),
    );
    Ok(verdict)
}

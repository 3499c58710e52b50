//! Backups: `scale backup` of a database holding several users' data (seeded and imported
//! through the real pipeline, a corrected category, a trained model and its job log, anomaly
//! alerts), `scale restore` into a fresh database, then every table of the schema — found in
//! the catalog, the migrations table included — compared by row count and an md5 over its
//! rows in primary-key order, with the row-level security policies and grants; the restored
//! database serves the API. A dump taken before one more import restores to a database the
//! comparison tells apart.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use scale_schema::testing::TestDatabase;
use serde_json::{json, Value};

use crate::common::{cli, Server};

/// Runs `scale ARGS` on `url`'s database; the JSON lines it printed, or its error output.
pub fn scale(args: &[&str], url: &str) -> Result<Vec<Value>, String> {
    let out = cli(args, &[("DATABASE_URL", url)]);
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect())
}

/// [`scale`] that must succeed with one JSON line.
fn scale_one(args: &[&str], url: &str) -> Value {
    let mut lines = scale(args, url).unwrap_or_else(|err| panic!("scale {args:?}: {err}"));
    assert_eq!(lines.len(), 1, "{lines:?}");
    lines.remove(0)
}

/// A fresh directory for dump files.
fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("scale-backup-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

/// Per table of every schema but Postgres' own (as the superuser the tests connect as, which
/// row-level security does not filter): its row count and the md5 of its rows as text, in
/// primary-key order (whole-row order for a table without one); and, under `catalog:`, the
/// row-level security flags, the policies and the grants to the service's roles.
async fn digests(url: &str) -> BTreeMap<String, (i64, String)> {
    let db = connect(url).await;
    let tables = db
        .query(
            "SELECT format('%I.%I', n.nspname, c.relname), \
                    (SELECT string_agg(format('t.%I', a.attname), ', ' \
                                       ORDER BY array_position(i.indkey, a.attnum)) \
                       FROM pg_index i JOIN pg_attribute a \
                         ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) \
                      WHERE i.indrelid = c.oid AND i.indisprimary) \
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
              WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
                AND n.nspname NOT LIKE 'pg\\_toast%'",
            &[],
        )
        .await
        .unwrap();
    let mut digests = BTreeMap::new();
    for row in tables {
        let table: String = row.get(0);
        let order: String = row
            .get::<_, Option<String>>(1)
            .unwrap_or_else(|| "t::text".into());
        let digest = db
            .query_one(
                &format!(
                    "SELECT count(*), coalesce(md5(string_agg(t::text, E'\\n' ORDER BY {order})), '') \
                     FROM {table} t"
                ),
                &[],
            )
            .await
            .unwrap();
        digests.insert(table, (digest.get(0), digest.get(1)));
    }
    for (name, sql) in [
        (
            "catalog:row_security",
            "SELECT format('%s %s %s', oid::regclass, relrowsecurity, relforcerowsecurity) \
             FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace",
        ),
        (
            "catalog:policies",
            "SELECT format('%s %s %s %s %s %s', tablename, policyname, roles, cmd, qual, \
             with_check) FROM pg_policies",
        ),
        (
            "catalog:grants",
            "SELECT format('%s %s %s', table_name, grantee, privilege_type) \
             FROM information_schema.role_table_grants \
             WHERE grantee IN ('scale_app', 'scale_worker')",
        ),
    ] {
        let digest = db
            .query_one(
                &format!(
                    "SELECT count(*), md5(string_agg(x, E'\\n' ORDER BY x)) FROM ({sql}) s(x)"
                ),
                &[],
            )
            .await
            .unwrap();
        digests.insert(name.into(), (digest.get(0), digest.get(1)));
    }
    digests
}

/// The tables whose count or checksum differ between two sets of digests.
fn differing(
    a: &BTreeMap<String, (i64, String)>,
    b: &BTreeMap<String, (i64, String)>,
) -> Vec<String> {
    let names: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    names
        .into_iter()
        .filter(|name| a.get(*name) != b.get(*name))
        .cloned()
        .collect()
}

/// Polls `GET /training/jobs/{id}` until the job completed (sixty-second deadline).
async fn job_completes(server: &Server, token: &str, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let job: Value = server
            .get_as(token, &format!("/training/jobs/{id}"))
            .await
            .json()
            .await
            .unwrap();
        if job["status"] == "completed" {
            return;
        }
        assert!(
            job["status"] != "failed" && Instant::now() < deadline,
            "the job did not complete: {job}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_restored_backup_has_every_row_and_policy_and_serves_the_api() {
    let source = TestDatabase::create();
    let url = source.url();
    let users = scale(
        &[
            "seed",
            "--users",
            "2",
            "--months",
            "3",
            "--until",
            "2026-11-20",
        ],
        &url,
    )
    .unwrap();
    let (alice, bob) = (&users[0], &users[1]);
    let alice_token = alice["token"].as_str().unwrap();
    let alice_id = alice["user_id"].as_str().unwrap();

    // Some of everything the service writes: a correction, a trained model with its job log,
    // anomaly alerts.
    let server = Server::start(&url, &[]);
    let page: Value = server
        .get_as(alice_token, "/accounts/transactions?limit=5")
        .await
        .json()
        .await
        .unwrap();
    let corrected = page["transactions"][0]["id"].as_str().unwrap().to_owned();
    let res = server
        .http
        .patch(format!("{}/accounts/transactions/{corrected}", server.base))
        .bearer_auth(alice_token)
        .json(&json!({"category": "Health"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (status, job) = server
        .post_json_as(
            alice_token,
            "/training/jobs",
            &json!({"kind": "forecaster"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    job_completes(&server, alice_token, job["id"].as_str().unwrap()).await;
    let (status, scan) = server
        .post_json_as(alice_token, "/anomaly/scan", &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{scan}");
    drop(server);

    let dir = scratch();
    let early = dir.join("early.dump");
    scale_one(&["backup", "--out", path(&early)], &url);
    let out = cli(
        &[
            "import",
            "--user",
            alice_id,
            &format!(
                "{}/tests/fixtures/sbi_statement_with_preamble.csv",
                env!("CARGO_MANIFEST_DIR")
            ),
        ],
        &[("DATABASE_URL", &url)],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let full = dir.join("full.dump");
    let backup = scale_one(&["backup", "--out", path(&full)], &url);
    let expected = digests(&url).await;
    for table in [
        "__diesel_schema_migrations",
        "users",
        "transactions",
        "uploaded_files",
        "training_corrections",
        "training_jobs",
        "training_job_events",
        "training_models",
        "anomaly_alerts",
    ] {
        let rows = expected[&format!("public.{table}")].0;
        assert!(rows > 0, "nothing in {table}: the test proves little");
    }
    // The summary counts the rows of the dump's own snapshot.
    for (table, rows) in backup["table_rows"].as_object().unwrap() {
        assert_eq!(rows, expected[table].0, "{table}");
    }
    assert_eq!(backup["bytes"], std::fs::metadata(&full).unwrap().len());
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        2,
        "a partial file stayed"
    );

    let restored = TestDatabase::create();
    let summary = scale_one(&["restore", "--from", path(&full)], &restored.url());
    assert_eq!(summary["table_rows"], backup["table_rows"]);
    assert_eq!(summary["replaced_existing"], false);
    assert_eq!(
        differing(&expected, &digests(&restored.url()).await),
        Vec::<String>::new()
    );

    // The restored database serves the API, with its policies: the owner sees the corrected
    // row, another user does not.
    let server = Server::start(&restored.url(), &[]);
    let row: Value = server
        .get_as(alice_token, &format!("/accounts/transactions/{corrected}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(row["category"], "Health", "{row}");
    let page: Value = server
        .get_as(alice_token, "/accounts/transactions?limit=200")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        page["transactions"].as_array().unwrap().len() > 50,
        "{page}"
    );
    let res = server
        .get_as(
            bob["token"].as_str().unwrap(),
            &format!("/accounts/transactions/{corrected}"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    drop(server);

    // A database with tables is refused unless --force, which replaces them.
    let refused = scale(&["restore", "--from", path(&full)], &restored.url()).unwrap_err();
    assert!(refused.contains("not empty"), "{refused}");
    let summary = scale_one(
        &["restore", "--from", path(&full), "--force"],
        &restored.url(),
    );
    assert_eq!(summary["replaced_existing"], true);
    assert_eq!(
        differing(&expected, &digests(&restored.url()).await),
        Vec::<String>::new()
    );

    // The comparison can fail: the dump taken before the last import lacks its rows.
    let stale = TestDatabase::create();
    scale_one(&["restore", "--from", path(&early)], &stale.url());
    assert_eq!(
        differing(&expected, &digests(&stale.url()).await),
        ["public.transactions", "public.uploaded_files"]
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_backup_without_a_recent_pg_dump_fails_clearly_and_writes_nothing() {
    let db = TestDatabase::create();
    let dir = scratch();
    let out = dir.join("scale.dump");
    let backup = |path_var: &Path| {
        let out = cli(
            &["backup", "--out", path(&out)],
            &[("DATABASE_URL", &db.url()), ("PATH", path(path_var))],
        );
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = backup(&dir);
    assert!(err.contains("pg_dump is not installed"), "{err}");

    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let fake = bin.join("pg_dump");
    std::fs::write(&fake, "#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n").unwrap();
    let mut permissions = std::fs::metadata(&fake).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&fake, permissions).unwrap();
    let err = backup(&bin);
    assert!(
        err.contains("pg_dump is PostgreSQL 9, older than the server's"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "only bin/ is there"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

//! `scale backup` and `scale restore`: a custom-format `pg_dump` of `DATABASE_URL`'s database,
//! written atomically (a temporary file beside the target, then a rename), and its
//! `pg_restore` into `DATABASE_URL`, each printing a JSON summary (tables, rows, bytes,
//! duration). The rows a backup reports are counted in the very snapshot `pg_dump` writes
//! (`--snapshot`), so the summary describes the file exactly. See docs/operations.md, Backups.

use std::ffi::OsString;
use std::fs::File;
use std::io::ErrorKind;
use std::os::unix::ffi::OsStringExt as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

use anyhow::{bail, Context as _};
use scale_actors::training::queue::WORKER_ROLE;
use scale_schema::rls::APP_ROLE;
use serde_json::{json, Map, Value};
use tokio_postgres::Client;

use crate::config::Config;

/// The user tables of the database (every schema but Postgres' own), each `schema.table`
/// quoted; partitions count through their parents' rows only once, as plain tables.
const USER_TABLES: &str = "SELECT format('%I.%I', n.nspname, c.relname) \
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
       AND n.nspname NOT LIKE 'pg\\_toast%' \
     ORDER BY 1";

/// `scale backup --out FILE`: dumps the database and prints the summary.
pub fn backup(config: &Config, out: &Path) -> anyhow::Result<()> {
    let summary = runtime()?.block_on(dump(&config.database_url, out))?;
    crate::output::print(summary)?;
    Ok(())
}

/// `scale restore --from FILE [--force]`: restores a dump and prints the summary.
pub fn restore(config: &Config, from: &Path, force: bool) -> anyhow::Result<()> {
    let summary = runtime()?.block_on(load(&config.database_url, from, force))?;
    crate::output::print(summary)?;
    Ok(())
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Dumps `url`'s database into `out` (see the module docs).
async fn dump(url: &str, out: &Path) -> anyhow::Result<Value> {
    let started = Instant::now();
    let target = Target::open(url, "pg_dump").await?;
    let partial = Partial::beside(out)?;
    // The snapshot pg_dump reads: it lives as long as this transaction stays open.
    let snapshot = target.begin_snapshot().await?;
    let snapshot_id: String = target
        .client
        .query_one("SELECT pg_export_snapshot()", &[])
        .await?
        .get(0);
    let rows = target.count_rows().await?;
    let mut dump = target.tool("pg_dump");
    dump.arg("--format=custom")
        .arg(format!("--snapshot={snapshot_id}"))
        .arg("--file")
        .arg(&partial.path);
    run(dump, "pg_dump").await?;
    snapshot.commit().await?;
    let bytes = partial.commit(out)?;
    Ok(summary(out, &target, rows, bytes, started, None))
}

/// Restores the dump `from` into `url`'s database (see [`restore`]).
async fn load(url: &str, from: &Path, force: bool) -> anyhow::Result<Value> {
    let started = Instant::now();
    let bytes = std::fs::metadata(from)
        .with_context(|| format!("cannot read {}", from.display()))?
        .len();
    let target = Target::open(url, "pg_restore").await?;
    let existing: i64 = target
        .client
        .query_one(&format!("SELECT count(*) FROM ({USER_TABLES}) t"), &[])
        .await?
        .get(0);
    if existing > 0 && !force {
        bail!(
            "the database of DATABASE_URL is not empty ({existing} tables): restore into a \
             fresh database (createdb), or pass --force to drop and replace the dump's objects"
        );
    }
    target.ensure_roles().await?;
    let mut restore = target.tool("pg_restore");
    // The restoring user owns what it restores (the service expects DATABASE_URL's user to
    // own the schema); the grants to the service's roles and the policies come with the dump.
    restore
        .args(["--no-owner", "--exit-on-error", "--single-transaction"])
        .args(if force {
            &["--clean", "--if-exists"][..]
        } else {
            &[]
        })
        .arg(from);
    run(restore, "pg_restore").await?;
    let snapshot = target.begin_snapshot().await?;
    let rows = target.count_rows().await?;
    snapshot.commit().await?;
    Ok(summary(
        from,
        &target,
        rows,
        bytes,
        started,
        Some(existing > 0),
    ))
}

/// The JSON summary of a backup or (with `replaced`) a restore.
fn summary(
    file: &Path,
    target: &Target,
    rows: Map<String, Value>,
    bytes: u64,
    started: Instant,
    replaced: Option<bool>,
) -> Value {
    let total: u64 = rows.values().filter_map(Value::as_u64).sum();
    let mut summary = json!({
        "file": file.display().to_string(),
        "tables": rows.len(),
        "rows": total,
        "bytes": bytes,
        "duration_ms": started.elapsed().as_millis(),
        "server_major": target.server_major,
        "table_rows": rows,
    });
    if let Some(replaced) = replaced {
        summary["replaced_existing"] = json!(replaced);
    }
    summary
}

/// The database of `DATABASE_URL`, connected, with what its client tools need.
struct Target {
    client: Client,
    /// `DATABASE_URL` without its password, for the tools' `--dbname`.
    url: String,
    /// The password, handed to the tools as `PGPASSWORD` (never on a command line).
    password: Option<Vec<u8>>,
    server_major: u32,
}

impl Target {
    /// Connects and checks that `tool` is installed and not older than the server.
    async fn open(url: &str, tool: &str) -> anyhow::Result<Target> {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .context("cannot connect to DATABASE_URL")?;
        tokio::spawn(connection);
        let version: i32 = client
            .query_one("SELECT current_setting('server_version_num')::int", &[])
            .await?
            .get(0);
        let server_major = u32::try_from(version / 10_000)?;
        let tool_major = tool_major(tool).await?;
        if tool_major < server_major {
            bail!(
                "{tool} is PostgreSQL {tool_major}, older than the server's {server_major}: \
                 install postgresql-client-{server_major} (or newer) and put it first on PATH"
            );
        }
        let password = url
            .parse::<tokio_postgres::Config>()?
            .get_password()
            .map(<[u8]>::to_vec);
        Ok(Target {
            client,
            url: without_password(url),
            password,
            server_major,
        })
    }

    /// A command running `tool` on this database.
    fn tool(&self, tool: &str) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(tool);
        command
            .arg("--no-password")
            .arg(format!("--dbname={}", self.url))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(password) = &self.password {
            command.env("PGPASSWORD", OsString::from_vec(password.clone()));
        }
        command
    }

    /// Opens a repeatable-read, read-only transaction with row-level security off: reading a
    /// table its policies would filter then fails (the user needs to be a superuser or
    /// `BYPASSRLS`) instead of counting only some rows, as `pg_dump` does.
    async fn begin_snapshot(&self) -> anyhow::Result<Snapshot<'_>> {
        self.client
            .batch_execute(
                "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET LOCAL row_security = off",
            )
            .await?;
        Ok(Snapshot(&self.client))
    }

    /// Every user table with its row count, read in the open transaction.
    async fn count_rows(&self) -> anyhow::Result<Map<String, Value>> {
        let mut counts = Map::new();
        for row in self.client.query(USER_TABLES, &[]).await? {
            let table: String = row.get(0);
            let count: i64 = self
                .client
                .query_one(&format!("SELECT count(*) FROM {table}"), &[])
                .await
                .with_context(|| {
                    format!(
                        "cannot read {table}: the backup and restore need a superuser or a \
                         BYPASSRLS user (the tables have forced row-level security)"
                    )
                })?
                .get(0);
            counts.insert(table, json!(count));
        }
        Ok(counts)
    }

    /// Creates the service's roles if this cluster lacks them (roles are not part of a
    /// database's dump, but its grants and policies name them) and makes the restoring user a
    /// member, as the migrations do.
    async fn ensure_roles(&self) -> anyhow::Result<()> {
        for role in [APP_ROLE, WORKER_ROLE] {
            let sql = format!(
                "DO $$ BEGIN \
                   IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN \
                     CREATE ROLE {role} NOLOGIN; \
                   END IF; \
                   IF NOT pg_has_role(current_user, '{role}', 'MEMBER') THEN \
                     EXECUTE format('GRANT {role} TO %I', current_user); \
                   END IF; \
                 END $$"
            );
            self.client
                .batch_execute(&sql)
                .await
                .with_context(|| format!("cannot create the role {role} (needs CREATEROLE)"))?;
        }
        Ok(())
    }
}

/// An open snapshot transaction of a [`Target`].
struct Snapshot<'a>(&'a Client);

impl Snapshot<'_> {
    async fn commit(self) -> anyhow::Result<()> {
        self.0.batch_execute("COMMIT").await?;
        Ok(())
    }
}

/// The major version `tool --version` reports (`pg_dump (PostgreSQL) 15.20 (Debian …)`).
async fn tool_major(tool: &str) -> anyhow::Result<u32> {
    let output = match tokio::process::Command::new(tool)
        .arg("--version")
        .output()
        .await
    {
        Err(err) if err.kind() == ErrorKind::NotFound => bail!(
            "{tool} is not installed (not on PATH): install PostgreSQL's client tools \
             (Debian: postgresql-client; scripts/services.sh ensure_psql)"
        ),
        other => other.with_context(|| format!("cannot run {tool}"))?,
    };
    let text = String::from_utf8_lossy(&output.stdout);
    parse_major(&text).with_context(|| format!("cannot read the version of {tool}: {text:?}"))
}

/// The major version in a PostgreSQL tool's `--version` line.
fn parse_major(line: &str) -> Option<u32> {
    let version = line.split(')').nth(1)?.split_whitespace().next()?;
    version.split('.').next()?.parse().ok()
}

/// `url` with the password of its user info left out (`postgres://u:p@h/db` →
/// `postgres://u@h/db`); a key/value connection string is returned as it is.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

/// Runs a client tool to its end; its error output becomes the error.
async fn run(mut command: tokio::process::Command, tool: &str) -> anyhow::Result<()> {
    let output = command
        .output()
        .await
        .with_context(|| format!("cannot run {tool}"))?;
    if !output.status.success() {
        bail!(
            "{tool} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// The temporary file a dump is written to before it is renamed over the target; removed if
/// the dump does not complete.
struct Partial {
    path: PathBuf,
    committed: bool,
}

impl Partial {
    /// `.FILE.partial-PID` in `out`'s directory (so the rename stays on one file system).
    fn beside(out: &Path) -> anyhow::Result<Partial> {
        let name = out
            .file_name()
            .with_context(|| format!("{} is not a file name", out.display()))?;
        let mut partial = OsString::from(".");
        partial.push(name);
        partial.push(format!(".partial-{}", std::process::id()));
        Ok(Partial {
            path: out.with_file_name(partial),
            committed: false,
        })
    }

    /// Flushes the file to disk and renames it to `out`; its size.
    fn commit(mut self, out: &Path) -> anyhow::Result<u64> {
        let file = File::open(&self.path)?;
        file.sync_all()?;
        let bytes = file.metadata()?.len();
        std::fs::rename(&self.path, out)
            .with_context(|| format!("cannot write {}", out.display()))?;
        self.committed = true;
        if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
            File::open(dir)?.sync_all()?;
        }
        Ok(bytes)
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_left_out_of_the_url() {
        assert_eq!(
            without_password("postgres://scale:s3cr%40t@db:5432/scale?sslmode=require"),
            "postgres://scale@db:5432/scale?sslmode=require"
        );
        assert_eq!(
            without_password("postgres://postgres@127.0.0.1:5432/x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(without_password("postgres://h/x"), "postgres://h/x");
        assert_eq!(without_password("host=h dbname=x"), "host=h dbname=x");
    }

    #[test]
    fn the_major_version_is_read_from_the_version_line() {
        assert_eq!(
            parse_major("pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)\n"),
            Some(15)
        );
        assert_eq!(parse_major("pg_restore (PostgreSQL) 17.2"), Some(17));
        assert_eq!(parse_major("garbage"), None);
    }

    #[test]
    fn an_unfinished_dump_leaves_no_file() {
        let dir = std::env::temp_dir().join(format!("scale-backup-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("scale.dump");
        let partial = Partial::beside(&out).unwrap();
        std::fs::write(&partial.path, b"half").unwrap();
        let path = partial.path.clone();
        drop(partial);
        assert!(!path.exists());
        let partial = Partial::beside(&out).unwrap();
        std::fs::write(&partial.path, b"whole").unwrap();
        assert_eq!(partial.commit(&out).unwrap(), 5);
        assert_eq!(std::fs::read(&out).unwrap(), b"whole");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(dir).unwrap();
    }
}

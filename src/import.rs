//! `scale import`: the ingest pipeline from the command line (parse, then store unless
//! `--dry-run`), printing a JSON summary.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context as _};
use scale_actors::ingest::streaming;
use scale_actors::ingest::streaming::Upload;
use scale_statements::pipeline;
use serde_json::json;
use uuid::Uuid;

use crate::config::Config;

/// Largest file accepted, as over HTTP.
const FILE_LIMIT: u64 = 10 * 1024 * 1024;

/// Options of `scale import`.
pub struct ImportArgs<'a> {
    /// Owner of the imported rows.
    pub user: Uuid,
    /// Statement file.
    pub file: &'a Path,
    /// Workbook password.
    pub password: Option<&'a str>,
    /// Parse and report only.
    pub dry_run: bool,
    /// Import even if the file was imported before.
    pub force: bool,
}

/// Runs the import and prints the outcome as JSON.
pub fn run(config: &Config, args: ImportArgs<'_>) -> anyhow::Result<()> {
    let size = std::fs::metadata(args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?
        .len();
    if size > FILE_LIMIT {
        bail!("{} is larger than 10 MiB", args.file.display());
    }
    let bytes = std::fs::read(args.file)?;
    let filename = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if args.dry_run {
        let statement = pipeline::parse_file(&bytes, &filename, args.password)?;
        crate::output::print(json!({
            "dry_run": true,
            "count": statement.transactions.len(),
            "skipped": statement.skipped,
            "truncated": statement.truncated,
            "file_hash": statement.file_hash,
            "detected_format": statement.detected_format,
        }))?;
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let outcome = runtime.block_on(async {
        scale_schema::run_migrations(&config.database_url).await?;
        let pool = scale_schema::connect(&config.database_url, 1, Duration::from_secs(10));
        let upload = Upload {
            bytes,
            filename,
            password: args.password.map(str::to_owned),
        };
        let target = streaming::Target {
            pool,
            brain: config.brain()?.current(),
        };
        anyhow::Ok(streaming::import_file(&target, args.user, upload, args.force).await?)
    })?;
    crate::output::print(serde_json::to_string(&outcome)?)?;
    Ok(())
}

//! `scale`: the SCALE backend binary. `scale serve` runs the service, `scale migrate` applies the
//! embedded migrations, `scale token` mints a development JWT, `scale eval` measures the
//! categorizer and the spending forecaster, `scale train-global-categorizer` rebuilds the
//! categorizer's shipped model, `scale chaos run` drives a chaos scenario on a server,
//! `scale sre run` runs the SRE scenario suite against servers it starts, `scale backup` and
//! `scale restore` dump and restore the database, and `scale seed` creates demo users.

mod backup;
mod bench;
mod chaos;
mod config;
mod eval;
mod import;
mod output;
mod seed;
mod serve;
mod sre;
mod train_global;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use scale_http::auth::{mint_token, Role};
use uuid::Uuid;

use crate::config::Config;

/// mimalloc: the service allocates many short-lived strings per request (rows, JSON), where
/// glibc's allocator spent ~10 % of the server's CPU on the transaction list.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "scale", version, about = "SCALE personal-finance backend")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations, then serve HTTP (and run training jobs) until SIGINT/SIGTERM.
    Serve {
        /// `api`: HTTP only; `worker`: runs training jobs; `all`: both.
        #[arg(long, value_enum, default_value = "all")]
        role: serve::Role,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Parse a statement file and store it for a user (the pipeline of POST /ingest/import).
    Import {
        /// The owner of the imported transactions.
        #[arg(long)]
        user: Uuid,
        /// The statement (CSV/TSV/TXT, XLSX/XLSM/XLS, JSON).
        file: PathBuf,
        /// Password of an encrypted workbook.
        #[arg(long)]
        password: Option<String>,
        /// Parse and report without writing.
        #[arg(long)]
        dry_run: bool,
        /// Import even if this exact file was imported before.
        #[arg(long)]
        force: bool,
    },
    /// Dump the database (pg_dump, custom format) into OUT atomically; prints a JSON summary.
    Backup {
        /// The dump file to write (replaced only once the dump is complete).
        #[arg(long)]
        out: PathBuf,
    },
    /// Restore a dump of `scale backup` into the database; prints a JSON summary.
    Restore {
        /// The dump file.
        #[arg(long)]
        from: PathBuf,
        /// Restore into a database that already has tables, dropping the dump's objects first.
        #[arg(long)]
        force: bool,
    },
    /// Create demo users with imported statements and print a token for each.
    Seed(seed::Options),
    /// Run a benchmark and print a JSON report.
    Bench {
        #[command(subcommand)]
        which: bench::Bench,
    },
    /// Drive the chaos monkey of a server started with CHAOS_ENABLED=true.
    Chaos {
        #[command(subcommand)]
        which: chaos::Chaos,
    },
    /// Run the SRE scenarios (faults under traffic, invariants checked) and print a JSON report.
    Sre {
        #[command(subcommand)]
        which: sre::Sre,
    },
    /// Measure offline and print a JSON report (no database or configuration needed).
    Eval {
        #[command(subcommand)]
        which: eval::Eval,
    },
    /// Rebuild the shipped global categorizer from the repository's data and write it to OUT.
    TrainGlobalCategorizer {
        /// Where to write the model (`actors/data/categorization/global.bin` to update it).
        #[arg(long)]
        out: PathBuf,
    },
    /// Print a signed HS256 token for a user (uses JWT_SECRET).
    Token {
        /// The user's id (the token's `sub`).
        #[arg(long)]
        user: Uuid,
        /// The role to grant.
        #[arg(long, value_enum, default_value = "user")]
        role: RoleArg,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        ttl_secs: i64,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    User,
    Admin,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Offline commands need no configuration.
    let command = match cli.command {
        Command::Eval { which } => return exit_code(eval::run(which)),
        Command::TrainGlobalCategorizer { out } => return exit_code(train_global::run(&out)),
        command => command,
    };
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("scale: invalid configuration: {err}");
            return ExitCode::from(2);
        }
    };
    let result = match command {
        Command::Token {
            user,
            role,
            ttl_secs,
        } => {
            let role = match role {
                RoleArg::User => Role::User,
                RoleArg::Admin => Role::Admin,
            };
            output::print(mint_token(&config.jwt_secret, user, role, ttl_secs)).map_err(Into::into)
        }
        Command::Migrate => serve::migrate_only(&config),
        Command::Import {
            user,
            file,
            password,
            dry_run,
            force,
        } => import::run(
            &config,
            import::ImportArgs {
                user,
                file: &file,
                password: password.as_deref(),
                dry_run,
                force,
            },
        ),
        Command::Backup { out } => backup::backup(&config, &out),
        Command::Restore { from, force } => backup::restore(&config, &from, force),
        Command::Seed(options) => seed::run(&config, &options),
        Command::Bench { which } => bench::run(&config, which),
        Command::Chaos { which } => chaos::run(&config, which),
        Command::Sre { which } => sre::run(&config, which),
        Command::Serve { role } => serve::run(config, role),
        Command::Eval { .. } | Command::TrainGlobalCategorizer { .. } => {
            unreachable!("run before the configuration is read")
        }
    };
    exit_code(result)
}

/// The process exit code of a command's result, printing the error.
fn exit_code(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("scale: {err:#}");
            ExitCode::FAILURE
        }
    }
}

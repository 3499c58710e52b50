//! The real binary, started by a benchmark on a free port with rate limits out of the way.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use anyhow::Context as _;
use serde_json::Value;

use crate::config::Config;

/// A running `scale serve`; killed on drop.
pub struct Server {
    child: Child,
    /// The address it listens on (`host:port`).
    pub addr: String,
    /// `http://{addr}/api/v1`.
    pub base: String,
    /// Where its metrics listener listens (`host:port`), when started with `METRICS_ADDR`.
    metrics: Option<String>,
}

impl Server {
    /// Starts the binary against `config`'s database and secret, plus `env`, and waits until it
    /// reports the address it listens on.
    pub fn start(config: &Config, env: &[(&str, &str)]) -> anyhow::Result<Self> {
        Self::start_with(config, &["serve"], env)
    }

    /// [`Server::start`] with other arguments, e.g. `serve --role worker`.
    pub fn start_with(
        config: &Config,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(args)
            .env("DATABASE_URL", &config.database_url)
            .env("JWT_SECRET", &config.jwt_secret)
            .env("BIND_ADDR", "127.0.0.1:0")
            .env("LOG_LEVEL", "warn,scale::serve=info")
            .env("RATE_LIMIT_DEFAULT_PER_MIN", "1000000000")
            .env("RATE_LIMIT_IMPORT_PER_MIN", "1000000000")
            .env("RATE_LIMIT_CLASSIFY_PER_MIN", "1000000000")
            .env("RATE_LIMIT_TRAINING_PER_HOUR", "1000000000")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().context("server stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let mut metrics = None;
        let addr = loop {
            let line = lines
                .next()
                .context("the server exited before listening")??;
            let value: Value = serde_json::from_str(&line).unwrap_or_default();
            let addr = value["addr"].as_str().unwrap_or_default().to_owned();
            if value["message"] == "metrics listening" {
                metrics = Some(addr);
            } else if value["message"] == "listening" {
                break addr;
            }
        };
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(Self {
            child,
            base: format!("http://{addr}/api/v1"),
            addr,
            metrics,
        })
    }

    /// The server's metrics exposition (it must have been started with `METRICS_ADDR`).
    pub fn scrape(&self) -> anyhow::Result<String> {
        let addr = self
            .metrics
            .as_deref()
            .context("started without METRICS_ADDR")?;
        let output = Command::new("curl")
            .args(["-sf", &format!("http://{addr}/metrics")])
            .output()
            .context("curl is required")?;
        anyhow::ensure!(output.status.success(), "cannot scrape {addr}");
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the server with SIGKILL (no drain) and waits for it to end.
    pub fn kill(&mut self) -> std::io::Result<()> {
        self.child.kill()?;
        self.child.wait().map(drop)
    }

    /// Whether the process still runs (it has not exited, e.g. to be restarted).
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

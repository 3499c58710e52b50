//! What every scenario shares: its context ([`Ctx`]: full or smoke sizes, servers started on
//! their own Redis prefix, users minted and deleted afterwards, a database client), its verdict
//! ([`Verdict`]: figures and failed invariants), readiness polls and the report.

use std::future::Future;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use scale_chaos::{Links, Routed};
use scale_http::auth::{mint_token, Role};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::bench::delete_users;
use crate::bench::server::Server;
use crate::config::Config;

/// How often readiness and the database are polled while a scenario waits.
pub const POLL: Duration = Duration::from_millis(200);

/// One scenario's run: its sizes, its Redis prefix and the users it created.
pub struct Ctx {
    /// The runner's configuration (database, Redis, secret).
    pub config: Config,
    /// Whether this is a smoke run.
    pub smoke: bool,
    /// The Redis key prefix of every server the scenario starts.
    prefix: String,
    /// Every user minted, deleted (with everything they own) when the scenario ends.
    users: Mutex<Vec<Uuid>>,
}

impl Ctx {
    /// The context of scenario `name`.
    pub fn new(config: &Config, smoke: bool, name: &str) -> Self {
        Self {
            config: config.clone(),
            smoke,
            prefix: format!(
                "{}sre-{name}-{}:",
                config.redis_key_prefix,
                Uuid::new_v4().simple()
            ),
            users: Mutex::default(),
        }
    }

    /// `full` in a full run, `smoke` in a smoke run.
    pub fn pick<T>(&self, full: T, smoke: T) -> T {
        if self.smoke {
            smoke
        } else {
            full
        }
    }

    /// `full` or `smoke` seconds.
    pub fn secs(&self, full: f64, smoke: f64) -> Duration {
        Duration::from_secs_f64(self.pick(full, smoke))
    }

    /// A new user's id and bearer token (valid a day).
    pub fn user(&self) -> (Uuid, String) {
        let id = Uuid::new_v4();
        self.users
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(id);
        (id, self.token(id, Role::User))
    }

    /// `n` new users' tokens.
    pub fn tokens(&self, n: usize) -> Vec<String> {
        (0..n).map(|_| self.user().1).collect()
    }

    /// A token of `user` with `role`.
    pub fn token(&self, user: Uuid, role: Role) -> String {
        mint_token(&self.config.jwt_secret, user, role, 24 * 3600)
    }

    /// Every user minted so far.
    pub fn users(&self) -> Vec<Uuid> {
        self.users
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Starts `scale serve ARGS` on the scenario's Redis prefix with fast health probes and
    /// training polls, plus `env` (which wins), and waits until it is ready (as a load balancer
    /// would before routing to it).
    pub async fn server(&self, args: &[&str], env: &[(&str, String)]) -> anyhow::Result<Server> {
        let mut all: Vec<(String, String)> = vec![
            ("REDIS_KEY_PREFIX".into(), self.prefix.clone()),
            ("HEALTH_PROBE_INTERVAL_MS".into(), "200".into()),
            ("TRAINING_POLL_MS".into(), "100".into()),
            ("RUST_BACKTRACE".into(), "0".into()),
        ];
        if let Some(url) = &self.config.redis_url {
            all.push(("REDIS_URL".into(), url.clone()));
        }
        all.extend(env.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
        let config = self.config.clone();
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let server = tokio::task::spawn_blocking(move || {
            let env: Vec<(&str, &str)> = all.iter().map(|(k, v)| (&**k, &**v)).collect();
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            Server::start_with(&config, &args, &env)
        })
        .await??;
        let client = reqwest::Client::new();
        let ready = until(Duration::from_secs(30), || async {
            let (status, body) = readiness(&client, &server.base).await;
            matches!(readiness_word(status, &body).as_str(), "ready" | "degraded")
        })
        .await;
        anyhow::ensure!(ready.is_some(), "the server never became ready");
        Ok(server)
    }

    /// Fault proxies in front of Postgres and Redis, and the URLs through them.
    pub fn links(&self) -> anyhow::Result<(Links, Routed)> {
        Links::start(&self.config.database_url, self.config.redis_url.as_deref())
            .map_err(|e| anyhow::anyhow!("cannot start the fault proxies: {e}"))
    }

    /// A client of the runner's database (a superuser: row-level security does not hide rows).
    pub async fn db(&self) -> anyhow::Result<tokio_postgres::Client> {
        let (client, connection) =
            tokio_postgres::connect(&self.config.database_url, tokio_postgres::NoTls)
                .await
                .context("connecting to DATABASE_URL")?;
        tokio::spawn(connection);
        Ok(client)
    }

    /// Deletes the scenario's users and everything they own.
    pub async fn cleanup(&self) {
        if let Err(err) = delete_users(&self.config.database_url, &self.users()).await {
            eprintln!("scale sre: cleaning up: {err:#}");
        }
    }
}

/// A scenario's figures and the invariants it found broken.
#[derive(Default)]
pub struct Verdict {
    /// Whatever the scenario measured, by name.
    pub figures: serde_json::Map<String, Value>,
    /// Each broken invariant, said in a sentence.
    pub failures: Vec<String>,
}

impl Verdict {
    /// Records figure `key`.
    pub fn figure(&mut self, key: &str, value: Value) {
        self.figures.insert(key.to_owned(), value);
    }

    /// Records a failure, `why`, unless `holds`.
    pub fn check(&mut self, holds: bool, why: impl FnOnce() -> String) {
        if !holds {
            self.failures.push(why());
        }
    }
}

/// The JSON report of scenario `name`: its figures, `passed` and `failures` (an error that
/// stopped it is one).
pub fn report(ctx: &Ctx, name: &str, elapsed: Duration, result: anyhow::Result<Verdict>) -> Value {
    let verdict = result.unwrap_or_else(|err| Verdict {
        failures: vec![format!("the scenario could not run: {err:#}")],
        ..Verdict::default()
    });
    json!({
        "scenario": name,
        "smoke": ctx.smoke,
        "build": if cfg!(debug_assertions) { "debug" } else { "release" },
        "elapsed_secs": elapsed.as_secs_f64(),
        "passed": verdict.failures.is_empty(),
        "failures": verdict.failures,
        "figures": verdict.figures,
    })
}

/// `GET {base}/health/ready`: its status code (`None`: no answer) and body.
pub async fn readiness(client: &reqwest::Client, base: &str) -> (Option<u16>, Value) {
    let answer = client
        .get(format!("{base}/health/ready"))
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    match answer {
        Ok(response) => {
            let status = response.status().as_u16();
            (Some(status), response.json().await.unwrap_or_default())
        }
        Err(_) => (None, Value::Null),
    }
}

/// The readiness word of an answer: `ready`, `degraded`, `unavailable` (a 503) or `no_answer`.
pub fn readiness_word(status: Option<u16>, body: &Value) -> String {
    match status {
        None => "no_answer".into(),
        Some(503) => "unavailable".into(),
        Some(_) => body["status"].as_str().unwrap_or("unknown").to_owned(),
    }
}

/// Polls `probe` every [`POLL`] until it holds or `within` passes: how long it took, `None`
/// when it never held.
pub async fn until<F, Fut>(within: Duration, mut probe: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if probe().await {
            return Some(started.elapsed());
        }
        if started.elapsed() >= within {
            return None;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Polls until none of `users`' training jobs is pending or processing, within `within`: how
/// long it took, `None` when some never ended.
pub async fn jobs_final(
    db: &tokio_postgres::Client,
    users: &[Uuid],
    within: Duration,
) -> Option<Duration> {
    until(within, || async {
        db.query_one(
            "SELECT count(*) FROM training_jobs \
             WHERE user_id = ANY($1) AND status IN ('pending', 'processing')",
            &[&users],
        )
        .await
        .is_ok_and(|row| row.get::<_, i64>(0) == 0)
    })
    .await
}

/// Readiness of `base` polled every [`POLL`] for `span`: how many answers of each word.
pub async fn watch_readiness(
    client: &reqwest::Client,
    base: &str,
    span: Duration,
) -> std::collections::BTreeMap<String, u64> {
    let mut seen = std::collections::BTreeMap::new();
    let until = Instant::now() + span;
    while Instant::now() < until {
        let (status, body) = readiness(client, base).await;
        *seen.entry(readiness_word(status, &body)).or_default() += 1;
        tokio::time::sleep(POLL).await;
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_words_name_the_answer() {
        let body = json!({"status": "degraded"});
        assert_eq!(readiness_word(Some(200), &body), "degraded");
        assert_eq!(readiness_word(Some(503), &body), "unavailable");
        assert_eq!(readiness_word(None, &body), "no_answer");
    }

    #[test]
    fn a_verdict_keeps_each_broken_invariant() {
        let mut verdict = Verdict::default();
        verdict.check(true, || "never".into());
        verdict.check(false, || "broken".into());
        assert_eq!(verdict.failures, ["broken"]);
    }

    #[tokio::test]
    async fn until_reports_how_long_a_probe_took_or_none() {
        assert!(until(Duration::ZERO, || async { true }).await.is_some());
        assert!(until(Duration::ZERO, || async { false }).await.is_none());
    }
}

//! Chaos scenarios: a schedule of faults declared in TOML (`chaos/scenarios/*.toml`, embedded in
//! the binary), parsed and validated by [`Scenario::parse`], and the schedule's pure questions:
//! which faults are active at a time ([`Scenario::active_at`]) and how often a repeated fault
//! fires between two times ([`Fault::firings`]).

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The scenarios shipped in the binary, as `(name, TOML)`.
pub const EMBEDDED: [(&str, &str); 6] = [
    ("crash-storm", include_str!("../scenarios/crash-storm.toml")),
    ("redis-flap", include_str!("../scenarios/redis-flap.toml")),
    (
        "slow-postgres",
        include_str!("../scenarios/slow-postgres.toml"),
    ),
    ("bus-stall", include_str!("../scenarios/bus-stall.toml")),
    ("mixed", include_str!("../scenarios/mixed.toml")),
    ("smoke", include_str!("../scenarios/smoke.toml")),
];

/// Longest scenario, and so longest fault, accepted.
pub const MAX_LENGTH: Duration = Duration::from_secs(600);
/// Longest added latency accepted.
pub const MAX_LATENCY: Duration = Duration::from_secs(60);
/// Most WebSockets or mailbox messages one fault may use.
pub const MAX_COUNT: u32 = 1000;
/// The name of a crash or mailbox target that picks any actor but the monkey.
pub const RANDOM: &str = "random";

/// What a fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// Panics an actor, every `every_ms` while active, each time with probability `rate`.
    Crash,
    /// Holds each chunk to and from Postgres back by `latency_ms`.
    PostgresLatency,
    /// Drops new Postgres connections and chunks with probability `rate`.
    PostgresErrors,
    /// Holds each chunk to and from Redis back by `latency_ms`.
    RedisLatency,
    /// Drops new Redis connections and chunks with probability `rate`.
    RedisErrors,
    /// Refuses every Redis connection and cuts the open ones.
    RedisDown,
    /// Accepts Redis connections but never answers.
    RedisHang,
    /// Hangs the Redis connections of the event buses.
    BusStall,
    /// Opens `count` WebSockets to this server that send pings and never read an answer.
    SlowClients,
    /// Holds an actor busy for the fault's duration and sends it `count` pings meanwhile.
    FillMailbox,
    /// Makes every training fit panic at its first step.
    TrainingPanic,
    /// Makes every training fit pause after each step (for the fault's duration).
    TrainingHang,
}

impl FaultKind {
    /// Every fault, in declaration order.
    pub const ALL: [FaultKind; 12] = [
        FaultKind::Crash,
        FaultKind::PostgresLatency,
        FaultKind::PostgresErrors,
        FaultKind::RedisLatency,
        FaultKind::RedisErrors,
        FaultKind::RedisDown,
        FaultKind::RedisHang,
        FaultKind::BusStall,
        FaultKind::SlowClients,
        FaultKind::FillMailbox,
        FaultKind::TrainingPanic,
        FaultKind::TrainingHang,
    ];

    /// The name used in scenario files, logs and the `fault` metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Crash => "crash",
            FaultKind::PostgresLatency => "postgres-latency",
            FaultKind::PostgresErrors => "postgres-errors",
            FaultKind::RedisLatency => "redis-latency",
            FaultKind::RedisErrors => "redis-errors",
            FaultKind::RedisDown => "redis-down",
            FaultKind::RedisHang => "redis-hang",
            FaultKind::BusStall => "bus-stall",
            FaultKind::SlowClients => "slow-clients",
            FaultKind::FillMailbox => "fill-mailbox",
            FaultKind::TrainingPanic => "training-panic",
            FaultKind::TrainingHang => "training-hang",
        }
    }

    fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// Whether the fault acts on an actor (and so needs a `target`).
    fn targets_actor(self) -> bool {
        matches!(self, FaultKind::Crash | FaultKind::FillMailbox)
    }

    fn needs_latency(self) -> bool {
        matches!(self, FaultKind::PostgresLatency | FaultKind::RedisLatency)
    }

    fn default_count(self) -> Option<u32> {
        match self {
            FaultKind::SlowClients => Some(10),
            FaultKind::FillMailbox => Some(100),
            _ => None,
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One scheduled fault.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// What it does.
    pub kind: FaultKind,
    /// When it starts, from the scenario's start.
    pub start: Duration,
    /// How long it lasts.
    pub duration: Duration,
    /// The actor it acts on (`crash`, `fill-mailbox`): a name or [`RANDOM`].
    pub target: Option<String>,
    /// Probability of each crash firing, or of each connection or chunk being dropped (0..=1).
    pub rate: f64,
    /// Interval between crash firings.
    pub every: Duration,
    /// Added latency (`*-latency`).
    pub latency: Duration,
    /// WebSockets (`slow-clients`) or messages (`fill-mailbox`).
    pub count: u32,
}

impl Fault {
    /// When it ends, from the scenario's start.
    pub fn end(&self) -> Duration {
        self.start + self.duration
    }

    /// Whether it is active at `t`.
    pub fn active_at(&self, t: Duration) -> bool {
        self.start <= t && t < self.end()
    }

    /// How many of its firings (`start`, `start + every`, … before `end`) fall in `[from, to)`.
    pub fn firings(&self, from: Duration, to: Duration) -> u32 {
        let (from, to) = (from.max(self.start), to.min(self.end()));
        if from >= to || self.every.is_zero() {
            return 0;
        }
        // Firings at or after `t`: k with start + k*every >= t.
        let first_at_or_after = |t: Duration| {
            let since = (t - self.start).as_nanos();
            let every = self.every.as_nanos();
            since.div_ceil(every)
        };
        let count = first_at_or_after(to) - first_at_or_after(from);
        u32::try_from(count).unwrap_or(u32::MAX)
    }
}

/// A validated scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Its name.
    pub name: String,
    /// What it exercises.
    pub description: String,
    /// How long it runs; it stops by itself then.
    pub length: Duration,
    /// Its faults, in file order.
    pub faults: Vec<Fault>,
}

/// Why a scenario file was refused: the field (`faults[2].rate`) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ScenarioError {
    /// The offending field (`toml` for a syntax error).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

fn refuse(field: impl Into<String>, message: impl Into<String>) -> ScenarioError {
    ScenarioError {
        field: field.into(),
        message: message.into(),
    }
}

/// A scenario file as written, before validation (numbers signed, so a negative one is refused
/// by name rather than by the TOML reader).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: String,
    #[serde(default)]
    description: String,
    length_ms: i64,
    #[serde(default)]
    faults: Vec<RawFault>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFault {
    kind: String,
    #[serde(default)]
    start_ms: i64,
    duration_ms: i64,
    target: Option<String>,
    rate: Option<f64>,
    every_ms: Option<i64>,
    latency_ms: Option<i64>,
    count: Option<i64>,
}

/// A duration in milliseconds between zero (or one, when `positive`) and `max`.
fn millis(field: &str, raw: i64, max: Duration, positive: bool) -> Result<Duration, ScenarioError> {
    let least = i64::from(positive);
    if raw < least {
        let bound = if positive {
            "greater than zero"
        } else {
            "negative"
        };
        let message = if positive {
            format!("must be {bound}, not {raw}")
        } else {
            format!("must not be {bound} ({raw})")
        };
        return Err(refuse(field, message));
    }
    let value = Duration::from_millis(raw.unsigned_abs());
    if value > max {
        return Err(refuse(
            field,
            format!(
                "{raw} ms is longer than the most allowed, {} ms",
                max.as_millis()
            ),
        ));
    }
    Ok(value)
}

impl Scenario {
    /// Parses and validates a scenario file; `actors` are the names a `target` may use
    /// (besides [`RANDOM`]).
    pub fn parse(text: &str, actors: &[&str]) -> Result<Self, ScenarioError> {
        let raw: RawScenario = toml::from_str(text).map_err(|e| refuse("toml", e.message()))?;
        let name = raw.name.trim();
        if name.is_empty() || name.len() > 64 || name.contains(char::is_control) {
            return Err(refuse("name", "must be 1 to 64 printable characters"));
        }
        let length = millis("length_ms", raw.length_ms, MAX_LENGTH, true)?;
        let faults = raw
            .faults
            .into_iter()
            .enumerate()
            .map(|(i, fault)| fault.validate(&format!("faults[{i}]"), length, actors))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            name: name.to_owned(),
            description: raw.description,
            length,
            faults,
        })
    }

    /// The indices of the faults active at `t` (from the scenario's start).
    pub fn active_at(&self, t: Duration) -> Vec<usize> {
        (0..self.faults.len())
            .filter(|&i| self.faults[i].active_at(t))
            .collect()
    }

    /// Whether the scenario is over at `t`.
    pub fn ended_at(&self, t: Duration) -> bool {
        t >= self.length
    }

    /// The share of the scenario done at `t` (0..=1).
    pub fn progress(&self, t: Duration) -> f64 {
        (t.as_secs_f64() / self.length.as_secs_f64()).min(1.0)
    }
}

impl RawFault {
    fn validate(self, at: &str, length: Duration, actors: &[&str]) -> Result<Fault, ScenarioError> {
        let field = |name: &str| format!("{at}.{name}");
        let known = FaultKind::ALL.map(FaultKind::as_str).join(", ");
        let kind = FaultKind::named(&self.kind).ok_or_else(|| {
            refuse(
                field("kind"),
                format!(
                    "unknown fault `{}` (known: {known})",
                    self.kind.escape_debug()
                ),
            )
        })?;
        let start = millis(&field("start_ms"), self.start_ms, MAX_LENGTH, false)?;
        let duration = millis(&field("duration_ms"), self.duration_ms, MAX_LENGTH, true)?;
        if start + duration > length {
            return Err(refuse(
                field("duration_ms"),
                format!(
                    "the fault ends at {} ms, after the scenario's length_ms ({})",
                    (start + duration).as_millis(),
                    length.as_millis()
                ),
            ));
        }
        let rate = self.rate.unwrap_or(1.0);
        if !(0.0..=1.0).contains(&rate) {
            return Err(refuse(
                field("rate"),
                format!("{rate} is not between 0 and 1"),
            ));
        }
        let target = match (kind.targets_actor(), self.target) {
            (true, None) => {
                return Err(refuse(
                    field("target"),
                    format!("`{kind}` needs an actor name or `{RANDOM}`"),
                ))
            }
            (true, Some(target)) if target != RANDOM && !actors.contains(&target.as_str()) => {
                return Err(refuse(
                    field("target"),
                    format!(
                        "unknown actor `{}` (known: {RANDOM}, {})",
                        target.escape_debug(),
                        actors.join(", ")
                    ),
                ))
            }
            (false, Some(_)) => {
                return Err(refuse(field("target"), format!("`{kind}` takes no target")))
            }
            (_, target) => target,
        };
        let every = match self.every_ms {
            Some(raw) => millis(&field("every_ms"), raw, MAX_LENGTH, true)?,
            None => Duration::from_millis(500),
        };
        let latency = match (kind.needs_latency(), self.latency_ms) {
            (true, Some(raw)) => millis(&field("latency_ms"), raw, MAX_LATENCY, true)?,
            (true, None) => return Err(refuse(field("latency_ms"), format!("`{kind}` needs it"))),
            (false, Some(_)) => {
                return Err(refuse(field("latency_ms"), format!("`{kind}` takes none")))
            }
            (false, None) => Duration::ZERO,
        };
        let count = match (kind.default_count(), self.count) {
            (Some(_), Some(raw)) if !(1..=i64::from(MAX_COUNT)).contains(&raw) => {
                return Err(refuse(
                    field("count"),
                    format!("{raw} is not between 1 and {MAX_COUNT}"),
                ))
            }
            (Some(_), Some(raw)) => u32::try_from(raw).unwrap_or(MAX_COUNT),
            (Some(default), None) => default,
            (None, Some(_)) => return Err(refuse(field("count"), format!("`{kind}` takes none"))),
            (None, None) => 0,
        };
        Ok(Fault {
            kind,
            start,
            duration,
            target,
            rate,
            every,
            latency,
            count,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACTORS: [&str; 4] = ["analytics", "cache", "health", "training"];

    fn parse(text: &str) -> Result<Scenario, ScenarioError> {
        Scenario::parse(text, &ACTORS)
    }

    fn one_fault(fault: &str) -> Result<Scenario, ScenarioError> {
        parse(&format!(
            "name = \"t\"\nlength_ms = 10000\n[[faults]]\n{fault}\n"
        ))
    }

    fn refused(fault: &str) -> String {
        one_fault(fault).unwrap_err().to_string()
    }

    #[test]
    fn every_embedded_scenario_is_valid_and_named_after_its_file() {
        for (name, text) in EMBEDDED {
            let scenario = parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(scenario.name, name);
            assert!(!scenario.faults.is_empty(), "{name}");
        }
    }

    #[test]
    fn a_fault_gets_its_defaults() {
        let scenario =
            one_fault("kind = \"crash\"\ntarget = \"random\"\nduration_ms = 1000").unwrap();
        let fault = &scenario.faults[0];
        assert_eq!(fault.kind, FaultKind::Crash);
        assert_eq!(fault.start, Duration::ZERO);
        assert_eq!(fault.rate, 1.0);
        assert_eq!(fault.every, Duration::from_millis(500));
        assert_eq!(fault.target.as_deref(), Some(RANDOM));
        let clients = one_fault("kind = \"slow-clients\"\nduration_ms = 1000").unwrap();
        assert_eq!(clients.faults[0].count, 10);
    }

    #[test]
    fn bad_values_are_refused_by_field() {
        assert_eq!(
            refused("kind = \"meteor\"\nduration_ms = 1"),
            format!(
                "faults[0].kind: unknown fault `meteor` (known: {})",
                FaultKind::ALL.map(FaultKind::as_str).join(", ")
            )
        );
        assert_eq!(
            refused("kind = \"redis-down\"\nduration_ms = -5"),
            "faults[0].duration_ms: must be greater than zero, not -5"
        );
        assert_eq!(
            refused("kind = \"redis-down\"\nstart_ms = -1\nduration_ms = 5"),
            "faults[0].start_ms: must not be negative (-1)"
        );
        assert_eq!(
            refused("kind = \"redis-down\"\nduration_ms = 9223372036854775807"),
            "faults[0].duration_ms: 9223372036854775807 ms is longer than the most allowed, 600000 ms"
        );
        assert_eq!(
            refused("kind = \"redis-down\"\nstart_ms = 9000\nduration_ms = 2000"),
            "faults[0].duration_ms: the fault ends at 11000 ms, after the scenario's length_ms (10000)"
        );
        for rate in ["1.5", "-0.1", "nan"] {
            assert!(
                refused(&format!(
                    "kind = \"redis-errors\"\nduration_ms = 5\nrate = {rate}"
                ))
                .starts_with("faults[0].rate: "),
                "{rate}"
            );
        }
        assert!(
            refused("kind = \"crash\"\ntarget = \"nobody\"\nduration_ms = 5")
                .starts_with("faults[0].target: unknown actor `nobody` (known: random, analytics")
        );
        assert_eq!(
            refused("kind = \"crash\"\nduration_ms = 5"),
            "faults[0].target: `crash` needs an actor name or `random`"
        );
        assert_eq!(
            refused("kind = \"redis-down\"\ntarget = \"cache\"\nduration_ms = 5"),
            "faults[0].target: `redis-down` takes no target"
        );
        assert_eq!(
            refused("kind = \"redis-latency\"\nduration_ms = 5"),
            "faults[0].latency_ms: `redis-latency` needs it"
        );
        assert_eq!(
            refused("kind = \"slow-clients\"\nduration_ms = 5\ncount = 0"),
            "faults[0].count: 0 is not between 1 and 1000"
        );
        assert!(
            refused("kind = \"crash\"\ntarget = \"a\\u0000b\"\nduration_ms = 5")
                .contains("unknown actor `a\\0b`")
        );
    }

    #[test]
    fn bad_files_are_refused() {
        let err = parse("name = \"x\"").unwrap_err();
        assert_eq!(err.field, "toml");
        assert!(err.message.contains("length_ms"), "{err}");
        let err = parse("name = \"x\"\nlength_ms = 5\nspeed = 3").unwrap_err();
        assert!(err.message.contains("speed"), "{err}");
        assert_eq!(
            parse("name = \"\"\nlength_ms = 5").unwrap_err().field,
            "name"
        );
        assert_eq!(
            parse("name = \"x\"\nlength_ms = 0")
                .unwrap_err()
                .to_string(),
            "length_ms: must be greater than zero, not 0"
        );
        assert_eq!(parse("\u{0}").unwrap_err().field, "toml");
    }

    #[test]
    fn the_schedule_says_which_faults_are_active() {
        let scenario = parse(
            "name = \"s\"\nlength_ms = 3000\n\
             [[faults]]\nkind = \"redis-down\"\nstart_ms = 0\nduration_ms = 1000\n\
             [[faults]]\nkind = \"bus-stall\"\nstart_ms = 500\nduration_ms = 2000\n",
        )
        .unwrap();
        let at = |ms| scenario.active_at(Duration::from_millis(ms));
        assert_eq!(at(0), [0]);
        assert_eq!(at(700), [0, 1]);
        assert_eq!(at(1000), [1]);
        assert_eq!(at(2500), Vec::<usize>::new());
        assert!(!scenario.ended_at(Duration::from_millis(2999)));
        assert!(scenario.ended_at(Duration::from_millis(3000)));
        assert_eq!(scenario.progress(Duration::from_millis(1500)), 0.5);
        assert_eq!(scenario.progress(Duration::from_secs(9)), 1.0);
    }

    #[test]
    fn firings_fall_every_interval_within_the_fault() {
        let scenario =
            one_fault("kind = \"crash\"\ntarget = \"cache\"\nstart_ms = 1000\nduration_ms = 1000\nevery_ms = 300")
                .unwrap();
        let fault = &scenario.faults[0];
        let ms = Duration::from_millis;
        // Firings at 1000, 1300, 1600, 1900.
        assert_eq!(fault.firings(ms(0), ms(10_000)), 4);
        assert_eq!(fault.firings(ms(0), ms(1000)), 0);
        assert_eq!(fault.firings(ms(0), ms(1001)), 1);
        assert_eq!(fault.firings(ms(1001), ms(1300)), 0);
        assert_eq!(fault.firings(ms(1300), ms(1301)), 1);
        assert_eq!(fault.firings(ms(1500), ms(1900)), 1);
        assert_eq!(fault.firings(ms(1901), ms(5000)), 0);
        assert_eq!(fault.firings(ms(1500), ms(1400)), 0);
        // Ticks that split the time anywhere see each firing exactly once.
        let ticks: Vec<Duration> = (0..=45).map(|k| ms(k * 47)).collect();
        let seen: u32 = ticks.windows(2).map(|w| fault.firings(w[0], w[1])).sum();
        assert_eq!(seen, 4);
    }
}

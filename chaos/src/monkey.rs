//! The chaos monkey: a supervised actor that runs one [`Scenario`] at a time, ticking every
//! [`TICK`] to inject the faults that are due, and stops by itself at the scenario's end.
//!
//! The run lives on a [`Board`] shared with the actor's factory, so a crash of the monkey
//! itself (a fault like any other) restarts it into the same run. Every fault injected is one
//! WARN line (`fault`, `fault_target`, `duration_ms`), a count in `scale_chaos_faults_total{fault}`
//! and an entry of the run's view; `scale_chaos_active_faults` gauges the faults active now.
//! Which faults are due, and what the links and training knobs should be set to, are pure
//! functions of the schedule ([`link_modes`], [`training_faults`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rand::seq::IndexedRandom;
use scale_monitoring::metrics::names;
use scale_supervision::{
    every, Control, Crash, Handles, Registry, Reply, Request, Service, ServiceContext,
};
use serde::Serialize;

use crate::clients::{SlowEnd, WsTarget};
use crate::knobs::TrainingKnobs;
use crate::links::{Link, Links};
use crate::proxy::FaultMode;
use crate::scenario::{Fault, FaultKind, Scenario, ScenarioError, EMBEDDED, RANDOM};

/// How often the monkey looks at the schedule.
pub const TICK: Duration = Duration::from_millis(50);
/// Errors kept per run.
const KEPT_ERRORS: usize = 20;

/// What the monkey acts on.
pub struct Levers {
    /// Every supervised actor, to crash or hold one.
    pub registry: Registry,
    /// The proxies in front of Postgres, Redis and the event buses.
    pub links: Links,
    /// The training runner's chaos knobs.
    pub training: TrainingKnobs,
    /// This server's WebSocket route, for slow clients.
    pub clients: WsTarget,
}

/// One run of a scenario.
struct Run {
    scenario: Scenario,
    started: Instant,
    /// Scenario time of the last tick.
    ticked: Duration,
    /// Faults active at the last tick.
    active: Vec<usize>,
    injected: BTreeMap<&'static str, u64>,
    errors: Vec<String>,
    slow_clients_dropped: u64,
}

#[derive(Default)]
struct BoardState {
    running: Option<Run>,
    last: Option<RunView>,
}

/// The monkey's run, shared by every incarnation of the actor (and its background tasks).
#[derive(Clone, Default)]
pub struct Board(Arc<Mutex<BoardState>>);

impl Board {
    fn lock(&self) -> MutexGuard<'_, BoardState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Notes an error of the running run (a fault that could not be injected).
    fn error(&self, message: String) {
        tracing::warn!(error = %message, "chaos fault failed");
        if let Some(run) = self.lock().running.as_mut() {
            if run.errors.len() < KEPT_ERRORS {
                run.errors.push(message);
            }
        }
    }

    /// Notes that the server dropped one of the running run's slow clients.
    fn slow_client_dropped(&self) {
        tracing::info!("chaos: the server dropped a slow WebSocket client");
        if let Some(run) = self.lock().running.as_mut() {
            run.slow_clients_dropped += 1;
        }
    }
}

/// A scenario the monkey can run.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioInfo {
    /// Its name.
    pub name: &'static str,
    /// What it exercises.
    pub description: String,
    /// How long it runs.
    pub length_ms: u64,
    /// Why it cannot run in this process (e.g. it names an actor this process lacks).
    pub invalid: Option<String>,
}

/// A fault active now.
#[derive(Debug, Clone, Serialize)]
pub struct ActiveFault {
    /// What it does.
    pub fault: FaultKind,
    /// The actor it acts on, if any.
    pub target: Option<String>,
    /// Time left.
    pub remaining_ms: u64,
}

/// A run as the routes and the dashboard show it.
#[derive(Debug, Clone, Serialize)]
pub struct RunView {
    /// The scenario's name.
    pub scenario: String,
    /// Time since it started (its length once it ended).
    pub elapsed_ms: u64,
    /// Its length.
    pub length_ms: u64,
    /// Share done (0..=1).
    pub progress: f64,
    /// Faults active now.
    pub active: Vec<ActiveFault>,
    /// Faults injected so far, by fault.
    pub injected: BTreeMap<&'static str, u64>,
    /// Faults that could not be injected.
    pub errors: Vec<String>,
    /// Slow WebSocket clients the server has dropped so far.
    pub slow_clients_dropped: u64,
    /// How it ended: `completed` (by itself) or `stopped`; `None` while it runs.
    pub ended: Option<&'static str>,
}

/// What the monkey is doing.
#[derive(Debug, Clone, Serialize)]
pub struct ChaosStatus {
    /// The scenarios it can run.
    pub scenarios: Vec<ScenarioInfo>,
    /// The run in progress.
    pub running: Option<RunView>,
    /// The last run that ended.
    pub last: Option<RunView>,
}

/// Why a scenario did not start.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StartError {
    /// Another scenario runs.
    #[error("scenario `{0}` is already running")]
    Busy(String),
    /// No scenario has this name.
    #[error("no scenario named {0:?}")]
    Unknown(String),
    /// The scenario names something this process does not have.
    #[error("scenario is invalid here: {0}")]
    Invalid(ScenarioError),
}

/// Starts the named scenario.
pub struct Start(pub String);
impl Request for Start {
    type Output = Result<RunView, StartError>;
}

/// Stops the running scenario; answers its final view (`None`: none ran).
pub struct Stop;
impl Request for Stop {
    type Output = Option<RunView>;
}

/// Answers the [`ChaosStatus`].
pub struct Status;
impl Request for Status {
    type Output = ChaosStatus;
}

/// The chaos monkey service.
pub struct ChaosMonkey {
    levers: Arc<Levers>,
    board: Board,
}

impl ChaosMonkey {
    /// A monkey acting on `levers`, recording its run on `board` (shared across restarts).
    pub fn new(levers: Arc<Levers>, board: Board) -> Self {
        Self { levers, board }
    }

    fn tick(&mut self, _: &mut ServiceContext<Self>) {
        let mut board = self.board.lock();
        let Some(run) = board.running.as_mut() else {
            return;
        };
        let now = run.started.elapsed();
        if run.scenario.ended_at(now) {
            drop(board);
            self.finish("completed");
            return;
        }
        let Run {
            scenario,
            ticked,
            active: was_active,
            injected: counts,
            ..
        } = run;
        let active = scenario.active_at(now);
        for fault in scenario.faults.iter() {
            if fault.kind == FaultKind::Crash {
                for _ in 0..fault.firings(*ticked, now) {
                    if rand::random::<f64>() < fault.rate {
                        let target = self.actor(fault);
                        count(counts, &scenario.name, fault, &target);
                        self.crash(target);
                    }
                }
            }
        }
        for &i in active.iter().filter(|i| !was_active.contains(i)) {
            let fault = &scenario.faults[i];
            if fault.kind != FaultKind::Crash {
                let target = match fault.kind {
                    FaultKind::FillMailbox => self.actor(fault),
                    _ => String::new(),
                };
                count(counts, &scenario.name, fault, &target);
                self.begin(fault, &target, now);
            }
        }
        apply(&self.levers, scenario, &active);
        metrics::gauge!(names::CHAOS_ACTIVE).set(active.len() as f64);
        *ticked = now;
        *was_active = active;
    }

    /// Starts a fault that acts once at its start (the links and knobs follow the schedule on
    /// every tick instead).
    fn begin(&self, fault: &Fault, target: &str, now: Duration) {
        let left = fault.end().saturating_sub(now);
        match fault.kind {
            FaultKind::SlowClients => {
                let until = tokio::time::Instant::now() + left;
                for _ in 0..fault.count {
                    let (levers, board) = (self.levers.clone(), self.board.clone());
                    actix::spawn(async move {
                        match levers.clients.slow_client(until).await {
                            Ok(SlowEnd::Dropped) => board.slow_client_dropped(),
                            Ok(SlowEnd::Outlasted) => {}
                            Err(err) => board.error(format!("slow client: {err}")),
                        }
                    });
                }
            }
            FaultKind::FillMailbox => {
                let target = target.to_owned();
                let (registry, board, count) = (
                    self.levers.registry.clone(),
                    self.board.clone(),
                    fault.count,
                );
                actix::spawn(async move {
                    match registry.control(&target, Control::Hold(left)).await {
                        Some(Ok(_)) => {}
                        Some(Err(err)) => return board.error(format!("hold {target}: {err}")),
                        None => return board.error(format!("no actor named `{target}`")),
                    }
                    // Each waits in the held mailbox (and may time out there: that is the point).
                    for _ in 0..count {
                        let (registry, target) = (registry.clone(), target.clone());
                        actix::spawn(async move { registry.control(&target, Control::Ping).await });
                    }
                });
            }
            _ => {}
        }
    }

    /// Every registered actor's name.
    fn actor_names(&self) -> Vec<&'static str> {
        let actors = self.levers.registry.snapshot();
        actors.into_iter().map(|a| a.name).collect()
    }

    /// The actor a fault acts on: its target, or any registered actor but the monkey.
    fn actor(&self, fault: &Fault) -> String {
        match fault.target.as_deref() {
            Some(RANDOM) | None => {
                let mut names = self.actor_names();
                names.retain(|name| *name != Self::NAME);
                names
                    .choose(&mut rand::rng())
                    .map_or_else(String::new, |name| (*name).to_owned())
            }
            Some(name) => name.to_owned(),
        }
    }

    fn crash(&self, target: String) {
        let (registry, board) = (self.levers.registry.clone(), self.board.clone());
        actix::spawn(async move {
            let crash = Control::Crash(Crash::new("chaos monkey"));
            if registry.control(&target, crash).await.is_none() {
                board.error(format!("no actor named `{target}`"));
            }
        });
    }

    /// Ends the run: every link back to `Pass`, the knobs to their configuration.
    fn finish(&self, how: &'static str) -> Option<RunView> {
        let mut board = self.board.lock();
        let run = board.running.take()?;
        apply(&self.levers, &run.scenario, &[]);
        metrics::gauge!(names::CHAOS_ACTIVE).set(0.0);
        let mut view = view(&run, run.scenario.length.min(run.started.elapsed()));
        view.active.clear();
        view.ended = Some(how);
        tracing::info!(scenario = %view.scenario, ended = how, injected = ?view.injected, "chaos scenario ended");
        board.last = Some(view.clone());
        Some(view)
    }

    fn status(&self) -> ChaosStatus {
        let names = self.actor_names();
        let board = self.board.lock();
        ChaosStatus {
            scenarios: catalogue(&names),
            running: board
                .running
                .as_ref()
                .map(|run| view(run, run.started.elapsed())),
            last: board.last.clone(),
        }
    }
}

/// Counts and logs one injected fault of scenario `scenario`.
fn count(counts: &mut BTreeMap<&'static str, u64>, scenario: &str, fault: &Fault, target: &str) {
    tracing::warn!(
        fault = fault.kind.as_str(),
        fault_target = target,
        duration_ms = millis(fault.duration),
        scenario,
        "chaos fault injected"
    );
    metrics::counter!(names::CHAOS_FAULTS, "fault" => fault.kind.as_str()).increment(1);
    *counts.entry(fault.kind.as_str()).or_default() += 1;
}

/// Sets the links and the training knobs as the `active` faults of `scenario` want them.
fn apply(levers: &Levers, scenario: &Scenario, active: &[usize]) {
    let faults: Vec<&Fault> = active.iter().map(|&i| &scenario.faults[i]).collect();
    for (link, mode) in link_modes(&faults) {
        levers.links.set(link, mode);
    }
    let (panic, hang) = training_faults(&faults);
    levers.training.set_faults(panic, hang);
}

/// What each link's proxy should do while `faults` are active: the last fault declared on a
/// link wins; a link without one passes.
pub fn link_modes(faults: &[&Fault]) -> [(Link, FaultMode); 3] {
    let mut modes = [Link::Postgres, Link::Redis, Link::Bus].map(|link| (link, FaultMode::Pass));
    for fault in faults {
        let (link, mode) = match fault.kind {
            FaultKind::PostgresLatency => (Link::Postgres, FaultMode::Slow(fault.latency)),
            FaultKind::PostgresErrors => (Link::Postgres, FaultMode::Flaky(fault.rate)),
            FaultKind::RedisLatency => (Link::Redis, FaultMode::Slow(fault.latency)),
            FaultKind::RedisErrors => (Link::Redis, FaultMode::Flaky(fault.rate)),
            FaultKind::RedisDown => (Link::Redis, FaultMode::Down),
            FaultKind::RedisHang => (Link::Redis, FaultMode::Hang),
            FaultKind::BusStall => (Link::Bus, FaultMode::Hang),
            _ => continue,
        };
        for slot in modes.iter_mut().filter(|(l, _)| *l == link) {
            slot.1 = mode;
        }
    }
    modes
}

/// Whether training fits should panic, and how long they should pause after each step, while
/// `faults` are active.
pub fn training_faults(faults: &[&Fault]) -> (bool, Option<Duration>) {
    let panic = faults.iter().any(|f| f.kind == FaultKind::TrainingPanic);
    let hang = faults
        .iter()
        .filter(|f| f.kind == FaultKind::TrainingHang)
        .map(|f| f.duration)
        .max();
    (panic, hang)
}

/// The embedded scenarios, as validated against the `actors` of this process.
fn catalogue(actors: &[&str]) -> Vec<ScenarioInfo> {
    EMBEDDED
        .iter()
        .map(|&(name, text)| match Scenario::parse(text, actors) {
            Ok(scenario) => ScenarioInfo {
                name,
                description: scenario.description,
                length_ms: millis(scenario.length),
                invalid: None,
            },
            Err(err) => ScenarioInfo {
                name,
                description: String::new(),
                length_ms: 0,
                invalid: Some(err.to_string()),
            },
        })
        .collect()
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn view(run: &Run, now: Duration) -> RunView {
    RunView {
        scenario: run.scenario.name.clone(),
        elapsed_ms: millis(now),
        length_ms: millis(run.scenario.length),
        progress: run.scenario.progress(now),
        active: run
            .active
            .iter()
            .map(|&i| {
                let fault = &run.scenario.faults[i];
                ActiveFault {
                    fault: fault.kind,
                    target: fault.target.clone(),
                    remaining_ms: millis(fault.end().saturating_sub(now)),
                }
            })
            .collect(),
        injected: run.injected.clone(),
        errors: run.errors.clone(),
        slow_clients_dropped: run.slow_clients_dropped,
        ended: None,
    }
}

impl Service for ChaosMonkey {
    const NAME: &'static str = "chaos-monkey";

    fn started(&mut self, ctx: &mut ServiceContext<Self>) {
        every(ctx, TICK, Self::tick);
    }
}

impl Handles<Start> for ChaosMonkey {
    fn handle(
        &mut self,
        Start(name): Start,
        _: &mut ServiceContext<Self>,
    ) -> Reply<Result<RunView, StartError>> {
        let mut board = self.board.lock();
        if let Some(run) = &board.running {
            return Reply::Ready(Err(StartError::Busy(run.scenario.name.clone())));
        }
        let Some((_, text)) = EMBEDDED.iter().find(|(known, _)| *known == name) else {
            return Reply::Ready(Err(StartError::Unknown(name)));
        };
        let scenario = match Scenario::parse(text, &self.actor_names()) {
            Ok(scenario) => scenario,
            Err(err) => return Reply::Ready(Err(StartError::Invalid(err))),
        };
        tracing::warn!(scenario = %scenario.name, length_ms = millis(scenario.length), "chaos scenario started");
        let run = Run {
            scenario,
            started: Instant::now(),
            ticked: Duration::ZERO,
            active: Vec::new(),
            injected: BTreeMap::new(),
            errors: Vec::new(),
            slow_clients_dropped: 0,
        };
        let started = view(&run, Duration::ZERO);
        board.running = Some(run);
        Reply::Ready(Ok(started))
    }
}

impl Handles<Stop> for ChaosMonkey {
    fn handle(&mut self, _: Stop, _: &mut ServiceContext<Self>) -> Reply<Option<RunView>> {
        Reply::Ready(self.finish("stopped"))
    }
}

impl Handles<Status> for ChaosMonkey {
    fn handle(&mut self, _: Status, _: &mut ServiceContext<Self>) -> Reply<ChaosStatus> {
        Reply::Ready(self.status())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(faults: &str) -> Scenario {
        Scenario::parse(
            &format!("name = \"t\"\nlength_ms = 10000\n{faults}"),
            &["cache"],
        )
        .unwrap()
    }

    #[test]
    fn the_last_fault_on_a_link_wins_and_the_others_pass() {
        let s = scenario(
            "[[faults]]\nkind = \"redis-latency\"\nduration_ms = 5\nlatency_ms = 20\n\
             [[faults]]\nkind = \"redis-down\"\nduration_ms = 5\n\
             [[faults]]\nkind = \"postgres-errors\"\nduration_ms = 5\nrate = 0.25\n\
             [[faults]]\nkind = \"crash\"\ntarget = \"cache\"\nduration_ms = 5\n",
        );
        let all: Vec<&Fault> = s.faults.iter().collect();
        assert_eq!(
            link_modes(&all),
            [
                (Link::Postgres, FaultMode::Flaky(0.25)),
                (Link::Redis, FaultMode::Down),
                (Link::Bus, FaultMode::Pass),
            ]
        );
        assert_eq!(
            link_modes(&all[..1])[1],
            (Link::Redis, FaultMode::Slow(Duration::from_millis(20)))
        );
        assert!(link_modes(&[]).iter().all(|(_, m)| *m == FaultMode::Pass));
    }

    #[test]
    fn training_faults_follow_the_active_ones() {
        let s = scenario(
            "[[faults]]\nkind = \"training-panic\"\nduration_ms = 5\n\
             [[faults]]\nkind = \"training-hang\"\nduration_ms = 3000\n",
        );
        let all: Vec<&Fault> = s.faults.iter().collect();
        assert_eq!(training_faults(&all), (true, Some(Duration::from_secs(3))));
        assert_eq!(
            training_faults(&all[1..]),
            (false, Some(Duration::from_secs(3)))
        );
        assert_eq!(training_faults(&[]), (false, None));
    }

    #[test]
    fn the_catalogue_lists_every_embedded_scenario() {
        let listed = catalogue(&["analytics", "cache", "training"]);
        assert_eq!(listed.len(), EMBEDDED.len());
        assert!(listed
            .iter()
            .all(|s| s.length_ms > 0 && !s.description.is_empty() && s.invalid.is_none()));
        let smoke = catalogue(&[])
            .into_iter()
            .find(|s| s.name == "smoke")
            .unwrap();
        assert!(smoke.invalid.unwrap().contains("unknown actor `cache`"));
    }
}

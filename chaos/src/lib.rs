//! Fault injection for SCALE. The chaos monkey ([`ChaosMonkey`], `monkey`) is a supervised actor
//! that runs a [`Scenario`] (`scenario`: a schedule of faults declared in TOML and embedded in
//! the binary): it crashes or holds actors, breaks the links to Postgres and Redis through
//! [`FaultProxy`]s (`proxy`, set up by `links`), opens slow WebSocket clients (`clients`) and
//! breaks training fits through the runtime [`TrainingKnobs`] (`knobs`). Only a process started
//! with `CHAOS_ENABLED=true` (never in production) runs it; tests use the proxy on its own.

mod clients;
mod knobs;
mod links;
mod monkey;
mod proxy;
mod scenario;

pub use clients::{SlowEnd, WsTarget};
pub use knobs::TrainingKnobs;
pub use links::{through_proxy, Link, Links, Routed};
pub use monkey::{
    link_modes, training_faults, ActiveFault, Board, ChaosMonkey, ChaosStatus, Levers, RunView,
    ScenarioInfo, Start, StartError, Status, Stop, TICK,
};
pub use proxy::{FaultMode, FaultProxy};
pub use scenario::{
    Fault, FaultKind, Scenario, ScenarioError, EMBEDDED, MAX_COUNT, MAX_LATENCY, MAX_LENGTH, RANDOM,
};

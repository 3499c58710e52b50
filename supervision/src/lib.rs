//! SCALE supervision: the supervised-actor toolkit every domain actor runs on. A [`Service`]
//! holds a domain's state; [`spawn`] runs it as a [`Managed`] actor under actix's supervisor,
//! which catches a handler's panic, answers the caller with an [`ActorError`] and restarts the
//! actor with fresh state, escalating it after too many restarts. The [`Registry`] keeps every
//! actor's health ([`ActorSnapshot`]) and reaches any actor by name with a [`Control`] message;
//! [`PerThread`] and [`Sharded`] keep a hot request on the thread that received it.
//!
//! Files: `error` (why a call failed), `control` (the messages every actor accepts), `config`
//! (supervision settings), `entry` (one actor's live record), `registry` (every actor by name),
//! `request` (what a handler is asked and answers), `managed` (the service trait and the
//! supervised actor that runs it), `handle` (starting and calling it), `panic` (a panic's text)
//! and `per_thread` (per-thread values and shards).

mod config;
mod control;
mod entry;
mod error;
mod handle;
mod managed;
mod panic;
mod per_thread;
mod registry;
mod request;

pub use config::SupervisorConfig;
pub use control::{Control, ControlReply, Crash};
pub use entry::{ActorSnapshot, ActorStatus};
pub use error::ActorError;
pub use handle::{spawn, Handle};
pub use managed::{every, spawn_then, Handles, Managed, Service, ServiceContext};
pub use panic::panic_text;
pub use per_thread::{PerThread, Sharded};
pub use registry::Registry;
pub use request::{Reply, Request};

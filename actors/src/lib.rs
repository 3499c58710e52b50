//! SCALE actors. [`supervision`] holds the supervised-actor toolkit (panic capture, restart with
//! fresh state, restart-intensity escalation), [`registry`] the shared view of every actor's
//! health, and the domain actors live in their own modules ([`accounts`], [`analytics`], [`cache`],
//! [`health`], [`ingest`], [`training`]). [`categorization`] and [`forecasting`] own the per-user
//! models that [`training`] jobs fit (registered in [`fitters`]; [`artefact`] stores them as
//! JSON); [`pagination`] holds the
//! keyset cursor the list endpoints share, [`per_thread`] the per-thread values and actor
//! shards that keep a hot request on the thread that received it, and [`text`] the limits and
//! checks of every text field stored.

pub mod accounts;
pub mod analytics;
pub mod artefact;
pub mod cache;
pub mod categorization;
pub mod fitters;
pub mod forecasting;
pub mod health;
pub mod ingest;
pub mod pagination;
pub mod per_thread;
pub mod redis_pool;
pub mod registry;
pub mod supervision;
pub mod text;
pub mod training;

pub use per_thread::{PerThread, Sharded};
pub use registry::{ActorSnapshot, ActorStatus, Registry, SupervisorConfig};
pub use supervision::{
    every, spawn, spawn_then, ActorError, Control, ControlReply, Handle, Handles, Managed, Reply,
    Request, Service, ServiceContext,
};

//! SCALE actors. [`supervision`] holds the supervised-actor toolkit (panic capture, restart with
//! fresh state, restart-intensity escalation), [`registry`] the shared view of every actor's
//! health, and the domain actors live in their own modules ([`accounts`], [`analytics`], [`cache`],
//! [`health`], [`ingest`], [`training`]); [`pagination`] holds the
//! keyset cursor the list endpoints share, [`per_thread`] the per-thread values and actor
//! shards that keep a hot request on the thread that received it, and [`text`] the limits of
//! the text stored outside a transaction's fields (a transaction's are
//! [`scale_statements::text`]).

pub mod accounts;
pub mod analytics;
pub mod cache;
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

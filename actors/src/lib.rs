//! SCALE actors: the domain actors, each a `scale_supervision` service, in their own modules
//! ([`accounts`], [`analytics`], [`cache`], [`health`], [`ingest`], [`training`]). [`jobs`] says
//! what a background job is (its kind and status) and [`events`] carries job progress to every
//! subscriber of every process; [`pagination`] holds the keyset cursor the list endpoints share,
//! [`redis_pool`] the per-thread Redis pools and [`text`] the limits and checks of every text
//! field stored.

pub mod accounts;
pub mod analytics;
pub mod cache;
pub mod events;
pub mod health;
pub mod ingest;
pub mod jobs;
pub mod pagination;
pub mod redis_pool;
pub mod text;
pub mod training;

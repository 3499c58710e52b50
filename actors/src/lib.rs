//! SCALE actors: the domain actors, each a `scale_supervision` service, in their own modules
//! ([`accounts`], [`analytics`], [`cache`], [`health`], [`ingest`], [`training`], and the
//! model domains [`categorization`] and [`forecasting`], whose fitters [`fitters`] registers
//! with the job runtime). [`jobs`] says what a background job is (its kind and status) and
//! [`events`] carries job progress to every subscriber of every process; [`error`] holds the
//! failures every domain shares, [`artefact`] the stored form of fitted models, [`pagination`]
//! the keyset cursor the list endpoints share, [`redis_pool`] the per-thread Redis pools and
//! [`text`] the limits and checks of every text field stored.

pub mod accounts;
pub mod analytics;
pub mod artefact;
pub mod cache;
pub mod categorization;
pub mod error;
pub mod events;
pub mod fitters;
pub mod forecasting;
pub mod health;
pub mod ingest;
pub mod jobs;
pub mod pagination;
pub mod redis_pool;
pub mod text;
pub mod training;

//! Integration tests of the actors, one binary against real Postgres and Redis: the cache
//! ([`cache`]), the job event bus ([`events`]), the health actor ([`health`]), the import store
//! ([`ingest`]) and the training queue and scheduler ([`training_queue`]).

mod cache;
mod events;
mod health;
mod ingest;
mod training_queue;

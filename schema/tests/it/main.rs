//! Integration tests of the schema crate, one binary against a real Postgres: the embedded
//! migrations ([`migrations`]), the pool ([`pool`]) and row-level security ([`rls`]).

mod migrations;
mod pool;
mod rls;

//! Integration tests of the HTTP front, one binary with real actors, Postgres and Redis: the
//! accounts API ([`accounts`]), analytics ([`analytics`]), anomaly alerts ([`anomaly`]), classification ([`categorization`]),
//! category discovery and the model list ([`discovery`]), learning from corrections
//! ([`learning`]), the front's errors, auth and health routes ([`front`]), ingestion
//! ([`ingest`]) and chunked JSON imports ([`chunked_import`]), the OpenAPI document's parity with
//! the routes and Swagger UI ([`openapi`]), the ops dashboard's feed and page ([`ops`]), the access log and Sentry ([`observability`]), security hardening ([`security`]),
//! the training-jobs API ([`training`]) and the jobs WebSocket ([`ws`]), on the
//! shared app set-up ([`common`]).

mod accounts;
mod analytics;
mod anomaly;
mod categorization;
mod chunked_import;
mod common;
mod discovery;
mod forecast;
mod front;
mod ingest;
mod learning;
mod observability;
mod openapi;
mod ops;
mod security;
mod training;
mod ws;

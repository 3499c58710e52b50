//! SCALE actors: the domain actors, each a `scale_supervision` service, in their own modules
//! ([`accounts`], [`analytics`], [`cache`], [`health`], [`ingest`], [`training`], and the
//! model domains [`categorization`] and [`forecasting`], whose fitters [`fitters`] registers
//! with the job runtime); [`anomaly`] holds the explainable anomaly detectors and their actor.
//! [`jobs`] says what a background job is (its kind and status) and [`events`] carries job
//! progress to every subscriber of every process; [`error`] holds the failures every domain
//! shares, [`artefact`] the stored form of fitted models, [`pagination`] the keyset cursor the
//! list endpoints share, [`redis_pool`] the per-thread Redis pools, [`text`] the limits and
//! checks of every text field stored and [`category_source`] the metric label of what decided a
//! stored category.
//!
//! # Adding a domain
//!
//! A domain (say `budgets`) is one directory and a handful of one-line hooks:
//!
//! 1. **Module**: `actors/src/budgets/` with `mod.rs` (its `//!` doc says what the domain holds),
//!    pure logic in files named for what they hold (unit tests beside them, or in
//!    `file/tests.rs` when long), the SQL in `store.rs`, and its error enum in `mod.rs`: a
//!    `Core(CoreError)` variant plus what only this domain can fail with, and
//!    `core_error!(BudgetsError)` for the conversions. No file of the domain may `use` a file
//!    that uses it back (`cargo test --test layout` fails on a cycle).
//! 2. **Actor**: `service.rs` with a `scale_supervision::Service` holding the domain's state and
//!    one `Handles<M>` per message; CPU-heavy work goes to `spawn_blocking`, never the arbiter.
//! 3. **Background work** (if any): a `training::fitting::Fitter` in `budgets/fitter.rs`, a
//!    `JobKind` variant in [`jobs`] and one line in [`fitters::registered`].
//! 4. **Wiring**: a field on `scale_http::AppState` and one spawn in `AppState::wire`
//!    (`http/src/state.rs`), which both `src/serve.rs` and the tests' `TestApp` use.
//! 5. **Routes**: `http/src/routes/budgets.rs`, registered in `routes::configure`; a rate-limit
//!    tier if it is not `default`.
//! 6. **Errors**: one `From<BudgetsError> for ApiError` in `http/src/problem/mapping.rs`; a
//!    new problem `code` is a line in `http/src/problem/codes.rs` and a row in `docs/api.md`.
//! 7. **Cache keys**: cached answers take their key from `cache::keys` and are invalidated by
//!    bumping the user's data version (`cache::invalidations`) whenever the domain writes.
//! 8. **Tests**: unit tests beside the pure code; integration tests in `actors/tests/it/` and
//!    `http/tests/it/` through `TestApp::new(&db)`, each with its own database and Redis key
//!    prefix, including a cross-user test and hostile input for every new route.
//! 9. **Docs**: a row in the README's Layout (the layout test checks it) and the routes in
//!    `docs/api.md`.

pub mod accounts;
pub mod analytics;
pub mod anomaly;
pub mod artefact;
pub mod cache;
pub mod categorization;
pub mod category_source;
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

//! End-to-end tests, one binary running the real `scale` binary against real Postgres and Redis:
//! the HTTP service and CLI ([`e2e`]), the chaos monkey ([`e2e_chaos`]), training jobs across several processes
//! ([`e2e_training`]), the forecast a worker's job refreshes ([`e2e_forecast`]), metrics
//! scraped by a real Prometheus ([`e2e_metrics`]), the ops dashboard in headless Chromium and
//! Firefox ([`e2e_ops`], over [`browser`], whose Firefox speaks WebDriver BiDi: [`firefox`]),
//! Sentry reports received by a fake Sentry ([`e2e_sentry`]), the SRE scenario suite
//! ([`e2e_sre`]), backups restored and compared table by table ([`e2e_backup`]) and the demo
//! seed ([`e2e_seed`]), on the shared server harness ([`common`]).

mod browser;
mod common;
mod e2e;
mod e2e_backup;
mod e2e_chaos;
mod e2e_forecast;
mod e2e_learning;
mod e2e_metrics;
mod e2e_ops;
mod e2e_seed;
mod e2e_sentry;
mod e2e_sre;
mod e2e_training;
mod firefox;

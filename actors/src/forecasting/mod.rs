//! Forecasting: the per-user spending forecast. [`daily_series`] turns the ledger into usable
//! flows and a hole-free daily series, [`recurring`] finds the recurring debits, [`ets`] fits
//! the weekly exponential smoothing, [`model`] fits and simulates the stored forecast model,
//! [`safe_to_spend`] answers how much can be spent (v2 with its explanation, v1 in compat mode),
//! [`backtest`] checks accuracy and stability on rolling origins and [`fitter`] runs the whole
//! fit as a training job; [`evaluation`] backtests seeded [`synthetic`] users against the ship
//! gate; [`stats`] holds the descriptive statistics they share. The forecasting actor
//! ([`service`]) serves forecasts and safe-to-spend from the user's current stored model
//! ([`store`] decides what is current) or one fitted on request, as the routes'
//! [`answer`]s.

pub mod answer;
pub mod backtest;
pub mod daily_series;
pub mod ets;
pub mod evaluation;
pub mod fitter;
pub mod model;
pub mod recurring;
pub mod safe_to_spend;
pub mod service;
pub mod stats;
pub mod store;
pub mod synthetic;

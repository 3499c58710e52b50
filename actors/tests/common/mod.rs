//! Shared fixtures for the integration tests (`mod common;`).

pub mod workbooks;

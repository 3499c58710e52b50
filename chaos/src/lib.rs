//! Fault injection for SCALE: [`FaultProxy`] sits between the service and a dependency
//! (Postgres, Redis) so tests can cut or stall the connection. (Making a supervised actor panic
//! is a supervision control message: `scale_supervision::Crash`.)

mod proxy;

pub use proxy::{FaultMode, FaultProxy};

//! Fault injection for SCALE. [`Crash`] makes a supervised actor panic inside a handler (every
//! supervised actor accepts it); [`FaultProxy`] sits between the service and a dependency
//! (Postgres, Redis) so tests can cut or stall the connection.

mod proxy;

pub use proxy::{FaultMode, FaultProxy};

/// Asks a supervised actor to panic inside its message handler, to exercise supervision.
#[derive(Debug, Clone)]
pub struct Crash {
    /// Text carried by the panic, reported as the actor's last error.
    pub reason: String,
}

impl Crash {
    /// A crash request with the given panic text.
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

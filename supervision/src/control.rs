//! The control messages every supervised actor accepts, whatever its service: a ping that
//! proves the mailbox is alive, a [`Crash`] that exercises supervision and a hold that keeps the
//! actor busy while its mailbox fills (ops, chaos and tests).

use std::time::Duration;

use actix::Message;

use crate::error::ActorError;

/// Operations every supervised actor accepts, whatever its service (used by ops and tests).
#[derive(Debug, Clone)]
pub enum Control {
    /// Answers with the actor's restart count: proves the mailbox is alive.
    Ping,
    /// Panics inside the handler (chaos hook).
    Crash(Crash),
    /// Answers at once, then takes no message for this long, so its mailbox fills (chaos hook;
    /// the thread is not blocked, other actors run on).
    Hold(Duration),
}

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

/// The answer to [`Control::Ping`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlReply {
    /// Restarts so far.
    pub restarts: u64,
}

impl Message for Control {
    type Result = Result<ControlReply, ActorError>;
}

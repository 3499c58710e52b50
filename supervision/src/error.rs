//! Why a request to a supervised actor got no answer.

use std::time::Duration;

use actix::MailboxError;

/// Why a request to a supervised actor got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActorError {
    /// The handler panicked; the actor was restarted.
    #[error("actor `{actor}` panicked: {reason}")]
    Panicked {
        /// The actor's registry name.
        actor: &'static str,
        /// The panic message.
        reason: String,
    },
    /// The actor exceeded its restart intensity and no longer takes work.
    #[error("actor `{actor}` exceeded its restart limit and was escalated")]
    Escalated {
        /// The actor's registry name.
        actor: &'static str,
    },
    /// No answer within the call timeout.
    #[error("actor `{actor}` did not answer within {ms} ms")]
    Timeout {
        /// The actor's registry name.
        actor: &'static str,
        /// The timeout that elapsed.
        ms: u128,
    },
    /// The actor's mailbox is closed.
    #[error("actor `{actor}` is unavailable")]
    Unavailable {
        /// The actor's registry name.
        actor: &'static str,
    },
}

impl ActorError {
    pub(crate) fn from_mailbox(actor: &'static str, err: MailboxError, timeout: Duration) -> Self {
        match err {
            MailboxError::Timeout => ActorError::Timeout {
                actor,
                ms: timeout.as_millis(),
            },
            MailboxError::Closed => ActorError::Unavailable { actor },
        }
    }
}

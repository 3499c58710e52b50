//! What a rate limit is: at most so many requests in a sliding window.

use std::time::Duration;

/// A limit: at most `max` requests in any `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Requests allowed per window.
    pub max: u32,
    /// The window's length.
    pub window: Duration,
}

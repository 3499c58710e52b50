//! What the parser decided that the user should know: a convention inferred from conflicting
//! evidence, a repaired row, a cut description. Warnings never stop a parse; they travel with
//! its result to the client.

use serde::Serialize;

/// One thing the parser wants the user to check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// Stable snake_case kind, for clients to branch on.
    pub code: &'static str,
    /// What was decided and why, for people.
    pub message: String,
}

impl Warning {
    /// A warning of kind `code`.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

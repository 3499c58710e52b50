//! Stored models: JSON artefacts tagged with their format string, checked on load.

use serde::{de::DeserializeOwned, Serialize};

/// Why a stored artefact cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ArtefactError {
    /// The bytes are not a model of this format (corrupt, or another format).
    #[error("not a {expected} artefact: {reason}")]
    Invalid {
        /// The format the reader expected.
        expected: &'static str,
        /// What went wrong.
        reason: String,
    },
}

impl ArtefactError {
    /// An artefact that is not a valid `expected` model.
    pub fn invalid(expected: &'static str, reason: impl std::fmt::Display) -> Self {
        Self::Invalid {
            expected,
            reason: reason.to_string(),
        }
    }
}

/// A model stored as a JSON artefact.
pub trait JsonArtefact: Serialize + DeserializeOwned {
    /// The artefact's format string, e.g. `categorizer-prototypes-v1+json`.
    const FORMAT: &'static str;

    /// The format string the value carries.
    fn format(&self) -> &str;

    /// Checks what serde cannot (header fields, invariants).
    fn validate(&self) -> Result<(), String>;

    /// Serialises the model.
    fn to_artefact(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("models serialise to JSON")
    }

    /// Reads a model written by [`JsonArtefact::to_artefact`].
    fn from_artefact(bytes: &[u8]) -> Result<Self, ArtefactError> {
        let model: Self =
            serde_json::from_slice(bytes).map_err(|e| ArtefactError::invalid(Self::FORMAT, e))?;
        if model.format() != Self::FORMAT {
            return Err(ArtefactError::invalid(
                Self::FORMAT,
                format!("format is {:?}", model.format()),
            ));
        }
        model
            .validate()
            .map_err(|e| ArtefactError::invalid(Self::FORMAT, e))?;
        Ok(model)
    }
}

//! The global categorizer that ships with the binary (categorization spec §4.7): multinomial
//! logistic regression over the hashed text features of [`features`] plus the
//! [`signals`](super::signals) of the raw narration and its amount, with a calibrated softmax
//! temperature. It is stored as `data/categorization/global.bin`, embedded with
//! `include_bytes!` and decoded once.
//!
//! File format: the magic `SCALECG1`, the header length (u32 LE), the JSON [`Header`]
//! (`{format, version, labels, dim, ngram, seed, temperature, …}`), then per label its bias
//! (f32 LE) and weight scale (f32 LE), then the weights quantised to i8, feature-major
//! (`dim × labels`): weight = scale × q.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use super::features::{self, bucket, SparseVector, DIM, FEATURES_VERSION, HASH_SEED, NGRAM};
use super::logistic::{softmax, Weights};
use super::signals::{Signals, SIGNALS_VERSION};

/// The file's magic bytes.
const MAGIC: &[u8; 8] = b"SCALECG1";
/// The value of the `format` header field.
pub const FORMAT: &str = "scale-categorizer-global";
/// Version of the model file layout and of how inputs become features.
pub const MODEL_VERSION: u32 = 1;
/// Weight of each signal feature next to the unit-norm text features.
pub const SIGNAL_WEIGHT: f32 = 0.35;
/// The shipped model.
const SHIPPED: &[u8] = include_bytes!("../../data/categorization/global.bin");

static SHIPPED_MODEL: LazyLock<GlobalModel> = LazyLock::new(|| {
    GlobalModel::from_bytes(SHIPPED).expect("the shipped global.bin is a valid model")
});

/// The model header, stored as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`MODEL_VERSION`].
    pub version: u32,
    /// The labels, in weight order.
    pub labels: Vec<String>,
    /// Hash buckets ([`DIM`]).
    pub dim: u32,
    /// Character n-gram lengths ([`NGRAM`]).
    pub ngram: [usize; 2],
    /// The feature hash seed ([`HASH_SEED`]).
    pub seed: u64,
    /// [`FEATURES_VERSION`] of the text features.
    pub features_version: u32,
    /// [`SIGNALS_VERSION`] of the signal features.
    pub signals_version: u32,
    /// [`SIGNAL_WEIGHT`].
    pub signal_weight: f32,
    /// Softmax temperature, calibrated on the holdout.
    pub temperature: f64,
    /// How the weights are stored.
    pub quantisation: String,
    /// How the model was trained and how it scored (hyper-parameters, corpus, holdout).
    pub training: serde_json::Value,
}

/// Why a model file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("global categorizer model: {0}")]
pub struct ModelError(String);

/// A narration prepared for the rules, the guardrails and the model.
#[derive(Debug, Clone, PartialEq)]
pub struct Narration {
    /// The v2-cleaned, lowercased text.
    pub cleaned: String,
    /// What the raw narration says beyond the cleaned words.
    pub signals: Signals,
}

impl Narration {
    /// Cleans a raw narration and reads its signals.
    pub fn new(description: &str) -> Self {
        let cleaned = features::clean(description);
        let signals = Signals::of(description, &cleaned);
        Self { cleaned, signals }
    }

    /// The model's input: the text features (unit norm) plus the signal features of the
    /// narration and its signed amount, each [`SIGNAL_WEIGHT`], hashed into the same buckets.
    pub fn features(&self, amount: Option<f64>) -> SparseVector {
        let text = features::vectorize(&self.cleaned);
        let mut entries: Vec<(u32, f32)> = text.indices.into_iter().zip(text.values).collect();
        for feature in self.signals.features(amount) {
            let (index, sign) = bucket(format!("m{feature}").as_bytes());
            entries.push((index, sign as f32 * SIGNAL_WEIGHT));
        }
        entries.sort_by_key(|&(index, _)| index);
        let mut vector = SparseVector::default();
        for (index, value) in entries {
            if vector.indices.last() == Some(&index) {
                *vector.values.last_mut().expect("a value per index") += value;
            } else {
                vector.indices.push(index);
                vector.values.push(value);
            }
        }
        vector
    }
}

/// The model's input for a raw narration and its signed amount.
pub fn features_of(description: &str, amount: Option<f64>) -> SparseVector {
    Narration::new(description).features(amount)
}

/// The global model: quantised weights and their header.
#[derive(Debug, Clone, PartialEq)]
pub struct GlobalModel {
    header: Header,
    bias: Vec<f32>,
    scales: Vec<f32>,
    weights: Vec<i8>,
}

impl GlobalModel {
    /// Quantises fitted weights (one scale per label) under `header`.
    pub fn quantise(fitted: &Weights, header: Header) -> Self {
        let labels = fitted.labels;
        let scales: Vec<f32> = (0..labels)
            .map(|c| {
                let top = fitted
                    .weights
                    .iter()
                    .skip(c)
                    .step_by(labels)
                    .fold(0.0f32, |m, w| m.max(w.abs()));
                if top > 0.0 {
                    top / 127.0
                } else {
                    1.0
                }
            })
            .collect();
        let weights = fitted
            .weights
            .iter()
            .enumerate()
            .map(|(i, w)| (w / scales[i % labels]).round().clamp(-127.0, 127.0) as i8)
            .collect();
        Self {
            header,
            bias: fitted.bias.clone(),
            scales,
            weights,
        }
    }

    /// The model shipped with the binary, decoded once.
    pub fn shipped() -> &'static GlobalModel {
        &SHIPPED_MODEL
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Replaces the softmax temperature.
    pub fn set_temperature(&mut self, temperature: f64) {
        self.header.temperature = temperature;
    }

    /// Replaces the training record of the header.
    pub fn set_training(&mut self, training: serde_json::Value) {
        self.header.training = training;
    }

    /// The labels, in score order.
    pub fn labels(&self) -> &[String] {
        &self.header.labels
    }

    /// The raw (untempered) scores of a feature vector, one per label.
    pub fn logits(&self, x: &SparseVector) -> Vec<f32> {
        let labels = self.bias.len();
        let mut sums = vec![0.0f32; labels];
        for (&i, &v) in x.indices.iter().zip(&x.values) {
            let row = &self.weights[i as usize * labels..][..labels];
            for (sum, &q) in sums.iter_mut().zip(row) {
                *sum += v * f32::from(q);
            }
        }
        sums.iter()
            .zip(&self.scales)
            .zip(&self.bias)
            .map(|((sum, scale), bias)| bias + scale * sum)
            .collect()
    }

    /// The calibrated probability of each label.
    pub fn probabilities(&self, x: &SparseVector) -> Vec<f64> {
        softmax(&self.logits(x), self.header.temperature)
    }

    /// The file bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let header = serde_json::to_vec(&self.header).expect("the header serialises");
        let mut bytes =
            Vec::with_capacity(12 + header.len() + 8 * self.bias.len() + self.weights.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&(header.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&header);
        for (bias, scale) in self.bias.iter().zip(&self.scales) {
            bytes.extend_from_slice(&bias.to_le_bytes());
            bytes.extend_from_slice(&scale.to_le_bytes());
        }
        bytes.extend(self.weights.iter().map(|&q| q as u8));
        bytes
    }

    /// Decodes and checks a model file against the features this code computes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        let error = |message: &str| ModelError(message.to_owned());
        let rest = bytes
            .strip_prefix(MAGIC)
            .ok_or_else(|| error("bad magic"))?;
        let (length, rest) = rest
            .split_first_chunk::<4>()
            .ok_or_else(|| error("truncated"))?;
        let length = u32::from_le_bytes(*length) as usize;
        if rest.len() < length {
            return Err(error("truncated header"));
        }
        let (header, rest) = rest.split_at(length);
        let header: Header =
            serde_json::from_slice(header).map_err(|e| ModelError(format!("header: {e}")))?;
        let expected = (
            FORMAT,
            MODEL_VERSION,
            DIM,
            NGRAM,
            HASH_SEED,
            FEATURES_VERSION,
            SIGNALS_VERSION,
        );
        let found = (
            header.format.as_str(),
            header.version,
            header.dim,
            header.ngram,
            header.seed,
            header.features_version,
            header.signals_version,
        );
        if found != expected || header.signal_weight != SIGNAL_WEIGHT {
            return Err(error("built for other features; retrain"));
        }
        let labels = header.labels.len();
        let temperature_ok = header.temperature.is_finite() && header.temperature > 0.0;
        if labels == 0 || !temperature_ok {
            return Err(error("no labels or a bad temperature"));
        }
        let weights_len = DIM as usize * labels;
        if rest.len() != 8 * labels + weights_len {
            return Err(error("the weights do not match the header"));
        }
        let (floats, weights) = rest.split_at(8 * labels);
        let float = |chunk: &[u8]| f32::from_le_bytes(chunk.try_into().expect("4 bytes"));
        let bias = floats.chunks_exact(8).map(|c| float(&c[..4])).collect();
        let scales = floats.chunks_exact(8).map(|c| float(&c[4..])).collect();
        Ok(Self {
            header,
            bias,
            scales,
            weights: weights.iter().map(|&b| b as i8).collect(),
        })
    }
}

/// A header for the current feature extraction.
pub fn header(labels: &[&str], training: serde_json::Value) -> Header {
    Header {
        format: FORMAT.to_owned(),
        version: MODEL_VERSION,
        labels: labels.iter().map(|&l| l.to_owned()).collect(),
        dim: DIM,
        ngram: NGRAM,
        seed: HASH_SEED,
        features_version: FEATURES_VERSION,
        signals_version: SIGNALS_VERSION,
        signal_weight: SIGNAL_WEIGHT,
        temperature: 1.0,
        quantisation: "i8, one f32 scale per label".to_owned(),
        training,
    }
}

#[cfg(test)]
mod tests;

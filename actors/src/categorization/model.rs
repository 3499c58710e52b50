//! The per-user categorizer (categorization spec §4.7 "no-training alternative" + per-user
//! layer): one L2-normalised sparse prototype per label (the weighted mean of its examples'
//! [`features`]), scored by `softmax(cos(x, μ_c) / 0.05)`.
//!
//! Labels (§1.3): `Uncategorized` and empty labels are skipped; the 11 canonical labels match
//! case-insensitively; other user labels are kept verbatim, except that an alias label
//! (`Grocery→Food`, `Subscriptions→Entertainment`, `Healthcare→Health`, `Income→Salary`) with
//! fewer than [`MIN_CORRECTIONS`] corrections is learned under its parent. A user label without a
//! parent is learned as soon as it has an example (there is nothing to fall back to).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::features::{self, featurize, SparseVector, DIM, FEATURES_VERSION, HASH_SEED, NGRAM};
use crate::artefact::JsonArtefact;
use crate::training::fitting::{
    JobControl, LabelSource, LabelledExample, TrainError, TrainingOutput,
};

/// The canonical labels (§1.1).
pub const CANONICAL_LABELS: [&str; 11] = [
    "Food",
    "Transport",
    "Utilities",
    "Salary",
    "Shopping",
    "Entertainment",
    "Health",
    "Education",
    "Finance",
    "People",
    "Misc",
];
/// Alias labels and their canonical parents (§1.3), matched case-insensitively.
pub const ALIASES: [(&str, &str); 4] = [
    ("Grocery", "Food"),
    ("Subscriptions", "Entertainment"),
    ("Healthcare", "Health"),
    ("Income", "Salary"),
];
/// The label `text` names (a canonical label or an alias, case-insensitively), in its own
/// spelling; `None` for anything else (`Uncategorized` included).
pub fn known_label(text: &str) -> Option<&'static str> {
    let text = text.trim();
    CANONICAL_LABELS
        .into_iter()
        .chain(ALIASES.into_iter().map(|(alias, _)| alias))
        .find(|label| label.eq_ignore_ascii_case(text))
}

/// Corrections an alias label needs before it is learned as itself.
pub const MIN_CORRECTIONS: usize = 3;
/// Weight of a correction in its prototype (a labelled row weighs 1).
pub const CORRECTION_WEIGHT: f64 = 3.0;
/// Softmax temperature over cosines (§4.7).
pub const TEMPERATURE: f64 = 0.05;
/// Examples between two cancellation checks.
const CHECK_EVERY: usize = 1024;
/// Examples needed before a holdout accuracy is measured.
const MIN_HOLDOUT_EXAMPLES: usize = 10;

/// One label's prototype.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prototype {
    /// The label as the user wrote it (canonical spelling for the 11 labels).
    pub label: String,
    /// Examples behind it.
    pub examples: u32,
    /// How many of them are corrections.
    pub corrections: u32,
    /// The normalised weighted mean of the examples' features.
    pub vector: SparseVector,
}

/// A fitted per-user categorizer; the header fields pin the feature extraction it was built with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategorizerModel {
    /// Always [`CategorizerModel::FORMAT`].
    pub format: String,
    /// [`FEATURES_VERSION`] at fit time.
    pub version: u32,
    /// Hash buckets.
    pub dim: u32,
    /// Character n-gram lengths.
    pub ngram: [usize; 2],
    /// The feature hash seed.
    pub seed: u64,
    /// Softmax temperature.
    pub temperature: f64,
    /// The labels, in prototype order.
    pub labels: Vec<String>,
    /// One prototype per label.
    pub prototypes: Vec<Prototype>,
}

impl JsonArtefact for CategorizerModel {
    const FORMAT: &'static str = "categorizer-prototypes-v1+json";

    fn format(&self) -> &str {
        &self.format
    }

    fn validate(&self) -> Result<(), String> {
        if (self.version, self.dim, self.ngram, self.seed)
            != (FEATURES_VERSION, DIM, NGRAM, HASH_SEED)
        {
            return Err("built with other features; refit".into());
        }
        let names: Vec<&str> = self.prototypes.iter().map(|p| p.label.as_str()).collect();
        if names != self.labels || !self.prototypes.iter().all(|p| p.vector.is_well_formed()) {
            return Err("inconsistent prototypes".into());
        }
        Ok(())
    }
}

/// The most likely label of a transaction and its softmax probability, or `None` when the text
/// has no features or the model no labels. Ties go to the earlier label.
pub fn predict<'m>(
    model: &'m CategorizerModel,
    description: &str,
    merchant: &str,
) -> Option<(&'m str, f64)> {
    classify(model, &featurize(description, merchant))
}

/// [`predict`] for a feature vector.
fn classify<'m>(model: &'m CategorizerModel, x: &SparseVector) -> Option<(&'m str, f64)> {
    if x.is_empty() {
        return None;
    }
    let scores: Vec<f64> = model
        .prototypes
        .iter()
        .map(|p| x.dot(&p.vector) / model.temperature)
        .collect();
    let (best, top) =
        scores
            .iter()
            .enumerate()
            .fold(None, |best: Option<(usize, f64)>, (i, &s)| match best {
                Some((_, top)) if top >= s => best,
                _ => Some((i, s)),
            })?;
    let total: f64 = scores.iter().map(|s| (s - top).exp()).sum();
    Some((model.prototypes[best].label.as_str(), 1.0 / total))
}

/// A usable example: its features, resolved label and split key.
struct Example {
    vector: SparseVector,
    label: String,
    correction: bool,
    split_key: u64,
}

/// The canonical spelling of `label` when it is one of the 11 labels.
fn canonical(label: &str) -> Option<&'static str> {
    CANONICAL_LABELS
        .into_iter()
        .find(|c| c.eq_ignore_ascii_case(label))
}

/// The parent of an alias label.
fn alias_parent(label: &str) -> Option<&'static str> {
    ALIASES
        .into_iter()
        .find(|(alias, _)| alias.eq_ignore_ascii_case(label))
        .map(|(_, parent)| parent)
}

/// Whether a label teaches nothing (`Uncategorized` or blank).
fn is_unlabelled(label: &str) -> bool {
    label.is_empty() || label.eq_ignore_ascii_case("uncategorized")
}

/// Maps each verbatim label to the label it is learned under (§1.3).
fn resolve_labels(examples: &[LabelledExample]) -> BTreeMap<String, String> {
    let mut corrections: BTreeMap<String, usize> = BTreeMap::new();
    let mut spelling: BTreeMap<String, String> = BTreeMap::new();
    for example in examples {
        let label = example.category.trim();
        if is_unlabelled(label) {
            continue;
        }
        let key = label.to_lowercase();
        spelling
            .entry(key.clone())
            .or_insert_with(|| label.to_owned());
        if example.source == LabelSource::Correction {
            *corrections.entry(key).or_default() += 1;
        }
    }
    let mut resolved = BTreeMap::new();
    for example in examples {
        let label = example.category.trim();
        if is_unlabelled(label) || resolved.contains_key(label) {
            continue;
        }
        let key = label.to_lowercase();
        let learned = match (canonical(label), alias_parent(label)) {
            (Some(name), _) => name.to_owned(),
            (None, Some(parent))
                if corrections.get(&key).copied().unwrap_or(0) < MIN_CORRECTIONS =>
            {
                parent.to_owned()
            }
            _ => spelling[&key].clone(),
        };
        resolved.insert(label.to_owned(), learned);
    }
    resolved
}

/// Fits one prototype per label from `examples`.
fn fit(examples: &[&Example], control: &dyn JobControl) -> Result<CategorizerModel, TrainError> {
    #[derive(Default)]
    struct Sum {
        weights: BTreeMap<u32, f64>,
        examples: u32,
        corrections: u32,
    }
    let mut sums: BTreeMap<&str, Sum> = BTreeMap::new();
    for (i, example) in examples.iter().enumerate() {
        if i % CHECK_EVERY == 0 {
            control.check()?;
        }
        let sum = sums.entry(&example.label).or_default();
        let weight = if example.correction {
            sum.corrections += 1;
            CORRECTION_WEIGHT
        } else {
            1.0
        };
        sum.examples += 1;
        example.vector.add_to(&mut sum.weights, weight);
    }
    let prototypes: Vec<Prototype> = sums
        .into_iter()
        .map(|(label, sum)| Prototype {
            label: label.to_owned(),
            examples: sum.examples,
            corrections: sum.corrections,
            vector: SparseVector::normalized(&sum.weights),
        })
        .collect();
    Ok(CategorizerModel {
        format: CategorizerModel::FORMAT.to_owned(),
        version: FEATURES_VERSION,
        dim: DIM,
        ngram: NGRAM,
        seed: HASH_SEED,
        temperature: TEMPERATURE,
        labels: prototypes.iter().map(|p| p.label.clone()).collect(),
        prototypes,
    })
}

/// The holdout: the ⌈n/10⌉ examples with the smallest split keys (a hash of their text, so the
/// split is deterministic and independent of input order).
fn split(examples: &[Example]) -> (Vec<&Example>, Vec<&Example>) {
    let mut order: Vec<&Example> = examples.iter().collect();
    order.sort_by_key(|e| e.split_key);
    let holdout = order.len().div_ceil(10);
    let train = order.split_off(holdout);
    (train, order)
}

/// Holdout figures.
#[derive(Debug, Clone, Copy)]
struct Holdout {
    size: usize,
    /// Share of holdout examples the model fitted on the rest labels right.
    accuracy: f64,
    /// The same for always answering the most frequent training label (the baseline).
    majority_accuracy: f64,
}

/// Fits on ~90% of `examples` and scores the held-out rest.
fn evaluate(examples: &[Example], control: &dyn JobControl) -> Result<Holdout, TrainError> {
    let (train_part, holdout) = split(examples);
    let model = fit(&train_part, control)?;
    let majority = model
        .prototypes
        .iter()
        .max_by_key(|p| p.examples)
        .map(|p| p.label.as_str());
    let share = |hits: usize| (hits as f64 / holdout.len() as f64 * 1e4).round() / 1e4;
    let hits = holdout
        .iter()
        .filter(|e| classify(&model, &e.vector).map(|(label, _)| label) == Some(e.label.as_str()))
        .count();
    let majority_hits = holdout
        .iter()
        .filter(|e| majority == Some(e.label.as_str()))
        .count();
    Ok(Holdout {
        size: holdout.len(),
        accuracy: share(hits),
        majority_accuracy: share(majority_hits),
    })
}

/// Fits the per-user categorizer from `examples`.
pub fn train(
    examples: &[LabelledExample],
    control: &mut dyn JobControl,
) -> Result<TrainingOutput, TrainError> {
    const STEPS: u32 = 4;
    let resolved = resolve_labels(examples);
    let mut usable = Vec::new();
    let mut skipped = 0usize;
    for (i, example) in examples.iter().enumerate() {
        if i % CHECK_EVERY == 0 {
            control.check()?;
        }
        let Some(label) = resolved.get(example.category.trim()) else {
            skipped += 1;
            continue;
        };
        let text = features::transaction_text(&example.description, &example.merchant);
        let vector = features::vectorize(&text);
        if vector.is_empty() {
            skipped += 1;
            continue;
        }
        usable.push(Example {
            vector,
            label: label.clone(),
            correction: example.source == LabelSource::Correction,
            split_key: features::feature_hash(text.as_bytes()),
        });
    }
    if usable.is_empty() {
        return rules_and_global_only(skipped, control);
    }
    control.step(1, STEPS, "features extracted")?;

    let holdout = if usable.len() >= MIN_HOLDOUT_EXAMPLES {
        Some(evaluate(&usable, control)?)
    } else {
        None
    };
    control.step(2, STEPS, "holdout evaluated")?;

    let all: Vec<&Example> = usable.iter().collect();
    let model = fit(&all, control)?;
    control.step(3, STEPS, "prototypes fitted")?;

    let folded: BTreeMap<&str, &str> = resolved
        .iter()
        .filter(|(from, to)| !from.eq_ignore_ascii_case(to))
        .map(|(from, to)| (from.as_str(), to.as_str()))
        .collect();
    let metrics = serde_json::json!({
        "model": "prototypes_v1",
        "examples": usable.len(),
        "corrections": usable.iter().filter(|e| e.correction).count(),
        "skipped": skipped,
        "labels": model.prototypes.len(),
        "label_counts": model.prototypes.iter()
            .map(|p| (p.label.clone(), p.examples))
            .collect::<BTreeMap<_, _>>(),
        "learned_under_parent": folded,
        "holdout_size": holdout.map_or(0, |h| h.size),
        "holdout_accuracy": holdout.map(|h| h.accuracy),
        "holdout_majority_accuracy": holdout.map(|h| h.majority_accuracy),
        "features": { "version": FEATURES_VERSION, "dim": DIM, "ngram": NGRAM },
    });
    let output = TrainingOutput {
        metrics,
        artefact: model.to_artefact(),
        format: CategorizerModel::FORMAT,
    };
    control.step(4, STEPS, "model serialised")?;
    Ok(output)
}

/// The outcome for a user with nothing to learn from (a new user, or rows no rule or person
/// labelled): an empty model, so the shipped rules and global model serve alone, with metrics
/// saying so.
fn rules_and_global_only(
    skipped: usize,
    control: &mut dyn JobControl,
) -> Result<TrainingOutput, TrainError> {
    let model = fit(&[], control)?;
    let metrics = serde_json::json!({
        "model": "rules+global",
        "examples": 0,
        "corrections": 0,
        "skipped": skipped,
        "labels": 0,
        "note": "no corrections or trusted labelled rows yet: the shipped rules and global model categorise alone",
        "features": { "version": FEATURES_VERSION, "dim": DIM, "ngram": NGRAM },
    });
    control.step(1, 1, "nothing to learn yet: rules and global model")?;
    Ok(TrainingOutput {
        metrics,
        artefact: model.to_artefact(),
        format: CategorizerModel::FORMAT,
    })
}

#[cfg(test)]
mod tests;

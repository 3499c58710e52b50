//! The resolution order of categorization spec §4.7 as a pure function: the user's override
//! (by normalised key) → rules v2 → the global model with its calibrated confidence (≥ 0.50
//! accept, 0.30–0.50 accept for review, below that `Uncategorized` from the `fallback`) → the
//! guardrails (Salary, People). Batches are deduplicated by normalised key and amount class, and
//! the model is asked once per distinct narration.

use std::collections::HashMap;

use serde::Serialize;

use super::global::{GlobalModel, Narration};
use super::guardrail;
use super::normalize::normalize_description;
use super::rules::{matching_view, RuleTable};
use super::signals::amount_features;

/// Model confidence at or above which a label is accepted as it is.
pub const ACCEPT: f64 = 0.50;
/// Model confidence at or above which a label is accepted for review; below it the answer is
/// [`UNCATEGORIZED`].
pub const REVIEW: f64 = 0.30;
/// The sentinel of "no category" (§1.1).
pub const UNCATEGORIZED: &str = "Uncategorized";
/// Fewest distinct narrations worth a thread of their own in a batch.
pub const MIN_PER_THREAD: usize = 256;
/// The label a guardrail falls back to when nothing else is left.
const LAST_RESORT: &str = "Misc";

/// What decided a category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The user's own correction.
    User,
    /// A rule of the table.
    Rule,
    /// The global model.
    Model,
    /// Nothing was confident enough: `Uncategorized`.
    Fallback,
}

impl Source {
    /// The stored name (`rule`, `model`, `user`, `fallback`).
    pub fn as_str(self) -> &'static str {
        match self {
            Source::User => "user",
            Source::Rule => "rule",
            Source::Model => "model",
            Source::Fallback => "fallback",
        }
    }
}

/// The category of one narration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classification {
    /// A label, or [`UNCATEGORIZED`].
    pub category: String,
    /// 1.0 for users and rules, the calibrated probability for the model.
    pub confidence: f64,
    /// What decided it.
    pub source: Source,
    /// Whether a person should look at it.
    pub needs_review: bool,
    /// The v2-cleaned text.
    pub cleaned: String,
}

/// The per-user layer's hook: a category the user chose for a narration, and how far the
/// user's examples lift each label for it.
pub trait Overrides: Sync {
    /// The user's category for the narration with this [`normalize_description`] key.
    fn category(&self, key: &str, description: &str) -> Option<String>;

    /// What to add to each label's log-probability under the global model (labels the model
    /// does not know start from the mean); nothing by default.
    fn boosts(&self, _description: &str) -> Vec<(String, f64)> {
        Vec::new()
    }
}

/// No user data.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoOverrides;

impl Overrides for NoOverrides {
    fn category(&self, _: &str, _: &str) -> Option<String> {
        None
    }
}

/// Corrections keyed by normalised description.
impl Overrides for HashMap<String, String> {
    fn category(&self, key: &str, _: &str) -> Option<String> {
        self.get(key).cloned()
    }
}

/// The rules and the global model, applied in order.
#[derive(Debug, Clone, Copy)]
pub struct Classifier<'a> {
    rules: &'a RuleTable,
    model: &'a GlobalModel,
}

impl Classifier<'static> {
    /// The shipped rules and model.
    pub fn shipped() -> Self {
        Self::new(RuleTable::shipped(), GlobalModel::shipped())
    }
}

impl<'a> Classifier<'a> {
    /// A classifier over these rules and this model.
    pub fn new(rules: &'a RuleTable, model: &'a GlobalModel) -> Self {
        Self { rules, model }
    }

    /// Classifies one narration and its signed amount (when known).
    pub fn classify(
        &self,
        description: &str,
        amount: Option<f64>,
        overrides: &dyn Overrides,
    ) -> Classification {
        self.classify_keyed(
            description,
            &normalize_description(description),
            amount,
            overrides,
        )
    }

    /// [`Classifier::classify`] of a narration whose normalised key is known.
    fn classify_keyed(
        &self,
        description: &str,
        key: &str,
        amount: Option<f64>,
        overrides: &dyn Overrides,
    ) -> Classification {
        if let Some(category) = overrides.category(key, description) {
            return Classification {
                category,
                confidence: 1.0,
                source: Source::User,
                needs_review: false,
                cleaned: super::features::clean(description),
            };
        }
        let narration = Narration::new(description);
        let allowed = |label: &str| guardrail::allows(label, &narration.signals, amount);
        let view = matching_view(description);
        if let Some(hit) = self.rules.hits(&view).into_iter().find(|hit| {
            allowed(hit.category())
                && guardrail::rule_may_decide(hit.category(), &narration.signals, amount)
        }) {
            return Classification {
                category: hit.category().to_owned(),
                confidence: 1.0,
                source: Source::Rule,
                needs_review: false,
                cleaned: narration.cleaned,
            };
        }
        // Text with no word in it (`-`, a bare number, one letter) says nothing a category could
        // rest on: the amount alone must not decide.
        if !has_word(&narration.cleaned) {
            return Classification {
                category: UNCATEGORIZED.to_owned(),
                confidence: 0.0,
                source: Source::Fallback,
                needs_review: true,
                cleaned: narration.cleaned,
            };
        }
        let probabilities = self.model.probabilities(&narration.features(amount));
        let boosts = overrides.boosts(description);
        let mut ranked: Vec<(&str, f64)> = if boosts.is_empty() {
            self.model
                .labels()
                .iter()
                .map(String::as_str)
                .zip(probabilities)
                .collect()
        } else {
            boosted(self.model.labels(), &probabilities, &boosts)
        };
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        let (top, top_p) = ranked.first().copied().unwrap_or((LAST_RESORT, 0.0));
        let cleaned = narration.cleaned.clone();
        if top_p < REVIEW {
            return Classification {
                category: UNCATEGORIZED.to_owned(),
                confidence: top_p,
                source: Source::Fallback,
                needs_review: true,
                cleaned,
            };
        }
        if allowed(top) {
            return Classification {
                category: top.to_owned(),
                confidence: top_p,
                source: Source::Model,
                needs_review: top_p < ACCEPT,
                cleaned,
            };
        }
        let (category, confidence) = ranked
            .iter()
            .copied()
            .find(|&(label, p)| p > 0.0 && allowed(label))
            .unwrap_or((LAST_RESORT, 0.0));
        Classification {
            category: category.to_owned(),
            confidence,
            source: Source::Model,
            needs_review: true,
            cleaned,
        }
    }

    /// Classifies a batch of `(description, amount)` in order, once per distinct normalised key
    /// and amount class.
    pub fn classify_batch(
        &self,
        items: &[(&str, Option<f64>)],
        overrides: &dyn Overrides,
    ) -> Vec<Classification> {
        self.classify_batch_on(items, overrides, 1)
    }

    /// [`Classifier::classify_batch`] with the distinct narrations shared among up to `threads`
    /// threads (at least [`MIN_PER_THREAD`] each); the answers are the same.
    pub fn classify_batch_on(
        &self,
        items: &[(&str, Option<f64>)],
        overrides: &dyn Overrides,
        threads: usize,
    ) -> Vec<Classification> {
        let mut seen: HashMap<(String, Vec<String>), usize> = HashMap::new();
        let mut distinct: Vec<(usize, String)> = Vec::new();
        let slots: Vec<usize> = items
            .iter()
            .enumerate()
            .map(|(index, &(description, amount))| {
                let key = normalize_description(description);
                let next = distinct.len();
                *seen
                    .entry((key.clone(), amount_features(amount)))
                    .or_insert_with(|| {
                        distinct.push((index, key));
                        next
                    })
            })
            .collect();
        drop(seen);
        let classify = |part: &[(usize, String)]| -> Vec<Classification> {
            part.iter()
                .map(|(index, key)| {
                    let (description, amount) = items[*index];
                    self.classify_keyed(description, key, amount, overrides)
                })
                .collect()
        };
        let share = distinct.len().div_ceil(threads.max(1)).max(MIN_PER_THREAD);
        let answers: Vec<Classification> = if share >= distinct.len() {
            classify(&distinct)
        } else {
            std::thread::scope(|scope| {
                let parts: Vec<_> = distinct
                    .chunks(share)
                    .map(|part| scope.spawn(move || classify(part)))
                    .collect();
                parts
                    .into_iter()
                    .flat_map(|part| {
                        part.join()
                            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                    })
                    .collect()
            })
        };
        slots
            .into_iter()
            .map(|slot| answers[slot].clone())
            .collect()
    }
}

/// The probabilities of the model's labels and the boosted ones after adding each boost to its
/// label's log-probability (a label the model does not know starts from their mean).
fn boosted<'a>(
    labels: &'a [String],
    probabilities: &[f64],
    boosts: &'a [(String, f64)],
) -> Vec<(&'a str, f64)> {
    let logs: Vec<f64> = probabilities.iter().map(|p| p.max(1e-12).ln()).collect();
    let prior = logs.iter().sum::<f64>() / logs.len().max(1) as f64;
    let mut logits: Vec<(&str, f64)> = labels.iter().map(String::as_str).zip(logs).collect();
    for (label, boost) in boosts {
        match logits.iter_mut().find(|(known, _)| known == label) {
            Some((_, logit)) => *logit += boost,
            None => logits.push((label, prior + boost)),
        }
    }
    let top = logits.iter().map(|l| l.1).fold(f64::NEG_INFINITY, f64::max);
    let total: f64 = logits.iter().map(|l| (l.1 - top).exp()).sum();
    logits
        .into_iter()
        .map(|(label, logit)| (label, (logit - top).exp() / total))
        .collect()
}

/// Whether `cleaned` text holds a word: two letters in a row.
fn has_word(cleaned: &str) -> bool {
    cleaned
        .as_bytes()
        .windows(2)
        .any(|pair| pair.iter().all(u8::is_ascii_alphabetic))
}

#[cfg(test)]
mod tests;

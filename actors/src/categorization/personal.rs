//! The per-user layer of categorization spec §4.7: what one user taught the classifier.
//!
//! - **Overrides:** each correction maps its description's [`normalize_description`] key, and its
//!   merchant's key, to the corrected category (the newest correction of a key wins). An exact
//!   key match answers `source: "user"` before the rules.
//! - **Prototypes:** the corrections of each label, averaged into one normalised
//!   feature vector, raise that label's score for similar texts:
//!   `logit_c = ln p_c + 10·s(x, μ_c)·n_c/(n_c + 1)`, `n_c` the label's corrections and
//!   `s = max(0, cos − 0.2)/0.8` (unrelated bank narrations share a cosine of about 0.1 through
//!   tokens like `upi`, which must lift nothing). §4.7 proposes `4·cos·n/(n+2)`; the shipped
//!   model's log-odds span about ten, so that would rarely change an answer. The user's latest
//!   trained model (prototypes over corrections and trusted labelled rows) adds
//!   `4·s(x, μ_c)·m_c/(m_c + 20)`, `m_c` its examples. A label the global model does not know
//!   (the user's own) starts from the mean of the global log-probabilities.
//!
//! Built once per user from the database and cached by the classifier actor; pure and cheap to
//! query.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

use scale_statements::merchant;

use super::features::{featurize, SparseVector};
use super::model::CategorizerModel;
use super::normalize::normalize_description;
use super::resolve::Overrides;

/// Weight of the corrections' prototypes.
pub const CORRECTION_BOOST: f64 = 10.0;
/// Weight of the trained model's prototypes.
pub const TRAINED_BOOST: f64 = 4.0;
/// Cosine below which a prototype lifts nothing.
const MIN_COSINE: f64 = 0.2;
/// Most entries a prototype keeps (its largest weights), so a layer's size is bounded whatever
/// the user taught: about 20 KB per label.
pub const MAX_PROTOTYPE_ENTRIES: usize = 2_048;
/// Shortest merchant key that may decide a category on its own.
const MIN_MERCHANT_KEY: usize = 3;

/// One correction the user made, newest first when given in a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correction {
    /// The corrected transaction's description (or the feedback text).
    pub description: String,
    /// The transaction's merchant ('' when unknown).
    pub merchant: String,
    /// The category the user chose.
    pub category: String,
}

/// A label's prototype and the weight of its boost.
#[derive(Debug, Clone)]
struct Boost {
    label: String,
    vector: SparseVector,
    weight: f64,
}

/// What one user taught the classifier.
#[derive(Debug, Clone, Default)]
pub struct PersonalLayer {
    by_key: HashMap<String, String>,
    by_merchant: HashMap<String, String>,
    boosts: Vec<Boost>,
}

impl PersonalLayer {
    /// The layer of `corrections` (newest first) and the user's latest trained model.
    pub fn new(corrections: &[Correction], trained: Option<&CategorizerModel>) -> Self {
        let mut layer = Self::default();
        let mut sums: BTreeMap<&str, (BTreeMap<u32, f64>, u32)> = BTreeMap::new();
        for correction in corrections {
            let category = correction.category.trim();
            if category.is_empty() {
                continue;
            }
            if let Entry::Vacant(slot) = layer
                .by_key
                .entry(normalize_description(&correction.description))
            {
                slot.insert(category.to_owned());
            }
            if let Some(key) = merchant_key(&correction.merchant) {
                layer
                    .by_merchant
                    .entry(key)
                    .or_insert_with(|| category.to_owned());
            }
            let (sum, count) = sums.entry(category).or_default();
            featurize(&correction.description, &correction.merchant).add_to(sum, 1.0);
            *count += 1;
        }
        for (label, (sum, count)) in sums {
            let n = f64::from(count);
            layer.push(
                label,
                SparseVector::normalized(&sum),
                CORRECTION_BOOST * n / (n + 1.0),
            );
        }
        for prototype in trained.map_or(&[][..], |model| &model.prototypes) {
            let m = f64::from(prototype.examples);
            layer.push(
                &prototype.label,
                prototype.vector.clone(),
                TRAINED_BOOST * m / (m + 20.0),
            );
        }
        layer
    }

    fn push(&mut self, label: &str, vector: SparseVector, weight: f64) {
        if !vector.is_empty() && weight > 0.0 {
            self.boosts.push(Boost {
                label: label.to_owned(),
                vector: bounded(vector),
                weight,
            });
        }
    }

    /// Whether the user taught nothing.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty() && self.by_merchant.is_empty() && self.boosts.is_empty()
    }
}

impl Overrides for PersonalLayer {
    fn category(&self, key: &str, description: &str) -> Option<String> {
        if let Some(category) = self.by_key.get(key) {
            return Some(category.clone());
        }
        if self.by_merchant.is_empty() {
            return None;
        }
        merchant_key(&merchant::extract(description).merchant)
            .and_then(|key| self.by_merchant.get(&key).cloned())
    }

    fn boosts(&self, description: &str) -> Vec<(String, f64)> {
        if self.boosts.is_empty() {
            return Vec::new();
        }
        let x = featurize(description, "");
        let mut by_label: BTreeMap<&str, f64> = BTreeMap::new();
        for boost in &self.boosts {
            let similarity = (x.dot(&boost.vector) - MIN_COSINE) / (1.0 - MIN_COSINE);
            if similarity > 0.0 {
                *by_label.entry(&boost.label).or_default() += boost.weight * similarity;
            }
        }
        by_label
            .into_iter()
            .map(|(label, boost)| (label.to_owned(), boost))
            .collect()
    }
}

/// `vector` with only its [`MAX_PROTOTYPE_ENTRIES`] largest weights, normalised again.
fn bounded(vector: SparseVector) -> SparseVector {
    if vector.indices.len() <= MAX_PROTOTYPE_ENTRIES {
        return vector;
    }
    let mut entries: Vec<(u32, f32)> = vector.indices.into_iter().zip(vector.values).collect();
    entries.sort_unstable_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    entries.truncate(MAX_PROTOTYPE_ENTRIES);
    let kept: BTreeMap<u32, f64> = entries
        .into_iter()
        .map(|(index, value)| (index, f64::from(value)))
        .collect();
    SparseVector::normalized(&kept)
}

/// The key a merchant is matched by: its normalised name, unless it names nobody.
pub fn merchant_key(merchant: &str) -> Option<String> {
    let key = normalize_description(merchant);
    (key.len() >= MIN_MERCHANT_KEY && key != "unknown").then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::categorization::resolve::{Classifier, Source};

    fn correction(description: &str, merchant: &str, category: &str) -> Correction {
        Correction {
            description: description.into(),
            merchant: merchant.into(),
            category: category.into(),
        }
    }

    #[test]
    fn a_corrected_text_is_the_users_whatever_the_rules_say() {
        let layer = PersonalLayer::new(&[correction("SWIGGY ORDER 123456", "", "Office")], None);
        let answer = Classifier::shipped().classify("swiggy  order 987654", Some(-250.0), &layer);
        assert_eq!(
            (answer.category.as_str(), answer.source),
            ("Office", Source::User)
        );
        let untouched = Classifier::shipped().classify("ZOMATO ORDER", Some(-250.0), &layer);
        assert_ne!(untouched.source, Source::User);
    }

    #[test]
    fn the_newest_correction_of_a_key_wins() {
        let layer = PersonalLayer::new(
            &[
                correction("ACME TRADERS", "", "Shopping"),
                correction("acme traders", "", "Utilities"),
            ],
            None,
        );
        assert_eq!(
            layer.category(&normalize_description("Acme Traders"), "Acme Traders"),
            Some("Shopping".into())
        );
    }

    #[test]
    fn a_merchant_correction_covers_other_narrations_of_that_merchant() {
        let layer = PersonalLayer::new(
            &[correction(
                "UPI/DR/412345678901/RAMESH KUMAR/YESB/ramesh@ybl/rent",
                "Ramesh Kumar",
                "Rent",
            )],
            None,
        );
        let answer = Classifier::shipped().classify(
            "UPI/DR/498765432109/RAMESH KUMAR/HDFC/ramesh@ybl/nov",
            Some(-15_000.0),
            &layer,
        );
        assert_eq!(
            (answer.category.as_str(), answer.source),
            ("Rent", Source::User)
        );
        assert_eq!(merchant_key("Unknown"), None);
        assert_eq!(merchant_key(" x "), None);
    }

    #[test]
    fn prototypes_lift_similar_texts_towards_the_users_label() {
        let text = "ZENOBIA QUARTZ AGENCIES NAGPUR";
        let before = Classifier::shipped().classify(text, Some(-640.0), &PersonalLayer::default());
        assert_ne!(before.category, "Utilities");
        let corrections: Vec<Correction> = [
            "ZENOBIA QUARTZ AGENCIES PUNE",
            "ZENOBIA QUARTZ AGENCIES",
            "ZENOBIA QUARTZ AGENCIES MUMBAI",
        ]
        .into_iter()
        .map(|d| correction(d, "", "Utilities"))
        .collect();
        let layer = PersonalLayer::new(&corrections, None);
        let after = Classifier::shipped().classify(text, Some(-640.0), &layer);
        assert_eq!(after.category, "Utilities", "before: {before:?}");
        assert_eq!(after.source, Source::Model);
        // Unrelated narrations are not pulled along.
        let other = "UPI/DR/498765432109/SURESH PATEL/HDFC/suresh@ybl/nov";
        assert_eq!(
            Classifier::shipped().classify(other, Some(-640.0), &layer),
            Classifier::shipped().classify(other, Some(-640.0), &PersonalLayer::default())
        );
    }

    #[test]
    fn a_prototype_keeps_its_largest_weights_only() {
        let corrections: Vec<Correction> = (0..3_000)
            .map(|i| correction(&format!("MERCHANT{i:05} NUMBER{}", i * 7), "", "Shopping"))
            .collect();
        let layer = PersonalLayer::new(&corrections, None);
        for boost in &layer.boosts {
            assert!(boost.vector.indices.len() <= MAX_PROTOTYPE_ENTRIES);
            assert!(boost.vector.is_well_formed());
            assert!((boost.vector.dot(&boost.vector) - 1.0).abs() < 1e-4);
        }
    }

    #[test]
    fn an_empty_layer_changes_nothing() {
        let layer = PersonalLayer::new(&[], None);
        assert!(layer.is_empty());
        for text in [
            "SWIGGY ORDER",
            "NEFT CR ACME TECHNOLOGIES PVT LTD SALARY",
            "xyz",
        ] {
            assert_eq!(
                Classifier::shipped().classify(text, Some(-10.0), &layer),
                Classifier::shipped().classify(
                    text,
                    Some(-10.0),
                    &crate::categorization::resolve::NoOverrides
                )
            );
        }
    }
}

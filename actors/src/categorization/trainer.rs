//! Builds the global model from the synthetic corpus: featurise, fit, quantise, calibrate the
//! temperature on a 10 % holdout, measure generalisation on the entity-held-out split, and
//! record how it scored in the model header.
//! `scale train-global-categorizer` writes [`build_shipped`]'s bytes to
//! `data/categorization/global.bin`; the same seed and data give the same bytes.

use serde_json::json;
use sha2::{Digest, Sha256};

use super::features::{feature_hash, SparseVector, DIM};
use super::global::{features_of, header, GlobalModel};
use super::logistic::{calibrate_temperature, fit, log_loss, Hyper};
use super::model::CANONICAL_LABELS;
use super::resolve::{Classifier, NoOverrides};
use super::rules::RuleTable;
use super::synthetic::{corpus, Example, Split, Vocabulary};

/// Seed of the synthetic corpus.
pub const CORPUS_SEED: u64 = 13;
/// Hyper-parameters of the shipped model.
pub const HYPER: Hyper = Hyper {
    epochs: 20,
    learning_rate: 0.05,
    l2: 1e-5,
    seed: 0x5CA1_E0C4,
    balanced: true,
};

/// A digest of the examples (text, amount, label, split), hex.
pub fn corpus_digest(examples: &[Example]) -> String {
    let mut hasher = Sha256::new();
    for example in examples {
        hasher.update(example.text.as_bytes());
        hasher.update([0]);
        hasher.update(example.amount.map_or(f64::NAN, |a| a).to_le_bytes());
        hasher.update(example.label.as_bytes());
        hasher.update([0, u8::from(example.split == Split::Holdout)]);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The label index of a canonical label.
fn label_index(label: &str) -> usize {
    CANONICAL_LABELS
        .iter()
        .position(|l| *l == label)
        .expect("a canonical label")
}

/// Whether a training example calibrates the temperature (one in ten, by a hash of its text).
fn calibrates(example: &Example) -> bool {
    feature_hash(example.text.as_bytes()).is_multiple_of(10)
}

/// The logits of each example and its true label.
fn scored(model: &GlobalModel, examples: &[(&SparseVector, usize)]) -> (Vec<Vec<f32>>, Vec<usize>) {
    examples.iter().map(|(x, y)| (model.logits(x), *y)).unzip()
}

/// Share of rows whose largest logit is the true label.
fn argmax_accuracy(logits: &[Vec<f32>], truth: &[usize]) -> f64 {
    let hits = logits
        .iter()
        .zip(truth)
        .filter(|(z, &y)| {
            let best = z
                .iter()
                .enumerate()
                .fold(0, |best, (c, v)| if *v > z[best] { c } else { best });
            best == y
        })
        .count();
    hits as f64 / truth.len().max(1) as f64
}

/// Builds the model from `examples`: fits on 90 % of the training split and calibrates the
/// temperature on the other 10 %, measures that fit on the entity-held-out split (model alone
/// and behind the rules), then ships a fit on every example with that temperature.
pub fn build(examples: &[Example], hyper: &Hyper) -> GlobalModel {
    let labels = CANONICAL_LABELS.len();
    let featurised: Vec<(SparseVector, usize)> = examples
        .iter()
        .map(|e| (features_of(&e.text, e.amount), label_index(e.label)))
        .collect();
    let part = |keep: &dyn Fn(&Example) -> bool| -> Vec<(&SparseVector, usize)> {
        examples
            .iter()
            .zip(&featurised)
            .filter(|(e, _)| keep(e))
            .map(|(_, (x, y))| (x, *y))
            .collect()
    };
    let fitting = part(&|e| e.split == Split::Train && !calibrates(e));
    let calibration = part(&|e| e.split == Split::Train && calibrates(e));
    let holdout = part(&|e| e.split == Split::Holdout);
    let fitted = |rows: &[(&SparseVector, usize)]| {
        GlobalModel::quantise(
            &fit(rows, DIM as usize, labels, hyper),
            header(&CANONICAL_LABELS, json!({})),
        )
    };

    let mut trial = fitted(&fitting);
    let (logits, truth) = scored(&trial, &calibration);
    let temperature = calibrate_temperature(&logits, &truth);
    trial.set_temperature(temperature);

    let (logits, truth) = scored(&trial, &holdout);
    let held: Vec<&Example> = examples
        .iter()
        .filter(|e| e.split == Split::Holdout)
        .collect();
    let items: Vec<(&str, Option<f64>)> =
        held.iter().map(|e| (e.text.as_str(), e.amount)).collect();
    let resolved =
        Classifier::new(RuleTable::shipped(), &trial).classify_batch(&items, &NoOverrides);
    let resolved_hits = held
        .iter()
        .zip(&resolved)
        .filter(|(e, c)| c.category == e.label)
        .count();
    let round = |x: f64| (x * 1e4).round() / 1e4;

    let mut model = fitted(&part(&|_| true));
    model.set_temperature(temperature);
    model.set_training(json!({
        "algorithm": "multinomial logistic regression, AdaGrad, L2",
        "hyper": hyper,
        "corpus": {
            "seed": CORPUS_SEED,
            "vocabulary_version": Vocabulary::shipped().version,
            "rules_version": RuleTable::shipped().version(),
            "examples": examples.len(),
            "digest": corpus_digest(examples),
        },
        "calibration": {
            "split": "one in ten training examples, by a hash of the text",
            "fitted_on": fitting.len(),
            "calibrated_on": calibration.len(),
        },
        "holdout": {
            "split": "entity held out: merchants, names, employers, cities",
            "examples": holdout.len(),
            "model_accuracy": round(argmax_accuracy(&logits, &truth)),
            "accuracy_with_rules": round(resolved_hits as f64 / held.len().max(1) as f64),
            "log_loss": round(log_loss(&logits, &truth, temperature)),
        },
        "shipped": "refitted on every example with the calibrated temperature",
    }));
    model
}

/// The shipped model, rebuilt from the repository's data.
pub fn build_shipped() -> GlobalModel {
    build(&corpus(CORPUS_SEED), &HYPER)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::categorization::synthetic::Split;

    fn example(text: &str, label: &'static str, split: Split) -> Example {
        Example {
            text: text.into(),
            amount: None,
            label,
            split,
        }
    }

    fn small() -> Vec<Example> {
        let mut examples = Vec::new();
        for (merchant, label) in [
            ("SWIGGY", "Food"),
            ("ZOMATO", "Food"),
            ("UBER", "Transport"),
            ("OLA CABS", "Transport"),
        ] {
            examples.push(example(
                &format!("POS 1234 {merchant} MUMBAI"),
                label,
                Split::Train,
            ));
            examples.push(example(
                &format!("UPI/DR/1234/{merchant}/YESB"),
                label,
                Split::Train,
            ));
        }
        examples.push(example("SWIGGY ORDER", "Food", Split::Holdout));
        examples.push(example("UBER TRIP", "Transport", Split::Holdout));
        examples
    }

    #[test]
    fn the_same_data_and_seed_give_the_same_bytes() {
        let hyper = Hyper { epochs: 3, ..HYPER };
        let first = build(&small(), &hyper).to_bytes();
        assert_eq!(first, build(&small(), &hyper).to_bytes());
        let other = build(&small(), &Hyper { seed: 1, ..hyper }).to_bytes();
        assert_ne!(first, other);
        let model = GlobalModel::from_bytes(&first).unwrap();
        let training = &model.header().training;
        assert_eq!(training["corpus"]["examples"], 10);
        assert_eq!(training["holdout"]["examples"], 2);
        assert_eq!(training["holdout"]["model_accuracy"], 1.0);
        assert!(model.header().temperature > 0.0);
    }

    #[test]
    fn the_digest_sees_every_field() {
        let base = small();
        let digest = corpus_digest(&base);
        let mut changed = base.clone();
        changed[0].amount = Some(-1.0);
        assert_ne!(corpus_digest(&changed), digest);
        let mut changed = base.clone();
        changed[0].split = Split::Holdout;
        assert_ne!(corpus_digest(&changed), digest);
        assert_eq!(corpus_digest(&base), digest);
    }
}

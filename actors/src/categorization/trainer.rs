//! Builds the global model from the synthetic corpus: featurise, fit on the train split,
//! quantise, calibrate the temperature on the entity-held-out split and record how it scored.
//! `scale train-global-categorizer` writes [`build_shipped`]'s bytes to
//! `data/categorization/global.bin`; the same seed and data give the same bytes.

use serde_json::json;
use sha2::{Digest, Sha256};

use super::features::DIM;
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
    epochs: 12,
    learning_rate: 0.3,
    l2: 1e-6,
    seed: 0x5CA1_E0C4,
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

/// Fits, quantises and calibrates a model on `examples`.
pub fn build(examples: &[Example], hyper: &Hyper) -> GlobalModel {
    let featurised: Vec<_> = examples
        .iter()
        .map(|e| {
            (
                features_of(&e.text, e.amount),
                label_index(e.label),
                e.split,
            )
        })
        .collect();
    let train: Vec<_> = featurised
        .iter()
        .filter(|(_, _, split)| *split == Split::Train)
        .map(|(x, y, _)| (x, *y))
        .collect();
    let holdout: Vec<_> = featurised
        .iter()
        .filter(|(_, _, split)| *split == Split::Holdout)
        .collect();
    let weights = fit(&train, DIM as usize, CANONICAL_LABELS.len(), hyper);
    let mut model = GlobalModel::quantise(&weights, header(&CANONICAL_LABELS, json!({})));
    let logits: Vec<Vec<f32>> = holdout.iter().map(|(x, _, _)| model.logits(x)).collect();
    let truth: Vec<usize> = holdout.iter().map(|(_, y, _)| *y).collect();
    let temperature = calibrate_temperature(&logits, &truth);
    model.set_temperature(temperature);
    let hits = logits
        .iter()
        .zip(&truth)
        .filter(|(z, &y)| {
            let best = z
                .iter()
                .enumerate()
                .fold(0, |best, (c, v)| if *v > z[best] { c } else { best });
            best == y
        })
        .count();
    let round = |x: f64| (x * 1e4).round() / 1e4;
    let classifier = Classifier::new(RuleTable::shipped(), &model);
    let held: Vec<&Example> = examples
        .iter()
        .filter(|e| e.split == Split::Holdout)
        .collect();
    let items: Vec<(&str, Option<f64>)> =
        held.iter().map(|e| (e.text.as_str(), e.amount)).collect();
    let resolved = classifier.classify_batch(&items, &NoOverrides);
    let resolved_hits = held
        .iter()
        .zip(&resolved)
        .filter(|(e, c)| c.category == e.label)
        .count();
    model.set_training(json!({
        "algorithm": "multinomial logistic regression, AdaGrad, L2",
        "hyper": hyper,
        "corpus": {
            "seed": CORPUS_SEED,
            "vocabulary_version": Vocabulary::shipped().version,
            "rules_version": RuleTable::shipped().version(),
            "train": train.len(),
            "holdout": holdout.len(),
            "digest": corpus_digest(examples),
        },
        "holdout": {
            "split": "entity held out: merchants, names, employers, cities",
            "model_accuracy": round(hits as f64 / holdout.len().max(1) as f64),
            "accuracy_with_rules": round(resolved_hits as f64 / held.len().max(1) as f64),
            "log_loss_at_1": round(log_loss(&logits, &truth, 1.0)),
            "log_loss": round(log_loss(&logits, &truth, temperature)),
        },
    }));
    model
}

/// The shipped model, rebuilt from the repository's data.
pub fn build_shipped() -> GlobalModel {
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<f64>().ok());
    let hyper = Hyper { epochs: env("TMP_EPOCHS").map_or(HYPER.epochs, |e| e as usize), learning_rate: env("TMP_LR").unwrap_or(HYPER.learning_rate), l2: env("TMP_L2").unwrap_or(HYPER.l2), ..HYPER };
    build(&corpus(CORPUS_SEED), &hyper)
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
        assert_eq!(training["corpus"]["train"], 8);
        assert_eq!(training["corpus"]["holdout"], 2);
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

//! Unit tests of the global model: the file format, the shipped model, inference.

use super::*;
use crate::categorization::model::CANONICAL_LABELS;
use crate::categorization::synthetic::{corpus, Vocabulary};
use crate::categorization::trainer::{build_shipped, corpus_digest, CORPUS_SEED, HYPER};

/// A model with the given per-label biases and no feature weights.
fn biased(bias: &[f32]) -> GlobalModel {
    let weights = Weights {
        labels: bias.len(),
        weights: vec![0.0; DIM as usize * bias.len()],
        bias: bias.to_vec(),
    };
    GlobalModel::quantise(
        &weights,
        header(&CANONICAL_LABELS[..bias.len()], serde_json::json!({})),
    )
}

#[test]
fn the_file_round_trips_and_bad_files_are_refused() {
    let mut fitted = Weights {
        labels: 2,
        weights: vec![0.0; DIM as usize * 2],
        bias: vec![0.5, -0.5],
    };
    fitted.weights[7 * 2] = 2.0;
    fitted.weights[7 * 2 + 1] = -1.0;
    let model = GlobalModel::quantise(
        &fitted,
        header(&["Food", "Misc"], serde_json::json!({"x": 1})),
    );
    let bytes = model.to_bytes();
    let decoded = GlobalModel::from_bytes(&bytes).unwrap();
    assert_eq!(decoded, model);
    let x = SparseVector {
        indices: vec![7],
        values: vec![1.0],
    };
    let logits = decoded.logits(&x);
    assert!(
        (logits[0] - 2.5).abs() < 1e-2 && (logits[1] + 1.5).abs() < 1e-2,
        "{logits:?}"
    );

    assert!(GlobalModel::from_bytes(b"NOTAMODEL").is_err());
    assert!(GlobalModel::from_bytes(&bytes[..bytes.len() - 1]).is_err());
    let mut other = model.header().clone();
    other.features_version += 1;
    let stale = GlobalModel::quantise(&fitted, other).to_bytes();
    assert_eq!(
        GlobalModel::from_bytes(&stale).unwrap_err().to_string(),
        "global categorizer model: built for other features; retrain"
    );
}

#[test]
fn probabilities_follow_the_temperature() {
    let mut model = biased(&[2.0, 0.0, 0.0]);
    let x = SparseVector::default();
    let sharp = model.probabilities(&x);
    assert!((sharp.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    model.set_temperature(4.0);
    let soft = model.probabilities(&x);
    assert!(soft[0] < sharp[0] && soft[0] > soft[1]);
}

#[test]
fn features_join_text_and_signals() {
    let narration = Narration::new("UPI/DR/412345678901/SWIGGY/YESB/swiggy@ybl/food");
    assert_eq!(narration.cleaned, "dr swiggy yesb food");
    let debit = narration.features(Some(-250.0));
    let credit = narration.features(Some(250.0));
    assert!(debit.is_well_formed() && credit.is_well_formed());
    assert_ne!(debit, credit);
    let text_only = features::vectorize(&narration.cleaned);
    assert!(debit.indices.len() > text_only.indices.len());
    assert_eq!(features_of("x", None), Narration::new("x").features(None));
}

#[test]
fn the_shipped_model_is_small_and_built_from_the_repository_data() {
    let model = GlobalModel::shipped();
    assert_eq!(model.labels(), CANONICAL_LABELS);
    assert!(SHIPPED.len() <= 3 * 1024 * 1024, "{} bytes", SHIPPED.len());
    let header = model.header();
    assert!(header.temperature > 0.0);
    let training = &header.training;
    // A stale model fails here: regenerate it with
    // `scale train-global-categorizer --out actors/data/categorization/global.bin`.
    assert_eq!(
        training["corpus"]["digest"],
        corpus_digest(&corpus(CORPUS_SEED))
    );
    assert_eq!(training["corpus"]["seed"], CORPUS_SEED);
    assert_eq!(
        training["corpus"]["vocabulary_version"],
        Vocabulary::shipped().version
    );
    assert_eq!(training["hyper"], serde_json::to_value(HYPER).unwrap());
}

/// Bit-for-bit regeneration; ~5 s in release, minutes unoptimised:
/// `cargo test --release -p scale-actors --lib -- --ignored embedded_model`.
#[test]
#[ignore]
fn the_embedded_model_is_what_the_generator_produces() {
    assert!(
        build_shipped().to_bytes() == SHIPPED,
        "regenerate global.bin"
    );
}

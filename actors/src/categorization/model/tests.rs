//! Unit tests of the per-user categorizer: labels, holdout, steps, cancellation, artefacts.

use super::*;
use crate::training::testing::RecordingControl;

fn example(description: &str, category: &str, source: LabelSource) -> LabelledExample {
    LabelledExample {
        description: description.into(),
        merchant: String::new(),
        amount: None,
        category: category.into(),
        source,
    }
}

fn labelled(description: &str, category: &str) -> LabelledExample {
    example(description, category, LabelSource::Labelled)
}

fn corrected(description: &str, category: &str) -> LabelledExample {
    example(description, category, LabelSource::Correction)
}

fn base() -> Vec<LabelledExample> {
    vec![
        labelled("UPI/DR/1234/SWIGGY/food order", "Food"),
        labelled("ZOMATO ORDER 5512", "Food"),
        labelled("POS 4432 DOMINOS PIZZA", "Food"),
        labelled("UBER TRIP 9921", "Transport"),
        labelled("OLA CABS RIDE", "Transport"),
        labelled("METRO CARD RECHARGE", "Transport"),
        labelled("NETFLIX SUBSCRIPTION", "Entertainment"),
        labelled("SPOTIFY PREMIUM", "Entertainment"),
        labelled("Some row", "Uncategorized"),
        labelled("Another row", ""),
    ]
}

fn fitted(examples: &[LabelledExample]) -> (CategorizerModel, serde_json::Value) {
    let mut control = RecordingControl::running();
    let output = train(examples, &mut control).unwrap();
    assert_eq!(output.format, CategorizerModel::FORMAT);
    let model = CategorizerModel::from_artefact(&output.artefact).unwrap();
    (model, output.metrics)
}

#[test]
fn predicts_from_labelled_rows_and_skips_uncategorized() {
    let (model, metrics) = fitted(&base());
    assert_eq!(model.labels, ["Entertainment", "Food", "Transport"]);
    assert_eq!(metrics["examples"], 8);
    assert_eq!(metrics["skipped"], 2);
    assert_eq!(metrics["labels"], 3);
    assert_eq!(metrics["label_counts"]["Food"], 3);
    assert!(metrics["holdout_accuracy"].is_null());
    let (label, confidence) = predict(&model, "SWIGGY INSTAMART ORDER", "Swiggy").unwrap();
    assert_eq!(label, "Food");
    assert!(confidence > 0.5 && confidence <= 1.0, "{confidence}");
    assert_eq!(predict(&model, "UBER AUTO", "").unwrap().0, "Transport");
    assert_eq!(predict(&model, "123456", ""), None);
}

#[test]
fn learns_a_corrected_merchant() {
    let mut examples = base();
    examples.push(labelled("BLUE TOKAI COFFEE ROASTERS", "Misc"));
    let (before, _) = fitted(&examples);
    assert_ne!(predict(&before, "BLUE TOKAI", "").unwrap().0, "Food");
    examples.push(corrected("BLUE TOKAI COFFEE", "Food"));
    let (after, metrics) = fitted(&examples);
    assert_eq!(predict(&after, "BLUE TOKAI", "").unwrap().0, "Food");
    assert_eq!(metrics["corrections"], 1);
}

#[test]
fn alias_labels_need_three_corrections() {
    let mut examples = base();
    examples.push(corrected("BIGBASKET DAILY", "grocery"));
    examples.push(corrected("BIGBASKET VEGETABLES", "Grocery"));
    let (model, metrics) = fitted(&examples);
    assert!(!model.labels.iter().any(|l| l == "Grocery"));
    assert_eq!(predict(&model, "BIGBASKET", "").unwrap().0, "Food");
    assert_eq!(metrics["learned_under_parent"]["Grocery"], "Food");

    examples.push(corrected("BIGBASKET FRUITS", "Grocery"));
    let (model, metrics) = fitted(&examples);
    assert_eq!(predict(&model, "BIGBASKET", "").unwrap().0, "grocery");
    assert!(metrics["learned_under_parent"].get("Grocery").is_none());
}

#[test]
fn custom_and_canonical_labels() {
    let mut examples = base();
    examples.push(labelled("PETSMART FOOD", "Pets"));
    examples.push(labelled("DTDC COURIER", "misc"));
    let (model, _) = fitted(&examples);
    assert!(model.labels.iter().any(|l| l == "Pets"));
    assert!(model.labels.iter().any(|l| l == "Misc"));
}

#[test]
fn measures_a_deterministic_holdout() {
    let mut examples = base();
    for i in 0..30 {
        examples.push(labelled(
            &format!("SWIGGY ORDER {}", ["A", "B", "C"][i % 3]),
            "Food",
        ));
        examples.push(labelled(
            &format!("UBER RIDE {}", ["X", "Y", "Z"][i % 3]),
            "Transport",
        ));
    }
    let (_, metrics) = fitted(&examples);
    let mut reversed = examples.clone();
    reversed.reverse();
    let (_, again) = fitted(&reversed);
    assert_eq!(metrics["holdout_size"], 7);
    assert_eq!(metrics["holdout_accuracy"], again["holdout_accuracy"]);
    assert!(metrics["holdout_majority_accuracy"].as_f64().unwrap() < 0.8);
    assert!(
        metrics["holdout_accuracy"].as_f64().unwrap() >= 0.8,
        "{metrics}"
    );
}

#[test]
fn reports_a_handful_of_steps() {
    let mut control = RecordingControl::running();
    train(&base(), &mut control).unwrap();
    let steps: Vec<u32> = control.steps.iter().map(|s| s.0).collect();
    assert_eq!(steps, [1, 2, 3, 4]);
}

#[test]
fn without_labels_the_rules_and_global_model_serve_alone() {
    let only_uncategorized = [
        labelled("SWIGGY", "Uncategorized"),
        labelled("1234", "Food"),
    ];
    for examples in [&[][..], &only_uncategorized[..]] {
        let mut control = RecordingControl::running();
        let output = train(examples, &mut control).unwrap();
        assert_eq!(output.metrics["model"], "rules+global");
        assert_eq!(output.metrics["examples"], 0);
        let model = CategorizerModel::from_artefact(&output.artefact).unwrap();
        assert!(model.prototypes.is_empty());
        assert_eq!(predict(&model, "SWIGGY", ""), None);
    }
}

#[test]
fn stops_when_cancelled() {
    let examples: Vec<LabelledExample> = (0..5000)
        .map(|i| labelled(&format!("MERCHANT {}", i % 50), "Food"))
        .collect();
    let mut control = RecordingControl::stopping_after(2);
    assert_eq!(train(&examples, &mut control), Err(TrainError::Stopped));
    assert_eq!(control.calls(), 3);
    assert!(control.steps.is_empty());
}

#[test]
fn artefacts_round_trip_and_reject_other_features() {
    let (model, _) = fitted(&base());
    let mut other = model.clone();
    other.dim = 1 << 18;
    assert!(CategorizerModel::from_artefact(&other.to_artefact()).is_err());
    assert!(CategorizerModel::from_artefact(b"{}").is_err());
    assert_eq!(
        CategorizerModel::from_artefact(&model.to_artefact()).unwrap(),
        model
    );
}

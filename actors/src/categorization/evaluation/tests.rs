//! Unit tests of the evaluation, and the shipped categorizer measured on the development set
//! and on hand-written narrations.

use super::*;
use crate::categorization::resolve::Classifier;

/// The development set (`categorization_dev.csv`, copied from the spec): for measuring only.
const DEV: &str = include_str!("../../../tests/fixtures/categorization_dev.csv");
/// Realistic narrations written for these tests (not from the development set).
const HANDWRITTEN: &str = include_str!("../../../tests/fixtures/categorization_handwritten.csv");

#[test]
fn reads_rows_with_quotes_and_empty_amounts() {
    let rows = read_csv(
        "category,description,amount\nFood,\"SWIGGY, BANGALORE\",-250.50\nSalary,SALARY NOV,\"85,000\"\nMisc,CASH,\n",
    )
    .unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].description, "SWIGGY, BANGALORE");
    assert_eq!(rows[0].amount, Some(-250.5));
    assert_eq!(rows[1].amount, Some(85_000.0));
    assert_eq!(rows[2].amount, None);
    assert_eq!(
        read_csv("description,category\nx,Food\n"),
        Err(EvaluationError::MissingColumn("amount"))
    );
    assert!(matches!(
        read_csv("description,amount,category\nx,abc,Food\n"),
        Err(EvaluationError::Amount { line: 2, .. })
    ));
}

#[test]
fn scores_accuracy_precision_recall_and_confusion() {
    let report = score([
        ("Food", "Food", "rule"),
        ("Food", "Shopping", "model"),
        ("Shopping", "Shopping", "model"),
        ("Misc", "Uncategorized", "fallback"),
    ]);
    assert_eq!((report.rows, report.correct, report.accuracy), (4, 2, 0.5));
    let food = &report.labels["Food"];
    assert_eq!((food.precision, food.recall, food.support), (1.0, 0.5, 2));
    let shopping = &report.labels["Shopping"];
    assert_eq!(
        (shopping.precision, shopping.recall, shopping.predicted),
        (0.5, 1.0, 2)
    );
    assert_eq!(report.labels["Uncategorized"].support, 0);
    assert_eq!(report.labels["Misc"].recall, 0.0);
    assert_eq!(report.confusion["Food"]["Shopping"], 1);
    assert_eq!(
        report.sources["model"],
        SourceScores {
            rows: 2,
            correct: 1
        }
    );
    assert_eq!(score([]).accuracy, 0.0);
}

#[test]
fn the_shipped_categorizer_scores_at_least_90_percent_on_the_development_set() {
    let rows = read_csv(DEV).unwrap();
    assert_eq!(rows.len(), 400);
    let report = evaluate(&Classifier::shipped(), &rows, false);
    assert!(
        report.accuracy >= 0.90,
        "{}",
        serde_json::to_string_pretty(&report).unwrap()
    );
}

#[test]
fn the_shipped_categorizer_labels_hand_written_narrations() {
    let rows = read_csv(HANDWRITTEN).unwrap();
    let report = evaluate(&Classifier::shipped(), &rows, true);
    assert!(report.accuracy >= 0.95, "{:#?}", report.mistakes);
    for label in crate::categorization::model::CANONICAL_LABELS {
        assert!(report.labels[label].support >= 5, "{label}");
    }
}

#[test]
fn mistakes_are_listed_when_asked() {
    let rows =
        read_csv("description,amount,category\nSWIGGY ORDER,-250,Shopping\nZOMATO,-100,Food\n")
            .unwrap();
    let report = evaluate(&Classifier::shipped(), &rows, true);
    assert_eq!(report.mistakes.len(), 1);
    assert_eq!(report.mistakes[0].predicted, "Food");
    assert_eq!(report.mistakes[0].source, "rule");
    assert!(evaluate(&Classifier::shipped(), &rows, false)
        .mistakes
        .is_empty());
}

//! Unit tests of the resolution order: overrides, rules, the model's thresholds, guardrails,
//! batches.

use super::*;
use crate::categorization::features::DIM;
use crate::categorization::global::header;
use crate::categorization::logistic::Weights;
use crate::categorization::model::CANONICAL_LABELS;

/// A model whose probabilities ignore the text: softmax of `bias` (in label order).
fn constant(bias: [f32; 11]) -> GlobalModel {
    let weights = Weights {
        labels: 11,
        weights: vec![0.0; DIM as usize * 11],
        bias: bias.to_vec(),
    };
    GlobalModel::quantise(&weights, header(&CANONICAL_LABELS, serde_json::json!({})))
}

/// Biases giving `label` probability `p` and the rest an equal share.
fn favouring(label: &str, p: f64) -> [f32; 11] {
    let rest = (1.0 - p) / 10.0;
    let mut bias = [0.0f32; 11];
    for (i, name) in CANONICAL_LABELS.iter().enumerate() {
        bias[i] = if *name == label { p.ln() } else { rest.ln() } as f32;
    }
    bias
}

fn classify(model: &GlobalModel, text: &str, amount: Option<f64>) -> Classification {
    Classifier::new(RuleTable::shipped(), model).classify(text, amount, &NoOverrides)
}

#[test]
fn a_users_override_comes_first() {
    let model = constant(favouring("Food", 0.9));
    let overrides: HashMap<String, String> = [(
        normalize_description("SWIGGY ORDER #4411"),
        "Groceries".to_owned(),
    )]
    .into();
    let classifier = Classifier::new(RuleTable::shipped(), &model);
    let decided = classifier.classify("swiggy order #9876", Some(-300.0), &overrides);
    assert_eq!(decided.category, "Groceries");
    assert_eq!(
        (decided.source, decided.confidence, decided.needs_review),
        (Source::User, 1.0, false)
    );
    assert_eq!(decided.cleaned, "swiggy order");
}

#[test]
fn rules_answer_with_full_confidence() {
    let model = constant(favouring("Misc", 0.9));
    let decided = classify(
        &model,
        "UPI/DR/412345678901/SWIGGY/YESB/swiggy@ybl/Paym",
        Some(-250.0),
    );
    assert_eq!(decided.category, "Food");
    assert_eq!(
        (decided.source, decided.confidence, decided.needs_review),
        (Source::Rule, 1.0, false)
    );
    let json = serde_json::to_value(&decided).unwrap();
    assert_eq!(json["source"], "rule");
}

#[test]
fn model_confidence_decides_accept_review_or_fallback() {
    let text = "ZORBLAX QUENTIN";
    let sure = classify(&constant(favouring("Shopping", 0.8)), text, None);
    assert_eq!(
        (sure.category.as_str(), sure.source, sure.needs_review),
        ("Shopping", Source::Model, false)
    );
    assert!((sure.confidence - 0.8).abs() < 1e-3);
    let unsure = classify(&constant(favouring("Shopping", 0.4)), text, None);
    assert_eq!(
        (unsure.category.as_str(), unsure.needs_review),
        ("Shopping", true)
    );
    let lost = classify(&constant(favouring("Shopping", 0.2)), text, None);
    assert_eq!(
        (lost.category.as_str(), lost.source, lost.needs_review),
        (UNCATEGORIZED, Source::Fallback, true)
    );
    assert!((lost.confidence - 0.2).abs() < 1e-3);
}

#[test]
fn salary_needs_a_token_and_a_positive_amount() {
    let mut bias = favouring("Salary", 0.7);
    bias[CANONICAL_LABELS
        .iter()
        .position(|l| *l == "People")
        .unwrap()] = 0.25f32.ln();
    let model = constant(bias);
    // The model's Salary without a salary token or an organisation credit: next best.
    let plain = classify(&model, "MONTHLY CREDIT", Some(50_000.0));
    assert_eq!(
        (plain.category.as_str(), plain.source, plain.needs_review),
        ("People", Source::Model, true)
    );
    // A salary rule on a debit gives way too.
    let debit = classify(&model, "SALARY TO DRIVER RAMU", Some(-12_000.0));
    assert_eq!(debit.category, "People");
    // With the token and a credit, Salary.
    let credit = classify(&model, "SALARY FOR NOV 2024", Some(85_000.0));
    assert_eq!(
        (credit.category.as_str(), credit.source),
        ("Salary", Source::Rule)
    );
    let org = classify(
        &model,
        "NEFT CR-HDFC0001234-ZENITH TECHNOLOGIES PVT LTD-RAHUL",
        Some(85_000.0),
    );
    assert_eq!(
        (org.category.as_str(), org.source),
        ("Salary", Source::Model)
    );
    // People is never an organisation: the next label after People.
    let people = classify(
        &constant(favouring("People", 0.6)),
        "IMPS/P2A/1234/SHARMA ENTERPRISES",
        None,
    );
    assert_ne!(people.category, "People");
}

#[test]
fn the_shipped_classifier_never_gives_salary_without_a_positive_amount() {
    let classifier = Classifier::shipped();
    for text in [
        "SALARY FOR NOV 2024",
        "NEFT CR-HDFC0001234-ZENITH TECHNOLOGIES PVT LTD-RAHUL-N1234",
        "ACH CR PAYROLL ACME",
    ] {
        for amount in [Some(-5_000.0), Some(0.0)] {
            let decided = classifier.classify(text, amount, &NoOverrides);
            assert_ne!(decided.category, "Salary", "{text} {amount:?}");
        }
    }
    let decided = classifier.classify("DIVIDEND ITC LIMITED", Some(1_500.0), &NoOverrides);
    assert_ne!(decided.category, "Salary");
}

#[test]
fn batches_keep_order_and_share_answers_by_key() {
    let classifier = Classifier::shipped();
    let items = [
        ("SWIGGY ORDER #1001", Some(-300.0)),
        ("SALARY FOR NOV 2024", Some(85_000.0)),
        ("swiggy order #2002", Some(-450.0)),
        ("SALARY FOR NOV 2024", Some(-85_000.0)),
    ];
    let decided = classifier.classify_batch(&items, &NoOverrides);
    assert_eq!(decided.len(), items.len());
    assert_eq!(decided[0], decided[2]);
    assert_eq!(decided[0].category, "Food");
    assert_eq!(decided[1].category, "Salary");
    assert_ne!(decided[3].category, "Salary");
    for (item, answer) in items.iter().zip(&decided) {
        assert_eq!(*answer, classifier.classify(item.0, item.1, &NoOverrides));
    }
    assert!(classifier.classify_batch(&[], &NoOverrides).is_empty());
}
#[test]
fn text_without_a_word_falls_back_whatever_its_amount() {
    let classifier = Classifier::shipped();
    for text in ["-", "12345", "X", "REF 99812", ""] {
        let answer = classifier.classify(text, Some(-5.0), &NoOverrides);
        assert_eq!(
            (answer.category.as_str(), answer.source),
            (UNCATEGORIZED, Source::Fallback),
            "{text:?}"
        );
        assert!(answer.needs_review);
    }
    let answer = classifier.classify("misc adjustment", Some(-5.0), &NoOverrides);
    assert_eq!(answer.source, Source::Model);
}

#[test]
fn a_batch_shared_among_threads_gets_the_same_answers_in_order() {
    let classifier = Classifier::shipped();
    let texts: Vec<String> = (0..1_500)
        .map(|i| match i % 4 {
            0 => format!("UPI/DR/{:012}/SHOP NUMBER {i}/YESB/x@ybl/pay", i),
            1 => format!("POS {i} SWIGGY BANGALORE"),
            2 => "NEFT CR ACME TECHNOLOGIES PVT LTD SALARY".to_owned(),
            _ => format!("ZENOBIA {i} AGENCIES"),
        })
        .collect();
    let items: Vec<(&str, Option<f64>)> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| (t.as_str(), Some(if i % 3 == 0 { 900.0 } else { -120.0 })))
        .collect();
    let alone = classifier.classify_batch(&items, &NoOverrides);
    for threads in [2, 3, 8] {
        assert_eq!(
            classifier.classify_batch_on(&items, &NoOverrides, threads),
            alone
        );
    }
}

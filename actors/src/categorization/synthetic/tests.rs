//! Unit tests of the synthetic corpus.

use super::*;

#[test]
fn rules_agree_with_the_vocabulary() {
    let rules = RuleTable::shipped();
    let mut conflicts = Vec::new();
    let vocabulary = Vocabulary::shipped();
    for (name, words) in &vocabulary.labels {
        let shops = vocabulary
            .shop_heads
            .iter()
            .flat_map(|head| words.kinds.iter().map(move |kind| format!("{head} {kind}")));
        let texts = words
            .merchants
            .iter()
            .chain(&words.phrases)
            .cloned()
            .chain(shops);
        for text in texts {
            if let Some(hit) = rules.classify(&text) {
                if hit.category() != name {
                    conflicts.push(format!("{text}: {name} vs {:?}", hit.rule.pattern));
                }
            }
        }
    }
    assert!(conflicts.is_empty(), "{conflicts:#?}");
}

#[test]
fn the_corpus_is_reproducible_and_covers_every_label_on_both_sides() {
    let first = corpus(13);
    assert_eq!(first, corpus(13));
    assert_ne!(first, corpus(14));
    for label in CANONICAL_LABELS {
        for split in [Split::Train, Split::Holdout] {
            let n = first
                .iter()
                .filter(|e| e.label == label && e.split == split)
                .count();
            assert!(n >= 100, "{label} {split:?}: {n}");
        }
    }
}

#[test]
fn held_out_merchants_never_train() {
    let examples = corpus(13);
    let vocabulary = Vocabulary::shipped();
    // Rule keywords train by design (bare, no amount); everything else on a held-out merchant
    // is holdout.
    let keywords: Vec<String> = RuleTable::shipped()
        .rules()
        .iter()
        .map(|r| r.pattern.to_uppercase())
        .collect();
    let all: Vec<String> = vocabulary
        .labels
        .values()
        .flat_map(|w| w.merchants.iter().chain(&w.kinds).chain(&w.phrases))
        .map(|m| m.to_uppercase())
        .collect();
    // A held-out name inside another entry ("BAJAJ ALLIANZ" in "BAJAJ ALLIANZ LIFE", a shop
    // kind) is not a leak.
    let nested = |merchant: &str| all.iter().filter(|m| m.contains(merchant)).count() > 1;
    for words in vocabulary.labels.values() {
        for merchant in words
            .merchants
            .iter()
            .filter(|m| held_out(m) && m.len() > 8 && !nested(m))
        {
            let leaked = examples
                .iter()
                .filter(|e| e.split == Split::Train && !keywords.contains(&e.text))
                .filter(|e| e.text.to_uppercase().contains(merchant.as_str()))
                .count();
            assert_eq!(leaked, 0, "{merchant}");
        }
    }
}

#[test]
fn every_salary_example_passes_the_guardrail() {
    use crate::categorization::global::Narration;
    use crate::categorization::guardrail::salary_allowed;
    for example in corpus(13).iter().filter(|e| e.label == "Salary") {
        let narration = Narration::new(&example.text);
        assert!(
            salary_allowed(&narration.signals, example.amount),
            "{}",
            example.text
        );
    }
}

/// No specific development-set narration (one with a digit, or five words or more) is
/// generated; short generic ones ("Paid to Swiggy", "CREDIT INTEREST CAPITALISED") can coincide
/// with the templates.
#[test]
fn the_development_set_is_not_in_the_corpus() {
    let dev = include_str!("../../../tests/fixtures/categorization_dev.csv");
    let rows = crate::categorization::evaluation::read_csv(dev).unwrap();
    let texts: std::collections::HashSet<String> = corpus(13)
        .into_iter()
        .map(|e| e.text.to_uppercase())
        .collect();
    let found: Vec<&str> = rows
        .iter()
        .map(|row| row.description.as_str())
        .filter(|d| d.contains(|c: char| c.is_ascii_digit()) || d.split_whitespace().count() >= 5)
        .filter(|d| texts.contains(&d.to_uppercase()))
        .collect();
    assert!(found.is_empty(), "{found:?}");
}

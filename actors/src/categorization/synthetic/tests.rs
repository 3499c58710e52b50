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

//! Rules v2 (categorization spec §3.4): an ordered table of `(pattern, category, word|substring)`
//! read from the versioned `data/categorization/rules.toml`, embedded in the binary and parsed
//! once. Rules look at the lowercased [rule view](super::features::rule_view) of a narration
//! without its UPI remark ([`without_remark`]);
//! among the hits a `decisive` rule (the salary tokens) beats the others, a `generic` rule
//! ("sent to", "bill") only counts when no specific rule hits, and otherwise the longest pattern
//! wins, then the earlier rule.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use regex::Regex;
use serde::Deserialize;

use super::features::rule_view;
use super::model::CANONICAL_LABELS;

/// The shipped rule table.
const SHIPPED: &str = include_str!("../../data/categorization/rules.toml");

/// How a pattern must sit in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Match {
    /// ASCII word boundaries on both sides.
    Word,
    /// Anywhere.
    Substring,
}

/// One rule of the table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Lowercase text to find.
    pub pattern: String,
    /// The canonical label it gives.
    pub category: String,
    /// Word or substring match.
    #[serde(rename = "match")]
    pub kind: Match,
    /// The hit does not count when the next word starts with this (`metro` before `cash`).
    #[serde(default)]
    pub not_before: Option<String>,
    /// Counts only when no specific (non-generic) rule hits.
    #[serde(default)]
    pub generic: bool,
    /// Beats every other hit (`salary` in `SCHOOL SALARY`): what the narration says it is
    /// outweighs who pays it.
    #[serde(default)]
    pub decisive: bool,
}

/// The rules file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    version: u32,
    rules: Vec<Rule>,
}

/// Why a rule table cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    /// Not valid TOML of the expected shape.
    #[error("rules file: {0}")]
    Parse(String),
    /// A rule that cannot be right (unknown label, empty or duplicate pattern, …).
    #[error("rule {index} ({pattern:?}): {reason}")]
    Invalid {
        /// Position in the table.
        index: usize,
        /// The rule's pattern.
        pattern: String,
        /// What is wrong.
        reason: &'static str,
    },
}

/// A parsed, validated rule table with its matcher.
#[derive(Debug, Clone)]
pub struct RuleTable {
    version: u32,
    rules: Vec<Rule>,
    matcher: AhoCorasick,
}

/// The rule that decided a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleHit<'t> {
    /// The winning rule.
    pub rule: &'t Rule,
    /// Its position in the table.
    pub index: usize,
}

impl RuleHit<'_> {
    /// The label the rule gives.
    pub fn category(&self) -> &str {
        &self.rule.category
    }
}

static SHIPPED_TABLE: LazyLock<RuleTable> =
    LazyLock::new(|| RuleTable::parse(SHIPPED).expect("the shipped rules.toml is valid"));

/// Whether `byte` is part of an ASCII word.
fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// Checks one rule.
fn validate(index: usize, rule: &Rule, seen: &[Rule]) -> Result<(), RulesError> {
    let invalid = |reason| RulesError::Invalid {
        index,
        pattern: rule.pattern.clone(),
        reason,
    };
    let lowercase = |text: &str| text.trim() == text && text == text.to_lowercase();
    if rule.pattern.trim().is_empty() || !lowercase(&rule.pattern) {
        return Err(invalid(
            "the pattern must be non-empty, trimmed and lowercase",
        ));
    }
    if rule.pattern.contains("  ") {
        return Err(invalid("the pattern must not hold double spaces"));
    }
    if !CANONICAL_LABELS.contains(&rule.category.as_str()) {
        return Err(invalid("the category is not a canonical label"));
    }
    if rule
        .not_before
        .as_deref()
        .is_some_and(|word| word.is_empty() || !lowercase(word))
    {
        return Err(invalid("not_before must be a non-empty lowercase word"));
    }
    if seen.iter().any(|other| other.pattern == rule.pattern) {
        return Err(invalid("the pattern is already in the table"));
    }
    Ok(())
}

/// UPI narrations in the two common layouts whose last segment is the payer's remark:
/// `UPI/DR/<ref>/<payee>/<bank>/<handle>/<remark>` and
/// `UPI-<payee>-<handle>-<ifsc>-<ref>-<remark>`.
static REMARK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(UPI/(?:DR|CR)/\d+/[^/]*/[^/]*/[^/]*/)[^/]*$|(UPI-[^-]*-[^-]*@[^-]*-[^-]*-\d+-)[^-]*$",
    )
    .unwrap()
});

/// The narration without the remark of a UPI transfer: rules read who was paid, not what the
/// payer typed ("…/RAMESH KUMAR/…/electricity" is a person, whatever the remark says).
pub fn without_remark(text: &str) -> std::borrow::Cow<'_, str> {
    let text_end = text.trim_end_matches(['-', ' ']);
    match REMARK.captures(text_end) {
        Some(captures) => {
            let kept = captures
                .get(1)
                .or_else(|| captures.get(2))
                .expect("a group matched");
            std::borrow::Cow::Owned(text_end[..kept.end()].to_owned())
        }
        None => std::borrow::Cow::Borrowed(text),
    }
}

/// The lowercased rule view of a narration without its UPI remark, whitespace runs collapsed.
pub fn matching_view(text: &str) -> String {
    rule_view(&without_remark(text))
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

impl RuleTable {
    /// Parses and validates a rules file.
    pub fn parse(text: &str) -> Result<Self, RulesError> {
        let file: RulesFile = toml::from_str(text).map_err(|e| RulesError::Parse(e.to_string()))?;
        for (index, rule) in file.rules.iter().enumerate() {
            validate(index, rule, &file.rules[..index])?;
        }
        let matcher = AhoCorasick::new(file.rules.iter().map(|r| r.pattern.as_str()))
            .map_err(|e| RulesError::Parse(e.to_string()))?;
        Ok(Self {
            version: file.version,
            rules: file.rules,
            matcher,
        })
    }

    /// The table shipped with the binary (`data/categorization/rules.toml`), parsed once.
    pub fn shipped() -> &'static RuleTable {
        &SHIPPED_TABLE
    }

    /// The table's version.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The rules, in table order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The deciding rule for a raw narration, if any.
    pub fn classify(&self, text: &str) -> Option<RuleHit<'_>> {
        self.find(&matching_view(text))
    }

    /// The deciding rule for an already [`matching_view`]ed text, if any.
    pub fn find(&self, view: &str) -> Option<RuleHit<'_>> {
        self.hits(view).into_iter().next()
    }

    /// Every rule that hits an already [`matching_view`]ed text, best first (each rule once):
    /// decisive before the others, generic after them, then the longest pattern, then table
    /// order. The caller takes the first one its guardrails allow.
    pub fn hits(&self, view: &str) -> Vec<RuleHit<'_>> {
        let bytes = view.as_bytes();
        let mut hits: Vec<RuleHit<'_>> = self
            .matcher
            .find_overlapping_iter(view)
            .filter_map(|hit| {
                let index = hit.pattern().as_usize();
                let rule = &self.rules[index];
                let bounded = rule.kind == Match::Substring
                    || (hit.start() == 0 || !is_word_byte(bytes[hit.start() - 1]))
                        && (hit.end() == bytes.len() || !is_word_byte(bytes[hit.end()]));
                let rest = view[hit.end()..].trim_start_matches(|c: char| !c.is_alphanumeric());
                let excluded = rule
                    .not_before
                    .as_deref()
                    .is_some_and(|word| rest.starts_with(word));
                (bounded && !excluded).then_some(RuleHit { rule, index })
            })
            .collect();
        hits.sort_by_key(|hit| {
            (
                !hit.rule.decisive,
                hit.rule.generic,
                std::cmp::Reverse(hit.rule.pattern.len()),
                hit.index,
            )
        });
        hits.dedup_by_key(|hit| hit.index);
        hits
    }
}

#[cfg(test)]
mod tests;

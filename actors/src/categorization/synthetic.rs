//! The training corpus of the global categorizer, generated from data in the repository with a
//! seeded RNG: the §4.2 seed phrases, every rule keyword, and synthetic bank-style narrations
//! (UPI, IMPS, NEFT, POS, ATM, ACH, card bills, salary credits, person-to-person transfers, …)
//! over the merchants, phrases, names and employers of `data/categorization/vocabulary.toml`,
//! each with a signed amount (or none, as a free-text classify call has). The narrations of
//! `purchases`, `transfers` and `banking` (private submodules) share the generator's helpers here.
//!
//! The holdout is split by entity, not by row: a merchant, person name, employer or city is
//! either held out (about one in [`HOLDOUT_ONE_IN`], by a hash of its name) or not, and every
//! narration built on a held-out entity is a holdout example. Seed phrases, rule keywords and
//! generic phrases always train.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

use super::features::feature_hash;
use super::model::CANONICAL_LABELS;
use super::rules::RuleTable;

/// The shipped vocabulary.
const VOCABULARY: &str = include_str!("../../data/categorization/vocabulary.toml");
/// One entity in this many is held out.
pub const HOLDOUT_ONE_IN: u64 = 8;
/// Narrations generated per generic phrase.
const PER_PHRASE: usize = 8;

/// The §4.2 seed phrases (three per label, none for Misc).
pub const SEED_PHRASES: [(&str, &str); 30] = [
    ("swiggy order", "Food"),
    ("zomato payment", "Food"),
    ("restaurant bill", "Food"),
    ("uber ride", "Transport"),
    ("ola trip", "Transport"),
    ("metro recharge", "Transport"),
    ("electricity bill", "Utilities"),
    ("water bill", "Utilities"),
    ("airtel recharge", "Utilities"),
    ("salary credited", "Salary"),
    ("monthly payroll", "Salary"),
    ("salary transfer", "Salary"),
    ("amazon purchase", "Shopping"),
    ("flipkart order", "Shopping"),
    ("retail shopping", "Shopping"),
    ("netflix subscription", "Entertainment"),
    ("spotify payment", "Entertainment"),
    ("movie ticket", "Entertainment"),
    ("pharmacy purchase", "Health"),
    ("hospital bill", "Health"),
    ("clinic payment", "Health"),
    ("course payment", "Education"),
    ("tuition fee", "Education"),
    ("school fee", "Education"),
    ("loan emi", "Finance"),
    ("insurance premium", "Finance"),
    ("investment transfer", "Finance"),
    ("transfer to friend", "People"),
    ("gift payment", "People"),
    ("family transfer", "People"),
];

/// The words of one label.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelVocabulary {
    /// Typical spend in rupees, `[low, high]`.
    pub amount: [f64; 2],
    /// Brands and merchants.
    pub merchants: Vec<String>,
    /// Kind words of local shops (`MEDICALS`, `TEXTILES`).
    pub kinds: Vec<String>,
    /// Generic descriptions.
    pub phrases: Vec<String>,
    /// UPI remarks.
    pub notes: Vec<String>,
}

/// `data/categorization/vocabulary.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vocabulary {
    /// Bumped on every change.
    pub version: u32,
    /// Indian cities.
    pub cities: Vec<String>,
    /// IFSC bank prefixes.
    pub banks: Vec<String>,
    /// UPI handles of people.
    pub personal_psps: Vec<String>,
    /// UPI handles of merchants.
    pub merchant_psps: Vec<String>,
    /// Given names.
    pub given_names: Vec<String>,
    /// Surnames.
    pub surnames: Vec<String>,
    /// Words of synthetic employers.
    pub employer_words: Vec<String>,
    /// Kinds of synthetic employers (`TECHNOLOGIES`).
    pub employer_kinds: Vec<String>,
    /// Legal suffixes (`PVT LTD`).
    pub legal_suffixes: Vec<String>,
    /// Words of legal names that say nothing about the trade (`TECHNOLOGIES`).
    pub entity_words: Vec<String>,
    /// Real employers.
    pub employers: Vec<String>,
    /// First words of local shops' names.
    pub shop_heads: Vec<String>,
    /// UPI remarks that say nothing about the purpose.
    pub generic_notes: Vec<String>,
    /// Month abbreviations.
    pub months: Vec<String>,
    /// Month names.
    pub month_names: Vec<String>,
    /// Per label (all but Salary and People).
    pub labels: BTreeMap<String, LabelVocabulary>,
}

static SHIPPED_VOCABULARY: LazyLock<Vocabulary> =
    LazyLock::new(|| toml::from_str(VOCABULARY).expect("the shipped vocabulary.toml is valid"));

impl Vocabulary {
    /// The vocabulary shipped in the repository, parsed once.
    pub fn shipped() -> &'static Vocabulary {
        &SHIPPED_VOCABULARY
    }
}

/// Which side of the split an example is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// Fitted on.
    Train,
    /// Built on held-out entities: calibrates the temperature and measures generalisation.
    Holdout,
}

/// One labelled narration.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// The narration.
    pub text: String,
    /// The signed amount, if the example has one.
    pub amount: Option<f64>,
    /// A canonical label.
    pub label: &'static str,
    /// Train or holdout.
    pub split: Split,
}

/// Whether an entity (merchant, name, employer, city) is held out.
pub fn held_out(entity: &str) -> bool {
    feature_hash(entity.as_bytes()).is_multiple_of(HOLDOUT_ONE_IN)
}

/// The split of examples built on `entity`.
fn split_of(entity: &str) -> Split {
    if held_out(entity) {
        Split::Holdout
    } else {
        Split::Train
    }
}

/// The canonical spelling of a label.
fn label(name: &str) -> &'static str {
    CANONICAL_LABELS
        .into_iter()
        .find(|l| *l == name)
        .unwrap_or_else(|| panic!("{name} is not a canonical label"))
}

/// The corpus built from the shipped vocabulary and rules with `seed`.
pub fn corpus(seed: u64) -> Vec<Example> {
    Generator::new(Vocabulary::shipped(), seed).corpus(RuleTable::shipped())
}

/// Builds narrations with a seeded RNG.
struct Generator<'v> {
    vocabulary: &'v Vocabulary,
    rng: ChaCha8Rng,
    examples: Vec<Example>,
}

/// Direction of a generated amount.
#[derive(Clone, Copy)]
enum Sign {
    Debit,
    Credit,
}

impl<'v> Generator<'v> {
    fn new(vocabulary: &'v Vocabulary, seed: u64) -> Self {
        Self {
            vocabulary,
            rng: ChaCha8Rng::seed_from_u64(seed),
            examples: Vec::new(),
        }
    }

    fn push(&mut self, text: String, amount: Option<f64>, label: &'static str, split: Split) {
        self.examples.push(Example {
            text,
            amount,
            label,
            split,
        });
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    fn pick<'a>(&mut self, list: &'a [String]) -> &'a str {
        list.choose(&mut self.rng).map_or("", String::as_str)
    }

    fn pick_str(&mut self, list: &[&'static str]) -> &'static str {
        list.choose(&mut self.rng).copied().unwrap_or_default()
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|i| {
                let low = if i == 0 { 1 } else { 0 };
                char::from(b'0' + self.rng.random_range(low..10u8))
            })
            .collect()
    }

    fn alnum(&mut self, n: usize) -> String {
        const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
        (0..n)
            .map(|_| char::from(CHARS[self.rng.random_range(0..CHARS.len())]))
            .collect()
    }

    /// Upper case mostly, sometimes title or lower case.
    fn cased(&mut self, text: &str) -> String {
        match self.rng.random_range(0..10) {
            0 => text.to_lowercase(),
            1 | 2 => text
                .split(' ')
                .map(|w| {
                    let lower = w.to_lowercase();
                    let mut chars = lower.chars();
                    chars.next().map_or_else(String::new, |first| {
                        first.to_uppercase().chain(chars).collect()
                    })
                })
                .collect::<Vec<_>>()
                .join(" "),
            _ => text.to_uppercase(),
        }
    }

    /// Cuts a payee name the way UPI narrations do.
    fn truncated(&mut self, text: &str) -> String {
        if text.len() > 12 && self.chance(0.2) {
            let cut = self.rng.random_range(10..text.len());
            text[..cut].trim_end().to_owned()
        } else {
            text.to_owned()
        }
    }

    /// A signed amount in `range` (log-uniform, variously rounded), or none a quarter of the time.
    fn amount(&mut self, range: [f64; 2], sign: Sign) -> Option<f64> {
        if self.chance(0.25) {
            return None;
        }
        let (low, high) = (range[0].max(1.0).ln(), range[1].max(range[0] + 1.0).ln());
        let raw = self.rng.random_range(low..high).exp();
        let value = match self.rng.random_range(0..10) {
            0..=3 => raw.round(),
            4 | 5 => (raw / 10.0).round() * 10.0,
            6 | 7 => ((raw / 100.0).round() * 100.0).max(100.0),
            _ => (raw * 100.0).round() / 100.0,
        };
        Some(match sign {
            Sign::Debit => -value,
            Sign::Credit => value,
        })
    }

    /// A UPI remark: the label's own half of the time, else one that says nothing.
    fn note(&mut self, notes: &[String]) -> String {
        if self.chance(0.5) {
            self.pick(notes).to_owned()
        } else {
            self.pick(&self.vocabulary.generic_notes).to_owned()
        }
    }

    fn month(&mut self) -> String {
        self.pick(&self.vocabulary.months).to_owned()
    }

    fn date(&mut self) -> String {
        let (day, month, year) = (
            self.rng.random_range(1..29),
            self.rng.random_range(1..13),
            self.rng.random_range(2021..2027),
        );
        let name = &self.vocabulary.months[month - 1];
        match self.rng.random_range(0..4) {
            0 => format!("{day:02}/{month:02}/{year}"),
            1 => format!("{day:02}-{month:02}-{}", year % 100),
            2 => format!("{day:02}-{name}-{year}"),
            _ => format!("{day:02}{name}{}", year % 100),
        }
    }

    /// An IFSC: the bank, `0`, and a branch code (digits mostly, as most branches have).
    fn ifsc(&mut self, bank: &str) -> String {
        if self.chance(0.8) {
            format!("{bank}0{}", self.digits(6))
        } else {
            format!("{bank}0{}", self.alnum(6))
        }
    }

    fn utr(&mut self, bank: &str) -> String {
        match self.rng.random_range(0..3) {
            0 => format!("N{}", self.digits(12)),
            1 => format!("{bank}N{}", self.digits(11)),
            _ => self.digits(16),
        }
    }

    fn card(&mut self) -> String {
        match self.rng.random_range(0..3) {
            0 => format!("XXXXXXXXXXXX{}", self.digits(4)),
            1 => format!("{}XXXXXX{}", self.digits(6), self.digits(4)),
            _ => self.digits(4),
        }
    }

    fn slug(text: &str) -> String {
        text.to_lowercase()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect()
    }

    fn merchant_handle(&mut self, payee: &str) -> String {
        let psp = self.pick(&self.vocabulary.merchant_psps).to_owned();
        match self.rng.random_range(0..5) {
            0 => format!("paytmqr{}@paytm", self.digits(12)),
            1 => format!("q{}@ybl", self.digits(9)),
            2 => format!("{}.{}@{psp}", Self::slug(payee), self.digits(4)),
            _ => format!("{}@{psp}", Self::slug(payee)),
        }
    }

    fn person_handle(&mut self, given: &str, surname: &str) -> String {
        let psp = self.pick(&self.vocabulary.personal_psps).to_owned();
        let (g, s) = (given.to_lowercase(), surname.to_lowercase());
        match self.rng.random_range(0..6) {
            0 | 1 => format!("{}@{psp}", self.digits(10)),
            2 => format!("{g}.{s}@{psp}"),
            3 => format!("{g}{s}{}@{psp}", self.digits(2)),
            4 => format!("{g}{}@{psp}", self.digits(3)),
            _ => format!("{g}{s}@{psp}"),
        }
    }

    /// A label's vocabulary, at random.
    fn pick_label(&mut self) -> (&'v String, &'v LabelVocabulary) {
        let labels = &self.vocabulary.labels;
        let index = self.rng.random_range(0..labels.len());
        labels.iter().nth(index).expect("an index below the length")
    }

    /// The seed phrases and every rule pattern, as bare text.
    fn keywords(&mut self, rules: &RuleTable) {
        for (phrase, name) in SEED_PHRASES {
            for text in [phrase.to_owned(), phrase.to_uppercase()] {
                self.push(text, None, label(name), Split::Train);
            }
        }
        for rule in rules.rules() {
            let category = label(&rule.category);
            self.push(rule.pattern.to_uppercase(), None, category, Split::Train);
        }
    }

    fn corpus(mut self, rules: &RuleTable) -> Vec<Example> {
        self.keywords(rules);
        self.merchants();
        self.local_shops();
        self.people();
        self.salaries();
        self.finance();
        self.cash();
        self.examples
    }
}

mod banking;
mod purchases;
#[cfg(test)]
mod tests;
mod transfers;

//! Text features for the categorizer (categorization spec §2.1 v2 cleaning, §4.7 features):
//! cleaned lowercased text → character 3..5-grams of `" "+token+" "`, word unigrams and bigrams →
//! signed FNV-1a 64 hashing into [`DIM`] buckets → `1 + ln tf` → L2-normalised sparse vector.
//!
//! The hash is FNV-1a 64 over [`HASH_SEED`] (little-endian) followed by the feature's bytes; it is
//! a fixed algorithm, so bucket indices never change between crate versions. Bump
//! [`FEATURES_VERSION`] whenever anything here changes what a text maps to.

use std::collections::BTreeMap;
use std::hash::Hasher;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// Version of the feature extraction; stored in every model header.
pub const FEATURES_VERSION: u32 = 2;
/// Number of hash buckets (2^17).
pub const DIM: u32 = 1 << 17;
/// Smallest and largest character n-gram length.
pub const NGRAM: [usize; 2] = [3, 5];
/// Seed hashed ahead of every feature.
pub const HASH_SEED: u64 = 0x5CA1_E000_0000_0001;

static HANDLE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[\w.-]+@[\w.-]+").unwrap());
static UPI: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?-u:\b)UPI(?-u:\b)[-/]?(\d+\w*)?").unwrap());
static CHANNEL_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u:\b)(POS|ECOM|ATM|MPS|IMPS|NEFT|RTGS|ACH|WDL|MBK)(?-u:\b)").unwrap()
});
static NUMERIC_DATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\d{2}[-/]\d{2}[-/]\d{2,4}").unwrap());
static MONTH_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?-u:\b)\d{1,2}[ /]?(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)([ /]?\d{2,4})?(?-u:\b)",
    )
    .unwrap()
});
static CODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u:\b)[A-Z0-9]*(?:[A-Z]\d+[A-Z]|\d[A-Z]+\d)[A-Z0-9]*(?-u:\b)").unwrap()
});
static DIGIT_LETTER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(\d)([A-Z])").unwrap());
static LETTER_DIGIT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"([A-Z])(\d)").unwrap());
static LONG_NUMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?-u:\b)\d{4,}(?-u:\b)").unwrap());
static FILLER_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u:\b)(TXN|REF|ID|NO|TRANSFER|PAYMENT|TO|BY|FROM|BILL|IN|VIA)(?-u:\b)").unwrap()
});
static NOT_LETTER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[^A-Z\s]").unwrap());

/// The rules' view of a statement text (§2.1 v2 steps 1–7, §3.4): uppercased, `*-_` and
/// handles, UPI references, channel words, dates, codes (IFSCs, order ids: tokens that switch
/// between letters and digits more than once, `ICIC0DC0099`) and long numbers removed, digits
/// split from letters (`79SWIGGY` → `79 SWIGGY`). Filler words (`BILL`, `TRANSFER`, `TO`, …) and punctuation survive:
/// `"UPI/DR/4123/SWIGGY/swiggy@ybl"` → `" DR/ /SWIGGY/ "`.
pub fn rule_view(text: &str) -> String {
    let upper = text.to_uppercase().replace(['*', '-', '_'], " ");
    let text = HANDLE.replace_all(&upper, " ");
    let text = UPI.replace_all(&text, " ");
    let text = CHANNEL_WORDS.replace_all(&text, " ");
    let text = NUMERIC_DATE.replace_all(&text, " ");
    let text = MONTH_DATE.replace_all(&text, " ");
    let text = CODE.replace_all(&text, " ");
    let text = DIGIT_LETTER.replace_all(&text, "$1 $2");
    let text = LETTER_DIGIT.replace_all(&text, "$1 $2");
    LONG_NUMBER.replace_all(&text, " ").into_owned()
}

/// Cleans a statement text for the model (§2.1 in its v2 form, full word filtering), lowercased:
/// `"UPI-REF-123456789-NETFLIX.COM"` → `"netflix com"`, `"79SWIGGY"` → `"swiggy"`.
pub fn clean(text: &str) -> String {
    let text = rule_view(text);
    let text = FILLER_WORDS.replace_all(&text, " ");
    let text = NOT_LETTER.replace_all(&text, " ");
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The versioned feature hash: FNV-1a 64 over [`HASH_SEED`] then `bytes`.
pub fn feature_hash(bytes: &[u8]) -> u64 {
    hash_parts(&[bytes])
}

/// [`feature_hash`] of the concatenated `parts` (FNV-1a reads bytes one at a time, so writing
/// parts in turn is hashing their concatenation).
fn hash_parts(parts: &[&[u8]]) -> u64 {
    let mut hasher = fnv::FnvHasher::default();
    hasher.write(&HASH_SEED.to_le_bytes());
    for part in parts {
        hasher.write(part);
    }
    hasher.finish()
}

/// A feature's bucket in `0..DIM` and its sign (the hash's top bit).
pub fn bucket(bytes: &[u8]) -> (u32, f64) {
    bucket_of_hash(feature_hash(bytes))
}

fn bucket_of_hash(hash: u64) -> (u32, f64) {
    let sign = if hash >> 63 == 1 { -1.0 } else { 1.0 };
    ((hash & u64::from(DIM - 1)) as u32, sign)
}

/// The raw features of a cleaned text: each feature's kind (`c` character n-gram, `w` word, `b`
/// word bigram) and text, sorted as their bytes (kind first) with repeats adjacent, so a run is
/// one feature and its length the term frequency. The texts borrow from `storage` (each token
/// padded with spaces, then each bigram), so no feature is allocated on its own.
fn features<'t>(storage: &'t mut Vec<String>, cleaned: &str) -> Vec<(u8, &'t str)> {
    let tokens: Vec<&str> = cleaned.split_whitespace().collect();
    storage.extend(tokens.iter().map(|token| format!(" {token} ")));
    storage.extend(
        tokens
            .windows(2)
            .map(|pair| format!("{} {}", pair[0], pair[1])),
    );
    let (padded, bigrams) = storage.split_at(tokens.len());
    let mut features = Vec::new();
    for padded in padded {
        let bounds: Vec<usize> = padded
            .char_indices()
            .map(|(i, _)| i)
            .chain([padded.len()])
            .collect();
        for n in NGRAM[0]..=NGRAM[1] {
            features.extend(bounds.windows(n + 1).map(|w| (b'c', &padded[w[0]..w[n]])));
        }
        features.push((b'w', padded.trim_matches(' ')));
    }
    features.extend(bigrams.iter().map(|pair| (b'b', pair.as_str())));
    features.sort_unstable_by(|a, b| (a.0, a.1.as_bytes()).cmp(&(b.0, b.1.as_bytes())));
    features
}

/// A sparse vector over the hash buckets, indices ascending.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SparseVector {
    /// Bucket indices, strictly ascending.
    pub indices: Vec<u32>,
    /// The value of each index.
    pub values: Vec<f32>,
}

impl SparseVector {
    /// The L2-normalised vector of `weights` (zeros dropped; all-zero → empty).
    pub fn normalized(weights: &BTreeMap<u32, f64>) -> Self {
        let norm = weights.values().map(|w| w * w).sum::<f64>().sqrt();
        if norm <= f64::EPSILON {
            return Self::default();
        }
        let (indices, values) = weights
            .iter()
            .filter(|(_, w)| w.abs() > f64::EPSILON)
            .map(|(&i, &w)| (i, (w / norm) as f32))
            .unzip();
        Self { indices, values }
    }

    /// Whether the vector has no non-zero entry.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// The dot product (the cosine when both are normalised).
    pub fn dot(&self, other: &Self) -> f64 {
        let (mut i, mut j, mut sum) = (0, 0, 0.0);
        while i < self.indices.len() && j < other.indices.len() {
            match self.indices[i].cmp(&other.indices[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    sum += f64::from(self.values[i]) * f64::from(other.values[j]);
                    i += 1;
                    j += 1;
                }
            }
        }
        sum
    }

    /// Adds `weight · self` into `acc`.
    pub fn add_to(&self, acc: &mut BTreeMap<u32, f64>, weight: f64) {
        for (&i, &v) in self.indices.iter().zip(&self.values) {
            *acc.entry(i).or_insert(0.0) += weight * f64::from(v);
        }
    }

    /// Whether the indices ascend strictly below [`DIM`] and match the values in number.
    pub fn is_well_formed(&self) -> bool {
        self.indices.len() == self.values.len()
            && self.indices.windows(2).all(|w| w[0] < w[1])
            && self.indices.last().is_none_or(|&i| i < DIM)
    }
}

/// The cleaned text of a transaction's description and merchant.
pub fn transaction_text(description: &str, merchant: &str) -> String {
    clean(&format!("{description} {merchant}"))
}

/// The feature vector of a transaction's description and merchant.
pub fn featurize(description: &str, merchant: &str) -> SparseVector {
    vectorize(&transaction_text(description, merchant))
}

/// The feature vector of an already [`clean`]ed text.
pub fn vectorize(cleaned: &str) -> SparseVector {
    let mut storage = Vec::new();
    let mut weights = BTreeMap::new();
    for run in features(&mut storage, cleaned).chunk_by(|a, b| a == b) {
        let (kind, text) = run[0];
        let (index, sign) = bucket_of_hash(hash_parts(&[&[kind], text.as_bytes()]));
        *weights.entry(index).or_insert(0.0) += sign * (1.0 + (run.len() as f64).ln());
    }
    SparseVector::normalized(&weights)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleaning_keeps_the_merchant_words() {
        assert_eq!(clean("UPI-REF-123456789-NETFLIX.COM"), "netflix com");
        assert_eq!(clean("POS 123456 SWIGGY BANGALORE"), "swiggy bangalore");
        assert_eq!(clean("TO TRANSFER"), "");
        assert_eq!(clean("1234567890"), "");
        assert_eq!(clean("AMAZON*PAYMENTS"), "amazon payments");
        assert_eq!(clean("ZOMATO_FOOD"), "zomato food");
        // The v2 fixes of the §2.1 bug table.
        assert_eq!(clean("79SWIGGY"), "swiggy");
        assert_eq!(clean("CUPID GIFTS"), "cupid gifts");
        assert_eq!(clean("SUPIMA COTTON"), "supima cotton");
        assert_eq!(clean("MCDONALDS 12JAN2024"), "mcdonalds");
        assert_eq!(clean("rent to owner@okhdfc via UPI/123abc"), "rent");
        // Codes go whole instead of leaving letters behind.
        assert_eq!(
            clean("UPI-ZOMATO-ICIC0DC0099-412345 LICIOUS*PHHFE5FD"),
            "zomato licious"
        );
        assert_eq!(
            clean("TATA 1MG ZEE5 SALARY MAY24"),
            "tata mg zee salary may"
        );
        assert_eq!(clean("POS SWIGGY 15-JAN-2025 12 MAR 24"), "swiggy");
        assert_eq!(clean("SALARY FOR JAN 2025"), "salary for jan");
    }

    #[test]
    fn the_rule_view_keeps_filler_words() {
        assert_eq!(
            rule_view("UPI/DR/412345678901/SWIGGY/swiggy@ybl"),
            " DR/ /SWIGGY/ "
        );
        assert_eq!(rule_view("ELECTRICITY BILL"), "ELECTRICITY BILL");
        assert_eq!(rule_view("TRANSFER TO RAHUL 12JAN"), "TRANSFER TO RAHUL  ");
        assert_eq!(clean("TRANSFER TO RAHUL 12JAN"), "rahul");
    }

    #[test]
    fn the_hash_is_fnv1a_64() {
        // Published FNV-1a 64 test vectors, through the same hasher without the seed.
        let plain = |bytes: &[u8]| {
            let mut hasher = fnv::FnvHasher::default();
            hasher.write(bytes);
            hasher.finish()
        };
        assert_eq!(plain(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(plain(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(plain(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn bucket_indices_are_golden() {
        // Changing any of these breaks every stored model: bump FEATURES_VERSION instead.
        // Cross-checked with an independent FNV-1a implementation (Python).
        assert_eq!(bucket(b"wswiggy"), (60420, 1.0));
        assert_eq!(bucket(b"c sw"), (81796, -1.0));
        assert_eq!(bucket(b"bswiggy food"), (78825, 1.0));
    }

    #[test]
    fn features_are_normalised_and_counted() {
        let text = "swiggy";
        let mut storage = Vec::new();
        let found = features(&mut storage, text);
        // " swiggy " has 8 chars: 6 trigrams, 5 four-grams, 4 five-grams, plus the word.
        assert_eq!(found.len(), 6 + 5 + 4 + 1);
        let vector = featurize("POS 4411 SWIGGY", "");
        assert!(vector.is_well_formed());
        assert!((vector.dot(&vector) - 1.0).abs() < 1e-5);
        assert_eq!(vector, featurize("swiggy", ""));
        assert!(featurize("12345", "").is_empty());
        let other = featurize("SWIGGY FOOD ORDER", "Swiggy");
        let cos = vector.dot(&other);
        assert!(cos > 0.3 && cos < 1.0, "{cos}");
    }

    /// The first implementation: every feature an allocated key in a sorted map.
    fn reference(cleaned: &str) -> SparseVector {
        let mut counts: BTreeMap<Vec<u8>, u32> = BTreeMap::new();
        let tokens: Vec<&str> = cleaned.split_whitespace().collect();
        for token in &tokens {
            let padded: Vec<char> = format!(" {token} ").chars().collect();
            for n in NGRAM[0]..=NGRAM[1] {
                for gram in padded.windows(n) {
                    let mut key = vec![b'c'];
                    key.extend(gram.iter().collect::<String>().bytes());
                    *counts.entry(key).or_insert(0) += 1;
                }
            }
            *counts.entry([b"w", token.as_bytes()].concat()).or_insert(0) += 1;
        }
        for pair in tokens.windows(2) {
            let key = [b"b", pair[0].as_bytes(), b" ", pair[1].as_bytes()].concat();
            *counts.entry(key).or_insert(0) += 1;
        }
        let mut weights = BTreeMap::new();
        for (feature, tf) in counts {
            let (index, sign) = bucket(&feature);
            *weights.entry(index).or_insert(0.0) += sign * (1.0 + f64::from(tf).ln());
        }
        SparseVector::normalized(&weights)
    }

    #[test]
    fn vectors_are_bit_for_bit_those_of_the_first_implementation() {
        let dev = include_str!("../../tests/fixtures/categorization_dev.csv");
        let texts = dev.lines().map(clean).chain(
            [
                "",
                "a",
                "ab",
                "  spaced   out  ",
                "swiggy swiggy swiggy",
                "café crème brûlée",
            ]
            .map(String::from),
        );
        for text in texts {
            assert_eq!(vectorize(&text), reference(&text), "{text:?}");
        }
    }
}

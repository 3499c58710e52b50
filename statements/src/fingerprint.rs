//! Transaction fingerprints (ingestion spec §2.6): SHA-256 over the 6-field preimage
//! `D|A|M|S|P|R`, each text field trimmed (Unicode White_Space plus U+FEFF) and upper-cased.
//! Repeats of one fingerprint inside a file (even byte-identical rows) get an occurrence suffix,
//! so all are stored and re-importing the file still changes nothing.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

/// The version stored beside every fingerprint made by [`fingerprint`]; bump it whenever an
/// input (extractor, normalisation) changes, since old rows must be compared with their own.
pub const FINGERPRINT_VERSION: i16 = 2;

/// The six canonical inputs, as strings.
#[derive(Debug, Clone, Copy)]
pub struct FingerprintFields<'a> {
    /// Calendar date `YYYY-MM-DD` (only the first 19 characters of longer values count).
    pub date: &'a str,
    /// Amount with exactly two decimals, `-` for debits.
    pub amount: &'a str,
    /// Final merchant name.
    pub merchant: &'a str,
    /// Stored description.
    pub description: &'a str,
    /// Canonical payment method, or empty.
    pub payment_method: &'a str,
    /// Source or extracted reference, or empty.
    pub reference: &'a str,
}

/// The preimage `D|A|M|S|P|R`.
pub fn preimage(fields: &FingerprintFields<'_>) -> String {
    let date: String = fields.date.chars().take(19).collect();
    [
        date.as_str(),
        fields.amount,
        &canonical(fields.merchant),
        &canonical(fields.description),
        &canonical(fields.payment_method),
        &canonical(fields.reference),
    ]
    .join("|")
}

/// Lower-case hex SHA-256 of the preimage.
pub fn fingerprint(fields: &FingerprintFields<'_>) -> String {
    hex_sha256(preimage(fields).as_bytes())
}

/// The fingerprint of the `occurrence`-th (1-based) distinct row sharing `base` within one file:
/// the first keeps `base`, later ones hash `base#n`.
pub fn with_occurrence(base: &str, occurrence: usize) -> String {
    if occurrence <= 1 {
        base.to_owned()
    } else {
        hex_sha256(format!("{base}#{occurrence}").as_bytes())
    }
}

/// Lower-case hex SHA-256 of `bytes` (also the whole-file hash).
pub fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut out, byte| {
            let _ = write!(out, "{byte:02x}");
            out
        })
}

fn canonical(field: &str) -> String {
    field
        .trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
        .to_uppercase()
}

#[cfg(test)]
mod tests;

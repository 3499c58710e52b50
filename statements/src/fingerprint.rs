//! Transaction fingerprints (ingestion spec §2.6): SHA-256 over the 6-field preimage
//! `D|A|M|S|P|R`, each text field trimmed (Unicode White_Space plus U+FEFF) and upper-cased.
//! Repeats of one fingerprint inside a file (even byte-identical rows) get an occurrence suffix,
//! so all are stored and re-importing the file still changes nothing.

use std::fmt;

use serde::{Serialize, Serializer};
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

/// A transaction fingerprint: a SHA-256 digest, written as lower-case hex wherever it is shown or
/// stored (held as its 32 bytes, so a file's rows do not each carry a 64-character string).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// The SHA-256 of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Fingerprint(Sha256::digest(bytes).into())
    }

    /// The first 64 bits (a key for maps of one file's fingerprints).
    pub fn prefix(&self) -> u64 {
        let mut first = [0u8; 8];
        first.copy_from_slice(&self.0[..8]);
        u64::from_be_bytes(first)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl PartialEq<&str> for Fingerprint {
    fn eq(&self, other: &&str) -> bool {
        hex(&self.0) == *other
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex(&self.0))
    }
}

/// SHA-256 of the preimage (hashed as it is made, without building it).
pub fn fingerprint(fields: &FingerprintFields<'_>) -> Fingerprint {
    let mut hasher = Sha256::new();
    let date_end = fields
        .date
        .char_indices()
        .nth(19)
        .map_or(fields.date.len(), |(i, _)| i);
    hasher.update(&fields.date.as_bytes()[..date_end]);
    hasher.update(b"|");
    hasher.update(fields.amount.as_bytes());
    for field in [
        fields.merchant,
        fields.description,
        fields.payment_method,
        fields.reference,
    ] {
        hasher.update(b"|");
        update_canonical(&mut hasher, field);
    }
    Fingerprint(hasher.finalize().into())
}

/// The fingerprint of the `occurrence`-th (1-based) distinct row sharing `base` within one file:
/// the first keeps `base`, later ones hash `base#n` (`base` in hex).
pub fn with_occurrence(base: Fingerprint, occurrence: usize) -> Fingerprint {
    if occurrence <= 1 {
        base
    } else {
        Fingerprint::of(format!("{base}#{occurrence}").as_bytes())
    }
}

/// Lower-case hex SHA-256 of `bytes` (also the whole-file hash).
pub fn hex_sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    out
}

fn canonical(field: &str) -> String {
    trim(field).to_uppercase()
}

fn trim(field: &str) -> &str {
    field.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}

/// Feeds [`canonical`]`(field)` to `hasher`; ASCII text is upper-cased through a stack buffer.
fn update_canonical(hasher: &mut Sha256, field: &str) {
    let field = trim(field);
    if !field.is_ascii() {
        hasher.update(field.to_uppercase().as_bytes());
        return;
    }
    let mut buffer = [0u8; 128];
    for chunk in field.as_bytes().chunks(buffer.len()) {
        let upper = &mut buffer[..chunk.len()];
        upper.copy_from_slice(chunk);
        upper.make_ascii_uppercase();
        hasher.update(upper);
    }
}

#[cfg(test)]
mod tests;

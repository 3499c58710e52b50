//! Transaction fingerprints (ingestion spec §2.6): SHA-256 over the 6-field preimage
//! `D|A|M|S|P|R`, each text field trimmed (Unicode White_Space plus U+FEFF) and upper-cased.
//! Repeats of one fingerprint inside a file (even byte-identical rows) get an occurrence suffix,
//! so all are stored and re-importing the file still changes nothing.

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

/// Lower-case hex SHA-256 of the preimage (hashed as it is made, without building it).
pub fn fingerprint(fields: &FingerprintFields<'_>) -> String {
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
    hex(&hasher.finalize())
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

//! Unit tests of fingerprints, on the spec's vectors among others.

use serde::Deserialize;

use super::*;

#[derive(Deserialize)]
struct Vectors {
    six_field: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    date: String,
    merchant: String,
    description: String,
    payment_method: String,
    reference: String,
    preimage_utf8: String,
    sha256_hex: String,
}

/// Every six-field vector from the original Python, given the same field strings (the
/// amount string is the one in the preimage: the old code's float formatting is not ours).
#[test]
fn reproduces_the_golden_vectors() {
    let text = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/fingerprint_vectors.json"
    ));
    let vectors: Vectors = serde_json::from_str(text).unwrap();
    assert_eq!(vectors.six_field.len(), 8);
    for v in &vectors.six_field {
        let amount = v.preimage_utf8.split('|').nth(1).unwrap();
        let fields = FingerprintFields {
            date: &v.date,
            amount,
            merchant: &v.merchant,
            description: &v.description,
            payment_method: &v.payment_method,
            reference: &v.reference,
        };
        assert_eq!(preimage(&fields), v.preimage_utf8);
        assert_eq!(fingerprint(&fields), v.sha256_hex.as_str());
    }
}

#[test]
fn endpoint_sample_rows_match_the_spec() {
    let row = |date, amount, merchant, description| FingerprintFields {
        date,
        amount,
        merchant,
        description,
        payment_method: "",
        reference: "",
    };
    assert_eq!(
        fingerprint(&row("2026-01-01", "50.00", "Starbucks", "Coffee")),
        "d4d6daf7d6c73fbb4ff0c81c89381ea041cb4359f209470135ae78e97b1d6ce3"
    );
    assert_eq!(
        fingerprint(&row("2026-01-03", "15.99", "Subway", "Lunch")),
        "dfc30d0fc68b691dfc499709ed841aa8121ba8710e7e97a010e9dfec364abbea"
    );
}

#[test]
fn trims_bom_and_unicode_space_and_upper_cases() {
    let fields = FingerprintFields {
        date: "2026-03-01",
        amount: "1.00",
        merchant: "\u{feff}\u{2003}café ",
        description: "straße",
        payment_method: "",
        reference: "",
    };
    assert_eq!(preimage(&fields), "2026-03-01|1.00|CAFÉ|STRASSE||");
}

#[test]
fn occurrences_are_distinct_and_stable() {
    let base = Fingerprint::of(b"x");
    assert_eq!(base, hex_sha256(b"x").as_str());
    assert_eq!(with_occurrence(base, 1), base);
    let second = with_occurrence(base, 2);
    assert_ne!(second, base);
    assert_eq!(second, with_occurrence(base, 2));
    assert_ne!(second, with_occurrence(base, 3));
    // The suffix is hashed onto the hex text, as stored fingerprints were made.
    assert_eq!(second, hex_sha256(format!("{base}#2").as_bytes()).as_str());
    assert_eq!(second.prefix().to_be_bytes(), second.0[..8]);
    assert_eq!(
        serde_json::to_value(second).unwrap(),
        serde_json::Value::String(second.to_string())
    );
}

/// Hashing the fields as they stream (ASCII through a stack buffer, longer than it, or not
/// ASCII) gives the hash of the preimage.
#[test]
fn streamed_hash_is_the_hash_of_the_preimage() {
    let long = "upi/dr/412345678901/swiggy/yesb/".repeat(9);
    for (merchant, description) in [
        ("Swiggy", "UPI/DR/412345678901/SWIGGY/YESB/swiggy@yesb"),
        (" straße ", "  Café Coffee Day\u{feff} "),
        ("x", long.as_str()),
        ("", ""),
    ] {
        let fields = FingerprintFields {
            date: "2024-03-01T10:15:00.000+05:30",
            amount: "-250.00",
            merchant,
            description,
            payment_method: "upi",
            reference: " 412345678901 ",
        };
        assert_eq!(
            fingerprint(&fields),
            hex_sha256(preimage(&fields).as_bytes()).as_str()
        );
    }
}

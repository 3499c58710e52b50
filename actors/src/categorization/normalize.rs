//! The web client's `normalizeDescription` (categorization spec §2.2), server-side: the key
//! that batches are deduplicated by and that user overrides are stored under. Order numbers,
//! transaction and UPI references, dates, amounts and long numbers are masked so that two
//! payments to the same payee share a key: `"SWIGGY ORDER #12345"` → `"swiggy order #ORDER"`.

use std::sync::LazyLock;

use regex::Regex;

/// Each masking step, in order: pattern and replacement.
static STEPS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        (r"#\d+[-\d]*", "#ORDER"),
        (r"txn_\d+", "txn_XXXXX"),
        (r"upi/([a-z]+)/\d+", "upi/$1/XXXXXXXXX"),
        (r"-\d+@", "-XXXXX@"),
        (r"(?-u:\b)\d{1,2}/\d{1,2}/\d{2,4}(?-u:\b)", "DD/MM/YYYY"),
        (r"(?-u:\b)\d{4}-\d{2}-\d{2}(?-u:\b)", "YYYY-MM-DD"),
        (r"(rs\.?|inr|₹)\s*[\d,]+(\.\d+)?", "$1 XXXX.XX"),
        (r"\d{5,}", "XXXXX"),
    ]
    .into_iter()
    .map(|(pattern, replacement)| (Regex::new(pattern).unwrap(), replacement))
    .collect()
});

/// The normalised key of a description: lowercased, trimmed, whitespace collapsed, with the
/// §2.2 masks applied.
pub fn normalize_description(description: &str) -> String {
    let mut text = description
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for (pattern, replacement) in STEPS.iter() {
        if let std::borrow::Cow::Owned(replaced) = pattern.replace_all(&text, *replacement) {
            text = replaced;
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::normalize_description as key;

    #[test]
    fn masks_what_changes_between_payments_to_one_payee() {
        assert_eq!(key("SWIGGY ORDER #12345"), "swiggy order #ORDER");
        assert_eq!(key("Order #123-456-7 shipped"), "order #ORDER shipped");
        assert_eq!(key("txn_99812 refund"), "txn_XXXXX refund");
        assert_eq!(
            key("UPI/DR/412345678901/SWIGGY/YESB"),
            "upi/dr/XXXXXXXXX/swiggy/yesb"
        );
        assert_eq!(key("UPI-ZEPTO-9876543210@paytm"), "upi-zepto-XXXXX@paytm");
        assert_eq!(
            key("IRCTC  e-ticket 20/01/2025"),
            "irctc e-ticket DD/MM/YYYY"
        );
        assert_eq!(key("Paid on 2025-01-20"), "paid on YYYY-MM-DD");
        assert_eq!(
            key("Refund Rs. 1,250.00 credited"),
            "refund rs. XXXX.XX credited"
        );
        assert_eq!(key("INR 499 NETFLIX"), "inr XXXX.XX netflix");
        assert_eq!(key("NEFT 000123456789 ACME"), "neft XXXXX acme");
        assert_eq!(key(" Swiggy  "), "swiggy");
    }

    #[test]
    fn two_payments_to_one_payee_share_a_key() {
        assert_eq!(
            key("UPI/DR/412345678901/SWIGGY/YESB/swiggy@ybl/Paym"),
            key("upi/dr/400000000002/swiggy/yesb/swiggy@ybl/paym")
        );
        assert_ne!(key("SWIGGY"), key("ZOMATO"));
    }
}

//! The text of a transaction: its length limits (in characters), which every writer uses —
//! imports of files and of JSON rows, and `PATCH /accounts/transactions/{id}` — and the checks
//! behind them. Postgres refuses the NUL character (U+0000) in `text` and `jsonb`, so client
//! fields holding one are refused ([`check`]) and statement cells have it removed
//! ([`strip_nul`]); over-long imported text is cut ([`truncate`]).

use std::fmt::Display;

/// Longest transaction description.
pub const DESCRIPTION: usize = 1000;
/// Longest category.
pub const CATEGORY: usize = 100;
/// Longest merchant name.
pub const MERCHANT: usize = 100;
/// Longest payment method.
pub const PAYMENT_METHOD: usize = 100;
/// Longest reference (UTR, cheque number…).
pub const REFERENCE: usize = 100;

/// Why a client's text field was refused; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// The field holds U+0000, which Postgres cannot store.
    #[error("`{0}` must not contain NUL characters")]
    Nul(String),
    /// The field is longer than its limit.
    #[error("`{0}` must be at most {1} characters")]
    TooLong(String, usize),
}

/// Checks a client's `field` (its name, formatted only on failure): no NUL and at most `max`
/// characters.
pub fn check(field: impl Display, value: &str, max: usize) -> Result<(), TextError> {
    if value.contains('\0') {
        return Err(TextError::Nul(field.to_string()));
    }
    if value.len() > max && value.chars().count() > max {
        return Err(TextError::TooLong(field.to_string(), max));
    }
    Ok(())
}

/// Removes every NUL from `text` (statement cells, whose rows are kept).
pub fn strip_nul(text: &mut String) {
    if text.contains('\0') {
        text.retain(|c| c != '\0');
    }
}

/// Cuts `text` to at most `max` characters (on a character boundary, trailing whitespace
/// dropped); true when it was longer.
pub fn truncate(text: &mut String, max: usize) -> bool {
    // No more bytes than the limit: no more characters either.
    if text.len() <= max {
        return false;
    }
    match text.char_indices().nth(max) {
        Some((end, _)) => {
            text.truncate(end);
            text.truncate(text.trim_end().len());
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_refuses_nul_and_counts_characters_not_bytes() {
        assert_eq!(check("f", "ok\tline\n", 10), Ok(()));
        assert_eq!(check("f", "a\0b", 10), Err(TextError::Nul("f".into())));
        assert_eq!(check("f", &"é".repeat(3), 3), Ok(()));
        assert_eq!(
            check("f", &"é".repeat(4), 3),
            Err(TextError::TooLong("f".into(), 3))
        );
        assert_eq!(
            TextError::Nul("description".into()).to_string(),
            "`description` must not contain NUL characters"
        );
    }

    #[test]
    fn strip_and_truncate() {
        let mut text = "\0a\0b\0".to_owned();
        strip_nul(&mut text);
        assert_eq!(text, "ab");
        let mut text = "ab€d".to_owned();
        assert!(truncate(&mut text, 3));
        assert_eq!(text, "ab€");
        let mut text = "ab cd".to_owned();
        assert!(truncate(&mut text, 3));
        assert_eq!(text, "ab");
        let mut text = "abc".to_owned();
        assert!(!truncate(&mut text, 3));
        assert_eq!(text, "abc");
    }
}

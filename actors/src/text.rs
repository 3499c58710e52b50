//! Text that reaches the database: the one set of length limits (in characters) every writer
//! uses — `PATCH /accounts/transactions/{id}`, imports of files and of JSON rows, the profile,
//! the list filters — and the checks behind them. Postgres refuses the NUL character (U+0000)
//! in `text` and `jsonb`, so client fields holding one are refused ([`check`]) and statement
//! cells have it removed ([`strip_nul`]); over-long imported text is cut ([`truncate`]).

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
/// Longest uploaded file name.
pub const FILENAME: usize = 255;
/// Longest e-mail address (RFC 5321, in bytes as well).
pub const EMAIL: usize = 254;
/// Longest text of a list filter (`q`, `category`, `merchant`).
pub const FILTER: usize = 200;

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

/// `value` without leading and trailing whitespace, once [`check`]ed.
pub fn trimmed(field: impl Display, value: &str, max: usize) -> Result<String, TextError> {
    let value = value.trim();
    check(field, value, max)?;
    Ok(value.to_owned())
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
        assert_eq!(trimmed("f", "  x  ", 1).as_deref(), Ok("x"));
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

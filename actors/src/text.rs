//! Text that reaches the database outside a transaction's fields: the length limits (in
//! characters) of uploaded file names, e-mail addresses and list filters, and [`trimmed`], the
//! check client fields go through. A transaction's limits and the checks themselves (NUL
//! refused, length counted in characters) are [`scale_statements::text`].

use std::fmt::Display;

use scale_statements::text::{check, TextError};

/// Longest uploaded file name.
pub const FILENAME: usize = 255;
/// Longest e-mail address (RFC 5321, in bytes as well).
pub const EMAIL: usize = 254;
/// Longest text of a list filter (`q`, `category`, `merchant`).
pub const FILTER: usize = 200;

/// `value` without leading and trailing whitespace, once [`check`]ed.
pub fn trimmed(field: impl Display, value: &str, max: usize) -> Result<String, TextError> {
    let value = value.trim();
    check(field, value, max)?;
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trimmed_trims_before_checking() {
        assert_eq!(trimmed("f", "  x  ", 1).as_deref(), Ok("x"));
    }
}

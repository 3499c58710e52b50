//! What the parse tests share: reading fixtures (this crate's and the spec's), parsing them, and
//! the views of a parsed statement the tests compare.

use rust_decimal::Decimal;
use scale_statements::pipeline::{parse_file, ParsedStatement};

/// A fixture of this crate (`statements/tests/fixtures/`).
pub fn fixture(name: &str) -> Vec<u8> {
    read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
}

/// A fixture copied from the spec (`tests/fixtures/` at the repository root).
pub fn spec_fixture(name: &str) -> Vec<u8> {
    read(format!(
        "{}/../tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
}

fn read(path: String) -> Vec<u8> {
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// This crate's fixture `name`, parsed (named as itself).
pub fn parse(name: &str) -> ParsedStatement {
    parse_bytes(&fixture(name), name)
}

/// The spec's fixture `name`, parsed.
pub fn parse_spec(name: &str) -> ParsedStatement {
    parse_bytes(&spec_fixture(name), name)
}

/// `bytes` parsed as a file named `name`.
pub fn parse_bytes(bytes: &[u8], name: &str) -> ParsedStatement {
    parse_file(bytes, name, None).unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

/// The signed amounts, in order.
pub fn amounts(statement: &ParsedStatement) -> Vec<Decimal> {
    statement.transactions.iter().map(|t| t.amount).collect()
}

/// Decimals from their text.
pub fn decs(texts: &[&str]) -> Vec<Decimal> {
    texts.iter().map(|t| t.parse().unwrap()).collect()
}

/// `(date, signed amount, description)` of every transaction, in order.
pub fn rows(statement: &ParsedStatement) -> Vec<(String, String, String)> {
    statement
        .transactions
        .iter()
        .map(|t| {
            (
                t.date.to_string(),
                t.amount.to_string(),
                t.description.clone(),
            )
        })
        .collect()
}

/// Expected [`rows`] from string slices.
pub fn expect(rows: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    rows.iter()
        .map(|(d, a, t)| ((*d).to_owned(), (*a).to_owned(), (*t).to_owned()))
        .collect()
}

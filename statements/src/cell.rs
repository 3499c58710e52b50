//! The raw cell type every statement reader produces, typed where the source is typed.

use chrono::NaiveDateTime;

/// One cell of a statement row. Text formats (CSV, JSON strings) yield `Text`; spreadsheets
/// yield typed cells so dates and numbers are never re-parsed from display strings.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// No value.
    Empty,
    /// Text as written in the source.
    Text(String),
    /// A numeric cell (spreadsheet number, JSON number).
    Number(f64),
    /// A date or date-time cell (spreadsheet date); the calendar date is statement-local.
    DateTime(NaiveDateTime),
    /// A boolean cell.
    Bool(bool),
    /// A cell with content that was not read: the first pass over a table asks only for the
    /// columns it needs ([`crate::source::Table::rows_reading`]).
    Unread,
}

impl Cell {
    /// True when the cell holds nothing but whitespace.
    pub fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(text) => text.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell with every NUL removed from its text (Postgres cannot store U+0000).
    pub fn without_nul(self) -> Cell {
        match self {
            Cell::Text(mut text) => {
                crate::text::strip_nul(&mut text);
                Cell::Text(text)
            }
            other => other,
        }
    }
}

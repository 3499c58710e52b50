//! Reading an uploaded file into rows of cells: format sniffing (magic bytes before the
//! extension), text decoding (BOM, UTF-8, Windows-1252 fallback), delimited text with a sniffed
//! delimiter and RFC 4180 quoting, JSON rows, and spreadsheets via [`crate::workbook`].

use std::borrow::Cow;
use std::io::{Cursor, Read};

use serde_json::{Map, Value};

use crate::cell::Cell;
use crate::error::StatementError;
use crate::workbook::{self, WorkbookError, MAX_ROWS};

/// Extensions accepted for upload.
pub const ALLOWED_EXTENSIONS: &[&str] = &["csv", "tsv", "txt", "json", "xls", "xlsx", "xlsm"];

/// The detected kind of file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Delimited text with this delimiter.
    Delimited(u8),
    /// JSON rows.
    Json,
    /// OOXML workbook (zip).
    Xlsx,
    /// OLE2 container: legacy `.xls`, or an encrypted OOXML workbook.
    Ole2,
}

impl Format {
    /// The name reported as `detected_format`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Delimited(b'\t') => "tsv",
            Format::Delimited(_) => "csv",
            Format::Json => "json",
            Format::Xlsx => "xlsx",
            Format::Ole2 => "ole2",
        }
    }
}

/// A stream of table rows; delimited text is read record by record, never all at once.
pub type RowStream<'a> = Box<dyn Iterator<Item = Result<Vec<Cell>, StatementError>> + 'a>;

/// Rows read from a file: either one table (first row possibly preceded by a preamble) or JSON
/// objects, each with its own keys.
pub enum Rows<'a> {
    /// Spreadsheet or delimited rows.
    Table(RowStream<'a>),
    /// JSON objects (`None` for array items that are not objects).
    Objects(Vec<Option<Map<String, Value>>>),
}

/// Checks the extension, sniffs the format and reads the rows.
pub fn read<'a>(
    bytes: &'a [u8],
    filename: &str,
    password: Option<&str>,
) -> Result<(Format, Rows<'a>), StatementError> {
    let extension = filename
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    if !ALLOWED_EXTENSIONS.contains(&extension.as_str()) {
        return Err(StatementError::UnsupportedFileType(format!(
            "`{filename}` is not one of .{}",
            ALLOWED_EXTENSIONS.join(", .")
        )));
    }
    if bytes.is_empty() {
        return Err(StatementError::Unreadable("the file is empty".into()));
    }
    if workbook::is_zip(bytes) || workbook::is_ole2(bytes) {
        let format = if workbook::is_zip(bytes) {
            Format::Xlsx
        } else {
            Format::Ole2
        };
        let rows = workbook::read_first_sheet(bytes, password).map_err(StatementError::from)?;
        return Ok((format, Rows::Table(Box::new(rows.into_iter().map(Ok)))));
    }
    if matches!(extension.as_str(), "xls" | "xlsx" | "xlsm") {
        return Err(StatementError::Unreadable(format!(
            "`{filename}` is not a spreadsheet (no Excel signature)"
        )));
    }
    let text = decode(bytes)?;
    let body = text.trim_start();
    if body.starts_with('{') || body.starts_with('[') || extension == "json" {
        return Ok((Format::Json, Rows::Objects(json_objects(body)?)));
    }
    let delimiter = if extension == "tsv" {
        b'\t'
    } else {
        sniff_delimiter(&text)
    };
    Ok((
        Format::Delimited(delimiter),
        Rows::Table(delimited(text, delimiter)),
    ))
}

/// Strips a UTF-8 BOM and decodes UTF-8, falling back to Windows-1252. Refuses binary data.
fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, StatementError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.contains(&0) {
        return Err(StatementError::Unreadable(
            "binary content (NUL bytes) in a text file".into(),
        ));
    }
    Ok(match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => {
            encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(bytes)
                .0
        }
    })
}

/// The delimiter among `, \t | ;` that splits the first non-blank line into the most fields
/// (ties go to the earlier one); quotes are respected.
fn sniff_delimiter(text: &str) -> u8 {
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    let count = |delimiter: u8| {
        let mut in_quotes = false;
        line.bytes()
            .filter(|&b| {
                if b == b'"' {
                    in_quotes = !in_quotes;
                }
                !in_quotes && b == delimiter
            })
            .count()
    };
    [b',', b'\t', b'|', b';']
        .into_iter()
        .fold((b',', 0), |best, d| {
            let n = count(d);
            if n > best.1 {
                (d, n)
            } else {
                best
            }
        })
        .0
}

/// Streams delimited records as text cells (RFC 4180 quoting, ragged rows allowed).
fn delimited<'a>(text: Cow<'a, str>, delimiter: u8) -> RowStream<'a> {
    let input: Box<dyn Read + 'a> = match text {
        Cow::Borrowed(text) => Box::new(text.as_bytes()),
        Cow::Owned(text) => Box::new(Cursor::new(text.into_bytes())),
    };
    let reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    Box::new(reader.into_records().enumerate().map(|(index, record)| {
        if index >= MAX_ROWS {
            return Err(StatementError::TooLarge(format!(
                "more than {MAX_ROWS} rows"
            )));
        }
        let record = record
            .map_err(|e| StatementError::Unreadable(format!("malformed delimited text: {e}")))?;
        Ok(record
            .iter()
            .map(|field| Cell::Text(field.to_owned()))
            .collect())
    }))
}

/// `[...]` or `{"transactions": [...]}`; items that are not objects become `None`.
pub fn json_objects(text: &str) -> Result<Vec<Option<Map<String, Value>>>, StatementError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| StatementError::Unreadable(format!("invalid JSON: {e}")))?;
    let items = match value {
        Value::Array(items) => items,
        Value::Object(mut object) => match object.remove("transactions") {
            Some(Value::Array(items)) => items,
            _ => {
                return Err(StatementError::Unreadable(
                    "JSON must be an array of rows or {\"transactions\": [...]}".into(),
                ))
            }
        },
        _ => {
            return Err(StatementError::Unreadable(
                "JSON must be an array of rows".into(),
            ))
        }
    };
    if items.len() > MAX_ROWS {
        return Err(StatementError::TooLarge(format!(
            "more than {MAX_ROWS} rows"
        )));
    }
    Ok(items
        .into_iter()
        .map(|item| match item {
            Value::Object(object) => Some(object),
            _ => None,
        })
        .collect())
}

impl From<WorkbookError> for StatementError {
    fn from(err: WorkbookError) -> Self {
        match err {
            WorkbookError::PasswordRequired => StatementError::PasswordRequired,
            WorkbookError::InvalidPassword => StatementError::InvalidPassword,
            WorkbookError::UnsupportedEncryption(why) => StatementError::UnsupportedEncryption(why),
            WorkbookError::Unreadable(why) => StatementError::Unreadable(why),
            WorkbookError::TooLarge(why) => StatementError::TooLarge(why),
        }
    }
}

#[cfg(test)]
mod tests;

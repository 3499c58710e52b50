//! Reading an uploaded file into rows of cells: format sniffing (content first, ingestion spec
//! §1.1: the extension only breaks ties, so SBI's tab-separated "Excel" file or a bank's HTML
//! table named `.xls` is read as what it is), text decoding (UTF-8 and UTF-16 BOMs, UTF-16
//! without one, UTF-8, Windows-1252 for the bytes that are not UTF-8), delimited text with a
//! sniffed delimiter and RFC 4180 quoting, JSON rows, HTML tables via [`html`], and
//! spreadsheets via [`crate::workbook`].

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::cell::Cell;
use crate::error::StatementError;
use crate::header::HEADER_SCAN_ROWS;
use crate::workbook::{self, WorkbookError, MAX_ROWS};

pub mod html;

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
    /// An HTML page holding the statement as a `<table>`.
    Html,
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
            Format::Html => "html",
        }
    }
}

/// A stream of table rows; delimited text is read record by record, never all at once.
pub type RowStream<'a> = Box<dyn Iterator<Item = Result<Vec<Cell>, StatementError>> + 'a>;

/// A table found in a file, which can be streamed more than once (the parse reads it twice
/// rather than holding every row).
pub enum Table<'a> {
    /// Delimited text, decoded, with its delimiter.
    Delimited {
        /// The decoded text.
        text: Cow<'a, str>,
        /// The sniffed delimiter.
        delimiter: u8,
    },
    /// An HTML page holding the table.
    Html(Cow<'a, str>),
    /// A spreadsheet's first sheet, read whole.
    Grid(Vec<Vec<Cell>>),
}

impl Table<'_> {
    /// Streams the table's rows from the start.
    pub fn rows(&self) -> Result<RowStream<'_>, StatementError> {
        self.rows_reading(&Reading::All)
    }

    /// [`rows`](Self::rows), with delimited rows read as `reading` says.
    pub fn rows_reading(&self, reading: &Reading) -> Result<RowStream<'_>, StatementError> {
        match self {
            Table::Delimited { text, delimiter } => {
                Ok(delimited(text, *delimiter, reading.clone()))
            }
            Table::Html(text) => html::rows(Cow::Borrowed(text)),
            Table::Grid(rows) => Ok(Box::new(rows.iter().cloned().map(Ok))),
        }
    }
}

/// Which cells of a delimited row are read.
#[derive(Debug, Clone)]
pub enum Reading {
    /// Every cell.
    All,
    /// In a row of `width` cells (the header's), only the `columns` marked true; another
    /// non-blank cell is [`Cell::Unread`]. A row of another width is read whole.
    Columns {
        /// Which columns to read.
        columns: Vec<bool>,
        /// The cell counts of rows that are read in part.
        width: std::ops::RangeInclusive<usize>,
    },
}

/// Rows read from a file: either one table (first row possibly preceded by a preamble) or JSON
/// objects, each with its own keys.
pub enum Rows<'a> {
    /// Spreadsheet, HTML table or delimited rows.
    Table(Table<'a>),
    /// JSON objects (`None` for array items that are not objects).
    Objects(Vec<Option<Map<String, Value>>>),
}

/// Checks the extension, sniffs the format and reads the rows. Content decides, in this order:
/// workbook signatures (zip, OLE2), then the decoded text: JSON (`{`/`[`), HTML with a table,
/// delimited text. The extension only breaks ties: `.json` text is JSON, `.tsv` text is
/// tab-separated, and a spreadsheet name (`.xls`…) refuses content that is not text.
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
        return Ok((format, Rows::Table(Table::Grid(rows))));
    }
    let spreadsheet = matches!(extension.as_str(), "xls" | "xlsx" | "xlsm");
    let text = decode(bytes)?;
    if spreadsheet && !looks_like_text(&text) {
        return Err(StatementError::Unreadable(format!(
            "`{filename}` is neither a spreadsheet (no Excel signature) nor text"
        )));
    }
    let body = text.trim_start();
    if body.starts_with('{') || body.starts_with('[') {
        return Ok((Format::Json, Rows::Objects(json_objects(body)?)));
    }
    if html::is_markup(body) {
        if !html::is_html(body) {
            return Err(StatementError::Unreadable(
                "an HTML page without a table".into(),
            ));
        }
        // Checked now, so that a page without a usable table is refused before any row is read.
        drop(html::rows(Cow::Borrowed(&text))?);
        return Ok((Format::Html, Rows::Table(Table::Html(text))));
    }
    if extension == "json" {
        return Ok((Format::Json, Rows::Objects(json_objects(body)?)));
    }
    let delimiter = if extension == "tsv" {
        b'\t'
    } else {
        sniff_delimiter(&text)
    };
    Ok((
        Format::Delimited(delimiter),
        Rows::Table(Table::Delimited { text, delimiter }),
    ))
}

/// Decodes text: a UTF-8 BOM is stripped; a UTF-16 BOM (Excel's "Unicode Text"), or the NUL
/// pattern of BOM-less UTF-16, selects UTF-16; otherwise UTF-8, each byte that is not part of
/// valid UTF-8 read as Windows-1252 (see [`decode_8bit`]). Refuses binary data (NULs).
fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, StatementError> {
    let binary = || StatementError::Unreadable("binary content (NUL bytes) in a text file".into());
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return decode_8bit(rest).ok_or_else(binary);
    }
    let utf16 = if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        Some((encoding_rs::UTF_16LE, rest))
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        Some((encoding_rs::UTF_16BE, rest))
    } else {
        utf16_without_bom(bytes).map(|encoding| (encoding, bytes))
    };
    match utf16 {
        Some((encoding, rest)) => {
            let (text, _) = encoding.decode_without_bom_handling(rest);
            if text.contains('\0') {
                return Err(binary());
            }
            Ok(Cow::Owned(text.into_owned()))
        }
        None => decode_8bit(bytes).ok_or_else(binary),
    }
}

/// UTF-16 without a BOM, told by its NULs: in the first KiB, most code units of ASCII text
/// have one zero byte, always on the same side.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let sample = &bytes[..bytes.len().min(1024) & !1];
    let units = sample.len() / 2;
    if units < 2 {
        return None;
    }
    let zeros = |offset: usize| {
        sample
            .iter()
            .skip(offset)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
    };
    let (even, odd) = (zeros(0), zeros(1));
    let mostly = |n: usize| n * 10 >= units * 7;
    let rarely = |n: usize| n * 10 <= units;
    if mostly(odd) && rarely(even) {
        Some(encoding_rs::UTF_16LE)
    } else if mostly(even) && rarely(odd) {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    }
}

/// Decodes 8-bit text, `None` when it holds a NUL. Valid UTF-8 is borrowed. Otherwise, when
/// the valid multi-byte UTF-8 characters outnumber the invalid bytes (a UTF-8 export with a
/// stray Windows-1252 byte, whose `₹` must survive), only the invalid bytes are read as
/// Windows-1252; else the whole text is Windows-1252.
fn decode_8bit(bytes: &[u8]) -> Option<Cow<'_, str>> {
    if bytes.contains(&0) {
        return None;
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Some(Cow::Borrowed(text));
    }
    let (mut multibyte, mut invalid) = (0usize, 0usize);
    for chunk in bytes.utf8_chunks() {
        multibyte += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        invalid += chunk.invalid().len();
    }
    let windows_1252 = |bytes| {
        encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(bytes)
            .0
    };
    if multibyte <= invalid {
        return Some(Cow::Owned(windows_1252(bytes).into_owned()));
    }
    let mut text = String::with_capacity(bytes.len() + invalid * 2);
    for chunk in bytes.utf8_chunks() {
        text.push_str(chunk.valid());
        text.push_str(&windows_1252(chunk.invalid()));
    }
    Some(Cow::Owned(text))
}

/// False when control characters (other than tab, line feed, carriage return and form feed)
/// or U+FFFD make up more than 2% of the first 4,096 characters: binary noise read as text.
fn looks_like_text(text: &str) -> bool {
    let (mut chars, mut noise) = (0usize, 0usize);
    for c in text.chars().take(4096) {
        chars += 1;
        if (c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0C')) || c == '\u{FFFD}' {
            noise += 1;
        }
    }
    noise * 50 <= chars
}

/// The delimiter among `, \t | ;` that splits the first [`HEADER_SCAN_ROWS`] non-blank
/// records most consistently: the one whose most frequent field count (of at least two
/// fields) is shared by the most records, then the one giving more fields, then the earlier
/// one. A preamble line (`Address : 12, MG Road`) or grouped amounts (`1,23,456.00` in
/// tab-separated text) therefore do not outvote the table. Quotes are respected.
fn sniff_delimiter(text: &str) -> u8 {
    // A quote left open must not make the sniff read a whole 10 MiB file.
    let sample = &text.as_bytes()[..text.len().min(256 << 10)];
    let score = |delimiter: u8| {
        let mut counts = Vec::with_capacity(HEADER_SCAN_ROWS);
        let (mut fields, mut blank, mut in_quotes) = (1usize, true, false);
        for &b in sample.iter().chain(std::iter::once(&b'\n')) {
            match b {
                b'"' => {
                    in_quotes = !in_quotes;
                    blank = false;
                }
                b'\n' if !in_quotes => {
                    if !blank {
                        counts.push(fields);
                        if counts.len() == HEADER_SCAN_ROWS {
                            break;
                        }
                    }
                    (fields, blank) = (1, true);
                }
                _ if b == delimiter && !in_quotes => fields += 1,
                b' ' | b'\r' => {}
                _ => blank = false,
            }
        }
        counts
            .iter()
            .filter(|&&n| n >= 2)
            .map(|&n| (counts.iter().filter(|&&m| m == n).count(), n))
            .max()
            .unwrap_or_default()
    };
    let mut best = (b',', score(b','));
    for delimiter in [b'\t', b'|', b';'] {
        let candidate = score(delimiter);
        if candidate > best.1 {
            best = (delimiter, candidate);
        }
    }
    best.0
}

/// Streams delimited records as text cells (RFC 4180 quoting, ragged rows allowed).
fn delimited(text: &str, delimiter: u8, reading: Reading) -> RowStream<'_> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    // One record buffer for the whole file; each row's cells are copied out of it.
    let mut record = csv::StringRecord::new();
    let mut index = 0;
    Box::new(std::iter::from_fn(move || {
        let read = match reader.read_record(&mut record) {
            Ok(true) => Ok(()),
            Ok(false) => return None,
            Err(e) => Err(e),
        };
        let row = if index >= MAX_ROWS {
            Err(StatementError::TooLarge(format!(
                "more than {MAX_ROWS} rows"
            )))
        } else {
            read.map_err(|e| StatementError::Unreadable(format!("malformed delimited text: {e}")))
                .map(|()| match &reading {
                    Reading::Columns { columns, width } if width.contains(&record.len()) => record
                        .iter()
                        .zip(columns)
                        .map(|(field, &read)| match field {
                            _ if read => Cell::Text(field.to_owned()),
                            // (Delimited text never holds a NUL: `decode` refuses it.)
                            _ if field.trim().is_empty() => Cell::Empty,
                            _ => Cell::Unread,
                        })
                        .collect(),
                    _ => record
                        .iter()
                        .map(|field| Cell::Text(field.to_owned()))
                        .collect(),
                })
        };
        index += 1;
        Some(row)
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

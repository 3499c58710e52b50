//! The whole parse of one upload: rows → header → drafts → transactions, with skip and
//! truncation counts. Postgres cannot store NUL, so a statement file's cells (and JSON keys)
//! lose theirs here, while JSON rows a client sends are refused when they hold one.

use std::fmt::{self, Display};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::cell::Cell;
use crate::error::StatementError;
use crate::fingerprint::hex_sha256;
use crate::header::{
    detect_header, normalize_header, Column, ColumnMap, DATA_SAMPLE_ROWS, HEADER_SCAN_ROWS,
};
use crate::rows::{self, ParsedTransaction, Realign, Settled, Skipped, Truncated};
use crate::source::{self, Format, RowStream, Rows};
use crate::text;
use crate::warning::Warning;

/// The outcome of parsing one file (nothing written).
#[derive(Debug, Clone, Serialize)]
pub struct ParsedStatement {
    /// Kept transactions, in source order.
    pub transactions: Vec<ParsedTransaction>,
    /// Rows left out, by reason.
    pub skipped: Skipped,
    /// Kept rows whose text was cut to its limit, by field.
    pub truncated: Truncated,
    /// SHA-256 of the uploaded bytes (before any decryption), lower-case hex.
    pub file_hash: String,
    /// `csv`, `tsv`, `json`, `html`, `xlsx` or `ole2`.
    pub detected_format: &'static str,
    /// What the parser decided that the user should check (empty when nothing).
    pub warnings: Vec<Warning>,
}

/// Transactions, skip counts and warnings of one parse, before the file-level facts are added.
#[derive(Debug, Default)]
struct Outcome {
    transactions: Vec<ParsedTransaction>,
    skipped: Skipped,
    warnings: Vec<Warning>,
}

/// Parses an uploaded file. CPU-bound: call it on a blocking thread.
pub fn parse_file(
    bytes: &[u8],
    filename: &str,
    password: Option<&str>,
) -> Result<ParsedStatement, StatementError> {
    let file_hash = hex_sha256(bytes);
    let (format, rows) = source::read(bytes, filename, password)?;
    let outcome = match rows {
        Rows::Table(rows) => table(rows, format)?,
        Rows::Objects(objects) => objects_to_transactions(objects)?,
    };
    Ok(statement(outcome, file_hash, format.name()))
}

/// Parses JSON rows sent in a request body (`POST /ingest/import` with JSON). A NUL in a key or
/// a string value, or a `category` over [`text::CATEGORY`] characters, is
/// [`StatementError::Validation`] naming the row and the field (`transactions[3].description`).
pub fn parse_objects(
    objects: Vec<Option<Map<String, Value>>>,
    file_hash: String,
) -> Result<ParsedStatement, StatementError> {
    check_request_rows(&objects)?;
    Ok(statement(
        objects_to_transactions(objects)?,
        file_hash,
        "json",
    ))
}

/// Checks the keys and string values of rows a client sent (see [`parse_objects`]).
fn check_request_rows(objects: &[Option<Map<String, Value>>]) -> Result<(), StatementError> {
    for (index, object) in objects.iter().enumerate() {
        for (key, value) in object.iter().flatten() {
            let field = RowField(index, key);
            text::check(field, key, usize::MAX)?;
            if let Value::String(value) = value {
                // Only a value longer in bytes can be over the limit in characters.
                let category = value.len() > text::CATEGORY && normalize_header(key) == "category";
                let max = if category { text::CATEGORY } else { usize::MAX };
                text::check(field, value, max)?;
            }
        }
    }
    Ok(())
}

/// The name of a request row's field (`transactions[3].description`), formatted only when an
/// error shows it.
#[derive(Clone, Copy)]
struct RowField<'a>(usize, &'a str);

impl Display for RowField<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "transactions[{}].{}", self.0, self.1.escape_debug())
    }
}

/// The parse result, with the truncation counts of its transactions added up (and a warning
/// when any text was cut).
fn statement(
    mut outcome: Outcome,
    file_hash: String,
    detected_format: &'static str,
) -> ParsedStatement {
    let mut truncated = Truncated::default();
    for tx in &outcome.transactions {
        truncated.add(tx.truncated);
    }
    if let Some(warning) = truncation_warning(&truncated) {
        outcome.warnings.push(warning);
    }
    ParsedStatement {
        transactions: outcome.transactions,
        skipped: outcome.skipped,
        truncated,
        file_hash,
        detected_format,
        warnings: outcome.warnings,
    }
}

/// `text_truncated` naming each field that was cut, how often and to what limit.
fn truncation_warning(truncated: &Truncated) -> Option<Warning> {
    let cut: Vec<String> = [
        ("descriptions", truncated.description, text::DESCRIPTION),
        ("merchant names", truncated.merchant_name, text::MERCHANT),
        ("references", truncated.reference, text::REFERENCE),
        (
            "payment methods",
            truncated.payment_method,
            text::PAYMENT_METHOD,
        ),
    ]
    .into_iter()
    .filter(|(_, count, _)| *count > 0)
    .map(|(field, count, limit)| format!("{count} {field} (to {limit} characters)"))
    .collect();
    (!cut.is_empty()).then(|| {
        Warning::new(
            "text_truncated",
            format!(
                "cut to their limits: {}; the source cells are kept whole in raw_data",
                cut.join(", ")
            ),
        )
    })
}

/// Finds the header among the first rows (with a few more read as a sample of the data), then
/// turns each following row into a draft as it streams by: only the drafts are held, never the
/// whole table. Cells lose their NULs; delimited rows are first lined up with the header
/// ([`Realign`]).
fn table(rows: RowStream<'_>, format: Format) -> Result<Outcome, StatementError> {
    let mut rows =
        rows.map(|row| row.map(|cells| cells.into_iter().map(Cell::without_nul).collect()));
    // The rows past the scanned ones only inform the header scores and the description
    // choice: an error among them waits for its turn in the stream.
    let head_rows = HEADER_SCAN_ROWS + DATA_SAMPLE_ROWS;
    let mut head = Vec::with_capacity(head_rows);
    let mut pending = None;
    for row in rows.by_ref().take(head_rows) {
        match row {
            Ok(row) => head.push(row),
            Err(error) if head.len() >= HEADER_SCAN_ROWS => {
                pending = Some(Err(error));
                break;
            }
            Err(error) => return Err(error),
        }
    }
    let (header_index, map) = detect_header(&head);
    if map.get(Column::Date).is_none() || !has_amount(&map) {
        return Err(StatementError::NoHeaderRow);
    }
    let headers: Vec<String> = head[header_index]
        .iter()
        .map(|cell| match cell {
            Cell::Text(text) => text.trim().to_owned(),
            _ => String::new(),
        })
        .collect();
    let delimiter = match format {
        Format::Delimited(delimiter) => Some(delimiter),
        _ => None,
    };
    let mut realign = Realign::new(&headers, &map, delimiter);
    let mut skipped = Skipped::default();
    let mut drafts = Vec::new();
    let buffered = head
        .into_iter()
        .skip(header_index + 1)
        .map(Ok)
        .chain(pending);
    for (offset, cells) in buffered.chain(rows).enumerate() {
        let cells = cells?;
        if cells.iter().all(Cell::is_blank) {
            continue;
        }
        let source_row = header_index + offset + 2;
        let drafted = realign
            .fit(cells, source_row)
            .and_then(|cells| rows::draft(&cells, &headers, &map, source_row));
        match drafted {
            Ok(draft) => drafts.push(draft),
            Err(reason) => skipped.count(reason),
        }
    }
    let warnings = realign.warnings();
    let settled = rows::settle(drafts, Some((&headers, &map)))?;
    let status_sign = rows::status_decides_sign(map.get(Column::Status).is_some(), &settled.rows);
    Ok(finish_all(settled, status_sign, skipped, warnings))
}

fn objects_to_transactions(
    objects: Vec<Option<Map<String, Value>>>,
) -> Result<Outcome, StatementError> {
    let mut skipped = Skipped::default();
    let mut drafts = Vec::with_capacity(objects.len());
    let mut has_status = Vec::with_capacity(objects.len());
    for (index, object) in objects.into_iter().enumerate() {
        let Some(object) = object else {
            skipped.invalid_row += 1;
            continue;
        };
        let (headers, cells): (Vec<String>, Vec<Cell>) = object
            .into_iter()
            .map(|(mut key, value)| {
                text::strip_nul(&mut key);
                (key, json_cell(value).without_nul())
            })
            .unzip();
        let map = ColumnMap::from_headers(headers.iter().map(String::as_str));
        match rows::draft(&cells, &headers, &map, index + 1) {
            Ok(draft) => {
                has_status.push(map.get(Column::Status).is_some());
                drafts.push(draft);
            }
            Err(reason) => skipped.count(reason),
        }
    }
    let settled = rows::settle(drafts, None)?;
    let status_sign = rows::status_decides_sign(
        has_status.iter().all(|s| *s) && !has_status.is_empty(),
        &settled.rows,
    );
    Ok(finish_all(settled, status_sign, skipped, Vec::new()))
}

fn finish_all(
    settled: Settled,
    status_sign: bool,
    mut skipped: Skipped,
    mut warnings: Vec<Warning>,
) -> Outcome {
    skipped.invalid_row += settled.invalid_rows;
    warnings.extend(settled.warnings);
    let mut transactions = Vec::with_capacity(settled.rows.len());
    for row in settled.rows {
        match rows::finish(row, status_sign) {
            Ok(tx) => transactions.push(tx),
            Err(reason) => skipped.count(reason),
        }
    }
    rows::number_repeats(&mut transactions);
    Outcome {
        transactions,
        skipped,
        warnings,
    }
}

fn has_amount(map: &ColumnMap) -> bool {
    [Column::Amount, Column::Debit, Column::Credit]
        .into_iter()
        .any(|c| map.get(c).is_some())
}

fn json_cell(value: Value) -> Cell {
    match value {
        Value::Null => Cell::Empty,
        Value::Bool(b) => Cell::Bool(b),
        Value::Number(n) => n.as_f64().map_or(Cell::Empty, Cell::Number),
        Value::String(s) => Cell::Text(s),
        other => Cell::Text(other.to_string()),
    }
}

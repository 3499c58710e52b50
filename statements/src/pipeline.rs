//! The whole parse of one upload: rows → header → drafts → transactions, with skip and
//! truncation counts. Postgres cannot store NUL, so a statement file's cells (and JSON keys)
//! lose theirs here, while JSON rows a client sends are refused when they hold one.

use std::fmt::{self, Display};
use std::iter::Peekable;
use std::ops::ControlFlow;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::cell::Cell;
use crate::error::StatementError;
use crate::fingerprint::hex_sha256;
use crate::header::{
    detect_header, normalize_header, Column, ColumnMap, DATA_SAMPLE_ROWS, HEADER_SCAN_ROWS,
};
use crate::rows::{
    self, Blocks, Drafts, Facts, ParsedTransaction, RawKeys, Realign, Repeats, Resolved, Skipped,
    Truncated,
};
use crate::source::{self, Format, Reading, Rows, Table};
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

/// What a parse found besides its transactions, known once every row is finished.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Transactions handed out.
    pub transactions: usize,
    /// Rows left out, by reason.
    pub skipped: Skipped,
    /// Kept rows whose text was cut to its limit, by field.
    pub truncated: Truncated,
    /// SHA-256 of the uploaded bytes (or the client's file hash), lower-case hex.
    pub file_hash: String,
    /// See [`ParsedStatement::detected_format`].
    pub detected_format: &'static str,
    /// What the parser decided that the user should check (empty when nothing).
    pub warnings: Vec<Warning>,
}

/// A file after its first pass: the header found, the file-wide decisions made and every
/// row's date and money settled, while the rest of each row waits in the source for
/// [`Prepared::finish`]. Holds the source and a few dozen bytes per row, never every row.
pub struct Prepared<'a> {
    source: Source<'a>,
    rows: Blocks<Resolved>,
    status_sign: bool,
    skipped: Skipped,
    warnings: Vec<Warning>,
    file_hash: String,
    detected_format: &'static str,
}

/// What the second pass reads the rows' other facts from.
enum Source<'a> {
    Table(Table<'a>, Layout),
    Objects(Vec<Option<Map<String, Value>>>),
}

/// What the first pass read, before the file-wide decisions.
struct FirstPass {
    drafts: Drafts,
    skipped: Skipped,
    warnings: Vec<Warning>,
    /// Whether the rows have a status column (for the Google Pay rule).
    status_column: bool,
}

/// Where a table's rows are and how its columns map.
struct Layout {
    header_index: usize,
    headers: Vec<String>,
    keys: RawKeys,
    map: ColumnMap,
    delimiter: Option<u8>,
}

/// Runs the first pass over an uploaded file. CPU-bound: call it on a blocking thread.
pub fn prepare<'a>(
    bytes: &'a [u8],
    filename: &str,
    password: Option<&str>,
) -> Result<Prepared<'a>, StatementError> {
    let file_hash = hex_sha256(bytes);
    let (format, rows) = source::read(bytes, filename, password)?;
    let (source, first) = match rows {
        Rows::Table(table) => {
            let (layout, first) = first_pass(&table, format)?;
            (Source::Table(table, layout), first)
        }
        Rows::Objects(objects) => {
            let first = draft_objects(&objects);
            (Source::Objects(objects), first)
        }
    };
    Prepared::settle(source, first, file_hash, format.name())
}

/// Parses an uploaded file, every transaction held. CPU-bound: call it on a blocking thread.
pub fn parse_file(
    bytes: &[u8],
    filename: &str,
    password: Option<&str>,
) -> Result<ParsedStatement, StatementError> {
    prepare(bytes, filename, password)?.collect()
}

/// Runs the first pass over JSON rows sent in a request body (`POST /ingest/import` with
/// JSON). A NUL in a key or a string value, or a `category` over [`text::CATEGORY`]
/// characters, is [`StatementError::Validation`] naming the row and the field
/// (`transactions[3].description`).
pub fn prepare_objects(
    objects: Vec<Option<Map<String, Value>>>,
    file_hash: String,
) -> Result<Prepared<'static>, StatementError> {
    check_request_rows(&objects)?;
    let first = draft_objects(&objects);
    Prepared::settle(Source::Objects(objects), first, file_hash, "json")
}

/// [`prepare_objects`], every transaction held.
pub fn parse_objects(
    objects: Vec<Option<Map<String, Value>>>,
    file_hash: String,
) -> Result<ParsedStatement, StatementError> {
    prepare_objects(objects, file_hash)?.collect()
}

impl Prepared<'_> {
    /// Settles the drafts of the first pass.
    fn settle<'a>(
        source: Source<'a>,
        first: FirstPass,
        file_hash: String,
        detected_format: &'static str,
    ) -> Result<Prepared<'a>, StatementError> {
        let FirstPass {
            drafts,
            mut skipped,
            mut warnings,
            status_column,
        } = first;
        let columns = match &source {
            Source::Table(_, layout) => Some((layout.headers.as_slice(), &layout.map)),
            Source::Objects(_) => None,
        };
        let settled = rows::settle(drafts, columns)?;
        let status_sign = rows::status_decides_sign(status_column, &settled.rows);
        skipped.invalid_row += settled.invalid_rows;
        warnings.extend(settled.warnings);
        Ok(Prepared {
            source,
            rows: settled.rows,
            status_sign,
            skipped,
            warnings,
            file_hash,
            detected_format,
        })
    }

    /// SHA-256 of the uploaded bytes (or the client's file hash), lower-case hex.
    pub fn file_hash(&self) -> &str {
        &self.file_hash
    }

    /// Runs the second pass: reads each settled row's other facts and finishes it, handing the
    /// transactions to `sink` in source order, `chunk` at a time. `sink` may break off (its
    /// reader went away); the summary then counts only what was handed out.
    pub fn finish(
        self,
        chunk: usize,
        mut sink: impl FnMut(Vec<ParsedTransaction>) -> ControlFlow<()>,
    ) -> Result<Summary, StatementError> {
        let Prepared {
            source,
            rows,
            status_sign,
            skipped,
            mut warnings,
            file_hash,
            detected_format,
        } = self;
        let mut finisher = Finisher {
            status_sign,
            chunk: chunk.max(1),
            batch: Vec::with_capacity(chunk.clamp(1, rows.len().max(1))),
            repeats: Repeats::default(),
            skipped,
            truncated: Truncated::default(),
            handed_out: 0,
        };
        let mut pending = rows.into_iter().peekable();
        let flow = match &source {
            Source::Table(table, layout) => {
                second_pass(table, layout, &mut pending, &mut finisher, &mut sink)?
            }
            Source::Objects(objects) => {
                let mut flow = ControlFlow::Continue(());
                for (index, object) in objects.iter().enumerate() {
                    let Some(object) = object else { continue };
                    let Some(row) = pending.next_if(|row| row.source_row() == index + 1) else {
                        continue;
                    };
                    let (headers, cells) = object_cells(object);
                    let map = ColumnMap::from_headers(headers.iter().map(String::as_str));
                    let keys = RawKeys::new(&headers, headers.len());
                    let facts = rows::facts(cells, &keys, &map)
                        .with_client_category(client_category(object));
                    flow = finisher.add(row, facts, &mut sink);
                    if flow.is_break() || pending.peek().is_none() {
                        break;
                    }
                }
                flow
            }
        };
        if flow.is_continue() && !finisher.batch.is_empty() {
            // The last chunk: whether the sink wants more no longer matters.
            let _ = sink(std::mem::take(&mut finisher.batch));
        }
        if let Some(warning) = truncation_warning(&finisher.truncated) {
            warnings.push(warning);
        }
        Ok(Summary {
            transactions: finisher.handed_out,
            skipped: finisher.skipped,
            truncated: finisher.truncated,
            file_hash,
            detected_format,
            warnings,
        })
    }

    /// Finishes every row into one [`ParsedStatement`].
    pub fn collect(self) -> Result<ParsedStatement, StatementError> {
        let mut transactions = Vec::new();
        let summary = self.finish(usize::MAX, |chunk| {
            transactions = chunk;
            ControlFlow::Continue(())
        })?;
        Ok(statement(transactions, summary))
    }

    /// Finishes every row but keeps only the transactions `window` selects (every one is still
    /// counted and numbered): a page of a large file without holding the rest.
    pub fn collect_window(self, window: Window) -> Result<Page, StatementError> {
        let end = window
            .limit
            .map_or(usize::MAX, |limit| window.offset.saturating_add(limit));
        let mut transactions = Vec::new();
        let mut seen = 0usize;
        let summary = self.finish(PAGE_CHUNK, |chunk| {
            let (start, len) = (seen, chunk.len());
            seen += len;
            let keep = window.offset.max(start)..end.min(seen);
            if !keep.is_empty() {
                transactions.extend(
                    chunk
                        .into_iter()
                        .skip(keep.start - start)
                        .take(keep.end - keep.start),
                );
            }
            ControlFlow::Continue(())
        })?;
        Ok(Page {
            count: summary.transactions,
            statement: statement(transactions, summary),
        })
    }
}

/// Transactions finished at a time while a page is collected.
const PAGE_CHUNK: usize = 1024;

/// Which of a file's transactions a parse returns: `limit` of them (all when `None`) from the
/// `offset`-th on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    /// Transactions passed over first.
    pub offset: usize,
    /// Most transactions returned.
    pub limit: Option<usize>,
}

/// One page of a parse: the statement holds the page's transactions, `count` all of them.
#[derive(Debug, Clone)]
pub struct Page {
    /// The parse, with only the page's transactions.
    pub statement: ParsedStatement,
    /// Transactions in the whole file.
    pub count: usize,
}

/// A parse result from its transactions and the summary of its second pass.
fn statement(transactions: Vec<ParsedTransaction>, summary: Summary) -> ParsedStatement {
    ParsedStatement {
        transactions,
        skipped: summary.skipped,
        truncated: summary.truncated,
        file_hash: summary.file_hash,
        detected_format: summary.detected_format,
        warnings: summary.warnings,
    }
}

/// Finishes rows of the second pass and hands them out in chunks.
struct Finisher {
    status_sign: bool,
    chunk: usize,
    batch: Vec<ParsedTransaction>,
    repeats: Repeats,
    skipped: Skipped,
    truncated: Truncated,
    handed_out: usize,
}

impl Finisher {
    fn add(
        &mut self,
        row: Resolved,
        facts: Facts,
        sink: &mut impl FnMut(Vec<ParsedTransaction>) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        match rows::finish(row, facts, self.status_sign) {
            Ok(mut tx) => {
                self.repeats.number(&mut tx);
                self.truncated.add(tx.truncated);
                self.batch.push(tx);
                self.handed_out += 1;
            }
            Err(reason) => self.skipped.count(reason),
        }
        if self.batch.len() >= self.chunk {
            let full = std::mem::replace(&mut self.batch, Vec::with_capacity(self.chunk));
            return sink(full);
        }
        ControlFlow::Continue(())
    }
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

/// Cells with their NULs removed (Postgres cannot store U+0000).
fn cleaned(row: Result<Vec<Cell>, StatementError>) -> Result<Vec<Cell>, StatementError> {
    row.map(|cells| cells.into_iter().map(Cell::without_nul).collect())
}

/// The columns [`Drafts::push`] reads.
const DRAFTED: [Column; 7] = [
    Column::Date,
    Column::Amount,
    Column::Debit,
    Column::Credit,
    Column::Balance,
    Column::Kind,
    Column::Currency,
];

/// The first pass over a table: finds the header among the first rows (with a few more read as
/// a sample of the data), then drafts each following row's date and money as it streams by.
/// Delimited rows are first lined up with the header ([`Realign`]).
fn first_pass(table: &Table<'_>, format: Format) -> Result<(Layout, FirstPass), StatementError> {
    // The rows past the scanned ones only inform the header scores and the description
    // choice: an error among them waits for its turn in the stream.
    let head_rows = HEADER_SCAN_ROWS + DATA_SAMPLE_ROWS;
    let mut head = Vec::with_capacity(head_rows);
    for row in table.rows()?.map(cleaned).take(head_rows) {
        match row {
            Ok(row) => head.push(row),
            Err(_) if head.len() >= HEADER_SCAN_ROWS => break,
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
    let layout = Layout {
        header_index,
        keys: RawKeys::new(&headers, headers.len()),
        headers,
        map,
        delimiter: match format {
            Format::Delimited(delimiter) => Some(delimiter),
            _ => None,
        },
    };
    let mut realign = Realign::new(&layout.headers, &layout.map, layout.delimiter);
    let mut skipped = Skipped::default();
    let mut drafts = Drafts::default();
    // The rest of the table again, after the rows already read, with only the cells a draft
    // needs (the other facts are read by the second pass).
    let reading = Reading::Columns {
        columns: (0..layout.headers.len())
            .map(|i| DRAFTED.iter().any(|&c| layout.map.get(c) == Some(i)))
            .collect(),
        width: realign.fitting(),
    };
    let rest = table.rows_reading(&reading)?.map(cleaned).skip(head.len());
    let buffered = head.into_iter().skip(header_index + 1).map(Ok);
    for (offset, cells) in buffered.chain(rest).enumerate() {
        let cells = cells?;
        if cells.iter().all(Cell::is_blank) {
            continue;
        }
        let source_row = header_index + offset + 2;
        let drafted = realign
            .fit(cells, source_row)
            .and_then(|cells| drafts.push(&cells, &layout.map, source_row));
        if let Err(reason) = drafted {
            skipped.count(reason);
        }
    }
    let first = FirstPass {
        drafts,
        skipped,
        warnings: realign.warnings(),
        status_column: layout.map.get(Column::Status).is_some(),
    };
    Ok((layout, first))
}

/// The second pass over a table: the same rows again, each settled one (the next one of
/// its source row in `pending`) finished with the rest of its cells. Stops after the last
/// settled row.
fn second_pass(
    table: &Table<'_>,
    layout: &Layout,
    pending: &mut Peekable<<Blocks<Resolved> as IntoIterator>::IntoIter>,
    finisher: &mut Finisher,
    sink: &mut impl FnMut(Vec<ParsedTransaction>) -> ControlFlow<()>,
) -> Result<ControlFlow<()>, StatementError> {
    let mut realign = Realign::new(&layout.headers, &layout.map, layout.delimiter);
    let rows = table.rows()?.skip(layout.header_index + 1);
    for (offset, cells) in rows.enumerate() {
        if pending.peek().is_none() {
            break;
        }
        let source_row = layout.header_index + offset + 2;
        let Some(row) = pending.next_if(|row| row.source_row() == source_row) else {
            cells?;
            continue;
        };
        let cells = realign
            .fit(cleaned(cells)?, source_row)
            .expect("a row that lined up in the first pass lines up again");
        let facts = rows::facts(cells, &layout.keys, &layout.map);
        if finisher.add(row, facts, sink).is_break() {
            return Ok(ControlFlow::Break(()));
        }
    }
    Ok(ControlFlow::Continue(()))
}

/// The first pass over JSON rows: each object's date and money (items that are not objects
/// count as invalid rows).
/// The first pass over JSON rows: each object's date and money (items that are not objects
/// count as invalid rows), and whether every drafted object has a status column.
fn draft_objects(objects: &[Option<Map<String, Value>>]) -> FirstPass {
    let mut skipped = Skipped::default();
    let mut drafts = Drafts::default();
    let mut all_have_status = true;
    for (index, object) in objects.iter().enumerate() {
        let Some(object) = object else {
            skipped.invalid_row += 1;
            continue;
        };
        let (headers, cells) = object_cells(object);
        let map = ColumnMap::from_headers(headers.iter().map(String::as_str));
        match drafts.push(&cells, &map, index + 1) {
            Ok(()) => all_have_status &= map.get(Column::Status).is_some(),
            Err(reason) => skipped.count(reason),
        }
    }
    FirstPass {
        status_column: all_have_status && !drafts.is_empty(),
        drafts,
        skipped,
        warnings: Vec::new(),
    }
}

/// The `category` a JSON row carries, when it is non-empty text.
fn client_category(object: &Map<String, Value>) -> Option<String> {
    object.iter().find_map(|(key, value)| match value {
        Value::String(text) if normalize_header(key) == "category" && !text.trim().is_empty() => {
            Some(text.trim().to_owned())
        }
        _ => None,
    })
}

/// A JSON row's keys and cells, NULs removed.
fn object_cells(object: &Map<String, Value>) -> (Vec<String>, Vec<Cell>) {
    object
        .iter()
        .map(|(key, value)| {
            let mut key = key.clone();
            text::strip_nul(&mut key);
            (key, json_cell(value.clone()).without_nul())
        })
        .unzip()
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

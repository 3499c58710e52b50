//! HTML tables, as some banks send their "Excel" statements: a page holding one or more
//! `<table>`s named `.xls`. A small tolerant tokenizer (tags, attributes, comments, raw-text
//! elements such as `<script>`, character references) walks the markup twice: once to choose
//! the table that looks like the statement, once to stream that table's rows. Nothing but the
//! first [`HEADER_SCAN_ROWS`] rows of each open table is held, so memory stays bounded whatever
//! the markup (unclosed tags, huge `colspan`s, deep nesting).
//!
//! A cell's text is what a reader sees: character references decoded, `<br>` and block tags as
//! a space, other tags stripped, whitespace (including no-break spaces) collapsed and trimmed.
//! A cell spanning columns (`colspan`) is followed by empty cells, so columns stay aligned.

use std::borrow::Cow;
use std::collections::VecDeque;

use crate::cell::Cell;
use crate::error::StatementError;
use crate::header::{detect_header, Column, HEADER_SCAN_ROWS};
use crate::workbook::{MAX_COLUMNS, MAX_ROWS};

use super::RowStream;

/// Tables nested deeper than this are skipped with their content.
const MAX_DEPTH: usize = 8;

/// True when `text` is markup holding a table: it starts (after whitespace) with a tag, a
/// comment or a doctype, and somewhere has a `<table` tag.
pub fn is_html(text: &str) -> bool {
    is_markup(text) && find_ignore_case(text.as_bytes(), b"<table").is_some()
}

/// True when `text` starts (after whitespace) with `<` and a letter, `!` or `?`.
pub fn is_markup(text: &str) -> bool {
    let mut bytes = text.trim_start().bytes();
    bytes.next() == Some(b'<')
        && bytes
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'!' || b == b'?')
}

/// Streams the rows of the table that looks like the statement: the one whose first
/// [`HEADER_SCAN_ROWS`] rows hold a header naming a date and an amount column, else the one
/// with the most rows (ties go to the earlier table). A table with no row is never chosen.
pub fn rows<'a>(text: Cow<'a, str>) -> Result<RowStream<'a>, StatementError> {
    let table = choose_table(&text)?
        .ok_or_else(|| StatementError::Unreadable("the HTML file holds no table rows".into()))?;
    Ok(Box::new(TableRows {
        text,
        walker: Walker::default(),
        table,
        emitted: 0,
        done: false,
    }))
}

/// The index (in document order of `<table>` tags) of the statement's table, if any has rows.
fn choose_table(text: &str) -> Result<Option<usize>, StatementError> {
    struct Candidate {
        table: usize,
        head: Vec<Vec<Cell>>,
        rows: usize,
    }
    let mut walker = Walker::default();
    let mut open: Vec<Candidate> = Vec::new();
    let mut best: Option<((bool, usize), usize)> = None;
    while let Some(event) = walker.next_event(text)? {
        match event {
            Event::Row(table, cells) => {
                let index = match open.iter().position(|c| c.table == table) {
                    Some(index) => index,
                    None => {
                        open.push(Candidate {
                            table,
                            head: Vec::new(),
                            rows: 0,
                        });
                        open.len() - 1
                    }
                };
                let candidate = &mut open[index];
                candidate.rows += 1;
                if candidate.head.len() < HEADER_SCAN_ROWS {
                    candidate.head.push(cells);
                }
            }
            Event::TableEnd(table) => {
                let Some(index) = open.iter().position(|c| c.table == table) else {
                    continue;
                };
                let candidate = open.swap_remove(index);
                let score = (has_statement_header(&candidate.head), candidate.rows);
                let better = best.as_ref().is_none_or(|(best_score, best_table)| {
                    score > *best_score || (score == *best_score && table < *best_table)
                });
                if better {
                    best = Some((score, table));
                }
            }
        }
    }
    Ok(best.map(|(_, table)| table))
}

/// True when one of `head`'s rows names a date and an amount (or debit/credit) column.
fn has_statement_header(head: &[Vec<Cell>]) -> bool {
    let (_, map) = detect_header(head);
    map.get(Column::Date).is_some()
        && [Column::Amount, Column::Debit, Column::Credit]
            .into_iter()
            .any(|c| map.get(c).is_some())
}

/// The rows of one table, tokenized as they are pulled.
struct TableRows<'a> {
    text: Cow<'a, str>,
    walker: Walker,
    table: usize,
    emitted: usize,
    done: bool,
}

impl Iterator for TableRows<'_> {
    type Item = Result<Vec<Cell>, StatementError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            match self.walker.next_event(&self.text) {
                Ok(Some(Event::Row(table, cells))) if table == self.table => {
                    if self.emitted == MAX_ROWS {
                        self.done = true;
                        return Some(Err(StatementError::TooLarge(format!(
                            "more than {MAX_ROWS} rows"
                        ))));
                    }
                    self.emitted += 1;
                    return Some(Ok(cells));
                }
                Ok(Some(Event::TableEnd(table))) if table == self.table => self.done = true,
                Ok(Some(_)) => {}
                Ok(None) => self.done = true,
                Err(err) => {
                    self.done = true;
                    return Some(Err(err));
                }
            }
        }
        None
    }
}

/// What the walker reports: a finished row of table `n`, or the end of table `n`.
#[derive(Debug, PartialEq)]
enum Event {
    Row(usize, Vec<Cell>),
    TableEnd(usize),
}

/// A table being read: its index, its open row and its open cell (text and column span).
struct OpenTable {
    index: usize,
    row: Option<Vec<Cell>>,
    cell: Option<(String, usize)>,
}

impl OpenTable {
    fn close_cell(&mut self) -> Result<(), StatementError> {
        let Some((text, span)) = self.cell.take() else {
            return Ok(());
        };
        let row = self.row.get_or_insert_with(Vec::new);
        if row.len() == MAX_COLUMNS {
            return Err(StatementError::TooLarge(format!(
                "a table row has more than {MAX_COLUMNS} cells"
            )));
        }
        row.push(Cell::Text(collapse_whitespace(&text)));
        let fill = span.saturating_sub(1).min(MAX_COLUMNS - row.len());
        row.extend(std::iter::repeat_n(Cell::Empty, fill));
        Ok(())
    }

    fn close_row(&mut self) -> Result<Option<Event>, StatementError> {
        self.close_cell()?;
        Ok(self
            .row
            .take()
            .filter(|row| !row.is_empty())
            .map(|row| Event::Row(self.index, row)))
    }
}

/// Walks the tokens of a document, keeping track of open tables, rows and cells.
#[derive(Default)]
struct Walker {
    pos: usize,
    tables_seen: usize,
    stack: Vec<OpenTable>,
    /// Open tables nested deeper than [`MAX_DEPTH`], skipped.
    skipped: usize,
    pending: VecDeque<Event>,
}

impl Walker {
    /// The next event, or `None` at the end of the document (every open table is closed then).
    fn next_event(&mut self, text: &str) -> Result<Option<Event>, StatementError> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Ok(Some(event));
            }
            let Some(token) = next_token(text, &mut self.pos) else {
                return match self.stack.pop() {
                    Some(mut table) => {
                        self.pending.extend(table.close_row()?);
                        self.pending.push_back(Event::TableEnd(table.index));
                        continue;
                    }
                    None => Ok(None),
                };
            };
            self.token(token)?;
        }
    }

    fn token(&mut self, token: Token<'_>) -> Result<(), StatementError> {
        match token {
            Token::Start(name, _) if name.eq_ignore_ascii_case("table") => {
                if self.skipped > 0 || self.stack.len() == MAX_DEPTH {
                    self.skipped += 1;
                } else {
                    if let Some(parent) = self.stack.last_mut() {
                        append_space(parent);
                    }
                    self.stack.push(OpenTable {
                        index: self.tables_seen,
                        row: None,
                        cell: None,
                    });
                    self.tables_seen += 1;
                }
            }
            Token::End(name) if name.eq_ignore_ascii_case("table") => {
                if self.skipped > 0 {
                    self.skipped -= 1;
                } else if let Some(mut table) = self.stack.pop() {
                    self.pending.extend(table.close_row()?);
                    self.pending.push_back(Event::TableEnd(table.index));
                    if let Some(parent) = self.stack.last_mut() {
                        append_space(parent);
                    }
                }
            }
            _ if self.skipped > 0 => {}
            Token::Start(name, attrs) => {
                let Some(table) = self.stack.last_mut() else {
                    return Ok(());
                };
                match Tag::of(name) {
                    Tag::Row | Tag::Section => self.pending.extend(table.close_row()?),
                    Tag::Cell => {
                        table.close_cell()?;
                        table.row.get_or_insert_with(Vec::new);
                        table.cell = Some((String::new(), colspan(attrs)));
                    }
                    Tag::Break => append_space(table),
                    Tag::Other => {}
                }
            }
            Token::End(name) => {
                let Some(table) = self.stack.last_mut() else {
                    return Ok(());
                };
                match Tag::of(name) {
                    Tag::Row | Tag::Section => self.pending.extend(table.close_row()?),
                    Tag::Cell => table.close_cell()?,
                    Tag::Break => append_space(table),
                    Tag::Other => {}
                }
            }
            Token::Text(raw) => {
                if let Some((text, _)) = self.stack.last_mut().and_then(|t| t.cell.as_mut()) {
                    decode_references(raw, text);
                }
            }
        }
        Ok(())
    }
}

fn append_space(table: &mut OpenTable) {
    if let Some((text, _)) = table.cell.as_mut() {
        text.push(' ');
    }
}

/// The tags that matter to table structure and cell text.
enum Tag {
    Row,
    /// `thead`, `tbody`, `tfoot`, `caption`: they end an open row.
    Section,
    Cell,
    /// `br` and block tags, which separate words.
    Break,
    Other,
}

impl Tag {
    fn of(name: &str) -> Tag {
        let is = |n: &str| name.eq_ignore_ascii_case(n);
        if is("tr") {
            Tag::Row
        } else if is("td") || is("th") {
            Tag::Cell
        } else if is("thead") || is("tbody") || is("tfoot") || is("caption") {
            Tag::Section
        } else if [
            "br", "p", "div", "li", "ul", "ol", "hr", "h1", "h2", "h3", "h4", "h5", "h6",
        ]
        .iter()
        .any(|n| is(n))
        {
            Tag::Break
        } else {
            Tag::Other
        }
    }
}

/// One token of markup: a start tag (name, attribute text), an end tag, or raw text between
/// tags (character references not yet decoded). Comments, doctypes and processing
/// instructions are skipped, as is the content of raw-text elements (`<script>`, `<style>`…).
#[derive(Debug, PartialEq)]
enum Token<'t> {
    Start(&'t str, &'t str),
    End(&'t str),
    Text(&'t str),
}

/// Elements whose content is not markup (and never a cell's text).
const RAW_TEXT: &[&str] = &[
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes",
];

/// Reads the token at `*pos` and moves past it; `None` at the end of `text`.
fn next_token<'t>(text: &'t str, pos: &mut usize) -> Option<Token<'t>> {
    let bytes = text.as_bytes();
    loop {
        let start = *pos;
        if start >= bytes.len() {
            return None;
        }
        if bytes[start] != b'<' {
            let end = find_byte(bytes, start, b'<');
            *pos = end;
            return Some(Token::Text(&text[start..end]));
        }
        let next = bytes.get(start + 1).copied();
        if bytes[start..].starts_with(b"<!--") {
            *pos = find(bytes, start + 4, b"-->").map_or(bytes.len(), |end| end + 3);
        } else if next == Some(b'!') || next == Some(b'?') {
            *pos = find_byte(bytes, start, b'>')
                .saturating_add(1)
                .min(bytes.len());
        } else if next == Some(b'/') && bytes.get(start + 2).is_some_and(u8::is_ascii_alphabetic) {
            let name_end = name_end(bytes, start + 2);
            *pos = find_byte(bytes, name_end, b'>')
                .saturating_add(1)
                .min(bytes.len());
            return Some(Token::End(&text[start + 2..name_end]));
        } else if next.is_some_and(|b| b.is_ascii_alphabetic()) {
            let name_end = name_end(bytes, start + 1);
            let attrs_end = attributes_end(bytes, name_end);
            let name = &text[start + 1..name_end];
            *pos = (attrs_end + 1).min(bytes.len());
            if RAW_TEXT.iter().any(|raw| name.eq_ignore_ascii_case(raw)) {
                let mut close = Vec::with_capacity(name.len() + 2);
                close.extend_from_slice(b"</");
                close.extend_from_slice(name.as_bytes());
                *pos = find_ignore_case(&bytes[*pos..], &close).map_or(bytes.len(), |i| *pos + i);
            }
            return Some(Token::Start(name, &text[name_end..attrs_end]));
        } else {
            // A `<` that starts no tag is text.
            let end = find_byte(bytes, start + 1, b'<');
            *pos = end;
            return Some(Token::Text(&text[start..end]));
        }
    }
}

/// Where a tag name starting at `from` ends (at whitespace, `/` or `>`).
fn name_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b.is_ascii_whitespace() || b == b'/' || b == b'>')
        .map_or(bytes.len(), |i| from + i)
}

/// The index of the `>` closing a start tag whose attributes start at `from` (a quoted
/// attribute value may hold `>`), or the end of `bytes`.
fn attributes_end(bytes: &[u8], from: usize) -> usize {
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b'>' => return i,
            b'=' => {
                i += 1;
                while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
                    i += 1;
                }
                if let Some(&quote @ (b'"' | b'\'')) = bytes.get(i) {
                    i = find_byte(bytes, i + 1, quote) + 1;
                    continue;
                }
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The column span of a cell from its attribute text (`colspan="3"`), at least 1.
fn colspan(attrs: &str) -> usize {
    attribute(attrs, "colspan")
        .and_then(|value| {
            let digits = value.trim_start();
            let end = digits
                .bytes()
                .position(|b| !b.is_ascii_digit())
                .unwrap_or(digits.len());
            digits[..end.min(4)].parse::<usize>().ok()
        })
        .map_or(1, |span| span.clamp(1, MAX_COLUMNS))
}

/// The value of attribute `wanted` (case-insensitive) in a start tag's attribute text.
fn attribute<'t>(attrs: &'t str, wanted: &str) -> Option<&'t str> {
    let bytes = attrs.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        while bytes
            .get(i)
            .is_some_and(|&b| b.is_ascii_whitespace() || b == b'/')
        {
            i += 1;
        }
        let name_start = i;
        while bytes
            .get(i)
            .is_some_and(|&b| !b.is_ascii_whitespace() && b != b'=' && b != b'/')
        {
            i += 1;
        }
        let name = &attrs[name_start..i];
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let mut value = "";
        if bytes.get(i) == Some(&b'=') {
            i += 1;
            while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
                i += 1;
            }
            if let Some(&quote @ (b'"' | b'\'')) = bytes.get(i) {
                let end = find_byte(bytes, i + 1, quote);
                value = &attrs[i + 1..end];
                i = end + 1;
            } else {
                let start = i;
                while bytes.get(i).is_some_and(|b| !b.is_ascii_whitespace()) {
                    i += 1;
                }
                value = &attrs[start..i];
            }
        }
        if name.eq_ignore_ascii_case(wanted) {
            return Some(value);
        }
    }
    None
}

/// Appends `raw` to `out` with its character references decoded (`&amp;`, `&#8377;`,
/// `&#x20B9;`, common named ones); an unknown reference is kept as written.
fn decode_references(raw: &str, out: &mut String) {
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        match reference(rest) {
            Some((decoded, len)) => {
                out.push_str(&decoded);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
}

/// The text a reference at the start of `text` (which starts with `&`) stands for, and the
/// reference's length.
fn reference(text: &str) -> Option<(Cow<'static, str>, usize)> {
    let bytes = text.as_bytes();
    if bytes.get(1) == Some(&b'#') {
        let (radix, start) = match bytes.get(2) {
            Some(b'x' | b'X') => (16, 3),
            _ => (10, 2),
        };
        let digits = bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_hexdigit() && (radix == 16 || b.is_ascii_digit()))
            .count();
        if digits == 0 {
            return None;
        }
        let end = start + digits;
        let code = if digits > 8 {
            u32::MAX
        } else {
            u32::from_str_radix(&text[start..end], radix).unwrap_or(u32::MAX)
        };
        let len = end + usize::from(bytes.get(end) == Some(&b';'));
        return Some((Cow::Owned(numeric_character(code).to_string()), len));
    }
    let name_len = bytes[1..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric())
        .take(32)
        .count();
    let name = &text[1..1 + name_len];
    let terminated = bytes.get(1 + name_len) == Some(&b';');
    let decoded = Cow::Borrowed(named_character(name)?);
    if terminated {
        Some((decoded, name_len + 2))
    } else if ["amp", "lt", "gt", "quot", "nbsp"].contains(&name) {
        Some((decoded, name_len + 1))
    } else {
        None
    }
}

/// A numeric reference's character: 0x80–0x9F as in Windows-1252 (as browsers do), invalid
/// code points as U+FFFD.
fn numeric_character(code: u32) -> char {
    if (0x80..=0x9F).contains(&code) {
        let byte = [code as u8];
        let (decoded, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(&byte);
        return decoded.chars().next().unwrap_or('\u{FFFD}');
    }
    match char::from_u32(code) {
        Some('\0') | None => '\u{FFFD}',
        Some(c) => c,
    }
}

/// The common named character references of bank exports.
fn named_character(name: &str) -> Option<&'static str> {
    Some(match name {
        "amp" | "AMP" => "&",
        "lt" | "LT" => "<",
        "gt" | "GT" => ">",
        "quot" | "QUOT" => "\"",
        "apos" => "'",
        "nbsp" | "ensp" | "emsp" | "thinsp" => " ",
        "shy" | "zwnj" | "zwj" | "lrm" | "rlm" => "",
        "copy" => "©",
        "reg" => "®",
        "trade" => "™",
        "euro" => "€",
        "pound" => "£",
        "yen" => "¥",
        "cent" => "¢",
        "lsquo" => "‘",
        "rsquo" => "’",
        "ldquo" => "“",
        "rdquo" => "”",
        "laquo" => "«",
        "raquo" => "»",
        "ndash" => "–",
        "mdash" => "—",
        "hellip" => "…",
        "bull" => "•",
        "middot" => "·",
        "times" => "×",
        "divide" => "÷",
        "deg" => "°",
        "sect" => "§",
        "para" => "¶",
        "plusmn" => "±",
        _ => return None,
    })
}

/// Whitespace runs (no-break spaces included) as one space, trimmed.
fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The index of the first `byte` at or after `from`, or the end of `bytes`.
fn find_byte(bytes: &[u8], from: usize, byte: u8) -> usize {
    bytes
        .get(from..)
        .and_then(|rest| rest.iter().position(|&b| b == byte))
        .map_or(bytes.len(), |i| from + i)
}

/// The index of the first `needle` at or after `from`.
fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|i| from + i)
}

/// The index of the first `needle` (ASCII, compared case-insensitively) in `bytes`.
fn find_ignore_case(bytes: &[u8], needle: &[u8]) -> Option<usize> {
    bytes
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests;

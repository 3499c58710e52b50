//! Turning source rows into transactions (ingestion spec §1.5–§1.8, §2.6): date, exact signed
//! amount, currency, type, status, merchant extraction, fingerprint and in-file de-duplication.
//!
//! A file's rows are read twice, so that what only the whole file can tell is decided once
//! while no more than a row's money is held for every row: the first pass [`Drafts`] each row's
//! date and money cells as it streams by (a table row first [`Realign`]ed to its header), then
//! [`settle`] decides each amount column's decimal separator and the file's sign convention and
//! resolves every amount; the second pass reads each row's other [`facts`] and [`finish`]es it
//! into a transaction, repeats numbered by [`Repeats`] as they come.

mod blocks;
mod convention;
mod realign;

pub use blocks::Blocks;
pub use realign::Realign;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use chrono::{Datelike, NaiveDate, NaiveTime};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Serialize, Serializer};

use crate::amount::{self, AmountParse, DecimalSeparator, ParsedAmount, SignMarker};
use crate::cell::Cell;
use crate::date;
use crate::error::StatementError;
use crate::fingerprint::{self, Fingerprint, FingerprintFields};
use crate::header::{Column, ColumnMap};
use crate::merchant;
use crate::record::{Meta, RawRow, RawValue};
use crate::text;
use crate::warning::Warning;

/// The category every imported row starts with.
pub const UNCATEGORIZED: &str = "Uncategorized";

/// One normalised transaction, ready to store.
#[derive(Debug, Clone, Serialize)]
pub struct ParsedTransaction {
    /// Statement-local calendar date.
    pub date: NaiveDate,
    /// Signed amount, debit negative, exactly two decimals.
    #[serde(serialize_with = "money")]
    pub amount: Decimal,
    /// ISO-4217 code.
    pub currency: &'static str,
    /// `credit` or `debit`, from the sign.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Source description, whitespace runs collapsed.
    pub description: String,
    /// Merchant: the file's own column, else extracted from the description.
    pub merchant: String,
    /// Canonical payment method, or empty.
    pub payment_method: String,
    /// Reference / UTR, or empty.
    pub reference: String,
    /// Normalised status.
    pub status: &'static str,
    /// Always [`UNCATEGORIZED`] at import.
    pub category: &'static str,
    /// The category the client that sent the row gave it (JSON rows only), as sent.
    #[serde(skip)]
    pub client_category: Option<String>,
    /// Row fingerprint (with an occurrence suffix for repeats in one file).
    pub fingerprint: Fingerprint,
    /// 1-based row number in the source (line of a table, item of a JSON array).
    pub source_row: usize,
    /// The source row, column name → value.
    pub raw: RawRow,
    /// Extraction output and warnings.
    pub meta: Meta,
    /// Which of this row's fields were cut to their [`text`](mod@crate::text) limit (each 0 or 1).
    #[serde(skip)]
    pub truncated: Truncated,
}

fn money<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(value.to_f64().unwrap_or_default())
}

/// Rows left out, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Date missing or unparseable (footers, preambles).
    pub invalid_date: usize,
    /// Zero amounts (verification rows, cancelled payments).
    pub zero_amount: usize,
    /// Rows that are not transactions (bad amount, JSON non-objects).
    pub invalid_row: usize,
}

/// Rows whose text was cut to its [`text`](mod@crate::text) limit, by field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Truncated {
    /// Descriptions over [`text::DESCRIPTION`] characters.
    pub description: usize,
    /// Merchant names over [`text::MERCHANT`] characters.
    pub merchant_name: usize,
    /// References over [`text::REFERENCE`] characters.
    pub reference: usize,
    /// Payment methods over [`text::PAYMENT_METHOD`] characters.
    pub payment_method: usize,
}

impl Truncated {
    /// Adds `other`'s counts.
    pub fn add(&mut self, other: Truncated) {
        self.description += other.description;
        self.merchant_name += other.merchant_name;
        self.reference += other.reference;
        self.payment_method += other.payment_method;
    }
}

/// Why a row was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// See [`Skipped::invalid_date`].
    InvalidDate,
    /// See [`Skipped::zero_amount`].
    ZeroAmount,
    /// See [`Skipped::invalid_row`].
    InvalidRow,
}

impl Skipped {
    /// Counts one skipped row.
    pub fn count(&mut self, reason: SkipReason) {
        match reason {
            SkipReason::InvalidDate => self.invalid_date += 1,
            SkipReason::ZeroAmount => self.zero_amount += 1,
            SkipReason::InvalidRow => self.invalid_row += 1,
        }
    }
}

/// The columns holding money, in the order a [`Draft`] keeps their cells.
const MONEY_COLUMNS: [Column; 4] = [
    Column::Amount,
    Column::Debit,
    Column::Credit,
    Column::Balance,
];
const AMOUNT: usize = 0;
const DEBIT: usize = 1;
const CREDIT: usize = 2;
const BALANCE: usize = 3;

/// What a row says besides its date and money: everything else [`finish`] needs from it.
pub struct Facts {
    status_text: String,
    description: String,
    description_truncated: bool,
    merchant_column: String,
    method_column: String,
    reference_column: String,
    raw: RawRow,
    client_category: Option<String>,
}

impl Facts {
    /// The facts with the category the client gave the row.
    pub fn with_client_category(self, category: Option<String>) -> Self {
        Facts {
            client_category: category,
            ..self
        }
    }
}

/// A row with a valid date whose money cells are kept as read: their decimal separator and
/// sign convention are decided from the whole file ([`settle`]).
pub struct Draft {
    source_row: usize,
    date: NaiveDate,
    time: Option<NaiveTime>,
    /// From a currency column or the amount header; else the amount text decides.
    currency: Option<&'static str>,
    /// The cells of [`MONEY_COLUMNS`] this row uses (others empty).
    money: [Money; 4],
    /// Debit/credit columns give the amount (else the amount column).
    split: bool,
    /// The direction a type column gives.
    kind: Option<SignMarker>,
}

/// A money cell as the first pass keeps it: its text lives in its [`Drafts`]' one buffer, so a
/// row's money costs no allocation of its own.
#[derive(Debug, Clone, Copy)]
enum Money {
    Empty,
    /// `text[start..end]` of the drafts.
    Text {
        start: u32,
        end: u32,
    },
    Number(f64),
    /// A date or boolean cell: not an amount.
    Other,
}

/// The first pass's drafts of one file, with the text of their money cells.
#[derive(Default)]
pub struct Drafts {
    rows: Blocks<Draft>,
    text: String,
}

impl Drafts {
    /// Drafts a source row's date and money. Only the date is checked here; the money cells
    /// are read by [`settle`].
    pub fn push(
        &mut self,
        cells: &[Cell],
        map: &ColumnMap,
        source_row: usize,
    ) -> Result<(), SkipReason> {
        let cell = |column| column_cell(cells, map, column);
        let (date, time) = parse_date_cell(cell(Column::Date)).ok_or(SkipReason::InvalidDate)?;
        let has_split = map.get(Column::Debit).is_some() || map.get(Column::Credit).is_some();
        let split = has_split
            && (!cell(Column::Debit).is_blank()
                || !cell(Column::Credit).is_blank()
                || map.get(Column::Amount).is_none());
        let money = MONEY_COLUMNS.map(|column| {
            let used = match column {
                Column::Amount => !split,
                Column::Debit | Column::Credit => split,
                _ => true,
            };
            match cell(column) {
                _ if !used => Money::Empty,
                Cell::Empty => Money::Empty,
                Cell::Text(text) => self.keep(text),
                Cell::Number(n) => Money::Number(*n),
                Cell::DateTime(_) | Cell::Bool(_) | Cell::Unread => Money::Other,
            }
        });
        let kind = match cell(Column::Kind) {
            Cell::Text(kind) if !split => amount::direction_from_type(kind),
            _ => None,
        };
        self.rows.push(Draft {
            source_row,
            date,
            time,
            currency: currency_code(cell(Column::Currency)).or(map.currency_hint),
            money,
            split,
            kind,
        });
        Ok(())
    }

    /// True when no row was drafted.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Keeps a money cell's text (a file's text is far below 4 GiB).
    fn keep(&mut self, text: &str) -> Money {
        let start = self.text.len();
        self.text.push_str(text);
        let offset = |n: usize| u32::try_from(n).expect("statement text is below 4 GiB");
        Money::Text {
            start: offset(start),
            end: offset(self.text.len()),
        }
    }

    /// A kept money cell as a cell of the source.
    fn cell(&self, money: Money) -> MoneyCell<'_> {
        money.read(&self.text)
    }
}

impl Money {
    /// The cell, its text read from the drafts' `text`.
    fn read(self, text: &str) -> MoneyCell<'_> {
        match self {
            Money::Empty => MoneyCell::Empty,
            Money::Text { start, end } => MoneyCell::Text(&text[start as usize..end as usize]),
            Money::Number(n) => MoneyCell::Number(n),
            Money::Other => MoneyCell::Other,
        }
    }
}

/// A money cell read back from [`Drafts`].
enum MoneyCell<'a> {
    Empty,
    Text(&'a str),
    Number(f64),
    Other,
}

/// Where a settled amount's sign came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sign {
    /// Debit and credit columns.
    Split,
    /// A `Dr`/`Cr` or parentheses marker in the amount text.
    Marker(SignMarker),
    /// A type column.
    Kind,
    /// The sign as written; nothing else said.
    Written,
    /// The file's convention: unmarked amounts of a column marking credits `Cr` are debits.
    Convention,
    /// The running balance, against what the row said.
    Balance,
}

/// A row whose amount is settled; its sign may still depend on the Google Pay status rule.
pub struct Resolved {
    source_row: usize,
    date: NaiveDate,
    time: Option<NaiveTime>,
    amount: Decimal,
    sign: Sign,
    /// The running balance after this row, when the file has a readable one.
    balance: Option<Decimal>,
    currency: &'static str,
    warning: Option<&'static str>,
}

impl Resolved {
    /// True when the amount is not negative (input to the Google Pay rule).
    pub fn is_non_negative(&self) -> bool {
        self.amount >= Decimal::ZERO
    }

    /// True when the sign came from a marker, a type, debit/credit columns, the file's
    /// convention or its balance.
    pub fn sign_fixed(&self) -> bool {
        self.sign != Sign::Written
    }

    /// The source row it was read from (what pairs it with its [`Facts`]).
    pub fn source_row(&self) -> usize {
        self.source_row
    }
}

/// Reads the rest of a source row (the second pass): `keys` name its cells in `raw`. The
/// description is cut to [`text::DESCRIPTION`] characters before anything reads it.
pub fn facts(cells: Vec<Cell>, keys: &RawKeys, map: &ColumnMap) -> Facts {
    let cell = |column| column_cell(&cells, map, column);
    let mut description = collapse_cell(cell(Column::Description));
    let description_truncated = text::truncate(&mut description, text::DESCRIPTION);
    Facts {
        status_text: text(cell(Column::Status)),
        description,
        description_truncated,
        merchant_column: collapse_cell(cell(Column::Merchant)),
        method_column: text(cell(Column::PaymentMethod)),
        reference_column: match cell(Column::Reference) {
            Cell::Text(text) => text.trim().to_owned(),
            other => text(other).trim().to_owned(),
        },
        raw: raw_row(cells, keys),
        client_category: None,
    }
}

fn column_cell<'c>(cells: &'c [Cell], map: &ColumnMap, column: Column) -> &'c Cell {
    map.get(column)
        .and_then(|i| cells.get(i))
        .unwrap_or(&Cell::Empty)
}

/// The names a table's cells go under in `raw`: the header text, else `column_N`; a name that
/// repeats goes under its first column.
#[derive(Debug, Clone)]
pub struct RawKeys {
    names: Arc<[Box<str>]>,
    /// Per column, the column whose name it goes under.
    column: Vec<u32>,
    /// No name occurs twice (each cell is simply appended).
    distinct: bool,
}

impl RawKeys {
    /// The names of the first `width` cells under `headers`.
    pub fn new(headers: &[String], width: usize) -> Self {
        let mut names: Vec<Box<str>> = Vec::with_capacity(width);
        let mut column = Vec::with_capacity(width);
        for i in 0..width {
            let name = headers
                .get(i)
                .filter(|h| !h.trim().is_empty())
                .cloned()
                .unwrap_or_else(|| format!("column_{}", i + 1));
            let first = names.iter().position(|n| **n == *name).unwrap_or(i);
            column.push(u32::try_from(first).expect("fewer than 2^32 columns"));
            names.push(name.into_boxed_str());
        }
        let distinct = column.iter().enumerate().all(|(i, c)| *c as usize == i);
        RawKeys {
            names: names.into(),
            column,
            distinct,
        }
    }
}

fn parse_date_cell(cell: &Cell) -> Option<(NaiveDate, Option<NaiveTime>)> {
    let with_time = |dt: chrono::NaiveDateTime| {
        let time = (dt.time() != NaiveTime::MIN).then_some(dt.time());
        (dt.date(), time)
    };
    match cell {
        Cell::DateTime(dt) => Some(with_time(*dt)),
        Cell::Number(serial) => date::date_from_excel_serial(*serial).map(with_time),
        Cell::Text(text) => date::parse_date(text).map(|p| (p.date, p.time)),
        Cell::Empty | Cell::Bool(_) | Cell::Unread => None,
    }
}

/// The drafts of one file with their amounts resolved.
pub struct Settled {
    /// Rows with an amount, in source order.
    pub rows: Blocks<Resolved>,
    /// Drafts whose amount could not be read (counted as [`Skipped::invalid_row`]).
    pub invalid_rows: usize,
    /// What the file-wide decisions leave for the user to check.
    pub warnings: Vec<Warning>,
}

/// Settles a file's drafts. For a table (`columns`: its header texts and map) each money
/// column's decimal separator is decided from all its values — a column that cannot be told
/// is [`StatementError::Validation`] naming it — and the sign convention is inferred from the
/// markers in the amount column and checked against the running balance.
/// JSON rows (`None`) are read with a decimal point and their written signs.
pub fn settle(
    drafts: Drafts,
    columns: Option<(&[String], &ColumnMap)>,
) -> Result<Settled, StatementError> {
    let mut warnings = Vec::new();
    let separators = match columns {
        Some((headers, map)) => convention::separators(&drafts, headers, map, &mut warnings)?,
        None => [Some(DecimalSeparator::Point); 4],
    };
    let mut invalid_rows = 0;
    let mut rows = Blocks::default();
    let Drafts {
        rows: drafted,
        text,
    } = drafts;
    for draft in drafted {
        match resolve(draft, &separators, &text) {
            Ok(row) => rows.push(row),
            Err(_) => invalid_rows += 1,
        }
    }
    if columns.is_some() {
        convention::settle_signs(&mut rows, &mut warnings);
    }
    Ok(Settled {
        rows,
        invalid_rows,
        warnings,
    })
}

/// The signed amount of a draft: debit/credit columns, else the amount column with its
/// markers or a type column (the file's convention and balance come later). A `None`
/// separator leaves that column unread.
fn resolve(
    draft: Draft,
    separators: &[Option<DecimalSeparator>; 4],
    text: &str,
) -> Result<Resolved, SkipReason> {
    let Draft {
        source_row,
        date,
        time,
        currency,
        money,
        split,
        kind,
    } = draft;
    let read = |index: usize| match separators[index] {
        Some(separator) => optional_amount(money[index].read(text), separator),
        None => Ok(None),
    };
    let balance = read(BALANCE).ok().flatten().map(|b| match b.marker {
        Some(SignMarker::Debit) => -b.value.abs(),
        Some(SignMarker::Credit) => b.value.abs(),
        None => b.value,
    });
    let (amount, sign, written_currency, warning) = if split {
        let debit = read(DEBIT)?;
        let credit = read(CREDIT)?;
        let (debit_value, credit_value) = (
            debit.as_ref().map_or(Decimal::ZERO, |a| a.value.abs()),
            credit.as_ref().map_or(Decimal::ZERO, |a| a.value.abs()),
        );
        let warning = (!debit_value.is_zero() && !credit_value.is_zero())
            .then_some("debit and credit both set; stored the net");
        let currency = debit
            .and_then(|a| a.currency)
            .or(credit.and_then(|a| a.currency));
        (
            amount::round_money(credit_value - debit_value),
            Sign::Split,
            currency,
            warning,
        )
    } else {
        let parsed = read(AMOUNT)?.ok_or(SkipReason::InvalidRow)?;
        let (direction, sign) = match (parsed.marker, kind) {
            (Some(marker), _) => (Some(marker), Sign::Marker(marker)),
            (None, Some(kind)) => (Some(kind), Sign::Kind),
            (None, None) => (None, Sign::Written),
        };
        let value = match direction {
            Some(SignMarker::Debit) => -parsed.value.abs(),
            Some(SignMarker::Credit) => parsed.value.abs(),
            None => parsed.value,
        };
        (value, sign, parsed.currency, None)
    };
    Ok(Resolved {
        currency: currency.or(written_currency).unwrap_or("INR"),
        source_row,
        date,
        time,
        amount,
        sign,
        balance,
        warning,
    })
}

fn optional_amount(
    cell: MoneyCell<'_>,
    separator: DecimalSeparator,
) -> Result<Option<ParsedAmount>, SkipReason> {
    let parsed = match cell {
        MoneyCell::Empty => AmountParse::Empty,
        MoneyCell::Text(text) => amount::parse_amount_with(text, separator),
        MoneyCell::Number(value) => amount::parse_float_cell(value),
        MoneyCell::Other => AmountParse::Invalid,
    };
    match parsed {
        AmountParse::Empty => Ok(None),
        AmountParse::Invalid => Err(SkipReason::InvalidRow),
        AmountParse::Value(value) => Ok(Some(value)),
    }
}

/// Whether a file is a Google Pay/Play style export: a status column and no negative amounts
/// among rows whose sign is not fixed otherwise (spec §1.6, rule 3).
pub fn status_decides_sign(map_has_status: bool, rows: &Blocks<Resolved>) -> bool {
    map_has_status
        && rows
            .iter()
            .filter(|r| !r.sign_fixed())
            .all(Resolved::is_non_negative)
}

/// Completes a settled row with its other facts: applies the status rule when `status_sign`
/// holds, extracts the merchant (merchant, method and reference cut to their
/// [`text`](mod@crate::text) limits) and computes the base fingerprint.
pub fn finish(
    row: Resolved,
    draft: Facts,
    status_sign: bool,
) -> Result<ParsedTransaction, SkipReason> {
    let sign_fixed = row.sign_fixed();
    let Resolved {
        source_row,
        date,
        time,
        mut amount,
        currency,
        warning,
        ..
    } = row;
    let status = normalize_status(&draft.status_text);
    if status_sign && !sign_fixed {
        amount = match status {
            "cancelled" => Decimal::ZERO,
            "refunded" => amount.abs(),
            _ => -amount.abs(),
        };
    }
    if amount.is_zero() {
        return Err(SkipReason::ZeroAmount);
    }
    let mut extraction = merchant::extract(&draft.description);
    let mut merchant = if !draft.merchant_column.is_empty()
        && !merchant::is_bank_narration(&draft.merchant_column)
    {
        draft.merchant_column.clone()
    } else if !draft.merchant_column.is_empty() {
        merchant::extract(&draft.merchant_column).merchant
    } else if draft.description.is_empty() {
        "Unknown".to_owned()
    } else {
        std::mem::take(&mut extraction.merchant)
    };
    let mut payment_method = if draft.method_column.trim().is_empty() {
        extraction.method.unwrap_or_default().to_owned()
    } else {
        merchant::canonical_method(&draft.method_column)
    };
    let mut reference = if draft.reference_column.is_empty() {
        extraction.reference.clone().unwrap_or_default()
    } else {
        draft.reference_column.clone()
    };
    let truncated = Truncated {
        description: usize::from(draft.description_truncated),
        merchant_name: usize::from(text::truncate(&mut merchant, text::MERCHANT)),
        reference: usize::from(text::truncate(&mut reference, text::REFERENCE)),
        payment_method: usize::from(text::truncate(&mut payment_method, text::PAYMENT_METHOD)),
    };
    let amount = amount::round_money(amount);
    let date_text = iso_date(date);
    let amount_text = amount.to_string();
    let fingerprint = fingerprint::fingerprint(&FingerprintFields {
        date: &date_text,
        amount: &amount_text,
        merchant: &merchant,
        description: &draft.description,
        payment_method: &payment_method,
        reference: &reference,
    });
    let meta = Meta {
        time,
        method: extraction.method,
        location: extraction.location,
        counterparty_bank: extraction.counterparty_bank,
        upi_id: extraction.upi_id,
        app: extraction.app,
        clean_description: extraction.clean_description,
        extracted_reference: extraction.reference,
        warning,
    };
    Ok(ParsedTransaction {
        date,
        amount,
        currency,
        kind: if amount < Decimal::ZERO {
            "debit"
        } else {
            "credit"
        },
        description: draft.description,
        merchant,
        payment_method,
        reference,
        status,
        category: UNCATEGORIZED,
        client_category: draft.client_category,
        fingerprint,
        source_row,
        raw: draft.raw,
        meta,
        truncated,
    })
}

/// Gives every repeat of a fingerprint within one file an occurrence suffix, as the file's
/// transactions come: identical rows are distinct transactions (two metro rides of ₹60 on one
/// day), all kept, while re-importing the file or an overlapping statement still matches each
/// one to its stored row. Holds 8 bytes per distinct fingerprint, not the fingerprints, kept
/// per date (a fingerprint covers its date): statements list a day's rows together, so the
/// day being numbered stays in cache however long the file.
#[derive(Debug, Default)]
pub struct Repeats {
    days: HashMap<NaiveDate, Day>,
    /// The day of the previous row, looked up again only when the date changes.
    current: Option<(NaiveDate, Day)>,
}

/// One date's fingerprints (by their first 64 bits: a collision among one day's rows is as
/// likely as one of SHA-256 cut to 64 bits) and how often each was seen.
type Day = HashMap<u64, u32, BuildHasherDefault<PrefixHasher>>;

/// Hashes a fingerprint prefix by taking its low bits: they are already uniformly spread.
#[derive(Debug, Default)]
struct PrefixHasher(u64);

impl Hasher for PrefixHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

impl Repeats {
    /// Numbers `tx` as the next occurrence of its fingerprint.
    pub fn number(&mut self, tx: &mut ParsedTransaction) {
        let day = match &mut self.current {
            Some((date, day)) if *date == tx.date => day,
            current => {
                if let Some((date, day)) = current.take() {
                    self.days.insert(date, day);
                }
                let day = self.days.remove(&tx.date).unwrap_or_default();
                &mut current.insert((tx.date, day)).1
            }
        };
        let occurrence = day.entry(tx.fingerprint.prefix()).or_default();
        *occurrence += 1;
        if *occurrence > 1 {
            tx.fingerprint = fingerprint::with_occurrence(tx.fingerprint, *occurrence as usize);
        }
    }
}

/// `YYYY-MM-DD`, written directly for four-digit years.
fn iso_date(date: NaiveDate) -> String {
    let Ok(year) = u16::try_from(date.year()) else {
        return date.format("%Y-%m-%d").to_string();
    };
    if year > 9999 {
        return date.format("%Y-%m-%d").to_string();
    }
    let digit = |n: u32| char::from(b'0' + (n % 10) as u8);
    let year = u32::from(year);
    let (month, day) = (date.month(), date.day());
    [
        digit(year / 1000),
        digit(year / 100),
        digit(year / 10),
        digit(year),
        '-',
        digit(month / 10),
        digit(month),
        '-',
        digit(day / 10),
        digit(day),
    ]
    .into_iter()
    .collect()
}

/// Maps source status text to a stored status.
pub fn normalize_status(text: &str) -> &'static str {
    let lower = text.trim().to_lowercase();
    if lower.contains("refund") {
        "refunded"
    } else if lower.contains("cancel") {
        "cancelled"
    } else if lower.contains("fail") || lower.contains("declin") || lower.contains("reject") {
        "failed"
    } else if lower.contains("pending") || lower.contains("processing") {
        "pending"
    } else {
        "completed"
    }
}

fn currency_code(cell: &Cell) -> Option<&'static str> {
    match cell {
        Cell::Text(text) => amount::currency_code(text),
        _ => None,
    }
}

/// [`collapse`] of a cell's text, without copying a text cell first.
fn collapse_cell(cell: &Cell) -> String {
    match cell {
        Cell::Text(text) => collapse(text),
        Cell::Empty => String::new(),
        other => collapse(&text(other)),
    }
}

fn text(cell: &Cell) -> String {
    match cell {
        Cell::Text(text) => text.clone(),
        Cell::Number(n) => n.to_string(),
        Cell::DateTime(dt) => dt.to_string(),
        Cell::Bool(b) => b.to_string(),
        Cell::Empty | Cell::Unread => String::new(),
    }
}

/// Collapses every whitespace run (newlines included) to one space and trims.
pub fn collapse(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// A row's non-blank cells under their [`RawKeys`] (a cell past them as `column_N`); cells
/// are moved, not copied.
fn raw_row(cells: Vec<Cell>, keys: &RawKeys) -> RawRow {
    let mut raw = RawRow::new(Arc::clone(&keys.names), cells.len());
    let simple = keys.distinct && cells.len() <= keys.column.len();
    for (i, cell) in cells.into_iter().enumerate() {
        if cell.is_blank() {
            continue;
        }
        let value = match cell {
            Cell::Number(n) => RawValue::Number(n),
            Cell::Bool(b) => RawValue::Bool(b),
            Cell::Text(text) => RawValue::Text(text.into_boxed_str()),
            other => RawValue::Text(text(&other).into_boxed_str()),
        };
        let index = keys
            .column
            .get(i)
            .copied()
            .unwrap_or_else(|| u32::try_from(i).expect("fewer than 2^32 columns"));
        if simple {
            raw.push(index, value);
        } else {
            raw.insert(index, value);
        }
    }
    raw
}

/// How many source rows a warning lists.
const LISTED_ROWS: usize = 5;

/// Up to [`LISTED_ROWS`] source rows for a warning (`row 4, row 9`), then `…`.
fn listed(rows: &[usize]) -> String {
    let mut text = rows
        .iter()
        .take(LISTED_ROWS)
        .map(|row| format!("row {row}"))
        .collect::<Vec<_>>()
        .join(", ");
    if rows.len() > LISTED_ROWS {
        text.push_str(", …");
    }
    text
}

#[cfg(test)]
mod tests;

//! Turning source rows into transactions (ingestion spec §1.5–§1.8, §2.6): date, exact signed
//! amount, currency, type, status, merchant extraction, fingerprint and in-file de-duplication.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveTime};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Serialize, Serializer};
use serde_json::{json, Map, Value};

use crate::amount::{self, AmountParse, ParsedAmount, SignMarker};
use crate::cell::Cell;
use crate::date;
use crate::fingerprint::{self, FingerprintFields};
use crate::header::{Column, ColumnMap};
use crate::merchant;
use crate::text;

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
    /// Row fingerprint (with an occurrence suffix for repeats in one file).
    pub fingerprint: String,
    /// 1-based row number in the source (line of a table, item of a JSON array).
    pub source_row: usize,
    /// The source row, column name → value.
    pub raw: Value,
    /// Extraction output and warnings.
    pub meta: Value,
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

/// A row with a valid date and amount whose sign may still depend on the whole file (the
/// Google Pay status rule).
pub struct Draft {
    date: NaiveDate,
    time: Option<NaiveTime>,
    amount: Decimal,
    sign_fixed: bool,
    status_text: String,
    currency: &'static str,
    description: String,
    description_truncated: bool,
    merchant_column: String,
    method_column: String,
    reference_column: String,
    warning: Option<&'static str>,
    source_row: usize,
    raw: Map<String, Value>,
}

impl Draft {
    /// True when the amount is not negative (input to the Google Pay rule).
    pub fn is_non_negative(&self) -> bool {
        self.amount >= Decimal::ZERO
    }

    /// True when the sign came from a marker, a type or debit/credit columns.
    pub fn sign_fixed(&self) -> bool {
        self.sign_fixed
    }
}

/// Reads one source row. `headers[i]` names `cells[i]` in `raw`. The description is cut to
/// [`text::DESCRIPTION`] characters before anything reads it.
pub fn draft(
    cells: &[Cell],
    headers: &[String],
    map: &ColumnMap,
    source_row: usize,
) -> Result<Draft, SkipReason> {
    let cell = |column| {
        map.get(column)
            .and_then(|i| cells.get(i))
            .unwrap_or(&Cell::Empty)
    };
    let (date, time) = parse_date_cell(cell(Column::Date)).ok_or(SkipReason::InvalidDate)?;
    let (amount, sign_fixed, written_currency, warning) = resolve_amount(map, &cell)?;
    let currency = currency_code(cell(Column::Currency))
        .or(map.currency_hint)
        .or(written_currency)
        .unwrap_or("INR");
    let mut description = collapse(&text(cell(Column::Description)));
    let description_truncated = text::truncate(&mut description, text::DESCRIPTION);
    Ok(Draft {
        date,
        time,
        amount,
        sign_fixed,
        status_text: text(cell(Column::Status)),
        currency,
        description,
        description_truncated,
        merchant_column: collapse(&text(cell(Column::Merchant))),
        method_column: text(cell(Column::PaymentMethod)),
        reference_column: text(cell(Column::Reference)).trim().to_owned(),
        warning,
        source_row,
        raw: raw_row(cells, headers),
    })
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
        Cell::Empty | Cell::Bool(_) => None,
    }
}

type Resolved = (Decimal, bool, Option<&'static str>, Option<&'static str>);

/// The signed amount: debit/credit columns, else the amount column with its markers or a type
/// column; the Google Pay status rule is applied later, file-wide.
fn resolve_amount<'a>(
    map: &ColumnMap,
    cell: &impl Fn(Column) -> &'a Cell,
) -> Result<Resolved, SkipReason> {
    let has_split = map.get(Column::Debit).is_some() || map.get(Column::Credit).is_some();
    let split_used = has_split
        && (!cell(Column::Debit).is_blank()
            || !cell(Column::Credit).is_blank()
            || map.get(Column::Amount).is_none());
    if split_used {
        let debit = optional_amount(cell(Column::Debit))?;
        let credit = optional_amount(cell(Column::Credit))?;
        let (debit_value, credit_value) = (
            debit.as_ref().map_or(Decimal::ZERO, |a| a.value.abs()),
            credit.as_ref().map_or(Decimal::ZERO, |a| a.value.abs()),
        );
        let warning = (!debit_value.is_zero() && !credit_value.is_zero())
            .then_some("debit and credit both set; stored the net");
        let currency = debit
            .and_then(|a| a.currency)
            .or(credit.and_then(|a| a.currency));
        return Ok((
            amount::round_money(credit_value - debit_value),
            true,
            currency,
            warning,
        ));
    }
    let parsed = optional_amount(cell(Column::Amount))?.ok_or(SkipReason::InvalidRow)?;
    let direction = parsed.marker.or_else(|| match cell(Column::Kind) {
        Cell::Text(kind) => amount::direction_from_type(kind),
        _ => None,
    });
    let value = match direction {
        Some(SignMarker::Debit) => -parsed.value.abs(),
        Some(SignMarker::Credit) => parsed.value.abs(),
        None => parsed.value,
    };
    Ok((value, direction.is_some(), parsed.currency, None))
}

fn optional_amount(cell: &Cell) -> Result<Option<ParsedAmount>, SkipReason> {
    let parsed = match cell {
        Cell::Empty => AmountParse::Empty,
        Cell::Text(text) => amount::parse_amount(text),
        Cell::Number(value) => amount::parse_float_cell(*value),
        Cell::DateTime(_) | Cell::Bool(_) => AmountParse::Invalid,
    };
    match parsed {
        AmountParse::Empty => Ok(None),
        AmountParse::Invalid => Err(SkipReason::InvalidRow),
        AmountParse::Value(value) => Ok(Some(value)),
    }
}

/// Whether a file is a Google Pay/Play style export: a status column and no negative amounts
/// among rows whose sign is not fixed otherwise (spec §1.6, rule 3).
pub fn status_decides_sign(map_has_status: bool, drafts: &[Draft]) -> bool {
    map_has_status
        && drafts
            .iter()
            .filter(|d| !d.sign_fixed)
            .all(Draft::is_non_negative)
}

/// Completes a draft: applies the status rule when `status_sign` holds, extracts the merchant
/// (merchant, method and reference cut to their [`text`](mod@crate::text) limits) and computes
/// the base fingerprint.
pub fn finish(draft: Draft, status_sign: bool) -> Result<ParsedTransaction, SkipReason> {
    let status = normalize_status(&draft.status_text);
    let mut amount = draft.amount;
    if status_sign && !draft.sign_fixed {
        amount = match status {
            "cancelled" => Decimal::ZERO,
            "refunded" => amount.abs(),
            _ => -amount.abs(),
        };
    }
    if amount.is_zero() {
        return Err(SkipReason::ZeroAmount);
    }
    let extraction = merchant::extract(&draft.description);
    let mut merchant = if !draft.merchant_column.is_empty()
        && !merchant::is_bank_narration(&draft.merchant_column)
    {
        draft.merchant_column.clone()
    } else if !draft.merchant_column.is_empty() {
        merchant::extract(&draft.merchant_column).merchant
    } else if draft.description.is_empty() {
        "Unknown".to_owned()
    } else {
        extraction.merchant.clone()
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
    let date_text = draft.date.format("%Y-%m-%d").to_string();
    let amount_text = amount.to_string();
    let fingerprint = fingerprint::fingerprint(&FingerprintFields {
        date: &date_text,
        amount: &amount_text,
        merchant: &merchant,
        description: &draft.description,
        payment_method: &payment_method,
        reference: &reference,
    });
    let mut meta = json!({
        "time": draft.time.map(|t| t.format("%H:%M:%S").to_string()),
        "method": extraction.method,
        "location": extraction.location,
        "counterparty_bank": extraction.counterparty_bank,
        "upi_id": extraction.upi_id,
        "app": extraction.app,
        "clean_description": extraction.clean_description,
        "extracted_reference": extraction.reference,
        "warning": draft.warning,
    });
    // Absent facts are left out rather than stored as nulls (smaller rows, faster imports).
    if let Value::Object(members) = &mut meta {
        members.retain(|_, value| !value.is_null());
    }
    Ok(ParsedTransaction {
        date: draft.date,
        amount,
        currency: draft.currency,
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
        fingerprint,
        source_row: draft.source_row,
        raw: Value::Object(draft.raw),
        meta,
        truncated,
    })
}

/// Gives every repeat of a fingerprint within one file an occurrence suffix: identical rows are
/// distinct transactions (two metro rides of ₹60 on one day), all kept, while re-importing the
/// file or an overlapping statement still matches each one to its stored row.
pub fn number_repeats(transactions: &mut [ParsedTransaction]) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for tx in transactions {
        let occurrence = seen.entry(tx.fingerprint.clone()).or_default();
        *occurrence += 1;
        tx.fingerprint = fingerprint::with_occurrence(&tx.fingerprint, *occurrence);
    }
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

fn text(cell: &Cell) -> String {
    match cell {
        Cell::Text(text) => text.clone(),
        Cell::Number(n) => n.to_string(),
        Cell::DateTime(dt) => dt.to_string(),
        Cell::Bool(b) => b.to_string(),
        Cell::Empty => String::new(),
    }
}

/// Collapses every whitespace run (newlines included) to one space and trims.
pub fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn raw_row(cells: &[Cell], headers: &[String]) -> Map<String, Value> {
    cells
        .iter()
        .enumerate()
        .filter(|(_, cell)| !cell.is_blank())
        .map(|(i, cell)| {
            let key = headers
                .get(i)
                .filter(|h| !h.trim().is_empty())
                .cloned()
                .unwrap_or_else(|| format!("column_{}", i + 1));
            let value = match cell {
                Cell::Number(n) => json!(n),
                Cell::Bool(b) => json!(b),
                other => Value::String(text(other)),
            };
            (key, value)
        })
        .collect()
}

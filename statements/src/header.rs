//! Header normalisation, column classification and header-row detection (ingestion spec
//! §1.3–§1.4, issue #12 items 1 and 7).
//!
//! A header cell is first reduced to a [`Label`]: lower-case words with unit and currency
//! annotations (`(INR )`, `(in Rs.)`, `(₹)`, `(Dr)`, `Rs`, `INR`) removed. The label is then
//! matched against the exact alias table, and failing that, by its keywords (abbreviations such
//! as `txn`, `amt`, `dt`, `chq` expanded), so a new bank's wording still lands. Header rows are
//! chosen by a score, not by the first row that happens to mention a date.

use crate::amount::{self, AmountParse};
use crate::cell::Cell;
use crate::date;

/// How many leading rows may hold a preamble before the header.
pub const HEADER_SCAN_ROWS: usize = 30;

/// How many rows after the scanned ones a caller should also hand to [`detect_header`], so the
/// data rows below a late header still inform the description choice.
pub const DATA_SAMPLE_ROWS: usize = 50;

/// How many non-blank rows below a candidate header are checked for looking like data.
const DATA_PROBE_ROWS: usize = 5;

/// Rank of a column matched by keywords rather than by an exact alias (exact ranks are lower).
const KEYWORD_RANK: usize = 100;

/// Keyword matching is only tried on labels of at most this many words (longer cells are text).
const MAX_KEYWORD_WORDS: usize = 6;

/// The canonical columns a statement can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// Transaction (or value) date.
    Date,
    /// Narration / description.
    Description,
    /// Merchant or payee.
    Merchant,
    /// Signed or unsigned amount.
    Amount,
    /// Withdrawal amount.
    Debit,
    /// Deposit amount.
    Credit,
    /// Running balance.
    Balance,
    /// Debit/credit type marker.
    Kind,
    /// Transaction status (Google Pay and similar exports).
    Status,
    /// Payment method / mode.
    PaymentMethod,
    /// Reference, UTR, cheque or transaction id.
    Reference,
    /// ISO currency code.
    Currency,
}

/// Alias table: exact normalised header texts per column. The list order is a preference (for
/// `Date`, transaction date over value date; for `Description`, the tie-break of
/// [`ColumnMap::choose_description`]).
const ALIASES: &[(Column, &[&str])] = &[
    (
        Column::Date,
        &[
            "date",
            "txn date",
            "transaction date",
            "trans date",
            "tran date",
            "posting date",
            "post date",
            "booking date",
            "value date",
            "value dt",
            "time",
            "timestamp",
            "buchungstag",
            "buchungsdatum",
            "wertstellung",
            "valutadatum",
            "datum",
            "boekdatum",
            "transactiedatum",
            "date opération",
            "date operation",
            "date de valeur",
        ],
    ),
    (
        Column::Description,
        &[
            "description",
            "details",
            "narration",
            "particulars",
            "remarks",
            "transaction details",
            "transaction remarks",
            "memo",
            "original description",
            "desc",
            "notes",
            "verwendungszweck",
            "buchungstext",
            "omschrijving",
            "mededelingen",
            "libellé",
            "libelle",
            "libellé opération",
        ],
    ),
    (
        Column::Merchant,
        &[
            "merchant",
            "merchant name",
            "payee",
            "beneficiary",
            "seller",
            "vendor",
            "product",
            "product name",
            "merchant category",
            "beguenstigter zahlungspflichtiger",
            "begünstigter zahlungspflichtiger",
            "auftraggeber empfänger",
            "empfänger",
            "naam omschrijving",
            "naam",
            "tegenpartij",
            "bénéficiaire",
        ],
    ),
    (
        Column::Amount,
        &[
            "amount",
            "transaction amount",
            "txn amount",
            "amt",
            "value",
            "betrag",
            "umsatz",
            "bedrag",
            "montant",
        ],
    ),
    (
        Column::Debit,
        &[
            "debit",
            "debit amount",
            "dr",
            "dr amount",
            "withdrawal",
            "withdrawals",
            "withdrawal amt",
            "withdrawal amount",
            "outflow",
            "soll",
            "débit",
        ],
    ),
    (
        Column::Credit,
        &[
            "credit",
            "credit amount",
            "cr",
            "cr amount",
            "deposit",
            "deposits",
            "deposit amt",
            "deposit amount",
            "inflow",
            "haben",
            "crédit",
        ],
    ),
    (
        Column::Balance,
        &[
            "balance",
            "closing balance",
            "running balance",
            "available balance",
            "saldo",
            "kontostand",
            "solde",
        ],
    ),
    (
        Column::Kind,
        &[
            "type",
            "transaction type",
            "txn type",
            "dr cr",
            "cr dr",
            "debit credit",
            "af bij",
            "soll haben",
        ],
    ),
    (Column::Status, &["status", "state", "transaction status"]),
    (
        Column::PaymentMethod,
        &[
            "payment method",
            "payment mode",
            "payment type",
            "mode",
            "method",
        ],
    ),
    (
        Column::Reference,
        &[
            "reference",
            "ref",
            "ref no",
            "reference no",
            "chq ref no",
            "ref no cheque no",
            "cheque no",
            "chq no",
            "utr",
            "transaction id",
            "txn id",
            "chq no ref no",
            "ref no chq no",
        ],
    ),
    (
        Column::Currency,
        &["currency", "ccy", "währung", "waehrung", "devise"],
    ),
];

/// Lower-cases, replaces every run of non-alphanumeric characters by one space and trims.
pub fn normalize_header(text: &str) -> String {
    words(&text.to_lowercase()).collect::<Vec<_>>().join(" ")
}

fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// A header cell reduced for matching: see [`label`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// Lower-case words joined by single spaces, annotations removed.
    pub text: String,
    /// The currency an annotation or a currency word named (`(INR )`, `(in Rs.)`, `(₹)`, `USD`).
    pub currency: Option<&'static str>,
}

/// Normalises a header cell: bracketed annotations (`(INR )`, `(in Rs.)`, `(₹)`, `(DR)`,
/// `[USD]`) and currency words or symbols (`Rs`, `INR`, `₹`, `in Rs`) are removed, the currency
/// they name is kept, then [`normalize_header`] applies. Brackets are kept when nothing else is
/// left (`(Dr/Cr)` stays `dr cr`); so are currency words.
pub fn label(text: &str) -> Label {
    let lower = text.to_lowercase();
    let mut outside = String::with_capacity(lower.len());
    let mut inside = String::new();
    let mut depth = 0usize;
    for c in lower.chars() {
        match c {
            '(' | '[' | '{' => {
                depth += 1;
                inside.push(' ');
            }
            ')' | ']' | '}' if depth > 0 => {
                depth -= 1;
                inside.push(' ');
            }
            _ if depth > 0 => inside.push(c),
            _ => outside.push(c),
        }
    }
    let currency = currency_in(&outside).or_else(|| currency_in(&inside));
    let main = if words(&outside).next().is_some() {
        &outside
    } else {
        &inside
    };
    let all: Vec<&str> = words(main).collect();
    let mut kept: Vec<&str> = Vec::with_capacity(all.len());
    for (i, word) in all.iter().enumerate() {
        let is_currency = |w: &&str| amount::currency_code(w).is_some() || *w == "rupees";
        let before_currency = *word == "in" && all.get(i + 1).is_some_and(is_currency);
        if !is_currency(word) && !before_currency {
            kept.push(word);
        }
    }
    let text = if kept.is_empty() {
        all.join(" ")
    } else {
        kept.join(" ")
    };
    Label { text, currency }
}

/// The first currency named in `text`, by symbol (`₹`) or word (`INR`, `Rs`, `rupees`).
fn currency_in(text: &str) -> Option<&'static str> {
    text.chars()
        .filter(|c| !c.is_alphanumeric() && !c.is_whitespace())
        .find_map(|c| amount::currency_code(c.encode_utf8(&mut [0; 4])))
        .or_else(|| {
            words(text).find_map(|w| match w {
                "rupees" => Some("INR"),
                _ => amount::currency_code(w),
            })
        })
}

/// Expands one word's bank abbreviation (`txn` → `transaction`, `chqno` → `cheque number`).
fn expand(word: &str) -> &str {
    match word {
        "txn" | "tran" | "trans" | "trn" | "trxn" | "transactions" => "transaction",
        "amt" | "amnt" => "amount",
        "dt" | "dated" => "date",
        "chq" | "cheq" | "check" => "cheque",
        "ref" | "refno" => "reference",
        "no" | "num" | "nbr" => "number",
        "desc" | "descr" => "description",
        "bal" => "balance",
        "withdrawals" | "withdrawl" | "wdl" => "withdrawal",
        "deposits" => "deposit",
        "debits" | "dr" => "debit",
        "credits" | "cr" => "credit",
        "particular" => "particulars",
        "remark" => "remarks",
        "detail" => "details",
        "narrative" => "narration",
        "chqno" | "chequeno" => "cheque number",
        other => other,
    }
}

/// Words that mark a preamble or summary cell (`Account Details`, `Total Amount Due`,
/// `Transaction Date from`), never a column header, for keyword matching.
const NOT_A_HEADER: &[&str] = &[
    "account",
    "card",
    "limit",
    "total",
    "opening",
    "count",
    "statement",
    "period",
    "from",
    "to",
    "summary",
    "due",
];

/// The column a normalised label names and its preference rank (lower is better): an exact
/// alias (its list position), else keywords after expanding abbreviations (`KEYWORD_RANK`,
/// except that a date other than a value date ranks just before `value date`).
pub fn classify(normalized: &str) -> Option<(Column, usize)> {
    exact(normalized).or_else(|| {
        let expanded: Vec<&str> = words(normalized)
            .flat_map(|w| expand(w).split(' '))
            .collect();
        exact(&expanded.join(" ")).or_else(|| by_keywords(&expanded))
    })
}

fn exact(normalized: &str) -> Option<(Column, usize)> {
    ALIASES.iter().find_map(|(column, aliases)| {
        aliases
            .iter()
            .position(|alias| *alias == normalized)
            .map(|rank| (*column, rank))
    })
}

fn by_keywords(words: &[&str]) -> Option<(Column, usize)> {
    if words.len() > MAX_KEYWORD_WORDS
        || words.iter().any(|w| w.chars().any(|c| c.is_ascii_digit()))
        || words.iter().any(|w| NOT_A_HEADER.contains(w))
    {
        return None;
    }
    let has = |keys: &[&str]| words.iter().any(|w| keys.contains(w));
    let column = if has(&["debit"]) && has(&["credit"]) {
        if has(&["amount"]) {
            Column::Amount
        } else {
            Column::Kind
        }
    } else if has(&["balance"]) {
        Column::Balance
    } else if has(&["date"]) {
        let value_date = has(&["value"]);
        return Some((Column::Date, date_rank(value_date)));
    } else if has(&["reference", "cheque", "utr", "rrn"]) || (has(&["transaction"]) && has(&["id"]))
    {
        Column::Reference
    } else if has(&["withdrawal", "debit", "outflow"]) {
        Column::Debit
    } else if has(&["deposit", "credit", "inflow"]) {
        Column::Credit
    } else if has(&["amount"]) {
        Column::Amount
    } else if has(&["merchant", "payee", "beneficiary", "vendor", "seller"]) {
        Column::Merchant
    } else if has(&[
        "description",
        "details",
        "narration",
        "particulars",
        "remarks",
        "memo",
        "notes",
    ]) {
        Column::Description
    } else if has(&["status"]) {
        Column::Status
    } else if has(&["mode", "method", "channel"]) {
        Column::PaymentMethod
    } else if has(&["currency", "ccy"]) {
        Column::Currency
    } else {
        return None;
    };
    Some((column, KEYWORD_RANK))
}

/// A keyword-matched date ranks right before (or, for a value date, right after) `value date`.
fn date_rank(value_date: bool) -> usize {
    let value = exact("value date").map_or(0, |(_, rank)| rank);
    if value_date {
        value
    } else {
        value.saturating_sub(1)
    }
}

/// Which source column holds each canonical column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnMap {
    slots: Vec<(Column, usize, usize)>,
    /// Every column that could be the description, as `(index, rank)`, best first.
    descriptions: Vec<(usize, usize)>,
    /// Currency named by a money column's header.
    pub currency_hint: Option<&'static str>,
}

impl ColumnMap {
    /// Maps a header row; per column the best-ranked match wins, ties go to the leftmost.
    pub fn from_headers<'a>(headers: impl IntoIterator<Item = &'a str>) -> Self {
        let mut map = ColumnMap::default();
        for (index, header) in headers.into_iter().enumerate() {
            let label = label(header);
            let Some((column, rank)) = classify(&label.text) else {
                continue;
            };
            if matches!(column, Column::Amount | Column::Debit | Column::Credit) {
                map.currency_hint = map.currency_hint.or(label.currency);
            }
            if column == Column::Description {
                map.descriptions.push((index, rank));
            }
            match map.slots.iter_mut().find(|(c, _, _)| *c == column) {
                Some(slot) if rank < slot.2 => *slot = (column, index, rank),
                Some(_) => {}
                None => map.slots.push((column, index, rank)),
            }
        }
        map.descriptions.sort_by_key(|&(index, rank)| (rank, index));
        map
    }

    /// The source index of `column`.
    pub fn get(&self, column: Column) -> Option<usize> {
        self.slots
            .iter()
            .find(|(c, _, _)| *c == column)
            .map(|(_, index, _)| *index)
    }

    /// How many distinct columns the row names.
    fn roles(&self) -> usize {
        self.slots.len()
    }

    /// True when some amount, debit or credit column is mapped.
    pub fn has_money(&self) -> bool {
        [Column::Amount, Column::Debit, Column::Credit]
            .into_iter()
            .any(|c| self.get(c).is_some())
    }

    /// How many of the required roles (a date, a description or merchant, some money column)
    /// the row fills.
    fn required_roles(&self) -> usize {
        let described =
            self.get(Column::Description).is_some() || self.get(Column::Merchant).is_some();
        usize::from(self.get(Column::Date).is_some())
            + usize::from(described)
            + usize::from(self.has_money())
    }

    /// True when `row` looks like a transaction under this map: its date cell is a date and
    /// one of its money cells an amount.
    fn is_data(&self, row: &[Cell]) -> bool {
        let cell = |column| self.get(column).and_then(|i| row.get(i));
        let dated = cell(Column::Date).is_some_and(is_date);
        dated
            && [Column::Amount, Column::Debit, Column::Credit]
                .into_iter()
                .filter_map(cell)
                .any(is_amount)
    }

    /// Picks, among the columns that could be the description, the one that carries text in
    /// the data rows of `rows` (those whose date cell is a date): the most non-blank cells win,
    /// ties keep the alias preference (then the leftmost).
    pub fn choose_description(&mut self, rows: &[Vec<Cell>]) {
        if self.descriptions.len() < 2 {
            return;
        }
        let date = self.get(Column::Date);
        let data: Vec<&Vec<Cell>> = rows
            .iter()
            .filter(|row| date.and_then(|i| row.get(i)).is_some_and(is_date))
            .collect();
        let filled = |index: usize| {
            data.iter()
                .filter(|row| row.get(index).is_some_and(|cell| !cell.is_blank()))
                .count()
        };
        // `max_by_key` keeps the last maximum, so walk the candidates worst first.
        let best = self
            .descriptions
            .iter()
            .rev()
            .max_by_key(|(index, _)| filled(*index))
            .copied();
        if let (Some(best), Some(slot)) = (
            best,
            self.slots
                .iter_mut()
                .find(|(c, _, _)| *c == Column::Description),
        ) {
            *slot = (Column::Description, best.0, best.1);
        }
    }
}

fn is_date(cell: &Cell) -> bool {
    match cell {
        Cell::DateTime(_) => true,
        Cell::Number(serial) => date::date_from_excel_serial(*serial).is_some(),
        Cell::Text(text) => date::parse_date(text).is_some(),
        Cell::Empty | Cell::Bool(_) | Cell::Unread => false,
    }
}

fn is_amount(cell: &Cell) -> bool {
    match cell {
        Cell::Number(value) => value.is_finite(),
        Cell::Text(text) => matches!(amount::parse_amount(text), AmountParse::Value(_)),
        Cell::Empty | Cell::DateTime(_) | Cell::Bool(_) | Cell::Unread => false,
    }
}

/// How a candidate header row ranks: required roles filled, data-like rows right below it,
/// distinct roles; compared in that order (higher is better).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HeaderScore {
    /// Of a date, a description (or merchant) and a money column, how many the row names.
    pub required: usize,
    /// How many of the next few non-blank rows parse as transactions under this header.
    pub data_rows: usize,
    /// How many distinct columns the row names.
    pub roles: usize,
}

/// Scores row `index` of `rows` as a header; `None` when it names no date or no money column.
pub fn score_header(rows: &[Vec<Cell>], index: usize) -> Option<(HeaderScore, ColumnMap)> {
    let map = map_row(rows.get(index)?);
    if map.get(Column::Date).is_none() || !map.has_money() {
        return None;
    }
    let data_rows = rows[index + 1..]
        .iter()
        .filter(|row| !row.iter().all(Cell::is_blank))
        .take(DATA_PROBE_ROWS)
        .filter(|row| map.is_data(row))
        .count();
    let score = HeaderScore {
        required: map.required_roles(),
        data_rows,
        roles: map.roles(),
    };
    Some((score, map))
}

fn map_row(row: &[Cell]) -> ColumnMap {
    ColumnMap::from_headers(row.iter().map(|cell| match cell {
        Cell::Text(text) => text.as_str(),
        _ => "",
    }))
}

/// Finds the header among the first [`HEADER_SCAN_ROWS`] rows: the best-scoring
/// ([`score_header`]) row that names a date and a money column, the earliest on a tie; falls
/// back to row 0. Rows past the scan (up to [`DATA_SAMPLE_ROWS`] more) only inform the
/// scores and the description choice ([`ColumnMap::choose_description`]).
pub fn detect_header(rows: &[Vec<Cell>]) -> (usize, ColumnMap) {
    let best = (0..rows.len().min(HEADER_SCAN_ROWS))
        .filter_map(|index| score_header(rows, index).map(|(score, map)| (index, score, map)))
        .fold(
            None,
            |best: Option<(usize, HeaderScore, ColumnMap)>, next| match best {
                Some(best) if best.1 >= next.1 => Some(best),
                _ => Some(next),
            },
        );
    match best {
        Some((index, _, mut map)) => {
            map.choose_description(&rows[index + 1..]);
            (index, map)
        }
        None => rows
            .first()
            .map(|row| (0, map_row(row)))
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests;

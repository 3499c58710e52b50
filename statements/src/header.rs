//! Header normalisation, column aliases and header-row detection (ingestion spec §1.3–§1.4).

use crate::cell::Cell;

/// How many leading rows may hold a preamble before the header.
pub const HEADER_SCAN_ROWS: usize = 30;

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

/// Alias table: exact normalised header texts per column. For `Date` the list order is a
/// preference (transaction date over value date).
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
            "amount inr",
            "amount usd",
            "amount eur",
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
        ],
    ),
    (
        Column::Balance,
        &[
            "balance",
            "closing balance",
            "running balance",
            "available balance",
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
    (Column::Currency, &["currency", "ccy"]),
];

/// Lower-cases, replaces every run of non-alphanumeric characters by one space and trims.
pub fn normalize_header(text: &str) -> String {
    let lower = text.to_lowercase();
    let mut out = String::with_capacity(lower.len());
    for word in lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The column a normalised header names and its preference rank (lower is better).
pub fn classify(normalized: &str) -> Option<(Column, usize)> {
    ALIASES.iter().find_map(|(column, aliases)| {
        aliases
            .iter()
            .position(|alias| *alias == normalized)
            .map(|rank| (*column, rank))
    })
}

/// The currency named by an amount header such as `Amount (USD)`.
pub fn currency_hint(normalized: &str) -> Option<&'static str> {
    match normalized {
        "amount inr" => Some("INR"),
        "amount usd" => Some("USD"),
        "amount eur" => Some("EUR"),
        _ => None,
    }
}

/// Which source column holds each canonical column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnMap {
    slots: Vec<(Column, usize, usize)>,
    /// Currency named by the amount header.
    pub currency_hint: Option<&'static str>,
}

impl ColumnMap {
    /// Maps a header row; per column the best-ranked alias wins, ties go to the leftmost.
    pub fn from_headers<'a>(headers: impl IntoIterator<Item = &'a str>) -> Self {
        let mut map = ColumnMap::default();
        for (index, header) in headers.into_iter().enumerate() {
            let normalized = normalize_header(header);
            let Some((column, rank)) = classify(&normalized) else {
                continue;
            };
            if column == Column::Amount {
                map.currency_hint = map.currency_hint.or(currency_hint(&normalized));
            }
            match map.slots.iter_mut().find(|(c, _, _)| *c == column) {
                Some(slot) if rank < slot.2 => *slot = (column, index, rank),
                Some(_) => {}
                None => map.slots.push((column, index, rank)),
            }
        }
        map
    }

    /// The source index of `column`.
    pub fn get(&self, column: Column) -> Option<usize> {
        self.slots
            .iter()
            .find(|(c, _, _)| *c == column)
            .map(|(_, index, _)| *index)
    }

    /// True when the row could be a header: a date, a description and some amount column.
    pub fn is_complete(&self) -> bool {
        let has = |c| self.get(c).is_some();
        has(Column::Date)
            && (has(Column::Description) || has(Column::Merchant))
            && (has(Column::Amount) || has(Column::Debit) || has(Column::Credit))
    }
}

/// Finds the header among the first [`HEADER_SCAN_ROWS`] rows: the first row whose cells name
/// a date, a description and an amount/debit/credit column. Falls back to row 0.
pub fn detect_header(rows: &[Vec<Cell>]) -> (usize, ColumnMap) {
    let map_row = |row: &Vec<Cell>| {
        ColumnMap::from_headers(row.iter().map(|cell| match cell {
            Cell::Text(text) => text.as_str(),
            _ => "",
        }))
    };
    rows.iter()
        .take(HEADER_SCAN_ROWS)
        .enumerate()
        .map(|(index, row)| (index, map_row(row)))
        .find(|(_, map)| map.is_complete())
        .or_else(|| rows.first().map(|row| (0, map_row(row))))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;

//! Validation of the transaction list's query string into a [`ListQuery`]: page size, cursor,
//! date and amount ranges, exact-match filters and the free-text search (with `LIKE`
//! wildcards escaped).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;

use super::{invalid, AccountsError};
use crate::pagination::{page_limit, Cursor};
use crate::text;

/// Page size when the client sends none.
pub const DEFAULT_LIMIT: i64 = 50;
/// Largest page size.
pub const MAX_LIMIT: i64 = 200;
/// Statuses a transaction can have.
pub const STATUSES: [&str; 5] = ["completed", "pending", "refunded", "cancelled", "failed"];
/// What can decide a transaction's category (`category_source`).
pub const CATEGORY_SOURCES: [&str; 6] = ["rule", "model", "user", "client", "fallback", "manual"];

/// The list's query string as sent (every value still text).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RawListQuery {
    /// Page size, 1..=200.
    pub limit: Option<String>,
    /// Cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Earliest `transaction_date`, inclusive (YYYY-MM-DD).
    pub date_from: Option<String>,
    /// Latest `transaction_date`, inclusive (YYYY-MM-DD).
    pub date_to: Option<String>,
    /// Smallest signed amount, inclusive.
    pub amount_min: Option<String>,
    /// Largest signed amount, inclusive.
    pub amount_max: Option<String>,
    /// Category, exact and case-insensitive.
    pub category: Option<String>,
    /// Merchant name, exact and case-insensitive.
    pub merchant: Option<String>,
    /// `credit` or `debit`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// One of [`STATUSES`].
    pub status: Option<String>,
    /// Free text searched in the description and the merchant name.
    pub q: Option<String>,
    /// `true` or `false`: whether a person should check the category.
    pub needs_review: Option<String>,
    /// One of [`CATEGORY_SOURCES`].
    pub category_source: Option<String>,
}

/// A validated list request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Rows per page.
    pub limit: i64,
    /// Start after this position (`None`: the newest row).
    pub after: Option<Cursor<NaiveDate>>,
    /// Earliest date, inclusive.
    pub date_from: Option<NaiveDate>,
    /// Latest date, inclusive.
    pub date_to: Option<NaiveDate>,
    /// Smallest amount, inclusive, as a canonical decimal string.
    pub amount_min: Option<String>,
    /// Largest amount, inclusive, as a canonical decimal string.
    pub amount_max: Option<String>,
    /// Category (compared case-insensitively).
    pub category: Option<String>,
    /// Merchant name (compared case-insensitively).
    pub merchant: Option<String>,
    /// `credit` or `debit`.
    pub kind: Option<String>,
    /// A transaction status.
    pub status: Option<String>,
    /// An `ILIKE` pattern (`%text%`, with `\`, `%` and `_` escaped by `\`).
    pub search: Option<String>,
    /// Whether a person should check the category.
    pub needs_review: Option<bool>,
    /// What decided the category.
    pub category_source: Option<String>,
}

impl RawListQuery {
    /// Validates every parameter; a bad cursor is [`|e| AccountsError::Core(CoreError::InvalidCursor(e))`], anything
    /// else [`|e| AccountsError::Core(CoreError::Validation(e))`]. Empty values count as absent.
    pub fn validate(self) -> Result<ListQuery, AccountsError> {
        let limit = page_limit(self.limit.as_deref(), DEFAULT_LIMIT, MAX_LIMIT).map_err(invalid)?;
        let after = present(self.cursor)
            .map(|c| Cursor::decode(&c))
            .transpose()?;
        let date_from = present(self.date_from)
            .map(|d| date("date_from", &d))
            .transpose()?;
        let date_to = present(self.date_to)
            .map(|d| date("date_to", &d))
            .transpose()?;
        if let (Some(from), Some(to)) = (date_from, date_to) {
            if from > to {
                return Err(invalid("`date_from` must not be after `date_to`"));
            }
        }
        let amount_min = present(self.amount_min)
            .map(|a| amount("amount_min", &a))
            .transpose()?;
        let amount_max = present(self.amount_max)
            .map(|a| amount("amount_max", &a))
            .transpose()?;
        if let (Some(min), Some(max)) = (amount_min, amount_max) {
            if min > max {
                return Err(invalid("`amount_min` must not exceed `amount_max`"));
            }
        }
        let kind = present(self.kind)
            .map(|k| one_of("type", k, &["credit", "debit"]))
            .transpose()?;
        let status = present(self.status)
            .map(|s| one_of("status", s, &STATUSES))
            .transpose()?;
        let needs_review = present(self.needs_review)
            .map(|v| one_of("needs_review", v, &["true", "false"]).map(|v| v == "true"))
            .transpose()?;
        let category_source = present(self.category_source)
            .map(|s| one_of("category_source", s, &CATEGORY_SOURCES))
            .transpose()?;
        Ok(ListQuery {
            limit,
            after,
            date_from,
            date_to,
            amount_min: amount_min.map(|a| a.to_string()),
            amount_max: amount_max.map(|a| a.to_string()),
            category: present(self.category)
                .map(|c| text("category", c))
                .transpose()?,
            merchant: present(self.merchant)
                .map(|m| text("merchant", m))
                .transpose()?,
            kind,
            status,
            search: present(self.q)
                .map(|q| text("q", q).map(|q| format!("%{}%", escape_like(&q))))
                .transpose()?,
            needs_review,
            category_source,
        })
    }
}

/// Escapes `\`, `%` and `_` so `text` matches literally inside a `LIKE … ESCAPE '\'` pattern.
pub fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn present(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

fn date(name: &str, text: &str) -> Result<NaiveDate, AccountsError> {
    let ok = text.len() == 10;
    ok.then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| invalid(format!("`{name}` must be a date as YYYY-MM-DD")))
}

fn amount(name: &str, text: &str) -> Result<Decimal, AccountsError> {
    text.trim()
        .parse::<Decimal>()
        .ok()
        .filter(|a| a.abs() < Decimal::from(10_000_000_000i64))
        .ok_or_else(|| invalid(format!("`{name}` must be a decimal number")))
}

fn one_of(name: &str, value: String, allowed: &[&str]) -> Result<String, AccountsError> {
    let value = value.trim().to_ascii_lowercase();
    if allowed.contains(&value.as_str()) {
        Ok(value)
    } else {
        Err(invalid(format!(
            "`{name}` must be one of: {}",
            allowed.join(", ")
        )))
    }
}

/// A text filter, trimmed: no NUL, at most [`text::FILTER`] characters.
fn text(name: &str, value: String) -> Result<String, AccountsError> {
    Ok(text::trimmed(name, &value, text::FILTER)?)
}

#[cfg(test)]
mod tests;

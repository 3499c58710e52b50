//! Validation of the writable parts — a transaction's category, description and merchant, the
//! profile's e-mail, currency and time zone — and the sign rule of a manual recategorisation
//! (categorisation spec §5.7: moving to `Income` makes the amount `+|a|`, leaving it `−|a|`).

use std::str::FromStr;

use scale_statements::text::{CATEGORY, DESCRIPTION, MERCHANT};
use serde::Deserialize;

use super::{invalid, AccountsError};
use crate::text;

/// The category whose transactions are credits.
pub const INCOME: &str = "Income";
/// Longest local part of an e-mail address, in bytes (RFC 5321).
const MAX_LOCAL_PART: usize = 64;
/// Longest domain label, in bytes (RFC 1035).
const MAX_LABEL: usize = 63;
/// The characters besides letters and digits an e-mail local part may hold (RFC 5322 `atext`).
const LOCAL_PART_SYMBOLS: &str = "!#$%&'*+-/=?^_`{|}~";

/// `PATCH /accounts/transactions/{id}` as sent; every field optional.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct TransactionEdit {
    /// The corrected category.
    pub category: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// A new merchant name.
    pub merchant_name: Option<String>,
}

impl TransactionEdit {
    /// Trims the fields and checks them against a transaction's [`scale_statements::text`]
    /// limits (no NUL either); a category must not be empty and at least one field must be
    /// present.
    pub fn validate(self) -> Result<Self, AccountsError> {
        let field = |name, value: Option<String>, max| {
            value.map(|v| text::trimmed(name, &v, max)).transpose()
        };
        let edit = TransactionEdit {
            category: field("category", self.category, CATEGORY)?,
            description: field("description", self.description, DESCRIPTION)?,
            merchant_name: field("merchant_name", self.merchant_name, MERCHANT)?,
        };
        if edit.category.as_deref() == Some("") {
            return Err(invalid("`category` must not be empty"));
        }
        if edit.category.is_none() && edit.description.is_none() && edit.merchant_name.is_none() {
            return Err(invalid(
                "send at least one of `category`, `description`, `merchant_name`",
            ));
        }
        Ok(edit)
    }
}

/// What a recategorisation does to the amount's sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignChange {
    /// Amount stays as it is.
    Keep,
    /// Amount becomes `+|a|` (a credit).
    Credit,
    /// Amount becomes `−|a|` (a debit).
    Debit,
}

impl SignChange {
    /// The type the row gets, when it changes.
    pub fn kind(self) -> Option<&'static str> {
        match self {
            SignChange::Keep => None,
            SignChange::Credit => Some("credit"),
            SignChange::Debit => Some("debit"),
        }
    }
}

/// The sign rule for a category change from `old` to `new` (§5.7).
pub fn sign_change(old: &str, new: &str) -> SignChange {
    match (old == INCOME, new == INCOME) {
        (false, true) => SignChange::Credit,
        (true, false) => SignChange::Debit,
        _ => SignChange::Keep,
    }
}

/// `PUT /accounts/profile` (and `/accounts/settings`) as sent; every field optional.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ProfileUpdate {
    /// A new e-mail address.
    pub email: Option<String>,
    /// ISO 4217 code, three letters.
    pub currency: Option<String>,
    /// IANA time-zone name, e.g. `Asia/Kolkata`.
    pub timezone: Option<String>,
}

impl ProfileUpdate {
    /// Checks every present field: an e-mail address (see `email`, stored trimmed and
    /// lower-case), three ASCII letters for the currency (stored upper-case), an IANA zone known
    /// to `chrono-tz`.
    pub fn validate(self) -> Result<Self, AccountsError> {
        let email = self.email.as_deref().map(email).transpose()?;
        let currency = self
            .currency
            .map(|c| {
                let c = c.trim().to_ascii_uppercase();
                (c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()))
                    .then_some(c)
                    .ok_or_else(|| invalid("`currency` must be a three-letter ISO 4217 code"))
            })
            .transpose()?;
        let timezone = self
            .timezone
            .map(|tz| {
                chrono_tz::Tz::from_str(tz.trim())
                    .map(|zone| zone.name().to_owned())
                    .map_err(|_| invalid("`timezone` must be an IANA time-zone name"))
            })
            .transpose()?;
        if email.is_none() && currency.is_none() && timezone.is_none() {
            return Err(invalid("send at least one field to change"));
        }
        Ok(ProfileUpdate {
            email,
            currency,
            timezone,
        })
    }
}

/// `value` trimmed and lower-cased, if it is an e-mail address: at most 254 bytes; one `@`;
/// a local part of at most 64 bytes, dot-separated non-empty runs of letters, digits and
/// [`LOCAL_PART_SYMBOLS`]; a domain of at least two dot-separated labels, each 1–63 bytes of
/// letters, digits and `-` that neither starts nor ends with `-`, the last not all digits.
fn email(value: &str) -> Result<String, AccountsError> {
    let address = text::trimmed("email", value, text::EMAIL)?.to_lowercase();
    let valid = address.len() <= text::EMAIL
        && address
            .split_once('@')
            .is_some_and(|(local, domain)| is_local_part(local) && is_domain(domain));
    valid
        .then_some(address)
        .ok_or_else(|| invalid("`email` must be an e-mail address such as name@example.com"))
}

fn is_local_part(local: &str) -> bool {
    local.len() <= MAX_LOCAL_PART
        && local.split('.').all(|run| {
            !run.is_empty()
                && run
                    .chars()
                    .all(|c| c.is_alphanumeric() || LOCAL_PART_SYMBOLS.contains(c))
        })
}

fn is_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let is_label = |label: &&str| {
        (1..=MAX_LABEL).contains(&label.len())
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    labels.len() >= 2
        && labels.iter().all(is_label)
        && labels
            .last()
            .is_some_and(|tld| !tld.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests;

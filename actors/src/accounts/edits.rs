//! Validation of the writable parts — a transaction's category, description and merchant, the
//! profile's e-mail, currency and time zone — and the sign rule of a manual recategorisation
//! (categorisation spec §5.7: moving to `Income` makes the amount `+|a|`, leaving it `−|a|`).

use std::str::FromStr;

use serde::Deserialize;

use super::{invalid, AccountsError};

/// The category whose transactions are credits.
pub const INCOME: &str = "Income";
/// Longest category or merchant name.
const MAX_NAME: usize = 100;
/// Longest description.
const MAX_DESCRIPTION: usize = 1000;
/// Longest e-mail address (RFC 5321).
const MAX_EMAIL: usize = 254;

/// `PATCH /accounts/transactions/{id}` as sent; every field optional.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TransactionEdit {
    /// The corrected category.
    pub category: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// A new merchant name.
    pub merchant_name: Option<String>,
}

impl TransactionEdit {
    /// Trims the fields and checks their lengths; a category must not be empty and at least one
    /// field must be present.
    pub fn validate(self) -> Result<Self, AccountsError> {
        let edit = TransactionEdit {
            category: self
                .category
                .map(|c| bounded("category", c, MAX_NAME))
                .transpose()?,
            description: self
                .description
                .map(|d| bounded("description", d, MAX_DESCRIPTION))
                .transpose()?,
            merchant_name: self
                .merchant_name
                .map(|m| bounded("merchant_name", m, MAX_NAME))
                .transpose()?,
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
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProfileUpdate {
    /// A new e-mail address.
    pub email: Option<String>,
    /// ISO 4217 code, three letters.
    pub currency: Option<String>,
    /// IANA time-zone name, e.g. `Asia/Kolkata`.
    pub timezone: Option<String>,
}

impl ProfileUpdate {
    /// Checks every present field: a plausible e-mail address, three ASCII letters for the
    /// currency (stored upper-case), an IANA zone known to `chrono-tz`.
    pub fn validate(self) -> Result<Self, AccountsError> {
        let email = self
            .email
            .map(|e| e.trim().to_owned())
            .map(|e| {
                let plausible = e.len() <= MAX_EMAIL
                    && !e.chars().any(char::is_whitespace)
                    && e.split_once('@')
                        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
                plausible
                    .then_some(e)
                    .ok_or_else(|| invalid("`email` must be an e-mail address"))
            })
            .transpose()?;
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

fn bounded(name: &str, value: String, max: usize) -> Result<String, AccountsError> {
    let value = value.trim().to_owned();
    if value.chars().count() > max {
        return Err(invalid(format!(
            "`{name}` must be at most {max} characters"
        )));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn income_flips_the_sign_both_ways() {
        assert_eq!(sign_change("Food", INCOME), SignChange::Credit);
        assert_eq!(sign_change(INCOME, "Food"), SignChange::Debit);
        assert_eq!(sign_change("Food", "Shopping"), SignChange::Keep);
        assert_eq!(sign_change(INCOME, INCOME), SignChange::Keep);
        assert_eq!(SignChange::Credit.kind(), Some("credit"));
        assert_eq!(SignChange::Keep.kind(), None);
    }

    #[test]
    fn transaction_edit_rules() {
        let edit = TransactionEdit {
            category: Some(" Food ".into()),
            ..Default::default()
        };
        assert_eq!(edit.validate().unwrap().category.as_deref(), Some("Food"));
        let bad = [
            TransactionEdit::default(),
            TransactionEdit {
                category: Some("  ".into()),
                ..Default::default()
            },
            TransactionEdit {
                description: Some("d".repeat(1001)),
                ..Default::default()
            },
        ];
        for edit in bad {
            assert!(matches!(edit.validate(), Err(AccountsError::Validation(_))));
        }
    }

    #[test]
    fn profile_rules() {
        let ok = ProfileUpdate {
            email: Some("a@b.io".into()),
            currency: Some("usd".into()),
            timezone: Some("Europe/Berlin".into()),
        }
        .validate()
        .unwrap();
        assert_eq!(ok.currency.as_deref(), Some("USD"));
        assert_eq!(ok.timezone.as_deref(), Some("Europe/Berlin"));
        let bad = [
            ProfileUpdate::default(),
            ProfileUpdate {
                email: Some("not-an-email".into()),
                ..Default::default()
            },
            ProfileUpdate {
                currency: Some("EURO".into()),
                ..Default::default()
            },
            ProfileUpdate {
                currency: Some("E1R".into()),
                ..Default::default()
            },
            ProfileUpdate {
                timezone: Some("Mars/Olympus".into()),
                ..Default::default()
            },
        ];
        for update in bad {
            assert!(matches!(
                update.validate(),
                Err(AccountsError::Validation(_))
            ));
        }
    }
}

//! The alert list's query string (§7.3: `status`, `since`, `limit`, `cursor`) validated into an
//! [`AlertQuery`], and the [`AlertStatus`] an alert moves through.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::CoreError;
use crate::pagination::{page_limit, Cursor};

/// Page size when the client sends none.
pub const DEFAULT_LIMIT: i64 = 50;
/// Largest page size.
pub const MAX_LIMIT: i64 = 200;

/// Where an alert stands with its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// Not looked at yet.
    New,
    /// Looked at.
    Seen,
    /// Put away by the user.
    Dismissed,
}

impl AlertStatus {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Seen => "seen",
            Self::Dismissed => "dismissed",
        }
    }

    /// The status named `text`, if any.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::New, Self::Seen, Self::Dismissed]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// The list's query string as sent (every value still text).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RawAlertQuery {
    /// `new`, `seen` or `dismissed`.
    pub status: Option<String>,
    /// Earliest alert date, inclusive (YYYY-MM-DD).
    pub since: Option<String>,
    /// Page size, 1..=200 (50 when absent).
    pub limit: Option<String>,
    /// Cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// A validated list request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertQuery {
    /// Only alerts with this status.
    pub status: Option<AlertStatus>,
    /// Only alerts dated on or after this day.
    pub since: Option<NaiveDate>,
    /// Alerts per page.
    pub limit: i64,
    /// Start after this position (`None`: the newest alert).
    pub after: Option<Cursor<NaiveDate>>,
}

impl Default for AlertQuery {
    fn default() -> Self {
        Self {
            status: None,
            since: None,
            limit: DEFAULT_LIMIT,
            after: None,
        }
    }
}

impl RawAlertQuery {
    /// Validates every parameter: a bad cursor is [`CoreError::InvalidCursor`], anything else
    /// [`CoreError::Validation`]. Empty values count as absent.
    pub fn validate(self) -> Result<AlertQuery, CoreError> {
        let present = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
        let limit = page_limit(self.limit.as_deref(), DEFAULT_LIMIT, MAX_LIMIT)
            .map_err(CoreError::invalid)?;
        let status = present(self.status)
            .map(|s| {
                AlertStatus::parse(s.trim()).ok_or_else(|| {
                    CoreError::invalid("`status` must be one of new, seen, dismissed")
                })
            })
            .transpose()?;
        let since = present(self.since)
            .map(|d| {
                NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
                    .map_err(|_| CoreError::invalid("`since` must be a date YYYY-MM-DD"))
            })
            .transpose()?;
        let after = present(self.cursor)
            .map(|c| Cursor::decode(&c))
            .transpose()?;
        Ok(AlertQuery {
            status,
            since,
            limit,
            after,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(status: &str, since: &str, limit: &str, cursor: &str) -> RawAlertQuery {
        let some = |v: &str| Some(v.to_owned());
        RawAlertQuery {
            status: some(status),
            since: some(since),
            limit: some(limit),
            cursor: some(cursor),
        }
    }

    #[test]
    fn absent_and_blank_values_take_the_defaults() {
        assert_eq!(
            RawAlertQuery::default().validate().unwrap(),
            AlertQuery::default()
        );
        assert_eq!(
            raw("", " ", "", "").validate().unwrap(),
            AlertQuery::default()
        );
    }

    #[test]
    fn valid_values_are_read() {
        let cursor = Cursor {
            key: NaiveDate::from_ymd_opt(2026, 2, 13).unwrap(),
            id: uuid::Uuid::from_u128(7),
        };
        let query = raw("dismissed", "2026-02-01", "200", &cursor.encode())
            .validate()
            .unwrap();
        assert_eq!(query.status, Some(AlertStatus::Dismissed));
        assert_eq!(query.since, NaiveDate::from_ymd_opt(2026, 2, 1));
        assert_eq!(query.limit, 200);
        assert_eq!(query.after, Some(cursor));
    }

    #[test]
    fn hostile_values_are_refused() {
        for (status, since, limit, cursor, cursor_error) in [
            ("old", "", "", "", false),
            ("new\0", "", "", "", false),
            ("", "2026-02-30", "", "", false),
            ("", "13/02/2026", "", "", false),
            ("", "2026-02-01\0", "", "", false),
            ("", "", "0", "", false),
            ("", "", "-1", "", false),
            ("", "", "1000000000", "", false),
            ("", "", "abc", "", false),
            ("", "", "", "not-a-cursor", true),
            ("", "", "", "\0", true),
        ] {
            let got = raw(status, since, limit, cursor).validate();
            match got {
                Err(CoreError::InvalidCursor(_)) => assert!(cursor_error, "{cursor:?}"),
                Err(CoreError::Validation(_)) => assert!(!cursor_error),
                other => panic!("{status:?} {since:?} {limit:?} {cursor:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn statuses_round_trip() {
        for status in [AlertStatus::New, AlertStatus::Seen, AlertStatus::Dismissed] {
            assert_eq!(AlertStatus::parse(status.as_str()), Some(status));
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        assert_eq!(AlertStatus::parse("NEW"), None);
    }
}

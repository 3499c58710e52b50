//! Validation of the job list's query string into a [`JobQuery`]: page size, cursor and the
//! optional `status` and `kind` filters. Empty values count as absent.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::TrainingError;
use crate::error::CoreError;
use crate::jobs::{JobKind, JobStatus};
use crate::pagination::{page_limit, Cursor};

/// Page size when the client sends none.
pub const DEFAULT_LIMIT: i64 = 20;
/// Largest page size.
pub const MAX_LIMIT: i64 = 100;

/// The list's query string as sent (every value still text).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RawJobQuery {
    /// Page size, 1..=100.
    pub limit: Option<String>,
    /// Cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Only jobs with this status.
    pub status: Option<String>,
    /// Only jobs of this kind.
    pub kind: Option<String>,
}

/// A validated list request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobQuery {
    /// Jobs per page.
    pub limit: i64,
    /// Start after this `(created_at, id)` (`None`: the newest job).
    pub after: Option<Cursor<DateTime<Utc>>>,
    /// Status filter.
    pub status: Option<JobStatus>,
    /// Kind filter.
    pub kind: Option<JobKind>,
}

impl RawJobQuery {
    /// Validates every parameter; a bad cursor is [`|e| TrainingError::Core(CoreError::InvalidCursor(e))`], anything
    /// else [`|e| TrainingError::Core(CoreError::Validation(e))`].
    pub fn validate(self) -> Result<JobQuery, TrainingError> {
        let present = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
        let limit = page_limit(self.limit.as_deref(), DEFAULT_LIMIT, MAX_LIMIT)
            .map_err(|e| TrainingError::Core(CoreError::Validation(e)))?;
        let after = present(self.cursor)
            .map(|c| Cursor::decode(&c))
            .transpose()?;
        let status = present(self.status)
            .map(|s| {
                JobStatus::parse(&s).ok_or_else(|| {
                    TrainingError::Core(CoreError::Validation(
                        "`status` must be one of: pending, processing, completed, failed, cancelled"
                            .into(),
                    ))
                })
            })
            .transpose()?;
        let kind = present(self.kind).map(|k| parse_kind(&k)).transpose()?;
        Ok(JobQuery {
            limit,
            after,
            status,
            kind,
        })
    }
}

/// Parses a requested job kind, with the error clients see.
pub fn parse_kind(text: &str) -> Result<JobKind, TrainingError> {
    JobKind::parse(text).ok_or_else(|| {
        TrainingError::Core(CoreError::Validation(
            "`kind` must be one of: categorizer, forecaster".into(),
        ))
    })
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn raw(limit: &str, cursor: &str, status: &str, kind: &str) -> RawJobQuery {
        let some = |v: &str| Some(v.to_owned());
        RawJobQuery {
            limit: some(limit),
            cursor: some(cursor),
            status: some(status),
            kind: some(kind),
        }
    }

    #[test]
    fn blanks_are_defaults() {
        let q = raw("", " ", "", "").validate().unwrap();
        assert_eq!(
            q,
            JobQuery {
                limit: DEFAULT_LIMIT,
                after: None,
                status: None,
                kind: None
            }
        );
    }

    #[test]
    fn parses_every_parameter() {
        let cursor = Cursor {
            key: Utc::now(),
            id: Uuid::new_v4(),
        };
        // Microsecond precision, like the database.
        let cursor = Cursor::decode(&cursor.encode()).unwrap();
        let q = raw("5", &cursor.encode(), "cancelled", "forecaster")
            .validate()
            .unwrap();
        assert_eq!(q.limit, 5);
        assert_eq!(q.after, Some(cursor));
        assert_eq!(q.status, Some(JobStatus::Cancelled));
        assert_eq!(q.kind, Some(JobKind::Forecaster));
    }

    #[test]
    fn refuses_bad_values() {
        for (query, cursor_error) in [
            (raw("0", "", "", ""), false),
            (raw("101", "", "", ""), false),
            (raw("", "garbage", "", ""), true),
            (raw("", "", "done", ""), false),
            (raw("", "", "", "Categorizer"), false),
        ] {
            match query.validate() {
                Err(TrainingError::Core(CoreError::InvalidCursor(_))) => assert!(cursor_error),
                Err(TrainingError::Core(CoreError::Validation(_))) => assert!(!cursor_error),
                other => panic!("accepted: {other:?}"),
            }
        }
    }
}

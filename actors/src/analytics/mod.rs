//! Dashboard numbers (categorisation spec §8): the overview of a week or month and the
//! all-history summary. The analytics actor ([`service`]) owns the Postgres pool; [`period`]
//! (timeframes, buckets, averages, percentages) and [`report`] (assembling answers from
//! aggregates, exact money) are pure with unit tests; [`store`] holds the SQL, which aggregates
//! in Postgres and sums money as `numeric`.

pub mod period;
pub mod report;
pub mod service;
pub mod store;

/// Why an analytics request failed. Each maps to a stable problem code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnalyticsError {
    /// A parameter is malformed (unknown timeframe, not an IANA time zone).
    #[error("{0}")]
    Validation(String),
    /// Postgres failed or returned something unexpected.
    #[error("database error: {0}")]
    Database(scale_schema::DbFailure),
}

impl From<diesel::result::Error> for AnalyticsError {
    fn from(err: diesel::result::Error) -> Self {
        AnalyticsError::Database(err.into())
    }
}

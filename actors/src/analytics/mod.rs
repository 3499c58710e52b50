//! Dashboard numbers (categorisation spec §8): the overview of a week or month and the
//! all-history summary. The analytics actor ([`service`]) owns the Postgres pool; [`period`]
//! (timeframes, buckets, averages, percentages) and [`report`] (assembling answers from
//! aggregates, exact money) are pure with unit tests; [`store`] holds the SQL, which aggregates
//! in Postgres and sums money as `numeric`.

pub mod period;
pub mod report;
pub mod service;
pub mod store;

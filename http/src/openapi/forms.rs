//! Schemas of request bodies no handler deserialises as one type: the multipart forms, read
//! field by field while streaming.

use utoipa::ToSchema;

/// A statement upload (`multipart/form-data`).
#[derive(ToSchema)]
pub struct StatementUpload {
    /// The statement: `.csv`, `.xlsx`, `.xls` or `.json`, at most 10 MiB.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// The workbook's password, when it is encrypted.
    pub password: Option<String>,
}

/// A statement upload to forecast (`multipart/form-data`): parsed, never stored.
#[derive(ToSchema)]
pub struct ForecastUpload {
    /// The statement, as for `/ingest/parse`.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// The workbook's password, when it is encrypted.
    pub password: Option<String>,
    /// Days to forecast, 1..=90 (default 7).
    pub horizon_days: Option<String>,
}

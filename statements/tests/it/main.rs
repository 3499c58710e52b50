//! Integration tests of statement parsing, one binary: the workbook reader ([`workbook`]), the
//! whole parse on the spec's fixtures ([`pipeline`]), header recognition on real banks' exports
//! ([`header`]), per-file amount conventions ([`amounts`]), files that lie about their type or
//! encoding ([`source`]) and property-based fuzzing ([`fuzz`]), with the spreadsheet fixtures
//! they build ([`workbooks`]).

mod amounts;
mod fuzz;
mod header;
mod pipeline;
mod source;
mod streaming;
mod support;
mod workbook;
mod workbooks;

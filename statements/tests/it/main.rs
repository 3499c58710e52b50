//! Integration tests of statement parsing, one binary: the workbook reader ([`workbook`]), the
//! whole parse on the spec's fixtures ([`pipeline`]), files that lie about their type or
//! encoding ([`source`]) and property-based fuzzing ([`fuzz`]), with the spreadsheet fixtures
//! they build ([`workbooks`]).

mod fuzz;
mod pipeline;
mod source;
mod workbook;
mod workbooks;

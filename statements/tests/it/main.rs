//! Integration tests of statement parsing, one binary: the workbook reader ([`workbook`]), the
//! whole parse on the spec's fixtures ([`pipeline`]) and property-based fuzzing ([`fuzz`]), with
//! the spreadsheet fixtures they build ([`workbooks`]).

mod amounts;
mod fuzz;
mod pipeline;
mod workbook;
mod workbooks;

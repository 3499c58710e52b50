//! Statement parsing: an uploaded bank statement (CSV/TSV/text in UTF-8, UTF-16 or
//! Windows-1252, an HTML table, JSON rows, `.xlsx`, encrypted `.xlsx` or legacy `.xls`, whatever
//! its name says) or JSON rows a client sends, turned into transactions. Everything
//! here is pure and synchronous — no I/O beyond the bytes given, no database, no runtime — so
//! callers run it on a blocking thread and store the result themselves.
//!
//! The pipeline ([`pipeline`]) runs in this order:
//!
//! 1. [`source`] sniffs the content (the extension only breaks ties) and reads rows of
//!    [`cell`]s (workbooks through [`workbook`]);
//! 2. [`header`] scores candidate header rows and maps their columns;
//! 3. [`rows`] lines delimited rows up with the header, drafts each row, settles the file's
//!    conventions (signs, decimal separators) and turns each into a transaction: [`date`],
//!    [`amount`] and currency, type and status, [`merchant`] extraction, then its
//!    [`fingerprint`], repeats numbered; what it decided for the user to check is a
//!    [`warning::Warning`].
//!
//! Text is kept within the limits of [`text`]; failures are a [`error::StatementError`].

pub mod amount;
pub mod cell;
pub mod date;
pub mod error;
pub mod fingerprint;
pub mod header;
pub mod merchant;
pub mod pipeline;
pub mod record;
pub mod rows;
pub mod source;
pub mod text;
pub mod warning;
pub mod workbook;

//! Statement parsing: an uploaded bank statement (CSV/TSV/text, JSON rows, `.xlsx`, encrypted
//! `.xlsx` or legacy `.xls`) or JSON rows a client sends, turned into transactions. Everything
//! here is pure and synchronous — no I/O beyond the bytes given, no database, no runtime — so
//! callers run it on a blocking thread and store the result themselves.
//!
//! The pipeline ([`pipeline`]) runs in this order:
//!
//! 1. [`source`] checks the extension, sniffs the format and reads rows of [`cell`]s (workbooks
//!    through [`workbook`]);
//! 2. [`header`] finds the header row and maps its columns;
//! 3. [`rows`] turns each row into a transaction: [`date`], [`amount`] and currency, type and
//!    status, [`merchant`] extraction, then its [`fingerprint`], with in-file duplicates dropped.
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
pub mod rows;
pub mod source;
pub mod text;
pub mod warning;
pub mod workbook;

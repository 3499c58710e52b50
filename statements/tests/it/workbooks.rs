//! Spreadsheet fixtures for the ingestion tests (spec §6, "To create"): bank-statement `.xlsx`
//! files built with `rust_xlsxwriter`, Agile encryption with `ms-offcrypto-writer`, and the
//! committed legacy `.xls` (`statements/tests/fixtures/statement.xls`; no Rust crate writes BIFF).
#![allow(dead_code)]

use std::io::{Cursor, Write};

use chrono::{Datelike, NaiveDate};
use ms_offcrypto_writer::Ecma376AgileWriter;
use rand::{rngs::StdRng, SeedableRng};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

/// One cell of a fixture sheet.
#[derive(Debug, Clone, PartialEq)]
pub enum FixtureCell {
    /// A string cell, written exactly as given.
    Text(&'static str),
    /// A numeric cell.
    Number(f64),
    /// A date cell: a serial number formatted `dd/mm/yyyy`, so readers see a typed date.
    Date(NaiveDate),
    /// Nothing written.
    Blank,
}

/// Shorthand for [`FixtureCell::Text`].
pub fn text(value: &'static str) -> FixtureCell {
    FixtureCell::Text(value)
}

/// Shorthand for [`FixtureCell::Number`].
pub fn number(value: f64) -> FixtureCell {
    FixtureCell::Number(value)
}

/// Shorthand for [`FixtureCell::Date`]; panics on an impossible date.
pub fn date(year: i32, month: u32, day: u32) -> FixtureCell {
    FixtureCell::Date(NaiveDate::from_ymd_opt(year, month, day).expect("valid fixture date"))
}

/// Writes `rows` as the only sheet of an `.xlsx` workbook, starting at `A1`.
pub fn xlsx(rows: &[Vec<FixtureCell>]) -> Vec<u8> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    let date_format = Format::new().set_num_format("dd/mm/yyyy");
    for (r, row) in rows.iter().enumerate() {
        let r = u32::try_from(r).expect("fixture row index");
        for (c, cell) in row.iter().enumerate() {
            let c = u16::try_from(c).expect("fixture column index");
            match cell {
                FixtureCell::Text(value) => {
                    sheet.write_string(r, c, *value).expect("write text");
                }
                FixtureCell::Number(value) => {
                    sheet.write_number(r, c, *value).expect("write number");
                }
                FixtureCell::Date(value) => {
                    let serial = ExcelDateTime::from_ymd(
                        u16::try_from(value.year()).expect("fixture year"),
                        u8::try_from(value.month()).expect("fixture month"),
                        u8::try_from(value.day()).expect("fixture day"),
                    )
                    .expect("fixture date in Excel's range");
                    sheet
                        .write_datetime_with_format(r, c, &serial, &date_format)
                        .expect("write date");
                }
                FixtureCell::Blank => {}
            }
        }
    }
    workbook.save_to_buffer().expect("save xlsx")
}

/// Encrypts an `.xlsx` with ECMA-376 Agile encryption (AES-256, SHA-512, 100 000 spins), as
/// Excel's "Encrypt with Password" does. Deterministic: the salts come from a fixed seed.
pub fn encrypt(xlsx: &[u8], password: &str) -> Vec<u8> {
    let mut rng = StdRng::seed_from_u64(0x5CA1E);
    let mut writer = Ecma376AgileWriter::create(&mut rng, password, Cursor::new(Vec::new()))
        .expect("create encrypted package");
    writer.write_all(xlsx).expect("write package");
    writer.into_inner().expect("encrypt package").into_inner()
}

/// Raw row index of the header in [`sbi_statement`] (16 preamble rows precede it).
pub const SBI_HEADER_ROW: usize = 16;

/// An SBI-style account-statement export: 16 preamble rows (bank, account details, period,
/// blanks), the header `Txn Date | Value Date | Description | Ref No./Cheque No. | Debit |
/// Credit | Balance`, seven transactions with typed date cells and numeric amounts (the
/// narrations of `fixtures/sbi_statement_with_preamble.csv`, multi-line ones included, and a
/// zero CEMTEX credit), then a blank row and a footer text row.
pub fn sbi_statement() -> Vec<u8> {
    use FixtureCell::Blank;
    let mut rows: Vec<Vec<FixtureCell>> = vec![
        vec![text("State Bank of India")],
        vec![],
        vec![text("Account Name"), text(":"), text("MR TEST CUSTOMER")],
        vec![text("Address"), text(":"), text("12-3-45 GANDHI NAGAR")],
        vec![Blank, Blank, text("NELLORE 524001")],
        vec![text("Date"), text(":"), text("01 Jul 2023")],
        vec![text("Account Number"), text(":"), text("XXXXXXX1234")],
        vec![
            text("Account Description"),
            text(":"),
            text("SAVINGS ACCOUNT"),
        ],
        vec![text("Branch"), text(":"), text("PBB NELLORE")],
        vec![text("Drawing Power"), text(":"), number(0.0)],
        vec![text("Interest Rate(% p.a.)"), text(":"), number(2.7)],
        vec![text("CIF No."), text(":"), text("XXXXXX5678")],
        vec![text("IFS Code"), text(":"), text("SBIN0004413")],
        vec![text("Balance as on 1 Apr 2023"), text(":"), number(0.0)],
        vec![text("Account Statement from 1 Apr 2023 to 30 Jun 2023")],
        vec![],
        vec![
            text("Txn Date"),
            text("Value Date"),
            text("Description"),
            text("Ref No./Cheque No."),
            text("Debit"),
            text("Credit"),
            text("Balance"),
        ],
    ];
    assert_eq!(rows.len(), SBI_HEADER_ROW + 1);
    let txn = |day: FixtureCell,
               value_day: FixtureCell,
               description: &'static str,
               reference: &'static str,
               debit: Option<f64>,
               credit: Option<f64>,
               balance: f64| {
        vec![
            day,
            value_day,
            text(description),
            if reference.is_empty() {
                Blank
            } else {
                text(reference)
            },
            debit.map_or(Blank, number),
            credit.map_or(Blank, number),
            number(balance),
        ]
    };
    rows.extend([
        txn(
            date(2023, 4, 28),
            date(2023, 4, 28),
            "CASH DEPOSIT SELF\n AT 04413 PBB NELLORE",
            "",
            None,
            Some(2000.0),
            2000.0,
        ),
        txn(
            date(2023, 6, 3),
            date(2023, 6, 3),
            "ATM WDL   ATM CASH 1957  SP\n  OFFICE DARGAMITTA, NELLORE",
            "",
            Some(500.0),
            None,
            1500.0,
        ),
        txn(
            date(2023, 6, 7),
            date(2023, 6, 7),
            "WDL TFR UPI/DR/931523643407/SHAIK YA/SBIN/skya smeen1/Paym\n... AT 04413 PBB NELLORE",
            "TRANSFER TO 4897691162095",
            Some(250.0),
            None,
            1250.0,
        ),
        txn(
            date(2023, 6, 8),
            date(2023, 6, 8),
            "DEP TFR UPI/CR/320278741671/SHAIK YA/SBIN/skya smeen1/Paym\n... AT 04413 PBB NELLORE",
            "TRANSFER FROM 4897691162095",
            None,
            Some(100.0),
            1350.0,
        ),
        txn(
            date(2023, 6, 10),
            date(2023, 6, 11),
            "POS ATM PURCH OTHPG 3155010693 17Pho*PHONEPE RECHARGE BANGALORE",
            "",
            Some(199.0),
            None,
            1151.0,
        ),
        txn(
            date(2023, 6, 12),
            date(2023, 6, 12),
            "WDL TFR INB Amazon Seller Services Pv... AT 04413 PBB NELLORE",
            "IK0ABCDE12",
            Some(1000.0),
            None,
            151.0,
        ),
        txn(
            date(2023, 6, 15),
            date(2023, 6, 15),
            "CEMTEX DEP 00000004413 0 40623",
            "",
            None,
            Some(0.0),
            151.0,
        ),
        vec![],
        vec![text(
            "**This is a computer generated statement and does not require a signature**",
        )],
    ]);
    xlsx(&rows)
}

/// An HDFC-style export: two preamble rows, the header `Date | Narration | Chq./Ref.No. |
/// Value Dt | Withdrawal Amt. | Deposit Amt. | Closing Balance`, then four transactions whose
/// dates are TEXT `dd/mm/yy` (as HDFC writes them) and whose amounts are numeric.
pub fn hdfc_statement() -> Vec<u8> {
    use FixtureCell::Blank;
    xlsx(&[
        vec![
            text("HDFC BANK Ltd."),
            Blank,
            Blank,
            Blank,
            text("Page No .: 1"),
        ],
        vec![
            text("Statement of account"),
            Blank,
            Blank,
            Blank,
            text("From : 01/04/23 To : 30/04/23"),
        ],
        vec![
            text("Date"),
            text("Narration"),
            text("Chq./Ref.No."),
            text("Value Dt"),
            text("Withdrawal Amt."),
            text("Deposit Amt."),
            text("Closing Balance"),
        ],
        vec![
            text("01/04/23"),
            text("UPI-SWIGGY-SWIGGY8@YBL-YESB0YBLUPI-309112345678-PAYMENT FROM PHONE"),
            text("0000309112345678"),
            text("01/04/23"),
            number(349.0),
            Blank,
            number(15_651.0),
        ],
        vec![
            text("03/04/23"),
            text("NEFT CR-SBIN0000001-ACME PAYROLL SERVICES-SALARY APR"),
            text("SBIN323093000001"),
            text("03/04/23"),
            Blank,
            number(52_000.0),
            number(67_651.0),
        ],
        vec![
            text("15/04/23"),
            text("POS 416021XXXXXX1234 AMAZON PAY INDIA"),
            text("0000310512345678"),
            text("16/04/23"),
            number(1_249.5),
            Blank,
            number(66_401.5),
        ],
        vec![
            text("28/04/23"),
            text("ATW-416021XXXXXX1234-S1AW0123-HYDERABAD"),
            text("0000000000004321"),
            text("28/04/23"),
            number(5_000.0),
            Blank,
            number(61_401.5),
        ],
    ])
}

/// A real unencrypted BIFF8 `.xls` (written by xlwt): sheet `Statement` with header
/// `Date | Details | Debit | Credit` and three rows — dates typed (`DD/MM/YYYY`) 2023-04-28,
/// 2023-06-03, 2023-06-12; credit 2000, debit 500, debit 1000.5; blank amounts left empty.
pub fn legacy_xls() -> Vec<u8> {
    include_bytes!("../fixtures/statement.xls").to_vec()
}

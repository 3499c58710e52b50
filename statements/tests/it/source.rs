//! Files that lie about their type or encoding (issue #12, items 3 and 4), parsed end to end
//! through [`parse_file`]: content decides, the extension only breaks ties. Tab- and
//! comma-separated text named `.xls`/`.xlsx`, HTML tables named `.xls`/`.xlsx` from three banks
//! with different markup, UTF-16 LE and BE "Unicode Text" (committed, and encoded at test time
//! from a UTF-8 template), and UTF-8 without a BOM carrying `₹`.

use crate::support::{expect, fixture, parse, rows};
use scale_statements::error::StatementError;
use scale_statements::pipeline::parse_file;
use scale_statements::rows::Skipped;

fn skipped(invalid_date: usize) -> Skipped {
    Skipped {
        invalid_date,
        ..Skipped::default()
    }
}

// --- Text named as a spreadsheet -----------------------------------------------------------

#[test]
fn sbi_tab_separated_xls_with_preamble() {
    let s = parse("source_sbi_tab_separated.xls");
    assert_eq!(s.detected_format, "tsv");
    assert_eq!(
        rows(&s),
        expect(&[
            (
                "2024-04-01",
                "-450.00",
                "TO TRANSFER-UPI/DR/409112345678/SWIGGY/YESB/swiggy@ybl/Payment-"
            ),
            (
                "2024-04-03",
                "85000.00",
                "BY TRANSFER-NEFT*HDFC0000001*N094240123456789*ACME TECHNOLOGIES PVT LTD--"
            ),
            (
                "2024-04-05",
                "-5000.00",
                "ATM WDL-ATM CASH 1957 SBI PUNE CANTT-"
            ),
            (
                "2024-04-08",
                "-120000.00",
                "TO TRANSFER-INB IMPS/P2A/409812345678/RAHUL/HDFC--"
            ),
            (
                "2024-04-12",
                "-236.00",
                "DEBIT-ATMCard AMC 447744*1234 CLASSIC-"
            ),
        ])
    );
    // The footer line is not a transaction; the header is line 18, so the first row is 19.
    assert_eq!(s.skipped, skipped(1));
    assert_eq!(s.transactions[0].source_row, 19);
    assert_eq!(s.transactions[0].reference, "TRANSFER TO 4897691162094");
}

#[test]
fn canara_comma_separated_named_xlsx() {
    let s = parse("source_canara_csv_named.xlsx");
    assert_eq!(s.detected_format, "csv");
    assert_eq!(
        rows(&s),
        expect(&[
            (
                "2024-04-02",
                "-1842.00",
                "UPI/DR/412345678901/BESCOM/UTIB/bescom@axis/Electricity bill"
            ),
            (
                "2024-04-04",
                "-2499.00",
                "POS 4321XXXX1234 AMAZON PAY INDIA PRIVA"
            ),
            (
                "2024-04-06",
                "72500.00",
                "NEFT-SBIN0004321-INFOSYS LIMITED-SALARY APR"
            ),
            (
                "2024-04-09",
                "-15000.00",
                "CHQ PAID-CTS CLG-MUTHU ENTERPRISES"
            ),
        ])
    );
    assert_eq!(s.skipped, skipped(1), "the balance summary line");
}

#[test]
fn federal_windows_1252_tab_separated_xls() {
    let s = parse("source_federal_tab_cp1252.xls");
    assert_eq!(s.detected_format, "tsv");
    assert_eq!(
        rows(&s),
        expect(&[
            (
                "2024-04-01",
                "250.00",
                "UPI IN/409155512345/CAFÉ COFFEE DAY/cafecoffee@icici"
            ),
            (
                "2024-04-02",
                "-3200.00",
                "POS/HOTEL SEA QUEEN – KOCHI/4321XXXX9876"
            ),
            ("2024-04-05", "-1500.00", "SI/LIC OF INDIA/PREMIUM 1234567"),
        ])
    );
}

// --- HTML tables named as a spreadsheet ----------------------------------------------------

#[test]
fn kotak_excel_flavoured_html_xls() {
    let s = parse("source_kotak_html.xls");
    assert_eq!(s.detected_format, "html");
    assert_eq!(
        rows(&s),
        expect(&[
            (
                "2024-04-01",
                "-349.00",
                "UPI/ZOMATO LTD/409112345678/Payment from Ph"
            ),
            (
                "2024-04-03",
                "1250.00",
                "NEFT HDFC0001234 M&M FINANCIAL SERVICES EMI REFUND"
            ),
            (
                "2024-04-07",
                "-2999.00",
                "PCD/4321/AMAZON PAY <INDIA>/BANGALORE070424/12:31"
            ),
            (
                "2024-04-10",
                "-18000.00",
                "IMPS-409912345678-SUNITA-KKBK-XXXXXXX1234-Rent ₹18000"
            ),
        ])
    );
    // Preamble rows (colspan) come before the header; the total row is skipped.
    assert_eq!(s.skipped, skipped(1));
    assert_eq!(s.transactions[0].source_row, 6);
    assert_eq!(s.transactions[1].reference, "NEFTINW-0123456789");
}

#[test]
fn pnb_uppercase_html_with_implied_end_tags_and_an_account_table() {
    let s = parse("source_pnb_html.xls");
    assert_eq!(s.detected_format, "html");
    // The account-details table has more rows, but the statement table has the header.
    assert_eq!(
        rows(&s),
        expect(&[
            (
                "2024-04-01",
                "-612.00",
                "UPI/409112233445/DR/BLINKIT/KKBK/blinkit.payu@hdfcbank"
            ),
            (
                "2024-04-02",
                "42180.00",
                "NEFT_IN:SBIN424093012345/MINISTRY OF DEFENCE PENSION"
            ),
            ("2024-04-05", "-10000.00", "ATM/CASH WDL/DWARKA SEC 10/PUNB"),
        ])
    );
    assert_eq!(s.skipped, Skipped::default());
}

#[test]
fn idbi_html5_nested_layout_named_xlsx() {
    let s = parse("source_idbi_html.xlsx");
    assert_eq!(s.detected_format, "html");
    assert_eq!(
        rows(&s),
        expect(&[
            (
                "2024-04-02",
                "-1486.50",
                "UPI/DR/409212345678/ BIGBASKET/ICIC/bigbasket@icici"
            ),
            ("2024-04-04", "7500.00", "BY CLG/CHQ 004512/SHAH & SONS"),
            ("2024-04-11", "-2150.00", "ACH/D/TP/HDFC LIFE INSURANCE"),
        ])
    );
    assert_eq!(s.skipped, skipped(1), "the totals row");
    assert!(s.transactions.iter().all(|t| t.currency == "INR"));
}

#[test]
fn the_extension_does_not_decide() {
    for (fixture_name, format) in [
        ("source_kotak_html.xls", "html"),
        ("source_sbi_tab_separated.xls", "tsv"),
        ("source_hdfc_utf16le.xls", "tsv"),
    ] {
        let bytes = fixture(fixture_name);
        let reference = rows(&parse(fixture_name));
        for name in [
            "statement.csv",
            "statement.txt",
            "statement.xlsx",
            "statement.xlsm",
        ] {
            let s = parse_file(&bytes, name, None).unwrap();
            assert_eq!(s.detected_format, format, "{fixture_name} as {name}");
            assert_eq!(rows(&s), reference, "{fixture_name} as {name}");
        }
    }
    // Binary noise named `.xls` is still refused, and so is an HTML page without a table.
    let noise: Vec<u8> = (1..=255u8).cycle().take(4096).collect();
    assert!(matches!(
        parse_file(&noise, "statement.xls", None),
        Err(StatementError::Unreadable(_))
    ));
    assert!(matches!(
        parse_file(
            b"<html><body>Your session has expired.</body></html>",
            "statement.xls",
            None
        ),
        Err(StatementError::Unreadable(_))
    ));
}

// --- UTF-16 ("Unicode Text") -------------------------------------------------------------------

#[test]
fn hdfc_utf16le_unicode_text_named_xls() {
    let s = parse("source_hdfc_utf16le.xls");
    assert_eq!(s.detected_format, "tsv");
    assert_eq!(
        rows(&s),
        expect(&[
            (
                "2024-04-01",
                "-386.00",
                "UPI-SWIGGY-SWIGGY8@YBL-YESB0YBLUPI-409112345678-PAYMENT FROM PHONE"
            ),
            (
                "2024-04-02",
                "112450.00",
                "NEFT CR-ICIC0000104-TATA CONSULTANCY SERVICES-SALARY APR 2024 ₹"
            ),
            (
                "2024-04-05",
                "-4218.75",
                "POS 416021XXXXXX1234 RELIANCE SMART ₹"
            ),
            (
                "2024-04-08",
                "-23400.00",
                "EMI 123456789 CHQ S1234567890 0424123456789"
            ),
        ])
    );
    assert_eq!(s.skipped, Skipped::default());
}

#[test]
fn icici_utf16be_unicode_text() {
    let s = parse("source_icici_utf16be.txt");
    assert_eq!(s.detected_format, "tsv");
    assert_eq!(
        rows(&s),
        expect(&[
            (
                "2024-04-03",
                "-540.00",
                "UPI/409312345678/Grocery/paytmqr28100@p/Paytm Paym"
            ),
            (
                "2024-04-06",
                "3275.00",
                "MMT/IMPS/409612345678/Refund/MAKEMYTRIP/ICIC0000001"
            ),
            (
                "2024-04-15",
                "-999.00",
                "BIL/ONL/000412345678/AIRTEL/Airtel Postpaid ₹999 plan"
            ),
        ])
    );
}

/// An Axis Bank statement saved as "Unicode Text", as a UTF-8 template.
const AXIS_TEMPLATE: &str = "Statement of Account No: 917010012345678\r\n\
    Tran Date\tCHQNO\tPARTICULARS\tDR\tCR\tBAL\tSOL\r\n\
    01-04-2024\t\tUPI/P2M/409112345678/Reliance Retail/₹ groceries\t1,120.00\t\t48,880.00\t4321\r\n\
    03-04-2024\t\tNEFT/AXISP00412345678/GOOGLE INDIA DIGITAL\t\t5,000.00\t53,880.00\t4321\r\n\
    07-04-2024\t123456\tCLG/ANAND KUMAR/HDFC BANK\t2,00,000.00\t\t-1,46,120.00\t4321\r\n";

fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut bytes = match (bom, big_endian) {
        (false, _) => Vec::new(),
        (true, false) => vec![0xFF, 0xFE],
        (true, true) => vec![0xFE, 0xFF],
    };
    for unit in text.encode_utf16() {
        bytes.extend(if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        });
    }
    bytes
}

#[test]
fn axis_unicode_text_in_every_utf16_flavour() {
    let utf8 = parse_file(AXIS_TEMPLATE.as_bytes(), "axis.txt", None).unwrap();
    assert_eq!(
        rows(&utf8),
        expect(&[
            (
                "2024-04-01",
                "-1120.00",
                "UPI/P2M/409112345678/Reliance Retail/₹ groceries"
            ),
            (
                "2024-04-03",
                "5000.00",
                "NEFT/AXISP00412345678/GOOGLE INDIA DIGITAL"
            ),
            ("2024-04-07", "-200000.00", "CLG/ANAND KUMAR/HDFC BANK"),
        ])
    );
    for big_endian in [false, true] {
        for bom in [true, false] {
            let bytes = utf16(AXIS_TEMPLATE, big_endian, bom);
            let s = parse_file(&bytes, "axis.xls", None)
                .unwrap_or_else(|e| panic!("be={big_endian} bom={bom}: {e:?}"));
            assert_eq!(s.detected_format, "tsv");
            assert_eq!(rows(&s), rows(&utf8), "be={big_endian} bom={bom}");
        }
    }
}

// --- UTF-8 without a BOM, with rupee signs ---------------------------------------------------

#[test]
fn phonepe_rupee_amounts_utf8_without_bom() {
    let s = parse("source_phonepe_rupee.csv");
    assert_eq!(s.detected_format, "csv");
    assert_eq!(
        rows(&s),
        expect(&[
            ("2024-04-01", "-45.00", "Paid to Chai Point"),
            ("2024-04-01", "-1050.00", "Paid to BMTC Bus Pass"),
            ("2024-04-02", "2500.00", "Received from RAHUL VERMA"),
            ("2024-04-03", "-299.00", "Paid to Jio Prepaid Recharge"),
            ("2024-04-05", "-1834.60", "Paid to DMart Ready"),
        ])
    );
}

#[test]
fn axis_card_rupee_amounts_with_a_stray_windows_1252_byte() {
    // One narration holds a Windows-1252 `É`: the rest of the file is still UTF-8, so every
    // `₹ 1,249.00` stays an amount instead of becoming `â‚¹ 1,249.00`.
    let s = parse("source_axis_card_rupee_stray_byte.csv");
    assert_eq!(
        rows(&s),
        expect(&[
            (
                "2024-04-02",
                "-1249.00",
                "ZEPTO MARKETPLACE PRIVATE BANGALORE"
            ),
            ("2024-04-05", "-410.00", "CAFÉ COFFEE DAY MUMBAI"),
            ("2024-04-07", "-8640.00", "MAKEMYTRIP INDIA PVT LTD GURGAON"),
            ("2024-04-09", "2160.00", "REFUND MAKEMYTRIP INDIA PVT LTD"),
            ("2024-04-10", "5000.00", "PAYMENT RECEIVED, THANK YOU"),
        ])
    );
    assert_eq!(s.skipped, Skipped::default());
}

#[test]
fn paytm_rupee_csv_named_xls() {
    let s = parse("source_paytm_rupee.xls");
    assert_eq!(s.detected_format, "csv");
    assert_eq!(
        rows(&s),
        expect(&[
            ("2024-04-01", "-238.60", "Paid to Uber India"),
            ("2024-04-02", "-612.00", "Paid to Swiggy Instamart"),
            ("2024-04-04", "1500.00", "Received from ANJALI MEHTA"),
            ("2024-04-06", "-60.00", "Paid to Namma Metro"),
        ])
    );
}

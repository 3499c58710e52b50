//! Header recognition on realistic bank exports (issue #12 items 1, 7 and 9): headers with units
//! and markers, new wordings, scored header rows after preambles, the description column that
//! carries text, reference columns, and preambles and footers that never become transactions.

use crate::support::{expect, parse, rows};
use scale_statements::pipeline::ParsedStatement;

fn references(s: &ParsedStatement) -> Vec<&str> {
    s.transactions
        .iter()
        .map(|t| t.reference.as_str())
        .collect()
}

// Item 1: headers with units, currency annotations and markers; new wordings.

#[test]
fn icici_savings_withdrawal_and_deposit_amount_in_inr() {
    let s = parse("header_icici_savings.csv");
    assert_eq!(
        rows(&s),
        expect(&[
            (
                "2024-04-01",
                "-412.00",
                "UPI/412345678901/SWIGGY/swiggy@ybl/Payment from Ph/YESB"
            ),
            (
                "2024-04-02",
                "85000.00",
                "NEFT-N093241234567890-ACME TECHNOLOGIES PVT LTD-SALARY APR"
            ),
            ("2024-04-05", "-15000.00", "CHQ PAID-MICR CTS-RAMESH KUMAR"),
            ("2024-04-08", "-5000.00", "ATM/CASH WDL/08-04-2024/S1ANBG12"),
            (
                "2024-04-10",
                "-1299.00",
                "BIL/ONL/001234567890/AMAZON PAY/Amazon Seller Services"
            ),
        ])
    );
    assert_eq!(s.transactions[2].reference, "000123");
    assert!(s.transactions.iter().all(|t| t.currency == "INR"));
    // The header is raw row 9, so the first transaction is row 10.
    assert_eq!(s.transactions[0].source_row, 10);
    // Footer lines (legends, "generated on") are not transactions.
    assert_eq!(s.skipped.invalid_date, 3);
}

#[test]
fn bank_of_baroda_withdrawal_dr_deposit_cr_balance_inr() {
    let s = parse("header_bob.csv");
    assert_eq!(
        rows(&s),
        expect(&[
            (
                "2024-04-03",
                "-1845.00",
                "UPI/DR/409312345678/BigBasket/HDFC/bigbasket@hdfcbank"
            ),
            (
                "2024-04-05",
                "32500.00",
                "NEFT-BARBN24096123456-STATE OF KERALA-PENSION"
            ),
            ("2024-04-09", "-2310.40", "POS 4321XXXX1234 DMART THRISSUR"),
            (
                "2024-04-12",
                "-10000.00",
                "IMPS/P2A/410312345678/ANILKUMAR/SBIN"
            ),
        ])
    );
    // Opening and closing balance rows carry no amount; total, summary and generated-on
    // lines no date.
    assert_eq!(s.skipped.zero_amount, 2);
    assert_eq!(s.skipped.invalid_date, 3);
}

#[test]
fn icici_corporate_txn_posted_date_and_cr_dr_column() {
    let s = parse("header_icici_corporate.csv");
    assert_eq!(
        rows(&s),
        expect(&[
            (
                "2024-04-02",
                "240000.00",
                "RTGS-HDFCR52024040212345678-KRISHNA STEELS"
            ),
            (
                "2024-04-03",
                "-18540.00",
                "GST PAYMENT CBDT/CPIN 24040300012345"
            ),
            ("2024-04-05", "-32000.00", "CLG/VIJAY TRANSPORT CO"),
            (
                "2024-04-07",
                "-7815.00",
                "INF/INFT/034567890123/ELECTRICITY MSEDCL"
            ),
        ])
    );
    // `Txn Posted Date` (with its time) wins over `Value Date`.
    assert_eq!(s.transactions[0].meta.time.unwrap().to_string(), "10:15:32");
    // `Transaction ID` is the reference; `ChequeNo.` is left in `raw`.
    assert_eq!(
        references(&s),
        ["S12345678", "S12345990", "M22345001", "S12346781"]
    );
    assert_eq!(s.transactions[2].raw["ChequeNo."], "000456");
}

#[test]
fn credit_card_amount_in_rs_after_a_summary_box() {
    // The summary box above the table names a payment date and amount with a row of values
    // below it; the real header fills more roles and wins.
    let s = parse("header_kotak_credit_card.csv");
    assert_eq!(
        rows(&s),
        expect(&[
            ("2024-04-16", "-412.00", "SWIGGY BANGALORE IN"),
            (
                "2024-04-18",
                "-1299.00",
                "AMAZON PAY INDIA PRIVATE MUMBAI IN"
            ),
            ("2024-04-20", "18000.00", "PAYMENT RECEIVED - THANK YOU"),
            ("2024-04-25", "-2345.60", "IRCTC WEB BOOKING NEW DELHI IN"),
            ("2024-04-28", "499.00", "REFUND AMAZON PAY INDIA"),
        ])
    );
    assert_eq!(s.transactions[0].source_row, 11);
    assert_eq!(s.skipped.invalid_date, 3);
}

#[test]
fn idbi_trxn_amount_with_cr_dr_and_currency_columns() {
    let s = parse("header_idbi.csv");
    assert_eq!(
        rows(&s),
        expect(&[
            (
                "2024-04-02",
                "-380.00",
                "UPI/409212345678/ZOMATO/zomato@hdfcbank/UPI"
            ),
            (
                "2024-04-04",
                "61250.00",
                "NEFT/CITIN24095012345/INFOSYS LIMITED/SALARY"
            ),
            (
                "2024-04-06",
                "-4512.00",
                "ACH/LIC OF INDIA/PREMIUM/123456789"
            ),
        ])
    );
    assert_eq!(s.skipped.invalid_date, 3);
}

#[test]
fn onecard_txn_amt_with_a_debit_credit_column_and_no_description() {
    let s = parse("header_onecard.csv");
    let got: Vec<(String, String, &str)> = s
        .transactions
        .iter()
        .map(|t| {
            (
                t.date.to_string(),
                t.amount.to_string(),
                t.merchant.as_str(),
            )
        })
        .collect();
    let want = [
        ("2024-04-03", "-286.00", "UBER INDIA SYSTEMS PVT"),
        ("2024-04-07", "-649.00", "NETFLIX.COM"),
        ("2024-04-11", "64.90", "CASHBACK"),
        ("2024-04-21", "-3499.00", "AMAZON RETAIL INDIA"),
    ];
    assert_eq!(
        got,
        want.map(|(d, a, m)| (d.to_owned(), a.to_owned(), m))
            .to_vec()
    );
    assert!(s.transactions.iter().all(|t| t.description.is_empty()));
    assert_eq!(s.skipped.invalid_date, 2);
}

// Item 7: the description column that carries text; reference columns.

#[test]
fn paytm_transaction_details_win_over_empty_remarks() {
    let s = parse("header_paytm_upi.csv");
    assert_eq!(
        rows(&s),
        expect(&[
            ("2024-04-01", "-412.00", "Paid to Swiggy"),
            ("2024-04-03", "2000.00", "Received from Anil Kumar"),
            ("2024-04-06", "-299.00", "Paid to Jio Prepaid Recharges"),
            (
                "2024-04-09",
                "-60.00",
                "Paid to Bangalore Metro Rail Corporation"
            ),
        ])
    );
    // `UPI Ref No.` is the reference, not `Order ID`.
    assert_eq!(
        references(&s),
        [
            "409112345678",
            "409312348765",
            "409612340011",
            "410012347777"
        ]
    );
    assert_eq!(s.transactions[1].raw["Remarks"], "Rent share");
    assert_eq!(s.skipped.invalid_date, 3);
}

#[test]
fn axis_credit_card_transaction_details_win_over_remarks() {
    let s = parse("header_axis_credit_card.csv");
    assert_eq!(
        rows(&s),
        expect(&[
            ("2024-03-17", "-545.00", "ZOMATO LTD,GURGAON"),
            (
                "2024-03-21",
                "-8764.00",
                "MAKEMYTRIP INDIA PVT LT,NEW DELHI"
            ),
            ("2024-03-25", "12000.00", "PAYMENT RECEIVED, THANK YOU"),
            ("2024-04-02", "-21500.00", "TANISHQ JEWELLERS,PUNE"),
            ("2024-04-10", "1250.00", "MAKEMYTRIP INDIA PVT LT,NEW DELHI"),
        ])
    );
    assert_eq!(s.transactions[3].raw["Remarks"], "gift");
    assert!(s.transactions.iter().all(|t| t.currency == "INR"));
    assert_eq!(s.skipped.invalid_date, 3);
}

#[test]
fn dbs_narration_wins_over_a_mostly_empty_description() {
    let s = parse("header_dbs.csv");
    assert_eq!(
        rows(&s),
        expect(&[
            (
                "2024-04-01",
                "-486.00",
                "UPI/DR/409112223334/BLINKIT/YESB/blinkit.payu@hdfcbank"
            ),
            (
                "2024-04-04",
                "45000.00",
                "NEFT/HDFCN52024040411223344/MEHTA CONSULTANTS/INVOICE 117"
            ),
            ("2024-04-07", "210.00", "INT.PD:01-01-2024 TO 31-03-2024"),
            ("2024-04-11", "-2199.00", "POS 4321XXXX1234 AMAZON RETAIL"),
        ])
    );
    // `Chq/Ref Number` is the reference column (empty on the interest row).
    assert_eq!(
        references(&s)[..2],
        ["409112223334", "HDFCN52024040411223344"]
    );
    assert_eq!(s.transactions[3].reference, "410112345566");
    assert_eq!(s.skipped.invalid_date, 3);
}

#[test]
fn federal_tran_id_is_the_reference_and_particulars_the_description() {
    let s = parse("header_federal.csv");
    assert_eq!(
        rows(&s),
        expect(&[
            (
                "2024-04-02",
                "1500.00",
                "UPI IN/409212345678/suresh@okaxis/SURESH P"
            ),
            (
                "2024-04-05",
                "-1120.00",
                "TO CLG 000789 KERALA WATER AUTHORITY"
            ),
            (
                "2024-04-08",
                "-2340.00",
                "UPI OUT/409812345678/KSEB/kseb@sbi"
            ),
        ])
    );
    assert_eq!(references(&s), ["S81234567", "S81239876", "S81240011"]);
    assert_eq!(s.skipped.invalid_date, 2);
}

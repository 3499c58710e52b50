//! Unit tests of header normalisation and header-row detection.

use super::*;

fn text_row(cells: &[&str]) -> Vec<Cell> {
    cells.iter().map(|c| Cell::Text((*c).to_owned())).collect()
}

#[test]
fn normalises_punctuation_and_case() {
    assert_eq!(normalize_header("  Txn Date "), "txn date");
    assert_eq!(normalize_header("Chq./Ref.No."), "chq ref no");
    assert_eq!(normalize_header("Amount (USD)"), "amount usd");
    assert_eq!(normalize_header("Withdrawal Amt."), "withdrawal amt");
    assert_eq!(normalize_header("transaction_date"), "transaction date");
}

#[test]
fn aliases_are_exact_not_substrings() {
    assert_eq!(classify("account details"), None);
    assert_eq!(classify("address"), None);
    assert_eq!(classify("order id"), None);
    assert_eq!(classify("deposit amt").map(|c| c.0), Some(Column::Credit));
    assert_eq!(classify("value dt").map(|c| c.0), Some(Column::Date));
}

#[test]
fn transaction_date_wins_over_value_date() {
    let map = ColumnMap::from_headers(["Value Date", "Txn Date", "Description", "Debit", "Credit"]);
    assert_eq!(map.get(Column::Date), Some(1));
    let hdfc = ColumnMap::from_headers([
        "Date",
        "Narration",
        "Chq./Ref.No.",
        "Value Dt",
        "Withdrawal Amt.",
        "Deposit Amt.",
        "Closing Balance",
    ]);
    assert_eq!(hdfc.get(Column::Date), Some(0));
    assert_eq!(hdfc.get(Column::Reference), Some(2));
    assert_eq!(hdfc.get(Column::Debit), Some(4));
    assert_eq!(hdfc.get(Column::Credit), Some(5));
    assert_eq!(hdfc.get(Column::Balance), Some(6));
}

#[test]
fn header_after_a_preamble_is_found() {
    let rows = vec![
        text_row(&["State Bank of India", "", ""]),
        text_row(&["Account Details", "x", ""]),
        text_row(&["Date", "Details", "Ref No.", "Debit", "Credit", "Balance"]),
        text_row(&["28/04/2023", "CASH", "", "", "2,000.00", "2,000.00"]),
    ];
    let (index, map) = detect_header(&rows);
    assert_eq!(index, 2);
    assert_eq!(map.get(Column::Description), Some(1));
    assert_eq!(map.get(Column::Reference), Some(2));
}

#[test]
fn falls_back_to_the_first_row() {
    let rows = vec![text_row(&["a", "b"]), text_row(&["1", "2"])];
    assert_eq!(detect_header(&rows).0, 0);
    assert_eq!(detect_header(&[]).0, 0);
}

#[test]
fn labels_lose_units_currencies_and_markers() {
    let cases = [
        ("Withdrawal Amount (INR )", "withdrawal amount", Some("INR")),
        ("Deposit Amount (INR )", "deposit amount", Some("INR")),
        ("Balance (INR )", "balance", Some("INR")),
        ("WITHDRAWAL(DR)", "withdrawal", None),
        ("DEPOSIT(CR)", "deposit", None),
        ("BALANCE(INR)", "balance", Some("INR")),
        ("Amount (in Rs.)", "amount", Some("INR")),
        ("Amount(₹)", "amount", Some("INR")),
        ("Amount in Rs", "amount", Some("INR")),
        ("₹ Amount", "amount", Some("INR")),
        ("Amount [USD]", "amount", Some("USD")),
        ("Amount INR", "amount", Some("INR")),
        ("Txn Amt", "txn amt", None),
        ("Chq./Ref.No.", "chq ref no", None),
        (
            "Other Transaction Details (UPI ID or A/c No)",
            "other transaction details",
            None,
        ),
        // Nothing but an annotation, or nothing but a currency word: kept.
        ("(Dr/Cr)", "dr cr", None),
        ("INR", "inr", Some("INR")),
        ("  Txn   Date ", "txn date", None),
    ];
    for (text, words, currency) in cases {
        assert_eq!(
            label(text),
            Label {
                text: words.to_owned(),
                currency
            },
            "{text}"
        );
    }
}

#[test]
fn new_wordings_land_by_keywords() {
    let column = |text: &str| classify(&label(text).text).map(|(c, _)| c);
    let cases = [
        ("Transaction Remarks", Column::Description),
        ("Narration", Column::Description),
        ("PARTICULARS", Column::Description),
        ("Details", Column::Description),
        (
            "Other Transaction Details (UPI ID or A/c No)",
            Column::Description,
        ),
        ("Value Dt", Column::Date),
        ("Txn Posted Date", Column::Date),
        ("TRAN DATE", Column::Date),
        ("Chq./Ref.No.", Column::Reference),
        ("Chq/Ref Number", Column::Reference),
        ("UPI Ref No.", Column::Reference),
        ("Ref No./Cheque No.", Column::Reference),
        ("Cheque Number", Column::Reference),
        ("ChequeNo.", Column::Reference),
        ("CHQNO", Column::Reference),
        ("Tran Id", Column::Reference),
        ("Withdrawals", Column::Debit),
        ("WITHDRAWAL(DR)", Column::Debit),
        ("Withdrawal Amount (INR )", Column::Debit),
        ("Dr Amount", Column::Debit),
        ("Deposits", Column::Credit),
        ("DEPOSIT(CR)", Column::Credit),
        ("Deposits (in Rs.)", Column::Credit),
        ("Closing Balance", Column::Balance),
        ("Available Balance(INR)", Column::Balance),
        ("BAL", Column::Balance),
        ("Amount (in Rs.)", Column::Amount),
        ("Amount(₹)", Column::Amount),
        ("Txn Amt", Column::Amount),
        ("Trxn Amount", Column::Amount),
        ("Transaction Amount(INR)", Column::Amount),
        ("Cr/Dr", Column::Kind),
        ("Debit/Credit", Column::Kind),
        ("Tran Type", Column::Kind),
        ("CCY", Column::Currency),
    ];
    for (text, expected) in cases {
        assert_eq!(column(text), Some(expected), "{text}");
    }
}

#[test]
fn preamble_and_summary_cells_are_not_headers() {
    let column = |text: &str| classify(&label(text).text).map(|(c, _)| c);
    for text in [
        "Account Details",
        "Transaction Date from",
        "Amount to",
        "Total Amount Due",
        "Opening Balance",
        "Available Credit Limit",
        "Statement Summary",
        "S No.",
        "Sl. No.",
        "Order ID",
        "Your Account",
        "UPI/DR/412345678901/SWIGGY/YESB/swiggy@yesbank/Payment from PhonePe",
        "Interest credited on 30 04 2024",
    ] {
        assert_eq!(column(text), None, "{text}");
    }
}

#[test]
fn a_keyword_date_ranks_between_booking_and_value_dates() {
    let map = ColumnMap::from_headers(["Value Date", "Txn Posted Date", "Description", "Amount"]);
    assert_eq!(map.get(Column::Date), Some(1));
    let map = ColumnMap::from_headers(["Posted Value Date", "Date", "Description", "Amount"]);
    assert_eq!(map.get(Column::Date), Some(1));
}

#[test]
fn the_scorer_prefers_the_row_with_data_below() {
    let rows = vec![
        text_row(&[
            "Statement Date",
            "Payment Due Date",
            "Total Amount Due",
            "Minimum Amount Due",
        ]),
        text_row(&["15/05/2024", "04/06/2024", "24,318.00", "1,220.00"]),
        text_row(&["Last Payment Date", "Last Payment Amount"]),
        text_row(&["12/04/2024", "18,000.00"]),
        text_row(&["Date", "Transaction Details", "Amount (in Rs.)"]),
        text_row(&["16/04/2024", "SWIGGY BANGALORE", "412.00 Dr"]),
        text_row(&["18/04/2024", "AMAZON PAY INDIA", "1,299.00 Dr"]),
    ];
    assert!(
        score_header(&rows, 0).is_none(),
        "due dates and totals are no header"
    );
    let (first, _) = score_header(&rows, 2).unwrap();
    let (real, _) = score_header(&rows, 4).unwrap();
    assert_eq!(
        first,
        HeaderScore {
            required: 2,
            data_rows: 1,
            roles: 2
        }
    );
    assert_eq!(
        real,
        HeaderScore {
            required: 3,
            data_rows: 2,
            roles: 3
        }
    );
    assert!(score_header(&rows, 1).is_none(), "a data row names nothing");
    let (index, map) = detect_header(&rows);
    assert_eq!(index, 4);
    assert_eq!(map.get(Column::Amount), Some(2));
    assert_eq!(map.currency_hint, Some("INR"));
}

#[test]
fn a_preamble_row_that_mentions_a_date_does_not_win() {
    // Fills every required role, but no row below it is a transaction under it.
    let rows = vec![
        text_row(&["Date", "Description", "Amount"]),
        text_row(&[
            "Generated on 01/05/2024",
            "Savings account statement",
            "All amounts in INR",
        ]),
        text_row(&[""]),
        text_row(&[
            "Txn Date",
            "Narration",
            "Chq/Ref Number",
            "Withdrawal Amt.",
            "Deposit Amt.",
        ]),
        text_row(&["02/04/2024", "NEFT-SALARY", "N123", "", "52,000.00"]),
        text_row(&["03/04/2024", "ATM-WDL", "", "5,000.00", ""]),
    ];
    let (index, map) = detect_header(&rows);
    assert_eq!(index, 3);
    assert_eq!(map.get(Column::Reference), Some(2));
    // The old rule took the first complete row.
    assert_eq!(map_row(&rows[0]).required_roles(), 3);
}

#[test]
fn equal_scores_keep_the_earliest_row() {
    let header = ["Date", "Narration", "Amount"];
    let rows = vec![
        text_row(&header),
        text_row(&["01/04/2024", "A", "-1.00"]),
        text_row(&header),
        text_row(&["02/04/2024", "B", "-2.00"]),
    ];
    assert_eq!(detect_header(&rows).0, 0);
}

#[test]
fn the_description_is_the_column_that_carries_text() {
    let rows = vec![
        text_row(&["Date", "Remarks", "Transaction Details", "Amount"]),
        text_row(&["01/04/2024", "", "Paid to Swiggy", "-412.00"]),
        text_row(&["02/04/2024", "dinner", "Paid to Zomato", "-380.00"]),
        text_row(&["03/04/2024", "", "Received from Rahul", "+500.00"]),
        text_row(&["Total", "footer text", "counts nothing", ""]),
        text_row(&["Page 1", "footer text", "", ""]),
    ];
    let (_, map) = detect_header(&rows);
    assert_eq!(map.get(Column::Description), Some(2));
    // A tie keeps the alias preference: `remarks` before `transaction details`.
    let tied = vec![
        rows[0].clone(),
        text_row(&["01/04/2024", "rent", "NEFT-RENT", "-15000"]),
    ];
    assert_eq!(detect_header(&tied).1.get(Column::Description), Some(1));
    // No data rows at all: the preference too.
    assert_eq!(
        detect_header(&rows[..1]).1.get(Column::Description),
        Some(1)
    );
}

#[test]
fn amount_header_names_the_currency() {
    let map = ColumnMap::from_headers(["Date", "Memo", "Amount (USD)"]);
    assert_eq!(map.currency_hint, Some("USD"));
    assert_eq!(map.required_roles(), 3);
}

#[test]
fn debit_and_credit_headers_name_the_currency_too() {
    let map = ColumnMap::from_headers([
        "Date",
        "Memo",
        "Debit (USD)",
        "Credit (USD)",
        "Balance (EUR)",
    ]);
    assert_eq!(map.currency_hint, Some("USD"));
    let map = ColumnMap::from_headers(["Date", "Memo", "Amount", "Balance (EUR)"]);
    assert_eq!(map.currency_hint, None);
}

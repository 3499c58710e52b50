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
fn amount_header_names_the_currency() {
    let map = ColumnMap::from_headers(["Date", "Memo", "Amount (USD)"]);
    assert_eq!(map.currency_hint, Some("USD"));
    assert!(map.is_complete());
}

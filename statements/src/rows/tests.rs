//! Unit tests of row realignment and of settling a file's amounts.

use super::*;

fn texts(cells: &[&str]) -> Vec<Cell> {
    cells.iter().map(|c| Cell::Text((*c).to_owned())).collect()
}

fn headers(names: &[&str]) -> (Vec<String>, ColumnMap) {
    let headers: Vec<String> = names.iter().map(|h| (*h).to_owned()).collect();
    let map = ColumnMap::from_headers(headers.iter().map(String::as_str));
    (headers, map)
}

fn realign(names: &[&str], delimiter: Option<u8>) -> Realign {
    let (headers, map) = headers(names);
    Realign::new(&headers, &map, delimiter)
}

const BANK: &[&str] = &["Date", "Narration", "Withdrawal", "Deposit", "Balance"];

#[test]
fn rows_that_fit_are_kept_as_they_are() {
    let mut r = realign(BANK, Some(b','));
    let row = texts(&["01/02/2025", "NEFT", "", "500.00", "1500.00"]);
    assert_eq!(r.fit(row.clone(), 2), Ok(row));
    // A trailing delimiter adds a blank cell past the header: dropped.
    let row = texts(&["01/02/2025", "NEFT", "", "500.00", "1500.00", ""]);
    assert_eq!(r.fit(row.clone(), 3), Ok(row[..5].to_vec()));
    assert!(r.warnings().is_empty());
}

#[test]
fn split_grouped_numbers_are_rejoined_in_money_columns() {
    let mut r = realign(BANK, Some(b','));
    let row = texts(&[
        "01/02/2025",
        "NEFT",
        "",
        "45",
        "000.00",
        "1",
        "23",
        "450.00",
    ]);
    assert_eq!(
        r.fit(row, 4),
        Ok(texts(&[
            "01/02/2025",
            "NEFT",
            "",
            "45,000.00",
            "1,23,450.00"
        ]))
    );
    let row = texts(&[
        "02/02/2025",
        "POS",
        "1",
        "250.00 Dr",
        "",
        "1",
        "22",
        "200.00",
    ]);
    assert_eq!(
        r.fit(row, 5),
        Ok(texts(&[
            "02/02/2025",
            "POS",
            "1,250.00 Dr",
            "",
            "1,22,200.00"
        ]))
    );
    let warnings = r.warnings();
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].code, "ragged_rows_repaired");
    assert!(warnings[0].message.contains("(row 4, row 5)"));
}

#[test]
fn rows_that_cannot_be_lined_up_safely_are_skipped() {
    let mut r = realign(BANK, Some(b','));
    // The narration split, not a number.
    let split_text = texts(&[
        "01/02/2025",
        "IMPS RAMESH",
        " KUMAR",
        "2",
        "000.00",
        "",
        "900.00",
    ]);
    assert_eq!(r.fit(split_text, 2), Err(SkipReason::InvalidRow));
    // `1,250` | `000.00` or `1` | `250,000.00`: both read.
    let two_ways = texts(&["01/02/2025", "RTGS", "", "1", "250", "000.00"]);
    assert_eq!(r.fit(two_ways, 3), Err(SkipReason::InvalidRow));
    // Too few cells.
    let short = texts(&["01/02/2025", "UPI", "-312.00"]);
    assert_eq!(r.fit(short, 4), Err(SkipReason::InvalidRow));
    // A footer stays a footer.
    let footer = texts(&["Closing balance", "1", "250.00"]);
    assert_eq!(r.fit(footer, 5), Err(SkipReason::InvalidDate));
    let warnings = r.warnings();
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].code, "ragged_rows_skipped");
    assert!(warnings[0].message.starts_with("3 row(s)"));
}

#[test]
fn numbers_rejoin_only_in_comma_files_and_never_in_other_columns() {
    let row = texts(&["01/02/2025", "NEFT", "", "45", "000.00", "900.00"]);
    let mut semicolons = realign(BANK, Some(b';'));
    assert_eq!(semicolons.fit(row.clone(), 2), Err(SkipReason::InvalidRow));
    let mut spreadsheet = realign(BANK, None);
    assert_eq!(spreadsheet.fit(row.clone(), 2), Ok(row));
    // `Ref` is not a money column, so `123`,`456` stays two cells and the row does not fit.
    let mut r = realign(&["Date", "Narration", "Ref", "Amount"], Some(b','));
    let row = texts(&["01/02/2025", "NEFT", "123", "456", "-50.00"]);
    assert_eq!(r.fit(row, 2), Err(SkipReason::InvalidRow));
}

/// Drafts of a table with these headers and rows (all dated), settled.
fn settle_table(names: &[&str], rows: &[&[&str]]) -> Result<Settled, StatementError> {
    let (headers, map) = headers(names);
    let mut drafts = Drafts::default();
    for (i, row) in rows.iter().enumerate() {
        drafts.push(&texts(row), &map, i + 2).unwrap();
    }
    settle(drafts, Some((&headers, &map)))
}

fn settled_amounts(settled: &Settled) -> Vec<String> {
    settled.rows.iter().map(|r| r.amount.to_string()).collect()
}

#[test]
fn each_money_column_decides_its_own_separator() {
    let s = settle_table(
        &["Date", "Description", "Amount", "Balance"],
        &[
            &["01.02.2025", "A", "-1.234,56", "1,000.00"],
            &["02.02.2025", "B", "12,5", "1,012.50"],
        ],
    )
    .unwrap();
    assert_eq!(settled_amounts(&s), ["-1234.56", "12.50"]);
    assert_eq!(s.rows[1].balance, Some("1012.50".parse().unwrap()));
}

#[test]
fn an_even_split_of_separators_is_refused() {
    let err = settle_table(
        &["Date", "Description", "Debit"],
        &[&["01.02.2025", "A", "12,50"], &["02.02.2025", "B", "12.50"]],
    )
    .err()
    .unwrap();
    let StatementError::Validation(message) = err else {
        panic!("{err:?}");
    };
    assert!(message.contains("column `Debit`"), "{message}");
    assert!(message.contains("1 of its values use a decimal point and 1 a decimal comma"));
}

#[test]
fn a_balance_whose_values_all_read_both_ways_groups_thousands() {
    let s = settle_table(
        &["Date", "Description", "Amount", "Balance"],
        &[
            &["01.02.2025", "A", "-5", "1.500"],
            &["02.02.2025", "B", "7", "1.507"],
        ],
    )
    .unwrap();
    assert_eq!(settled_amounts(&s), ["-5.00", "7.00"]);
    let balances: Vec<String> = s.rows.iter().map(|r| format!("{:?}", r.balance)).collect();
    assert_eq!(balances, ["Some(1500.00)", "Some(1507.00)"]);
}

#[test]
fn json_rows_keep_decimal_points_and_written_signs() {
    let (_, map) = headers(&["Date", "Description", "Amount"]);
    let mut drafts = Drafts::default();
    for (i, row) in [
        ["01/02/2025", "A", "12,50"],
        ["01/02/2025", "B", "100.00"],
        ["01/02/2025", "C", "50.00 Cr"],
    ]
    .iter()
    .enumerate()
    {
        drafts.push(&texts(row), &map, i + 1).unwrap();
    }
    let s = settle(drafts, None).unwrap();
    assert_eq!(settled_amounts(&s), ["100.00", "50.00"]);
    assert_eq!(s.invalid_rows, 1);
    assert!(s.warnings.is_empty());
}

#[test]
fn written_minus_signs_rule_out_the_card_convention() {
    let s = settle_table(
        &["Date", "Description", "Amount"],
        &[
            &["01/02/2025", "A", "50.00"],
            &["02/02/2025", "B", "-20.00"],
            &["03/02/2025", "C", "10.00 Cr"],
        ],
    )
    .unwrap();
    assert_eq!(settled_amounts(&s), ["50.00", "-20.00", "10.00"]);
    assert!(s.warnings.is_empty());
}

#[test]
fn listed_rows_are_capped() {
    assert_eq!(listed(&[3]), "row 3");
    assert_eq!(
        listed(&[1, 2, 3, 4, 5, 6]),
        "row 1, row 2, row 3, row 4, row 5, …"
    );
}

/// The directly written ISO date is chrono's `%Y-%m-%d`, four-digit years or not.
#[test]
fn iso_date_matches_chrono() {
    for (y, m, d) in [
        (2024, 3, 1),
        (1999, 12, 31),
        (987, 1, 9),
        (0, 6, 15),
        (-44, 3, 15),
        (12345, 2, 28),
    ] {
        let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(iso_date(date), date.format("%Y-%m-%d").to_string());
    }
}

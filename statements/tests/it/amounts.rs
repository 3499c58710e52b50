//! Amounts the way real statements write them, through the whole parse: sign conventions
//! (credit-card `Cr` refunds, `Dr/Cr` and `Type` columns, a running balance that confirms or
//! overrules), decimal commas decided per column, and ragged unquoted rows rejoined or skipped.

use crate::support::{amounts, decs, fixture, parse};
use scale_statements::error::StatementError;
use scale_statements::pipeline::{parse_file, ParsedStatement};
use scale_statements::rows::Skipped;

fn codes(statement: &ParsedStatement) -> Vec<&'static str> {
    statement.warnings.iter().map(|w| w.code).collect()
}

fn skipped(invalid_date: usize, invalid_row: usize) -> Skipped {
    Skipped {
        invalid_date,
        zero_amount: 0,
        invalid_row,
    }
}

// Item 2: sign conventions.

#[test]
fn hdfc_card_charges_are_debits_and_cr_refunds_credits() {
    let s = parse("amounts_hdfc_card_cr_refunds.csv");
    assert_eq!(
        amounts(&s),
        decs(&["-486", "-2349", "1199", "-1245.60", "15000", "-312.45", "12.50", "-1050"])
    );
    assert_eq!(s.transactions[0].kind, "debit");
    assert_eq!(s.transactions[2].kind, "credit");
    assert_eq!(s.skipped, skipped(1, 0), "the Total Amount Due footer");
    assert_eq!(codes(&s), ["sign_convention_inferred"]);
}

#[test]
fn sbi_card_upper_case_cr_marks_the_only_credits() {
    let s = parse("amounts_sbi_card_cr.csv");
    assert_eq!(
        amounts(&s),
        decs(&["-1862.40", "12500", "-8940", "37.50", "-649", "2100", "-499", "-89.82"])
    );
    assert!(s.transactions.iter().all(|t| t.currency == "INR"));
    assert_eq!(codes(&s), ["sign_convention_inferred"]);
}

#[test]
fn icici_dr_cr_column_agrees_with_a_newest_first_balance() {
    let s = parse("amounts_icici_savings_dr_cr.csv");
    assert_eq!(
        amounts(&s),
        decs(&["-412", "52000", "-5000", "-1860", "-1299", "81.50"])
    );
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn kotak_type_column_of_d_and_c_decides_the_sign() {
    let s = parse("amounts_kotak_type_d_c.csv");
    assert_eq!(
        amounts(&s),
        decs(&["-623", "64500", "-22000", "-1499", "1499"])
    );
    assert_eq!(s.transactions[1].reference, "NEFT-CITIN25093456789");
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn idfc_debit_credit_column_decides_the_sign() {
    let s = parse("amounts_idfc_debit_credit_column.csv");
    assert_eq!(amounts(&s), decs(&["-356", "4800", "-2500", "-2000"]));
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn a_balance_that_contradicts_every_sign_overrules_them_with_a_warning() {
    // Federal Bank-style export signed from the bank's side: withdrawals positive.
    let s = parse("amounts_federal_bank_perspective_signs.csv");
    assert_eq!(amounts(&s), decs(&["-1840", "48000", "-3000", "-2315"]));
    assert_eq!(
        s.skipped,
        skipped(0, 1),
        "the opening balance row has no amount"
    );
    assert_eq!(codes(&s), ["sign_convention_uncertain"]);
    let message = &s.warnings[0].message;
    assert!(
        message.contains("3 row(s) (row 4, row 5, row 6)"),
        "{message}"
    );
    assert!(message.contains("including 1 row(s) (row 3)"), "{message}");
}

#[test]
fn a_balance_that_contradicts_one_type_marker_wins_on_that_row() {
    let csv = "Date,Description,Amount,Type,Balance\n\
               01/04/2025,NEFT SALARY,50000.00,C,50000.00\n\
               02/04/2025,IMPS RENT,20000.00,D,30000.00\n\
               03/04/2025,REFUND MYNTRA,1500.00,D,31500.00\n\
               04/04/2025,UPI SWIGGY,500.00,D,31000.00\n";
    let s = parse_file(csv.as_bytes(), "kotak.csv", None).unwrap();
    assert_eq!(amounts(&s), decs(&["50000", "-20000", "1500", "-500"]));
    assert_eq!(codes(&s), ["sign_convention_uncertain"]);
    let message = &s.warnings[0].message;
    assert!(message.contains("1 row(s) (row 4)"), "{message}");
    assert!(
        message.contains("1 row(s) (row 2) could not be checked"),
        "{message}"
    );
}

#[test]
fn unsigned_amounts_take_their_sign_from_a_consistent_balance() {
    let csv = "Tran Date,Particulars,Amount,Balance\n\
               01/07/2025,BY CASH DEPOSIT,5000.00,15000.00\n\
               02/07/2025,TO UPI/DMART,1200.00,13800.00\n\
               03/07/2025,BY NEFT/REFUND,300.00,14100.00\n\
               05/07/2025,TO ATM WDL,2000.00,12100.00\n";
    let s = parse_file(csv.as_bytes(), "axis.csv", None).unwrap();
    assert_eq!(amounts(&s), decs(&["5000", "-1200", "300", "-2000"]));
    assert_eq!(codes(&s), ["signs_from_balance"]);
    assert!(s.warnings[0].message.contains("row 2"));
}

#[test]
fn a_balance_against_every_marked_sign_is_reported_not_applied() {
    let csv = "Date,Description,Amount,Balance\n\
               01/08/2025,AMAZON,499.00,499.00\n\
               02/08/2025,REFUND AMAZON,499.00 Cr,0.00\n\
               03/08/2025,SWIGGY,250.00,250.00\n\
               04/08/2025,UBER,150.00,400.00\n";
    let s = parse_file(csv.as_bytes(), "card.csv", None).unwrap();
    assert_eq!(amounts(&s), decs(&["-499", "499", "-250", "-150"]));
    // The balance here is what the card holder owes, so it rises with debits: it contradicts
    // the `Cr` convention on every row it can check; the marked signs stand, with a warning.
    assert_eq!(codes(&s), ["sign_convention_uncertain"]);
}

// Item 6: decimal commas.

#[test]
fn deutsche_bank_debit_and_credit_columns_with_decimal_commas() {
    let s = parse("amounts_deutsche_bank_eur.csv");
    assert_eq!(
        amounts(&s),
        decs(&["-39.99", "3412.87", "-1150", "-84.37", "1027"])
    );
    assert!(s.transactions.iter().all(|t| t.currency == "EUR"));
    assert_eq!(s.transactions[0].date.to_string(), "2025-01-02");
    assert_eq!(s.skipped, skipped(1, 0), "the Account balance footer");
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn sparkasse_signed_amounts_without_grouping() {
    let s = parse("amounts_sparkasse_eur.csv");
    assert_eq!(
        amounts(&s),
        decs(&["-24.90", "-63.18", "2875.44", "-980", "-200", "-6.50"])
    );
    assert_eq!(s.transactions[2].merchant, "Muster Logistik AG");
    assert!(s.transactions.iter().all(|t| t.currency == "EUR"));
}

#[test]
fn bunq_dutch_export_with_quoted_decimal_commas() {
    let s = parse("amounts_bunq_nl.csv");
    assert_eq!(
        amounts(&s),
        decs(&["-1245", "-12.50", "3150.75", "-3.20", "-89"])
    );
    assert_eq!(s.skipped, Skipped::default());
}

#[test]
fn la_banque_postale_french_export() {
    let s = parse("amounts_lbp_fr.csv");
    assert_eq!(
        amounts(&s),
        decs(&["-23.47", "1850", "-19.99", "-112.40", "-1024.18"])
    );
    assert!(s.transactions.iter().all(|t| t.currency == "EUR"));
}

#[test]
fn whole_amounts_grouped_by_one_separator_read_it_as_thousands() {
    // Money rarely has three decimals: `-1.150` throughout a column is 1,150 euros.
    let s = parse_file(
        &fixture("amounts_ambiguous_thousands.csv"),
        "amounts_ambiguous_thousands.csv",
        None,
    )
    .unwrap();
    assert_eq!(amounts(&s), decs(&["-1150", "3400", "2300", "-5000"]));
    // Same for an Indian UPI export's whole rupees.
    let csv = "Date,Details,Amount\n01/04/2024,Paid to Swiggy,-412\n\
               03/04/2024,Received from Anil,\"+2,000\"\n";
    let s = parse_file(csv.as_bytes(), "upi.csv", None).unwrap();
    assert_eq!(amounts(&s), decs(&["-412", "2000"]));
}

#[test]
fn a_column_that_reads_both_ways_is_refused_by_name() {
    // `1.150` and `2,300` group with different separators: nothing says which is the decimal.
    let csv = "Booking date;Description;Amount\n\
               02.01.2025;Miete Januar;-1.150\n\
               06.01.2025;Gehalt Januar;\"2,300\"\n";
    let err = parse_file(csv.as_bytes(), "mixed.csv", None).unwrap_err();
    let StatementError::Validation(message) = err else {
        panic!("{err:?}");
    };
    assert!(message.contains("column `Amount`"), "{message}");
}

#[test]
fn an_ambiguous_column_follows_the_other_money_columns() {
    // Whole-euro amounts alone could be thousands or decimals; the balance shows commas.
    let csv = "Booking date;Description;Amount;Balance\n\
               02.01.2025;Miete Januar;-1.150;2.850,00\n\
               06.01.2025;Gehalt Januar;3.400;6.250,00\n";
    let s = parse_file(csv.as_bytes(), "db.csv", None).unwrap();
    assert_eq!(amounts(&s), decs(&["-1150", "3400"]));
}

#[test]
fn a_stray_decimal_comma_in_a_decimal_point_column_is_skipped_with_a_warning() {
    let csv = "Date,Description,Amount\n\
               01/02/2025,A,-10.50\n\
               02/02/2025,B,20.25\n\
               03/02/2025,C,\"12,50\"\n";
    let s = parse_file(csv.as_bytes(), "mixed.csv", None).unwrap();
    assert_eq!(amounts(&s), decs(&["-10.50", "20.25"]));
    assert_eq!(s.skipped.invalid_row, 1);
    assert_eq!(codes(&s), ["decimal_separator_conflict"]);
}

// Item 8: ragged rows.

#[test]
fn cooperative_bank_unquoted_amounts_are_rejoined() {
    let s = parse("amounts_ragged_coop_bank.csv");
    assert_eq!(
        amounts(&s),
        decs(&["45000", "-1250", "-5000", "-799", "25000"])
    );
    assert_eq!(
        s.transactions[4].description,
        "CHQ DEP CLG 000123 SHARMA TRADERS"
    );
    assert_eq!(s.skipped, skipped(0, 1), "the narration split by a comma");
    assert_eq!(codes(&s), ["ragged_rows_repaired", "ragged_rows_skipped"]);
    assert!(s.warnings[0].message.starts_with("5 row(s)"));
    assert!(s.warnings[1].message.contains("(row 7)"));
    assert_eq!(s.transactions[0].raw["Balance"], "1,23,450.00");
}

#[test]
fn urban_bank_signed_amounts_rejoined_and_ambiguous_rows_skipped() {
    let s = parse("amounts_ragged_urban_bank_signed.csv");
    assert_eq!(amounts(&s), decs(&["-1250", "52000", "-2000", "-486"]));
    // `1,250,000.00,` reads as 1,250 | 000.00 or 1 | 250,000.00 or 1,250,000.00 | (blank);
    // the last row lacks its balance cell.
    assert_eq!(s.skipped, skipped(0, 2));
    assert_eq!(codes(&s), ["ragged_rows_repaired", "ragged_rows_skipped"]);
    assert!(s.warnings[1].message.contains("(row 6, row 7)"));
}

#[test]
fn unquoted_card_amounts_with_cr_and_lakh_grouping() {
    let s = parse("amounts_ragged_card_unquoted.csv");
    assert_eq!(
        amounts(&s),
        decs(&["-2499", "1199", "-112450", "125000", "-425"])
    );
    assert_eq!(s.skipped, skipped(0, 1));
    assert_eq!(
        codes(&s),
        [
            "ragged_rows_repaired",
            "ragged_rows_skipped",
            "sign_convention_inferred"
        ]
    );
}

// European exports with their own header words (German, Dutch, French).

#[test]
fn sparkasse_german_headers_two_digit_years_and_decimal_commas() {
    let s = parse("amounts_sparkasse_german_headers.csv");
    assert_eq!(amounts(&s), decs(&["-1150", "3412.55", "-64.37", "-250"]));
    let dates: Vec<String> = s.transactions.iter().map(|t| t.date.to_string()).collect();
    assert_eq!(
        dates,
        ["2025-01-30", "2025-01-31", "2025-02-03", "2025-02-05"]
    );
    assert_eq!(s.transactions[0].description, "Miete Februar 2025 Whg 3 OG");
    assert_eq!(s.transactions[0].merchant, "Hausverwaltung Schmidt GmbH");
    assert!(s.transactions.iter().all(|t| t.currency == "EUR"));
}

#[test]
fn ing_nl_af_bij_decides_the_sign_of_unsigned_amounts() {
    let s = parse("amounts_ing_nl_af_bij.csv");
    assert_eq!(amounts(&s), decs(&["-42.18", "3250", "-89.70", "12.50"]));
    assert_eq!(s.transactions[0].date.to_string(), "2025-02-03");
    assert_eq!(s.transactions[1].kind, "credit");
}

#[test]
fn credit_agricole_french_debit_and_credit_columns() {
    let s = parse("amounts_credit_agricole_fr.csv");
    assert_eq!(amounts(&s), decs(&["-87.40", "2980", "-23.95", "-60"]));
    assert_eq!(
        s.transactions[1].description,
        "VIR SEPA RECU SALAIRE FEVRIER ACME SAS"
    );
}

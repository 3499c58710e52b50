//! Property-based fuzzing (bounded: 256 cases per property unless `PROPTEST_CASES` says
//! otherwise) of the CSV reader, the whole parse pipeline and the amount and date parsers:
//! no input may panic, and what they return must be well-formed.

use proptest::prelude::*;
use rust_decimal::Decimal;
use scale_statements::amount::{parse_amount, parse_float_cell, AmountParse};
use scale_statements::date::{date_from_excel_serial, parse_date};
use scale_statements::pipeline::parse_file;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(256),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A CSV-like field: numbers, dates, words, quotes, separators, currency marks, newlines.
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        "-?[0-9]{1,7}(\\.[0-9]{1,3})?",
        "\\(?[0-9]{1,3}(,[0-9]{3}){0,2}\\.[0-9]{2}\\)?( ?(Cr|Dr))?",
        "(INR|Rs\\.?|₹|\\$|€) ?[0-9]{1,5}(\\.[0-9]{2})?",
        "[0-3]?[0-9][/.-][01]?[0-9][/.-](20)?[0-9]{2}",
        "20[0-9]{2}-[01][0-9]-[0-3][0-9]([ T][0-2][0-9]:[0-5][0-9](:[0-5][0-9])?)?",
        "[0-9]{1,2} (Jan|Feb|Sept|Dec) 20[0-9]{2}(, [0-9]{2}:[0-9]{2})?",
        "(UPI|POS|ATM|NEFT|WDL TFR|DEP TFR)[ /A-Za-z0-9*.@-]{0,40}",
        "\"[^\"]{0,20}\"",
        ".{0,12}",
    ]
}

fn table() -> impl Strategy<Value = String> {
    let header = prop::sample::select(vec![
        "Date,Amount,Description,Merchant",
        "Txn Date;Value Date;Description;Debit;Credit;Balance",
        "Time|Status|Product|Amount",
        "",
    ]);
    let row = prop::collection::vec(field(), 0..7).prop_map(|fields| fields.join(","));
    (header, prop::collection::vec(row, 0..40))
        .prop_map(|(header, rows)| format!("{header}\n{}", rows.join("\n")))
}

fn check_amount(parsed: AmountParse) {
    if let AmountParse::Value(amount) = parsed {
        assert_eq!(amount.value.scale(), 2);
        assert!(amount.value.abs() < Decimal::from(10_000_000_000i64));
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn amounts_never_panic_and_have_two_decimals(text in "\\PC{0,40}", structured in field()) {
        check_amount(parse_amount(&text));
        check_amount(parse_amount(&structured));
    }

    #[test]
    fn float_cells_never_panic(value in any::<f64>()) {
        check_amount(parse_float_cell(value));
        let _ = date_from_excel_serial(value);
    }

    #[test]
    fn dates_never_panic_and_iso_dates_round_trip(text in "\\PC{0,40}", y in 1950i32..2090, m in 1u32..=12, d in 1u32..=28) {
        let _ = parse_date(&text);
        let iso = format!("{y:04}-{m:02}-{d:02}");
        prop_assert_eq!(parse_date(&iso).map(|p| p.date.to_string()), Some(iso.clone()));
        let day_first = format!("{d:02}/{m:02}/{y:04}");
        prop_assert_eq!(parse_date(&day_first).map(|p| p.date.to_string()), Some(iso));
    }

    #[test]
    fn csv_pipeline_never_panics_and_accounts_for_every_row(text in table()) {
        if let Ok(statement) = parse_file(text.as_bytes(), "fuzz.csv", None) {
            let data_rows = text.split(['\n', '\r']).count();
            let s = statement.skipped;
            let accounted = statement.transactions.len() + s.invalid_date + s.zero_amount + s.invalid_row;
            prop_assert!(accounted <= data_rows, "{accounted} > {data_rows}");
            for t in &statement.transactions {
                prop_assert!(!t.amount.is_zero());
                prop_assert_eq!(t.kind == "debit", t.amount.is_sign_negative());
                prop_assert_eq!(t.fingerprint.len(), 64);
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048), name in prop::sample::select(vec!["a.csv", "a.json", "a.xlsx", "a.xls", "a.txt", "a.tsv"])) {
        let _ = parse_file(&bytes, name, None);
    }
}

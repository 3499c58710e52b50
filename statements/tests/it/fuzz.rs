//! Property-based fuzzing (bounded: 256 cases per property unless `PROPTEST_CASES` says
//! otherwise) of the CSV reader, the HTML table reader, the text decoders (UTF-16, UTF-8 with
//! Windows-1252 bytes), the whole parse pipeline and the amount and date parsers: no input may
//! panic, and what they return must be well-formed and no larger than its input allows.

use std::borrow::Cow;

use proptest::prelude::*;
use rust_decimal::Decimal;
use scale_statements::amount::{parse_amount, parse_float_cell, AmountParse};
use scale_statements::cell::Cell;
use scale_statements::date::{date_from_excel_serial, parse_date};
use scale_statements::pipeline::parse_file;
use scale_statements::source::{self, html, Rows};
use scale_statements::workbook::MAX_COLUMNS;

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

/// Markup fragments: table structure, attributes, comments, raw text, character references,
/// stray `<` and `&`, statement-like text.
fn html_fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "<table>",
            "</table>",
            "<TR>",
            "</tr>",
            "<td>",
            "</td>",
            "<th>",
            "</TH>",
            "<tbody>",
            "</thead>",
            "<br>",
            "<br/>",
            "<div>",
            "<!--",
            "-->",
            "<script>",
            "</script>",
            "<!DOCTYPE html>",
            "<?xml?>",
            "<",
            "&",
            "</",
            "\"",
            "'",
            ">",
        ])
        .prop_map(str::to_owned),
        "<t[dh] (colspan|rowspan|class)=(\"[0-9]{0,6}\"|'[a-z> ]{0,4}'|[0-9]{0,12})>",
        "&[a-zA-Z]{0,7};?",
        "&#[xX]?[0-9A-Fa-f]{0,10};?",
        "<[a-zA-Z/!?][^<]{0,10}>?",
        field(),
        "\\PC{0,8}",
    ]
}

fn html_document() -> impl Strategy<Value = String> {
    prop::collection::vec(html_fragment(), 0..150).prop_map(|parts| parts.concat())
}

/// A statement table as some banks send it: HTML named `.xls`.
fn html_statement() -> impl Strategy<Value = String> {
    let header = prop::sample::select(vec![
        "<tr><th>Date<th>Description<th>Debit<th>Credit<th>Balance",
        "<tr><td>Txn Date</td><td>Narration</td><td>Amount</td></tr>",
        "",
    ]);
    let row = prop::collection::vec(field(), 0..7).prop_map(|cells| {
        let cells: Vec<String> = cells.iter().map(|c| format!("<td>{c}</td>")).collect();
        format!("<tr>{}</tr>", cells.concat())
    });
    (header, prop::collection::vec(row, 0..30))
        .prop_map(|(header, rows)| format!("<html><table>{header}{}</table></html>", rows.concat()))
}

/// Text, encoded: UTF-16 LE/BE with or without a BOM, UTF-8 with or without one, or
/// Windows-1252 bytes among UTF-8.
fn encoded_text() -> impl Strategy<Value = Vec<u8>> {
    (table(), 0..6u8, any::<u8>()).prop_map(|(text, encoding, stray)| {
        let utf16 = |big_endian: bool| -> Vec<u8> {
            text.encode_utf16()
                .flat_map(|u| {
                    if big_endian {
                        u.to_be_bytes()
                    } else {
                        u.to_le_bytes()
                    }
                })
                .collect()
        };
        match encoding {
            0 => [b"\xFF\xFE".as_slice(), &utf16(false)].concat(),
            1 => [b"\xFE\xFF".as_slice(), &utf16(true)].concat(),
            2 => utf16(false),
            3 => utf16(true),
            4 => [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
            _ => {
                let mut bytes = text.into_bytes();
                bytes.insert(bytes.len() / 2, stray | 0x80);
                bytes
            }
        }
    })
}

/// Reads `bytes` as `name` and checks every row: at most [`MAX_COLUMNS`] cells for HTML, and
/// at most `text_limit` bytes of cell text in all.
fn check_rows(bytes: &[u8], name: &str, text_limit: usize) -> Result<(), TestCaseError> {
    let Ok((format, Rows::Table(table))) = source::read(bytes, name, None) else {
        return Ok(());
    };
    let Ok(rows) = table.rows() else {
        return Ok(());
    };
    let mut text = 0;
    for row in rows.take_while(Result::is_ok).flatten() {
        if format == source::Format::Html {
            prop_assert!(row.len() <= MAX_COLUMNS);
        }
        text += row
            .iter()
            .map(|cell| match cell {
                Cell::Text(t) => t.len(),
                _ => 0,
            })
            .sum::<usize>();
    }
    prop_assert!(text <= text_limit, "{text} > {text_limit}");
    Ok(())
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
                prop_assert_eq!(t.fingerprint.to_string().len(), 64);
            }
        }
    }

    #[test]
    fn html_tables_never_panic_and_stay_bounded(doc in html_document()) {
        // Cell text is decoded markup: never longer than the document, nor are rows more than
        // its tags; cells are capped per row.
        if let Ok(rows) = html::rows(Cow::Borrowed(&doc)) {
            let tags = doc.matches('<').count();
            let mut count = 0;
            let mut text = 0;
            for row in rows.take_while(Result::is_ok).flatten() {
                count += 1;
                prop_assert!(row.len() <= MAX_COLUMNS);
                text += row.iter().map(|c| match c { Cell::Text(t) => t.len(), _ => 0 }).sum::<usize>();
            }
            prop_assert!(count <= tags, "{count} rows from {tags} tags");
            prop_assert!(text <= doc.len());
        }
        let wrapped = format!("<table>{doc}");
        check_rows(wrapped.as_bytes(), "fuzz.xls", wrapped.len())?;
        let _ = parse_file(wrapped.as_bytes(), "fuzz.xls", None);
    }

    #[test]
    fn html_statements_never_panic_and_account_for_every_row(doc in html_statement()) {
        if let Ok(statement) = parse_file(doc.as_bytes(), "fuzz.xls", None) {
            prop_assert_eq!(statement.detected_format, "html");
            let s = statement.skipped;
            let accounted = statement.transactions.len() + s.invalid_date + s.zero_amount + s.invalid_row;
            prop_assert!(accounted <= doc.matches("<tr>").count());
            for t in &statement.transactions {
                prop_assert!(!t.amount.is_zero());
            }
        }
    }

    #[test]
    fn decoders_never_panic_and_stay_bounded(bytes in encoded_text(), noise in prop::collection::vec(any::<u8>(), 0..512), bom in prop::sample::select(vec![&b"\xFF\xFE"[..], b"\xFE\xFF", b"\xEF\xBB\xBF", b""])) {
        // Decoded text takes at most 3 UTF-8 bytes per input byte (Windows-1252), 1.5 per
        // UTF-16 byte.
        check_rows(&bytes, "fuzz.xls", bytes.len() * 3)?;
        let _ = parse_file(&bytes, "fuzz.csv", None);
        let noisy = [bom, noise.as_slice()].concat();
        check_rows(&noisy, "fuzz.txt", noisy.len() * 3)?;
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048), name in prop::sample::select(vec!["a.csv", "a.json", "a.xlsx", "a.xls", "a.txt", "a.tsv"])) {
        let _ = parse_file(&bytes, name, None);
    }
}

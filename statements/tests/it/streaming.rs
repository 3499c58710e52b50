//! The parse's second pass handed out in chunks: the same transactions as a whole parse, in
//! the same order, whatever the chunk size, and a sink that breaks off stops the parse.

use std::ops::ControlFlow;

use scale_statements::pipeline::{prepare, prepare_objects, Window};
use serde_json::{json, Map, Value};

use crate::support::{fixture, parse, spec_fixture};

/// Fixtures with skipped rows between kept ones (footers, zero amounts, ragged and invalid
/// rows, repeats), where pairing each row's money with its other facts could slip.
const MESSY: &[(&str, bool)] = &[
    ("generic_signed_amount.csv", true),
    ("sbi_statement_with_preamble.csv", true),
    ("gpay_activity.csv", true),
    ("amounts_ragged_coop_bank.csv", false),
    ("amounts_ragged_card_unquoted.csv", false),
    ("amounts_hdfc_card_cr_refunds.csv", false),
    ("source_kotak_html.xls", false),
    ("source_canara_csv_named.xlsx", false),
];

#[test]
fn chunks_of_any_size_hand_out_the_whole_parse_in_order() {
    for &(name, spec) in MESSY {
        let bytes = if spec {
            spec_fixture(name)
        } else {
            fixture(name)
        };
        let whole = if spec {
            crate::support::parse_spec(name)
        } else {
            parse(name)
        };
        assert!(!whole.transactions.is_empty(), "{name}");
        for size in [1, 2, 3, 1000] {
            let mut chunks = Vec::new();
            let summary = prepare(&bytes, name, None)
                .unwrap()
                .finish(size, |chunk| {
                    assert!(chunk.len() <= size);
                    chunks.push(chunk);
                    ControlFlow::Continue(())
                })
                .unwrap();
            let streamed: Vec<_> = chunks.into_iter().flatten().collect();
            let view = |txs: &[scale_statements::rows::ParsedTransaction]| {
                txs.iter()
                    .map(|t| (t.source_row, t.amount, t.fingerprint, t.raw.clone()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                view(&streamed),
                view(&whole.transactions),
                "{name} by {size}"
            );
            assert_eq!(summary.transactions, whole.transactions.len(), "{name}");
            assert_eq!(summary.skipped, whole.skipped, "{name}");
            assert_eq!(summary.warnings, whole.warnings, "{name}");
        }
    }
}

#[test]
fn a_sink_that_breaks_off_stops_the_parse() {
    let bytes = spec_fixture("generic_signed_amount.csv");
    let mut calls = 0;
    let summary = prepare(&bytes, "g.csv", None)
        .unwrap()
        .finish(1, |_| {
            calls += 1;
            ControlFlow::Break(())
        })
        .unwrap();
    assert_eq!((calls, summary.transactions), (1, 1));
}

#[test]
fn json_rows_stream_with_their_own_keys_and_statuses() {
    let rows: Vec<Option<Map<String, Value>>> = [
        json!({"date": "2025-01-02", "description": "Coffee", "amount": 50, "status": "Completed"}),
        json!({"date": "not a date", "description": "x", "amount": 1, "status": "Completed"}),
        json!({"date": "2025-01-03", "description": "Refund", "amount": 20, "status": "Refunded"}),
        json!({"date": "2025-01-03", "description": "Refund", "amount": 20, "status": "Refunded"}),
    ]
    .into_iter()
    .map(|v| v.as_object().cloned())
    .collect();
    let mut streamed = Vec::new();
    let summary = prepare_objects(rows, "h".repeat(64))
        .unwrap()
        .finish(1, |chunk| {
            streamed.extend(chunk);
            ControlFlow::Continue(())
        })
        .unwrap();
    let got: Vec<_> = streamed
        .iter()
        .map(|t| {
            (
                t.source_row,
                t.amount.to_string(),
                t.raw["description"].clone(),
            )
        })
        .collect();
    assert_eq!(summary.skipped.invalid_date, 1);
    assert_eq!(got[0].0, 1);
    assert_eq!(
        got[0].1, "-50.00",
        "a Google Pay style export: completed rows are debits"
    );
    assert_eq!((got[1].0, got[1].1.as_str()), (3, "20.00"));
    assert_eq!(got.len(), 3);
    assert_ne!(
        streamed[1].fingerprint, streamed[2].fingerprint,
        "repeats numbered"
    );
}

#[test]
fn a_row_with_text_only_where_the_first_pass_does_not_look_is_counted_not_dropped() {
    let csv = "Date,Narration,Amount\n01/02/2025,Tea,-10\n,Opening balance carried forward,\n, ,\n";
    let s = scale_statements::pipeline::parse_file(csv.as_bytes(), "s.csv", None).unwrap();
    assert_eq!(s.transactions.len(), 1);
    // The note row is a skipped row; the row of spaces is blank.
    assert_eq!(s.skipped.invalid_date, 1);
}

#[test]
fn a_window_keeps_only_its_transactions_across_chunks_and_counts_the_rest() {
    let mut csv = String::from("Date,Description,Amount\n");
    for i in 0..3_000 {
        csv.push_str(&format!(
            "{:02}/01/2025,Shop {i},-{}.00\n",
            i % 28 + 1,
            i + 1
        ));
    }
    let whole = scale_statements::pipeline::parse_file(csv.as_bytes(), "w.csv", None).unwrap();
    let window = |offset, limit| {
        prepare(csv.as_bytes(), "w.csv", None)
            .unwrap()
            .collect_window(Window { offset, limit })
            .unwrap()
    };
    let view = |txs: &[scale_statements::rows::ParsedTransaction]| {
        txs.iter()
            .map(|t| (t.source_row, t.fingerprint))
            .collect::<Vec<_>>()
    };
    let page = window(1_000, Some(100));
    assert_eq!(page.count, 3_000);
    assert_eq!(
        view(&page.statement.transactions),
        view(&whole.transactions[1_000..1_100])
    );
    assert_eq!(window(2_990, Some(100)).statement.transactions.len(), 10);
    assert!(window(5_000, None).statement.transactions.is_empty());
    assert_eq!(
        view(&window(0, None).statement.transactions),
        view(&whole.transactions)
    );
}

//! The parse pipeline on the spec's fixtures (TARGET counts of ingestion spec §6) and on
//! workbooks.

use scale_statements::error::StatementError;
use scale_statements::pipeline::parse_file;
use scale_statements::rows::Skipped;

use crate::support::{amounts, decs, parse_spec};
use crate::workbooks;

#[test]
fn generic_signed_amounts() {
    let s = parse_spec("generic_signed_amount.csv");
    assert_eq!(
        amounts(&s),
        decs(&["50", "-120", "15.99", "15.99", "-1250", "499", "-75.50", "1200"])
    );
    assert_eq!(
        s.skipped,
        Skipped {
            invalid_date: 1,
            zero_amount: 1,
            invalid_row: 0
        }
    );
    let first = &s.transactions[0];
    assert_eq!(first.merchant, "Starbucks");
    assert_eq!(first.description, "Coffee");
    assert_eq!(first.kind, "credit");
    assert_eq!(first.currency, "INR");
    assert_eq!(
        first.fingerprint,
        "d4d6daf7d6c73fbb4ff0c81c89381ea041cb4359f209470135ae78e97b1d6ce3"
    );
    assert_eq!(s.transactions[1].kind, "debit");
    assert_eq!(
        s.transactions
            .iter()
            .map(|t| t.amount.to_string())
            .nth(6)
            .unwrap(),
        "-75.50"
    );
    assert!(s.transactions.iter().all(|t| !t.merchant.is_empty()));
    assert_eq!(s.detected_format, "csv");
}

#[test]
fn sbi_statement_with_preamble() {
    let s = parse_spec("sbi_statement_with_preamble.csv");
    assert_eq!(
        amounts(&s),
        decs(&["2000", "-500", "-250", "100", "-199", "-1000"])
    );
    assert_eq!(s.skipped.zero_amount, 1);
    assert_eq!(s.skipped.invalid_date, 1);
    // The header is raw row 6, so the first transaction is row 7.
    assert_eq!(s.transactions[0].source_row, 7);
    assert_eq!(s.transactions[0].date.to_string(), "2023-04-28");
    let inb = &s.transactions[5];
    assert_eq!(inb.reference, "IK0ABCDE12");
    assert_eq!(inb.payment_method, "inb");
    let upi = &s.transactions[2];
    assert_eq!(upi.merchant, "SHAIK YA");
    assert_eq!(upi.payment_method, "upi");
    assert!(
        !upi.description.contains('\n'),
        "whitespace runs are collapsed"
    );
}

#[test]
fn google_pay_activity() {
    let s = parse_spec("gpay_activity.csv");
    assert_eq!(amounts(&s), decs(&["-299", "-129", "-149", "59"]));
    assert_eq!(s.skipped.zero_amount, 1);
    let first = &s.transactions[0];
    assert_eq!(first.date.to_string(), "2026-02-07");
    assert_eq!(first.reference, "GPY.1234-5678-9012-34567");
    assert_eq!(first.merchant, "YouTube");
    assert_eq!(first.payment_method, "card");
    assert_eq!(s.transactions[1].payment_method, "upi");
    assert_eq!(s.transactions[3].status, "refunded");
    assert_eq!(first.meta.time.unwrap().to_string(), "17:13:00");
}

#[test]
fn json_rows_with_mixed_keys() {
    let s = parse_spec("mixed_keys.json");
    assert_eq!(amounts(&s), decs(&["-250", "1200"]));
    assert_eq!(s.skipped.zero_amount, 1);
    assert_eq!(s.skipped.invalid_row, 1);
    assert_eq!(s.transactions[1].date.to_string(), "2026-01-11");
    assert_eq!(s.transactions[1].merchant, "ACME Corp");
    assert_eq!(s.transactions[1].description, "Salary advance");
    assert_eq!(s.detected_format, "json");
}

#[test]
fn identical_purchases_are_both_kept_when_anything_tells_them_apart() {
    let csv = b"Date,Description,Amount,Balance\n2026-01-05,Coffee,-3.50,96.50\n2026-01-05,Coffee,-3.50,93.00\n";
    let s = parse_file(csv, "coffee.csv", None).unwrap();
    assert_eq!(s.transactions.len(), 2);
    assert_ne!(s.transactions[0].fingerprint, s.transactions[1].fingerprint);
    // Re-parsing gives the same fingerprints, so a re-import is a no-op.
    let again = parse_file(csv, "coffee.csv", None).unwrap();
    assert_eq!(
        again.transactions[1].fingerprint,
        s.transactions[1].fingerprint
    );
}

#[test]
fn identical_rows_are_distinct_transactions_and_a_reimport_or_overlap_matches_each() {
    // Two metro rides of ₹60 on one day, no balance column: nothing tells them apart.
    let csv = "Date,Description,Amount\n2026-02-03,DMRC METRO CARD RECHARGE,-60\n\
               2026-02-03,DMRC METRO CARD RECHARGE,-60\n2026-02-04,CHAI POINT,-40\n";
    let s = parse_file(csv.as_bytes(), "metro.csv", None).unwrap();
    assert_eq!(amounts(&s), decs(&["-60", "-60", "-40"]));
    let prints: Vec<_> = s.transactions.iter().map(|t| t.fingerprint).collect();
    assert_ne!(prints[0], prints[1]);
    let again = parse_file(csv.as_bytes(), "metro.csv", None).unwrap();
    assert_eq!(again.transactions[1].fingerprint, prints[1]);
    // An overlapping statement holding one of the rides matches the first one stored.
    let overlap = "Date,Description,Amount\n2026-02-03,DMRC METRO CARD RECHARGE,-60\n";
    let one = parse_file(overlap.as_bytes(), "overlap.csv", None).unwrap();
    assert_eq!(one.transactions[0].fingerprint, prints[0]);
}

#[test]
fn formula_like_descriptions_are_kept_verbatim_and_long_ones_cut_with_a_warning() {
    let long = "NEFT CR-".repeat(200);
    let csv = format!(
        "Date,Description,Amount\n2026-02-03,=HYPERLINK(\"http://x\"),-10\n\
         2026-02-04,+91 98XXXXXX21 UPI,-20\n2026-02-05,@SUM(A1),-30\n2026-02-06,{long},500\n"
    );
    let s = parse_file(csv.as_bytes(), "odd.csv", None).unwrap();
    let descriptions: Vec<&str> = s
        .transactions
        .iter()
        .map(|t| t.description.as_str())
        .collect();
    assert_eq!(descriptions[0], "=HYPERLINK(\"http://x\")");
    assert_eq!(descriptions[1], "+91 98XXXXXX21 UPI");
    assert_eq!(descriptions[2], "@SUM(A1)");
    assert_eq!(descriptions[3].chars().count(), 1000);
    assert_eq!(s.truncated.description, 1);
    let warning = s
        .warnings
        .iter()
        .find(|w| w.code == "text_truncated")
        .unwrap();
    assert!(
        warning
            .message
            .contains("1 descriptions (to 1000 characters)"),
        "{warning:?}"
    );
    let plain = parse_file(
        b"Date,Description,Amount\n2026-02-03,Tea,-10\n",
        "t.csv",
        None,
    );
    assert!(plain.unwrap().warnings.is_empty());
}

#[test]
fn malformed_inputs_are_errors_not_panics() {
    let cases: &[(&[u8], &str)] = &[
        (b"\x7fELF\x02\x01\x01\x00\x00\x00", "junk.csv"),
        (b"PK\x03\x04\x14\x00\x00\x00", "truncated.xlsx"),
        (b"[[[[[[[[[[", "deep.json"),
        (b"hello world", "notes.txt"),
        (b"", "empty.csv"),
    ];
    for (bytes, name) in cases {
        assert!(parse_file(bytes, name, None).is_err(), "{name}");
    }
    let long_line = vec![b'a'; 1024 * 1024];
    assert!(matches!(
        parse_file(&long_line, "long.csv", None),
        Err(StatementError::NoHeaderRow)
    ));
}

#[test]
fn sbi_workbook_with_preamble_and_typed_cells() {
    let plain = workbooks::sbi_statement();
    let s = parse_file(&plain, "sbi.xlsx", None).unwrap();
    assert_eq!(
        amounts(&s),
        decs(&["2000", "-500", "-250", "100", "-199", "-1000"])
    );
    assert_eq!(s.skipped.zero_amount, 1);
    assert_eq!(s.detected_format, "xlsx");
    // `Txn Date` wins over `Value Date` (they differ on the POS row).
    assert_eq!(s.transactions[4].date.to_string(), "2023-06-10");
    assert_eq!(s.transactions[5].reference, "IK0ABCDE12");
    assert_eq!(s.transactions[0].source_row, workbooks::SBI_HEADER_ROW + 2);

    // The same workbook encrypted: the password opens it; none or a wrong one are distinct errors.
    let locked = workbooks::encrypt(&plain, "test123");
    let opened = parse_file(&locked, "sbi.xlsx", Some("test123")).unwrap();
    assert_eq!(amounts(&opened), amounts(&s));
    assert_ne!(
        opened.file_hash, s.file_hash,
        "the hash is of the uploaded bytes"
    );
    assert_eq!(
        parse_file(&locked, "sbi.xlsx", None).unwrap_err(),
        StatementError::PasswordRequired
    );
    assert_eq!(
        parse_file(&locked, "sbi.xlsx", Some("nope")).unwrap_err(),
        StatementError::InvalidPassword
    );
    // A password for a plain workbook is ignored.
    assert_eq!(
        amounts(&parse_file(&plain, "sbi.xlsx", Some("x")).unwrap()),
        amounts(&s)
    );
}

#[test]
fn hdfc_workbook_and_legacy_xls() {
    let s = parse_file(&workbooks::hdfc_statement(), "hdfc.xlsx", None).unwrap();
    assert_eq!(amounts(&s), decs(&["-349", "52000", "-1249.50", "-5000"]));
    assert_eq!(s.transactions[0].date.to_string(), "2023-04-01");
    assert_eq!(s.transactions[0].reference, "0000309112345678");
    assert_eq!(s.transactions[0].merchant, "Swiggy");
    let s = parse_file(&workbooks::legacy_xls(), "old.xls", None).unwrap();
    assert_eq!(amounts(&s), decs(&["2000", "-500", "-1000.50"]));
    assert_eq!(s.transactions[2].date.to_string(), "2023-06-12");
}

#[test]
fn every_warning_code_is_documented_in_the_api_reference() {
    let docs = include_str!("../../../docs/api.md");
    let mut files = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src"
    ))];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(std::fs::read_to_string(path).unwrap());
            }
        }
    }
    let mut codes = Vec::new();
    for source in &files {
        for (at, _) in source.match_indices("Warning::new(") {
            let rest = source[at..]
                .split_once('"')
                .map(|(_, r)| r)
                .unwrap_or_default();
            let code = rest.split('"').next().unwrap_or_default();
            if !code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                codes.push(code.to_owned());
            }
        }
    }
    assert!(codes.len() >= 6, "{codes:?}");
    for code in codes {
        assert!(
            docs.contains(&format!("`{code}`")),
            "`{code}` is not in docs/api.md"
        );
    }
}

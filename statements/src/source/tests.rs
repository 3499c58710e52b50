//! Unit tests of format sniffing, text decoding and row reading.

use super::*;

fn table(bytes: &[u8], name: &str) -> (Format, Vec<Vec<Cell>>) {
    match read(bytes, name, None).unwrap() {
        (format, Rows::Table(table)) => (
            format,
            table.rows().unwrap().collect::<Result<_, _>>().unwrap(),
        ),
        _ => panic!("expected a table"),
    }
}

fn text_of(cell: &Cell) -> &str {
    match cell {
        Cell::Text(t) => t,
        other => panic!("not text: {other:?}"),
    }
}

#[test]
fn sniffs_delimiters_and_keeps_quoted_newlines() {
    let (format, rows) = table(b"a;b;c\n1;\"x;\ny\";3\n", "s.txt");
    assert_eq!(format, Format::Delimited(b';'));
    assert_eq!(text_of(&rows[1][1]), "x;\ny");
    let (format, _) = table(b"a|b|c\n", "p.txt");
    assert_eq!(format, Format::Delimited(b'|'));
    let (format, _) = table(b"a\tb\n", "t.tsv");
    assert_eq!(format.name(), "tsv");
    let (format, _) = table(b"a,b;c\n", "tie.csv");
    assert_eq!(format, Format::Delimited(b','));
}

#[test]
fn decodes_bom_and_windows_1252() {
    let (_, rows) = table(b"\xEF\xBB\xBFDate,Amount\n", "bom.csv");
    assert_eq!(text_of(&rows[0][0]), "Date");
    let (_, rows) = table(b"Caf\xe9,\x80 5\n", "cp.csv");
    assert_eq!(text_of(&rows[0][0]), "Café");
    assert_eq!(text_of(&rows[0][1]), "€ 5");
}

#[test]
fn json_shapes() {
    match read(b" [{\"a\":1}, 3]", "x.json", None).unwrap() {
        (Format::Json, Rows::Objects(rows)) => {
            assert!(rows[0].is_some() && rows[1].is_none());
        }
        _ => panic!(),
    }
    assert!(read(b"{\"transactions\": [{}]}", "x.csv", None).is_ok());
    assert!(matches!(
        read(b"{\"rows\": []}", "x.json", None),
        Err(StatementError::Unreadable(_))
    ));
    let deep = "[".repeat(10_000);
    assert!(matches!(
        read(deep.as_bytes(), "x.json", None),
        Err(StatementError::Unreadable(_))
    ));
}

#[test]
fn refuses_bad_names_binaries_and_empty_files() {
    assert!(matches!(
        read(b"x", "a.pdf", None),
        Err(StatementError::UnsupportedFileType(_))
    ));
    assert!(matches!(
        read(b"x", "noext", None),
        Err(StatementError::UnsupportedFileType(_))
    ));
    assert!(matches!(
        read(b"", "a.csv", None),
        Err(StatementError::Unreadable(_))
    ));
    assert!(matches!(
        read(b"\x00\x01\x02", "a.csv", None),
        Err(StatementError::Unreadable(_))
    ));
    assert!(matches!(
        read(b"\x01\x02\x03\x04\x05\x06Date", "a.xlsx", None),
        Err(StatementError::Unreadable(_))
    ));
    assert!(matches!(
        read(b"PK\x03\x04junk", "a.csv", None),
        Err(StatementError::Unreadable(_))
    ));
}

fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut bytes = Vec::new();
    if bom {
        bytes.extend_from_slice(if big_endian { b"\xFE\xFF" } else { b"\xFF\xFE" });
    }
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        });
    }
    bytes
}

#[test]
fn decodes_utf16_with_and_without_a_bom() {
    let text = "Txn Date\tNarration\tAmount(\u{20B9})\n01/04/2024\tUPI/DR/412345678901/SWIGGY\t\u{20B9}1,250.00\n";
    for big_endian in [false, true] {
        for bom in [true, false] {
            let (format, rows) = table(&utf16(text, big_endian, bom), "unicode.txt");
            assert_eq!(
                format,
                Format::Delimited(b'\t'),
                "be={big_endian} bom={bom}"
            );
            assert_eq!(text_of(&rows[0][2]), "Amount(\u{20B9})");
            assert_eq!(text_of(&rows[1][2]), "\u{20B9}1,250.00");
        }
    }
    // A NUL character in UTF-16 text, or NULs in no UTF-16 pattern, is binary.
    assert!(matches!(
        read(&utf16("a\0b", false, true), "a.csv", None),
        Err(StatementError::Unreadable(_))
    ));
    assert!(matches!(
        read(&[0, 0, 0, 0, b'a', b'b'], "a.csv", None),
        Err(StatementError::Unreadable(_))
    ));
    assert_eq!(utf16_without_bom(b"a\0"), None);
}

#[test]
fn stray_windows_1252_bytes_keep_the_utf8_around_them() {
    // UTF-8 with `₹` and one Windows-1252 `é`: only the stray byte is read as Windows-1252.
    let mut bytes = "Date,Amount\n01/04/2024,₹499\n02/04/2024,₹60\nCAF"
        .as_bytes()
        .to_vec();
    bytes.extend_from_slice(b"\xE9\n");
    let (_, rows) = table(&bytes, "upi.csv");
    assert_eq!(text_of(&rows[1][1]), "\u{20B9}499");
    assert_eq!(text_of(&rows[3][0]), "CAF\u{E9}");
    // Mostly Windows-1252: the whole text is Windows-1252, as before.
    let (_, rows) = table(b"Caf\xe9 \xc3\xa9t\xe9,\x80 5\n", "cp.csv");
    assert_eq!(text_of(&rows[0][0]), "Caf\u{E9} \u{C3}\u{A9}t\u{E9}");
}

#[test]
fn text_named_as_a_spreadsheet_is_read_as_text() {
    let (format, rows) = table(
        b"Account Name :\tRAVI\nDate\tAmount\n01/04/2024\t50\n",
        "sbi.xls",
    );
    assert_eq!(format.name(), "tsv");
    assert_eq!(text_of(&rows[2][1]), "50");
    let (format, _) = table(b"Date,Amount\n", "a.xlsx");
    assert_eq!(format.name(), "csv");
    let (format, rows) = table(b"<table><tr><td>Date<td>Amount</table>", "kotak.xls");
    assert_eq!(format.name(), "html");
    assert_eq!(text_of(&rows[0][1]), "Amount");
    let (format, _) = table(b"\n <!DOCTYPE html><TABLE><tr><td>a</TABLE>", "x.csv");
    assert_eq!(format, Format::Html);
    assert!(matches!(
        read(
            b"<html><body>Session expired</body></html>",
            "pnb.xls",
            None
        ),
        Err(StatementError::Unreadable(_))
    ));
    assert!(looks_like_text("Date\tAmount\r\n\x0C"));
    assert!(!looks_like_text("\u{FFFD}\u{1}abcdefghijklmnopqrstuvwxyz"));
}

#[test]
fn delimiter_sniff_reads_past_the_preamble() {
    // A preamble line with commas, then tab-separated rows with grouped amounts.
    let text = "Address : 12, MG Road, Pune, 411001\nDate\tDescription\tDebit\tCredit\tBalance\n\
                01/04/2024\tNEFT\t\t1,00,000.00\t1,23,45,678.90\n\
                02/04/2024\tATM\t5,000.00\t\t1,23,40,678.90\n";
    assert_eq!(sniff_delimiter(text), b'\t');
    assert_eq!(sniff_delimiter("a;b\n1;2\n3,4,5\n"), b';');
    assert_eq!(sniff_delimiter("single\ncolumn\n"), b',');
    assert_eq!(sniff_delimiter("\"open,quote\na\tb\tc"), b',');
}

#[test]
fn a_partial_reading_reads_only_the_columns_asked_for_in_rows_of_the_header_width() {
    let text = "Date,Note,Amount\n01/02/2025, ,5\n01/02/2025,lunch,6\n01/02/2025,a,1,250\n";
    let table = Table::Delimited {
        text: text.into(),
        delimiter: b',',
    };
    let reading = Reading::Columns {
        columns: vec![true, false, true],
        width: 2..=3,
    };
    let rows: Vec<Vec<Cell>> = table
        .rows_reading(&reading)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let text = |s: &str| Cell::Text(s.into());
    assert_eq!(rows[1], [text("01/02/2025"), Cell::Empty, text("5")]);
    assert_eq!(rows[2], [text("01/02/2025"), Cell::Unread, text("6")]);
    // A row of another width is read whole, for lining it up with the header.
    assert_eq!(rows[3].len(), 4);
    assert_eq!(rows[3][1], text("a"));
    assert!(!Cell::Unread.is_blank());
}

//! Unit tests of format sniffing, text decoding and row reading.

use super::*;

fn table(bytes: &[u8], name: &str) -> (Format, Vec<Vec<Cell>>) {
    match read(bytes, name, None).unwrap() {
        (format, Rows::Table(rows)) => (format, rows.collect::<Result<_, _>>().unwrap()),
        _ => panic!("expected a table"),
    }
}

fn text(cell: &Cell) -> &str {
    match cell {
        Cell::Text(t) => t,
        other => panic!("not text: {other:?}"),
    }
}

#[test]
fn sniffs_delimiters_and_keeps_quoted_newlines() {
    let (format, rows) = table(b"a;b;c\n1;\"x;\ny\";3\n", "s.txt");
    assert_eq!(format, Format::Delimited(b';'));
    assert_eq!(text(&rows[1][1]), "x;\ny");
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
    assert_eq!(text(&rows[0][0]), "Date");
    let (_, rows) = table(b"Caf\xe9,\x80 5\n", "cp.csv");
    assert_eq!(text(&rows[0][0]), "Café");
    assert_eq!(text(&rows[0][1]), "€ 5");
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
        read(b"Date,Amount", "a.xlsx", None),
        Err(StatementError::Unreadable(_))
    ));
    assert!(matches!(
        read(b"PK\x03\x04junk", "a.csv", None),
        Err(StatementError::Unreadable(_))
    ));
}

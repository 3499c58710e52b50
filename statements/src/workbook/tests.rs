//! Unit tests of the workbook reader: magic bytes, limits and typed cells.

use super::*;

const TINY: Limits = Limits {
    rows: 3,
    columns: 2,
    text_bytes: 10,
    uncompressed_bytes: MAX_UNCOMPRESSED_BYTES,
};

#[test]
fn magic_bytes() {
    assert!(is_zip(b"PK\x03\x04rest"));
    assert!(!is_zip(b"PK\x05\x06"));
    assert!(is_ole2(&[
        0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0
    ]));
    assert!(!is_ole2(&[0xD0, 0xCF, 0x11]));
}

#[test]
fn grid_keeps_column_positions_from_the_first_used_column() {
    let mut grid = Grid::new(Limits::DEFAULT);
    grid.push(4, 2, Cell::Text("a".into())).unwrap();
    grid.push(5, 3, Cell::Number(1.0)).unwrap();
    grid.push(5, 9, Cell::Empty).unwrap();
    assert_eq!(
        grid.into_rows(),
        vec![
            vec![Cell::Text("a".into()), Cell::Empty],
            vec![Cell::Empty, Cell::Number(1.0)],
        ]
    );
}

#[test]
fn grid_enforces_rows_columns_text_and_repeats() {
    let mut grid = Grid::new(TINY);
    grid.push(10, 0, Cell::Number(1.0)).unwrap();
    grid.push(12, 0, Cell::Number(1.0)).unwrap();
    assert!(matches!(
        grid.push(13, 0, Cell::Bool(true)),
        Err(WorkbookError::TooLarge(_))
    ));
    assert!(matches!(
        grid.push(9, 0, Cell::Bool(true)),
        Err(WorkbookError::TooLarge(_))
    ));
    grid.push(11, 1, Cell::Number(1.0)).unwrap();
    assert!(matches!(
        grid.push(11, 2, Cell::Bool(true)),
        Err(WorkbookError::TooLarge(_))
    ));
    assert!(matches!(
        grid.push(11, 0, Cell::Text("more than ten bytes".into())),
        Err(WorkbookError::TooLarge(_))
    ));
    let mut grid = Grid::new(TINY);
    for _ in 0..TINY.cells() {
        grid.push(0, 0, Cell::Number(1.0)).unwrap();
    }
    assert!(matches!(
        grid.push(0, 0, Cell::Number(1.0)),
        Err(WorkbookError::TooLarge(_))
    ));
}

#[test]
fn xls_limits_are_checked_before_calamine_reads_the_sheet() {
    // The committed fixture: 4 rows × 4 columns, 3 shared strings of ~40 characters.
    let xls = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/statement.xls"
    ));
    let with = |rows, columns, text_bytes| {
        read_with_limits(
            xls,
            None,
            Limits {
                rows,
                columns,
                text_bytes,
                uncompressed_bytes: MAX_UNCOMPRESSED_BYTES,
            },
        )
    };
    assert_eq!(with(4, 4, 1 << 20).unwrap().len(), 4);
    assert!(matches!(
        with(3, 4, 1 << 20),
        Err(WorkbookError::TooLarge(_))
    ));
    assert!(matches!(
        with(4, 3, 1 << 20),
        Err(WorkbookError::TooLarge(_))
    ));
    assert!(matches!(with(4, 4, 100), Err(WorkbookError::TooLarge(_))));
}

#[test]
fn unique_count_scanner() {
    let scan = |xml: &str| max_unique_count(xml.as_bytes()).unwrap();
    assert_eq!(scan(r#"<sst count="3" uniqueCount="2">"#), 2);
    assert_eq!(scan("<sst uniqueCount = '000120'>"), 120);
    assert_eq!(scan("<sst uniqueuniqueCount=\"7\">"), 7);
    assert_eq!(scan("<sst uniqueCount=99999999999999999999999>"), u64::MAX);
    assert_eq!(scan("<sst count=\"5\">"), 0);
    assert_eq!(scan("<sst uniqueCount=\"x\">"), 0);
    assert_eq!(scan("<sst uniqueCount=\"123"), 123);
}

#[test]
fn iso_dates() {
    let at = |y, m, d, h, min, s| {
        Cell::DateTime(
            NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_opt(h, min, s)
                .unwrap(),
        )
    };
    assert_eq!(convert_iso("2023-04-28"), at(2023, 4, 28, 0, 0, 0));
    assert_eq!(
        convert_iso("2023-04-28T10:11:12"),
        at(2023, 4, 28, 10, 11, 12)
    );
    assert_eq!(
        convert_iso("2023-04-28T23:30:00+05:30"),
        at(2023, 4, 28, 23, 30, 0)
    );
    assert_eq!(convert_iso("2023-02-30"), Cell::Text("2023-02-30".into()));
    assert_eq!(convert_iso("10:11:12"), Cell::Text("10:11:12".into()));
}

#[test]
fn out_of_range_date_serials_stay_numbers() {
    use calamine::ExcelDateTimeType;
    let huge = ExcelDateTime::new(-1e300, ExcelDateTimeType::DateTime, false);
    assert_eq!(convert_datetime(&huge), Cell::Number(-1e300));
    let nan = ExcelDateTime::new(f64::NAN, ExcelDateTimeType::DateTime, false);
    assert!(matches!(convert_datetime(&nan), Cell::Number(n) if n.is_nan()));
    let duration = ExcelDateTime::new(1.5, ExcelDateTimeType::TimeDelta, false);
    assert_eq!(convert_datetime(&duration), Cell::Number(1.5));
}

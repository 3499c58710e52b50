//! Reading the first worksheet of `.xlsx` (plain and Agile-encrypted) and legacy `.xls`
//! statements (spec §1.1 routing, §1.2 TARGET password handling), and refusing hostile files.

use std::io::{Cursor, Read, Write};
use std::sync::OnceLock;

use chrono::NaiveDate;
use scale_statements::cell::Cell;
use scale_statements::workbook::{
    is_ole2, is_zip, read_first_sheet, WorkbookError, MAX_COLUMNS, MAX_ROWS,
};

use crate::workbooks::{
    encrypt, hdfc_statement, legacy_xls, number, sbi_statement, text, xlsx, SBI_HEADER_ROW,
};

const PASSWORD: &str = "test123";

fn sbi() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(sbi_statement)
}

fn day(year: i32, month: u32, day: u32) -> Cell {
    Cell::DateTime(
        NaiveDate::from_ymd_opt(year, month, day)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap(),
    )
}

fn t(value: &str) -> Cell {
    Cell::Text(value.to_owned())
}

fn assert_unreadable(result: Result<Vec<Vec<Cell>>, WorkbookError>) {
    assert!(
        matches!(result, Err(WorkbookError::Unreadable(_))),
        "expected Unreadable, got {result:?}"
    );
}

fn assert_too_large(result: Result<Vec<Vec<Cell>>, WorkbookError>) {
    assert!(
        matches!(result, Err(WorkbookError::TooLarge(_))),
        "expected TooLarge, got {result:?}"
    );
}

#[test]
fn plain_sbi_xlsx_keeps_preamble_and_typed_cells() {
    assert!(is_zip(sbi()));
    let rows = read_first_sheet(sbi(), None).unwrap();

    // 16 preamble rows, header, 7 transactions, a blank row and the footer; all 7 wide.
    assert_eq!(rows.len(), SBI_HEADER_ROW + 1 + 7 + 2);
    assert!(rows.iter().all(|row| row.len() == 7));
    assert_eq!(rows[0][0], t("State Bank of India"));
    assert!(rows[1].iter().all(|cell| *cell == Cell::Empty));
    assert_eq!(
        rows[2][..3],
        [t("Account Name"), t(":"), t("MR TEST CUSTOMER")]
    );
    assert_eq!(rows[10][2], Cell::Number(2.7));
    assert_eq!(
        rows[SBI_HEADER_ROW],
        [
            "Txn Date",
            "Value Date",
            "Description",
            "Ref No./Cheque No.",
            "Debit",
            "Credit",
            "Balance"
        ]
        .map(t)
    );
    assert_eq!(
        rows[SBI_HEADER_ROW + 1],
        [
            day(2023, 4, 28),
            day(2023, 4, 28),
            t("CASH DEPOSIT SELF\n AT 04413 PBB NELLORE"),
            Cell::Empty,
            Cell::Empty,
            Cell::Number(2000.0),
            Cell::Number(2000.0),
        ]
    );
    assert_eq!(
        rows[SBI_HEADER_ROW + 3][3..],
        [
            t("TRANSFER TO 4897691162095"),
            Cell::Number(250.0),
            Cell::Empty,
            Cell::Number(1250.0)
        ]
    );
    assert_eq!(
        rows[SBI_HEADER_ROW + 5][..2],
        [day(2023, 6, 10), day(2023, 6, 11)]
    );
    assert_eq!(rows[SBI_HEADER_ROW + 7][5], Cell::Number(0.0));
    assert_eq!(
        rows.last().unwrap()[0],
        t("**This is a computer generated statement and does not require a signature**")
    );
}

#[test]
fn password_given_for_a_plain_xlsx_is_ignored() {
    assert_eq!(
        read_first_sheet(sbi(), Some("anything")).unwrap(),
        read_first_sheet(sbi(), None).unwrap()
    );
}

#[test]
fn encrypted_xlsx_needs_the_right_password() {
    let encrypted = encrypt(sbi(), PASSWORD);
    assert!(is_ole2(&encrypted));

    // Each password attempt is a full key derivation (100 000 SHA-512 rounds, ~1.5 s in a
    // debug build), so the right and the wrong attempt run side by side.
    let (right, wrong) = std::thread::scope(|scope| {
        let right = scope.spawn(|| read_first_sheet(&encrypted, Some(PASSWORD)));
        let wrong = read_first_sheet(&encrypted, Some("test124"));
        (right.join().unwrap(), wrong)
    });
    assert_eq!(right.unwrap(), read_first_sheet(sbi(), None).unwrap());
    assert_eq!(wrong, Err(WorkbookError::InvalidPassword));
    assert!(!wrong.unwrap_err().to_string().contains("test124"));

    assert_eq!(
        read_first_sheet(&encrypted, None),
        Err(WorkbookError::PasswordRequired)
    );
    assert_eq!(
        read_first_sheet(&encrypted, Some("")),
        Err(WorkbookError::PasswordRequired)
    );
    // Damaged after encryption: an error, never a panic.
    assert!(read_first_sheet(&encrypted[..encrypted.len() / 2], Some(PASSWORD)).is_err());
}

#[test]
fn unsupported_ooxml_encryption_is_reported() {
    // Extensible encryption (version 4.3), which office-crypto cannot decrypt.
    let mut info = vec![4, 0, 3, 0];
    info.resize(64, 0);
    let file = compound_file(&[("/EncryptionInfo", &info), ("/EncryptedPackage", &[0; 64])]);
    assert!(matches!(
        read_first_sheet(&file, Some(PASSWORD)),
        Err(WorkbookError::UnsupportedEncryption(_))
    ));
    assert_eq!(
        read_first_sheet(&file, None),
        Err(WorkbookError::PasswordRequired)
    );
}

#[test]
fn hdfc_xlsx_keeps_text_dates_and_numeric_amounts() {
    let rows = read_first_sheet(&hdfc_statement(), None).unwrap();
    assert_eq!(rows.len(), 7);
    assert_eq!(
        rows[2],
        [
            "Date",
            "Narration",
            "Chq./Ref.No.",
            "Value Dt",
            "Withdrawal Amt.",
            "Deposit Amt.",
            "Closing Balance"
        ]
        .map(t)
    );
    assert_eq!(
        rows[3],
        [
            t("01/04/23"),
            t("UPI-SWIGGY-SWIGGY8@YBL-YESB0YBLUPI-309112345678-PAYMENT FROM PHONE"),
            t("0000309112345678"),
            t("01/04/23"),
            Cell::Number(349.0),
            Cell::Empty,
            Cell::Number(15_651.0),
        ]
    );
    assert_eq!(rows[4][5], Cell::Number(52_000.0));
    assert_eq!(rows[6][6], Cell::Number(61_401.5));
}

#[test]
fn legacy_xls_is_read_with_typed_cells() {
    let bytes = legacy_xls();
    assert!(is_ole2(&bytes));
    let rows = read_first_sheet(&bytes, None).unwrap();
    assert_eq!(
        rows,
        vec![
            ["Date", "Details", "Debit", "Credit"].map(t).to_vec(),
            vec![
                day(2023, 4, 28),
                t("CASH DEPOSIT SELF AT 04413 PBB NELLORE"),
                Cell::Empty,
                Cell::Number(2000.0),
            ],
            vec![
                day(2023, 6, 3),
                t("ATM WDL ATM CASH 1957 SP OFFICE DARGAMITTA, NELLORE"),
                Cell::Number(500.0),
                Cell::Empty,
            ],
            vec![
                day(2023, 6, 12),
                t("WDL TFR INB Amazon Seller Services Pv"),
                Cell::Number(1000.5),
                Cell::Empty,
            ],
        ]
    );
    assert_eq!(read_first_sheet(&bytes, Some(PASSWORD)).unwrap(), rows);
}

#[test]
fn rc4_encrypted_xls_is_unsupported() {
    let mut stream = workbook_stream(&legacy_xls());
    // A FilePass record (RC4, MS-XLS 2.4.117) right after the globals' BOF, as Excel writes it.
    let bof_len = usize::from(u16::from_le_bytes([stream[2], stream[3]]));
    let mut filepass = vec![0x2F, 0x00, 54, 0x00, 0x01, 0x00, 0x01, 0x00, 0x02, 0x00];
    filepass.resize(4 + 54, 0xAB);
    stream.splice(4 + bof_len..4 + bof_len, filepass);
    let file = compound_file(&[("/Workbook", &stream)]);
    assert!(matches!(
        read_first_sheet(&file, None),
        Err(WorkbookError::UnsupportedEncryption(_))
    ));
}

#[test]
fn junk_truncated_and_foreign_files_are_unreadable() {
    assert_unreadable(read_first_sheet(b"Date,Amount\n2023-04-28,50.00\n", None));
    assert_unreadable(read_first_sheet(&[], None));
    assert_unreadable(read_first_sheet(&[], Some(PASSWORD)));
    assert_unreadable(read_first_sheet(&sbi()[..100], None));
    assert_unreadable(read_first_sheet(&sbi()[..sbi().len() - 1], None));
    assert_unreadable(read_first_sheet(b"PK\x03\x04", None));
    assert_unreadable(read_first_sheet(&legacy_xls()[..600], None));
    assert_unreadable(read_first_sheet(
        &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1],
        None,
    ));

    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    writer
        .start_file("notes.txt", zip::write::SimpleFileOptions::default())
        .unwrap();
    writer.write_all(b"not a workbook").unwrap();
    let not_a_workbook = writer.finish().unwrap().into_inner();
    assert_unreadable(read_first_sheet(&not_a_workbook, None));

    let word = compound_file(&[("/WordDocument", &[0; 600])]);
    assert_unreadable(read_first_sheet(&word, None));
}

#[test]
fn corrupted_files_never_panic() {
    // Deterministic byte corruption of every fixture: whatever comes back, it must come back.
    let fixtures = [sbi().to_vec(), legacy_xls(), hdfc_statement()];
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for fixture in &fixtures {
        for _ in 0..40 {
            let mut bytes = fixture.clone();
            for _ in 0..1 + next() % 8 {
                let at = (next() % bytes.len() as u64) as usize;
                bytes[at] = next() as u8;
            }
            let _ = read_first_sheet(&bytes, None);
        }
    }
}

#[test]
fn sheet_over_max_rows_is_too_large() {
    // MAX_ROWS + 1 rows of one number. Written as XML into a stored (uncompressed) part:
    // rust_xlsxwriter takes several seconds for this in a debug build.
    let bytes = rewrite_part(
        &xlsx(&[vec![number(1.0)]]),
        "xl/worksheets/sheet1.xml",
        |xml| {
            let mut rows = String::with_capacity(40 * (MAX_ROWS + 1));
            for row in 1..=MAX_ROWS + 1 {
                rows.push_str(&format!(
                    r#"<row r="{row}"><c r="A{row}"><v>1</v></c></row>"#
                ));
            }
            let xml = xml.replace(
                r#"<dimension ref="A1"/>"#,
                &format!(r#"<dimension ref="A1:A{}"/>"#, MAX_ROWS + 1),
            );
            replace_sheet_data(&xml, &rows)
        },
    );
    assert_too_large(read_first_sheet(&bytes, None));
}

#[test]
fn sheet_over_max_columns_is_too_large() {
    let wide = vec![vec![text("x"); MAX_COLUMNS + 1]];
    assert_too_large(read_first_sheet(&xlsx(&wide), None));
    let ok = vec![vec![text("x"); MAX_COLUMNS]];
    assert_eq!(
        read_first_sheet(&xlsx(&ok), None).unwrap()[0].len(),
        MAX_COLUMNS
    );
}

#[test]
fn lying_dimension_does_not_bypass_the_row_limit() {
    // Declares A1:A1 but puts a second cell MAX_ROWS rows further down.
    let far = format!(
        r#"<row r="1"><c r="A1"><v>1</v></c></row><row r="{row}"><c r="A{row}"><v>2</v></c></row>"#,
        row = MAX_ROWS + 1
    );
    let bytes = rewrite_part(
        &xlsx(&[vec![number(1.0)]]),
        "xl/worksheets/sheet1.xml",
        |xml| {
            assert!(xml.contains(r#"<dimension ref="A1"/>"#));
            replace_sheet_data(xml, &far)
        },
    );
    assert_too_large(read_first_sheet(&bytes, None));
}

#[test]
fn absurd_shared_string_count_is_refused_before_allocation() {
    let bytes = rewrite_part(sbi(), "xl/sharedStrings.xml", |xml| {
        let at = xml.find("uniqueCount=\"").unwrap() + "uniqueCount=\"".len();
        let end = at + xml[at..].find('"').unwrap();
        format!("{}999999999999999{}", &xml[..at], &xml[end..])
    });
    assert_too_large(read_first_sheet(&bytes, None));
}

#[test]
fn xls_cell_far_away_is_too_large_before_calamine_allocates() {
    // Moving one cell to column 65535 would make calamine allocate a dense block of
    // 65536 columns × the rows (and abort the process when that fails); the pre-flight check
    // refuses it first. Moving it to row 65535 stays within the limits.
    for (offset, value) in [(2usize, 65_535u16), (0, 65_535)] {
        let mut stream = workbook_stream(&legacy_xls());
        let mut at = 0;
        let mut patched = false;
        while at + 4 <= stream.len() {
            let typ = u16::from_le_bytes([stream[at], stream[at + 1]]);
            let len = usize::from(u16::from_le_bytes([stream[at + 2], stream[at + 3]]));
            // The first Number/RK/LabelSst cell record.
            if matches!(typ, 0x0203 | 0x027E | 0x00FD) {
                stream[at + 4 + offset..at + 6 + offset].copy_from_slice(&value.to_le_bytes());
                patched = true;
                break;
            }
            at += 4 + len;
        }
        assert!(patched);
        let file = compound_file(&[("/Workbook", &stream)]);
        if offset == 2 {
            assert_too_large(read_first_sheet(&file, None));
        } else {
            // 65 536 rows are within MAX_ROWS: read, still 4 columns wide.
            let rows = read_first_sheet(&file, None).unwrap();
            assert!(rows.iter().all(|row| row.len() == 4));
        }
    }
}

#[test]
fn declared_expansion_over_the_limit_is_too_large() {
    // The sheet part claims to inflate to 2 GiB: refused before anything is inflated.
    let mut bytes = sbi().to_vec();
    let entry = central_directory_entry(&bytes, "xl/worksheets/sheet1.xml");
    bytes[entry + 24..entry + 28].copy_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
    assert_too_large(read_first_sheet(&bytes, None));
}

#[test]
fn part_inflating_past_its_declared_size_is_unreadable() {
    // The declared sizes bound inflation: a part that inflates further is rejected.
    let mut bytes = sbi().to_vec();
    let entry = central_directory_entry(&bytes, "xl/worksheets/sheet1.xml");
    let local = u32::from_le_bytes(bytes[entry + 42..entry + 46].try_into().unwrap()) as usize;
    bytes[entry + 24..entry + 28].copy_from_slice(&100u32.to_le_bytes());
    bytes[local + 22..local + 26].copy_from_slice(&100u32.to_le_bytes());
    assert_unreadable(read_first_sheet(&bytes, None));
}

#[test]
fn shared_string_copies_are_bounded() {
    // One 1 MB shared string referenced by 140 cells would materialise 140 MB of text.
    let base = xlsx(&[vec![text("seed")]]);
    let bytes = rewrite_part(&base, "xl/sharedStrings.xml", |_| {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="140" uniqueCount="1"><si><t>{}</t></si></sst>"#,
            "x".repeat(1 << 20)
        )
    });
    let bytes = rewrite_part(&bytes, "xl/worksheets/sheet1.xml", |xml| {
        let rows: String = (1..=140)
            .map(|row| format!(r#"<row r="{row}"><c r="A{row}" t="s"><v>0</v></c></row>"#))
            .collect();
        replace_sheet_data(&xml.replace(r#"<dimension ref="A1"/>"#, ""), &rows)
    });
    assert_too_large(read_first_sheet(&bytes, None));
}

// Helpers

/// The `Workbook` stream of an `.xls`.
fn workbook_stream(xls: &[u8]) -> Vec<u8> {
    let mut compound = cfb::CompoundFile::open(Cursor::new(xls)).unwrap();
    let mut stream = Vec::new();
    compound
        .open_stream("/Workbook")
        .unwrap()
        .read_to_end(&mut stream)
        .unwrap();
    stream
}

/// A compound file holding `streams`.
fn compound_file(streams: &[(&str, &[u8])]) -> Vec<u8> {
    let mut compound =
        cfb::CompoundFile::create_with_version(cfb::Version::V3, Cursor::new(Vec::new())).unwrap();
    for (name, data) in streams {
        let mut stream = compound.create_stream(name).unwrap();
        stream.write_all(data).unwrap();
    }
    compound.flush().unwrap();
    compound.into_inner().into_inner()
}

/// `package` with the XML part `name` replaced by `edit(part)`.
fn rewrite_part(package: &[u8], name: &str, edit: impl Fn(&str) -> String) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(Cursor::new(package)).unwrap();
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for index in 0..archive.len() {
        let mut part = archive.by_index(index).unwrap();
        let part_name = part.name().unwrap().into_owned();
        let mut content = Vec::new();
        part.read_to_end(&mut content).unwrap();
        if part_name == name {
            content = edit(std::str::from_utf8(&content).unwrap()).into_bytes();
        }
        writer
            .start_file(
                part_name,
                zip::write::SimpleFileOptions::default()
                    .compression_method(zip::CompressionMethod::Stored),
            )
            .unwrap();
        writer.write_all(&content).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// `xml` with the content of its `<sheetData>` element replaced by `rows`.
fn replace_sheet_data(xml: &str, rows: &str) -> String {
    let start = xml.find("<sheetData").unwrap();
    let end = xml.find("</sheetData>").unwrap() + "</sheetData>".len();
    format!(
        "{}<sheetData>{rows}</sheetData>{}",
        &xml[..start],
        &xml[end..]
    )
}

/// Offset of the central-directory record of `name` in a zip.
fn central_directory_entry(zip: &[u8], name: &str) -> usize {
    (0..zip.len() - 46)
        .find(|&at| {
            zip[at..].starts_with(b"PK\x01\x02") && {
                let len = usize::from(u16::from_le_bytes([zip[at + 28], zip[at + 29]]));
                zip.get(at + 46..at + 46 + len) == Some(name.as_bytes())
            }
        })
        .expect("central directory entry")
}

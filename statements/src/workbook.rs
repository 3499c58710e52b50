//! Reads the first worksheet of an uploaded Excel workbook into typed [`Cell`] rows.
//!
//! Routing is by magic bytes (spec §1.1): a zip (`PK\x03\x04`) is an OOXML workbook
//! (`.xlsx`/`.xlsm`); an OLE2 compound file (`D0 CF 11 E0 A1 B1 1A E1`) is either a
//! password-protected OOXML package (it holds an `EncryptionInfo` stream, MS-OFFCRYPTO) or a
//! legacy BIFF `.xls` workbook. Password handling follows spec §1.2 (TARGET column): a password
//! given for a plain file is ignored, an encrypted package without one is
//! [`WorkbookError::PasswordRequired`], a wrong one [`WorkbookError::InvalidPassword`], and
//! encryption that cannot be decrypted here (RC4/XOR-encrypted `.xls`, non-SHA-512 Agile,
//! Extensible) is [`WorkbookError::UnsupportedEncryption`].
//!
//! Uploads are hostile input. Nothing here panics on any byte sequence (the third-party parsers
//! run under [`std::panic::catch_unwind`] as a last line of defence), and the reader is not an
//! amplifier: before a parser materialises anything, the declared uncompressed size of the zip,
//! the shared-string count, the worksheet's declared dimensions and, for `.xls`, the cell
//! records of the first worksheet are checked against [`MAX_ROWS`] × [`MAX_COLUMNS`] and a text
//! budget, and the cells are then streamed with the same limits enforced. The password is never
//! part of any message.

use std::io::{Cursor, Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};

use calamine::{Data, DataRef, ExcelDateTime, Reader, SheetType, Xls, XlsError, Xlsx};
use chrono::{DateTime, NaiveDate, NaiveDateTime};

use crate::cell::Cell;

/// Most rows accepted in the first worksheet's used range; a taller sheet is
/// [`WorkbookError::TooLarge`].
pub const MAX_ROWS: usize = 200_000;

/// Most columns accepted in the first worksheet's used range; a wider sheet is
/// [`WorkbookError::TooLarge`].
pub const MAX_COLUMNS: usize = 64;

/// Most bytes of text materialised from the first worksheet (shared strings are copied into
/// every cell that references them, so this bounds the copy amplification).
const MAX_TEXT_BYTES: usize = 128 << 20;

/// Most bytes an OOXML package may declare once decompressed (all parts together). The zip
/// reader refuses to inflate a part beyond its declared size, so this bounds inflation.
const MAX_UNCOMPRESSED_BYTES: u64 = 256 << 20;

/// Why a workbook could not be read. Messages are short, human and never contain the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkbookError {
    /// The workbook is encrypted and no password was supplied (`password_required`).
    #[error("this workbook is password-protected; please supply its password")]
    PasswordRequired,
    /// The supplied password does not decrypt the workbook (`invalid_password`).
    #[error("the password is incorrect")]
    InvalidPassword,
    /// The workbook uses an encryption scheme this service cannot decrypt
    /// (`unsupported_encryption`).
    #[error("this workbook's encryption is not supported ({0}); save it without a password and upload it again")]
    UnsupportedEncryption(String),
    /// The bytes are not a readable Excel workbook (`unreadable_file`).
    #[error("the file could not be read as an Excel workbook: {0}")]
    Unreadable(String),
    /// The workbook or its first worksheet exceeds the size limits (413/400).
    #[error("the workbook is too large: {0}")]
    TooLarge(String),
}

/// True when `bytes` start with the OLE2/CFB signature `D0 CF 11 E0 A1 B1 1A E1` (legacy `.xls`
/// or an encrypted OOXML package).
pub fn is_ole2(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1])
}

/// True when `bytes` start with a zip local-file header `PK\x03\x04` (an OOXML package).
pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// Reads the first worksheet of an `.xlsx`/`.xlsm` (plain or password-protected) or legacy `.xls`
/// workbook.
///
/// Returns the rows of the sheet's used range, each exactly as wide as that range, so index `i`
/// of a row is the `i`-th column from the range's first column (gaps are [`Cell::Empty`]).
/// Numbers are [`Cell::Number`], date-formatted cells [`Cell::DateTime`], strings [`Cell::Text`]
/// exactly as written, booleans [`Cell::Bool`]; empty and error cells are [`Cell::Empty`].
/// `password` is only used for an encrypted package (an empty string counts as none).
pub fn read_first_sheet(
    bytes: &[u8],
    password: Option<&str>,
) -> Result<Vec<Vec<Cell>>, WorkbookError> {
    read_with_limits(bytes, password, Limits::DEFAULT)
}

/// The size limits one read enforces (a parameter so tests can exercise them cheaply).
#[derive(Debug, Clone, Copy)]
struct Limits {
    rows: usize,
    columns: usize,
    text_bytes: usize,
    uncompressed_bytes: u64,
}

impl Limits {
    const DEFAULT: Limits = Limits {
        rows: MAX_ROWS,
        columns: MAX_COLUMNS,
        text_bytes: MAX_TEXT_BYTES,
        uncompressed_bytes: MAX_UNCOMPRESSED_BYTES,
    };

    fn cells(&self) -> usize {
        self.rows.saturating_mul(self.columns)
    }
}

fn read_with_limits(
    bytes: &[u8],
    password: Option<&str>,
    limits: Limits,
) -> Result<Vec<Vec<Cell>>, WorkbookError> {
    let password = password.filter(|p| !p.is_empty());
    catch_unwind(AssertUnwindSafe(|| {
        if is_zip(bytes) {
            read_ooxml(bytes, limits)
        } else if is_ole2(bytes) {
            read_ole2(bytes, password, limits)
        } else if bytes.is_empty() {
            Err(unreadable("the file is empty"))
        } else {
            Err(unreadable("it is neither an .xlsx nor an .xls file"))
        }
    }))
    .unwrap_or_else(|_| Err(unreadable("the file is malformed")))
}

fn unreadable(cause: impl Into<String>) -> WorkbookError {
    WorkbookError::Unreadable(cause.into())
}

fn too_many_rows(limits: &Limits) -> WorkbookError {
    WorkbookError::TooLarge(format!(
        "the first worksheet has more than {} rows",
        limits.rows
    ))
}

fn too_many_columns(limits: &Limits) -> WorkbookError {
    WorkbookError::TooLarge(format!(
        "the first worksheet has more than {} columns",
        limits.columns
    ))
}

fn too_much_text(limits: &Limits) -> WorkbookError {
    WorkbookError::TooLarge(format!(
        "the first worksheet holds more than {} MiB of text",
        limits.text_bytes >> 20
    ))
}

// ---------------------------------------------------------------------------------------------
// OOXML (.xlsx / .xlsm)
// ---------------------------------------------------------------------------------------------

fn read_ooxml(bytes: &[u8], limits: Limits) -> Result<Vec<Vec<Cell>>, WorkbookError> {
    preflight_zip(bytes, &limits)?;
    let mut workbook = Xlsx::new(Cursor::new(bytes))
        .map_err(|e| unreadable(format!("not a valid .xlsx workbook ({e})")))?;
    let name = workbook
        .sheets_metadata()
        .iter()
        .find(|sheet| sheet.typ == SheetType::WorkSheet)
        .map(|sheet| sheet.name.clone())
        .ok_or_else(|| unreadable("the workbook has no worksheet"))?;
    let mut reader = workbook
        .worksheet_cells_reader(&name)
        .map_err(|e| unreadable(format!("the first worksheet is corrupt ({e})")))?;

    // The declared used range (`<dimension ref="A1:G30"/>`) is checked before any cell is read;
    // the streamed cells are then held to the same limits in case it lies or is missing.
    let declared = reader.dimensions();
    let declared_rows = span(declared.start.0, declared.end.0);
    let declared_columns = span(declared.start.1, declared.end.1);
    if declared_rows > limits.rows {
        return Err(too_many_rows(&limits));
    }
    if declared_columns > limits.columns {
        return Err(too_many_columns(&limits));
    }

    let mut grid = Grid::new(limits);
    while let Some(cell) = reader
        .next_cell()
        .map_err(|e| unreadable(format!("the first worksheet is corrupt ({e})")))?
    {
        let (row, column) = cell.get_position();
        grid.push(row, column, convert_ref(cell.get_value()))?;
    }
    Ok(grid.into_rows())
}

/// Rows (or columns) covered by an inclusive `start..=end` span; 0 when `end < start`.
fn span(start: u32, end: u32) -> usize {
    end.checked_sub(start).map_or(0, |d| d as usize + 1)
}

/// Checks the package before calamine opens it: the declared uncompressed size of all parts, and
/// the `uniqueCount` of the shared-string table (calamine reserves that many strings up front,
/// so an absurd count would abort the process on allocation failure).
fn preflight_zip(bytes: &[u8], limits: &Limits) -> Result<(), WorkbookError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| unreadable(format!("not a valid zip archive ({e})")))?;
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        let part = archive
            .by_index_raw(index)
            .map_err(|e| unreadable(format!("corrupt zip entry ({e})")))?;
        total = total.saturating_add(part.size());
    }
    if total > limits.uncompressed_bytes {
        return Err(WorkbookError::TooLarge(format!(
            "it expands to more than {} MiB",
            limits.uncompressed_bytes >> 20
        )));
    }
    // calamine looks the part up case-insensitively with `\` read as `/`; check every candidate.
    let shared_strings: Vec<String> = archive
        .file_names()
        .filter_map(Result::ok)
        .filter(|name| {
            name.replace('\\', "/")
                .to_ascii_lowercase()
                .ends_with("sharedstrings.xml")
        })
        .map(|name| name.into_owned())
        .collect();
    let max_strings = limits.cells() as u64;
    for name in shared_strings {
        let part = archive
            .by_name(&name)
            .map_err(|e| unreadable(format!("corrupt zip entry ({e})")))?;
        if max_unique_count(part).map_err(|e| unreadable(format!("corrupt zip entry ({e})")))?
            > max_strings
        {
            return Err(WorkbookError::TooLarge(format!(
                "it declares more than {max_strings} distinct strings"
            )));
        }
    }
    Ok(())
}

/// The largest numeric value of any `uniqueCount = "…"` attribute in `xml` (0 if none),
/// saturating at `u64::MAX`. Streams the part; arbitrary whitespace and either quote are allowed
/// around the value, matching the XML reader calamine uses.
fn max_unique_count(mut xml: impl Read) -> std::io::Result<u64> {
    const NAME: &[u8] = b"uniqueCount";
    #[derive(Clone, Copy)]
    enum State {
        Name(usize),
        BeforeEquals,
        AfterEquals,
        Value(u64),
    }
    let mut state = State::Name(0);
    let mut max = 0u64;
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = xml.read(&mut buffer)?;
        if read == 0 {
            return Ok(match state {
                State::Value(value) => max.max(value),
                _ => max,
            });
        }
        for &byte in &buffer[..read] {
            state = loop {
                break match state {
                    State::Name(matched) if byte == NAME[matched] => {
                        if matched + 1 == NAME.len() {
                            State::BeforeEquals
                        } else {
                            State::Name(matched + 1)
                        }
                    }
                    State::Name(0) => State::Name(0),
                    State::BeforeEquals if byte.is_ascii_whitespace() => State::BeforeEquals,
                    State::BeforeEquals if byte == b'=' => State::AfterEquals,
                    State::AfterEquals if byte.is_ascii_whitespace() => State::AfterEquals,
                    State::AfterEquals if byte == b'"' || byte == b'\'' => State::Value(0),
                    State::AfterEquals if byte.is_ascii_digit() => {
                        State::Value(u64::from(byte - b'0'))
                    }
                    State::Value(value) if byte.is_ascii_digit() => State::Value(
                        value
                            .saturating_mul(10)
                            .saturating_add(u64::from(byte - b'0')),
                    ),
                    State::Value(value) => {
                        max = max.max(value);
                        State::Name(0)
                    }
                    // A mismatch mid-pattern: start again, re-examining this byte.
                    _ => {
                        state = State::Name(0);
                        continue;
                    }
                };
            };
        }
    }
}

// ---------------------------------------------------------------------------------------------
// OLE2: encrypted OOXML or legacy BIFF .xls
// ---------------------------------------------------------------------------------------------

fn read_ole2(
    bytes: &[u8],
    password: Option<&str>,
    limits: Limits,
) -> Result<Vec<Vec<Cell>>, WorkbookError> {
    let mut compound = cfb::CompoundFile::open(Cursor::new(bytes))
        .map_err(|e| unreadable(format!("corrupt OLE2 compound file ({e})")))?;
    if compound.is_stream("/EncryptionInfo") {
        return read_encrypted(&mut compound, bytes.len(), password, limits);
    }
    let name = ["/Workbook", "/Book"]
        .into_iter()
        .find(|name| compound.is_stream(name))
        .ok_or_else(|| unreadable("the OLE2 file holds no Excel workbook"))?;
    let mut stream = read_stream(&mut compound, name, bytes.len())?;
    drop(compound);

    let sheet_index = biff::prepare(&mut stream, &limits)?;
    // calamine reads a fresh compound file holding exactly the checked (and neutralised) stream.
    let clean = build_compound_file(&[("/Workbook", &stream)])?;
    drop(stream);
    let mut workbook = Xls::new(Cursor::new(clean)).map_err(|e| match e {
        XlsError::Password => WorkbookError::UnsupportedEncryption(
            "the .xls file is encrypted with a legacy RC4/XOR password".into(),
        ),
        other => unreadable(format!("not a valid .xls workbook ({other})")),
    })?;
    let name = workbook
        .sheets_metadata()
        .get(sheet_index)
        .map(|sheet| sheet.name.clone())
        .ok_or_else(|| unreadable("the workbook has no worksheet"))?;
    let range = workbook
        .worksheet_range(&name)
        .map_err(|e| unreadable(format!("the first worksheet is corrupt ({e})")))?;
    drop(workbook);

    let (first_row, first_column) = range.start().unwrap_or((0, 0));
    let mut grid = Grid::new(limits);
    for (row, column, value) in range.used_cells() {
        grid.push(
            first_row.saturating_add(row as u32),
            first_column.saturating_add(column as u32),
            convert(value),
        )?;
    }
    Ok(grid.into_rows())
}

fn read_encrypted(
    compound: &mut cfb::CompoundFile<Cursor<&[u8]>>,
    max_len: usize,
    password: Option<&str>,
    limits: Limits,
) -> Result<Vec<Vec<Cell>>, WorkbookError> {
    let Some(password) = password else {
        return Err(WorkbookError::PasswordRequired);
    };
    let info = read_stream(compound, "/EncryptionInfo", max_len)?;
    if !compound.is_stream("/EncryptedPackage") {
        return Err(unreadable("the encrypted workbook has no EncryptedPackage"));
    }
    match info.get(..4) {
        // Agile (4.4) and Standard (x.2) are what office-crypto decrypts.
        Some([4, 0, 4, 0]) | Some([2..=4, 0, 2, 0]) => {}
        Some([3 | 4, 0, 3, 0]) => {
            return Err(WorkbookError::UnsupportedEncryption(
                "extensible encryption".into(),
            ))
        }
        Some(&[major, 0, minor, 0]) => {
            return Err(WorkbookError::UnsupportedEncryption(format!(
                "encryption version {major}.{minor}"
            )))
        }
        _ => return Err(unreadable("the encryption header is corrupt")),
    }
    let package = read_stream(compound, "/EncryptedPackage", max_len)?;
    // office-crypto parses a fresh compound file holding only these two checked streams, so a
    // crafted FAT in the upload cannot make it read more than the upload holds.
    let clean =
        build_compound_file(&[("/EncryptionInfo", &info), ("/EncryptedPackage", &package)])?;
    drop(package);
    let decrypted = office_crypto::decrypt_from_bytes(clean, password).map_err(|e| match e {
        office_crypto::DecryptError::Unimplemented(what) => {
            WorkbookError::UnsupportedEncryption(what)
        }
        _ => unreadable("the encrypted workbook is corrupt"),
    })?;
    // office-crypto does not verify the password: a wrong one "decrypts" to noise, while the
    // right one always yields a zip package.
    if !is_zip(&decrypted) {
        return Err(WorkbookError::InvalidPassword);
    }
    read_ooxml(&decrypted, limits)
}

/// Reads a whole stream, refusing one longer than the compound file itself.
fn read_stream(
    compound: &mut cfb::CompoundFile<Cursor<&[u8]>>,
    name: &str,
    max_len: usize,
) -> Result<Vec<u8>, WorkbookError> {
    let mut stream = compound
        .open_stream(name)
        .map_err(|e| unreadable(format!("corrupt OLE2 stream ({e})")))?;
    if stream.len() > max_len as u64 {
        return Err(unreadable("corrupt OLE2 stream (longer than the file)"));
    }
    let mut data = Vec::with_capacity(stream.len() as usize);
    stream
        .read_to_end(&mut data)
        .map_err(|e| unreadable(format!("corrupt OLE2 stream ({e})")))?;
    Ok(data)
}

fn build_compound_file(streams: &[(&str, &[u8])]) -> Result<Vec<u8>, WorkbookError> {
    let build = || -> std::io::Result<Vec<u8>> {
        let mut compound =
            cfb::CompoundFile::create_with_version(cfb::Version::V3, Cursor::new(Vec::new()))?;
        for (name, data) in streams {
            let mut stream = compound.create_stream(name)?;
            stream.write_all(data)?;
            stream.flush()?;
        }
        compound.flush()?;
        Ok(compound.into_inner().into_inner())
    };
    build().map_err(|e| unreadable(format!("could not re-pack the OLE2 file ({e})")))
}

/// Pre-flight checks of a BIFF `Workbook` stream, mirroring how calamine's `Xls` reader walks it
/// (calamine materialises every sheet densely when it opens the file, so nothing hostile may
/// reach it unchecked).
mod biff {
    use super::WorkbookError;
    use super::{too_many_columns, too_many_rows, too_much_text, unreadable, Limits};

    const BOF: u16 = 0x0809;
    const EOF: u16 = 0x000A;
    const CONTINUE: u16 = 0x003C;
    const FILEPASS: u16 = 0x002F;
    const BOUNDSHEET: u16 = 0x0085;
    const SST: u16 = 0x00FC;
    const DIMENSIONS: u16 = 0x0200;
    const NUMBER: u16 = 0x0203;
    const LABEL: u16 = 0x0204;
    const RSTRING: u16 = 0x00D6;
    const BOOLERR: u16 = 0x0205;
    const STRING: u16 = 0x0207;
    const RK: u16 = 0x027E;
    const LABELSST: u16 = 0x00FD;
    const MULRK: u16 = 0x00BD;
    const FORMULA: u16 = 0x0006;
    const LBL: u16 = 0x0018;
    /// A record type calamine ignores, written over records it must not act on.
    const IGNORED: u16 = 0x0000;
    /// Worst-case UTF-8 bytes per decoded character.
    const UTF8_PER_CHAR: usize = 3;

    /// Checks `stream` and neutralises what calamine must not act on; returns the index (in
    /// `BoundSheet` order, as calamine lists sheets) of the first worksheet.
    ///
    /// * any `FilePass` record ⇒ [`WorkbookError::UnsupportedEncryption`];
    /// * every other sheet is pointed at the end of the stream, so calamine materialises it as
    ///   an empty sheet;
    /// * the first worksheet's cell records must span at most `limits` rows × columns, and the
    ///   strings they copy out of the shared-string table must fit the text budget;
    /// * the first worksheet's `Dimensions` records (only used by calamine to pre-allocate,
    ///   trusting their numbers), the parsed-formula bytes of its `Formula` records and the
    ///   defined names (`Lbl`; both only used to render formula text, which is never read here
    ///   and can expand each token into a long sheet name) are blanked.
    ///
    /// The edits only blank bytes, but in a crafted stream they could change how other records
    /// frame, so the pass is repeated: it must find the same sheet and edit nothing more, i.e.
    /// what calamine will read is exactly what was checked.
    pub(super) fn prepare(stream: &mut [u8], limits: &Limits) -> Result<usize, WorkbookError> {
        let index = prepare_once(stream, limits)?;
        let checked = stream.to_vec();
        if prepare_once(stream, limits)? != index || *stream != *checked {
            return Err(unreadable("inconsistent .xls structure"));
        }
        Ok(index)
    }

    fn prepare_once(stream: &mut [u8], limits: &Limits) -> Result<usize, WorkbookError> {
        let mut sheets = Vec::new(); // (offset of the BoundSheet data, lbPlyPos, dt)
        let mut strings: Vec<usize> = Vec::new(); // character counts of the shared strings
        let mut names = Vec::new(); // offsets of the Lbl record headers
        for record in Records::new(stream, 0) {
            let record = record?;
            let data = record.data(stream);
            match record.typ {
                FILEPASS => {
                    return Err(WorkbookError::UnsupportedEncryption(
                        "the .xls file is encrypted with a legacy RC4/XOR password".into(),
                    ))
                }
                BOUNDSHEET => {
                    if data.len() < 6 {
                        return Err(unreadable("corrupt sheet list"));
                    }
                    sheets.push((record.start, read_u32(data, 0) as usize, data[5]));
                }
                SST => strings = shared_string_lengths(stream, &record)?,
                LBL => names.push(record.start - 4),
                EOF => break,
                _ => {}
            }
        }
        let index = sheets
            .iter()
            .position(|&(_, _, kind)| kind == 0)
            .ok_or_else(|| unreadable("the workbook has no worksheet"))?;
        let position = sheets[index].1;
        if position > stream.len() {
            return Err(unreadable("corrupt sheet list"));
        }
        let end = u32::try_from(stream.len())
            .map_err(|_| unreadable("the workbook stream is too long"))?
            .to_le_bytes();
        for (i, &(start, _, _)) in sheets.iter().enumerate() {
            if i != index {
                stream[start..start + 4].copy_from_slice(&end);
            }
        }
        for at in names {
            stream[at..at + 2].copy_from_slice(&IGNORED.to_le_bytes());
        }
        check_sheet(stream, position, &strings, limits)?;
        Ok(index)
    }

    /// Bounding box of the cells calamine will collect into one range.
    #[derive(Default)]
    struct Extent(Option<(u32, u32, u32, u32)>);

    impl Extent {
        fn add(&mut self, row: u32, column: u32) {
            self.0 = Some(match self.0 {
                None => (row, row, column, column),
                Some((r0, r1, c0, c1)) => {
                    (r0.min(row), r1.max(row), c0.min(column), c1.max(column))
                }
            });
        }

        fn check(&self, limits: &Limits) -> Result<(), WorkbookError> {
            if let Some((r0, r1, c0, c1)) = self.0 {
                if (r1 - r0) as usize >= limits.rows {
                    return Err(too_many_rows(limits));
                }
                if (c1 - c0) as usize >= limits.columns {
                    return Err(too_many_columns(limits));
                }
            }
            Ok(())
        }
    }

    fn check_sheet(
        stream: &mut [u8],
        position: usize,
        strings: &[usize],
        limits: &Limits,
    ) -> Result<(), WorkbookError> {
        let mut values = Extent::default();
        let mut formulas = Extent::default();
        let mut text = 0usize;
        let mut formula_position = (0u32, 0u32);
        let mut seen_bof = false;
        let mut depth = 0usize;
        let mut blank_types = Vec::new();
        let mut blank_formulas = Vec::new();
        for record in Records::new(stream, position) {
            let record = record?;
            let data = record.data(stream);
            if depth > 0 {
                match record.typ {
                    BOF => depth += 1,
                    EOF => depth -= 1,
                    _ => {}
                }
                continue;
            }
            let cell = |min_len: usize| {
                (data.len() >= min_len)
                    .then(|| (u32::from(read_u16(data, 0)), u32::from(read_u16(data, 2))))
            };
            match record.typ {
                BOF if seen_bof => depth += 1,
                BOF => seen_bof = true,
                EOF => break,
                DIMENSIONS => blank_types.push(record.start - 4),
                NUMBER | RK | BOOLERR | LABEL | RSTRING => {
                    let min_len = match record.typ {
                        NUMBER => 14,
                        RK => 10,
                        BOOLERR => 8,
                        _ => 6,
                    };
                    if let Some((row, column)) = cell(min_len) {
                        values.add(row, column);
                        if matches!(record.typ, LABEL | RSTRING) {
                            text = text.saturating_add(data.len() * UTF8_PER_CHAR);
                        }
                    }
                }
                LABELSST => {
                    if let Some((row, column)) = cell(10) {
                        if let Some(&chars) = strings.get(read_u32(data, 6) as usize) {
                            values.add(row, column);
                            text = text.saturating_add(chars * UTF8_PER_CHAR);
                        }
                    }
                }
                STRING => {
                    values.add(formula_position.0, formula_position.1);
                    text = text.saturating_add(data.len() * UTF8_PER_CHAR);
                }
                MULRK if data.len() >= 6 => {
                    let row = u32::from(read_u16(data, 0));
                    let first = read_u16(data, 2);
                    let last = read_u16(data, data.len() - 2);
                    if last >= first && data.len() == 6 + 6 * usize::from(last - first + 1) {
                        values.add(row, u32::from(first));
                        values.add(row, u32::from(last));
                    }
                }
                FORMULA => {
                    if let Some((row, column)) = cell(20) {
                        formula_position = (row, column);
                        values.add(row, column);
                        formulas.add(row, column);
                        if data.len() >= 22 {
                            blank_formulas.push(record.start + 20);
                        }
                    }
                }
                _ => {}
            }
            values.check(limits)?;
            formulas.check(limits)?;
            if text > limits.text_bytes {
                return Err(too_much_text(limits));
            }
        }
        for at in blank_types {
            stream[at..at + 2].copy_from_slice(&IGNORED.to_le_bytes());
        }
        for at in blank_formulas {
            // cce = 0: an empty parsed formula, rendered as a short "unrecognised" note.
            stream[at..at + 2].copy_from_slice(&0u16.to_le_bytes());
        }
        Ok(())
    }

    /// Character counts of the strings in a shared-string table (`SST` plus its `Continue`
    /// records), read the way calamine reads them.
    fn shared_string_lengths(stream: &[u8], record: &Record) -> Result<Vec<usize>, WorkbookError> {
        let corrupt = || unreadable("corrupt shared-string table");
        let mut chunks = std::iter::once((record.start, record.len))
            .chain(record.continues.iter().copied())
            .map(|(start, len)| &stream[start..start + len]);
        let mut data = chunks.next().unwrap_or(&[]);
        if data.len() < 8 {
            return Err(corrupt());
        }
        data = &data[8..];
        let mut lengths = Vec::new();
        loop {
            if data.is_empty() {
                match chunks.next() {
                    Some(next) => data = next,
                    None => break,
                }
            }
            if data.is_empty() {
                lengths.push(0);
                continue;
            }
            if data.len() < 3 {
                return Err(corrupt());
            }
            let chars = usize::from(read_u16(data, 0));
            let flags = data[2];
            data = &data[3..];
            let mut wide = flags & 0x1 != 0;
            let mut skip = 0usize;
            if flags & 0x8 != 0 {
                if data.len() < 2 {
                    return Err(corrupt());
                }
                skip += usize::from(read_u16(data, 0)) * 4;
                data = &data[2..];
            }
            if flags & 0x4 != 0 {
                if data.len() < 4 {
                    return Err(corrupt());
                }
                let ext = i32::from_le_bytes([data[0], data[1], data[2], data[3]]);
                skip = skip.saturating_add(usize::try_from(ext).map_err(|_| corrupt())?);
                data = &data[4..];
            }
            let mut remaining = chars;
            while remaining > 0 {
                let (taken, used) = if wide {
                    let n = remaining.min(data.len() / 2);
                    (n, 2 * n)
                } else {
                    let n = remaining.min(data.len());
                    (n, n)
                };
                data = &data[used..];
                remaining -= taken;
                if remaining > 0 {
                    data = chunks.next().ok_or_else(corrupt)?;
                    let (&flag, rest) = data.split_first().ok_or_else(corrupt)?;
                    wide = flag & 0x1 != 0;
                    data = rest;
                }
            }
            lengths.push(chars);
            while skip > 0 {
                if data.is_empty() {
                    data = chunks.next().ok_or_else(corrupt)?;
                }
                let n = skip.min(data.len());
                data = &data[n..];
                skip -= n;
            }
        }
        Ok(lengths)
    }

    fn read_u16(data: &[u8], at: usize) -> u16 {
        u16::from_le_bytes([data[at], data[at + 1]])
    }

    fn read_u32(data: &[u8], at: usize) -> u32 {
        u32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]])
    }

    /// One BIFF record: its type, where its data starts and how long it is, plus the
    /// `Continue` records calamine folds into it.
    struct Record {
        typ: u16,
        start: usize,
        len: usize,
        continues: Vec<(usize, usize)>,
    }

    impl Record {
        fn data<'s>(&self, stream: &'s [u8]) -> &'s [u8] {
            &stream[self.start..self.start + self.len]
        }
    }

    /// calamine's record iterator, yielding offsets instead of slices.
    struct Records<'s> {
        stream: &'s [u8],
        at: usize,
        failed: bool,
    }

    impl<'s> Records<'s> {
        fn new(stream: &'s [u8], at: usize) -> Self {
            Records {
                stream,
                at,
                failed: false,
            }
        }

        fn header(&self, at: usize) -> Option<(u16, usize)> {
            let rest = self.stream.get(at..)?;
            (rest.len() >= 4).then(|| (read_u16(rest, 0), usize::from(read_u16(rest, 2))))
        }
    }

    impl Iterator for Records<'_> {
        type Item = Result<Record, WorkbookError>;

        fn next(&mut self) -> Option<Self::Item> {
            let truncated = || Some(Err(unreadable("truncated .xls record")));
            if self.failed || self.at >= self.stream.len() {
                return None;
            }
            self.failed = true;
            let (typ, len) = match self.header(self.at) {
                Some(header) => header,
                None => return truncated(),
            };
            let start = self.at + 4;
            if self.stream.len() - self.at < len + 4 {
                return truncated();
            }
            self.at = start + len;
            let mut continues = Vec::new();
            while self.stream.len() - self.at > 4 {
                match self.header(self.at) {
                    Some((CONTINUE, len)) => {
                        if self.stream.len() - self.at < len + 4 {
                            return truncated();
                        }
                        continues.push((self.at + 4, len));
                        self.at += 4 + len;
                    }
                    _ => break,
                }
            }
            self.failed = false;
            Some(Ok(Record {
                typ,
                start,
                len,
                continues,
            }))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Cells
// ---------------------------------------------------------------------------------------------

/// Sparse cells of one sheet, held to the limits as they arrive, turned into dense rows at the end.
struct Grid {
    limits: Limits,
    cells: Vec<(u32, u32, Cell)>,
    /// (first row, last row, first column, last column) of the non-empty cells so far.
    extent: Option<(u32, u32, u32, u32)>,
    text_bytes: usize,
}

impl Grid {
    fn new(limits: Limits) -> Self {
        Grid {
            limits,
            cells: Vec::new(),
            extent: None,
            text_bytes: 0,
        }
    }

    fn push(&mut self, row: u32, column: u32, cell: Cell) -> Result<(), WorkbookError> {
        if cell == Cell::Empty {
            return Ok(());
        }
        let (r0, r1, c0, c1) = match self.extent {
            None => (row, row, column, column),
            Some((r0, r1, c0, c1)) => (r0.min(row), r1.max(row), c0.min(column), c1.max(column)),
        };
        if (r1 - r0) as usize >= self.limits.rows {
            return Err(too_many_rows(&self.limits));
        }
        if (c1 - c0) as usize >= self.limits.columns {
            return Err(too_many_columns(&self.limits));
        }
        if let Cell::Text(text) = &cell {
            self.text_bytes = self.text_bytes.saturating_add(text.len());
            if self.text_bytes > self.limits.text_bytes {
                return Err(too_much_text(&self.limits));
            }
        }
        // A cell written twice counts twice, so a sheet repeating one position cannot grow
        // this list past the area the limits allow.
        if self.cells.len() >= self.limits.cells() {
            return Err(WorkbookError::TooLarge(
                "the first worksheet has too many cells".into(),
            ));
        }
        self.extent = Some((r0, r1, c0, c1));
        self.cells.push((row, column, cell));
        Ok(())
    }

    fn into_rows(self) -> Vec<Vec<Cell>> {
        let Some((r0, r1, c0, c1)) = self.extent else {
            return Vec::new();
        };
        let width = (c1 - c0) as usize + 1;
        let mut rows = vec![vec![Cell::Empty; width]; (r1 - r0) as usize + 1];
        // Later writes of one position win, as in calamine's ranges.
        for (row, column, cell) in self.cells {
            rows[(row - r0) as usize][(column - c0) as usize] = cell;
        }
        rows
    }
}

fn convert_ref(value: &DataRef<'_>) -> Cell {
    match value {
        DataRef::Int(n) => Cell::Number(*n as f64),
        DataRef::Float(n) => Cell::Number(*n),
        DataRef::String(text) => Cell::Text(text.clone()),
        DataRef::SharedString(text) => Cell::Text((*text).to_owned()),
        DataRef::Bool(b) => Cell::Bool(*b),
        DataRef::DateTime(datetime) => convert_datetime(datetime),
        DataRef::DateTimeIso(text) => convert_iso(text),
        DataRef::DurationIso(text) => Cell::Text(text.clone()),
        DataRef::Error(_) | DataRef::Empty => Cell::Empty,
    }
}

fn convert(value: &Data) -> Cell {
    match value {
        Data::Int(n) => Cell::Number(*n as f64),
        Data::Float(n) => Cell::Number(*n),
        Data::String(text) => Cell::Text(text.clone()),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(datetime) => convert_datetime(datetime),
        Data::DateTimeIso(text) => convert_iso(text),
        Data::DurationIso(text) => Cell::Text(text.clone()),
        Data::Error(_) | Data::Empty => Cell::Empty,
    }
}

/// A date-formatted number: a date-time when it is a date Excel can show (serial 0 up to
/// 9999-12-31; outside that calamine's conversion would overflow), else the plain number.
fn convert_datetime(value: &ExcelDateTime) -> Cell {
    let serial = value.as_f64();
    if value.is_datetime() && (0.0..2_958_466.0).contains(&serial) {
        if let Some(datetime) = value.as_datetime() {
            return Cell::DateTime(datetime);
        }
    }
    Cell::Number(serial)
}

/// An ISO 8601 date cell (`t="d"`): a date-time when it parses (the clock time as written, no
/// time-zone conversion), else the text.
fn convert_iso(text: &str) -> Cell {
    let parsed = DateTime::parse_from_rfc3339(text)
        .map(|datetime| datetime.naive_local())
        .ok()
        .or_else(|| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok())
        .or_else(|| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").ok())
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .map(|date| date.and_time(chrono::NaiveTime::MIN))
        });
    parsed.map_or_else(|| Cell::Text(text.to_owned()), Cell::DateTime)
}

#[cfg(test)]
mod tests;

//! TEMPORARY STUB (replaced by the real reader).
use super::cell::Cell;
/// x
pub const MAX_ROWS: usize = 200_000;
/// x
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkbookError {
    /// x
    #[error("p")]
    PasswordRequired,
    /// x
    #[error("p")]
    InvalidPassword,
    /// x
    #[error("p")]
    UnsupportedEncryption(String),
    /// x
    #[error("p")]
    Unreadable(String),
    /// x
    #[error("p")]
    TooLarge(String),
}
/// x
pub fn is_zip(b: &[u8]) -> bool {
    b.starts_with(b"PK\x03\x04")
}
/// x
pub fn is_ole2(b: &[u8]) -> bool {
    b.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1])
}
/// x
pub fn read_first_sheet(_: &[u8], _: Option<&str>) -> Result<Vec<Vec<Cell>>, WorkbookError> {
    Err(WorkbookError::Unreadable("stub".into()))
}

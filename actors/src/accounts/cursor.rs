//! The opaque keyset cursor of the transaction list: base64url (no padding) of the last row's
//! `transaction_date` and `id`, as `YYYY-MM-DD|<uuid>`. Decoding checks every part, so an
//! altered cursor is refused instead of silently restarting the traversal.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::NaiveDate;
use uuid::Uuid;

use super::AccountsError;

/// Longest cursor accepted (a valid one is 63 characters).
const MAX_LEN: usize = 128;

/// The position after which the next page starts: `(transaction_date, id)` of the last row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// Date of the last row returned.
    pub date: NaiveDate,
    /// Id of the last row returned (breaks ties within a date).
    pub id: Uuid,
}

impl Cursor {
    /// The opaque text handed to clients.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}|{}", self.date.format("%Y-%m-%d"), self.id))
    }

    /// Parses a cursor from [`Cursor::encode`]; anything else is [`AccountsError::InvalidCursor`].
    pub fn decode(text: &str) -> Result<Self, AccountsError> {
        let bad = |why: &str| AccountsError::InvalidCursor(why.to_owned());
        if text.is_empty() || text.len() > MAX_LEN {
            return Err(bad("wrong length"));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| bad("not base64url"))?;
        let plain = String::from_utf8(bytes).map_err(|_| bad("not text"))?;
        let (date, id) = plain.split_once('|').ok_or_else(|| bad("malformed"))?;
        let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| bad("bad date"))?;
        let id = Uuid::parse_str(id).map_err(|_| bad("bad id"))?;
        let cursor = Cursor { date, id };
        // Only the canonical spelling is accepted, so every position has exactly one cursor.
        if cursor.encode() != text {
            return Err(bad("not canonical"));
        }
        Ok(cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Cursor {
        Cursor {
            date: NaiveDate::from_ymd_opt(2025, 1, 31).unwrap(),
            id: Uuid::parse_str("0192f1c4-7b3a-7c11-8e2d-1234567890ab").unwrap(),
        }
    }

    #[test]
    fn round_trips_and_is_url_safe() {
        let text = sample().encode();
        assert!(text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(Cursor::decode(&text).unwrap(), sample());
    }

    #[test]
    fn refuses_tampering() {
        let text = sample().encode();
        let mut flipped = text.clone().into_bytes();
        flipped[3] = if flipped[3] == b'A' { b'B' } else { b'A' };
        let cases = [
            String::new(),
            "!!!".to_owned(),
            "x".repeat(200),
            String::from_utf8(flipped).unwrap(),
            format!("{text}A"),
            URL_SAFE_NO_PAD.encode("2025-01-31"),
            URL_SAFE_NO_PAD.encode("2025-02-30|0192f1c4-7b3a-7c11-8e2d-1234567890ab"),
            URL_SAFE_NO_PAD.encode("2025-01-31|not-a-uuid"),
            URL_SAFE_NO_PAD.encode("2025-01-31|0192F1C4-7B3A-7C11-8E2D-1234567890AB"),
            URL_SAFE_NO_PAD.encode([0xff, 0xfe, b'|']),
        ];
        for case in cases {
            assert!(
                matches!(Cursor::decode(&case), Err(AccountsError::InvalidCursor(_))),
                "{case:?} was accepted"
            );
        }
    }
}

//! Keyset pagination shared by the list endpoints: the opaque [`Cursor`] (base64url without
//! padding of the last row's sort key and id, as `<key>|<uuid>`) and the page-size parameter.
//! Decoding checks every part and accepts only the canonical spelling, so an altered cursor is
//! refused instead of silently restarting the traversal.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use uuid::Uuid;

/// Longest cursor accepted (a valid one is at most 86 characters).
const MAX_LEN: usize = 128;

/// A column a list is ordered by, as it appears inside a cursor.
pub trait SortKey: Copy {
    /// The key's canonical text.
    fn write(&self) -> String;
    /// Parses [`SortKey::write`]'s text.
    fn read(text: &str) -> Option<Self>;
}

impl SortKey for NaiveDate {
    fn write(&self) -> String {
        self.format("%Y-%m-%d").to_string()
    }

    fn read(text: &str) -> Option<Self> {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
    }
}

/// Microsecond precision, as Postgres stores `timestamptz`.
impl SortKey for DateTime<Utc> {
    fn write(&self) -> String {
        self.to_rfc3339_opts(SecondsFormat::Micros, true)
    }

    fn read(text: &str) -> Option<Self> {
        DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|at| at.with_timezone(&Utc))
    }
}

/// Why a cursor was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CursorError(pub &'static str);

/// The position after which the next page starts: `(key, id)` of the last row returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor<K> {
    /// Sort key of the last row returned.
    pub key: K,
    /// Id of the last row returned (breaks ties within a key).
    pub id: Uuid,
}

impl<K: SortKey> Cursor<K> {
    /// The opaque text handed to clients.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}|{}", self.key.write(), self.id))
    }

    /// Parses a cursor from [`Cursor::encode`].
    pub fn decode(text: &str) -> Result<Self, CursorError> {
        if text.is_empty() || text.len() > MAX_LEN {
            return Err(CursorError("wrong length"));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| CursorError("not base64url"))?;
        let plain = String::from_utf8(bytes).map_err(|_| CursorError("not text"))?;
        let (key, id) = plain.split_once('|').ok_or(CursorError("malformed"))?;
        let key = K::read(key).ok_or(CursorError("bad key"))?;
        let id = Uuid::parse_str(id).map_err(|_| CursorError("bad id"))?;
        let cursor = Cursor { key, id };
        // Only the canonical spelling is accepted, so every position has exactly one cursor.
        if cursor.encode() != text {
            return Err(CursorError("not canonical"));
        }
        Ok(cursor)
    }
}

/// The page size from the `limit` parameter: `default` when absent or blank, else an integer
/// in `1..=max`; the error is the detail to show.
pub fn page_limit(text: Option<&str>, default: i64, max: i64) -> Result<i64, String> {
    match text.filter(|t| !t.trim().is_empty()) {
        None => Ok(default),
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| format!("`limit` must be an integer 1..={max}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0192f1c4-7b3a-7c11-8e2d-1234567890ab";

    fn by_date() -> Cursor<NaiveDate> {
        Cursor {
            key: NaiveDate::from_ymd_opt(2025, 1, 31).unwrap(),
            id: Uuid::parse_str(ID).unwrap(),
        }
    }

    fn by_time() -> Cursor<DateTime<Utc>> {
        Cursor {
            key: DateTime::parse_from_rfc3339("2026-11-25T17:55:02.123456Z")
                .unwrap()
                .with_timezone(&Utc),
            id: Uuid::parse_str(ID).unwrap(),
        }
    }

    fn url_safe(text: &str) -> bool {
        text.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }

    #[test]
    fn round_trips_and_is_url_safe() {
        let text = by_date().encode();
        assert!(url_safe(&text));
        assert_eq!(Cursor::decode(&text).unwrap(), by_date());
        let text = by_time().encode();
        assert!(url_safe(&text) && text.len() <= MAX_LEN);
        assert_eq!(Cursor::decode(&text).unwrap(), by_time());
    }

    #[test]
    fn refuses_tampering() {
        let text = by_date().encode();
        let mut flipped = text.clone().into_bytes();
        flipped[3] = if flipped[3] == b'A' { b'B' } else { b'A' };
        let cases = [
            String::new(),
            "!!!".to_owned(),
            "x".repeat(200),
            String::from_utf8(flipped).unwrap(),
            format!("{text}A"),
            URL_SAFE_NO_PAD.encode("2025-01-31"),
            URL_SAFE_NO_PAD.encode(format!("2025-02-30|{ID}")),
            URL_SAFE_NO_PAD.encode("2025-01-31|not-a-uuid"),
            URL_SAFE_NO_PAD.encode(format!("2025-01-31|{}", ID.to_uppercase())),
            URL_SAFE_NO_PAD.encode([0xff, 0xfe, b'|']),
        ];
        for case in cases {
            assert!(
                Cursor::<NaiveDate>::decode(&case).is_err(),
                "{case:?} was accepted"
            );
        }
        // A timestamp cursor only in its canonical spelling (UTC, microseconds).
        for key in ["2026-11-25T17:55:02.123456+00:00", "2026-11-25T17:55:02Z"] {
            let case = URL_SAFE_NO_PAD.encode(format!("{key}|{ID}"));
            assert!(Cursor::<DateTime<Utc>>::decode(&case).is_err(), "{key}");
        }
    }

    #[test]
    fn limits() {
        assert_eq!(page_limit(None, 50, 200), Ok(50));
        assert_eq!(page_limit(Some(" "), 50, 200), Ok(50));
        assert_eq!(page_limit(Some("200"), 50, 200), Ok(200));
        for bad in ["0", "201", "-1", "x", "1.5"] {
            assert!(page_limit(Some(bad), 50, 200).is_err(), "{bad}");
        }
    }
}

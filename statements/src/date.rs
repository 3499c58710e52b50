//! Statement date parsing (ingestion spec §1.5, TARGET).
//!
//! Every value is parsed on its own (no column-wide format lock). Numeric dates are always read
//! day-first (`04/05/2026` is 4 May 2026, never 5 April) and impossible dates are rejected
//! instead of rolled over. A written time zone is accepted but never applied: the result is the
//! statement-local calendar date and time exactly as written.

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime};

/// Earliest calendar year accepted from any source.
const MIN_YEAR: i32 = 1900;
/// Latest calendar year accepted from any source.
const MAX_YEAR: i32 = 2100;

/// A statement date: the calendar date as written plus the time of day when one was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedDate {
    /// Calendar date as written (no time-zone conversion).
    pub date: NaiveDate,
    /// Time of day as written, if the text had one.
    pub time: Option<NaiveTime>,
}

/// Parses one date cell, day-first, returning `None` for anything that is not a valid date.
///
/// Accepted (surrounding whitespace and quotes are ignored, month names are case-insensitive):
/// - `YYYY-MM-DD` and `YYYY/MM/DD`, optionally followed by `T` or a space and
///   `HH:MM[:SS[.f]]`, optionally followed by `Z`/`UTC`/`GMT` and/or `±hh[:mm]` (ignored);
/// - `DD/MM/YYYY`, `DD-MM-YYYY`, `DD.MM.YYYY` and the same with a 2-digit year (`yy` → `20yy`);
/// - `YYYYMMDD` (eight digits, as Dutch banks export);
/// - `D Mon YYYY`, `D Month YYYY`, `DD-Mon-YYYY`, `DD-Mon-YY` (`Sept` is accepted for September).
///
/// Day-first and month-name dates may be followed by `[,] HH:MM[:SS]` with an optional
/// `AM`/`PM`, e.g. Google Pay's `7 Feb 2026, 17:13`. Years outside 1900..=2100 are rejected.
pub fn parse_date(text: &str) -> Option<ParsedDate> {
    let text = text.trim().trim_matches(|c| c == '"' || c == '\'').trim();
    let mut s = Scanner::new(text);
    let first = s.digits();
    let (date, year_first) = match first.len() {
        4 => (year_first_date(&mut s, first)?, true),
        // `YYYYMMDD` (ING and other Dutch exports).
        8 => (
            make_date(
                field(&first[..4], 4, 4)?,
                field(&first[4..6], 2, 2)?,
                field(&first[6..], 2, 2)?,
            )?,
            true,
        ),
        1 | 2 => (day_first_date(&mut s, first)?, false),
        _ => return None,
    };
    let time = time_tail(&mut s, year_first)?;
    s.at_end().then_some(ParsedDate { date, time })
}

/// Converts an Excel (1900 date system) serial number to a date-time; `None` when out of range.
///
/// Serial 1 is 1900-01-01 and serial 60 is Excel's fictitious 29 Feb 1900 (rejected), so from
/// serial 61 (1900-03-01) on the day count is offset by one, matching what Excel displays.
/// The fractional part is the time of day, rounded to the nearest millisecond. Serials below 1
/// (time-only cells), non-finite values and dates outside the years 1900..=2100 give `None`.
pub fn date_from_excel_serial(serial: f64) -> Option<NaiveDateTime> {
    const MS_PER_DAY: i64 = 86_400_000;
    // 80 000 days is past 2100-12-31 (serial 73 415); the year check below is the real bound.
    if !serial.is_finite() || !(1.0..80_000.0).contains(&serial) {
        return None;
    }
    // In range after the check above, so the cast is exact.
    let total_ms = (serial * MS_PER_DAY as f64).round() as i64;
    let days = u64::try_from(total_ms / MS_PER_DAY).ok()?;
    let ms_of_day = u32::try_from(total_ms % MS_PER_DAY).ok()?;
    let date = match days {
        60 => return None,
        0..=59 => NaiveDate::from_ymd_opt(1899, 12, 31)?.checked_add_days(Days::new(days))?,
        _ => NaiveDate::from_ymd_opt(1899, 12, 30)?.checked_add_days(Days::new(days))?,
    };
    if !(MIN_YEAR..=MAX_YEAR).contains(&date.year()) {
        return None;
    }
    let time = NaiveTime::from_num_seconds_from_midnight_opt(
        ms_of_day / 1000,
        ms_of_day % 1000 * 1_000_000,
    )?;
    Some(date.and_time(time))
}

/// `YYYY-MM-DD` or `YYYY/MM/DD`, after the year digits have been read.
fn year_first_date(s: &mut Scanner<'_>, year: &str) -> Option<NaiveDate> {
    let sep = match s.peek()? {
        b @ (b'-' | b'/') => Sep::Char(b),
        _ => return None,
    };
    s.eat_sep(sep);
    let month = field(s.digits(), 1, 2)?;
    if !s.eat_sep(sep) {
        return None;
    }
    let day = field(s.digits(), 1, 2)?;
    make_date(field(year, 4, 4)?, month, day)
}

/// `DD/MM/YYYY`-style numeric dates and `D Mon YYYY`-style month-name dates, after the day
/// digits have been read.
fn day_first_date(s: &mut Scanner<'_>, day: &str) -> Option<NaiveDate> {
    let day = field(day, 1, 2)?;
    let sep = if s.eat_ws() {
        Sep::Space
    } else {
        match s.peek()? {
            b @ (b'/' | b'-' | b'.') => {
                s.eat_sep(Sep::Char(b));
                Sep::Char(b)
            }
            _ => return None,
        }
    };
    let month = if s.peek().is_some_and(|b| b.is_ascii_alphabetic()) {
        if !matches!(sep, Sep::Space | Sep::Char(b'-')) {
            return None;
        }
        month_from_name(s.word())?
    } else {
        if sep == Sep::Space {
            return None;
        }
        field(s.digits(), 1, 2)?
    };
    if !s.eat_sep(sep) {
        return None;
    }
    let year_text = s.digits();
    let year = match year_text.len() {
        2 => 2000 + field(year_text, 2, 2)?,
        4 => field(year_text, 4, 4)?,
        _ => return None,
    };
    make_date(year, month, day)
}

/// The optional time after a date: nothing, or `[,]` + whitespace + time, or (year-first dates
/// only) `T` + time. `None` means the text after the date is malformed.
fn time_tail(s: &mut Scanner<'_>, allow_t: bool) -> Option<Option<NaiveTime>> {
    if s.at_end() {
        return Some(None);
    }
    let comma = s.eat(b',');
    let space = s.eat_ws();
    let t = !comma && !space && allow_t && (s.eat(b'T') || s.eat(b't'));
    if !(space || t) {
        return None;
    }
    time(s).map(Some)
}

/// `H:MM[:SS[.f]]`, then optional `AM`/`PM`, then an optional (ignored) zone.
fn time(s: &mut Scanner<'_>) -> Option<NaiveTime> {
    let mut hour = field(s.digits(), 1, 2)?;
    if !s.eat(b':') {
        return None;
    }
    let minute = field(s.digits(), 2, 2)?;
    let (second, nano) = if s.eat(b':') {
        let second = field(s.digits(), 2, 2)?;
        let nano = if s.eat(b'.') {
            fraction_nanos(s.digits())?
        } else {
            0
        };
        (second, nano)
    } else {
        (0, 0)
    };
    s.eat_ws();
    let mut word = s.word().to_ascii_lowercase();
    if word == "am" || word == "pm" {
        if !(1..=12).contains(&hour) {
            return None;
        }
        hour = hour % 12 + if word == "pm" { 12 } else { 0 };
        s.eat_ws();
        word = s.word().to_ascii_lowercase();
    }
    if !matches!(word.as_str(), "" | "z" | "utc" | "gmt") {
        return None;
    }
    s.eat_ws();
    if s.eat(b'+') || s.eat(b'-') {
        zone_offset(s)?;
    }
    NaiveTime::from_hms_nano_opt(hour, minute, second, nano)
}

/// The `hh[:mm]` / `hhmm` part of a `±` zone offset; only validated, never applied.
fn zone_offset(s: &mut Scanner<'_>) -> Option<()> {
    let hours = s.digits();
    let (h, m) = match hours.len() {
        2 if s.eat(b':') => (field(hours, 2, 2)?, field(s.digits(), 2, 2)?),
        2 => (field(hours, 2, 2)?, 0),
        4 => (field(&hours[..2], 2, 2)?, field(&hours[2..], 2, 2)?),
        _ => return None,
    };
    (h <= 23 && m <= 59).then_some(())
}

/// Fractional seconds (any number of digits; only the first nine count) as nanoseconds.
fn fraction_nanos(digits: &str) -> Option<u32> {
    if digits.is_empty() {
        return None;
    }
    let mut nanos = 0;
    for i in 0..9 {
        let digit = digits.as_bytes().get(i).map_or(0, |b| u32::from(b - b'0'));
        nanos = nanos * 10 + digit;
    }
    Some(nanos)
}

/// A calendar date within the accepted year range; `None` for impossible dates.
fn make_date(year: u32, month: u32, day: u32) -> Option<NaiveDate> {
    let year = i32::try_from(year).ok()?;
    if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
        return None;
    }
    NaiveDate::from_ymd_opt(year, month, day)
}

/// The month number for an English month name or its 3-letter abbreviation (or `Sept`).
fn month_from_name(word: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let word = word.to_ascii_lowercase();
    if word == "sept" {
        return Some(9);
    }
    let index = MONTHS
        .iter()
        .position(|name| word == *name || word == name[..3])?;
    u32::try_from(index + 1).ok()
}

/// Parses an all-digit `text` whose length is within `min..=max` (at most 4 digits).
fn field(text: &str, min: usize, max: usize) -> Option<u32> {
    if text.len() < min || text.len() > max.min(4) {
        return None;
    }
    text.parse().ok()
}

/// A date-field separator: one specific ASCII character, or a run of whitespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sep {
    Char(u8),
    Space,
}

/// A forward-only cursor over the (ASCII-structured) date text.
struct Scanner<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        Scanner { text, pos: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    /// Consumes `byte` if it is next.
    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        if found {
            self.pos += 1;
        }
        found
    }

    /// Consumes a run of whitespace (ASCII or no-break space); true if any was consumed.
    fn eat_ws(&mut self) -> bool {
        let start = self.pos;
        loop {
            let rest = &self.text.as_bytes()[self.pos..];
            if rest.first().is_some_and(u8::is_ascii_whitespace) {
                self.pos += 1;
            } else if rest.starts_with("\u{a0}".as_bytes()) {
                self.pos += 2;
            } else {
                return self.pos > start;
            }
        }
    }

    fn eat_sep(&mut self, sep: Sep) -> bool {
        match sep {
            Sep::Char(byte) => self.eat(byte),
            Sep::Space => self.eat_ws(),
        }
    }

    /// Consumes the longest run of bytes matching `keep` (ASCII classes only, so the slice
    /// always falls on character boundaries).
    fn take_while(&mut self, keep: fn(&u8) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(|b| keep(&b)) {
            self.pos += 1;
        }
        &self.text[start..self.pos]
    }

    fn digits(&mut self) -> &'a str {
        self.take_while(u8::is_ascii_digit)
    }

    fn word(&mut self) -> &'a str {
        self.take_while(u8::is_ascii_alphabetic)
    }
}

#[cfg(test)]
mod tests;

//! Unit tests of statement date parsing.

use super::*;

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
}

fn hms(h: u32, m: u32, s: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, s).expect("valid test time")
}

fn date_only(text: &str) -> Option<NaiveDate> {
    parse_date(text).map(|parsed| parsed.date)
}

#[track_caller]
fn assert_date(text: &str, expected: NaiveDate, time: Option<NaiveTime>) {
    assert_eq!(
        parse_date(text),
        Some(ParsedDate {
            date: expected,
            time
        }),
        "{text:?}"
    );
}

#[test]
fn iso_dates_and_date_times() {
    assert_date("2026-01-01", ymd(2026, 1, 1), None);
    assert_date("2023-04-28", ymd(2023, 4, 28), None);
    assert_date("2026-01-15 10:30", ymd(2026, 1, 15), Some(hms(10, 30, 0)));
    assert_date(
        "2026-01-15T10:30:45",
        ymd(2026, 1, 15),
        Some(hms(10, 30, 45)),
    );
    assert_date(
        "2026-01-15 23:59:59",
        ymd(2026, 1, 15),
        Some(hms(23, 59, 59)),
    );
    assert_date(
        "2026-01-15T10:30:45.123",
        ymd(2026, 1, 15),
        NaiveTime::from_hms_milli_opt(10, 30, 45, 123),
    );
    assert_date(
        "2026-01-15T10:30:45.1234567891",
        ymd(2026, 1, 15),
        NaiveTime::from_hms_nano_opt(10, 30, 45, 123_456_789),
    );
    assert_date("2026/01/15", ymd(2026, 1, 15), None);
    assert_date("2026/01/15 08:05:00", ymd(2026, 1, 15), Some(hms(8, 5, 0)));
}

#[test]
fn iso_time_zone_is_kept_as_written_not_converted() {
    let expected = Some(hms(23, 30, 0));
    assert_date("2026-01-15T23:30:00-05:00", ymd(2026, 1, 15), expected);
    assert_date("2026-01-15T23:30:00+05:30", ymd(2026, 1, 15), expected);
    assert_date("2026-01-15T23:30:00Z", ymd(2026, 1, 15), expected);
    assert_date("2026-01-15T23:30:00.5Z", ymd(2026, 1, 15), {
        NaiveTime::from_hms_milli_opt(23, 30, 0, 500)
    });
    assert_date("2026-01-15 23:30:00+0000", ymd(2026, 1, 15), expected);
    assert_date("2026-01-15 23:30:00+00", ymd(2026, 1, 15), expected);
    assert_date("2026-01-15 23:30:00 UTC", ymd(2026, 1, 15), expected);
    assert_date("2026-01-15T23:30Z", ymd(2026, 1, 15), Some(hms(23, 30, 0)));
    assert_eq!(parse_date("2026-01-15T23:30:00+5"), None);
    assert_eq!(parse_date("2026-01-15T23:30:00+24:00"), None);
    assert_eq!(parse_date("2026-01-15T23:30:00 EST"), None);
}

#[test]
fn day_first_numeric_dates() {
    assert_date("28/04/2023", ymd(2023, 4, 28), None);
    assert_date("11/01/2026", ymd(2026, 1, 11), None);
    assert_date("04/05/2026", ymd(2026, 5, 4), None);
    assert_date("28-04-2023", ymd(2023, 4, 28), None);
    assert_date("28.04.2023", ymd(2023, 4, 28), None);
    assert_date("1/2/2026", ymd(2026, 2, 1), None);
    assert_date("01/04/2023", ymd(2023, 4, 1), None);
    assert_date("30/06/2023", ymd(2023, 6, 30), None);
}

#[test]
fn two_digit_years_are_20yy() {
    assert_date("28/04/23", ymd(2023, 4, 28), None);
    assert_date("28-04-23", ymd(2023, 4, 28), None);
    assert_date("05/01/00", ymd(2000, 1, 5), None);
    assert_date("05/01/99", ymd(2099, 1, 5), None);
    assert_eq!(parse_date("28/04/123"), None);
}

#[test]
fn day_first_dates_with_time() {
    assert_date("28/04/2023 10:15", ymd(2023, 4, 28), Some(hms(10, 15, 0)));
    assert_date(
        "28/04/2023 10:15:30",
        ymd(2023, 4, 28),
        Some(hms(10, 15, 30)),
    );
    assert_date("28-04-23 7:05", ymd(2023, 4, 28), Some(hms(7, 5, 0)));
    assert_date("28/04/2023, 10:15", ymd(2023, 4, 28), Some(hms(10, 15, 0)));
    assert_date(
        "28/04/2023 10:15 PM",
        ymd(2023, 4, 28),
        Some(hms(22, 15, 0)),
    );
    assert_date("28/04/2023 10:15pm", ymd(2023, 4, 28), Some(hms(22, 15, 0)));
    assert_date("28/04/2023 12:00 AM", ymd(2023, 4, 28), Some(hms(0, 0, 0)));
    assert_date(
        "28/04/2023 12:30 pm",
        ymd(2023, 4, 28),
        Some(hms(12, 30, 0)),
    );
    assert_eq!(parse_date("28/04/2023 13:00 PM"), None);
    assert_eq!(parse_date("28/04/2023 24:00"), None);
    assert_eq!(parse_date("28/04/2023 10:60"), None);
    assert_eq!(parse_date("28/04/2023 10:15:61"), None);
    assert_eq!(parse_date("28/04/2023 10"), None);
    assert_eq!(parse_date("28/04/2023T10:15"), None);
    assert_eq!(parse_date("28/04/2023 10:15 later"), None);
}

#[test]
fn month_name_dates() {
    assert_date("7 Feb 2026", ymd(2026, 2, 7), None);
    assert_date("07 February 2026", ymd(2026, 2, 7), None);
    assert_date("7 feb 2026", ymd(2026, 2, 7), None);
    assert_date("7 FEB 2026", ymd(2026, 2, 7), None);
    assert_date("15 Sept 2025", ymd(2025, 9, 15), None);
    assert_date("15 Sep 2025", ymd(2025, 9, 15), None);
    assert_date("15 September 2025", ymd(2025, 9, 15), None);
    assert_date("05-Jan-2026", ymd(2026, 1, 5), None);
    assert_date("05-jan-26", ymd(2026, 1, 5), None);
    assert_date("31 May 2026", ymd(2026, 5, 31), None);
    assert_eq!(parse_date("7 Febr 2026"), None);
    assert_eq!(parse_date("7 Feb-2026"), None);
    assert_eq!(parse_date("7.Feb.2026"), None);
    assert_eq!(parse_date("31 Apr 2026"), None);
}

#[test]
fn google_pay_date_times() {
    assert_date("7 Feb 2026, 17:13", ymd(2026, 2, 7), Some(hms(17, 13, 0)));
    assert_date("7 Feb 2026, 09:44", ymd(2026, 2, 7), Some(hms(9, 44, 0)));
    assert_date("6 Feb 2026, 23:26", ymd(2026, 2, 6), Some(hms(23, 26, 0)));
    assert_date(
        "\"6 Feb 2026, 03:20\"",
        ymd(2026, 2, 6),
        Some(hms(3, 20, 0)),
    );
    assert_date(
        "15 Sept 2025, 8:02 PM",
        ymd(2025, 9, 15),
        Some(hms(20, 2, 0)),
    );
}

#[test]
fn whitespace_and_quotes_are_trimmed() {
    assert_date("  28/04/2023  ", ymd(2023, 4, 28), None);
    assert_date("\"2026-01-01\"", ymd(2026, 1, 1), None);
    assert_date("'2026-01-01'", ymd(2026, 1, 1), None);
    assert_date(
        "\t7 Feb 2026, 17:13\r\n",
        ymd(2026, 2, 7),
        Some(hms(17, 13, 0)),
    );
    assert_date("7\u{a0}Feb\u{a0}2026", ymd(2026, 2, 7), None);
}

#[test]
fn impossible_dates_are_rejected_not_rolled_over() {
    assert_eq!(parse_date("31/02/2026"), None);
    assert_eq!(parse_date("29/02/2025"), None);
    assert_date("29/02/2024", ymd(2024, 2, 29), None);
    assert_eq!(parse_date("2026-02-30"), None);
    assert_eq!(parse_date("2026-13-01"), None);
    assert_eq!(parse_date("00/01/2026"), None);
    assert_eq!(parse_date("2026-00-10"), None);
}

#[test]
fn month_first_is_never_guessed() {
    assert_eq!(parse_date("04/28/2023"), None);
    assert_eq!(parse_date("12/31/2025"), None);
    assert_eq!(parse_date("Feb 7, 2026"), None);
}

#[test]
fn years_outside_1900_to_2100_are_rejected() {
    assert_eq!(parse_date("1899-12-31"), None);
    assert_eq!(parse_date("2101-01-01"), None);
    assert_eq!(parse_date("01/01/0999"), None);
    assert_date("1900-01-01", ymd(1900, 1, 1), None);
    assert_date("31/12/2100", ymd(2100, 12, 31), None);
}

#[test]
fn junk_is_rejected() {
    for text in [
        "",
        "   ",
        "\"\"",
        "not a date",
        "**This is a computer generated statement and does not require a signature**",
        "Statement Period",
        "01/04/2023 to 30/06/2023",
        "45044",
        "2026",
        "2026-01",
        "20261315",
        "2026011",
        "2026-01-15junk",
        "2026-01/15",
        "28/04-2023",
        "28 04 2023",
        "28/04/2023,",
        "7 Feb 2026,",
        "-2026-01-01",
        "2026-001-01",
        "123/04/2023",
        "2026-01-15T",
        "2026-01-15T10",
        "2026-01-15 10:5",
        "2026-01-15 10:05:5",
        "2026-01-15 10:05:05.",
        "٢٠٢٦-٠١-١٥",
        "28/04/2023 10:15 ₹",
    ] {
        assert_eq!(parse_date(text), None, "{text:?}");
    }
}

#[test]
fn fixture_dates() {
    let generic = [
        "2026-01-01",
        "2026-01-02",
        "2026-01-03",
        "2026-01-04",
        "2026-01-05",
        "2026-01-06",
        "2026-01-07",
        "2026-01-08",
    ];
    for (day, text) in (1..).zip(generic) {
        assert_eq!(date_only(text), Some(ymd(2026, 1, day)), "{text}");
    }
    for (text, month, day) in [
        ("28/04/2023", 4, 28),
        ("03/06/2023", 6, 3),
        ("07/06/2023", 6, 7),
        ("08/06/2023", 6, 8),
        ("10/06/2023", 6, 10),
        ("12/06/2023", 6, 12),
        ("15/06/2023", 6, 15),
    ] {
        assert_eq!(date_only(text), Some(ymd(2023, month, day)), "{text}");
    }
    assert_eq!(date_only("11/01/2026"), Some(ymd(2026, 1, 11)));
    assert_eq!(date_only("2026-01-10"), Some(ymd(2026, 1, 10)));
    assert_eq!(date_only("State Bank of India"), None);
}

fn excel(serial: f64) -> Option<NaiveDateTime> {
    date_from_excel_serial(serial)
}

#[test]
fn excel_serial_dates() {
    assert_eq!(excel(1.0), Some(ymd(1900, 1, 1).and_time(hms(0, 0, 0))));
    assert_eq!(excel(59.0), Some(ymd(1900, 2, 28).and_time(hms(0, 0, 0))));
    assert_eq!(excel(60.0), None, "Excel's fictitious 29 Feb 1900");
    assert_eq!(excel(61.0), Some(ymd(1900, 3, 1).and_time(hms(0, 0, 0))));
    assert_eq!(
        excel(45044.0),
        Some(ymd(2023, 4, 28).and_time(hms(0, 0, 0)))
    );
    assert_eq!(excel(46029.0), Some(ymd(2026, 1, 7).and_time(hms(0, 0, 0))));
    assert_eq!(
        excel(73415.0),
        Some(ymd(2100, 12, 31).and_time(hms(0, 0, 0)))
    );
    assert_eq!(excel(73416.0), None);
}

#[test]
fn excel_serial_fraction_is_time_of_day() {
    assert_eq!(
        excel(45044.5),
        Some(ymd(2023, 4, 28).and_time(hms(12, 0, 0)))
    );
    // 17:13 is not exactly representable as a binary fraction of a day.
    let serial = 46060.0 + (17.0 * 60.0 + 13.0) / 1440.0;
    assert_eq!(
        excel(serial),
        Some(ymd(2026, 2, 7).and_time(hms(17, 13, 0)))
    );
    // A hair below midnight rounds (to the millisecond) into the next day.
    assert_eq!(
        excel(45_044.999_999_999_9),
        Some(ymd(2023, 4, 29).and_time(hms(0, 0, 0)))
    );
    let with_millis = excel(45044.0 + 0.25 + 0.123 / 86_400.0);
    assert_eq!(
        with_millis.map(|dt| dt.time()),
        NaiveTime::from_hms_milli_opt(6, 0, 0, 123)
    );
}

#[test]
fn excel_serial_out_of_range() {
    for serial in [
        0.0,
        0.5,
        -1.0,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        1e300,
        f64::MAX,
        f64::MIN,
        60.5,
        80_000.0,
    ] {
        assert_eq!(excel(serial), None, "{serial}");
    }
}

#[test]
fn compact_year_first_dates_as_dutch_banks_export() {
    assert_eq!(
        parse_date("20250203").map(|d| d.date.to_string()),
        Some("2025-02-03".into())
    );
    for bad in ["20250230", "18991231", "2025020", "202502031"] {
        assert_eq!(parse_date(bad), None, "{bad}");
    }
}

//! Unit tests of the list query's validation: defaults, limit bounds, ranges and enums, bad cursors,
//! and escaped search wildcards.

use super::*;
use crate::error::CoreError;

fn query(pairs: &[(&str, &str)]) -> Result<ListQuery, AccountsError> {
    let mut raw = RawListQuery::default();
    for (key, value) in pairs {
        let value = Some((*value).to_owned());
        match *key {
            "limit" => raw.limit = value,
            "cursor" => raw.cursor = value,
            "date_from" => raw.date_from = value,
            "date_to" => raw.date_to = value,
            "amount_min" => raw.amount_min = value,
            "amount_max" => raw.amount_max = value,
            "category" => raw.category = value,
            "merchant" => raw.merchant = value,
            "type" => raw.kind = value,
            "status" => raw.status = value,
            "q" => raw.q = value,
            other => panic!("unknown key {other}"),
        }
    }
    raw.validate()
}

#[test]
fn defaults() {
    let q = query(&[]).unwrap();
    assert_eq!(q.limit, DEFAULT_LIMIT);
    assert_eq!(q.after, None);
    assert_eq!(q.search, None);
    assert_eq!(query(&[("limit", ""), ("q", "  ")]).unwrap(), q);
}

#[test]
fn limit_bounds() {
    assert_eq!(query(&[("limit", "1")]).unwrap().limit, 1);
    assert_eq!(query(&[("limit", "200")]).unwrap().limit, 200);
    for bad in ["0", "201", "-1", "ten", "1.5"] {
        assert!(matches!(
            query(&[("limit", bad)]),
            Err(AccountsError::Core(CoreError::Validation(_)))
        ));
    }
}

#[test]
fn ranges_and_enums() {
    let q = query(&[
        ("date_from", "2025-01-01"),
        ("date_to", "2025-01-31"),
        ("amount_min", "-100.5"),
        ("amount_max", "20"),
        ("type", "Debit"),
        ("status", "pending"),
    ])
    .unwrap();
    assert_eq!(q.date_from, NaiveDate::from_ymd_opt(2025, 1, 1));
    assert_eq!(q.amount_min.as_deref(), Some("-100.5"));
    assert_eq!(q.kind.as_deref(), Some("debit"));
    let bad: [&[(&str, &str)]; 11] = [
        &[("date_from", "01/02/2025")],
        &[("date_to", "2025-02-30")],
        &[("date_from", "2025-02-01"), ("date_to", "2025-01-01")],
        &[("amount_min", "abc")],
        &[("amount_min", "5"), ("amount_max", "1")],
        &[("type", "transfer")],
        &[("status", "done")],
        &[("q", &"x".repeat(201))],
        &[("q", "a\0b")],
        &[("category", "\0")],
        &[("merchant", "Swiggy\0")],
    ];
    for case in bad {
        assert!(
            matches!(
                query(case),
                Err(AccountsError::Core(CoreError::Validation(_)))
            ),
            "{case:?}"
        );
    }
}

#[test]
fn bad_cursor_is_its_own_error() {
    assert!(matches!(
        query(&[("cursor", "garbage")]),
        Err(AccountsError::Core(CoreError::InvalidCursor(_)))
    ));
}

#[test]
fn search_escapes_wildcards() {
    assert_eq!(escape_like(r"50%_off\"), r"50\%\_off\\");
    let q = query(&[("q", " 100% ")]).unwrap();
    assert_eq!(q.search.as_deref(), Some(r"%100\%%"));
}

//! Unit tests of periods and buckets: validation, the zone's today, weekly and monthly buckets, year
//! roll-over, averages and percent change.

use super::*;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

#[test]
fn timeframe_and_tz_are_validated() {
    assert_eq!(Timeframe::parse(None).unwrap(), Timeframe::Weekly);
    assert_eq!(
        Timeframe::parse(Some("monthly")).unwrap(),
        Timeframe::Monthly
    );
    assert!(Timeframe::parse(Some("yearly")).is_err());
    assert!(Timeframe::parse(Some("")).is_err());
    assert_eq!(
        parse_tz("Europe/Berlin").unwrap(),
        chrono_tz::Europe::Berlin
    );
    assert!(parse_tz("Mars/Olympus").is_err());
    assert!(parse_tz("").is_err());
}

#[test]
fn today_depends_on_the_zone() {
    let now: DateTime<Utc> = "2026-01-31T20:00:00Z".parse().unwrap();
    assert_eq!(today_in(DEFAULT_TZ, now), d("2026-02-01"));
    assert_eq!(today_in(chrono_tz::America::New_York, now), d("2026-01-31"));
}

#[test]
fn weekly_is_seven_daily_buckets_ending_today() {
    let p = period(Timeframe::Weekly, d("2026-09-09"));
    assert_eq!((p.start, p.end), (d("2026-09-03"), d("2026-09-09")));
    assert_eq!(p.buckets.len(), 7);
    assert_eq!(p.buckets[0].label, "Thu");
    assert_eq!(p.buckets[0].full_label, "3 Sept");
    assert_eq!(p.buckets[6].label, "Wed");
    assert!(p.buckets.iter().all(|b| b.start == b.end));
}

#[test]
fn monthly_buckets_are_weeks_from_the_first_clipped_to_the_month() {
    let p = period(Timeframe::Monthly, d("2026-11-25"));
    assert_eq!((p.start, p.end), (d("2026-11-01"), d("2026-11-30")));
    let labels: Vec<_> = p.buckets.iter().map(|b| b.label.as_str()).collect();
    assert_eq!(labels, ["W1", "W2", "W3", "W4", "W5"]);
    assert_eq!(p.buckets[0].full_label, "1 Nov - 7 Nov");
    assert_eq!(p.buckets[4].full_label, "29 Nov - 30 Nov");
    assert_eq!(p.buckets[4].end, d("2026-11-30"));
    // A 28-day February has exactly four weeks; a leap one a fifth of one day.
    assert_eq!(period(Timeframe::Monthly, d("2026-02-10")).buckets.len(), 4);
    let leap = period(Timeframe::Monthly, d("2028-02-10"));
    assert_eq!(leap.buckets[4].full_label, "29 Feb - 29 Feb");
}

#[test]
fn months_roll_over_years() {
    assert_eq!(
        month_of(d("2026-12-31")),
        (d("2026-12-01"), d("2026-12-31"))
    );
    assert_eq!(
        previous_month(d("2026-01-15")),
        (d("2025-12-01"), d("2025-12-31"))
    );
    assert_eq!(
        previous_month(d("2026-03-31")),
        (d("2026-02-01"), d("2026-02-28"))
    );
}

#[test]
fn averages_divide_by_active_days_or_weeks() {
    let total = Decimal::new(30000, 2);
    let days = [d("2026-11-02"), d("2026-11-02"), d("2026-11-05")];
    assert_eq!(
        average(Timeframe::Weekly, total, &days),
        Decimal::new(150, 0)
    );
    // 2 and 5 November share week index 0; the 8th is index 1.
    let weeks = [d("2026-11-02"), d("2026-11-05"), d("2026-11-08")];
    assert_eq!(
        average(Timeframe::Monthly, total, &weeks),
        Decimal::new(150, 0)
    );
    assert_eq!(average(Timeframe::Weekly, total, &[]), total);
    assert_eq!(average_unit(Timeframe::Monthly), "week");
}

#[test]
fn percent_change_rules() {
    let n = |v: i64| Decimal::new(v, 0);
    assert_eq!(percent_change(n(0), n(0)), n(0));
    assert_eq!(percent_change(n(5), n(0)), n(100));
    assert_eq!(percent_change(n(150), n(100)), n(50));
    assert_eq!(percent_change(n(0), n(100)), n(-100));
    assert_eq!(percent_change(n(50), n(200)), n(-75));
}

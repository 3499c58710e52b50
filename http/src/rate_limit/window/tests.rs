//! Unit tests of the sliding-window log: limits and waits, sliding, per-key independence, the
//! fallback's share of the last Redis count, and bounded memory.

use super::*;

const SEC: Duration = Duration::from_secs(1);

fn limit(max: u32) -> Limit {
    Limit {
        max,
        window: Duration::from_secs(60),
    }
}

#[test]
fn allows_up_to_the_limit_then_denies_with_the_wait() {
    let mut w = SlidingWindows::new(10);
    let t0 = Instant::now();
    for n in 0..3u32 {
        let d = w.hit("k", limit(3), 1, t0 + SEC * n);
        assert!(d.allowed);
        assert_eq!(d.remaining, 2 - n);
    }
    let d = w.hit("k", limit(3), 1, t0 + SEC * 10);
    assert!(!d.allowed);
    assert_eq!(d.remaining, 0);
    assert_eq!(d.retry_after, SEC * 50);
    assert_eq!(d.retry_after_secs(), 50);
}

#[test]
fn the_window_slides_one_request_at_a_time() {
    let mut w = SlidingWindows::new(10);
    let t0 = Instant::now();
    assert!(w.hit("k", limit(2), 1, t0).allowed);
    assert!(w.hit("k", limit(2), 1, t0 + SEC * 30).allowed);
    assert!(!w.hit("k", limit(2), 1, t0 + SEC * 59).allowed);
    // The first request leaves the window at t0 + 60 s: exactly one slot frees.
    assert!(w.hit("k", limit(2), 1, t0 + SEC * 60).allowed);
    let d = w.hit("k", limit(2), 1, t0 + SEC * 61);
    assert!(!d.allowed);
    assert_eq!(d.retry_after, SEC * 29);
}

#[test]
fn keys_are_independent() {
    let mut w = SlidingWindows::new(10);
    let t0 = Instant::now();
    assert!(w.hit("a", limit(1), 1, t0).allowed);
    assert!(!w.hit("a", limit(1), 1, t0).allowed);
    assert!(w.hit("b", limit(1), 1, t0).allowed);
}

#[test]
fn retry_after_is_at_least_one_second_and_rounds_up() {
    let mut w = SlidingWindows::new(10);
    let t0 = Instant::now();
    let short = Limit {
        max: 1,
        window: Duration::from_millis(1500),
    };
    assert!(w.hit("k", short, 1, t0).allowed);
    assert_eq!(w.hit("k", short, 1, t0).retry_after_secs(), 2);
    assert_eq!(
        w.hit("k", short, 1, t0 + Duration::from_millis(1499))
            .retry_after_secs(),
        1
    );
}

#[test]
fn the_fallback_starts_from_the_last_count_and_takes_its_share() {
    let mut w = SlidingWindows::new(10);
    let t0 = Instant::now();
    let l = limit(10);
    // Redis said 4 were counted; 2 processes split the 6 left: 3 each.
    w.remember("k", l, 4, t0);
    for remaining in [2, 1, 0] {
        let d = w.hit("k", l, 2, t0 + SEC * 30);
        assert!(d.allowed);
        assert_eq!((d.limit, d.remaining), (10, remaining));
    }
    let d = w.hit("k", l, 2, t0 + SEC * 31);
    assert!(!d.allowed);
    assert_eq!(d.remaining, 0);
    // The reported count is held for a window and a lease's lifetime (until t0 + 61 s),
    // sooner than the first request admitted here leaves (t0 + 90 s).
    assert_eq!(d.retry_after, SEC * 30);
    // Then the share is 10 / 2, the three admitted here still counting.
    let later = t0 + SEC * 60 + LEASE_TTL;
    assert!(!w.hit("k", l, 2, later - SEC / 2).allowed);
    assert!(w.hit("k", l, 2, later).allowed);
    assert!(w.hit("k", l, 2, later).allowed);
    assert!(!w.hit("k", l, 2, later).allowed);
}

#[test]
fn a_full_window_in_redis_leaves_no_share_and_a_newer_count_replaces_an_older() {
    let mut w = SlidingWindows::new(10);
    let t0 = Instant::now();
    w.remember("k", limit(5), 5, t0);
    let d = w.hit("k", limit(5), 1, t0);
    assert!(!d.allowed);
    assert_eq!(d.retry_after, SEC * 60 + LEASE_TTL);
    w.remember("k", limit(5), 1, t0 + SEC);
    assert!(w.hit("k", limit(5), 1, t0 + SEC).allowed);
    // More processes than the limit allows: each one's share is nothing.
    let d = w.hit("other", limit(3), 4, t0);
    assert!(!d.allowed);
    assert_eq!(d.retry_after, SEC * 60);
}

#[test]
fn memory_is_bounded_expired_keys_go_first_then_the_stalest() {
    let mut w = SlidingWindows::new(3);
    let t0 = Instant::now();
    let brief = Limit {
        max: 1,
        window: SEC,
    };
    w.hit("expired", brief, 1, t0);
    w.hit("old", limit(5), 1, t0 + SEC);
    w.hit("recent", limit(5), 1, t0 + SEC * 2);
    w.hit("new", limit(5), 1, t0 + SEC * 3);
    assert_eq!(w.len(), 3, "the expired key made room");
    w.hit("newer", limit(5), 1, t0 + SEC * 4);
    assert_eq!(w.len(), 3, "the stalest key was evicted");
    // "old" was evicted, so it starts afresh; "new" is still counted.
    assert!(w.hit("old", limit(1), 1, t0 + SEC * 5).allowed);
    assert!(!w.hit("new", limit(1), 1, t0 + SEC * 5).allowed);
    assert_eq!(w.len(), 3);
}

#[test]
fn remembered_counts_are_bounded_too_and_evicted_a_hundredth_at_a_time() {
    let mut w = SlidingWindows::new(200);
    let t0 = Instant::now();
    const MS: Duration = Duration::from_millis(1);
    for i in 0..200u32 {
        w.remember(&format!("k{i}"), limit(5), 1, t0 + MS * i);
    }
    assert_eq!(w.len(), 200);
    w.remember("new", limit(5), 1, t0 + MS * 200);
    assert_eq!(w.len(), 199, "the two stalest made room");
    // The others still count what Redis reported; an evicted key starts afresh.
    assert_eq!(w.hit("k2", limit(5), 1, t0 + MS * 201).remaining, 3);
    assert_eq!(w.hit("k0", limit(5), 1, t0 + MS * 201).remaining, 4);
}

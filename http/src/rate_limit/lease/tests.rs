//! Unit tests of permit leases: tiers that never lease, spending and expiry, doubling and falling
//! back, keeping unspent permits, and bounded keys.

use super::*;

fn limit(max: u32) -> Limit {
    Limit {
        max,
        window: Duration::from_secs(60),
    }
}

#[test]
fn the_default_tiers_never_lease() {
    for max in [3, 5, 50, 100, 199] {
        assert_eq!(max_lease(limit(max)), 1, "{max}");
    }
    assert_eq!(max_lease(limit(200)), 2);
    assert_eq!(max_lease(limit(1_000_000)), MAX_LEASE);
}

#[test]
fn a_lease_is_spent_then_runs_out() {
    let (mut leases, t0, l) = (Leases::new(10), Instant::now(), limit(10_000));
    assert_eq!(leases.spend("k", l, t0), None);
    leases.record("k", 3, 103, t0);
    assert_eq!(leases.spend("k", l, t0), Some(10_000 - 103 + 1));
    assert_eq!(leases.spend("k", l, t0), Some(10_000 - 103));
    assert_eq!(leases.spend("k", l, t0), None);
}

#[test]
fn an_expired_lease_is_not_spent() {
    let (mut leases, t0, l) = (Leases::new(10), Instant::now(), limit(10_000));
    leases.record("k", 8, 8, t0);
    assert!(leases.spend("k", l, t0 + LEASE_TTL / 2).is_some());
    assert_eq!(leases.spend("k", l, t0 + LEASE_TTL), None);
}

#[test]
fn leases_double_while_used_up_and_fall_back_to_one() {
    let (mut leases, t0, l) = (Leases::new(10), Instant::now(), limit(1_000_000));
    assert_eq!(leases.wanted("k", l, t0), 1);
    let mut size = 1;
    for _ in 0..10 {
        leases.record("k", size, size, t0);
        while leases.spend("k", l, t0).is_some() {}
        size = leases.wanted("k", l, t0);
    }
    assert_eq!(size, MAX_LEASE);
    // Half spent when it expires: start again from one.
    leases.record("k", 8, 8, t0);
    assert_eq!(leases.wanted("k", l, t0 + LEASE_TTL), 1);
    // Used up, but long ago: one.
    leases.record("k", 1, 1, t0);
    assert_eq!(leases.wanted("k", l, t0 + LEASE_TTL * 3), 1);
    // Never more than 1% of the limit.
    leases.record("k", 1, 1, t0);
    assert_eq!(leases.wanted("k", limit(150), t0), 1);
}

#[test]
fn a_second_grant_keeps_the_unspent_permits_and_the_earlier_expiry() {
    let (mut leases, t0, l) = (Leases::new(10), Instant::now(), limit(10_000));
    leases.record("k", 4, 4, t0);
    let later = t0 + LEASE_TTL / 2;
    leases.record("k", 4, 8, later);
    assert_eq!(leases.spend("k", l, t0 + LEASE_TTL), None);
    let mut spent = 0;
    while leases.spend("k", l, later).is_some() {
        spent += 1;
    }
    assert_eq!(spent, 3 + 3);
}

#[test]
fn keys_are_bounded() {
    let (mut leases, t0, l) = (Leases::new(2), Instant::now(), limit(10_000));
    leases.record("a", 2, 2, t0);
    leases.record("b", 2, 2, t0);
    leases.record("c", 2, 2, t0);
    assert_eq!(leases.spend("c", l, t0), None);
    // Once the others are stale, a new key takes their place.
    let later = t0 + LEASE_TTL * 2;
    leases.record("c", 2, 2, later);
    assert!(leases.spend("c", l, later).is_some());
}

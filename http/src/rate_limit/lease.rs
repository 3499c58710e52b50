//! Permit leases: how a process admits a busy caller without a Redis round trip per request.
//! Pure logic over explicit instants, with bounded memory (a cap on tracked keys).
//!
//! A lease is a batch of permits taken from the caller's shared Redis window in one round trip
//! and spent locally until used up or [`LEASE_TTL`] passes. The permits are counted in Redis
//! when granted, stamped with the lease's end, so the shared window never admits more than the
//! limit, whichever process spends them. What leasing can cost is strictness, not safety: a
//! lease that expires half spent leaves its unused permits counted until they leave the window.
//! That is kept small: a lease is at most [`max_lease`] permits (1 under 200 per window, so the
//! default tiers are exact, one round trip per request), it is only granted while the window is
//! less than half full (near the limit every request asks Redis), and it starts at one permit
//! and doubles only while the previous lease was used up in time.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::limit::Limit;

/// How long a lease's permits may be spent.
pub const LEASE_TTL: Duration = Duration::from_secs(1);

/// The most permits one lease holds.
pub const MAX_LEASE: u32 = 64;

/// The largest lease for `limit`: 1% of it, between 1 and [`MAX_LEASE`].
pub fn max_lease(limit: Limit) -> u32 {
    (limit.max / 100).clamp(1, MAX_LEASE)
}

/// One key's current lease.
#[derive(Debug, Clone, Copy)]
struct Lease {
    /// Permits granted by the last round trip.
    size: u32,
    /// Permits not yet spent.
    left: u32,
    /// Requests counted in the shared window when it was granted (its permits included).
    counted: u32,
    /// When its permits may no longer be spent.
    expires: Instant,
}

/// What the process holds: one lease per key, for up to `max_keys` keys.
#[derive(Debug)]
pub struct Leases {
    max_keys: usize,
    leases: HashMap<String, Lease>,
}

impl Leases {
    /// No leases yet; at most `max_keys` (at least one) tracked at once.
    pub fn new(max_keys: usize) -> Self {
        Self {
            max_keys: max_keys.max(1),
            leases: HashMap::new(),
        }
    }

    /// Spends a permit of `key`'s lease if one is left and valid at `now`, and returns how many
    /// requests the shared window still allows after this one, as far as this process knows.
    pub fn spend(&mut self, key: &str, limit: Limit, now: Instant) -> Option<u32> {
        let lease = self.leases.get_mut(key)?;
        if lease.left == 0 || now >= lease.expires {
            return None;
        }
        lease.left -= 1;
        Some(limit.max.saturating_sub(lease.counted) + lease.left)
    }

    /// How many permits to ask for next: double the previous lease if it was used up before it
    /// expired (or very recently), else one; never more than [`max_lease`].
    pub fn wanted(&self, key: &str, limit: Limit, now: Instant) -> u32 {
        let ramping = self
            .leases
            .get(key)
            .filter(|lease| lease.left == 0 && now < lease.expires + LEASE_TTL);
        ramping
            .map_or(1, |lease| lease.size.saturating_mul(2))
            .min(max_lease(limit))
    }

    /// Records `granted` permits (one of them spent by the current request) with `counted`
    /// requests now in the shared window. A still valid lease keeps its unspent permits and the
    /// earlier expiry, so no permit outlives the interval it was counted for.
    pub fn record(&mut self, key: &str, granted: u32, counted: u32, now: Instant) {
        if granted == 0 {
            return;
        }
        let mut lease = Lease {
            size: granted,
            left: granted - 1,
            counted,
            expires: now + LEASE_TTL,
        };
        if let Some(old) = self
            .leases
            .get(key)
            .filter(|l| l.left > 0 && now < l.expires)
        {
            lease.left += old.left;
            lease.expires = old.expires;
        }
        if !self.leases.contains_key(key) && self.leases.len() >= self.max_keys {
            self.leases.retain(|_, l| now < l.expires + LEASE_TTL);
            if self.leases.len() >= self.max_keys {
                return;
            }
        }
        self.leases.insert(key.to_owned(), lease);
    }
}

#[cfg(test)]
mod tests;

//! The in-process sliding-window log: the fallback used while Redis is unreachable. Pure logic
//! over explicit instants, with bounded memory (a cap on tracked keys).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// A limit: at most `max` requests in any `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Requests allowed per window.
    pub max: u32,
    /// The window's length.
    pub window: Duration,
}

/// The verdict for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// The limit that applied.
    pub limit: u32,
    /// Requests still allowed in the current window after this one.
    pub remaining: u32,
    /// When denied: how long until the oldest counted request leaves the window.
    pub retry_after: Duration,
}

impl Decision {
    /// A decision from the number of requests counted in the window (this one included when
    /// allowed) and, when denied, the wait until a slot frees.
    pub fn new(limit: Limit, allowed: bool, counted: u32, retry_after: Duration) -> Self {
        Self {
            allowed,
            limit: limit.max,
            remaining: limit.max.saturating_sub(counted),
            retry_after: if allowed { Duration::ZERO } else { retry_after },
        }
    }

    /// `Retry-After` in whole seconds, rounded up and at least 1.
    pub fn retry_after_secs(&self) -> u64 {
        let millis = self.retry_after.as_millis().div_ceil(1000);
        u64::try_from(millis).unwrap_or(u64::MAX).max(1)
    }
}

/// One key's admitted requests, oldest first.
#[derive(Debug)]
struct Log {
    window: Duration,
    hits: VecDeque<Instant>,
}

impl Log {
    fn expire(&mut self, now: Instant) {
        while self
            .hits
            .front()
            .is_some_and(|&t| now.saturating_duration_since(t) >= self.window)
        {
            self.hits.pop_front();
        }
    }

    fn last_seen(&self) -> Option<Instant> {
        self.hits.back().copied()
    }
}

/// Sliding-window logs for up to `max_keys` keys. Denied requests are not counted, so a caller
/// is admitted again as soon as its oldest admitted request leaves the window.
#[derive(Debug)]
pub struct SlidingWindows {
    max_keys: usize,
    logs: HashMap<String, Log>,
}

impl SlidingWindows {
    /// An empty set of windows tracking at most `max_keys` keys (at least one).
    pub fn new(max_keys: usize) -> Self {
        Self {
            max_keys: max_keys.max(1),
            logs: HashMap::new(),
        }
    }

    /// How many keys are tracked.
    pub fn len(&self) -> usize {
        self.logs.len()
    }

    /// Whether no key is tracked.
    pub fn is_empty(&self) -> bool {
        self.logs.is_empty()
    }

    /// Counts a request for `key` at `now` against `limit` and says whether it may proceed.
    pub fn hit(&mut self, key: &str, limit: Limit, now: Instant) -> Decision {
        if !self.logs.contains_key(key) && self.logs.len() >= self.max_keys {
            self.make_room(now);
        }
        let log = self.logs.entry(key.to_owned()).or_insert_with(|| Log {
            window: limit.window,
            hits: VecDeque::new(),
        });
        log.window = limit.window;
        log.expire(now);
        let counted = u32::try_from(log.hits.len()).unwrap_or(u32::MAX);
        if counted < limit.max {
            log.hits.push_back(now);
            return Decision::new(limit, true, counted + 1, Duration::ZERO);
        }
        let retry_after = log.hits.front().map_or(Duration::ZERO, |&oldest| {
            limit
                .window
                .saturating_sub(now.saturating_duration_since(oldest))
        });
        Decision::new(limit, false, counted, retry_after)
    }

    /// Drops every key whose window is empty; if none is, the least recently admitted key.
    fn make_room(&mut self, now: Instant) {
        self.logs.retain(|_, log| {
            log.expire(now);
            !log.hits.is_empty()
        });
        if self.logs.len() < self.max_keys {
            return;
        }
        let stalest = self
            .logs
            .iter()
            .min_by_key(|(_, log)| log.last_seen())
            .map(|(key, _)| key.clone());
        if let Some(key) = stalest {
            self.logs.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
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
            let d = w.hit("k", limit(3), t0 + SEC * n);
            assert!(d.allowed);
            assert_eq!(d.remaining, 2 - n);
        }
        let d = w.hit("k", limit(3), t0 + SEC * 10);
        assert!(!d.allowed);
        assert_eq!(d.remaining, 0);
        assert_eq!(d.retry_after, SEC * 50);
        assert_eq!(d.retry_after_secs(), 50);
    }

    #[test]
    fn the_window_slides_one_request_at_a_time() {
        let mut w = SlidingWindows::new(10);
        let t0 = Instant::now();
        assert!(w.hit("k", limit(2), t0).allowed);
        assert!(w.hit("k", limit(2), t0 + SEC * 30).allowed);
        assert!(!w.hit("k", limit(2), t0 + SEC * 59).allowed);
        // The first request leaves the window at t0 + 60 s: exactly one slot frees.
        assert!(w.hit("k", limit(2), t0 + SEC * 60).allowed);
        let d = w.hit("k", limit(2), t0 + SEC * 61);
        assert!(!d.allowed);
        assert_eq!(d.retry_after, SEC * 29);
    }

    #[test]
    fn keys_are_independent() {
        let mut w = SlidingWindows::new(10);
        let t0 = Instant::now();
        assert!(w.hit("a", limit(1), t0).allowed);
        assert!(!w.hit("a", limit(1), t0).allowed);
        assert!(w.hit("b", limit(1), t0).allowed);
    }

    #[test]
    fn retry_after_is_at_least_one_second_and_rounds_up() {
        let mut w = SlidingWindows::new(10);
        let t0 = Instant::now();
        let short = Limit {
            max: 1,
            window: Duration::from_millis(1500),
        };
        assert!(w.hit("k", short, t0).allowed);
        assert_eq!(w.hit("k", short, t0).retry_after_secs(), 2);
        assert_eq!(
            w.hit("k", short, t0 + Duration::from_millis(1499))
                .retry_after_secs(),
            1
        );
    }

    #[test]
    fn memory_is_bounded_expired_keys_go_first_then_the_stalest() {
        let mut w = SlidingWindows::new(3);
        let t0 = Instant::now();
        let brief = Limit {
            max: 1,
            window: SEC,
        };
        w.hit("expired", brief, t0);
        w.hit("old", limit(5), t0 + SEC);
        w.hit("recent", limit(5), t0 + SEC * 2);
        w.hit("new", limit(5), t0 + SEC * 3);
        assert_eq!(w.len(), 3, "the expired key made room");
        w.hit("newer", limit(5), t0 + SEC * 4);
        assert_eq!(w.len(), 3, "the stalest key was evicted");
        // "old" was evicted, so it starts afresh; "new" is still counted.
        assert!(w.hit("old", limit(1), t0 + SEC * 5).allowed);
        assert!(!w.hit("new", limit(1), t0 + SEC * 5).allowed);
        assert_eq!(w.len(), 3);
    }
}

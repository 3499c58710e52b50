//! The in-process sliding-window log: the fallback used while Redis is unreachable. It starts
//! from the count Redis last reported for a key and admits only this process's share of what
//! remained. Pure logic over explicit instants, with bounded memory (a cap on tracked keys).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::lease::LEASE_TTL;
use super::limit::Limit;

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

/// The count Redis last reported for a key.
#[derive(Debug, Clone, Copy)]
struct Known {
    /// Requests counted in the shared window.
    counted: u32,
    /// When Redis reported it.
    at: Instant,
}

/// One key's requests admitted in process, oldest first, and its last count from Redis.
#[derive(Debug)]
struct Log {
    window: Duration,
    hits: VecDeque<Instant>,
    known: Option<Known>,
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
        if self
            .known
            .is_some_and(|known| now >= self.known_until(known))
        {
            self.known = None;
        }
    }

    /// Until when the requests in a count from Redis are held to stay counted: a window after
    /// it was reported, plus a lease's lifetime (leased permits are stamped with the lease's
    /// end, so they stay in Redis's window that much longer).
    fn known_until(&self, known: Known) -> Instant {
        known.at + self.window + LEASE_TTL
    }

    fn is_empty(&self) -> bool {
        self.hits.is_empty() && self.known.is_none()
    }

    fn last_seen(&self) -> Option<Instant> {
        self.hits
            .back()
            .copied()
            .max(self.known.map(|known| known.at))
    }
}

/// Sliding-window logs for up to `max_keys` keys. Denied requests are not counted, so a caller
/// is admitted again as soon as its oldest admitted request leaves the window.
///
/// Each key's allowance is this process's share of what Redis last left:
/// `(limit − count Redis last reported) / processes`, rounded down, for a window (and a lease's
/// lifetime) after Redis reported that count; `limit / processes` afterwards.
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

    /// Remembers that Redis reported `counted` requests in `key`'s window at `now`: should it
    /// fail, they are what every process together may already have admitted.
    pub fn remember(&mut self, key: &str, limit: Limit, counted: u32, now: Instant) {
        self.log(key, limit, now).known = Some(Known { counted, at: now });
    }

    /// Counts a request for `key` at `now` against this process's share of `limit`, split
    /// between `processes` (at least one), and says whether it may proceed. The decision
    /// reports the whole limit; what is not this process's share counts as used.
    pub fn hit(&mut self, key: &str, limit: Limit, processes: u32, now: Instant) -> Decision {
        let log = self.log(key, limit, now);
        log.expire(now);
        let known = log.known.map_or(0, |known| known.counted);
        let share = limit.max.saturating_sub(known) / processes.max(1);
        let used = limit.max - share;
        let admitted = u32::try_from(log.hits.len()).unwrap_or(u32::MAX);
        if admitted < share {
            log.hits.push_back(now);
            return Decision::new(limit, true, used + admitted + 1, Duration::ZERO);
        }
        // A slot frees when the oldest admitted request leaves the window, or the share grows
        // when the count from Redis does: whichever comes first.
        let oldest_leaves = log.hits.front().map(|&oldest| oldest + limit.window);
        let known_leaves = log.known.map(|known| log.known_until(known));
        let retry_after = match (oldest_leaves, known_leaves) {
            (Some(a), Some(b)) => a.min(b).saturating_duration_since(now),
            (Some(at), None) | (None, Some(at)) => at.saturating_duration_since(now),
            (None, None) => limit.window,
        };
        Decision::new(limit, false, used.saturating_add(admitted), retry_after)
    }

    /// `key`'s log, made room for when new and set to `limit`'s window. The key is only copied
    /// when new: every answer from Redis comes through here.
    fn log(&mut self, key: &str, limit: Limit, now: Instant) -> &mut Log {
        if !self.logs.contains_key(key) {
            if self.logs.len() >= self.max_keys {
                self.make_room(now);
            }
            let log = Log {
                window: limit.window,
                hits: VecDeque::new(),
                known: None,
            };
            self.logs.insert(key.to_owned(), log);
        }
        let log = self.logs.get_mut(key).expect("the key is present");
        log.window = limit.window;
        log
    }

    /// Drops every key whose window is empty; if none is, the least recently seen keys: 1% of
    /// the cap (at least one), so that while every caller is remembered (each answer from
    /// Redis is) a new key costs a scan of the others only once per hundred.
    fn make_room(&mut self, now: Instant) {
        self.logs.retain(|_, log| {
            log.expire(now);
            !log.is_empty()
        });
        if self.logs.len() < self.max_keys {
            return;
        }
        let mut by_age: Vec<(Option<Instant>, &String)> = self
            .logs
            .iter()
            .map(|(key, log)| (log.last_seen(), key))
            .collect();
        let evicted = (self.max_keys / 100).clamp(1, by_age.len());
        by_age.select_nth_unstable(evicted - 1);
        let stalest: Vec<String> = by_age[..evicted]
            .iter()
            .map(|(_, key)| (*key).clone())
            .collect();
        for key in stalest {
            self.logs.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests;

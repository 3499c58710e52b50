//! A bounded least-recently-used map whose entries expire: the cache's in-process fallback, and
//! the classifier's per-user layers. Pure logic over explicit instants.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

struct Slot<V> {
    value: V,
    expires: Instant,
    used: u64,
}

/// At most `capacity` entries, each kept at most `max_ttl`; the least recently used one goes first
/// when full, and an expired entry is never returned.
pub struct Lru<V = String> {
    capacity: usize,
    max_ttl: Duration,
    slots: HashMap<String, Slot<V>>,
    by_use: BTreeMap<u64, String>,
    clock: u64,
}

impl<V: Clone> Lru<V> {
    /// An empty cache holding at most `capacity` entries (at least one), none longer than
    /// `max_ttl`.
    pub fn new(capacity: usize, max_ttl: Duration) -> Self {
        Self {
            capacity: capacity.max(1),
            max_ttl,
            slots: HashMap::new(),
            by_use: BTreeMap::new(),
            clock: 0,
        }
    }

    /// Entries held, expired ones included until they are touched or evicted.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The live value of `key` at `now`, marking it recently used.
    pub fn get(&mut self, key: &str, now: Instant) -> Option<V> {
        let expired = self.slots.get(key)?.expires <= now;
        if expired {
            self.remove(key);
            return None;
        }
        let tick = self.tick();
        let slot = self.slots.get_mut(key)?;
        self.by_use.remove(&slot.used);
        slot.used = tick;
        self.by_use.insert(tick, key.to_owned());
        Some(slot.value.clone())
    }

    /// Stores `value` under `key` until `now + ttl` (at most `now + max_ttl`), evicting the least
    /// recently used entries beyond the capacity.
    pub fn set(&mut self, key: &str, value: V, ttl: Duration, now: Instant) {
        self.remove(key);
        let used = self.tick();
        self.slots.insert(
            key.to_owned(),
            Slot {
                value,
                expires: now + ttl.min(self.max_ttl),
                used,
            },
        );
        self.by_use.insert(used, key.to_owned());
        while self.slots.len() > self.capacity {
            let Some((_, oldest)) = self.by_use.pop_first() else {
                break;
            };
            self.slots.remove(&oldest);
        }
    }

    /// Drops `key`.
    pub fn remove(&mut self, key: &str) {
        if let Some(slot) = self.slots.remove(key) {
            self.by_use.remove(&slot.used);
        }
    }

    /// Drops every key `doomed` selects.
    pub fn remove_where(&mut self, doomed: impl Fn(&str) -> bool) {
        let keys: Vec<String> = self.slots.keys().filter(|k| doomed(k)).cloned().collect();
        for key in keys {
            self.remove(&key);
        }
    }

    /// Drops everything.
    pub fn clear(&mut self) {
        self.slots.clear();
        self.by_use.clear();
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_secs(60);

    #[test]
    fn values_expire() {
        let now = Instant::now();
        let mut lru: Lru = Lru::new(10, TTL);
        lru.set("a", "1".into(), TTL, now);
        assert_eq!(lru.get("a", now + TTL / 2).as_deref(), Some("1"));
        assert_eq!(lru.get("a", now + TTL), None);
        assert!(lru.is_empty());
    }

    #[test]
    fn no_value_outlives_the_cap() {
        let now = Instant::now();
        let cap = Duration::from_secs(5);
        let mut lru: Lru = Lru::new(10, cap);
        lru.set("a", "1".into(), Duration::from_secs(300), now);
        lru.set("b", "2".into(), Duration::from_secs(1), now);
        assert_eq!(lru.get("a", now + cap / 2).as_deref(), Some("1"));
        assert_eq!(lru.get("a", now + cap), None);
        assert_eq!(lru.get("b", now + Duration::from_secs(1)), None);
    }

    #[test]
    fn the_least_recently_used_entry_is_evicted() {
        let now = Instant::now();
        let mut lru: Lru = Lru::new(2, TTL);
        lru.set("a", "1".into(), TTL, now);
        lru.set("b", "2".into(), TTL, now);
        assert!(lru.get("a", now).is_some());
        lru.set("c", "3".into(), TTL, now);
        assert_eq!(lru.len(), 2);
        assert!(lru.get("b", now).is_none());
        assert!(lru.get("a", now).is_some() && lru.get("c", now).is_some());
        // Replacing a key does not grow the cache.
        lru.set("c", "4".into(), TTL, now);
        assert_eq!(lru.get("c", now).as_deref(), Some("4"));
        assert_eq!(lru.len(), 2);
    }

    #[test]
    fn selected_keys_are_removed() {
        let now = Instant::now();
        let mut lru: Lru = Lru::new(10, TTL);
        for key in ["an:u1:x", "an:u1:y", "an:u2:x", "cat:u1"] {
            lru.set(key, String::new(), TTL, now);
        }
        lru.remove_where(|k| k.starts_with("an:u1:") || k == "cat:u1");
        assert_eq!(lru.len(), 1);
        assert!(lru.get("an:u2:x", now).is_some());
        lru.clear();
        assert!(lru.is_empty());
    }
}

//! The cache: string values under `{prefix}{key}` in Redis, with a bounded in-process LRU
//! ([`lru`]) taking over while Redis fails or is slower than its timeout. The cache actor
//! ([`service`]) owns the Redis pool. Keys name their user (`cat:{user}`,
//! `an:{user}:…`, `fc:{user}`), so [`service::Invalidate`] drops every key of a user and moves the user's data
//! version ([`service::Version`]: `gen:{user}` in Redis, [`invalidations`] in process), which a
//! value computed before the invalidation cannot be stored under; [`keys`] builds the keys.

pub mod invalidations;
pub mod lru;
pub mod service;

/// Cache keys, without the configured prefix.
pub mod keys {
    use chrono::NaiveDate;
    use uuid::Uuid;

    /// The analytics overview of `user` for `timeframe` in zone `tz` on `date`.
    pub fn overview(user: Uuid, timeframe: &str, tz: &str, date: NaiveDate) -> String {
        format!("an:{user}:overview:{timeframe}:{tz}:{date}")
    }

    /// The analytics summary of `user` in zone `tz` on `date`.
    pub fn summary(user: Uuid, tz: &str, date: NaiveDate) -> String {
        format!("an:{user}:summary:{tz}:{date}")
    }

    /// The status of training job `id` (the stored JSON names its owner).
    pub fn job(id: Uuid) -> String {
        format!("job:{id}")
    }

    /// `user`'s category cache entry.
    pub fn categories(user: Uuid) -> String {
        format!("cat:{user}")
    }

    /// `user`'s forecast model (the forecasting actor's cache entry).
    pub fn forecast(user: Uuid) -> String {
        format!("fc:{user}")
    }

    /// `user`'s data generation in Redis: a random token, replaced by the next read after each
    /// invalidation of the user.
    pub fn generation(user: Uuid) -> String {
        format!("gen:{user}")
    }

    /// The prefix every analytics key of `user` starts with.
    pub fn analytics_of(user: Uuid) -> String {
        format!("an:{user}:")
    }

    /// The user whose data `key` (unprefixed) caches: `cat:{user}`, `fc:{user}` and
    /// `an:{user}:…`; `None` for other keys (`job:{id}`).
    pub fn owner(key: &str) -> Option<Uuid> {
        let user = match key.strip_prefix("an:") {
            Some(rest) => rest.split_once(':')?.0,
            None => key
                .strip_prefix("cat:")
                .or_else(|| key.strip_prefix("fc:"))?,
        };
        user.parse().ok()
    }

    /// Whether `key` (unprefixed) belongs to `user`.
    pub fn belongs_to(key: &str, user: Uuid) -> bool {
        owner(key) == Some(user)
    }

    /// `text` with Redis glob metacharacters escaped, for `SCAN … MATCH`.
    pub fn glob_escape(text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            if matches!(c, '*' | '?' | '[' | ']' | '\\' | '^') {
                out.push('\\');
            }
            out.push(c);
        }
        out
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn keys_name_their_user() {
            let u = Uuid::nil();
            let date = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
            let key = overview(u, "weekly", "Asia/Kolkata", date);
            assert_eq!(
                key,
                "an:00000000-0000-0000-0000-000000000000:overview:weekly:Asia/Kolkata:2026-11-25"
            );
            assert!(belongs_to(&key, u));
            assert!(belongs_to(&summary(u, "UTC", date), u));
            assert!(belongs_to(&categories(u), u));
            assert!(belongs_to(&forecast(u), u));
            assert_eq!(
                owner(&forecast(Uuid::from_u128(7))),
                Some(Uuid::from_u128(7))
            );
            assert!(!belongs_to(&key, Uuid::from_u128(1)));
            assert_eq!(owner(&key), Some(u));
            assert_eq!(owner(&job(u)), None);
            assert_eq!(owner(&generation(u)), None);
            assert_eq!(owner("an:not-a-user:x"), None);
        }

        #[test]
        fn glob_metacharacters_are_escaped() {
            assert_eq!(glob_escape("scale:"), "scale:");
            assert_eq!(glob_escape("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
        }
    }
}

/// Where values currently live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Redis answers.
    Redis,
    /// Redis is failing or not configured: the in-process LRU.
    Memory,
}

/// Cache counters since the actor (re)started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CacheStats {
    /// Where values currently live.
    pub backend: Backend,
    /// Lookups that found a value.
    pub hits: u64,
    /// Lookups that found none.
    pub misses: u64,
    /// Entries in the in-process LRU.
    pub memory_entries: usize,
}

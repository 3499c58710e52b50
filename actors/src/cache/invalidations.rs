//! The in-process data versions: a counter that every invalidation moves, and when each user was
//! last invalidated on it. A read takes the counter as its token; a value computed after the read
//! may be stored only if the user was not invalidated since. Pure logic.

use std::collections::HashMap;

use uuid::Uuid;

/// When each user was last invalidated, for at most `capacity` users; beyond that the record is
/// dropped and every older token is refused.
pub struct Invalidations {
    capacity: usize,
    counter: u64,
    last: HashMap<Uuid, u64>,
    /// Tokens below it are refused: the record of their invalidations was dropped.
    floor: u64,
}

impl Invalidations {
    /// No invalidation yet; at most `capacity` users are remembered (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            counter: 0,
            last: HashMap::new(),
            floor: 0,
        }
    }

    /// The token of a read now.
    pub fn token(&self) -> u64 {
        self.counter
    }

    /// Records that `user`'s data changed.
    pub fn record(&mut self, user: Uuid) {
        self.counter += 1;
        if self.last.len() >= self.capacity && !self.last.contains_key(&user) {
            self.last.clear();
            self.floor = self.counter;
        }
        self.last.insert(user, self.counter);
    }

    /// Whether `user` was not invalidated since the read that got `token`.
    pub fn unchanged_since(&self, user: Uuid, token: u64) -> bool {
        token >= self.floor && self.last.get(&user).is_none_or(|&at| at <= token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_refused_once_its_user_is_invalidated() {
        let (alice, bob) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let mut record = Invalidations::new(10);
        let before = record.token();
        assert!(record.unchanged_since(alice, before));
        record.record(alice);
        assert!(!record.unchanged_since(alice, before));
        assert!(record.unchanged_since(bob, before));
        assert!(record.unchanged_since(alice, record.token()));
    }

    #[test]
    fn forgetting_users_refuses_every_older_token() {
        let users: Vec<Uuid> = (0..3).map(Uuid::from_u128).collect();
        let mut record = Invalidations::new(2);
        record.record(users[0]);
        let before = record.token();
        record.record(users[1]);
        record.record(users[1]);
        assert!(!record.unchanged_since(users[1], before));
        // A third user does not fit: the record restarts, and tokens from before are refused.
        record.record(users[2]);
        assert!(!record.unchanged_since(users[0], before));
        assert!(!record.unchanged_since(users[1], before));
        assert!(record.unchanged_since(users[0], record.token()));
    }
}

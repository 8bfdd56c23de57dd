//! A fixed set of mutex-guarded hash maps chosen by key hash: the server's
//! one concurrency primitive for shared maps. Critical sections are short and
//! synchronous; callers never hold a guard across an `.await`.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::{Mutex, MutexGuard};

const SHARDS: usize = 64;

/// Sharded `HashMap<K, V>`.
pub struct Shards<K, V> {
    hasher: RandomState,
    maps: Vec<Mutex<HashMap<K, V>>>,
}

impl<K: Hash + Eq, V> Default for Shards<K, V> {
    fn default() -> Self {
        Self {
            hasher: RandomState::new(),
            maps: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }
}

impl<K: Hash + Eq, V> Shards<K, V> {
    /// Locks the shard holding `key`.
    pub fn lock<Q: Hash + ?Sized>(&self, key: &Q) -> MutexGuard<'_, HashMap<K, V>> {
        let i = (self.hasher.hash_one(key) as usize) % self.maps.len();
        lock(&self.maps[i])
    }

    /// Locks every shard in turn (one at a time).
    pub fn all(&self) -> impl Iterator<Item = MutexGuard<'_, HashMap<K, V>>> {
        self.maps.iter().map(lock)
    }

    /// Gives back the table of each shard that emptied out: one holding
    /// under a quarter of its capacity is shrunk to twice its length (so a
    /// shard that refills does not shrink and regrow back and forth). Hash
    /// maps never shrink by themselves: after a 10,000-member peak every
    /// shard kept its peak table with nobody left in it.
    pub fn shrink_sparse(&self) {
        for mut map in self.all() {
            if map.capacity() > MIN_CAPACITY && map.len() < map.capacity() / 4 {
                let len = map.len();
                map.shrink_to(len * 2);
            }
        }
    }
}

/// Below this capacity a shard's table is left as it is.
const MIN_CAPACITY: usize = 16;

/// Locks a mutex, recovering from poisoning: a panic elsewhere mid-update
/// leaves plain data that is still usable, and failing every later request
/// would be worse.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capacity(s: &Shards<u32, u32>) -> usize {
        s.all().map(|m| m.capacity()).sum()
    }

    #[test]
    fn emptied_shards_give_their_tables_back_busy_ones_keep_them() {
        let s = Shards::<u32, u32>::default();
        for i in 0..20_000 {
            s.lock(&i).insert(i, i);
        }
        let peak = capacity(&s);
        s.shrink_sparse();
        assert_eq!(capacity(&s), peak, "full shards are left alone");
        for i in 100..20_000 {
            s.lock(&i).remove(&i);
        }
        s.shrink_sparse();
        let after = capacity(&s);
        assert!(after * 20 < peak, "capacity {peak} → {after}");
        assert!((0..100).all(|i| s.lock(&i).get(&i) == Some(&i)));
    }
}

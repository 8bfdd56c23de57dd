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
}

/// Locks a mutex, recovering from poisoning: a panic elsewhere mid-update
/// leaves plain data that is still usable, and failing every later request
/// would be worse.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

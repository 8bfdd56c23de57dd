//! [`VecMap`]: a map kept as a vector sorted by key.
//!
//! The core holds few entries per map (the members of one room, the requests
//! and frames in flight), and each `BTreeMap<K, V>` costs several KB of wasm
//! per key/value pair of types for its node code. This is the part of the
//! `BTreeMap` API the core uses, with the same semantics (iteration in key
//! order, `insert` keeps the old key) and a binary search over a `Vec`.

use std::fmt;

/// A map sorted by key; see the module docs.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct VecMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
        }
    }
}

impl<K: Ord, V> VecMap<K, V> {
    /// An empty map.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn find(&self, k: &K) -> Result<usize, usize> {
        self.entries.binary_search_by(|(e, _)| e.cmp(k))
    }

    /// Inserts `v` under `k`; returns the value it replaces.
    pub(crate) fn insert(&mut self, k: K, v: V) -> Option<V> {
        match self.find(&k) {
            Ok(i) => self
                .entries
                .get_mut(i)
                .map(|e| std::mem::replace(&mut e.1, v)),
            Err(i) => {
                self.entries.insert(i, (k, v));
                None
            }
        }
    }

    /// Removes and returns the value under `k`.
    pub(crate) fn remove(&mut self, k: &K) -> Option<V> {
        let i = self.find(k).ok()?;
        Some(self.entries.remove(i).1)
    }

    /// The value under `k`.
    pub(crate) fn get(&self, k: &K) -> Option<&V> {
        let i = self.find(k).ok()?;
        self.entries.get(i).map(|e| &e.1)
    }

    /// The value under `k`, mutably.
    pub(crate) fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        let i = self.find(k).ok()?;
        self.entries.get_mut(i).map(|e| &mut e.1)
    }

    /// Whether `k` has a value.
    pub(crate) fn contains_key(&self, k: &K) -> bool {
        self.find(k).is_ok()
    }
}

impl<K, V> VecMap<K, V> {
    /// The entries in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The entries in key order, values mutable.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (&K, &mut V)> {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    /// The keys in order.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &K> {
        self.entries.iter().map(|(k, _)| k)
    }

    /// The values in key order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, v)| v)
    }

    /// The values in key order, by value.
    pub(crate) fn into_values(self) -> impl Iterator<Item = V> {
        self.entries.into_iter().map(|(_, v)| v)
    }
}

impl<K, V> IntoIterator for VecMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

/// Like `BTreeMap`'s: a repeated key keeps its last value.
impl<K: Ord, V> FromIterator<(K, V)> for VecMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = Self::new();
        for (k, v) in iter {
            map.insert(k, v);
        }
        map
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for VecMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::VecMap;
    use std::collections::BTreeMap;

    #[test]
    fn behaves_like_a_btree_map() {
        let ops: [(u8, u32); 9] = [
            (5, 1),
            (2, 2),
            (9, 3),
            (2, 4),
            (7, 5),
            (0, 6),
            (9, 7),
            (5, 8),
            (1, 9),
        ];
        let mut v = VecMap::new();
        let mut b = BTreeMap::new();
        for (i, (k, val)) in ops.into_iter().enumerate() {
            if i % 3 == 2 {
                assert_eq!(v.remove(&k), b.remove(&k));
            }
            assert_eq!(v.insert(k, val), b.insert(k, val));
            assert_eq!(v.get(&3), b.get(&3));
            assert_eq!(v.contains_key(&k), b.contains_key(&k));
            assert!(v.iter().eq(b.iter()));
        }
        if let (Some(x), Some(y)) = (v.get_mut(&7), b.get_mut(&7)) {
            *x += 10;
            *y += 10;
        }
        assert!(v.keys().eq(b.keys()));
        assert!(v.values().eq(b.values()));
        assert_eq!(format!("{v:?}"), format!("{b:?}"));
        let collected: VecMap<u8, u32> = ops.into_iter().collect();
        let expected: BTreeMap<u8, u32> = ops.into_iter().collect();
        assert!(collected.clone().into_iter().eq(expected.clone()));
        assert!(collected.into_values().eq(expected.into_values()));
    }
}

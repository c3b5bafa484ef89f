//! The memory tier: a bounded map from [`CacheKey`] to compiled components,
//! evicting the least recently used.
//!
//! Hot path. A hit takes the shared read lock, clones the compiled handle
//! and stamps the entry's last use with a relaxed atomic, so hits run in
//! parallel. Inserting (after a compile or a disk load, so already cold)
//! takes the write lock briefly; eviction scans the entries for the oldest
//! stamp, which is cheap next to the compile that preceded it. No lock is
//! ever held while compiling.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};

use rustc_hash::FxHashMap;

use super::key::CacheKey;

struct Entry<C> {
    value: C,
    weight: u64,
    last_used: AtomicU64,
}

struct Map<C> {
    entries: FxHashMap<CacheKey, Entry<C>>,
    bytes: u64,
}

/// A bounded, least-recently-used map of compiled components.
pub(crate) struct MemoryTier<C> {
    map: RwLock<Map<C>>,
    clock: AtomicU64,
    max_entries: usize,
    max_bytes: u64,
}

impl<C: Clone> MemoryTier<C> {
    /// A tier holding at most `max_entries` entries weighing at most
    /// `max_bytes` together.
    pub fn new(max_entries: usize, max_bytes: u64) -> Self {
        Self {
            map: RwLock::new(Map {
                entries: FxHashMap::default(),
                bytes: 0,
            }),
            clock: AtomicU64::new(0),
            max_entries,
            max_bytes,
        }
    }

    fn tick(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The entry for `key`, marked as just used.
    pub fn get(&self, key: &CacheKey) -> Option<C> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        let entry = map.entries.get(key)?;
        entry.last_used.store(self.tick(), Ordering::Relaxed);
        Some(entry.value.clone())
    }

    /// Inserts (or replaces) `key`, evicting the least recently used entries
    /// until both bounds hold. An entry heavier than the whole tier is not
    /// kept. Returns how many entries were evicted.
    pub fn insert(&self, key: CacheKey, value: C, weight: u64) -> u64 {
        if self.max_entries == 0 || weight > self.max_bytes {
            return 0;
        }
        let stamp = self.tick();
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(old) = map.entries.remove(&key) {
            map.bytes -= old.weight;
        }
        let mut evicted = 0;
        while map.entries.len() >= self.max_entries || map.bytes + weight > self.max_bytes {
            let Some(oldest) = map
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_used.load(Ordering::Relaxed))
                .map(|(k, _)| *k)
            else {
                break;
            };
            if let Some(gone) = map.entries.remove(&oldest) {
                map.bytes -= gone.weight;
                evicted += 1;
            }
        }
        map.bytes += weight;
        map.entries.insert(
            key,
            Entry {
                value,
                weight,
                last_used: AtomicU64::new(stamp),
            },
        );
        evicted
    }

    /// Drops every entry.
    pub fn clear(&self) {
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        map.entries.clear();
        map.bytes = 0;
    }

    /// Entries held and their total weight.
    pub fn usage(&self) -> (u64, u64) {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        (map.entries.len() as u64, map.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> CacheKey {
        CacheKey::from_bytes([n; 32])
    }

    #[test]
    fn evicts_the_least_recently_used_by_count() {
        let t = MemoryTier::new(2, u64::MAX);
        assert_eq!(t.insert(key(1), 1, 10), 0);
        assert_eq!(t.insert(key(2), 2, 10), 0);
        assert_eq!(t.get(&key(1)), Some(1));
        assert_eq!(t.insert(key(3), 3, 10), 1);
        assert_eq!(t.get(&key(2)), None, "2 was the least recently used");
        assert_eq!(t.get(&key(1)), Some(1));
        assert_eq!(t.get(&key(3)), Some(3));
        assert_eq!(t.usage(), (2, 20));
    }

    #[test]
    fn evicts_by_weight_and_refuses_oversized_entries() {
        let t = MemoryTier::new(100, 100);
        t.insert(key(1), 1, 40);
        t.insert(key(2), 2, 40);
        assert_eq!(t.insert(key(3), 3, 40), 1);
        assert_eq!(t.usage(), (2, 80));
        assert_eq!(t.insert(key(4), 4, 101), 0);
        assert_eq!(t.get(&key(4)), None);
        assert_eq!(t.insert(key(3), 33, 10), 0, "replacing does not evict");
        assert_eq!(t.usage(), (2, 50));
        assert_eq!(t.get(&key(3)), Some(33));
        t.clear();
        assert_eq!(t.usage(), (0, 0));
    }

    #[test]
    fn a_zero_sized_tier_keeps_nothing() {
        let t = MemoryTier::new(0, 100);
        assert_eq!(t.insert(key(1), 1, 1), 0);
        assert_eq!(t.get(&key(1)), None);
    }
}

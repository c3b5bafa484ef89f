//! The counters of the incremental compilation store (`crate::cache`),
//! here because [`crate::WasmEngine::incremental_stats`] reports them and
//! the engine's traits sit below the cache.

use std::fmt;

/// A snapshot of an incremental store's counters, from
/// [`crate::WasmEngine::incremental_stats`] (and in
/// [`crate::cache::CacheStats::incremental`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct IncrementalStats {
    /// Functions whose compiled code came from the store.
    pub hits: u64,
    /// Functions the store did not have (Cranelift compiled them).
    pub misses: u64,
    /// Bytes of verified entries handed to Cranelift.
    pub bytes_read: u64,
    /// Entries Cranelift stored.
    pub inserts: u64,
    /// Packs written.
    pub packs_written: u64,
    /// Bytes of packs written.
    pub bytes_written: u64,
    /// Packs that could not be written (the entries stay in memory and are
    /// tried again after the next compile).
    pub write_errors: u64,
    /// Packs removed (by this store) to keep the directory under its bound.
    pub evicted_packs: u64,
    /// Entries or packs refused because a check failed; never used.
    pub rejected: u64,
    /// Entries the store knows now (on disk and not yet written).
    pub entries: u64,
}

impl IncrementalStats {
    /// Lookups: hits and misses.
    pub fn lookups(&self) -> u64 {
        self.hits + self.misses
    }

    /// The counters that grew from `before` to `self` (`entries` as it is
    /// now).
    #[must_use]
    pub fn since(&self, before: &Self) -> Self {
        Self {
            hits: self.hits - before.hits,
            misses: self.misses - before.misses,
            bytes_read: self.bytes_read - before.bytes_read,
            inserts: self.inserts - before.inserts,
            packs_written: self.packs_written - before.packs_written,
            bytes_written: self.bytes_written - before.bytes_written,
            write_errors: self.write_errors - before.write_errors,
            evicted_packs: self.evicted_packs - before.evicted_packs,
            rejected: self.rejected - before.rejected,
            entries: self.entries,
        }
    }
}

impl fmt::Display for IncrementalStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} hits, {} misses ({} bytes read), {} stored in {} packs ({} bytes, {} failed), \
             {} packs evicted, {} rejected, {} entries",
            self.hits,
            self.misses,
            self.bytes_read,
            self.inserts,
            self.packs_written,
            self.bytes_written,
            self.write_errors,
            self.evicted_packs,
            self.rejected,
            self.entries,
        )
    }
}

//! What the cache did: hits per tier, compiles, time, evictions, and disk
//! entries rejected by reason.
//!
//! Counting is on the hot path (one relaxed atomic add per event);
//! [`CacheStats`] snapshots are cold.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::IncrementalStats;

/// Where a compiled component came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CacheTier {
    /// The memory tier (including a request that waited for another
    /// thread's compile of the same component).
    Memory,
    /// A verified disk entry, deserialized.
    Disk,
    /// Neither tier had it: it was compiled.
    Compiled,
}

impl CacheTier {
    /// The tier's lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Disk => "disk",
            Self::Compiled => "compiled",
        }
    }
}

impl fmt::Display for CacheTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a disk entry was rejected. Every rejected entry except
/// [`RejectReason::Unreadable`] is removed, and the component recompiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectReason {
    /// The file is empty.
    Empty,
    /// The file is shorter than its header, or than the payload length the
    /// header announces.
    Truncated,
    /// The header does not start with [`crate::cache::MAGIC`].
    BadMagic,
    /// The header's format version is not [`crate::cache::FORMAT_VERSION`].
    BadVersion,
    /// The header names another key than the file name (an entry copied or
    /// renamed, or a damaged key field).
    WrongKey,
    /// The file is longer than the header and the payload length it
    /// announces.
    LengthMismatch,
    /// The payload's SHA-256 differs from the header's.
    DigestMismatch,
    /// The entry path is not a regular file (a directory, a symlink, a
    /// device...).
    NotAFile,
    /// The file is larger than the configured most bytes per entry.
    TooLarge,
    /// The file could not be read (left in place: the error may pass).
    Unreadable,
    /// The entry passed every check but the engine refused to deserialize
    /// it (an artifact from an incompatible engine that slipped past the
    /// fingerprint, or a damaged artifact sealed by a faulty writer).
    DeserializeFailed,
}

impl RejectReason {
    /// Every reason, in the order [`RejectionCounts::iter`] reports them.
    pub const ALL: [RejectReason; 11] = [
        Self::Empty,
        Self::Truncated,
        Self::BadMagic,
        Self::BadVersion,
        Self::WrongKey,
        Self::LengthMismatch,
        Self::DigestMismatch,
        Self::NotAFile,
        Self::TooLarge,
        Self::Unreadable,
        Self::DeserializeFailed,
    ];

    /// A short, stable name (`digest-mismatch`, ...) for logs and metrics
    /// labels.
    pub fn name(self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::Truncated => "truncated",
            Self::BadMagic => "bad-magic",
            Self::BadVersion => "bad-version",
            Self::WrongKey => "wrong-key",
            Self::LengthMismatch => "length-mismatch",
            Self::DigestMismatch => "digest-mismatch",
            Self::NotAFile => "not-a-file",
            Self::TooLarge => "too-large",
            Self::Unreadable => "unreadable",
            Self::DeserializeFailed => "deserialize-failed",
        }
    }

    /// Whether an entry rejected for this reason is removed.
    pub fn removes_entry(self) -> bool {
        self != Self::Unreadable
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|r| *r == self).unwrap_or(0)
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Rejected disk entries, counted by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RejectionCounts {
    counts: [u64; RejectReason::ALL.len()],
}

impl RejectionCounts {
    /// Entries rejected for `reason`.
    pub fn get(&self, reason: RejectReason) -> u64 {
        self.counts[reason.index()]
    }

    /// Entries rejected for any reason.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Every reason with its count (zeros included), in
    /// [`RejectReason::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (RejectReason, u64)> + '_ {
        RejectReason::ALL
            .iter()
            .copied()
            .zip(self.counts.iter().copied())
    }
}

/// A snapshot of a cache's counters, from
/// [`crate::cache::CompiledComponentCache::stats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStats {
    /// Requests (`get_or_compile*` calls).
    pub lookups: u64,
    /// Requests answered by the memory tier (including [`Self::coalesced`]).
    pub memory_hits: u64,
    /// Requests answered by a verified disk entry.
    pub disk_hits: u64,
    /// Requests neither tier could answer (each one compiled, or failed to).
    pub misses: u64,
    /// Successful compiles.
    pub compiles: u64,
    /// Compiles that failed (the error went to the caller; nothing cached).
    pub compile_failures: u64,
    /// Requests that waited for another thread's compile of the same
    /// component instead of compiling it again.
    pub coalesced: u64,
    /// Time spent compiling (successful compiles).
    pub compile_time: Duration,
    /// Time spent reading, verifying and deserializing disk hits.
    pub disk_load_time: Duration,
    /// An estimate of the compile time hits saved: the average compile time
    /// times the hits of both tiers (zero until something was compiled).
    pub time_saved: Duration,
    /// Entries the memory tier evicted (least recently used first).
    pub memory_evictions: u64,
    /// Entries removed from the disk to keep the directory under its size
    /// bound (least recently used first: a disk hit refreshes an entry's
    /// modification time). Incremental packs it removed are counted in the
    /// directory's counters ([`crate::cache::read_counters`]).
    pub disk_evictions: u64,
    /// Entries written to the disk.
    pub disk_writes: u64,
    /// Entries that could not be written (serialization or I/O failure; the
    /// compiled component was still returned).
    pub disk_write_errors: u64,
    /// Disk entries rejected, by reason.
    pub rejected: RejectionCounts,
    /// Entries in the memory tier now.
    pub memory_entries: u64,
    /// Weight of the memory tier's entries now (see
    /// [`crate::cache::CacheConfig::max_memory_bytes`]).
    pub memory_bytes: u64,
    /// The engine's incremental compilation cache, when it has one
    /// ([`crate::WasmEngine::incremental_stats`]): what the functions of
    /// this cache's compiles (and any other compile of the engine) found.
    pub incremental: Option<IncrementalStats>,
}

impl CacheStats {
    /// Hits of both tiers.
    pub fn hits(&self) -> u64 {
        self.memory_hits + self.disk_hits
    }
}

impl fmt::Display for CacheStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} lookups: {} memory hits ({} coalesced), {} disk hits, {} misses; {} compiles \
             ({} failed) in {:?}, ~{:?} saved; evictions {} memory, {} disk; {} disk writes \
             ({} failed); {} rejected",
            self.lookups,
            self.memory_hits,
            self.coalesced,
            self.disk_hits,
            self.misses,
            self.compiles,
            self.compile_failures,
            self.compile_time,
            self.time_saved,
            self.memory_evictions,
            self.disk_evictions,
            self.disk_writes,
            self.disk_write_errors,
            self.rejected.total(),
        )?;
        let mut first = true;
        for (reason, n) in self.rejected.iter().filter(|(_, n)| *n > 0) {
            write!(f, "{}{reason} {n}", if first { " (" } else { ", " })?;
            first = false;
        }
        if !first {
            f.write_str(")")?;
        }
        if let Some(inc) = &self.incremental {
            write!(f, "; incremental: {inc}")?;
        }
        Ok(())
    }
}

/// The live counters behind [`CacheStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub lookups: AtomicU64,
    pub memory_hits: AtomicU64,
    pub disk_hits: AtomicU64,
    pub misses: AtomicU64,
    pub compiles: AtomicU64,
    pub compile_failures: AtomicU64,
    pub coalesced: AtomicU64,
    pub compile_nanos: AtomicU64,
    pub disk_load_nanos: AtomicU64,
    pub memory_evictions: AtomicU64,
    pub disk_evictions: AtomicU64,
    pub disk_writes: AtomicU64,
    pub disk_write_errors: AtomicU64,
    /// Incremental packs the disk tier's bound removed.
    pub evicted_packs: AtomicU64,
    rejected: [AtomicU64; RejectReason::ALL.len()],
}

/// Adds one to a counter.
pub(crate) fn bump(counter: &AtomicU64) {
    add(counter, 1);
}

/// Adds `n` to a counter.
pub(crate) fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

/// Adds a duration, in nanoseconds, to a counter.
pub(crate) fn add_time(counter: &AtomicU64, d: Duration) {
    add(counter, u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
}

impl Counters {
    pub fn reject(&self, reason: RejectReason) {
        bump(&self.rejected[reason.index()]);
    }

    pub fn snapshot(&self, memory_entries: u64, memory_bytes: u64) -> CacheStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut rejected = RejectionCounts::default();
        for (slot, counter) in rejected.counts.iter_mut().zip(&self.rejected) {
            *slot = get(counter);
        }
        let compiles = get(&self.compiles);
        let compile_time = Duration::from_nanos(get(&self.compile_nanos));
        let hits = get(&self.memory_hits) + get(&self.disk_hits);
        let time_saved = if compiles == 0 {
            Duration::ZERO
        } else {
            let average = compile_time.as_nanos() / u128::from(compiles);
            Duration::from_nanos(
                u64::try_from(average.saturating_mul(u128::from(hits))).unwrap_or(u64::MAX),
            )
        };
        CacheStats {
            lookups: get(&self.lookups),
            memory_hits: get(&self.memory_hits),
            disk_hits: get(&self.disk_hits),
            misses: get(&self.misses),
            compiles,
            compile_failures: get(&self.compile_failures),
            coalesced: get(&self.coalesced),
            compile_time,
            disk_load_time: Duration::from_nanos(get(&self.disk_load_nanos)),
            time_saved,
            memory_evictions: get(&self.memory_evictions),
            disk_evictions: get(&self.disk_evictions),
            disk_writes: get(&self.disk_writes),
            disk_write_errors: get(&self.disk_write_errors),
            rejected,
            memory_entries,
            memory_bytes,
            incremental: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_indexed_and_named_uniquely() {
        let mut names: Vec<_> = RejectReason::ALL.iter().map(|r| r.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), RejectReason::ALL.len());
        for (i, r) in RejectReason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
        }
    }

    #[test]
    fn time_saved_is_average_compile_time_times_hits() {
        let c = Counters::default();
        add(&c.compiles, 2);
        add_time(&c.compile_nanos, Duration::from_millis(30));
        add(&c.memory_hits, 3);
        bump(&c.disk_hits);
        c.reject(RejectReason::WrongKey);
        let s = c.snapshot(0, 0);
        assert_eq!(s.time_saved, Duration::from_millis(60));
        assert_eq!(s.rejected.get(RejectReason::WrongKey), 1);
        assert_eq!(s.rejected.total(), 1);
        assert!(s.to_string().contains("wrong-key 1"), "{s}");
    }
}

//! The compiled-component cache: compile a component once, reuse the
//! machine code from memory or from a disk directory afterwards.
//!
//! Cold path with a fast hit path. [`CompiledComponentCache::get_or_compile`]
//! hashes the component bytes with the engine's
//! [`fingerprint`](crate::WasmEngine::fingerprint) into a [`CacheKey`], then
//! looks in a bounded least-recently-used memory tier (a hit takes a shared
//! read lock and clones an `Arc`-like handle), then in an optional disk
//! directory (every entry sealed with a header and a SHA-256 digest that is
//! checked before the bytes reach `unsafe` deserialization), and only then
//! compiles. Concurrent requests for one key compile once; requests for other
//! keys never wait for it.
//!
//! The cache is generic over [`crate::WasmEngine`], so it works with any
//! backend.
//!
//! ```
//! use torvyn_engine::cache::{CacheConfig, CacheTier, CompiledComponentCache};
//! use torvyn_engine::wasmtime::{WasmtimeEngine, WasmtimeEngineConfig};
//!
//! let dir = tempfile::tempdir()?;
//! let engine = WasmtimeEngine::new(WasmtimeEngineConfig::default())?;
//! let cache = CompiledComponentCache::new(engine, CacheConfig::with_disk(dir.path().join("c")))?;
//! let bytes = torvyn_harness::fixtures::load_fixture("uppercase")?;
//!
//! assert_eq!(cache.get_or_compile(&bytes)?.tier, CacheTier::Compiled);
//! assert_eq!(cache.get_or_compile(&bytes)?.tier, CacheTier::Memory);
//! assert_eq!(cache.stats().compiles, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod bound;
mod compiled;
mod disk;
pub(crate) mod incremental;
mod key;
mod ledger;
mod memory;
mod stats;

pub use compiled::{CacheConfig, CacheOutcome, CompileFn, CompiledComponentCache};
pub use disk::{
    DiskUsage, ENTRY_EXTENSION, FORMAT_VERSION, HEADER_LEN, MAGIC, clear_disk, disk_usage,
};
pub use incremental::{
    INCREMENTAL_DIR, IncrementalCacheConfig, IncrementalUsage, PACK_EXTENSION, PACK_FORMAT_VERSION,
    PACK_HEADER_LEN, PACK_MAGIC, clear_incremental, incremental_usage,
};
pub use key::{CacheKey, FingerprintHasher};
pub use ledger::{COUNTERS_FILE, DirCounters, read_counters, reset_counters};
pub use stats::{CacheStats, CacheTier, RejectReason, RejectionCounts};

/// The default bound of a cache directory: its compiled-component entries
/// and incremental packs together take at most 1 GiB (about thirty
/// compiled 36 MB componentize-py components, or a dozen with the
/// incremental store of their builds), the least recently used removed
/// first.
pub const DEFAULT_MAX_DISK_BYTES: u64 = 1024 * 1024 * 1024;

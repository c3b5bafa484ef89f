//! [`CompiledComponentCache`]: get-or-compile over the memory and disk
//! tiers, with one compile per key however many threads ask.
//!
//! The lookup is the hot path: a SHA-256 of the component bytes and a
//! read-locked map probe. Everything after a memory miss (disk read,
//! verification, deserialization, compile, disk write) is cold and runs with
//! no lock held; threads asking for the same key meanwhile wait on that
//! key's single-flight slot, and threads asking for other keys do not wait
//! at all.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Instant;

use rustc_hash::FxHashMap;

use super::disk::DiskTier;
use super::key::{CacheKey, SourceKind};
use super::ledger::{self, DirCounters};
use super::memory::MemoryTier;
use super::stats::{CacheStats, CacheTier, Counters, RejectReason, add, add_time, bump};
use crate::error::EngineError;
use crate::traits::WasmEngine;

/// Bounds and location of a [`CompiledComponentCache`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheConfig {
    /// The most compiled components the memory tier holds (0 turns the
    /// memory tier off). Default 256.
    pub max_memory_entries: usize,
    /// The most bytes the memory tier holds. An entry weighs its serialized
    /// artifact's size when that is known (a disk tier is configured, or the
    /// entry came from the disk), else the component's byte length.
    /// Default 512 MiB.
    pub max_memory_bytes: u64,
    /// The disk tier's directory; `None` (the default) for memory only. It
    /// is created (mode 0700) if missing, and refused if other users could
    /// write it.
    pub disk_dir: Option<PathBuf>,
    /// The most bytes the disk directory may take: its entries and the
    /// packs of an incremental store in it
    /// ([`super::IncrementalCacheConfig`]) together. Past it, the files used
    /// least recently (by modification time, which a hit refreshes) are
    /// removed, whichever kind they are. `None` for no bound. Default
    /// [`super::DEFAULT_MAX_DISK_BYTES`] (1 GiB).
    pub max_disk_bytes: Option<u64>,
    /// The largest artifact written to or read from the disk, in bytes;
    /// larger entry files are rejected unread. Default 1 GiB.
    pub max_entry_bytes: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            max_memory_entries: 256,
            max_memory_bytes: 512 * 1024 * 1024,
            disk_dir: None,
            max_disk_bytes: Some(super::DEFAULT_MAX_DISK_BYTES),
            max_entry_bytes: 1024 * 1024 * 1024,
        }
    }
}

impl CacheConfig {
    /// The default memory tier plus a disk tier in `dir`.
    pub fn with_disk(dir: impl Into<PathBuf>) -> Self {
        Self {
            disk_dir: Some(dir.into()),
            ..Self::default()
        }
    }
}

/// A compiled component and where it came from.
#[derive(Clone, Debug)]
pub struct CacheOutcome<C> {
    /// The compiled component.
    pub compiled: C,
    /// Which tier answered, or [`CacheTier::Compiled`].
    pub tier: CacheTier,
    /// The component's cache key.
    pub key: CacheKey,
}

/// How [`CompiledComponentCache::get_or_compile_with`] compiles on a miss.
pub type CompileFn<'a, E> =
    &'a dyn Fn(&E, &[u8]) -> Result<<E as WasmEngine>::Compiled, EngineError>;

/// Where the bytes of a request came from.
enum Source<'a, E: WasmEngine> {
    Binary(&'a [u8]),
    Wat(&'a str),
    /// Binary bytes compiled by the caller's function.
    Custom(&'a [u8], CompileFn<'a, E>),
}

impl<E: WasmEngine> Clone for Source<'_, E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E: WasmEngine> Copy for Source<'_, E> {}

impl<E: WasmEngine> Source<'_, E> {
    fn kind(&self) -> SourceKind {
        match self {
            Self::Binary(_) | Self::Custom(..) => SourceKind::Binary,
            Self::Wat(_) => SourceKind::Wat,
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Self::Binary(b) | Self::Custom(b, _) => b,
            Self::Wat(t) => t.as_bytes(),
        }
    }
}

/// One key's single-flight slot: the first thread to initialize it loads
/// or compiles; the others block in `get_or_init` until it is done. `None`
/// records a failure (the error went to the thread that ran it).
type Flight<C> = OnceLock<Option<(C, CacheTier)>>;

/// A cache of compiled components, in memory and optionally on disk, for
/// any [`WasmEngine`].
///
/// Keys are SHA-256 digests over the engine's
/// [`fingerprint`](WasmEngine::fingerprint) and the component bytes, so
/// engines with different code-generation settings never share an entry.
/// Disk entries are sealed with a SHA-256 digest that is verified before the
/// bytes reach [`WasmEngine::deserialize`]; an entry failing any check is
/// removed, counted in [`CacheStats::rejected`], and the component compiled
/// again.
///
/// Share it between threads with an `Arc`: every method takes `&self`.
pub struct CompiledComponentCache<E: WasmEngine> {
    engine: E,
    fingerprint: [u8; 32],
    memory: MemoryTier<E::Compiled>,
    disk: Option<DiskTier>,
    inflight: Mutex<FxHashMap<CacheKey, Arc<Flight<E::Compiled>>>>,
    counters: Counters,
    /// What was last added to the disk directory's counters.
    recorded: Mutex<DirCounters>,
}

impl<E: WasmEngine> fmt::Debug for CompiledComponentCache<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompiledComponentCache")
            .field("disk_dir", &self.disk_dir())
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl<E: WasmEngine> Drop for CompiledComponentCache<E> {
    fn drop(&mut self) {
        self.record();
    }
}

impl<E: WasmEngine> CompiledComponentCache<E> {
    /// A cache compiling with `engine`.
    ///
    /// # Errors
    ///
    /// [`EngineError::CacheDir`] when the disk directory cannot be created,
    /// is not a directory, is writable by group or others, is owned by
    /// another user (root excepted), or this user cannot create files in it.
    pub fn new(engine: E, config: CacheConfig) -> Result<Self, EngineError> {
        let disk = config
            .disk_dir
            .map(|dir| DiskTier::open(dir, config.max_disk_bytes, config.max_entry_bytes))
            .transpose()?;
        Ok(Self {
            fingerprint: engine.fingerprint(),
            engine,
            memory: MemoryTier::new(config.max_memory_entries, config.max_memory_bytes),
            disk,
            inflight: Mutex::new(FxHashMap::default()),
            counters: Counters::default(),
            recorded: Mutex::new(DirCounters::default()),
        })
    }

    /// The engine the cache compiles with.
    pub fn engine(&self) -> &E {
        &self.engine
    }

    /// The disk tier's directory, if there is one.
    pub fn disk_dir(&self) -> Option<&Path> {
        self.disk.as_ref().map(DiskTier::dir)
    }

    /// The key of the binary component `bytes` with this cache's engine.
    pub fn key_for(&self, bytes: &[u8]) -> CacheKey {
        CacheKey::derive(&self.fingerprint, SourceKind::Binary, bytes)
    }

    /// Where the disk entry for `key` lives (whether or not it exists);
    /// `None` without a disk tier.
    pub fn entry_path(&self, key: &CacheKey) -> Option<PathBuf> {
        self.disk.as_ref().map(|d| d.entry_path(key))
    }

    /// The compiled component for the binary component `bytes`: from
    /// memory, from a verified disk entry, or compiled (and then stored in
    /// both tiers).
    ///
    /// # Errors
    ///
    /// The engine's compile error. Disk problems are never errors: a bad
    /// entry is rejected and the component compiled, a failed write is
    /// counted in [`CacheStats::disk_write_errors`].
    pub fn get_or_compile(&self, bytes: &[u8]) -> Result<CacheOutcome<E::Compiled>, EngineError> {
        self.lookup(Source::Binary(bytes))
    }

    /// Like [`Self::get_or_compile`], but a miss compiles with `compile`
    /// (called with this cache's engine and `bytes`) instead of
    /// [`WasmEngine::compile`]: for an engine's richer compile, such as one
    /// that names the component's origin in its errors. The key is the one
    /// [`Self::get_or_compile`] uses, so `compile` must compile exactly
    /// `bytes` with the engine's settings; its error is returned as it is.
    ///
    /// # Errors
    ///
    /// `compile`'s error.
    pub fn get_or_compile_with(
        &self,
        bytes: &[u8],
        compile: CompileFn<'_, E>,
    ) -> Result<CacheOutcome<E::Compiled>, EngineError> {
        self.lookup(Source::Custom(bytes, compile))
    }

    /// Like [`Self::get_or_compile`], for a component in WebAssembly text.
    pub fn get_or_compile_wat(&self, text: &str) -> Result<CacheOutcome<E::Compiled>, EngineError> {
        self.lookup(Source::Wat(text))
    }

    /// Like [`Self::get_or_compile`] for the component in the file at
    /// `path` (WebAssembly text when the name ends in `.wat`). The key is
    /// computed from the file's contents, not its name or time stamps.
    ///
    /// # Errors
    ///
    /// [`EngineError::Io`] when the file cannot be read,
    /// [`EngineError::InvalidWat`] when a `.wat` file is not UTF-8, and the
    /// engine's compile error.
    pub fn get_or_compile_file(
        &self,
        path: impl AsRef<Path>,
    ) -> Result<CacheOutcome<E::Compiled>, EngineError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| EngineError::Io {
            action: "read the component",
            path: path.to_path_buf(),
            source,
        })?;
        if path.extension().is_some_and(|e| e == "wat") {
            let text = std::str::from_utf8(&bytes).map_err(|e| EngineError::InvalidWat {
                origin: path.display().to_string(),
                message: format!("not UTF-8: {e}"),
            })?;
            self.get_or_compile_wat(text)
        } else {
            self.get_or_compile(&bytes)
        }
    }

    /// A snapshot of the counters, with the engine's incremental
    /// compilation cache's ([`WasmEngine::incremental_stats`]).
    pub fn stats(&self) -> CacheStats {
        let (entries, bytes) = self.memory.usage();
        let mut stats = self.counters.snapshot(entries, bytes);
        stats.incremental = self.engine.incremental_stats();
        stats
    }

    /// Adds what the disk tier saw since the last call to the directory's
    /// counters ([`super::read_counters`]). Cold: after a compile and on
    /// drop, never on a hit.
    fn record(&self) {
        let Some(disk) = &self.disk else {
            return;
        };
        let mut recorded = self.recorded.lock().unwrap_or_else(PoisonError::into_inner);
        let s = self.counters.snapshot(0, 0);
        let now = DirCounters {
            disk_hits: s.disk_hits,
            compiles: s.compiles,
            evicted_entries: s.disk_evictions,
            rejected_entries: s.rejected.total(),
            evicted_packs: self
                .counters
                .evicted_packs
                .load(std::sync::atomic::Ordering::Relaxed),
            ..DirCounters::default()
        };
        let delta = DirCounters {
            disk_hits: now.disk_hits - recorded.disk_hits,
            compiles: now.compiles - recorded.compiles,
            evicted_entries: now.evicted_entries - recorded.evicted_entries,
            rejected_entries: now.rejected_entries - recorded.rejected_entries,
            evicted_packs: now.evicted_packs - recorded.evicted_packs,
            ..DirCounters::default()
        };
        ledger::add(disk.dir(), &delta);
        *recorded = now;
    }

    /// Empties the memory tier (the disk tier is kept).
    pub fn clear_memory(&self) {
        self.memory.clear();
    }

    fn lookup(&self, source: Source<'_, E>) -> Result<CacheOutcome<E::Compiled>, EngineError> {
        bump(&self.counters.lookups);
        let key = CacheKey::derive(&self.fingerprint, source.kind(), source.bytes());
        let span = crate::trace::cache_lookup(&key);
        let result = self.lookup_key(key, source);
        span.finish(result.as_ref().map_or("failed", |o| o.tier.name()));
        result
    }

    fn lookup_key(
        &self,
        key: CacheKey,
        source: Source<'_, E>,
    ) -> Result<CacheOutcome<E::Compiled>, EngineError> {
        let outcome = |(compiled, tier)| CacheOutcome {
            compiled,
            tier,
            key,
        };
        if let Some(compiled) = self.memory.get(&key) {
            bump(&self.counters.memory_hits);
            return Ok(outcome((compiled, CacheTier::Memory)));
        }
        let flight = Arc::clone(
            self.inflight
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(key)
                .or_default(),
        );
        let mut own = None;
        let shared = flight.get_or_init(|| {
            let result = self.load_or_compile(&key, source);
            let shared = result.as_ref().ok().cloned();
            own = Some(result);
            shared
        });
        {
            let mut inflight = self.inflight.lock().unwrap_or_else(PoisonError::into_inner);
            if inflight.get(&key).is_some_and(|f| Arc::ptr_eq(f, &flight)) {
                inflight.remove(&key);
            }
        }
        match (own, shared) {
            (Some(result), _) => result.map(outcome),
            (None, Some((compiled, _))) => {
                bump(&self.counters.memory_hits);
                bump(&self.counters.coalesced);
                Ok(outcome((compiled.clone(), CacheTier::Memory)))
            }
            // The thread that ran the flight failed and kept its error:
            // try again, to report this request's own error.
            (None, None) => self.load_or_compile(&key, source).map(outcome),
        }
    }

    /// Memory (again: another flight may just have filled it), then disk,
    /// then compile.
    fn load_or_compile(
        &self,
        key: &CacheKey,
        source: Source<'_, E>,
    ) -> Result<(E::Compiled, CacheTier), EngineError> {
        if let Some(compiled) = self.memory.get(key) {
            bump(&self.counters.memory_hits);
            return Ok((compiled, CacheTier::Memory));
        }
        if let Some(disk) = &self.disk
            && let Some(compiled) = self.load_from_disk(disk, key)
        {
            return Ok((compiled, CacheTier::Disk));
        }
        bump(&self.counters.misses);
        let started = Instant::now();
        let compiled = match source {
            Source::Binary(bytes) => self.engine.compile(bytes),
            Source::Wat(text) => self.engine.compile_wat(text),
            Source::Custom(bytes, compile) => compile(&self.engine, bytes),
        };
        let compiled = match compiled {
            Ok(c) => c,
            Err(e) => {
                bump(&self.counters.compile_failures);
                return Err(e);
            }
        };
        add_time(&self.counters.compile_nanos, started.elapsed());
        bump(&self.counters.compiles);
        let mut weight = source.bytes().len() as u64;
        if let Some(disk) = &self.disk {
            match self.engine.serialize(&compiled) {
                Ok(artifact) => {
                    weight = artifact.len() as u64;
                    match disk.write(key, &artifact) {
                        Ok(()) => {
                            bump(&self.counters.disk_writes);
                            let evicted = disk.enforce_limit(key);
                            add(&self.counters.disk_evictions, evicted.entries);
                            add(&self.counters.evicted_packs, evicted.packs);
                        }
                        Err(_e) => {
                            bump(&self.counters.disk_write_errors);
                            #[cfg(feature = "tracing-support")]
                            tracing::warn!(key = %key, error = %_e, "cannot write cache entry");
                        }
                    }
                }
                Err(_e) => {
                    bump(&self.counters.disk_write_errors);
                    #[cfg(feature = "tracing-support")]
                    tracing::warn!(key = %key, error = %_e, "cannot serialize for the cache");
                }
            }
        }
        let evicted = self.memory.insert(*key, compiled.clone(), weight);
        add(&self.counters.memory_evictions, evicted);
        self.record();
        Ok((compiled, CacheTier::Compiled))
    }

    /// A verified, deserialized disk entry; a bad entry is counted and
    /// removed.
    fn load_from_disk(&self, disk: &DiskTier, key: &CacheKey) -> Option<E::Compiled> {
        let started = Instant::now();
        let entry = match disk.read(key) {
            Ok(Some(entry)) => entry,
            Ok(None) => return None,
            Err(rejection) => {
                self.rejected(disk, key, rejection.reason, &rejection.detail);
                return None;
            }
        };
        let payload = entry.payload();
        // SAFETY: `disk.read` verified, on these very bytes in memory, the
        // magic, the format version, that the header names this key (which
        // covers this engine's fingerprint), the payload length, and the
        // payload's SHA-256. So they are exactly what this cache wrote from
        // `serialize` of an engine with the same fingerprint, unless someone
        // able to write the directory forged the entry; `DiskTier::open`
        // refused directories other users can write or own.
        match unsafe { self.engine.deserialize(payload) } {
            Ok(compiled) => {
                add_time(&self.counters.disk_load_nanos, started.elapsed());
                bump(&self.counters.disk_hits);
                disk.touch(key);
                let evicted = self
                    .memory
                    .insert(*key, compiled.clone(), payload.len() as u64);
                add(&self.counters.memory_evictions, evicted);
                Some(compiled)
            }
            Err(e) => {
                self.rejected(disk, key, RejectReason::DeserializeFailed, &e.to_string());
                None
            }
        }
    }

    fn rejected(&self, disk: &DiskTier, key: &CacheKey, reason: RejectReason, _detail: &str) {
        self.counters.reject(reason);
        #[cfg(feature = "tracing-support")]
        tracing::warn!(
            key = %key,
            reason = reason.name(),
            detail = _detail,
            "rejected a compiled-component cache entry; compiling again"
        );
        if reason.removes_entry() {
            disk.discard(key);
        }
    }
}

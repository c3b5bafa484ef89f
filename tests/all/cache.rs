//! The compiled-component cache: both tiers round trip and the result runs;
//! engines with other settings miss; every class of disk corruption is
//! detected, removed, counted by reason and recovered from; racing threads
//! and processes compile once and leave only valid entries; and no byte the
//! cache did not verify ever reaches `unsafe deserialize`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier, LazyLock};
use std::time::Duration;

use proptest::prelude::*;
use sha2::{Digest, Sha256};
use torvyn_engine::cache::{
    CacheConfig, CacheKey, CacheTier, CompiledComponentCache, DiskUsage, FORMAT_VERSION,
    HEADER_LEN, MAGIC, RejectReason, clear_disk, disk_usage,
};
use torvyn_engine::wasmtime::WasmtimeInvoker;
use torvyn_engine::wasmtime::{WasmtimeEngine, WasmtimeEngineConfig};
use torvyn_engine::{
    CompilationStrategy, ComponentId, EngineError, Limits, ProcessResult, StreamElement, WasmEngine,
};
use torvyn_harness::fuzz::spy::{HeldCompile, SpyEngine};

use crate::support::{engine, ok};

static UPPERCASE: LazyLock<Vec<u8>> =
    LazyLock::new(|| torvyn_harness::fixtures::load_fixture("uppercase").unwrap());
static PASSTHROUGH: LazyLock<Vec<u8>> =
    LazyLock::new(|| torvyn_harness::fixtures::load_fixture("passthrough").unwrap());

/// Instantiates `compiled` (the uppercase fixture) and checks it runs.
#[track_caller]
fn assert_runs<E>(engine: &E, compiled: &E::Compiled)
where
    E: WasmEngine<Instance = WasmtimeInvoker>,
{
    let mut inst = engine
        .instantiate(compiled, ComponentId::new("cached-upper"))
        .expect("a cached component instantiates");
    let call = inst.process_sync(StreamElement::new(0, "hello", "text/plain"));
    match ok(call, &inst) {
        ProcessResult::Emit(out) => assert_eq!(&out.payload[..], b"HELLO"),
        ProcessResult::Drop => panic!("uppercase always emits"),
    }
}

fn disk_config(dir: &Path) -> CacheConfig {
    CacheConfig::with_disk(dir)
}

/// Memory tier off: every lookup reaches the disk.
fn disk_only(dir: &Path) -> CacheConfig {
    CacheConfig {
        max_memory_entries: 0,
        ..CacheConfig::with_disk(dir)
    }
}

/// Files in `dir`, by name, but the directory's counters
/// (`counters.json` and its lock, `torvyn_engine::cache::read_counters`).
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.starts_with("counters."))
        .collect();
    names.sort();
    names
}

#[test]
fn round_trip_through_memory_then_disk() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path().join("cache");
    let e = engine(CompilationStrategy::Cranelift);

    let cache = CompiledComponentCache::new(e.clone(), disk_config(&dir)).unwrap();
    let first = cache.get_or_compile(&UPPERCASE).unwrap();
    assert_eq!(first.tier, CacheTier::Compiled);
    assert_eq!(first.key, cache.key_for(&UPPERCASE));
    assert_runs(&e, &first.compiled);
    let second = cache.get_or_compile(&UPPERCASE).unwrap();
    assert_eq!(second.tier, CacheTier::Memory);
    assert_runs(&e, &second.compiled);
    let stats = cache.stats();
    assert_eq!(
        (
            stats.lookups,
            stats.compiles,
            stats.memory_hits,
            stats.disk_hits,
            stats.misses
        ),
        (2, 1, 1, 0, 1)
    );
    assert_eq!((stats.disk_writes, stats.disk_write_errors), (1, 0));
    assert_eq!(stats.memory_entries, 1);
    assert!(stats.compile_time > Duration::ZERO);
    assert_eq!(
        stats.time_saved, stats.compile_time,
        "one hit saves one compile"
    );

    let entry = cache.entry_path(&first.key).unwrap();
    assert_eq!(
        names_in(&dir),
        [format!("{}.twcc", first.key)],
        "one entry, no temporary files"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700, "a missing cache dir is created private");
        assert_eq!(mode(&entry), 0o600, "entries are private");
    }

    // A new cache (a new process, say) on the same directory.
    let cache = CompiledComponentCache::new(e.clone(), disk_config(&dir)).unwrap();
    let third = cache.get_or_compile(&UPPERCASE).unwrap();
    assert_eq!(third.tier, CacheTier::Disk);
    assert_runs(&e, &third.compiled);
    assert_eq!(
        cache.get_or_compile(&UPPERCASE).unwrap().tier,
        CacheTier::Memory
    );
    let stats = cache.stats();
    assert_eq!(
        (
            stats.compiles,
            stats.disk_hits,
            stats.memory_hits,
            stats.rejected.total()
        ),
        (0, 1, 1, 0)
    );
    assert!(stats.disk_load_time > Duration::ZERO);
    assert!(stats.to_string().contains("1 disk hits"), "{stats}");

    // The same bytes from a file share the key.
    let file = dir.parent().unwrap().join("upper.wasm");
    std::fs::write(&file, &*UPPERCASE).unwrap();
    let from_file = cache.get_or_compile_file(&file).unwrap();
    assert_eq!(
        (from_file.tier, from_file.key),
        (CacheTier::Memory, first.key)
    );
}

#[test]
fn memory_only_cache_and_its_bounds() {
    let e = engine(CompilationStrategy::Winch);
    let cache = CompiledComponentCache::new(
        e.clone(),
        CacheConfig {
            max_memory_entries: 1,
            ..CacheConfig::default()
        },
    )
    .unwrap();
    assert_eq!(cache.disk_dir(), None);
    assert_eq!(cache.entry_path(&cache.key_for(&UPPERCASE)), None);
    let tier = |bytes: &[u8]| cache.get_or_compile(bytes).unwrap().tier;
    assert_eq!(tier(&UPPERCASE), CacheTier::Compiled);
    assert_eq!(tier(&UPPERCASE), CacheTier::Memory);
    assert_eq!(tier(&PASSTHROUGH), CacheTier::Compiled);
    assert_eq!(
        tier(&UPPERCASE),
        CacheTier::Compiled,
        "evicted by passthrough"
    );
    let stats = cache.stats();
    assert_eq!((stats.compiles, stats.memory_evictions), (3, 2));
    assert_eq!((stats.memory_entries, stats.disk_writes), (1, 0));
    cache.clear_memory();
    assert_eq!(tier(&UPPERCASE), CacheTier::Compiled);
}

#[test]
fn wat_files_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cache =
        CompiledComponentCache::new(engine(CompilationStrategy::Winch), disk_config(dir.path()))
            .unwrap();
    let wat = torvyn_harness::fixtures::fixture_path("component-text");
    assert_eq!(
        cache.get_or_compile_file(&wat).unwrap().tier,
        CacheTier::Compiled
    );
    let text = std::fs::read_to_string(&wat).unwrap();
    assert_eq!(
        cache.get_or_compile_wat(&text).unwrap().tier,
        CacheTier::Memory
    );

    let missing = dir.path().join("nope.wasm");
    let err = cache.get_or_compile_file(&missing).unwrap_err();
    assert!(matches!(err, EngineError::Io { .. }), "{err}");
    assert!(err.to_string().contains("nope.wasm"), "{err}");

    let before = names_in(dir.path()).len();
    let err = cache.get_or_compile(b"not wasm").unwrap_err();
    assert!(matches!(err, EngineError::Compile { .. }), "{err}");
    let stats = cache.stats();
    assert_eq!((stats.compile_failures, stats.compiles), (1, 1));
    assert_eq!(
        names_in(dir.path()).len(),
        before,
        "a failure caches nothing"
    );
}

#[test]
fn a_callers_compile_function_shares_the_binary_key_and_keeps_its_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cache =
        CompiledComponentCache::new(engine(CompilationStrategy::Winch), disk_only(dir.path()))
            .unwrap();
    let calls = std::sync::atomic::AtomicU32::new(0);
    let named = |e: &WasmtimeEngine, b: &[u8]| {
        calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        e.compile_named(b, "my-origin.wasm")
    };
    let first = cache.get_or_compile_with(&UPPERCASE, &named).unwrap();
    assert_eq!(first.tier, CacheTier::Compiled);
    assert_eq!(first.key, cache.key_for(&UPPERCASE));
    assert_runs(cache.engine(), &first.compiled);
    // The plain lookup finds what the function compiled, and vice versa.
    assert_eq!(
        cache.get_or_compile(&UPPERCASE).unwrap().tier,
        CacheTier::Disk
    );
    let again = cache.get_or_compile_with(&UPPERCASE, &named).unwrap();
    assert_eq!(again.tier, CacheTier::Disk);
    assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 1);

    let err = cache.get_or_compile_with(b"not wasm", &named).unwrap_err();
    assert!(err.to_string().contains("my-origin.wasm"), "{err}");
    assert_eq!(cache.stats().compile_failures, 1);
}

#[test]
fn disk_usage_counts_entries_and_clear_disk_removes_only_them() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    assert_eq!(disk_usage(&missing).unwrap(), DiskUsage::default());
    assert_eq!(clear_disk(&missing).unwrap(), DiskUsage::default());
    assert!(!missing.exists(), "neither creates the directory");

    let cache =
        CompiledComponentCache::new(engine(CompilationStrategy::Winch), disk_config(dir.path()))
            .unwrap();
    cache.get_or_compile(&UPPERCASE).unwrap();
    cache.get_or_compile(&PASSTHROUGH).unwrap();
    std::fs::write(dir.path().join("README"), "kept").unwrap();
    let bytes: u64 = [&UPPERCASE, &PASSTHROUGH]
        .iter()
        .map(|b| {
            let path = cache.entry_path(&cache.key_for(b)).unwrap();
            std::fs::metadata(path).unwrap().len()
        })
        .sum();
    let usage = disk_usage(dir.path()).unwrap();
    assert_eq!(usage, DiskUsage { entries: 2, bytes });

    assert_eq!(clear_disk(dir.path()).unwrap(), usage);
    assert_eq!(names_in(dir.path()), ["README"]);
    assert_eq!(disk_usage(dir.path()).unwrap(), DiskUsage::default());
}

#[test]
fn engines_with_other_settings_miss() {
    let dir = tempfile::tempdir().unwrap();
    let cranelift = engine(CompilationStrategy::Cranelift);
    let no_fuel = WasmtimeEngine::new(WasmtimeEngineConfig {
        limits: Limits {
            fuel_enabled: false,
            ..Limits::default()
        },
        ..WasmtimeEngineConfig::default()
    })
    .unwrap();
    let winch = engine(CompilationStrategy::Winch);
    let small_stack = WasmtimeEngine::new(WasmtimeEngineConfig {
        max_wasm_stack: 512 * 1024,
        ..WasmtimeEngineConfig::default()
    })
    .unwrap();
    let twin = WasmtimeEngine::new(WasmtimeEngineConfig::default()).unwrap();
    assert_eq!(
        cranelift.fingerprint(),
        twin.fingerprint(),
        "the same settings give the same fingerprint"
    );
    let prints: HashSet<[u8; 32]> = [&cranelift, &no_fuel, &winch, &small_stack]
        .iter()
        .map(|e| e.fingerprint())
        .collect();
    assert_eq!(prints.len(), 4, "every setting changes the fingerprint");

    let tier = |e: &WasmtimeEngine| {
        let cache = CompiledComponentCache::new(e.clone(), disk_config(dir.path())).unwrap();
        let out = cache.get_or_compile(&UPPERCASE).unwrap();
        assert_eq!(cache.stats().rejected.total(), 0);
        assert_runs(e, &out.compiled);
        out.tier
    };
    assert_eq!(tier(&cranelift), CacheTier::Compiled);
    assert_eq!(tier(&no_fuel), CacheTier::Compiled);
    assert_eq!(tier(&winch), CacheTier::Compiled);
    assert_eq!(tier(&small_stack), CacheTier::Compiled);
    assert_eq!(tier(&twin), CacheTier::Disk);
    assert_eq!(tier(&no_fuel), CacheTier::Disk);
    assert_eq!(names_in(dir.path()).len(), 4);
}

/// The spy the fuzz target `cache_entry` uses: it records every
/// `deserialize` input that `serialize` did not produce.
type Spy = SpyEngine<WasmtimeEngine>;

/// A disk-only cache with one valid uppercase entry, and a copy of it.
struct Damage {
    _dir: tempfile::TempDir,
    spy: Spy,
    cache: CompiledComponentCache<Spy>,
    key: CacheKey,
    path: PathBuf,
    golden: Vec<u8>,
}

impl Damage {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let spy = Spy::new(engine(CompilationStrategy::Winch));
        let cache = CompiledComponentCache::new(spy.clone(), disk_only(dir.path())).unwrap();
        let key = cache.get_or_compile(&UPPERCASE).unwrap().key;
        let path = cache.entry_path(&key).unwrap();
        let golden = std::fs::read(&path).unwrap();
        assert!(golden.len() > HEADER_LEN);
        assert_eq!(&golden[..8], &MAGIC);
        assert_eq!(golden[8..12], FORMAT_VERSION.to_le_bytes());
        assert_eq!(&golden[12..44], key.as_bytes());
        Self {
            _dir: dir,
            spy,
            cache,
            key,
            path,
            golden,
        }
    }

    /// Puts `bytes` at the entry path, checks the lookup rejects it for one
    /// of `expected`, removes it, compiles again, and leaves a valid entry.
    #[track_caller]
    fn check(&self, bytes: &[u8], expected: &[RejectReason], what: &str) {
        std::fs::write(&self.path, bytes).unwrap();
        self.check_in_place(expected, what);
    }

    #[track_caller]
    fn check_in_place(&self, expected: &[RejectReason], what: &str) {
        let before = self.cache.stats();
        let out = self.cache.get_or_compile(&UPPERCASE).unwrap();
        let after = self.cache.stats();
        assert_eq!(out.tier, CacheTier::Compiled, "{what}: recompiled");
        assert_eq!(after.compiles, before.compiles + 1, "{what}");
        assert_eq!(
            after.rejected.total(),
            before.rejected.total() + 1,
            "{what}"
        );
        let reason = RejectReason::ALL
            .into_iter()
            .find(|r| after.rejected.get(*r) > before.rejected.get(*r))
            .unwrap();
        assert!(
            expected.contains(&reason),
            "{what}: rejected as {reason}, expected one of {expected:?}"
        );
        assert!(
            std::fs::symlink_metadata(&self.path).unwrap().is_file(),
            "{what}: the bad entry was replaced by a valid one"
        );
        assert_eq!(
            self.cache.get_or_compile(&UPPERCASE).unwrap().tier,
            CacheTier::Disk,
            "{what}: the rewritten entry is valid"
        );
        assert_eq!(
            self.spy.foreign().len(),
            0,
            "{what}: unverified bytes deserialized"
        );
    }
}

#[test]
fn a_flipped_bit_anywhere_is_detected() {
    use RejectReason::*;
    let d = Damage::new();
    assert_eq!(
        d.cache.get_or_compile(&UPPERCASE).unwrap().tier,
        CacheTier::Disk
    );
    let flip = |at: usize, bit: u8| {
        let mut bytes = d.golden.clone();
        bytes[at] ^= 1 << bit;
        bytes
    };
    // Every byte of the header, one bit each.
    for at in 0..HEADER_LEN {
        let expected: &[RejectReason] = match at {
            0..8 => &[BadMagic],
            8..12 => &[BadVersion],
            12..44 => &[WrongKey],
            44..52 => &[Truncated, LengthMismatch],
            _ => &[DigestMismatch],
        };
        d.check(
            &flip(at, (at % 8) as u8),
            expected,
            &format!("header byte {at}"),
        );
    }
    // A spread over the payload, including its first and last bytes.
    let payload = d.golden.len() - HEADER_LEN;
    for i in 0..24 {
        let at = HEADER_LEN + i * (payload - 1) / 23;
        d.check(
            &flip(at, (i % 8) as u8),
            &[DigestMismatch],
            &format!("payload byte {at}"),
        );
    }
    let stats = d.cache.stats();
    assert_eq!(stats.rejected.get(BadMagic), 8);
    assert_eq!(stats.rejected.get(BadVersion), 4);
    assert_eq!(stats.rejected.get(WrongKey), 32);
    assert_eq!(stats.rejected.get(DigestMismatch), 32 + 24);
    assert_eq!(
        stats.rejected.get(Truncated) + stats.rejected.get(LengthMismatch),
        8
    );
}

#[test]
fn truncation_at_any_length_is_detected() {
    let d = Damage::new();
    d.check(&[], &[RejectReason::Empty], "a zero-length file");
    for len in 1..HEADER_LEN {
        d.check(
            &d.golden[..len],
            &[RejectReason::Truncated],
            &format!("{len} bytes"),
        );
    }
    let payload = d.golden.len() - HEADER_LEN;
    for i in 0..32 {
        let len = HEADER_LEN + i * (payload - 1) / 31;
        d.check(
            &d.golden[..len],
            &[RejectReason::Truncated],
            &format!("{len} bytes"),
        );
    }
    let mut longer = d.golden.clone();
    longer.extend_from_slice(b"trailing");
    d.check(&longer, &[RejectReason::LengthMismatch], "trailing bytes");
    let stats = d.cache.stats();
    assert_eq!(stats.rejected.get(RejectReason::Empty), 1);
    assert_eq!(
        stats.rejected.get(RejectReason::Truncated),
        (HEADER_LEN - 1 + 32) as u64
    );
}

#[test]
fn an_entry_for_another_key_is_refused() {
    let d = Damage::new();
    // A valid entry for passthrough, copied to uppercase's path.
    let other = d.cache.get_or_compile(&PASSTHROUGH).unwrap();
    assert_ne!(other.key, d.key);
    let other_entry = std::fs::read(d.cache.entry_path(&other.key).unwrap()).unwrap();
    d.check(
        &other_entry,
        &[RejectReason::WrongKey],
        "passthrough's entry",
    );
    // And uppercase's entry copied to passthrough's path.
    let other_path = d.cache.entry_path(&other.key).unwrap();
    std::fs::write(&other_path, &d.golden).unwrap();
    let out = d.cache.get_or_compile(&PASSTHROUGH).unwrap();
    assert_eq!(out.tier, CacheTier::Compiled);
    assert_eq!(d.cache.stats().rejected.get(RejectReason::WrongKey), 2);
    assert_eq!(d.spy.foreign().len(), 0);
}

#[test]
fn a_directory_or_a_link_where_an_entry_should_be() {
    let d = Damage::new();
    std::fs::remove_file(&d.path).unwrap();
    std::fs::create_dir(&d.path).unwrap();
    std::fs::write(d.path.join("inside"), b"x").unwrap();
    d.check_in_place(&[RejectReason::NotAFile], "a directory");
    #[cfg(unix)]
    {
        let elsewhere = d._dir.path().join("elsewhere");
        std::fs::write(&elsewhere, &d.golden).unwrap();
        std::fs::remove_file(&d.path).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &d.path).unwrap();
        d.check_in_place(&[RejectReason::NotAFile], "a symlink");
        assert!(elsewhere.exists(), "the link is removed, not its target");
    }
}

#[test]
fn a_sealed_entry_the_engine_refuses_is_removed() {
    // Integrity, not authenticity: an entry sealed over garbage passes the
    // digest, and the engine's own checks must catch it.
    let d = Damage::new();
    let garbage = b"definitely not machine code".to_vec();
    let mut entry = Vec::new();
    entry.extend_from_slice(&MAGIC);
    entry.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    entry.extend_from_slice(d.key.as_bytes());
    entry.extend_from_slice(&(garbage.len() as u64).to_le_bytes());
    entry.extend_from_slice(&Sha256::digest(&garbage));
    entry.extend_from_slice(&garbage);
    std::fs::write(&d.path, &entry).unwrap();
    let out = d.cache.get_or_compile(&UPPERCASE).unwrap();
    assert_eq!(out.tier, CacheTier::Compiled);
    assert_eq!(
        d.cache
            .stats()
            .rejected
            .get(RejectReason::DeserializeFailed),
        1
    );
    assert_eq!(d.spy.foreign(), [garbage], "only the sealed bytes");
    assert_eq!(
        d.cache.get_or_compile(&UPPERCASE).unwrap().tier,
        CacheTier::Disk
    );
}

#[test]
fn too_large_entries_are_rejected_unread() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(CompilationStrategy::Winch);
    let cache = CompiledComponentCache::new(e.clone(), disk_only(dir.path())).unwrap();
    let key = cache.get_or_compile(&UPPERCASE).unwrap().key;
    let size = std::fs::metadata(cache.entry_path(&key).unwrap())
        .unwrap()
        .len();
    let small = CompiledComponentCache::new(
        e,
        CacheConfig {
            max_entry_bytes: size - HEADER_LEN as u64 - 1,
            ..disk_only(dir.path())
        },
    )
    .unwrap();
    assert_eq!(
        small.get_or_compile(&UPPERCASE).unwrap().tier,
        CacheTier::Compiled
    );
    let stats = small.stats();
    assert_eq!(stats.rejected.get(RejectReason::TooLarge), 1);
    assert_eq!(
        stats.disk_write_errors, 1,
        "nor is a too-large artifact written"
    );
    assert!(!cache.entry_path(&key).unwrap().exists());
}

#[test]
fn the_disk_size_bound_evicts_the_oldest() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(CompilationStrategy::Winch);
    let sizes = {
        let probe = tempfile::tempdir().unwrap();
        let cache = CompiledComponentCache::new(e.clone(), disk_only(probe.path())).unwrap();
        [&*UPPERCASE, &*PASSTHROUGH].map(|b| {
            let key = cache.get_or_compile(b).unwrap().key;
            std::fs::metadata(cache.entry_path(&key).unwrap())
                .unwrap()
                .len()
        })
    };
    let cache = CompiledComponentCache::new(
        e,
        CacheConfig {
            max_disk_bytes: Some(sizes[0].max(sizes[1]) + 1),
            ..disk_only(dir.path())
        },
    )
    .unwrap();
    let upper = cache.get_or_compile(&UPPERCASE).unwrap().key;
    let pass = cache.get_or_compile(&PASSTHROUGH).unwrap().key;
    assert_eq!(cache.stats().disk_evictions, 1);
    assert!(!cache.entry_path(&upper).unwrap().exists());
    assert!(cache.entry_path(&pass).unwrap().exists());
    assert_eq!(names_in(dir.path()), [format!("{pass}.twcc")]);
}

#[cfg(unix)]
#[test]
fn unsafe_cache_directories_are_refused() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().unwrap();
    let e = engine(CompilationStrategy::Winch);
    let dir = root.path().join("shared");
    std::fs::create_dir(&dir).unwrap();
    for mode in [0o777, 0o770, 0o1777, 0o722] {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).unwrap();
        let err = CompiledComponentCache::new(e.clone(), disk_config(&dir)).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, EngineError::CacheDir { .. }), "{text}");
        assert!(
            text.contains(&dir.display().to_string()),
            "names the path: {text}"
        );
        assert!(text.contains("chmod go-w"), "says what to do: {text}");
    }
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    CompiledComponentCache::new(e.clone(), disk_config(&dir)).expect("0755 is private enough");

    let file = root.path().join("file");
    std::fs::write(&file, b"").unwrap();
    let err = CompiledComponentCache::new(e, disk_config(&file)).unwrap_err();
    assert!(err.to_string().contains("not a directory"), "{err}");
}

#[test]
fn racing_threads_compile_once() {
    let dir = tempfile::tempdir().unwrap();
    let spy = Spy::new(engine(CompilationStrategy::Cranelift));
    let cache =
        Arc::new(CompiledComponentCache::new(spy.clone(), disk_config(dir.path())).unwrap());
    let barrier = Arc::new(Barrier::new(8));
    let tiers: Vec<CacheTier> = (0..8)
        .map(|_| {
            let (cache, barrier) = (Arc::clone(&cache), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                let out = cache.get_or_compile(&UPPERCASE).unwrap();
                assert_runs(cache.engine(), &out.compiled);
                out.tier
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    assert_eq!(
        tiers.iter().filter(|t| **t == CacheTier::Compiled).count(),
        1
    );
    assert_eq!(tiers.iter().filter(|t| **t == CacheTier::Memory).count(), 7);
    let stats = cache.stats();
    assert_eq!((stats.compiles, stats.memory_hits, stats.misses), (1, 7, 1));
    assert_eq!(spy.compiles(), 1);
    assert_eq!(stats.disk_writes, 1);
}

#[test]
fn a_compile_in_progress_blocks_only_its_own_key() {
    let spy = Spy::new(engine(CompilationStrategy::Winch));
    let cache = Arc::new(CompiledComponentCache::new(spy.clone(), CacheConfig::default()).unwrap());
    cache.get_or_compile(&PASSTHROUGH).unwrap();
    let HeldCompile { entered, release } = spy.hold_compile_of(&UPPERCASE);
    let slow = {
        let cache = Arc::clone(&cache);
        std::thread::spawn(move || cache.get_or_compile(&UPPERCASE).unwrap().tier)
    };
    entered.recv().unwrap();
    // Uppercase is compiling (held at the gate); other keys go on.
    assert_eq!(
        cache.get_or_compile(&PASSTHROUGH).unwrap().tier,
        CacheTier::Memory
    );
    let text =
        std::fs::read_to_string(torvyn_harness::fixtures::fixture_path("component-text")).unwrap();
    assert_eq!(
        cache.get_or_compile_wat(&text).unwrap().tier,
        CacheTier::Compiled
    );
    release.send(()).unwrap();
    assert_eq!(slow.join().unwrap(), CacheTier::Compiled);
    assert_eq!(
        cache.get_or_compile(&UPPERCASE).unwrap().tier,
        CacheTier::Memory
    );
}

/// The environment variable naming the directory the child process uses.
const CHILD_DIR: &str = "TORVYN_CACHE_CHILD_DIR";

/// Run by [`two_processes_share_a_directory`] in child processes; a no-op
/// otherwise.
#[test]
fn child_process_helper() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else {
        return;
    };
    let e = engine(CompilationStrategy::Cranelift);
    for _ in 0..3 {
        let cache = CompiledComponentCache::new(e.clone(), disk_only(Path::new(&dir))).unwrap();
        for bytes in [&*UPPERCASE, &*PASSTHROUGH] {
            cache.get_or_compile(bytes).unwrap();
        }
        let out = cache.get_or_compile(&UPPERCASE).unwrap();
        assert_runs(&e, &out.compiled);
        assert_eq!(cache.stats().rejected.total(), 0, "{}", cache.stats());
    }
}

#[test]
fn two_processes_share_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    crate::support::run_twice_at_once(
        "cache::child_process_helper",
        &[(CHILD_DIR, dir.path().as_os_str())],
    );
    // Two valid entries and nothing else; this process loads both.
    let cache = CompiledComponentCache::new(
        engine(CompilationStrategy::Cranelift),
        disk_only(dir.path()),
    )
    .unwrap();
    let keys = [&*UPPERCASE, &*PASSTHROUGH].map(|b| cache.key_for(b));
    let mut expected: Vec<String> = keys.iter().map(|k| format!("{k}.twcc")).collect();
    expected.sort();
    assert_eq!(names_in(dir.path()), expected);
    for bytes in [&*UPPERCASE, &*PASSTHROUGH] {
        assert_eq!(cache.get_or_compile(bytes).unwrap().tier, CacheTier::Disk);
    }
    assert_eq!(cache.stats().rejected.total(), 0);
}

/// Entry files to try: random bytes, and a valid entry damaged in the ways
/// a disk or a writer can damage it.
fn damaged(golden: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = golden.len();
    let (g1, g2, g3, g4) = (golden.clone(), golden.clone(), golden.clone(), golden);
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        // bit flips
        proptest::collection::vec((0..len, 0..8u8), 1..4).prop_map(move |flips| {
            let mut b = g1.clone();
            for (at, bit) in flips {
                b[at] ^= 1 << bit;
            }
            b
        }),
        // truncation
        (0..len).prop_map(move |n| g2[..n].to_vec()),
        // the header with another payload, or the payload with another header
        proptest::collection::vec(any::<u8>(), 0..256).prop_map(move |tail| {
            let mut b = g3[..HEADER_LEN].to_vec();
            b.extend(tail);
            b
        }),
        proptest::collection::vec(any::<u8>(), HEADER_LEN..HEADER_LEN + 1).prop_map(move |head| {
            let mut b = head;
            b.extend_from_slice(&g4[HEADER_LEN..]);
            b
        }),
    ]
}

#[test]
fn arbitrary_entry_bytes_never_reach_deserialize() {
    use proptest::test_runner::{Config, TestRunner};
    let d = Damage::new();
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&damaged(d.golden.clone()), |bytes| {
            std::fs::write(&d.path, &bytes).unwrap();
            let before = d.cache.stats();
            let out = d.cache.get_or_compile(&UPPERCASE).unwrap();
            let after = d.cache.stats();
            prop_assert_eq!(
                d.spy.foreign().len(),
                0,
                "unverified bytes were deserialized"
            );
            if bytes == d.golden {
                prop_assert_eq!(out.tier, CacheTier::Disk);
            } else {
                prop_assert_eq!(out.tier, CacheTier::Compiled);
                prop_assert_eq!(after.rejected.total(), before.rejected.total() + 1);
            }
            prop_assert_eq!(
                d.cache.get_or_compile(&UPPERCASE).unwrap().tier,
                CacheTier::Disk
            );
            Ok(())
        })
        .unwrap();
    assert!(d.spy.deserialized() >= 64, "verified entries were loaded");
}

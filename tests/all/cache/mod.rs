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

/// The spy the fuzz target `cache_entry` uses: it records every
/// `deserialize` input that `serialize` did not produce.
type Spy = SpyEngine<WasmtimeEngine>;

mod concurrency;
mod damage;

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

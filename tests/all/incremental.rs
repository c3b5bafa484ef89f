//! The incremental compilation cache (Cranelift's per-function cache, on
//! disk beside the compiled-component cache) and the directory's size
//! bound: a rebuilt component finds its unchanged functions; a damaged
//! entry or pack is never used, the function is compiled again and the
//! component still runs; the bound removes the least recently used files
//! of both kinds; processes sharing a directory leave only valid packs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use torvyn_engine::IncrementalStats;
use torvyn_engine::cache::{
    CacheConfig, CacheTier, CompiledComponentCache, INCREMENTAL_DIR, IncrementalCacheConfig,
    PACK_HEADER_LEN, read_counters,
};
use torvyn_engine::wasmtime::{UnknownImports, WasmtimeEngine, WasmtimeEngineConfig};
use torvyn_engine::{
    CompilationStrategy, ComponentId, EngineError, ProcessResult, StreamElement, WasmEngine,
};

use crate::support::{engine, ok};

/// A Cranelift engine whose incremental cache is in `dir`, bounded by
/// `max`.
fn engine_in(dir: &Path, max: Option<u64>) -> WasmtimeEngine {
    WasmtimeEngine::new(WasmtimeEngineConfig {
        incremental_cache: Some(IncrementalCacheConfig {
            cache_dir: dir.to_path_buf(),
            max_disk_bytes: max,
        }),
        unknown_imports: UnknownImports::Trap,
        ..WasmtimeEngineConfig::default()
    })
    .unwrap()
}

/// The `uppercase` fixture with `extra` more functions (loops, arithmetic,
/// stores, each different); `tweak` changes the first one only, as an edit
/// of one function changes a rebuild.
fn uppercase_with(extra: usize, tweak: u32) -> Vec<u8> {
    let path = torvyn_harness::fixtures::fixture_path("uppercase");
    let text = std::fs::read_to_string(&path).unwrap();
    let end = text.rfind(')').expect("the module's closing parenthesis");
    let mut funcs = String::new();
    for n in 0..extra {
        let k = if n == 0 { tweak } else { n as u32 % 7 + 1 };
        funcs.push_str(&format!(
            "(func $extra{n} (export \"extra{n}\") (param $x i32) (result i32)
               (local $i i32) (local $acc i32)
               (loop $l
                 (local.set $acc (i32.add (local.get $acc) (i32.mul (local.get $i) (local.get $x))))
                 (local.set $acc (i32.xor (local.get $acc) (i32.shl (local.get $acc) (i32.const {k}))))
                 (i32.store (i32.and (local.get $acc) (i32.const 0xfff0)) (local.get $acc))
                 (local.set $i (i32.add (local.get $i) (i32.const 1)))
                 (br_if $l (i32.lt_u (local.get $i) (i32.const {m}))))
               (i32.sub (local.get $acc) (i32.const {n})))\n",
            m = n % 50 + 10,
        ));
    }
    let text = format!("{}{funcs}{}", &text[..end], &text[end..]);
    torvyn_harness::fixtures::component_from_wat(&text, "uppercase+extra").unwrap()
}

/// Compiles `bytes` on `engine`; what the incremental cache did meanwhile.
fn compile(
    engine: &WasmtimeEngine,
    bytes: &[u8],
) -> (torvyn_engine::wasmtime::WasmtimeCompiled, IncrementalStats) {
    let before = engine.incremental_stats().unwrap();
    let compiled = engine.compile(bytes).unwrap();
    (compiled, engine.incremental_stats().unwrap().since(&before))
}

/// Checks that `compiled` (uppercase, with or without extra functions)
/// uppercases.
#[track_caller]
fn assert_upper_runs(
    engine: &WasmtimeEngine,
    compiled: &torvyn_engine::wasmtime::WasmtimeCompiled,
) {
    let mut inst = engine
        .instantiate(compiled, ComponentId::new("upper"))
        .unwrap();
    let call = inst.process_sync(StreamElement::new(0, "hello", "text/plain"));
    match ok(call, &inst) {
        ProcessResult::Emit(out) => assert_eq!(&out.payload[..], b"HELLO"),
        ProcessResult::Drop => panic!("uppercase always emits"),
    }
}

/// The pack files of the store in `dir`.
fn packs(dir: &Path) -> Vec<PathBuf> {
    let Ok(items) = std::fs::read_dir(dir.join(INCREMENTAL_DIR)) else {
        return Vec::new();
    };
    let mut v: Vec<_> = items
        .map(|i| i.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "twip"))
        .collect();
    v.sort();
    v
}

/// Bytes the compiled-component entries and packs in `dir` take.
fn bounded_bytes(dir: &Path) -> u64 {
    let twcc: u64 = std::fs::read_dir(dir)
        .unwrap()
        .map(|i| i.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "twcc"))
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    twcc + packs(dir)
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum::<u64>()
}

#[test]
fn a_rebuilt_component_finds_its_unchanged_functions() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (uppercase_with(40, 1), uppercase_with(40, 2));
    assert_ne!(old, new);

    let (_, first) = compile(&engine_in(dir.path(), None), &old);
    assert!(first.misses > 40, "an empty store misses: {first}");
    assert_eq!(first.inserts, first.misses, "every miss is stored: {first}");
    assert_eq!((first.packs_written, first.rejected), (1, 0), "{first}");
    assert_eq!(packs(dir.path()).len(), 1);

    // A new engine, as the next command would have: the store is read back
    // from the disk.
    let e = engine_in(dir.path(), None);
    let (compiled, rebuilt) = compile(&e, &new);
    assert!(
        rebuilt.misses >= 1,
        "the changed function is compiled: {rebuilt}"
    );
    assert!(
        rebuilt.hits * 10 >= rebuilt.lookups() * 8,
        "most functions come from the store: {rebuilt}"
    );
    assert!(rebuilt.bytes_read > 0 && rebuilt.rejected == 0, "{rebuilt}");
    assert_upper_runs(&e, &compiled);

    let counters = read_counters(dir.path()).unwrap();
    assert!(
        counters.incremental_hits >= rebuilt.hits,
        "the directory counts them: {counters:?}"
    );
}

/// The componentize-py pair `fixtures/guests/build.sh` builds: the same
/// CPython, a slightly different `app.py`.
#[test]
fn a_rebuilt_python_component_finds_most_functions_in_the_store() {
    let dir_of_guests = match std::env::var_os("TORVYN_GUESTS") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("target/guests"),
    };
    let paths = ["py-stamp", "py-stamp-changed"].map(|n| dir_of_guests.join(format!("{n}.wasm")));
    if let Some(missing) = paths.iter().find(|p| !p.is_file()) {
        let why = format!(
            "{} is not built: run fixtures/guests/build.sh",
            missing.display()
        );
        assert!(std::env::var_os("CI").is_none(), "{why}");
        eprintln!("skipped: {why}");
        return;
    }
    let [old, new] = paths.map(|p| std::fs::read(p).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let (_, first) = compile(&engine_in(dir.path(), None), &old);
    let (_, rebuilt) = compile(&engine_in(dir.path(), None), &new);
    eprintln!("original: {first}\nrebuilt: {rebuilt}");
    assert!(first.inserts > 1000, "{first}");
    assert!(
        rebuilt.hits * 10 >= rebuilt.lookups() * 8,
        "most of the rebuilt component's functions come from the store: {rebuilt}"
    );
    assert_eq!(rebuilt.rejected, 0);
}

/// Where the values of the pack at `path` are: (offset, length) each,
/// from its index (see `torvyn_engine::cache` for the layout).
fn value_places(path: &Path) -> Vec<(usize, usize)> {
    let b = std::fs::read(path).unwrap();
    let u32_at = |at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize;
    let count = u32_at(12);
    let index_len = u64::from_le_bytes(b[16..24].try_into().unwrap()) as usize;
    let mut offset = PACK_HEADER_LEN + index_len;
    let mut at = PACK_HEADER_LEN;
    let mut places = Vec::new();
    for _ in 0..count {
        let key_len = u32_at(at);
        let len = u32_at(at + 4 + key_len);
        places.push((offset, len));
        offset += len;
        at += 4 + key_len + 4 + 32;
    }
    assert_eq!(offset, b.len(), "the index describes the whole file");
    places
}

/// Flips one bit of each byte of `path` at `offsets`.
fn flip(path: &Path, offsets: impl IntoIterator<Item = usize>) {
    let mut bytes = std::fs::read(path).unwrap();
    for at in offsets {
        bytes[at] ^= 0x20;
    }
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn damaged_values_are_never_used_and_their_functions_compiled_again() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = uppercase_with(8, 1);
    compile(&engine_in(dir.path(), None), &bytes);
    let [pack] = &packs(dir.path())[..] else {
        panic!("one pack expected")
    };
    // The last byte of every value: the header and index still check out,
    // so only the values' digests can tell.
    let places = value_places(pack);
    flip(pack, places.iter().map(|(at, len)| at + len - 1));
    let damaged = std::fs::read(pack).unwrap();

    let e = engine_in(dir.path(), None);
    let (compiled, again) = compile(&e, &bytes);
    assert!(again.rejected >= 1, "damaged values are refused: {again}");
    assert_eq!(
        again.inserts, again.misses,
        "each refused value is a miss, compiled and stored again: {again}"
    );
    assert!(again.misses >= again.rejected, "{again}");
    assert_upper_runs(&e, &compiled);
    // The damaged pack is removed; the recompiled functions' pack may
    // have its name (the same entries, written again), not its bytes.
    let after = packs(dir.path());
    assert_eq!(after.len(), 1, "the recompiled functions' pack: {after:?}");
    assert_ne!(std::fs::read(&after[0]).unwrap(), damaged);

    let e = engine_in(dir.path(), None);
    let (compiled, third) = compile(&e, &bytes);
    assert_eq!(third.rejected, 0, "{third}");
    assert!(third.hits > 0, "{third}");
    assert_upper_runs(&e, &compiled);
    assert_eq!(
        read_counters(dir.path()).unwrap().rejected_incremental,
        again.rejected
    );
}

#[test]
fn a_damaged_index_rejects_the_whole_pack() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = uppercase_with(8, 1);
    let (_, first) = compile(&engine_in(dir.path(), None), &bytes);
    let [pack] = &packs(dir.path())[..] else {
        panic!("one pack expected")
    };
    flip(pack, [PACK_HEADER_LEN + 3]);
    let damaged = std::fs::read(pack).unwrap();
    let e = engine_in(dir.path(), None);
    let (compiled, again) = compile(&e, &bytes);
    assert_eq!(again.rejected, 1, "{again}");
    assert_eq!(again.lookups(), first.lookups(), "{again}");
    assert_eq!(
        again.packs_written, 1,
        "everything compiled and stored: {again}"
    );
    assert_upper_runs(&e, &compiled);
    for p in packs(dir.path()) {
        assert_ne!(
            std::fs::read(p).unwrap(),
            damaged,
            "the damaged pack is gone"
        );
    }
    let (_, third) = compile(&engine_in(dir.path(), None), &bytes);
    assert_eq!(third.rejected, 0, "{third}");
}

#[test]
fn winch_has_no_incremental_cache() {
    let dir = tempfile::tempdir().unwrap();
    let Err(err) = WasmtimeEngine::new(WasmtimeEngineConfig {
        incremental_cache: Some(IncrementalCacheConfig::in_dir(dir.path())),
        ..WasmtimeEngineConfig::with_strategy(CompilationStrategy::Winch)
    }) else {
        panic!("Winch with an incremental cache is refused")
    };
    assert!(matches!(err, EngineError::InvalidConfig(_)), "{err}");
    assert!(err.to_string().contains("incremental_cache"), "{err}");
    assert!(
        engine(CompilationStrategy::Winch)
            .incremental_stats()
            .is_none()
    );
}

#[cfg(unix)]
#[test]
fn an_unsafe_store_directory_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("cache");
    std::fs::create_dir_all(dir.join(INCREMENTAL_DIR)).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::set_permissions(
        dir.join(INCREMENTAL_DIR),
        std::fs::Permissions::from_mode(0o777),
    )
    .unwrap();
    let Err(err) = WasmtimeEngine::new(WasmtimeEngineConfig {
        incremental_cache: Some(IncrementalCacheConfig::in_dir(&dir)),
        ..WasmtimeEngineConfig::default()
    }) else {
        panic!("a store directory others can write is refused")
    };
    assert!(matches!(err, EngineError::CacheDir { .. }), "{err}");
    assert!(err.to_string().contains("chmod go-w"), "{err}");
}

/// Memory tier off: every lookup reaches the disk.
fn disk_only(dir: &Path, max: Option<u64>) -> CacheConfig {
    CacheConfig {
        max_memory_entries: 0,
        max_disk_bytes: max,
        ..CacheConfig::with_disk(dir)
    }
}

/// The modification-time clock of some file systems ticks every few
/// milliseconds: wait longer between steps whose order the test checks.
fn tick() {
    std::thread::sleep(Duration::from_millis(30));
}

#[test]
fn the_bound_evicts_the_least_recently_used_entry() {
    let e = engine(CompilationStrategy::Winch);
    let fixtures = ["uppercase", "passthrough", "filter"]
        .map(|f| torvyn_harness::fixtures::load_fixture(f).unwrap());
    let sizes = {
        let probe = tempfile::tempdir().unwrap();
        let cache = CompiledComponentCache::new(e.clone(), disk_only(probe.path(), None)).unwrap();
        fixtures.each_ref().map(|b| {
            let key = cache.get_or_compile(b).unwrap().key;
            std::fs::metadata(cache.entry_path(&key).unwrap())
                .unwrap()
                .len()
        })
    };
    // Room for uppercase and either other one, not all three.
    let bound = (sizes[0] + sizes[1]).max(sizes[0] + sizes[2]);
    let dir = tempfile::tempdir().unwrap();
    let cache = CompiledComponentCache::new(e, disk_only(dir.path(), Some(bound))).unwrap();
    let [a, b, c] = &fixtures;
    let key_a = cache.get_or_compile(a).unwrap().key;
    tick();
    let key_b = cache.get_or_compile(b).unwrap().key;
    tick();
    // A disk hit makes uppercase the most recently used.
    assert_eq!(cache.get_or_compile(a).unwrap().tier, CacheTier::Disk);
    tick();
    let key_c = cache.get_or_compile(c).unwrap().key;
    let exists = |k| cache.entry_path(k).unwrap().exists();
    assert!(exists(&key_a), "used last but one: kept");
    assert!(!exists(&key_b), "the least recently used: evicted");
    assert!(exists(&key_c), "just written: kept");
    assert_eq!(cache.stats().disk_evictions, 1);
    drop(cache);
    let counters = read_counters(dir.path()).unwrap();
    assert_eq!(
        (
            counters.compiles,
            counters.disk_hits,
            counters.evicted_entries
        ),
        (3, 1, 1),
        "{counters:?}"
    );
}

#[test]
fn entries_and_packs_share_one_bound() {
    let dir = tempfile::tempdir().unwrap();
    let upper = torvyn_harness::fixtures::load_fixture("uppercase").unwrap();
    let pass = torvyn_harness::fixtures::load_fixture("passthrough").unwrap();

    // Unbounded first, to learn the sizes.
    {
        let e = engine_in(dir.path(), None);
        let cache = CompiledComponentCache::new(e, disk_only(dir.path(), None)).unwrap();
        cache.get_or_compile(&upper).unwrap();
    }
    let one_component = bounded_bytes(dir.path());
    assert_eq!(packs(dir.path()).len(), 1);

    // A bound that holds one component and its pack, not two.
    let bound = one_component + one_component / 2;
    let e = engine_in(dir.path(), Some(bound));
    let cache = CompiledComponentCache::new(e.clone(), disk_only(dir.path(), Some(bound))).unwrap();
    tick();
    let out = cache.get_or_compile(&pass).unwrap();
    assert_eq!(out.tier, CacheTier::Compiled);
    assert!(
        bounded_bytes(dir.path()) <= bound,
        "{} bytes over the bound of {bound}",
        bounded_bytes(dir.path())
    );
    assert!(
        cache.entry_path(&out.key).unwrap().exists(),
        "the entry just written is kept"
    );
    let inc = e.incremental_stats().unwrap();
    drop(cache);
    let counters = read_counters(dir.path()).unwrap();
    assert!(
        counters.evicted_entries + counters.evicted_packs >= 1,
        "the older component's files went first: {counters:?}, {inc}"
    );

    // The tightest bound keeps only the file written last.
    let e = engine_in(dir.path(), Some(1));
    let cache = CompiledComponentCache::new(e.clone(), disk_only(dir.path(), Some(1))).unwrap();
    let out = cache.get_or_compile(&uppercase_with(2, 5)).unwrap();
    assert_eq!(out.tier, CacheTier::Compiled);
    assert!(packs(dir.path()).is_empty(), "every pack evicted");
    assert!(cache.entry_path(&out.key).unwrap().exists());
    assert_upper_runs(&e, &out.compiled);
}

/// The environment variable naming the directory the child process uses.
const CHILD_DIR: &str = "TORVYN_INCREMENTAL_CHILD_DIR";

/// Run by [`two_processes_share_a_bounded_store`] in child processes; a
/// no-op otherwise.
#[test]
fn incremental_child_process_helper() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else {
        return;
    };
    let dir = PathBuf::from(dir);
    let bound = std::env::var("TORVYN_INCREMENTAL_CHILD_BOUND")
        .unwrap()
        .parse()
        .unwrap();
    for round in 0..4 {
        let e = engine_in(&dir, Some(bound));
        let cache = CompiledComponentCache::new(e.clone(), disk_only(&dir, Some(bound))).unwrap();
        for extra in [4, 6, 8] {
            let bytes = uppercase_with(extra, round);
            let out = cache.get_or_compile(&bytes).unwrap();
            assert_upper_runs(&e, &out.compiled);
        }
        let inc = e.incremental_stats().unwrap();
        assert_eq!(inc.rejected, 0, "{inc}");
        assert_eq!(cache.stats().rejected.total(), 0, "{}", cache.stats());
    }
}

#[test]
fn two_processes_share_a_bounded_store() {
    let dir = tempfile::tempdir().unwrap();
    // Learn one compile's size, then bound the directory at about three.
    {
        let e = engine_in(dir.path(), None);
        let cache = CompiledComponentCache::new(e, disk_only(dir.path(), None)).unwrap();
        cache.get_or_compile(&uppercase_with(4, 99)).unwrap();
    }
    let bound = bounded_bytes(dir.path()) * 3;
    let bound = bound.to_string();
    crate::support::run_twice_at_once(
        "incremental::incremental_child_process_helper",
        &[
            (CHILD_DIR, dir.path().as_os_str()),
            (
                "TORVYN_INCREMENTAL_CHILD_BOUND",
                std::ffi::OsStr::new(&bound),
            ),
        ],
    );
    let counters = read_counters(dir.path()).unwrap();
    assert!(
        counters.evicted_entries + counters.evicted_packs > 0,
        "the bound was reached: {counters:?}"
    );
    assert_eq!(
        (counters.rejected_entries, counters.rejected_incremental),
        (0, 0),
        "{counters:?}"
    );
    // What is left is whole: every pack and entry loads without a
    // rejection, and nothing but entries, packs and the counters remain.
    let e = engine_in(dir.path(), None);
    let cache = CompiledComponentCache::new(e.clone(), disk_only(dir.path(), None)).unwrap();
    for extra in [4, 6, 8] {
        let out = cache.get_or_compile(&uppercase_with(extra, 3)).unwrap();
        assert_upper_runs(&e, &out.compiled);
    }
    assert_eq!(e.incremental_stats().unwrap().rejected, 0);
    assert_eq!(cache.stats().rejected.total(), 0);
    let strays: Vec<_> = std::fs::read_dir(dir.path().join(INCREMENTAL_DIR))
        .unwrap()
        .map(|i| i.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.ends_with(".twip"))
        .collect();
    assert!(strays.is_empty(), "no temporary files left: {strays:?}");
}

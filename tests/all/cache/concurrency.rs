//! Threads and processes sharing a cache: one compile per key.

use super::*;

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
        "cache::concurrency::child_process_helper",
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

//! What the incremental compilation cache saves on a rebuilt component:
//! compile times of a component `NEW` (a rebuild of `OLD`) with no cache,
//! after `OLD` was compiled into the same cache directory, and fully
//! cached. The figures in `benches/RESULTS.md`:
//!
//! ```sh
//! fixtures/guests/build.sh
//! cargo run --release --example incremental_rebuild -- \
//!   target/guests/py-stamp.wasm target/guests/py-stamp-changed.wasm 3
//! ```
//!
//! Each round uses a new cache directory and a new engine per step (as
//! separate `torvyn-sim` commands would; the operating system's page cache
//! stays warm):
//!
//! - `cold`: `NEW` compiled with no cache at all;
//! - `cold, storing`: `OLD` compiled with an empty incremental cache,
//!   which stores every function (the first build's cost);
//! - `rebuilt`: then `NEW`, in a new engine over the same directory: the
//!   first run of the rebuilt component;
//! - `rebuilt again`: `NEW` once more, in a new engine, from the
//!   incremental cache only (no compiled-component entry);
//! - `disk hit`: `NEW` loaded from the compiled-component cache's verified
//!   entry (what every later run of an unchanged component costs).
//!
//! The third argument is the number of rounds (default 3); the median of
//! each step is printed, with its ratio to `cold` and the incremental
//! cache's hits and misses.

use std::path::Path;
use std::time::{Duration, Instant};

use torvyn_engine::cache::{
    CacheConfig, CacheTier, CompiledComponentCache, IncrementalCacheConfig, IncrementalStats,
};
use torvyn_engine::wasmtime::{UnknownImports, WasmtimeEngine, WasmtimeEngineConfig};

fn engine(incremental: Option<&Path>) -> WasmtimeEngine {
    WasmtimeEngine::new(WasmtimeEngineConfig {
        unknown_imports: UnknownImports::Trap,
        incremental_cache: incremental.map(IncrementalCacheConfig::in_dir),
        ..WasmtimeEngineConfig::default()
    })
    .expect("a valid configuration")
}

/// Compiles `bytes` on `engine`: the time and what the incremental cache
/// did meanwhile.
fn compile(engine: &WasmtimeEngine, bytes: &[u8], origin: &str) -> (Duration, IncrementalStats) {
    let before = engine.incremental_stats().unwrap_or_default();
    let started = Instant::now();
    engine
        .compile_named(bytes, origin)
        .unwrap_or_else(|e| panic!("{e}"));
    let took = started.elapsed();
    let after = engine.incremental_stats().unwrap_or_default();
    (took, after.since(&before))
}

struct Step {
    name: &'static str,
    times: Vec<Duration>,
    stats: Vec<IncrementalStats>,
}

impl Step {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            times: Vec::new(),
            stats: Vec::new(),
        }
    }

    fn add(&mut self, (time, stats): (Duration, IncrementalStats)) {
        self.times.push(time);
        self.stats.push(stats);
    }

    fn median(&self) -> Duration {
        let mut t = self.times.clone();
        t.sort();
        t[t.len() / 2]
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(old), Some(new)) = (args.first(), args.get(1)) else {
        eprintln!("usage: incremental_rebuild OLD.wasm NEW.wasm [ROUNDS]");
        std::process::exit(2);
    };
    let rounds: usize = args
        .get(2)
        .map_or(3, |r| r.parse().expect("ROUNDS is a number"));
    let read = |p: &str| std::fs::read(p).unwrap_or_else(|e| panic!("cannot read {p}: {e}"));
    let (old_bytes, new_bytes) = (read(old), read(new));

    let mut steps = [
        Step::new("cold"),
        Step::new("cold, storing"),
        Step::new("rebuilt"),
        Step::new("rebuilt again"),
        Step::new("disk hit"),
    ];
    for round in 1..=rounds {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let cache_dir = dir.path().join("cache");
        steps[0].add(compile(&engine(None), &new_bytes, new));
        steps[1].add(compile(&engine(Some(&cache_dir)), &old_bytes, old));
        steps[2].add(compile(&engine(Some(&cache_dir)), &new_bytes, new));
        steps[3].add(compile(&engine(Some(&cache_dir)), &new_bytes, new));
        // Write the compiled-component entry, then load it in a new cache.
        let config = || CacheConfig {
            max_memory_entries: 0,
            ..CacheConfig::with_disk(&cache_dir)
        };
        let e = engine(Some(&cache_dir));
        CompiledComponentCache::new(e.clone(), config())
            .and_then(|c| c.get_or_compile(&new_bytes))
            .expect("compiles");
        let cache = CompiledComponentCache::new(e, config()).expect("opens");
        let started = Instant::now();
        let hit = cache.get_or_compile(&new_bytes).expect("loads");
        steps[4].add((started.elapsed(), IncrementalStats::default()));
        assert_eq!(hit.tier, CacheTier::Disk);
        eprintln!(
            "round {round}: {}",
            steps
                .iter()
                .map(|s| format!("{} {:.2?}", s.name, s.times[round - 1]))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let cold = steps[0].median();
    println!("{old} then {new}, {rounds} rounds (medians):\n");
    println!("| step | time | ÷ cold | incremental hits | misses |");
    println!("|---|---:|---:|---:|---:|");
    for s in &steps {
        let (hits, misses) = if s.stats.iter().all(|st| st.lookups() == 0) {
            ("—".to_string(), "—".to_string())
        } else {
            let mut h: Vec<u64> = s.stats.iter().map(|st| st.hits).collect();
            let mut m: Vec<u64> = s.stats.iter().map(|st| st.misses).collect();
            h.sort_unstable();
            m.sort_unstable();
            (h[h.len() / 2].to_string(), m[m.len() / 2].to_string())
        };
        println!(
            "| {} | {:.2?} | {:.3} | {hits} | {misses} |",
            s.name,
            s.median(),
            s.median().as_secs_f64() / cold.as_secs_f64()
        );
    }
}

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
//! cache's hits and misses. Beside the wall time, the process's CPU time
//! (user and system, all threads; from `/proc/self/stat`, Linux only),
//! which other processes on a shared machine disturb less.

use std::path::Path;
use std::time::{Duration, Instant};

use torvyn_engine::IncrementalStats;
use torvyn_engine::cache::{
    CacheConfig, CacheTier, CompiledComponentCache, IncrementalCacheConfig,
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

/// The CPU time this process used so far (all threads), where the system
/// says; zero elsewhere.
fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields 14 and 15 (utime, stime), counted after the command name,
    // which ends at the last `)`, in clock ticks of 10 ms.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let ticks: u64 = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|t| t.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}

/// What one step took.
#[derive(Clone, Copy, Default)]
struct Took {
    wall: Duration,
    cpu: Duration,
    stats: IncrementalStats,
}

/// Runs `f`, timing it.
fn timed(f: impl FnOnce()) -> (Duration, Duration) {
    let (cpu, started) = (cpu_time(), Instant::now());
    f();
    (started.elapsed(), cpu_time().saturating_sub(cpu))
}

/// Compiles `bytes` on `engine`: the times and what the incremental cache
/// did meanwhile.
fn compile(engine: &WasmtimeEngine, bytes: &[u8], origin: &str) -> Took {
    let before = engine.incremental_stats().unwrap_or_default();
    let (wall, cpu) = timed(|| {
        engine
            .compile_named(bytes, origin)
            .unwrap_or_else(|e| panic!("{e}"));
    });
    let after = engine.incremental_stats().unwrap_or_default();
    Took {
        wall,
        cpu,
        stats: after.since(&before),
    }
}

struct Step {
    name: &'static str,
    took: Vec<Took>,
}

impl Step {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            took: Vec::new(),
        }
    }

    fn median<T: Ord + Copy>(&self, f: impl Fn(&Took) -> T) -> T {
        let mut v: Vec<T> = self.took.iter().map(f).collect();
        v.sort();
        v[v.len() / 2]
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
        steps[0].took.push(compile(&engine(None), &new_bytes, new));
        steps[1]
            .took
            .push(compile(&engine(Some(&cache_dir)), &old_bytes, old));
        steps[2]
            .took
            .push(compile(&engine(Some(&cache_dir)), &new_bytes, new));
        steps[3]
            .took
            .push(compile(&engine(Some(&cache_dir)), &new_bytes, new));
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
        let mut tier = None;
        let (wall, cpu) =
            timed(|| tier = Some(cache.get_or_compile(&new_bytes).expect("loads").tier));
        assert_eq!(tier, Some(CacheTier::Disk));
        steps[4].took.push(Took {
            wall,
            cpu,
            stats: IncrementalStats::default(),
        });
        eprintln!(
            "round {round}: {}",
            steps
                .iter()
                .map(|s| {
                    let t = &s.took[round - 1];
                    format!("{} {:.2?} (cpu {:.2?})", s.name, t.wall, t.cpu)
                })
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let (cold_wall, cold_cpu) = (steps[0].median(|t| t.wall), steps[0].median(|t| t.cpu));
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    println!("{old} then {new}, {rounds} rounds (medians):\n");
    println!("| step | wall | ÷ cold | CPU | ÷ cold | incremental hits | misses |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for s in &steps {
        let (hits, misses) = if s.took.iter().all(|t| t.stats.lookups() == 0) {
            ("—".to_string(), "—".to_string())
        } else {
            (
                s.median(|t| t.stats.hits).to_string(),
                s.median(|t| t.stats.misses).to_string(),
            )
        };
        let (wall, cpu) = (s.median(|t| t.wall), s.median(|t| t.cpu));
        println!(
            "| {} | {wall:.2?} | {:.3} | {cpu:.2?} | {:.3} | {hits} | {misses} |",
            s.name,
            ratio(wall, cold_wall),
            ratio(cpu, cold_cpu),
        );
    }
}

//! Cold path: compile (Cranelift against Winch), instantiate (the engine's
//! pooled instantiate from `InstancePre` against an on-demand
//! `linker.instantiate` that builds its `Linker` every time), and the
//! compiled-component cache (memory hit, disk hit with digest verification,
//! compile).
//!
//! Benchmark ids: `compile/<cranelift|winch>/<uppercase|uppercase+400fn>`,
//! `instantiate/<engine-pooled-instancepre|engine-ondemand-instancepre|baseline-ondemand-linking>/<fixture>`,
//! `cache/<memory-hit|disk-hit|compile-cranelift>/<fixture>`, and
//! `cache/<disk-hit|compile-cranelift>/py-uppercase` for a large component
//! built by a real toolchain (componentize-py, about 36 MB, CPython inside)
//! when `fixtures/guests/build.sh` has built it into `$TORVYN_GUESTS`
//! (default `target/guests/`); without it those two are skipped, saying so.

mod common;

use std::hint::black_box;
use std::time::Duration;

use common::{engine, fixture};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use torvyn_engine::cache::{CacheConfig, CacheTier, CompiledComponentCache};
use torvyn_engine::wasmtime::{PoolingConfig, WasmtimeEngineConfig};
use torvyn_engine::{Clock, CompilationStrategy, ComponentId, WasmEngine};
use torvyn_harness::bench::Baseline;

const FIXTURE: &str = "uppercase";

fn cold() -> Criterion {
    common::criterion()
        .sample_size(10)
        .measurement_time(Duration::from_secs(3))
}

/// Functions added to the `uppercase` core module for the `uppercase+400fn`
/// compile input: a tiny fixture is mostly component glue (trampolines
/// and adapters, which Wasmtime compiles with Cranelift whatever the
/// strategy), a real guest is mostly function bodies.
const EXTRA_FUNCTIONS: usize = 400;

/// `uppercase` with [`EXTRA_FUNCTIONS`] more functions (loops, arithmetic,
/// stores), componentized like the fixture.
fn uppercase_with_functions() -> Vec<u8> {
    let path = torvyn_harness::fixtures::fixture_path(FIXTURE);
    let text = std::fs::read_to_string(&path).unwrap();
    let end = text.rfind(')').expect("the module's closing parenthesis");
    let mut extra = String::new();
    for n in 0..EXTRA_FUNCTIONS {
        extra.push_str(&format!(
            "(func $extra{n} (param $x i32) (result i32)
               (local $i i32) (local $acc i32)
               (loop $l
                 (local.set $acc (i32.add (local.get $acc) (i32.mul (local.get $i) (local.get $x))))
                 (local.set $acc (i32.xor (local.get $acc) (i32.shl (local.get $acc) (i32.const {k}))))
                 (local.set $acc (i32.rotl (local.get $acc) (local.get $i)))
                 (i32.store (i32.and (local.get $acc) (i32.const 0xfff0)) (local.get $acc))
                 (local.set $i (i32.add (local.get $i) (i32.const 1)))
                 (br_if $l (i32.lt_u (local.get $i) (i32.const {m}))))
               (if (result i32) (i32.gt_s (local.get $acc) (i32.const 0))
                 (then (i32.sub (local.get $acc) (local.get $x)))
                 (else (i32.load (i32.and (local.get $x) (i32.const 0xfff0))))))\n",
            k = n % 7 + 1,
            m = n % 50 + 10,
        ));
    }
    let text = format!("{}{extra}{}", &text[..end], &text[end..]);
    torvyn_harness::fixtures::component_from_wat(&text, "uppercase+400fn").unwrap()
}

fn compile(c: &mut Criterion) {
    let inputs = [
        (FIXTURE, fixture(FIXTURE)),
        ("uppercase+400fn", uppercase_with_functions()),
    ];
    let mut group = c.benchmark_group("compile");
    for strategy in [CompilationStrategy::Cranelift, CompilationStrategy::Winch] {
        let backend = engine(
            WasmtimeEngineConfig::with_strategy(strategy),
            Clock::system(),
        );
        let eng = backend.wasmtime();
        for (name, bytes) in &inputs {
            group.bench_with_input(
                BenchmarkId::new(strategy.name(), name),
                bytes,
                |b, bytes| b.iter(|| black_box(eng.compile(bytes).unwrap())),
            );
        }
    }
    group.finish();
}

fn instantiate(c: &mut Criterion) {
    let bytes = fixture(FIXTURE);
    let mut group = c.benchmark_group("instantiate");
    for (name, pooling) in [
        ("engine-pooled-instancepre", Some(PoolingConfig::default())),
        ("engine-ondemand-instancepre", None),
    ] {
        let backend = engine(
            WasmtimeEngineConfig {
                pooling,
                ..WasmtimeEngineConfig::default()
            },
            Clock::system(),
        );
        let eng = backend.wasmtime();
        let compiled = eng.compile(&bytes).unwrap();
        let id = ComponentId::new(FIXTURE);
        group.bench_function(BenchmarkId::new(name, FIXTURE), |b| {
            b.iter(|| black_box(eng.instantiate(&compiled, id.clone()).unwrap()))
        });
    }
    let base = Baseline::new(&WasmtimeEngineConfig::default(), &bytes, FIXTURE).unwrap();
    group.bench_function(
        BenchmarkId::new("baseline-ondemand-linking", FIXTURE),
        |b| b.iter(|| black_box(base.instantiate_with_linking().unwrap())),
    );
    group.finish();
}

fn cache(c: &mut Criterion) {
    let bytes = fixture(FIXTURE);
    let dir = tempfile::tempdir().unwrap();
    let backend = engine(WasmtimeEngineConfig::default(), Clock::system());
    let eng = backend.wasmtime();
    let mut group = c.benchmark_group("cache");

    let memory = CompiledComponentCache::new(eng.clone(), CacheConfig::default()).unwrap();
    memory.get_or_compile(&bytes).unwrap();
    group.bench_function(BenchmarkId::new("memory-hit", FIXTURE), |b| {
        b.iter(|| {
            let hit = memory.get_or_compile(&bytes).unwrap();
            assert_eq!(hit.tier, CacheTier::Memory);
            black_box(hit)
        })
    });

    // Memory tier off: every lookup reads, verifies and deserializes the
    // disk entry.
    let disk = CompiledComponentCache::new(
        eng.clone(),
        CacheConfig {
            max_memory_entries: 0,
            ..CacheConfig::with_disk(dir.path().join("cache"))
        },
    )
    .unwrap();
    assert_eq!(
        disk.get_or_compile(&bytes).unwrap().tier,
        CacheTier::Compiled
    );
    group.bench_function(BenchmarkId::new("disk-hit", FIXTURE), |b| {
        b.iter(|| {
            let hit = disk.get_or_compile(&bytes).unwrap();
            assert_eq!(hit.tier, CacheTier::Disk);
            black_box(hit)
        })
    });

    group.bench_function(BenchmarkId::new("compile-cranelift", FIXTURE), |b| {
        b.iter(|| black_box(eng.compile(&bytes).unwrap()))
    });

    // What a CLI user waits for the second time: a large component from
    // disk against compiling it.
    match std::fs::read(large_guest()) {
        Ok(large) => {
            let name = LARGE_GUEST;
            assert_eq!(
                disk.get_or_compile(&large).unwrap().tier,
                CacheTier::Compiled
            );
            group.bench_function(BenchmarkId::new("disk-hit", name), |b| {
                b.iter(|| {
                    let hit = disk.get_or_compile(&large).unwrap();
                    assert_eq!(hit.tier, CacheTier::Disk);
                    black_box(hit)
                })
            });
            group.bench_function(BenchmarkId::new("compile-cranelift", name), |b| {
                b.iter(|| black_box(eng.compile(&large).unwrap()))
            });
        }
        Err(e) => eprintln!(
            "cache/*/{LARGE_GUEST} skipped: {}: {e} (fixtures/guests/build.sh builds it)",
            large_guest().display()
        ),
    }
    group.finish();
}

/// The large component of the cache benchmarks.
const LARGE_GUEST: &str = "py-uppercase";

fn large_guest() -> std::path::PathBuf {
    let dir = std::env::var_os("TORVYN_GUESTS").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/guests"),
        std::path::PathBuf::from,
    );
    dir.join(format!("{LARGE_GUEST}.wasm"))
}

criterion_group! {
    name = benches;
    config = cold();
    targets = compile, instantiate, cache
}
criterion_main!(benches);

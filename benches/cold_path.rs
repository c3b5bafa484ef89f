//! Cold path: compile (Cranelift against Winch), instantiate (the engine's
//! pooled instantiate from `InstancePre` against an on-demand
//! `linker.instantiate` that builds its `Linker` every time), and the
//! compiled-component cache (memory hit, disk hit with digest verification,
//! compile).
//!
//! Benchmark ids: `compile/<cranelift|winch>/<fixture>`,
//! `instantiate/<engine-pooled-instancepre|engine-ondemand-instancepre|baseline-ondemand-linking>/<fixture>`,
//! `cache/<memory-hit|disk-hit|compile-cranelift>/<fixture>`.

mod common;

use std::hint::black_box;
use std::time::Duration;

use common::{engine, fixture};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use torvyn_engine::cache::{CacheConfig, CacheTier, CompiledComponentCache};
use torvyn_engine::{
    Clock, CompilationStrategy, ComponentId, PoolingConfig, WasmEngine, WasmtimeEngineConfig,
};
use torvyn_harness::bench::Baseline;

const FIXTURE: &str = "uppercase";

fn cold() -> Criterion {
    common::criterion()
        .sample_size(10)
        .measurement_time(Duration::from_secs(3))
}

fn compile(c: &mut Criterion) {
    let bytes = fixture(FIXTURE);
    let mut group = c.benchmark_group("compile");
    for strategy in [CompilationStrategy::Cranelift, CompilationStrategy::Winch] {
        let eng = engine(
            WasmtimeEngineConfig::with_strategy(strategy),
            Clock::system(),
        );
        group.bench_with_input(
            BenchmarkId::new(strategy.name(), FIXTURE),
            &bytes,
            |b, bytes| b.iter(|| black_box(eng.compile(bytes).unwrap())),
        );
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
        let eng = engine(
            WasmtimeEngineConfig {
                pooling,
                ..WasmtimeEngineConfig::default()
            },
            Clock::system(),
        );
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
    let eng = engine(WasmtimeEngineConfig::default(), Clock::system());
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
    group.finish();
}

criterion_group! {
    name = benches;
    config = cold();
    targets = compile, instantiate, cache
}
criterion_main!(benches);

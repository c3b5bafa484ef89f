//! Hot path: `process` on `passthrough` and `uppercase`, 64 B / 1 KiB /
//! 64 KiB payloads, against the minimal `bindgen!` baseline
//! (`torvyn_harness::bench`), sync and async (one long-lived task), fuel on
//! and off, Cranelift and Winch, system and virtual clock.
//!
//! Benchmark ids: `process_<fixture>_<compiler>_<fuel|nofuel>/<side>/<bytes>`
//! with side `baseline`, `engine-sync` or `engine-async`,
//! `process_clock_<fixture>/<system|virtual>/<bytes>`, and
//! `clock_read/<engine-system|engine-virtual|std-instant>` (one reading of
//! the clock each call pays twice).

mod common;

use std::hint::black_box;

use common::{CONTENT_TYPE, baseline, element, engine, instance, time_async_process};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use torvyn_engine::VirtualTime;
use torvyn_engine::wasmtime::WasmtimeEngineConfig;
use torvyn_engine::{Clock, CompilationStrategy, ComponentInvoker, Limits, ProcessResult};
use torvyn_harness::bench::text_payload;

const SIZES: [usize; 3] = [64, 1024, 64 * 1024];

struct Variant {
    strategy: CompilationStrategy,
    fuel: bool,
    /// Also measure the async path.
    with_async: bool,
}

fn process(c: &mut Criterion, fixture: &str, v: &Variant) {
    let config = WasmtimeEngineConfig {
        limits: Limits {
            fuel_enabled: v.fuel,
            ..Limits::default()
        },
        ..WasmtimeEngineConfig::with_strategy(v.strategy)
    };
    let eng = engine(config.clone(), Clock::system());
    let mut inv = instance(&eng, fixture, "");
    let mut base = baseline(&config, fixture, "");
    let mut group = c.benchmark_group(format!(
        "process_{fixture}_{}_{}",
        v.strategy.name(),
        if v.fuel { "fuel" } else { "nofuel" }
    ));
    for size in SIZES {
        let payload = text_payload(size);
        group.throughput(Throughput::Bytes(size as u64));

        // Both sides must produce the same output before they are timed.
        let engine_out = match inv.process_sync(element(0, &payload)).outcome {
            Ok(ProcessResult::Emit(out)) => out.payload,
            other => panic!("{fixture}: {other:?}"),
        };
        let base_out = base.process(0, &payload, CONTENT_TYPE).unwrap().unwrap();
        assert_eq!(
            engine_out[..],
            base_out[..],
            "{fixture}: engine and baseline differ"
        );

        group.bench_with_input(BenchmarkId::new("baseline", size), &payload, |b, p| {
            b.iter(|| black_box(base.process(0, p, CONTENT_TYPE)))
        });
        group.bench_with_input(BenchmarkId::new("engine-sync", size), &payload, |b, p| {
            b.iter(|| black_box(inv.process_sync(element(0, p))))
        });
        if v.with_async {
            group.bench_with_input(BenchmarkId::new("engine-async", size), &payload, |b, p| {
                b.iter_custom(|iters| time_async_process(&mut inv, p, iters))
            });
        }
    }
    group.finish();
    assert_eq!(inv.live_resources(), 0);
}

fn hot_path(c: &mut Criterion) {
    let variants = [
        Variant {
            strategy: CompilationStrategy::Cranelift,
            fuel: true,
            with_async: true,
        },
        Variant {
            strategy: CompilationStrategy::Cranelift,
            fuel: false,
            with_async: false,
        },
        Variant {
            strategy: CompilationStrategy::Winch,
            fuel: true,
            with_async: false,
        },
    ];
    for v in &variants {
        for fixture in ["passthrough", "uppercase"] {
            process(c, fixture, v);
        }
    }
}

/// The virtual clock (time from fuel and host calls) against the system
/// clock, Cranelift with fuel (the virtual clock needs it), 1 KiB.
fn clocks(c: &mut Criterion) {
    for fixture in ["passthrough", "uppercase"] {
        let mut group = c.benchmark_group(format!("process_clock_{fixture}"));
        let payload = text_payload(1024);
        group.throughput(Throughput::Bytes(1024));
        for (name, clock) in [
            ("system", Clock::system()),
            ("virtual", Clock::virtual_time(VirtualTime::default())),
        ] {
            let eng = engine(WasmtimeEngineConfig::default(), clock);
            let mut inv = instance(&eng, fixture, "");
            group.bench_with_input(BenchmarkId::new(name, 1024), &payload, |b, p| {
                b.iter(|| black_box(inv.process_sync(element(0, p))))
            });
        }
        group.finish();
    }
}

/// One reading of the engine clock (a call takes two, for its duration):
/// the system clock (the time-stamp counter through `quanta`) and the
/// virtual clock, against `std::time::Instant::now` + `elapsed`, which the
/// system clock used before.
fn clock_read(c: &mut Criterion) {
    let mut group = c.benchmark_group("clock_read");
    let system = Clock::system();
    group.bench_function("engine-system", |b| b.iter(|| black_box(system.now_ns())));
    let virt = Clock::virtual_time(VirtualTime::default());
    group.bench_function("engine-virtual", |b| b.iter(|| black_box(virt.now_ns())));
    let origin = std::time::Instant::now();
    group.bench_function("std-instant", |b| {
        b.iter(|| black_box(origin.elapsed().as_nanos() as u64))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = hot_path, clocks, clock_read
}
criterion_main!(benches);

//! Recording overhead: `process` with 1 KiB payloads on Wasmtime
//! (`passthrough`, `uppercase`; Cranelift, fuel on, system clock), plain
//! and through `torvyn_engine::record::Recorder` with payloads stored,
//! recording to memory and to a file. Both recordings rotate at 64 MiB
//! keeping one old part, so memory and disk stay bounded however long
//! criterion runs; rotation is part of the measured cost.
//!
//! Benchmark ids: `record_<fixture>/<plain|memory|file>/1024`. The goal
//! is memory ÷ plain and file ÷ plain ≤ 1.2.

mod common;

use common::{element, engine, instance, time_async_process};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use torvyn_engine::record::{MemoryRecording, RecordOptions, Recorder};
use torvyn_engine::wasmtime::WasmtimeEngineConfig;
use torvyn_engine::{Clock, ComponentInvoker, ProcessResult};
use torvyn_harness::bench::text_payload;

const SIZE: usize = 1024;

fn options() -> RecordOptions {
    RecordOptions {
        max_bytes: Some(64 << 20),
        keep_rotated: 1,
        ..RecordOptions::default()
    }
}

fn record(c: &mut Criterion, fixture: &str) {
    let eng = engine(WasmtimeEngineConfig::default(), Clock::system());
    let payload = text_payload(SIZE);
    let mut group = c.benchmark_group(format!("record_{fixture}"));
    group.throughput(Throughput::Bytes(SIZE as u64));

    let mut plain = instance(&eng, fixture, "");
    group.bench_with_input(BenchmarkId::new("plain", SIZE), &payload, |b, p| {
        b.iter_custom(|iters| time_async_process(&mut plain, p, iters))
    });

    let memory = MemoryRecording::new();
    let mut in_memory =
        Recorder::to_memory(instance(&eng, fixture, ""), &memory, options()).unwrap();
    // Every call made is recorded (none is made when a filter leaves the
    // benchmark out).
    let mut made = 0;
    group.bench_with_input(BenchmarkId::new("memory", SIZE), &payload, |b, p| {
        b.iter_custom(|iters| {
            made += iters;
            time_async_process(&mut in_memory, p, iters)
        })
    });
    let (_, stats) = in_memory.finish();
    let stats = stats.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((stats.calls, stats.calls_dropped), (made, 0), "{stats:?}");

    let dir = tempfile::tempdir().unwrap();
    let mut to_file = Recorder::to_file(
        instance(&eng, fixture, ""),
        dir.path().join("bench.jsonl"),
        options(),
    )
    .unwrap();
    // What is recorded is what the plain instance answers.
    let out = torvyn_harness::backend::block_on(to_file.process(element(0, &payload)));
    assert!(
        matches!(out.outcome, Ok(ProcessResult::Emit(_))),
        "{fixture}"
    );
    let mut made = 1;
    group.bench_with_input(BenchmarkId::new("file", SIZE), &payload, |b, p| {
        b.iter_custom(|iters| {
            made += iters;
            time_async_process(&mut to_file, p, iters)
        })
    });
    let (_, stats) = to_file.finish();
    let stats = stats.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((stats.calls, stats.calls_dropped), (made, 0), "{stats:?}");
    group.finish();
}

fn benches(c: &mut Criterion) {
    for fixture in ["passthrough", "uppercase"] {
        record(c, fixture);
    }
}

criterion_group! {
    name = record_benches;
    config = common::criterion();
    targets = benches
}
criterion_main!(record_benches);

//! The mock against the real thing: `MockInvoker::process` (the
//! `passthrough` model, journal off and on) against the Wasmtime backend's
//! `process` on the `passthrough` fixture, all through the async trait
//! method in one long-lived task. The published torvyn-engine 0.1.1 mock is
//! measured in `compare/published-mock/` (its own workspace).
//!
//! Benchmark ids: `mock_passthrough/<mock-journal-off|mock-journal-on|wasmtime>/<bytes>`.

mod common;

use common::{element, engine, instance, time_async_process};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use torvyn_engine::mock::{JournalMode, MockEngine, MockEngineConfig};
use torvyn_engine::wasmtime::WasmtimeEngineConfig;
use torvyn_engine::{Clock, ProcessResult};
use torvyn_harness::backend::MockBackend;
use torvyn_harness::bench::text_payload;

fn mock_backend(journal: JournalMode) -> MockBackend {
    MockBackend::from_engine(
        MockEngine::new(MockEngineConfig {
            journal,
            ..MockEngineConfig::default()
        })
        .unwrap(),
    )
}

fn mock_vs_wasmtime(c: &mut Criterion) {
    let mut group = c.benchmark_group("mock_passthrough");
    for size in [64, 1024] {
        let payload = text_payload(size);
        group.throughput(Throughput::Elements(1));
        for (name, journal) in [
            ("mock-journal-off", JournalMode::Off),
            // The default: every call kept. The journal is emptied between
            // samples (outside the timing) so memory stays flat.
            ("mock-journal-on", JournalMode::Unbounded),
        ] {
            let backend = mock_backend(journal);
            let engine = backend.mock();
            let mut inv = instance(&backend, "passthrough", "");
            match inv.process_sync(element(0, &payload)).outcome {
                Ok(ProcessResult::Emit(out)) => assert_eq!(out.payload, payload),
                other => panic!("{other:?}"),
            }
            group.bench_with_input(BenchmarkId::new(name, size), &payload, |b, p| {
                b.iter_custom(|iters| {
                    engine.journal().reset();
                    time_async_process(&mut inv, p, iters)
                })
            });
        }
        let eng = engine(WasmtimeEngineConfig::default(), Clock::system());
        let mut inv = instance(&eng, "passthrough", "");
        group.bench_with_input(BenchmarkId::new("wasmtime", size), &payload, |b, p| {
            b.iter_custom(|iters| time_async_process(&mut inv, p, iters))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = mock_vs_wasmtime
}
criterion_main!(benches);

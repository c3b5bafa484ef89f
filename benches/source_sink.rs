//! Pull and push: `pull` on `counter-source`, `push` on `sink` (64 B and
//! 1 KiB), and the pipeline counter-source → uppercase → sink, each against
//! the minimal `bindgen!` baseline, in elements per second.
//!
//! Benchmark ids: `pull_counter_source/<side>/0`, `push_sink/<side>/<bytes>`,
//! `pipeline_counter_uppercase_sink/<side>/3-stages`, side `baseline` or
//! `engine-sync`.

mod common;

use std::hint::black_box;

use common::{CONTENT_TYPE, baseline, element, engine, instance};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use torvyn_engine::wasmtime::WasmtimeEngineConfig;
use torvyn_engine::{Clock, FlowContext, ProcessResult};
use torvyn_harness::bench::text_payload;

/// A count no bench run reaches: the source never runs dry, the sink
/// (almost) never asks for a pause.
const ENDLESS: &str = "{\"count\": 1000000000000}";

fn pull(c: &mut Criterion) {
    let config = WasmtimeEngineConfig::default();
    let eng = engine(config.clone(), Clock::system());
    let mut inv = instance(&eng, "counter-source", ENDLESS);
    let mut base = baseline(&config, "counter-source", ENDLESS);
    assert!(inv.pull_sync().outcome.unwrap().is_some());
    assert!(base.pull().unwrap().is_some());
    let mut group = c.benchmark_group("pull_counter_source");
    group.throughput(Throughput::Elements(1));
    group.bench_function(BenchmarkId::new("baseline", 0), |b| {
        b.iter(|| black_box(base.pull()))
    });
    group.bench_function(BenchmarkId::new("engine-sync", 0), |b| {
        b.iter(|| black_box(inv.pull_sync()))
    });
    group.finish();
}

fn push(c: &mut Criterion) {
    let config = WasmtimeEngineConfig::default();
    let eng = engine(config.clone(), Clock::system());
    let mut inv = instance(&eng, "sink", ENDLESS);
    let mut base = baseline(&config, "sink", ENDLESS);
    let mut group = c.benchmark_group("push_sink");
    group.throughput(Throughput::Elements(1));
    for size in [64, 1024] {
        let payload = text_payload(size);
        inv.push_sync(element(0, &payload)).outcome.unwrap();
        base.push(0, &payload, CONTENT_TYPE).unwrap();
        group.bench_with_input(BenchmarkId::new("baseline", size), &payload, |b, p| {
            b.iter(|| black_box(base.push(0, p, CONTENT_TYPE)))
        });
        group.bench_with_input(BenchmarkId::new("engine-sync", size), &payload, |b, p| {
            b.iter(|| black_box(inv.push_sync(element(0, p))))
        });
    }
    group.finish();
}

fn pipeline(c: &mut Criterion) {
    let config = WasmtimeEngineConfig::default();
    let eng = engine(config.clone(), Clock::system());
    let mut source = instance(&eng, "counter-source", ENDLESS);
    let mut upper = instance(&eng, "uppercase", "");
    let mut sink = instance(&eng, "sink", ENDLESS);
    let mut b_source = baseline(&config, "counter-source", ENDLESS);
    let mut b_upper = baseline(&config, "uppercase", "");
    let mut b_sink = baseline(&config, "sink", ENDLESS);

    let mut group = c.benchmark_group("pipeline_counter_uppercase_sink");
    group.throughput(Throughput::Elements(1));
    group.bench_function(BenchmarkId::new("baseline", "3-stages"), |b| {
        b.iter(|| {
            let out = b_source.pull().unwrap().unwrap();
            let up = b_upper.process(0, &out, CONTENT_TYPE).unwrap().unwrap();
            black_box(b_sink.push(0, &up, CONTENT_TYPE).unwrap())
        })
    });
    group.bench_function(BenchmarkId::new("engine-sync", "3-stages"), |b| {
        b.iter(|| {
            let out = source.pull_sync().outcome.unwrap().unwrap();
            let element = out.into_stream_element(FlowContext::default());
            let Ok(ProcessResult::Emit(up)) = upper.process_sync(element).outcome else {
                panic!("uppercase always emits")
            };
            let element = up.into_stream_element(FlowContext::default());
            black_box(sink.push_sync(element).outcome.unwrap())
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = pull, push, pipeline
}
criterion_main!(benches);

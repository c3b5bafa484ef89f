//! Helpers shared by the benches: criterion settings, engines, instances,
//! elements, and a loop of async calls inside one long-lived task.

#![allow(dead_code, reason = "each bench uses a different subset")]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use torvyn_engine::wasmtime::WasmtimeEngine;
use torvyn_engine::wasmtime::WasmtimeEngineConfig;
use torvyn_engine::{Bytes, Clock, ComponentInvoker, StreamElement, WasmEngine};
use torvyn_harness::backend::{SimBackend, WasmtimeBackend};
use torvyn_harness::bench::Baseline;
use torvyn_harness::fixtures::load_fixture;
use torvyn_harness::source::ComponentSource;

/// Every bench: 1 s of warm-up, 2 s of measurement, 20 samples, no plots.
pub fn criterion() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
        .without_plots()
        .configure_from_args()
}

/// The content type of every bench element.
pub const CONTENT_TYPE: &str = "text/plain";

/// The fixture's component bytes.
pub fn fixture(name: &str) -> Vec<u8> {
    load_fixture(name).unwrap_or_else(|e| panic!("{e}"))
}

/// A Wasmtime backend (the harness's backend abstraction) with `config`
/// on `clock`.
pub fn engine(config: WasmtimeEngineConfig, clock: Clock) -> WasmtimeBackend {
    WasmtimeBackend::from_engine(
        WasmtimeEngine::with_clock(config, clock).unwrap_or_else(|e| panic!("{e}")),
    )
}

/// An instance of the fixture `name` on `backend` (Wasmtime, or the mock's
/// model), after `lifecycle.init(init)` when `init` is not empty.
pub fn instance<B: SimBackend>(
    backend: &B,
    name: &str,
    init: &str,
) -> <B::Engine as WasmEngine>::Instance {
    let compiled = backend
        .compile(&ComponentSource::Fixture(name.into()), name)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut inv = backend
        .instantiate(&compiled, name)
        .unwrap_or_else(|e| panic!("{e}"));
    if !init.is_empty() {
        torvyn_harness::backend::block_on(inv.init(init))
            .outcome
            .unwrap_or_else(|e| panic!("{e}"));
    }
    inv
}

/// A baseline instance of `name`, built with `config`'s code-generation
/// settings, after `init` when not empty.
pub fn baseline(
    config: &WasmtimeEngineConfig,
    name: &str,
    init: &str,
) -> torvyn_harness::bench::BaselineInstance {
    let base = Baseline::new(config, &fixture(name), name).unwrap_or_else(|e| panic!("{e}"));
    let mut inst = base.instantiate().unwrap_or_else(|e| panic!("{e}"));
    if !init.is_empty() {
        inst.init(init).unwrap_or_else(|e| panic!("{e}"));
    }
    inst
}

/// An element carrying `payload` (a reference-counted clone: no copy).
pub fn element(seq: u64, payload: &Bytes) -> StreamElement {
    StreamElement::new(seq, payload.clone(), CONTENT_TYPE)
}

/// Times `iters` calls of `process` through the async trait, inside one
/// long-lived task polled on this thread (how a runtime drives an invoker).
pub fn time_async_process(
    inv: &mut impl ComponentInvoker,
    payload: &Bytes,
    iters: u64,
) -> Duration {
    torvyn_harness::backend::block_on(async {
        let start = Instant::now();
        for seq in 0..iters {
            let _ = black_box(inv.process(element(seq, payload)).await);
        }
        start.elapsed()
    })
}

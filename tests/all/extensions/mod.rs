//! The extension contracts (`torvyn:filtering`, `torvyn:aggregation`,
//! `torvyn:capabilities`) on Wasmtime, with the fixtures in both spellings
//! of the streaming package: roles and worlds, `evaluate`, `route`,
//! `ingest` and `flush`, the token-streaming example by hand, grants, the
//! bounds on answers and the hostile fixtures; then the mock models of the
//! benign fixtures against the fixtures, and the bounds on the mock alone.

use proptest::prelude::*;
use torvyn_engine::mock::{
    MockBuilder, MockEngine, MockEngineConfig, MockInvoker, PendingOutput, models,
};
use torvyn_engine::wasmtime::WasmtimeInvoker;
use torvyn_engine::wasmtime::{WasmtimeEngine, WasmtimeEngineConfig};
use torvyn_engine::{
    AnswerLimit, BackpressureSignal, Clock, CompilationStrategy, ComponentId, ComponentInvoker,
    ElementMeta, FaultKind, FlowContext, Grants, InstanceOptions, Invocation, Limits,
    OutputElement, ProcessError, ProcessResult, Role, StreamElement, WasmEngine, World,
};
use torvyn_harness::fuzz::oracle::Observed;

use crate::support::{
    STRATEGIES, compile_on, compiled, engine, fault, guest_err, instance, ok, too_large,
};

mod bounds;
mod contracts;
mod mock_models;

fn text(seq: u64, payload: &str) -> StreamElement {
    StreamElement::new(seq, payload.to_owned(), "text/plain")
}

fn payload(out: &OutputElement) -> &str {
    std::str::from_utf8(&out.payload).expect("a text payload")
}

/// The texts of `outs`.
fn texts(outs: &[OutputElement]) -> Vec<&str> {
    outs.iter().map(payload).collect()
}

/// An engine with the default configuration but `limits`.
fn engine_with(limits: Limits) -> WasmtimeEngine {
    WasmtimeEngine::new(WasmtimeEngineConfig {
        limits,
        ..WasmtimeEngineConfig::default()
    })
    .unwrap()
}

const MIB: u64 = 1024 * 1024;

/// An engine for `strategy` with `limits`.
fn engine_on(strategy: CompilationStrategy, limits: Limits) -> WasmtimeEngine {
    WasmtimeEngine::new(WasmtimeEngineConfig {
        limits,
        ..WasmtimeEngineConfig::with_strategy(strategy)
    })
    .unwrap()
}

/// A fresh instance of `fixture` on `engine`.
fn instance_on(engine: &WasmtimeEngine, fixture: &str) -> WasmtimeInvoker {
    let c = compile_on(engine, fixture);
    engine.instantiate(&c, ComponentId::new(fixture)).unwrap()
}

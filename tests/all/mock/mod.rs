//! The mock backend's own features: scripts, cost model, simulated memory,
//! cold-path faults, the journal and expectations, validation, determinism.

use std::time::Duration;

use torvyn_engine::host::MAX_BUFFER_BYTES;
use torvyn_engine::mock::{
    ColdFaults, CostModel, DeserializeFailure, Expectations, FailOn, JournalMode, MemoryModel,
    MockBuilder, MockComponent, MockEngine, MockEngineConfig, MockError, PayloadDigest, Response,
    Script, ScriptedOutput, Scripts, models,
};
use torvyn_engine::{
    Answer, BackpressureSignal, Bytes, Clock, ComponentId, ComponentInvoker, ElementMeta,
    EngineError, FaultKind, FaultName, FlowContext, Function, InvokeError, Limits, Outcome,
    ProcessError, ProcessErrorName, ProcessResult, RandomSource, Role, StreamElement, VirtualTime,
    WasmEngine,
};
use torvyn_engine::{SplitMix64, derive_seed};

mod cold_path;
mod costs;
mod journal;
mod scripts;

fn el(seq: u64) -> StreamElement {
    StreamElement::new(seq, format!("payload {seq}"), "text/plain")
}

fn scripted(
    engine: &MockEngine,
    name: &str,
    roles: &[Role],
    scripts: Scripts,
) -> torvyn_engine::mock::MockInvoker {
    engine.register(MockComponent::scripted(
        name,
        roles.iter().copied(),
        scripts,
    ));
    let compiled = engine.compile(&MockEngine::component_bytes(name)).unwrap();
    engine
        .instantiate(&compiled, ComponentId::new(name))
        .unwrap()
}

fn outcome_name<T: std::fmt::Debug>(r: &Result<T, InvokeError>) -> String {
    match r {
        Ok(v) => format!("{v:?}"),
        Err(InvokeError::Guest(e)) => e.kind().to_owned(),
        Err(InvokeError::Fault(f)) => f.kind.name().to_owned(),
    }
}

fn instance_of(engine: &MockEngine, name: &str, id: &str) -> torvyn_engine::mock::MockInvoker {
    let compiled = engine.compile(&MockEngine::component_bytes(name)).unwrap();
    engine.instantiate(&compiled, ComponentId::new(id)).unwrap()
}

#[track_caller]
fn emitted(call: torvyn_engine::Invocation<ProcessResult>) -> torvyn_engine::OutputElement {
    match call.outcome {
        Ok(ProcessResult::Emit(out)) => out,
        other => panic!("expected an emit, got {other:?}"),
    }
}

fn scripted_on(engine: &MockEngine, response: Response) -> torvyn_engine::mock::MockInvoker {
    scripted(
        engine,
        "scripted",
        &[Role::Processor],
        Scripts {
            process: Some(Script::cycle([response])),
            ..Scripts::default()
        },
    )
}

/// A processor that emits 8 bytes of its instance's random stream.
fn random_processor() -> MockComponent {
    MockComponent::processor("random", |ctx, input| {
        let mut bytes = [0u8; 8];
        ctx.fill_random(&mut bytes);
        Ok(ProcessResult::Emit(ctx.emit_bytes(
            input.meta.clone(),
            &bytes,
            "application/octet-stream",
        )?))
    })
}

fn random_run(
    engine: &MockEngine,
    id: &str,
) -> (Vec<Bytes>, Vec<torvyn_engine::mock::JournalEntry>) {
    engine.register(random_processor());
    let mut i = instance_of(engine, "random", id);
    let outputs = (0..3)
        .map(|n| emitted(i.process_sync(el(n))).payload)
        .collect();
    (outputs, engine.journal().entries())
}

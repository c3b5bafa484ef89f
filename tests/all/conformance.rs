//! One conformance suite, the same test bodies, run against the Wasmtime
//! backend and the mock backend: roles, lifecycle order, error kinds,
//! poisoning, missing roles, teardown best effort, resource accounting.

use torvyn_engine::mock::{MockComponent, MockEngine, MockEngineConfig, Response, Script, Scripts};
use torvyn_engine::wasmtime::{WasmtimeEngine, WasmtimeEngineConfig};
use torvyn_engine::{
    BackpressureSignal, Clock, ComponentId, ComponentInvoker, FaultKind, Function, InvokeError,
    ProcessError, ProcessResult, Role, StreamElement, TrapCode, WasmEngine,
};

/// A backend under test: an engine and the conformance components on it.
trait Backend {
    type E: WasmEngine;
    fn engine(&self) -> Self::E;
    fn compile(&self, engine: &Self::E, name: &str) -> <Self::E as WasmEngine>::Compiled;
}

struct Real;

impl Backend for Real {
    type E = WasmtimeEngine;
    fn engine(&self) -> WasmtimeEngine {
        WasmtimeEngine::new(WasmtimeEngineConfig::default()).unwrap()
    }
    fn compile(&self, engine: &WasmtimeEngine, name: &str) -> torvyn_engine::WasmtimeCompiled {
        crate::support::compile_on(engine, name)
    }
}

struct Mock;

impl Backend for Mock {
    type E = MockEngine;
    fn engine(&self) -> MockEngine {
        let engine = MockEngine::with_models(MockEngineConfig::default(), Clock::system()).unwrap();
        let scripted = |name, roles: &[Role], scripts| {
            MockComponent::scripted(name, roles.iter().copied(), scripts)
        };
        engine.register(scripted(
            "trap",
            &[Role::Processor],
            Scripts {
                process: Some(Script::cycle([Response::Trap])),
                ..Scripts::default()
            },
        ));
        engine.register(scripted(
            "source-only",
            &[Role::Source, Role::Lifecycle],
            Scripts::default(),
        ));
        engine
    }
    fn compile(&self, engine: &MockEngine, name: &str) -> torvyn_engine::mock::MockCompiled {
        engine.compile(&MockEngine::component_bytes(name)).unwrap()
    }
}

async fn instance<B: Backend>(b: &B, name: &str) -> (B::E, <B::E as WasmEngine>::Instance) {
    let engine = b.engine();
    let compiled = b.compile(&engine, name);
    let inst = engine
        .instantiate(&compiled, ComponentId::new(name))
        .unwrap();
    (engine, inst)
}

fn el(seq: u64, payload: &str) -> StreamElement {
    StreamElement::new(seq, payload.to_owned(), "text/plain")
}

#[track_caller]
fn fault_kind<T: std::fmt::Debug>(outcome: &Result<T, InvokeError>) -> &FaultKind {
    match outcome {
        Err(InvokeError::Fault(f)) => &f.kind,
        other => panic!("expected a fault, got {other:?}"),
    }
}

async fn roles_are_read<B: Backend>(b: &B) {
    for (name, roles) in [
        ("passthrough", vec![Role::Processor]),
        ("uppercase", vec![Role::Processor]),
        ("counter-source", vec![Role::Source, Role::Lifecycle]),
        ("sink", vec![Role::Sink, Role::Lifecycle]),
        ("source-only", vec![Role::Source, Role::Lifecycle]),
    ] {
        let (_, i) = instance(b, name).await;
        assert_eq!(i.roles().iter().collect::<Vec<_>>(), roles, "{name}");
        assert_eq!(i.component_id().as_str(), name);
    }
}

async fn lifecycle_runs_in_order<B: Backend>(b: &B) {
    let (_, mut src) = instance(b, "counter-source").await;
    assert_eq!(
        src.init("no count").await.outcome.unwrap_err(),
        InvokeError::Guest(ProcessError::InvalidInput(
            "config needs a count, e.g. {\"count\": 5}".into()
        ))
    );
    src.init("{\"count\": 2}").await.outcome.unwrap();
    let mut seen = Vec::new();
    while let Some(out) = src.pull().await.outcome.unwrap() {
        seen.push(String::from_utf8(out.payload.to_vec()).unwrap());
    }
    assert_eq!(seen, ["0", "1"]);
    src.teardown().await.outcome.unwrap();

    let (_, mut sink) = instance(b, "sink").await;
    sink.init("{\"every\": 2}").await.outcome.unwrap();
    let mut signals = Vec::new();
    for n in 0..4 {
        signals.push(sink.push(el(n, "x")).await.outcome.unwrap());
    }
    use BackpressureSignal::{Pause, Ready};
    assert_eq!(signals, [Ready, Pause, Ready, Pause]);
    sink.complete().await.outcome.unwrap();
    assert!(matches!(
        sink.push(el(4, "late")).await.outcome,
        Err(InvokeError::Guest(ProcessError::Fatal(_)))
    ));
    sink.teardown().await.outcome.unwrap();
}

async fn errors_have_the_same_kinds<B: Backend>(b: &B) {
    let (_, mut t) = instance(b, "trap").await;
    let call = t.process(el(0, "x")).await;
    assert!(
        matches!(
            fault_kind(&call.outcome),
            FaultKind::Trap {
                code: TrapCode::Unreachable,
                ..
            }
        ),
        "{:?}",
        call.outcome
    );

    let (engine, mut u) = instance(b, "uppercase").await;
    engine.set_fuel(&mut u, 1).unwrap();
    let call = u.process(el(0, "x")).await;
    assert_eq!(
        fault_kind(&call.outcome),
        &FaultKind::FuelExhausted { budget: 1 }
    );
    assert!(engine.set_fuel(&mut u, 0).is_err());

    let (_, mut src) = instance(b, "counter-source").await;
    src.notify_backpressure(BackpressureSignal::Pause)
        .await
        .outcome
        .unwrap();
    assert_eq!(
        src.pull().await.outcome.unwrap_err(),
        InvokeError::Guest(ProcessError::Unavailable("paused".into()))
    );
    assert!(src.poisoned().is_none(), "a guest error does not poison");
}

async fn a_fault_poisons_only_its_instance<B: Backend>(b: &B) {
    let engine = b.engine();
    let trap = b.compile(&engine, "trap");
    let mut t = engine.instantiate(&trap, ComponentId::new("t1")).unwrap();
    let _ = t.process(el(0, "x")).await;
    assert!(t.poisoned().is_some());
    let again = t.process(el(1, "x")).await;
    assert!(matches!(
        fault_kind(&again.outcome),
        FaultKind::Poisoned { .. }
    ));
    assert!(
        again
            .outcome
            .unwrap_err()
            .to_string()
            .contains("re-instantiate")
    );
    let mut fresh = engine.instantiate(&trap, ComponentId::new("t2")).unwrap();
    assert!(fresh.poisoned().is_none());
    let pass = b.compile(&engine, "passthrough");
    let mut p = engine.instantiate(&pass, ComponentId::new("p")).unwrap();
    assert!(p.process(el(0, "ok")).await.is_ok());
    let _ = fresh.process(el(0, "x")).await;
}

async fn missing_roles_fail_clearly<B: Backend>(b: &B) {
    let (_, mut src) = instance(b, "source-only").await;
    let call = src.process(el(0, "x")).await;
    assert_eq!(
        fault_kind(&call.outcome),
        &FaultKind::MissingExport {
            role: Role::Processor
        }
    );
    let f = call.fault().unwrap();
    assert_eq!(f.function, Function::Process);
    assert!(f.to_string().contains("torvyn:streaming/processor@0.1.0"));
    assert!(matches!(
        fault_kind(&src.push(el(0, "x")).await.outcome),
        FaultKind::MissingExport { role: Role::Sink }
    ));
    assert!(src.poisoned().is_none());
    assert_eq!(src.pull().await.outcome.unwrap(), None);

    let (_, mut p) = instance(b, "passthrough").await;
    assert!(
        p.init("").await.is_ok(),
        "an empty config without lifecycle is a no-op"
    );
    assert!(matches!(
        fault_kind(&p.init("{}").await.outcome),
        FaultKind::MissingExport {
            role: Role::Lifecycle
        }
    ));
}

async fn teardown_is_best_effort<B: Backend>(b: &B) {
    let (_, mut p) = instance(b, "passthrough").await;
    assert!(p.teardown().await.is_ok(), "no lifecycle: a no-op");
    let (engine, mut src) = instance(b, "counter-source").await;
    engine.set_fuel(&mut src, 1).unwrap();
    let _ = src.pull().await;
    assert!(src.poisoned().is_some());
    let call = src.teardown().await;
    assert!(matches!(
        fault_kind(&call.outcome),
        FaultKind::Poisoned { .. }
    ));
}

async fn resources_are_accounted<B: Backend>(b: &B) {
    let (_, mut u) = instance(b, "uppercase").await;
    let call = u.process(el(0, "abcdef")).await;
    assert_eq!(u.live_resources(), 0);
    let m = call.metrics;
    assert_eq!(
        (
            m.bytes_into_guest,
            m.bytes_out_of_guest,
            m.buffers_allocated,
            m.host_calls
        ),
        (6, 6, 1, 6),
        "read-all, allocate, append, set-content-type, freeze, drop"
    );
    match call.outcome.unwrap() {
        ProcessResult::Emit(out) => assert_eq!(&out.payload[..], b"ABCDEF"),
        ProcessResult::Drop => panic!("uppercase emits"),
    }
    let (_, mut p) = instance(b, "passthrough").await;
    let input = el(0, "zero-copy");
    let ptr = input.payload.as_ptr();
    let call = p.process(input).await;
    assert_eq!(p.live_resources(), 0);
    assert_eq!(
        (
            call.metrics.bytes_into_guest,
            call.metrics.bytes_out_of_guest
        ),
        (0, 0)
    );
    match call.outcome.unwrap() {
        ProcessResult::Emit(out) => assert_eq!(out.payload.as_ptr(), ptr),
        ProcessResult::Drop => panic!("passthrough emits"),
    }
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod real {
            $( #[tokio::test] async fn $name() { super::$name(&super::Real).await } )*
        }
        mod mock {
            $( #[tokio::test] async fn $name() { super::$name(&super::Mock).await } )*
        }
    };
}

conformance!(
    roles_are_read,
    lifecycle_runs_in_order,
    errors_have_the_same_kinds,
    a_fault_poisons_only_its_instance,
    missing_roles_fail_clearly,
    teardown_is_best_effort,
    resources_are_accounted,
);

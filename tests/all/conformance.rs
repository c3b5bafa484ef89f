//! One conformance suite, the same test bodies, run against the Wasmtime
//! backend and the mock backend: roles, lifecycle order, error kinds,
//! poisoning, missing roles, teardown best effort, resource accounting.

use torvyn_engine::{
    BackpressureSignal, ComponentInvoker, FaultKind, Function, InvokeError, ProcessError,
    ProcessResult, Role, StreamElement, TrapCode, WasmEngine,
};
use torvyn_harness::backend::{
    BackendKind, EngineSettings, MockBackend, SimBackend, WasmtimeBackend,
};
use torvyn_harness::scenario::{ClockSetting, ComponentSource};
use torvyn_harness::script::MockSpec;

type Instance<B> = <<B as SimBackend>::Engine as WasmEngine>::Instance;
type Compiled<B> = <<B as SimBackend>::Engine as WasmEngine>::Compiled;

/// A fresh backend under test (the harness's one backend abstraction):
/// default limits, the system clock.
fn backend<B: SimBackend>() -> B {
    B::new(&EngineSettings {
        clock: ClockSetting::System,
        ..EngineSettings::deterministic(0)
    })
    .unwrap()
}

/// A conformance component: the fixture, or on the mock a scripted
/// stand-in for the two fixtures it has no model of (`trap` traps on every
/// `process`; `source-only` is a lifecycle source whose `pull` is `none`).
fn compile<B: SimBackend>(b: &B, name: &str) -> Compiled<B> {
    let scripted = |yaml: &str| {
        let spec = MockSpec::from_yaml(yaml, name).unwrap();
        ComponentSource::Scripted(Box::new(spec))
    };
    let source = match (B::KIND, name) {
        (BackendKind::Mock, "trap") => scripted("process: {cycle: [trap]}"),
        (BackendKind::Mock, "source-only") => scripted("roles: [source, lifecycle]"),
        _ => ComponentSource::Fixture(name.into()),
    };
    b.compile(&source, name).unwrap_or_else(|e| panic!("{e}"))
}

async fn instance<B: SimBackend>(name: &str) -> (B, Instance<B>) {
    let b = backend::<B>();
    let compiled = compile(&b, name);
    let inst = b.instantiate(&compiled, name).unwrap();
    (b, inst)
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

async fn roles_are_read<B: SimBackend>() {
    for (name, roles) in [
        ("passthrough", vec![Role::Processor]),
        ("uppercase", vec![Role::Processor]),
        ("counter-source", vec![Role::Source, Role::Lifecycle]),
        ("sink", vec![Role::Sink, Role::Lifecycle]),
        ("source-only", vec![Role::Source, Role::Lifecycle]),
    ] {
        let (_, i) = instance::<B>(name).await;
        assert_eq!(i.roles().iter().collect::<Vec<_>>(), roles, "{name}");
        assert_eq!(i.component_id().as_str(), name);
    }
}

async fn lifecycle_runs_in_order<B: SimBackend>() {
    let (_, mut src) = instance::<B>("counter-source").await;
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

    let (_, mut sink) = instance::<B>("sink").await;
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

async fn errors_have_the_same_kinds<B: SimBackend>() {
    let (_, mut t) = instance::<B>("trap").await;
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

    let (b, mut u) = instance::<B>("uppercase").await;
    b.engine().set_fuel(&mut u, 1).unwrap();
    let call = u.process(el(0, "x")).await;
    assert_eq!(
        fault_kind(&call.outcome),
        &FaultKind::FuelExhausted { budget: 1 }
    );
    assert!(b.engine().set_fuel(&mut u, 0).is_err());

    let (_, mut src) = instance::<B>("counter-source").await;
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

async fn a_fault_poisons_only_its_instance<B: SimBackend>() {
    let b = backend::<B>();
    let trap = compile(&b, "trap");
    let mut t = b.instantiate(&trap, "t1").unwrap();
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
    let mut fresh = b.instantiate(&trap, "t2").unwrap();
    assert!(fresh.poisoned().is_none());
    let pass = compile(&b, "passthrough");
    let mut p = b.instantiate(&pass, "p").unwrap();
    assert!(p.process(el(0, "ok")).await.is_ok());
    let _ = fresh.process(el(0, "x")).await;
}

async fn missing_roles_fail_clearly<B: SimBackend>() {
    let (_, mut src) = instance::<B>("source-only").await;
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

    let (_, mut p) = instance::<B>("passthrough").await;
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

async fn teardown_is_best_effort<B: SimBackend>() {
    let (_, mut p) = instance::<B>("passthrough").await;
    assert!(p.teardown().await.is_ok(), "no lifecycle: a no-op");
    let (b, mut src) = instance::<B>("counter-source").await;
    b.engine().set_fuel(&mut src, 1).unwrap();
    let _ = src.pull().await;
    assert!(src.poisoned().is_some());
    let call = src.teardown().await;
    assert!(matches!(
        fault_kind(&call.outcome),
        FaultKind::Poisoned { .. }
    ));
}

async fn resources_are_accounted<B: SimBackend>() {
    let (_, mut u) = instance::<B>("uppercase").await;
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
    let (_, mut p) = instance::<B>("passthrough").await;
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
            $( #[tokio::test] async fn $name() { super::$name::<super::WasmtimeBackend>().await } )*
        }
        mod mock {
            $( #[tokio::test] async fn $name() { super::$name::<super::MockBackend>().await } )*
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

//! Hostile guests: one table, one row per misbehaviour, run under Cranelift
//! and Winch.
//!
//! Each row names a fixture (`fixtures/components/`, each file says exactly
//! what it does), how the engine is set up, and the calls to make with the
//! outcome each must have: the exact fault kind (and trap code), the guest
//! error, or the value. For every row and both compilers the runner also
//! checks that no call panics the host, that `live_resources()` is 0 after
//! every call, that a poisoning fault poisons (the next call answers
//! `poisoned`) and anything else does not, and that afterwards a fresh
//! `uppercase` on the same engine still works.
//!
//! Adding a case is one entry in [`CASES`].

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use torvyn_engine::wasmtime::WasmtimeInvoker;
use torvyn_engine::wasmtime::{WasmtimeEngine, WasmtimeEngineConfig};
use torvyn_engine::{
    BackpressureSignal, CompilationStrategy, ComponentId, ComponentInvoker, ContractViolation,
    EngineError, Fault, FaultKind, Invocation, InvocationMetrics, InvokeError, Limits,
    ProcessResult, StreamElement, TrapCode, WasmEngine,
};

use crate::support::{self, STRATEGIES};

/// How the engine runs the row.
#[derive(Clone, Copy, Debug)]
enum Setup {
    /// The shared default engine (fuel 50 000 000 per call, 10 s deadline).
    Shared,
    /// The shared default engine, the instance's fuel budget set to this.
    Budget(u64),
    /// A fresh engine on the system clock with fuel metering off and this
    /// call deadline (epoch interruption).
    NoFuel(Duration),
}

/// What the runner does.
#[derive(Clone, Copy, Debug)]
enum Call {
    /// Instantiate (rows whose instantiation must fail start with it;
    /// otherwise the runner instantiates before the first call).
    Instantiate,
    /// `process` with this payload (content type `text/plain`).
    Process(&'static str),
    /// `push` with this payload.
    Push(&'static str),
    Pull,
    Init(&'static str),
    Teardown,
    /// `notify-backpressure(pause)`.
    Pause,
    Complete,
}

/// The outcome a call must have.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// `ok(emit)` with this payload.
    Emit(&'static str),
    /// `ok(drop)`.
    Dropped,
    /// `ok(())`.
    Unit,
    /// The guest's `process-error` of this kind, its message containing the
    /// text.
    Guest(&'static str, &'static str),
    /// `FaultKind::FuelExhausted` with this budget.
    FuelExhausted(u64),
    /// `FaultKind::DeadlineExceeded` with this allowance.
    DeadlineExceeded(Duration),
    /// `FaultKind::Trap` with this code, its detail containing the text.
    Trap(TrapCode, &'static str),
    /// `FaultKind::MemoryLimitExceeded` at the default 16 MiB.
    MemoryLimit,
    /// `FaultKind::BufferBudgetExceeded` at the default 64 MiB.
    BufferBudget,
    /// `ContractViolation::UseAfterFreeze`.
    UseAfterFreeze,
    /// `ContractViolation::StaleHandle` of this resource type.
    StaleHandle(&'static str),
    /// Instantiation fails with `EngineError::WrongExportTypes` naming this
    /// interface.
    WrongExportTypes(&'static str),
}

/// An extra check on the call.
#[derive(Clone, Copy, Debug)]
enum Also {
    Nothing,
    /// `metrics.resources_reclaimed`.
    Reclaimed(u32),
    /// What `take_stdout` returns after the call.
    Stdout {
        kept: usize,
        discarded: u64,
    },
}

#[derive(Debug)]
struct Step(Call, Expect, Also);

const fn step(call: Call, expect: Expect) -> Step {
    Step(call, expect, Also::Nothing)
}

struct Case {
    name: &'static str,
    fixture: &'static str,
    setup: Setup,
    steps: &'static [Step],
}

const fn case(
    name: &'static str,
    fixture: &'static str,
    setup: Setup,
    steps: &'static [Step],
) -> Case {
    Case {
        name,
        fixture,
        setup,
        steps,
    }
}

const MIB: u64 = 1024 * 1024;
const MS30: Duration = Duration::from_millis(30);
/// What `huge-offsets` reports for a 10-byte payload when the host clamps
/// reads and answers bad writes with errors.
const HUGE_OFFSETS_SUMMARY: &str =
    "read=0,10,0 write=out-of-bounds,ok,capacity-exceeded allocate=allocation-failed";

use Call::*;
use Expect::*;
use Setup::*;

#[rustfmt::skip]
const CASES: &[Case] = &[
    case("infinite loop, fuel", "spin", Budget(1_000_000), &[step(Process("x"), FuelExhausted(1_000_000))]),
    case("infinite loop, deadline with fuel off", "spin", NoFuel(MS30), &[step(Process("x"), DeadlineExceeded(MS30))]),
    case("deep recursion", "deep-recursion", Shared, &[step(Process("x"), Trap(TrapCode::StackOverflow, "call stack exhausted"))]),
    case("memory.grow until the limit", "memory-hog", Shared, &[step(Process("x"), MemoryLimit)]),
    case("host buffers until the budget", "buffer-hog", Shared, &[Step(Process("x"), BufferBudget, Also::Reclaimed(64))]),
    case("an output over 16 MiB", "oversized-output", Shared, &[step(Process("x"), Guest("internal", "16777216-byte buffer cap")), step(Process("y"), Guest("internal", "exceeds"))]),
    case("offsets and lengths near u64::MAX", "huge-offsets", Shared, &[step(Process("0123456789"), Emit(HUGE_OFFSETS_SUMMARY)), step(Process("0123456789"), Emit(HUGE_OFFSETS_SUMMARY))]),
    case("a mutable buffer used after freeze", "use-after-freeze", Shared, &[step(Process("x"), UseAfterFreeze)]),
    case("a mutable buffer used after drop", "use-after-drop", Shared, &[step(Process("x"), Trap(TrapCode::ComponentModel, "unknown handle index"))]),
    case("a handle kept from an earlier call", "abandon-buffers", Shared, &[Step(Process("x"), Dropped, Also::Reclaimed(3)), step(Process("y"), StaleHandle("mutable-buffer"))]),
    case("a handle index never handed out", "forged-handle", Shared, &[step(Process("x"), Trap(TrapCode::ComponentModel, "unknown handle index 12345"))]),
    case("borrowed handles not dropped", "leak-borrow", Shared, &[step(Process("x"), Trap(TrapCode::ComponentModel, "borrow handles still remain"))]),
    case("mutable buffers abandoned", "abandon-buffers", Shared, &[Step(Process("x"), Dropped, Also::Reclaimed(3))]),
    case("a trap in init", "hostile-source", Shared, &[step(Init("{}"), Trap(TrapCode::Unreachable, "unreachable"))]),
    case("a trap in teardown", "hostile-source", Shared, &[step(Teardown, Trap(TrapCode::Unreachable, "unreachable"))]),
    case("a trap in notify-backpressure", "hostile-source", Shared, &[step(Pause, Trap(TrapCode::Unreachable, "unreachable"))]),
    case("a pull that never returns, fuel", "hostile-source", Budget(1_000_000), &[step(Pull, FuelExhausted(1_000_000))]),
    case("a pull that never returns, deadline", "hostile-source", NoFuel(MS30), &[step(Pull, DeadlineExceeded(MS30))]),
    case("a trap in complete", "fatal-sink", Shared, &[step(Init("{}"), Unit), step(Complete, Trap(TrapCode::Unreachable, "unreachable"))]),
    case("a sink that answers fatal", "fatal-sink", Shared, &[step(Push("x"), Guest("fatal", "sink is broken")), step(Push("y"), Guest("fatal", "sink is broken"))]),
    case("megabytes to stdout", "stdout-flood", Shared, &[Step(Process("x"), Dropped, Also::Stdout { kept: 64 * 1024, discarded: 4 * MIB - 64 * 1024 })]),
    case("the right names with the wrong types", "wrong-types", Shared, &[step(Instantiate, WrongExportTypes("torvyn:streaming/source@0.1.0"))]),
];

/// A call's value, whatever the function.
#[derive(Debug)]
enum Got {
    Process(ProcessResult),
    Unit,
    /// Any other value, as its debug text.
    Other(String),
}

struct Observed {
    outcome: Result<Got, InvokeError>,
    metrics: InvocationMetrics,
}

fn observe<T>(call: Invocation<T>, f: impl FnOnce(T) -> Got) -> Observed {
    Observed {
        outcome: call.outcome.map(f),
        metrics: call.metrics,
    }
}

fn element(sequence: u64, payload: &str) -> StreamElement {
    StreamElement::new(sequence, payload.to_owned(), "text/plain")
}

fn run_call(inst: &mut WasmtimeInvoker, call: Call, sequence: u64) -> Observed {
    match call {
        Instantiate => unreachable!("instantiation is not a call"),
        Process(p) => observe(inst.process_sync(element(sequence, p)), Got::Process),
        Push(p) => observe(inst.push_sync(element(sequence, p)), |v| {
            Got::Other(format!("{v:?}"))
        }),
        Pull => observe(inst.pull_sync(), |v| Got::Other(format!("{v:?}"))),
        Init(config) => observe(inst.init_sync(config), |()| Got::Unit),
        Teardown => observe(inst.teardown_sync(), |()| Got::Unit),
        Pause => observe(
            inst.notify_backpressure_sync(BackpressureSignal::Pause),
            |()| Got::Unit,
        ),
        Complete => observe(inst.complete_sync(), |()| Got::Unit),
    }
}

/// Checks a fault against the expectation (which must be a fault), and its
/// message.
fn check_fault(fault: &Fault, expect: Expect) {
    let kind = &fault.kind;
    match (expect, kind) {
        (FuelExhausted(budget), FaultKind::FuelExhausted { budget: b }) => assert_eq!(*b, budget),
        (DeadlineExceeded(allowed), FaultKind::DeadlineExceeded { allowed: a }) => {
            assert_eq!(*a, allowed)
        }
        (Trap(code, text), FaultKind::Trap { code: c, detail }) => {
            assert_eq!(*c, code, "trap code: {detail}");
            assert!(
                detail.contains(text),
                "trap detail lacks {text:?}: {detail}"
            );
        }
        (MemoryLimit, FaultKind::MemoryLimitExceeded { limit, requested }) => {
            assert_eq!(*limit, 16 * MIB);
            assert!(requested > limit, "{fault}");
        }
        (BufferBudget, FaultKind::BufferBudgetExceeded { limit, requested }) => {
            assert_eq!(*limit, 64 * MIB);
            assert!(requested > limit, "{fault}");
        }
        (
            UseAfterFreeze,
            FaultKind::ContractViolation(ContractViolation::UseAfterFreeze { .. }),
        ) => {}
        (
            StaleHandle(resource),
            FaultKind::ContractViolation(ContractViolation::StaleHandle { resource: r, .. }),
        ) => assert_eq!(*r, resource),
        (expect, _) => panic!("expected {expect:?}, got the fault: {fault}"),
    }
    assert!(fault.poisons(), "every hostile fault poisons: {fault}");
    let text = fault.to_string();
    assert!(
        text.contains(&format!("component `{}`", fault.component))
            && text.contains(&format!("function `{}`", fault.function))
            && text.contains("re-instantiate"),
        "the message names component and function and what to do: {text}"
    );
}

fn check(observed: &Observed, expect: Expect, also: Also, inst: &mut WasmtimeInvoker) {
    match (&observed.outcome, expect) {
        (Ok(Got::Process(ProcessResult::Emit(out))), Emit(text)) => {
            assert_eq!(String::from_utf8_lossy(&out.payload), text)
        }
        (Ok(Got::Process(ProcessResult::Drop)), Dropped) => {}
        (Ok(Got::Unit), Unit) => {}
        (Err(InvokeError::Guest(e)), Guest(kind, text)) => {
            assert_eq!(e.kind(), kind, "{e}");
            assert!(e.message().unwrap_or("").contains(text), "{e}");
        }
        (Err(InvokeError::Fault(fault)), expect) => {
            check_fault(fault, expect);
            assert_eq!(inst.poisoned(), Some(fault), "the fault poisons");
        }
        (Ok(Got::Other(value)), expect) => panic!("expected {expect:?}, got {value}"),
        (got, expect) => panic!("expected {expect:?}, got {got:?}"),
    }
    if !matches!(observed.outcome, Err(InvokeError::Fault(_))) {
        assert!(
            inst.poisoned().is_none(),
            "a value or guest error poisons nothing"
        );
    }
    match also {
        Also::Nothing => {}
        Also::Reclaimed(n) => assert_eq!(observed.metrics.resources_reclaimed, n),
        Also::Stdout { kept, discarded } => {
            let out = inst.take_stdout();
            assert_eq!(out.bytes.len(), kept, "captured stdout");
            assert!(out.bytes.iter().all(|b| *b == b'x'));
            assert_eq!(out.discarded, discarded, "discarded stdout");
        }
    }
}

/// The engine a row runs on: the shared one, or its own.
fn engine_for(strategy: CompilationStrategy, setup: Setup) -> WasmtimeEngine {
    match setup {
        Shared | Budget(_) => support::engine(strategy),
        NoFuel(d) => WasmtimeEngine::new(WasmtimeEngineConfig {
            limits: Limits {
                fuel_enabled: false,
                call_deadline: Some(d),
                ..Limits::default()
            },
            ..WasmtimeEngineConfig::with_strategy(strategy)
        })
        .expect("valid config"),
    }
}

fn instantiate(
    engine: &WasmtimeEngine,
    strategy: CompilationStrategy,
    setup: Setup,
    fixture: &str,
) -> Result<WasmtimeInvoker, EngineError> {
    let compiled = match setup {
        Shared | Budget(_) => support::compiled(strategy, fixture),
        NoFuel(_) => support::compile_on(engine, fixture),
    };
    let mut inst = engine.instantiate(&compiled, ComponentId::new(fixture))?;
    if let Budget(n) = setup {
        engine.set_fuel(&mut inst, n).expect("fuel is on");
    }
    Ok(inst)
}

fn run_case(strategy: CompilationStrategy, case: &Case) {
    let engine = engine_for(strategy, case.setup);
    let mut inst: Option<WasmtimeInvoker> = None;
    for (n, Step(call, expect, also)) in case.steps.iter().enumerate() {
        if let Instantiate = call {
            let Err(err) = instantiate(&engine, strategy, case.setup, case.fixture) else {
                panic!("instantiate: expected {expect:?}, it succeeded")
            };
            match (&err, *expect) {
                (EngineError::WrongExportTypes { interface, .. }, WrongExportTypes(i)) => {
                    assert_eq!(*interface, i, "{err}")
                }
                (_, expect) => panic!("instantiate: expected {expect:?}, got {err}"),
            }
            let text = err.to_string();
            assert!(
                text.contains(case.fixture) && text.contains("rebuild it against"),
                "the error names the component and what to do: {text}"
            );
            continue;
        }
        let inst = inst.get_or_insert_with(|| {
            instantiate(&engine, strategy, case.setup, case.fixture)
                .unwrap_or_else(|e| panic!("instantiate {}: {e}", case.fixture))
        });
        let observed = run_call(inst, *call, n as u64);
        assert_eq!(
            inst.live_resources(),
            0,
            "host resources left after the call"
        );
        check(&observed, *expect, *also, inst);
        if inst.poisoned().is_some() {
            let again = run_call(inst, *call, n as u64 + 1);
            match again.outcome {
                Err(InvokeError::Fault(f)) if matches!(f.kind, FaultKind::Poisoned { .. }) => {}
                other => panic!("a poisoned instance answered {other:?}"),
            }
            assert_eq!(inst.live_resources(), 0);
        }
    }
    drop(inst);

    // The engine keeps serving: a fresh benign instance on the same engine.
    let without_budget = match case.setup {
        Budget(_) => Shared,
        other => other,
    };
    let mut upper = instantiate(&engine, strategy, without_budget, "uppercase")
        .unwrap_or_else(|e| panic!("uppercase after the case: {e}"));
    match upper.process_sync(element(0, "still here")).outcome {
        Ok(ProcessResult::Emit(out)) => assert_eq!(&out.payload[..], b"STILL HERE"),
        other => panic!("uppercase after the case: {other:?}"),
    }
    assert_eq!(upper.live_resources(), 0);
}

#[test]
fn hostile_guests_get_exact_faults_and_the_engine_keeps_serving() {
    let mut failures = Vec::new();
    for strategy in STRATEGIES {
        for case in CASES {
            let result = catch_unwind(AssertUnwindSafe(|| run_case(strategy, case)));
            if let Err(panic) = result {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!(
                    "{strategy:?} / {} ({}): {message}",
                    case.name, case.fixture
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

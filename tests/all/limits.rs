//! Faults: each kind asserted with its message, the poisoning that follows,
//! and other instances unaffected.

use std::time::Duration;

use torvyn_engine::wasmtime::{WasmtimeEngine, WasmtimeEngineConfig};
use torvyn_engine::{
    CompilationStrategy, ComponentId, ComponentInvoker, ContractViolation, FaultKind, FlowContext,
    Function, Limits, ProcessResult, Role, StreamElement, TrapCode, WasmEngine,
};

use crate::support::{STRATEGIES, compile_on, fault, instance, is_poisoned, ok};

fn element() -> StreamElement {
    StreamElement::new(0, "data", "text/plain")
}

#[test]
fn a_trap_poisons_only_its_instance() {
    for s in STRATEGIES {
        let mut t = instance(s, "trap");
        let f = fault(t.process_sync(element()), &t, "trap");
        assert_eq!(f.function, Function::Process);
        assert!(
            matches!(
                f.kind,
                FaultKind::Trap {
                    code: TrapCode::Unreachable,
                    ..
                }
            ),
            "{s:?}: {f}"
        );
        assert!(f.to_string().contains("re-instantiate"), "{f}");
        assert_eq!(t.poisoned(), Some(&f));

        // Every later call fails at once, naming the first fault.
        let again = fault(t.process_sync(element()), &t, "poisoned");
        assert!(is_poisoned(&again.kind));
        assert!(again.to_string().contains("unreachable"), "{again}");

        // Another instance of another component on the same engine works.
        let mut p = instance(s, "passthrough");
        assert!(matches!(
            ok(p.process_sync(element()), &p),
            ProcessResult::Emit(_)
        ));
        // And so does a fresh instance of the trapping component's engine.
        let t2 = instance(s, "trap");
        assert!(t2.poisoned().is_none());
    }
}

#[test]
fn fuel_exhaustion_reports_the_budget() {
    for s in STRATEGIES {
        let engine = crate::support::engine(s);
        let mut spin = instance(s, "spin");
        engine.set_fuel(&mut spin, 100_000).unwrap();
        let call = spin.process_sync(element());
        let consumed = call.metrics.fuel_consumed;
        let f = fault(call, &spin, "fuel-exhausted");
        assert_eq!(f.kind, FaultKind::FuelExhausted { budget: 100_000 });
        assert!(f.to_string().contains("budget 100000"), "{f}");
        assert_eq!(consumed, 100_000, "all the fuel was used");
        assert_eq!(engine.fuel_remaining(&spin), Some(0));
        fault(spin.process_sync(element()), &spin, "poisoned");
    }
}

#[test]
fn fuel_is_reported_and_reset_per_call() {
    for s in STRATEGIES {
        let engine = crate::support::engine(s);
        let mut u = instance(s, "uppercase");
        engine.set_fuel(&mut u, 5_000_000).unwrap();
        assert_eq!(engine.fuel_remaining(&u), Some(5_000_000));
        let first = u.process_sync(StreamElement::new(0, "abc", "text/plain"));
        let second = u.process_sync(StreamElement::new(1, "abc", "text/plain"));
        assert!(first.is_ok() && second.is_ok());
        assert!(first.metrics.fuel_consumed > 0);
        assert_eq!(
            engine.fuel_remaining(&u),
            Some(5_000_000 - second.metrics.fuel_consumed),
            "each call starts with the full budget"
        );
        let long = u.process_sync(StreamElement::new(2, vec![b'a'; 4096], "text/plain"));
        assert!(long.metrics.fuel_consumed > second.metrics.fuel_consumed);
    }
}

#[test]
fn zero_and_absurd_fuel_are_refused() {
    let engine = crate::support::engine(CompilationStrategy::Cranelift);
    let mut u = instance(CompilationStrategy::Cranelift, "uppercase");
    for bad in [0, u64::MAX] {
        let e = engine.set_fuel(&mut u, bad).unwrap_err();
        assert!(e.to_string().contains("fuel"), "{e}");
    }
}

fn no_fuel_engine(
    strategy: CompilationStrategy,
    call_deadline: Option<Duration>,
) -> WasmtimeEngine {
    WasmtimeEngine::new(WasmtimeEngineConfig {
        limits: Limits {
            fuel_enabled: false,
            call_deadline,
            ..Limits::default()
        },
        ..WasmtimeEngineConfig::with_strategy(strategy)
    })
    .unwrap()
}

#[test]
fn the_config_deadline_interrupts_a_spinning_guest() {
    for s in STRATEGIES {
        let engine = no_fuel_engine(s, Some(Duration::from_millis(30)));
        let spin = compile_on(&engine, "spin");
        let mut i = engine.instantiate(&spin, ComponentId::new("spin")).unwrap();
        let call = i.process_sync(element());
        let elapsed = call.metrics.duration;
        let f = fault(call, &i, "deadline-exceeded");
        assert_eq!(
            f.kind,
            FaultKind::DeadlineExceeded {
                allowed: Duration::from_millis(30)
            }
        );
        assert!(elapsed >= Duration::from_millis(30), "{elapsed:?}");
        assert!(engine.fuel_remaining(&i).is_none(), "fuel is off");
        let e = engine.set_fuel(&mut i, 10).unwrap_err();
        assert!(e.to_string().contains("fuel_enabled"), "{e}");
    }
}

#[test]
fn the_flow_deadline_interrupts_a_spinning_guest() {
    for s in STRATEGIES {
        let engine = no_fuel_engine(s, None);
        let spin = compile_on(&engine, "spin");
        let mut i = engine.instantiate(&spin, ComponentId::new("spin")).unwrap();
        let deadline = engine.clock().deadline_after(Duration::from_millis(20));
        let el = element().with_context(FlowContext::new("f").with_deadline_ns(deadline));
        let f = fault(i.process_sync(el), &i, "deadline-exceeded");
        match f.kind {
            FaultKind::DeadlineExceeded { allowed } => {
                assert!(allowed <= Duration::from_millis(20), "{allowed:?}")
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_deadline_already_past_is_rejected_without_poisoning() {
    let s = CompilationStrategy::Cranelift;
    let engine = crate::support::engine(s);
    let mut p = instance(s, "passthrough");
    let past = engine.clock().now_ns().saturating_sub(1);
    let el = element().with_context(FlowContext::new("f").with_deadline_ns(past.max(1)));
    // Make sure the clock has moved past the deadline.
    std::thread::sleep(Duration::from_millis(1));
    let f = fault(p.process_sync(el), &p, "rejected");
    assert!(f.to_string().contains("deadline passed"), "{f}");
    assert!(p.poisoned().is_none());
    assert!(p.process_sync(element()).is_ok());
}

#[test]
fn memory_growth_past_the_limit_is_a_memory_fault() {
    for s in STRATEGIES {
        let mut m = instance(s, "memory-hog");
        let call = m.process_sync(element());
        let mem = call.metrics.memory_bytes;
        let f = fault(call, &m, "memory-limit-exceeded");
        match f.kind {
            FaultKind::MemoryLimitExceeded { limit, requested } => {
                assert_eq!(limit, 16 * 1024 * 1024);
                assert!(requested > limit);
            }
            ref other => panic!("{other:?}"),
        }
        assert!(mem <= 16 * 1024 * 1024 && mem > 15 * 1024 * 1024, "{mem}");
        assert!(f.to_string().contains("max_memory_bytes"), "{f}");
    }
}

/// A component whose initial memory is over the limit (a C toolchain's
/// default stack can be 16 MiB by itself) is refused at instantiation,
/// with what it asked for, the limit and what to do; once, not with the
/// component named twice.
#[test]
fn initial_memory_over_the_limit_is_refused_saying_what_to_do() {
    let path = torvyn_harness::fixtures::fixture_path("memory-hog");
    let text = std::fs::read_to_string(&path).unwrap();
    let big = text.replace(
        "(memory (export \"memory\") 1)",
        "(memory (export \"memory\") 300)",
    );
    assert_ne!(big, text, "the fixture's memory line moved");
    let core = wat::parse_str(&big).unwrap();
    let bytes = torvyn_harness::fixtures::componentize(&core, None).unwrap();
    for s in STRATEGIES {
        let engine = crate::support::engine(s);
        let compiled = engine.compile(&bytes).unwrap();
        let Err(e) = engine.instantiate(&compiled, ComponentId::new("big")) else {
            panic!("{s:?}: 300 pages instantiated under a 16 MiB limit");
        };
        let m = e.to_string();
        assert!(
            m.starts_with("cannot instantiate component `big`: its linear memory needs 19660800 bytes (18.75 MiB) at start, over the limit of 16777216 bytes (16.00 MiB, `limits.max_memory_bytes`)"),
            "{s:?}: {m}"
        );
        assert_eq!(m.matches("cannot instantiate").count(), 1, "{m}");
        assert!(m.contains("stack-size"), "{m}");

        // Under a limit that fits, it runs.
        let roomy = WasmtimeEngine::new(WasmtimeEngineConfig {
            limits: Limits {
                max_memory_bytes: 32 * 1024 * 1024,
                ..Limits::default()
            },
            ..WasmtimeEngineConfig::with_strategy(s)
        })
        .unwrap();
        let compiled = roomy.compile(&bytes).unwrap();
        if let Err(e) = roomy.instantiate(&compiled, ComponentId::new("big")) {
            panic!("{s:?}: {e}");
        }
    }
}

#[test]
fn buffer_allocation_past_the_budget_is_a_budget_fault() {
    for s in STRATEGIES {
        let mut b = instance(s, "buffer-hog");
        let call = b.process_sync(element());
        let m = call.metrics;
        let f = fault(call, &b, "buffer-budget-exceeded");
        assert_eq!(m.buffers_allocated, 64, "64 MiB budget in 1 MiB buffers");
        assert_eq!(
            m.resources_reclaimed, 64,
            "the abandoned buffers were reclaimed"
        );
        assert!(
            f.to_string().contains("max_buffer_bytes_per_instance"),
            "{f}"
        );
    }
}

#[test]
fn use_after_freeze_is_a_contract_violation() {
    for s in STRATEGIES {
        let mut u = instance(s, "use-after-freeze");
        let f = fault(u.process_sync(element()), &u, "contract-violation");
        assert!(
            matches!(
                f.kind,
                FaultKind::ContractViolation(ContractViolation::UseAfterFreeze { .. })
            ),
            "{f}"
        );
    }
}

#[test]
fn calling_a_missing_role_is_a_clear_error_and_does_not_poison() {
    for s in STRATEGIES {
        let mut src = instance(s, "source-only");
        let f = fault(src.process_sync(element()), &src, "missing-export");
        assert_eq!(
            f.kind,
            FaultKind::MissingExport {
                role: Role::Processor
            }
        );
        assert!(
            f.to_string().contains("torvyn:streaming/processor@0.1.0"),
            "{f}"
        );
        fault(src.push_sync(element()), &src, "missing-export");
        fault(src.complete_sync(), &src, "missing-export");
        assert!(src.poisoned().is_none());
        assert_eq!(ok(src.pull_sync(), &src), None);

        let mut p = instance(s, "passthrough");
        fault(p.pull_sync(), &p, "missing-export");
        fault(
            p.notify_backpressure_sync(torvyn_engine::BackpressureSignal::Pause),
            &p,
            "missing-export",
        );
    }
}

#[test]
fn teardown_on_a_poisoned_instance_is_reported_not_raised() {
    let s = CompilationStrategy::Cranelift;
    let mut t = instance(s, "trap");
    let _ = t.process_sync(element());
    // `trap` has no lifecycle role: teardown is a no-op.
    assert!(t.teardown_sync().is_ok());
    let mut l = instance(s, "lifecycle");
    ok(l.init_sync("{}"), &l);
    let engine = crate::support::engine(s);
    engine.set_fuel(&mut l, 1).unwrap();
    let _ = l.process_sync(element());
    assert!(l.poisoned().is_some());
    fault(l.teardown_sync(), &l, "poisoned");
}

#[test]
fn an_oversized_payload_is_rejected_before_the_guest() {
    let s = CompilationStrategy::Cranelift;
    let mut p = instance(s, "passthrough");
    let big = StreamElement::new(0, vec![0u8; 16 * 1024 * 1024 + 1], "x");
    let f = fault(p.process_sync(big), &p, "rejected");
    assert!(f.to_string().contains("16777216"), "{f}");
    let max = StreamElement::new(0, vec![7u8; 16 * 1024 * 1024], "x");
    match ok(p.process_sync(max), &p) {
        ProcessResult::Emit(out) => assert_eq!(out.payload.len(), 16 * 1024 * 1024),
        ProcessResult::Drop => panic!("passthrough emits"),
    }
}

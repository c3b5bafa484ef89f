//! Deterministic fuel and time: a virtual clock, deadlines through fuel,
//! seeded randomness. The same run in a fresh engine gives the same bits.

use std::time::Duration;

use torvyn_engine::clock::VirtualTime;
use torvyn_engine::wasmtime::{WasmtimeEngine, WasmtimeEngineConfig};
use torvyn_engine::{
    Clock, CompilationStrategy, ComponentId, EngineError, FaultKind, FlowContext,
    InvocationMetrics, Limits, ProcessResult, RandomSource, StreamElement, WasmEngine,
};

use crate::support::{STRATEGIES, compile_on, fault};

fn virtual_engine(strategy: CompilationStrategy, seed: u64) -> WasmtimeEngine {
    WasmtimeEngine::with_clock(
        WasmtimeEngineConfig {
            random: RandomSource::Seeded(seed),
            ..WasmtimeEngineConfig::with_strategy(strategy)
        },
        Clock::virtual_time(VirtualTime::default()),
    )
    .unwrap()
}

/// Runs `fixture` over a few elements and returns every output and metric.
fn run(
    engine: &WasmtimeEngine,
    fixture: &str,
) -> Vec<(Result<ProcessResult, String>, InvocationMetrics)> {
    let compiled = compile_on(engine, fixture);
    let mut i = engine
        .instantiate(&compiled, ComponentId::new(fixture))
        .unwrap();
    let _ = i.init_sync("{}");
    (0..5u64)
        .map(|n| {
            let call = i.process_sync(StreamElement::new(n, format!("element number {n}"), "t"));
            (call.outcome.map_err(|e| e.to_string()), call.metrics)
        })
        .collect()
}

#[test]
fn a_run_replays_bit_for_bit_in_a_fresh_engine() {
    for s in STRATEGIES {
        for fixture in ["uppercase", "filter", "wasi-hello"] {
            let first = run(&virtual_engine(s, 7), fixture);
            let second = run(&virtual_engine(s, 7), fixture);
            assert_eq!(first, second, "{s:?} {fixture}");
            // Time is a function of work alone.
            let (_, m) = &first[1];
            let model = VirtualTime::default();
            assert_eq!(
                m.duration,
                Duration::from_nanos(
                    m.fuel_consumed * model.ns_per_fuel
                        + u64::from(m.host_calls) * model.ns_per_host_call
                ),
                "{fixture}"
            );
        }
    }
}

#[test]
fn wasi_time_and_randomness_follow_the_clock_and_the_seed() {
    let s = CompilationStrategy::Cranelift;
    let out = |seed| match run(&virtual_engine(s, seed), "wasi-hello").remove(0).0 {
        Ok(ProcessResult::Emit(out)) => out.payload,
        other => panic!("{other:?}"),
    };
    let a = out(1);
    assert_eq!(a, out(1), "same seed, same bytes");
    assert_ne!(a[8..], out(2)[8..], "another seed, other random bytes");
    let secs = u64::from_le_bytes(a[..8].try_into().unwrap());
    assert_eq!(secs, VirtualTime::default().wall_start.as_secs());
}

#[test]
fn a_virtual_deadline_stops_at_the_same_instruction_every_time() {
    for s in STRATEGIES {
        let once = || {
            let engine = virtual_engine(s, 0);
            let spin = compile_on(&engine, "spin");
            let mut i = engine.instantiate(&spin, ComponentId::new("spin")).unwrap();
            let deadline = engine.clock().deadline_after(Duration::from_micros(250));
            let el = StreamElement::new(0, "x", "t")
                .with_context(FlowContext::new("f").with_deadline_ns(deadline));
            let call = i.process_sync(el);
            let m = call.metrics;
            let f = fault(call, &i, "deadline-exceeded");
            assert!(matches!(f.kind, FaultKind::DeadlineExceeded { .. }));
            (m, engine.clock().now_ns())
        };
        let (m, now) = once();
        assert_eq!((m, now), once(), "{s:?}");
        // 250 µs at 1 ns per fuel unit, minus what start-up cost.
        assert!(
            m.fuel_consumed <= 250_000 && m.fuel_consumed > 240_000,
            "{m:?}"
        );
    }
}

#[test]
fn a_virtual_clock_needs_fuel() {
    let Err(err) = WasmtimeEngine::with_clock(
        WasmtimeEngineConfig {
            limits: Limits {
                fuel_enabled: false,
                ..Limits::default()
            },
            ..WasmtimeEngineConfig::default()
        },
        Clock::virtual_time(VirtualTime::default()),
    ) else {
        panic!("accepted a virtual clock without fuel")
    };
    assert!(matches!(err, EngineError::InvalidConfig(_)), "{err}");
    assert!(err.to_string().contains("fuel_enabled"), "{err}");
}

//! Deterministic fuel and time: a virtual clock, deadlines through fuel,
//! seeded randomness. The same run in a fresh engine gives the same bits.

use std::time::Duration;

use torvyn_engine::VirtualTime;
use torvyn_engine::mock::{
    MockComponent, MockCtx, MockEngine, MockEngineConfig, MockModel, MockResult, ModelElement,
};
use torvyn_engine::wasmtime::{WasmtimeEngine, WasmtimeEngineConfig};
use torvyn_engine::{
    Clock, CompilationStrategy, ComponentId, ComponentInvoker, EngineError, FaultKind, FlowContext,
    InvocationMetrics, Limits, ProcessResult, RandomSource, Role, StreamElement, WasmEngine,
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

/// A call on a virtual clock whose guest spends its time in host calls, a
/// loop of `buffer.size`, started at 4 300 ns with its deadline at 5 000:
/// its host calls, fuel and the clock when it ended.
fn host_call_loop<I: ComponentInvoker>(clock: &Clock, mut i: I) -> (u32, u64, u64) {
    clock.advance(4_300 - clock.now_ns());
    let el =
        StreamElement::new(0, "x", "t").with_context(FlowContext::new("f").with_deadline_ns(5_000));
    let call = crate::support::on_tokio(i.process(el));
    let m = call.metrics;
    let f = fault(call, &i, "deadline-exceeded");
    assert_eq!(
        f.kind,
        FaultKind::DeadlineExceeded {
            allowed: Duration::from_nanos(700)
        }
    );
    let now = clock.now_ns();
    // Everything the call spent is on the clock, within the deadline, and
    // one more host call would have passed it.
    let model = VirtualTime::default();
    assert_eq!(
        now,
        4_300 + u64::from(m.host_calls) * model.ns_per_host_call + m.fuel_consumed,
        "{m:?}"
    );
    assert!(
        now <= 5_000 && now + model.ns_per_host_call > 5_000,
        "{now}"
    );
    (m.host_calls, m.fuel_consumed, now)
}

/// The mock's model of `host-call-loop`.
struct HostCallLoop;

impl MockModel for HostCallLoop {
    fn process(
        &mut self,
        ctx: &mut MockCtx<'_>,
        _input: &ModelElement,
    ) -> MockResult<ProcessResult> {
        loop {
            ctx.payload_size()?;
        }
    }
}

#[test]
fn a_deadline_fires_at_the_host_call_that_would_pass_it_on_both_backends() {
    // Wasmtime: the same call and clock reading in every run.
    for (s, pinned) in [
        (CompilationStrategy::Cranelift, (6, 37, 4_937)),
        (CompilationStrategy::Winch, (6, 37, 4_937)),
    ] {
        let once = || {
            let engine = virtual_engine(s, 0);
            let compiled = compile_on(&engine, "host-call-loop");
            let i = engine
                .instantiate(&compiled, ComponentId::new("loop"))
                .unwrap();
            host_call_loop(engine.clock(), i)
        };
        let first = once();
        assert_eq!(first, once(), "{s:?}");
        assert_eq!(first, pinned, "{s:?}: (host calls, fuel, clock)");
    }
    // The mock: its model's fuel is burned up front, then the host calls.
    let once = || {
        let clock = Clock::virtual_time(VirtualTime::default());
        let engine = MockEngine::with_models(MockEngineConfig::default(), clock.clone()).unwrap();
        engine.register(MockComponent::new(
            "host-call-loop",
            [Role::Processor],
            || HostCallLoop,
        ));
        let compiled = engine
            .compile(&MockEngine::component_bytes("host-call-loop"))
            .unwrap();
        let i = engine
            .instantiate(&compiled, ComponentId::new("loop"))
            .unwrap();
        host_call_loop(&clock, i)
    };
    let first = once();
    assert_eq!(first, once());
    assert_eq!(first, (5, 101, 4_901), "mock: (host calls, fuel, clock)");
}

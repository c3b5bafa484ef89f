//! The call frame both backends share: the same call on the Wasmtime
//! backend and on the mock fills every metric the same way (fuel aside,
//! and time, which on a virtual clock follows from fuel and host calls by
//! one formula on both); runaway guests and limits fault the same way; the
//! limits are validated the same way; a poisoned instance answers the same.

use std::time::Duration;

use torvyn_engine::mock::{
    MemoryModel, MockComponent, MockEngine, MockEngineConfig, Response, Script, Scripts,
};
use torvyn_engine::wasmtime::{WasmtimeEngine, WasmtimeEngineConfig};
use torvyn_engine::{
    BackpressureSignal, Call, Clock, ComponentId, ComponentInvoker, ConfigProblem, EngineError,
    FaultKind, FlowContext, Invocation, InvocationMetrics, Limits, Role, StreamElement,
    VirtualTime, WasmEngine,
};

/// One call of a conversation with an instance: the engine's `Call`, each
/// element given as its sequence number and payload.
type Op = Call<(u64, Vec<u8>)>;

use Call::*;

fn text(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// The conversations: every function of every modelled fixture, with
/// successes, guest errors, a drop, an exhausted source, a missing export
/// and a no-op among them. Payloads stay within the fixtures' first memory
/// page (the models' memory does not grow with the payload).
fn conversations() -> Vec<(&'static str, Vec<Op>)> {
    let kib4: Vec<u8> = (0..4096u32).map(|n| b'a' + (n % 26) as u8).collect();
    vec![
        (
            "passthrough",
            vec![
                Process((0, text("hello"))),
                Process((1, Vec::new())),
                Process((2, kib4.clone())),
                Pull,
                Teardown,
            ],
        ),
        (
            "uppercase",
            vec![
                Process((0, text("Hello, World"))),
                Process((7, kib4.clone())),
                Process((8, Vec::new())),
            ],
        ),
        (
            "filter",
            vec![
                Process((0, text("kept"))),
                Process((1, text("dropped"))),
                Process((2, kib4)),
            ],
        ),
        (
            "counter-source",
            vec![
                Init("{\"count\": 2}".into()),
                Pull,
                NotifyBackpressure(BackpressureSignal::Pause),
                Pull,
                NotifyBackpressure(BackpressureSignal::Ready),
                Pull,
                Pull,
                Push((0, text("no sink role"))),
                Teardown,
            ],
        ),
        (
            "sink",
            vec![
                Init("{\"every\": 2}".into()),
                Push((0, text("one"))),
                Push((1, text("two"))),
                Push((2, Vec::new())),
                Complete,
                Push((3, text("late"))),
                Teardown,
            ],
        ),
    ]
}

fn element(seq: u64, payload: &[u8]) -> StreamElement {
    StreamElement::new(seq, payload.to_vec(), "text/plain")
}

/// A call's outcome as text, and its metrics.
fn seen<T: std::fmt::Debug>(call: Invocation<T>) -> (String, InvocationMetrics) {
    let outcome = match &call.outcome {
        Ok(v) => format!("{v:?}"),
        Err(e) => format!("error: {e}"),
    };
    (outcome, call.metrics)
}

async fn run(
    inst: &mut (impl ComponentInvoker + Send),
    ops: &[Op],
) -> Vec<(String, InvocationMetrics)> {
    let mut out = Vec::new();
    for op in ops {
        let call = op
            .clone()
            .map_element(|(seq, payload)| element(seq, &payload));
        out.push(seen(inst.call(call).await));
    }
    out
}

fn virtual_clock() -> Clock {
    Clock::virtual_time(VirtualTime::default())
}

fn wasmtime_engine(config: WasmtimeEngineConfig) -> WasmtimeEngine {
    WasmtimeEngine::with_clock(config, virtual_clock()).unwrap()
}

fn mock_engine(config: MockEngineConfig) -> MockEngine {
    MockEngine::with_models(config, virtual_clock()).unwrap()
}

fn wasmtime_instance(
    engine: &WasmtimeEngine,
    fixture: &str,
) -> torvyn_engine::wasmtime::WasmtimeInvoker {
    let compiled = crate::support::compile_on(engine, fixture);
    engine
        .instantiate(&compiled, ComponentId::new(fixture))
        .unwrap()
}

fn mock_instance(engine: &MockEngine, name: &str) -> torvyn_engine::mock::MockInvoker {
    let compiled = engine.compile(&MockEngine::component_bytes(name)).unwrap();
    engine
        .instantiate(&compiled, ComponentId::new(name))
        .unwrap()
}

/// The metrics without fuel and time, the two things the mock models.
fn accounting(m: &InvocationMetrics) -> InvocationMetrics {
    InvocationMetrics {
        fuel_consumed: 0,
        duration: Duration::ZERO,
        ..*m
    }
}

/// On a virtual clock a call's duration is its fuel and its host calls,
/// at the clock's rates: the frame reads the clock after lending, charges
/// the fuel and reads it again, on either backend.
#[track_caller]
fn assert_time_from_work(backend: &str, what: &str, m: &InvocationMetrics) {
    let model = VirtualTime::default();
    let expected =
        m.fuel_consumed * model.ns_per_fuel + u64::from(m.host_calls) * model.ns_per_host_call;
    assert_eq!(
        m.duration,
        Duration::from_nanos(expected),
        "{backend}, {what}: {m:?}"
    );
}

#[test]
fn the_same_call_fills_the_same_metrics_on_both_backends() {
    crate::support::on_tokio(async {
        let real_engine = wasmtime_engine(WasmtimeEngineConfig::default());
        let mock_engine = mock_engine(MockEngineConfig::default());
        let mut admitted = 0;
        for (fixture, ops) in conversations() {
            let mut real = wasmtime_instance(&real_engine, fixture);
            let mut mock = mock_instance(&mock_engine, fixture);
            let r = run(&mut real, &ops).await;
            let m = run(&mut mock, &ops).await;
            for (op, ((r_out, r_m), (m_out, m_m))) in ops.iter().zip(r.iter().zip(&m)) {
                let what = format!("{fixture} {op:?}");
                assert_eq!(m_out, r_out, "{what}: the outcome");
                assert_eq!(accounting(m_m), accounting(r_m), "{what}: the metrics");
                let refused_or_noop = *r_m == InvocationMetrics::default();
                assert_eq!(
                    *m_m == InvocationMetrics::default(),
                    refused_or_noop,
                    "{what}: a refused or no-op call costs nothing on both: {m_m:?} {r_m:?}"
                );
                if refused_or_noop {
                    continue;
                }
                admitted += 1;
                for (backend, metrics) in [("wasmtime", r_m), ("mock", m_m)] {
                    assert!(metrics.fuel_consumed > 0, "{backend}, {what}: {metrics:?}");
                    assert!(
                        !metrics.duration.is_zero(),
                        "{backend}, {what}: {metrics:?}"
                    );
                    assert!(metrics.memory_bytes >= 65536, "{backend}, {what}");
                    assert_time_from_work(backend, &what, metrics);
                }
            }
        }
        assert!(admitted >= 20, "the conversations reach the guests");
    });
}

struct Spinners {
    real_engine: WasmtimeEngine,
    real: torvyn_engine::wasmtime::WasmtimeInvoker,
    mock_engine: MockEngine,
    mock: torvyn_engine::mock::MockInvoker,
}

/// A guest that never returns, on each backend: the `spin` fixture, and a
/// mock scripted to run out of fuel (which is what spinning is, to the
/// engine).
fn spinners(limits: Limits) -> Spinners {
    let real_engine = wasmtime_engine(WasmtimeEngineConfig {
        limits,
        ..WasmtimeEngineConfig::default()
    });
    let mock_engine = mock_engine(MockEngineConfig {
        limits,
        ..MockEngineConfig::default()
    });
    mock_engine.register(MockComponent::scripted(
        "spin",
        [Role::Processor],
        Scripts {
            process: Some(Script::cycle([Response::FuelExhaustion])),
            ..Scripts::default()
        },
    ));
    Spinners {
        real: wasmtime_instance(&real_engine, "spin"),
        mock: mock_instance(&mock_engine, "spin"),
        real_engine,
        mock_engine,
    }
}

#[test]
fn a_runaway_guest_burns_its_budget_or_runs_to_its_deadline_on_both() {
    let limits = Limits {
        fuel_per_call: 100_000,
        ..Limits::default()
    };
    let mut s = spinners(limits);
    let r = s.real.process_sync(element(0, b"spin"));
    let m = s.mock.process_sync(element(0, b"spin"));
    for (backend, call) in [("wasmtime", &r), ("mock", &m)] {
        assert_eq!(
            call.fault().map(|f| &f.kind),
            Some(&FaultKind::FuelExhausted { budget: 100_000 }),
            "{backend}"
        );
        assert_eq!(call.metrics.fuel_consumed, 100_000, "{backend}");
        assert_eq!(call.metrics.duration, Duration::from_nanos(100_000));
    }
    assert_eq!(accounting(&m.metrics), accounting(&r.metrics));
    assert_eq!(s.real_engine.fuel_remaining(&s.real), Some(0));
    assert_eq!(s.mock_engine.fuel_remaining(&s.mock), Some(0));

    // A flow deadline shorter than the budget: the fuel to the deadline is
    // burned, and the fault is the deadline's.
    let mut s = spinners(limits);
    let deadline = |clock: &Clock| {
        FlowContext::new("f").with_deadline_ns(clock.deadline_after(Duration::from_micros(50)))
    };
    let r = s
        .real
        .process_sync(element(0, b"spin").with_context(deadline(s.real_engine.clock())));
    let m = s
        .mock
        .process_sync(element(0, b"spin").with_context(deadline(s.mock_engine.clock())));
    for (backend, call) in [("wasmtime", &r), ("mock", &m)] {
        assert_eq!(
            call.fault().map(|f| &f.kind),
            Some(&FaultKind::DeadlineExceeded {
                allowed: Duration::from_micros(50)
            }),
            "{backend}"
        );
        assert_eq!(call.metrics.fuel_consumed, 50_000, "{backend}");
        assert_eq!(
            call.metrics.duration,
            Duration::from_micros(50),
            "{backend}"
        );
    }
}

#[test]
fn a_guest_that_grows_memory_without_end_faults_the_same_on_both() {
    let real_engine = wasmtime_engine(WasmtimeEngineConfig::default());
    let mut real = wasmtime_instance(&real_engine, "memory-hog");
    let mock_engine = mock_engine(MockEngineConfig::default());
    mock_engine.register(
        MockComponent::scripted(
            "memory-hog",
            [Role::Processor],
            Scripts {
                process: Some(Script::cycle([Response::MemoryLimit])),
                ..Scripts::default()
            },
        )
        .with_memory(MemoryModel::default()),
    );
    let mut mock = mock_instance(&mock_engine, "memory-hog");
    let r = real.process_sync(element(0, b"x"));
    let m = mock.process_sync(element(0, b"x"));
    let limit = Limits::default().max_memory_bytes;
    // Both start from one 64 KiB page; the first growth past 16 MiB is one
    // page over it for the mock (page by page) and for the fixture (16
    // pages at a time from one page).
    let expected = FaultKind::MemoryLimitExceeded {
        limit,
        requested: limit + 65536,
    };
    assert_eq!(r.fault().map(|f| &f.kind), Some(&expected));
    assert_eq!(m.fault().map(|f| &f.kind), Some(&expected));
    assert_eq!(m.metrics.memory_bytes, limit, "the mock grew to the limit");
    assert!(r.metrics.memory_bytes <= limit && r.metrics.memory_bytes > limit - (1 << 20));
    assert!(real.poisoned().is_some() && mock.poisoned().is_some());
}

#[test]
fn both_engines_validate_the_limits_alike() {
    let bad = Limits {
        fuel_per_call: 0,
        call_deadline: Some(Duration::ZERO),
        max_memory_bytes: 10,
        max_buffer_bytes_per_instance: 0,
        max_host_resources: 0,
        ..Limits::default()
    };
    let problems = |e: EngineError| match e {
        EngineError::InvalidConfig(problems) => problems,
        other => panic!("{other}"),
    };
    let Err(real) = WasmtimeEngine::new(WasmtimeEngineConfig {
        limits: bad,
        ..WasmtimeEngineConfig::default()
    }) else {
        panic!("Wasmtime accepted invalid limits")
    };
    let Err(mock) = MockEngine::new(MockEngineConfig {
        limits: bad,
        ..MockEngineConfig::default()
    }) else {
        panic!("the mock accepted invalid limits")
    };
    let Err(alone) = bad.validate() else {
        panic!("Limits::validate accepted invalid limits")
    };
    let (real, mock, alone) = (problems(real), problems(mock), problems(alone));
    assert_eq!(mock, real, "the same problems, fields and texts");
    assert_eq!(mock, alone);
    let fields: Vec<&str> = mock.iter().map(|p| p.field).collect();
    assert_eq!(
        fields,
        [
            "limits.fuel_per_call",
            "limits.call_deadline",
            "limits.max_memory_bytes",
            "limits.max_host_resources",
            "limits.max_buffer_bytes_per_instance",
        ]
    );
    assert!(Limits::default().validate().is_ok());

    // A virtual clock without fuel: time would never move, so no deadline
    // could fire. Both constructors refuse it with the same problem, listed
    // with the others.
    let no_fuel = Limits {
        fuel_enabled: false,
        ..Limits::default()
    };
    let Err(real) = WasmtimeEngine::with_clock(
        WasmtimeEngineConfig {
            limits: no_fuel,
            ..WasmtimeEngineConfig::default()
        },
        virtual_clock(),
    ) else {
        panic!("Wasmtime accepted a virtual clock without fuel")
    };
    let Err(mock) = MockEngine::with_clock(
        MockEngineConfig {
            limits: Limits {
                max_host_resources: 0,
                ..no_fuel
            },
            ..MockEngineConfig::default()
        },
        virtual_clock(),
    ) else {
        panic!("the mock accepted a virtual clock without fuel")
    };
    let clock_problem = |p: &ConfigProblem| p.field == "limits.fuel_enabled";
    let (real, mock) = (problems(real), problems(mock));
    assert_eq!(real.len(), 1, "{real:?}");
    assert_eq!(mock.len(), 2, "every problem is listed: {mock:?}");
    assert_eq!(
        real.iter().find(|p| clock_problem(p)),
        mock.iter().find(|p| clock_problem(p))
    );
    assert!(real[0].problem.contains("virtual clock"), "{real:?}");
    // Without a virtual clock, no fuel is fine on both.
    assert!(
        MockEngine::new(MockEngineConfig {
            limits: no_fuel,
            ..MockEngineConfig::default()
        })
        .is_ok()
    );
}

#[test]
fn a_poisoned_instance_says_once_what_poisoned_it_on_both() {
    let real_engine = wasmtime_engine(WasmtimeEngineConfig::default());
    let mock_engine = mock_engine(MockEngineConfig::default());
    mock_engine.register(MockComponent::scripted(
        "trap",
        [Role::Processor],
        Scripts {
            process: Some(Script::cycle([Response::Trap])),
            ..Scripts::default()
        },
    ));
    let mut real = wasmtime_instance(&real_engine, "trap");
    let mut mock = mock_instance(&mock_engine, "trap");
    for (backend, inst) in [
        ("wasmtime", &mut real as &mut dyn PoisonProbe),
        ("mock", &mut mock),
    ] {
        let first = inst.call(0);
        let first = first.fault().expect("the trap faults").clone();
        assert!(first.poisons(), "{backend}");
        for seq in 1..3 {
            let again = inst.call(seq);
            let fault = again.fault().expect("refused");
            assert!(
                matches!(fault.kind, FaultKind::Poisoned { .. }),
                "{backend}"
            );
            assert!(
                fault.poisons(),
                "{backend}: an instance that answers poisoned is poisoned"
            );
            let text = fault.to_string();
            assert_eq!(
                text,
                format!(
                    "component `trap`, function `process`: instance poisoned by an earlier \
                     fault (trap in `process`: guest trapped (unreachable)); re-instantiate it"
                ),
                "{backend}: one line, the cause without its backtrace, the advice once"
            );
            assert_eq!(again.metrics, InvocationMetrics::default());
            assert_eq!(
                inst.first_poison(),
                Some(&first),
                "{backend}: a refused call keeps the first poison"
            );
        }
    }
}

/// What the poisoning test needs of either invoker, synchronously.
trait PoisonProbe {
    fn call(&mut self, seq: u64) -> Invocation<torvyn_engine::ProcessResult>;
    fn first_poison(&self) -> Option<&torvyn_engine::Fault>;
}

impl PoisonProbe for torvyn_engine::wasmtime::WasmtimeInvoker {
    fn call(&mut self, seq: u64) -> Invocation<torvyn_engine::ProcessResult> {
        self.process_sync(element(seq, b"x"))
    }
    fn first_poison(&self) -> Option<&torvyn_engine::Fault> {
        self.poisoned()
    }
}

impl PoisonProbe for torvyn_engine::mock::MockInvoker {
    fn call(&mut self, seq: u64) -> Invocation<torvyn_engine::ProcessResult> {
        self.process_sync(element(seq, b"x"))
    }
    fn first_poison(&self) -> Option<&torvyn_engine::Fault> {
        self.poisoned()
    }
}

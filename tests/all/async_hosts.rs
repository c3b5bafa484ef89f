//! The async face of the Wasmtime invoker awaited inside tokio runtimes of
//! both flavours, as a streaming host awaits it: guests that print, read
//! clocks and random bytes, and sleep answer as the synchronous path
//! does, and never panic the host. The synchronous path keeps working
//! inside a runtime too.

use std::time::Duration;

use tokio::runtime::{Builder, Runtime};
use torvyn_engine::VirtualTime;
use torvyn_engine::wasmtime::{WasmtimeEngine, WasmtimeEngineConfig, WasmtimeInvoker};
use torvyn_engine::{
    Answer, BackpressureSignal, Call, Clock, CompilationStrategy, ComponentId, ComponentInvoker,
    FlowContext, Invocation, Limits, ProcessResult, RandomSource, StreamElement, WasmEngine,
};

use crate::support::{compile_on, fault};

/// One contract call: the engine's `Call`, each element given as its
/// sequence number and payload.
type Step = Call<(u64, &'static str)>;

use Call::*;

/// A script per fixture; together they call every contract function, and
/// `wasi-hello` and `sleeper` print, read the wall and monotonic clocks
/// and random bytes, and sleep (poll, block).
fn scripts() -> Vec<(&'static str, Vec<Step>)> {
    vec![
        (
            "wasi-hello",
            vec![
                Init("{}".into()),
                Process((0, "hello")),
                Process((1, "world")),
                Teardown,
            ],
        ),
        ("sleeper", vec![Process((0, "a")), Process((2, "b"))]),
        (
            "counter-source",
            vec![
                Init("2".into()),
                NotifyBackpressure(BackpressureSignal::Pause),
                Pull,
                NotifyBackpressure(BackpressureSignal::Ready),
                Pull,
                Pull,
                Pull,
                Teardown,
            ],
        ),
        (
            "sink",
            vec![
                Init("2".into()),
                Push((0, "a")),
                Push((1, "b")),
                Complete,
                Push((2, "c")),
            ],
        ),
        (
            "content-filter",
            vec![Evaluate((0, "")), Evaluate((0, "x"))],
        ),
        ("router", vec![Route((0, "a")), Route((0, "bb"))]),
        (
            "sentence-aggregator",
            vec![
                Ingest((0, "hello")),
                Ingest((1, "there.")),
                Ingest((2, "more")),
                Flush,
            ],
        ),
    ]
}

fn element(seq: u64, payload: &'static str) -> StreamElement {
    StreamElement::new(seq, payload, "text/plain")
}

/// What a call answered and cost, for comparison.
fn describe<T: std::fmt::Debug>(call: Invocation<T>) -> String {
    format!(
        "{:?} fuel={} host_calls={}",
        call.outcome, call.metrics.fuel_consumed, call.metrics.host_calls
    )
}

/// Runs `step` through the synchronous path: the typed method of its
/// function, its value as an `Answer`.
fn step_sync(i: &mut WasmtimeInvoker, step: &Step) -> String {
    let el = |&(seq, payload): &(u64, &'static str)| element(seq, payload);
    describe(match step {
        Init(c) => i.init_sync(c).map(Answer::from),
        Process(e) => i.process_sync(el(e)).map(Answer::from),
        Pull => i.pull_sync().map(Answer::from),
        NotifyBackpressure(signal) => i.notify_backpressure_sync(*signal).map(Answer::from),
        Push(e) => i.push_sync(el(e)).map(Answer::from),
        Complete => i.complete_sync().map(Answer::from),
        Evaluate(e) => i.evaluate_sync(el(e)).map(Answer::from),
        Route(e) => i.route_sync(el(e)).map(Answer::from),
        Ingest(e) => i.ingest_sync(el(e)).map(Answer::from),
        Flush => i.flush_sync().map(Answer::from),
        Teardown => i.teardown_sync().map(Answer::from),
    })
}

/// Runs `step` through [`ComponentInvoker::call`], awaited.
async fn step_async(i: &mut WasmtimeInvoker, step: &Step) -> String {
    let call = step
        .clone()
        .map_element(|(seq, payload)| element(seq, payload));
    describe(i.call(call).await)
}

/// An engine on a virtual clock with seeded randomness, so two instances
/// of one fixture on two such engines answer bit for bit alike.
fn deterministic_engine() -> WasmtimeEngine {
    WasmtimeEngine::with_clock(
        WasmtimeEngineConfig {
            random: RandomSource::Seeded(11),
            ..WasmtimeEngineConfig::with_strategy(CompilationStrategy::Cranelift)
        },
        Clock::virtual_time(VirtualTime::default()),
    )
    .unwrap()
}

fn instance(engine: &WasmtimeEngine, fixture: &str) -> WasmtimeInvoker {
    engine
        .instantiate(&compile_on(engine, fixture), ComponentId::new(fixture))
        .unwrap()
}

/// What every call of a script answered, run synchronously outside any
/// runtime, with what the instance printed.
fn sync_run(fixture: &str, steps: &[Step]) -> (Vec<String>, Vec<u8>) {
    let engine = deterministic_engine();
    let mut i = instance(&engine, fixture);
    let answers = steps.iter().map(|s| step_sync(&mut i, s)).collect();
    (answers, i.take_stdout().bytes)
}

fn runtimes() -> [(&'static str, Runtime); 2] {
    [
        (
            "current-thread",
            Builder::new_current_thread().enable_all().build().unwrap(),
        ),
        (
            "multi-thread",
            Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap(),
        ),
    ]
}

#[test]
fn every_function_awaited_inside_tokio_answers_as_the_sync_path() {
    for (fixture, steps) in scripts() {
        let (expected, printed) = sync_run(fixture, &steps);
        for (flavour, rt) in runtimes() {
            let engine = deterministic_engine();
            let mut i = instance(&engine, fixture);
            let script = steps.clone();
            // A task of the runtime, as a host's flow runs (on a worker
            // thread of the multi-thread runtime).
            let (answers, i) = rt
                .block_on(rt.spawn(async move {
                    let mut answers = Vec::new();
                    for s in &script {
                        answers.push(step_async(&mut i, s).await);
                    }
                    (answers, i)
                }))
                .unwrap();
            assert_eq!(answers, expected, "{fixture} on a {flavour} runtime");
            let mut i = i;
            assert_eq!(i.take_stdout().bytes, printed, "{fixture}: what it printed");
        }
    }
    // The guests that print did print.
    assert_eq!(sync_run("wasi-hello", &scripts()[0].1).1, b"hello\nworld\n");
}

#[test]
fn the_sync_path_works_inside_a_runtime_too() {
    for (fixture, steps) in scripts() {
        let (expected, _) = sync_run(fixture, &steps);
        for (flavour, rt) in runtimes() {
            let engine = deterministic_engine();
            let mut i = instance(&engine, fixture);
            let answers: Vec<String> =
                rt.block_on(async { steps.iter().map(|s| step_sync(&mut i, s)).collect() });
            assert_eq!(answers, expected, "{fixture} on a {flavour} runtime");
        }
    }
}

#[test]
fn on_the_system_clock_guests_that_print_read_time_and_sleep_answer_inside_tokio() {
    // What a production host has: the system clock and OS randomness.
    let engine = WasmtimeEngine::new(WasmtimeEngineConfig::default()).unwrap();
    for (flavour, rt) in runtimes() {
        let mut hello = instance(&engine, "wasi-hello");
        let mut sleeper = instance(&engine, "sleeper");
        let (hello_out, slept) = rt.block_on(async {
            let hello_out = hello.process(element(0, "hi")).await;
            let slept = sleeper.process(element(3, "zzz")).await;
            (hello_out, slept)
        });
        assert!(hello_out.is_ok(), "{flavour}: {:?}", hello_out.outcome);
        assert_eq!(hello.take_stdout().bytes, b"hi\n");
        let Ok(ProcessResult::Emit(out)) = slept.outcome else {
            panic!("{flavour}: {:?}", slept.outcome);
        };
        let (t0, t1) = times(&out.payload);
        assert!(
            t1 - t0 >= 3_000_000,
            "{flavour}: a 3 ms sleep took {} ns",
            t1 - t0
        );
        assert_eq!(out.payload[16], 0, "not ready before the sleep");
        assert_eq!(out.payload[17], 1, "poll answered one index");
        assert_eq!(sleeper.take_stdout().bytes, b"slept\n");
    }
}

/// The monotonic readings `sleeper` put in its output.
fn times(payload: &[u8]) -> (u64, u64) {
    (
        u64::from_le_bytes(payload[..8].try_into().unwrap()),
        u64::from_le_bytes(payload[8..16].try_into().unwrap()),
    )
}

#[test]
fn a_sleep_on_a_virtual_clock_takes_exactly_its_time_and_no_real_time() {
    let engine = deterministic_engine();
    let mut i = instance(&engine, "sleeper");
    let before = engine.clock().now_ns();
    let real = std::time::Instant::now();
    // 5 s of sleep.
    let call = i.process_sync(element(5000, "z"));
    assert!(real.elapsed() < Duration::from_secs(5), "no real sleep");
    let Ok(ProcessResult::Emit(out)) = call.outcome else {
        panic!("{:?}", call.outcome);
    };
    let (t0, t1) = times(&out.payload);
    assert_eq!(t1 - t0, 5_000_000_000, "the guest slept exactly 5 s");
    // The call took the sleep, its host calls and its fuel.
    let model = VirtualTime::default();
    let m = call.metrics;
    assert_eq!(
        m.duration,
        Duration::from_nanos(
            5_000_000_000
                + m.fuel_consumed * model.ns_per_fuel
                + u64::from(m.host_calls) * model.ns_per_host_call
        )
    );
    assert!(engine.clock().now_ns() - before >= 5_000_000_000);
}

#[test]
fn a_sleep_past_the_deadline_is_stopped_at_the_deadline() {
    // Virtual clock: at once, at the same clock reading every run.
    let once = || {
        let engine = deterministic_engine();
        let mut i = instance(&engine, "sleeper");
        let deadline = engine.clock().deadline_after(Duration::from_millis(2));
        let el = element(10, "z").with_context(FlowContext::new("f").with_deadline_ns(deadline));
        let call = i.process_sync(el);
        let m = call.metrics;
        fault(call, &i, "deadline-exceeded");
        (m, engine.clock().now_ns(), deadline)
    };
    let (m, now, deadline) = once();
    assert_eq!((m, now, deadline), once());
    assert_eq!(
        now, deadline,
        "the sleep ran up to the deadline and stopped there"
    );

    // System clock: the host waits until the deadline, not for the sleep.
    let engine = WasmtimeEngine::new(WasmtimeEngineConfig {
        limits: Limits {
            call_deadline: Some(Duration::from_millis(50)),
            ..Limits::default()
        },
        ..WasmtimeEngineConfig::default()
    })
    .unwrap();
    for (flavour, rt) in runtimes() {
        let mut i = instance(&engine, "sleeper");
        let real = std::time::Instant::now();
        // A 10 s sleep.
        let call = rt.block_on(i.process(element(10_000, "z")));
        let took = real.elapsed();
        fault(call, &i, "deadline-exceeded");
        assert!(
            took >= Duration::from_millis(50) && took < Duration::from_secs(10),
            "{flavour}: took {took:?}"
        );
    }
}

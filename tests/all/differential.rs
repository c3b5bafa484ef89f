//! The mock models of the benign fixtures against the fixtures themselves:
//! proptest generates element streams (payload bytes, content types,
//! sequence gaps, deadlines) and both backends must agree on everything but
//! fuel and time.

use std::time::Duration;

use proptest::prelude::*;
use torvyn_engine::mock::MockInvoker;
use torvyn_engine::wasmtime::WasmtimeInvoker;
use torvyn_engine::{
    BackpressureSignal, Clock, CompilationStrategy, ComponentInvoker, FlowContext, Invocation,
    StreamElement,
};
use torvyn_harness::backend::{EngineSettings, MockBackend, SimBackend, WasmtimeBackend};
use torvyn_harness::fuzz::oracle::Observed;
use torvyn_harness::source::ComponentSource;
use torvyn_harness::spec::ClockSetting;

/// What both backends must agree on: the outcome and the accounting (the
/// fuzz targets' oracle, `torvyn_harness::fuzz::oracle::Observed`).
fn observe<T: std::fmt::Debug>(call: Invocation<T>, inst: &impl ComponentInvoker) -> Observed {
    Observed::of(&call, inst)
}

/// The fixture on Wasmtime, through the harness's backend abstraction
/// (the suite's shared Cranelift engine and compiled fixtures: compiling
/// per case would leave no time for cases).
fn real(fixture: &str, id: &str) -> (WasmtimeBackend, WasmtimeInvoker) {
    let strategy = CompilationStrategy::Cranelift;
    let b = WasmtimeBackend::from_engine(crate::support::engine(strategy));
    let inst = b
        .instantiate(&crate::support::compiled(strategy, fixture), id)
        .unwrap();
    (b, inst)
}

/// The fixture's model on the mock, through the same abstraction (the
/// default limits, the system clock, like the real side).
fn mock(fixture: &str, id: &str) -> (MockBackend, MockInvoker) {
    let b = MockBackend::new(&EngineSettings {
        clock: ClockSetting::System,
        ..EngineSettings::deterministic(0)
    })
    .unwrap();
    let compiled = b
        .compile(&ComponentSource::Fixture(fixture.into()), fixture)
        .unwrap();
    let inst = b.instantiate(&compiled, id).unwrap();
    (b, inst)
}

/// An element: arbitrary bytes, a content type, a sequence number and
/// maybe a (far) deadline.
fn element() -> impl Strategy<Value = (Vec<u8>, String, u64, bool)> {
    (
        prop::collection::vec(any::<u8>(), 0..300),
        prop_oneof![
            Just(String::new()),
            Just("text/plain".to_owned()),
            "[a-z]{1,10}/[a-z+.-]{1,20}",
        ],
        any::<u64>(),
        any::<bool>(),
    )
}

fn to_element(
    (payload, ct, seq, deadline): (Vec<u8>, String, u64, bool),
    clock: &Clock,
) -> StreamElement {
    let mut ctx = FlowContext::new(format!("flow-{seq}"));
    if deadline {
        ctx = ctx.with_deadline_ns(clock.deadline_after(Duration::from_secs(30)));
    }
    StreamElement::new(seq, payload, ct).with_context(ctx)
}

fn run_processor(fixture: &str, elements: &[(Vec<u8>, String, u64, bool)]) {
    let (real_backend, mut real) = real(fixture, fixture);
    let (mock_backend, mut mock) = mock(fixture, fixture);
    for e in elements {
        let r = real.process_sync(to_element(e.clone(), real_backend.clock()));
        let r = observe(r, &real);
        let m = mock.process_sync(to_element(e.clone(), mock_backend.clock()));
        let m = observe(m, &mock);
        assert_eq!(m, r, "{fixture}: mock differs from the fixture");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn passthrough_matches(elements in prop::collection::vec(element(), 1..8)) {
        run_processor("passthrough", &elements);
    }

    #[test]
    fn uppercase_matches(elements in prop::collection::vec(element(), 1..8)) {
        run_processor("uppercase", &elements);
    }

    #[test]
    fn filter_matches(elements in prop::collection::vec(element(), 1..8)) {
        run_processor("filter", &elements);
    }

    #[test]
    fn counter_source_matches(
        config in prop_oneof![Just(None), (0u64..20).prop_map(|n| Some(format!("{{\"count\": {n}}}"))), Just(Some("{}".to_owned()))],
        ops in prop::collection::vec(0u8..4, 1..30),
    ) {
        let (_real_engine, mut real) = real("counter-source", "src");
        let (_mock_engine, mut mock) = mock("counter-source", "src");
        if let Some(config) = &config {
            let r = observe(real.init_sync(config), &real);
            let m = observe(mock.init_sync(config), &mock);
            prop_assert_eq!(m, r);
        }
        for op in ops {
            let (r, m) = match op {
                0 => (
                    observe(real.notify_backpressure_sync(BackpressureSignal::Pause), &real),
                    observe(mock.notify_backpressure_sync(BackpressureSignal::Pause), &mock),
                ),
                1 => (
                    observe(real.notify_backpressure_sync(BackpressureSignal::Ready), &real),
                    observe(mock.notify_backpressure_sync(BackpressureSignal::Ready), &mock),
                ),
                _ => (
                    observe(real.pull_sync(), &real),
                    observe(mock.pull_sync(), &mock),
                ),
            };
            prop_assert_eq!(m, r);
        }
    }

    /// `scribble` (every role; on Wasmtime its post-return overwrites each
    /// answer) against its model: random calls of every function, with
    /// payloads that are sometimes refused (`!`), sometimes not UTF-8.
    #[test]
    fn scribble_matches(
        calls in prop::collection::vec(
            (0u8..11, prop_oneof![
                prop::collection::vec(any::<u8>(), 0..40),
                "!?[a-z é]{0,12}".prop_map(String::into_bytes),
                "[a-z. ]{0,24}".prop_map(String::into_bytes),
            ]),
            1..40,
        ),
    ) {
        let (real_backend, mut real) = real("scribble", "scribble");
        let (mock_backend, mut mock) = mock("scribble", "scribble");
        for (i, (call, payload)) in calls.into_iter().enumerate() {
            let el = |clock| to_element(
                (payload.clone(), "text/plain".to_owned(), i as u64, false),
                clock,
            );
            let (r, m) = match call {
                0 => (
                    observe(real.process_sync(el(real_backend.clock())), &real),
                    observe(mock.process_sync(el(mock_backend.clock())), &mock),
                ),
                1 => (observe(real.pull_sync(), &real), observe(mock.pull_sync(), &mock)),
                2 => (
                    observe(real.push_sync(el(real_backend.clock())), &real),
                    observe(mock.push_sync(el(mock_backend.clock())), &mock),
                ),
                3 => (observe(real.complete_sync(), &real), observe(mock.complete_sync(), &mock)),
                4 => (
                    observe(real.evaluate_sync(el(real_backend.clock())), &real),
                    observe(mock.evaluate_sync(el(mock_backend.clock())), &mock),
                ),
                5 | 6 => (
                    observe(real.route_sync(el(real_backend.clock())), &real),
                    observe(mock.route_sync(el(mock_backend.clock())), &mock),
                ),
                7 | 8 => (
                    observe(real.ingest_sync(el(real_backend.clock())), &real),
                    observe(mock.ingest_sync(el(mock_backend.clock())), &mock),
                ),
                9 => (observe(real.flush_sync(), &real), observe(mock.flush_sync(), &mock)),
                _ => {
                    let config = String::from_utf8_lossy(&payload).into_owned();
                    (
                        observe(real.init_sync(&config), &real),
                        observe(mock.init_sync(&config), &mock),
                    )
                }
            };
            prop_assert_eq!(m, r);
        }
    }

    #[test]
    fn sink_matches(
        every in 0u64..5,
        elements in prop::collection::vec(element(), 0..10),
        complete_at in 0usize..10,
    ) {
        let (real_backend, mut real) = real("sink", "sink");
        let (mock_backend, mut mock) = mock("sink", "sink");
        let config = format!("{{\"every\": {every}}}");
        prop_assert_eq!(
            observe(mock.init_sync(&config), &mock),
            observe(real.init_sync(&config), &real)
        );
        for (i, e) in elements.into_iter().enumerate() {
            if i == complete_at {
                prop_assert_eq!(
                    observe(mock.complete_sync(), &mock),
                    observe(real.complete_sync(), &real)
                );
            }
            let r = observe(real.push_sync(to_element(e.clone(), real_backend.clock())), &real);
            let m = observe(mock.push_sync(to_element(e, mock_backend.clock())), &mock);
            prop_assert_eq!(m, r);
        }
    }
}

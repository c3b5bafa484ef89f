//! The mock models of the benign fixtures against the fixtures themselves:
//! proptest generates element streams (payload bytes, content types,
//! sequence gaps, deadlines) and both backends must agree on everything but
//! fuel and time.

use std::time::Duration;

use proptest::prelude::*;
use torvyn_engine::mock::{MockEngine, MockEngineConfig};
use torvyn_engine::{
    BackpressureSignal, Clock, CompilationStrategy, ComponentId, ComponentInvoker, FlowContext,
    Invocation, StreamElement, WasmEngine,
};
use torvyn_harness::fuzz::oracle::Observed;

/// What both backends must agree on: the outcome and the accounting (the
/// fuzz targets' oracle, `torvyn_harness::fuzz::oracle::Observed`).
fn observe<T: std::fmt::Debug>(call: Invocation<T>, inst: &impl ComponentInvoker) -> Observed {
    Observed::of(&call, inst)
}

fn mock_engine() -> MockEngine {
    MockEngine::with_models(MockEngineConfig::default(), Clock::system()).unwrap()
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
    let real_engine = crate::support::engine(CompilationStrategy::Cranelift);
    let mut real = real_engine
        .instantiate(
            &crate::support::compiled(CompilationStrategy::Cranelift, fixture),
            ComponentId::new(fixture),
        )
        .unwrap();
    let mock_engine = mock_engine();
    let mut mock = mock_engine
        .instantiate(
            &mock_engine
                .compile(&MockEngine::component_bytes(fixture))
                .unwrap(),
            ComponentId::new(fixture),
        )
        .unwrap();
    for e in elements {
        let r = real.process_sync(to_element(e.clone(), real_engine.clock()));
        let r = observe(r, &real);
        let m = mock.process_sync(to_element(e.clone(), mock_engine.clock()));
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
        let real_engine = crate::support::engine(CompilationStrategy::Cranelift);
        let mut real = real_engine
            .instantiate(&crate::support::compiled(CompilationStrategy::Cranelift, "counter-source"), ComponentId::new("src"))
            .unwrap();
        let mock_engine = mock_engine();
        let mut mock = mock_engine
            .instantiate(&mock_engine.compile(&MockEngine::component_bytes("counter-source")).unwrap(), ComponentId::new("src"))
            .unwrap();
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

    #[test]
    fn sink_matches(
        every in 0u64..5,
        elements in prop::collection::vec(element(), 0..10),
        complete_at in 0usize..10,
    ) {
        let real_engine = crate::support::engine(CompilationStrategy::Cranelift);
        let mut real = real_engine
            .instantiate(&crate::support::compiled(CompilationStrategy::Cranelift, "sink"), ComponentId::new("sink"))
            .unwrap();
        let mock_engine = mock_engine();
        let mut mock = mock_engine
            .instantiate(&mock_engine.compile(&MockEngine::component_bytes("sink")).unwrap(), ComponentId::new("sink"))
            .unwrap();
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
            let r = observe(real.push_sync(to_element(e.clone(), real_engine.clock())), &real);
            let m = observe(mock.push_sync(to_element(e, mock_engine.clock())), &mock);
            prop_assert_eq!(m, r);
        }
    }
}

//! The mock models of the benign fixtures against the fixtures, and the
//! bounds on the mock alone.

use super::*;

/// What both backends must agree on: the outcome and every metric but fuel
/// and time ([`Observed`], and the memory reading).
fn observe<T: std::fmt::Debug>(
    call: &Invocation<T>,
    inst: &impl ComponentInvoker,
) -> (Observed, u64) {
    (Observed::of(call, inst), call.metrics.memory_bytes)
}

/// A fixture on Wasmtime and its model on the mock, instantiated with the
/// same grants.
fn pair(fixture: &str, grants: &Grants) -> (WasmtimeInvoker, MockInvoker) {
    let strategy = CompilationStrategy::Cranelift;
    let options = InstanceOptions::with_grants(grants.clone());
    let real = engine(strategy)
        .instantiate_with(
            &compiled(strategy, fixture),
            ComponentId::new(fixture),
            &options,
        )
        .unwrap();
    let mock_engine =
        MockEngine::with_models(MockEngineConfig::default(), Clock::system()).unwrap();
    let c = mock_engine
        .compile(&MockEngine::component_bytes(fixture))
        .unwrap();
    let mock = mock_engine
        .instantiate_with(&c, ComponentId::new(fixture), &options)
        .unwrap();
    (real, mock)
}

/// One call on both sides, compared.
macro_rules! same {
    ($fixture:expr, $real:ident, $mock:ident, $call:ident ()) => {{
        let r = $real.$call();
        let m = $mock.$call();
        let (r, m) = (observe(&r, &$real), observe(&m, &$mock));
        prop_assert_eq!(&m, &r, "{}: the model differs from the fixture", $fixture);
    }};
    ($fixture:expr, $real:ident, $mock:ident, $call:ident ($arg:expr)) => {{
        let arg = $arg;
        let r = $real.$call(arg.clone());
        let m = $mock.$call(arg);
        let (r, m) = (observe(&r, &$real), observe(&m, &$mock));
        prop_assert_eq!(&m, &r, "{}: the model differs from the fixture", $fixture);
    }};
}

/// A word, maybe with the blocked word in it, maybe ending a sentence,
/// sometimes empty, sometimes not text at all.
fn token() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => "(darn|the|fox|late|oh|[a-z]{1,8})[.!?]?".prop_map(String::into_bytes),
        1 => Just(Vec::new()),
        1 => prop::collection::vec(any::<u8>(), 0..64),
        1 => "[0-9]{1,4}!?".prop_map(String::into_bytes),
    ]
}

fn element(seq: u64, bytes: Vec<u8>) -> StreamElement {
    StreamElement::new(seq, bytes, "text/plain").with_context(FlowContext::new("flow"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn the_filter_models_match(tokens in prop::collection::vec(token(), 1..10)) {
        for fixture in ["token-filter", "content-filter"] {
            let (mut real, mut mock) = pair(fixture, &Grants::default());
            same!(fixture, real, mock, init_sync(""));
            for (seq, t) in tokens.iter().enumerate() {
                same!(fixture, real, mock, evaluate_sync(element(seq as u64, t.clone())));
            }
            same!(fixture, real, mock, teardown_sync());
        }
    }

    #[test]
    fn the_router_model_matches(tokens in prop::collection::vec(token(), 1..10)) {
        let (mut real, mut mock) = pair("router", &Grants::default());
        for (seq, t) in tokens.iter().enumerate() {
            same!("router", real, mock, route_sync(element(seq as u64, t.clone())));
        }
    }

    #[test]
    fn the_aggregator_model_matches(
        ops in prop::collection::vec(prop_oneof![5 => token().prop_map(Some), 1 => Just(None)], 1..24),
        long in prop::option::of(4000usize..4200),
    ) {
        let (mut real, mut mock) = pair("sentence-aggregator", &Grants::default());
        same!("sentence-aggregator", real, mock, init_sync("{}"));
        if let Some(n) = long {
            same!("sentence-aggregator", real, mock, ingest_sync(element(0, vec![b'w'; n])));
        }
        for (seq, op) in ops.into_iter().enumerate() {
            match op {
                Some(t) => same!("sentence-aggregator", real, mock, ingest_sync(element(seq as u64, t))),
                None => same!("sentence-aggregator", real, mock, flush_sync()),
            }
        }
        same!("sentence-aggregator", real, mock, flush_sync());
    }

    #[test]
    fn the_probe_model_matches(
        names in prop::collection::vec(prop_oneof![
            Just(b"wasi-random".to_vec()),
            Just(b"wasi-filesystem-read".to_vec()),
            "[a-z-]{0,20}".prop_map(String::into_bytes),
            prop::collection::vec(any::<u8>(), 0..16),
        ], 1..8),
        grant in any::<bool>(),
    ) {
        let grants = if grant { Grants::new(["wasi-random"]) } else { Grants::default() };
        let (mut real, mut mock) = pair("capability-probe", &grants);
        for (seq, n) in names.into_iter().enumerate() {
            same!("capability-probe", real, mock, process_sync(element(seq as u64, n)));
        }
    }

    #[test]
    fn the_token_source_model_matches(
        config in prop_oneof![Just(None), Just(Some(String::new())), Just(Some("{}".to_owned()))],
        ops in prop::collection::vec(0u8..3, 1..20),
    ) {
        let (mut real, mut mock) = pair("token-source", &Grants::default());
        if let Some(config) = config {
            same!("token-source", real, mock, init_sync(config.as_str()));
        }
        for op in ops {
            match op {
                0 => same!("token-source", real, mock, notify_backpressure_sync(BackpressureSignal::Pause)),
                _ => same!("token-source", real, mock, pull_sync()),
            }
        }
    }
}

/// The aggregator's model at the edge of the sentence buffer, where random
/// lengths rarely land: a token that fills it exactly, one byte short, one
/// byte over.
#[test]
fn the_aggregator_model_matches_at_the_capacity() -> Result<(), TestCaseError> {
    for (first, second) in [
        (4095, "y"),
        (4094, "y."),
        (4096, "y"),
        (4097, "y"),
        (0, "y"),
    ] {
        let (mut real, mut mock) = pair("sentence-aggregator", &Grants::default());
        same!(
            "sentence-aggregator",
            real,
            mock,
            ingest_sync(element(0, vec![b'w'; first]))
        );
        same!(
            "sentence-aggregator",
            real,
            mock,
            ingest_sync(element(1, second.into()))
        );
        same!("sentence-aggregator", real, mock, flush_sync());
    }
    Ok(())
}

#[test]
fn the_models_cover_the_benign_extension_fixtures() {
    for fixture in [
        "token-source",
        "token-filter",
        "sentence-aggregator",
        "content-filter",
        "router",
        "capability-probe",
    ] {
        assert!(models::NAMES.contains(&fixture), "{fixture} has no model");
        let model = models::all()
            .into_iter()
            .find(|m| m.name() == fixture)
            .unwrap();
        let real = compiled(CompilationStrategy::Cranelift, fixture);
        assert_eq!(model.roles(), real.roles(), "{fixture}");
    }
}

// ---- the bounds on the mock alone --------------------------------------

fn mock_instance(engine: &MockEngine, builder: MockBuilder) -> MockInvoker {
    let component = builder.build();
    let name = component.name().to_owned();
    engine.register(component);
    let c = engine.compile(&MockEngine::component_bytes(&name)).unwrap();
    engine.instantiate(&c, ComponentId::new(name)).unwrap()
}

#[test]
fn the_mock_bounds_route_answers() {
    let engine = MockEngine::deterministic(3);
    let mut wide = mock_instance(
        &engine,
        MockBuilder::new("wide").on_route(|_, _| Ok((0..100).map(|i| format!("p{i}")).collect())),
    );
    assert_eq!(wide.roles(), [Role::Router].into_iter().collect());
    for _ in 0..2 {
        too_large(
            wide.route_sync(text(0, "x")),
            &wide,
            AnswerLimit::RoutePorts,
            64,
            100,
        );
    }
    let mut long = mock_instance(
        &engine,
        MockBuilder::new("long").on_route(|_, _| Ok(vec!["n".repeat(500); 10])),
    );
    too_large(
        long.route_sync(text(0, "x")),
        &long,
        AnswerLimit::RouteBytes,
        4096,
        5000,
    );
    let mut fine = mock_instance(
        &engine,
        MockBuilder::new("fine").on_route(|_, _| Ok(vec!["a".into(), "b".into()])),
    );
    assert_eq!(ok(fine.route_sync(text(0, "x")), &fine), ["a", "b"]);
}

fn flood_builder(name: &str, n: u64) -> MockBuilder {
    MockBuilder::new(name).on_flush(move |ctx| {
        (0..n)
            .map(|i| {
                Ok(PendingOutput {
                    meta: ElementMeta::new(i, "text/plain"),
                    buf: ctx.frozen_bytes(b"x", "text/plain")?,
                })
            })
            .collect()
    })
}

#[test]
fn the_mock_bounds_flush_answers_and_reclaims_their_buffers() {
    let engine = MockEngine::deterministic(4);
    let mut flood = mock_instance(&engine, flood_builder("flood", 2000));
    for _ in 0..2 {
        let m = too_large(
            flood.flush_sync(),
            &flood,
            AnswerLimit::FlushOutputs,
            1024,
            2000,
        );
        assert_eq!((m.buffers_allocated, m.resources_reclaimed), (2000, 2000));
        assert_eq!(flood.live_resources(), 0);
    }
    let raised = MockEngine::new(MockEngineConfig {
        limits: Limits {
            max_flush_outputs: 2000,
            ..Limits::default()
        },
        ..MockEngineConfig::default()
    })
    .unwrap();
    let mut flood = mock_instance(&raised, flood_builder("flood", 2000));
    let call = flood.flush_sync();
    assert_eq!(call.metrics.resources_reclaimed, 0);
    let outs = ok(call, &flood);
    assert_eq!(outs.len(), 2000);
    assert_eq!(outs[1999].meta.sequence, 1999);
}

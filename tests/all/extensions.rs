//! The extension contracts (`torvyn:filtering`, `torvyn:aggregation`,
//! `torvyn:capabilities`) on Wasmtime, with the fixtures in both spellings
//! of the streaming package: roles and worlds, `evaluate`, `route`,
//! `ingest` and `flush`, the token-streaming example by hand, grants, the
//! bounds on answers and the hostile fixtures; then the mock models of the
//! benign fixtures against the fixtures, and the bounds on the mock alone.

use proptest::prelude::*;
use torvyn_engine::mock::{
    MockBuilder, MockEngine, MockEngineConfig, MockInvoker, PendingOutput, models,
};
use torvyn_engine::wasmtime::WasmtimeInvoker;
use torvyn_engine::wasmtime::{WasmtimeEngine, WasmtimeEngineConfig};
use torvyn_engine::{
    AnswerLimit, BackpressureSignal, Clock, CompilationStrategy, ComponentId, ComponentInvoker,
    ElementMeta, FaultKind, FlowContext, Grants, InstanceOptions, Invocation, Limits,
    OutputElement, ProcessError, ProcessResult, Role, StreamElement, WasmEngine, World,
};
use torvyn_harness::fuzz::oracle::Observed;

use crate::support::{
    STRATEGIES, compile_on, compiled, engine, fault, guest_err, instance, ok, too_large,
};

fn text(seq: u64, payload: &str) -> StreamElement {
    StreamElement::new(seq, payload.to_owned(), "text/plain")
}

fn payload(out: &OutputElement) -> &str {
    std::str::from_utf8(&out.payload).expect("a text payload")
}

/// The texts of `outs`.
fn texts(outs: &[OutputElement]) -> Vec<&str> {
    outs.iter().map(payload).collect()
}

/// An engine with the default configuration but `limits`.
fn engine_with(limits: Limits) -> WasmtimeEngine {
    WasmtimeEngine::new(WasmtimeEngineConfig {
        limits,
        ..WasmtimeEngineConfig::default()
    })
    .unwrap()
}

#[test]
fn every_extension_fixture_compiles_with_its_roles_and_worlds() {
    use Role::{Aggregator, Filter, Lifecycle, Processor, Router, Source};
    let table: [(&str, &[Role], &[World]); 12] = [
        ("token-source", &[Source, Lifecycle], &[World::DataSource]),
        (
            "token-filter",
            &[Filter, Lifecycle],
            &[World::ContentFilter],
        ),
        (
            "content-filter",
            &[Filter, Lifecycle],
            &[World::ContentFilter],
        ),
        ("filter-trap", &[Filter, Lifecycle], &[World::ContentFilter]),
        ("router", &[Router, Lifecycle], &[World::ContentRouter]),
        ("route-flood", &[Router, Lifecycle], &[World::ContentRouter]),
        ("route-alias", &[Router, Lifecycle], &[World::ContentRouter]),
        (
            "sentence-aggregator",
            &[Aggregator, Lifecycle],
            &[World::StreamAggregator],
        ),
        (
            "flush-flood",
            &[Aggregator, Lifecycle],
            &[World::StreamAggregator],
        ),
        (
            "flush-alias",
            &[Aggregator, Lifecycle],
            &[World::StreamAggregator],
        ),
        (
            "flush-leak",
            &[Aggregator, Lifecycle],
            &[World::StreamAggregator],
        ),
        (
            "capability-probe",
            &[Processor, Lifecycle],
            &[World::Transform, World::ManagedTransform],
        ),
    ];
    for strategy in STRATEGIES {
        for (fixture, roles, worlds) in table {
            let c = compiled(strategy, fixture);
            assert_eq!(
                c.roles(),
                roles.iter().copied().collect(),
                "{fixture} ({strategy:?})"
            );
            assert_eq!(c.worlds(), worlds, "{fixture} ({strategy:?})");
            let inst = instance(strategy, fixture);
            assert_eq!(inst.roles(), c.roles());
        }
    }
    // The unversioned spelling is what the token-streaming filter and
    // aggregator import and export.
    let c = compiled(CompilationStrategy::Cranelift, "token-filter");
    assert_eq!(c.imports(), ["torvyn:streaming/types"]);
    assert!(
        c.exports()
            .iter()
            .any(|e| e == "torvyn:streaming/lifecycle"),
        "{:?}",
        c.exports()
    );
    let c = compiled(CompilationStrategy::Cranelift, "content-filter");
    assert_eq!(c.imports(), ["torvyn:streaming/types@0.1.0"]);
    let c = compiled(CompilationStrategy::Cranelift, "capability-probe");
    assert!(
        c.imports()
            .iter()
            .any(|i| i == "torvyn:capabilities/capability-query@0.1.0"),
        "{:?}",
        c.imports()
    );
}

#[test]
fn filters_pass_and_drop_in_both_spellings() {
    for strategy in STRATEGIES {
        // Unversioned: its lifecycle export is found too.
        let mut blocker = instance(strategy, "token-filter");
        ok(blocker.init_sync(""), &blocker);
        ok(blocker.init_sync("{\"anything\": 1}"), &blocker);
        for (word, passes) in [
            ("hello", true),
            ("darn", false),
            ("darned!", false),
            ("dar", true),
            ("", true),
        ] {
            let call = blocker.evaluate_sync(text(0, word));
            let m = call.metrics;
            assert_eq!(ok(call, &blocker), passes, "{word:?}");
            assert_eq!(m.bytes_into_guest, word.len() as u64, "{word:?}");
            assert_eq!((m.buffers_allocated, m.host_calls), (0, 1), "{word:?}");
        }
        ok(blocker.teardown_sync(), &blocker);

        // Versioned.
        let mut nonempty = instance(strategy, "content-filter");
        ok(nonempty.init_sync(""), &nonempty);
        for (bytes, passes) in [("x", true), ("", false), ("a longer payload", true)] {
            let call = nonempty.evaluate_sync(text(1, bytes));
            let m = call.metrics;
            assert_eq!(ok(call, &nonempty), passes, "{bytes:?}");
            assert_eq!(
                (m.bytes_into_guest, m.host_calls),
                (0, 1),
                "a size call only"
            );
        }
    }
}

#[test]
fn the_router_routes_by_payload_and_fans_out() {
    for strategy in STRATEGIES {
        let mut router = instance(strategy, "router");
        ok(router.init_sync(""), &router);
        for (input, ports) in [
            ("42", &["digits"][..]),
            ("hello", &["words"]),
            ("hi!", &["words", "alerts"]),
            ("7 alarms!", &["digits", "alerts"]),
            ("", &[]),
        ] {
            let call = router.route_sync(text(0, input));
            assert_eq!(call.metrics.host_calls, 1);
            assert_eq!(ok(call, &router), ports, "{input:?}");
        }
    }
}

/// Runs token-source → token-filter → sentence-aggregator → sink through
/// the engine API by hand: the sentences in order, each with where it came
/// from (`ingest` or `flush`), the tokens dropped and the sink's signals.
fn token_streaming(
    strategy: CompilationStrategy,
) -> (Vec<(String, &'static str)>, usize, Vec<BackpressureSignal>) {
    let mut source = instance(strategy, "token-source");
    let mut filter = instance(strategy, "token-filter");
    let mut aggregator = instance(strategy, "sentence-aggregator");
    let mut sink = instance(strategy, "sink");
    ok(source.init_sync(""), &source);
    ok(filter.init_sync(""), &filter);
    ok(aggregator.init_sync(""), &aggregator);
    ok(sink.init_sync(""), &sink);
    let flow = FlowContext::new("tokens");
    let mut sentences = Vec::new();
    let mut dropped = 0;
    let mut signals = Vec::new();
    let mut deliver = |sentence: OutputElement, from, sink: &mut WasmtimeInvoker| {
        assert_eq!(sentence.meta.sequence, sentences.len() as u64);
        assert_eq!(sentence.meta.content_type, "text/plain");
        assert_eq!(sentence.buffer_content_type, "text/plain");
        sentences.push((payload(&sentence).to_owned(), from));
        let call = sink.push_sync(sentence.into_stream_element(FlowContext::new("sentences")));
        signals.push(ok(call, &*sink));
    };
    while let Some(token) = ok(source.pull_sync(), &source) {
        assert_eq!(token.meta.content_type, "text/plain");
        let element = token.into_stream_element(flow.clone());
        if !ok(filter.evaluate_sync(element.clone()), &filter) {
            dropped += 1;
            continue;
        }
        if let Some(sentence) = ok(aggregator.ingest_sync(element), &aggregator) {
            deliver(sentence, "ingest", &mut sink);
        }
    }
    for sentence in ok(aggregator.flush_sync(), &aggregator) {
        deliver(sentence, "flush", &mut sink);
    }
    ok(sink.complete_sync(), &sink);
    assert!(ok(aggregator.flush_sync(), &aggregator).is_empty());
    assert_eq!(
        ok(source.pull_sync(), &source),
        None,
        "the source stays exhausted"
    );
    (sentences, dropped, signals)
}

#[test]
fn the_token_streaming_example_yields_three_sentences() {
    for strategy in STRATEGIES {
        let (sentences, dropped, signals) = token_streaming(strategy);
        assert_eq!(
            sentences,
            [
                ("the quick fox jumps.".to_owned(), "ingest"),
                ("is it late?".to_owned(), "ingest"),
                ("oh well see you".to_owned(), "flush"),
            ],
            "{strategy:?}"
        );
        assert_eq!(dropped, 2, "the two tokens holding the blocked word");
        // The sink asks for a pause every third element.
        use BackpressureSignal::{Pause, Ready};
        assert_eq!(signals, [Ready, Ready, Pause]);
    }
}

#[test]
fn ingest_and_flush_aggregate_sentences() {
    for strategy in STRATEGIES {
        let mut agg = instance(strategy, "sentence-aggregator");
        assert_eq!(ok(agg.ingest_sync(text(0, "wait")), &agg), None);
        assert_eq!(
            ok(agg.ingest_sync(text(1, "")), &agg),
            None,
            "an empty token"
        );
        let call = agg.ingest_sync(text(2, "what!"));
        let m = call.metrics;
        let sentence = ok(call, &agg).expect("a sentence ends with `!`");
        assert_eq!(payload(&sentence), "wait what!");
        assert_eq!(sentence.meta, ElementMeta::new(0, "text/plain"));
        // read-all, allocate, append, set-content-type, freeze, drop
        assert_eq!(
            (
                m.host_calls,
                m.buffers_allocated,
                m.bytes_into_guest,
                m.bytes_out_of_guest
            ),
            (6, 1, 5, 10)
        );
        assert!(ok(agg.flush_sync(), &agg).is_empty(), "nothing is buffered");
        assert_eq!(ok(agg.ingest_sync(text(3, "trailing")), &agg), None);
        let flushed = ok(agg.flush_sync(), &agg);
        assert_eq!(texts(&flushed), ["trailing"]);
        assert_eq!(
            flushed[0].meta.sequence, 1,
            "numbered after the ingested one"
        );
        assert!(ok(agg.flush_sync(), &agg).is_empty());

        // The sentence buffer holds 4096 bytes: a token that fills it is
        // taken, one more byte is refused and nothing changes.
        let full = "x".repeat(4096);
        assert_eq!(ok(agg.ingest_sync(text(4, &full)), &agg), None);
        guest_err(
            agg.ingest_sync(text(5, "y.")),
            &agg,
            ProcessError::InvalidInput("sentence too long".into()),
        );
        let flushed = ok(agg.flush_sync(), &agg);
        assert_eq!(texts(&flushed), [full.as_str()]);
        assert!(agg.poisoned().is_none());
    }
}

#[test]
fn unversioned_buffers_flow_into_versioned_components() {
    for strategy in STRATEGIES {
        let mut agg = instance(strategy, "sentence-aggregator");
        let mut upper = instance(strategy, "uppercase");
        ok(agg.ingest_sync(text(0, "loud")), &agg);
        let sentence = ok(agg.ingest_sync(text(1, "words.")), &agg).unwrap();
        let call = upper.process_sync(sentence.into_stream_element(FlowContext::new("f")));
        match ok(call, &upper) {
            ProcessResult::Emit(out) => assert_eq!(payload(&out), "LOUD WORDS."),
            ProcessResult::Drop => panic!("uppercase emits"),
        }
        // And the other way: a versioned source's tokens into the
        // unversioned filter and aggregator.
        let mut source = instance(strategy, "token-source");
        let mut filter = instance(strategy, "token-filter");
        let token = ok(source.pull_sync(), &source).unwrap();
        let element = token.into_stream_element(FlowContext::new("f"));
        assert!(ok(filter.evaluate_sync(element.clone()), &filter));
        assert_eq!(ok(agg.ingest_sync(element), &agg), None);
        assert_eq!(texts(&ok(agg.flush_sync(), &agg)), ["the"]);
    }
}

#[test]
fn grants_answer_the_capability_probe() {
    for strategy in STRATEGIES {
        let e = engine(strategy);
        let c = compiled(strategy, "capability-probe");
        let granted = InstanceOptions::with_grants(Grants::new(["wasi-random"]));
        let mut probe = e
            .instantiate_with(&c, ComponentId::new("granted"), &granted)
            .unwrap();
        assert_eq!(probe.grants(), &Grants::new(["wasi-random"]));
        let ask = |probe: &mut WasmtimeInvoker, name: &str| {
            let mut el = text(9, name);
            el.meta.timestamp_ns = 77;
            el.meta.content_type = "application/x-name".into();
            let call = probe.process_sync(el);
            // read-all, has-capability, allocate, append,
            // set-content-type, freeze, drop
            assert_eq!(call.metrics.host_calls, 7);
            match ok(call, &*probe) {
                ProcessResult::Emit(out) => {
                    assert_eq!(
                        out.meta,
                        ElementMeta {
                            sequence: 9,
                            timestamp_ns: 77,
                            content_type: "text/plain".into()
                        }
                    );
                    payload(&out).to_owned()
                }
                ProcessResult::Drop => panic!("the probe emits"),
            }
        };
        assert_eq!(ask(&mut probe, "wasi-random"), "granted");
        assert_eq!(ask(&mut probe, "wasi-network-egress"), "denied");
        assert_eq!(
            ask(&mut probe, "wasi-random "),
            "denied",
            "names match exactly"
        );
        assert_eq!(ask(&mut probe, ""), "denied");

        // By default nothing is granted.
        let mut default = e.instantiate(&c, ComponentId::new("default")).unwrap();
        assert!(default.grants().is_empty());
        assert_eq!(ask(&mut default, "wasi-random"), "denied");

        // A name that could not cross the boundary as a string.
        guest_err(
            probe.process_sync(StreamElement::new(0, vec![0xff, 0xfe], "")),
            &probe,
            ProcessError::InvalidInput("capability name is not ASCII".into()),
        );
    }
}

#[test]
fn a_route_flood_is_refused_without_poisoning_until_the_bounds_allow_it() {
    for strategy in STRATEGIES {
        let mut flood = instance(strategy, "route-flood");
        for _ in 0..2 {
            let m = too_large(
                flood.route_sync(text(0, "go")),
                &flood,
                AnswerLimit::RoutePorts,
                64,
                5000,
            );
            assert_eq!(m.resources_reclaimed, 0);
        }
        ok(flood.init_sync(""), &flood);
    }
    // More ports allowed: the names' bytes are the next bound.
    let limits = Limits {
        max_route_ports: 5000,
        ..Limits::default()
    };
    let e = engine_with(limits);
    let c = compile_on(&e, "route-flood");
    let mut flood = e.instantiate(&c, ComponentId::new("flood")).unwrap();
    too_large(
        flood.route_sync(text(0, "go")),
        &flood,
        AnswerLimit::RouteBytes,
        4096,
        25_000,
    );
    // Both raised: the same answer goes through.
    let e = engine_with(Limits {
        max_route_bytes: 25_000,
        ..limits
    });
    let c = compile_on(&e, "route-flood");
    let mut flood = e.instantiate(&c, ComponentId::new("flood")).unwrap();
    let ports = ok(flood.route_sync(text(0, "go")), &flood);
    assert_eq!(ports.len(), 5000);
    assert!(ports.iter().all(|p| p == "flood"));
}

#[test]
fn a_flush_flood_is_refused_with_every_buffer_reclaimed() {
    for strategy in STRATEGIES {
        let mut flood = instance(strategy, "flush-flood");
        assert_eq!(ok(flood.ingest_sync(text(0, "absorbed")), &flood), None);
        for _ in 0..2 {
            let m = too_large(
                flood.flush_sync(),
                &flood,
                AnswerLimit::FlushOutputs,
                1024,
                5000,
            );
            assert_eq!(m.buffers_allocated, 5000);
            assert_eq!(m.resources_reclaimed, 5000, "none of the buffers was taken");
            assert_eq!(flood.live_resources(), 0);
        }
    }
    let e = engine_with(Limits {
        max_flush_outputs: 5000,
        ..Limits::default()
    });
    let c = compile_on(&e, "flush-flood");
    let mut flood = e.instantiate(&c, ComponentId::new("flood")).unwrap();
    let call = flood.flush_sync();
    assert_eq!(call.metrics.resources_reclaimed, 0);
    let outs = ok(call, &flood);
    assert_eq!(outs.len(), 5000);
    assert!(outs.iter().all(|o| &o.payload[..] == b"x"));
    assert_eq!(outs[4999].meta, ElementMeta::new(4999, "text/plain"));
}

#[test]
fn refused_flush_floods_do_not_fill_the_stores_handle_table() {
    // Regression (fuzz/regressions/api_sequence/flush-flood-handles): a
    // refused answer left its 5000 buffer handles in the guest's table, so
    // the 21st flush reached Wasmtime's store-wide limit of 100 000 live
    // handles and trapped ("cannot lend resource: store handle limit
    // exceeded") instead of being refused again.
    let mut flood = instance(CompilationStrategy::Cranelift, "flush-flood");
    for _ in 0..24 {
        too_large(
            flood.flush_sync(),
            &flood,
            AnswerLimit::FlushOutputs,
            1024,
            5000,
        );
        assert_eq!(flood.live_resources(), 0);
        assert!(flood.poisoned().is_none());
    }
}

const MIB: u64 = 1024 * 1024;

/// An engine for `strategy` with `limits`.
fn engine_on(strategy: CompilationStrategy, limits: Limits) -> WasmtimeEngine {
    WasmtimeEngine::new(WasmtimeEngineConfig {
        limits,
        ..WasmtimeEngineConfig::with_strategy(strategy)
    })
    .unwrap()
}

/// A fresh instance of `fixture` on `engine`.
fn instance_on(engine: &WasmtimeEngine, fixture: &str) -> WasmtimeInvoker {
    let c = compile_on(engine, fixture);
    engine.instantiate(&c, ComponentId::new(fixture)).unwrap()
}

/// `route-alias` names 64 ports (within the count bound), every one the
/// same 1 MiB of its memory: 64 MiB of names, refused by their bytes before
/// any is copied, with fuel metering on or off.
#[test]
fn a_route_answer_aliasing_one_region_is_refused_by_its_bytes() {
    for strategy in STRATEGIES {
        for fuel_enabled in [true, false] {
            let e = engine_on(
                strategy,
                Limits {
                    fuel_enabled,
                    ..Limits::default()
                },
            );
            let mut alias = instance_on(&e, "route-alias");
            for _ in 0..2 {
                let call = alias.route_sync(text(0, "go"));
                assert_eq!(call.metrics.fuel_consumed > 0, fuel_enabled);
                let m = too_large(call, &alias, AnswerLimit::RouteBytes, 4096, 64 * MIB);
                assert_eq!(m.resources_reclaimed, 0);
                assert_eq!(alias.live_resources(), 0);
            }
            ok(alias.init_sync(""), &alias);
        }
    }
    // The bytes bound is inclusive: one byte short of 64 MiB refuses the
    // answer, 64 MiB takes it, each name its own copy of the region.
    let limits = Limits {
        max_route_bytes: 64 * MIB - 1,
        ..Limits::default()
    };
    let mut alias = instance_on(&engine_with(limits), "route-alias");
    too_large(
        alias.route_sync(text(0, "go")),
        &alias,
        AnswerLimit::RouteBytes,
        64 * MIB - 1,
        64 * MIB,
    );
    let mut alias = instance_on(
        &engine_with(Limits {
            max_route_bytes: 64 * MIB,
            ..limits
        }),
        "route-alias",
    );
    let ports = ok(alias.route_sync(text(0, "go")), &alias);
    assert_eq!(ports.len(), 64);
    for port in &ports {
        assert_eq!(port.len() as u64, MIB);
        assert!(port.bytes().all(|b| b == b'a'));
    }
}

/// `flush-alias` flushes 1000 fresh buffers (within the count bound) whose
/// content types are all the same 64 KiB of its memory: 1000 x 64 KiB of
/// content types, over the guest's 16 MiB memory limit, refused before any
/// is copied and every buffer reclaimed, with fuel metering on or off.
#[test]
fn a_flush_answer_aliasing_one_content_type_is_refused_with_every_buffer_reclaimed() {
    for strategy in STRATEGIES {
        for fuel_enabled in [true, false] {
            let e = engine_on(
                strategy,
                Limits {
                    fuel_enabled,
                    ..Limits::default()
                },
            );
            let mut alias = instance_on(&e, "flush-alias");
            assert_eq!(ok(alias.ingest_sync(text(0, "absorbed")), &alias), None);
            for _ in 0..2 {
                let call = alias.flush_sync();
                assert_eq!(call.metrics.fuel_consumed > 0, fuel_enabled);
                let m = too_large(
                    call,
                    &alias,
                    AnswerLimit::FlushBytes,
                    16 * MIB,
                    1000 * 65536,
                );
                assert_eq!(m.buffers_allocated, 1000);
                assert_eq!(m.resources_reclaimed, 1000, "none of the buffers was taken");
                assert_eq!(alias.live_resources(), 0);
            }
        }
    }
    // One element fewer allowed: the count bound fires first, before any
    // content type is measured; the buffers are reclaimed all the same.
    let mut alias = instance_on(
        &engine_with(Limits {
            max_flush_outputs: 999,
            ..Limits::default()
        }),
        "flush-alias",
    );
    let m = too_large(
        alias.flush_sync(),
        &alias,
        AnswerLimit::FlushOutputs,
        999,
        1000,
    );
    assert_eq!((m.buffers_allocated, m.resources_reclaimed), (1000, 1000));
    assert_eq!(alias.live_resources(), 0);
    // A 64 MiB memory limit holds the 65536000 bytes: the answer is taken.
    let mut alias = instance_on(
        &engine_with(Limits {
            max_memory_bytes: 64 * MIB,
            ..Limits::default()
        }),
        "flush-alias",
    );
    let call = alias.flush_sync();
    assert_eq!(call.metrics.resources_reclaimed, 0);
    let outs = ok(call, &alias);
    assert_eq!(outs.len(), 1000);
    let content_type = "a".repeat(65536);
    for (i, out) in outs.iter().enumerate() {
        assert_eq!(out.meta, ElementMeta::new(i as u64, content_type.as_str()));
        assert_eq!(&out.payload[..], b"x");
    }
}

#[test]
fn buffers_an_aggregator_hoards_are_reclaimed() {
    for strategy in STRATEGIES {
        let mut leak = instance(strategy, "flush-leak");
        for seq in 0..3 {
            let call = leak.ingest_sync(text(seq, "keep"));
            let m = call.metrics;
            assert_eq!(ok(call, &leak), None);
            assert_eq!((m.buffers_allocated, m.resources_reclaimed), (2, 2));
        }
        let call = leak.flush_sync();
        assert_eq!(call.metrics.resources_reclaimed, 0);
        assert!(ok(call, &leak).is_empty());
        assert!(leak.poisoned().is_none());
    }
}

#[test]
fn a_trapping_filter_poisons_its_instance() {
    for strategy in STRATEGIES {
        let mut trap = instance(strategy, "filter-trap");
        ok(trap.init_sync(""), &trap);
        let f = fault(trap.evaluate_sync(text(0, "x")), &trap, "trap");
        assert!(f.poisons());
        assert!(trap.poisoned().is_some());
        let again = fault(trap.evaluate_sync(text(1, "x")), &trap, "poisoned");
        assert!(matches!(again.kind, FaultKind::Poisoned { .. }));
    }
}

#[test]
fn calling_a_role_a_component_lacks_is_a_missing_export() {
    let strategy = CompilationStrategy::Cranelift;
    let mut processor = instance(strategy, "passthrough");
    let f = fault(
        processor.evaluate_sync(text(0, "x")),
        &processor,
        "missing-export",
    );
    assert_eq!(f.kind, FaultKind::MissingExport { role: Role::Filter });
    let f = fault(
        processor.ingest_sync(text(0, "x")),
        &processor,
        "missing-export",
    );
    assert_eq!(
        f.kind,
        FaultKind::MissingExport {
            role: Role::Aggregator
        }
    );
    let mut filter = instance(strategy, "token-filter");
    let f = fault(filter.route_sync(text(0, "x")), &filter, "missing-export");
    assert_eq!(f.kind, FaultKind::MissingExport { role: Role::Router });
    let mut router = instance(strategy, "router");
    let f = fault(router.flush_sync(), &router, "missing-export");
    assert_eq!(
        f.kind,
        FaultKind::MissingExport {
            role: Role::Aggregator
        }
    );
    let f = fault(router.process_sync(text(0, "x")), &router, "missing-export");
    assert_eq!(
        f.kind,
        FaultKind::MissingExport {
            role: Role::Processor
        }
    );
    // None of them poisons; the instances still work.
    assert!(processor.poisoned().is_none() && filter.poisoned().is_none());
    assert_eq!(ok(router.route_sync(text(0, "1")), &router), ["digits"]);
}

// ---- the models against the fixtures ----------------------------------

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

//! The extension contracts on Wasmtime: roles and worlds, `evaluate`, `route`,
//! `ingest` and `flush`, the token-streaming example, grants.

use super::*;

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

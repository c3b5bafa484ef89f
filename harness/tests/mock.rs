//! The harness on the mock backend alone: what a host developer's suite
//! gets from `torvyn-harness` with `default-features = false, features =
//! ["mock"]` (CI runs this file in that build, where no Wasmtime is
//! compiled). Every modelled and scripted scenario and pipeline in
//! `fixtures/` runs on the mock and its transcript is snapshot-tested
//! (`tests/snapshots/`), the runner's errors name the backend to use, and
//! scripted filters, routers and aggregators written in YAML answer
//! `evaluate`, `route`, `ingest` and `flush` on a mock instance.

use torvyn_engine::Function;
use torvyn_engine::mock::{MockEngine, MockEngineConfig, MockInvoker, models};
use torvyn_engine::{
    AnswerLimit, ComponentId, ComponentInvoker, FaultKind, InvokeError, Limits, ProcessResult,
    Role, Roles, StreamElement, WasmEngine,
};
use torvyn_harness::HarnessError;
use torvyn_harness::backend::{EngineSettings, MockBackend, SimBackend, block_on};
use torvyn_harness::pipeline::{Pipeline, pipelines_dir, run_pipeline_with};
use torvyn_harness::scenario::{InputElement, Scenario, scenario_files, scenarios_dir};
use torvyn_harness::scenario::{run_scenario, run_scenario_with};
use torvyn_harness::source::mock_spec_from_yaml;
use torvyn_harness::spec::BackendKind;

/// Whether the mock can run a component named `c` (scripted, or modelled).
fn runs_on_mock(c: &str, scripted: bool) -> bool {
    scripted || models::NAMES.contains(&c)
}

#[test]
fn every_mock_scenario_runs_and_matches_its_snapshot() {
    let mut ran = 0;
    for path in scenario_files(scenarios_dir()).unwrap() {
        let s = Scenario::load(&path).unwrap();
        if !runs_on_mock(&s.component, s.mock.is_some()) {
            continue;
        }
        let t = run_scenario_with(BackendKind::Mock, &s).unwrap();
        assert_eq!(t.backend, BackendKind::Mock);
        for e in &t.entries {
            assert_eq!(e.live_resources, 0, "{}: entry {} leaked", s.name, e.index);
        }
        // Deterministic: the same seed gives the same transcript.
        let again = run_scenario_with(BackendKind::Mock, &s).unwrap();
        assert_eq!(t.snapshot_form(), again.snapshot_form(), "{}", s.name);
        insta::assert_yaml_snapshot!(format!("scenario-{}", s.name), t.snapshot_form());
        ran += 1;
    }
    assert!(ran >= 10, "only {ran} scenarios ran on the mock");
}

#[test]
fn every_mock_pipeline_runs_and_matches_its_snapshot() {
    let mut ran = 0;
    for path in scenario_files(pipelines_dir()).unwrap() {
        let p = Pipeline::load(&path).unwrap();
        let all = p
            .all_stages()
            .all(|s| runs_on_mock(&s.component, s.mock.is_some()));
        if !all {
            continue;
        }
        let t = run_pipeline_with(BackendKind::Mock, &p).unwrap();
        assert!(t.summary.elements_delivered > 0, "{}", p.name);
        insta::assert_yaml_snapshot!(format!("pipeline-{}", p.name), t.snapshot_form());
        ran += 1;
    }
    assert!(ran >= 3, "only {ran} pipelines ran on the mock");
}

#[test]
fn a_scenario_written_in_yaml_runs_a_scripted_component() {
    let s = Scenario::from_yaml_str(
        "name: echo\ncomponent: echo\nmock:\n  roles: [processor, lifecycle]\n  \
         init: {in-order: [ok]}\n  process: {cycle: [emit-input, drop]}\n\
         inputs: [{payload: a}, {payload: b}, {payload: c}]\n",
        "<test>",
    )
    .unwrap();
    assert_eq!(s.effective_backend(), BackendKind::Mock);
    let t = run_scenario(&s).unwrap();
    let calls: Vec<&str> = t.entries.iter().map(|e| e.call.name()).collect();
    assert_eq!(calls, ["init", "process", "process", "process", "teardown"]);
    assert_eq!(t.summary.elements_out, 2);
    assert_eq!(t.summary.elements_dropped, 1);
    assert!(t.render_text().contains("mock"));
}

#[test]
fn the_mock_says_what_it_cannot_run_and_what_to_do() {
    let err = |s: Scenario| run_scenario_with(BackendKind::Mock, &s).unwrap_err();
    let e = err(Scenario::new("t", "trap"));
    assert!(matches!(e, HarnessError::Unsupported { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("no model of `trap`") && text.contains("passthrough"),
        "{text}"
    );
    assert!(
        text.contains("mock:") && text.contains("--backend wasmtime"),
        "{text}"
    );
    let e = err(Scenario::new("t", "x.wat")).to_string();
    assert!(e.contains("x.wat") && e.contains("WebAssembly"), "{e}");

    let bad = Scenario::from_yaml_str(
        "name: t\ncomponent: c\nbackend: wasmtime\nmock: {process: {cycle: [drop]}}\n",
        "<test>",
    )
    .unwrap_err()
    .to_string();
    assert!(bad.contains("backend: mock"), "{bad}");
    let bad = Scenario::from_yaml_str("name: t\ncomponent: c\nmock: {}\n", "<test>")
        .unwrap_err()
        .to_string();
    assert!(bad.contains("no role"), "{bad}");
}

#[test]
fn the_backend_abstraction_drives_the_mock_directly() {
    let b = MockBackend::new(&EngineSettings::deterministic(1)).unwrap();
    assert_eq!(b.kind(), BackendKind::Mock);
    let compiled = b
        .compile(
            &torvyn_harness::source::ComponentSource::Fixture("uppercase".into()),
            "uppercase",
        )
        .unwrap();
    let mut inst = b.instantiate(&compiled, "upper").unwrap();
    b.set_fuel(&mut inst, 1_000_000, "upper").unwrap();
    let call = block_on(inst.process(StreamElement::new(0, "abc", "text/plain")));
    match call.outcome.unwrap() {
        ProcessResult::Emit(out) => assert_eq!(&out.payload[..], b"ABC"),
        ProcessResult::Drop => panic!("uppercase emits"),
    }
    assert!(call.metrics.fuel_consumed > 0);
    assert_eq!(
        b.engine().fuel_remaining(&inst),
        Some(1_000_000 - call.metrics.fuel_consumed),
        "the budget set through the backend is the one the call spent from"
    );
    assert_eq!(inst.component_id().as_str(), "upper");
    // The same component through the runner, on the same kind of backend.
    let t = run_scenario(&Scenario {
        backend: Some(BackendKind::Mock),
        inputs: vec![InputElement::text("abc")],
        ..Scenario::new("upper", "uppercase")
    })
    .unwrap();
    assert_eq!(
        t.outcomes(Function::Process),
        ["emit seq=0 text/plain \"ABC\""]
    );
}

#[test]
fn the_default_backend_follows_the_build() {
    let s = Scenario::new("t", "passthrough");
    let want = if cfg!(feature = "wasmtime-backend") {
        BackendKind::Wasmtime
    } else {
        BackendKind::Mock
    };
    assert_eq!(s.effective_backend(), want);
    assert_eq!(
        BackendKind::Wasmtime.is_built(),
        cfg!(feature = "wasmtime-backend")
    );
    if !cfg!(feature = "wasmtime-backend") {
        let e = run_scenario_with(BackendKind::Wasmtime, &s).unwrap_err();
        assert!(e.to_string().contains("wasmtime-backend"), "{e}");
    }
}

#[test]
fn a_scripted_component_reads_the_same_from_json() {
    let s = Scenario::from_json_str(
        r#"{"name": "j", "component": "j", "backend": "mock",
            "mock": {"process": {"by-sequence": {
                "responses": {"1": {"emit": {"payload": "one", "sequence": 9}}},
                "fallback": "drop"}}},
            "inputs": [{"payload": "a"}, {"payload": "b"}]}"#,
        "<json>",
    )
    .unwrap();
    let t = run_scenario(&s).unwrap();
    assert_eq!(
        t.outcomes(Function::Process),
        ["drop", "emit seq=9 text/plain \"one\""]
    );
}

/// An instance, on an engine with `limits`, of the component the `mock:`
/// body `yaml` describes.
fn scripted_instance(yaml: &str, limits: Limits) -> MockInvoker {
    let spec = mock_spec_from_yaml(yaml, "<test>").unwrap();
    let engine = MockEngine::new(MockEngineConfig {
        limits,
        ..MockEngineConfig::seeded(7)
    })
    .unwrap();
    engine.register(spec.component("ext").unwrap());
    let compiled = engine.compile(&MockEngine::component_bytes("ext")).unwrap();
    engine
        .instantiate(&compiled, ComponentId::new("ext"))
        .unwrap()
}

fn text(seq: u64, payload: &str) -> StreamElement {
    StreamElement::new(seq, payload.to_owned(), "text/plain")
}

/// A failed call's short name: the guest error's kind or the fault's name.
fn failure<T: std::fmt::Debug>(outcome: Result<T, InvokeError>) -> String {
    match outcome {
        Ok(v) => panic!("expected a failure, got {v:?}"),
        Err(InvokeError::Guest(e)) => e.kind().to_owned(),
        Err(InvokeError::Fault(f)) => f.kind.name().to_owned(),
    }
}

#[test]
fn a_yaml_filter_router_and_aggregator_answer_on_the_mock() {
    let mut i = scripted_instance(
        "evaluate: {cycle: [pass, reject, drop]}\n\
         route:\n  by-sequence:\n    \
           responses: {0: {route: [left, right]}, 1: {route: []}, 2: drop}\n    \
           fallback: {route: [left]}\n\
         ingest: {in-order: [drop, {emit: \"a+b\"}, emit-input]}\n\
         flush:\n  in-order:\n    \
           - flush: [rest, {payload_hex: 00ff, content_type: application/x-raw, sequence: 9}]\n",
        Limits::default(),
    );
    let roles: Roles = [Role::Filter, Role::Router, Role::Aggregator]
        .into_iter()
        .collect();
    assert_eq!(i.roles(), roles);

    let verdicts: Vec<bool> = (0..4)
        .map(|n| i.evaluate_sync(text(n, "x")).outcome.unwrap())
        .collect();
    assert_eq!(verdicts, [true, false, false, true]);

    let routed: Vec<Vec<String>> = [0, 1, 2, 5]
        .into_iter()
        .map(|n| i.route_sync(text(n, "x")).outcome.unwrap())
        .collect();
    assert_eq!(
        routed,
        [vec!["left", "right"], vec![], vec![], vec!["left"]]
    );
    assert_eq!(i.live_resources(), 0);

    assert_eq!(i.ingest_sync(text(0, "a")).outcome.unwrap(), None);
    let call = i.ingest_sync(text(1, "b"));
    assert_eq!(call.metrics.buffers_allocated, 1, "an emit allocates");
    let out = call.outcome.unwrap().expect("the aggregate");
    assert_eq!(
        (
            &out.payload[..],
            out.meta.sequence,
            out.meta.content_type.as_str()
        ),
        (&b"a+b"[..], 1, "text/plain")
    );
    let out = i.ingest_sync(text(2, "c")).outcome.unwrap().unwrap();
    assert_eq!(&out.payload[..], b"c");
    // The script has run out: nothing ready.
    assert_eq!(i.ingest_sync(text(3, "d")).outcome.unwrap(), None);
    assert_eq!(i.live_resources(), 0);

    let call = i.flush_sync();
    assert_eq!(call.metrics.buffers_allocated, 2);
    let outs = call.outcome.unwrap();
    let seen: Vec<_> = outs
        .iter()
        .map(|o| {
            (
                &o.payload[..],
                o.meta.sequence,
                o.meta.content_type.as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (&b"rest"[..], 0, "application/octet-stream"),
            (&[0, 0xff][..], 9, "application/x-raw"),
        ]
    );
    assert_eq!(outs[1].buffer_content_type.as_str(), "application/x-raw");
    assert_eq!(i.flush_sync().outcome.unwrap(), [], "then nothing buffered");
    assert_eq!(i.live_resources(), 0);
    assert!(i.poisoned().is_none());
}

#[test]
fn scripted_extension_failures_are_errors_and_faults() {
    for (function, key) in [
        ("evaluate", "evaluate"),
        ("route", "route"),
        ("ingest", "ingest"),
        ("flush", "flush"),
    ] {
        let mut i = scripted_instance(
            &format!(
                "{key}: {{in-order: [{{error: {{invalid-input: bad}}}}, {{error: deadline-exceeded}}, memory-limit]}}\n"
            ),
            Limits::default(),
        );
        let call = |i: &mut MockInvoker| -> String {
            match function {
                "evaluate" => failure(i.evaluate_sync(text(0, "x")).outcome),
                "route" => failure(i.route_sync(text(0, "x")).outcome),
                "ingest" => failure(i.ingest_sync(text(0, "x")).outcome),
                _ => failure(i.flush_sync().outcome),
            }
        };
        assert_eq!(call(&mut i), "invalid-input", "{function}");
        assert_eq!(call(&mut i), "deadline-exceeded", "{function}");
        assert!(
            i.poisoned().is_none(),
            "{function}: a contract error does not poison"
        );
        assert_eq!(call(&mut i), "memory-limit-exceeded", "{function}");
        assert_eq!(
            i.poisoned().map(|f| f.kind.name()),
            Some("memory-limit-exceeded"),
            "{function}"
        );
        assert_eq!(i.live_resources(), 0, "{function}");
    }

    let mut i = scripted_instance(
        "evaluate: {cycle: [trap]}\ningest: {cycle: [fuel-exhaustion]}\n",
        Limits::default(),
    );
    assert_eq!(
        failure(i.ingest_sync(text(0, "x")).outcome),
        "fuel-exhausted"
    );
    assert_eq!(failure(i.evaluate_sync(text(1, "x")).outcome), "poisoned");
}

#[test]
fn answers_over_the_bounds_are_refused_and_reclaimed() {
    let ports: Vec<String> = (0..100).map(|n| format!("p{n}")).collect();
    let mut i = scripted_instance(
        &format!(
            "route: {{in-order: [{{route: [{}]}}, {{route: [ok]}}]}}\n",
            ports.join(", ")
        ),
        Limits::default(),
    );
    assert_eq!(Limits::default().max_route_ports, 64);
    let call = i.route_sync(text(0, "x"));
    assert_eq!(
        call.fault().map(|f| &f.kind),
        Some(&FaultKind::AnswerTooLarge {
            limit: AnswerLimit::RoutePorts,
            allowed: 64,
            got: 100,
        })
    );
    assert!(i.poisoned().is_none(), "the guest returned normally");
    assert_eq!(i.live_resources(), 0);
    assert_eq!(i.route_sync(text(1, "x")).outcome.unwrap(), ["ok"]);

    let mut i = scripted_instance(
        "flush: {cycle: [{flush: [a, b, c]}, {flush: [a, b]}]}\n",
        Limits {
            max_flush_outputs: 2,
            ..Limits::default()
        },
    );
    let call = i.flush_sync();
    assert_eq!(
        call.fault().map(|f| &f.kind),
        Some(&FaultKind::AnswerTooLarge {
            limit: AnswerLimit::FlushOutputs,
            allowed: 2,
            got: 3,
        })
    );
    assert_eq!(call.metrics.buffers_allocated, 3);
    assert_eq!(
        call.metrics.resources_reclaimed, 3,
        "every buffer reclaimed"
    );
    assert_eq!(i.live_resources(), 0);
    assert_eq!(i.flush_sync().outcome.unwrap().len(), 2);
    assert_eq!(i.live_resources(), 0);
}

#[test]
fn misplaced_extension_answers_say_what_to_write() {
    let problem = |yaml: &str| mock_spec_from_yaml(yaml, "<test>").unwrap_err().to_string();
    let e = problem("evaluate: {cycle: [emit-input]}\n");
    assert!(
        e.contains("`mock:` `evaluate` cannot answer `emit-input`")
            && e.contains("write `pass`, `reject` or `drop`"),
        "{e}"
    );
    let e = problem("process: {cycle: [pass]}\n");
    assert!(
        e.contains("`process` cannot answer `pass` (only `evaluate` can)"),
        "{e}"
    );
    let e = problem("roles: [filter]\nroute: {cycle: [drop]}\n");
    assert!(e.contains("leaves out `router`"), "{e}");
    // The same check where scenarios meet it.
    let e = Scenario::from_yaml_str(
        "name: t\ncomponent: c\nmock: {flush: {cycle: [{emit: x}]}}\n",
        "<test>",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("`flush` cannot answer `emit`") && e.contains("`flush: [ELEMENT, ...]`"),
        "{e}"
    );
    let e = problem("route: {cycle: [{route: left}]}\n");
    assert!(e.contains("expected a sequence"), "{e}");
}

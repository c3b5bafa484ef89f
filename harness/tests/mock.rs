//! The harness on the mock backend alone: what a host developer's suite
//! gets from `torvyn-harness` with `default-features = false, features =
//! ["mock"]` (CI runs this file in that build, where no Wasmtime is
//! compiled). Every modelled and scripted scenario and pipeline in
//! `fixtures/` runs on the mock and its transcript is snapshot-tested
//! (`tests/snapshots/`), and the runner's errors name the backend to use.

use torvyn_engine::mock::models;
use torvyn_engine::{ComponentInvoker, ProcessResult, StreamElement, WasmEngine};
use torvyn_harness::HarnessError;
use torvyn_harness::backend::{BackendKind, EngineSettings, MockBackend, SimBackend, block_on};
use torvyn_harness::pipeline::{Pipeline, pipelines_dir, run_pipeline_with};
use torvyn_harness::runner::{run_scenario, run_scenario_with};
use torvyn_harness::scenario::{InputElement, Scenario, scenario_files, scenarios_dir};
use torvyn_harness::transcript::Call;

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
            &torvyn_harness::scenario::ComponentSource::Fixture("uppercase".into()),
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
    assert_eq!(t.outcomes(Call::Process), ["emit seq=0 text/plain \"ABC\""]);
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
        t.outcomes(Call::Process),
        ["drop", "emit seq=9 text/plain \"one\""]
    );
}

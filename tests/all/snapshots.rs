//! The snapshot suite: every scenario in `fixtures/scenarios/` and every
//! pipeline in `fixtures/pipelines/` is run, and its transcript (in the
//! snapshot form: no wall-clock figures) must match the snapshot committed
//! in `tests/all/snapshots/`.
//!
//! To accept intended changes: `INSTA_UPDATE=always cargo test --test all
//! snapshots` (or `cargo insta review`), then read the diff. Under `CI=true`
//! insta writes nothing and a missing snapshot fails.
//!
//! Besides the snapshots, the tests here check what the snapshots must
//! show, so a wrong snapshot cannot be accepted unnoticed: no call leaks a
//! host resource, uppercase output is the upper case of its input,
//! passthrough returns its input, filter drops odd sequence numbers, and a
//! pipeline delivers what its processors let through.

use torvyn_engine::Function;
use torvyn_engine::mock::models;
use torvyn_harness::faults::sweep;
use torvyn_harness::pipeline::{
    Pipeline, PipelineTranscript, pipelines_dir, run_pipeline, run_pipeline_with,
};
use torvyn_harness::scenario::{Scenario, scenario_files, scenarios_dir};
use torvyn_harness::scenario::{run_scenario, run_scenario_with, scenario_settings};
use torvyn_harness::spec::BackendKind;
use torvyn_harness::transcript::{Entry, Outcome, Transcript};

fn run(path: &std::path::Path) -> Transcript {
    let scenario = Scenario::load(path).unwrap_or_else(|e| panic!("{e}"));
    run_scenario(&scenario).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn pipeline(path: &std::path::Path) -> PipelineTranscript {
    let p = Pipeline::load(path).unwrap_or_else(|e| panic!("{e}"));
    run_pipeline(&p).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn no_leaks(entries: &[Entry], what: &str) {
    for e in entries {
        assert_eq!(e.live_resources, 0, "{what}: entry {} leaked", e.index);
    }
}

#[test]
fn scenarios() {
    insta::glob!("../../fixtures/scenarios", "*.yaml", |path| {
        let t = run(path);
        no_leaks(&t.entries, &t.scenario);
        insta::assert_yaml_snapshot!(t.snapshot_form());
    });
}

#[test]
fn pipelines() {
    insta::glob!("../../fixtures/pipelines", "*.yaml", |path| {
        let t = pipeline(path);
        no_leaks(&t.entries, &t.pipeline);
        insta::assert_yaml_snapshot!(t.snapshot_form());
    });
}

/// `fixtures/sweeps/`: scenarios with `fail_host_call: all`, each run as a
/// host-call sweep; the report has no times, so it is snapshotted whole.
#[test]
fn sweeps() {
    insta::glob!("../../fixtures/sweeps", "*.yaml", |path| {
        let s = Scenario::load(path).unwrap_or_else(|e| panic!("{e}"));
        let sweep = sweep(s.effective_backend(), &s, &scenario_settings(&s), None)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(sweep.clean, "{}", sweep.render_text());
        assert_eq!(sweep.swept, sweep.host_calls);
        assert!(sweep.swept > 0);
        insta::assert_yaml_snapshot!(sweep);
    });
}

#[test]
fn the_suite_covers_at_least_three_pipelines_and_every_benign_fixture() {
    let pipelines = scenario_files(pipelines_dir()).unwrap();
    assert!(pipelines.len() >= 3, "{pipelines:?}");
    let components: Vec<String> = scenario_files(scenarios_dir())
        .unwrap()
        .iter()
        .map(|p| Scenario::load(p).unwrap().component)
        .collect();
    for fixture in [
        "passthrough",
        "uppercase",
        "filter",
        "counter-source",
        "sink",
        "lifecycle",
        "wasi-hello",
        "component-text",
        "trap",
        "spin",
        "memory-hog",
        "buffer-hog",
        "use-after-freeze",
        "source-only",
    ] {
        assert!(
            components.iter().any(|c| c == fixture),
            "no scenario for {fixture}"
        );
    }
}

/// `(input text, output text)` of every process call that emitted text.
fn text_pairs(entries: &[Entry]) -> Vec<(String, String)> {
    entries
        .iter()
        .filter(|e| e.call == Function::Process)
        .filter_map(|e| match (&e.input, &e.outcome) {
            (Some(i), Outcome::Emit { payload, .. }) => {
                Some((i.payload.text.clone()?, payload.text.clone()?))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn the_transcripts_show_correct_behaviour() {
    let dir = scenarios_dir();
    let upper = run(&dir.join("uppercase.yaml"));
    let pairs = text_pairs(&upper.entries);
    assert_eq!(pairs.len(), 4);
    for (input, output) in pairs {
        assert_eq!(output, input.to_ascii_uppercase());
    }
    let gen_upper = run(&dir.join("uppercase-generated.yaml"));
    assert_eq!(gen_upper.summary.elements_out, 5);
    for (input, output) in text_pairs(&gen_upper.entries) {
        assert_eq!(output, input.to_ascii_uppercase());
    }

    let pass = run(&dir.join("passthrough.yaml"));
    for e in pass.entries.iter().filter(|e| e.call == Function::Process) {
        let Outcome::Emit { payload, .. } = &e.outcome else {
            panic!("{e:?}")
        };
        assert_eq!(payload, &e.input.as_ref().unwrap().payload);
    }

    let filter = run(&dir.join("filter.yaml"));
    for e in filter
        .entries
        .iter()
        .filter(|e| e.call == Function::Process)
    {
        let odd = e.input.as_ref().unwrap().sequence % 2 == 1;
        assert_eq!(matches!(e.outcome, Outcome::Drop), odd, "{e:?}");
    }

    let counter = run(&dir.join("counter-source.yaml"));
    let pulled: Vec<String> = counter
        .entries
        .iter()
        .filter_map(|e| match &e.outcome {
            Outcome::Emit { payload, .. } => payload.text.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(pulled, ["0", "1", "2", "3", "4"]);
    assert!(counter.entries.iter().any(|e| matches!(
        &e.outcome,
        Outcome::ProcessError { kind, message: Some(m) } if kind == "unavailable" && m == "paused"
    )));

    let sink = run(&dir.join("sink.yaml"));
    let signals: Vec<&Outcome> = sink
        .entries
        .iter()
        .filter(|e| e.call == Function::Push)
        .map(|e| &e.outcome)
        .collect();
    use torvyn_engine::BackpressureSignal::{Pause, Ready};
    assert_eq!(
        signals,
        [Ready, Pause, Ready, Pause, Ready]
            .map(Outcome::Backpressure)
            .iter()
            .collect::<Vec<_>>()
    );

    let hello = run(&dir.join("wasi-hello.yaml"));
    let out = hello
        .entries
        .iter()
        .find(|e| e.call == Function::Process)
        .unwrap();
    assert_eq!(
        out.stdout.as_ref().unwrap().text.as_deref(),
        Some("hello\n")
    );

    for (file, kind) in [
        ("trap.yaml", "trap"),
        ("spin-fuel.yaml", "fuel-exhausted"),
        ("spin-deadline.yaml", "deadline-exceeded"),
        ("memory-hog.yaml", "memory-limit-exceeded"),
        ("buffer-hog.yaml", "buffer-budget-exceeded"),
        ("use-after-freeze.yaml", "contract-violation"),
        ("source-only-as-processor.yaml", "missing-export"),
    ] {
        let t = run(&dir.join(file));
        let first = t
            .entries
            .iter()
            .find_map(|e| match &e.outcome {
                Outcome::Fault { kind, .. } => Some(kind.as_str()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("{file}: no fault"));
        assert_eq!(first, kind, "{file}");
    }
}

#[test]
fn pipelines_deliver_what_the_processors_let_through() {
    let dir = pipelines_dir();
    let t = pipeline(&dir.join("counter-filter-upper-sink.yaml"));
    let delivered: Vec<(u64, String)> = t
        .stage_entries("sink")
        .filter(|e| e.call == Function::Push)
        .map(|e| {
            let i = e.input.as_ref().unwrap();
            (i.sequence, i.payload.text.clone().unwrap())
        })
        .collect();
    assert_eq!(
        delivered,
        [
            (0, "0".into()),
            (2, "2".into()),
            (4, "4".into()),
            (6, "6".into())
        ]
    );
    assert_eq!(t.summary.elements_pulled, 8);
    assert_eq!(t.summary.elements_dropped, 4);
    assert_eq!(t.summary.elements_delivered, 4);
    assert_eq!(t.summary.pauses, 2);
    // Every pause is followed by the source being told, then resumed after
    // the drain, before the next pull.
    let source_calls: Vec<String> = t
        .stage_entries("counter-source")
        .map(|e| match &e.argument {
            Some(a) if e.call == Function::NotifyBackpressure => a.clone(),
            _ => e.call.name().to_string(),
        })
        .collect();
    let text = source_calls.join(" ");
    assert!(text.contains("pull pause ready pull"), "{text}");
    assert!(
        !t.entries.iter().any(|e| matches!(
            &e.outcome,
            Outcome::ProcessError { kind, .. } if kind == "unavailable"
        )),
        "the source is never pulled while paused"
    );

    let t = pipeline(&dir.join("counter-upper-sink.yaml"));
    assert_eq!(t.summary.elements_delivered, 3);
    assert_eq!(t.summary.pauses, 0);
    let last = t
        .entries
        .iter()
        .rev()
        .find(|e| e.call == Function::Complete)
        .unwrap();
    assert_eq!(last.outcome, Outcome::Ok);
}

/// The components of a scenario or pipeline file, if every one of them has
/// a mock model (none scripted, no backend forced): the files the
/// transcript-level differential runs on both backends.
fn modelled(components: &[(&str, bool)], backend: Option<BackendKind>) -> bool {
    backend.is_none()
        && components
            .iter()
            .all(|(c, scripted)| !scripted && models::NAMES.contains(c))
}

/// The differential at transcript level: every scenario and pipeline whose
/// components all have mock models runs on Wasmtime and on the mock, and
/// the two transcripts agree in everything but fuel and time
/// (`backend_neutral`): every call, outcome, payload, error, copy,
/// allocation, host call, reclaimed resource and memory reading.
#[test]
fn modelled_scenarios_and_pipelines_agree_on_both_backends() {
    let mut compared = Vec::new();
    for path in scenario_files(scenarios_dir()).unwrap() {
        let s = Scenario::load(&path).unwrap();
        if !modelled(&[(&s.component, s.mock.is_some())], s.backend) {
            continue;
        }
        let real = run_scenario_with(BackendKind::Wasmtime, &s).unwrap();
        let mock = run_scenario_with(BackendKind::Mock, &s).unwrap();
        assert_eq!(mock.backend, BackendKind::Mock);
        no_leaks(&mock.entries, &s.name);
        assert_eq!(
            mock.backend_neutral(),
            real.backend_neutral(),
            "{}: the mock's transcript differs from Wasmtime's",
            path.display()
        );
        compared.push(s.name);
    }
    for path in scenario_files(pipelines_dir()).unwrap() {
        let p = Pipeline::load(&path).unwrap();
        let stages: Vec<(&str, bool)> = p
            .all_stages()
            .map(|s| (s.component.as_str(), s.mock.is_some()))
            .collect();
        if !modelled(&stages, p.backend) {
            continue;
        }
        let real = run_pipeline_with(BackendKind::Wasmtime, &p).unwrap();
        let mock = run_pipeline_with(BackendKind::Mock, &p).unwrap();
        no_leaks(&mock.entries, &p.name);
        assert_eq!(
            mock.backend_neutral(),
            real.backend_neutral(),
            "{}: the mock's transcript differs from Wasmtime's",
            path.display()
        );
        compared.push(p.name);
    }
    // Every benign fixture has a model and a scenario, and three pipelines
    // are made of modelled fixtures only: the comparison cannot pass by
    // comparing nothing.
    assert!(compared.len() >= 10, "compared only {compared:?}");
}

#[test]
fn scripted_mock_components_run_from_yaml() {
    let t = run(&scenarios_dir().join("mock-flaky-processor.yaml"));
    assert_eq!(t.backend, BackendKind::Mock);
    assert_eq!(
        t.outcomes(Function::Process),
        [
            "emit seq=0 text/plain \"a\"",
            "emit seq=1 application/x-replaced \"replaced\"",
            "drop",
            "process-error invalid-input: not a word",
            "process-error fatal: giving up",
        ]
    );
    // `fatal` is terminal: the last two inputs were never sent.
    assert_eq!(t.summary.elements_skipped, 2);
    assert!(t.summary.stopped.as_deref().unwrap().contains("fatal"));

    let p = pipeline(&pipelines_dir().join("mock-ticker-upper-sink.yaml"));
    let delivered: Vec<String> = p
        .stage_entries("sink")
        .filter(|e| e.call == Function::Push)
        .map(|e| e.input.as_ref().unwrap().payload.text.clone().unwrap())
        .collect();
    assert_eq!(delivered, ["ONE", "TWO", "THREE"]);
    assert_eq!(p.summary.pauses, 1);
}

/// The runtime's contract semantics in the runner and the pipeline: `init`
/// once before any element on every lifecycle component (`""` without a
/// config), no elements after a failed `init`, and `fatal` terminal for
/// every role.
#[test]
fn init_always_runs_and_fatal_is_terminal() {
    // No config: init("") still runs, and a refused init stops the run.
    let t = run(&scenarios_dir().join("lifecycle-empty-config.yaml"));
    let calls: Vec<&str> = t.entries.iter().map(|e| e.call.name()).collect();
    assert_eq!(calls, ["init", "teardown"]);
    assert_eq!(t.entries[0].argument.as_deref(), Some(""));
    assert_eq!(t.summary.elements_skipped, 1);
    assert!(
        t.summary
            .stopped
            .as_deref()
            .unwrap()
            .starts_with("init failed")
    );
    // The default config path: counter-source counts to its default.
    let t = run(&scenarios_dir().join("counter-source-default.yaml"));
    assert_eq!(t.entries[0].call, Function::Init);
    assert_eq!(t.summary.elements_out, 3);

    let yaml = |text: &str| Pipeline::from_yaml_str(text, "<test>").unwrap();
    // A processor that answers fatal on its second element gets no third:
    // with the chain broken the runtime pulls no more; the sink completes.
    for backend in [BackendKind::Wasmtime, BackendKind::Mock] {
        let p = yaml(
            "name: fatal-processor\nsource: {component: counter-source, config: '{\"count\": 6}'}\n\
             processors:\n  - component: uppercase\nsink: {component: sink}\n",
        );
        let t = run_pipeline_with(backend, &p).unwrap();
        assert!(t.summary.stopped.is_none(), "{backend}: {:?}", t.summary);
        assert_eq!(t.summary.elements_delivered, 6, "{backend}");
    }
    let p = yaml(
        "name: fatal-processor\nbackend: mock\n\
         source: {component: counter-source, config: '{\"count\": 6}'}\n\
         processors:\n  - component: gate\n    mock: {process: {in-order: [emit-input, {error: {fatal: closed}}, emit-input]}}\n\
         sink: {component: sink}\n",
    );
    let t = run_pipeline_with(BackendKind::Mock, &p).unwrap();
    let calls = |t: &PipelineTranscript, stage, call| {
        t.stage_entries(stage).filter(|e| e.call == call).count()
    };
    assert_eq!(calls(&t, "gate", Function::Process), 2);
    assert_eq!(t.summary.elements_pulled, 2);
    assert_eq!(t.summary.elements_delivered, 1);
    assert!(t.summary.stopped.as_deref().unwrap().contains("`gate`"));
    assert!(t.has_call(Function::Complete), "the sink still completes");
    let gate = t.stages.iter().find(|s| s.name == "gate").unwrap();
    assert!(gate.totals.stopped.as_deref().unwrap().contains("fatal"));

    // A sink that answers fatal gets no further push and no complete.
    let p = yaml(
        "name: fatal-sink\nsource: {component: counter-source, config: '{\"count\": 5}'}\n\
         sink:\n  component: last\n  mock: {push: {in-order: [ready, {error: {fatal: full}}]}}\n",
    );
    let t = run_pipeline(&p).unwrap();
    assert_eq!(
        t.backend,
        BackendKind::Mock,
        "a scripted stage runs on the mock"
    );
    assert_eq!(calls(&t, "last", Function::Push), 2);
    assert!(!t.has_call(Function::Complete));

    // A stage whose init fails: the stream never starts.
    let p = yaml(
        "name: bad-init\nsource: {component: counter-source, config: 'no count'}\n\
         sink: {component: sink}\n",
    );
    for backend in [BackendKind::Wasmtime, BackendKind::Mock] {
        let t = run_pipeline_with(backend, &p).unwrap();
        assert!(!t.has_call(Function::Pull), "{backend}");
        assert!(!t.has_call(Function::Push), "{backend}");
        let why = t.summary.stopped.as_deref().unwrap();
        assert!(
            why.contains("counter-source") && why.contains("init failed"),
            "{why}"
        );
    }
}

/// The payloads a pipeline's stage was pushed, as text.
fn pushed(t: &PipelineTranscript, stage: &str) -> Vec<String> {
    t.stage_entries(stage)
        .filter(|e| e.call == Function::Push)
        .filter_map(|e| e.input.as_ref()?.payload.text.clone())
        .collect()
}

#[test]
fn the_token_streaming_pipeline_gives_its_three_sentences_on_both_backends() {
    let p = Pipeline::load(pipelines_dir().join("token-streaming.yaml")).unwrap();
    for backend in [BackendKind::Wasmtime, BackendKind::Mock] {
        let t = run_pipeline_with(backend, &p).unwrap();
        assert_eq!(
            pushed(&t, "sink"),
            ["the quick fox jumps.", "is it late?", "oh well see you"],
            "{backend:?}"
        );
        assert_eq!(t.summary.elements_flushed, 1, "{backend:?}");
        no_leaks(&t.entries, "token-streaming");
        // Both spellings in one pipeline: the filter and the aggregator
        // import the unversioned streaming package, the source and the sink
        // the versioned one, and the buffers flowed between them.
        assert!(t.entries.iter().all(|e| !e.failed()), "{backend:?}");
    }
}

#[test]
fn the_pipeline_examples_in_the_readme_and_the_guide_run() {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut pages = vec![format!("{root}/README.md")];
    for entry in std::fs::read_dir(format!("{root}/docs/src")).expect("the guide in docs/src") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path.display().to_string());
        }
    }
    let mut examples = Vec::new();
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap_or_else(|e| panic!("{page}: {e}"));
        let mut block: Option<String> = None;
        for line in text.lines() {
            match &mut block {
                None if line.trim() == "```yaml" => block = Some(String::new()),
                Some(text) if line.trim() == "```" => {
                    if text.contains("source:") {
                        examples.push((page.clone(), text.clone()));
                    }
                    block = None;
                }
                Some(text) => {
                    text.push_str(line);
                    text.push('\n');
                }
                None => {}
            }
        }
    }
    assert!(
        examples
            .iter()
            .any(|(page, _)| page.ends_with("extensions.md")),
        "the extension contracts chapter shows a pipeline file"
    );
    for (page, text) in &examples {
        let mut p = Pipeline::from_yaml_str(text, page).unwrap_or_else(|e| panic!("{e}\n{text}"));
        p.base_dir = Some(pipelines_dir());
        let t = run_pipeline(&p).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert!(t.summary.elements_delivered > 0, "{text}");
        no_leaks(&t.entries, &p.name);
    }
}

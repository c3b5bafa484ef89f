//! Guest profiles (`torvyn_harness::profile`, `--profile`): the file is
//! the Firefox profiler's processed format, its stacks name the guest's
//! functions, its weights add up to the fuel the calls burned, and the same
//! run writes the same bytes.
#![cfg(feature = "profiling")]

use std::path::{Path, PathBuf};

use serde_json::Value;
use torvyn_harness::pipeline::Pipeline;
use torvyn_harness::profile::{run_pipeline_profiled, run_scenario_profiled};
use torvyn_harness::scenario::{Scenario, scenario_settings};
use torvyn_harness::spec::BackendKind;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn scenario(name: &str) -> Scenario {
    Scenario::load(workspace().join(format!("fixtures/scenarios/{name}.yaml"))).unwrap()
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("the profile is JSON")
}

/// The names a thread's stacks reach: its frames' function names.
fn frame_names(thread: &Value) -> Vec<String> {
    let strings = thread["stringArray"].as_array().unwrap();
    let func_names = thread["funcTable"]["name"].as_array().unwrap();
    thread["frameTable"]["func"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let name = func_names[f.as_u64().unwrap() as usize].as_u64().unwrap();
            strings[name as usize].as_str().unwrap().to_string()
        })
        .collect()
}

fn weights(thread: &Value) -> u64 {
    thread["samples"]["weight"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_u64().unwrap())
        .sum()
}

#[test]
fn a_fixture_profile_names_its_export_and_weighs_the_fuel_burned() {
    let s = scenario("passthrough");
    let (transcript, profile) =
        run_scenario_profiled(BackendKind::Wasmtime, &s, &scenario_settings(&s)).unwrap();
    let p = json(profile.as_bytes());
    assert_eq!(p["meta"]["product"], "passthrough");
    let threads = p["threads"].as_array().unwrap();
    assert_eq!(threads.len(), 1, "one instance, one thread");
    let t = &threads[0];
    assert_eq!(t["name"], "passthrough");
    assert!(t["samples"]["length"].as_u64().unwrap() > 0);
    assert!(t["stackTable"]["length"].as_u64().unwrap() > 0);
    assert!(t["frameTable"]["length"].as_u64().unwrap() > 0);
    let names = frame_names(t);
    assert!(
        names
            .iter()
            .any(|n| n == "torvyn:streaming/processor@0.1.0#process"),
        "frames: {names:?}"
    );
    // Profiling changes nothing the run answers.
    let plain = torvyn_harness::scenario::run_scenario_using(
        BackendKind::Wasmtime,
        &s,
        &scenario_settings(&s),
    )
    .unwrap();
    assert_eq!(transcript.entries, plain.entries);
    // Every unit of fuel the calls burned is a unit of weight.
    let fuel: u64 = transcript.entries.iter().map(|e| e.fuel).sum();
    assert!(fuel > 0);
    assert_eq!(weights(t), fuel);
    // One `guest call` marker per entry into the guest, at least one per
    // process call.
    let calls = transcript.entries.len() as u64;
    assert!(t["markers"]["length"].as_u64().unwrap() >= calls);
}

#[test]
fn the_same_run_writes_the_same_profile() {
    let s = scenario("passthrough");
    let run = || {
        run_scenario_profiled(BackendKind::Wasmtime, &s, &scenario_settings(&s))
            .unwrap()
            .1
    };
    let (a, b) = (run(), run());
    assert!(!a.as_bytes().is_empty());
    assert_eq!(a.as_bytes(), b.as_bytes());
    // A different run writes a different profile (the comparison can fail).
    let mut fewer = s.clone();
    fewer.inputs.truncate(1);
    let c = run_scenario_profiled(BackendKind::Wasmtime, &fewer, &scenario_settings(&fewer))
        .unwrap()
        .1;
    assert_ne!(a.as_bytes(), c.as_bytes());
}

#[test]
fn a_pipeline_profile_has_a_thread_per_stage() {
    let p = Pipeline::load(workspace().join("fixtures/pipelines/counter-upper-sink.yaml")).unwrap();
    let (transcript, profile) =
        run_pipeline_profiled(BackendKind::Wasmtime, &p, &p.settings()).unwrap();
    let v = json(profile.as_bytes());
    let threads = v["threads"].as_array().unwrap();
    assert_eq!(threads.len(), transcript.stages.len());
    let mut names: Vec<&str> = threads
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let mut stages: Vec<&str> = transcript.stages.iter().map(|s| s.name.as_str()).collect();
    names.sort();
    stages.sort();
    assert_eq!(names, stages);
    for t in threads {
        assert!(
            t["samples"]["length"].as_u64().unwrap() > 0,
            "{}",
            t["name"]
        );
    }
}

#[test]
fn the_mock_backend_has_no_guest_to_profile() {
    let s = scenario("passthrough");
    let e = run_scenario_profiled(BackendKind::Mock, &s, &scenario_settings(&s)).unwrap_err();
    assert!(e.to_string().contains("only the Wasmtime backend"), "{e}");
}

/// The componentize-py guest (built by `fixtures/guests/build.sh`;
/// skipped when missing outside CI, as the engine's guest tests are).
#[test]
fn a_cpython_guest_profile_names_the_interpreter_functions() {
    let dir = std::env::var_os("TORVYN_GUESTS")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("CARGO_TARGET_DIR").map(|d| PathBuf::from(d).join("guests")))
        .unwrap_or_else(|| workspace().join("target/guests"));
    let wasm = dir.join("py-uppercase.wasm");
    if !wasm.exists() {
        let why = format!("{} is not built (fixtures/guests/build.sh)", wasm.display());
        assert!(std::env::var_os("CI").is_none(), "{why}");
        eprintln!("skipped: {why}");
        return;
    }
    let s = Scenario::from_yaml_str(
        &format!(
            "name: py-uppercase\ncomponent: {}\ninputs:\n  - payload: hello\n",
            wasm.display()
        ),
        "<test>",
    )
    .unwrap();
    let (transcript, profile) =
        run_scenario_profiled(BackendKind::Wasmtime, &s, &scenario_settings(&s)).unwrap();
    let v = json(profile.as_bytes());
    let t = &v["threads"][0];
    let names = frame_names(t);
    assert!(
        names.iter().any(|n| n.contains("_PyEval")),
        "no CPython interpreter frame in {names:?}"
    );
    let fuel: u64 = transcript.entries.iter().map(|e| e.fuel).sum();
    assert_eq!(weights(t), fuel);
}

/// `torvyn-sim run --profile` writes a profile JSON naming the fixture's
/// export, the same bytes on a second run.
#[test]
fn the_cli_writes_the_same_profile_twice() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str| {
        let path = dir.path().join(name);
        assert_cmd::Command::cargo_bin("torvyn-sim")
            .unwrap()
            .args([
                "--no-cache",
                "run",
                "passthrough",
                "--input",
                "-",
                "--profile",
            ])
            .arg(&path)
            .write_stdin("hello\nworld\n")
            .assert()
            .success()
            .stderr(predicates::str::contains("profile written to"));
        std::fs::read(path).unwrap()
    };
    let (a, b) = (run("a.json"), run("b.json"));
    assert_eq!(a, b);
    let v = json(&a);
    let names = frame_names(&v["threads"][0]);
    assert!(
        names
            .iter()
            .any(|n| n == "torvyn:streaming/processor@0.1.0#process"),
        "frames: {names:?}"
    );
}

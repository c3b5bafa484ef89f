//! The C guest (`fixtures/guests/c/filter.c`, built with `-g` by
//! `fixtures/guests/build.sh`) seen from inside: its host-call trace and its
//! guest profile. (Its coverage by C line is tested with the CLI's, in
//! `tests/cli/coverage.rs`.) Skipped when the guest is missing outside CI;
//! in CI a missing guest fails.
#![cfg(feature = "profiling")]

use std::path::{Path, PathBuf};

use torvyn_harness::profile::run_scenario_profiled;
use torvyn_harness::scenario::{InputElement, Scenario, run_scenario, scenario_settings};
use torvyn_harness::spec::BackendKind;

/// The componentized C guest, written under `dir`, or `None` when the
/// core module is not built and this is not CI.
fn c_filter(dir: &Path) -> Option<PathBuf> {
    let guests = std::env::var_os("TORVYN_GUESTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/guests"));
    let core = guests.join("c-filter-core.wasm");
    if !core.is_file() {
        let why = format!("{} is not built (fixtures/guests/build.sh)", core.display());
        assert!(std::env::var_os("CI").is_none(), "{why}");
        eprintln!("skipped: {why}");
        return None;
    }
    let component = torvyn_harness::fixtures::componentize(&std::fs::read(&core).unwrap(), None)
        .unwrap_or_else(|e| panic!("componentize {}: {e}", core.display()));
    let path = dir.join("c-filter.wasm");
    std::fs::write(&path, component).unwrap();
    Some(path)
}

/// Two elements: sequence 0 (even: cloned, frozen, emitted) and 1 (odd:
/// dropped).
fn scenario(path: &Path) -> Scenario {
    Scenario {
        inputs: vec![InputElement::text("zero"), InputElement::text("one")],
        ..Scenario::new("c-filter", path.display().to_string())
    }
}

#[test]
fn the_c_guest_traces_a_clone_and_a_freeze_for_an_even_element_and_none_for_an_odd_one() {
    let dir = tempfile::tempdir().unwrap();
    let Some(path) = c_filter(dir.path()) else {
        return;
    };
    let s = Scenario {
        trace_host_calls: true,
        ..scenario(&path)
    };
    let t = run_scenario(&s).unwrap();
    let traces: Vec<&Vec<String>> = t
        .entries
        .iter()
        .filter(|e| e.call.name() == "process")
        .map(|e| e.host_call_trace.as_ref().expect("traced"))
        .collect();
    assert_eq!(traces.len(), 2, "{t:?}");
    let names = |trace: &[String]| -> Vec<String> {
        trace
            .iter()
            .map(|l| l.split('(').next().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(
        names(traces[0]),
        [
            "buffer-allocator.clone-into-mutable",
            "mutable-buffer.freeze",
            "[resource-drop]mutable-buffer",
        ],
        "{:?}",
        traces[0]
    );
    // The odd element is dropped: the input's handles are borrowed, so
    // dropping them calls no host function.
    assert!(traces[1].is_empty(), "{:?}", traces[1]);
}

#[test]
fn the_c_guest_profile_names_its_c_functions_and_weighs_its_fuel() {
    let dir = tempfile::tempdir().unwrap();
    let Some(path) = c_filter(dir.path()) else {
        return;
    };
    let s = scenario(&path);
    let (transcript, profile) =
        run_scenario_profiled(BackendKind::Wasmtime, &s, &scenario_settings(&s)).unwrap();
    let v: serde_json::Value = serde_json::from_slice(profile.as_bytes()).unwrap();
    let t = &v["threads"][0];
    let strings = t["stringArray"].as_array().unwrap();
    let func_names = t["funcTable"]["name"].as_array().unwrap();
    let names: Vec<&str> = t["frameTable"]["func"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let name = func_names[f.as_u64().unwrap() as usize].as_u64().unwrap();
            strings[name as usize].as_str().unwrap()
        })
        .collect();
    // The export's C name, from the name section `-g` keeps.
    assert!(names.contains(&"process"), "{names:?}");
    let weight: u64 = t["samples"]["weight"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_u64().unwrap())
        .sum();
    let fuel: u64 = transcript.entries.iter().map(|e| e.fuel).sum();
    assert_eq!(weight, fuel);
    let (_, again) =
        run_scenario_profiled(BackendKind::Wasmtime, &s, &scenario_settings(&s)).unwrap();
    assert_eq!(
        profile.as_bytes(),
        again.as_bytes(),
        "the same run, the same profile"
    );
}

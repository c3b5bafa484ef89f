//! The C guest (`fixtures/guests/c/filter.c`: wit-bindgen's C bindings
//! and wasi-libc, built with `-g` by zig, made a component by wasm-tools
//! with the WASI preview1 adapter, all by `fixtures/guests/build.sh`) seen
//! from inside: its host-call trace and its guest profile. (Its coverage by
//! C line is tested with the CLI's, in `tests/cli/coverage.rs`; its
//! scenarios and snapshots in `tests/cli/cases/guests/c-filter.t`.)
//! Skipped when the guest is missing outside CI; in CI a missing guest
//! fails.
#![cfg(feature = "profiling")]

use std::path::{Path, PathBuf};

use torvyn_harness::profile::run_scenario_profiled;
use torvyn_harness::scenario::{InputElement, Scenario, run_scenario, scenario_settings};
use torvyn_harness::spec::BackendKind;

/// The C guest, or `None` when it is not built and this is not CI.
fn c_filter() -> Option<PathBuf> {
    let guests = std::env::var_os("TORVYN_GUESTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/guests"));
    let path = guests.join("c-filter.wasm");
    if !path.is_file() {
        let why = format!("{} is not built (fixtures/guests/build.sh)", path.display());
        assert!(std::env::var_os("CI").is_none(), "{why}");
        eprintln!("skipped: {why}");
        return None;
    }
    Some(path)
}

/// Two elements: a line (read, allocated, appended, frozen, emitted) and
/// a comment (read, dropped).
fn scenario(path: &Path) -> Scenario {
    Scenario {
        inputs: vec![InputElement::text("zero"), InputElement::text("# one")],
        ..Scenario::new("c-filter", path.display().to_string())
    }
}

#[test]
fn the_c_guest_traces_a_buffer_for_a_line_and_only_a_read_for_a_comment() {
    let Some(path) = c_filter() else {
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
            "buffer.read-all",
            "buffer-allocator.allocate",
            "mutable-buffer.append",
            "mutable-buffer.freeze",
            "[resource-drop]mutable-buffer",
        ],
        "{:?}",
        traces[0]
    );
    // The comment is only read. The input's handles are borrowed, so
    // giving them back calls no host function.
    assert_eq!(names(traces[1]), ["buffer.read-all"], "{:?}", traces[1]);
    // And its line on stderr is the entry's.
    let stderr = t.entries[1].stderr.as_ref().expect("the comment's stderr");
    assert!(
        format!("{stderr:?}").contains("dropped the comment at sequence 1"),
        "{stderr:?}"
    );
}

#[test]
fn the_c_guest_profile_names_its_c_functions_and_weighs_its_fuel() {
    let Some(path) = c_filter() else {
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
    // C names, from the name section: the author's function and the
    // bindings' export wrapper.
    for name in [
        "exports_torvyn_streaming_processor_process",
        "__wasm_export_exports_torvyn_streaming_processor_process",
    ] {
        assert!(names.contains(&name), "no {name} in {names:?}");
    }
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

//! `check` against snapshots the test writes or edits, and against
//! another build of a fixture made here (one instruction more).

use std::path::{Path, PathBuf};

use predicates::prelude::*;

use crate::support::{path_str, sim, workspace_root, write};

#[test]
fn check_passes_after_update_and_fails_with_a_diff_after_an_edit() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "upper.yaml",
        "name: upper\ncomponent: uppercase\ninputs:\n  - payload: hello world\n",
    );
    let snap = dir.path().join("upper.snap.yaml");
    let args = |extra: &[&str]| {
        let mut v = vec![
            "check".to_string(),
            path_str(&scenario).to_string(),
            "--snapshot".to_string(),
            path_str(&snap).to_string(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    sim().args(args(&[])).assert().code(1);
    sim().args(args(&["--update"])).assert().success();
    sim()
        .args(args(&[]))
        .assert()
        .success()
        .stdout(predicate::str::contains("matches"));

    let text = std::fs::read_to_string(&snap).unwrap();
    assert!(text.contains("text: HELLO WORLD"), "{text}");
    std::fs::write(&snap, text.replace("HELLO WORLD", "HELLO THERE")).unwrap();
    sim()
        .args(args(&[]))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("-        text: HELLO THERE"))
        .stdout(predicate::str::contains("+        text: HELLO WORLD"))
        .stderr(predicate::str::contains("--update"));
}

/// The uppercase fixture with one more instruction per `process`: the
/// same behaviour, a little more fuel, as a rebuild moves it.
fn slower_uppercase(dir: &Path) -> (PathBuf, PathBuf) {
    let root = workspace_root();
    let text = std::fs::read_to_string(root.join("fixtures/components/uppercase.wat")).unwrap();
    let marker = "    ;; copy the payload into guest memory\n";
    assert!(
        text.contains(marker),
        "the fixture changed: update the marker"
    );
    let slower = text.replace(marker, &format!("    (drop (i32.const 7))\n{marker}"));
    let wat = write(dir, "slower.wat", &slower);
    let bytes = torvyn_harness::fixtures::component_from_wat(&slower, "slower.wat").unwrap();
    let wasm = dir.join("slower.wasm");
    std::fs::write(&wasm, bytes).unwrap();
    (wat, wasm)
}

#[test]
fn check_compares_another_build_exactly_or_by_behaviour() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "upper.yaml",
        "name: upper\ncomponent: uppercase\ninputs:\n  - payload: banana split\n  - payload: kiwi\n",
    );
    let snap = dir.path().join("upper.snap.yaml");
    let (slower_wat, slower_wasm) = slower_uppercase(dir.path());
    let check = |extra: &[&str]| {
        let mut cmd = sim();
        cmd.args(["check", path_str(&scenario), "--snapshot", path_str(&snap)])
            .args(extra);
        cmd
    };
    check(&["--update"]).assert().success();
    let text = std::fs::read_to_string(&snap).unwrap();
    // The snapshot keeps the costs, whatever the comparison.
    assert!(text.contains("fuel_total:"), "{text}");

    // WAT text: exact by default, and the diff is only fuel and time.
    let out = check(&["--component", path_str(&slower_wat)])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("compared exactly"))
        .stderr(predicate::str::contains(
            "only fuel and engine-clock times differ",
        ))
        .stderr(predicate::str::contains("in place of uppercase"))
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("-  fuel: "), "{out}");
    assert!(out.contains("fuel compared: "), "{out}");

    // By behaviour it passes, with the fuel change as information: one
    // call per element more than the snapshot's, on both process calls.
    let out = check(&[
        "--component",
        path_str(&slower_wat),
        "--compare",
        "behaviour",
    ])
    .assert()
    .success()
    .get_output()
    .stdout
    .clone();
    let out = String::from_utf8(out).unwrap();
    assert!(out.starts_with("ok: upper matches"), "{out}");
    assert!(out.contains("fuel not compared: "), "{out}");
    assert!(out.contains("2 calls cost differently"), "{out}");
    let process_rows: Vec<&str> = out.lines().filter(|l| l.contains(" process ")).collect();
    assert_eq!(process_rows.len(), 2, "{out}");

    // A binary component is compared by behaviour by default.
    check(&["--component", path_str(&slower_wasm)])
        .assert()
        .success()
        .stdout(predicate::str::contains("compared behaviour"))
        .stdout(predicate::str::contains("a binary component's fuel moves"));

    // A fuel budget: any growth fails a zero tolerance, a wide one passes.
    check(&[
        "--component",
        path_str(&slower_wasm),
        "--fuel-tolerance",
        "0",
    ])
    .assert()
    .code(1)
    .stderr(predicate::str::contains("fuel regressed"))
    .stderr(predicate::str::contains("> 0 %"));
    check(&[
        "--component",
        path_str(&slower_wasm),
        "--fuel-tolerance",
        "50%",
    ])
    .assert()
    .success()
    .stdout(predicate::str::contains("fuel within 50 %"));

    // A changed output fails by behaviour too.
    check(&["--component", "passthrough", "--compare", "behaviour"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("-        text: BANANA SPLIT"))
        .stdout(predicate::str::contains("+        text: banana split"));

    // The file can choose; the command line wins over it.
    let behaviour = write(
        dir.path(),
        "upper-behaviour.yaml",
        format!(
            "name: upper\ncomponent: {}\ncompare: behaviour\nfuel_tolerance: 25\ninputs:\n  \
             - payload: banana split\n  - payload: kiwi\n",
            path_str(&slower_wat)
        ),
    );
    let mut cmd = sim();
    cmd.args(["check", path_str(&behaviour), "--snapshot", path_str(&snap)]);
    // The snapshot names the fixture, this file the slower WAT: the
    // component line differs, and nothing else.
    let out = cmd.assert().code(1).get_output().stdout.clone();
    let out = String::from_utf8(out).unwrap();
    assert_eq!(
        out.lines()
            .filter(|l| l.starts_with(['-', '+']) && !l.starts_with("---") && !l.starts_with("+++"))
            .count(),
        2,
        "{out}"
    );
    assert!(out.contains("+component: "), "{out}");
    // Bad combinations of the options: cases/check/options.t.
}

#[test]
fn check_replaces_a_pipeline_stage_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let root = workspace_root();
    let pipeline = root.join("fixtures/pipelines/counter-upper-sink.yaml");
    let snap =
        root.join("tests/all/snapshots/all__snapshots__pipelines@counter-upper-sink.yaml.snap");
    let (_, slower_wasm) = slower_uppercase(dir.path());
    let check = |extra: &[&str]| {
        let mut cmd = sim();
        cmd.args(["check", path_str(&pipeline), "--snapshot", path_str(&snap)])
            .args(extra);
        cmd
    };
    let stage = format!("uppercase={}", path_str(&slower_wasm));
    check(&["--component", &stage])
        .assert()
        .success()
        .stdout(predicate::str::contains("compared behaviour"))
        .stdout(predicate::str::contains("3 calls cost differently"))
        .stderr(predicate::str::contains("ran stage uppercase: "));
    check(&["--component", &stage, "--compare", "exact"])
        .assert()
        .code(1);
    check(&["--component", path_str(&slower_wasm)])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--component STAGE="))
        .stderr(predicate::str::contains("counter-source, uppercase, sink"));
    // A stage name the pipeline does not have: cases/check/pipeline.t.
}

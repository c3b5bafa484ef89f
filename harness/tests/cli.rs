//! The `torvyn-sim` binary, run as a user would: every command, its output
//! formats, and its errors with their exit codes.

// The mock-only build (`--no-default-features --features mock`) skips
// this file: the `torvyn-sim` binary needs the Wasmtime backend.
#![cfg(feature = "wasmtime-backend")]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

/// `torvyn-sim --no-cache`: every test compiles afresh and none writes to
/// the user's cache directory (the cache tests use [`sim_cached`]).
fn sim() -> Command {
    let mut cmd = sim_bare();
    cmd.arg("--no-cache");
    cmd
}

/// `torvyn-sim` with no cache option, its user directories in `home`
/// (`XDG_CACHE_HOME` unset), never the real ones.
fn sim_bare_in(home: &Path) -> Command {
    let mut cmd = sim_bare();
    cmd.env("HOME", home).env_remove("XDG_CACHE_HOME");
    cmd
}

/// `torvyn-sim --cache-dir DIR`.
fn sim_cached(dir: &Path) -> Command {
    let mut cmd = sim_bare();
    cmd.arg("--cache-dir").arg(dir);
    cmd
}

fn sim_bare() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_torvyn-sim"));
    // Errors and notes must not depend on where the binary is run from.
    cmd.current_dir(std::env::temp_dir());
    cmd.env_remove("RUST_LOG");
    cmd
}

fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn json(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice(out)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", String::from_utf8_lossy(out)))
}

/// The JSON transcript `torvyn-sim ARGS... --format json` prints, with
/// `stdin` as its input; the command must succeed.
fn ok_json(args: &[&str], stdin: &str) -> serde_json::Value {
    let out = sim()
        .args(args)
        .args(["--format", "json"])
        .write_stdin(stdin)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    json(&out)
}

/// The payload texts a transcript's entries emitted.
fn emitted(t: &serde_json::Value) -> Vec<String> {
    t["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["outcome"]["emit"]["payload"]["text"].as_str())
        .map(str::to_string)
        .collect()
}

#[test]
fn demo_runs_with_no_files_and_prints_upper_case() {
    sim()
        .arg("demo")
        .assert()
        .success()
        .stdout(predicate::str::contains("HELLO FROM TORVYN"))
        .stdout(predicate::str::contains("5 delivered"))
        .stderr(predicate::str::is_empty());
}

#[test]
fn run_json_lines_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "in.jsonl",
        "{\"payload\": \"hello\"}\n\n{\"payload_hex\": \"616263\", \"content_type\": \"x/y\"}\n{\"payload\": \"MiXeD 1\", \"deadline_ms\": 5}\n",
    );
    let out = sim()
        .args([
            "run",
            "uppercase",
            "--input",
            path_str(&input),
            "--format",
            "json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let t = json(&out);
    assert_eq!(t["role"], "processor");
    assert_eq!(emitted(&t), ["HELLO", "ABC", "MIXED 1"]);
    assert_eq!(t["entries"][1]["outcome"]["emit"]["content_type"], "x/y");
    assert!(t["entries"][2]["input"]["deadline_ns"].is_u64());
    assert_eq!(t["summary"]["elements_in"], 3);
    assert!(
        t["summary"].get("wall").is_none(),
        "yaml/json are the snapshot form"
    );
}

#[test]
fn run_plain_lines_from_stdin_as_table_and_yaml() {
    sim()
        .args(["run", "uppercase", "--input", "-"])
        .write_stdin("one\ntwo words\n")
        .assert()
        .success()
        .stdout(predicate::str::contains("\"TWO WORDS\""))
        .stdout(predicate::str::contains("2 in, 2 out, 0 dropped, 0 failed"))
        .stdout(predicate::str::contains("fuel/element  p50"))
        .stdout(predicate::str::contains("wall time"));

    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.txt", "abc\n");
    let out = sim()
        .args([
            "run",
            "uppercase",
            "-i",
            path_str(&input),
            "--format",
            "yaml",
            "--seed",
            "0x2a",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let yaml = String::from_utf8(out).unwrap();
    assert!(
        yaml.contains("seed: 42") && yaml.contains("text: ABC"),
        "{yaml}"
    );
}

#[test]
fn run_a_source_with_config() {
    let out = sim()
        .args([
            "run",
            "counter-source",
            "--config",
            "{\"count\": 2}",
            "--format",
            "json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let t = json(&out);
    assert_eq!(t["role"], "source");
    assert_eq!(emitted(&t), ["0", "1"]);
}

#[test]
fn a_missing_component_file_is_an_input_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere.wasm");
    sim()
        .args(["run", path_str(&missing)])
        .assert()
        .code(3)
        .stderr(predicate::str::starts_with("error: "))
        .stderr(predicate::str::contains(path_str(&missing)));
}

#[test]
fn invalid_wat_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "bad.wat",
        "(module\n  (func (result i32) oops))\n",
    );
    sim()
        .args(["run", path_str(&bad)])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("bad.wat:2:"));
}

#[test]
fn a_core_module_is_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let core = write(dir.path(), "core.wasm", b"\0asm\x01\0\0\0");
    sim()
        .args(["run", path_str(&core)])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("core WebAssembly module"))
        .stderr(predicate::str::contains("componentize"));
}

/// A component for another world is an input error (3), not an engine
/// error: the component is what is wrong.
#[test]
fn a_component_for_another_world_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let wrong = write(
        dir.path(),
        "wrong.wat",
        "(component (import \"acme:db/query@1.0.0\" (instance)))",
    );
    sim()
        .args(["run", path_str(&wrong)])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("torvyn:streaming@0.1.0"))
        .stderr(predicate::str::contains("torvyn-sim inspect"));
    sim()
        .args(["inspect", path_str(&wrong)])
        .assert()
        .code(3)
        .stdout(predicate::str::contains("acme:db/query@1.0.0"))
        .stdout(predicate::str::contains("links         no"));
}

#[test]
fn bad_json_input_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "in.jsonl",
        "{\"payload\": \"a\"}\n\n{\"payload\": nope}\n",
    );
    sim()
        .args(["run", "uppercase", "--input", path_str(&input)])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("in.jsonl at line 3"));
    let input = write(dir.path(), "typo.jsonl", "{\"paylod\": \"a\"}\n");
    sim()
        .args(["run", "uppercase", "--input", path_str(&input)])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("line 1").and(predicate::str::contains("paylod")));
}

#[test]
fn usage_errors_exit_with_2() {
    sim().args(["run"]).assert().code(2);
    sim()
        .args(["run", "uppercase", "--format", "xml"])
        .assert()
        .code(2);
    sim()
        .args(["pipeline", "counter-source", "sink", "--config", "nope={}"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("counter-source, sink"));
}

#[test]
fn pipeline_from_the_command_line() {
    sim()
        .args([
            "pipeline",
            "counter-source",
            "uppercase",
            "sink",
            "--max-pulls",
            "10",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("counter-source"))
        .stdout(predicate::str::contains("3 pulled, 3 delivered"));
    let out = sim()
        .args([
            "pipeline",
            "counter-source",
            "uppercase",
            "sink",
            "--config",
            "counter-source={\"count\": 4}",
            "--format",
            "json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let t = json(&out);
    assert_eq!(t["summary"]["elements_delivered"], 4);
    assert_eq!(t["stages"][1]["name"], "uppercase");
}

#[test]
fn inspect_lists_roles_worlds_and_what_other_worlds_lack() {
    sim()
        .args(["inspect", "counter-source"])
        .assert()
        .success()
        .stdout(predicate::str::contains("data-source"))
        .stdout(
            predicate::str::is_match(
                r"managed-transform +lacks exports torvyn:streaming/processor@0\.1\.0",
            )
            .unwrap(),
        );
    let out = sim()
        .args(["inspect", "counter-source", "--format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let i = json(&out);
    assert_eq!(i["worlds"], serde_json::json!(["data-source"]));
    let mt = i["other_worlds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["world"] == "managed-transform")
        .unwrap();
    assert_eq!(
        mt["missing_exports"],
        serde_json::json!(["torvyn:streaming/processor@0.1.0"])
    );
}

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
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
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

    // Bad combinations are usage errors.
    check(&["--compare", "exact", "--fuel-tolerance", "5"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("needs --compare behaviour"));
    check(&["--compare", "roughly"]).assert().code(2);
    check(&["--fuel-tolerance", "ten"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a percentage"));
    check(&["--component", "missing.wasm"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("no such file"));
}

#[test]
fn check_replaces_a_pipeline_stage_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
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
    check(&["--component", "filter=trap"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no stage `filter`"));
}

#[test]
fn check_accepts_the_suites_insta_snapshots() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let snap = root.join("tests/all/snapshots/all__snapshots__scenarios@uppercase.yaml.snap");
    sim()
        .args(["check", "uppercase", "--snapshot", path_str(&snap)])
        .assert()
        .success();
}

/// A pipeline file whose sinks are all in `sinks:` (no `sink:`) is a
/// pipeline to `check` too: its top-level `source` says so.
#[test]
fn check_takes_a_pipeline_with_only_a_sinks_list() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let file = root.join("fixtures/pipelines/mock-router-fan-out.yaml");
    let snap =
        root.join("tests/all/snapshots/all__snapshots__pipelines@mock-router-fan-out.yaml.snap");
    sim()
        .args(["check", path_str(&file), "--snapshot", path_str(&snap)])
        .assert()
        .success();
}

/// A field of the wrong shape is reported with its file, line and path,
/// and the page that lists every field.
#[test]
fn a_bad_field_names_its_line_and_the_field_reference() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "bad.yaml",
        "name: bad\ncomponent: uppercase\ninputs:\n  - payload: a\n  - payload: {id: 7}\n",
    );
    let snap = dir.path().join("bad.snap.yaml");
    let (code, stderr) = {
        let out = sim()
            .args(["check", path_str(&scenario), "--snapshot", path_str(&snap)])
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8(out.stderr).unwrap())
    };
    assert_eq!(code, Some(3), "{stderr}");
    for part in [
        "bad.yaml at line 5",
        "inputs[1].payload: invalid type: map, expected a string",
        "docs/src/scenario-reference.md",
    ] {
        assert!(stderr.contains(part), "`{part}` not in {stderr}");
    }
    // The page the message cites (in the workspace: a packaged crate has
    // no docs/).
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    if root.join("docs").is_dir() {
        assert!(root.join("docs/src/scenario-reference.md").is_file());
    }
}

#[test]
fn help_lists_examples_and_exit_codes() {
    sim()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Exit codes:"))
        .stdout(predicate::str::contains("3  input error"))
        .stdout(predicate::str::contains("torvyn-sim demo"));
    sim()
        .args(["run", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("JSON Lines"));
    for command in ["check", "pipeline"] {
        sim()
            .args([command, "--help"])
            .assert()
            .success()
            .stdout(predicate::str::contains("docs/src/scenario-reference.md"));
    }
}

#[test]
fn bench_prints_engine_and_baseline_figures() {
    // --no-cache (sim()): bench compiles through the cache as run does, and
    // a test writes nothing to the user's cache directory.
    let out = sim()
        .args([
            "bench",
            "passthrough",
            "--payload",
            "64",
            "--elements",
            "500",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("engine") && text.contains("baseline"),
        "{text}"
    );
    let ratio: f64 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("ratio"))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|r| r.parse().ok())
        .unwrap_or_else(|| panic!("no ratio in {text}"));
    assert!(ratio > 0.0 && ratio.is_finite(), "{ratio}");
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("compile") && l.contains("compiled (no cache)")),
        "the compile time is its own line: {text}"
    );
    sim()
        .args(["bench", "passthrough", "--elements", "0"])
        .assert()
        .code(2);
}

/// The JSON report of `torvyn-sim bench ARGS... --format json` run by
/// `cmd` with `stdin`; the command must succeed.
fn bench_json(mut cmd: Command, args: &[&str], stdin: &str) -> serde_json::Value {
    let out = cmd
        .arg("bench")
        .args(args)
        .args(["--format", "json"])
        .write_stdin(stdin)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    json(&out)
}

/// The payload bytes `calls` calls send, the elements of `sizes` in turn.
fn cycled(sizes: &[u64], calls: u64) -> u64 {
    (0..calls)
        .map(|k| sizes[(k % sizes.len() as u64) as usize])
        .sum()
}

#[test]
fn bench_input_measures_the_given_elements_in_turn_on_both_sides() {
    let dir = tempfile::tempdir().unwrap();
    // Plain lines (blank ones skipped), as `run --input` reads them.
    let words = write(dir.path(), "words.txt", "hello\n\nhello world\nabc\n");
    let r = bench_json(
        sim(),
        &["uppercase", "--input", path_str(&words), "--elements", "14"],
        "",
    );
    assert_eq!(r["function"], "process");
    assert_eq!(r["elements"], 14);
    assert_eq!(
        r["inputs"],
        serde_json::json!({"given": true, "count": 3, "min_bytes": 3, "max_bytes": 11,
                           "total_bytes": 19})
    );
    let bytes = cycled(&[5, 11, 3], 14);
    for side in ["engine", "baseline"] {
        assert_eq!(r[side]["calls"], 14, "{side}: {r}");
        assert_eq!(r[side]["bytes"], bytes, "{side}: {r}");
        assert!(r[side]["ns_per_element"].as_f64().unwrap() > 0.0, "{r}");
    }
    assert_eq!(r["ratio_of"], "engine / baseline");
    assert_eq!(r["compile"]["tier"], "compiled");
    assert_eq!(r["compile"]["cache_hit"], false);
    assert_eq!(r["compile"]["baseline_reused_engine_code"], true);

    // JSON Lines from stdin: payload_hex and a JSON payload, to a sink
    // with an init config from a file (@FILE, as `run --config` takes it).
    let config = write(dir.path(), "sink.json", "{\"count\": 2}");
    let jsonl = "{\"payload_hex\": \"00ff10\"}\n{\"payload\": {\"id\": 7}}\n";
    let config_arg = format!("@{}", path_str(&config));
    let r = bench_json(
        sim(),
        &[
            "sink",
            "--input",
            "-",
            "--config",
            &config_arg,
            "--elements",
            "7",
        ],
        jsonl,
    );
    assert_eq!(r["function"], "push");
    assert_eq!(r["engine"]["bytes"], cycled(&[3, 9], 7), "{r}");
    assert_eq!(r["baseline"]["bytes"], cycled(&[3, 9], 7), "{r}");

    // The built-in payload is for bench without --input only; an empty
    // input is refused.
    sim()
        .args([
            "bench",
            "uppercase",
            "--input",
            path_str(&words),
            "--payload",
            "8",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--payload"));
    let blank = write(dir.path(), "blank.txt", "\n\n");
    sim()
        .args(["bench", "uppercase", "--input", path_str(&blank)])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("has no elements"));
    // Fewer measured calls than elements: a note says which were measured.
    let ten = write(dir.path(), "ten.txt", "a\nbb\nc\nd\ne\nf\ng\nh\ni\nj\n");
    let out = sim()
        .args([
            "bench",
            "uppercase",
            "--input",
            path_str(&ten),
            "--elements",
            "1",
        ])
        .args(["--format", "json"])
        .assert()
        .success()
        .get_output()
        .clone();
    let r = json(&out.stdout);
    assert_eq!(r["elements"], 7, "one call per round, 7 rounds");
    assert_eq!(r["engine"]["bytes"], 8, "the first 7 elements: {r}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("sent the first 7 of the 10 elements"),
        "{stderr}"
    );
}

#[test]
fn bench_stops_at_the_first_element_the_component_refuses_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    // scribble answers invalid-input to a payload starting with `!`.
    let words = write(dir.path(), "words.txt", "ok\nfine\n\n!bad\nnever\n");
    let out = sim()
        .args([
            "bench",
            "scribble",
            "--input",
            path_str(&words),
            "--elements",
            "7",
        ])
        .assert()
        .code(5)
        .get_output()
        .clone();
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines[0],
        format!(
            "error: `scribble` failed on input 2 of 4 (line 4 of {}: \"!bad\") in the check \
             pass, before anything was measured:",
            path_str(&words)
        ),
        "{stderr}"
    );
    assert_eq!(
        lines[1],
        "  `process` answered process-error invalid-input: !bad"
    );
    assert!(lines[2].starts_with("This is the component's failure, not the engine's"));
    assert!(stderr.contains("--keep-going"), "{stderr}");
    assert!(
        stderr.contains("torvyn-sim run scribble --input "),
        "{stderr}"
    );

    // --keep-going: every element measured; the refused one counted.
    let r = bench_json(
        sim(),
        &[
            "scribble",
            "--input",
            path_str(&words),
            "--elements",
            "14",
            "--keep-going",
        ],
        "",
    );
    assert_eq!(r["engine"]["calls"], 14);
    // Calls 2, 6, 10 of 14 send element 2 (of 4).
    let refused = r["refused"].as_array().unwrap();
    assert_eq!(refused.len(), 1, "{r}");
    assert_eq!(refused[0]["index"], 2);
    assert_eq!(refused[0]["engine_calls"], 3);
    assert_eq!(refused[0]["other_calls"], 3);
    assert_eq!(refused[0]["error"], "invalid-input: !bad");

    // A trap stops bench even with --keep-going; the built-in payload is
    // element 0, and the message says how to pass your own.
    sim()
        .args(["bench", "trap", "--elements", "7", "--keep-going"])
        .assert()
        .code(5)
        .stderr(predicate::str::contains(
            "`trap` failed on input 0 of 1 (the built-in payload \"the quick",
        ))
        .stderr(predicate::str::contains(
            "`process` faulted: guest trapped (unreachable)",
        ))
        .stderr(predicate::str::contains(
            "\n  wasm backtrace: 1 frame (-v shows it)",
        ))
        .stderr(predicate::str::contains("with --input FILE"));
    // A config the component refuses is its failure too; a config for a
    // component without lifecycle is a usage error.
    sim()
        .args(["bench", "sink", "--config", "{\"count\": 0}"])
        .assert()
        .code(5)
        .stderr(predicate::str::contains("failed on its init config"))
        .stderr(predicate::str::contains("count must be at least 1"));
    sim()
        .args(["bench", "passthrough", "--config", "{}"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("takes no init config"));
}

#[test]
fn bench_shows_what_the_guest_wrote_to_stderr_when_it_traps_on_an_element() {
    let dir = tempfile::tempdir().unwrap();
    // validator: `{` passes, `#` writes to stderr and traps, the rest is
    // refused with invalid-input.
    let records = write(
        dir.path(),
        "records.jsonl",
        "{\"payload\": {\"id\": 1}}\n{\"payload\": {\"id\": 22}}\n{\"payload\": \"not json\"}\n\
         {\"payload\": \"#comment\"}\n",
    );
    for keep_going in [false, true] {
        let mut cmd = sim();
        cmd.args(["bench", "validator", "--input", path_str(&records)])
            .args(["--elements", "7"]);
        if keep_going {
            cmd.arg("--keep-going");
        }
        let out = cmd.assert().code(5).get_output().clone();
        let stderr = String::from_utf8(out.stderr).unwrap();
        let lines: Vec<&str> = stderr.lines().collect();
        let first = if keep_going {
            // The refused element is counted; the trap still stops bench.
            format!(
                "error: `validator` failed on input 3 of 4 (line 4 of {}: \"#comment\") in the \
                 check pass, before anything was measured:",
                path_str(&records)
            )
        } else {
            format!(
                "error: `validator` failed on input 2 of 4 (line 3 of {}: \"not json\") in the \
                 check pass, before anything was measured:",
                path_str(&records)
            )
        };
        assert_eq!(lines[0], first, "{stderr}");
        if !keep_going {
            assert_eq!(
                lines[1],
                "  `process` answered process-error invalid-input: not a JSON object"
            );
            continue;
        }
        assert!(
            lines[1].starts_with("  `process` faulted: guest trapped (unreachable): wasm trap:"),
            "{stderr}"
        );
        assert_eq!(lines[2], "  wasm backtrace: 1 frame (-v shows it)");
        assert_eq!(
            lines[3..5],
            [
                "  guest error (stderr): validator: cannot handle #comment",
                "                        RuntimeError: unsupported record",
            ],
            "{stderr}"
        );
        assert!(
            lines[5].contains("--keep-going does not go past a fault"),
            "{stderr}"
        );
    }
    // Without the element that traps: measured, the refused one counted.
    let three = write(
        dir.path(),
        "three.jsonl",
        "{\"payload\": {\"id\": 1}}\n{\"payload\": {\"id\": 22}}\n{\"payload\": \"not json\"}\n",
    );
    let r = bench_json(
        sim(),
        &[
            "validator",
            "--input",
            path_str(&three),
            "--elements",
            "7",
            "--keep-going",
        ],
        "",
    );
    assert_eq!(r["engine"]["bytes"], cycled(&[9, 10, 8], 7), "{r}");
    assert_eq!(r["refused"][0]["index"], 2, "{r}");
    assert_eq!(
        r["refused"][0]["engine_calls"], 2,
        "calls 2 and 5 of 7: {r}"
    );
}

#[test]
fn bench_compiles_through_the_cache_and_reports_the_hit_apart() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let args = ["passthrough", "--payload", "16", "--elements", "7"];
    let first = bench_json(sim_cached(&cache), &args, "");
    assert_eq!(first["compile"]["tier"], "compiled");
    assert_eq!(first["compile"]["cache_hit"], false);
    assert_eq!(first["compile"]["cache_dir"], path_str(&cache));
    let second = bench_json(sim_cached(&cache), &args, "");
    assert_eq!(second["compile"]["tier"], "disk");
    assert_eq!(second["compile"]["cache_hit"], true);
    // The table says it on the compile line.
    sim_cached(&cache)
        .args(["bench"])
        .args(args)
        .assert()
        .success()
        .stdout(predicate::str::contains("\n  compile   "))
        .stdout(predicate::str::contains(format!(
            ": cache hit (disk tier of {})",
            cache.display()
        )));
}

#[test]
fn bench_runs_a_wasi_importing_component() {
    let out = sim()
        .args([
            "bench",
            "wasi-hello",
            "--payload",
            "64",
            "--elements",
            "200",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let figure = |label: &str| -> f64 {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .and_then(|r| r.split_whitespace().next())
            .and_then(|r| r.parse().ok())
            .unwrap_or_else(|| panic!("no {label} figure in {text}"))
    };
    for label in ["engine", "baseline", "ratio"] {
        let v = figure(label);
        assert!(v > 0.0 && v.is_finite(), "{label} {v} in {text}");
    }
}

#[test]
fn verbose_logs_calls_and_faults_to_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.txt", "a\nb\n");
    // -vv: every call's span closes with its fields.
    let out = sim()
        .args(["-vv", "run", "uppercase", "--input", path_str(&input)])
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("torvyn.invoke"), "{stderr}");
    assert!(stderr.contains("function=\"process\""), "{stderr}");
    assert!(stderr.contains("outcome=\"ok\""), "{stderr}");
    assert!(stderr.contains("operation=\"compile\""), "{stderr}");
    // stdout is the same with and without logging (but for wall time).
    let quiet = sim()
        .args(["run", "uppercase", "--input", path_str(&input)])
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let steady = |out: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(out)
            .lines()
            .filter(|l| !l.starts_with("wall time"))
            .map(String::from)
            .collect()
    };
    assert_eq!(steady(&out.stdout), steady(&quiet.stdout));
    assert!(quiet.stderr.is_empty(), "no -v, no log");

    // RUST_LOG alone turns it on; a fault is logged as an event.
    let out = sim()
        .args(["run", "trap", "--input", path_str(&input)])
        .env("RUST_LOG", "torvyn_engine=warn")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("guest call faulted"), "{stderr}");
    assert!(
        !stderr.contains("torvyn.invoke{"),
        "warn level: no spans: {stderr}"
    );
}

#[test]
fn completions_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef torvyn-sim"),
        ("fish", "complete -c torvyn-sim"),
    ] {
        let out = sim().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.contains(marker), "{shell}: {script}");
        for sub in ["run", "pipeline", "inspect", "check", "demo", "bench"] {
            assert!(script.contains(sub), "{shell} completes {sub}");
        }
    }
    sim()
        .args(["completions", "tcsh"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("possible values"));
}

#[test]
fn the_mock_backend_runs_fixtures_by_name_from_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "words.txt", "hello\nworld\n");
    // run: the fixture's model, and the same outputs as Wasmtime.
    let mut outs = Vec::new();
    for backend in ["mock", "wasmtime"] {
        let out = sim()
            .args(["run", "uppercase", "--backend", backend, "-f", "json"])
            .args(["--input", path_str(&input)])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let t = json(&out);
        assert_eq!(t["backend"], backend);
        outs.push(emitted(&t));
    }
    assert_eq!(outs[0], ["HELLO", "WORLD"]);
    assert_eq!(outs[0], outs[1]);
    sim()
        .args(["run", "passthrough", "--backend", "mock"])
        .args(["--input", path_str(&input)])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "(seed 1880579821, mock, virtual clock)",
        ));

    // A fixture without a model, or a WebAssembly file: an input error
    // that says what the mock runs and how to run this one.
    sim()
        .args(["run", "trap", "--backend", "mock"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("no model of `trap`"))
        .stderr(predicate::str::contains("--backend wasmtime"));

    // pipeline, on the mock's models.
    let out = sim()
        .args(["pipeline", "counter-source", "uppercase", "sink"])
        .args(["--backend", "mock", "--format", "json"])
        .args(["--config", "counter-source={\"count\": 4}"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let t = json(&out);
    assert_eq!(t["backend"], "mock");
    assert_eq!(t["summary"]["elements_delivered"], 4);

    // check: a scripted scenario, written and then checked, on the mock.
    let snap = dir.path().join("flaky.yaml");
    let scenario = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/scenarios/mock-flaky-processor.yaml"
    );
    sim()
        .args(["check", scenario, "--snapshot", path_str(&snap), "--update"])
        .assert()
        .success();
    sim()
        .args(["check", scenario, "--snapshot", path_str(&snap)])
        .assert()
        .success();
    // The same file forced onto Wasmtime is refused: scripted components
    // run only on the mock.
    sim()
        .args(["check", scenario, "--snapshot", path_str(&snap)])
        .args(["--backend", "wasmtime"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("only the mock backend runs it"));

    // bench: the mock against the engine.
    let out = sim()
        .args(["bench", "passthrough", "--backend", "mock"])
        .args(["--payload", "64", "--elements", "300"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("mock") && text.contains("(mock / engine)"),
        "{text}"
    );
}

#[test]
fn run_and_pipeline_read_an_init_config_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(dir.path(), "count.json", "{\"count\": 2}\n");
    let arg = format!("@{}", path_str(&config));
    // counter-source counts to the config's count: 2 pulls emit.
    let t = ok_json(&["run", "counter-source", "--config", &arg], "");
    assert_eq!(t["entries"][0]["call"], "init");
    assert_eq!(t["entries"][0]["argument"], "{\"count\": 2}\n");
    assert_eq!(emitted(&t), ["0", "1"]);
    let stage = format!("counter-source=@{}", path_str(&config));
    let p = ok_json(
        &["pipeline", "counter-source", "sink", "--config", &stage],
        "",
    );
    assert_eq!(p["entries"][0]["argument"], "{\"count\": 2}\n", "{p}");
    assert_eq!(p["summary"]["elements_delivered"], 2, "{p}");
    sim()
        .args(["run", "counter-source", "--config", "@/no/such/count.json"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "cannot read the config file /no/such/count.json",
        ));
}

#[test]
fn init_runs_without_a_config_and_a_failed_init_or_fatal_stops_the_component() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "words.txt", "a\nb\n");
    // No --config: init("") still runs; the lifecycle fixture refuses it,
    // so neither element is sent, and the table says why.
    sim()
        .args(["run", "lifecycle", "--input", path_str(&input)])
        .assert()
        .success()
        .stdout(predicate::str::contains("init"))
        .stdout(predicate::str::contains(
            "stopped       init failed (process-error invalid-input: config is not a JSON object)",
        ))
        .stdout(predicate::str::contains("2 elements not sent"));
    // A source whose init fails is never pulled.
    let out = sim()
        .args([
            "run",
            "counter-source",
            "--config",
            "no count",
            "-f",
            "json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let t = json(&out);
    let calls: Vec<&str> = t["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["call"].as_str().unwrap())
        .collect();
    assert_eq!(calls, ["init", "teardown"]);
    assert!(
        t["summary"]["stopped"]
            .as_str()
            .unwrap()
            .contains("init failed")
    );
    assert!(
        t["summary"].get("elements_skipped").is_none(),
        "a source skips none"
    );
}

#[test]
fn filters_aggregators_and_grants_from_the_command_line() {
    // The token-streaming example as middle stages: each role is read from
    // the stage's exports.
    let t = ok_json(
        &[
            "pipeline",
            "token-source",
            "token-filter",
            "sentence-aggregator",
            "sink",
        ],
        "",
    );
    let roles: Vec<&str> = t["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["source", "filter", "aggregator", "sink"]);
    assert_eq!(t["summary"]["elements_delivered"], 3);
    assert_eq!(t["summary"]["elements_flushed"], 1);

    // `run` drives a filter with evaluate, an aggregator with ingest + flush.
    sim()
        .args(["run", "token-filter", "--input", "-"])
        .write_stdin("fine\ndarn it\n")
        .assert()
        .success()
        .stdout(predicate::str::contains("pass"))
        .stdout(predicate::str::contains("reject"));
    sim()
        .args(["run", "sentence-aggregator", "--input", "-"])
        .write_stdin("so\nlong\n")
        .assert()
        .success()
        .stdout(predicate::str::contains("absorbed"))
        .stdout(predicate::str::contains("flushed [\"so long\"]"));

    // --grant: the probe answers from what was granted.
    let probe = ["run", "capability-probe", "--input", "-"];
    let t = ok_json(
        &[&probe[..], &["--grant", "wasi-random"]].concat(),
        "wasi-random\nwasi-network-egress\n",
    );
    assert_eq!(emitted(&t), ["granted", "denied"]);
    assert_eq!(t["grants"][0], "wasi-random");
    assert_eq!(emitted(&ok_json(&probe, "wasi-random\n")), ["denied"]);

    // Per stage in pipelines; an unknown stage is a usage error.
    sim()
        .args([
            "pipeline",
            "counter-source",
            "capability-probe",
            "sink",
            "--grant",
            "nope=wasi-random",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--grant names stage `nope`"));

    // inspect: the unversioned spelling satisfies the extension world.
    sim()
        .args(["inspect", "token-filter"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "content-filter (torvyn:filtering/content-filter@0.1.0)",
        ))
        .stdout(predicate::str::contains("  torvyn:streaming/types\n"))
        .stdout(predicate::str::contains("roles         lifecycle, filter"));

    // A router needs its ports mapped: the command line says to use --file.
    sim()
        .args(["pipeline", "token-source", "router", "sink"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("no `ports:`"));
}

/// The cache entry files in `dir`.
fn entries(dir: &Path) -> Vec<PathBuf> {
    let Ok(items) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<_> = items
        .map(|i| i.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "twcc"))
        .collect();
    v.sort();
    v
}

/// `-v run uppercase` with the cache in `cache`: stdout without wall
/// time, and stderr.
fn run_uppercase_verbose(cache: &Path, input: &Path) -> (String, String) {
    let out = sim_cached(cache)
        .args(["-v", "run", "uppercase", "--input", path_str(input)])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with("wall time"))
        .collect::<Vec<_>>()
        .join("\n");
    (stdout, stderr)
}

/// The tiers the `torvyn.cache` spans of a `-v` stderr name, in order.
fn tiers(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains("torvyn.cache{"))
        .filter_map(|l| l.split("tier=").nth(1))
        .map(|t| t.split(['}', ' ']).next().unwrap().trim_matches('"'))
        .collect()
}

fn cache_stats(cache: &Path) -> serde_json::Value {
    let out = sim_cached(cache)
        .args(["cache", "stats", "--format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    json(&out)
}

#[test]
fn the_second_command_loads_the_component_from_the_disk_cache() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let input = write(dir.path(), "in.txt", "a\nb\n");

    let (first, stderr) = run_uppercase_verbose(&cache, &input);
    assert_eq!(tiers(&stderr), ["compiled"], "{stderr}");
    assert_eq!(entries(&cache).len(), 1, "one entry written");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "the cache directory is created private");
    }

    let (second, stderr) = run_uppercase_verbose(&cache, &input);
    assert_eq!(tiers(&stderr), ["disk"], "{stderr}");
    assert_eq!(first, second, "the cached component runs the same");

    // Other commands share it: inspect and a pipeline find uppercase there.
    let out = sim_cached(&cache)
        .args(["-v", "inspect", "uppercase"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(tiers(&String::from_utf8_lossy(&out.stderr)), ["disk"]);
    let out = sim_cached(&cache)
        .args(["-v", "pipeline", "counter-source", "uppercase", "sink"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        tiers(&String::from_utf8_lossy(&out.stderr)),
        ["compiled", "disk", "compiled"],
        "uppercase from the disk, the others compiled"
    );

    let stats = cache_stats(&cache);
    assert_eq!(stats["directory"], path_str(&cache));
    assert_eq!(stats["exists"], true);
    assert_eq!(stats["entries"], 3);
    let on_disk: u64 = entries(&cache)
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    assert_eq!(stats["bytes"], on_disk);
    assert_eq!(stats["limit"], 1u64 << 30, "the default bound");
    // Three compiles (uppercase, then counter-source and sink) and three
    // disk hits (run, inspect, the pipeline's uppercase), counted across
    // the commands; Cranelift stored their functions beside them.
    assert_eq!(stats["counters"]["compiles"], 3, "{stats}");
    assert_eq!(stats["counters"]["disk_hits"], 3, "{stats}");
    assert!(
        stats["incremental"]["packs"].as_u64().unwrap() >= 1,
        "{stats}"
    );
    assert!(stats["counters"]["incremental_misses"].as_u64().unwrap() > 0);
    assert_eq!(
        stats["total_bytes"],
        on_disk + stats["incremental"]["bytes"].as_u64().unwrap()
    );
    sim_cached(&cache)
        .args(["cache", "stats"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "directory    {}",
            cache.display()
        )))
        .stdout(predicate::str::contains(
            "of 1.0 GiB (1073741824 bytes) (limit)",
        ))
        .stdout(predicate::str::contains("compiled     3 entries"))
        .stdout(predicate::str::contains(
            "compiled     3 disk hits, 3 compiles",
        ));
}

#[test]
fn the_cache_max_size_bound_evicts_and_cache_stats_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let input = write(dir.path(), "in.txt", "a\n");
    let run = |component: &str| {
        sim_cached(&cache)
            .args(["--cache-max-size", "1KiB", "run", component])
            .args(["--input", path_str(&input)])
            .assert()
            .success();
    };
    run("uppercase");
    run("passthrough");
    // 1 KiB holds nothing whole: each write keeps only the file written.
    let stats = json(
        &sim_cached(&cache)
            .args([
                "--cache-max-size",
                "1KiB",
                "cache",
                "stats",
                "--format",
                "json",
            ])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(stats["limit"], 1024);
    assert_eq!(stats["entries"], 1, "{stats}");
    assert_eq!(stats["incremental"]["packs"], 0, "{stats}");
    assert_eq!(stats["counters"]["compiles"], 2, "{stats}");
    assert!(
        stats["counters"]["evicted_entries"].as_u64().unwrap() >= 1
            && stats["counters"]["evicted_packs"].as_u64().unwrap() >= 1,
        "{stats}"
    );
    // The component left runs from its entry.
    let (_, stderr) = {
        let out = sim_cached(&cache)
            .args(["-v", "--cache-max-size", "1KiB", "run", "passthrough"])
            .args(["--input", path_str(&input)])
            .output()
            .unwrap();
        assert!(out.status.success());
        ((), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    assert_eq!(tiers(&stderr), ["disk"], "{stderr}");

    for bad in ["0", "12 parsecs", "-1"] {
        sim_cached(&cache)
            .arg(format!("--cache-max-size={bad}"))
            .args(["cache", "stats"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--cache-max-size"));
    }
    sim_bare_in(dir.path())
        .args(["--no-cache", "--cache-max-size", "1GiB", "cache", "stats"])
        .assert()
        .code(2);
}

#[test]
fn the_default_cache_is_under_xdg_cache_home_else_home_and_no_cache_writes_nothing() {
    let home = tempfile::tempdir().unwrap();
    let input = write(home.path(), "in.txt", "a\n");
    let run = |cmd: &mut Command| {
        cmd.args(["run", "uppercase", "--input", path_str(&input)])
            .assert()
            .success();
    };

    run(sim_bare_in(home.path()).arg("--no-cache"));
    assert!(
        !home.path().join(".cache").exists(),
        "--no-cache creates no directory"
    );

    run(&mut sim_bare_in(home.path()));
    assert_eq!(entries(&home.path().join(".cache/torvyn")).len(), 1);

    let xdg = home.path().join("xdg");
    run(sim_bare_in(home.path()).env("XDG_CACHE_HOME", &xdg));
    assert_eq!(entries(&xdg.join("torvyn")).len(), 1);

    sim_bare_in(home.path())
        .args(["--no-cache", "cache", "stats"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("drop --no-cache"));
}

#[test]
fn cache_clear_empties_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let input = write(dir.path(), "in.txt", "a\n");
    run_uppercase_verbose(&cache, &input);
    let other = write(&cache, "notes.txt", "not an entry");
    assert_eq!(entries(&cache).len(), 1);

    sim_cached(&cache)
        .args(["cache", "clear"])
        .assert()
        .success()
        .stdout(predicate::str::contains("removed 1 entries"));
    assert!(entries(&cache).is_empty());
    assert!(other.exists(), "files the cache did not write are kept");
    let stats = cache_stats(&cache);
    assert_eq!(stats["entries"], 0);
    assert_eq!(stats["incremental"]["packs"], 0, "{stats}");
    assert_eq!(
        stats["counters"]["compiles"], 0,
        "the counters are reset: {stats}"
    );
    let (_, stderr) = run_uppercase_verbose(&cache, &input);
    assert_eq!(tiers(&stderr), ["compiled"], "{stderr}");

    // A directory not created yet: nothing to clear, nothing created.
    let missing = dir.path().join("missing");
    sim_cached(&missing)
        .args(["cache", "clear"])
        .assert()
        .success()
        .stdout(predicate::str::contains("removed 0 entries"));
    assert_eq!(cache_stats(&missing)["exists"], false);
    assert!(!missing.exists());
}

#[cfg(unix)]
#[test]
fn an_unsafe_cache_directory_is_refused_naming_it_and_the_fix() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("open");
    std::fs::create_dir(&cache).unwrap();
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
    sim_cached(&cache)
        .args(["run", "uppercase"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains(path_str(&cache)))
        .stderr(predicate::str::contains("writable by every user"))
        .stderr(predicate::str::contains("chmod go-w"));
    assert!(entries(&cache).is_empty());

    let file = write(dir.path(), "a-file", "x");
    sim_cached(&file)
        .args(["inspect", "uppercase"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains(path_str(&file)))
        .stderr(predicate::str::contains("is not a directory"));

    // The mock backend compiles nothing, so it does not care.
    sim_cached(&cache)
        .args(["run", "uppercase", "--backend", "mock"])
        .assert()
        .success();
}

#[test]
fn a_corrupted_entry_is_rejected_and_the_component_compiled_again() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let input = write(dir.path(), "in.txt", "a\nb\n");
    let (first, _) = run_uppercase_verbose(&cache, &input);
    let [entry] = &entries(&cache)[..] else {
        panic!("one entry expected in {}", cache.display())
    };
    let mut bytes = std::fs::read(entry).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    std::fs::write(entry, &bytes).unwrap();

    let (second, stderr) = run_uppercase_verbose(&cache, &input);
    assert!(
        stderr.contains("rejected a compiled-component cache entry")
            && stderr.contains("digest-mismatch"),
        "{stderr}"
    );
    assert_eq!(tiers(&stderr), ["compiled"], "{stderr}");
    assert_eq!(first, second);
    // The entry was written again, sound: the next run loads it.
    let (_, stderr) = run_uppercase_verbose(&cache, &input);
    assert_eq!(tiers(&stderr), ["disk"], "{stderr}");
}

/// The first `process` entry of a transcript.
fn first_process(t: &serde_json::Value) -> &serde_json::Value {
    t["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["call"] == "process")
        .unwrap_or_else(|| panic!("no process call in {t}"))
}

/// `torvyn-sim run ARGS...` with `stdin`, its stdout as text.
fn run_out(args: &[&str], stdin: &str) -> String {
    let out = sim()
        .arg("run")
        .args(args)
        .write_stdin(stdin)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap()
}

#[test]
fn preview_bytes_shows_whole_payloads_in_every_format() {
    let long: String = (0..200)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let line = format!("{long}\n");
    let cut = &long[..64];
    let base = ["passthrough", "--input", "-"];

    // The default cut is 64 bytes, in every format.
    let table = run_out(&base, &line);
    assert!(table.contains(&format!("{cut:?}…(200 bytes)")), "{table}");
    assert!(!table.contains(&long), "{table}");
    let yaml = run_out(&[&base[..], &["--format", "yaml"]].concat(), &line);
    assert!(
        yaml.contains("truncated: true") && !yaml.contains(&long),
        "{yaml}"
    );
    let t = json(run_out(&[&base[..], &["--format", "json"]].concat(), &line).as_bytes());
    assert_eq!(emitted(&t), [cut]);
    assert_eq!(first_process(&t)["input"]["payload"]["truncated"], true);

    // --preview-bytes 0: every byte, input and output.
    let whole = [&base[..], &["--preview-bytes", "0"]].concat();
    let table = run_out(&whole, &line);
    assert!(table.contains(&format!("seq=0 {long:?}")), "{table}");
    assert!(table.contains(&format!("emit {long:?}")), "{table}");
    assert!(!table.contains("(200 bytes)"), "{table}");
    let yaml = run_out(&[&whole[..], &["--format", "yaml"]].concat(), &line);
    assert!(
        yaml.matches(&long).count() == 2 && !yaml.contains("truncated"),
        "{yaml}"
    );
    let t = json(run_out(&[&whole[..], &["--format", "json"]].concat(), &line).as_bytes());
    assert_eq!(emitted(&t), [long.as_str()]);
    assert_eq!(first_process(&t)["input"]["payload"]["text"], long.as_str());
    assert!(first_process(&t)["outcome"]["emit"]["payload"]["truncated"].is_null());

    // Any other N cuts there.
    let t = json(
        run_out(
            &[&base[..], &["--preview-bytes", "5", "-f", "json"]].concat(),
            &line,
        )
        .as_bytes(),
    );
    assert_eq!(emitted(&t), ["abcde"]);
}

#[test]
fn preview_bytes_shows_a_whole_line_of_guest_stdout() {
    let long = "y".repeat(150);
    let line = format!("{long}\n");
    let base = ["wasi-hello", "--input", "-", "--format", "json"];
    let t = json(run_out(&base, &line).as_bytes());
    let stdout = &first_process(&t)["stdout"];
    assert_eq!(
        (stdout["len"].as_u64(), stdout["truncated"].as_bool()),
        (Some(151), Some(true))
    );
    assert_eq!(stdout["text"].as_str().map(str::len), Some(64));

    let t = json(run_out(&[&base[..], &["--preview-bytes", "0"]].concat(), &line).as_bytes());
    let stdout = &first_process(&t)["stdout"];
    assert_eq!(stdout["text"].as_str(), Some(line.as_str()));
    assert!(stdout["truncated"].is_null(), "{stdout}");
    let table = run_out(
        &["wasi-hello", "--input", "-", "--preview-bytes", "0"],
        &line,
    );
    assert!(table.contains(&format!("stdout: {line:?}")), "{table}");
}

#[test]
fn preview_bytes_applies_to_pipelines_and_the_demo() {
    let out = sim()
        .args(["demo", "--preview-bytes", "3", "--format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let t = json(&out);
    let texts: Vec<&str> = t["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["outcome"]["emit"]["payload"]["text"].as_str())
        .collect();
    assert!(
        !texts.is_empty() && texts.iter().all(|s| s.len() <= 3),
        "{texts:?}"
    );
    let out = sim()
        .args([
            "pipeline",
            "counter-source",
            "passthrough",
            "sink",
            "--preview-bytes",
            "1",
        ])
        .args(["--config", "counter-source={\"count\": 12}"])
        .args(["--format", "yaml"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let yaml = String::from_utf8(out).unwrap();
    assert!(yaml.contains("truncated: true"), "{yaml}");
}

#[test]
fn a_json_payload_arrives_byte_for_byte() {
    let payload = r#"{"zeta": 1,  "alpha" :[3, 1,2],"mid": {"b": true , "a": null}}"#;
    let line = format!("{{\"payload\":   {payload} }}\n");
    let t = json(
        run_out(
            &[
                "passthrough",
                "--input",
                "-",
                "--format",
                "json",
                "--preview-bytes",
                "0",
            ],
            &line,
        )
        .as_bytes(),
    );
    assert_eq!(emitted(&t), [payload]);
    assert_eq!(
        first_process(&t)["outcome"]["emit"]["content_type"],
        "application/json"
    );
}

#[test]
fn imports_the_engine_lacks_are_stubbed_by_default_and_refused_on_request() {
    // Linked to a stub: an element that does not reach the import passes,
    // the one that calls it faults naming the function.
    let t = ok_json(&["run", "unlinked-import", "--input", "-"], "even\nodd\n");
    assert_eq!(emitted(&t), ["even"]);
    let faults: Vec<&str> = t["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["outcome"]["fault"]["message"].as_str())
        .collect();
    assert!(
        faults
            .first()
            .is_some_and(|m| m.contains("acme:nope/thing@1.0.0#poke")),
        "{faults:?}"
    );
    // inspect lists the stub, in the table and in JSON.
    sim()
        .args(["inspect", "unlinked-import"])
        .assert()
        .success()
        .stdout(predicate::str::contains("stubbed imports"))
        .stdout(predicate::str::contains("acme:nope/thing@1.0.0"));
    let t = ok_json(&["inspect", "unlinked-import"], "");
    assert_eq!(t["stubbed_imports"][0], "acme:nope/thing@1.0.0");
    // Refused: the message names the import and the flag, not a world.
    sim()
        .args([
            "run",
            "unlinked-import",
            "--refuse-unknown-imports",
            "--input",
            "-",
        ])
        .write_stdin("even\n")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("acme:nope/thing@1.0.0"))
        .stderr(predicate::str::contains("--refuse-unknown-imports"));
}

#[test]
fn run_fail_host_call_all_sweeps_the_host_calls_with_a_row_per_case() {
    let out = sim()
        .args([
            "run",
            "uppercase",
            "--input",
            "-",
            "--fail-host-call",
            "all",
        ])
        .write_stdin("hello\nWorld\n")
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains("12 host calls, 12 cases"), "{text}");
    assert!(text.contains("buffer-allocator.allocate"), "{text}");
    assert!(text.contains("allocation-failed"), "{text}");
    assert!(text.contains("12 of 12 cases ended cleanly"), "{text}");

    // The same sweep as JSON: one case per host call, each naming the host
    // call it failed (`failed_host_call`) and what it hit.
    let sweep = ok_json(
        &[
            "run",
            "uppercase",
            "--input",
            "-",
            "--fail-host-call",
            "all",
        ],
        "hello\nWorld\n",
    );
    let cases = sweep["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 12);
    for (k, case) in cases.iter().enumerate() {
        assert_eq!(case["failed_host_call"], k as u64);
        assert!(case["problems"].is_null(), "{case}");
    }
    assert_eq!(cases[1]["function"], "buffer-allocator.allocate");
    assert_eq!(cases[1]["answer"], "allocation-failed");
    assert_eq!(cases[0]["answer"], "trap");
    assert_eq!(sweep["clean"], true);
}

/// Each case of a sweep says how the guest took its failure, and
/// `--require-handled` fails (exit 1) a sweep where the guest trapped on
/// an error the contract lets it handle, naming the host calls.
#[test]
fn run_require_handled_fails_a_sweep_where_the_guest_traps_on_an_error_it_may_handle() {
    let sweep_args = |component: &'static str| {
        [
            "run",
            component,
            "--input",
            "-",
            "--fail-host-call",
            "all",
            "--sweep-limit",
            "3",
        ]
    };
    // buffer-hog executes `unreachable` when allocate answers an error.
    let out = sim()
        .args(sweep_args("buffer-hog"))
        .write_stdin("a\n")
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains("trapped"), "{text}");
    assert!(
        text.contains(
            "the guest handled 0 of 3 failures the contract lets it handle; it trapped on \
             `buffer-allocator.allocate` (allocation-failed; host calls 0, 1, 2)"
        ),
        "{text}"
    );
    assert!(text.contains("--require-handled"), "{text}");

    let out = sim()
        .args(sweep_args("buffer-hog"))
        .arg("--require-handled")
        .write_stdin("a\n")
        .assert()
        .code(1);
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains("0 of 3 cases ended cleanly"), "{text}");
    assert!(
        text.contains("trapped on allocation-failed, which the guest may handle"),
        "{text}"
    );
    assert!(text.contains("the sweep fails on these cases"), "{text}");

    // As JSON: each case's `handling`, and stderr names the cases.
    let out = sim()
        .args(sweep_args("buffer-hog"))
        .args(["--require-handled", "--format", "json"])
        .write_stdin("a\n")
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "host call 2 (buffer-allocator.allocate): trapped on allocation-failed",
        ))
        .stderr(predicate::str::contains(
            "3 of 3 sweep cases did not end cleanly",
        ));
    let sweep = json(&out.get_output().stdout);
    assert_eq!(sweep["require_handled"], true);
    assert_eq!(sweep["clean"], false);
    assert_eq!(sweep["cases"][0]["handling"], "trapped");

    // uppercase answers a process-error on both errors it may handle, so
    // the flag passes it; a host call without an error case is not its to
    // handle.
    let sweep = ok_json(
        &[
            "run",
            "uppercase",
            "--input",
            "-",
            "--fail-host-call",
            "all",
            "--require-handled",
        ],
        "hello\nWorld\n",
    );
    assert_eq!(sweep["clean"], true);
    let handling: Vec<&str> = sweep["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["handling"].as_str().unwrap())
        .collect();
    assert_eq!(&handling[..3], ["no-error-case", "handled", "handled"]);
    assert!(!handling.contains(&"trapped"), "{handling:?}");
    sim()
        .args([
            "run",
            "uppercase",
            "--input",
            "-",
            "--fail-host-call",
            "all",
        ])
        .arg("--require-handled")
        .write_stdin("hello\nWorld\n")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "the guest handled 4 of 4 failures the contract lets it handle\n",
        ));

    // Only a sweep has cases to require it of.
    sim()
        .args(["run", "uppercase", "--input", "-", "--fail-host-call", "3"])
        .arg("--require-handled")
        .write_stdin("a\n")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--require-handled applies to a sweep (--fail-host-call all)",
        ));
    sim()
        .args(["run", "uppercase", "--input", "-", "--require-handled"])
        .write_stdin("a\n")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--fail-host-call"));
}

#[test]
fn run_fail_host_call_k_marks_the_call_it_failed() {
    let t = ok_json(
        &["run", "uppercase", "--input", "-", "--fail-host-call", "7"],
        "hello\nWorld\n",
    );
    let entries = t["entries"].as_array().unwrap();
    assert!(entries[0]["failed_host_call"].is_null());
    let failed = &entries[1]["failed_host_call"];
    assert_eq!(failed["index"], 7);
    assert_eq!(failed["in_call"], 1);
    assert_eq!(failed["function"], "buffer-allocator.allocate");
    assert_eq!(entries[1]["outcome"]["process-error"]["kind"], "internal");
    sim()
        .args(["run", "uppercase", "--fail-host-call", "sometimes"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("every-call:K"));
}

#[test]
fn bench_on_the_mock_prints_the_mock_beside_the_engine_and_their_ratio() {
    let out = sim()
        .args(["bench", "uppercase", "--backend", "mock"])
        .args(["--payload", "64", "--elements", "210"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(
        lines[0].starts_with("process `uppercase`: 210 elements of 64 B in 7 rounds"),
        "{text}"
    );
    // Each row: its name, a figure, `ns/element`; the ratio is mock / engine.
    let figure = |line: &str, name: &str| -> f64 {
        let rest = line
            .trim_start()
            .strip_prefix(name)
            .unwrap_or_else(|| panic!("expected a `{name}` row, got {line:?} in\n{text}"));
        rest.split_whitespace().next().unwrap().parse().unwrap()
    };
    let engine = figure(lines[1], "engine");
    let mock = figure(lines[2], "mock");
    assert!(lines[1].ends_with("ns/element") && lines[2].ends_with("ns/element"));
    assert!(lines[3].ends_with("(mock / engine)"), "{text}");
    assert!(
        lines[4].starts_with("  compile   ") && lines[4].contains("the mock built its model"),
        "{text}"
    );
    let ratio = figure(lines[3], "ratio");
    assert!(engine > 0.0 && mock > 0.0);
    assert!(
        (ratio - mock / engine).abs() <= 0.001 + ratio * 0.001,
        "ratio {ratio} is mock {mock} / engine {engine} up to rounding"
    );

    // A component without a mock model is refused before anything runs,
    // with the models there are and what to run instead.
    for component in ["trap", "fixtures/components/passthrough.wat"] {
        sim()
            .args(["bench", component, "--backend", "mock"])
            .assert()
            .code(3)
            .stderr(predicate::str::contains(format!(
                "`{component}` has no mock model"
            )))
            .stderr(predicate::str::contains("passthrough, uppercase"))
            .stderr(predicate::str::contains("leave out `--backend mock`"));
    }
}

/// Where `fixtures/guests/build.sh` put the real-toolchain guests
/// (`$TORVYN_GUESTS`, default `target/guests`).
fn guests_dir() -> PathBuf {
    match std::env::var_os("TORVYN_GUESTS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/guests"),
    }
}

/// The guest `name` (`py-router`), or `None` (with the reason printed)
/// when it is not built and this is not CI; in CI a missing guest fails.
fn guest(name: &str) -> Option<PathBuf> {
    let path = guests_dir().join(format!("{name}.wasm"));
    if path.is_file() {
        return Some(path);
    }
    let why = format!(
        "{} is not built: run fixtures/guests/build.sh (needs python3 and the network the \
         first time)",
        path.display()
    );
    assert!(std::env::var_os("CI").is_none(), "{why}");
    eprintln!("skipped: {why}");
    None
}

/// `torvyn-sim` caching compiled guests where the guest tests do (one
/// compile of a 30 MB guest for every test and run).
fn sim_guests() -> Command {
    sim_cached(&guests_dir().join("compiled"))
}

#[test]
fn a_python_exception_is_shown_first_and_the_backtrace_only_with_v() {
    let Some(router) = guest("py-router") else {
        return;
    };
    // `ports` must be a list: `[str(p) for p in 5]` raises TypeError in
    // init, uncaught, and CPython prints its traceback to stderr.
    let args = [
        "run",
        path_str(&router),
        "--config",
        "{\"ports\": 5}",
        "--input",
        "-",
    ];
    let out = sim_guests()
        .args(args)
        .write_stdin("a\n")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let table = String::from_utf8(out).unwrap();
    let init: Vec<&str> = table
        .lines()
        .skip_while(|l| !l.starts_with("0  init"))
        .skip(1)
        .take_while(|l| l.starts_with("      "))
        .map(str::trim)
        .collect();
    assert_eq!(
        init[..2],
        [
            "guest error (stderr): File \"/0/app.py\", line 32, in init",
            "TypeError: 'int' object is not iterable",
        ],
        "the exception comes first:\n{table}"
    );
    assert!(
        init[2].starts_with("guest trapped (unreachable): wasm trap:"),
        "{table}"
    );
    assert!(
        init.iter()
            .any(|l| l.starts_with("wasm backtrace: ") && l.ends_with("frames (-v shows it)")),
        "{table}"
    );
    assert!(
        init.iter().any(|l| l.starts_with("stderr: \"Traceback")
            && l.ends_with(" bytes; --preview-bytes 0 shows all)")),
        "{table}"
    );
    assert!(!table.contains("libc.so!abort"), "{table}");

    let verbose = sim_guests()
        .arg("-v")
        .args(args)
        .write_stdin("a\n")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let verbose = String::from_utf8(verbose).unwrap();
    assert!(verbose.contains("libc.so!abort"), "{verbose}");
    assert!(
        verbose.contains("TypeError: 'int' object is not iterable"),
        "{verbose}"
    );
    assert!(!verbose.contains("-v shows it"), "{verbose}");

    // The whole stderr with --preview-bytes 0, as the hint says; JSON has
    // the guest's error too.
    let t = ok_json_with(
        sim_guests(),
        &[&args[..], &["--preview-bytes", "0"]].concat(),
        "a\n",
    );
    let init = &t["entries"][0];
    let stderr = init["stderr"]["text"].as_str().unwrap();
    assert!(
        stderr.starts_with("Traceback (most recent call last):\n"),
        "{stderr}"
    );
    assert!(
        stderr.contains("TypeError: 'int' object is not iterable\n"),
        "{stderr}"
    );
    assert_eq!(
        init["stderr_error"],
        "File \"/0/app.py\", line 32, in init\nTypeError: 'int' object is not iterable"
    );
}

#[test]
fn bench_measures_a_python_guest_on_the_given_elements_and_loads_it_from_the_cache() {
    let Some(upper) = guest("py-uppercase") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let words = write(dir.path(), "words.txt", "hello\nhello world\nabc\n");
    let args = [
        path_str(&upper),
        "--input",
        path_str(&words),
        "--elements",
        "7",
    ];
    // The guests' cache: this bench compiles the guest or finds it there
    // (another test may have put it there), the next one loads it.
    let first = bench_json(sim_guests(), &args, "");
    for side in ["engine", "baseline"] {
        assert_eq!(first[side]["calls"], 7, "{first}");
        assert_eq!(first[side]["bytes"], cycled(&[5, 11, 3], 7), "{first}");
    }
    let second = bench_json(sim_guests(), &args, "");
    assert_eq!(second["compile"]["cache_hit"], true, "{second}");
    assert_ne!(second["compile"]["tier"], "compiled", "{second}");
    assert_eq!(second["compile"]["baseline_reused_engine_code"], true);
}

#[test]
fn bench_names_the_element_a_python_guest_refuses() {
    let Some(sink) = guest("py-sink") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let words = write(dir.path(), "words.txt", "a\nb\nstop\nc\n");
    // The sink answers fatal to the element its config names: bench stops
    // there even with --keep-going.
    sim_guests()
        .args(["bench", path_str(&sink), "--input", path_str(&words)])
        .args(["--config", "{\"fatal_on\": \"stop\"}", "--elements", "7"])
        .arg("--keep-going")
        .assert()
        .code(5)
        .stderr(predicate::str::contains(format!(
            "failed on input 2 of 4 (line 3 of {}: \"stop\") in the check pass",
            path_str(&words)
        )))
        .stderr(predicate::str::contains(
            "`push` answered process-error fatal: sink was told to stop at 'stop'",
        ))
        .stderr(predicate::str::contains("even with --keep-going"));
    // A config the sink refuses: its failure, in init.
    sim_guests()
        .args(["bench", path_str(&sink), "--input", path_str(&words)])
        .args(["--config", "[1]"])
        .assert()
        .code(5)
        .stderr(predicate::str::contains(
            "failed on its init config \"[1]\":\n  `init` answered process-error \
             invalid-input: config must be a JSON object",
        ))
        .stderr(predicate::str::contains("Fix the init config (--config)"));
}

/// The JSON transcript `cmd ARGS... --format json` prints; the command
/// must succeed.
fn ok_json_with(mut cmd: Command, args: &[&str], stdin: &str) -> serde_json::Value {
    let out = cmd
        .args(args)
        .args(["--format", "json"])
        .write_stdin(stdin)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    json(&out)
}

/// A file of the workspace (`fixtures/...`), by its absolute path.
fn workspace_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// The exit code and stderr of `torvyn-sim ARGS...` with `stdin`.
fn code_and_stderr(args: &[&str], stdin: &str) -> (i32, String) {
    let out = sim().args(args).write_stdin(stdin).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn fail_on_exits_5_for_the_failures_it_names_and_0_by_default() {
    // trap: `process` traps (no lifecycle). lifecycle: init("") answers
    // invalid-input. fatal-sink: `push` answers fatal.
    let cases: &[(&str, &[&str], i32)] = &[
        ("trap", &[], 0),
        ("trap", &["--fail-on", "faults"], 5),
        ("trap", &["--fail-on", "errors"], 0),
        ("trap", &["--fail-on", "init"], 0),
        ("trap", &["--fail-on", "any"], 5),
        ("lifecycle", &[], 0),
        ("lifecycle", &["--fail-on", "init"], 5),
        ("lifecycle", &["--fail-on", "errors"], 5),
        ("lifecycle", &["--fail-on", "faults"], 0),
        ("fatal-sink", &[], 0),
        ("fatal-sink", &["--fail-on", "errors"], 5),
        ("fatal-sink", &["--fail-on", "init,faults"], 0),
        (
            "fatal-sink",
            &["--fail-on", "init", "--fail-on", "errors"],
            5,
        ),
        ("uppercase", &["--fail-on", "any"], 0),
    ];
    for (component, fail_on, expected) in cases {
        let args = [&["run", component, "--input", "-"][..], fail_on].concat();
        let (code, stderr) = code_and_stderr(&args, "a\nb\n");
        assert_eq!(code, *expected, "{args:?}: {stderr}");
        if *expected == 0 {
            assert!(!stderr.contains("error:"), "{args:?}: {stderr}");
        } else {
            assert!(stderr.contains("error: --fail-on "), "{args:?}: {stderr}");
        }
    }
    let (_, stderr) = code_and_stderr(
        &["run", "trap", "--input", "-", "--fail-on", "faults"],
        "a\nb\n",
    );
    assert!(
        stderr.contains(
            "error: --fail-on faults: 2 calls failed so, the first #0 `process`: FAULT trap"
        ),
        "{stderr}"
    );
    // The table is printed all the same.
    sim()
        .args(["run", "trap", "--input", "-", "--fail-on", "any"])
        .write_stdin("a\n")
        .assert()
        .code(5)
        .stdout(predicate::str::contains("FAULT trap"));
}

#[test]
fn fail_on_applies_to_every_stage_of_a_pipeline_and_not_to_a_sweep() {
    let file = workspace_file("fixtures/pipelines/counter-trap-sink.yaml");
    let file = path_str(&file);
    let (code, stderr) = code_and_stderr(&["pipeline", "--file", file], "");
    assert_eq!(code, 0, "{stderr}");
    let (code, stderr) = code_and_stderr(
        &["pipeline", "--file", file, "--fail-on", "errors,faults"],
        "",
    );
    assert_eq!(code, 5, "{stderr}");
    assert!(stderr.contains("of stage trap: FAULT trap"), "{stderr}");
    let (code, stderr) = code_and_stderr(&["pipeline", "--file", file, "--fail-on", "init"], "");
    assert_eq!(code, 0, "{stderr}");
    let (code, stderr) = code_and_stderr(
        &[
            "pipeline",
            "counter-source",
            "uppercase",
            "sink",
            "--fail-on",
            "any",
        ],
        "",
    );
    assert_eq!(code, 0, "{stderr}");
    let (code, stderr) = code_and_stderr(
        &[
            "run",
            "uppercase",
            "--input",
            "-",
            "--fail-host-call",
            "all",
            "--fail-on",
            "any",
        ],
        "a\n",
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--fail-on does not apply to a sweep"),
        "{stderr}"
    );
    let (code, stderr) = code_and_stderr(&["run", "trap", "--fail-on", "traps"], "");
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn inspect_explains_the_exports_instance_of_a_componentize_py_guest() {
    let Some(upper) = guest("py-uppercase") else {
        return;
    };
    let out = sim_guests()
        .args(["inspect", path_str(&upper)])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let table = String::from_utf8(out).unwrap();
    assert!(
        table.contains(
            "  exports  (not a contract interface: componentize-py's build-time hook \
             (`init(app-name, symbols, stub-wasi)`)"
        ),
        "{table}"
    );
    assert!(
        table.contains("\n  torvyn:streaming/processor@0.1.0\n"),
        "a contract export has no note:\n{table}"
    );
    let t = ok_json_with(sim_guests(), &["inspect", path_str(&upper)], "");
    assert_eq!(t["export_notes"][0]["export"], "exports");
    assert_eq!(t["export_notes"].as_array().unwrap().len(), 1, "{t}");
}

#[test]
fn a_rebuilt_python_component_passes_check_and_a_changed_one_fails() {
    let (Some(upper), Some(refactored), Some(changed)) = (
        guest("py-uppercase"),
        guest("py-uppercase-refactored"),
        guest("py-uppercase-changed"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "upper.yaml",
        format!(
            "name: py-upper\ncomponent: {}\ninputs:\n  - payload: hello world\n  - payload: \"\"\n  \
             - payload: ünïcödé 123\n  - payload: MiXeD\n",
            path_str(&upper)
        ),
    );
    let snap = dir.path().join("upper.snap.yaml");
    let check = |extra: &[&str]| {
        let mut cmd = sim_guests();
        cmd.args(["check", path_str(&scenario), "--snapshot", path_str(&snap)])
            .args(extra);
        cmd
    };
    check(&["--update"]).assert().success();
    check(&[])
        .assert()
        .success()
        .stdout(predicate::str::contains("compared behaviour"));

    // The refactored build does the same with other code: its fuel moved
    // (else this test would prove nothing), and the check passes by
    // default, with the change reported.
    let out = check(&["--component", path_str(&refactored)])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    let fuel = out
        .lines()
        .find_map(|l| l.strip_prefix("fuel not compared: "))
        .unwrap_or_else(|| panic!("no fuel line: {out}"));
    let (before, after) = fuel
        .split_once(" units")
        .unwrap()
        .0
        .split_once(" → ")
        .unwrap();
    assert_ne!(before, after, "{out}");
    assert!(out.contains(" process "), "{out}");
    // Exactly, the same run differs in costs only.
    check(&["--component", path_str(&refactored), "--compare", "exact"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "only fuel and engine-clock times differ",
        ));

    // The changed build's output differs: the check fails with the diff.
    check(&["--component", path_str(&changed)])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("-        text: HELLO WORLD"))
        .stderr(predicate::str::contains("compared behaviour"));
}

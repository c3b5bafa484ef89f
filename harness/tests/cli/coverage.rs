//! Coverage of runs: `torvyn_harness::coverage` and `--coverage FILE` on
//! `run`, `pipeline` and `check`, asserted on the LCOV they write.

use std::path::Path;

use torvyn_engine::Coverage;
use torvyn_harness::coverage::{run_pipeline_covered, run_scenario_covered};
use torvyn_harness::pipeline::Pipeline;
use torvyn_harness::scenario::scenario_settings;
use torvyn_harness::scenario::{InputElement, Scenario};

use super::support::{path_str, sim, workspace_root};

fn filter_wat() -> String {
    std::fs::read_to_string(workspace_root().join("fixtures/components/filter.wat")).unwrap()
}

/// The 1-based line of `text` containing `needle` (exactly one must).
fn line_of(text: &str, needle: &str) -> u32 {
    let lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(lines.len(), 1, "`{needle}` is on lines {lines:?}");
    lines[0] as u32
}

/// The line of `filter.wat` only odd elements run (the drop branch), and
/// one only even elements run (cloning the payload).
fn branch_lines() -> (u32, u32) {
    let text = filter_wat();
    (
        line_of(&text, "(return (call $ok-drop))"),
        line_of(
            &text,
            "(call $clone-into-mutable (local.get $payload) (i32.const 0))",
        ),
    )
}

/// The `DA:` count of `line` in the record of the file ending in `file`.
fn da(lcov: &str, file: &str, line: u32) -> Option<u64> {
    let record = lcov
        .split("end_of_record\n")
        .find(|r| r.lines().next().is_some_and(|sf| sf.ends_with(file)))?;
    record.lines().find_map(|l| {
        let (n, hits) = l.strip_prefix("DA:")?.split_once(',')?;
        (n.parse::<u32>().ok()? == line).then(|| hits.parse().unwrap())
    })
}

fn filter_scenario(inputs: &[&str]) -> Scenario {
    Scenario {
        inputs: inputs.iter().map(|p| InputElement::text(*p)).collect(),
        ..Scenario::new("filter-branch", "filter")
    }
}

#[test]
fn a_scenario_covers_the_branch_it_takes_and_a_suite_adds_up() {
    let (drop_line, clone_line) = branch_lines();
    let mut coverage = Coverage::new();
    // One element: sequence 0, even, so the emit branch only.
    let even = filter_scenario(&["zero"]);
    run_scenario_covered(&even, &scenario_settings(&even), &mut coverage).unwrap();
    let lcov = coverage.to_lcov();
    assert_eq!(da(&lcov, "filter.wat", clone_line), Some(1), "{lcov}");
    assert_eq!(da(&lcov, "filter.wat", drop_line), Some(0), "{lcov}");
    let after_one = coverage.summary();

    // Two elements: the odd one takes the drop branch; the suite's
    // coverage now has both.
    let both = filter_scenario(&["zero", "one"]);
    run_scenario_covered(&both, &scenario_settings(&both), &mut coverage).unwrap();
    let lcov = coverage.to_lcov();
    assert_eq!(da(&lcov, "filter.wat", clone_line), Some(2), "{lcov}");
    assert_eq!(da(&lcov, "filter.wat", drop_line), Some(1), "{lcov}");
    let file = coverage.file_ending_with("filter.wat").unwrap();
    assert_eq!(file.function("ok-drop").unwrap().hits, 1, "{lcov}");
    assert_eq!(file.function("ok-emit").unwrap().hits, 2, "{lcov}");
    assert!(coverage.summary().lines_hit > after_one.lines_hit);
}

#[test]
fn a_scenario_on_the_mock_backend_is_refused_with_what_to_do() {
    let mut s = filter_scenario(&["zero"]);
    s.backend = Some(torvyn_harness::spec::BackendKind::Mock);
    let e = run_scenario_covered(&s, &scenario_settings(&s), &mut Coverage::new()).unwrap_err();
    let message = e.to_string();
    assert!(message.contains("mock backend runs none"), "{message}");
    assert!(message.contains("run on Wasmtime"), "{message}");
}

#[test]
fn a_pipeline_covers_each_of_its_components() {
    let path = workspace_root().join("fixtures/pipelines/counter-filter-upper-sink.yaml");
    let p = Pipeline::load(&path).unwrap();
    let mut coverage = Coverage::new();
    run_pipeline_covered(&p, &p.settings(), &mut coverage).unwrap();
    for file in [
        "counter-source.wat",
        "filter.wat",
        "uppercase.wat",
        "sink.wat",
    ] {
        let record = coverage
            .file_ending_with(file)
            .unwrap_or_else(|| panic!("no record of {file} in\n{}", coverage.to_lcov()));
        assert!(
            record.lines().any(|(_, hits)| hits > 0),
            "nothing of {file} ran:\n{}",
            coverage.to_lcov()
        );
    }
    // The counter emits both parities: both branches of the filter ran.
    let (drop_line, clone_line) = branch_lines();
    let filter = coverage.file_ending_with("filter.wat").unwrap();
    assert_eq!(filter.line(drop_line), Some(1));
    assert_eq!(filter.line(clone_line), Some(1));
}

fn lcov_at(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn run_with_coverage_prints_the_same_and_writes_lcov() {
    let dir = tempfile::tempdir().unwrap();
    let lcov_path = dir.path().join("filter.lcov");
    let args = ["run", "filter", "--input", "-", "--format", "yaml"];
    let plain = sim().args(args).write_stdin("zero\n").assert().success();
    let covered = sim()
        .args(args)
        .args(["--coverage", path_str(&lcov_path)])
        .write_stdin("zero\n")
        .assert()
        .success();
    assert_eq!(
        String::from_utf8_lossy(&plain.get_output().stdout),
        String::from_utf8_lossy(&covered.get_output().stdout),
        "--coverage changed the transcript"
    );
    let stderr = String::from_utf8_lossy(&covered.get_output().stderr).into_owned();
    assert!(stderr.contains("coverage: "), "{stderr}");
    assert!(stderr.contains("functions"), "{stderr}");
    assert!(stderr.contains(path_str(&lcov_path)), "{stderr}");
    let lcov = lcov_at(&lcov_path);
    let (drop_line, clone_line) = branch_lines();
    assert_eq!(da(&lcov, "filter.wat", clone_line), Some(1), "{lcov}");
    assert_eq!(da(&lcov, "filter.wat", drop_line), Some(0), "{lcov}");
}

#[test]
fn pipeline_and_check_write_lcov_too() {
    let dir = tempfile::tempdir().unwrap();
    let root = workspace_root();
    let pipeline_lcov = dir.path().join("pipeline.lcov");
    let out = sim()
        .args([
            "pipeline",
            "counter-source",
            "uppercase",
            "sink",
            "--coverage",
        ])
        .arg(&pipeline_lcov)
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("coverage: "), "{stderr}");
    let lcov = lcov_at(&pipeline_lcov);
    for file in ["counter-source.wat", "uppercase.wat", "sink.wat"] {
        assert!(lcov.contains(file), "no record of {file}:\n{lcov}");
    }

    let snapshot = dir.path().join("filter.yaml");
    let scenario = root.join("fixtures/scenarios/filter.yaml");
    sim()
        .args(["check", path_str(&scenario), "--update", "--snapshot"])
        .arg(&snapshot)
        .assert()
        .success();
    let check_lcov = dir.path().join("check.lcov");
    let out = sim()
        .args(["check", path_str(&scenario), "--snapshot"])
        .arg(&snapshot)
        .arg("--coverage")
        .arg(&check_lcov)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        stdout.starts_with("ok: "),
        "the snapshot no longer matches:\n{stdout}"
    );
    let lcov = lcov_at(&check_lcov);
    let (drop_line, clone_line) = branch_lines();
    assert_eq!(da(&lcov, "filter.wat", clone_line), Some(1), "{lcov}");
    assert_eq!(da(&lcov, "filter.wat", drop_line), Some(1), "{lcov}");
}

#[test]
fn coverage_with_the_mock_backend_or_winch_says_why_not() {
    let dir = tempfile::tempdir().unwrap();
    let lcov = dir.path().join("x.lcov");
    let out = sim()
        .args(["run", "filter", "--backend", "mock", "--coverage"])
        .arg(&lcov)
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("mock backend runs none"), "{stderr}");
    let out = sim()
        .args(["run", "filter", "--strategy", "winch", "--coverage"])
        .arg(&lcov)
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("Winch"), "{stderr}");
    assert!(!lcov.exists());
}

/// `scenario` run on a real-toolchain guest with coverage, the guest
/// compiled once (with guest debugging) into the guests' cache for every
/// later run.
fn covered_guest(scenario: &Scenario) -> (torvyn_harness::transcript::Transcript, Coverage) {
    let settings = torvyn_harness::backend::EngineSettings {
        cache_dir: Some(super::support::guests_dir().join("compiled")),
        ..scenario_settings(scenario)
    };
    let mut coverage = Coverage::new();
    let t = run_scenario_covered(scenario, &settings, &mut coverage)
        .unwrap_or_else(|e| panic!("{}: {e}", scenario.name));
    (t, coverage)
}

/// Whether the function `name` ran (1) or not (0), in whichever record
/// has it.
fn hits(coverage: &Coverage, name: &str) -> u64 {
    coverage
        .files()
        .find_map(|(_, f)| f.function(name))
        .unwrap_or_else(|| panic!("no function {name}"))
        .hits
}

/// A real-toolchain guest has no line tables: its coverage is by function,
/// named from its name section (CPython's C functions, the adapter's).
#[test]
fn a_python_guest_is_covered_by_function() {
    let Some(path) = super::support::guest("py-uppercase") else {
        return;
    };
    let (t, coverage) = covered_guest(&Scenario {
        inputs: vec![InputElement::text("hello")],
        ..Scenario::new("py-coverage", path_str(&path))
    });
    assert_eq!(t.summary.elements_out, 1, "{t:?}");
    let ran = |name: &str| hits(&coverage, name);
    // `payload.upper()` on bytes, and the export the host called.
    assert_eq!(ran("_Py_bytes_upper"), 1);
    assert_eq!(ran("torvyn:streaming/processor@0.1.0#process"), 1);
    // What the script never does.
    assert_eq!(ran("_Py_bytes_capitalize"), 0);
    let s = coverage.summary();
    assert_eq!(s.lines, 0, "the guest has no line tables");
    assert!(
        s.functions_hit > 100 && s.functions_hit < s.functions,
        "{s}"
    );
    let lcov = coverage.to_lcov();
    assert!(
        lcov.contains("SF:") && lcov.contains("py-uppercase.wasm#module"),
        "{lcov:.400}"
    );
}

/// componentize-js strips its engine's names: its functions go by their
/// export names, and the WASI adapter's keep theirs.
#[test]
fn a_javascript_guest_is_covered_by_function() {
    let Some(path) = super::support::guest("js-exclaim") else {
        return;
    };
    let (t, coverage) = covered_guest(&Scenario {
        inputs: vec![InputElement::text("hello")],
        stub_unknown_imports: true,
        ..Scenario::new("js-coverage", path_str(&path))
    });
    assert_eq!(t.summary.elements_out, 1, "{t:?}");
    let ran = |name: &str| hits(&coverage, name);
    assert_eq!(ran("torvyn:streaming/processor@0.1.0#process"), 1);
    assert_eq!(ran("post_torvyn:streaming/processor@0.1.0#process"), 1);
    // The adapter: the guest reads the clock, never its arguments.
    assert_eq!(ran("clock_time_get"), 1);
    assert_eq!(ran("args_get"), 0);
}

/// The C guest's scenario `name` (`fixtures/guests/c/scenarios/`), run
/// on the guest `build.sh` built (wherever `TORVYN_GUESTS` put it).
fn c_scenario(name: &str, guest: &Path) -> Scenario {
    let path = workspace_root().join(format!("fixtures/guests/c/scenarios/{name}.yaml"));
    Scenario {
        component: path_str(guest).to_string(),
        ..Scenario::load(&path).unwrap()
    }
}

/// The C guest (`fixtures/guests/c/filter.c`: wit-bindgen's C bindings,
/// zig with `-g`, wasm-tools and the WASI adapter): its coverage is by C
/// source line from its DWARF. A run of comments only covers the drop
/// branch's lines and not the upper-casing ones; a run of every branch
/// covers both.
#[test]
fn a_c_guest_is_covered_by_source_line() {
    let Some(guest) = super::support::guest("c-filter") else {
        return;
    };
    let source =
        std::fs::read_to_string(workspace_root().join("fixtures/guests/c/filter.c")).unwrap();
    let drop_line = line_of(&source, "fprintf(stderr, \"c-filter: dropped the comment");
    let upper_line = line_of(&source, "bytes->ptr[i] = (uint8_t)toupper(bytes->ptr[i]);");
    let freeze_line = line_of(
        &source,
        "torvyn_streaming_types_method_mutable_buffer_freeze(writer);",
    );

    let (t, coverage) = covered_guest(&c_scenario("comments", &guest));
    assert_eq!(t.summary.elements_out, 0, "{t:?}");
    let lcov = coverage.to_lcov();
    // Counts say whether a line ran (a breakpoint fires once), not how
    // often.
    assert_eq!(da(&lcov, "filter.c", drop_line), Some(1), "{lcov}");
    assert_eq!(da(&lcov, "filter.c", upper_line), Some(0), "{lcov}");
    assert_eq!(da(&lcov, "filter.c", freeze_line), Some(0), "{lcov}");
    let file = coverage.file_ending_with("filter.c").unwrap();
    let hits = |name: &str| file.function(name).map(|f| f.hits);
    assert_eq!(hits("drop_comment"), Some(1), "{lcov}");
    assert_eq!(hits("upper_case"), Some(0), "{lcov}");
    assert_eq!(hits("fail"), Some(0), "{lcov}");
    // The bindings wit-bindgen generated are covered by their lines too.
    assert!(
        coverage.file_ending_with("transform.c").is_some(),
        "no record for the generated bindings:\n{lcov}"
    );

    // Every branch: two lines upper-cased, one comment, one empty payload.
    let (t, coverage) = covered_guest(&c_scenario("filter", &guest));
    assert_eq!(t.summary.elements_out, 2, "{t:?}");
    let lcov = coverage.to_lcov();
    assert_eq!(da(&lcov, "filter.c", drop_line), Some(1), "{lcov}");
    assert_eq!(da(&lcov, "filter.c", freeze_line), Some(1), "{lcov}");
    assert_eq!(da(&lcov, "filter.c", upper_line), Some(1), "{lcov}");
    let file = coverage.file_ending_with("filter.c").unwrap();
    assert_eq!(file.function("fail").map(|f| f.hits), Some(1), "{lcov}");
}

//! The real-toolchain guests (componentize-py), built by
//! `fixtures/guests/build.sh` into `target/guests` (`$TORVYN_GUESTS`):
//! each test is skipped when they are not built, outside CI. Their output
//! moves with the toolchain (backtrace frames, byte counts, fuel), so these
//! tests check the parts the CLI controls; cases/guests/ holds the ones
//! whose whole output is the CLI's.

use predicates::prelude::*;

use assert_cmd::Command;

use crate::support::{cycled, guest, ok_json_with, path_str, sim_guests, write};

/// The JSON report of `torvyn-sim bench ARGS... --format json` run by
/// `cmd`; the command must succeed.
fn bench_json(mut cmd: Command, args: &[&str]) -> serde_json::Value {
    cmd.arg("bench");
    ok_json_with(cmd, args, "")
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
    let first = bench_json(sim_guests(), &args);
    for side in ["engine", "baseline"] {
        assert_eq!(first[side]["calls"], 7, "{first}");
        assert_eq!(first[side]["bytes"], cycled(&[5, 11, 3], 7), "{first}");
    }
    let second = bench_json(sim_guests(), &args);
    assert_eq!(second["compile"]["cache_hit"], true, "{second}");
    assert_ne!(second["compile"]["tier"], "compiled", "{second}");
    assert_eq!(second["compile"]["baseline_reused_engine_code"], true);
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

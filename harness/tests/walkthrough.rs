//! Runs the README's "Your first component, in WAT" walkthrough as written:
//! between `<!-- walkthrough:start -->` and `<!-- walkthrough:end -->`,
//!
//! * a fenced block after `<!-- walkthrough:file NAME -->` is saved as NAME;
//! * every `sh` block runs in bash, in a fresh directory, with the README's
//!   `alias torvyn-sim=...` pointing at the binary this test builds; it
//!   must exit 0, or the code a preceding `<!-- walkthrough:exit N -->`
//!   names;
//! * a fenced block after `<!-- walkthrough:output -->` is what the
//!   previous `sh` block printed (the `wall time` line, which varies, is
//!   left out of the comparison).

// The mock-only build (`--no-default-features --features mock`) skips
// this file: the walkthrough runs torvyn-sim on WAT.
#![cfg(feature = "wasmtime-backend")]

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug)]
enum Step {
    File { name: String, text: String },
    Shell { script: String, exit: i32 },
    Output(String),
}

fn readme() -> Option<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    std::fs::read_to_string(path).ok()
}

/// The steps of the walkthrough, in order.
fn steps(readme: &str) -> Vec<Step> {
    steps_of(readme, "walkthrough")
}

/// The steps between `<!-- NAME:start -->` and `<!-- NAME:end -->`.
fn steps_of(readme: &str, name: &str) -> Vec<Step> {
    let start_marker = format!("<!-- {name}:start -->");
    let start = readme
        .find(&start_marker)
        .unwrap_or_else(|| panic!("README has a {name}"))
        + start_marker.len();
    let end = readme
        .find(&format!("<!-- {name}:end -->"))
        .unwrap_or_else(|| panic!("the {name} ends"));
    let mut lines = readme[start..end].lines();
    let mut steps = Vec::new();
    let mut pending: Option<String> = None;
    while let Some(line) = lines.next() {
        let line = line.trim_end();
        if let Some(marker) = line
            .strip_prefix("<!-- walkthrough:")
            .and_then(|m| m.strip_suffix(" -->"))
        {
            pending = Some(marker.to_string());
            continue;
        }
        let Some(lang) = line.strip_prefix("```") else {
            continue;
        };
        let mut body = String::new();
        for l in lines.by_ref() {
            if l.trim_end() == "```" {
                break;
            }
            body.push_str(l);
            body.push('\n');
        }
        let marker = pending.take();
        let step = match marker.as_deref() {
            Some(m) if m.starts_with("file ") => Step::File {
                name: m["file ".len()..].to_string(),
                text: body,
            },
            Some("output") => Step::Output(body),
            Some(m) if m.starts_with("exit ") && lang == "sh" => Step::Shell {
                script: body,
                exit: m["exit ".len()..].parse().expect("an exit code"),
            },
            None if lang == "sh" => Step::Shell {
                script: body,
                exit: 0,
            },
            None => continue,
            Some(m) => panic!("unknown walkthrough marker `{m}`"),
        };
        steps.push(step);
    }
    steps
}

/// Lines that vary from run to run are dropped; trailing spaces too.
fn comparable(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with("wall time"))
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs `steps` in `dir` as the walkthrough test does; returns the last
/// command's stdout and whether the alias was defined.
fn run_steps(steps: &[Step], dir: &Path) -> (Option<String>, bool) {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_torvyn-sim"));
    let mut last_stdout: Option<String> = None;
    let mut aliased = false;
    for step in steps {
        match step {
            Step::File { name, text } => std::fs::write(dir.join(name), text).unwrap(),
            Step::Output(expected) => {
                let got = last_stdout
                    .take()
                    .expect("an output block follows a command");
                assert_eq!(
                    comparable(&got),
                    comparable(expected),
                    "README shows other output than the command prints"
                );
            }
            Step::Shell { script, exit } => {
                let mut body = String::from("set -e\nshopt -s expand_aliases\n");
                body.push_str(&format!(
                    "alias torvyn-sim='{} --no-cache'\n",
                    bin.display()
                ));
                for line in script.lines() {
                    if line.starts_with("alias torvyn-sim=") {
                        aliased = true;
                        continue;
                    }
                    body.push_str(line);
                    body.push('\n');
                }
                let out = Command::new("bash")
                    .arg("-c")
                    .arg(&body)
                    .current_dir(dir)
                    .env("CI", "true")
                    .env_remove("TORVYN_SIM_SEED")
                    .env_remove("RUST_LOG")
                    .output()
                    .expect("bash runs");
                assert_eq!(
                    out.status.code(),
                    Some(*exit),
                    "`{}` exited with {:?}\nstdout:\n{}\nstderr:\n{}",
                    script.trim(),
                    out.status.code(),
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                last_stdout = Some(String::from_utf8_lossy(&out.stdout).into_owned());
            }
        }
    }
    (last_stdout, aliased)
}

/// README's record-and-replay walkthrough: record `passthrough`, replay
/// against `uppercase`, see the first divergence and then every one
/// (`--all`), refuse a cut recording, keep
/// the traffic as a snapshot test.
#[test]
fn the_readme_record_and_replay_walkthrough_runs_as_written() {
    let Some(readme) = readme() else {
        eprintln!("skipped: no workspace README next to this package");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let steps = steps_of(&readme, "record-walkthrough");
    let exits = |code: i32| {
        steps
            .iter()
            .filter(|s| matches!(s, Step::Shell { exit, .. } if *exit == code))
            .count()
    };
    assert!(
        exits(1) == 2 && exits(3) == 1,
        "the walkthrough shows a divergence (first, then all) and a refused recording: {steps:?}"
    );
    let (_, aliased) = run_steps(&steps, dir.path());
    assert!(
        aliased,
        "the walkthrough defines the torvyn-sim alias first"
    );
    let snapshot = std::fs::read_to_string(dir.path().join("words.snap.yaml")).unwrap();
    assert!(snapshot.contains("ab1"), "{snapshot}");
    let recording = torvyn_engine::record::Recording::read(dir.path().join("words.jsonl")).unwrap();
    assert_eq!(recording.calls.len(), 5);
}

#[test]
fn the_readme_walkthrough_runs_as_written() {
    let Some(readme) = readme() else {
        // A packaged crate has no workspace README; the walkthrough is the
        // workspace's.
        eprintln!("skipped: no workspace README next to this package");
        return;
    };
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_torvyn-sim"));
    let dir = tempfile::tempdir().unwrap();
    let steps = steps(&readme);
    assert!(
        steps
            .iter()
            .filter(|s| matches!(s, Step::Shell { .. }))
            .count()
            >= 4,
        "the walkthrough has its commands: {steps:?}"
    );
    let mut last_stdout: Option<String> = None;
    let mut aliased = false;
    for step in &steps {
        match step {
            Step::File { name, text } => std::fs::write(dir.path().join(name), text).unwrap(),
            Step::Output(expected) => {
                let got = last_stdout
                    .take()
                    .expect("an output block follows a command");
                assert_eq!(
                    comparable(&got),
                    comparable(expected),
                    "README shows other output than the command prints"
                );
            }
            Step::Shell { script, exit } => {
                let mut body = String::from("set -e\nshopt -s expand_aliases\n");
                body.push_str(&format!("alias torvyn-sim='{}'\n", bin.display()));
                for line in script.lines() {
                    if line.starts_with("alias torvyn-sim=") {
                        aliased = true;
                        continue;
                    }
                    body.push_str(line);
                    body.push('\n');
                }
                let out = Command::new("bash")
                    .arg("-c")
                    .arg(&body)
                    .current_dir(dir.path())
                    .env("CI", "true")
                    .env_remove("TORVYN_SIM_SEED")
                    .env_remove("RUST_LOG")
                    .output()
                    .expect("bash runs");
                assert_eq!(
                    out.status.code(),
                    Some(*exit),
                    "`{}` exited with {:?}\nstdout:\n{}\nstderr:\n{}",
                    script.trim(),
                    out.status.code(),
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                last_stdout = Some(String::from_utf8_lossy(&out.stdout).into_owned());
            }
        }
    }
    assert!(
        aliased,
        "the walkthrough defines the torvyn-sim alias first"
    );
    // What the commands left behind: the JSON is a transcript, the
    // snapshot was written, and the failed check printed a diff.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("run.json")).unwrap())
            .unwrap();
    assert!(json.to_string().contains("hello!"), "{json}");
    let snapshot = std::fs::read_to_string(dir.path().join("exclaim.snap.yaml")).unwrap();
    assert!(snapshot.contains("hello!"), "{snapshot}");
    let diff = last_stdout.unwrap_or_default();
    assert!(
        diff.contains("hello?"),
        "the failed check shows the change: {diff}"
    );
}

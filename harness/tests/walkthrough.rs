//! Runs the shell walkthroughs of README.md and the guide (`docs/src/`) as
//! written: between `<!-- NAME:start -->` and `<!-- NAME:end -->` (the
//! pages and names are [`WALKTHROUGHS`]),
//!
//! * a fenced block after `<!-- walkthrough:file NAME -->` is saved as NAME;
//! * every `sh` block runs in bash, in a fresh directory, with the page's
//!   `alias torvyn-sim=...` pointing at the binary this test builds; it
//!   must exit 0, or the code a preceding `<!-- walkthrough:exit N -->`
//!   names;
//! * a fenced block after `<!-- walkthrough:output -->` is what the
//!   previous `sh` block printed (the `wall time` line, which varies, is
//!   left out of the comparison).
//!
//! A page of [`WALKTHROUGHS`] without its walkthrough fails, and so does a
//! walkthrough marker on a page, or outside a start/end pair, that no test
//! runs.

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

/// The walkthroughs: the page (from the workspace root) and the NAME of
/// its `<!-- NAME:start -->` and `<!-- NAME:end -->` markers.
const WALKTHROUGHS: [(&str, &str); 3] = [
    ("README.md", "readme-walkthrough"),
    ("docs/src/first-component.md", "walkthrough"),
    ("docs/src/record-replay.md", "record-walkthrough"),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Whether the workspace's README and guide are here: a packaged crate
/// has neither (the walkthroughs are the workspace's).
fn workspace_docs() -> bool {
    root().join("docs/src/SUMMARY.md").is_file()
}

/// The page `path` of the workspace (README.md or a chapter).
fn page(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| {
        panic!("{path}: {e}; if the walkthrough moved, update WALKTHROUGHS in this file")
    })
}

/// The steps of the walkthrough NAME on `path`, in order.
fn walkthrough(name: &str) -> Vec<Step> {
    let (path, _) = WALKTHROUGHS
        .iter()
        .find(|(_, n)| *n == name)
        .unwrap_or_else(|| panic!("no walkthrough `{name}` in WALKTHROUGHS"));
    steps_of(&page(path), name, path)
}

/// The Markdown files of the workspace's README and guide.
fn pages() -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let mut files = vec![root().join("README.md")];
    walk(&root().join("docs"), &mut files);
    files
        .iter()
        .map(|f| {
            f.strip_prefix(root())
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect()
}

#[test]
fn every_walkthrough_of_the_readme_and_the_guide_is_run() {
    if !workspace_docs() {
        eprintln!("skipped: no workspace README and docs/ next to this package");
        return;
    }
    let mut problems = Vec::new();
    for path in pages() {
        let text = page(&path);
        let mut open: Option<&str> = None;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            let Some(marker) = line
                .strip_prefix("<!-- ")
                .and_then(|l| l.strip_suffix(" -->"))
            else {
                continue;
            };
            if let Some(name) = marker.strip_suffix(":start") {
                if !WALKTHROUGHS.contains(&(path.as_str(), name)) {
                    problems.push(format!(
                        "{path}:{}: the walkthrough `{name}` is run by no test: add it to \
                         WALKTHROUGHS in harness/tests/walkthrough.rs and a test that runs it",
                        i + 1
                    ));
                }
                open = Some(name);
            } else if let Some(name) = marker.strip_suffix(":end") {
                if open != Some(name) {
                    problems.push(format!("{path}:{}: `{name}:end` without its start", i + 1));
                }
                open = None;
            } else if marker.starts_with("walkthrough:") && open.is_none() {
                problems.push(format!(
                    "{path}:{}: `{marker}` outside a walkthrough: no test reads it",
                    i + 1
                ));
            }
        }
    }
    for (path, name) in WALKTHROUGHS {
        let shells = walkthrough(name)
            .iter()
            .filter(|s| matches!(s, Step::Shell { .. }))
            .count();
        if shells == 0 {
            problems.push(format!("{path}: the walkthrough `{name}` runs no command"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The steps between `<!-- NAME:start -->` and `<!-- NAME:end -->` of
/// `text`, the page `path`.
fn steps_of(text: &str, name: &str, path: &str) -> Vec<Step> {
    let start_marker = format!("<!-- {name}:start -->");
    let start = text.find(&start_marker).unwrap_or_else(|| {
        panic!("{path} has no `{start_marker}`: the page lost its walkthrough, or it moved (update WALKTHROUGHS)")
    }) + start_marker.len();
    let end = text[start..]
        .find(&format!("<!-- {name}:end -->"))
        .unwrap_or_else(|| panic!("{path}: the walkthrough `{name}` has no end marker"))
        + start;
    let mut lines = text[start..end].lines();
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

/// Runs `steps` in `dir`, with `torvyn-sim` the binary this test builds
/// given `options` first; returns the last command's stdout and whether
/// the page defined the alias.
fn run_steps(steps: &[Step], dir: &Path, options: &str) -> (Option<String>, bool) {
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
                    "the page shows other output than the command prints"
                );
            }
            Step::Shell { script, exit } => {
                let mut body = String::from("set -e\nshopt -s expand_aliases\n");
                body.push_str(&format!("alias torvyn-sim='{}{options}'\n", bin.display()));
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

/// README's first look at torvyn-sim: `run` on Wasmtime and on the mock,
/// then a scenario snapshotted and checked.
#[test]
fn the_readme_walkthrough_runs_as_written() {
    if !workspace_docs() {
        eprintln!("skipped: no workspace README and docs/ next to this package");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let steps = walkthrough("readme-walkthrough");
    let outputs = steps
        .iter()
        .filter(|s| matches!(s, Step::Output(_)))
        .count();
    assert!(
        outputs >= 2,
        "the walkthrough shows what both backends print: {steps:?}"
    );
    let (_, aliased) = run_steps(&steps, dir.path(), " --no-cache");
    assert!(
        aliased,
        "the walkthrough defines the torvyn-sim alias first"
    );
    let snapshot = std::fs::read_to_string(dir.path().join("upper.snap.yaml")).unwrap();
    assert!(snapshot.contains("HELLO"), "{snapshot}");
}

/// The record-and-replay chapter's walkthrough: record `passthrough`,
/// replay against `uppercase`, see the first divergence and then every one
/// (`--all`), refuse a cut recording, keep the traffic as a snapshot test.
#[test]
fn the_record_and_replay_walkthrough_runs_as_written() {
    if !workspace_docs() {
        eprintln!("skipped: no workspace README and docs/ next to this package");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let steps = walkthrough("record-walkthrough");
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
    let (_, aliased) = run_steps(&steps, dir.path(), " --no-cache");
    assert!(
        aliased,
        "the walkthrough defines the torvyn-sim alias first"
    );
    let snapshot = std::fs::read_to_string(dir.path().join("words.snap.yaml")).unwrap();
    assert!(snapshot.contains("ab1"), "{snapshot}");
    let recording = torvyn_engine::record::Recording::read(dir.path().join("words.jsonl")).unwrap();
    assert_eq!(recording.calls.len(), 5);
}

/// "Your first component, in WAT": write `exclaim.wat`, inspect, run,
/// snapshot, break it and see the check fail.
#[test]
fn the_first_component_walkthrough_runs_as_written() {
    if !workspace_docs() {
        eprintln!("skipped: no workspace README and docs/ next to this package");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let steps = walkthrough("walkthrough");
    assert!(
        steps
            .iter()
            .filter(|s| matches!(s, Step::Shell { .. }))
            .count()
            >= 4,
        "the walkthrough has its commands: {steps:?}"
    );
    let (last_stdout, aliased) = run_steps(&steps, dir.path(), "");
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

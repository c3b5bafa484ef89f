//! The stable replay tools (`cargo run -p torvyn-fuzz --bin NAME`): each
//! target's binary builds, answers `--help`, replays a directory and reports
//! unreadable input with its documented exit status. Building them here, in
//! the same `cargo test` as the rest of the workspace, is also how CI checks
//! that the fuzz crate builds on stable without a second feature resolution.

use std::path::PathBuf;
use std::process::{Command, Output};

const TARGETS: [(&str, &str); 6] = [
    ("invoke_elements", env!("CARGO_BIN_EXE_invoke_elements")),
    ("differential", env!("CARGO_BIN_EXE_differential")),
    ("api_sequence", env!("CARGO_BIN_EXE_api_sequence")),
    ("component_bytes", env!("CARGO_BIN_EXE_component_bytes")),
    ("cache_entry", env!("CARGO_BIN_EXE_cache_entry")),
    ("recording", env!("CARGO_BIN_EXE_recording")),
];

fn run(exe: &str, args: &[&str]) -> Output {
    Command::new(exe)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {exe}: {e}"))
}

fn corpus(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(name)
}

#[test]
fn every_target_is_a_replay_tool_that_names_itself() {
    for (name, exe) in TARGETS {
        let out = run(exe, &["--help"]);
        assert!(out.status.success(), "{name} --help: {:?}", out.status);
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains(&format!("usage: {name} ")), "{name}: {help}");
        assert!(help.contains("Exit status"), "{name}: {help}");
    }
}

#[test]
fn replaying_a_corpus_directory_runs_every_file_and_passes() {
    let dir = corpus("cache_entry");
    let files = std::fs::read_dir(&dir)
        .expect("the committed cache_entry corpus")
        .filter(|e| e.as_ref().is_ok_and(|e| e.path().is_file()))
        .count();
    assert!(files > 1, "corpus {} has {files} files", dir.display());
    let out = run(TARGETS[4].1, &[dir.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{:?}\n{stdout}", out.status);
    assert!(
        stdout.contains(&format!("cache_entry: {files} inputs, 0 failed")),
        "{stdout}"
    );
    let reported = stdout
        .lines()
        .filter(|l| l.starts_with("ok ") || l.starts_with("discarded "))
        .count();
    assert_eq!(reported, files, "{stdout}");
}

#[test]
fn an_unreadable_input_exits_2_and_names_the_file() {
    let missing = corpus("differential").join("no-such-input");
    let out = run(TARGETS[1].1, &[missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot read") && stderr.contains("no-such-input"),
        "{stderr}"
    );
}

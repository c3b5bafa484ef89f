//! Recordings across backends and the `torvyn-sim record`/`replay` commands,
//! on Wasmtime.

use super::*;
use assert_cmd::Command;

#[test]
fn wasmtime_recordings_replay_on_the_mock_and_mock_recordings_on_wasmtime() {
    for name in ["passthrough", "uppercase"] {
        let on_wasmtime = record(name, BackendKind::Wasmtime, RecordOptions::default());
        assert_eq!(
            on_wasmtime.header.component.backend.as_deref(),
            Some("wasmtime")
        );
        let report = replay(
            &on_wasmtime,
            &fixture(name),
            name,
            BackendKind::Mock,
            &settings(),
            None,
        )
        .unwrap();
        assert!(report.matches(), "{name}: {}", report.render_text());

        let on_mock = record(name, BackendKind::Mock, RecordOptions::default());
        let report = replay(
            &on_mock,
            &fixture(name),
            name,
            BackendKind::Wasmtime,
            &settings(),
            None,
        )
        .unwrap();
        assert!(report.matches(), "{name}: {}", report.render_text());
        assert!(report.fuel.now_total > 0 && report.fuel.recorded_total > 0);
    }
    // A Wasmtime recording of passthrough, replayed on uppercase's model.
    let r = record(
        "passthrough",
        BackendKind::Wasmtime,
        RecordOptions::default(),
    );
    let report = replay(
        &r,
        &fixture("uppercase"),
        "uppercase",
        BackendKind::Mock,
        &settings(),
        None,
    )
    .unwrap();
    assert_eq!(report.divergence().unwrap().index, first_with_letter(&r));
}

#[test]
fn sources_sinks_and_filters_replay_across_backends() {
    for (name, config) in [
        ("counter-source", Some("{\"count\": 3}")),
        ("sink", None),
        ("filter", None),
    ] {
        let s = Scenario {
            config: config.map(str::to_string),
            ..words_scenario(name, BackendKind::Wasmtime)
        };
        let (_, recorded) = run_scenario_recorded(
            BackendKind::Wasmtime,
            &s,
            &settings(),
            RecordTo::Memory,
            RecordOptions::default(),
        )
        .unwrap();
        let r = Recording::parse(&recorded[0].bytes().unwrap()).unwrap();
        assert!(r.calls.len() > 1, "{name}");
        let report = replay(
            &r,
            &fixture(name),
            name,
            BackendKind::Mock,
            &settings(),
            None,
        )
        .unwrap();
        assert!(report.matches(), "{name}: {}", report.render_text());
    }
}

fn sim() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_torvyn-sim"));
    cmd.arg("--no-cache").env_remove("RUST_LOG");
    cmd
}

#[test]
fn the_cli_records_replays_and_exits_0_1_or_3() {
    let dir = tempfile::tempdir().unwrap();
    let words = dir.path().join("words.txt");
    std::fs::write(&words, WORDS.join("\n")).unwrap();
    let rec = dir.path().join("words.jsonl");
    let out = sim()
        .args(["run", "passthrough", "--input"])
        .arg(&words)
        .arg("--record")
        .arg(&rec)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("recorded") && stderr.contains("words.jsonl"),
        "{stderr}"
    );

    let (code, text) = replay_cli(&rec, &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("every call matches"), "{text}");
    let (code, text) = replay_cli(&rec, &["--component", "passthrough", "--backend", "mock"]);
    assert_eq!(code, Some(0), "{text}");

    let (code, text) = replay_cli(&rec, &["--component", "uppercase"]);
    assert_eq!(code, Some(1), "{text}");
    let r = Recording::read(&rec).unwrap();
    assert!(
        text.contains(&format!(
            "first divergence at call {} (process)",
            first_with_letter(&r)
        )),
        "{text}"
    );
    assert!(text.contains("expected  emit \"ab1\""), "{text}");
    assert!(text.contains("actual    emit \"AB1\""), "{text}");

    // Cut short, and edited: exit 3 with the problem named.
    let bytes = std::fs::read(&rec).unwrap();
    let cut = dir.path().join("cut.jsonl");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let out = sim().arg("replay").arg(&cut).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cut.jsonl") && stderr.contains("truncated"),
        "{stderr}"
    );
    let edited = dir.path().join("edited.jsonl");
    let text = String::from_utf8(bytes)
        .unwrap()
        .replacen("\"fuel\":", "\"fuel\":1", 1);
    std::fs::write(&edited, text).unwrap();
    let out = sim().arg("replay").arg(&edited).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("edited"));

    // to-scenario, then check: the recording is a snapshot test.
    let scenario = dir.path().join("words.yaml");
    let out = sim()
        .args(["record", "to-scenario"])
        .arg(&rec)
        .arg("--output")
        .arg(&scenario)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let snap = dir.path().join("words.snap.yaml");
    for extra in [&["--update"][..], &[][..]] {
        let out = sim()
            .arg("check")
            .arg(&scenario)
            .arg("--snapshot")
            .arg(&snap)
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
    }
    assert!(std::fs::read_to_string(&snap).unwrap().contains("ab1"));
}

#[test]
fn the_cli_records_a_pipeline_per_stage_and_replays_one_stage_changed() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("rec");
    let out = sim()
        .args([
            "pipeline",
            "token-source",
            "uppercase",
            "sink",
            "--max-pulls",
            "4",
        ])
        .arg("--record")
        .arg(&rec)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    for stage in ["token-source", "uppercase", "sink"] {
        assert!(rec.join(format!("{stage}.jsonl")).is_file(), "{stage}");
    }
    let (code, text) = replay_cli(&rec, &[]);
    assert_eq!(code, Some(0), "{text}");
    let (code, text) = replay_cli(&rec, &["--component", "uppercase=passthrough"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("== stage uppercase") && text.contains("diverges"),
        "{text}"
    );
    let (code, text) = replay_cli(&rec, &["--component", "nope=passthrough"]);
    assert_eq!(code, Some(2), "{text}");
}

/// `replay --all` and `--max-divergences N` list more divergences than
/// the first, with the same exit codes.
#[test]
fn the_cli_replay_all_lists_every_divergence_with_the_same_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let words = dir.path().join("words.txt");
    std::fs::write(&words, "ab1\n123\ncd\nxy\n").unwrap();
    let rec = dir.path().join("words.jsonl");
    let out = sim()
        .args(["run", "passthrough", "--input"])
        .arg(&words)
        .arg("--record")
        .arg(&rec)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let upper = ["--component", "uppercase"];

    let (code, text) = replay_cli(&rec, &[&upper[..], &["--all"]].concat());
    assert_eq!(code, Some(1), "{text}");
    for at in [
        "first divergence at call 0",
        "divergence at call 2",
        "call 3",
    ] {
        assert!(text.contains(at), "{at}: {text}");
    }
    assert!(!text.contains("at call 1 "), "{text}");
    assert!(text.contains("divergences   3 answers"), "{text}");
    assert!(text.contains("calls equal   2 of 5 (5 replayed)"), "{text}");

    let (code, text) = replay_cli(&rec, &[&upper[..], &["--max-divergences", "2"]].concat());
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("divergence at call 2"), "{text}");
    assert!(!text.contains("call 3"), "{text}");
    assert!(
        text.contains("the replay stopped at divergence 2 (the limit), after 3 of 5 calls"),
        "{text}"
    );

    let (code, text) = replay_cli(&rec, &upper);
    assert_eq!(code, Some(1), "{text}");
    assert!(!text.contains("divergence at call 2"), "{text}");
    assert!(text.contains("--all goes on"), "{text}");

    let (code, text) = replay_cli(&rec, &["--all"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("every call matches"), "{text}");
    let (code, _) = replay_cli(&rec, &["--all", "--max-divergences", "2"]);
    assert_eq!(code, Some(2));
    let (code, _) = replay_cli(&rec, &["--max-divergences", "0"]);
    assert_eq!(code, Some(2));
}

/// A recording names its component's file by its absolute path, so a
/// replay finds it from another directory; moved along with the
/// recording, it is found beside it; gone, the error says which
/// `--component` to pass.
#[test]
fn the_cli_replays_a_recording_from_another_directory() {
    let dir = tempfile::tempdir().unwrap();
    let (made, elsewhere) = (dir.path().join("made"), dir.path().join("elsewhere"));
    std::fs::create_dir_all(&made).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::copy(
        torvyn_harness::fixtures::fixture_path("passthrough"),
        made.join("comp.wat"),
    )
    .unwrap();
    std::fs::write(made.join("in.txt"), "ab\ncd\n").unwrap();
    let out = sim()
        .current_dir(&made)
        .args([
            "run",
            "comp.wat",
            "--input",
            "in.txt",
            "--record",
            "rec.jsonl",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let r = Recording::read(made.join("rec.jsonl")).unwrap();
    let source = r.header.component.source.unwrap();
    assert!(std::path::Path::new(&source).is_absolute(), "{source}");

    let replay_from = |cwd: &std::path::Path, rec: &str, args: &[&str]| {
        let out = sim()
            .current_dir(cwd)
            .arg("replay")
            .arg(rec)
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, text, _) = replay_from(&elsewhere, "../made/rec.jsonl", &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("every call matches"), "{text}");

    // Moved, component and recording together.
    let moved = dir.path().join("moved");
    std::fs::rename(&made, &moved).unwrap();
    let (code, text, _) = replay_from(&elsewhere, "../moved/rec.jsonl", &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("is not there; replaying against ../moved/comp.wat, beside the recording"),
        "{text}"
    );

    // Gone: exit 3, naming the flag; with it, the replay runs.
    std::fs::rename(moved.join("comp.wat"), elsewhere.join("build.wat")).unwrap();
    let (code, _, stderr) = replay_from(&elsewhere, "../moved/rec.jsonl", &[]);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!("made of the component {source}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("pass the build to replay against with --component PATH"),
        "{stderr}"
    );
    let (code, text, _) = replay_from(
        &elsewhere,
        "../moved/rec.jsonl",
        &["--component", "build.wat"],
    );
    assert_eq!(code, Some(0), "{text}");
}

/// Records `component` with `torvyn-sim run ... --record REC --clock
/// system --seed 7` over three inputs; the recording's path.
fn record_system_seed_7(dir: &std::path::Path, component: &str) -> std::path::PathBuf {
    let input = dir.join("in.txt");
    std::fs::write(&input, "alpha\nbeta\ngamma").unwrap();
    let rec = dir.join("stamp.jsonl");
    let out = sim()
        .args(["run", component, "--input"])
        .arg(&input)
        .arg("--record")
        .arg(&rec)
        .args(["--clock", "system", "--seed", "7"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let r = Recording::read(&rec).unwrap();
    let world = r.header.world.unwrap();
    assert_eq!(
        (world.clock.as_deref(), world.seed),
        (Some("system"), Some(7))
    );
    rec
}

/// `torvyn-sim replay REC [ARGS]`: the exit code and stdout.
fn replay_cli(rec: &std::path::Path, args: &[&str]) -> (Option<i32>, String) {
    let out = sim().arg("replay").arg(rec).args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn the_cli_replays_a_stamp_recorded_on_the_system_clock_and_seed_7_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let rec = record_system_seed_7(dir.path(), "stamp");
    let (code, text) = replay_cli(&rec, &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("every call matches"), "{text}");

    // A build that reads the wall clock twice: exit 1, call 0 named
    // with the interface.
    let wat = std::fs::read_to_string(torvyn_harness::fixtures::fixture_path("stamp")).unwrap();
    let twice = dir.path().join("stamp-twice.wat");
    std::fs::write(
        &twice,
        wat.replacen(
            "    (call $now (i32.const 0))\n",
            "    (call $now (i32.const 0))\n    (call $now (i32.const 0))\n",
            1,
        ),
    )
    .unwrap();
    let (code, text) = replay_cli(&rec, &["--component", twice.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(
            "call 0: the guest read `wasi:clocks/wall-clock.now` twice; the recording has \
             one read"
        ),
        "{text}"
    );
    assert!(!text.contains("reads diverge at call 1"), "{text}");
    // --all: every call's reads, each named.
    let (code, text) = replay_cli(&rec, &["--component", twice.to_str().unwrap(), "--all"]);
    assert_eq!(code, Some(1), "{text}");
    for call in 0..3 {
        assert!(
            text.contains(&format!(
                "call {call}: the guest read `wasi:clocks/wall-clock.now` twice"
            )),
            "call {call}: {text}"
        );
    }

    // Other stdout only: exit 1, or 0 with --ignore-output.
    let stomp = dir.path().join("stomp.wat");
    std::fs::write(
        &stomp,
        wat.replacen("144) \"stamp \"", "144) \"stomp \"", 1),
    )
    .unwrap();
    let (code, text) = replay_cli(&rec, &["--component", stomp.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("output diverges at call 0 (process): stdout"),
        "{text}"
    );
    let (code, text) = replay_cli(
        &rec,
        &["--component", stomp.to_str().unwrap(), "--ignore-output"],
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("(ignored: --ignore-output)"), "{text}");
}

/// Where `fixtures/guests/build.sh` put the guests
/// (`$TORVYN_GUESTS`, default `target/guests`).
fn guest(name: &str) -> Option<std::path::PathBuf> {
    let dir = match std::env::var_os("TORVYN_GUESTS") {
        Some(d) => std::path::PathBuf::from(d),
        None => std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/guests"),
    };
    let path = dir.join(format!("{name}.wasm"));
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

#[test]
fn the_cli_replays_the_python_stamp_guest_and_names_where_its_changed_build_diverges() {
    let (Some(stamp), Some(changed)) = (guest("py-stamp"), guest("py-stamp-changed")) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let rec = record_system_seed_7(dir.path(), stamp.to_str().unwrap());
    let r = Recording::read(&rec).unwrap();
    let first = r
        .calls
        .iter()
        .find(|c| c.function == Function::Process)
        .unwrap();
    let kinds: Vec<_> = first.reads.iter().map(|r| r.interface()).collect();
    for read in [
        torvyn_engine::WorldInterface::WallClockNow,
        torvyn_engine::WorldInterface::MonotonicClockNow,
        torvyn_engine::WorldInterface::RandomBytes,
    ] {
        assert!(kinds.contains(&read), "{read} not in {kinds:?}");
    }
    let stdout = first.stdout.as_ref().unwrap().bytes().unwrap();
    assert_eq!(&stdout[..], b"stamp: 5 bytes\n");

    let (code, text) = replay_cli(&rec, &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("every call matches"), "{text}");

    let (code, text) = replay_cli(&rec, &["--component", changed.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{text}");
    let at = format!("reads diverge at call {} (process)", first.index);
    assert!(text.contains(&at), "{text}");
    assert!(
        text.contains(&format!(
            "call {}: the guest read `wasi:clocks/wall-clock.now`",
            first.index
        )),
        "{text}"
    );
}

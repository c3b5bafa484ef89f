//! The CLI cases that are data: every `cases/<topic>/<name>.t` is a list of
//! `torvyn-sim` commands, run in order in a fresh temporary directory,
//! whose outputs are compared with the blessed `<name>.stdout` and
//! `<name>.stderr` beside it. `cases/README.md` describes the format, the
//! normalization rules, `BLESS=1` and `TORVYN_CLI_CASES`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::LazyLock;

use regex::Regex;

use crate::case_file::{Case, Run, Step, parse};
use crate::normalize::{Vars, normalize};
use crate::support::{guests_dir, workspace_root};

/// Set (to anything but `0`) to rewrite the blessed outputs from what the
/// commands print now.
const BLESS_ENV: &str = "BLESS";
/// A substring of the cases' paths (`bench/`, `run/preview`): only the
/// cases whose path under `cases/` contains it run.
const FILTER_ENV: &str = "TORVYN_CLI_CASES";

#[test]
fn every_case_matches_its_blessed_output() {
    let bless = std::env::var_os(BLESS_ENV).is_some_and(|v| !v.is_empty() && v != "0");
    let filter = std::env::var(FILTER_ENV).ok().filter(|f| !f.is_empty());
    if bless && let Some(why) = binary_of_another_checkout() {
        panic!("not blessing: {why}");
    }
    let report = run_dir(&cases_dir(), bless, filter.as_deref());
    assert!(
        report.ran > 0 || filter.is_some(),
        "no case ran: {} holds no .t file",
        cases_dir().display()
    );
    if !report.failures.is_empty() {
        let binary = binary_of_another_checkout()
            .map(|why| format!("\n\nThe outputs may not be this checkout's: {why}"))
            .unwrap_or_default();
        panic!(
            "{} of {} CLI cases failed:\n\n{}\n\nIf the new output is right, rewrite the blessed \
             files with `BLESS=1 cargo test -p torvyn-harness --test cli cases::` and review \
             the diff (cases/README.md).{binary}",
            report.failures.len(),
            report.ran,
            report.failures.join("\n\n")
        );
    }
}

/// Why the `torvyn-sim` this test runs was built from another checkout,
/// if it was: checkouts sharing a `CARGO_TARGET_DIR` overwrite each other's
/// `target/debug/torvyn-sim`, and that binary finds its fixtures (and
/// prints their paths) in the checkout it was built from.
fn binary_of_another_checkout() -> Option<String> {
    let bin = env!("CARGO_BIN_EXE_torvyn-sim");
    let out = Command::new(bin)
        .args(["--no-cache", "inspect", "uppercase", "--format", "json"])
        .output()
        .ok()?;
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    let origin = Path::new(report["origin"].as_str()?);
    let origin = origin.canonicalize().unwrap_or(origin.to_path_buf());
    (!origin.starts_with(workspace_root())).then(|| {
        format!(
            "{bin} finds its fixtures at {}, not in this checkout ({}): another checkout \
             sharing the target directory rebuilt it. `touch harness/src/bin/torvyn-sim.rs` \
             and run the test again.",
            origin.display(),
            workspace_root().display()
        )
    })
}

/// Every page of `docs/` a blessed output cites (a help text, an error
/// pointing at the field reference) is in the workspace. A packaged crate
/// has no `docs/`: then there is nothing to check.
#[test]
fn the_docs_pages_the_outputs_cite_exist() {
    let root = workspace_root();
    if !root.join("docs").is_dir() {
        return;
    }
    static DOC: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"docs/[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.md").unwrap());
    let mut cited = 0;
    for file in files_under(&cases_dir()) {
        if !file
            .extension()
            .is_some_and(|e| e == "stdout" || e == "stderr")
        {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for page in DOC.find_iter(&text) {
            cited += 1;
            assert!(
                root.join(page.as_str()).is_file(),
                "{} cites {}, which is not in the workspace: fix the CLI's text or the docs",
                file.display(),
                page.as_str()
            );
        }
    }
    assert!(cited > 0, "no blessed output cites a docs/ page any more");
}

/// Where the case files are.
fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/cases")
}

/// The files under `dir`, recursively, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries =
            std::fs::read_dir(&d).unwrap_or_else(|e| panic!("cannot list {}: {e}", d.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// What a run over a directory of cases found.
struct Report {
    /// The cases run (not skipped).
    ran: usize,
    /// One message per failed case, naming its file.
    failures: Vec<String>,
}

/// Runs every `.t` under `dir` whose relative path contains `filter`;
/// with `bless`, rewrites the outputs that differ instead of failing on
/// them (an exit code other than the one the case expects fails anyway).
/// A blessed output with no `.t` beside it fails too.
fn run_dir(dir: &Path, bless: bool, filter: Option<&str>) -> Report {
    let mut report = Report {
        ran: 0,
        failures: Vec::new(),
    };
    for file in files_under(dir) {
        let rel = file.strip_prefix(dir).unwrap().display().to_string();
        if filter.is_some_and(|f| !rel.contains(f)) {
            continue;
        }
        match file.extension().and_then(|e| e.to_str()) {
            Some("t") => {}
            Some("stdout" | "stderr") => {
                if !file.with_extension("t").is_file() {
                    report.failures.push(format!(
                        "{}: a blessed output with no {} beside it: delete it",
                        file.display(),
                        file.with_extension("t").display()
                    ));
                }
                continue;
            }
            _ => continue,
        }
        let case = match std::fs::read_to_string(&file)
            .map_err(|e| format!("{}: cannot read it: {e}", file.display()))
            .and_then(|text| parse(&file, &text))
        {
            Ok(case) => case,
            Err(e) => {
                report.failures.push(e);
                continue;
            }
        };
        match run_case(&case, bless) {
            Ok(true) => report.ran += 1,
            Ok(false) => {}
            Err(e) => {
                report.ran += 1;
                report.failures.push(e);
            }
        }
    }
    report
}

/// Runs a case and compares (or, with `bless`, rewrites) its outputs.
/// `Ok(false)`: skipped (a guest not built, outside CI).
fn run_case(case: &Case, bless: bool) -> Result<bool, String> {
    let name = case.path.display();
    let missing: Vec<PathBuf> = case
        .guests
        .iter()
        .map(|g| guests_dir().join(format!("{g}.wasm")))
        .filter(|p| !p.is_file())
        .collect();
    if let Some(path) = missing.first() {
        let why = format!(
            "{name}: {} is not built: run fixtures/guests/build.sh (needs python3 and the \
             network the first time)",
            path.display()
        );
        if std::env::var_os("CI").is_some() {
            return Err(why);
        }
        eprintln!("skipped: {why}");
        return Ok(false);
    }

    let tmp = tempfile::tempdir().map_err(|e| format!("{name}: no temporary directory: {e}"))?;
    let vars = Vars::new(tmp.path());
    let mut stdout_doc = String::new();
    let mut stderr_doc = String::new();
    let mut errors = Vec::new();
    for step in &case.steps {
        match step {
            Step::File {
                name: file,
                contents,
            } => {
                let contents = match std::str::from_utf8(contents) {
                    Ok(text) => vars.expand(text).into_bytes(),
                    Err(_) => contents.clone(),
                };
                std::fs::write(tmp.path().join(file), contents)
                    .map_err(|e| format!("{name}: cannot write {file}: {e}"))?;
            }
            Step::Cat { text } => {
                let shown = std::fs::read(vars.path(text))
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_else(|e| format!("[cannot read it: {}]\n", e.kind()));
                stdout_doc.push_str(&format!("$ cat {text}\n"));
                push_output(&mut stdout_doc, &normalize(&shown, &vars));
            }
            Step::Run(run) => {
                let out = execute(run, &vars, tmp.path())
                    .map_err(|e| format!("{name}:{}: {e}", run.line))?;
                let code = out.status.code();
                let header = format!(
                    "$ torvyn-sim {}  [exit {}]\n",
                    run.text,
                    code.map_or("by a signal".to_string(), |c| c.to_string())
                );
                stdout_doc.push_str(&header);
                push_output(
                    &mut stdout_doc,
                    &normalize(&String::from_utf8_lossy(&out.stdout), &vars),
                );
                stderr_doc.push_str(&header);
                push_output(
                    &mut stderr_doc,
                    &normalize(&String::from_utf8_lossy(&out.stderr), &vars),
                );
                if code != Some(run.exit) {
                    errors.push(format!(
                        "{name}:{}: `torvyn-sim {}` exited with {}, the case expects {} (EXIT); \
                         its stderr:\n{}",
                        run.line,
                        run.text,
                        code.map_or("a signal".to_string(), |c| c.to_string()),
                        run.exit,
                        String::from_utf8_lossy(&out.stderr)
                    ));
                }
            }
        }
    }
    for (ext, actual) in [("stdout", &stdout_doc), ("stderr", &stderr_doc)] {
        let file = case.path.with_extension(ext);
        let expected = std::fs::read_to_string(&file).ok();
        if expected.as_deref() == Some(actual.as_str()) {
            continue;
        }
        if bless {
            std::fs::write(&file, actual)
                .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
            continue;
        }
        match expected {
            None => errors.push(format!(
                "{}: missing: run with BLESS=1 to write it, and review it",
                file.display()
            )),
            Some(expected) => errors.push(format!(
                "{} differs (- blessed, + now):\n{}",
                file.display(),
                similar::TextDiff::from_lines(&expected, actual)
                    .unified_diff()
                    .context_radius(3)
                    .header(&file.display().to_string(), "now")
            )),
        }
    }
    if errors.is_empty() {
        Ok(true)
    } else {
        Err(errors.join("\n"))
    }
}

/// Appends a command's output, ending it with a newline (a missing one is
/// marked).
fn push_output(doc: &mut String, text: &str) {
    doc.push_str(text);
    if !text.is_empty() && !text.ends_with('\n') {
        doc.push_str("\n[no newline at the end]\n");
    }
}

/// Runs one `torvyn-sim` command of a case: in `$TMP` (or its `CD`), with
/// `HOME=$TMP` and no `XDG_CACHE_HOME`, `RUST_LOG` or `TORVYN_SIM_SEED`
/// from the caller's environment.
fn execute(run: &Run, vars: &Vars, tmp: &Path) -> Result<std::process::Output, String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_torvyn-sim"));
    cmd.args(run.words.iter().map(|w| vars.expand(w)))
        .current_dir(match &run.cwd {
            Some(dir) => workspace_root().join(vars.expand(dir)),
            None => tmp.to_path_buf(),
        })
        .env("HOME", tmp)
        .env_remove("XDG_CACHE_HOME")
        .env_remove("RUST_LOG")
        .env_remove("TORVYN_SIM_SEED")
        .env_remove("TORVYN_FUZZ_DEBUG")
        .env_remove("CLICOLOR_FORCE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(if run.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    for (name, value) in &run.env {
        cmd.env(name, vars.expand(value));
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start torvyn-sim: {e}"))?;
    if let Some(stdin) = &run.stdin {
        let mut pipe = child.stdin.take().unwrap();
        let stdin = stdin.clone();
        // Written from a thread: a command that prints before it reads
        // all of its input must not block on a full stdout pipe.
        let writer = std::thread::spawn(move || pipe.write_all(stdin.as_bytes()));
        let out = child
            .wait_with_output()
            .map_err(|e| format!("torvyn-sim: {e}"))?;
        // A command that exits before reading its input closes the pipe:
        // not the case's failure.
        let _ = writer.join();
        return Ok(out);
    }
    child
        .wait_with_output()
        .map_err(|e| format!("torvyn-sim: {e}"))
}

/// The runner itself: a case can fail, and says where.
mod runner {
    use super::*;

    fn case_dir(t: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("topic")).unwrap();
        std::fs::write(dir.path().join("topic/version.t"), t).unwrap();
        dir
    }

    #[test]
    fn a_changed_output_or_exit_code_fails_naming_the_file() {
        let dir = case_dir("# the version\nRUN --version\n");
        let blessed = run_dir(dir.path(), true, None);
        assert!(blessed.failures.is_empty(), "{:?}", blessed.failures);
        let stdout = dir.path().join("topic/version.stdout");
        let text = std::fs::read_to_string(&stdout).unwrap();
        assert!(
            text.starts_with("$ torvyn-sim --version  [exit 0]\ntorvyn-sim "),
            "{text}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("topic/version.stderr")).unwrap(),
            "$ torvyn-sim --version  [exit 0]\n"
        );
        let again = run_dir(dir.path(), false, None);
        assert_eq!(
            (again.ran, again.failures.len()),
            (1, 0),
            "{:?}",
            again.failures
        );

        // An edited blessed output: a diff naming the file.
        std::fs::write(&stdout, text.replace("torvyn-sim ", "torvyn-other ")).unwrap();
        let failed = run_dir(dir.path(), false, None);
        let [failure] = &failed.failures[..] else {
            panic!("one failure expected: {:?}", failed.failures)
        };
        assert!(failure.contains(&stdout.display().to_string()), "{failure}");
        assert!(failure.contains("\n-torvyn-other "), "{failure}");
        assert!(failure.contains("\n+torvyn-sim "), "{failure}");
        // The filter skips it.
        assert_eq!(run_dir(dir.path(), false, Some("other/")).ran, 0);

        // Another exit code fails, even when blessing.
        std::fs::write(
            dir.path().join("topic/version.t"),
            "RUN --version\nEXIT 2\n",
        )
        .unwrap();
        let failed = run_dir(dir.path(), true, None);
        let [failure] = &failed.failures[..] else {
            panic!("one failure expected: {:?}", failed.failures)
        };
        assert!(
            failure
                .contains("version.t:1: `torvyn-sim --version` exited with 0, the case expects 2"),
            "{failure}"
        );

        // The blessed outputs left behind by a renamed case fail.
        std::fs::remove_file(dir.path().join("topic/version.t")).unwrap();
        std::fs::write(dir.path().join("topic/renamed.t"), "RUN --version\n").unwrap();
        let failed = run_dir(dir.path(), true, None);
        assert_eq!(failed.failures.len(), 2, "{:?}", failed.failures);
        for failure in &failed.failures {
            assert!(
                failure.contains("version.std") && failure.contains("a blessed output with no"),
                "{failure}"
            );
        }
    }

    #[test]
    fn a_case_without_its_blessed_output_fails() {
        let dir = case_dir("RUN --version\n");
        let failed = run_dir(dir.path(), false, None);
        assert_eq!(failed.failures.len(), 1, "{:?}", failed.failures);
        assert!(failed.failures[0].contains("version.stdout: missing"));
        assert!(failed.failures[0].contains("version.stderr: missing"));
    }

    #[test]
    fn files_stdin_env_and_cat_reach_the_command() {
        let dir = case_dir(
            "FILE in.txt\n| one\n|\n| two\nRUN --no-cache run uppercase --input $TMP/in.txt \
             --format yaml\nCAT $TMP/in.txt\nRUN --no-cache run trap --input -\nSTDIN\n| a\n\
             ENV RUST_LOG=torvyn_engine=warn\nFILE core.wasm HEX 0061736d01000000\n\
             RUN --no-cache run core.wasm\nEXIT 3\n",
        );
        let report = run_dir(dir.path(), true, None);
        assert!(report.failures.is_empty(), "{:?}", report.failures);
        let stdout = std::fs::read_to_string(dir.path().join("topic/version.stdout")).unwrap();
        assert!(stdout.contains("text: ONE\n") && stdout.contains("text: TWO\n"));
        assert!(
            stdout.contains("$ cat $TMP/in.txt\none\n\ntwo\n"),
            "{stdout}"
        );
        assert!(stdout.contains("FAULT trap"), "stdin: {stdout}");
        let stderr = std::fs::read_to_string(dir.path().join("topic/version.stderr")).unwrap();
        assert!(stderr.contains("guest call faulted"), "ENV: {stderr}");
        assert!(
            stderr.contains("$ torvyn-sim --no-cache run core.wasm  [exit 3]\nerror: "),
            "{stderr}"
        );
        assert!(stderr.contains("core WebAssembly module"), "{stderr}");
    }
}

//! What the Rust tests of the CLI share: the binary with a cache option,
//! files in temporary directories, JSON reports, where the workspace and
//! the real-toolchain guests are.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The workspace root (`fixtures/`, `docs/`, `tests/all/snapshots/`).
pub fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    root.canonicalize().unwrap_or(root)
}

/// `torvyn-sim --no-cache`: every test compiles afresh and none writes to
/// the user's cache directory (the cache tests use [`sim_cached`]).
pub fn sim() -> Command {
    let mut cmd = sim_bare();
    cmd.arg("--no-cache");
    cmd
}

/// `torvyn-sim` with no cache option, its user directories in `home`
/// (`XDG_CACHE_HOME` unset), never the real ones.
pub fn sim_bare_in(home: &Path) -> Command {
    let mut cmd = sim_bare();
    cmd.env("HOME", home).env_remove("XDG_CACHE_HOME");
    cmd
}

/// `torvyn-sim --cache-dir DIR`.
pub fn sim_cached(dir: &Path) -> Command {
    let mut cmd = sim_bare();
    cmd.arg("--cache-dir").arg(dir);
    cmd
}

fn sim_bare() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_torvyn-sim"));
    // Errors and notes must not depend on where the binary is run from.
    cmd.current_dir(std::env::temp_dir());
    cmd.env_remove("RUST_LOG").env_remove("TORVYN_SIM_SEED");
    cmd
}

/// Writes `contents` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

pub fn json(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice(out)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", String::from_utf8_lossy(out)))
}

/// The JSON `cmd ARGS... --format json` prints with `stdin`; the command
/// must succeed.
pub fn ok_json_with(mut cmd: Command, args: &[&str], stdin: &str) -> serde_json::Value {
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

/// The payload bytes `calls` calls send, the elements of `sizes` in turn.
pub fn cycled(sizes: &[u64], calls: u64) -> u64 {
    (0..calls)
        .map(|k| sizes[(k % sizes.len() as u64) as usize])
        .sum()
}

/// Where `fixtures/guests/build.sh` put the real-toolchain guests
/// (`$TORVYN_GUESTS`, default `target/guests`).
pub fn guests_dir() -> PathBuf {
    match std::env::var_os("TORVYN_GUESTS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/guests"),
    }
}

/// The guest `name` (`py-router`), or `None` (with the reason printed)
/// when it is not built and this is not CI; in CI a missing guest fails.
pub fn guest(name: &str) -> Option<PathBuf> {
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
pub fn sim_guests() -> Command {
    sim_cached(&guests_dir().join("compiled"))
}

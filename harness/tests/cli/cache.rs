//! The compiled-component cache, looked into: the entry files, their
//! permissions, a corrupted entry, the stats against the bytes on disk.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

use crate::support::{json, path_str, sim_bare_in, sim_cached, write};

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

    // Sizes it refuses, and a bound with --no-cache: cases/cache/options.t.
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

    // `--no-cache cache stats`: cases/cache/options.t.
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

    // A file where the directory should be: cases/cache/options.t.

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

//! `torvyn-sim check SCENARIO --snapshot FILE [--update]`: runs a scenario
//! (or pipeline) file and compares the snapshot form of its transcript with
//! a file.
//!
//! Both sides are compared as YAML documents in one canonical text form
//! (parsed, enum tags such as `!emit` written as one-key maps, serialized
//! again), so an insta `.snap` file from the snapshot suite, whose `---`
//! header block is skipped, compares equal to the same transcript. A
//! difference is printed as a unified line diff of the canonical forms
//! (with the `similar` crate) and exits with [`super::EXIT_DIFFERS`].

use std::path::{Path, PathBuf};

use serde_yaml_ng::Value;
use similar::{ChangeTag, TextDiff};

use super::cache::CacheChoice;
use super::error::CliError;
use super::{CheckArgs, EXIT_DIFFERS, Report};
use crate::HarnessError;
use crate::backend::BackendKind;
use crate::backend::EngineSettings;
use crate::pipeline::{Pipeline, pipelines_dir, run_pipeline_using};
use crate::runner::{run_scenario_using, scenario_settings};
use crate::scenario::{Scenario, scenarios_dir};
use crate::transcript::to_yaml;

/// Finds the scenario: an existing file, else `NAME` in
/// `fixtures/scenarios/` or `fixtures/pipelines/` (`.yaml`, `.yml`, `.json`).
pub fn resolve(scenario: &str) -> Result<PathBuf, CliError> {
    let path = PathBuf::from(scenario);
    if path.is_file() {
        return Ok(path);
    }
    let looks_like_name = !scenario.contains('/') && Path::new(scenario).extension().is_none();
    if looks_like_name {
        for dir in [scenarios_dir(), pipelines_dir()] {
            for ext in ["yaml", "yml", "json"] {
                let p = dir.join(format!("{scenario}.{ext}"));
                if p.is_file() {
                    return Ok(p);
                }
            }
        }
    }
    Err(CliError::input(format!(
        "no scenario file {scenario}{}; pass the path of a scenario or pipeline file",
        if looks_like_name {
            format!(
                ", and no {scenario}.yaml in {} or {}",
                scenarios_dir().display(),
                pipelines_dir().display()
            )
        } else {
            String::new()
        }
    )))
}

/// Whether the file is a pipeline (a top-level `source` and `sink`) rather
/// than a scenario.
fn is_pipeline(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    match serde_yaml_ng::from_str::<Value>(&text) {
        Ok(Value::Mapping(m)) => m.contains_key("source") && m.contains_key("sink"),
        _ => false,
    }
}

/// Runs the scenario or pipeline file at `path` (on `backend`, else the
/// one the file names) and returns the snapshot form of its transcript as
/// YAML, and its name. Compiled components are kept where `cache` says.
pub fn snapshot_of(
    path: &Path,
    backend: Option<BackendKind>,
    cache: &CacheChoice,
) -> Result<(String, String), CliError> {
    let (cache_dir, cache_max_bytes) = (cache.resolve()?, cache.max_bytes);
    if is_pipeline(path) {
        let p = Pipeline::load(path)?;
        let settings = EngineSettings {
            cache_dir,
            cache_max_bytes,
            ..p.settings()
        };
        let kind = backend.unwrap_or_else(|| p.effective_backend());
        let t = run_pipeline_using(kind, &p, &settings)?;
        Ok((to_yaml(&t.snapshot_form())?, t.pipeline))
    } else {
        let s = Scenario::load(path)?;
        let settings = EngineSettings {
            cache_dir,
            cache_max_bytes,
            ..scenario_settings(&s)
        };
        if s.fail_host_call.is_some_and(|f| f.is_sweep()) {
            let kind = backend.unwrap_or_else(|| s.effective_backend());
            let sweep = crate::faults::sweep(kind, &s, &settings, s.sweep_limit)?;
            return Ok((to_yaml(&sweep)?, s.name));
        }
        let t = run_scenario_using(
            backend.unwrap_or_else(|| s.effective_backend()),
            &s,
            &settings,
        )?;
        Ok((t.snapshot_form().to_yaml()?, t.scenario))
    }
}

/// The body of an insta `.snap` file: everything after its `---` header
/// block. Text without a header is returned as is.
pub fn strip_insta_header(text: &str) -> &str {
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return text;
    };
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        offset += line.len();
        if line.trim_end() == "---" {
            return &rest[offset..];
        }
    }
    text
}

/// `!tag value` as `{tag: value}`, everywhere in `v`.
fn untag(v: Value) -> Value {
    match v {
        Value::Tagged(t) => {
            let tag = t.tag.to_string();
            let mut m = serde_yaml_ng::Mapping::new();
            m.insert(
                Value::String(tag.trim_start_matches('!').to_string()),
                untag(t.value),
            );
            Value::Mapping(m)
        }
        Value::Sequence(s) => Value::Sequence(s.into_iter().map(untag).collect()),
        Value::Mapping(m) => Value::Mapping(m.into_iter().map(|(k, v)| (k, untag(v))).collect()),
        other => other,
    }
}

/// The canonical text of a YAML document, or `None` when it does not parse.
pub fn canonical(text: &str) -> Option<String> {
    let v: Value = serde_yaml_ng::from_str(text).ok()?;
    serde_yaml_ng::to_string(&untag(v)).ok()
}

/// Runs `torvyn-sim check`.
pub fn run(args: &CheckArgs, cache: &CacheChoice) -> Result<Report, CliError> {
    let is_snap = args.snapshot.extension().is_some_and(|e| e == "snap");
    if args.update && is_snap {
        return Err(CliError::usage(format!(
            "--update does not write insta snapshots ({}); update those with \
             `INSTA_UPDATE=always cargo test --test all snapshots`, or write a .yaml snapshot",
            args.snapshot.display()
        )));
    }
    let path = resolve(&args.scenario)?;
    let (yaml, name) = snapshot_of(&path, args.backend.map(Into::into), cache)?;
    let actual = canonical(&yaml).unwrap_or(yaml);
    let snap = args.snapshot.display().to_string();

    if args.update {
        std::fs::write(&args.snapshot, &actual).map_err(|e| {
            CliError::engine(format!(
                "cannot write the snapshot {snap}: {e}; check that its directory exists and is \
                 writable"
            ))
        })?;
        return Ok(Report::ok(format!(
            "wrote {snap}: the transcript of {name} ({} lines)\n",
            actual.lines().count()
        )));
    }

    let text = match std::fs::read_to_string(&args.snapshot) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Report {
                stderr: format!("no snapshot at {snap} yet; run again with --update to write it\n"),
                code: EXIT_DIFFERS,
                ..Report::default()
            });
        }
        Err(e) => {
            return Err(HarnessError::Io {
                action: "read the snapshot",
                path: args.snapshot.clone(),
                source: e,
            }
            .into());
        }
    };
    let body = strip_insta_header(&text);
    let (expected, parsed) = match canonical(body) {
        Some(c) => (c, true),
        None => (body.to_string(), false),
    };
    if expected == actual {
        return Ok(Report::ok(format!(
            "ok: {name} matches {snap} ({} lines)\n",
            actual.lines().count()
        )));
    }
    let diff = TextDiff::from_lines(&expected, &actual);
    let (mut removed, mut added) = (0, 0);
    for change in diff.iter_all_changes() {
        match change.tag() {
            ChangeTag::Delete => removed += 1,
            ChangeTag::Insert => added += 1,
            ChangeTag::Equal => {}
        }
    }
    let unified = diff
        .unified_diff()
        .context_radius(3)
        .header(&snap, &format!("{name} (this run)"))
        .to_string();
    let mut stderr = format!(
        "the transcript of {name} differs from {snap}: {removed} line(s) only in the snapshot \
         (-), {added} only in this run (+); if the change is intended, run again with --update\n"
    );
    if !parsed {
        stderr.push_str(&format!(
            "note: {snap} is not valid YAML, so it was compared as text\n"
        ));
    }
    Ok(Report {
        stdout: unified,
        stderr,
        code: EXIT_DIFFERS,
        failure: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insta_headers_are_skipped() {
        let snap = "---\nsource: x.rs\nexpression: t\n---\na: 1\nb:\n  - 2\n";
        assert_eq!(strip_insta_header(snap), "a: 1\nb:\n  - 2\n");
        assert_eq!(strip_insta_header("a: 1\n"), "a: 1\n");
    }

    #[test]
    fn tags_and_indentation_do_not_count() {
        let ours = "x: !emit\n  n: 1\nl:\n- 2\n";
        let insta = "x:\n  emit:\n    n: 1\nl:\n  - 2\n";
        assert_eq!(canonical(ours), canonical(insta));
        assert_ne!(canonical(ours), canonical("x: !emit\n  n: 2\nl:\n- 2\n"));
    }
}

//! `torvyn-sim check SCENARIO --snapshot FILE [--update]`: runs a scenario
//! (or pipeline) file and compares the snapshot form of its transcript with
//! a file, exactly or by behaviour ([`crate::snapshot`], which does the
//! comparing), optionally with another build in place of a component
//! (`--component [STAGE=]C`).
//!
//! Both sides are compared as YAML documents in one canonical text form
//! (parsed, enum tags such as `!emit` written as one-key maps, serialized
//! again), so an insta `.snap` file from the snapshot suite, whose `---`
//! header block is skipped, compares equal to the same transcript. A
//! difference is printed as a unified line diff of the compared forms
//! (with the `similar` crate), followed by the per-call cost changes, and
//! exits with [`super::EXIT_DIFFERS`].

use std::path::{Path, PathBuf};

use serde_yaml_ng::Value;

use super::cache::CacheChoice;
use super::error::CliError;
use super::{CheckArgs, EXIT_DIFFERS, Report};
use crate::HarnessError;
use crate::backend::EngineSettings;
use crate::pipeline::{Pipeline, pipelines_dir};
use crate::scenario::scenario_settings;
use crate::scenario::{Scenario, scenarios_dir};
use crate::snapshot::{Compare, CompareSettings, Percent, canonical, compare};
use crate::spec::BackendKind;
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

/// Whether the file is a pipeline (a top-level `source`, which a scenario
/// does not have; its sinks may be `sink` or `sinks`) rather than a
/// scenario.
fn is_pipeline(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    match serde_yaml_ng::from_str::<Value>(&text) {
        Ok(Value::Mapping(m)) => m.contains_key("source"),
        _ => false,
    }
}

/// A component that takes the place of the file's: `--component C` for a
/// scenario, `--component STAGE=C` for a pipeline's stage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replacement {
    /// The stage (pipelines only).
    pub stage: Option<String>,
    /// The component: a fixture name, or a `.wat`/`.wasm` path (relative
    /// to the current directory).
    pub component: String,
}

impl Replacement {
    /// Reads `--component` values: `STAGE=C` when `pipeline`, else `C`.
    pub fn parse(values: &[String], pipeline: Option<&Pipeline>) -> Result<Vec<Self>, CliError> {
        let absolute = |c: &str| -> Result<String, CliError> {
            if !(c.ends_with(".wat") || c.ends_with(".wasm")) {
                return Ok(c.to_string());
            }
            let path = std::path::absolute(c).map_err(|e| {
                CliError::input(format!("--component {c}: cannot resolve the path: {e}"))
            })?;
            if !path.is_file() {
                return Err(CliError::input(format!(
                    "--component {c}: no such file ({}); pass the path of the other build",
                    path.display()
                )));
            }
            Ok(path.display().to_string())
        };
        match pipeline {
            None => match values {
                [] => Ok(Vec::new()),
                [c] => Ok(vec![Self {
                    stage: None,
                    component: absolute(c)?,
                }]),
                _ => Err(CliError::usage(
                    "a scenario has one component: pass --component once",
                )),
            },
            Some(p) => {
                let names = p.stage_names();
                let mut out: Vec<Self> = Vec::new();
                for v in values {
                    let Some((stage, c)) = v.split_once('=') else {
                        return Err(CliError::usage(format!(
                            "--component {v}: name the stage of pipeline {} it replaces, as \
                             --component STAGE={v} (stages: {})",
                            p.name,
                            names.join(", ")
                        )));
                    };
                    if !names.iter().any(|n| n == stage) {
                        return Err(CliError::usage(format!(
                            "--component {v}: pipeline {} has no stage `{stage}` (stages: {})",
                            p.name,
                            names.join(", ")
                        )));
                    }
                    if out.iter().any(|r| r.stage.as_deref() == Some(stage)) {
                        return Err(CliError::usage(format!(
                            "--component names stage `{stage}` twice; keep one"
                        )));
                    }
                    out.push(Self {
                        stage: Some(stage.to_string()),
                        component: absolute(c)?,
                    });
                }
                Ok(out)
            }
        }
    }
}

/// A scenario or pipeline run for `check`: its snapshot document, and what
/// the file says about comparing it.
#[derive(Clone, Debug)]
pub struct Checked {
    /// The snapshot form as YAML.
    pub yaml: String,
    /// The scenario's or pipeline's name.
    pub name: String,
    /// The file's `compare`.
    pub compare: Option<Compare>,
    /// The file's `fuel_tolerance`.
    pub fuel_tolerance: Option<Percent>,
    /// The comparison the run gets when neither the file nor the command
    /// line chooses, and why ([`Compare::default_for`]).
    pub default: (Compare, &'static str),
    /// One line per replaced component: `stage: C in place of X`.
    pub replaced: Vec<String>,
    /// What the run did that the scenario's host-call expectations do not
    /// allow ([`crate::transcript::Transcript::unexpected_host_calls`]).
    pub unexpected_host_calls: Vec<String>,
    /// With `coverage`: how much ran and where the LCOV file is.
    pub coverage_note: Option<String>,
}

/// Runs the scenario or pipeline file at `path` (on `backend`, else the
/// one the file names; with `components` in place of the file's) and
/// returns its snapshot document. Compiled components are kept where
/// `cache` says. In the document, a replaced component keeps the file's
/// name for it, so a snapshot of one build compares with a run of another.
/// With `trace_host_calls`, the run traces host calls whatever the file
/// says.
/// With `coverage`, the run records coverage and writes it there as LCOV
/// ([`Checked::coverage_note`] says how much ran).
pub fn snapshot_of(
    path: &Path,
    backend: Option<BackendKind>,
    cache: &CacheChoice,
    components: &[String],
    trace_host_calls: bool,
    coverage: Option<&Path>,
) -> Result<Checked, CliError> {
    let (cache_dir, cache_max_bytes) = (cache.resolve()?, cache.max_bytes);
    let mock = |kind| {
        if coverage.is_some() && kind == BackendKind::Mock {
            return Err(CliError::usage(
                "--coverage records which guest code ran on Wasmtime, and the mock backend runs \
                 none; drop --coverage, or run on Wasmtime (--backend wasmtime)",
            ));
        }
        Ok(())
    };
    if is_pipeline(path) {
        let mut p = Pipeline::load(path)?;
        p.trace_host_calls |= trace_host_calls;
        let replacements = Replacement::parse(components, Some(&p))?;
        let names = p.stage_names();
        let mut replaced = Vec::new();
        let mut labels = Vec::new();
        for (name, stage) in names.iter().zip(p.all_stages_mut()) {
            if let Some(r) = replacements
                .iter()
                .find(|r| r.stage.as_deref() == Some(name))
            {
                replaced.push(format!(
                    "stage {name}: {} in place of {}",
                    r.component, stage.component
                ));
                labels.push((name.clone(), stage.component.clone()));
                // An unnamed stage is named after its component: keep the name.
                stage.name.get_or_insert_with(|| name.clone());
                stage.component = r.component.clone();
                stage.mock = None;
            }
        }
        let settings = EngineSettings {
            cache_dir,
            cache_max_bytes,
            ..p.settings()
        };
        let kind = backend.unwrap_or_else(|| p.effective_backend());
        let sources: Vec<_> = p
            .all_stages()
            .map(|s| s.component_source(p.base_dir.as_deref()))
            .collect();
        mock(kind)?;
        let (mut t, coverage_note) = super::coverage::run_pipeline(coverage, kind, &p, &settings)?;
        for (name, label) in labels {
            if let Some(stage) = t.stages.iter_mut().find(|s| s.name == name) {
                stage.component = label;
            }
        }
        Ok(Checked {
            yaml: to_yaml(&t.snapshot_form())?,
            name: t.pipeline,
            compare: p.compare,
            fuel_tolerance: p.fuel_tolerance,
            default: Compare::default_for(kind, &sources),
            replaced,
            unexpected_host_calls: Vec::new(),
            coverage_note,
        })
    } else {
        let mut s = Scenario::load(path)?;
        s.trace_host_calls |= trace_host_calls;
        let mut replaced = Vec::new();
        let label = s.component.clone();
        if let Some(r) = Replacement::parse(components, None)?.pop() {
            replaced.push(format!("{} in place of {}", r.component, s.component));
            s.component = r.component;
            s.mock = None;
        }
        let settings = EngineSettings {
            cache_dir,
            cache_max_bytes,
            ..scenario_settings(&s)
        };
        let kind = backend.unwrap_or_else(|| s.effective_backend());
        let default = Compare::default_for(kind, [&s.component_source()]);
        mock(kind)?;
        let mut coverage_note = None;
        let (yaml, name, unexpected_host_calls) = if s.fail_host_call.is_some_and(|f| f.is_sweep())
        {
            if coverage.is_some() {
                return Err(CliError::usage(
                    "--coverage records one run, not a sweep (`fail_host_call: all`); drop it",
                ));
            }
            let mut sweep = crate::faults::sweep(kind, &s, &settings, s.sweep_limit)?;
            sweep.component = label;
            (to_yaml(&sweep)?, s.name.clone(), Vec::new())
        } else {
            let (mut t, note) = super::coverage::run_scenario(coverage, kind, &s, &settings)?;
            coverage_note = note;
            t.component = label;
            let problems = std::mem::take(&mut t.unexpected_host_calls);
            (t.snapshot_form().to_yaml()?, t.scenario, problems)
        };
        Ok(Checked {
            yaml,
            name,
            compare: s.compare,
            fuel_tolerance: s.fuel_tolerance,
            default,
            replaced,
            unexpected_host_calls,
            coverage_note,
        })
    }
}

/// The host calls a run made that its scenario's `expect_host_calls` or
/// `forbid_host_calls` do not allow, as lines for stderr; `None` when
/// there are none.
fn unexpected_host_calls(problems: &[String]) -> Option<String> {
    if problems.is_empty() {
        return None;
    }
    let mut s: String = problems
        .iter()
        .map(|p| format!("unexpected host call: {p}\n"))
        .collect();
    s += &format!(
        "{} host-call expectation(s) failed (exit code {}); `host_call_trace` \
         (--trace-host-calls) lists every host call of each call\n",
        problems.len(),
        EXIT_DIFFERS
    );
    Some(s)
}

/// Per-call cost rows `check` prints at most.
const COST_ROWS: usize = 20;

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
    if args.compare == Some(Compare::Exact) && args.fuel_tolerance.is_some() {
        return Err(CliError::usage(
            "--fuel-tolerance needs --compare behaviour (exact comparison already fails on any \
             fuel change); drop one of them",
        ));
    }
    let path = resolve(&args.scenario)?;
    let checked = snapshot_of(
        &path,
        args.backend,
        cache,
        &args.component,
        args.trace_host_calls,
        args.coverage.as_deref(),
    )?;
    if let Some(problems) = unexpected_host_calls(&checked.unexpected_host_calls) {
        return Ok(Report {
            stderr: format!(
                "{}: the run made host calls the file does not allow; the snapshot was not {}\n{problems}",
                checked.name,
                if args.update { "written" } else { "compared" }
            ),
            code: EXIT_DIFFERS,
            ..Report::default()
        });
    }
    let name = &checked.name;
    let actual = canonical(&checked.yaml).unwrap_or_else(|| checked.yaml.clone());
    let snap = args.snapshot.display().to_string();
    let mut notes: String = checked
        .replaced
        .iter()
        .map(|r| format!("ran {r}\n"))
        .collect();
    notes.push_str(checked.coverage_note.as_deref().unwrap_or_default());

    if args.update {
        std::fs::write(&args.snapshot, &actual).map_err(|e| {
            CliError::engine(format!(
                "cannot write the snapshot {snap}: {e}; check that its directory exists and is \
                 writable"
            ))
        })?;
        return Ok(Report {
            stdout: format!(
                "wrote {snap}: the transcript of {name} ({} lines)\n",
                actual.lines().count()
            ),
            stderr: notes,
            ..Report::default()
        });
    }

    let text = match std::fs::read_to_string(&args.snapshot) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            notes.push_str(&format!(
                "no snapshot at {snap} yet; run again with --update to write it\n"
            ));
            return Ok(Report {
                stderr: notes,
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

    // The command line, else the file, else the default for its components.
    let (mode, why) = match (args.compare, checked.compare) {
        (Some(c), _) => (c, "--compare"),
        (None, Some(c)) => (c, "the file's `compare`"),
        (None, None) if args.fuel_tolerance.is_some() || checked.fuel_tolerance.is_some() => {
            (Compare::Behaviour, "a fuel tolerance")
        }
        (None, None) => checked.default,
    };
    let settings = CompareSettings {
        compare: mode,
        fuel_tolerance: match mode {
            Compare::Exact => None,
            Compare::Behaviour => args.fuel_tolerance.or(checked.fuel_tolerance),
        },
    };
    let c = compare(&text, &actual, &settings);
    let lines = actual.lines().count();
    let costs = c.render_costs(COST_ROWS);
    let how = match mode {
        Compare::Exact => format!("compared exactly: {why}"),
        Compare::Behaviour => format!(
            "compared behaviour, {}: {why}",
            match settings.fuel_tolerance {
                Some(t) => format!("fuel within {t}"),
                None => "fuel and time not compared".into(),
            }
        ),
    };
    if c.passed() {
        return Ok(Report {
            stdout: format!("ok: {name} matches {snap} ({lines} lines; {how})\n{costs}"),
            stderr: notes,
            ..Report::default()
        });
    }
    let mut stdout = String::new();
    if let Some(d) = &c.diff {
        let unified = d
            .unified
            .replacen("--- snapshot", &format!("--- {snap}"), 1)
            .replacen("+++ this run", &format!("+++ {name} (this run)"), 1);
        stdout.push_str(&unified);
        notes.push_str(&format!(
            "the transcript of {name} differs from {snap} ({how}): {} line(s) only in the \
             snapshot (-), {} only in this run (+); if the change is intended, run again with \
             --update\n",
            d.removed, d.added
        ));
        if c.only_costs_differ {
            notes.push_str(
                "only fuel and engine-clock times differ (the table below); to compare what the \
                 component did and not what it cost, pass --compare behaviour or set `compare: \
                 behaviour` in the file (with `fuel_tolerance: 10` to bound the fuel)\n",
            );
        }
        if d.as_text {
            notes.push_str(&format!(
                "note: {snap} is not valid YAML, so it was compared as text\n"
            ));
        }
    }
    if let Some(r) = &c.regression {
        notes.push_str(&format!(
            "{name}: {r}; if the cost is intended, run again with --update\n"
        ));
    }
    if !costs.is_empty() {
        if !stdout.is_empty() && !stdout.ends_with('\n') {
            stdout.push('\n');
        }
        stdout.push_str(&costs);
    }
    Ok(Report {
        stdout,
        stderr: notes,
        code: EXIT_DIFFERS,
        failure: None,
    })
}

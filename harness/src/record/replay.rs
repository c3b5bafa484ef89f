//! Replaying a recording: the recorded inputs, in order, to a component on
//! either backend, each answer compared with the recorded one; the first
//! that differs stops the replay, unless [`ReplayOptions::max_divergences`]
//! lets it go on and list more (`torvyn-sim replay --all`).
//!
//! What the guest reads from the outside world is given back too (format
//! version 3): before each call the instance is scripted with the values
//! the recorded call read ([`ComponentInvoker::script_world`]), so a
//! recording made under the system clock or any seed replays exactly
//! whatever the replaying engine's clock and seed. The reads the guest
//! makes are compared with the recorded ones: the first call that reads
//! differently (more reads of an interface, fewer, another one) is a
//! [`WorldDivergence`], and the replay goes on, each interface's recorded
//! values given back in order and live values once they run out. What the
//! guest writes to stdout and stderr is compared too (an
//! [`OutputDivergence`], which [`ReplayReport::ignore_output`] ignores).
//! Each kind of divergence is listed up to the same limit.

use torvyn_engine::record::{PayloadMode, Recording};
use torvyn_engine::{ComponentId, ComponentInvoker, Grants, InstanceOptions, WasmEngine};

use std::path::{Path, PathBuf};

use super::compare::{
    describe_outcome, describe_payload, first_difference, make_call, output_divergence, percentile,
    read_divergence, same,
};
use super::report::{Divergence, FuelFigures, ReplayReport};
use crate::backend::{EngineSettings, SimBackend};
use crate::error::HarnessError;
use crate::source::ComponentSource;
use crate::spec::BackendKind;

/// Where the component a recording names is, for a replay run from any
/// directory: `named` as recorded (a fixture name, or a path: absolute in
/// recordings made by this harness, relative to where they were made in
/// older ones), else that path under the directory of the recording file
/// `recording`, else its file name beside the recording. The source and,
/// when it was not found where recorded, a note saying where it was;
/// `Err` with every path looked at when none exists.
pub fn locate_component(
    named: &str,
    recording: &Path,
) -> Result<(ComponentSource, Option<String>), Vec<PathBuf>> {
    let as_recorded = ComponentSource::parse(named, None);
    let path = match &as_recorded {
        ComponentSource::Wat(p) | ComponentSource::Wasm(p) => p.clone(),
        _ => return Ok((as_recorded, None)),
    };
    let dir = recording.parent().unwrap_or(Path::new(""));
    let mut candidates = vec![path.clone()];
    if path.is_relative() {
        candidates.push(dir.join(&path));
    }
    if let Some(name) = path.file_name() {
        candidates.push(dir.join(name));
    }
    candidates.dedup();
    let found = candidates.iter().position(|c| c.is_file());
    match found {
        Some(0) => Ok((as_recorded, None)),
        Some(i) => {
            let at = candidates[i].clone();
            let note = format!(
                "the recorded component {named} is not there; replaying against {}, beside the \
                 recording",
                at.display()
            );
            let source = match as_recorded {
                ComponentSource::Wat(_) => ComponentSource::Wat(at),
                _ => ComponentSource::Wasm(at),
            };
            Ok((source, Some(note)))
        }
        None => Err(candidates),
    }
}

/// How a replay runs ([`replay_with`], [`replay_on_with`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplayOptions {
    /// Fuel per call; the engine's default when `None`.
    pub fuel: Option<u64>,
    /// The most divergences of each kind (answers, reads, output) listed:
    /// the replay stops at the answer divergence that reaches it. 1 (the
    /// default) stops at the first; `usize::MAX` replays every call
    /// (`torvyn-sim replay --all`). 0 counts as 1.
    pub max_divergences: usize,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        Self {
            fuel: None,
            max_divergences: 1,
        }
    }
}

/// Replays `recording` against `source` on a new engine of `backend`,
/// stopping at the first divergence ([`replay_with`] to go on).
pub fn replay(
    recording: &Recording,
    source: &ComponentSource,
    label: &str,
    backend: BackendKind,
    settings: &EngineSettings,
    fuel: Option<u64>,
) -> Result<ReplayReport, HarnessError> {
    let options = ReplayOptions {
        fuel,
        ..ReplayOptions::default()
    };
    replay_with(recording, source, label, backend, settings, &options)
}

/// [`replay`] with `options`.
pub fn replay_with(
    recording: &Recording,
    source: &ComponentSource,
    label: &str,
    backend: BackendKind,
    settings: &EngineSettings,
    options: &ReplayOptions,
) -> Result<ReplayReport, HarnessError> {
    crate::with_backend!(backend, settings, |b| replay_on_with(
        b, recording, source, label, options
    ))?
}

/// [`replay_on_with`] stopping at the first divergence, with `fuel` per
/// call if given.
pub fn replay_on<B: SimBackend>(
    backend: &B,
    recording: &Recording,
    source: &ComponentSource,
    label: &str,
    fuel: Option<u64>,
) -> Result<ReplayReport, HarnessError> {
    let options = ReplayOptions {
        fuel,
        ..ReplayOptions::default()
    };
    replay_on_with(backend, recording, source, label, &options)
}

/// Replays `recording` against `source` (named `label` in messages) on
/// `backend`: instantiates it with the recorded id, grants and insecure
/// seed (and the options' fuel per call, if given), makes every recorded
/// call with the recorded input and the recorded reads of the outside
/// world (see the module docs), and stops at the answer divergence that
/// reaches [`ReplayOptions::max_divergences`]. Outputs are
/// compared by payload, content types and sequence number; guest errors by
/// kind and message; faults by kind (their messages name backend details).
/// Reads and stdout/stderr are compared for a version 3 recording (older
/// ones hold none: their guest reads live values).
pub fn replay_on_with<B: SimBackend>(
    backend: &B,
    recording: &Recording,
    source: &ComponentSource,
    label: &str,
    replay_options: &ReplayOptions,
) -> Result<ReplayReport, HarnessError> {
    let max = replay_options.max_divergences.max(1);
    let header = &recording.header;
    if header.payloads == PayloadMode::Digest && recording.calls.iter().any(|c| c.input.is_some()) {
        return Err(HarnessError::InvalidScenario {
            scenario: label.to_string(),
            problem: "the recording keeps digests of its payloads, not the payloads, so its \
                      inputs cannot be fed again; record with payloads stored (the default; \
                      no --digest-payloads) to replay"
                .into(),
        });
    }
    let compiled = backend.compile(source, label)?;
    let id = header.component.id.clone();
    let world = header.world.clone().unwrap_or_default();
    let options = InstanceOptions {
        grants: Grants::new(header.component.grants.iter().cloned()),
        insecure_seed: world.insecure_seed_value(),
        ..InstanceOptions::default()
    };
    let mut inst = backend
        .engine()
        .instantiate_with(&compiled, ComponentId::new(&id), &options)
        .map_err(|source| HarnessError::engine("instantiate", &id, source))?;
    // Recorded reads are compared from version 3 on.
    let compare_world = header.version >= 3;
    if let Some(fuel) = replay_options.fuel {
        backend.set_fuel(&mut inst, fuel, &id)?;
    }
    let mut notes = Vec::new();
    if header.first_call > 0 {
        notes.push(format!(
            "this is part {} of a rotated recording, from call {}: the component's state \
             before that call is not replayed, so early calls may differ",
            header.part, header.first_call
        ));
    }
    if !compare_world {
        notes.push(format!(
            "a version {} recording holds nothing of what the guest read from the outside \
             world: its clocks and random values are live, and its stdout and stderr are not \
             compared",
            header.version
        ));
    }
    if recording.end.is_none() {
        notes.push("the recording has no end line (its writer did not finish)".into());
    } else if recording.end.is_some_and(|e| e.truncated) {
        notes.push("the recording was stopped by its byte cap: later calls are not in it".into());
    }

    let mut report = ReplayReport {
        component: label.to_string(),
        backend: B::KIND,
        recorded_id: id,
        calls: recording.calls.len(),
        replayed: 0,
        equal: 0,
        max_divergences: max,
        divergences: Vec::new(),
        world_divergences: Vec::new(),
        output_divergences: Vec::new(),
        ignore_output: false,
        fuel: FuelFigures::default(),
        notes,
    };
    let (mut recorded_fuel, mut now_fuel) = (Vec::new(), Vec::new());
    for call in &recording.calls {
        if compare_world {
            inst.script_world(&call.reads);
        }
        let (actual, fuel_now) = make_call(&mut inst, call);
        if compare_world {
            let world = inst.take_world();
            if report.world_divergences.len() < max {
                report
                    .world_divergences
                    .extend(read_divergence(call, &world.reads));
            }
            if report.output_divergences.len() < max {
                report
                    .output_divergences
                    .extend(output_divergence(call, &world));
            }
        }
        report.replayed += 1;
        recorded_fuel.push(call.metrics.fuel);
        now_fuel.push(fuel_now);
        if same(&call.outcome, &actual) {
            report.equal += 1;
            continue;
        }
        report.divergences.push(Divergence {
            index: call.index,
            function: call.function,
            input: call
                .input
                .as_ref()
                .map(|i| format!("seq={} {}", i.sequence, describe_payload(&i.payload))),
            expected: describe_outcome(&call.outcome),
            actual: describe_outcome(&actual),
            detail: first_difference(&call.outcome, &actual),
        });
        if report.divergences.len() >= max {
            break;
        }
    }
    report.fuel = FuelFigures {
        recorded_p50: percentile(&recorded_fuel, 50),
        recorded_p99: percentile(&recorded_fuel, 99),
        now_p50: percentile(&now_fuel, 50),
        now_p99: percentile(&now_fuel, 99),
        recorded_total: recorded_fuel.iter().sum(),
        now_total: now_fuel.iter().sum(),
    };
    Ok(report)
}

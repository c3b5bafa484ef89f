//! A pipeline simulation: source → zero or more processors → sink, driven
//! by demand on one shared (by default virtual) clock, recorded in a
//! [`PipelineTranscript`] whose entries are tagged with their stage.
//!
//! The loop, which plays the runtime:
//!
//! 1. `init` every stage, source first, as the runtime does: once, on every
//!    stage that exports `lifecycle` (with `""` when it has no config) or
//!    has a config. When a stage's `init` fails, the stream does not start:
//!    no element could pass that stage. Its totals' `stopped` and the
//!    summary's `stopped` say so.
//! 2. Pull one element from the source (`none` ends the stream). The runtime
//!    stamps it: sequence numbers 0, 1, ... in pull order, the clock as
//!    timestamp, the run's trace and flow ids, a fresh span id, and
//!    optionally a deadline `element_deadline_ns` after the pull.
//! 3. Pass it through each processor in order: an emitted element goes on
//!    (keeping the runtime's sequence, timestamp and flow, taking the
//!    processor's payload and content type); a drop, `process-error` or
//!    fault ends that element's journey.
//! 4. Push it to the sink. When the sink answers `pause`, the runtime stops
//!    pulling and sends `notify-backpressure(pause)` to the source; before
//!    the next pull it models the sink draining by advancing the virtual
//!    clock by `drain_ns`, then sends `notify-backpressure(ready)`.
//! 5. Repeat until the source is exhausted, `max_pulls` pulls were made,
//!    the source fails for good (`fatal`, or a fault that poisons it), or a
//!    processor or the sink answers `fatal`: `fatal` is terminal for every
//!    role, so that stage gets no further element and, with the chain
//!    broken, the runtime pulls no more. A `fatal` sink gets no `complete`.
//! 6. `complete` the sink, then `teardown` every stage, source first.
//!
//! As in [`crate::runner`], faults never abort the run: they are recorded,
//! and a poisoned processor or sink keeps answering `poisoned`.
//!
//! ```yaml
//! name: count-filter-upper-sink
//! source: {component: counter-source, config: '{"count": 6}'}
//! processors:
//!   - {component: filter}
//!   - {component: uppercase, fuel: 1000000}
//! sink: {component: sink, config: '{"count": 2}'}
//! drain_ns: 5000          # virtual time the sink needs to drain after a pause
//! max_pulls: 100          # default 1000
//! element_deadline_ns: 1000000   # optional
//! seed: 7
//! backend: wasmtime       # wasmtime | mock (fixture models, `mock:` stages)
//! strategy: cranelift
//! clock: virtual
//! ```
//!
//! A stage may script a mock component instead of naming a fixture
//! (`{component: flaky, mock: {process: {cycle: [emit-input, drop]}}}`,
//! see [`crate::script::MockSpec`]); such a pipeline runs on the mock.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use torvyn_engine::{BackpressureSignal, ElementMeta, ProcessResult, WasmEngine};

use crate::backend::{BackendKind, EngineSettings, SimBackend};
use crate::error::HarnessError;
use crate::runner::{Driver, ends_source, fatal, stage_id};
use crate::scenario::{ClockSetting, ComponentSource, Strategy, VirtualTimeSpec};
use crate::script::MockSpec;
use crate::sim::{DEFAULT_SEED, SimRng};
use crate::transcript::{
    Call, Entry, OutputFormat, Summary, WallStats, mask_times, per_second, render_entries, to_json,
    to_yaml,
};

/// The virtual time a sink takes to drain after `pause`, when a pipeline
/// sets none.
pub const DEFAULT_DRAIN_NS: u64 = 10_000;

/// The most pulls a pipeline makes when it sets no `max_pulls`.
pub const DEFAULT_MAX_PULLS: u64 = 1000;

/// A pipeline to simulate. Loaded from YAML or JSON like a
/// [`crate::scenario::Scenario`]; unknown fields are errors.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pipeline {
    /// A short name.
    pub name: String,
    /// What the pipeline shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The source.
    pub source: StageSpec,
    /// The processors, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub processors: Vec<StageSpec>,
    /// The sink.
    pub sink: StageSpec,
    /// The most pulls ([`DEFAULT_MAX_PULLS`] when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_pulls: Option<u64>,
    /// Virtual nanoseconds the sink takes to drain after `pause`
    /// ([`DEFAULT_DRAIN_NS`] when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drain_ns: Option<u64>,
    /// A deadline for every element, this long after its pull.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element_deadline_ns: Option<u64>,
    /// The seed ([`DEFAULT_SEED`] when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The backend; [`BackendKind::default_for_build`] when absent (the
    /// mock when a stage has a `mock:` section).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<BackendKind>,
    /// The compiler.
    #[serde(default)]
    pub strategy: Strategy,
    /// The clock.
    #[serde(default)]
    pub clock: ClockSetting,
    /// The virtual clock's cost model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtual_time: Option<VirtualTimeSpec>,
    /// The directory relative component paths are resolved against.
    #[serde(skip)]
    pub base_dir: Option<PathBuf>,
}

/// One stage of a pipeline.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageSpec {
    /// The stage's name in the transcript (default: the component's name,
    /// with `-2`, `-3`... added when it repeats).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A fixture name, a `.wat` path or a `.wasm` path (with `mock`: the
    /// scripted component's name).
    pub component: String,
    /// A scripted mock component (mock backend only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mock: Option<MockSpec>,
    /// `init(config)`; no `init` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// The stage's per-call fuel budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fuel: Option<u64>,
}

impl StageSpec {
    /// Where the stage's component comes from.
    pub fn component_source(&self, base_dir: Option<&Path>) -> ComponentSource {
        ComponentSource::of(&self.component, self.mock.as_ref(), base_dir)
    }
}

impl StageSpec {
    /// A stage running `component` with defaults.
    pub fn new(component: impl Into<String>) -> Self {
        Self {
            component: component.into(),
            ..Self::default()
        }
    }

    /// The same stage with an `init` config.
    pub fn with_config(mut self, config: impl Into<String>) -> Self {
        self.config = Some(config.into());
        self
    }
}

/// The role a stage plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StageRole {
    /// Pulled from.
    Source,
    /// Processes.
    Processor,
    /// Pushed to.
    Sink,
}

impl StageRole {
    /// `source`, `processor` or `sink`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Source => "source",
            Self::Processor => "processor",
            Self::Sink => "sink",
        }
    }
}

/// A stage's identity and totals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StageReport {
    /// The stage's name (as in [`Entry::stage`]).
    pub name: String,
    /// The component.
    pub component: String,
    /// Its role.
    pub role: StageRole,
    /// Calls, fuel, bytes, time, errors and elements of this stage.
    pub totals: Summary,
}

/// Totals of a pipeline run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PipelineSummary {
    /// Elements the source produced.
    pub elements_pulled: u64,
    /// Elements the sink accepted.
    pub elements_delivered: u64,
    /// Elements a processor dropped.
    pub elements_dropped: u64,
    /// Elements whose journey ended in a `process-error` or fault (pull
    /// failures included).
    pub elements_failed: u64,
    /// Times the sink asked for a pause.
    pub pauses: u64,
    /// Calls, all stages.
    pub calls: u64,
    /// Fuel, all stages.
    pub fuel_total: u64,
    /// Time on the engine clock from the first call to the last, drains
    /// included.
    pub virtual_time_ns: u64,
    /// Elements delivered per second of engine-clock time.
    pub elements_per_virtual_second: u64,
    /// Why the stream ended early: the first stage whose `init` failed or
    /// that answered `fatal`. Absent when it ran to its end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// Real time; absent in the snapshot form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall: Option<WallStats>,
}

/// The record of a pipeline run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PipelineTranscript {
    /// The pipeline's name.
    pub pipeline: String,
    /// The seed.
    pub seed: u64,
    /// The backend that ran it.
    pub backend: BackendKind,
    /// The compiler (Wasmtime only).
    pub strategy: Strategy,
    /// The clock.
    pub clock: ClockSetting,
    /// The trace id every element carried.
    pub trace_id: String,
    /// The flow id every element carried.
    pub flow_id: String,
    /// Every stage, source first, with its totals.
    pub stages: Vec<StageReport>,
    /// Every call, in order, tagged with its stage.
    pub entries: Vec<Entry>,
    /// Totals.
    pub summary: PipelineSummary,
}

impl Pipeline {
    /// Loads a pipeline from a `.json` file (JSON) or any other file (YAML).
    pub fn load(path: impl AsRef<Path>) -> Result<Self, HarnessError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| HarnessError::Io {
            action: "read the pipeline",
            path: path.to_path_buf(),
            source,
        })?;
        let origin = path.display().to_string();
        let mut p: Self = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text).map_err(|e| HarnessError::json(&origin, &e))?
        } else {
            serde_yaml_ng::from_str(&text).map_err(|e| HarnessError::yaml(&origin, &e))?
        };
        p.base_dir = path.parent().map(Path::to_path_buf);
        p.validate()?;
        Ok(p)
    }

    /// Parses a YAML pipeline; `origin` names it in errors.
    pub fn from_yaml_str(text: &str, origin: &str) -> Result<Self, HarnessError> {
        let p: Self = serde_yaml_ng::from_str(text).map_err(|e| HarnessError::yaml(origin, &e))?;
        p.validate()?;
        Ok(p)
    }

    /// A pipeline with defaults for everything but its stages.
    pub fn new(
        name: impl Into<String>,
        source: StageSpec,
        processors: Vec<StageSpec>,
        sink: StageSpec,
    ) -> Self {
        Self {
            name: name.into(),
            source,
            processors,
            sink,
            ..Self::default()
        }
    }

    /// The seed in effect.
    pub fn effective_seed(&self) -> u64 {
        self.seed.unwrap_or(DEFAULT_SEED)
    }

    /// The backend in effect: the one named; else the mock when a stage is
    /// scripted; else [`BackendKind::default_for_build`].
    pub fn effective_backend(&self) -> BackendKind {
        BackendKind::in_effect(self.backend, self.stages().any(|(_, s)| s.mock.is_some()))
    }

    /// The engine settings the pipeline asks for.
    pub fn settings(&self) -> EngineSettings {
        EngineSettings {
            strategy: self.strategy,
            clock: self.clock,
            virtual_time: VirtualTimeSpec::model(self.virtual_time.as_ref()),
            seed: self.effective_seed(),
        }
    }

    /// Checks names and components.
    pub fn validate(&self) -> Result<(), HarnessError> {
        let bad = |problem: String| HarnessError::InvalidScenario {
            scenario: self.name.clone(),
            problem,
        };
        if self.name.trim().is_empty() {
            return Err(bad("`name` is empty; give the pipeline a short name".into()));
        }
        for (what, s) in self.stages() {
            if s.component.trim().is_empty() {
                return Err(bad(format!(
                    "the {} stage has an empty `component`",
                    what.name()
                )));
            }
        }
        if self.max_pulls == Some(0) {
            return Err(bad(
                "`max_pulls` is 0; leave it out or make it at least 1".into()
            ));
        }
        for (what, s) in self.stages() {
            if let Some(spec) = &s.mock {
                spec.validate_on(self.backend)
                    .map_err(|p| bad(format!("the {} stage's `mock:` {p}", what.name())))?;
            }
        }
        Ok(())
    }

    fn stages(&self) -> impl Iterator<Item = (StageRole, &StageSpec)> {
        std::iter::once((StageRole::Source, &self.source))
            .chain(self.processors.iter().map(|p| (StageRole::Processor, p)))
            .chain(std::iter::once((StageRole::Sink, &self.sink)))
    }

    /// Stage names, source first: the `name` given, else the component's
    /// name, made unique with `-2`, `-3`...
    pub fn stage_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for (_, s) in self.stages() {
            let base = s.name.clone().unwrap_or_else(|| stage_id(&s.component));
            let mut name = base.clone();
            let mut n = 2;
            while names.contains(&name) {
                name = format!("{base}-{n}");
                n += 1;
            }
            names.push(name);
        }
        names
    }
}

/// Runs `pipeline` on a new engine of the backend it names.
pub fn run_pipeline(pipeline: &Pipeline) -> Result<PipelineTranscript, HarnessError> {
    run_pipeline_with(pipeline.effective_backend(), pipeline)
}

/// Runs `pipeline` on a new engine of `backend`, whatever the file names
/// (the CLI's `--backend`).
pub fn run_pipeline_with(
    backend: BackendKind,
    pipeline: &Pipeline,
) -> Result<PipelineTranscript, HarnessError> {
    crate::with_backend!(backend, &pipeline.settings(), |b| run_pipeline_on(
        b, pipeline
    ))?
}

type Instance<B> = <<B as SimBackend>::Engine as WasmEngine>::Instance;

struct Live<B: SimBackend> {
    name: String,
    spec: StageSpec,
    role: StageRole,
    inst: Instance<B>,
}

/// Runs `pipeline` on `backend` (fresh: its clock is the pipeline's
/// timeline).
pub fn run_pipeline_on<B: SimBackend>(
    backend: &B,
    pipeline: &Pipeline,
) -> Result<PipelineTranscript, HarnessError> {
    pipeline.validate()?;
    let seed = pipeline.effective_seed();
    let mut ids = SimRng::new(seed).fork("ids");
    let trace_id = ids.trace_id();
    let flow_id = ids.flow_id();

    let mut stages: Vec<Live<B>> = Vec::new();
    for ((role, spec), name) in pipeline.stages().zip(pipeline.stage_names()) {
        let source = spec.component_source(pipeline.base_dir.as_deref());
        let compiled = backend.compile(&source, &spec.component)?;
        let mut inst = backend.instantiate(&compiled, &name)?;
        if let Some(fuel) = spec.fuel {
            backend.set_fuel(&mut inst, fuel, &name)?;
        }
        stages.push(Live {
            name,
            spec: spec.clone(),
            role,
            inst,
        });
    }
    let (source, rest) = stages.split_first_mut().expect("a source");
    let (sink, processors) = rest.split_last_mut().expect("a sink");

    let clock = backend.clock().clone();
    let wall = Instant::now();
    let start_ns = clock.now_ns();
    let mut d = Driver::new(backend);
    let mut sum = PipelineSummary::default();

    // Why each stage stopped taking elements, by stage index.
    let mut stopped: Vec<Option<String>> = vec![None; processors.len() + 2];
    for (i, st) in std::iter::once(&mut *source)
        .chain(processors.iter_mut())
        .chain(std::iter::once(&mut *sink))
        .enumerate()
    {
        stopped[i] = d.init_if_needed(&mut st.inst, Some(&st.name), st.spec.config.as_deref());
    }
    let sink_index = processors.len() + 1;

    let max_pulls = pipeline.max_pulls.unwrap_or(DEFAULT_MAX_PULLS);
    let drain_ns = pipeline.drain_ns.unwrap_or(DEFAULT_DRAIN_NS);
    let mut paused = false;
    let mut sequence = 0u64;
    let mut pulls = 0u64;
    while pulls < max_pulls && stopped.iter().all(Option::is_none) {
        pulls += 1;
        if paused {
            clock.advance(drain_ns);
            let _ = d.notify(
                &mut source.inst,
                Some(&source.name),
                BackpressureSignal::Ready,
            );
            paused = false;
        }
        let out = match d.pull(&mut source.inst, Some(&source.name)) {
            Ok(Some(out)) => out,
            Ok(None) => break,
            Err(e) => {
                sum.elements_failed += 1;
                stopped[0] = fatal(&e, sequence);
                if ends_source(&e) {
                    break;
                }
                continue;
            }
        };
        sum.elements_pulled += 1;
        let mut el = d.element(
            sequence,
            out.payload,
            out.meta.content_type,
            &trace_id,
            &flow_id,
            &mut ids,
            pipeline.element_deadline_ns,
        );
        sequence += 1;
        let mut alive = true;
        for (i, p) in processors.iter_mut().enumerate() {
            match d.process(&mut p.inst, Some(&p.name), el.clone()) {
                Ok(ProcessResult::Emit(out)) => {
                    el = torvyn_engine::StreamElement {
                        meta: ElementMeta {
                            content_type: out.meta.content_type,
                            ..el.meta
                        },
                        payload: out.payload,
                        context: el.context,
                    };
                }
                Ok(ProcessResult::Drop) => {
                    sum.elements_dropped += 1;
                    alive = false;
                    break;
                }
                Err(e) => {
                    sum.elements_failed += 1;
                    stopped[i + 1] = fatal(&e, el.meta.sequence);
                    alive = false;
                    break;
                }
            }
        }
        if !alive {
            continue;
        }
        match d.push(&mut sink.inst, Some(&sink.name), el) {
            Ok(signal) => {
                sum.elements_delivered += 1;
                if signal == BackpressureSignal::Pause {
                    sum.pauses += 1;
                    paused = true;
                    let _ = d.notify(
                        &mut source.inst,
                        Some(&source.name),
                        BackpressureSignal::Pause,
                    );
                }
            }
            Err(e) => {
                sum.elements_failed += 1;
                stopped[sink_index] = fatal(&e, sequence - 1);
            }
        }
    }
    if stopped[sink_index].is_none() {
        let _ = d.complete(&mut sink.inst, Some(&sink.name));
    }
    for st in std::iter::once(&mut *source)
        .chain(processors.iter_mut())
        .chain(std::iter::once(&mut *sink))
    {
        let _ = d.teardown(&mut st.inst, Some(&st.name));
    }

    let virtual_ns = clock.now_ns().saturating_sub(start_ns);
    let entries = d.entries;
    let reports = stages
        .iter()
        .zip(&stopped)
        .map(|(st, stopped)| {
            let mut totals = Summary::of(
                entries
                    .iter()
                    .filter(|e| e.stage.as_deref() == Some(st.name.as_str())),
                virtual_ns,
            );
            totals.stopped = stopped.clone();
            StageReport {
                name: st.name.clone(),
                component: st.spec.component.clone(),
                role: st.role,
                totals,
            }
        })
        .collect();
    sum.stopped = stages
        .iter()
        .zip(&stopped)
        .find_map(|(st, why)| Some(format!("stage `{}`: {}", st.name, why.as_ref()?)));
    sum.calls = entries.len() as u64;
    sum.fuel_total = entries.iter().map(|e| e.fuel).sum();
    sum.virtual_time_ns = virtual_ns;
    sum.elements_per_virtual_second = per_second(sum.elements_delivered, virtual_ns);
    let wall = wall.elapsed();
    let wall_ns = u64::try_from(wall.as_nanos()).unwrap_or(u64::MAX);
    sum.wall = Some(WallStats {
        wall_ns,
        elements_per_second: if wall_ns == 0 {
            0.0
        } else {
            sum.elements_delivered as f64 * 1e9 / wall_ns as f64
        },
    });
    Ok(PipelineTranscript {
        pipeline: pipeline.name.clone(),
        seed,
        backend: B::KIND,
        strategy: pipeline.strategy,
        clock: pipeline.clock,
        trace_id,
        flow_id,
        stages: reports,
        entries,
        summary: sum,
    })
}

impl PipelineTranscript {
    /// The form snapshots and equality checks use: no wall-clock figures,
    /// and under the system clock no times at all.
    pub fn snapshot_form(&self) -> Self {
        let mut t = self.clone();
        t.summary.wall = None;
        for s in &mut t.stages {
            s.totals.wall = None;
        }
        if t.clock == ClockSetting::System {
            mask_times(&mut t.entries);
            for s in &mut t.stages {
                s.totals.busy_ns = 0;
                s.totals.virtual_time_ns = 0;
                s.totals.elements_per_virtual_second = 0;
            }
            t.summary.virtual_time_ns = 0;
            t.summary.elements_per_virtual_second = 0;
        }
        t
    }

    /// The snapshot form with fuel and time zeroed too.
    pub fn without_costs(&self) -> Self {
        let mut t = self.snapshot_form();
        mask_times(&mut t.entries);
        for e in &mut t.entries {
            e.fuel = 0;
        }
        for s in &mut t.stages {
            s.totals.fuel_total = 0;
            s.totals.busy_ns = 0;
            s.totals.virtual_time_ns = 0;
            s.totals.elements_per_virtual_second = 0;
            s.totals.fuel_per_element = Default::default();
        }
        t.summary.fuel_total = 0;
        t.summary.virtual_time_ns = 0;
        t.summary.elements_per_virtual_second = 0;
        t
    }

    /// What must agree between backends (see
    /// [`crate::transcript::Transcript::backend_neutral`]).
    pub fn backend_neutral(&self) -> Self {
        let mut t = self.without_costs();
        t.backend = BackendKind::Mock;
        t.strategy = Strategy::default();
        t
    }

    /// Entries of one stage.
    pub fn stage_entries<'a>(&'a self, stage: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries
            .iter()
            .filter(move |e| e.stage.as_deref() == Some(stage))
    }

    /// The transcript in `format`.
    pub fn render(&self, format: OutputFormat) -> Result<String, HarnessError> {
        match format {
            OutputFormat::Yaml => to_yaml(self),
            OutputFormat::Json => to_json(self),
            OutputFormat::Text => Ok(self.render_text()),
        }
    }

    /// A header, one line per call, then per-stage totals and the summary.
    pub fn render_text(&self) -> String {
        use std::fmt::Write as _;
        let mut s = format!(
            "pipeline {} (seed {}, {})\n{}",
            self.pipeline,
            self.seed,
            self.backend.engine_label(self.strategy),
            render_entries(&self.entries)
        );
        let _ = writeln!(
            s,
            "{:<20} {:>6} {:>12} {:>10} {:>10} {:>12} {:>7}",
            "stage", "calls", "fuel", "bytes in", "bytes out", "busy ns", "errors"
        );
        for st in &self.stages {
            let t = &st.totals;
            let _ = writeln!(
                s,
                "{:<20} {:>6} {:>12} {:>10} {:>10} {:>12} {:>7}",
                st.name,
                t.calls,
                t.fuel_total,
                t.bytes_in,
                t.bytes_out,
                t.busy_ns,
                t.process_errors + t.faults
            );
        }
        let m = &self.summary;
        let _ = writeln!(
            s,
            "elements: {} pulled, {} delivered, {} dropped, {} failed; {} pauses",
            m.elements_pulled,
            m.elements_delivered,
            m.elements_dropped,
            m.elements_failed,
            m.pauses
        );
        if let Some(why) = &m.stopped {
            let _ = writeln!(s, "stopped: {why}");
        }
        let _ = writeln!(
            s,
            "fuel {} in {} calls; {} ns on the engine clock ({} elements/s)",
            m.fuel_total, m.calls, m.virtual_time_ns, m.elements_per_virtual_second
        );
        if let Some(w) = &m.wall {
            let _ = writeln!(
                s,
                "wall: {} ns ({:.0} elements/s)",
                w.wall_ns, w.elements_per_second
            );
        }
        s
    }

    /// Whether any entry is a given call.
    pub fn has_call(&self, call: Call) -> bool {
        self.entries.iter().any(|e| e.call == call)
    }
}

/// `fixtures/pipelines/`, where the pipeline files of the snapshot suite
/// live.
pub fn pipelines_dir() -> PathBuf {
    crate::fixtures::fixtures_dir().join("pipelines")
}

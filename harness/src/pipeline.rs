//! A pipeline simulation: a source, middle stages (processors, filters,
//! routers, aggregators) and one or more sinks, as a graph, driven by
//! demand on one shared (by default virtual) clock, recorded in a
//! [`PipelineTranscript`] whose entries are tagged with their stage.
//!
//! The loop, which plays the runtime:
//!
//! 1. `init` every stage, in file order, as the runtime does: once, on
//!    every stage that exports `lifecycle` (with `""` when it has no
//!    config) or has a config. A stage whose `init` fails takes no element;
//!    its totals' `stopped` and the summary's `stopped` say so.
//! 2. Pull one element from the source (`none` ends the stream). The runtime
//!    stamps it: sequence numbers 0, 1, ... in pull order, the clock as
//!    timestamp, the run's trace and flow ids, a fresh span id, and
//!    optionally a deadline `element_deadline_ns` after the pull.
//! 3. Send it along the graph, breadth first ([`Pipeline::graph`]: each
//!    stage's `to:`, or by default the next stage in the file, or the one
//!    sink). A processor's emitted element goes on (keeping the runtime's
//!    sequence, timestamp and flow, taking the processor's payload and
//!    content type); a filter's `true` passes the same element on, `false`
//!    drops it; a router's port names select the stages its `ports:` map
//!    them to (an unknown name is recorded in `routing_errors`, an empty
//!    list drops the element); an aggregator's `ingest` may emit an element,
//!    which goes on. Fan-out lends the same buffer to every downstream stage
//!    (no copy; counted in `shared_lends` and listed in the entry's
//!    `lent_to`). A `process-error` or fault ends that element's journey on
//!    that branch.
//! 4. Push what reaches a sink. When a sink answers `pause`, the runtime
//!    stops pulling and sends `notify-backpressure(pause)` to the source;
//!    before the next pull it models the sink draining by advancing the
//!    virtual clock by `drain_ns`, then sends `notify-backpressure(ready)`.
//! 5. Repeat until the source is exhausted, `max_pulls` pulls were made,
//!    the source fails for good (`fatal`, or a fault that poisons it), or no
//!    sink can be reached through stages that still take elements: `fatal`
//!    is terminal for every role, so that stage gets no further element.
//! 6. Flush every aggregator, in topological order; what `flush` returns
//!    flows downstream (with the next sequence numbers) before any sink
//!    completes. Then `complete` every sink that did not stop, and
//!    `teardown` every stage in file order.
//!
//! As in [`crate::runner`], faults never abort the run: they are recorded,
//! and a poisoned stage keeps answering `poisoned`.
//!
//! ```yaml
//! name: count-filter-upper-sink
//! source: {component: counter-source, config: '{"count": 6}'}
//! processors:             # or `stages:`; processors, filters, routers, aggregators
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
//! A graph with a router, fan-out and several sinks:
//!
//! ```yaml
//! name: route-by-kind
//! source: {component: token-source, to: [router, uppercase]}   # fan-out
//! stages:
//!   - {name: router, component: router, ports: {digits: digit-sink, words: word-sink}}
//!   - {component: uppercase, to: [word-sink]}
//! sinks:
//!   - {name: digit-sink, component: sink}
//!   - {name: word-sink, component: sink, grants: [wasi-random]}
//! ```
//!
//! A stage may script a mock component instead of naming a fixture
//! (`{component: flaky, mock: {process: {cycle: [emit-input, drop]}}}`,
//! see [`torvyn_engine::mock::MockSpec`]); such a pipeline runs on the mock.
//!
//! Every field, with its type, default and an example: the repository's
//! `docs/scenario-reference.md`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use torvyn_engine::{
    Answer, BackpressureSignal, Call as EngineCall, ComponentInvoker, ElementMeta, InvokeError,
    OutputElement, Role, StreamElement, WasmEngine,
};

use crate::backend::{EngineSettings, SimBackend};
use crate::error::HarnessError;
use crate::runner::{Driver, ends_source, fatal, stage_id};
use crate::sim::{DEFAULT_SEED, SimRng};
use crate::source::ComponentSource;
use crate::spec::BackendKind;
use crate::spec::{ClockSetting, VirtualTimeSpec};
use crate::transcript::{
    Call, Entry, OutputFormat, Summary, WallStats, mask_times, per_second, render_entries, to_json,
    to_yaml,
};
use torvyn_engine::CompilationStrategy;
use torvyn_engine::mock::MockSpec;

fn is_zero(v: &u64) -> bool {
    *v == 0
}

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
    /// The middle stages, in order: processors, filters, routers and
    /// aggregators (each stage's role is read from its exports). Also
    /// accepted as `stages:`.
    #[serde(default, alias = "stages", skip_serializing_if = "Vec::is_empty")]
    pub processors: Vec<StageSpec>,
    /// The sink, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sink: Option<StageSpec>,
    /// More sinks (a graph with several branches); `sink` and `sinks`
    /// together hold at least one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sinks: Vec<StageSpec>,
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
    pub strategy: CompilationStrategy,
    /// The clock.
    #[serde(default)]
    pub clock: ClockSetting,
    /// The virtual clock's cost model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtual_time: Option<VirtualTimeSpec>,
    /// Bytes of each payload and guest-output preview in the transcript:
    /// [`PREVIEW_BYTES`](crate::transcript::PREVIEW_BYTES) when absent,
    /// every byte with `Some(0)` (the CLI's `--preview-bytes N`). A display
    /// setting of one run, not part of the pipeline file.
    #[serde(skip)]
    pub preview_bytes: Option<usize>,
    /// Link imports the engine does not provide to stubs that trap when
    /// called (`UnknownImports::Trap`) instead of refusing the component;
    /// `torvyn-sim` sets it unless given `--refuse-unknown-imports`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stub_unknown_imports: bool,
    /// How `torvyn-sim check` compares a run with its snapshot:
    /// `exact` (fuel and engine-clock times too) or `behaviour` (what the
    /// component did, costs reported only). Absent:
    /// [`Compare::default_for`](crate::snapshot::Compare::default_for)
    /// (exact for WAT text and mocks, behaviour for binary components).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compare: Option<crate::snapshot::Compare>,
    /// With `behaviour` comparison: `check` fails when the run's fuel
    /// exceeds the snapshot's by more than this percentage (`10`, `2.5%`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fuel_tolerance: Option<crate::snapshot::Percent>,
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
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "serde_yaml_ng::with::singleton_map_recursive"
    )]
    pub mock: Option<MockSpec>,
    /// `init(config)`; no `init` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// The stage's per-call fuel budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fuel: Option<u64>,
    /// The stages this stage's elements go to, by name. Default: the next
    /// middle stage in the file, else the sink when there is only one.
    /// Several names fan out: each gets the same buffer, no copy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
    /// Routers only: each output port's name and the stage it feeds.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ports: BTreeMap<String, String>,
    /// Capabilities granted to the stage (its `capability-query` answers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<String>,
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
    /// Processes (`process`): an emitted element goes on.
    Processor,
    /// Filters (`evaluate`): a passed element goes on unchanged.
    Filter,
    /// Routes (`route`): the element goes to the stages of the ports named.
    Router,
    /// Aggregates (`ingest`, then `flush` at the end of the stream).
    Aggregator,
    /// Pushed to.
    Sink,
}

impl StageRole {
    /// `source`, `processor`, `filter`, `router`, `aggregator` or `sink`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Source => "source",
            Self::Processor => "processor",
            Self::Filter => "filter",
            Self::Router => "router",
            Self::Aggregator => "aggregator",
            Self::Sink => "sink",
        }
    }

    /// The role a middle stage plays, read from its exports: processor,
    /// else filter, router, aggregator.
    pub fn middle(roles: torvyn_engine::Roles) -> Option<Self> {
        [
            (Role::Processor, Self::Processor),
            (Role::Filter, Self::Filter),
            (Role::Router, Self::Router),
            (Role::Aggregator, Self::Aggregator),
        ]
        .into_iter()
        .find_map(|(r, s)| roles.contains(r).then_some(s))
    }

    /// The role a stage's slot in the file gives it before its exports are
    /// read: the source, a middle stage (refined by [`StageRole::middle`])
    /// or a sink.
    fn slot(self) -> &'static str {
        match self {
            Self::Source => "source",
            Self::Sink => "sink",
            _ => "middle",
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
    /// The capabilities granted to it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<String>,
    /// Calls, fuel, bytes, time, errors and elements of this stage.
    pub totals: Summary,
}

/// Totals of a pipeline run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PipelineSummary {
    /// Elements the source produced.
    pub elements_pulled: u64,
    /// Elements the sinks accepted (an element fanned out to two sinks
    /// counts twice).
    pub elements_delivered: u64,
    /// Elements a processor or filter dropped, or a router sent to no port.
    pub elements_dropped: u64,
    /// Elements an aggregator absorbed without emitting (what it emits
    /// later, from `ingest` or `flush`, goes on as new elements).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub elements_absorbed: u64,
    /// Elements aggregators returned from `flush` at the end of the stream.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub elements_flushed: u64,
    /// Lends that shared a buffer with another lend of the same element
    /// (fan-out: a router naming several ports, or a stage with several
    /// `to:` stages): each downstream stage got the same bytes, no copy.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shared_lends: u64,
    /// Port names a router returned that the pipeline does not define:
    /// one line each, naming the element, the router and the port.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routing_errors: Vec<String>,
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
    pub strategy: CompilationStrategy,
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
            sink: Some(sink),
            ..Self::default()
        }
    }

    /// The preview cap in effect (`0`: no cap): `preview_bytes`, else
    /// [`PREVIEW_BYTES`](crate::transcript::PREVIEW_BYTES).
    pub fn preview_cap(&self) -> usize {
        self.preview_bytes
            .unwrap_or(crate::transcript::PREVIEW_BYTES)
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
            cache_dir: None,
            cache_max_bytes: None,
            stub_unknown_imports: self.stub_unknown_imports,
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
        if self.compare == Some(crate::snapshot::Compare::Exact) && self.fuel_tolerance.is_some() {
            return Err(bad(
                "`fuel_tolerance` needs `compare: behaviour` (exact comparison already fails \
                 on any fuel change); drop one of them"
                    .into(),
            ));
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
                crate::source::check_scripted(spec, self.backend)
                    .map_err(|p| bad(format!("the {} stage's `mock:` {p}", what.name())))?;
            }
        }
        self.graph().map(drop).map_err(bad)
    }

    /// Every stage with its slot, in file order: the source, the middle
    /// stages, then `sink` and `sinks`.
    fn stages(&self) -> impl Iterator<Item = (StageRole, &StageSpec)> {
        std::iter::once((StageRole::Source, &self.source))
            .chain(self.processors.iter().map(|p| (StageRole::Processor, p)))
            .chain(self.sink.iter().map(|s| (StageRole::Sink, s)))
            .chain(self.sinks.iter().map(|s| (StageRole::Sink, s)))
    }

    /// Every stage, in file order (the source, the middle stages, the
    /// sinks), as [`Pipeline::stage_names`] names them.
    pub fn all_stages(&self) -> impl Iterator<Item = &StageSpec> {
        self.stages().map(|(_, s)| s)
    }

    /// Every stage, mutably, in the order of [`Pipeline::all_stages`].
    pub fn all_stages_mut(&mut self) -> impl Iterator<Item = &mut StageSpec> {
        std::iter::once(&mut self.source)
            .chain(self.processors.iter_mut())
            .chain(self.sink.iter_mut())
            .chain(self.sinks.iter_mut())
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

    /// The pipeline's graph: where each stage's elements go, checked
    /// (targets exist, no cycle, every stage reachable) and in topological
    /// order. An error says what is wrong and what to write.
    pub fn graph(&self) -> Result<Graph, String> {
        let names = self.stage_names();
        let slots: Vec<StageRole> = self.stages().map(|(r, _)| r).collect();
        let specs: Vec<&StageSpec> = self.stages().map(|(_, s)| s).collect();
        let n = names.len();
        let sinks: Vec<usize> = (0..n).filter(|i| slots[*i] == StageRole::Sink).collect();
        if sinks.is_empty() {
            return Err("has no sink; add `sink: {component: ...}` (or `sinks: [...]`)".into());
        }
        let index = |name: &str, from: &str| -> Result<usize, String> {
            match names.iter().position(|n| n == name) {
                Some(0) => Err(format!(
                    "stage `{from}` sends elements to the source `{name}`; a source takes none"
                )),
                Some(i) => Ok(i),
                None => Err(format!(
                    "stage `{from}` sends elements to `{name}`, which is no stage of the \
                     pipeline (stages: {})",
                    names.join(", ")
                )),
            }
        };
        let middles = self.processors.len();
        let mut edges: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut ports: Vec<BTreeMap<String, usize>> = vec![BTreeMap::new(); n];
        for i in 0..n {
            let (spec, name) = (specs[i], &names[i]);
            if slots[i] == StageRole::Sink {
                if !spec.to.is_empty() || !spec.ports.is_empty() {
                    return Err(format!(
                        "sink `{name}` has `to:` or `ports:`; a sink sends elements nowhere"
                    ));
                }
                continue;
            }
            if !spec.ports.is_empty() && !spec.to.is_empty() {
                return Err(format!(
                    "stage `{name}` has both `ports:` (a router's) and `to:`; a router sends \
                     elements only to the stages of its ports"
                ));
            }
            if !spec.ports.is_empty() {
                for (port, target) in &spec.ports {
                    let t = index(target, name)?;
                    ports[i].insert(port.clone(), t);
                    if !edges[i].contains(&t) {
                        edges[i].push(t);
                    }
                }
            } else if !spec.to.is_empty() {
                for target in &spec.to {
                    let t = index(target, name)?;
                    if !edges[i].contains(&t) {
                        edges[i].push(t);
                    }
                }
            } else if i < middles {
                // The source (0) and each middle stage feed the next stage.
                edges[i].push(i + 1);
            } else if sinks.len() == 1 {
                edges[i].push(sinks[0]);
            } else {
                return Err(format!(
                    "stage `{name}` has no `to:` and the pipeline has {} sinks; say where its \
                     elements go (`to: [{}]`)",
                    sinks.len(),
                    sinks
                        .iter()
                        .map(|s| names[*s].as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if edges[i].contains(&i) {
                return Err(format!("stage `{name}` sends elements to itself"));
            }
        }
        // Kahn's algorithm, taking the lowest file position first, so the
        // order is stable and a linear pipeline keeps its file order.
        let mut indegree = vec![0usize; n];
        for e in &edges {
            for t in e {
                indegree[*t] += 1;
            }
        }
        let mut ready: std::collections::BTreeSet<usize> =
            (0..n).filter(|i| indegree[*i] == 0).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(i) = ready.pop_first() {
            order.push(i);
            for t in &edges[i] {
                indegree[*t] -= 1;
                if indegree[*t] == 0 {
                    ready.insert(*t);
                }
            }
        }
        if order.len() < n {
            let cycle: Vec<&str> = (0..n)
                .filter(|i| indegree[*i] > 0)
                .map(|i| names[i].as_str())
                .collect();
            return Err(format!(
                "its stages form a cycle ({}); elements must flow from the source to the sinks",
                cycle.join(", ")
            ));
        }
        let mut reached = vec![false; n];
        let mut stack = vec![0];
        while let Some(i) = stack.pop() {
            if !std::mem::replace(&mut reached[i], true) {
                stack.extend(&edges[i]);
            }
        }
        if let Some(i) = (0..n).find(|i| !reached[*i]) {
            return Err(format!(
                "stage `{}` never receives an element: no stage sends to it (name it in a \
                 `to:` or a router's `ports:`)",
                names[i]
            ));
        }
        Ok(Graph {
            names,
            slots,
            edges,
            ports,
            order,
        })
    }
}

/// A pipeline's stages as a graph (see [`Pipeline::graph`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Graph {
    /// Stage names, in file order (index 0: the source).
    pub names: Vec<String>,
    /// Each stage's slot in the file: source, middle (reported as
    /// processor until its exports are read) or sink.
    pub slots: Vec<StageRole>,
    /// Where each stage's elements go, by index.
    pub edges: Vec<Vec<usize>>,
    /// Routers: port name → stage index.
    pub ports: Vec<BTreeMap<String, usize>>,
    /// Every stage in topological order (the source first).
    pub order: Vec<usize>,
}

impl Graph {
    /// Whether a sink can still be reached from the source through stages
    /// that take elements (`stopped[i]` is `None`).
    fn flows(&self, stopped: &[Option<String>]) -> bool {
        let mut seen = vec![false; self.names.len()];
        let mut stack = vec![0];
        while let Some(i) = stack.pop() {
            if stopped[i].is_some() || std::mem::replace(&mut seen[i], true) {
                continue;
            }
            if self.slots[i] == StageRole::Sink {
                return true;
            }
            stack.extend(&self.edges[i]);
        }
        false
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
    run_pipeline_using(backend, pipeline, &pipeline.settings())
}

/// Runs `pipeline` on a new engine of `backend` built from `settings`
/// (usually [`Pipeline::settings`] changed, as the CLI sets
/// [`EngineSettings::cache_dir`]).
pub fn run_pipeline_using(
    backend: BackendKind,
    pipeline: &Pipeline,
    settings: &EngineSettings,
) -> Result<PipelineTranscript, HarnessError> {
    crate::with_backend!(backend, settings, |b| run_pipeline_on(b, pipeline))?
}

type Instance<B> = <<B as SimBackend>::Engine as WasmEngine>::Instance;

struct Live<B: SimBackend> {
    name: String,
    spec: StageSpec,
    role: StageRole,
    inst: Instance<B>,
}

/// The run's state beside its stages: the driver, the totals, and why each
/// stage stopped taking elements.
struct Run<'b, B: SimBackend> {
    d: Driver<'b, B>,
    sum: PipelineSummary,
    stopped: Vec<Option<String>>,
    paused: bool,
}

impl<B: SimBackend> Run<'_, B> {
    /// Sends `el` from `from` to the stages `targets` (one lend each, all
    /// of the same buffer), noting the fan-out on `from`'s last entry.
    fn forward(
        &mut self,
        graph: &Graph,
        queue: &mut std::collections::VecDeque<(usize, StreamElement)>,
        targets: &[usize],
        el: StreamElement,
        note: bool,
    ) {
        if targets.len() > 1 {
            self.sum.shared_lends += targets.len() as u64 - 1;
        }
        if (note || targets.len() > 1)
            && let Some(e) = self.d.entries.last_mut()
        {
            e.lent_to = targets.iter().map(|t| graph.names[*t].clone()).collect();
        }
        for t in targets {
            queue.push_back((*t, el.clone()));
        }
    }

    /// Runs `el` from stage `from` through the graph to every sink it
    /// reaches, breadth first.
    fn flow(&mut self, graph: &Graph, stages: &mut [Live<B>], from: usize, el: StreamElement) {
        let mut queue = std::collections::VecDeque::new();
        self.forward(graph, &mut queue, &graph.edges[from], el, false);
        while let Some((i, el)) = queue.pop_front() {
            if self.stopped[i].is_some() {
                // The stage takes no more elements (its `init` failed or
                // it answered `fatal`): the element's journey ends here.
                self.sum.elements_failed += 1;
                continue;
            }
            let st = &mut stages[i];
            let stage = Some(st.name.as_str());
            let seq = el.meta.sequence;
            let failed = |run: &mut Self, e: &InvokeError| {
                run.sum.elements_failed += 1;
                run.stopped[i] = fatal(e, seq);
            };
            let call = match st.role {
                StageRole::Source => unreachable!("nothing flows into the source"),
                StageRole::Processor => EngineCall::Process(el.clone()),
                StageRole::Filter => EngineCall::Evaluate(el.clone()),
                StageRole::Router => EngineCall::Route(el.clone()),
                StageRole::Aggregator => EngineCall::Ingest(el.clone()),
                StageRole::Sink => EngineCall::Push(el.clone()),
            };
            match self.d.call(&mut st.inst, stage, call) {
                // `process` emitted, or `ingest` made an aggregate ready.
                Ok(Answer::Emit(out)) => {
                    let next = carry(el, out);
                    self.forward(graph, &mut queue, &graph.edges[i], next, false);
                }
                Ok(Answer::Drop | Answer::Verdict(false)) => self.sum.elements_dropped += 1,
                Ok(Answer::Verdict(true)) => {
                    self.forward(graph, &mut queue, &graph.edges[i], el, false)
                }
                Ok(Answer::Nothing) => self.sum.elements_absorbed += 1,
                Ok(Answer::Ports(names)) => {
                    let mut targets = Vec::new();
                    for port in &names {
                        match graph.ports[i].get(port) {
                            Some(t) if !targets.contains(t) => targets.push(*t),
                            Some(_) => {}
                            None => self.sum.routing_errors.push(format!(
                                "element {seq}: router `{}` named port `{port}`, which the \
                                 pipeline does not define (ports: {})",
                                graph.names[i],
                                graph.ports[i]
                                    .keys()
                                    .map(String::as_str)
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )),
                        }
                    }
                    if names.is_empty() {
                        self.sum.elements_dropped += 1;
                    } else if targets.is_empty() {
                        self.sum.elements_failed += 1;
                    }
                    self.forward(graph, &mut queue, &targets, el, true);
                }
                Ok(Answer::Signal(signal)) => {
                    self.sum.elements_delivered += 1;
                    if signal == BackpressureSignal::Pause {
                        self.sum.pauses += 1;
                        if !self.paused {
                            self.paused = true;
                            let src = &mut stages[0];
                            let pause = EngineCall::NotifyBackpressure(BackpressureSignal::Pause);
                            let _ = self.d.call(&mut src.inst, Some(&src.name), pause);
                        }
                    }
                }
                // `done` and `flushed` answer no element call.
                Ok(Answer::Done | Answer::Flushed(_)) => {}
                Err(e) => failed(self, &e),
            }
        }
    }
}

/// The element a stage's output becomes downstream: the runtime's
/// sequence, timestamp and flow kept, the stage's payload and content type
/// taken.
fn carry(el: StreamElement, out: OutputElement) -> StreamElement {
    StreamElement {
        meta: ElementMeta {
            content_type: out.meta.content_type,
            ..el.meta
        },
        payload: out.payload,
        context: el.context,
    }
}

/// Runs `pipeline` on `backend` (fresh: its clock is the pipeline's
/// timeline).
pub fn run_pipeline_on<B: SimBackend>(
    backend: &B,
    pipeline: &Pipeline,
) -> Result<PipelineTranscript, HarnessError> {
    pipeline.validate()?;
    let graph = pipeline
        .graph()
        .map_err(|problem| HarnessError::InvalidScenario {
            scenario: pipeline.name.clone(),
            problem,
        })?;
    let seed = pipeline.effective_seed();
    let mut ids = SimRng::new(seed).fork("ids");
    let trace_id = ids.trace_id();
    let flow_id = ids.flow_id();

    let mut stages: Vec<Live<B>> = Vec::new();
    for ((slot, spec), name) in pipeline.stages().zip(graph.names.iter().cloned()) {
        let source = spec.component_source(pipeline.base_dir.as_deref());
        let compiled = backend.compile(&source, &spec.component)?;
        let mut inst = backend.instantiate_granting(&compiled, &name, &spec.grants)?;
        if let Some(fuel) = spec.fuel {
            backend.set_fuel(&mut inst, fuel, &name)?;
        }
        let role = match slot {
            StageRole::Source | StageRole::Sink => slot,
            _ => StageRole::middle(inst.roles()).ok_or_else(|| HarnessError::InvalidScenario {
                scenario: pipeline.name.clone(),
                problem: format!(
                    "stage `{name}` ({}) exports no role a middle stage plays (its roles: \
                         {}); use a processor, filter, router or aggregator there",
                    spec.component,
                    inst.roles()
                ),
            })?,
        };
        let is_router = role == StageRole::Router;
        let has_ports = !spec.ports.is_empty();
        if is_router != has_ports {
            return Err(HarnessError::InvalidScenario {
                scenario: pipeline.name.clone(),
                problem: if is_router {
                    format!(
                        "stage `{name}` is a router but has no `ports:`; map each port name it \
                         returns to a stage, e.g. `ports: {{even: sink-a, odd: sink-b}}`"
                    )
                } else {
                    format!(
                        "stage `{name}` has `ports:` but is a {} ({}), not a router; use `to:`",
                        role.name(),
                        role.slot()
                    )
                },
            });
        }
        stages.push(Live {
            name,
            spec: spec.clone(),
            role,
            inst,
        });
    }

    let clock = backend.clock().clone();
    let wall = Instant::now();
    let start_ns = clock.now_ns();
    let mut run = Run {
        d: Driver::new(backend, pipeline.preview_cap()),
        sum: PipelineSummary::default(),
        stopped: vec![None; stages.len()],
        paused: false,
    };
    for (i, st) in stages.iter_mut().enumerate() {
        run.stopped[i] =
            run.d
                .init_if_needed(&mut st.inst, Some(&st.name), st.spec.config.as_deref());
    }

    let max_pulls = pipeline.max_pulls.unwrap_or(DEFAULT_MAX_PULLS);
    let drain_ns = pipeline.drain_ns.unwrap_or(DEFAULT_DRAIN_NS);
    // A new element (pulled, or flushed by an aggregator) as the runtime
    // stamps it: the next sequence number, the clock now, the run's trace
    // and flow, a fresh span, the pipeline's deadline.
    let mut stamp = |d: &Driver<'_, B>, out: OutputElement, sequence: &mut u64| {
        let el = d.element(
            *sequence,
            out.payload,
            out.meta.content_type,
            &trace_id,
            &flow_id,
            &mut ids,
            pipeline.element_deadline_ns,
        );
        *sequence += 1;
        el
    };
    let mut sequence = 0u64;
    let mut pulls = 0u64;
    // The runtime stops pulling once no element could reach a sink: the
    // source, or every path to a sink, stopped taking elements.
    while pulls < max_pulls && graph.flows(&run.stopped) {
        pulls += 1;
        if run.paused {
            clock.advance(drain_ns);
            let src = &mut stages[0];
            let ready = EngineCall::NotifyBackpressure(BackpressureSignal::Ready);
            let _ = run.d.call(&mut src.inst, Some(&src.name), ready);
            run.paused = false;
        }
        let src = &mut stages[0];
        let out = match run.d.call(&mut src.inst, Some(&src.name), EngineCall::Pull) {
            Ok(Answer::Emit(out)) => out,
            Ok(_) => break,
            Err(e) => {
                run.sum.elements_failed += 1;
                run.stopped[0] = fatal(&e, sequence);
                if ends_source(&e) {
                    break;
                }
                continue;
            }
        };
        run.sum.elements_pulled += 1;
        let el = stamp(&run.d, out, &mut sequence);
        run.flow(&graph, &mut stages, 0, el);
    }
    // End of stream: every aggregator is flushed, in topological order, and
    // what it returns flows downstream (into later aggregators too) before
    // any sink completes. Flushed elements get the next sequence numbers.
    for &i in &graph.order {
        if stages[i].role != StageRole::Aggregator || run.stopped[i].is_some() {
            continue;
        }
        let st = &mut stages[i];
        let outs = match run.d.call(&mut st.inst, Some(&st.name), EngineCall::Flush) {
            Ok(Answer::Flushed(outs)) => outs,
            Ok(_) => Vec::new(),
            Err(e) => {
                run.sum.elements_failed += 1;
                run.stopped[i] = fatal(&e, sequence);
                continue;
            }
        };
        run.sum.elements_flushed += outs.len() as u64;
        for out in outs {
            let el = stamp(&run.d, out, &mut sequence);
            run.flow(&graph, &mut stages, i, el);
        }
    }
    for &i in &graph.order {
        if stages[i].role == StageRole::Sink && run.stopped[i].is_none() {
            let st = &mut stages[i];
            let _ = run
                .d
                .call(&mut st.inst, Some(&st.name), EngineCall::Complete);
        }
    }
    for st in stages.iter_mut() {
        let _ = run
            .d
            .call(&mut st.inst, Some(&st.name), EngineCall::Teardown);
    }

    let Run {
        d,
        mut sum,
        stopped,
        ..
    } = run;
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
                grants: st.inst.grants().iter().map(str::to_string).collect(),
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
        t.strategy = CompilationStrategy::default();
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

#[cfg(test)]
mod tests {
    use torvyn_engine::mock::{
        MockBuilder, MockComponent, MockCtx, MockEngine, MockModel, MockResult, ModelElement,
        PendingOutput,
    };
    use torvyn_engine::{BackpressureSignal, ElementMeta, OutputElement, Role};

    use super::*;
    use crate::backend::MockBackend;

    /// A source of `words`, one per pull.
    struct Words(Vec<&'static str>, usize);

    impl MockModel for Words {
        fn pull(&mut self, ctx: &mut MockCtx<'_>) -> MockResult<Option<OutputElement>> {
            let Some(w) = self.0.get(self.1) else {
                return Ok(None);
            };
            self.1 += 1;
            let meta = ElementMeta::new(self.1 as u64, "text/plain");
            Ok(Some(ctx.emit_bytes(meta, w.as_bytes(), "text/plain")?))
        }
    }

    /// An aggregator joining everything it ingests, emitting on `.` and
    /// returning the rest from `flush`.
    #[derive(Default)]
    struct Joiner(Vec<u8>);

    impl MockModel for Joiner {
        fn ingest(
            &mut self,
            ctx: &mut MockCtx<'_>,
            input: &ModelElement,
        ) -> MockResult<Option<OutputElement>> {
            self.0.extend(ctx.read_payload()?);
            if !self.0.ends_with(b".") {
                return Ok(None);
            }
            let text = std::mem::take(&mut self.0);
            Ok(Some(ctx.emit_bytes(
                input.meta.clone(),
                &text,
                "text/plain",
            )?))
        }

        fn flush(&mut self, ctx: &mut MockCtx<'_>) -> MockResult<Vec<PendingOutput>> {
            if self.0.is_empty() {
                return Ok(Vec::new());
            }
            let text = std::mem::take(&mut self.0);
            let buf = ctx.frozen_bytes(&text, "text/plain")?;
            Ok(vec![PendingOutput {
                meta: ElementMeta::new(0, "text/plain"),
                buf,
            }])
        }
    }

    fn backend(words: &'static [&'static str]) -> MockBackend {
        let engine = MockEngine::deterministic(7);
        engine.register(MockComponent::new("words", [Role::Source], move || {
            Words(words.to_vec(), 0)
        }));
        engine.register(MockComponent::new(
            "joiner",
            [Role::Aggregator],
            Joiner::default,
        ));
        engine.register(
            MockBuilder::new("no-bad")
                .on_evaluate(|ctx, _| Ok(!ctx.read_payload()?.starts_with(b"bad")))
                .build(),
        );
        engine.register(
            MockBuilder::new("by-kind")
                .on_route(|ctx, _| {
                    let p = ctx.read_payload()?;
                    let mut ports = Vec::new();
                    if p.first().is_some_and(u8::is_ascii_digit) {
                        ports.push("digits".to_string());
                    } else if !p.is_empty() {
                        ports.push("words".to_string());
                    }
                    if p.contains(&b'!') {
                        ports.push("alerts".to_string());
                    }
                    if p.contains(&b'?') {
                        ports.push("questions".to_string());
                    }
                    Ok(ports)
                })
                .build(),
        );
        engine.register(
            MockBuilder::new("pausing-sink")
                .on_push(|_, _| Ok(BackpressureSignal::Pause))
                .build(),
        );
        MockBackend::from_engine(engine)
    }

    fn yaml(text: &str) -> Pipeline {
        Pipeline::from_yaml_str(text, "<test>").unwrap()
    }

    fn invalid(text: &str) -> String {
        let p: Pipeline = serde_yaml_ng::from_str(text).unwrap();
        p.validate().unwrap_err().to_string()
    }

    fn delivered(t: &PipelineTranscript, sink: &str) -> Vec<String> {
        t.stage_entries(sink)
            .filter(|e| e.call == Call::Push)
            .map(|e| e.input.as_ref().unwrap().payload.short())
            .collect()
    }

    #[test]
    fn graph_errors_say_what_is_wrong_and_what_to_write() {
        let e = invalid("name: p\nsource: {component: words}\nsink: {component: sink, to: [x]}\n");
        assert!(e.contains("a sink sends elements nowhere"), "{e}");
        let e = invalid(
            "name: p\nsource: {component: words, to: [nowhere]}\nsink: {component: sink}\n",
        );
        assert!(
            e.contains("`nowhere`") && e.contains("stages: words, sink"),
            "{e}"
        );
        let e = invalid(
            "name: p\nsource: {component: words}\nstages:\n  - {name: a, component: no-bad, to: [b]}\n  - {name: b, component: no-bad, to: [a]}\nsink: {component: sink}\n",
        );
        assert!(e.contains("cycle") && e.contains("a, b"), "{e}");
        let e = invalid(
            "name: p\nsource: {component: words}\nsinks:\n  - {name: s1, component: sink}\n  - {name: s2, component: sink}\n",
        );
        assert!(e.contains("2 sinks") && e.contains("to: [s1, s2]"), "{e}");
        let e = invalid(
            "name: p\nsource: {component: words, to: [s1]}\nsinks:\n  - {name: s1, component: sink}\n  - {name: s2, component: sink}\n",
        );
        assert!(e.contains("`s2` never receives"), "{e}");
        let e = invalid("name: p\nsource: {component: words}\n");
        assert!(e.contains("has no sink"), "{e}");
    }

    #[test]
    fn a_router_without_ports_or_ports_on_a_filter_are_refused_when_the_roles_are_known() {
        let b = backend(&["a"]);
        let p = yaml(
            "name: p\nsource: {component: words}\nstages:\n  - {component: by-kind}\nsink: {component: sink}\n",
        );
        let e = run_pipeline_on(&b, &p).unwrap_err().to_string();
        assert!(e.contains("is a router but has no `ports:`"), "{e}");
        let p = yaml(
            "name: p\nsource: {component: words}\nstages:\n  - {component: no-bad, ports: {x: sink}}\nsink: {component: sink}\n",
        );
        let e = run_pipeline_on(&b, &p).unwrap_err().to_string();
        assert!(e.contains("is a filter") && e.contains("use `to:`"), "{e}");
    }

    #[test]
    fn filters_drop_aggregators_emit_and_flush_before_the_sink_completes() {
        let b = backend(&["Hello", "bad", " world.", " Bye", " now"]);
        let p = yaml(
            "name: p\nsource: {component: words}\nstages:\n  - {component: no-bad}\n  - {component: joiner}\nsink: {component: sink}\n",
        );
        let t = run_pipeline_on(&b, &p).unwrap();
        assert_eq!(delivered(&t, "sink"), ["\"Hello world.\"", "\" Bye now\""]);
        let s = &t.summary;
        assert_eq!(
            (s.elements_pulled, s.elements_dropped, s.elements_absorbed),
            (5, 1, 3),
            "{s:?}"
        );
        assert_eq!((s.elements_flushed, s.elements_delivered), (1, 2));
        let calls: Vec<(&str, &str)> = t
            .entries
            .iter()
            .rev()
            .take(6)
            .map(|e| (e.stage.as_deref().unwrap(), e.call.name()))
            .collect();
        assert_eq!(
            calls,
            [
                ("sink", "teardown"),
                ("joiner", "teardown"),
                ("no-bad", "teardown"),
                ("words", "teardown"),
                ("sink", "complete"),
                ("sink", "push"),
            ]
        );
        let flush = t
            .entries
            .iter()
            .position(|e| e.call == Call::Flush)
            .unwrap();
        let last_push = t
            .entries
            .iter()
            .rposition(|e| e.call == Call::Push)
            .unwrap();
        assert!(
            flush < last_push,
            "what flush returns flows on before complete"
        );
        assert!(t.stages.iter().all(|s| s.totals.faults == 0));
        let filter = t.stages.iter().find(|s| s.name == "no-bad").unwrap();
        assert_eq!(filter.role, StageRole::Filter);
        assert_eq!(filter.totals.elements_dropped, 1);
    }

    #[test]
    fn chained_aggregators_flush_in_topological_order() {
        let b = backend(&["a", "b"]);
        let p = yaml(
            "name: p\nsource: {component: words}\nstages:\n  - {name: first, component: joiner}\n  - {name: second, component: joiner}\nsink: {component: sink}\n",
        );
        let t = run_pipeline_on(&b, &p).unwrap();
        let tail: Vec<(&str, &str)> = t
            .entries
            .iter()
            .filter(|e| matches!(e.call, Call::Flush | Call::Ingest | Call::Push))
            .skip(2)
            .map(|e| (e.stage.as_deref().unwrap(), e.call.name()))
            .collect();
        assert_eq!(
            tail,
            [
                ("first", "flush"),
                ("second", "ingest"),
                ("second", "flush"),
                ("sink", "push"),
            ]
        );
        assert_eq!(delivered(&t, "sink"), ["\"ab\""]);
    }

    #[test]
    fn a_router_fans_out_one_buffer_and_records_unknown_ports() {
        let b = backend(&["7 dwarves", "hi!", "", "why?"]);
        let p = yaml(concat!(
            "name: p\nsource: {component: words}\n",
            "stages:\n  - {name: router, component: by-kind, ports: {digits: d, words: w, alerts: a}}\n",
            "sinks:\n  - {name: d, component: sink}\n  - {name: w, component: sink}\n  - {name: a, component: sink}\n",
        ));
        let t = run_pipeline_on(&b, &p).unwrap();
        assert_eq!(delivered(&t, "d"), ["\"7 dwarves\""]);
        assert_eq!(delivered(&t, "w"), ["\"hi!\"", "\"why?\""]);
        assert_eq!(delivered(&t, "a"), ["\"hi!\""]);
        let s = &t.summary;
        assert_eq!(s.shared_lends, 1, "`hi!` went to two sinks: {s:?}");
        assert_eq!(
            s.elements_dropped, 1,
            "the empty payload was routed nowhere"
        );
        assert_eq!(s.routing_errors.len(), 1, "{:?}", s.routing_errors);
        assert!(
            s.routing_errors[0].contains("`questions`")
                && s.routing_errors[0].contains("alerts, digits, words"),
            "{:?}",
            s.routing_errors
        );
        let routes: Vec<&Vec<String>> = t
            .stage_entries("router")
            .filter(|e| e.call == Call::Route)
            .map(|e| &e.lent_to)
            .collect();
        assert_eq!(routes[1], &["w", "a"]);
        // Every sink was completed and nothing leaked.
        assert_eq!(
            t.entries
                .iter()
                .filter(|e| e.call == Call::Complete)
                .count(),
            3
        );
        assert!(t.entries.iter().all(|e| e.live_resources == 0));
    }

    #[test]
    fn a_pause_on_one_edge_pauses_the_source_until_that_sink_drains() {
        let b = backend(&["1", "a", "2"]);
        let p = yaml(concat!(
            "name: p\nsource: {component: words}\ndrain_ns: 500\n",
            "stages:\n  - {name: router, component: by-kind, ports: {digits: slow, words: fast}}\n",
            "sinks:\n  - {name: slow, component: pausing-sink}\n  - {name: fast, component: sink}\n",
        ));
        let t = run_pipeline_on(&b, &p).unwrap();
        assert_eq!(t.summary.pauses, 2);
        let notes: Vec<&str> = t
            .stage_entries("words")
            .filter(|e| e.call == Call::NotifyBackpressure)
            .map(|e| e.argument.as_deref().unwrap())
            .collect();
        assert_eq!(notes, ["pause", "ready", "pause", "ready"]);
        assert_eq!(delivered(&t, "fast"), ["\"a\""]);
    }

    #[test]
    fn a_fatal_branch_stops_only_that_branch() {
        let b = backend(&["1", "a", "2", "b"]);
        b.mock().register(
            MockBuilder::new("fatal-sink")
                .on_push(|_, _| Err(torvyn_engine::ProcessError::Fatal("full".into()).into()))
                .build(),
        );
        let p = yaml(concat!(
            "name: p\nsource: {component: words}\n",
            "stages:\n  - {name: router, component: by-kind, ports: {digits: bad, words: good}}\n",
            "sinks:\n  - {name: bad, component: fatal-sink}\n  - {name: good, component: sink}\n",
        ));
        let t = run_pipeline_on(&b, &p).unwrap();
        assert_eq!(delivered(&t, "good"), ["\"a\"", "\"b\""]);
        assert_eq!(
            t.stage_entries("bad")
                .filter(|e| e.call == Call::Push)
                .count(),
            1
        );
        assert!(
            t.summary
                .stopped
                .as_deref()
                .unwrap()
                .contains("stage `bad`")
        );
        assert_eq!(
            t.summary.elements_failed, 2,
            "the fatal push and the element after it"
        );
    }
}

//! The pipeline file: its stages, their roles, and the settings of a run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use torvyn_engine::Role;
use torvyn_engine::mock::MockSpec;

use crate::backend::EngineSettings;
use crate::drive::stage_id;
use crate::error::HarnessError;
use crate::sim::DEFAULT_SEED;
use crate::source::ComponentSource;
use crate::spec::BackendKind;
use crate::spec::{ClockSetting, VirtualTimeSpec};
use torvyn_engine::CompilationStrategy;

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
    /// The most pulls ([`DEFAULT_MAX_PULLS`](super::DEFAULT_MAX_PULLS) when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_pulls: Option<u64>,
    /// Virtual nanoseconds the sink takes to drain after `pause`
    /// ([`DEFAULT_DRAIN_NS`](super::DEFAULT_DRAIN_NS) when absent).
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
    /// The most linear memory each stage's instance may have, in bytes;
    /// the engine's default (16 MiB) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_memory_bytes: Option<u64>,
    /// List in every transcript entry the contract host calls the stage's
    /// guest made (`host_call_trace:`, [`crate::host_calls`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub trace_host_calls: bool,
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

/// The role a middle stage plays, read from its exports: processor, else
/// filter, router, aggregator. (A stage's slot in the file, source, middle
/// or sink, gives the rest: the graph's [`super::Graph::slots`] hold
/// `Processor` for every middle stage until its exports are read.)
pub(super) fn middle_role(roles: torvyn_engine::Roles) -> Option<Role> {
    [
        Role::Processor,
        Role::Filter,
        Role::Router,
        Role::Aggregator,
    ]
    .into_iter()
    .find(|r| roles.contains(*r))
}

/// The name of a stage's slot in the file: `source`, `middle` (refined by
/// [`middle_role`]) or `sink`.
pub(super) fn slot_name(slot: Role) -> &'static str {
    match slot {
        Role::Source => "source",
        Role::Sink => "sink",
        _ => "middle",
    }
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
            max_memory_bytes: self.max_memory_bytes,
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
    pub(super) fn stages(&self) -> impl Iterator<Item = (Role, &StageSpec)> {
        std::iter::once((Role::Source, &self.source))
            .chain(self.processors.iter().map(|p| (Role::Processor, p)))
            .chain(self.sink.iter().map(|s| (Role::Sink, s)))
            .chain(self.sinks.iter().map(|s| (Role::Sink, s)))
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
}

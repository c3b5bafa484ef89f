//! Scenarios: what to run against one component, written as YAML or JSON
//! (`fixtures/scenarios/*.yaml`), and loaded with [`Scenario::load`].
//!
//! A scenario names a component (a fixture, a `.wat` file or a `.wasm`
//! component), the role to drive it in, its `init` configuration, the
//! elements to feed it, its fuel budget, and for sources how far to pull and
//! when to signal backpressure. [`crate::scenario::run_scenario`] runs it and
//! returns a [`crate::transcript::Transcript`].
//!
//! ```yaml
//! name: uppercase-basic
//! description: ASCII letters become upper case, the rest is unchanged
//! component: uppercase          # fixture name, or path/to/x.wat, or path/to/x.wasm
//! role: processor               # processor | source | sink; default: from the exports
//! config: '{"mode": "strict"}'  # init(config); no init when absent
//! fuel: 1000000                 # per-call fuel budget; engine default when absent
//! inputs:
//!   - payload: hello            # UTF-8 text...
//!   - payload_hex: 00ff10       # ...or bytes in hex
//!     content_type: application/octet-stream   # default text/plain
//!     deadline_ns: 50000        # deadline, relative to when the element starts
//! generate: {count: 3, min_len: 1, max_len: 8, kind: text}   # more inputs from the seed
//! pull_limit: 10                # sources: at most this many pulls (default 1000)
//! backpressure:                 # sources: notify-backpressure after the nth pull
//!   - {after_pull: 2, signal: pause}
//!   - {after_pull: 3, signal: ready}
//! seed: 42                      # default torvyn_harness::sim::DEFAULT_SEED
//! backend: wasmtime             # wasmtime | mock; default wasmtime (mock in a mock-only build)
//! strategy: cranelift           # cranelift | winch (Wasmtime only)
//! clock: virtual                # virtual | system
//! virtual_time: {ns_per_fuel: 1, ns_per_host_call: 100}
//! ```
//!
//! On the mock backend (`backend: mock`, or `--backend mock`), `component`
//! names a fixture with a model (`passthrough`, `uppercase`, `filter`,
//! `counter-source`, `sink`), or any name when a `mock:` section scripts
//! the component's responses ([`torvyn_engine::mock::MockSpec`]).
//!
//! Unknown fields are errors, so a typo does not go unnoticed. Every field
//! of scenario and pipeline files, with its type, default and an example,
//! is listed in the repository's `docs/src/scenario-reference.md` (a test keeps
//! it in step with these types).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use torvyn_engine::mock::MockSpec;
use torvyn_engine::{BackpressureSignal, CompilationStrategy, Role};

use crate::error::HarnessError;
use crate::sim::{DEFAULT_SEED, SimRng};
use crate::source::ComponentSource;
use crate::spec::{BackendKind, ClockSetting, VirtualTimeSpec};
use torvyn_engine::record::decode_hex;

mod run;

pub(crate) use run::{compile_scenario, run_compiled};
pub use run::{
    infer_role, run_scenario, run_scenario_on, run_scenario_using, run_scenario_with,
    scenario_settings,
};

/// The pull limit of a source scenario that sets none.
pub const DEFAULT_PULL_LIMIT: u64 = 1000;

/// The content type of an input that sets none.
pub const DEFAULT_CONTENT_TYPE: &str = "text/plain";

/// One scenario: a component, how to drive it, and its inputs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// A short name; transcripts and snapshot files carry it.
    pub name: String,
    /// What the scenario shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A fixture name (`uppercase`), a path to a `.wat` file (a core module
    /// is componentized like a fixture) or a path to a `.wasm` component.
    /// Relative paths are resolved against the scenario file's directory.
    pub component: String,
    /// A scripted mock component instead of a fixture or file (mock
    /// backend only); `component` is then its name. Its enums are one-key
    /// maps (`{emit: x}`) in YAML as in JSON.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "serde_yaml_ng::with::singleton_map_recursive"
    )]
    pub mock: Option<MockSpec>,
    /// The role to drive, one of [`DRIVEN_ROLES`] (not `lifecycle`: every
    /// role's run calls `init` and `teardown` around it); default:
    /// processor if exported, else source, else sink, else filter, router,
    /// aggregator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// `init(config)` before anything else; no `init` call when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// Capabilities granted to the component (what its
    /// `torvyn:capabilities/capability-query` import answers `true` for);
    /// none when absent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<String>,
    /// Elements for a processor (`process`), a sink (`push`), a filter
    /// (`evaluate`), a router (`route`) or an aggregator (`ingest`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<InputElement>,
    /// More elements, generated from the seed, after `inputs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generate: Option<GeneratedInputs>,
    /// The fuel budget of every call; the engine default (50 million) when
    /// absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fuel: Option<u64>,
    /// The most linear memory the instance may have, in bytes; the
    /// engine's default (16 MiB) when absent. A component whose initial
    /// memory is larger is refused at instantiation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_memory_bytes: Option<u64>,
    /// Sources: the most `pull` calls to make ([`DEFAULT_PULL_LIMIT`] when
    /// absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_limit: Option<u64>,
    /// Sources: `notify-backpressure` calls to make between pulls.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backpressure: Vec<BackpressureStep>,
    /// The seed of every id, generated input and WASI random byte
    /// ([`DEFAULT_SEED`] when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The backend; [`BackendKind::default_for_build`] when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<BackendKind>,
    /// The compiler.
    #[serde(default)]
    pub strategy: CompilationStrategy,
    /// The clock.
    #[serde(default)]
    pub clock: ClockSetting,
    /// The virtual clock's cost model; the engine default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtual_time: Option<VirtualTimeSpec>,
    /// Bytes of each payload and guest-output preview in the transcript:
    /// [`PREVIEW_BYTES`](crate::transcript::PREVIEW_BYTES) when absent,
    /// every byte with `Some(0)` (the CLI's `--preview-bytes N`). A display
    /// setting of one run, not part of the scenario file.
    #[serde(skip)]
    pub preview_bytes: Option<usize>,
    /// Link imports the engine does not provide to stubs that trap when
    /// called (`UnknownImports::Trap`) instead of refusing the component;
    /// `torvyn-sim` sets it unless given `--refuse-unknown-imports`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stub_unknown_imports: bool,
    /// Host calls to fail on purpose ([`crate::faults`]): `all` (the
    /// sweep), an index, `{every_call: K}` or `{probability: P}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_host_call: Option<crate::spec::FailHostCall>,
    /// The most cases a sweep runs
    /// ([`crate::faults::DEFAULT_SWEEP_LIMIT`] when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep_limit: Option<u64>,
    /// A sweep only: a case where the guest trapped on a failure the
    /// contract lets it handle (`allocation-failed` from `allocate` or
    /// `clone-into-mutable`, `capacity-exceeded` from `write` or `append`)
    /// is a problem, so the sweep is not clean
    /// ([`crate::faults::Handling::Trapped`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_handled: bool,
    /// List in every transcript entry the contract host calls the guest
    /// made (`host_call_trace:`, [`crate::host_calls`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub trace_host_calls: bool,
    /// Per call (`process`, `pull`...), the exact host calls each call of
    /// it must make, in order (`process: [read-all, allocate, append,
    /// freeze]`); a run that differs fails ([`crate::host_calls`]).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub expect_host_calls: std::collections::BTreeMap<String, Vec<String>>,
    /// Host functions no call may make (`[clone-into-mutable]`); a run
    /// that makes one fails ([`crate::host_calls`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forbid_host_calls: Vec<String>,
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
    /// The directory relative component paths are resolved against (the
    /// scenario file's directory when loaded from a file).
    #[serde(skip)]
    pub base_dir: Option<PathBuf>,
}

/// The roles a scenario can drive a component in, in the order a scenario
/// without `role` picks the first the component exports: `processor`
/// (`process` every input), `source` (`pull` until `none` or the pull
/// limit), `sink` (`push` every input, then `complete`), `filter`
/// (`evaluate` every input), `router` (`route` every input), `aggregator`
/// (`ingest` every input, then `flush`). Not `lifecycle`, which every run
/// calls around the others.
pub const DRIVEN_ROLES: [Role; 6] = [
    Role::Processor,
    Role::Source,
    Role::Sink,
    Role::Filter,
    Role::Router,
    Role::Aggregator,
];

/// Whether a scenario can drive `role` ([`DRIVEN_ROLES`]).
pub fn is_driven(role: Role) -> bool {
    DRIVEN_ROLES.contains(&role)
}

/// One input element.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputElement {
    /// The payload as UTF-8 text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    /// The payload as hex (`00ff10`; spaces allowed). Exclusive with
    /// `payload`; neither means an empty payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_hex: Option<String>,
    /// The content type ([`DEFAULT_CONTENT_TYPE`] when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// A deadline, in nanoseconds after the element's call starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_ns: Option<u64>,
}

impl InputElement {
    /// A text element.
    pub fn text(payload: impl Into<String>) -> Self {
        Self {
            payload: Some(payload.into()),
            ..Self::default()
        }
    }

    /// The element ready to send: its bytes decoded (`payload` as UTF-8,
    /// `payload_hex` as hex, neither as an empty payload) and its content
    /// type filled in ([`DEFAULT_CONTENT_TYPE`] when absent).
    ///
    /// # Errors
    ///
    /// What is wrong with it, when it has both `payload` and `payload_hex`
    /// or `payload_hex` is not hex.
    pub fn resolve(&self) -> Result<ResolvedInput, String> {
        let payload = match (&self.payload, &self.payload_hex) {
            (Some(_), Some(_)) => return Err("both `payload` and `payload_hex`; keep one".into()),
            (Some(text), None) => text.clone().into_bytes(),
            (None, Some(hex)) => decode_hex(hex).map_err(|p| format!("payload_hex: {p}"))?,
            (None, None) => Vec::new(),
        };
        Ok(ResolvedInput {
            payload,
            content_type: self
                .content_type
                .clone()
                .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.into()),
            deadline_ns: self.deadline_ns,
        })
    }
}

/// Inputs generated from the scenario's seed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneratedInputs {
    /// How many.
    pub count: u64,
    /// Shortest payload, in bytes.
    #[serde(default)]
    pub min_len: usize,
    /// Longest payload, in bytes.
    #[serde(default = "default_max_len")]
    pub max_len: usize,
    /// Text (lower-case letters and spaces) or random bytes.
    #[serde(default)]
    pub kind: GeneratedKind,
    /// Their content type (`text/plain` for text,
    /// `application/octet-stream` for bytes, when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

fn default_max_len() -> usize {
    16
}

/// What generated payloads contain.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GeneratedKind {
    /// Lower-case ASCII letters and spaces.
    #[default]
    Text,
    /// Random bytes.
    Bytes,
}

/// A `notify-backpressure` call a source scenario makes after its `n`th
/// pull (1-based: `after_pull: 1` follows the first pull).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackpressureStep {
    /// After how many pulls.
    pub after_pull: u64,
    /// The signal.
    pub signal: BackpressureSignal,
}

/// An input element ready to send: bytes decoded, content type filled in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedInput {
    /// The payload.
    pub payload: Vec<u8>,
    /// The content type.
    pub content_type: String,
    /// Deadline relative to the start of the element's call.
    pub deadline_ns: Option<u64>,
}

impl Scenario {
    /// Loads a scenario from a `.json` file (JSON) or any other file (YAML);
    /// relative component paths are resolved against the file's directory.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, HarnessError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| HarnessError::Io {
            action: "read the scenario",
            path: path.to_path_buf(),
            source,
        })?;
        let origin = path.display().to_string();
        let mut s = if path.extension().is_some_and(|e| e == "json") {
            Self::from_json_str(&text, &origin)?
        } else {
            Self::from_yaml_str(&text, &origin)?
        };
        s.base_dir = path.parent().map(Path::to_path_buf);
        Ok(s)
    }

    /// Parses and checks a YAML scenario; `origin` names it in errors.
    pub fn from_yaml_str(text: &str, origin: &str) -> Result<Self, HarnessError> {
        let s: Self = serde_yaml_ng::from_str(text).map_err(|e| HarnessError::yaml(origin, &e))?;
        s.validate()?;
        Ok(s)
    }

    /// Parses and checks a JSON scenario; `origin` names it in errors.
    pub fn from_json_str(text: &str, origin: &str) -> Result<Self, HarnessError> {
        let s: Self = serde_json::from_str(text).map_err(|e| HarnessError::json(origin, &e))?;
        s.validate()?;
        Ok(s)
    }

    /// The scenario as YAML.
    pub fn to_yaml(&self) -> Result<String, HarnessError> {
        serde_yaml_ng::to_string(self).map_err(|e| HarnessError::Serialize {
            format: "YAML",
            message: e.to_string(),
        })
    }

    /// A minimal scenario: `component` with defaults for everything else.
    pub fn new(name: impl Into<String>, component: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            component: component.into(),
            ..Self::default()
        }
    }

    /// The same scenario with another seed (for `TORVYN_SIM_SEED`).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// The same scenario under another compiler.
    pub fn with_strategy(mut self, strategy: CompilationStrategy) -> Self {
        self.strategy = strategy;
        self
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

    /// Where the component comes from.
    pub fn component_source(&self) -> ComponentSource {
        ComponentSource::of(
            &self.component,
            self.mock.as_ref(),
            self.base_dir.as_deref(),
        )
    }

    /// The backend in effect ([`BackendKind::in_effect`]).
    pub fn effective_backend(&self) -> BackendKind {
        BackendKind::in_effect(self.backend, self.mock.is_some())
    }

    /// Checks what parsing cannot: a name, a component, exclusive and valid
    /// payload fields, sane generation bounds.
    pub fn validate(&self) -> Result<(), HarnessError> {
        let bad = |problem: String| HarnessError::InvalidScenario {
            scenario: if self.name.is_empty() {
                "<unnamed>".into()
            } else {
                self.name.clone()
            },
            problem,
        };
        if self.name.trim().is_empty() {
            return Err(bad("`name` is empty; give the scenario a short name".into()));
        }
        if self.component.trim().is_empty() {
            return Err(bad(
                "`component` is empty; name a fixture, a .wat file or a .wasm file".into(),
            ));
        }
        if let Some(role) = self.role.filter(|r| !is_driven(*r)) {
            let roles: Vec<&str> = DRIVEN_ROLES.iter().map(|r| r.name()).collect();
            return Err(bad(format!(
                "`role: {role}` is not a role a scenario can drive (every run calls `init` \
                 and `teardown` itself); write one of {}, or leave `role` out to drive the \
                 first the component exports",
                roles.join(", ")
            )));
        }
        if self.compare == Some(crate::snapshot::Compare::Exact) && self.fuel_tolerance.is_some() {
            return Err(bad(
                "`fuel_tolerance` needs `compare: behaviour` (exact comparison already fails \
                 on any fuel change); drop one of them"
                    .into(),
            ));
        }
        for (i, input) in self.inputs.iter().enumerate() {
            if input.payload.is_some() && input.payload_hex.is_some() {
                return Err(bad(format!(
                    "inputs[{i}] has both `payload` and `payload_hex`; keep one"
                )));
            }
            if let Some(hex) = &input.payload_hex {
                decode_hex(hex).map_err(|p| bad(format!("inputs[{i}].payload_hex: {p}")))?;
            }
        }
        if let Some(g) = &self.generate
            && g.min_len > g.max_len
        {
            return Err(bad(format!(
                "generate.min_len ({}) is above generate.max_len ({})",
                g.min_len, g.max_len
            )));
        }
        if self.pull_limit == Some(0) {
            return Err(bad(
                "`pull_limit` is 0; leave it out or make it at least 1".into()
            ));
        }
        if self.require_handled && !self.fail_host_call.is_some_and(|f| f.is_sweep()) {
            return Err(bad(
                "`require_handled` applies to a host-call sweep only; add `fail_host_call: all` \
                 or leave `require_handled` out"
                    .into(),
            ));
        }
        self.host_call_expectations().map_err(bad)?;
        if let Some(spec) = &self.mock {
            crate::source::check_scripted(spec, self.backend)
                .map_err(|p| bad(format!("`mock:` {p}")))?;
        }
        Ok(())
    }

    /// The scenario's `expect_host_calls` and `forbid_host_calls`,
    /// resolved.
    ///
    /// # Errors
    ///
    /// The first name that names no call or host function.
    pub fn host_call_expectations(
        &self,
    ) -> Result<crate::host_calls::HostCallExpectations, String> {
        crate::host_calls::HostCallExpectations::resolve(
            &self.expect_host_calls,
            &self.forbid_host_calls,
        )
    }

    /// The elements to send: `inputs` decoded, then the generated ones
    /// drawn from `rng`.
    pub fn resolve_inputs(&self, rng: &mut SimRng) -> Result<Vec<ResolvedInput>, HarnessError> {
        self.validate()?;
        let mut out = Vec::with_capacity(self.inputs.len());
        for input in &self.inputs {
            out.push(input.resolve().expect("validated"));
        }
        if let Some(g) = &self.generate {
            for _ in 0..g.count {
                let len = rng.range(g.min_len as u64, g.max_len as u64) as usize;
                let (payload, ct) = match g.kind {
                    GeneratedKind::Text => (rng.text(len).into_bytes(), DEFAULT_CONTENT_TYPE),
                    GeneratedKind::Bytes => (rng.bytes(len), "application/octet-stream"),
                };
                out.push(ResolvedInput {
                    payload,
                    content_type: g.content_type.clone().unwrap_or_else(|| ct.into()),
                    deadline_ns: None,
                });
            }
        }
        Ok(out)
    }
}

/// Every `*.yaml`, `*.yml` and `*.json` file in `dir`, sorted by name.
pub fn scenario_files(dir: impl AsRef<Path>) -> Result<Vec<PathBuf>, HarnessError> {
    let dir = dir.as_ref();
    let entries = std::fs::read_dir(dir).map_err(|source| HarnessError::Io {
        action: "list the scenario directory",
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        })
        .collect();
    files.sort();
    Ok(files)
}

/// `fixtures/scenarios/`, where the scenario files of the snapshot suite
/// live.
pub fn scenarios_dir() -> PathBuf {
    crate::fixtures::fixtures_dir().join("scenarios")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_yaml_scenario_parses_with_defaults() {
        let s = Scenario::from_yaml_str(
            "name: t\ncomponent: uppercase\ninputs:\n  - payload: hi\n  - payload_hex: 00 ff\n    content_type: x/y\n",
            "t.yaml",
        )
        .unwrap();
        assert_eq!(s.strategy, CompilationStrategy::Cranelift);
        assert_eq!(s.clock, ClockSetting::Virtual);
        assert_eq!(
            s.component_source(),
            ComponentSource::Fixture("uppercase".into())
        );
        let inputs = s.resolve_inputs(&mut SimRng::new(1)).unwrap();
        assert_eq!(inputs[0].payload, b"hi");
        assert_eq!(inputs[0].content_type, "text/plain");
        assert_eq!(inputs[1].payload, [0, 255]);
        assert_eq!(inputs[1].content_type, "x/y");
    }

    #[test]
    fn errors_name_the_line() {
        let e = Scenario::from_yaml_str("name: t\ncomponent: x\nfuell: 3\n", "s.yaml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("s.yaml") && e.contains("line 3") && e.contains("fuell"),
            "{e}"
        );
        let e = Scenario::from_json_str("{\"name\": \"t\",\n \"component\": 3}", "s.json")
            .unwrap_err()
            .to_string();
        assert!(e.contains("JSON") && e.contains("line 2"), "{e}");
        let e = Scenario::from_yaml_str(
            "name: t\ncomponent: x\ninputs: [{payload: a, payload_hex: '61'}]\n",
            "s.yaml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("both"), "{e}");
        let e = Scenario::from_yaml_str(
            "name: t\ncomponent: x\ninputs: [{payload_hex: 'zz'}]\n",
            "s",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("not a hex byte"), "{e}");
    }

    #[test]
    fn a_scenario_drives_every_role_but_lifecycle() {
        for role in DRIVEN_ROLES {
            let s = Scenario::from_yaml_str(
                &format!("name: t\ncomponent: x\nrole: {role}\n"),
                "s.yaml",
            )
            .unwrap();
            assert_eq!(s.role, Some(role));
        }
        let e = Scenario::from_yaml_str("name: t\ncomponent: x\nrole: lifecycle\n", "s.yaml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`role: lifecycle`")
                && e.contains("processor, source, sink, filter, router, aggregator"),
            "{e}"
        );
        let e = Scenario::from_yaml_str("name: t\ncomponent: x\nrole: transformer\n", "s.yaml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("transformer") && e.contains("line 3"), "{e}");
    }

    #[test]
    fn paths_resolve_against_the_scenario_directory() {
        let dir = Path::new("/tmp/s");
        assert_eq!(
            ComponentSource::parse("a/b.wat", Some(dir)),
            ComponentSource::Wat(dir.join("a/b.wat"))
        );
        assert_eq!(
            ComponentSource::parse("/x.wasm", Some(dir)),
            ComponentSource::Wasm("/x.wasm".into())
        );
    }

    #[test]
    fn generated_inputs_follow_the_seed() {
        let s = Scenario {
            generate: Some(GeneratedInputs {
                count: 4,
                min_len: 2,
                max_len: 5,
                kind: GeneratedKind::Text,
                content_type: None,
            }),
            ..Scenario::new("g", "uppercase")
        };
        let a = s.resolve_inputs(&mut SimRng::new(7)).unwrap();
        assert_eq!(a, s.resolve_inputs(&mut SimRng::new(7)).unwrap());
        assert_eq!(a.len(), 4);
        assert!(a.iter().all(|i| (2..=5).contains(&i.payload.len())));
    }
}

//! The settings every run shares, whatever it runs: the backend, the
//! clock and its cost model, and the host calls to fail. Scenarios,
//! pipelines, the CLI and transcripts all read them from here; the
//! compiler and the backpressure signals a file names are the engine's own
//! types (`torvyn_engine::CompilationStrategy`,
//! `torvyn_engine::BackpressureSignal`), read through its `serde` feature.

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use torvyn_engine::{CompilationStrategy, HostFaultPlan, VirtualTime};

/// Which backend runs a scenario, a pipeline or a CLI command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackendKind {
    /// The Wasmtime engine (feature `wasmtime-backend`).
    Wasmtime,
    /// The mock engine: fixture models and scripted components.
    Mock,
}

impl BackendKind {
    /// Both backends.
    pub const ALL: [BackendKind; 2] = [Self::Wasmtime, Self::Mock];

    /// `wasmtime` or `mock`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Wasmtime => "wasmtime",
            Self::Mock => "mock",
        }
    }

    /// The backend named `name` ([`BackendKind::name`]), if one is.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.name() == name)
    }

    /// What the backend runs, in one line (what `--help` lists).
    pub fn describe(self) -> &'static str {
        match self {
            Self::Wasmtime => "The Wasmtime engine: runs the WebAssembly",
            Self::Mock => "The mock engine: the fixtures' models and scripted components",
        }
    }

    /// The backend of a file that names none: Wasmtime when this build has
    /// it, else the mock.
    pub fn default_for_build() -> Self {
        if cfg!(feature = "wasmtime-backend") {
            Self::Wasmtime
        } else {
            Self::Mock
        }
    }

    /// The backend of a scenario or pipeline file: the one it names; else
    /// the mock when it scripts a component (`mock:`); else
    /// [`BackendKind::default_for_build`].
    pub fn in_effect(named: Option<Self>, scripted: bool) -> Self {
        match named {
            Some(b) => b,
            None if scripted => Self::Mock,
            None => Self::default_for_build(),
        }
    }

    /// What ran a transcript, for its header: the compiler's name on
    /// Wasmtime (`cranelift`, `winch`), `mock` on the mock.
    pub fn engine_label(self, strategy: CompilationStrategy) -> &'static str {
        match self {
            Self::Wasmtime => strategy.name(),
            Self::Mock => "mock",
        }
    }

    /// Whether this build of the harness includes the backend.
    pub fn is_built(self) -> bool {
        match self {
            Self::Wasmtime => cfg!(feature = "wasmtime-backend"),
            Self::Mock => true,
        }
    }
}

impl std::fmt::Display for BackendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for BackendKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::from_name(s).ok_or_else(|| format!("unknown backend `{s}`; use `wasmtime` or `mock`"))
    }
}

/// Which clock a run uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClockSetting {
    /// Time advances only with work: deterministic.
    #[default]
    Virtual,
    /// The system's monotonic clock: times and durations vary per run.
    System,
}

impl ClockSetting {
    /// Both clocks.
    pub const ALL: [ClockSetting; 2] = [Self::Virtual, Self::System];

    /// `virtual` or `system`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Virtual => "virtual",
            Self::System => "system",
        }
    }

    /// The clock named `name` ([`ClockSetting::name`]), if one is.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    /// What the clock is, in one line (what `--help` lists).
    pub fn describe(self) -> &'static str {
        match self {
            Self::Virtual => "Time advances only with fuel and host calls: deterministic",
            Self::System => "The system's monotonic clock: times vary per run",
        }
    }
}

/// A virtual clock's cost model (see [`VirtualTime`]); absent fields take
/// the engine defaults.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VirtualTimeSpec {
    /// Nanoseconds per unit of fuel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ns_per_fuel: Option<u64>,
    /// Nanoseconds per host call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ns_per_host_call: Option<u64>,
}

impl VirtualTimeSpec {
    /// The cost model, defaults filled in.
    pub fn model(spec: Option<&Self>) -> VirtualTime {
        let d = VirtualTime::default();
        let Some(s) = spec else { return d };
        VirtualTime {
            ns_per_fuel: s.ns_per_fuel.unwrap_or(d.ns_per_fuel),
            ns_per_host_call: s.ns_per_host_call.unwrap_or(d.ns_per_host_call),
            ..d
        }
    }
}

/// Which host calls a scenario fails (`fail_host_call:`).
///
/// Not a copy of `torvyn_engine::HostFaultPlan`: it also names the sweep
/// (`all`, one run per host call, which no single plan describes), and a
/// probability is written from 0 to 1 and drawn from the scenario's seed;
/// [`FailHostCall::plan`] gives the engine's plan for one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FailHostCall {
    /// `all`: the sweep (see [`sweep`](crate::faults::sweep)).
    All(All),
    /// The host call with this index among all the run's host calls.
    Index(u64),
    /// A plan by rule.
    Rule(FailRule),
}

/// The word `all`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum All {
    /// `all`.
    #[serde(rename = "all")]
    All,
}

/// `{every_call: K}` or `{probability: P}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum FailRule {
    /// The host call with this index of every call.
    EveryCall(u32),
    /// Each host call with this probability, drawn from the scenario's
    /// seed.
    Probability(Probability),
}

/// A probability from 0 to 1, kept in millionths (written as a number:
/// `0.05`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Probability {
    per_million: u32,
}

impl Probability {
    /// Failures per million.
    pub fn per_million(self) -> u32 {
        self.per_million
    }
}

impl TryFrom<f64> for Probability {
    type Error = String;

    fn try_from(p: f64) -> Result<Self, String> {
        if (0.0..=1.0).contains(&p) {
            Ok(Self {
                per_million: (p * 1_000_000.0).round() as u32,
            })
        } else {
            Err(format!(
                "the probability is {p}; give a probability from 0 to 1"
            ))
        }
    }
}

impl From<Probability> for f64 {
    fn from(p: Probability) -> f64 {
        f64::from(p.per_million) / 1_000_000.0
    }
}

impl FailHostCall {
    /// The engine's plan for one run (`None` for the sweep, which makes
    /// one per case), with `seed` for a probability.
    pub fn plan(self, seed: u64) -> Option<HostFaultPlan> {
        match self {
            Self::All(_) => None,
            Self::Index(k) => Some(HostFaultPlan::NthOfRun(k)),
            Self::Rule(FailRule::EveryCall(k)) => Some(HostFaultPlan::NthOfCall(k)),
            Self::Rule(FailRule::Probability(p)) => Some(HostFaultPlan::Random {
                seed,
                per_million: p.per_million(),
            }),
        }
    }

    /// Whether this is the sweep.
    pub fn is_sweep(self) -> bool {
        matches!(self, Self::All(_))
    }
}

impl FromStr for FailHostCall {
    type Err = String;

    /// `all`, `K`, `every-call:K` or `probability:P`.
    fn from_str(s: &str) -> Result<Self, String> {
        let usage = "give `all` (the sweep), K (host call K of the run, from 0), \
                     `every-call:K` or `probability:P` (0 to 1)";
        let s = s.trim();
        let parsed = if s == "all" {
            Some(Self::All(All::All))
        } else if let Some(k) = s.strip_prefix("every-call:") {
            k.trim()
                .parse()
                .ok()
                .map(|k| Self::Rule(FailRule::EveryCall(k)))
        } else if let Some(p) = s.strip_prefix("probability:") {
            match p.trim().parse::<f64>() {
                Ok(p) => Some(Self::Rule(FailRule::Probability(p.try_into()?))),
                Err(_) => None,
            }
        } else {
            s.parse().ok().map(Self::Index)
        };
        parsed.ok_or_else(|| format!("`{s}` is not a host-call choice; {usage}"))
    }
}

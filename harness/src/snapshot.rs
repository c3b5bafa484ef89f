//! Comparing a run with a snapshot: what `torvyn-sim check` does, as a
//! library a snapshot suite can call.
//!
//! A snapshot is the YAML of a run's snapshot form (a scenario's
//! [`Transcript::snapshot_form`](crate::transcript::Transcript::snapshot_form),
//! a pipeline's, or a host-call sweep), written by `check --update` or by
//! insta. It always holds the costs (fuel, engine-clock times, linear
//! memory), so a later run can say how they moved. Two ways to compare
//! ([`Compare`]):
//!
//! - **exact**: every field. For components whose fuel is fixed by text in
//!   the tree (WAT fixtures, scripted mocks): a change of fuel is a change
//!   of the component or of the engine, and the golden figures pin it.
//! - **behaviour**: what the component did (calls, outcomes, payloads,
//!   errors, fault kinds and messages without their backtraces, host calls,
//!   copies, allocations, reclaimed resources, captured output), not what
//!   it cost ([`COST_FIELDS`]). For components built by a toolchain
//!   (componentize-py, componentize-js, C or Rust with wit-bindgen): their
//!   fuel moves with every rebuild, even one that changes no behaviour.
//!   The cost changes are reported as information, a table of per-call
//!   deltas ([`Comparison::render_costs`]); with a fuel tolerance
//!   ([`CompareSettings::fuel_tolerance`]) a run whose fuel grew by more
//!   than it fails (`fuel regressed 32 % > 10 %`).
//!
//! [`Compare::default_for`] chooses between them when neither the file
//! nor the caller does: exact when every component is WAT text or a
//! scripted mock (or the run is on the mock backend, whose fuel is a cost
//! model), behaviour as soon as one is a binary component.
//!
//! ```
//! use torvyn_harness::snapshot::{Compare, CompareSettings, compare};
//!
//! let snapshot = "entries:\n- index: 0\n  call: process\n  outcome: drop\n  fuel: 100\n";
//! let rebuilt = "entries:\n- index: 0\n  call: process\n  outcome: drop\n  fuel: 132\n";
//! let c = compare(snapshot, rebuilt, &CompareSettings::new(Compare::Behaviour));
//! assert!(c.passed());
//! assert_eq!(c.fuel.map(|f| (f.before, f.after)), Some((100, 132)));
//!
//! let budget = CompareSettings::new(Compare::Behaviour).with_fuel_tolerance(10.0);
//! let c = compare(snapshot, rebuilt, &budget);
//! assert_eq!(c.regression.as_deref(), Some("fuel regressed 32 % > 10 % (100 → 132 units)"));
//! ```

use std::fmt;
use std::fmt::Write as _;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_yaml_ng::{Mapping, Value};
use similar::{ChangeTag, TextDiff};

use crate::backend::BackendKind;
use crate::error::HarnessError;
use crate::scenario::ComponentSource;
use crate::table::Table;
use crate::transcript::without_backtrace;

/// How a run is compared with its snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compare {
    /// Every field, fuel and engine-clock times included.
    Exact,
    /// What the component did, not what it cost: [`COST_FIELDS`] are left
    /// out, and faults' messages lose their Wasmtime backtraces.
    #[serde(alias = "behavior")]
    Behaviour,
}

impl Compare {
    /// The names a file or the command line uses.
    pub const NAMES: [&'static str; 2] = ["exact", "behaviour"];

    /// `exact` or `behaviour`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Exact => "exact",
            Self::Behaviour => "behaviour",
        }
    }

    /// The comparison a run gets when neither its file nor the caller
    /// chooses one, and why: exact when it runs on the mock backend or
    /// every component is WAT text (a fixture, a `.wat` file) or a scripted
    /// mock; behaviour when a component is a binary (`.wasm`), whose fuel
    /// moves with every rebuild by its toolchain.
    pub fn default_for<'a>(
        backend: BackendKind,
        sources: impl IntoIterator<Item = &'a ComponentSource>,
    ) -> (Self, &'static str) {
        if backend == BackendKind::Mock {
            return (
                Self::Exact,
                "the mock backend's fuel is its cost model, the same every run",
            );
        }
        if sources
            .into_iter()
            .any(|s| matches!(s, ComponentSource::Wasm(_)))
        {
            (
                Self::Behaviour,
                "a binary component's fuel moves with every rebuild by its toolchain",
            )
        } else {
            (
                Self::Exact,
                "the components are WAT text, whose fuel is pinned",
            )
        }
    }
}

impl fmt::Display for Compare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Compare {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "exact" => Ok(Self::Exact),
            "behaviour" | "behavior" => Ok(Self::Behaviour),
            other => Err(format!(
                "unknown comparison `{other}`; use `exact` or `behaviour`"
            )),
        }
    }
}

/// A percentage, e.g. a fuel tolerance: written `10`, `2.5` or `"10%"`.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Percent(f64);

impl Percent {
    /// `value` percent; `None` unless finite and not negative.
    pub fn new(value: f64) -> Option<Self> {
        (value.is_finite() && value >= 0.0).then_some(Self(value))
    }

    /// The number of percent.
    pub fn get(self) -> f64 {
        self.0
    }
}

// Tolerances are finite (`Percent::new`), so equality is reflexive.
impl Eq for Percent {}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} %", format_percent(self.0))
    }
}

impl FromStr for Percent {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let number = s.trim().trim_end_matches('%').trim_end();
        number
            .parse::<f64>()
            .ok()
            .and_then(Self::new)
            .ok_or_else(|| format!("`{s}` is not a percentage; write e.g. `10` or `2.5%`"))
    }
}

impl Serialize for Percent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.0)
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(f64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Number(n) => Self::new(n).ok_or_else(|| {
                serde::de::Error::custom(format!("{n} is not a percentage (0 or more)"))
            }),
            Raw::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// A percentage as people write it: no trailing `.0`, at most one decimal.
fn format_percent(p: f64) -> String {
    let rounded = (p * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.1}")
    }
}

/// How to compare: the [`Compare`] mode, and for behaviour a fuel budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompareSettings {
    /// Exact or behaviour.
    pub compare: Compare,
    /// With [`Compare::Behaviour`]: the run fails when its fuel (every
    /// call's, summed) exceeds the snapshot's by more than this. `None`:
    /// fuel is only reported.
    pub fuel_tolerance: Option<Percent>,
}

impl CompareSettings {
    /// `compare` with no fuel budget.
    pub fn new(compare: Compare) -> Self {
        Self {
            compare,
            fuel_tolerance: None,
        }
    }

    /// With a fuel budget of `percent` over the snapshot's fuel.
    ///
    /// # Panics
    ///
    /// When `percent` is negative or not finite.
    pub fn with_fuel_tolerance(mut self, percent: f64) -> Self {
        self.fuel_tolerance =
            Some(Percent::new(percent).expect("a fuel tolerance is a finite percentage >= 0"));
        self
    }
}

/// The fields a behaviour comparison leaves out: what a call cost, not what
/// it did. Fuel (`fuel`, `fuel_total`, `fuel_per_element`), engine-clock
/// readings and durations (`now_ns`, `duration_ns`, `busy_ns`,
/// `virtual_time_ns`, `elements_per_virtual_second`, and an input's
/// `timestamp_ns` and `deadline_ns`, which the virtual clock derives from
/// fuel), linear memory (`memory_bytes`, which a toolchain's allocator
/// sizes) and real time (`wall`).
pub const COST_FIELDS: [&str; 12] = [
    "fuel",
    "fuel_total",
    "fuel_per_element",
    "now_ns",
    "duration_ns",
    "busy_ns",
    "virtual_time_ns",
    "elements_per_virtual_second",
    "timestamp_ns",
    "deadline_ns",
    "memory_bytes",
    "wall",
];

/// The behaviour form of a snapshot document (a transcript, a pipeline
/// transcript or a sweep, as YAML): [`COST_FIELDS`] removed everywhere,
/// faults' messages without their Wasmtime backtraces, enum tags (`!emit`)
/// written as one-key maps.
///
/// A snapshot suite can pin behaviour only with insta:
/// `insta::assert_yaml_snapshot!(behaviour_form(&t)?)`.
pub fn behaviour_form<T: Serialize>(value: &T) -> Result<Value, HarnessError> {
    let v = serde_yaml_ng::to_value(value).map_err(yaml_error)?;
    Ok(behaviour_of(untag(v)))
}

fn behaviour_of(v: Value) -> Value {
    match v {
        Value::Mapping(m) => {
            let is_fault = m.get("kind").is_some() && m.get("poisons").is_some();
            Value::Mapping(
                m.into_iter()
                    .filter(|(k, _)| !k.as_str().is_some_and(|k| COST_FIELDS.contains(&k)))
                    .map(|(k, v)| match (&k, v) {
                        (Value::String(key), Value::String(msg))
                            if is_fault && key == "message" =>
                        {
                            let msg = without_backtrace(&msg).map_or(msg, |(m, _)| m);
                            (k, Value::String(msg))
                        }
                        (_, v) => (k, behaviour_of(v)),
                    })
                    .collect(),
            )
        }
        Value::Sequence(s) => Value::Sequence(s.into_iter().map(behaviour_of).collect()),
        other => other,
    }
}

fn yaml_error(e: serde_yaml_ng::Error) -> HarnessError {
    HarnessError::Serialize {
        format: "YAML",
        message: e.to_string(),
    }
}

/// `!tag value` as `{tag: value}`, everywhere in `v`.
fn untag(v: Value) -> Value {
    match v {
        Value::Tagged(t) => {
            let tag = t.tag.to_string();
            let mut m = Mapping::new();
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

/// The canonical text of a YAML document (parsed, enum tags written as
/// one-key maps, serialized again), or `None` when it does not parse. Two
/// documents that differ only in formatting have the same canonical text.
pub fn canonical(text: &str) -> Option<String> {
    let v: Value = serde_yaml_ng::from_str(text).ok()?;
    serde_yaml_ng::to_string(&untag(v)).ok()
}

/// The text compared in `compare` mode, or `None` when it is not YAML.
fn compared_text(text: &str, compare: Compare) -> Option<String> {
    let v = untag(serde_yaml_ng::from_str(text).ok()?);
    let v = match compare {
        Compare::Exact => v,
        Compare::Behaviour => behaviour_of(v),
    };
    serde_yaml_ng::to_string(&v).ok()
}

/// A line diff of the compared forms of a snapshot and a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotDiff {
    /// A unified diff (`-` only in the snapshot, `+` only in the run).
    pub unified: String,
    /// Lines only in the snapshot.
    pub removed: usize,
    /// Lines only in the run.
    pub added: usize,
    /// Whether the snapshot was not valid YAML and was compared as text.
    pub as_text: bool,
}

/// What one call cost in the snapshot and in the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CostDelta {
    /// The entry's index.
    pub index: u64,
    /// The pipeline stage, if any.
    pub stage: Option<String>,
    /// The function called (`process`, ...).
    pub call: String,
    /// Fuel in the snapshot and in the run.
    pub fuel: (u64, u64),
    /// Engine-clock duration in the snapshot and in the run, in ns.
    pub duration_ns: (u64, u64),
    /// Linear memory after the call in the snapshot and in the run.
    pub memory_bytes: (u64, u64),
}

/// Fuel of every call, summed, in the snapshot and in the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuelChange {
    /// The snapshot's.
    pub before: u64,
    /// The run's.
    pub after: u64,
}

impl FuelChange {
    /// The change in percent of `before` (`None` when `before` is 0).
    pub fn percent(self) -> Option<f64> {
        (self.before > 0)
            .then(|| (self.after as f64 - self.before as f64) * 100.0 / self.before as f64)
    }
}

/// The result of comparing a run with its snapshot.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// How it was compared.
    pub settings: CompareSettings,
    /// The differences in the compared form; `None` when it matched.
    pub diff: Option<SnapshotDiff>,
    /// With [`Compare::Exact`] and a diff: whether the behaviour form
    /// matched, so only costs differ.
    pub only_costs_differ: bool,
    /// Calls whose fuel, duration or memory changed, in order (when both
    /// documents have the same calls).
    pub costs: Vec<CostDelta>,
    /// Fuel over the whole run, when both documents have entries.
    pub fuel: Option<FuelChange>,
    /// Set when the fuel grew by more than the tolerance:
    /// `fuel regressed 32 % > 10 % (1000 → 1320 units)`.
    pub regression: Option<String>,
}

impl Comparison {
    /// Whether the run passes: no difference in the compared form and no
    /// fuel regression.
    pub fn passed(&self) -> bool {
        self.diff.is_none() && self.regression.is_none()
    }

    /// The cost changes as text: a line with the run's fuel against the
    /// snapshot's, then a table of the calls whose costs changed (at most
    /// `max_rows`, the largest fuel changes first; `0`: all), then the
    /// regression if any. Empty when nothing cost differently.
    pub fn render_costs(&self, max_rows: usize) -> String {
        let mut s = String::new();
        if let Some(f) = self
            .fuel
            .filter(|f| f.before != f.after || !self.costs.is_empty())
        {
            let _ = writeln!(
                s,
                "fuel {}: {} → {} units{} over the run; {} call{} cost differently",
                if self.settings.compare == Compare::Exact || self.settings.fuel_tolerance.is_some()
                {
                    "compared"
                } else {
                    "not compared"
                },
                f.before,
                f.after,
                f.percent()
                    .map(|p| format!(" ({})", signed_percent(p)))
                    .unwrap_or_default(),
                self.costs.len(),
                if self.costs.len() == 1 { "" } else { "s" },
            );
        }
        if !self.costs.is_empty() {
            let mut rows: Vec<&CostDelta> = self.costs.iter().collect();
            if max_rows > 0 && rows.len() > max_rows {
                rows.sort_by_key(|d| std::cmp::Reverse(d.fuel.0.abs_diff(d.fuel.1)));
                rows.truncate(max_rows);
                rows.sort_by_key(|d| d.index);
            }
            // A scenario's calls have no stage: no column for it then.
            let staged = rows.iter().any(|d| d.stage.is_some());
            let mut headers = vec!["#", "stage", "call", "fuel (snapshot)", "fuel (run)"];
            headers.extend(["change", "ns (snapshot)", "ns (run)", "memory (run)"]);
            let mut right = vec![true, false, false, true, true, true, true, true, true];
            if !staged {
                headers.remove(1);
                right.remove(1);
            }
            let mut t = Table::new(headers, right);
            for d in &rows {
                let change = if d.fuel.0 == 0 {
                    String::from("-")
                } else {
                    signed_percent((d.fuel.1 as f64 - d.fuel.0 as f64) * 100.0 / d.fuel.0 as f64)
                };
                let mut cells = vec![
                    d.index.to_string(),
                    d.stage.clone().unwrap_or_default(),
                    d.call.clone(),
                    d.fuel.0.to_string(),
                    d.fuel.1.to_string(),
                    change,
                    d.duration_ns.0.to_string(),
                    d.duration_ns.1.to_string(),
                    if d.memory_bytes.0 == d.memory_bytes.1 {
                        "same".into()
                    } else {
                        format!("{} → {}", d.memory_bytes.0, d.memory_bytes.1)
                    },
                ];
                if !staged {
                    cells.remove(1);
                }
                t.row(cells, Vec::new());
            }
            s.push_str(&t.render());
            if rows.len() < self.costs.len() {
                let _ = writeln!(
                    s,
                    "({} more calls cost differently; the {} largest fuel changes are shown)",
                    self.costs.len() - rows.len(),
                    rows.len()
                );
            }
        }
        if let Some(r) = &self.regression {
            let _ = writeln!(s, "{r}");
        }
        s
    }
}

/// `+32 %`, `-4.5 %`, `0 %`.
fn signed_percent(p: f64) -> String {
    let text = format_percent(p.abs());
    if text == "0" {
        "0 %".into()
    } else if p > 0.0 {
        format!("+{text} %")
    } else {
        format!("-{text} %")
    }
}

/// Compares a run's snapshot document with a snapshot (both YAML text; an
/// insta header on `snapshot` is skipped) as `settings` says.
pub fn compare(snapshot: &str, run: &str, settings: &CompareSettings) -> Comparison {
    let snapshot = strip_insta_header(snapshot);
    let diff_of = |compare: Compare| -> Option<SnapshotDiff> {
        let ours = compared_text(run, compare).unwrap_or_else(|| run.to_string());
        let (theirs, as_text) = match compared_text(snapshot, compare) {
            Some(t) => (t, false),
            None => (snapshot.to_string(), true),
        };
        if ours == theirs {
            return None;
        }
        let diff = TextDiff::from_lines(&theirs, &ours);
        let (mut removed, mut added) = (0, 0);
        for change in diff.iter_all_changes() {
            match change.tag() {
                ChangeTag::Delete => removed += 1,
                ChangeTag::Insert => added += 1,
                ChangeTag::Equal => {}
            }
        }
        Some(SnapshotDiff {
            unified: diff
                .unified_diff()
                .context_radius(3)
                .header("snapshot", "this run")
                .to_string(),
            removed,
            added,
            as_text,
        })
    };
    let diff = diff_of(settings.compare);
    let only_costs_differ = settings.compare == Compare::Exact
        && diff.is_some()
        && diff_of(Compare::Behaviour).is_none();

    let (costs, fuel) = cost_changes(snapshot, run);
    let regression = match (settings.compare, settings.fuel_tolerance, fuel) {
        (Compare::Behaviour, Some(tol), Some(f)) => f.percent().and_then(|p| {
            (p > tol.get()).then(|| {
                format!(
                    "fuel regressed {} % > {} % ({} → {} units)",
                    format_percent(p),
                    format_percent(tol.get()),
                    f.before,
                    f.after
                )
            })
        }),
        _ => None,
    };
    Comparison {
        settings: *settings,
        diff,
        only_costs_differ,
        costs,
        fuel,
        regression,
    }
}

/// Reads the snapshot at `path` (YAML, or an insta `.snap`) and compares
/// `run` (a transcript, pipeline transcript or sweep in its snapshot form)
/// with it. A test in a snapshot suite asserts [`Comparison::passed`] and
/// prints [`Comparison::render_costs`].
pub fn compare_with_file<T: Serialize>(
    path: &Path,
    run: &T,
    settings: &CompareSettings,
) -> Result<Comparison, HarnessError> {
    let text = std::fs::read_to_string(path).map_err(|source| HarnessError::Io {
        action: "read the snapshot",
        path: path.to_path_buf(),
        source,
    })?;
    let run = serde_yaml_ng::to_string(run).map_err(yaml_error)?;
    Ok(compare(&text, &run, settings))
}

/// The calls of a document: its top-level `entries`.
fn entries(text: &str) -> Option<Vec<Value>> {
    let v: Value = serde_yaml_ng::from_str(text).ok()?;
    match v.get("entries")? {
        Value::Sequence(s) => Some(s.clone()),
        _ => None,
    }
}

/// Per-call cost changes (when both documents list the same calls) and the
/// fuel of the whole run (when both list calls).
fn cost_changes(snapshot: &str, run: &str) -> (Vec<CostDelta>, Option<FuelChange>) {
    let (Some(before), Some(after)) = (entries(snapshot), entries(run)) else {
        return (Vec::new(), None);
    };
    let num = |e: &Value, k: &str| e.get(k).and_then(Value::as_u64).unwrap_or(0);
    let text = |e: &Value, k: &str| e.get(k).and_then(Value::as_str).map(str::to_string);
    let fuel = FuelChange {
        before: before.iter().map(|e| num(e, "fuel")).sum(),
        after: after.iter().map(|e| num(e, "fuel")).sum(),
    };
    let same_calls = before.len() == after.len()
        && before.iter().zip(&after).all(|(b, a)| {
            text(b, "call") == text(a, "call") && text(b, "stage") == text(a, "stage")
        });
    let mut costs = Vec::new();
    if same_calls {
        for (b, a) in before.iter().zip(&after) {
            let d = CostDelta {
                index: num(a, "index"),
                stage: text(a, "stage"),
                call: text(a, "call").unwrap_or_default(),
                fuel: (num(b, "fuel"), num(a, "fuel")),
                duration_ns: (num(b, "duration_ns"), num(a, "duration_ns")),
                memory_bytes: (num(b, "memory_bytes"), num(a, "memory_bytes")),
            };
            if d.fuel.0 != d.fuel.1
                || d.duration_ns.0 != d.duration_ns.1
                || d.memory_bytes.0 != d.memory_bytes.1
            {
                costs.push(d);
            }
        }
    }
    (costs, Some(fuel))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SNAP: &str = "\
scenario: s
entries:
- index: 0
  call: init
  outcome: ok
  fuel: 300
  now_ns: 300
  duration_ns: 300
  memory_bytes: 65536
- index: 1
  call: process
  input:
    sequence: 0
    timestamp_ns: 310
    size: 1
  outcome: !emit
    sequence: 0
    content_type: text/plain
    payload:
      text: A
  fuel: 700
  now_ns: 1010
  duration_ns: 700
  memory_bytes: 65536
summary:
  fuel_total: 1000
  busy_ns: 1000
";

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

    /// The snapshot with every cost field scaled, as a rebuild moves them.
    fn rebuilt(scale: f64) -> String {
        let mut out = String::new();
        for line in SNAP.lines() {
            let cost = COST_FIELDS
                .iter()
                .find(|k| line.trim_start().starts_with(&format!("{k}: ")));
            match cost {
                Some(k) => {
                    let (indent, n) = line.split_once(&format!("{k}: ")).unwrap();
                    let n: f64 = n.parse().unwrap();
                    let _ = writeln!(out, "{indent}{k}: {}", (n * scale).round() as u64);
                }
                None => {
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        out
    }

    #[test]
    fn behaviour_ignores_costs_and_reports_them() {
        let run = rebuilt(1.32);
        assert_ne!(run, SNAP);
        let exact = compare(SNAP, &run, &CompareSettings::new(Compare::Exact));
        assert!(!exact.passed());
        assert!(exact.only_costs_differ);

        let c = compare(SNAP, &run, &CompareSettings::new(Compare::Behaviour));
        assert!(c.passed(), "{:?}", c.diff);
        assert_eq!(
            c.fuel,
            Some(FuelChange {
                before: 1000,
                after: 1320
            })
        );
        assert_eq!(c.costs.len(), 2);
        assert_eq!(c.costs[1].call, "process");
        assert_eq!(c.costs[1].fuel, (700, 924));
        let text = c.render_costs(0);
        assert!(
            text.starts_with("fuel not compared: 1000 → 1320 units (+32 %) over the run; 2 calls"),
            "{text}"
        );
        assert!(text.contains("+32 %"), "{text}");
    }

    #[test]
    fn a_changed_output_fails_behaviour() {
        let run = rebuilt(1.0).replace("text: A", "text: B");
        let c = compare(SNAP, &run, &CompareSettings::new(Compare::Behaviour));
        let diff = c.diff.expect("the payload changed");
        assert_eq!((diff.removed, diff.added), (1, 1));
        assert!(
            diff.unified.contains("\n-        text: A\n"),
            "{}",
            diff.unified
        );
        assert!(
            diff.unified.contains("\n+        text: B\n"),
            "{}",
            diff.unified
        );
    }

    #[test]
    fn a_fuel_budget_fails_past_its_tolerance() {
        let settings = CompareSettings::new(Compare::Behaviour).with_fuel_tolerance(10.0);
        let c = compare(SNAP, &rebuilt(1.32), &settings);
        assert!(!c.passed());
        assert_eq!(
            c.regression.as_deref(),
            Some("fuel regressed 32 % > 10 % (1000 → 1320 units)")
        );
        assert!(compare(SNAP, &rebuilt(1.05), &settings).passed());
        // Less fuel is never a regression.
        assert!(compare(SNAP, &rebuilt(0.5), &settings).passed());
    }

    #[test]
    fn fault_backtraces_are_not_behaviour() {
        let fault = |frames: &str| {
            format!(
                "entries:\n- call: process\n  outcome: !fault\n    kind: trap\n    message: \
                 \"guest trapped (unreachable): error while executing at wasm backtrace:\\n    \
                 {frames}: wasm trap: wasm `unreachable` instruction executed; re-instantiate \
                 it\"\n    poisons: true\n"
            )
        };
        let before = fault("0: 0x27a - <unknown>!<wasm function 5>");
        let after = fault("0: 0x31b - <unknown>!<wasm function 7>");
        let b = CompareSettings::new(Compare::Behaviour);
        assert!(compare(&before, &after, &b).passed());
        assert!(!compare(&before, &after, &CompareSettings::new(Compare::Exact)).passed());
        let other = after.replace("unreachable` instruction", "unreachable` opcode");
        assert!(!compare(&before, &other, &b).passed());
    }

    #[test]
    fn percentages_read_as_written() {
        assert_eq!("10".parse::<Percent>().unwrap().get(), 10.0);
        assert_eq!("2.5%".parse::<Percent>().unwrap().get(), 2.5);
        assert_eq!("7 %".parse::<Percent>().unwrap().get(), 7.0);
        assert!("-1".parse::<Percent>().is_err());
        assert!("ten".parse::<Percent>().is_err());
        let p: Percent = serde_yaml_ng::from_str("\"15%\"").unwrap();
        assert_eq!(p.get(), 15.0);
        let p: Percent = serde_yaml_ng::from_str("2.5").unwrap();
        assert_eq!(p.to_string(), "2.5 %");
    }

    #[test]
    fn the_default_follows_the_components_source() {
        use std::path::PathBuf;
        let wat = ComponentSource::Wat(PathBuf::from("a.wat"));
        let fixture = ComponentSource::Fixture("uppercase".into());
        let wasm = ComponentSource::Wasm(PathBuf::from("app.wasm"));
        let wt = BackendKind::Wasmtime;
        assert_eq!(Compare::default_for(wt, [&wat, &fixture]).0, Compare::Exact);
        assert_eq!(
            Compare::default_for(wt, [&fixture, &wasm]).0,
            Compare::Behaviour
        );
        assert_eq!(
            Compare::default_for(BackendKind::Mock, [&wasm]).0,
            Compare::Exact
        );
    }
}

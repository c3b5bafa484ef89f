//! Host-call fault injection in scenarios, and the **sweep**: run a
//! scenario once to count its host calls, then once per host call with
//! that call failing, checking after each case that nothing leaked and
//! the engine still serves (the approach of Wasmtime's OOM fuzzing,
//! applied to the contract's host calls).
//!
//! The engine side is [`torvyn_engine::HostFaultPlan`]: a failed
//! `allocate` or `clone-into-mutable` answers `allocation-failed`, a
//! failed `write` or `append` answers `capacity-exceeded`, and any other
//! host call traps, ending the call in a `host` fault that names it.
//!
//! In a scenario file (or `torvyn-sim run --fail-host-call`):
//!
//! ```yaml
//! fail_host_call: all                       # the sweep
//! fail_host_call: 3                         # host call 3 of the run (from 0)
//! fail_host_call: {every_call: 1}           # host call 1 of every call
//! fail_host_call: {probability: 0.05}       # each with probability 0.05 (seeded by `seed`)
//! require_handled: true                     # a sweep: a guest that traps on a
//!                                           # failure it could handle fails it
//! ```
//!
//! Each case of a sweep says how the guest took its failure
//! ([`Handling`]): it *handled* a contract error (answered a
//! `process-error`, or a value), *trapped* on it, or got a failure it
//! cannot handle (a host call without an error case traps).

use std::fmt::Write as _;
use torvyn_engine::Function;

use serde::{Deserialize, Serialize};
use torvyn_engine::HostFaultPlan;

use crate::backend::{EngineSettings, SimBackend};
use crate::error::HarnessError;
use crate::scenario::Scenario;
use crate::scenario::{compile_scenario, run_compiled};
use crate::spec::BackendKind;
use crate::transcript::{Entry, Outcome, OutputFormat, Transcript, to_json, to_yaml};

/// The most cases a sweep runs when the scenario sets no `sweep_limit`.
pub const DEFAULT_SWEEP_LIMIT: u64 = 10_000;

/// How the guest took the failure of one host call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Handling {
    /// The host call answered a contract error and the guest answered the
    /// call: a `process-error`, or a value.
    Handled,
    /// The host call answered a contract error and the call ended in a
    /// trap (or another engine fault): the guest did not handle an error
    /// the contract lets it handle. An uncaught exception in a guest
    /// language (Python, JavaScript) ends so.
    Trapped,
    /// The host function has no error case, so its failure trapped in the
    /// host: there was nothing for the guest to handle.
    NoErrorCase,
}

impl Handling {
    /// How the guest took a failed host call that answered `answer`
    /// (`trap`, or the contract error), when the call ended in `outcome`.
    pub fn of(answer: &str, outcome: &Outcome) -> Self {
        if answer == "trap" {
            Self::NoErrorCase
        } else if matches!(outcome, Outcome::Fault { .. }) {
            Self::Trapped
        } else {
            Self::Handled
        }
    }

    /// `handled`, `trapped` or `no error case`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Handled => "handled",
            Self::Trapped => "trapped",
            Self::NoErrorCase => "no error case",
        }
    }
}

/// One case of a sweep: the run with one host call failing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepCase {
    /// The host call failed (its index among the run's host calls).
    pub failed_host_call: u64,
    /// The entry of the call it failed in (its index in the transcript).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<usize>,
    /// That call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<Function>,
    /// The host function it hit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// What the guest got: `allocation-failed`, `capacity-exceeded` or
    /// `trap`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// How that call ended: the guest's `process-error`, a drop, a value,
    /// a trap or another fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// How the guest took the failure: handled it, trapped on it, or got
    /// one without an error case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handling: Option<Handling>,
    /// Later calls of the run that failed (a poisoned instance refuses
    /// them).
    pub later_failures: u64,
    /// Host resources left live after a call (always 0 unless the engine
    /// leaks).
    pub leaked: usize,
    /// Whether a run without failures afterwards, on the same engine, gave
    /// the first run's outcomes.
    pub serves: bool,
    /// Broken invariants, one line each (empty: the case ended cleanly).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

impl SweepCase {
    /// Whether the case ended cleanly.
    pub fn clean(&self) -> bool {
        self.problems.is_empty()
    }

    /// Whether the guest trapped on a failure it could have handled.
    pub fn trapped(&self) -> bool {
        self.handling == Some(Handling::Trapped)
    }
}

/// What a sweep found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sweep {
    /// The scenario's name.
    pub scenario: String,
    /// The component.
    pub component: String,
    /// The backend that ran it.
    pub backend: BackendKind,
    /// Host calls the run made without failures.
    pub host_calls: u64,
    /// Cases run: one per host call, up to the limit.
    pub swept: u64,
    /// Every case.
    pub cases: Vec<SweepCase>,
    /// Whether a case where the guest trapped on a failure it could handle
    /// is a problem (the scenario's `require_handled`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_handled: bool,
    /// Whether every case ended cleanly.
    pub clean: bool,
}

impl Sweep {
    /// The sweep as `format` prints it (`table`, or YAML/JSON of the
    /// report, which has no times and so is the same every run).
    pub fn render(&self, format: OutputFormat) -> Result<String, HarnessError> {
        match format {
            OutputFormat::Text => Ok(self.render_text()),
            OutputFormat::Yaml => to_yaml(self),
            OutputFormat::Json => to_json(self),
        }
    }

    /// The table: a row per case, then a summary.
    pub fn render_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} ({}): {} host calls, {} cases, on {}\n",
            self.component,
            self.scenario,
            self.host_calls,
            self.swept,
            self.backend.name()
        );
        let mut table = crate::table::Table::new(
            vec![
                "host call",
                "call",
                "function",
                "answer",
                "outcome",
                "guest",
                "later failures",
                "result",
            ],
            vec![false; 8],
        );
        for c in &self.cases {
            let cells = vec![
                c.failed_host_call.to_string(),
                match (c.entry, c.call) {
                    (Some(i), Some(call)) => format!("{i} {}", call.name()),
                    _ => "-".into(),
                },
                c.function.clone().unwrap_or_else(|| "-".into()),
                c.answer.clone().unwrap_or_else(|| "-".into()),
                c.outcome.as_ref().map_or_else(|| "-".into(), |o| o.short()),
                c.handling.map_or("-", Handling::name).into(),
                c.later_failures.to_string(),
                if c.clean() {
                    "clean".into()
                } else {
                    c.problems.join("; ")
                },
            ];
            table.row(cells, Vec::new());
        }
        s.push_str(&table.render());
        let bad = self.cases.iter().filter(|c| !c.clean()).count();
        let _ = writeln!(
            s,
            "\n{} of {} cases ended cleanly{}",
            self.cases.len() - bad,
            self.cases.len(),
            if self.swept < self.host_calls {
                format!(
                    " (the first {} host calls of {})",
                    self.swept, self.host_calls
                )
            } else {
                String::new()
            }
        );
        let handleable: Vec<&SweepCase> = self
            .cases
            .iter()
            .filter(|c| matches!(c.handling, Some(Handling::Handled | Handling::Trapped)))
            .collect();
        let trapped: Vec<&SweepCase> = handleable.iter().copied().filter(|c| c.trapped()).collect();
        if !handleable.is_empty() {
            let _ = write!(
                s,
                "the guest handled {} of {} failures the contract lets it handle",
                handleable.len() - trapped.len(),
                handleable.len()
            );
            if trapped.is_empty() {
                s.push('\n');
            } else {
                let _ = writeln!(s, "; it trapped on {}", trapped_by_function(&trapped));
                s.push_str(if self.require_handled {
                    "the sweep fails on these cases (require_handled): answer a process-error \
                     there (e.g. `internal`) instead of trapping\n"
                } else {
                    "answer a process-error there (e.g. `internal`) instead of trapping; \
                     --require-handled (`require_handled: true` in a scenario) makes these cases \
                     fail the sweep\n"
                });
            }
        }
        s
    }
}

/// The cases where the guest trapped, by host function:
/// `` `buffer-allocator.allocate` (allocation-failed; host calls 1, 7) ``.
fn trapped_by_function(trapped: &[&SweepCase]) -> String {
    /// Host calls listed per function; the rest are counted.
    const LISTED: usize = 8;
    let mut groups: Vec<(&str, &str, Vec<u64>)> = Vec::new();
    for c in trapped {
        let function = c.function.as_deref().unwrap_or("?");
        let answer = c.answer.as_deref().unwrap_or("?");
        match groups.iter_mut().find(|g| g.0 == function) {
            Some(g) => g.2.push(c.failed_host_call),
            None => groups.push((function, answer, vec![c.failed_host_call])),
        }
    }
    groups
        .iter()
        .map(|(function, answer, calls)| {
            let mut listed: Vec<String> = calls.iter().take(LISTED).map(u64::to_string).collect();
            if calls.len() > LISTED {
                listed.push(format!("… {} more", calls.len() - LISTED));
            }
            format!(
                "`{function}` ({answer}; host call{} {})",
                if calls.len() == 1 { "" } else { "s" },
                listed.join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs the sweep of `scenario` on a new engine of `backend` built from
/// `settings`: the run once without failures, then once per host call
/// (up to `limit`, default [`DEFAULT_SWEEP_LIMIT`]) with that call failing,
/// each followed by a run without failures that must give the first run's
/// outcomes.
pub fn sweep(
    backend: BackendKind,
    scenario: &Scenario,
    settings: &EngineSettings,
    limit: Option<u64>,
) -> Result<Sweep, HarnessError> {
    crate::with_backend!(backend, settings, |b| sweep_on(b, scenario, limit))?
}

/// [`sweep`] on `backend`; the component is compiled once.
pub fn sweep_on<B: SimBackend>(
    backend: &B,
    scenario: &Scenario,
    limit: Option<u64>,
) -> Result<Sweep, HarnessError> {
    scenario.validate()?;
    let compiled = compile_scenario(backend, scenario)?;
    let first = run_compiled(backend, scenario, &compiled, HostFaultPlan::None)?;
    let host_calls: u64 = first.entries.iter().map(|e| u64::from(e.host_calls)).sum();
    let swept = host_calls.min(limit.unwrap_or(DEFAULT_SWEEP_LIMIT));
    let expected = outcomes(&first);
    let mut cases = Vec::new();
    for k in 0..swept {
        let t = run_compiled(backend, scenario, &compiled, HostFaultPlan::NthOfRun(k))?;
        let again = run_compiled(backend, scenario, &compiled, HostFaultPlan::None)?;
        let mut c = case(k, &t, outcomes(&again) == expected);
        if scenario.require_handled && c.trapped() {
            c.problems.push(format!(
                "trapped on {}, which the guest may handle (require_handled)",
                c.answer.as_deref().unwrap_or("an error")
            ));
        }
        cases.push(c);
    }
    Ok(Sweep {
        scenario: scenario.name.clone(),
        component: scenario.component.clone(),
        backend: B::KIND,
        host_calls,
        swept,
        require_handled: scenario.require_handled,
        clean: cases.iter().all(SweepCase::clean),
        cases,
    })
}

/// What a run answered, call by call (no costs or times).
fn outcomes(t: &Transcript) -> Vec<(Function, &Outcome)> {
    t.entries.iter().map(|e| (e.call, &e.outcome)).collect()
}

fn case(k: u64, t: &Transcript, serves: bool) -> SweepCase {
    let hit = t
        .entries
        .iter()
        .find(|e| e.failed_host_call.as_ref().is_some_and(|f| f.index == k));
    let leaked = t
        .entries
        .iter()
        .map(|e| e.live_resources)
        .max()
        .unwrap_or(0);
    let mut problems = Vec::new();
    if leaked > 0 {
        problems.push(format!("{leaked} host resources live after a call"));
    }
    if !serves {
        problems
            .push("a run without failures afterwards answered differently from the first".into());
    }
    let Some(e) = hit else {
        problems.push(format!(
            "host call {k} never happened: the run made fewer host calls than without failures"
        ));
        return SweepCase {
            failed_host_call: k,
            entry: None,
            call: None,
            function: None,
            answer: None,
            outcome: None,
            handling: None,
            later_failures: 0,
            leaked,
            serves,
            problems,
        };
    };
    let failed = e.failed_host_call.as_ref().expect("found by it");
    if failed.answer == "trap" && !is_host_fault(e) {
        problems.push(format!(
            "the failed host call traps, but the call answered {}",
            e.outcome.short()
        ));
    }
    SweepCase {
        failed_host_call: k,
        entry: Some(e.index),
        call: Some(e.call),
        function: Some(failed.function.clone()),
        answer: Some(failed.answer.clone()),
        outcome: Some(e.outcome.clone()),
        handling: Some(Handling::of(&failed.answer, &e.outcome)),
        later_failures: t.entries[e.index + 1..]
            .iter()
            .filter(|l| l.failed())
            .count() as u64,
        leaked,
        serves,
        problems,
    }
}

fn is_host_fault(e: &Entry) -> bool {
    matches!(&e.outcome, Outcome::Fault { kind, poisons: true, .. } if kind == "host")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::MockBackend;
    use crate::scenario::InputElement;
    use crate::spec::{All, FailHostCall, FailRule};

    fn uppercase_sweep(require_handled: bool) -> Scenario {
        Scenario {
            inputs: vec![InputElement {
                payload: Some("hi".into()),
                ..Default::default()
            }],
            fail_host_call: Some(FailHostCall::All(All::All)),
            require_handled,
            backend: Some(BackendKind::Mock),
            ..Scenario::new("uppercase-sweep", "uppercase")
        }
    }

    #[test]
    fn each_case_says_how_the_guest_took_its_failure() {
        let s = uppercase_sweep(true);
        let backend = MockBackend::new(&crate::scenario::scenario_settings(&s)).unwrap();
        let sweep = sweep_on(&backend, &s, None).unwrap();
        assert!(sweep.clean, "{}", sweep.render_text());
        assert!(sweep.require_handled);
        let by_function: Vec<(&str, Handling)> = sweep
            .cases
            .iter()
            .map(|c| (c.function.as_deref().unwrap(), c.handling.unwrap()))
            .collect();
        assert_eq!(
            by_function[..3],
            [
                ("buffer.read-all", Handling::NoErrorCase),
                ("buffer-allocator.allocate", Handling::Handled),
                ("mutable-buffer.append", Handling::Handled),
            ]
        );
        assert!(
            sweep
                .render_text()
                .contains("the guest handled 2 of 2 failures the contract lets it handle\n"),
            "{}",
            sweep.render_text()
        );

        let fault = Outcome::Fault {
            kind: "trap".into(),
            message: "unreachable".into(),
            poisons: true,
        };
        let error = Outcome::ProcessError {
            kind: "internal".into(),
            message: None,
        };
        assert_eq!(Handling::of("allocation-failed", &fault), Handling::Trapped);
        assert_eq!(Handling::of("capacity-exceeded", &error), Handling::Handled);
        assert_eq!(
            Handling::of("allocation-failed", &Outcome::Drop),
            Handling::Handled
        );
        assert_eq!(Handling::of("trap", &fault), Handling::NoErrorCase);
    }

    #[test]
    fn the_summary_names_the_host_calls_the_guest_trapped_on() {
        let s = uppercase_sweep(false);
        let backend = MockBackend::new(&crate::scenario::scenario_settings(&s)).unwrap();
        let mut sweep = sweep_on(&backend, &s, None).unwrap();
        // As a guest that traps on the errors would have ended.
        for c in &mut sweep.cases {
            if c.handling == Some(Handling::Handled) {
                c.handling = Some(Handling::Trapped);
            }
        }
        let text = sweep.render_text();
        assert!(
            text.contains(
                "the guest handled 0 of 2 failures the contract lets it handle; it trapped on \
                 `buffer-allocator.allocate` (allocation-failed; host call 1), \
                 `mutable-buffer.append` (capacity-exceeded; host call 2)\n"
            ),
            "{text}"
        );
        assert!(text.contains("--require-handled"), "{text}");

        let mut bad = uppercase_sweep(true);
        bad.fail_host_call = Some(FailHostCall::Index(1));
        let e = bad.validate().unwrap_err().to_string();
        assert!(
            e.contains("`require_handled` applies to a host-call sweep only"),
            "{e}"
        );
    }

    #[test]
    fn settings_parse_from_the_command_line_and_from_yaml() {
        assert_eq!("all".parse(), Ok(FailHostCall::All(All::All)));
        assert_eq!("7".parse(), Ok(FailHostCall::Index(7)));
        assert_eq!(
            "every-call:2".parse(),
            Ok(FailHostCall::Rule(FailRule::EveryCall(2)))
        );
        assert_eq!(
            "probability:0.25".parse::<FailHostCall>().unwrap().plan(1),
            Some(HostFaultPlan::Random {
                seed: 1,
                per_million: 250_000
            })
        );
        for bad in ["", "some", "-1", "every-call:x", "probability:2"] {
            let e = bad.parse::<FailHostCall>().unwrap_err();
            assert!(e.contains("all") || e.contains("0 to 1"), "{bad}: {e}");
        }
        let yaml = |s: &str| serde_yaml_ng::from_str::<FailHostCall>(s);
        assert_eq!(yaml("all").unwrap(), FailHostCall::All(All::All));
        assert_eq!(yaml("3").unwrap(), FailHostCall::Index(3));
        assert_eq!(
            yaml("{every_call: 1}").unwrap(),
            FailHostCall::Rule(FailRule::EveryCall(1))
        );
        assert_eq!(
            yaml("{probability: 0.5}").unwrap().plan(9),
            Some(HostFaultPlan::Random {
                seed: 9,
                per_million: 500_000
            })
        );
        assert!(yaml("{often: 1}").is_err());
        assert!(yaml("{probability: 1.5}").is_err());
    }
}

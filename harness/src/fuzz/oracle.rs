//! Oracles: what must hold after every call, whatever the input.
//!
//! * [`CallCheck::check`]: no resource outlives the call, fuel consumed
//!   never exceeds the budget, poisoning is consistent (a poisoning fault
//!   poisons, a poisoned instance refuses everything with `poisoned` and no
//!   cost, nothing else poisons), a function of a role the component lacks
//!   is a `missing-export` naming that role, at no cost, an answer over a
//!   bound (`answer-too-large`, `route` and `flush` only) never poisons,
//!   and the outcome is one the fixture may give for that function
//!   ([`allowed`]).
//! * [`Observed`]: what the mock and Wasmtime backends must agree on.

use std::fmt::Debug;

use torvyn_engine::{
    ComponentInvoker, FaultKind, FaultName, Function, Invocation, InvocationMetrics, InvokeError,
    ProcessErrorName, Role, Roles,
};

/// A class of outcomes, the unit the oracle's tables speak in: any success
/// (whatever it answered), a guest error of one kind, or a fault of one
/// kind. Not an outcome (an [`torvyn_engine::Outcome`] holds the answer
/// and the messages); a pattern over them, so that
/// [`FIXTURE_OUTCOMES`] can list what a fixture may give as constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutcomeKind {
    /// `Ok`.
    Ok,
    /// The guest's `process-error` of this kind.
    Guest(ProcessErrorName),
    /// A fault of this kind.
    Fault(FaultName),
}

impl OutcomeKind {
    /// The kind of `call`'s outcome.
    pub fn of<T>(call: &Invocation<T>) -> Self {
        match &call.outcome {
            Ok(_) => Self::Ok,
            Err(InvokeError::Guest(e)) => Self::Guest(e.name()),
            Err(InvokeError::Fault(f)) => Self::Fault(f.kind.fault_name()),
        }
    }
}

use OutcomeKind::{Fault, Guest, Ok as Success};

const OK: &[OutcomeKind] = &[Success];
const OK_OR_INVALID: &[OutcomeKind] = &[Success, Guest(ProcessErrorName::InvalidInput)];
const TRAP: &[OutcomeKind] = &[Fault(FaultName::Trap)];
const TOO_LARGE: &[OutcomeKind] = &[Fault(FaultName::AnswerTooLarge)];
const NOTHING_ELSE: &[OutcomeKind] = &[];

/// A fixture and, per function, the outcomes it may give.
pub type FixtureRow = (&'static str, &'static [(Function, &'static [OutcomeKind])]);

/// What a fixture's functions may answer, besides what any call may
/// (fuel and deadline exhaustion, refusals; see [`CallCheck`]). One row per
/// fixture the fuzz targets run, one entry per function of the roles it
/// exports.
pub const FIXTURE_OUTCOMES: &[FixtureRow] = &[
    ("passthrough", &[(Function::Process, OK)]),
    ("uppercase", &[(Function::Process, OK)]),
    ("filter", &[(Function::Process, OK)]),
    ("huge-offsets", &[(Function::Process, OK)]),
    (
        "wasi-hello",
        &[
            (Function::Init, OK),
            (Function::Process, OK),
            (Function::Teardown, OK),
        ],
    ),
    (
        "stdout-flood",
        &[
            (Function::Init, OK),
            (Function::Process, OK),
            (Function::Teardown, OK),
        ],
    ),
    (
        "lifecycle",
        &[
            (Function::Init, OK_OR_INVALID),
            (
                Function::Process,
                &[Success, Guest(ProcessErrorName::Unavailable)],
            ),
            (Function::Teardown, OK),
        ],
    ),
    (
        "counter-source",
        &[
            (Function::Init, OK_OR_INVALID),
            (
                Function::Pull,
                &[Success, Guest(ProcessErrorName::Unavailable)],
            ),
            (Function::NotifyBackpressure, OK),
            (Function::Teardown, OK),
        ],
    ),
    (
        "sink",
        &[
            (Function::Init, OK_OR_INVALID),
            (Function::Push, &[Success, Guest(ProcessErrorName::Fatal)]),
            (Function::Complete, OK),
            (Function::Teardown, OK),
        ],
    ),
    (
        "token-source",
        &[
            (Function::Init, OK_OR_INVALID),
            (Function::Pull, OK),
            (Function::NotifyBackpressure, OK),
            (Function::Teardown, OK),
        ],
    ),
    (
        "token-filter",
        &[
            (Function::Init, OK),
            (Function::Evaluate, OK),
            (Function::Teardown, OK),
        ],
    ),
    (
        "sentence-aggregator",
        &[
            (Function::Init, OK),
            (Function::Ingest, OK_OR_INVALID),
            (Function::Flush, OK),
            (Function::Teardown, OK),
        ],
    ),
    (
        "content-filter",
        &[
            (Function::Init, OK),
            (Function::Evaluate, OK),
            (Function::Teardown, OK),
        ],
    ),
    (
        "router",
        &[
            (Function::Init, OK),
            (Function::Route, OK),
            (Function::Teardown, OK),
        ],
    ),
    (
        "capability-probe",
        &[
            (Function::Init, OK),
            (Function::Process, OK_OR_INVALID),
            (Function::Teardown, OK),
        ],
    ),
    (
        "source-only",
        &[
            (Function::Init, OK),
            (Function::Pull, OK),
            (Function::NotifyBackpressure, OK),
            (Function::Teardown, OK),
        ],
    ),
    (
        "component-text",
        &[(Function::Pull, OK), (Function::NotifyBackpressure, OK)],
    ),
    ("trap", &[(Function::Process, TRAP)]),
    (
        "filter-trap",
        &[
            (Function::Init, OK),
            (Function::Evaluate, TRAP),
            (Function::Teardown, OK),
        ],
    ),
    (
        "route-flood",
        &[
            (Function::Init, OK),
            (Function::Route, TOO_LARGE),
            (Function::Teardown, OK),
        ],
    ),
    (
        "flush-flood",
        &[
            (Function::Init, OK),
            (Function::Ingest, OK),
            (Function::Flush, TOO_LARGE),
            (Function::Teardown, OK),
        ],
    ),
    (
        "flush-leak",
        &[
            (Function::Init, OK),
            (Function::Ingest, OK),
            (Function::Flush, OK),
            (Function::Teardown, OK),
        ],
    ),
    ("spin", &[(Function::Process, NOTHING_ELSE)]),
    ("deep-recursion", &[(Function::Process, TRAP)]),
    (
        "memory-hog",
        &[(Function::Process, &[Fault(FaultName::MemoryLimitExceeded)])],
    ),
    (
        "buffer-hog",
        &[(Function::Process, &[Fault(FaultName::BufferBudgetExceeded)])],
    ),
    (
        "use-after-freeze",
        &[(Function::Process, &[Fault(FaultName::ContractViolation)])],
    ),
    ("use-after-drop", &[(Function::Process, TRAP)]),
    ("forged-handle", &[(Function::Process, TRAP)]),
    ("leak-borrow", &[(Function::Process, TRAP)]),
    (
        "oversized-output",
        &[(Function::Process, &[Guest(ProcessErrorName::Internal)])],
    ),
    (
        "abandon-buffers",
        &[(
            Function::Process,
            &[Success, Fault(FaultName::ContractViolation)],
        )],
    ),
    (
        "hostile-source",
        &[
            (Function::Init, TRAP),
            (Function::Pull, NOTHING_ELSE),
            (Function::NotifyBackpressure, TRAP),
            (Function::Teardown, TRAP),
        ],
    ),
    (
        "fatal-sink",
        &[
            (Function::Init, OK),
            (Function::Push, &[Guest(ProcessErrorName::Fatal)]),
            (Function::Complete, TRAP),
            (Function::Teardown, OK),
        ],
    ),
];

/// The fixtures [`FIXTURE_OUTCOMES`] describes, in its order.
pub fn fuzzed_fixtures() -> impl Iterator<Item = &'static str> {
    FIXTURE_OUTCOMES.iter().map(|(name, _)| *name)
}

/// What `fixture`'s `function` may answer beyond the universal outcomes;
/// `None` when the table has no entry (the fixture or the function is not
/// described).
pub fn allowed(fixture: &str, function: Function) -> Option<&'static [OutcomeKind]> {
    let (_, calls) = FIXTURE_OUTCOMES.iter().find(|(n, _)| *n == fixture)?;
    calls.iter().find(|(f, _)| *f == function).map(|(_, k)| *k)
}

/// The role a function needs, and whether calling it without that role is
/// a no-op that succeeds (`teardown`, and `init` with an empty config).
fn needs(function: Function, config_empty: bool) -> (Role, bool) {
    let role = function.role().expect("instantiate is not a call");
    let noop = match function {
        Function::Init => config_empty,
        Function::Teardown => true,
        _ => false,
    };
    (role, noop)
}

/// Everything the oracle needs to know about a call besides its result.
#[derive(Clone, Debug)]
pub struct CallCheck<'a> {
    /// The fixture (a row of [`FIXTURE_OUTCOMES`]), or `None` for a
    /// component whose behaviour is unknown (generated or mutated): then
    /// only the universal invariants are checked.
    pub fixture: Option<&'a str>,
    /// The function called.
    pub function: Function,
    /// For `init`: whether the config was empty.
    pub config_empty: bool,
    /// The instance's roles.
    pub roles: Roles,
    /// Whether the instance was poisoned before the call.
    pub was_poisoned: bool,
    /// Whether admission must refuse the input (see
    /// [`super::generate::ElementSpec::must_be_rejected`]).
    pub must_reject: bool,
    /// The fuel budget the call started with, if fuel is metered.
    pub fuel_budget: Option<u64>,
}

impl CallCheck<'_> {
    /// Checks `call` and the instance after it; panics with the call and
    /// the broken invariant otherwise. Returns whether the guest ran (the
    /// call was neither refused nor a no-op).
    #[track_caller]
    pub fn check<T: Debug>(&self, call: &Invocation<T>, inst: &impl ComponentInvoker) -> bool {
        let kind = OutcomeKind::of(call);
        let what = || format!("{self:?} answered {:?}", call.outcome);
        assert_eq!(
            inst.live_resources(),
            0,
            "host resources outlived the call: {}",
            what()
        );
        if let Some(budget) = self.fuel_budget {
            assert!(
                call.metrics.fuel_consumed <= budget,
                "fuel consumed {} exceeds the budget {budget}: {}",
                call.metrics.fuel_consumed,
                what()
            );
        }
        let (role, noop_without) = needs(self.function, self.config_empty);
        if !self.roles.contains(role) && noop_without {
            assert_eq!(
                kind,
                Success,
                "a call the instance lacks is a no-op: {}",
                what()
            );
            assert_eq!(call.metrics, InvocationMetrics::default(), "{}", what());
            return false;
        }
        if self.was_poisoned {
            assert_eq!(
                kind,
                Fault(FaultName::Poisoned),
                "a poisoned instance refuses every call: {}",
                what()
            );
            assert_eq!(
                call.metrics,
                InvocationMetrics::default(),
                "a refused call costs nothing: {}",
                what()
            );
            assert!(inst.poisoned().is_some(), "{}", what());
            return false;
        }
        if !self.roles.contains(role) {
            assert_eq!(kind, Fault(FaultName::MissingExport), "{}", what());
            assert!(
                matches!(&call.outcome, Err(InvokeError::Fault(f))
                    if f.kind == FaultKind::MissingExport { role } && f.function == self.function),
                "the missing export names the role and the function: {}",
                what()
            );
            assert_eq!(
                call.metrics,
                InvocationMetrics::default(),
                "a missing export costs nothing: {}",
                what()
            );
            assert!(
                inst.poisoned().is_none(),
                "a missing export does not poison"
            );
            return false;
        }
        if self.must_reject {
            assert_eq!(kind, Fault(FaultName::Rejected), "{}", what());
            assert_eq!(call.metrics, InvocationMetrics::default(), "{}", what());
            assert!(inst.poisoned().is_none(), "a refusal does not poison");
            return false;
        }
        let poisons = match &call.outcome {
            Err(InvokeError::Fault(f)) => {
                assert!(
                    !matches!(
                        kind,
                        Fault(FaultName::Poisoned | FaultName::MissingExport | FaultName::Rejected)
                    ),
                    "a refusal without a cause: {}",
                    what()
                );
                assert_eq!(
                    &f.component,
                    inst.component_id(),
                    "the fault names the component"
                );
                assert_eq!(f.function, self.function, "the fault names the function");
                if let FaultKind::AnswerTooLarge { allowed, got, .. } = f.kind {
                    assert!(
                        matches!(self.function, Function::Route | Function::Flush),
                        "only route and flush answers are bounded: {}",
                        what()
                    );
                    assert!(
                        got > allowed,
                        "an answer within its bound refused: {}",
                        what()
                    );
                    assert!(
                        inst.poisoned().is_none(),
                        "an answer over a bound does not poison: {}",
                        what()
                    );
                }
                f.poisons()
            }
            _ => false,
        };
        assert_eq!(
            inst.poisoned().is_some(),
            poisons,
            "poisoned exactly when the fault poisons: {}",
            what()
        );
        // A host call the case's plan failed: a trap is the host fault
        // naming it; an error answer is the guest's to handle, so the
        // fixture's usual outcomes no longer bound the call.
        match inst.injected_fault() {
            Some(injected) if injected.answer() == "trap" => {
                assert!(
                    matches!(&call.outcome, Err(InvokeError::Fault(f))
                        if matches!(&f.kind, FaultKind::Host { detail }
                            if detail.contains(injected.function.name()))),
                    "a failed host call without an error case is a host fault naming it \
                     ({injected}): {}",
                    what()
                );
                assert!(
                    injected.index_in_call < call.metrics.host_calls,
                    "the failed host call is one the call made ({injected}): {}",
                    what()
                );
                return true;
            }
            Some(injected) => {
                assert!(
                    injected.index_in_call < call.metrics.host_calls,
                    "the failed host call is one the call made ({injected}): {}",
                    what()
                );
                return true;
            }
            None => assert_ne!(
                kind,
                Fault(FaultName::Host),
                "a host fault without an injected failure: {}",
                what()
            ),
        }
        if matches!(
            kind,
            Fault(FaultName::FuelExhausted | FaultName::DeadlineExceeded)
        ) {
            return true;
        }
        if let Some(fixture) = self.fixture {
            let allowed = allowed(fixture, self.function).unwrap_or_else(|| {
                panic!(
                    "FIXTURE_OUTCOMES lacks {fixture}'s {}",
                    self.function.name()
                )
            });
            assert!(
                allowed.contains(&kind),
                "{fixture}'s {} may answer {allowed:?} (or run out of fuel or time): {}",
                self.function.name(),
                what()
            );
        }
        true
    }
}

/// What the mock and Wasmtime backends must agree on for one call: the
/// outcome and the accounting, not fuel or time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    /// The outcome, as debug text of the value or display text of the
    /// error.
    pub outcome: String,
    /// Bytes copied into the guest.
    pub bytes_in: u64,
    /// Bytes copied out of the guest.
    pub bytes_out: u64,
    /// Buffers allocated.
    pub buffers: u32,
    /// Host calls made.
    pub host_calls: u32,
    /// Resources reclaimed after the call.
    pub reclaimed: u32,
    /// `live_resources()` after the call.
    pub live_after: usize,
}

impl Observed {
    /// Observes `call`, then the instance.
    pub fn of<T: Debug>(call: &Invocation<T>, inst: &impl ComponentInvoker) -> Self {
        let InvocationMetrics {
            bytes_into_guest,
            bytes_out_of_guest,
            buffers_allocated,
            host_calls,
            resources_reclaimed,
            ..
        } = call.metrics;
        Self {
            outcome: match &call.outcome {
                Ok(v) => format!("{v:?}"),
                Err(e) => format!("error: {e}"),
            },
            bytes_in: bytes_into_guest,
            bytes_out: bytes_out_of_guest,
            buffers: buffers_allocated,
            host_calls,
            reclaimed: resources_reclaimed,
            live_after: inst.live_resources(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_is_a_fixture_and_names_each_function_once() {
        let fixtures = crate::fixtures::list_fixtures();
        for (name, calls) in FIXTURE_OUTCOMES {
            assert!(
                fixtures.iter().any(|f| f == name),
                "{name} is not a fixture"
            );
            for (i, (f, _)) in calls.iter().enumerate() {
                assert!(
                    !calls[..i].iter().any(|(g, _)| g == f),
                    "{name} names {f:?} twice"
                );
            }
        }
    }
}

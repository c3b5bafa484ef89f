//! `--fail-on`: what makes `torvyn-sim run` and `torvyn-sim pipeline` exit
//! with [`EXIT_CALLS_FAILED`] instead of 0, for a CI job that must fail
//! when a component traps, answers an error or cannot start. Without it
//! both exit 0 whatever the calls answered (the table says what they did).

use clap::ValueEnum;
use torvyn_engine::Function;

use super::error::{CliError, EXIT_CALLS_FAILED};
use crate::transcript::{Entry, Outcome};

/// A way a call can fail that `--fail-on` can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// An engine fault on any call: a trap, fuel or deadline exhausted, a
    /// limit or the contract broken, a poisoned instance refusing a call.
    Faults,
    /// A guest `process-error` on any call (`fatal` among them).
    Errors,
    /// A failed `init` (a fault or a `process-error`): the component took
    /// no elements.
    Init,
    /// Any of these.
    Any,
}

impl FailOn {
    /// Whether `e` failed in this way.
    fn matches(self, e: &Entry) -> bool {
        match self {
            Self::Faults => matches!(e.outcome, Outcome::Fault { .. }),
            Self::Errors => matches!(e.outcome, Outcome::ProcessError { .. }),
            Self::Init => e.call == Function::Init && e.failed(),
            Self::Any => e.failed(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Faults => "faults",
            Self::Errors => "errors",
            Self::Init => "init",
            Self::Any => "any",
        }
    }
}

/// The error ([`EXIT_CALLS_FAILED`]) when a call of `entries` failed in a
/// way `fail_on` names: how many did, and the first one (its index, stage,
/// function and outcome). `None` when none did, or `fail_on` is empty.
pub fn check(fail_on: &[FailOn], entries: &[Entry]) -> Option<CliError> {
    let failed: Vec<&Entry> = entries
        .iter()
        .filter(|e| fail_on.iter().any(|f| f.matches(e)))
        .collect();
    let first = failed.first()?;
    let names: Vec<&str> = fail_on.iter().map(|f| f.name()).collect();
    let stage = first
        .stage
        .as_deref()
        .map(|s| format!(" of stage {s}"))
        .unwrap_or_default();
    Some(CliError::calls_failed(format!(
        "--fail-on {}: {} call{} failed so, the first #{} `{}`{stage}: {}; the table above \
         shows each (exit code {EXIT_CALLS_FAILED})",
        names.join(","),
        failed.len(),
        if failed.len() == 1 { "" } else { "s" },
        first.index,
        first.call.name(),
        first.outcome.short(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(index: usize, call: Function, outcome: Outcome) -> Entry {
        Entry::new(index, call, outcome, &Default::default())
    }

    fn fault() -> Outcome {
        Outcome::Fault {
            kind: "trap".into(),
            message: "guest trapped (unreachable)".into(),
            poisons: true,
        }
    }

    fn error() -> Outcome {
        Outcome::ProcessError {
            kind: "invalid-input".into(),
            message: Some("no".into()),
        }
    }

    #[test]
    fn each_kind_fails_only_on_its_calls() {
        let ok = [
            entry(0, Function::Init, Outcome::Ok),
            entry(1, Function::Process, Outcome::Drop),
        ];
        let process_fault = [entry(0, Function::Process, fault())];
        let process_error = [entry(0, Function::Process, error())];
        let init_error = [entry(0, Function::Init, error())];
        use FailOn::*;
        for (fail_on, entries, fails) in [
            (&[][..], &process_fault[..], false),
            (&[Any], &ok, false),
            (&[Faults], &process_fault, true),
            (&[Faults], &process_error, false),
            (&[Errors], &process_error, true),
            (&[Errors], &process_fault, false),
            (&[Init], &process_fault, false),
            (&[Init], &init_error, true),
            (&[Faults], &init_error, false),
            (&[Errors, Faults], &process_fault, true),
            (&[Any], &process_error, true),
        ] {
            let got = check(fail_on, entries);
            assert_eq!(got.is_some(), fails, "{fail_on:?} on {entries:?}");
            if let Some(e) = got {
                assert_eq!(e.code(), EXIT_CALLS_FAILED);
            }
        }
    }

    #[test]
    fn the_error_names_the_count_and_the_first_call() {
        let mut e = entry(3, Function::Push, fault());
        e.stage = Some("sink".into());
        let entries = [entry(0, Function::Init, Outcome::Ok), e.clone(), {
            let mut e = e;
            e.index = 4;
            e
        }];
        let err = check(&[FailOn::Faults, FailOn::Init], &entries).unwrap();
        assert_eq!(
            err.message(),
            "--fail-on faults,init: 2 calls failed so, the first #3 `push` of stage sink: FAULT \
             trap; the table above shows each (exit code 5)"
        );
    }
}

//! [`CallFailure`]: a call the component failed during a benchmark (its
//! `process-error` or the engine's fault), with the input that caused it
//! and the guest's own error, and whose failure it is ([`Blame`]).
//!
//! Cold path: built once, when a benchmark stops.

use std::fmt;

use torvyn_engine::{FaultKind, InvokeError};

use crate::transcript::Outcome;

/// Whose failure a [`CallFailure`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blame {
    /// The component's: it answered a `process-error`, trapped, ran out of
    /// fuel, broke a limit or the contract on the input it was given.
    Component,
    /// The input's: the engine refused it before the guest saw it (a
    /// payload over the engine's size cap).
    Input,
    /// The engine's: the host failed while serving the guest, or the call
    /// was one the component does not export.
    Engine,
}

/// The input a failed call sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailedInput {
    /// Its index in the inputs (from 0).
    pub index: usize,
    /// How many inputs there are.
    pub of: usize,
    /// Where it came from (`line 3 of data.jsonl`); empty for the built-in
    /// payload.
    pub origin: String,
    /// Its payload on one line, cut short ([`crate::transcript::PayloadPreview::short`]).
    pub preview: String,
}

impl fmt::Display for FailedInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "input {} of {} (", self.index, self.of)?;
        if self.origin.is_empty() {
            write!(f, "the built-in payload {})", self.preview)
        } else {
            write!(f, "{}: {})", self.origin, self.preview)
        }
    }
}

/// A call the component failed during a benchmark, on the engine.
#[derive(Clone, Debug)]
pub struct CallFailure {
    /// The component.
    pub component: String,
    /// The function called: `init`, `process`, `push` or `pull`.
    pub function: &'static str,
    /// When: `init`, `check` (the engine's first pass, one call per input,
    /// before anything is measured), `warm-up` or `round N` (from 1).
    pub phase: String,
    /// The input the call sent (`None` for `init` and `pull`).
    pub input: Option<FailedInput>,
    /// The init config, for a failed `init`.
    pub config: Option<String>,
    /// The guest's `process-error`, or the engine's fault.
    pub error: InvokeError,
    /// The lines of the guest's stderr during the call that say what went
    /// wrong ([`crate::transcript::guest_error_lines`]: a Python
    /// traceback's last frame and exception, else the last lines).
    pub stderr_error: Option<String>,
}

impl CallFailure {
    /// Whose failure it is.
    pub fn blame(&self) -> Blame {
        match &self.error {
            InvokeError::Guest(_) => Blame::Component,
            InvokeError::Fault(f) => match f.kind {
                FaultKind::Rejected { .. } => Blame::Input,
                FaultKind::Host { .. } | FaultKind::MissingExport { .. } => Blame::Engine,
                _ => Blame::Component,
            },
        }
    }

    /// Whether the component answered (a `process-error`) rather than the
    /// engine stopping the call (a fault).
    pub fn answered(&self) -> bool {
        matches!(self.error, InvokeError::Guest(_))
    }

    /// What was called with what: `input 2 of 5 (line 3 of in.txt: "x")`,
    /// or `init("{...}")`.
    pub fn what(&self) -> String {
        match (&self.input, &self.config) {
            (Some(input), _) => input.to_string(),
            (None, Some(config)) => format!(
                "its init config {}",
                crate::transcript::PayloadPreview::of(config.as_bytes()).short()
            ),
            (None, None) => format!("`{}`", self.function),
        }
    }

    /// The answer or fault, whole (a trap's backtrace included):
    /// `process-error invalid-input: ...`, or the fault's message.
    pub fn answer(&self) -> String {
        match &self.error {
            InvokeError::Guest(_) => Outcome::error(&self.error).short(),
            InvokeError::Fault(f) => f.kind.to_string(),
        }
    }
}

impl fmt::Display for CallFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` failed on {} ({}): `{}` {} {}",
            self.component,
            self.what(),
            self.phase,
            self.function,
            if self.answered() {
                "answered"
            } else {
                "faulted:"
            },
            self.answer()
        )?;
        if let Some(lines) = &self.stderr_error {
            write!(f, "\nguest error (stderr): {lines}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use torvyn_engine::{ComponentId, Fault, Function, ProcessError};

    use super::*;

    fn failure(error: InvokeError) -> CallFailure {
        CallFailure {
            component: "c.wasm".into(),
            function: "process",
            phase: "check".into(),
            input: Some(FailedInput {
                index: 2,
                of: 5,
                origin: "line 4 of in.txt".into(),
                preview: "\"!no\"".into(),
            }),
            config: None,
            error,
            stderr_error: Some("ValueError: no".into()),
        }
    }

    fn fault(kind: FaultKind) -> InvokeError {
        InvokeError::Fault(Fault {
            component: ComponentId::new("c.wasm"),
            function: Function::Process,
            kind,
        })
    }

    #[test]
    fn a_failure_names_the_input_the_answer_and_the_guest_error() {
        let f = failure(InvokeError::Guest(ProcessError::InvalidInput("no".into())));
        assert_eq!(f.blame(), Blame::Component);
        assert_eq!(
            f.to_string(),
            "`c.wasm` failed on input 2 of 5 (line 4 of in.txt: \"!no\") (check): `process` \
             answered process-error invalid-input: no\nguest error (stderr): ValueError: no"
        );
    }

    #[test]
    fn blame_follows_the_fault() {
        let trap = fault(FaultKind::Trap {
            code: torvyn_engine::TrapCode::Unreachable,
            detail: "wasm trap".into(),
        });
        assert_eq!(failure(trap).blame(), Blame::Component);
        let fuel = fault(FaultKind::FuelExhausted { budget: 5 });
        assert_eq!(failure(fuel).blame(), Blame::Component);
        let rejected = fault(FaultKind::Rejected {
            reason: "payload over 16 MiB".into(),
        });
        assert_eq!(failure(rejected).blame(), Blame::Input);
        let host = fault(FaultKind::Host {
            detail: "table full".into(),
        });
        let host = failure(host);
        assert_eq!(host.blame(), Blame::Engine);
        assert!(!host.answered());
        assert!(host.to_string().contains("`process` faulted: "), "{host}");
    }
}

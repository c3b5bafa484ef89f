//! Errors of the `torvyn-sim` commands and the exit codes they map to.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | the run completed but its transcript differs from the snapshot, or it made host calls the scenario's `expect_host_calls` or `forbid_host_calls` do not allow (`check`) |
//! | 2 | usage error: unknown option, bad value, missing argument |
//! | 3 | input error: a missing file, invalid WAT (with its line), a core module where a component is needed, a component importing what the engine does not provide (with `--refuse-unknown-imports`) or exporting no contract role, a bad scenario, pipeline or input line |
//! | 4 | engine or system error: the engine could not be created, an instance could not be created, a file could not be written |
//! | 5 | the run completed, but a call failed in a way `--fail-on` names (`run`, `pipeline`); the component failed on an input element or its init config (`bench`: a `process-error`, a trap, fuel) |

use torvyn_engine::EngineError;

use crate::HarnessError;

/// Success.
pub const EXIT_OK: u8 = 0;
/// The run completed, but a check failed: the transcript differs from the
/// snapshot.
pub const EXIT_DIFFERS: u8 = 1;
/// The command line is wrong (clap uses the same code for its own errors).
pub const EXIT_USAGE: u8 = 2;
/// An input is missing or invalid: a file, a component, a scenario, an
/// input line.
pub const EXIT_INPUT: u8 = 3;
/// The engine failed (or the system: writing a file).
pub const EXIT_ENGINE: u8 = 4;
/// The run completed, but a call failed in a way `--fail-on` names: a
/// fault, a guest error, a failed `init` ([`super::fail_on`]); or `bench`
/// stopped at a call the component failed ([`crate::bench::CallFailure`]).
pub const EXIT_CALLS_FAILED: u8 = 5;

/// A failed command: what to print after `error: ` and the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    code: u8,
    message: String,
}

impl CliError {
    /// A usage error (exit code [`EXIT_USAGE`]).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            code: EXIT_USAGE,
            message: message.into(),
        }
    }

    /// An input error (exit code [`EXIT_INPUT`]).
    pub fn input(message: impl Into<String>) -> Self {
        Self {
            code: EXIT_INPUT,
            message: message.into(),
        }
    }

    /// An engine or system error (exit code [`EXIT_ENGINE`]).
    pub fn engine(message: impl Into<String>) -> Self {
        Self {
            code: EXIT_ENGINE,
            message: message.into(),
        }
    }

    /// Calls failed in a way `--fail-on` names, or the component failed
    /// a call of `bench` (exit code [`EXIT_CALLS_FAILED`]).
    pub fn calls_failed(message: impl Into<String>) -> Self {
        Self {
            code: EXIT_CALLS_FAILED,
            message: message.into(),
        }
    }

    /// The process exit code.
    pub fn code(&self) -> u8 {
        self.code
    }

    /// The message (without the `error: ` prefix).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

/// Whether an engine error is about the component itself (its bytes, its
/// world, its exports): an input error rather than an engine failure.
fn is_component_problem(e: &EngineError) -> bool {
    matches!(
        e,
        EngineError::InvalidWat { .. }
            | EngineError::NotAComponent { .. }
            | EngineError::Compile { .. }
            | EngineError::Link { .. }
            | EngineError::WrongExportTypes { .. }
            | EngineError::NoRoles { .. }
    )
}

impl From<HarnessError> for CliError {
    fn from(e: HarnessError) -> Self {
        let message = e.to_string();
        match &e {
            HarnessError::Io { .. }
            | HarnessError::Parse { .. }
            | HarnessError::InvalidScenario { .. }
            | HarnessError::Fixture { .. }
            | HarnessError::Unsupported { .. } => Self::input(message),
            HarnessError::Engine {
                source: EngineError::Link { missing, .. },
                component,
                ..
            } if !missing.is_empty() => Self::input(format!(
                "{message}\nwithout `--refuse-unknown-imports`, torvyn-sim links {} to stubs that \
                 trap when called; `torvyn-sim inspect {component}` lists its imports",
                if missing.len() == 1 { "it" } else { "them" }
            )),
            HarnessError::Engine {
                source:
                    EngineError::Link { .. }
                    | EngineError::NoRoles { .. }
                    | EngineError::WrongExportTypes { .. },
                component,
                ..
            } => Self::input(format!(
                "{message}\n`torvyn-sim inspect {component}` shows its imports and exports and \
                 what each contract world needs"
            )),
            HarnessError::Engine { source, .. } if is_component_problem(source) => {
                Self::input(message)
            }
            _ => Self::engine(message),
        }
    }
}

impl From<EngineError> for CliError {
    fn from(e: EngineError) -> Self {
        if is_component_problem(&e) {
            Self::input(e.to_string())
        } else {
            Self::engine(e.to_string())
        }
    }
}

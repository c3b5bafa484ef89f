//! Errors of the simulation harness: loading scenarios and pipelines,
//! loading and compiling their components, and serializing transcripts.
//!
//! Every message says what failed, where (a file, a line, a scenario or a
//! stage) and what to do about it. Faults of the components themselves are
//! not errors: a run records them in its transcript and goes on.

use std::path::PathBuf;

use torvyn_engine::EngineError;

use crate::fixtures::FixtureError;

/// Why a scenario or pipeline could not be loaded or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HarnessError {
    /// A file the run needs does not exist or cannot be read.
    #[error("cannot {action} {}: {source}; check the path (relative paths in a scenario are resolved against the scenario file's directory)", path.display())]
    Io {
        /// What was being done (`read the scenario`, ...).
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A scenario or pipeline file is not valid YAML or JSON, or does not
    /// have the expected fields.
    #[error(
        "invalid {format} in {origin}{}: {message}; every field of scenario and pipeline files, \
         with its type, default and an example, is in docs/src/scenario-reference.md",
        location(*line, *column)
    )]
    Parse {
        /// `YAML` or `JSON`.
        format: &'static str,
        /// The file (or `<string>`).
        origin: String,
        /// The line of the problem (1-based), when the parser knows it.
        line: Option<usize>,
        /// The column of the problem (1-based), when the parser knows it.
        column: Option<usize>,
        /// The parser's message.
        message: String,
    },
    /// A scenario or pipeline parsed but says something impossible (both
    /// `payload` and `payload_hex`, bad hex, no stages...).
    #[error("scenario `{scenario}`: {problem}")]
    InvalidScenario {
        /// The scenario or pipeline name.
        scenario: String,
        /// What is wrong and what to do.
        problem: String,
    },
    /// A fixture or `.wat` file could not be loaded: not found, invalid WAT
    /// (the message has the line and column), or not componentizable.
    #[error("cannot load component `{component}`: {source}")]
    Fixture {
        /// The component as the scenario named it.
        component: String,
        /// The loader's error.
        #[source]
        source: FixtureError,
    },
    /// The engine refused the component or the configuration: a core module
    /// where a component is needed, a component built for another world, an
    /// invalid configuration, or instantiation failing.
    #[error("{}", engine_message(action, component, source))]
    Engine {
        /// What was being done (`compile`, `instantiate`, `create an engine for`).
        action: &'static str,
        /// The component as the scenario named it.
        component: String,
        /// The engine's error.
        #[source]
        source: EngineError,
    },
    /// The backend cannot run this component: WebAssembly on the mock, a
    /// fixture the mock has no model of, a scripted mock component on
    /// Wasmtime, or a backend this build does not include.
    #[error("cannot run component `{component}` here: {problem}")]
    Unsupported {
        /// The component as the scenario named it.
        component: String,
        /// Why, and what to do instead.
        problem: String,
    },
    /// Serializing a transcript failed.
    #[error("cannot serialize the transcript as {format}: {message}")]
    Serialize {
        /// `YAML` or `JSON`.
        format: &'static str,
        /// The serializer's message.
        message: String,
    },
}

/// "cannot ACTION component `C`: " and the engine's error, unless the
/// engine's error says that itself (its instantiation errors name the
/// component).
fn engine_message(action: &str, component: &str, source: &EngineError) -> String {
    let mut message = source.to_string();
    if !message.starts_with(&format!("cannot {action} component `")) {
        message = format!("cannot {action} component `{component}`: {message}");
    }
    if message.contains("`limits.max_memory_bytes`") {
        // The engine names its own setting; say the harness's too.
        message.push_str(
            " (`max_memory_bytes:` in a scenario or pipeline file, `--max-memory SIZE` on \
             the command line)",
        );
    }
    message
}

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" at line {l}, column {c}"),
        (Some(l), None) => format!(" at line {l}"),
        _ => String::new(),
    }
}

impl HarnessError {
    /// An engine error while doing `action` to `component`.
    pub(crate) fn engine(action: &'static str, component: &str, source: EngineError) -> Self {
        Self::Engine {
            action,
            component: component.to_string(),
            source,
        }
    }

    /// A YAML parse error, with its location.
    pub(crate) fn yaml(origin: &str, e: &serde_yaml_ng::Error) -> Self {
        let loc = e.location();
        Self::Parse {
            format: "YAML",
            origin: origin.to_string(),
            line: loc.as_ref().map(|l| l.line()),
            column: loc.as_ref().map(|l| l.column()),
            message: e.to_string(),
        }
    }

    /// A JSON parse error, with its location.
    pub(crate) fn json(origin: &str, e: &serde_json::Error) -> Self {
        Self::Parse {
            format: "JSON",
            origin: origin.to_string(),
            line: (e.line() > 0).then_some(e.line()),
            column: (e.column() > 0).then_some(e.column()),
            message: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use torvyn_engine::ComponentId;

    #[test]
    fn an_engine_error_that_names_the_component_is_not_prefixed_again() {
        let named = HarnessError::engine(
            "instantiate",
            "c-filter",
            EngineError::Instantiate {
                component: ComponentId::new("c-filter"),
                message: "its linear memory needs more".into(),
            },
        );
        assert_eq!(
            named.to_string(),
            "cannot instantiate component `c-filter`: its linear memory needs more"
        );
        let bare = HarnessError::engine(
            "compile",
            "x.wasm",
            EngineError::Unsupported("no Winch here".into()),
        );
        let m = bare.to_string();
        assert!(m.starts_with("cannot compile component `x.wasm`: "), "{m}");
        assert!(m.ends_with("no Winch here"), "{m}");
    }
}

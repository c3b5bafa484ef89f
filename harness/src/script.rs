//! Scripted mock components written in scenario and pipeline files: the
//! YAML (or JSON) form of `torvyn_engine::mock::Scripts`, so a host
//! developer describes a mock component without writing Rust.
//!
//! Cold path: a [`MockSpec`] becomes a `MockComponent` once per run.
//!
//! ```yaml
//! name: flaky-processor
//! backend: mock
//! component: flaky            # the name the transcript gives it
//! mock:
//!   roles: [processor]        # default: from the functions scripted
//!   process:
//!     cycle:                  # or in-order: [...], or by-sequence: {...}
//!       - emit-input          # pass the input on (zero copy)
//!       - emit: "replaced"    # emit these bytes (UTF-8)...
//!       - emit: {payload_hex: 00ff, content_type: application/octet-stream, sequence: 9}
//!       - drop
//!       - error: {invalid-input: "bad element"}
//!       - trap                # or fuel-exhaustion, deadline, memory-limit
//! inputs:
//!   - payload: a
//! ```
//!
//! A `by-sequence` script answers by the input's sequence number (`pull`,
//! `init` and the other calls without an input count calls instead):
//!
//! ```yaml
//! process:
//!   by-sequence:
//!     responses: {0: emit-input, 2: {error: fatal}}
//!     fallback: drop
//! ```
//!
//! Responses: `emit` (text, or `{payload | payload_hex, content_type,
//! sequence, timestamp_ns}`),
//! `emit-input`, `drop` (for `pull`: the source is exhausted), `ok`,
//! `ready`, `pause` (for `push`), `error` (`invalid-input: MSG`,
//! `unavailable: MSG`, `internal: MSG`, `deadline-exceeded`, `fatal: MSG`),
//! `trap`, `fuel-exhaustion`, `deadline`, `memory-limit`. A function with no
//! script gives its default answer (`process`: drop, `pull`: exhausted,
//! `push`: ready, the rest: ok), as `Scripts::default()` does.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use torvyn_engine::mock::{MockComponent, Response, Script, ScriptedOutput, Scripts};
use torvyn_engine::{BackpressureSignal, ProcessError, Role};

use crate::scenario::decode_hex;

/// Enums as one-key maps (`{cycle: [drop]}`, `{emit: x}`) in YAML and JSON
/// alike; serde_yaml_ng otherwise expects YAML tags (`!cycle [drop]`).
use serde_yaml_ng::with::singleton_map_recursive as singleton_map;

/// A scripted mock component: its roles and a script per function.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MockSpec {
    /// The roles it exports; default: the roles of the functions scripted
    /// (`process`: processor, `pull`/`notify-backpressure`: source,
    /// `push`/`complete`: sink, `init`/`teardown`: lifecycle).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<RoleSpec>>,
    /// `process`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "singleton_map"
    )]
    pub process: Option<ScriptSpec>,
    /// `pull`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "singleton_map"
    )]
    pub pull: Option<ScriptSpec>,
    /// `push`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "singleton_map"
    )]
    pub push: Option<ScriptSpec>,
    /// `init`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "singleton_map"
    )]
    pub init: Option<ScriptSpec>,
    /// `notify-backpressure`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "singleton_map"
    )]
    pub notify_backpressure: Option<ScriptSpec>,
    /// `complete`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "singleton_map"
    )]
    pub complete: Option<ScriptSpec>,
    /// `teardown`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "singleton_map"
    )]
    pub teardown: Option<ScriptSpec>,
}

/// A role a scripted component exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoleSpec {
    /// `processor`.
    Processor,
    /// `source`.
    Source,
    /// `sink`.
    Sink,
    /// `lifecycle` (`init`, `teardown`).
    Lifecycle,
}

impl RoleSpec {
    fn role(self) -> Role {
        match self {
            Self::Processor => Role::Processor,
            Self::Source => Role::Source,
            Self::Sink => Role::Sink,
            Self::Lifecycle => Role::Lifecycle,
        }
    }
}

/// How one function's responses are picked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScriptSpec {
    /// One response per call, in order; then the function's default.
    InOrder(Vec<ResponseSpec>),
    /// One response per call, starting again after the last.
    Cycle(Vec<ResponseSpec>),
    /// By the input's sequence number, with a fallback.
    BySequence {
        /// The answer for each sequence number.
        responses: BTreeMap<u64, ResponseSpec>,
        /// The answer for the others.
        fallback: ResponseSpec,
    },
}

/// One scripted answer (see the module docs for the list).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResponseSpec {
    /// Emit (or, for `pull`, produce) these bytes.
    Emit(EmitSpec),
    /// Emit the input unchanged.
    EmitInput,
    /// `process`: drop the element; `pull`: the source is exhausted.
    Drop,
    /// Succeed with nothing to return.
    Ok,
    /// `push`: answer `ready`.
    Ready,
    /// `push`: answer `pause`.
    Pause,
    /// Return this `process-error`.
    Error(ErrorSpec),
    /// Trap (`unreachable`).
    Trap,
    /// Run out of fuel.
    FuelExhaustion,
    /// Run past the deadline.
    Deadline,
    /// Grow memory past the limit.
    MemoryLimit,
}

/// The bytes of an `emit`: text, or a map with hex and a content type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EmitSpec {
    /// UTF-8 text.
    Text(String),
    /// Text or hex bytes, and the output's metadata.
    Element {
        /// UTF-8 text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        payload: Option<String>,
        /// Bytes in hex.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        payload_hex: Option<String>,
        /// The output's content type (default: the input's, or
        /// `application/octet-stream` for a source).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content_type: Option<String>,
        /// The output's sequence number (default: the input's, or the
        /// pull count for a source).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sequence: Option<u64>,
        /// The output's timestamp (default: the input's, or 0 for a
        /// source).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timestamp_ns: Option<u64>,
    },
}

/// A scripted `process-error`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorSpec {
    /// `invalid-input(msg)`.
    InvalidInput(String),
    /// `unavailable(msg)`.
    Unavailable(String),
    /// `internal(msg)`.
    Internal(String),
    /// `deadline-exceeded`.
    DeadlineExceeded,
    /// `fatal(msg)`.
    Fatal(String),
}

impl ErrorSpec {
    fn engine(&self) -> ProcessError {
        match self {
            Self::InvalidInput(m) => ProcessError::InvalidInput(m.clone()),
            Self::Unavailable(m) => ProcessError::Unavailable(m.clone()),
            Self::Internal(m) => ProcessError::Internal(m.clone()),
            Self::DeadlineExceeded => ProcessError::DeadlineExceeded,
            Self::Fatal(m) => ProcessError::Fatal(m.clone()),
        }
    }
}

impl ResponseSpec {
    fn engine(&self) -> Result<Response, String> {
        Ok(match self {
            Self::Emit(emit) => emit.engine()?,
            Self::EmitInput => Response::EmitInput,
            Self::Drop => Response::Drop,
            Self::Ok => Response::Ok,
            Self::Ready => Response::Signal(BackpressureSignal::Ready),
            Self::Pause => Response::Signal(BackpressureSignal::Pause),
            Self::Error(e) => Response::Error(e.engine()),
            Self::Trap => Response::Trap,
            Self::FuelExhaustion => Response::FuelExhaustion,
            Self::Deadline => Response::Deadline,
            Self::MemoryLimit => Response::MemoryLimit,
        })
    }
}

impl EmitSpec {
    fn engine(&self) -> Result<Response, String> {
        match self {
            Self::Text(text) => Ok(Response::Emit(text.clone().into_bytes())),
            Self::Element {
                payload,
                payload_hex,
                content_type,
                sequence,
                timestamp_ns,
            } => {
                let bytes = match (payload, payload_hex) {
                    (Some(_), Some(_)) => {
                        return Err(
                            "an `emit` has both `payload` and `payload_hex`; keep one".into()
                        );
                    }
                    (Some(text), None) => text.clone().into_bytes(),
                    (None, Some(hex)) => decode_hex(hex).map_err(|p| format!("emit: {p}"))?,
                    (None, None) => Vec::new(),
                };
                Ok(Response::EmitElement(ScriptedOutput {
                    payload: bytes,
                    content_type: content_type.clone(),
                    sequence: *sequence,
                    timestamp_ns: *timestamp_ns,
                }))
            }
        }
    }
}

impl ScriptSpec {
    fn engine(&self) -> Result<Script, String> {
        let list = |rs: &[ResponseSpec]| {
            rs.iter()
                .map(ResponseSpec::engine)
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(match self {
            Self::InOrder(rs) => Script::in_order(list(rs)?),
            Self::Cycle(rs) => Script::cycle(list(rs)?),
            Self::BySequence {
                responses,
                fallback,
            } => Script::by_sequence(
                responses
                    .iter()
                    .map(|(k, r)| Ok((*k, r.engine()?)))
                    .collect::<Result<Vec<_>, String>>()?,
                fallback.engine()?,
            ),
        })
    }
}

impl MockSpec {
    /// Parses a spec written in YAML (the `mock:` section's body);
    /// `origin` names it in errors.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Self, crate::HarnessError> {
        let spec: Self =
            serde_yaml_ng::from_str(text).map_err(|e| crate::HarnessError::yaml(origin, &e))?;
        spec.validate()
            .map_err(|problem| crate::HarnessError::InvalidScenario {
                scenario: origin.to_string(),
                problem: format!("`mock:` {problem}"),
            })?;
        Ok(spec)
    }

    /// The roles: as given, else from the functions scripted.
    pub fn roles(&self) -> Vec<Role> {
        if let Some(roles) = &self.roles {
            return roles.iter().map(|r| r.role()).collect();
        }
        let mut roles = Vec::new();
        let mut add = |on: bool, role| {
            if on && !roles.contains(&role) {
                roles.push(role);
            }
        };
        add(self.process.is_some(), Role::Processor);
        add(
            self.pull.is_some() || self.notify_backpressure.is_some(),
            Role::Source,
        );
        add(self.push.is_some() || self.complete.is_some(), Role::Sink);
        add(
            self.init.is_some() || self.teardown.is_some(),
            Role::Lifecycle,
        );
        roles
    }

    /// The engine's scripts, or what is wrong with the spec.
    pub fn scripts(&self) -> Result<Scripts, String> {
        let one = |s: &Option<ScriptSpec>| s.as_ref().map(ScriptSpec::engine).transpose();
        Ok(Scripts {
            process: one(&self.process)?,
            pull: one(&self.pull)?,
            push: one(&self.push)?,
            init: one(&self.init)?,
            notify_backpressure: one(&self.notify_backpressure)?,
            complete: one(&self.complete)?,
            teardown: one(&self.teardown)?,
        })
    }

    /// Checks the spec: some role, valid bytes.
    pub fn validate(&self) -> Result<(), String> {
        if self.roles().is_empty() {
            return Err(
                "has no role: script at least one function (process, pull, push...) \
                        or list `roles`"
                    .into(),
            );
        }
        self.scripts().map(|_| ())
    }

    /// [`MockSpec::validate`], and that the file's `backend` lets it run:
    /// a scripted component runs only on the mock.
    pub fn validate_on(&self, backend: Option<crate::backend::BackendKind>) -> Result<(), String> {
        self.validate()?;
        if backend == Some(crate::backend::BackendKind::Wasmtime) {
            return Err(
                "is a scripted component, which runs only on the mock backend; set \
                        `backend: mock` (or leave `backend` out)"
                    .into(),
            );
        }
        Ok(())
    }

    /// The mock component registered as `name`.
    pub fn component(&self, name: &str) -> Result<MockComponent, String> {
        self.validate()?;
        Ok(MockComponent::scripted(name, self.roles(), self.scripts()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> MockSpec {
        serde_yaml_ng::from_str(yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"))
    }

    #[test]
    fn every_response_form_parses_into_its_engine_response() {
        let spec = parse(
            "process:\n  in-order:\n    - emit-input\n    - emit: hi\n    - emit: {payload_hex: 00ff, content_type: a/b}\n    - drop\n    - error: {invalid-input: bad}\n    - error: deadline-exceeded\n    - trap\n    - fuel-exhaustion\n    - deadline\n    - memory-limit\npush: {cycle: [pause, ready]}\n",
        );
        let want = Script::in_order([
            Response::EmitInput,
            Response::Emit(b"hi".to_vec()),
            Response::EmitElement(ScriptedOutput::new([0, 0xff]).with_content_type("a/b")),
            Response::Drop,
            Response::Error(ProcessError::InvalidInput("bad".into())),
            Response::Error(ProcessError::DeadlineExceeded),
            Response::Trap,
            Response::FuelExhaustion,
            Response::Deadline,
            Response::MemoryLimit,
        ]);
        let scripts = spec.scripts().unwrap();
        assert_eq!(scripts.process, Some(want));
        assert_eq!(
            scripts.push,
            Some(Script::cycle([
                Response::Signal(BackpressureSignal::Pause),
                Response::Signal(BackpressureSignal::Ready),
            ]))
        );
        assert_eq!(spec.roles(), [Role::Processor, Role::Sink]);
    }

    #[test]
    fn by_sequence_keys_and_roles_given() {
        let spec = parse(
            "roles: [source, lifecycle]\npull:\n  by-sequence:\n    responses: {0: {emit: a}, 2: {error: {fatal: done}}}\n    fallback: drop\n",
        );
        assert_eq!(spec.roles(), [Role::Source, Role::Lifecycle]);
        assert_eq!(
            spec.scripts().unwrap().pull,
            Some(Script::by_sequence(
                [
                    (0, Response::Emit(b"a".to_vec())),
                    (2, Response::Error(ProcessError::Fatal("done".into()))),
                ],
                Response::Drop,
            ))
        );
    }

    #[test]
    fn bad_specs_say_what_is_wrong() {
        let e = MockSpec::default().validate().unwrap_err();
        assert!(e.contains("no role"), "{e}");
        let e = parse("process: {cycle: [{emit: {payload: a, payload_hex: '61'}}]}")
            .validate()
            .unwrap_err();
        assert!(e.contains("both"), "{e}");
        let e = parse("process: {cycle: [{emit: {payload_hex: zz}}]}")
            .validate()
            .unwrap_err();
        assert!(e.contains("emit"), "{e}");
        let e = serde_yaml_ng::from_str::<MockSpec>("process: {cycle: [explode]}").unwrap_err();
        assert!(e.to_string().contains("explode"), "{e}");
        let e = serde_yaml_ng::from_str::<MockSpec>("procss: {cycle: [drop]}").unwrap_err();
        assert!(e.to_string().contains("procss"), "{e}");
    }
}

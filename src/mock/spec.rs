//! Scripted mock components written in files (feature `serde`): the file
//! form of [`Scripts`], so a host developer describes a mock component
//! without writing Rust. torvyn-harness reads it from the `mock:` section
//! of scenario and pipeline files.
//!
//! Cold path: a [`MockSpec`] becomes a [`MockComponent`] once per run.
//!
//! The enums are serde's externally tagged ones, in kebab-case: a word for
//! a unit variant (`drop`), a one-key map for the others (`{emit: x}`),
//! which JSON reads as written. For YAML, read a [`MockSpec`] through
//! `serde_yaml_ng::with::singleton_map_recursive` (serde_yaml_ng otherwise
//! expects YAML tags, `!emit x`); the examples below are YAML read so.
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
//! The extension functions have keys of their own beside the others:
//! `evaluate` (a filter), `route` (a router), `ingest` and `flush` (an
//! aggregator); see [`MockSpec`] for an example.
//!
//! Responses: `emit` (text, or `{payload | payload_hex, content_type,
//! sequence, timestamp_ns}`),
//! `emit-input`, `drop` (for `pull`: the source is exhausted; `evaluate`:
//! reject; `route`: no port; `ingest`: nothing ready; `flush`: nothing
//! buffered), `ok`, `ready`, `pause` (for `push`), `pass`, `reject` (for
//! `evaluate`), `route: [PORT, ...]` (for `route`), `flush: [ELEMENT, ...]`
//! (for `flush`, each element written as an `emit`'s value; sequence
//! numbers default to the position in the list), `error` (`invalid-input:
//! MSG`, `unavailable: MSG`, `internal: MSG`, `deadline-exceeded`, `fatal:
//! MSG`), `trap`, `fuel-exhaustion`, `deadline`, `memory-limit`. The
//! failures answer any function; `evaluate`, `route`, `ingest` and `flush`
//! take only their own answers, and `pass`, `reject`, `route` and `flush`
//! answer only their own function. A function with no script gives its
//! default answer (`process`: drop, `pull`: exhausted, `push`: ready,
//! `evaluate`: pass, `route`: no port, `ingest`: nothing, `flush`: nothing,
//! the rest: ok), as [`Scripts::default()`] does.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{MockComponent, Response, Script, ScriptedOutput, Scripts};
use crate::record::decode_hex;
use crate::{BackpressureSignal, Function, ProcessError, Role};

/// A scripted mock component: its roles and a script per function. The
/// body of a `mock:` section, for example a filter, router and aggregator
/// in one (its roles follow from the functions scripted unless `roles`
/// lists them: `filter`, `router`, `aggregator`...):
///
/// ```yaml
/// evaluate: {cycle: [pass, reject]}       # or drop (= reject)
/// route:
///   by-sequence:
///     responses: {0: {route: [left, right]}, 1: {route: []}}   # []: dropped
///     fallback: {route: [left]}
/// ingest: {in-order: [drop, drop, {emit: "a+b+c"}]}    # drop: nothing ready yet
/// flush:
///   in-order:
///     - flush: [rest, {payload_hex: 00ff, content_type: application/x-raw}]
///     - error: {internal: "flushed twice"}
/// ```
///
/// `flush` lists its elements as `emit` writes one; their sequence numbers
/// default to their position in the list. Out of place answers are refused
/// with what to write instead (`evaluate` cannot answer `emit`...).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MockSpec {
    /// The roles it exports; default: the roles of the functions scripted
    /// (`process`: processor, `pull`/`notify-backpressure`: source,
    /// `push`/`complete`: sink, `init`/`teardown`: lifecycle, `evaluate`:
    /// filter, `route`: router, `ingest`/`flush`: aggregator). Given, it
    /// must hold the role of every function scripted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<Role>>,
    /// `process`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<ScriptSpec>,
    /// `pull`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull: Option<ScriptSpec>,
    /// `push`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push: Option<ScriptSpec>,
    /// `init`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<ScriptSpec>,
    /// `notify-backpressure`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_backpressure: Option<ScriptSpec>,
    /// `complete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complete: Option<ScriptSpec>,
    /// `teardown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teardown: Option<ScriptSpec>,
    /// `evaluate` (filter): `pass`, `reject` or `drop`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluate: Option<ScriptSpec>,
    /// `route` (router): `route: [PORT, ...]` or `drop`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<ScriptSpec>,
    /// `ingest` (aggregator): `emit`, `emit-input` or `drop`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingest: Option<ScriptSpec>,
    /// `flush` (aggregator): `flush: [ELEMENT, ...]` or `drop`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flush: Option<ScriptSpec>,
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
    /// `evaluate`: pass the element on.
    Pass,
    /// `evaluate`: drop the element.
    Reject,
    /// `route`: the ports that receive the element (`[]`: dropped).
    Route(Vec<String>),
    /// `flush`: these elements, each written as an `emit`'s value.
    Flush(Vec<EmitSpec>),
    /// Return this `process-error` (`{invalid-input: MSG}`,
    /// `{unavailable: MSG}`, `{internal: MSG}`, `deadline-exceeded`,
    /// `{fatal: MSG}`).
    Error(ProcessError),
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

/// The failures, which answer any function.
const FAILURES: &str = "`error`, `trap`, `fuel-exhaustion`, `deadline`, `memory-limit`";

/// What `function` answers, for the errors that say what to write.
fn answers(function: Function) -> &'static str {
    match function {
        Function::Process => "`emit`, `emit-input` or `drop`",
        Function::Pull => "`emit` or `drop` (exhausted)",
        Function::Push => "`ready` or `pause`",
        Function::Evaluate => "`pass`, `reject` or `drop` (= reject)",
        Function::Route => "`route: [PORT, ...]` or `drop` (= `route: []`)",
        Function::Ingest => "`emit`, `emit-input` or `drop` (nothing ready yet)",
        Function::Flush => "`flush: [ELEMENT, ...]` or `drop` (= `flush: []`)",
        Function::Instantiate
        | Function::Init
        | Function::NotifyBackpressure
        | Function::Complete
        | Function::Teardown => "`ok`",
    }
}

impl ResponseSpec {
    /// The response's key in a script (`emit`, `pass`, `route`...).
    fn key(&self) -> &'static str {
        match self {
            Self::Emit(_) => "emit",
            Self::EmitInput => "emit-input",
            Self::Drop => "drop",
            Self::Ok => "ok",
            Self::Ready => "ready",
            Self::Pause => "pause",
            Self::Pass => "pass",
            Self::Reject => "reject",
            Self::Route(_) => "route",
            Self::Flush(_) => "flush",
            Self::Error(_) => "error",
            Self::Trap => "trap",
            Self::FuelExhaustion => "fuel-exhaustion",
            Self::Deadline => "deadline",
            Self::MemoryLimit => "memory-limit",
        }
    }

    /// Whether the response may answer `function`: a failure answers any;
    /// the extension functions take only their own answers, and their
    /// answers (`pass`, `reject`, `route`, `flush`) answer only them. The
    /// other functions keep taking any of the rest (their default answer
    /// for what is not theirs, as the engine gives it).
    fn check(&self, function: Function) -> Result<(), String> {
        use Function as F;
        let owner = match self {
            Self::Error(_)
            | Self::Trap
            | Self::FuelExhaustion
            | Self::Deadline
            | Self::MemoryLimit => {
                return Ok(());
            }
            Self::Pass | Self::Reject => Some(F::Evaluate),
            Self::Route(_) => Some(F::Route),
            Self::Flush(_) => Some(F::Flush),
            _ => None,
        };
        let fits = match function {
            F::Evaluate => matches!(self, Self::Pass | Self::Reject | Self::Drop),
            F::Route => matches!(self, Self::Route(_) | Self::Drop),
            F::Ingest => matches!(self, Self::Emit(_) | Self::EmitInput | Self::Drop),
            F::Flush => matches!(self, Self::Flush(_) | Self::Drop),
            _ => owner.is_none(),
        };
        if fits {
            return Ok(());
        }
        let only = owner
            .filter(|&o| o != function)
            .map(|o| format!(" (only `{o}` can)"))
            .unwrap_or_default();
        Err(format!(
            "`{function}` cannot answer `{}`{only}; write {}, or a failure ({FAILURES})",
            self.key(),
            answers(function),
        ))
    }

    /// The engine's response, checked to answer `function`.
    fn engine(&self, function: Function) -> Result<Response, String> {
        self.check(function)?;
        Ok(match self {
            Self::Emit(emit) => emit.engine()?,
            Self::EmitInput => Response::EmitInput,
            Self::Drop => Response::Drop,
            Self::Ok => Response::Ok,
            Self::Ready => Response::Signal(BackpressureSignal::Ready),
            Self::Pause => Response::Signal(BackpressureSignal::Pause),
            Self::Pass => Response::Pass,
            Self::Reject => Response::Reject,
            Self::Route(ports) => Response::Route(ports.clone()),
            Self::Flush(elements) => Response::Flush(
                elements
                    .iter()
                    .map(|e| e.output("a `flush` element", "flush"))
                    .collect::<Result<_, _>>()?,
            ),
            Self::Error(e) => Response::Error(e.clone()),
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
            Self::Element { .. } => Ok(Response::EmitElement(self.output("an `emit`", "emit")?)),
        }
    }

    /// The element; `what` and `key` name it in errors ("an `emit`",
    /// "emit").
    fn output(&self, what: &str, key: &str) -> Result<ScriptedOutput, String> {
        match self {
            Self::Text(text) => Ok(ScriptedOutput::new(text.clone())),
            Self::Element {
                payload,
                payload_hex,
                content_type,
                sequence,
                timestamp_ns,
            } => {
                let bytes = match (payload, payload_hex) {
                    (Some(_), Some(_)) => {
                        return Err(format!(
                            "{what} has both `payload` and `payload_hex`; keep one"
                        ));
                    }
                    (Some(text), None) => text.clone().into_bytes(),
                    (None, Some(hex)) => decode_hex(hex).map_err(|p| format!("{key}: {p}"))?,
                    (None, None) => Vec::new(),
                };
                Ok(ScriptedOutput {
                    payload: bytes,
                    content_type: content_type.clone(),
                    sequence: *sequence,
                    timestamp_ns: *timestamp_ns,
                })
            }
        }
    }
}

impl ScriptSpec {
    /// The engine's script for `function`.
    fn engine(&self, function: Function) -> Result<Script, String> {
        let one = |r: &ResponseSpec| r.engine(function);
        let list = |rs: &[ResponseSpec]| rs.iter().map(one).collect::<Result<Vec<_>, _>>();
        Ok(match self {
            Self::InOrder(rs) => Script::in_order(list(rs)?),
            Self::Cycle(rs) => Script::cycle(list(rs)?),
            Self::BySequence {
                responses,
                fallback,
            } => Script::by_sequence(
                responses
                    .iter()
                    .map(|(k, r)| Ok((*k, one(r)?)))
                    .collect::<Result<Vec<_>, String>>()?,
                one(fallback)?,
            ),
        })
    }
}

impl MockSpec {
    /// The script for `function`, if the spec has one.
    pub fn script(&self, function: Function) -> Option<&ScriptSpec> {
        match function {
            Function::Instantiate => None,
            Function::Init => self.init.as_ref(),
            Function::Process => self.process.as_ref(),
            Function::Pull => self.pull.as_ref(),
            Function::NotifyBackpressure => self.notify_backpressure.as_ref(),
            Function::Push => self.push.as_ref(),
            Function::Complete => self.complete.as_ref(),
            Function::Teardown => self.teardown.as_ref(),
            Function::Evaluate => self.evaluate.as_ref(),
            Function::Route => self.route.as_ref(),
            Function::Ingest => self.ingest.as_ref(),
            Function::Flush => self.flush.as_ref(),
        }
    }

    /// The functions the spec scripts, in the contract's order.
    fn scripted(&self) -> impl Iterator<Item = Function> + '_ {
        Function::CALLS
            .into_iter()
            .filter(|&f| self.script(f).is_some())
    }

    /// The roles: as given, else from the functions scripted
    /// ([`Scripts::roles_of`]).
    pub fn roles(&self) -> Vec<Role> {
        match &self.roles {
            Some(roles) => roles.clone(),
            None => Scripts::roles_of(self.scripted()),
        }
    }

    /// The engine's scripts, or what is wrong with the spec.
    pub fn scripts(&self) -> Result<Scripts, String> {
        let one = |f: Function| self.script(f).map(|s| s.engine(f)).transpose();
        Ok(Scripts {
            process: one(Function::Process)?,
            pull: one(Function::Pull)?,
            push: one(Function::Push)?,
            init: one(Function::Init)?,
            notify_backpressure: one(Function::NotifyBackpressure)?,
            complete: one(Function::Complete)?,
            teardown: one(Function::Teardown)?,
            evaluate: one(Function::Evaluate)?,
            route: one(Function::Route)?,
            ingest: one(Function::Ingest)?,
            flush: one(Function::Flush)?,
        })
    }

    /// Checks the spec: some role, `roles` (when given) holding the role
    /// of every function scripted, every response one its function can
    /// give, valid bytes.
    pub fn validate(&self) -> Result<(), String> {
        let roles = self.roles();
        if roles.is_empty() {
            return Err(
                "has no role: script at least one function (process, pull, push, \
                 evaluate, route, ingest...) or list `roles`"
                    .into(),
            );
        }
        for f in self.scripted() {
            if let Some(role) = f.role().filter(|r| !roles.contains(r)) {
                return Err(format!(
                    "scripts `{f}` but `roles` leaves out `{role}`, so it would never \
                     be called; add `{role}` to `roles`, or leave `roles` out to take \
                     the roles of the functions scripted",
                    role = role.name(),
                ));
            }
        }
        self.scripts().map(|_| ())
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

    /// YAML as torvyn-harness reads it: enums as one-key maps.
    fn from_yaml(yaml: &str) -> Result<MockSpec, serde_yaml_ng::Error> {
        serde_yaml_ng::with::singleton_map_recursive::deserialize(
            serde_yaml_ng::Deserializer::from_str(yaml),
        )
    }

    fn parse(yaml: &str) -> MockSpec {
        from_yaml(yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"))
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
        let e = from_yaml("process: {cycle: [explode]}").unwrap_err();
        assert!(e.to_string().contains("explode"), "{e}");
        let e = from_yaml("procss: {cycle: [drop]}").unwrap_err();
        assert!(e.to_string().contains("procss"), "{e}");
    }

    #[test]
    fn extension_functions_parse_and_give_their_roles() {
        let spec = parse(
            "evaluate: {cycle: [pass, reject, drop]}\nroute:\n  by-sequence:\n    responses: {0: {route: [left, right]}, 1: {route: []}}\n    fallback: drop\ningest: {in-order: [drop, emit-input, {emit: sum}]}\nflush:\n  in-order:\n    - flush: [rest, {payload_hex: 00ff, content_type: a/b, sequence: 4}]\n    - flush: []\n    - error: {internal: twice}\n",
        );
        let scripts = spec.scripts().unwrap();
        assert_eq!(
            scripts.evaluate,
            Some(Script::cycle([
                Response::Pass,
                Response::Reject,
                Response::Drop
            ]))
        );
        assert_eq!(
            scripts.route,
            Some(Script::by_sequence(
                [
                    (0, Response::Route(vec!["left".into(), "right".into()])),
                    (1, Response::Route(Vec::new())),
                ],
                Response::Drop,
            ))
        );
        assert_eq!(
            scripts.ingest,
            Some(Script::in_order([
                Response::Drop,
                Response::EmitInput,
                Response::Emit(b"sum".to_vec()),
            ]))
        );
        assert_eq!(
            scripts.flush,
            Some(Script::in_order([
                Response::Flush(vec![
                    ScriptedOutput::new("rest"),
                    ScriptedOutput::new([0, 0xff])
                        .with_content_type("a/b")
                        .with_sequence(4),
                ]),
                Response::Flush(Vec::new()),
                Response::Error(ProcessError::Internal("twice".into())),
            ]))
        );
        assert_eq!(spec.roles(), [Role::Filter, Role::Router, Role::Aggregator]);
        assert_eq!(spec.roles(), scripts.roles());
        assert_eq!(parse("flush: {cycle: [drop]}").roles(), [Role::Aggregator]);
        let given = parse("roles: [router, lifecycle]\nroute: {cycle: [drop]}\n");
        assert_eq!(given.roles(), [Role::Router, Role::Lifecycle]);
        given.validate().unwrap();
    }

    #[test]
    fn extension_answers_out_of_place_say_what_to_write() {
        let e = |yaml: &str| parse(yaml).validate().unwrap_err();
        let got = e("evaluate: {cycle: [emit-input]}");
        assert!(
            got.contains("`evaluate` cannot answer `emit-input`")
                && got.contains("`pass`, `reject` or `drop`")
                && got.contains("`trap`"),
            "{got}"
        );
        let got = e("route: {in-order: [pass]}");
        assert!(
            got.contains("`route` cannot answer `pass` (only `evaluate` can)")
                && got.contains("`route: [PORT, ...]`"),
            "{got}"
        );
        let got = e("process: {cycle: [{route: [a]}]}");
        assert!(
            got.contains("`process` cannot answer `route` (only `route` can)")
                && got.contains("`emit`, `emit-input` or `drop`"),
            "{got}"
        );
        let got = e("ingest: {by-sequence: {responses: {}, fallback: ok}}");
        assert!(got.contains("`ingest` cannot answer `ok`"), "{got}");
        let got = e("flush: {cycle: [{emit: x}]}");
        assert!(
            got.contains("`flush` cannot answer `emit`") && got.contains("`flush: [ELEMENT, ...]`"),
            "{got}"
        );
        let got = e("flush: {cycle: [{flush: [{payload: a, payload_hex: '61'}]}]}");
        assert!(got.contains("a `flush` element has both"), "{got}");
        let got = e("flush: {cycle: [{flush: [{payload_hex: zz}]}]}");
        assert!(got.starts_with("flush: "), "{got}");
        let got = e("roles: [processor]\nprocess: {cycle: [drop]}\nevaluate: {cycle: [pass]}\n");
        assert!(
            got.contains("scripts `evaluate` but `roles` leaves out `filter`")
                && got.contains("add `filter` to `roles`"),
            "{got}"
        );
        // Every failure answers every extension function.
        for f in ["evaluate", "route", "ingest", "flush"] {
            parse(&format!(
                "{f}: {{in-order: [trap, fuel-exhaustion, deadline, memory-limit, \
                 {{error: {{unavailable: later}}}}, {{error: deadline-exceeded}}]}}"
            ))
            .validate()
            .unwrap_or_else(|e| panic!("{f}: {e}"));
        }
    }

    #[test]
    fn json_reads_the_same_forms() {
        let spec: MockSpec = serde_json::from_str(
            r#"{"roles": ["processor"], "process": {"cycle": ["emit-input", {"emit": "x"},
                {"error": {"fatal": "stop"}}, {"error": "deadline-exceeded"}]}}"#,
        )
        .unwrap();
        assert_eq!(
            spec.scripts().unwrap().process,
            Some(Script::cycle([
                Response::EmitInput,
                Response::Emit(b"x".to_vec()),
                Response::Error(ProcessError::Fatal("stop".into())),
                Response::Error(ProcessError::DeadlineExceeded),
            ]))
        );
        assert_eq!(spec.roles(), [Role::Processor]);
    }

    #[test]
    fn the_documented_example_parses_as_documented() {
        let source = include_str!("spec.rs");
        let start = source.find("/// ```yaml\n").expect("the example") + "/// ```yaml\n".len();
        let end = start + source[start..].find("/// ```").unwrap();
        let yaml: String = source[start..end]
            .lines()
            .map(|l| {
                format!(
                    "{}\n",
                    l.trim_start_matches("///").strip_prefix(' ').unwrap_or("")
                )
            })
            .collect();
        let spec = parse(&yaml);
        spec.validate().unwrap();
        assert_eq!(spec.roles(), [Role::Filter, Role::Router, Role::Aggregator]);
        let scripts = spec.scripts().unwrap();
        assert_eq!(
            scripts.flush,
            Some(Script::in_order([
                Response::Flush(vec![
                    ScriptedOutput::new("rest"),
                    ScriptedOutput::new([0, 0xff]).with_content_type("application/x-raw"),
                ]),
                Response::Error(ProcessError::Internal("flushed twice".into())),
            ]))
        );
        assert_eq!(
            scripts.ingest,
            Some(Script::in_order([
                Response::Drop,
                Response::Drop,
                Response::Emit(b"a+b+c".to_vec()),
            ]))
        );
    }
}
